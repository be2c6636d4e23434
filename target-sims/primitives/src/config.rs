//! Configuration validation shared by every primitive.
//!
//! Every parameter of every primitive has a bound. A configuration outside
//! its bounds is rejected when the primitive is constructed, with an error
//! that names the primitive, the field, the offending value and what is
//! allowed — so a scenario author can fix the file without reading code.

use std::fmt;
use std::time::Duration;

/// A primitive was given a configuration outside its bounds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// Which kind of primitive, e.g. `"retry"`.
    pub primitive: &'static str,
    /// The instance name, when the error came from a constructor.
    pub name: Option<String>,
    /// The offending field, e.g. `"max_attempts"`.
    pub field: &'static str,
    /// The offending value, rendered.
    pub value: String,
    /// What the field accepts, e.g. `"1..=100"`.
    pub allowed: String,
}

impl ConfigError {
    pub(crate) fn new(
        primitive: &'static str,
        field: &'static str,
        value: impl fmt::Debug,
        allowed: impl Into<String>,
    ) -> Self {
        ConfigError {
            primitive,
            name: None,
            field,
            value: format!("{value:?}"),
            allowed: allowed.into(),
        }
    }

    /// Attaches the instance name, so the error says which breaker (say) of
    /// many was misconfigured.
    pub(crate) fn named(mut self, name: &str) -> Self {
        self.name = Some(name.to_owned());
        self
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.name {
            Some(name) => write!(f, "{} `{}`", self.primitive, name)?,
            None => write!(f, "{}", self.primitive)?,
        }
        write!(
            f,
            ": `{}` = {} is not allowed; expected {}",
            self.field, self.value, self.allowed
        )
    }
}

impl std::error::Error for ConfigError {}

/// Range checks that produce a [`ConfigError`] naming the field.
///
/// One `Check` per primitive keeps the call sites to a line each.
pub(crate) struct Check {
    pub primitive: &'static str,
}

impl Check {
    pub fn duration(
        &self,
        field: &'static str,
        value: Duration,
        min: Duration,
        max: Duration,
    ) -> Result<(), ConfigError> {
        debug_assert!(min <= max);
        if value < min || value > max {
            return Err(ConfigError::new(
                self.primitive,
                field,
                value,
                format!("a duration in {min:?}..={max:?}"),
            ));
        }
        Ok(())
    }

    pub fn count<T>(&self, field: &'static str, value: T, min: T, max: T) -> Result<(), ConfigError>
    where
        T: PartialOrd + fmt::Debug + fmt::Display,
    {
        debug_assert!(min <= max);
        if value < min || value > max {
            return Err(ConfigError::new(
                self.primitive,
                field,
                value,
                format!("an integer in {min}..={max}"),
            ));
        }
        Ok(())
    }

    /// A finite float in `[min, max]`; NaN is always rejected.
    pub fn float(
        &self,
        field: &'static str,
        value: f64,
        min: f64,
        max: f64,
    ) -> Result<(), ConfigError> {
        debug_assert!(min <= max);
        if !(value >= min && value <= max) {
            return Err(ConfigError::new(
                self.primitive,
                field,
                value,
                format!("a number in {min}..={max}"),
            ));
        }
        Ok(())
    }

    /// A float in `(min, max]`: for rates and thresholds where zero would
    /// disable the primitive silently.
    pub fn float_above(
        &self,
        field: &'static str,
        value: f64,
        min_exclusive: f64,
        max: f64,
    ) -> Result<(), ConfigError> {
        debug_assert!(min_exclusive < max);
        if !(value > min_exclusive && value <= max) {
            return Err(ConfigError::new(
                self.primitive,
                field,
                value,
                format!("a number in ({min_exclusive}, {max}]"),
            ));
        }
        Ok(())
    }

    /// A relation between two fields, e.g. `cap >= base`.
    pub fn relation(
        &self,
        ok: bool,
        field: &'static str,
        value: impl fmt::Debug,
        allowed: impl Into<String>,
    ) -> Result<(), ConfigError> {
        if ok {
            Ok(())
        } else {
            Err(ConfigError::new(self.primitive, field, value, allowed))
        }
    }
}

/// The longest duration any primitive accepts for a wait, window or
/// timeout. Anything longer is almost certainly a unit mistake (ms given as
/// seconds) and would make a simulated run idle for simulated hours.
pub(crate) const MAX_DURATION: Duration = Duration::from_secs(3600);

/// The shortest non-zero duration that means something on turmoil's default
/// 1 ms tick.
pub(crate) const MIN_DURATION: Duration = Duration::from_millis(1);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_names_primitive_instance_field_value_and_bounds() {
        let check = Check { primitive: "retry" };
        let err = check
            .count("max_attempts", 0u32, 1, 100)
            .unwrap_err()
            .named("gateway");
        assert_eq!(
            err.to_string(),
            "retry `gateway`: `max_attempts` = 0 is not allowed; expected an integer in 1..=100"
        );
    }

    #[test]
    fn nan_is_rejected() {
        let check = Check {
            primitive: "breaker",
        };
        assert!(check
            .float("failure_rate_threshold", f64::NAN, 0.0, 1.0)
            .is_err());
        assert!(check.float_above("rate_per_sec", 0.0, 0.0, 10.0).is_err());
        assert!(check.float_above("rate_per_sec", 10.0, 0.0, 10.0).is_ok());
    }
}

//! Durations as scenario files spell them: `"250ms"`, `"5s"`, `"1.5s"`, `"2m"`.
//!
//! Always a string with a unit, so that a bare number can never be read in
//! the wrong unit. Serialised back in the same spelling, shortest exact unit
//! first, so reports stay readable and round-trip.

use serde::{de, Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::time::Duration;

/// What a duration string must look like, for error messages.
pub const DURATION_EXPECTED: &str =
    "a duration such as \"250ms\", \"5s\", \"1.5s\" or \"2m\" (units: ns, us, ms, s, m, h)";

/// Parses `"250ms"`-style durations. Negative values and missing units are
/// errors that say what was expected.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    if text.starts_with('-') {
        return Err(format!(
            "negative duration \"{text}\": expected {DURATION_EXPECTED}"
        ));
    }
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .ok_or_else(|| format!("\"{text}\" has no unit: expected {DURATION_EXPECTED}"))?;
    let (number, unit) = text.split_at(split);
    let number: f64 = number.parse().map_err(|_| {
        format!("\"{text}\" is not a number with a unit: expected {DURATION_EXPECTED}")
    })?;
    let nanos_per_unit: f64 = match unit.trim() {
        "ns" => 1.0,
        "us" | "µs" => 1e3,
        "ms" => 1e6,
        "s" => 1e9,
        "m" | "min" => 60e9,
        "h" => 3600e9,
        other => {
            return Err(format!(
                "unknown unit \"{other}\" in \"{text}\": expected {DURATION_EXPECTED}"
            ))
        }
    };
    let nanos = number * nanos_per_unit;
    if !nanos.is_finite() || nanos > u64::MAX as f64 {
        return Err(format!("duration \"{text}\" is too large"));
    }
    Ok(Duration::from_nanos(nanos.round() as u64))
}

/// Formats a duration in the largest unit that keeps it exact.
pub fn format_duration(d: Duration) -> String {
    let nanos = d.as_nanos();
    const UNITS: [(u128, &str); 5] = [
        (3_600_000_000_000, "h"),
        (60_000_000_000, "m"),
        (1_000_000_000, "s"),
        (1_000_000, "ms"),
        (1_000, "us"),
    ];
    if nanos == 0 {
        return "0s".to_string();
    }
    for (size, unit) in UNITS {
        if nanos % size == 0 {
            return format!("{}{unit}", nanos / size);
        }
    }
    format!("{nanos}ns")
}

/// Formats a duration for people: `1.234s`, `56ms`.
pub fn human(d: Duration) -> String {
    let ms = d.as_secs_f64() * 1e3;
    if ms >= 1000.0 {
        format!("{:.3}s", ms / 1e3)
    } else if ms >= 1.0 {
        format!("{ms:.0}ms")
    } else {
        format!("{:.0}us", ms * 1e3)
    }
}

/// serde adapter: `#[serde(with = "crate::duration::serde_text")]`.
pub mod serde_text {
    use super::*;

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format_duration(*d))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        struct Visitor;
        impl de::Visitor<'_> for Visitor {
            type Value = Duration;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str(DURATION_EXPECTED)
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Duration, E> {
                parse_duration(v).map_err(E::custom)
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Duration, E> {
                Err(E::custom(format!(
                    "bare number {v}: expected {DURATION_EXPECTED}"
                )))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Duration, E> {
                Err(E::custom(format!(
                    "bare number {v}: expected {DURATION_EXPECTED}"
                )))
            }
        }
        d.deserialize_any(Visitor)
    }
}

/// serde adapter for `Option<Duration>`.
pub mod serde_opt {
    use super::*;

    pub fn serialize<S: Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => s.serialize_str(&format_duration(*d)),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
        serde_text::deserialize(d).map(Some)
    }
}

/// A `[low, high]` range of durations, written `["1s", "5s"]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DurationRange {
    pub low: Duration,
    pub high: Duration,
}

impl DurationRange {
    pub fn new(low: Duration, high: Duration) -> DurationRange {
        DurationRange { low, high }
    }
}

impl Serialize for DurationRange {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        [format_duration(self.low), format_duration(self.high)].serialize(s)
    }
}

impl<'de> Deserialize<'de> for DurationRange {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let parts: Vec<String> = Vec::deserialize(d).map_err(|_| {
            de::Error::custom(format!(
                "expected a pair [low, high] of {DURATION_EXPECTED}"
            ))
        })?;
        if parts.len() != 2 {
            return Err(de::Error::custom(format!(
                "expected a pair [low, high], found {} values",
                parts.len()
            )));
        }
        let low = parse_duration(&parts[0]).map_err(de::Error::custom)?;
        let high = parse_duration(&parts[1]).map_err(de::Error::custom)?;
        if low > high {
            return Err(de::Error::custom(format!(
                "range [{}, {}] has low > high",
                parts[0], parts[1]
            )));
        }
        Ok(DurationRange { low, high })
    }
}

/// What a signed duration string must look like, for error messages.
pub const SIGNED_DURATION_EXPECTED: &str =
    "a signed duration such as \"-5s\", \"+10s\" or \"300ms\" (units: ns, us, ms, s, m, h)";

/// A span of time that may be negative, as clock offsets are: written
/// `"-5s"`, `"+10s"` or `"300ms"` (no sign means forwards). Nanoseconds in
/// an `i64`, so about ±292 years.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SignedDuration {
    nanos: i64,
}

impl SignedDuration {
    pub const ZERO: SignedDuration = SignedDuration { nanos: 0 };

    pub const fn from_nanos(nanos: i64) -> SignedDuration {
        SignedDuration { nanos }
    }

    pub const fn from_millis(ms: i64) -> SignedDuration {
        SignedDuration {
            nanos: ms * 1_000_000,
        }
    }

    pub const fn from_secs(secs: i64) -> SignedDuration {
        SignedDuration {
            nanos: secs * 1_000_000_000,
        }
    }

    pub const fn as_nanos(self) -> i64 {
        self.nanos
    }

    pub const fn is_negative(self) -> bool {
        self.nanos < 0
    }

    pub const fn is_zero(self) -> bool {
        self.nanos == 0
    }

    /// The absolute value.
    pub fn magnitude(self) -> Duration {
        Duration::from_nanos(self.nanos.unsigned_abs())
    }
}

impl fmt::Display for SignedDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&format_signed_duration(*self))
    }
}

/// Parses `"-5s"`, `"+10s"`, `"300ms"`.
pub fn parse_signed_duration(text: &str) -> Result<SignedDuration, String> {
    let trimmed = text.trim();
    let (negative, rest) = match trimmed.as_bytes().first() {
        Some(b'-') => (true, &trimmed[1..]),
        Some(b'+') => (false, &trimmed[1..]),
        _ => (false, trimmed),
    };
    let magnitude = parse_duration(rest)
        .map_err(|_| format!("\"{text}\" is not {SIGNED_DURATION_EXPECTED}"))?;
    let nanos = i64::try_from(magnitude.as_nanos())
        .map_err(|_| format!("signed duration \"{text}\" is too large"))?;
    Ok(SignedDuration::from_nanos(if negative {
        -nanos
    } else {
        nanos
    }))
}

/// `-5s`, `+10s`, `0s`: an explicit sign unless zero, then the exact
/// spelling of [`format_duration`].
pub fn format_signed_duration(d: SignedDuration) -> String {
    let sign = match d.nanos.signum() {
        -1 => "-",
        1 => "+",
        _ => "",
    };
    format!("{sign}{}", format_duration(d.magnitude()))
}

impl Serialize for SignedDuration {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format_signed_duration(*self))
    }
}

impl<'de> Deserialize<'de> for SignedDuration {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl de::Visitor<'_> for Visitor {
            type Value = SignedDuration;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str(SIGNED_DURATION_EXPECTED)
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<SignedDuration, E> {
                parse_signed_duration(v).map_err(E::custom)
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<SignedDuration, E> {
                Err(E::custom(format!(
                    "bare number {v}: expected {SIGNED_DURATION_EXPECTED}"
                )))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<SignedDuration, E> {
                Err(E::custom(format!(
                    "bare number {v}: expected {SIGNED_DURATION_EXPECTED}"
                )))
            }
        }
        d.deserialize_any(Visitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_formats_common_spellings() {
        assert_eq!(parse_duration("250ms").unwrap(), Duration::from_millis(250));
        assert_eq!(parse_duration("1.5s").unwrap(), Duration::from_millis(1500));
        assert_eq!(parse_duration("2m").unwrap(), Duration::from_secs(120));
        assert_eq!(format_duration(Duration::from_millis(1500)), "1500ms");
        assert_eq!(format_duration(Duration::from_secs(120)), "2m");
        assert_eq!(format_duration(Duration::ZERO), "0s");
    }

    #[test]
    fn rejects_negative_unitless_and_unknown_units() {
        assert!(parse_duration("-5s").unwrap_err().contains("negative"));
        assert!(parse_duration("5").unwrap_err().contains("no unit"));
        assert!(parse_duration("5 parsecs")
            .unwrap_err()
            .contains("unknown unit"));
    }

    #[test]
    fn signed_durations_parse_with_either_sign_and_round_trip() {
        assert_eq!(
            parse_signed_duration("-5s").unwrap(),
            SignedDuration::from_secs(-5)
        );
        assert_eq!(
            parse_signed_duration("+10s").unwrap(),
            SignedDuration::from_secs(10)
        );
        assert_eq!(
            parse_signed_duration("300ms").unwrap(),
            SignedDuration::from_millis(300)
        );
        for text in ["-5s", "+10s", "+300ms", "0s", "-1500ms"] {
            let d = parse_signed_duration(text).unwrap();
            assert_eq!(format_signed_duration(d), text);
        }
        assert!(parse_signed_duration("-5")
            .unwrap_err()
            .contains("signed duration"));
        assert!(parse_signed_duration("--5s").is_err());
        assert!(parse_signed_duration("5 parsecs").is_err());
        assert!(parse_signed_duration("3000000h")
            .unwrap_err()
            .contains("too large"));
    }

    #[test]
    fn formatting_round_trips() {
        for ms in [0u64, 1, 999, 1000, 1500, 60_000, 3_600_000] {
            let d = Duration::from_millis(ms);
            assert_eq!(parse_duration(&format_duration(d)).unwrap(), d);
        }
    }
}

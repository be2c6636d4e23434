//! A bound on a per-fault time (`max_time_to_detect`,
//! `max_time_to_recover`): one duration for every fault, or a table with
//! one per fault kind (`{ partition = "2s", crash = "5s" }`), where a kind
//! the table does not name is not bounded.

use crate::duration::{format_duration, parse_duration};
use serde::de::{self, MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

/// How long a per-fault time may be.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FaultBound {
    /// The same bound for every fault.
    Every(Duration),
    /// A bound per fault kind (`crash`, `partition`, …, as in
    /// [`crate::fault::FAULT_KINDS`]); other kinds are not bounded.
    PerKind(BTreeMap<String, Duration>),
}

impl FaultBound {
    /// The bound on a fault of `kind`, if it has one.
    pub fn for_kind(&self, kind: &str) -> Option<Duration> {
        match self {
            FaultBound::Every(d) => Some(*d),
            FaultBound::PerKind(map) => map.get(kind).copied(),
        }
    }

    /// Every duration it holds, with the key it is written under (empty
    /// for [`FaultBound::Every`]), for validation.
    pub fn entries(&self) -> Vec<(String, Duration)> {
        match self {
            FaultBound::Every(d) => vec![(String::new(), *d)],
            FaultBound::PerKind(map) => map.iter().map(|(k, d)| (k.clone(), *d)).collect(),
        }
    }
}

impl fmt::Display for FaultBound {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FaultBound::Every(d) => write!(f, "{}", format_duration(*d)),
            FaultBound::PerKind(map) => {
                let parts: Vec<String> = map
                    .iter()
                    .map(|(k, d)| format!("{k} {}", format_duration(*d)))
                    .collect();
                write!(f, "{}", parts.join(", "))
            }
        }
    }
}

impl Serialize for FaultBound {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            FaultBound::Every(d) => s.serialize_str(&format_duration(*d)),
            FaultBound::PerKind(map) => {
                let mut out = s.serialize_map(Some(map.len()))?;
                for (kind, d) in map {
                    out.serialize_entry(kind, &format_duration(*d))?;
                }
                out.end()
            }
        }
    }
}

impl<'de> Deserialize<'de> for FaultBound {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<FaultBound, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = FaultBound;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str(
                    "a duration such as \"2s\", or a table of durations by fault kind such as { partition = \"2s\" }",
                )
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<FaultBound, E> {
                parse_duration(v).map(FaultBound::Every).map_err(E::custom)
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<FaultBound, A::Error> {
                let mut kinds = BTreeMap::new();
                while let Some((kind, text)) = map.next_entry::<String, String>()? {
                    let d = parse_duration(&text)
                        .map_err(|e| de::Error::custom(format!("{kind}: {e}")))?;
                    kinds.insert(kind, d);
                }
                Ok(FaultBound::PerKind(kinds))
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize, Serialize)]
    struct T {
        b: FaultBound,
    }

    #[test]
    fn a_bound_is_one_duration_or_a_table_by_kind_and_prints_back_the_same() {
        let every: T = toml::from_str("b = \"2s\"").unwrap();
        assert_eq!(every.b.for_kind("crash"), Some(Duration::from_secs(2)));
        let per: T = toml::from_str("b = { partition = \"1500ms\" }").unwrap();
        assert_eq!(
            per.b.for_kind("partition"),
            Some(Duration::from_millis(1500))
        );
        assert_eq!(per.b.for_kind("crash"), None);
        let again: T = toml::from_str(&toml::to_string(&per).unwrap()).unwrap();
        assert_eq!(again.b, per.b);
        assert!(toml::from_str::<T>("b = 3").is_err());
        assert!(toml::from_str::<T>("b = { crash = \"soon\" }").is_err());
    }
}

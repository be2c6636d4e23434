//! Systems under test for the chaos harness.
//!
//! `primitives` holds the resilience building blocks (retry, circuit
//! breaker, bulkhead, …), all on `tokio::time` and seeded randomness so they
//! behave identically under simulation. `systems` holds small but real
//! services built from them, each adapted to the harness's target interface.

pub mod primitives;

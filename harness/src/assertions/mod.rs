//! Assertions in system code: a target states its design as properties the
//! harness checks in every run and counts across a sweep.
//!
//! The model (the one the Antithesis SDK uses, so code moves between the
//! two by changing an import):
//!
//! - **always** — `assert_always!(cond, "message", &details)`: `cond` holds
//!   every time the line runs. One `false` fails the seed, with the
//!   message, the details and the simulated time (and host) as evidence.
//!   `assert_always_or_unreachable!` is the same property; the SDK's
//!   difference (an `always` must also be reached somewhere in the test)
//!   shows here in the sweep report, where a required `always` that no
//!   seed reached fails the suite.
//! - **unreachable** — `assert_unreachable!("message", &details)`: reaching
//!   the line fails the seed, with the same evidence.
//! - **sometimes** — `assert_sometimes!(cond, "message", &details)`: `cond`
//!   holds at least once somewhere in the sweep. Never fails a seed: the
//!   sweep report lists every `sometimes` that never held, and a scenario
//!   can require one with `[[coverage]] assertion = "message"`.
//! - **reachable** — `assert_reachable!("message", &details)`: the line runs
//!   at least once in the sweep, reported and required like a `sometimes`.
//! - **numeric guidance** — `assert_always_less_than!(left, right, …)` and
//!   friends: the comparison as an `always` or a `sometimes`, with `left`
//!   and `right` merged into the details, and the run records the most
//!   extreme margin `left − right` it saw in the direction that brings the
//!   property closer to failing (an `always`) or to holding (a
//!   `sometimes`), so a search can steer toward it.
//! - **boolean guidance** — `assert_always_some!({a: x, b: y}, …)` and
//!   `assert_sometimes_all!`: a disjunction or conjunction whose parts are
//!   named in the details, recording how many parts held at the extreme.
//!
//! An assertion is identified by its message (a string literal) and kind;
//! the sites that share them are one assertion. Each call site owns a
//! `static` [`Site`] holding its kind, message and location, so a hit
//! costs a thread-local check, an atomic load and a few counter updates —
//! the message is never compared or copied at run time.
//!
//! **Outside a simulation nothing happens.** The condition (and `left`,
//! `right`) is evaluated as written, exactly as the SDK does; the details
//! expression is evaluated only inside a harness run and only when the run
//! keeps it (a first failure, a first time satisfied), so a hit allocates
//! nothing. [`crate::sim::run`] starts and ends the tally on its thread
//! ([`begin_run`], [`end_run`]) and stores the result in
//! [`crate::record::RunRecord::assertions`], sorted by message then kind.
//! Assertions do not enter the trace or its hash: adding them to a target
//! leaves every seed's behaviour and trace hash as it was.
//!
//! `data.rs` holds what a run records, `runtime.rs` the thread-local
//! tally, `macros.rs` the macros (exported at the crate root, as the SDK's
//! are), and `sweep.rs` the counts across a sweep's seeds.

mod data;
#[doc(hidden)]
pub mod macros;
mod runtime;
pub mod sweep;
#[cfg(test)]
mod tests;

pub use data::{AssertKind, AssertionRecord, Direction, Extreme, Occurrence};
pub use runtime::{begin_run, capture, end_run, hit, hit_guided, in_run, GuidedHit, Numeric, Site};

/// Every assertion macro, for `use harness::assertions::prelude::*`.
pub mod prelude {
    pub use crate::{
        assert_always, assert_always_greater_than, assert_always_greater_than_or_equal_to,
        assert_always_less_than, assert_always_less_than_or_equal_to, assert_always_or_unreachable,
        assert_always_some, assert_reachable, assert_sometimes, assert_sometimes_all,
        assert_sometimes_greater_than, assert_sometimes_greater_than_or_equal_to,
        assert_sometimes_less_than, assert_sometimes_less_than_or_equal_to, assert_unreachable,
    };
}

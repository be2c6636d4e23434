//! The assertion macros. Their names, arguments and meaning follow the
//! Antithesis SDK's, so that `use harness::assert_always;` and the SDK's
//! import are interchangeable; the bodies are the harness's own.
//!
//! Each macro declares a `static` [`Site`](super::Site) inside the branch
//! taken only in a run, so a site costs nothing until a run reaches it.

#[doc(hidden)]
pub use super::runtime::{with_operands, with_parts};
#[doc(hidden)]
pub use serde_json::Value;

/// The details a call site passed, as an owned value (evaluated only when
/// a hit is kept as evidence).
#[doc(hidden)]
#[macro_export]
macro_rules! __assertion_details {
    () => {
        $crate::assertions::macros::Value::Null
    };
    ($details:expr) => {
        ::core::clone::Clone::clone($details)
    };
}

/// A boolean assertion of `kind`.
#[doc(hidden)]
#[macro_export]
macro_rules! __assertion {
    ($kind:ident, $condition:expr, $message:literal $(, $details:expr)?) => {{
        let condition: bool = $condition;
        if $crate::assertions::in_run() {
            static SITE: $crate::assertions::Site = $crate::assertions::Site::new(
                $crate::assertions::AssertKind::$kind,
                $message,
                ::core::file!(),
                ::core::line!(),
                ::core::column!(),
            );
            $crate::assertions::hit(&SITE, condition, &|| {
                $crate::__assertion_details!($($details)?)
            });
        }
    }};
}

/// A comparison `left op right` asserted as `kind`, recording the margin.
#[doc(hidden)]
#[macro_export]
macro_rules! __numeric_assertion {
    ($kind:ident, $op:tt, $direction:ident, $left:expr, $right:expr, $message:literal $(, $details:expr)?) => {{
        let left = $left;
        let right = $right;
        let condition: bool = left $op right;
        if $crate::assertions::in_run() {
            static SITE: $crate::assertions::Site = $crate::assertions::Site::guided(
                $crate::assertions::AssertKind::$kind,
                $message,
                ::core::file!(),
                ::core::line!(),
                ::core::column!(),
                $crate::assertions::Direction::$direction,
            );
            let l = $crate::assertions::Numeric::as_f64(left);
            let r = $crate::assertions::Numeric::as_f64(right);
            $crate::assertions::hit_guided(
                &SITE,
                condition,
                $crate::assertions::GuidedHit { left: l, right: r, margin: l - r },
                &|| {
                    $crate::assertions::macros::with_operands(
                        &$crate::__assertion_details!($($details)?),
                        left,
                        right,
                    )
                },
            );
        }
    }};
}

/// A conjunction (`all`) or disjunction of named parts asserted as `kind`,
/// recording how many parts held.
#[doc(hidden)]
#[macro_export]
macro_rules! __boolean_assertion {
    ($kind:ident, $all:literal, $direction:ident, {$($name:ident: $part:expr),*}, $message:literal $(, $details:expr)?) => {{
        // Every part is evaluated, none short-circuits (as in the SDK).
        let parts: &[(&str, bool)] = &[$((::core::stringify!($name), $part)),*];
        let held = parts.iter().filter(|(_, h)| *h).count();
        let condition: bool = if $all { held == parts.len() } else { held > 0 };
        if $crate::assertions::in_run() {
            static SITE: $crate::assertions::Site = $crate::assertions::Site::guided(
                $crate::assertions::AssertKind::$kind,
                $message,
                ::core::file!(),
                ::core::line!(),
                ::core::column!(),
                $crate::assertions::Direction::$direction,
            );
            $crate::assertions::hit_guided(
                &SITE,
                condition,
                $crate::assertions::GuidedHit {
                    left: held as f64,
                    right: parts.len() as f64,
                    margin: held as f64,
                },
                &|| {
                    $crate::assertions::macros::with_parts(
                        &$crate::__assertion_details!($($details)?),
                        parts,
                    )
                },
            );
        }
    }};
}

/// Asserts that `condition` holds every time this line runs in a
/// simulation: one `false` fails the seed, with `message`, `details` (a
/// `&serde_json::Value`) and the simulated time as evidence. A scenario can
/// also require it to be reached (`[[coverage]] assertion = "message"`).
///
/// ```
/// use harness::assert_always;
/// use harness::serde_json::json;
/// let (leaders, term) = (1, 7);
/// assert_always!(leaders <= 1, "at most one leader per term", &json!({ "term": term }));
/// ```
#[macro_export]
macro_rules! assert_always {
    ($condition:expr, $message:literal $(, $details:expr)? $(,)?) => {
        $crate::__assertion!(Always, $condition, $message $(, $details)?)
    };
    ($($rest:tt)*) => {
        ::core::compile_error!(
            "assert_always! takes (condition, \"message literal\", &details), details optional"
        )
    };
}

/// Like [`assert_always!`]: `condition` holds every time this line runs;
/// the line need not run at all.
#[macro_export]
macro_rules! assert_always_or_unreachable {
    ($condition:expr, $message:literal $(, $details:expr)? $(,)?) => {
        $crate::__assertion!(AlwaysOrUnreachable, $condition, $message $(, $details)?)
    };
    ($($rest:tt)*) => {
        ::core::compile_error!(
            "assert_always_or_unreachable! takes (condition, \"message literal\", &details), details optional"
        )
    };
}

/// Asserts that `condition` holds at least once across a sweep. A seed
/// never fails for it; the sweep report lists it if it never held, and a
/// scenario can require it (`[[coverage]] assertion = "message"`).
///
/// ```
/// use harness::assert_sometimes;
/// let state = "half-open";
/// assert_sometimes!(state == "half-open", "breaker went half-open");
/// ```
#[macro_export]
macro_rules! assert_sometimes {
    ($condition:expr, $message:literal $(, $details:expr)? $(,)?) => {
        $crate::__assertion!(Sometimes, $condition, $message $(, $details)?)
    };
    ($($rest:tt)*) => {
        ::core::compile_error!(
            "assert_sometimes! takes (condition, \"message literal\", &details), details optional"
        )
    };
}

/// Asserts that this line runs at least once across a sweep (reported and
/// required like [`assert_sometimes!`]).
#[macro_export]
macro_rules! assert_reachable {
    ($message:literal $(, $details:expr)? $(,)?) => {
        $crate::__assertion!(Reachable, true, $message $(, $details)?)
    };
    ($($rest:tt)*) => {
        ::core::compile_error!(
            "assert_reachable! takes (\"message literal\", &details), details optional"
        )
    };
}

/// Asserts that this line never runs: reaching it fails the seed, with
/// `message`, `details` and the simulated time as evidence.
#[macro_export]
macro_rules! assert_unreachable {
    ($message:literal $(, $details:expr)? $(,)?) => {
        $crate::__assertion!(Unreachable, false, $message $(, $details)?)
    };
    ($($rest:tt)*) => {
        ::core::compile_error!(
            "assert_unreachable! takes (\"message literal\", &details), details optional"
        )
    };
}

/// `assert_always!(left > right, …)`, recording the smallest margin
/// `left − right` seen (how close the property came to failing), with
/// `left` and `right` added to the details.
#[macro_export]
macro_rules! assert_always_greater_than {
    ($left:expr, $right:expr, $message:literal $(, $details:expr)? $(,)?) => {
        $crate::__numeric_assertion!(Always, >, Minimize, $left, $right, $message $(, $details)?)
    };
}

/// `assert_always!(left >= right, …)`, recording the smallest margin.
#[macro_export]
macro_rules! assert_always_greater_than_or_equal_to {
    ($left:expr, $right:expr, $message:literal $(, $details:expr)? $(,)?) => {
        $crate::__numeric_assertion!(Always, >=, Minimize, $left, $right, $message $(, $details)?)
    };
}

/// `assert_always!(left < right, …)`, recording the largest margin.
#[macro_export]
macro_rules! assert_always_less_than {
    ($left:expr, $right:expr, $message:literal $(, $details:expr)? $(,)?) => {
        $crate::__numeric_assertion!(Always, <, Maximize, $left, $right, $message $(, $details)?)
    };
}

/// `assert_always!(left <= right, …)`, recording the largest margin.
///
/// ```
/// use harness::assert_always_less_than_or_equal_to;
/// let (queued, limit) = (3u32, 8u32);
/// assert_always_less_than_or_equal_to!(queued, limit, "queue within its bound");
/// ```
#[macro_export]
macro_rules! assert_always_less_than_or_equal_to {
    ($left:expr, $right:expr, $message:literal $(, $details:expr)? $(,)?) => {
        $crate::__numeric_assertion!(Always, <=, Maximize, $left, $right, $message $(, $details)?)
    };
}

/// `assert_sometimes!(left > right, …)`, recording the largest margin
/// (how close the property came to holding).
#[macro_export]
macro_rules! assert_sometimes_greater_than {
    ($left:expr, $right:expr, $message:literal $(, $details:expr)? $(,)?) => {
        $crate::__numeric_assertion!(Sometimes, >, Maximize, $left, $right, $message $(, $details)?)
    };
}

/// `assert_sometimes!(left >= right, …)`, recording the largest margin.
#[macro_export]
macro_rules! assert_sometimes_greater_than_or_equal_to {
    ($left:expr, $right:expr, $message:literal $(, $details:expr)? $(,)?) => {
        $crate::__numeric_assertion!(Sometimes, >=, Maximize, $left, $right, $message $(, $details)?)
    };
}

/// `assert_sometimes!(left < right, …)`, recording the smallest margin.
#[macro_export]
macro_rules! assert_sometimes_less_than {
    ($left:expr, $right:expr, $message:literal $(, $details:expr)? $(,)?) => {
        $crate::__numeric_assertion!(Sometimes, <, Minimize, $left, $right, $message $(, $details)?)
    };
}

/// `assert_sometimes!(left <= right, …)`, recording the smallest margin.
#[macro_export]
macro_rules! assert_sometimes_less_than_or_equal_to {
    ($left:expr, $right:expr, $message:literal $(, $details:expr)? $(,)?) => {
        $crate::__numeric_assertion!(Sometimes, <=, Minimize, $left, $right, $message $(, $details)?)
    };
}

/// `assert_always!(a || b || …)` over named parts, all evaluated, each
/// added to the details; records the fewest parts that held at once.
#[macro_export]
macro_rules! assert_always_some {
    ({$($($name:ident: $part:expr),+ $(,)?)?}, $message:literal $(, $details:expr)? $(,)?) => {
        $crate::__boolean_assertion!(Always, false, Minimize, {$($($name: $part),+)?}, $message $(, $details)?)
    };
}

/// `assert_sometimes!(a && b && …)` over named parts, all evaluated, each
/// added to the details; records the most parts that held at once.
#[macro_export]
macro_rules! assert_sometimes_all {
    ({$($($name:ident: $part:expr),+ $(,)?)?}, $message:literal $(, $details:expr)? $(,)?) => {
        $crate::__boolean_assertion!(Sometimes, true, Maximize, {$($($name: $part),+)?}, $message $(, $details)?)
    };
}

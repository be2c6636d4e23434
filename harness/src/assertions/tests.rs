//! The macros' semantics, in a recorded run ([`capture`]) and outside one.

use super::*;
use serde_json::{json, Value};
use std::cell::Cell;

thread_local! {
    static EVALUATED: Cell<u32> = const { Cell::new(0) };
}

/// Details that count how often they are evaluated.
fn counted(value: Value) -> Value {
    EVALUATED.with(|e| e.set(e.get() + 1));
    value
}

fn evaluated() -> u32 {
    EVALUATED.with(Cell::get)
}

fn find<'a>(records: &'a [AssertionRecord], message: &str) -> &'a AssertionRecord {
    records
        .iter()
        .find(|r| r.message == message)
        .unwrap_or_else(|| panic!("no record of {message:?} in {records:#?}"))
}

#[test]
fn outside_a_run_nothing_is_recorded_and_details_are_not_evaluated() {
    let before = evaluated();
    let mut conditions = 0;
    let mut check = |held: bool| {
        conditions += 1;
        held
    };
    crate::assert_always!(check(false), "outside always", &counted(json!({})));
    crate::assert_unreachable!("outside unreachable", &counted(json!({})));
    crate::assert_sometimes!(check(true), "outside sometimes", &counted(json!({})));
    crate::assert_always_less_than!(5, 3, "outside numeric", &counted(json!({})));
    assert!(!in_run());
    assert_eq!(evaluated(), before, "details are evaluated only in a run");
    assert_eq!(
        conditions, 2,
        "conditions are evaluated as written, as the SDK does"
    );
    // Nothing was left behind for a later run to pick up.
    let ((), records) = capture(|| {});
    assert!(records.is_empty(), "{records:#?}");
}

#[test]
fn an_always_counts_every_hit_and_keeps_its_first_failure() {
    let before = evaluated();
    let ((), records) = capture(|| {
        for i in 0..5u32 {
            crate::assert_always!(
                i != 2 && i != 4,
                "no even above zero",
                &counted(json!({ "i": i }))
            );
        }
    });
    let r = find(&records, "no even above zero");
    assert_eq!(r.kind, AssertKind::Always);
    assert_eq!((r.hits, r.passes, r.failures), (5, 3, 2));
    assert!(r.violated() && r.satisfied());
    let first = r.first_failure.as_ref().expect("a failure is kept");
    assert_eq!(first.details, json!({ "i": 2 }));
    assert_eq!(first.time_ns, 0);
    assert_eq!(
        first.hit, 3,
        "the third hit of the run was the first failure"
    );
    assert!(
        first.site.starts_with("harness/src/assertions/tests.rs:"),
        "{}",
        first.site
    );
    assert!(r.first_pass.is_none(), "an always keeps no pass");
    assert_eq!(
        evaluated() - before,
        1,
        "only the kept hit evaluates its details"
    );
}

#[test]
fn a_sometimes_never_fails_and_keeps_when_it_first_held() {
    let ((), records) = capture(|| {
        for i in 0..4u32 {
            crate::assert_sometimes!(i >= 2, "reached two", &json!({ "i": i }));
        }
        crate::assert_sometimes!(false, "never held");
    });
    let r = find(&records, "reached two");
    assert_eq!((r.hits, r.passes, r.failures), (4, 2, 2));
    assert!(!r.violated() && r.satisfied());
    assert_eq!(r.first_pass.as_ref().unwrap().details, json!({ "i": 2 }));
    assert!(r.first_failure.is_none());
    let never = find(&records, "never held");
    assert!(!never.violated() && !never.satisfied());
    assert_eq!(never.first_pass, None);
}

#[test]
fn reachable_passes_when_reached_and_unreachable_fails() {
    let ((), records) = capture(|| {
        crate::assert_reachable!("got here");
        crate::assert_unreachable!("must not get here", &json!({ "why": "planted" }));
        crate::assert_always_or_unreachable!(true, "fine when reached");
    });
    let reached = find(&records, "got here");
    assert_eq!((reached.kind, reached.passes), (AssertKind::Reachable, 1));
    assert_eq!(reached.first_pass.as_ref().unwrap().details, Value::Null);
    let unreachable = find(&records, "must not get here");
    assert!(unreachable.violated());
    assert_eq!(
        unreachable.first_failure.as_ref().unwrap().details,
        json!({ "why": "planted" })
    );
    assert!(!find(&records, "fine when reached").violated());
}

#[test]
fn numeric_forms_record_the_extreme_margin_their_property_cares_about() {
    let ((), records) = capture(|| {
        for (left, right) in [(10i64, 3i64), (4, 3), (9, 3)] {
            // An always: the smallest left - right is the closest call.
            crate::assert_always_greater_than!(
                left,
                right,
                "gap stays positive",
                &json!({ "k": 1 })
            );
            // A sometimes: the largest left - right is the nearest miss.
            crate::assert_sometimes_greater_than!(left, 20, "gap ever above twenty");
        }
        crate::assert_always_less_than_or_equal_to!(7u32, 5u32, "within bound");
        crate::assert_sometimes_less_than!(2.5f64, 1.0f64, "ever below one");
    });
    let gap = find(&records, "gap stays positive");
    let e = gap.extreme.as_ref().unwrap();
    assert_eq!(
        (e.direction, e.margin, e.left, e.right),
        (Direction::Minimize, 1.0, 4.0, 3.0)
    );
    assert!(!gap.violated());
    let twenty = find(&records, "gap ever above twenty");
    assert_eq!(twenty.extreme.as_ref().unwrap().margin, -10.0);
    assert!(!twenty.satisfied());
    let bound = find(&records, "within bound");
    assert!(bound.violated());
    assert_eq!(
        bound.first_failure.as_ref().unwrap().details,
        json!({ "left": 7, "right": 5 }),
        "the operands are merged into the details"
    );
    assert_eq!(
        bound.extreme.as_ref().unwrap().direction,
        Direction::Maximize
    );
    let below = find(&records, "ever below one");
    assert_eq!(below.extreme.as_ref().unwrap().margin, 1.5);
}

#[test]
fn boolean_forms_evaluate_every_part_and_record_how_many_held() {
    let mut evaluated_parts = 0;
    let mut part = |held: bool| {
        evaluated_parts += 1;
        held
    };
    let ((), records) = capture(|| {
        crate::assert_always_some!({ primary: part(false), backup: part(true) }, "someone serves");
        crate::assert_sometimes_all!({ a: part(true), b: part(false), c: part(true) }, "all up at once", &json!({ "n": 3 }));
    });
    assert_eq!(evaluated_parts, 5, "no short-circuit");
    let some = find(&records, "someone serves");
    assert_eq!(
        (some.passes, some.extreme.as_ref().unwrap().margin),
        (1, 1.0)
    );
    let all = find(&records, "all up at once");
    assert!(!all.satisfied());
    assert_eq!(all.extreme.as_ref().unwrap().margin, 2.0);
    assert_eq!(all.extreme.as_ref().unwrap().right, 3.0);
}

#[test]
fn sites_sharing_a_message_are_one_assertion_and_records_are_sorted() {
    let ((), records) = capture(|| {
        crate::assert_sometimes!(false, "zeta");
        crate::assert_sometimes!(true, "alpha");
        crate::assert_sometimes!(false, "alpha");
    });
    let names: Vec<&str> = records.iter().map(|r| r.message.as_str()).collect();
    assert_eq!(names, ["alpha", "zeta"]);
    assert_eq!(records[0].sites.len(), 2);
    assert_eq!((records[0].hits, records[0].passes), (2, 1));
    let mut sorted = records[0].sites.clone();
    sorted.sort();
    assert_eq!(records[0].sites, sorted);
}

#[test]
fn a_nested_capture_sets_the_outer_run_aside() {
    let ((), outer) = capture(|| {
        crate::assert_reachable!("outer before");
        let ((), inner) = capture(|| crate::assert_reachable!("inner"));
        assert_eq!(inner.len(), 1);
        assert!(in_run(), "the outer run resumes");
        crate::assert_reachable!("outer after");
    });
    let names: Vec<&str> = outer.iter().map(|r| r.message.as_str()).collect();
    assert_eq!(names, ["outer after", "outer before"]);
    assert!(!in_run());
}

//! The tally of one run's assertions, kept in a thread-local because a run
//! is one thread (several runs of a suite proceed on different threads).
//!
//! Every call site has a `static` [`Site`]; the first time any run hits it
//! the site draws a slot number from a process-wide counter, and a run's
//! tally is a vector indexed by slot. Slots depend on the order threads
//! first reach sites, so nothing ordered by slot leaves this module:
//! [`end_run`] merges the sites into records sorted by message and kind.

use super::data::{AssertKind, AssertionRecord, Direction, Extreme, Occurrence};
use serde_json::Value;
use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};

/// One call site of an assertion macro, a `static` the macro declares.
#[derive(Debug)]
pub struct Site {
    kind: AssertKind,
    message: &'static str,
    file: &'static str,
    line: u32,
    column: u32,
    guidance: Option<Direction>,
    /// Index + 1 into a run's tally; 0 until the site is first hit.
    slot: AtomicUsize,
}

/// Slots handed out so far, + 1.
static NEXT_SLOT: AtomicUsize = AtomicUsize::new(1);

impl Site {
    pub const fn new(
        kind: AssertKind,
        message: &'static str,
        file: &'static str,
        line: u32,
        column: u32,
    ) -> Site {
        Site {
            kind,
            message,
            file,
            line,
            column,
            guidance: None,
            slot: AtomicUsize::new(0),
        }
    }

    /// A site of a guided form, whose margin is interesting in `direction`.
    pub const fn guided(
        kind: AssertKind,
        message: &'static str,
        file: &'static str,
        line: u32,
        column: u32,
        direction: Direction,
    ) -> Site {
        let mut site = Site::new(kind, message, file, line, column);
        site.guidance = Some(direction);
        site
    }

    pub fn kind(&self) -> AssertKind {
        self.kind
    }

    pub fn message(&self) -> &'static str {
        self.message
    }

    fn location(&self) -> String {
        format!("{}:{}:{}", self.file, self.line, self.column)
    }

    fn slot(&self) -> usize {
        let slot = self.slot.load(Ordering::Relaxed);
        if slot != 0 {
            return slot - 1;
        }
        let fresh = NEXT_SLOT.fetch_add(1, Ordering::Relaxed);
        // Another thread may have numbered the site meanwhile: keep its
        // number (the fresh one is simply never used).
        match self
            .slot
            .compare_exchange(0, fresh, Ordering::Relaxed, Ordering::Relaxed)
        {
            Ok(_) => fresh - 1,
            Err(existing) => existing - 1,
        }
    }
}

/// The measured operands of a guided hit.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GuidedHit {
    pub left: f64,
    pub right: f64,
    pub margin: f64,
}

/// A number a numeric assertion can compare and record: every primitive
/// integer and float that `serde_json` can hold. Values past 2^53 are
/// recorded (not compared) with `f64` precision.
pub trait Numeric: Copy + Into<Value> {
    fn as_f64(self) -> f64;
}

macro_rules! numeric {
    ($($t:ty)*) => {$(
        impl Numeric for $t {
            fn as_f64(self) -> f64 {
                self as f64
            }
        }
    )*};
}
numeric! { u8 u16 u32 u64 usize i8 i16 i32 i64 isize f32 f64 }

struct Entry {
    site: &'static Site,
    hits: u64,
    passes: u64,
    failures: u64,
    first_pass: Option<Occurrence>,
    first_failure: Option<Occurrence>,
    extreme: Option<Extreme>,
}

struct Tally {
    entries: Vec<Option<Entry>>,
    /// Hits of any assertion so far in the run.
    hits: u64,
    /// Simulated time outside a host (inside one, turmoil knows it).
    clock: fn() -> u64,
    /// The host whose software is running, if any.
    host: fn() -> Option<String>,
}

thread_local! {
    /// Whether this thread is in a run: the one check a hit outside a
    /// simulation pays.
    static ACTIVE: Cell<bool> = const { Cell::new(false) };
    static TALLY: RefCell<Option<Tally>> = const { RefCell::new(None) };
}

/// Whether assertions on this thread are being recorded.
#[inline]
pub fn in_run() -> bool {
    ACTIVE.with(Cell::get)
}

/// Starts recording assertions on this thread, for a run whose simulated
/// time outside a host is `clock()` and whose running host is `host()`.
/// A tally already open is discarded.
pub fn begin_run(clock: fn() -> u64, host: fn() -> Option<String>) {
    TALLY.with(|t| {
        *t.borrow_mut() = Some(Tally {
            entries: Vec::new(),
            hits: 0,
            clock,
            host,
        })
    });
    ACTIVE.with(|a| a.set(true));
}

/// Stops recording and returns the run's assertions, sorted by message
/// then kind (empty if no run was open).
pub fn end_run() -> Vec<AssertionRecord> {
    ACTIVE.with(|a| a.set(false));
    let Some(tally) = TALLY.with(|t| t.borrow_mut().take()) else {
        return Vec::new();
    };
    merge(tally.entries.into_iter().flatten())
}

/// Runs `f` with assertions recorded, outside any simulation (for tests
/// of code that asserts): returns what `f` returned and what it asserted.
/// Times are turmoil's if `f` runs inside a host, else 0. A run already
/// recording on this thread is set aside and resumes afterwards.
pub fn capture<R>(f: impl FnOnce() -> R) -> (R, Vec<AssertionRecord>) {
    struct Restore(Option<Tally>, bool);
    impl Drop for Restore {
        fn drop(&mut self) {
            let tally = self.0.take();
            let active = self.1;
            TALLY.with(|t| *t.borrow_mut() = tally);
            ACTIVE.with(|a| a.set(active));
        }
    }
    let _restore = Restore(TALLY.with(|t| t.borrow_mut().take()), in_run());
    begin_run(|| 0, || None);
    let out = f();
    (out, end_run())
}

/// Records one hit of `site`. `details` is called only if the hit is kept
/// as evidence.
pub fn hit(site: &'static Site, condition: bool, details: &dyn Fn() -> Value) {
    record(site, condition, None, details)
}

/// Records one hit of a guided site with its operands.
pub fn hit_guided(
    site: &'static Site,
    condition: bool,
    guided: GuidedHit,
    details: &dyn Fn() -> Value,
) {
    record(site, condition, Some(guided), details)
}

/// Which piece of evidence a hit is to fill in.
enum Keep {
    Pass,
    Failure,
}

fn record(
    site: &'static Site,
    condition: bool,
    guided: Option<GuidedHit>,
    details: &dyn Fn() -> Value,
) {
    let slot = site.slot();
    // Decide under the borrow, evaluate the details after it: a details
    // expression may itself run code that asserts.
    let wanted = TALLY.with(|t| {
        let mut t = t.borrow_mut();
        let tally = t.as_mut()?;
        tally.hits += 1;
        let hit = tally.hits;
        if tally.entries.len() <= slot {
            tally.entries.resize_with(slot + 1, || None);
        }
        let entry = tally.entries[slot].get_or_insert(Entry {
            site,
            hits: 0,
            passes: 0,
            failures: 0,
            first_pass: None,
            first_failure: None,
            extreme: None,
        });
        entry.hits += 1;
        if condition {
            entry.passes += 1;
        } else {
            entry.failures += 1;
        }
        let mut now = None;
        if let (Some(direction), Some(g)) = (site.guidance, guided) {
            let better = entry
                .extreme
                .as_ref()
                .is_none_or(|e| direction.improves(g.margin, e.margin));
            if better {
                let time_ns = *now.get_or_insert_with(|| time_ns(tally.clock));
                entry.extreme = Some(Extreme {
                    direction,
                    margin: g.margin,
                    left: g.left,
                    right: g.right,
                    time_ns,
                });
            }
        }
        let keep = if condition && site.kind.wants_once() && entry.first_pass.is_none() {
            Keep::Pass
        } else if !condition && site.kind.fails_seed() && entry.first_failure.is_none() {
            Keep::Failure
        } else {
            return None;
        };
        let time_ns = now.unwrap_or_else(|| time_ns(tally.clock));
        Some((keep, time_ns, hit, (tally.host)()))
    });
    let Some((keep, time_ns, hit, host)) = wanted else {
        return;
    };
    let occurrence = Occurrence {
        time_ns,
        hit,
        host,
        site: site.location(),
        details: details(),
    };
    TALLY.with(|t| {
        let mut t = t.borrow_mut();
        let Some(entry) = t.as_mut().and_then(|t| t.entries[slot].as_mut()) else {
            return;
        };
        match keep {
            Keep::Pass => entry.first_pass = Some(occurrence),
            Keep::Failure => entry.first_failure = Some(occurrence),
        }
    });
}

fn time_ns(clock: fn() -> u64) -> u64 {
    turmoil::sim_elapsed().map_or_else(clock, |d| d.as_nanos() as u64)
}

/// Merges sites into one record per (message, kind), sorted.
fn merge(entries: impl Iterator<Item = Entry>) -> Vec<AssertionRecord> {
    let mut records: BTreeMap<(&'static str, AssertKind), AssertionRecord> = BTreeMap::new();
    for e in entries {
        let site = e.site;
        let record = records
            .entry((site.message, site.kind))
            .or_insert_with(|| AssertionRecord {
                message: site.message.to_string(),
                kind: site.kind,
                sites: Vec::new(),
                hits: 0,
                passes: 0,
                failures: 0,
                first_pass: None,
                first_failure: None,
                extreme: None,
            });
        record.sites.push(site.location());
        record.hits += e.hits;
        record.passes += e.passes;
        record.failures += e.failures;
        record.first_pass = earlier(record.first_pass.take(), e.first_pass);
        record.first_failure = earlier(record.first_failure.take(), e.first_failure);
        record.extreme = match (record.extreme.take(), e.extreme) {
            (Some(a), Some(b)) if b.direction.improves(b.margin, a.margin) => Some(b),
            (Some(a), _) => Some(a),
            (None, b) => b,
        };
    }
    records
        .into_values()
        .map(|mut r| {
            r.sites.sort();
            r.sites.dedup();
            r
        })
        .collect()
}

/// The earlier of two occurrences (by hit number, which no two share), so
/// the choice does not depend on slot order.
fn earlier(a: Option<Occurrence>, b: Option<Occurrence>) -> Option<Occurrence> {
    match (a, b) {
        (Some(a), Some(b)) => Some(if b.hit < a.hit { b } else { a }),
        (a, b) => a.or(b),
    }
}

/// `details` with the operands of a comparison added as `left` and
/// `right` (a details value that is not an object is kept under
/// `details`).
#[doc(hidden)]
pub fn with_operands(details: &Value, left: impl Into<Value>, right: impl Into<Value>) -> Value {
    let mut map = as_object(details);
    map.insert("left".into(), left.into());
    map.insert("right".into(), right.into());
    Value::Object(map)
}

/// `details` with the named parts of a boolean form added.
#[doc(hidden)]
pub fn with_parts(details: &Value, parts: &[(&str, bool)]) -> Value {
    let mut map = as_object(details);
    for (name, held) in parts {
        map.insert((*name).into(), Value::Bool(*held));
    }
    Value::Object(map)
}

fn as_object(details: &Value) -> serde_json::Map<String, Value> {
    match details {
        Value::Object(map) => map.clone(),
        Value::Null => serde_json::Map::new(),
        other => {
            let mut map = serde_json::Map::new();
            map.insert("details".into(), other.clone());
            map
        }
    }
}

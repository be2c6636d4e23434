//! Test support: a paused-clock runtime for property tests and a tracing
//! subscriber that records events so tests can assert on them.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::fmt;
use std::future::Future;
use std::rc::Rc;
use std::sync::Once;

use tracing::field::{Field, Visit};
use tracing::span;
use tracing::subscriber::Interest;
use tracing::{Event, Metadata, Subscriber};

/// Runs `future` to completion on a current-thread runtime whose clock is
/// paused (it jumps ahead whenever every task is idle), inside a `LocalSet`
/// so tests can `spawn_local` the `!Send` primitives the way a turmoil host
/// does. Proptest bodies are synchronous, hence this rather than
/// `#[tokio::test]`.
pub fn run_paused<F: Future>(future: F) -> F::Output {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .expect("a current-thread runtime builds");
    tokio::task::LocalSet::new().block_on(&runtime, future)
}

#[derive(Debug, Clone)]
pub struct Captured {
    pub target: String,
    pub message: String,
    pub fields: BTreeMap<String, String>,
}

impl Captured {
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields.get(name).map(String::as_str)
    }
}

#[derive(Clone, Default)]
pub struct Events(Rc<RefCell<Vec<Captured>>>);

impl Events {
    pub fn all(&self) -> Vec<Captured> {
        self.0.borrow().clone()
    }

    /// Events whose message is exactly `message`.
    pub fn named(&self, message: &str) -> Vec<Captured> {
        self.all()
            .into_iter()
            .filter(|e| e.message == message)
            .collect()
    }
}

thread_local! {
    static SINK: RefCell<Option<Events>> = const { RefCell::new(None) };
}

/// Stops recording on this thread when dropped.
pub struct CaptureGuard(());

impl Drop for CaptureGuard {
    fn drop(&mut self) {
        SINK.with(|sink| sink.borrow_mut().take());
    }
}

/// Records every event on this thread until the guard is dropped.
///
/// One global subscriber routes events to the current thread's sink. A
/// scoped (`set_default`) subscriber per test would be simpler but is
/// flaky: a callsite first hit on another test thread, with no subscriber,
/// can have its interest cached as "never".
pub fn capture_events() -> (CaptureGuard, Events) {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        tracing::subscriber::set_global_default(Recorder)
            .expect("no other global subscriber in unit tests");
    });
    let events = Events::default();
    SINK.with(|sink| *sink.borrow_mut() = Some(events.clone()));
    (CaptureGuard(()), events)
}

struct Recorder;

struct FieldVisitor<'a> {
    message: &'a mut String,
    fields: &'a mut BTreeMap<String, String>,
}

impl Visit for FieldVisitor<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            *self.message = value.to_owned();
        } else {
            self.fields
                .insert(field.name().to_owned(), value.to_owned());
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        let rendered = format!("{value:?}");
        if field.name() == "message" {
            *self.message = rendered;
        } else {
            self.fields.insert(field.name().to_owned(), rendered);
        }
    }
}

impl Subscriber for Recorder {
    fn register_callsite(&self, _: &'static Metadata<'static>) -> Interest {
        Interest::always()
    }

    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }

    fn new_span(&self, _: &span::Attributes<'_>) -> span::Id {
        span::Id::from_u64(1)
    }

    fn record(&self, _: &span::Id, _: &span::Record<'_>) {}

    fn record_follows_from(&self, _: &span::Id, _: &span::Id) {}

    fn event(&self, event: &Event<'_>) {
        let Some(events) = SINK.with(|sink| sink.borrow().clone()) else {
            return;
        };
        let mut message = String::new();
        let mut fields = BTreeMap::new();
        event.record(&mut FieldVisitor {
            message: &mut message,
            fields: &mut fields,
        });
        events.0.borrow_mut().push(Captured {
            target: event.metadata().target().to_owned(),
            message,
            fields,
        });
    }

    fn enter(&self, _: &span::Id) {}

    fn exit(&self, _: &span::Id) {}
}

//! Capturing `tracing` events and panics from inside the simulation.
//!
//! turmoil runs every host inside a span named `node` whose `name` field is
//! the host name; this subscriber remembers which host is entered so each
//! event is attributed to its host, and stamps it with simulated time. The
//! state is thread-local: a run happens entirely on one thread, and several
//! runs proceed on different threads of a suite at once.
//!
//! Cost matters because the subscriber sees every host every tick (the
//! `node` span): spans are interned by host name, not allocated, and
//! turmoil's own high-volume events are never enabled.

use super::with_log;
use crate::record::{TraceEvent, TraceKind};
use std::cell::{Cell, RefCell};
use std::fmt::Write as _;
use std::sync::OnceLock;
use tracing::field::{Field, Visit};
use tracing::level_filters::LevelFilter;
use tracing::span::{Attributes, Id, Record};
use tracing::subscriber::Interest;
use tracing::{Event, Level, Metadata, Subscriber};

thread_local! {
    /// Host names seen in `node` spans; a span id is index + 1.
    static HOSTS: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
    /// The entered `node` span (0: none).
    static CURRENT: Cell<u64> = const { Cell::new(0) };
    /// Most verbose level captured by the run on this thread.
    static LEVEL: Cell<Option<Level>> = const { Cell::new(None) };
    /// Simulated time of the step being run, for events outside any host.
    pub(super) static NOW_NS: Cell<u64> = const { Cell::new(0) };
}

/// Turns capture on for this thread at `level` (None: off).
pub(super) fn set_level(level: Option<Level>) {
    LEVEL.with(|l| l.set(level));
    CURRENT.with(|c| c.set(0));
}

/// The host whose software is running on this thread's simulation, if any
/// (for assertions, which record where they were hit).
pub(super) fn current_host() -> Option<String> {
    let host = CURRENT.with(|c| c.get());
    (host != 0).then(|| HOSTS.with(|h| h.borrow()[host as usize - 1].clone()))
}

struct CaptureSubscriber;

fn is_turmoil(meta: &Metadata<'_>) -> bool {
    meta.target().starts_with("turmoil")
}

impl Subscriber for CaptureSubscriber {
    fn register_callsite(&self, meta: &'static Metadata<'static>) -> Interest {
        if meta.is_span() {
            if meta.name() == "node" && is_turmoil(meta) {
                Interest::always()
            } else {
                Interest::never()
            }
        } else if is_turmoil(meta) || *meta.level() == Level::TRACE {
            Interest::never()
        } else {
            // Whether an event is wanted depends on the thread's run.
            Interest::sometimes()
        }
    }

    fn max_level_hint(&self) -> Option<LevelFilter> {
        Some(LevelFilter::DEBUG)
    }

    fn enabled(&self, meta: &Metadata<'_>) -> bool {
        // This must agree with `register_callsite`: while one thread is
        // still registering a callsite, tracing answers `sometimes` to every
        // other thread and asks here instead. Deciding differently here let
        // turmoil's own events into a trace now and then, so the same seed
        // could give a different trace hash when runs share a process.
        if meta.is_span() {
            return meta.name() == "node" && is_turmoil(meta);
        }
        if is_turmoil(meta) || *meta.level() == Level::TRACE {
            return false;
        }
        LEVEL.with(|l| l.get().is_some_and(|max| *meta.level() <= max))
    }

    fn new_span(&self, attrs: &Attributes<'_>) -> Id {
        struct NameVisitor(Option<String>);
        impl Visit for NameVisitor {
            fn record_str(&mut self, field: &Field, value: &str) {
                if field.name() == "name" {
                    self.0 = Some(value.to_string());
                }
            }
            fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
                if field.name() == "name" && self.0.is_none() {
                    self.0 = Some(format!("{value:?}"));
                }
            }
        }
        // Fast path: compare against interned names without allocating.
        struct Lookup(Option<u64>);
        impl Visit for Lookup {
            fn record_str(&mut self, field: &Field, value: &str) {
                if field.name() == "name" {
                    self.0 = HOSTS.with(|h| {
                        h.borrow()
                            .iter()
                            .position(|n| n == value)
                            .map(|i| i as u64 + 1)
                    });
                }
            }
            fn record_debug(&mut self, _: &Field, _: &dyn std::fmt::Debug) {}
        }
        let mut lookup = Lookup(None);
        attrs.record(&mut lookup);
        if let Some(id) = lookup.0 {
            return Id::from_u64(id);
        }
        let mut visitor = NameVisitor(None);
        attrs.record(&mut visitor);
        let name = visitor.0.unwrap_or_else(|| "?".to_string());
        let id = HOSTS.with(|h| {
            let mut hosts = h.borrow_mut();
            hosts.push(name);
            hosts.len() as u64
        });
        Id::from_u64(id)
    }

    fn record(&self, _: &Id, _: &Record<'_>) {}

    fn record_follows_from(&self, _: &Id, _: &Id) {}

    fn event(&self, event: &Event<'_>) {
        let meta = event.metadata();
        let mut visitor = FieldVisitor::default();
        event.record(&mut visitor);
        let host = CURRENT.with(|c| c.get());
        let source = if host == 0 {
            "harness".to_string()
        } else {
            HOSTS.with(|h| h.borrow()[host as usize - 1].clone())
        };
        let time_ns = turmoil::sim_elapsed()
            .map(|d| d.as_nanos() as u64)
            .unwrap_or_else(|| NOW_NS.with(|n| n.get()));
        with_log(|log| {
            log.push_trace(TraceEvent {
                time_ns,
                kind: TraceKind::Log,
                source,
                level: Some(meta.level().as_str().to_ascii_lowercase()),
                target: Some(meta.target().to_string()),
                message: visitor.message,
                fields: visitor.fields,
            })
        });
    }

    fn enter(&self, span: &Id) {
        CURRENT.with(|c| c.set(span.into_u64()));
    }

    fn exit(&self, _: &Id) {
        CURRENT.with(|c| c.set(0));
    }

    fn clone_span(&self, id: &Id) -> Id {
        id.clone()
    }

    fn try_close(&self, _: Id) -> bool {
        true
    }
}

#[derive(Default)]
struct FieldVisitor {
    message: String,
    fields: Vec<(String, String)>,
}

impl Visit for FieldVisitor {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.message = value.to_string();
        } else {
            self.fields
                .push((field.name().to_string(), value.to_string()));
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        let mut text = String::new();
        let _ = write!(text, "{value:?}");
        if field.name() == "message" {
            self.message = text;
        } else {
            self.fields.push((field.name().to_string(), text));
        }
    }
}

/// The one dispatcher all runs share; its state is per thread.
pub(super) fn dispatch() -> tracing::Dispatch {
    static DISPATCH: OnceLock<tracing::Dispatch> = OnceLock::new();
    DISPATCH
        .get_or_init(|| tracing::Dispatch::new(CaptureSubscriber))
        .clone()
}

thread_local! {
    static CAPTURING_PANICS: Cell<bool> = const { Cell::new(false) };
    static LAST_PANIC: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Installs (once) a panic hook that, on threads running a simulation,
/// records the panic message instead of printing it; elsewhere it defers to
/// the previous hook.
pub(super) fn install_panic_hook() {
    static INSTALLED: OnceLock<()> = OnceLock::new();
    INSTALLED.get_or_init(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if CAPTURING_PANICS.with(|c| c.get()) {
                let payload = info
                    .payload()
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| info.payload().downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "non-string panic payload".into());
                let location = info
                    .location()
                    .map(|l| format!(" at {}:{}", l.file(), l.line()))
                    .unwrap_or_default();
                let message = format!("{payload}{location}");
                LAST_PANIC.with(|p| {
                    // Keep the first panic: later ones (e.g. tokio shutting
                    // the runtime down because of it) are consequences.
                    let mut p = p.borrow_mut();
                    if p.is_none() {
                        *p = Some(message);
                    }
                });
            } else {
                previous(info);
            }
        }));
    });
}

pub(super) fn capture_panics(on: bool) {
    CAPTURING_PANICS.with(|c| c.set(on));
    if on {
        LAST_PANIC.with(|p| *p.borrow_mut() = None);
    }
}

pub(super) fn take_panic() -> Option<String> {
    LAST_PANIC.with(|p| p.borrow_mut().take())
}

//! Systems under test for the chaos harness.
//!
//! `primitives` is the [`chaos_primitives`] crate, re-exported: the
//! resilience building blocks (retry, circuit breaker, bulkhead, …), all on
//! `tokio::time` and seeded randomness so they behave identically under
//! simulation. A service of your own can depend on that crate alone.
//! `systems` holds small but real services built from them, each adapted
//! to the harness's target interface.

pub use chaos_primitives as primitives;
pub mod systems;

use harness::target::Registry;

/// Every target this crate provides, with the bundled scenario folder.
pub fn registry() -> Registry {
    Registry::new()
        .with_target(systems::register::RegisterTarget)
        .with_target(systems::chain::ChainTarget)
        .with_target(systems::kv::KvTarget)
        .with_target(systems::queue::QueueTarget)
        .with_target(systems::http_kv::HttpKvTarget)
        .with_target(systems::grpc_counter::GrpcCounterTarget)
        .with_bundled_scenarios(concat!(env!("CARGO_MANIFEST_DIR"), "/../scenarios"))
}

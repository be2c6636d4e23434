//! Systems under test, each adapted to the harness's target interface.

pub mod chain;
pub mod kv;
pub mod queue;
pub mod register;
pub mod wire;

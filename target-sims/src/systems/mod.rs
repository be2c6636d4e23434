//! Systems under test, each adapted to the harness's target interface.

pub mod chain;
pub mod grpc_counter;
pub mod http_kv;
pub mod kv;
pub mod queue;
pub mod register;
pub mod wire;

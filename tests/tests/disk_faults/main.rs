//! Disk and clock faults, each observed by a system under test: a small
//! durable log server defined here, which keeps every appended value as a
//! checksummed record in a file on its host's [`harness::disk::Disk`],
//! fsyncs before it acknowledges (unless told not to), checks the records
//! when it reads them and when it recovers after a restart, and logs its
//! host's wall clock.
//!
//! `durable_log.rs` is that server and its client; `helpers.rs` runs it
//! and picks the history and trace apart; each fault family has its file:
//! `disk_calls.rs` (disk-error, disk-full, disk-corrupt, disk-slow),
//! `crash.rs` (crash and bounce), `clock.rs` (clock-jump, clock-drift, and
//! random disk and clock faults), and `used_bytes.rs` checks the used-bytes
//! count a `disk-full` fault relies on, with a script of disk calls.

mod clock;
mod crash;
mod disk_calls;
mod durable_log;
mod helpers;
mod relative_paths;
mod used_bytes;

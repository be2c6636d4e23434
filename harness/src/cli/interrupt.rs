//! Ctrl-C during `chaos run`: the first SIGINT asks the sweep to stop
//! starting seeds, so the seeds already running finish and the suite files
//! are written for what ran (marked interrupted, never green, exit 130); a
//! second SIGINT ends the process at once, also with 130.
//!
//! The handler only touches an atomic counter, writes a fixed message with
//! `write(2)` and, on the second signal, calls `_exit(2)`: all three are
//! async-signal-safe, which a Rust `eprintln!` or an allocation is not.
//! Report files are written atomically (temporary file, then rename), so
//! an immediate exit leaves no half-written report behind.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// Exit code of a run stopped by SIGINT (128 + the signal's number, as
/// shells report it).
pub const EXIT_INTERRUPTED: u8 = 130;

/// Set by the first SIGINT; the sweep's workers check it before each job.
pub(super) static INTERRUPTED: AtomicBool = AtomicBool::new(false);

/// SIGINTs received since the handler was installed.
static RECEIVED: AtomicUsize = AtomicUsize::new(0);

const FIRST: &[u8] =
    b"\ninterrupted: no new seeds start; the running ones finish and the reports are written (Ctrl-C again to quit now)\n";
const SECOND: &[u8] = b"\ninterrupted again: exiting now\n";

#[cfg(unix)]
extern "C" fn on_sigint(_signal: libc::c_int) {
    let before = RECEIVED.fetch_add(1, Ordering::SeqCst);
    let message = if before == 0 {
        INTERRUPTED.store(true, Ordering::SeqCst);
        FIRST
    } else {
        SECOND
    };
    // SAFETY: write(2) and _exit(2) are async-signal-safe; the buffer is a
    // static byte string. A failed write is of no consequence here.
    unsafe {
        libc::write(libc::STDERR_FILENO, message.as_ptr().cast(), message.len());
        if before > 0 {
            libc::_exit(i32::from(EXIT_INTERRUPTED));
        }
    }
}

/// Installs the SIGINT handler (unix only; elsewhere Ctrl-C keeps its
/// default of ending the process).
pub(super) fn install() {
    #[cfg(unix)]
    // SAFETY: the handler is an `extern "C"` function that only uses
    // async-signal-safe operations (see the module docs); `sigaction` is
    // given a zeroed, then filled, struct as it expects.
    unsafe {
        let mut action: libc::sigaction = std::mem::zeroed();
        action.sa_sigaction = on_sigint as extern "C" fn(libc::c_int) as libc::sighandler_t;
        // Restart interrupted system calls, so a worker's file write is
        // not failed by the signal arriving.
        action.sa_flags = libc::SA_RESTART;
        libc::sigemptyset(&mut action.sa_mask);
        libc::sigaction(libc::SIGINT, &action, std::ptr::null_mut());
    }
}

/// Whether a SIGINT asked the run to stop.
pub(super) fn requested() -> bool {
    INTERRUPTED.load(Ordering::SeqCst)
}

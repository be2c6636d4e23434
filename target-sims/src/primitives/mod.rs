//! Resilience primitives on simulated time (issue 4).

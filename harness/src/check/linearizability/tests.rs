//! Tests of the checker's semantics.

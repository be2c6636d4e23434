//! Placeholder: linearizability checker (issue 3).

//! Placeholder: Jepsen log and EDN history formats (see issue 3).

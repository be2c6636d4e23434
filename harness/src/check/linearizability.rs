//! Placeholder until the linearizability checker lands (issue 3).

use super::Verdict;
use crate::history::History;
use crate::scenario::LinearizableSpec;

pub fn check_scenario(_history: &History, spec: &LinearizableSpec) -> Verdict {
    Verdict::unknown(
        "linearizable",
        format!("no linearizability checker for model {} yet", spec.model),
    )
}

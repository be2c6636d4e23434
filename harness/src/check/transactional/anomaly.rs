//! The anomalies the checker names, and the consistency models each one
//! rules out.
//!
//! The models form a lattice (a history that is strict serializable is
//! serializable, and so on):
//!
//! ```text
//! strict-serializable ─▶ serializable ─▶ repeatable-read ─▶ read-committed
//!          │                   │                                 ▲
//!          └──────────────────▶└──────▶ snapshot-isolation ──────┘
//! ```
//!
//! An anomaly rules out the weakest models that forbid it and, with them,
//! every stronger one. Which models forbid what follows Adya's definitions
//! as Elle applies them to item (not predicate) dependencies:
//! read committed forbids G0 and G1 (G1a, G1b, G1c, and future reads, a
//! one-transaction G1c); repeatable read
//! forbids G2-item too (every cycle with an anti-dependency, so also
//! G-single and G-nonadjacent) and lost updates; snapshot isolation forbids
//! G1, every cycle whose anti-dependency edges are never adjacent (G-single,
//! G-nonadjacent), lost updates and internal inconsistency, but allows
//! G2-item (write skew); serializable forbids all of these; strict
//! serializable also forbids cycles that need real-time order.

use super::Consistency;
use std::fmt;

/// An anomaly class. The order is the order of severity in reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AnomalyKind {
    /// A cycle of write-write dependencies.
    G0,
    /// A committed transaction read a value a failed transaction wrote.
    G1a,
    /// A committed transaction read a value its writer later overwrote
    /// within the same transaction.
    G1b,
    /// A cycle of write-write and write-read dependencies with at least
    /// one write-read: circular information flow.
    G1c,
    /// A cycle with exactly one anti-dependency (rw) edge: read skew.
    GSingle,
    /// A cycle with two or more rw edges, no two of them adjacent.
    GNonadjacent,
    /// A cycle with two or more rw edges, some adjacent: write skew.
    G2Item,
    /// Two committed transactions read the same version of a key and both
    /// wrote that key.
    LostUpdate,
    /// A transaction's read disagrees with its own earlier reads and writes.
    Internal,
    /// Two reads of a list-append key that no single order of appends
    /// explains (neither is a prefix of the other).
    IncompatibleOrder,
    /// A list-append read that shows the same element twice.
    DuplicateElements,
    /// A read saw a value that no transaction wrote.
    GarbageRead,
    /// A transaction read a value it wrote only later: a cycle of one
    /// transaction, T -wr-> T, which is why it counts as G1c does.
    FutureRead,
    G0Realtime,
    G1cRealtime,
    GSingleRealtime,
    GNonadjacentRealtime,
    G2ItemRealtime,
    /// A cycle this model forbids exists, but no example was found within
    /// the search budget.
    CycleExists(Consistency),
}

impl AnomalyKind {
    pub fn name(self) -> String {
        match self {
            AnomalyKind::CycleExists(level) => format!("{level}-cycle-exists"),
            other => other.static_name().to_string(),
        }
    }

    fn static_name(self) -> &'static str {
        match self {
            AnomalyKind::G0 => "G0",
            AnomalyKind::G1a => "G1a",
            AnomalyKind::G1b => "G1b",
            AnomalyKind::G1c => "G1c",
            AnomalyKind::GSingle => "G-single",
            AnomalyKind::GNonadjacent => "G-nonadjacent",
            AnomalyKind::G2Item => "G2-item",
            AnomalyKind::LostUpdate => "lost-update",
            AnomalyKind::Internal => "internal",
            AnomalyKind::IncompatibleOrder => "incompatible-order",
            AnomalyKind::DuplicateElements => "duplicate-elements",
            AnomalyKind::GarbageRead => "garbage-read",
            AnomalyKind::FutureRead => "future-read",
            AnomalyKind::G0Realtime => "G0-realtime",
            AnomalyKind::G1cRealtime => "G1c-realtime",
            AnomalyKind::GSingleRealtime => "G-single-realtime",
            AnomalyKind::GNonadjacentRealtime => "G-nonadjacent-realtime",
            AnomalyKind::G2ItemRealtime => "G2-item-realtime",
            AnomalyKind::CycleExists(_) => "cycle-exists",
        }
    }

    /// The weakest models this anomaly rules out (Elle's `:not`).
    pub fn weakest_ruled_out(self) -> &'static [Consistency] {
        use Consistency::*;
        match self {
            AnomalyKind::G0
            | AnomalyKind::G1a
            | AnomalyKind::G1b
            | AnomalyKind::G1c
            | AnomalyKind::IncompatibleOrder
            | AnomalyKind::DuplicateElements
            | AnomalyKind::GarbageRead
            | AnomalyKind::FutureRead => &[ReadCommitted],
            AnomalyKind::GSingle | AnomalyKind::GNonadjacent | AnomalyKind::LostUpdate => {
                &[RepeatableRead, SnapshotIsolation]
            }
            AnomalyKind::G2Item => &[RepeatableRead],
            AnomalyKind::Internal => &[SnapshotIsolation],
            AnomalyKind::G0Realtime
            | AnomalyKind::G1cRealtime
            | AnomalyKind::GSingleRealtime
            | AnomalyKind::GNonadjacentRealtime
            | AnomalyKind::G2ItemRealtime => &[StrictSerializable],
            AnomalyKind::CycleExists(level) => match level {
                StrictSerializable => &[StrictSerializable],
                Serializable => &[Serializable],
                SnapshotIsolation => &[SnapshotIsolation],
                RepeatableRead => &[RepeatableRead],
                ReadCommitted => &[ReadCommitted],
            },
        }
    }

    /// Every model this anomaly rules out, strongest first.
    pub fn ruled_out(self) -> Vec<Consistency> {
        let weakest = self.weakest_ruled_out();
        Consistency::ALL
            .into_iter()
            .filter(|&model| weakest.iter().any(|&w| implies(model, w)))
            .collect()
    }

    pub fn rules_out(self, model: Consistency) -> bool {
        self.weakest_ruled_out().iter().any(|&w| implies(model, w))
    }

    /// The cycle class with real-time edges, for a data-only class.
    pub fn realtime(self) -> AnomalyKind {
        match self {
            AnomalyKind::G0 => AnomalyKind::G0Realtime,
            AnomalyKind::G1c => AnomalyKind::G1cRealtime,
            AnomalyKind::GSingle => AnomalyKind::GSingleRealtime,
            AnomalyKind::GNonadjacent => AnomalyKind::GNonadjacentRealtime,
            AnomalyKind::G2Item => AnomalyKind::G2ItemRealtime,
            other => other,
        }
    }

    /// One sentence for reports.
    pub fn meaning(self) -> &'static str {
        match self {
            AnomalyKind::G0 => "a cycle of write-write dependencies (dirty write)",
            AnomalyKind::G1a => "a committed transaction read a value written by a failed one (aborted read)",
            AnomalyKind::G1b => "a committed transaction read a value its writer overwrote before committing (intermediate read)",
            AnomalyKind::G1c => "a cycle of write-write and write-read dependencies (circular information flow)",
            AnomalyKind::GSingle => "a dependency cycle with exactly one anti-dependency (read skew)",
            AnomalyKind::GNonadjacent => "a dependency cycle with several anti-dependencies, none adjacent",
            AnomalyKind::G2Item => "a dependency cycle with adjacent anti-dependencies (write skew)",
            AnomalyKind::LostUpdate => "two committed transactions read the same version of a key and both wrote it",
            AnomalyKind::Internal => "a transaction's read disagrees with its own earlier reads and writes",
            AnomalyKind::IncompatibleOrder => "two reads of a list that no single order of appends explains",
            AnomalyKind::DuplicateElements => "a read shows an appended element more than once",
            AnomalyKind::GarbageRead => "a read saw a value no transaction wrote",
            AnomalyKind::FutureRead => "a transaction read a value it wrote only later",
            AnomalyKind::G0Realtime
            | AnomalyKind::G1cRealtime
            | AnomalyKind::GSingleRealtime
            | AnomalyKind::GNonadjacentRealtime
            | AnomalyKind::G2ItemRealtime => "a dependency cycle that needs real-time order: a transaction did not see one that completed before it began",
            AnomalyKind::CycleExists(_) => "a dependency cycle this model forbids exists among these transactions",
        }
    }
}

impl fmt::Display for AnomalyKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name())
    }
}

/// Whether every history that satisfies `stronger` satisfies `weaker`.
pub fn implies(stronger: Consistency, weaker: Consistency) -> bool {
    use Consistency::*;
    let directly_implied: &[Consistency] = match stronger {
        StrictSerializable => &[Serializable, SnapshotIsolation],
        Serializable => &[RepeatableRead, SnapshotIsolation],
        RepeatableRead | SnapshotIsolation => &[ReadCommitted],
        ReadCommitted => &[],
    };
    stronger == weaker || directly_implied.iter().any(|&m| implies(m, weaker))
}

/// What a model allows, for a failed verdict's "expected".
pub fn forbidden_by(model: Consistency) -> Vec<AnomalyKind> {
    use AnomalyKind::*;
    [
        G0,
        G1a,
        G1b,
        G1c,
        GSingle,
        GNonadjacent,
        G2Item,
        LostUpdate,
        Internal,
        IncompatibleOrder,
        DuplicateElements,
        GarbageRead,
        FutureRead,
        G0Realtime,
        G1cRealtime,
        GSingleRealtime,
        GNonadjacentRealtime,
        G2ItemRealtime,
    ]
    .into_iter()
    .filter(|kind| kind.rules_out(model))
    .collect()
}

/// One instance of an anomaly: the transactions involved (in cycle order
/// for cycles) and what each step or the whole shows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Example {
    /// Transaction ids (see `prepare::Prepared::txns`).
    pub txns: Vec<u32>,
    /// The transactions form a cycle, in this order.
    pub cycle: bool,
    /// For cycles, one line per edge (the first few); otherwise one line.
    pub explanation: Vec<String>,
}

/// An anomaly class found in a history.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Found {
    pub kind: AnomalyKind,
    /// How many instances were seen (direct anomalies); `None` for cycles,
    /// of which one example per class is searched.
    pub count: Option<u64>,
    pub examples: Vec<Example>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use Consistency::*;

    #[test]
    fn the_lattice_orders_the_models() {
        assert!(implies(StrictSerializable, ReadCommitted));
        assert!(implies(Serializable, SnapshotIsolation));
        assert!(!implies(SnapshotIsolation, RepeatableRead));
        assert!(!implies(RepeatableRead, SnapshotIsolation));
        assert!(!implies(ReadCommitted, Serializable));
    }

    #[test]
    fn anomalies_rule_out_what_elle_says() {
        assert_eq!(
            AnomalyKind::G2Item.ruled_out(),
            vec![StrictSerializable, Serializable, RepeatableRead]
        );
        assert_eq!(
            AnomalyKind::GSingle.ruled_out(),
            vec![
                StrictSerializable,
                Serializable,
                SnapshotIsolation,
                RepeatableRead
            ]
        );
        assert_eq!(AnomalyKind::G1a.ruled_out(), Consistency::ALL.to_vec());
        assert_eq!(
            AnomalyKind::Internal.ruled_out(),
            vec![StrictSerializable, Serializable, SnapshotIsolation]
        );
        assert_eq!(
            AnomalyKind::GSingleRealtime.ruled_out(),
            vec![StrictSerializable]
        );
        assert!(!forbidden_by(SnapshotIsolation).contains(&AnomalyKind::G2Item));
        assert!(forbidden_by(RepeatableRead).contains(&AnomalyKind::LostUpdate));
    }
}

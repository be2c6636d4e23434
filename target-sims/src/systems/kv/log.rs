//! The in-memory log of one replica: the entries after its checkpoint,
//! each with the WAL offset of its record (so a conflicting suffix can be
//! cut from the file too).

use super::protocol::Entry;

#[derive(Debug, Default)]
pub struct Log {
    /// The index and term of the last entry the checkpoint covers.
    base_index: u64,
    base_term: u64,
    entries: Vec<Entry>,
    offsets: Vec<u64>,
}

impl Log {
    pub fn new(base_index: u64, base_term: u64) -> Log {
        Log {
            base_index,
            base_term,
            entries: Vec::new(),
            offsets: Vec::new(),
        }
    }

    pub fn base_index(&self) -> u64 {
        self.base_index
    }

    pub fn base_term(&self) -> u64 {
        self.base_term
    }

    pub fn last_index(&self) -> u64 {
        self.base_index + self.entries.len() as u64
    }

    pub fn last_term(&self) -> u64 {
        self.entries.last().map_or(self.base_term, |e| e.term)
    }

    /// The term of entry `index`, if this log knows it (the base included).
    pub fn term_at(&self, index: u64) -> Option<u64> {
        if index == self.base_index {
            return Some(self.base_term);
        }
        self.get(index).map(|e| e.term)
    }

    pub fn get(&self, index: u64) -> Option<&Entry> {
        if index <= self.base_index {
            return None;
        }
        self.entries.get((index - self.base_index - 1) as usize)
    }

    /// The WAL offset of entry `index`'s record.
    pub fn offset(&self, index: u64) -> Option<u64> {
        if index <= self.base_index {
            return None;
        }
        self.offsets
            .get((index - self.base_index - 1) as usize)
            .copied()
    }

    pub fn push(&mut self, entry: Entry, offset: u64) {
        self.entries.push(entry);
        self.offsets.push(offset);
    }

    /// Drops entries from `index` on.
    pub fn truncate_from(&mut self, index: u64) {
        assert!(index > self.base_index, "cannot cut into the checkpoint");
        let keep = (index - self.base_index - 1) as usize;
        self.entries.truncate(keep);
        self.offsets.truncate(keep);
    }

    /// Up to `max` entries from `from` on.
    pub fn slice(&self, from: u64, max: usize) -> Vec<Entry> {
        assert!(
            from > self.base_index,
            "entries below the base are compacted"
        );
        let start = (from - self.base_index - 1) as usize;
        self.entries.iter().skip(start).take(max).cloned().collect()
    }

    /// The entries after `index` (for rewriting the WAL), with their indexes.
    pub fn after(&self, index: u64) -> impl Iterator<Item = (u64, &Entry)> {
        let base = self.base_index;
        self.entries
            .iter()
            .enumerate()
            .map(move |(i, e)| (base + 1 + i as u64, e))
            .filter(move |(i, _)| *i > index)
    }

    /// Makes `index` (with `term`) the new base, keeping later entries at
    /// the given new offsets.
    pub fn rebase(&mut self, index: u64, term: u64, offsets: Vec<u64>) {
        let keep: Vec<Entry> = self.after(index).map(|(_, e)| e.clone()).collect();
        assert_eq!(keep.len(), offsets.len(), "one offset per kept entry");
        self.base_index = index;
        self.base_term = term;
        self.entries = keep;
        self.offsets = offsets;
    }

    /// Replaces everything with an empty log based at `index`.
    pub fn reset(&mut self, index: u64, term: u64) {
        *self = Log::new(index, term);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::systems::kv::protocol::Command;

    fn e(term: u64) -> Entry {
        Entry {
            term,
            command: Command::Noop,
        }
    }

    #[test]
    fn indexes_terms_and_rebasing() {
        let mut log = Log::new(10, 2);
        assert_eq!((log.last_index(), log.last_term()), (10, 2));
        log.push(e(2), 0);
        log.push(e(3), 30);
        log.push(e(3), 60);
        assert_eq!(log.term_at(10), Some(2));
        assert_eq!(log.term_at(12), Some(3));
        assert_eq!(log.term_at(9), None);
        assert_eq!(log.term_at(14), None);
        assert_eq!(log.offset(13), Some(60));
        assert_eq!(log.slice(12, 5).len(), 2);
        log.rebase(11, 2, vec![0, 30]);
        assert_eq!((log.base_index(), log.last_index()), (11, 13));
        assert_eq!(log.offset(12), Some(0));
        log.truncate_from(13);
        assert_eq!(log.last_index(), 12);
    }
}

//! A worker's share of one level: each state's record (its encoding and, under symmetry, its
//! representative's segment hashes) end to end in one buffer, and an entry per state.

/// A state of a level, as its owner holds it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Entry {
    pub fp: u64,
    /// While the level is being received: the parent's rank << 16 | the action's number among
    /// the parent's enabled ones. Ordered like the states' least paths (shortest, then least
    /// action numbers), because the parents' ranks are. Once the level is ranked: the state's
    /// rank, its place in that order among every worker's states of the level.
    pub key: u64,
    /// Where the parent is ([`link`]).
    pub link: u64,
    /// The properties this state decides (bit per property).
    pub hits: u64,
    /// Where its record starts in the level's buffer, and its length.
    pub at: usize,
    pub len: u32,
    /// The kind of the action that reached it (`ActionKind::index`).
    pub kind: u8,
}

/// A parent link: the worker that owns the parent, the parent's position in that worker's
/// share of its level (in rank order), and the action's number among the parent's enabled
/// ones.
pub fn link(worker: usize, position: u32, action: u16) -> u64 {
    ((worker as u64) << 48) | (u64::from(position) << 16) | u64::from(action)
}

/// [`link`]'s parts.
pub fn unlink(l: u64) -> (usize, u32, u16) {
    ((l >> 48) as usize, (l >> 16) as u32, l as u16)
}

#[derive(Default)]
pub struct Level {
    pub bytes: Vec<u8>,
    pub entries: Vec<Entry>,
}

impl Level {
    /// Appends a state whose record is `n` bytes long, which `write` appends.
    #[inline]
    pub fn push(&mut self, mut e: Entry, n: usize, write: impl FnOnce(&mut Vec<u8>)) {
        e.at = self.bytes.len();
        e.len = n as u32;
        write(&mut self.bytes);
        debug_assert_eq!(self.bytes.len() - e.at, n, "the record's announced length");
        self.entries.push(e);
    }

    /// Gives entry `i` a smaller key: the state reached by it (under symmetry maybe another
    /// member of the orbit) and its record replace the ones held.
    pub fn replace(&mut self, i: usize, e: Entry, record: &[u8]) {
        let at = if record == self.record(&self.entries[i]) {
            self.entries[i].at
        } else {
            let at = self.bytes.len();
            self.bytes.extend_from_slice(record);
            at
        };
        self.entries[i] = Entry {
            at,
            len: record.len() as u32,
            ..e
        };
    }

    #[inline]
    pub fn record(&self, e: &Entry) -> &[u8] {
        &self.bytes[e.at..e.at + e.len as usize]
    }

    /// Empties the level, keeping its buffers (their pages are mapped already).
    pub fn clear(&mut self) {
        self.bytes.clear();
        self.entries.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_keep_their_parts() {
        assert_eq!(unlink(link(3, 70_000, 9)), (3, 70_000, 9));
        assert_eq!(
            unlink(link(65_535, u32::MAX, u16::MAX)),
            (65_535, u32::MAX, u16::MAX)
        );
    }

    #[test]
    fn a_replaced_entry_holds_the_new_record() {
        let mut l = Level::default();
        l.push(Entry::default(), 3, |b| b.extend_from_slice(b"abc"));
        l.push(Entry::default(), 2, |b| b.extend_from_slice(b"de"));
        let e = Entry {
            key: 1,
            ..Entry::default()
        };
        l.replace(0, e, b"xyzw");
        assert_eq!(l.record(&l.entries[0]), b"xyzw");
        assert_eq!(l.entries[0].key, 1);
        assert_eq!(l.record(&l.entries[1]), b"de");
    }
}

//! A worker's share of one level: each state's record (its encoding and, under symmetry, its
//! representative's segment hashes) end to end in one buffer, and an entry per state.

use std::fs::File;
use std::io::{BufWriter, Seek, SeekFrom, Write};
use std::path::Path;

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

/// Bytes of an entry in a level's entries file (`--disk`).
const ENTRY_BYTES: usize = 45;

impl Entry {
    fn put(&self, out: &mut impl Write) -> std::io::Result<()> {
        let mut b = [0u8; ENTRY_BYTES];
        b[0..8].copy_from_slice(&self.fp.to_le_bytes());
        b[8..16].copy_from_slice(&self.key.to_le_bytes());
        b[16..24].copy_from_slice(&self.link.to_le_bytes());
        b[24..32].copy_from_slice(&self.hits.to_le_bytes());
        b[32..40].copy_from_slice(&(self.at as u64).to_le_bytes());
        b[40..44].copy_from_slice(&self.len.to_le_bytes());
        b[44] = self.kind;
        out.write_all(&b)
    }

    fn get(b: &[u8]) -> Entry {
        let u64_at = |i: usize| u64::from_le_bytes(b[i..i + 8].try_into().unwrap_or_default());
        Entry {
            fp: u64_at(0),
            key: u64_at(8),
            link: u64_at(16),
            hits: u64_at(24),
            at: u64_at(32) as usize,
            len: u32::from_le_bytes(b[40..44].try_into().unwrap_or_default()),
            kind: b[44],
        }
    }
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

/// A level's records: on the heap, or appended to an unnamed file under `--disk DIR` and
/// memory-mapped once the level is complete (a level is written while it is received, and
/// read only while it is expanded).
enum Records {
    Memory(Vec<u8>),
    File {
        out: BufWriter<File>,
        len: usize,
        map: Option<memmap2::Mmap>,
        /// A record being assembled before it is written.
        scratch: Vec<u8>,
    },
}

pub struct Level {
    records: Records,
    /// The entries of a level being received (and of any level on the heap).
    pub entries: Vec<Entry>,
    /// `--disk`: the entries of a ranked level, written to a file and memory-mapped while it
    /// is expanded (read once, in order), so the heap holds one level's entries, not two.
    spilled: Option<Spilled>,
}

struct Spilled {
    file: File,
    map: Option<memmap2::Mmap>,
}

impl Default for Level {
    fn default() -> Self {
        Level {
            records: Records::Memory(Vec::new()),
            entries: Vec::new(),
            spilled: None,
        }
    }
}

impl Level {
    /// An empty level whose records go to an unnamed file in `dir`.
    pub fn on_disk(dir: &Path) -> std::io::Result<Level> {
        Ok(Level {
            records: Records::File {
                out: BufWriter::with_capacity(1 << 20, tempfile::tempfile_in(dir)?),
                len: 0,
                map: None,
                scratch: Vec::new(),
            },
            entries: Vec::new(),
            spilled: Some(Spilled {
                file: tempfile::tempfile_in(dir)?,
                map: None,
            }),
        })
    }

    /// The level's states: on the heap, or spilled to its file ([`Level::finish`]).
    pub fn len(&self) -> usize {
        self.entries.len() + self.spilled_bytes().len() / ENTRY_BYTES
    }

    /// The level's entries in order, wherever they are.
    pub fn each(&self) -> impl Iterator<Item = Entry> + '_ {
        (self.entries.iter().copied()).chain(
            self.spilled_bytes()
                .chunks_exact(ENTRY_BYTES)
                .map(Entry::get),
        )
    }

    fn spilled_bytes(&self) -> &[u8] {
        match &self.spilled {
            Some(Spilled { map: Some(m), .. }) => m,
            _ => &[],
        }
    }

    pub fn is_on_disk(&self) -> bool {
        matches!(self.records, Records::File { .. })
    }

    /// Appends a state whose record is `n` bytes long, which `write` appends.
    #[inline]
    pub fn push(&mut self, mut e: Entry, n: usize, write: impl FnOnce(&mut Vec<u8>)) {
        e.len = n as u32;
        match &mut self.records {
            Records::Memory(bytes) => {
                e.at = bytes.len();
                write(bytes);
                debug_assert_eq!(bytes.len() - e.at, n, "the record's announced length");
            }
            Records::File {
                out, len, scratch, ..
            } => {
                scratch.clear();
                write(scratch);
                e.at = *len;
                append(out, len, scratch);
            }
        }
        self.entries.push(e);
    }

    /// Gives entry `i` a smaller key: the state reached by it (under symmetry maybe another
    /// member of the orbit) and its record replace the ones held.
    pub fn replace(&mut self, i: usize, e: Entry, record: &[u8]) {
        let at = match &mut self.records {
            Records::Memory(bytes) => {
                let old = &self.entries[i];
                if record == &bytes[old.at..old.at + old.len as usize] {
                    old.at
                } else {
                    let at = bytes.len();
                    bytes.extend_from_slice(record);
                    at
                }
            }
            // The file is not read back before the level is complete.
            Records::File { out, len, .. } => {
                let at = *len;
                append(out, len, record);
                at
            }
        };
        self.entries[i] = Entry {
            at,
            len: record.len() as u32,
            ..e
        };
    }

    /// The level is complete and ranked: its records become readable ([`Level::record`]),
    /// and on disk its entries move to their file ([`Level::each`]).
    pub fn finish(&mut self) -> std::io::Result<()> {
        if let Records::File { out, len, map, .. } = &mut self.records {
            out.flush()?;
            if *len > 0 {
                // SAFETY: the file is an unnamed temporary file of this worker, not written
                // again before the mapping is dropped (`clear`).
                *map = Some(unsafe { memmap2::Mmap::map(out.get_ref())? });
            }
        }
        if let Some(spilled) = self.spilled.as_mut().filter(|_| !self.entries.is_empty()) {
            let mut w = BufWriter::with_capacity(1 << 20, &spilled.file);
            for e in &self.entries {
                e.put(&mut w)?;
            }
            w.flush()?;
            drop(w);
            // SAFETY: as the records' file.
            spilled.map = Some(unsafe { memmap2::Mmap::map(&spilled.file)? });
            self.entries = Vec::new();
        }
        Ok(())
    }

    #[inline]
    pub fn record(&self, e: &Entry) -> &[u8] {
        let bytes: &[u8] = match &self.records {
            Records::Memory(bytes) => bytes,
            Records::File { map, .. } => map.as_deref().unwrap_or_default(),
        };
        &bytes[e.at..e.at + e.len as usize]
    }

    /// Empties the level, keeping its buffers (their pages are mapped already) or its files.
    pub fn clear(&mut self) {
        self.entries.clear();
        if let Some(spilled) = self.spilled.as_mut() {
            spilled.map = None;
            let emptied = spilled
                .file
                .set_len(0)
                .and_then(|()| spilled.file.seek(SeekFrom::Start(0)).map(|_| ()));
            if let Err(e) = emptied {
                panic!("cannot empty a level file: {e}");
            }
        }
        match &mut self.records {
            Records::Memory(bytes) => bytes.clear(),
            Records::File { out, len, map, .. } => {
                *map = None;
                *len = 0;
                let emptied = out.flush().and_then(|()| {
                    let f = out.get_mut();
                    f.set_len(0)?;
                    f.seek(SeekFrom::Start(0)).map(|_| ())
                });
                if let Err(e) = emptied {
                    panic!("cannot empty a level file: {e}");
                }
            }
        }
    }
}

/// Appends `bytes` to a level file; a worker that cannot write its level cannot go on.
fn append(out: &mut BufWriter<File>, len: &mut usize, bytes: &[u8]) {
    if let Err(e) = out.write_all(bytes) {
        panic!("cannot write a level file (--disk): {e}");
    }
    *len += bytes.len();
}

/// Every level's parent links of the states a worker owns, in rank order: on the heap, or
/// appended to an unnamed file under `--disk DIR` (8 bytes a state; a counterexample's walk
/// reads one link a step).
pub enum Links {
    Memory(Vec<Vec<u64>>),
    File {
        file: File,
        /// Where each level's links start (in links), and the end.
        starts: Vec<u64>,
    },
}

impl Links {
    pub fn on_disk(dir: &Path) -> std::io::Result<Links> {
        Ok(Links::File {
            file: tempfile::tempfile_in(dir)?,
            starts: vec![0],
        })
    }

    /// Adds the next level's links.
    pub fn push(&mut self, links: impl Iterator<Item = u64>) {
        match self {
            Links::Memory(levels) => levels.push(links.collect()),
            Links::File { file, starts } => {
                let bytes: Vec<u8> = links.flat_map(u64::to_le_bytes).collect();
                if let Err(e) = file.write_all(&bytes) {
                    panic!("cannot write the parent links (--disk): {e}");
                }
                let end = starts.last().copied().unwrap_or(0) + bytes.len() as u64 / 8;
                starts.push(end);
            }
        }
    }

    /// The link of the state at `position` of `level`.
    pub fn get(&self, level: usize, position: usize) -> u64 {
        match self {
            Links::Memory(levels) => levels[level][position],
            Links::File { file, starts } => {
                use std::os::unix::fs::FileExt;
                let mut b = [0u8; 8];
                let at = (starts[level] + position as u64) * 8;
                if let Err(e) = file.read_exact_at(&mut b, at) {
                    panic!("cannot read the parent links (--disk): {e}");
                }
                u64::from_le_bytes(b)
            }
        }
    }
}

impl Default for Links {
    fn default() -> Self {
        Links::Memory(Vec::new())
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
        let dir = std::env::temp_dir();
        for mut l in [
            Level::default(),
            Level::on_disk(&dir).unwrap_or_else(|e| panic!("{e}")),
        ] {
            replaced(&mut l);
            l.clear();
            replaced(&mut l);
        }
    }

    #[test]
    fn links_read_back_by_level_and_position() {
        let dir = std::env::temp_dir();
        for mut links in [
            Links::default(),
            Links::on_disk(&dir).unwrap_or_else(|e| panic!("{e}")),
        ] {
            links.push([7].into_iter());
            links.push([].into_iter());
            links.push([1, 2, 3].into_iter());
            assert_eq!(links.get(0, 0), 7);
            assert_eq!(links.get(2, 0), 1);
            assert_eq!(links.get(2, 2), 3);
        }
    }

    #[test]
    fn a_finished_level_on_disk_gives_back_its_entries() {
        let dir = std::env::temp_dir();
        let mut l = Level::on_disk(&dir).unwrap_or_else(|e| panic!("{e}"));
        for round in 0..2u64 {
            let entries: Vec<Entry> = (0..1000u64)
                .map(|i| Entry {
                    fp: i * 7 + round,
                    key: i,
                    link: link(1, i as u32, 3),
                    hits: i % 3,
                    kind: (i % 5) as u8,
                    ..Entry::default()
                })
                .collect();
            for e in &entries {
                l.push(*e, 2, |b| b.extend_from_slice(b"ab"));
            }
            let pushed = l.entries.clone();
            l.finish().unwrap_or_else(|e| panic!("{e}"));
            assert!(l.entries.is_empty(), "the heap lets go of the entries");
            assert_eq!(l.len(), 1000);
            assert_eq!(l.each().collect::<Vec<_>>(), pushed);
            assert!(l.each().all(|e| l.record(&e) == b"ab"));
            l.clear();
            assert_eq!(l.len(), 0);
        }
    }

    fn replaced(l: &mut Level) {
        l.push(Entry::default(), 3, |b| b.extend_from_slice(b"abc"));
        l.push(Entry::default(), 2, |b| b.extend_from_slice(b"de"));
        let e = Entry {
            key: 1,
            ..Entry::default()
        };
        l.replace(0, e, b"xyzw");
        l.finish().unwrap_or_else(|e| panic!("{e}"));
        let entries: Vec<Entry> = l.each().collect();
        assert_eq!(l.record(&entries[0]), b"xyzw");
        assert_eq!(entries[0].key, 1);
        assert_eq!(l.record(&entries[1]), b"de");
    }
}

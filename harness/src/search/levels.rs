//! The native BFS's levels: each thread writes its part of the next level sequentially (states
//! as length-prefixed encodings, `CHUNK` to an LZ4-compressed block, and a 6-byte parent link
//! per state), to memory or to an unnamed file (`--disk`), and the level is then read chunk by
//! chunk (a file memory-mapped). A record is what the search puts there: under symmetry, a
//! state's encoding and its representative's segment hashes.

use std::io::{Read, Write};

/// States a thread takes from a level at a time, and states to a compressed block.
pub const CHUNK: usize = 512;

/// Bytes a level part is written to: memory, or a file under the run's spill folder.
pub enum Sink {
    Memory(Vec<u8>),
    File(std::io::BufWriter<std::fs::File>),
}

impl Sink {
    fn new(dir: Option<&std::path::Path>) -> std::io::Result<Sink> {
        Ok(match dir {
            None => Sink::Memory(Vec::new()),
            Some(d) => Sink::File(std::io::BufWriter::with_capacity(
                1 << 20,
                tempfile::tempfile_in(d)?,
            )),
        })
    }

    fn write(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        match self {
            Sink::Memory(v) => {
                v.extend_from_slice(bytes);
                Ok(())
            }
            Sink::File(f) => f.write_all(bytes),
        }
    }

    /// What was written, readable as one slice (a file is memory-mapped).
    fn finish(self) -> std::io::Result<Stored> {
        Ok(match self {
            Sink::Memory(mut v) => {
                v.shrink_to_fit();
                Stored::Memory(v)
            }
            Sink::File(f) => {
                let file = f.into_inner().map_err(|e| e.into_error())?;
                if file.metadata()?.len() == 0 {
                    return Ok(Stored::Memory(Vec::new()));
                }
                // SAFETY: the file is an unnamed temporary file of this process, never written
                // again, so the mapping cannot change under the slices taken from it.
                Stored::Mapped(unsafe { memmap2::Mmap::map(&file)? })
            }
        })
    }
}

pub enum Stored {
    Memory(Vec<u8>),
    Mapped(memmap2::Mmap),
}

impl std::ops::Deref for Stored {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            Stored::Memory(v) => v,
            Stored::Mapped(m) => m,
        }
    }
}

/// Bytes of a parent link: the parent's index (u32) and the action's number (u16).
const LINK: usize = 6;

/// A thread's part of the next level, being written: each state as its encoding's length (one
/// byte below 128, else two) and the encoding, `CHUNK` states to a block, and each state's
/// parent link. A level written to a file (`--disk`, the runs of a billion states) compresses
/// its blocks with LZ4 (states of one chunk share most of their bytes: a block takes a
/// fraction of its raw size); a level in memory keeps them raw, because compressing costs a
/// large share of the search's instructions.
pub struct PartWriter {
    states: Sink,
    compress: bool,
    links: Sink,
    len: usize,
    written: u64,
    /// Compressed: the chunk being filled. Raw: the whole part, written in place (each chunk
    /// after its 8-byte header, filled in when the chunk is done), with no second copy.
    block: Vec<u8>,
    /// Raw: where the bytes of the chunk being filled start in `block`.
    start: usize,
    /// Where each chunk's block starts.
    marks: Vec<u64>,
}

impl PartWriter {
    pub fn new(dir: Option<&std::path::Path>) -> std::io::Result<PartWriter> {
        Self::reusing(dir, Vec::new())
    }

    /// A writer whose part in memory goes into `buffer` (emptied first), a buffer of a level
    /// the search is done with ([`Level::into_links`]): its pages are mapped already, where a
    /// new buffer's would each cost a page fault on first touch.
    pub fn reusing(
        dir: Option<&std::path::Path>,
        mut buffer: Vec<u8>,
    ) -> std::io::Result<PartWriter> {
        buffer.clear();
        Ok(PartWriter {
            states: Sink::new(dir)?,
            compress: dir.is_some(),
            links: Sink::new(dir)?,
            len: 0,
            written: 0,
            block: if dir.is_some() { Vec::new() } else { buffer },
            start: 0,
            marks: Vec::new(),
        })
    }

    pub fn push(&mut self, bytes: &[u8], link: (u32, u16)) -> std::io::Result<()> {
        self.push_with(bytes.len(), link, |block| block.extend_from_slice(bytes))
    }

    /// Appends a state whose encoding is `n` bytes long, which `write` appends to the buffer
    /// it is given (an encoding assembled from pieces goes straight into the level).
    #[inline]
    pub fn push_with(
        &mut self,
        n: usize,
        (parent, action): (u32, u16),
        write: impl FnOnce(&mut Vec<u8>),
    ) -> std::io::Result<()> {
        if !self.compress && self.len % CHUNK == 0 {
            self.marks.push(self.block.len() as u64);
            self.block.extend_from_slice(&[0; 8]);
            self.start = self.block.len();
        }
        if n < 0x80 {
            self.block.push(n as u8);
        } else {
            self.block
                .extend_from_slice(&[0x80 | (n >> 8) as u8, n as u8]);
        }
        let before = self.block.len();
        write(&mut self.block);
        debug_assert_eq!(
            self.block.len() - before,
            n,
            "the encoding's announced length"
        );
        let mut link = [0; LINK];
        link[..4].copy_from_slice(&parent.to_le_bytes());
        link[4..].copy_from_slice(&action.to_le_bytes());
        self.links.write(&link)?;
        self.len += 1;
        if self.len % CHUNK == 0 {
            self.flush()?;
        }
        Ok(())
    }

    /// Ends the chunk being filled: its block is its raw size, its packed size (0 for a raw
    /// block: LZ4 never packs a block into nothing), then its bytes.
    fn flush(&mut self) -> std::io::Result<()> {
        if !self.compress {
            if self.len > 0 {
                let size = (self.block.len() - self.start) as u32;
                self.block[self.start - 8..self.start - 4].copy_from_slice(&size.to_le_bytes());
            }
            return Ok(());
        }
        if self.block.is_empty() {
            return Ok(());
        }
        self.marks.push(self.written);
        self.states
            .write(&(self.block.len() as u32).to_le_bytes())?;
        let packed = lz4_flex::compress(&self.block);
        self.states.write(&(packed.len() as u32).to_le_bytes())?;
        self.states.write(&packed)?;
        self.written += 8 + packed.len() as u64;
        self.block.clear();
        Ok(())
    }

    pub fn finish(mut self) -> std::io::Result<Part> {
        self.flush()?;
        let states = if self.compress {
            self.states.finish()?
        } else {
            // Not shrunk: the buffer is reused for a later level, and its capacity beyond the
            // part was never touched (not resident) or is already mapped.
            Stored::Memory(self.block)
        };
        Ok(Part {
            states,
            links: self.links.finish()?,
            len: self.len,
            marks: self.marks,
        })
    }
}

/// A thread's part of a level, written.
pub struct Part {
    states: Stored,
    links: Stored,
    len: usize,
    marks: Vec<u64>,
}

/// `CHUNK` states of a level (fewer at the end of a part), read one after the other.
#[derive(Clone, Copy)]
pub struct Chunk {
    part: usize,
    /// Where the chunk's first state starts in the part's bytes.
    at: usize,
    /// The level index of its first state, and how many it holds.
    first: usize,
    len: usize,
}

/// One level: the threads' parts, in thread order; state `i` of the level is state
/// `i - starts[p]` of part `p`.
#[derive(Default)]
pub struct Level {
    parts: Vec<Part>,
    starts: Vec<usize>,
    chunks: Vec<Chunk>,
    len: usize,
}

impl Level {
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Chunk `c` of the level, if there is one.
    pub fn chunk(&self, c: usize) -> Option<Chunk> {
        self.chunks.get(c).copied()
    }

    pub fn add(&mut self, part: Part) {
        let p = self.parts.len();
        for (j, &at) in part.marks.iter().enumerate() {
            self.chunks.push(Chunk {
                part: p,
                at: at as usize,
                first: self.len + j * CHUNK,
                len: (part.len - j * CHUNK).min(CHUNK),
            });
        }
        self.starts.push(self.len);
        self.len += part.len;
        self.parts.push(part);
    }

    /// The states of a chunk, with their level indices; `buf` holds a compressed chunk
    /// unpacked (a raw one is read where it is).
    pub fn states<'b>(
        &'b self,
        c: Chunk,
        buf: &'b mut Vec<u8>,
    ) -> impl Iterator<Item = (usize, &'b [u8])> + use<'b> {
        let stored = &self.parts[c.part].states[c.at..];
        let size =
            |k: usize| u32::from_le_bytes([stored[k], stored[k + 1], stored[k + 2], stored[k + 3]]);
        let (n, packed) = (size(0) as usize, size(4) as usize);
        let bytes: &'b [u8] = if packed == 0 {
            &stored[8..8 + n]
        } else {
            buf.resize(n, 0);
            if lz4_flex::decompress_into(&stored[8..8 + packed], buf).ok() != Some(n) {
                unreachable!("a level holds only whole blocks");
            }
            buf
        };
        let mut at = 0;
        (c.first..c.first + c.len).map(move |i| {
            let (n, skip) = match bytes[at] {
                b if b < 0x80 => (usize::from(b), 1),
                b => ((usize::from(b & 0x7f) << 8) | usize::from(bytes[at + 1]), 2),
            };
            let state = &bytes[at + skip..at + skip + n];
            at += skip + n;
            (i, state)
        })
    }

    /// Calls `f` with every state of the level and its index, every length checked against
    /// the bytes: a level read from a file is walked here before [`Level::states`], which
    /// trusts what the search wrote, sees it. The error says where the bytes disagree.
    pub fn check_states(
        &self,
        mut f: impl FnMut(usize, &[u8]) -> Result<(), String>,
    ) -> Result<(), String> {
        let mut buf = Vec::new();
        for c in &self.chunks {
            let bad = |what: &str| format!("the chunk of state {}: {what}", c.first);
            let stored = self
                .parts
                .get(c.part)
                .and_then(|p| p.states.get(c.at..))
                .ok_or_else(|| bad("starts beyond its part"))?;
            let size = |k: usize| {
                stored
                    .get(k..k + 4)
                    .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize)
                    .ok_or_else(|| bad("cut short"))
            };
            let (n, packed) = (size(0)?, size(4)?);
            let bytes: &[u8] = if packed == 0 {
                stored.get(8..8 + n).ok_or_else(|| bad("cut short"))?
            } else {
                let block = stored.get(8..8 + packed).ok_or_else(|| bad("cut short"))?;
                if n > CHUNK * (2 + 0x7fff) {
                    return Err(bad("too large"));
                }
                buf.resize(n, 0);
                if lz4_flex::decompress_into(block, &mut buf).ok() != Some(n) {
                    return Err(bad("not a compressed block"));
                }
                &buf
            };
            let mut at = 0;
            for i in c.first..c.first + c.len {
                let (n, skip) = match *bytes.get(at).ok_or_else(|| bad("cut short"))? {
                    b if b < 0x80 => (usize::from(b), 1),
                    b => {
                        let low = *bytes.get(at + 1).ok_or_else(|| bad("cut short"))?;
                        ((usize::from(b & 0x7f) << 8) | usize::from(low), 2)
                    }
                };
                let state = bytes
                    .get(at + skip..at + skip + n)
                    .ok_or_else(|| bad("cut short"))?;
                f(i, state)?;
                at += skip + n;
            }
        }
        Ok(())
    }

    /// State `i`'s parent link.
    pub fn link(&self, i: usize) -> (u32, u16) {
        let p = self.starts.partition_point(|&s| s <= i) - 1;
        let at = (i - self.starts[p]) * LINK;
        let l = &self.parts[p].links[at..at + LINK];
        (
            u32::from_le_bytes([l[0], l[1], l[2], l[3]]),
            u16::from_le_bytes([l[4], l[5]]),
        )
    }

    /// Heap bytes the level takes (a mapped file's are the page cache's).
    pub fn heap_bytes(&self) -> usize {
        let heap = |s: &Stored| match s {
            Stored::Memory(v) => v.len(),
            Stored::Mapped(_) => 0,
        };
        self.parts
            .iter()
            .map(|p| heap(&p.states) + heap(&p.links) + p.marks.len() * 8)
            .sum()
    }

    /// Writes the parent links of every state, in level order (6 bytes each).
    pub fn write_links(&self, w: &mut impl Write) -> std::io::Result<()> {
        for p in &self.parts {
            w.write_all(&p.links)?;
        }
        Ok(())
    }

    /// A level of parent links only (as [`Level::into_links`] leaves it), from
    /// [`Level::write_links`]'s bytes.
    pub fn from_links(links: Vec<u8>) -> std::io::Result<Level> {
        if links.len() % LINK != 0 {
            return Err(std::io::Error::other(format!(
                "{} bytes of parent links is not a whole number of links",
                links.len()
            )));
        }
        let len = links.len() / LINK;
        Ok(Level {
            parts: vec![Part {
                states: Stored::Memory(Vec::new()),
                links: Stored::Memory(links),
                len,
                marks: Vec::new(),
            }],
            starts: vec![0],
            chunks: Vec::new(),
            len,
        })
    }

    /// Writes the whole level (states and links, part by part) for [`Level::read_from`].
    pub fn write_to(&self, w: &mut impl Write) -> std::io::Result<()> {
        fn n(w: &mut impl Write, v: u64) -> std::io::Result<()> {
            w.write_all(&v.to_le_bytes())
        }
        n(w, self.parts.len() as u64)?;
        for p in &self.parts {
            n(w, p.len as u64)?;
            n(w, p.marks.len() as u64)?;
            for &m in &p.marks {
                n(w, m)?;
            }
            n(w, p.states.len() as u64)?;
            w.write_all(&p.states)?;
            n(w, p.links.len() as u64)?;
            w.write_all(&p.links)?;
        }
        Ok(())
    }

    /// Reads a level [`Level::write_to`] wrote; `limit` bounds every length read (the file's
    /// size), so that a corrupted file is an error, not a huge allocation.
    pub fn read_from(r: &mut impl Read, limit: u64) -> std::io::Result<Level> {
        fn bad(what: &str) -> std::io::Error {
            std::io::Error::other(format!("corrupted level: {what}"))
        }
        fn n(r: &mut impl Read) -> std::io::Result<u64> {
            let mut b = [0; 8];
            r.read_exact(&mut b)?;
            Ok(u64::from_le_bytes(b))
        }
        fn bytes(r: &mut impl Read, limit: u64) -> std::io::Result<Vec<u8>> {
            let k = n(r)?;
            if k > limit {
                return Err(bad("byte count"));
            }
            let mut v = vec![0; k as usize];
            r.read_exact(&mut v)?;
            Ok(v)
        }
        let mut level = Level::default();
        let parts = n(r)?;
        if parts > limit {
            return Err(bad("part count"));
        }
        for _ in 0..parts {
            let len = n(r)?;
            let marks = n(r)?;
            if len > limit || marks > limit / 8 {
                return Err(bad("part size"));
            }
            let marks = (0..marks)
                .map(|_| n(r))
                .collect::<std::io::Result<Vec<u64>>>()?;
            let states = bytes(r, limit)?;
            let links = bytes(r, limit)?;
            let len = len as usize;
            if links.len() != len * LINK
                || marks.len() != len.div_ceil(CHUNK)
                || marks.iter().any(|&m| m as usize >= states.len().max(1))
            {
                return Err(bad("a part's links, marks and states disagree"));
            }
            level.add(Part {
                states: Stored::Memory(states),
                links: Stored::Memory(links),
                len,
                marks,
            });
        }
        Ok(level)
    }

    /// The level without its states: what path reconstruction needs. The buffers that held
    /// its states in memory go to `spare`, for [`PartWriter::reusing`].
    pub fn into_links(self, spare: &mut Vec<Vec<u8>>) -> Level {
        Level {
            parts: self
                .parts
                .into_iter()
                .map(|p| {
                    if let Stored::Memory(v) = p.states {
                        if v.capacity() > 0 {
                            spare.push(v);
                        }
                    }
                    Part {
                        states: Stored::Memory(Vec::new()),
                        ..p
                    }
                })
                .collect(),
            chunks: Vec::new(),
            ..self
        }
    }
}

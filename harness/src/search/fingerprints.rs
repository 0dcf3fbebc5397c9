//! The native engine's visited set: 64-bit fingerprints in one open-addressing table with linear
//! probing. A search is bound by this table's cache misses (one random access per generated
//! state), and a general hash set takes two (its control bytes, then the slot); here a probe
//! reads one slot and, on a collision, usually the next in the same cache line.

/// Marks an empty slot; a state whose fingerprint is 0 is stored as 1, which merges two of the
/// 2^64 fingerprints (one more collision chance in 2^64 per state: nothing beside the 64-bit
/// fingerprint's own ~n²/2^65).
const EMPTY: u64 = 0;

use plasma_model::encode::{Encoder, Segment, COUNTERS, SEGMENTS};
use plasma_model::{Canonical, Renaming, Setup, Symmetry, World};
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

/// The hashes of a state's encoding segments ([`Segment`]), from which its fingerprint is
/// combined: a successor re-hashes only the segments its action changed.
pub type SegmentHashes = [u64; SEGMENTS];

/// Bytes of [`Fingerprinter::store_hashes`].
pub const STORED_HASHES: usize = 8 * (SEGMENTS - 1);

/// Where [`Fingerprinter::of_child_keeping`] kept each segment of a successor's encoding.
pub type Spans = [Option<(usize, usize)>; SEGMENTS];

/// One odd multiplier per segment: the fingerprint is a weighted sum of the segment hashes, so
/// the same bytes in two segments count differently and a segment's hash can be swapped in
/// without the others. The segment hashes are 64-bit hashes already, and each weight is odd
/// (invertible): two states that differ share a fingerprint with the chance of two random
/// 64-bit numbers, and the table slot, taken from the top bits of the fingerprint
/// (`slot`), depends on every bit of every segment hash. No finaliser is needed, so none
/// lengthens the chain of multiplies that leads to the table slot's prefetch.
const WEIGHTS: [u64; SEGMENTS] = [
    0x9e37_79b9_7f4a_7c15,
    0xc2b2_ae3d_27d4_eb4f,
    0x1656_67b1_9e37_79f9,
    0x85eb_ca77_c2b2_ae63,
    0x27d4_eb2f_1656_67c5,
    0xff51_afd7_ed55_8ccd,
];

#[inline]
fn combine(hashes: &SegmentHashes) -> u64 {
    let mut acc = 0u64;
    for (h, w) in hashes.iter().zip(WEIGHTS) {
        acc = acc.wrapping_add(h.wrapping_mul(w));
    }
    acc
}

/// The hash of [`Segment::Counters`] (given as its bytes): one multiply-and-mix of the bytes
/// as a number, where a general hash of six bytes costs a few dozen instructions, and this
/// segment is hashed for every successor.
#[inline]
fn hash_counters(bytes: &[u8]) -> u64 {
    let mut word = [0u8; 8];
    let n = bytes.len().min(COUNTERS);
    word[..n].copy_from_slice(&bytes[..n]);
    let mut x = u64::from_le_bytes(word).wrapping_mul(0x9fb2_1c65_1e98_df25);
    x ^= x >> 29;
    x = x.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x ^ (x >> 32)
}

#[inline]
fn hash_bytes(hasher: &ahash::RandomState, bytes: &[u8]) -> u64 {
    let mut h = hasher.build_hasher();
    h.write(bytes);
    h.finish()
}

/// A state's 64-bit identity: each segment of its encoding hashed (ahash with fixed keys),
/// and the hashes combined ([`SegmentHashes`]), so that a successor costs the encoding of what
/// its action changed, not of the whole state (one segment in 77% of `default`'s successors).
/// Under symmetry: the same of its representative's encoding ([`Canonical`]), whose segments
/// a successor renamed like its parent shares with the parent's where its action left them
/// alone. Every native engine computes it the same way; stateright hashes the whole encoding
/// (`World`'s `Hash`), another function with the same chance of two states sharing a
/// fingerprint. One encoding buffer serves a whole search (or thread).
pub struct Fingerprinter {
    hasher: ahash::RandomState,
    encoder: Encoder,
    sym: Option<Symmetry>,
    canonical: Canonical,
}

const EVERY: u8 = (1 << SEGMENTS) - 1;
const COUNTERS_BIT: u8 = 1 << Segment::Counters as u8;

impl Fingerprinter {
    pub fn new(setup: &Setup, symmetry: bool) -> Fingerprinter {
        Fingerprinter {
            hasher: ahash::RandomState::with_seeds(
                123_456_789_987_654_321,
                98_765_432_123_456_789,
                0,
                0,
            ),
            encoder: Encoder::default(),
            sym: symmetry.then(|| Symmetry::of(setup)),
            canonical: Canonical::default(),
        }
    }

    /// Whether fingerprints are of representatives.
    pub fn symmetric(&self) -> bool {
        self.sym.is_some()
    }

    /// Under symmetry: `w`'s successors come next (their fingerprints from [`Self::of_child`]
    /// or [`Self::of_child_keeping`], given `w`'s segment hashes).
    #[inline]
    pub fn parent(&mut self, w: &World) {
        if let Some(s) = self.sym {
            self.canonical.parent(w, s);
        }
    }

    /// Under symmetry: [`Self::parent`] for a state whose renaming an earlier fingerprint
    /// noted ([`Self::noted`]), without working it out again.
    #[inline]
    pub fn parent_noted(&mut self, r: &Renaming) {
        self.canonical.parent_is(r);
    }

    /// Under symmetry: the renaming that gave the representative of the state fingerprinted
    /// last, where it was its only candidate.
    #[inline]
    pub fn noted(&self) -> Option<&Renaming> {
        self.canonical.only()
    }

    /// The fingerprint of `w`'s representative, its segment hashes written to `hashes`. With
    /// `parent`, the segment hashes of the state [`Self::parent`] noted: where `w` is renamed
    /// alike, only the segments its action changed are encoded and hashed again.
    #[inline]
    fn representative(
        &mut self,
        s: Symmetry,
        w: &World,
        parent: Option<&SegmentHashes>,
        hashes: &mut SegmentHashes,
    ) -> u64 {
        match parent {
            Some(_) => self.canonical.choose_near(w, s, w.changes(), true),
            None => self.canonical.choose(w, s),
        }
        let mut todo = EVERY & !COUNTERS_BIT;
        if let Some(p) = parent.filter(|_| self.canonical.same_as_parent()) {
            *hashes = *p;
            todo &= w.changes();
        }
        self.hash_representative(w, todo, hashes)
    }

    /// Hashes the segments in `todo` of the representative [`Canonical::choose`] chose for
    /// `w` into `hashes` (the others are already there), and combines them.
    #[inline]
    fn hash_representative(&mut self, w: &World, mut todo: u8, hashes: &mut SegmentHashes) -> u64 {
        hashes[Segment::Counters as usize] = hash_counters(&w.counters());
        while todo != 0 {
            let k = todo.trailing_zeros() as usize;
            todo &= todo - 1;
            hashes[k] = hash_bytes(&self.hasher, self.canonical.segment(w, Segment::ALL[k]));
        }
        combine(hashes)
    }

    /// `w`'s fingerprint, with `w`'s own encoding appended to `out`.
    #[inline]
    pub fn of_keeping(&mut self, w: &World, out: &mut Vec<u8>) -> u64 {
        if let Some(s) = self.sym {
            let fp = self.representative(s, w, None, &mut [0; SEGMENTS]);
            out.extend_from_slice(self.encoder.encode(w));
            return fp;
        }
        let mut ends = [0; SEGMENTS];
        let start = out.len();
        out.extend_from_slice(self.encoder.encode_segments(w, &mut ends));
        let mut hashes = [0; SEGMENTS];
        self.of_encoded(&out[start..], &ends, 0, &mut hashes)
    }

    /// The fingerprint of the state whose encoding is `bytes`, its segments ending at
    /// `ends` ([`World::decode_segments`]): the segment hashes, written to `hashes`, come from
    /// the bytes, with no encoding. The segments in the mask `held` (bit `Segment as u8`) are
    /// those of the state whose hashes `hashes` holds ([`plasma_model::encode::Decoder`]), and
    /// keep their hashes. Without symmetry only: under symmetry the hashes are the
    /// representative's, which a level stores ([`Self::of_stored`]).
    #[inline]
    pub fn of_encoded(
        &mut self,
        bytes: &[u8],
        ends: &[usize; SEGMENTS],
        held: u8,
        hashes: &mut SegmentHashes,
    ) -> u64 {
        debug_assert!(
            self.sym.is_none(),
            "of_encoded hashes the state's own bytes"
        );
        let mut from = 0;
        for (k, &end) in ends.iter().enumerate() {
            let segment = &bytes[from..end];
            hashes[k] = if held & (1 << k) != 0 {
                hashes[k]
            } else if k == Segment::Counters as usize {
                hash_counters(segment)
            } else {
                hash_bytes(&self.hasher, segment)
            };
            from = end;
        }
        combine(hashes)
    }

    /// `w`'s fingerprint, its segment hashes written to `hashes`.
    #[inline]
    pub fn of_segments(&mut self, w: &World, hashes: &mut SegmentHashes) -> u64 {
        if let Some(s) = self.sym {
            return self.representative(s, w, None, hashes);
        }
        for (h, seg) in hashes.iter_mut().zip(Segment::ALL) {
            *h = match seg {
                Segment::Counters => hash_counters(&w.counters()),
                _ => hash_bytes(&self.hasher, self.encoder.encode_segment(w, seg)),
            };
        }
        combine(hashes)
    }

    /// The fingerprint of `w`, a copy of a state whose segment hashes are `parent` changed by
    /// one action since [`World::forget_changes`]: only the segments [`World::changes`] marks
    /// are encoded again. Writes `w`'s segment hashes to `hashes`.
    #[inline]
    pub fn of_child(
        &mut self,
        w: &World,
        parent: &SegmentHashes,
        hashes: &mut SegmentHashes,
    ) -> u64 {
        if let Some(s) = self.sym {
            return self.representative(s, w, Some(parent), hashes);
        }
        // Only the marked segments are visited (one in 77% of `default`'s successors).
        *hashes = *parent;
        hashes[Segment::Counters as usize] = hash_counters(&w.counters());
        let mut changed = w.changes() & !COUNTERS_BIT;
        while changed != 0 {
            let k = changed.trailing_zeros() as usize;
            changed &= changed - 1;
            hashes[k] = hash_bytes(
                &self.hasher,
                self.encoder.encode_segment(w, Segment::ALL[k]),
            );
        }
        combine(hashes)
    }

    /// [`Fingerprinter::of_child`], also appending to `kept` the encoding of every segment the
    /// action changed (but the counters), with its range in `spans` (`None`: the segment is the
    /// parent's): a driver assembles a new successor's encoding from these and its parent's,
    /// instead of encoding the successor again.
    #[inline]
    pub fn of_child_keeping(
        &mut self,
        w: &World,
        parent: &SegmentHashes,
        hashes: &mut SegmentHashes,
        kept: &mut Vec<u8>,
        spans: &mut Spans,
    ) -> u64 {
        *spans = [None; SEGMENTS];
        let mut changed = w.changes() & !COUNTERS_BIT;
        if let Some(s) = self.sym {
            while changed != 0 {
                let k = changed.trailing_zeros() as usize;
                changed &= changed - 1;
                let start = kept.len();
                kept.extend_from_slice(self.encoder.encode_segment(w, Segment::ALL[k]));
                spans[k] = Some((start, kept.len()));
            }
            return self.representative(s, w, Some(parent), hashes);
        }
        *hashes = *parent;
        hashes[Segment::Counters as usize] = hash_counters(&w.counters());
        while changed != 0 {
            let k = changed.trailing_zeros() as usize;
            changed &= changed - 1;
            let start = kept.len();
            kept.extend_from_slice(self.encoder.encode_segment(w, Segment::ALL[k]));
            hashes[k] = hash_bytes(&self.hasher, &kept[start..]);
            spans[k] = Some((start, kept.len()));
        }
        combine(hashes)
    }

    /// Appends the segment hashes but the counters' to `out` ([`STORED_HASHES`] bytes): under
    /// symmetry a BFS level stores them after each state's encoding, because working out the
    /// representative's hashes again when the state is expanded costs more than the search
    /// spends on most states.
    pub fn store_hashes(hashes: &SegmentHashes, out: &mut Vec<u8>) {
        for (k, h) in hashes.iter().enumerate() {
            if k != Segment::Counters as usize {
                out.extend_from_slice(&h.to_le_bytes());
            }
        }
    }

    /// Under symmetry, [`Self::of_encoded`] for a state stored with its representative's
    /// segment hashes ([`Self::store_hashes`]): they are read, not worked out, and `w`'s
    /// successors come next.
    #[inline]
    pub fn of_stored(
        &mut self,
        w: &World,
        held: u8,
        stored: &[u8],
        hashes: &mut SegmentHashes,
    ) -> u64 {
        let Some(s) = self.sym else {
            unreachable!("hashes are stored under symmetry only");
        };
        let mut words = stored.chunks_exact(8);
        for (k, h) in hashes.iter_mut().enumerate() {
            *h = if k == Segment::Counters as usize {
                hash_counters(&w.counters())
            } else {
                let word = words.next().unwrap_or(&[0; 8]);
                u64::from_le_bytes(std::array::from_fn(|i| word[i]))
            };
        }
        self.canonical.choose_near(w, s, !held, false);
        self.canonical.chosen_is_parent();
        combine(hashes)
    }

    #[inline]
    pub fn of(&mut self, w: &World) -> u64 {
        self.of_segments(w, &mut [0; SEGMENTS])
    }
}

/// Zeroed memory for a table of `u64` slots: an anonymous mapping, so that the kernel hands
/// out zero pages lazily (a billion-slot table costs nothing until it fills), in huge pages
/// where the kernel has them (`madvise`). A lookup is one random access into the table, and
/// with 4 KiB pages nearly every one also misses the TLB, which huge pages avoid. Their price
/// is paid once, when the table is first touched: the kernel may compact memory to find them.
struct Slots {
    map: memmap2::MmapMut,
    len: usize,
}

impl Slots {
    fn zeroed(len: usize) -> Result<Slots, OutOfMemory> {
        let bytes = len.max(1).saturating_mul(std::mem::size_of::<u64>());
        let map = memmap2::MmapOptions::new()
            .len(bytes)
            .map_anon()
            .map_err(|e| OutOfMemory {
                bytes,
                why: e.to_string(),
            })?;
        // Without it, every probe of a table beyond the TLB's reach (a few MiB of 4 KiB
        // pages) also walks the page table. Where huge pages are off, or the kernel refuses,
        // the table works as it is.
        #[cfg(target_os = "linux")]
        let _ = map.advise(memmap2::Advice::HugePage);
        Ok(Slots { map, len })
    }

    fn plain(&mut self) -> &mut [u64] {
        // SAFETY: the mapping is page-aligned, `len` slots long, zero-initialised by the kernel
        // (0 is a valid u64) and borrowed mutably with `self`.
        unsafe { std::slice::from_raw_parts_mut(self.map.as_mut_ptr().cast::<u64>(), self.len) }
    }

    fn atomic(&self) -> &[AtomicU64] {
        // SAFETY: as `plain`; `AtomicU64` has the size and alignment of `u64`, and shared
        // access goes through atomics only.
        unsafe { std::slice::from_raw_parts(self.map.as_ptr().cast::<AtomicU64>(), self.len) }
    }
}

/// The visited table could not get the memory it asked for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutOfMemory {
    pub bytes: usize,
    pub why: String,
}

impl std::fmt::Display for OutOfMemory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "cannot allocate the visited table ({} bytes): {}",
            self.bytes, self.why
        )
    }
}

pub struct Fingerprints {
    slots: Slots,
    len: usize,
    /// Set when the table could not grow: it goes on filling past 3/4 (more slowly), and the
    /// search that owns it must stop (see [`Fingerprints::failed`]) before it is full.
    failed: Option<OutOfMemory>,
}

/// A fresh table's slots: 8 MiB of address space, touched only where fingerprints land, so a
/// run of a few hundred thousand states (`tiny`) never stops to grow the table.
const FIRST_SLOTS: usize = 1 << 20;

impl Default for Fingerprints {
    /// A table of the first size; its 8 MiB of address space are the only allocation that
    /// panics when refused (every later one is an error the search reports).
    fn default() -> Self {
        Fingerprints::for_states(0).unwrap_or_else(|e| panic!("{e}"))
    }
}

impl Fingerprints {
    /// A table that holds `states` fingerprints without growing (at most 3/4 full): `states`
    /// × 4/3 slots, not rounded up (a slot is found by multiplying, so any length works; at a
    /// share of a billion states, rounding up would cost gigabytes).
    pub fn for_states(states: usize) -> Result<Fingerprints, OutOfMemory> {
        let want = states.saturating_mul(4) / 3 + 1;
        Ok(Fingerprints {
            slots: Slots::zeroed(want.max(FIRST_SLOTS))?,
            len: 0,
            failed: None,
        })
    }

    /// Why the table could not grow, if it could not: the search must stop, NOT VERIFIED.
    pub fn failed(&self) -> Option<&OutOfMemory> {
        self.failed.as_ref()
    }

    /// Fingerprints stored.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Asks the CPU to bring `fp`'s slot into the cache, ahead of an `insert`.
    #[inline]
    pub fn prefetch(&self, fp: u64) {
        prefetch(self.slots.map.as_ptr().cast::<u64>(), self.slots.len, fp);
    }

    /// Adds `fp`; false if it was there already.
    #[inline]
    pub fn insert(&mut self, fp: u64) -> bool {
        let fp = if fp == EMPTY { 1 } else { fp };
        // At most 3/4 full: an insert of a new fingerprint probes 8.5 slots on average at
        // that load, most of them in the first slot's cache line.
        if (self.len + 1) * 4 > self.slots.len * 3 && self.failed.is_none() {
            if let Err(e) = self.grow() {
                self.failed = Some(e);
            }
        }
        // A table that could not grow takes no more than 15/16 (probing a full one would
        // never end); what it refuses is taken for seen, in a run already NOT VERIFIED.
        if self.failed.is_some() && (self.len + 1) * 16 > self.slots.len * 15 {
            return false;
        }
        if place(self.slots.plain(), fp) {
            self.len += 1;
            true
        } else {
            false
        }
    }

    /// Grows the table now, if it must, to hold `states` fingerprints without growing again:
    /// workers that own shares of one search grow theirs at the same level this way, instead
    /// of each waiting in turn for the other's rehash.
    pub fn reserve(&mut self, states: usize) -> Result<(), OutOfMemory> {
        let mut slots = self.slots.len;
        while states.saturating_mul(4) > slots.saturating_mul(3) {
            slots *= 2;
        }
        if slots == self.slots.len {
            return Ok(());
        }
        self.grow_to(slots)
    }

    fn grow(&mut self) -> Result<(), OutOfMemory> {
        self.grow_to(self.slots.len * 2)
    }

    fn grow_to(&mut self, slots: usize) -> Result<(), OutOfMemory> {
        let bigger = Slots::zeroed(slots)?;
        let mut old = std::mem::replace(&mut self.slots, bigger);
        let table = self.slots.plain();
        for &fp in old.plain().iter().filter(|&&fp| fp != EMPTY) {
            place(table, fp);
        }
        Ok(())
    }
}

/// The fingerprints a search thread looked up last, by their low bits: a direct-mapped cache in
/// front of the visited table. Most of the states a search reaches again it stored only a few
/// thousand states before (the same independent actions taken in another order): in the
/// native DFS 57% of the successors of `tiny` and 59% of those of `small` are found here, in
/// 128 KiB that stay in the core's cache, instead of in the table (megabytes to gigabytes).
/// Every fingerprint it holds was given to the table, so a hit means "stored already".
pub struct Recent {
    slots: Box<[u64]>,
}

/// Entries of [`Recent`]: 2^14 (128 KiB), small enough to stay in a core's cache; more entries
/// find a few more states but leave the cache.
const RECENT: usize = 1 << 14;

impl Default for Recent {
    fn default() -> Self {
        Recent {
            slots: vec![EMPTY; RECENT].into_boxed_slice(),
        }
    }
}

impl Recent {
    /// Whether `fp` is one of the fingerprints recorded last; records it if not. The caller
    /// gives a fingerprint not seen here to the table.
    #[inline]
    pub fn seen(&mut self, fp: u64) -> bool {
        let fp = if fp == EMPTY { 1 } else { fp };
        let r = &mut self.slots[fp as usize & (RECENT - 1)];
        if *r == fp {
            return true;
        }
        *r = fp;
        false
    }
}

/// Asks the CPU to bring `fp`'s slot of the `len` slots at `slots` into the cache.
#[inline]
fn prefetch(slots: *const u64, len: usize, fp: u64) {
    #[cfg(target_arch = "x86_64")]
    {
        let i = slot(len, fp);
        // SAFETY: `i` is in bounds (`slot` returns an index below the length), and a prefetch
        // neither reads nor writes memory as far as the program can tell.
        #[allow(unused_unsafe)]
        unsafe {
            use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
            _mm_prefetch::<_MM_HINT_T0>(slots.add(i).cast());
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = (slots, len, fp);
}

/// The first slot to probe for `fp` in a table of `len` slots (any number, so that a table
/// sized for a known count of states wastes nothing): the fingerprint is a hash already, so
/// `fp * len / 2^64` spreads evenly, and keeps the fingerprints in order along the table.
#[inline]
fn slot(len: usize, fp: u64) -> usize {
    let fp = if fp == EMPTY { 1 } else { fp };
    ((u128::from(fp) * len as u128) >> 64) as usize
}

/// The slot after `i` in a table of `len`.
#[inline]
fn next(i: usize, len: usize) -> usize {
    if i + 1 == len {
        0
    } else {
        i + 1
    }
}

/// Puts `fp` in its slot or the first empty one after it; false if it is there already.
#[inline]
fn place(slots: &mut [u64], fp: u64) -> bool {
    let len = slots.len();
    let mut i = slot(len, fp);
    loop {
        let s = slots[i];
        if s == EMPTY {
            slots[i] = fp;
            return true;
        }
        if s == fp {
            return false;
        }
        i = next(i, len);
    }
}

/// Writes the stored (non-empty) slots, 8 bytes each, little-endian; returns how many.
fn write_stored(
    slots: impl Iterator<Item = u64>,
    w: &mut impl std::io::Write,
) -> std::io::Result<u64> {
    let mut count = 0;
    let mut buf = Vec::with_capacity(1 << 20);
    for fp in slots.filter(|&fp| fp != EMPTY) {
        buf.extend_from_slice(&fp.to_le_bytes());
        count += 1;
        if buf.len() >= 1 << 20 {
            w.write_all(&buf)?;
            buf.clear();
        }
    }
    w.write_all(&buf)?;
    Ok(count)
}

impl Fingerprints {
    /// Writes every stored fingerprint (8 bytes each, little-endian); returns how many.
    pub fn write_fingerprints(&mut self, w: &mut impl std::io::Write) -> std::io::Result<u64> {
        write_stored(self.slots.plain().iter().copied(), w)
    }

    /// The set of the fingerprints [`Fingerprints::write_fingerprints`] wrote.
    pub fn from_fingerprints(bytes: &[u8]) -> Result<Fingerprints, OutOfMemory> {
        // Sized for the count up front: the stored fingerprints come in the slot order of a
        // larger table, and inserted into a small one that doubles they pile up in long runs
        // of full slots (every insert then probes to the end of its run).
        let mut set = Fingerprints::for_states(bytes.len() / 8)?;
        for c in bytes.chunks_exact(8) {
            let mut a = [0; 8];
            a.copy_from_slice(c);
            set.insert(u64::from_le_bytes(a));
        }
        Ok(set)
    }
}

/// The visited set the parallel engine's threads share: the same open addressing over 64-bit
/// fingerprints, each slot an atomic claimed by compare-and-swap, so inserts take no lock. The
/// table does not grow while threads insert: a search reserves room ([`Shared::reserve`])
/// before inserting a state's successors, and grows the table ([`Shared::grow`], which needs
/// `&mut`) between phases, when no thread holds it.
pub struct Shared {
    slots: Slots,
    len: AtomicUsize,
    reserved: AtomicUsize,
}

impl Shared {
    /// A table that holds `states` fingerprints without growing (a grown table needs the old
    /// and the new one at once: at a billion states, 8 and 16 GB), at most 3/4 full: 10.7
    /// bytes per state.
    pub fn for_states(states: usize) -> Result<Shared, OutOfMemory> {
        let want = states.saturating_mul(4) / 3 + 1;
        Shared::with_slots(want.max(1 << 16))
    }

    fn with_slots(n: usize) -> Result<Shared, OutOfMemory> {
        Ok(Shared {
            slots: Slots::zeroed(n)?,
            len: AtomicUsize::new(0),
            reserved: AtomicUsize::new(0),
        })
    }

    /// Fingerprints stored.
    pub fn len(&self) -> usize {
        self.len.load(Ordering::Relaxed)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Bytes the table takes.
    pub fn bytes(&self) -> usize {
        self.slots.len * std::mem::size_of::<u64>()
    }

    /// Claims room for `n` more inserts; false when the table would pass 3/4 full (nothing is
    /// claimed then: grow it first).
    #[inline]
    pub fn reserve(&self, n: usize) -> bool {
        let room = self.slots.len * 3 / 4;
        let before = self.reserved.fetch_add(n, Ordering::Relaxed);
        if before + n > room {
            self.reserved.fetch_sub(n, Ordering::Relaxed);
            return false;
        }
        true
    }

    /// Gives back a claim [`Shared::reserve`] made.
    pub fn unreserve(&self, n: usize) {
        self.reserved.fetch_sub(n, Ordering::Relaxed);
    }

    /// Asks the CPU to bring `fp`'s slot into the cache, ahead of an `insert`.
    #[inline]
    pub fn prefetch(&self, fp: u64) {
        prefetch(self.slots.map.as_ptr().cast::<u64>(), self.slots.len, fp);
    }

    /// Counts `n` fingerprints [`Shared::insert`] stored (a thread settles its count when it
    /// lets go of the table, so that the threads do not share one busy counter).
    pub fn add_len(&self, n: usize) {
        self.len.fetch_add(n, Ordering::Relaxed);
    }

    /// Adds `fp`; false if it was there already (also when another thread added it first).
    /// Room must have been reserved for it, and the caller counts it ([`Shared::add_len`]).
    #[inline]
    pub fn insert(&self, fp: u64) -> bool {
        let fp = if fp == EMPTY { 1 } else { fp };
        let slots = self.slots.atomic();
        let len = slots.len();
        let mut i = slot(len, fp);
        loop {
            let s = &slots[i];
            let mut seen = s.load(Ordering::Relaxed);
            if seen == EMPTY {
                match s.compare_exchange(EMPTY, fp, Ordering::Relaxed, Ordering::Relaxed) {
                    Ok(_) => return true,
                    Err(now) => seen = now,
                }
            }
            if seen == fp {
                return false;
            }
            i = next(i, len);
        }
    }

    /// Writes every stored fingerprint (8 bytes each, little-endian, in slot order); returns
    /// how many.
    pub fn write_fingerprints(&self, w: &mut impl std::io::Write) -> std::io::Result<u64> {
        write_stored(
            self.slots
                .atomic()
                .iter()
                .map(|a| a.load(Ordering::Relaxed)),
            w,
        )
    }

    /// A table sized for `states` (at least) holding the fingerprints of `bytes` (as
    /// [`Shared::write_fingerprints`] wrote them), inserted by `threads` threads.
    pub fn from_fingerprints(
        bytes: &[u8],
        states: usize,
        threads: usize,
    ) -> Result<Shared, OutOfMemory> {
        let count = bytes.len() / 8;
        let table = Shared::for_states(states.max(count))?;
        let per = count.div_ceil(threads.max(1)).max(1) * 8;
        let stored = std::thread::scope(|s| {
            let handles: Vec<_> = bytes
                .chunks(per)
                .map(|part| {
                    let table = &table;
                    s.spawn(move || {
                        part.chunks_exact(8)
                            .filter(|b| {
                                let mut a = [0; 8];
                                a.copy_from_slice(b);
                                table.insert(u64::from_le_bytes(a))
                            })
                            .count()
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap_or(0)).sum()
        });
        table.add_len(stored);
        table.reserved.store(stored, Ordering::Relaxed);
        Ok(table)
    }

    /// Doubles the table until `extra` more inserts fit under 3/4 full, and forgets the
    /// reservations (every reserved insert is done when no thread holds the table). `threads`
    /// threads move the fingerprints, each a stretch of the old table: the other threads of a
    /// search wait for the table meanwhile, so a one-threaded move would leave them idle.
    pub fn grow(&mut self, extra: usize, threads: usize) -> Result<(), OutOfMemory> {
        let len = self.len();
        let mut n = self.slots.len;
        while (len + extra) * 4 > n * 3 {
            n *= 2;
        }
        if n != self.slots.len {
            let bigger = Shared::with_slots(n)?;
            let old = self.slots.atomic();
            let stretch = old.len().div_ceil(threads.max(1)).max(1);
            std::thread::scope(|s| {
                for part in old.chunks(stretch) {
                    let bigger = &bigger;
                    s.spawn(move || {
                        for fp in part.iter().map(|a| a.load(Ordering::Relaxed)) {
                            if fp != EMPTY {
                                bigger.insert(fp);
                            }
                        }
                    });
                }
            });
            self.slots = bigger.slots;
        }
        self.reserved.store(len, Ordering::Relaxed);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stores_each_fingerprint_once_across_growth() {
        let mut set = Fingerprints::default();
        // Deterministic spread of values, 0 included (stored as 1, so 1 is then "seen").
        let values: Vec<u64> = (0..200_000u64)
            .map(|i| i.wrapping_mul(0x9e37_79b9_7f4a_7c15))
            .collect();
        for &v in &values {
            assert!(set.insert(v), "{v} is new");
        }
        assert_eq!(set.len(), values.len());
        for &v in &values {
            assert!(!set.insert(v), "{v} was stored");
        }
        assert!(!set.insert(1), "0 is stored as 1");
        assert!(set.insert(2));
        assert_eq!(set.len(), values.len() + 1);
        assert!(set.slots.len * 3 >= set.len() * 4, "at most 3/4 full");
    }

    #[test]
    fn a_reserved_table_keeps_its_fingerprints_and_does_not_grow_until_full() {
        let mut set = Fingerprints::default();
        let values: Vec<u64> = (1..50_000u64)
            .map(|i| i.wrapping_mul(0xbf58_476d_1ce4_e5b9))
            .collect();
        for &v in &values {
            set.insert(v);
        }
        let sized = Fingerprints::for_states(3 * FIRST_SLOTS).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            sized.slots.len,
            4 * FIRST_SLOTS + 1,
            "states x 4/3, not rounded up"
        );
        let n = 3 * FIRST_SLOTS;
        set.reserve(n).unwrap_or_else(|e| panic!("{e}"));
        let slots = set.slots.len;
        assert_eq!(
            slots,
            4 * FIRST_SLOTS,
            "the least power of two that holds {n} at 3/4"
        );
        assert!(
            values.iter().all(|&v| !set.insert(v)),
            "kept across the rehash"
        );
        set.reserve(10).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(set.slots.len, slots, "never shrinks");
    }

    /// A hit only for a fingerprint recorded and not since displaced by another with the same
    /// low bits; 0 (an empty entry) is never a hit before it is recorded.
    #[test]
    fn recent_remembers_the_last_fingerprint_per_entry() {
        let mut recent = Recent::default();
        assert!(!recent.seen(0), "an empty entry is no hit");
        assert!(
            recent.seen(0) && recent.seen(1),
            "0 is recorded as 1, as the table stores it"
        );
        let a = 0x1234_5678_0000_0002;
        let b = a + RECENT as u64; // same entry
        assert!(!recent.seen(a));
        assert!(recent.seen(a));
        assert!(!recent.seen(b), "another fingerprint in the entry");
        assert!(!recent.seen(a), "displaced");
        assert!(!recent.seen(a + 1), "a neighbour has an entry of its own");
        assert!(recent.seen(a) && recent.seen(a + 1));
    }

    #[test]
    fn shared_stores_each_fingerprint_once_across_threads_and_growth() {
        let mut set = Shared::for_states(0).expect("memory");
        let values: Vec<u64> = (0..300_000u64)
            .map(|i| i.wrapping_mul(0x9e37_79b9_7f4a_7c15))
            .collect();
        let mut new = 0;
        for part in values.chunks(50_000) {
            if !set.reserve(2 * part.len()) {
                set.grow(2 * part.len(), 2).expect("memory");
                assert!(set.reserve(2 * part.len()));
            }
            // Two threads insert the same values: each value is new to exactly one of them.
            let stored = std::thread::scope(|s| {
                let a = s.spawn(|| part.iter().filter(|&&v| set.insert(v)).count());
                let b = s.spawn(|| part.iter().rev().filter(|&&v| set.insert(v)).count());
                a.join().unwrap_or(0) + b.join().unwrap_or(0)
            });
            set.add_len(stored);
            new += stored;
            set.grow(0, 2).expect("memory");
        }
        assert_eq!(new, values.len());
        assert_eq!(set.len(), values.len());
        assert!(values.iter().all(|&v| !set.insert(v)));
        assert!(set.slots.len * 3 >= set.len() * 4, "at most 3/4 full");
        assert!(
            !set.reserve(set.slots.len),
            "a reservation past 3/4 is refused"
        );
    }

    #[test]
    fn a_table_sized_for_a_count_is_not_rounded_up_and_wraps_around() {
        let set = Shared::for_states(100_000).expect("memory");
        assert_eq!(
            set.slots.len, 133_334,
            "4/3 of the states, not a power of two"
        );
        assert!(set.reserve(100_000));
        assert!(!set.reserve(1), "full at 3/4");
        // The largest fingerprints start at the last slot, and wrap around to the first.
        let top: Vec<u64> = (0..100u64).map(|i| u64::MAX - i).collect();
        assert!(top.iter().all(|&v| set.insert(v)));
        assert!(top.iter().all(|&v| !set.insert(v)));
        let slots = set.slots.atomic();
        assert_ne!(slots[0].load(Ordering::Relaxed), EMPTY, "wrapped to slot 0");
        assert_eq!(slot(slots.len(), u64::MAX), slots.len() - 1);
    }
}

//! The successors of a state read from a breadth-first level, as both breadth-first engines
//! (the native BFS and the timely engine) compute them. Each successor is written into a
//! pooled state and fingerprinted from the segments its action changed, which are kept,
//! encoded: the encoding of a successor found new is then assembled from those segments and
//! its parent's bytes, never encoded whole.

use crate::search::fingerprints::{Fingerprinter, SegmentHashes, Spans, STORED_HASHES};
use plasma_model::encode::{Segment, SEGMENTS};
use plasma_model::{Enabled, Setup, Source, World};

pub(crate) struct Successors {
    pub key: Fingerprinter,
    /// The actions enabled in the parent, and by action its successor and fingerprint.
    pub actions: Vec<Enabled>,
    pub pool: Vec<World>,
    pub fps: Vec<u64>,
    /// The parent's segment hashes (from its bytes), and room for a successor's.
    parent: SegmentHashes,
    child: SegmentHashes,
    /// The segments each successor changed, encoded end to end, and where each successor's
    /// are (by action).
    kept: Vec<u8>,
    spans: Vec<Spans>,
    /// Under symmetry, each successor's segment hashes (of its representative), stored with it.
    hashes: Vec<SegmentHashes>,
    symmetry: bool,
}

impl Successors {
    pub fn new(setup: &Setup, symmetry: bool) -> Successors {
        Successors {
            key: Fingerprinter::new(setup, symmetry),
            actions: Vec::new(),
            pool: Vec::new(),
            fps: Vec::new(),
            parent: [0; SEGMENTS],
            child: [0; SEGMENTS],
            kept: Vec::new(),
            spans: Vec::new(),
            hashes: Vec::new(),
            symmetry,
        }
    }

    /// Bytes a level stores after each state's encoding: its representative's segment hashes
    /// under symmetry, nothing without.
    pub fn stored_hashes(&self) -> usize {
        if self.symmetry {
            STORED_HASHES
        } else {
            0
        }
    }

    /// Takes the parent's segment hashes from the level's `record` (its encoding, decoded by
    /// the caller as `parent`, segments ending at `ends`, `held` the segments the decoder
    /// kept), and returns its encoding without the stored hashes.
    #[inline]
    pub fn read_parent<'r>(
        &mut self,
        parent: &World,
        record: &'r [u8],
        ends: &[usize; SEGMENTS],
        held: u8,
    ) -> &'r [u8] {
        let (bytes, stored) = record.split_at(record.len() - self.stored_hashes());
        if self.symmetry {
            self.key.of_stored(parent, held, stored, &mut self.parent);
        } else {
            self.key.of_encoded(bytes, ends, held, &mut self.parent);
        }
        bytes
    }

    /// Computes every successor of `parent` (whose hashes [`Self::read_parent`] took) into the
    /// pool, with its fingerprint; `each` is given each fingerprint and the successor's segment
    /// hashes as soon as they are known (to prefetch a table slot, or choose an owner).
    #[inline]
    pub fn compute(
        &mut self,
        setup: &Setup,
        parent: &World,
        mut each: impl FnMut(u64, &SegmentHashes),
    ) {
        self.actions.clear();
        parent.enabled_at(setup, &mut self.actions);
        while self.pool.len() < self.actions.len() {
            self.pool.push(parent.clone());
        }
        self.fps.clear();
        self.kept.clear();
        self.spans.clear();
        self.hashes.clear();
        let source = Source::of(parent);
        for (a, w) in self.actions.iter().zip(self.pool.iter_mut()) {
            w.overwrite_from(source);
            w.forget_changes();
            if w.apply_enabled(setup, a).is_err() {
                unreachable!("an enabled action is refused");
            }
            let mut spans = [None; SEGMENTS];
            let fp = self.key.of_child_keeping(
                w,
                &self.parent,
                &mut self.child,
                &mut self.kept,
                &mut spans,
            );
            self.spans.push(spans);
            if self.symmetry {
                self.hashes.push(self.child);
            }
            each(fp, &self.child);
            self.fps.push(fp);
        }
    }

    /// The record of successor `k` as pieces, in order: its encoding (its kept segments, its
    /// own `counters`, never kept, and the rest from its parent's `bytes`, segments ending at
    /// `ends`), then under symmetry its stored hashes (`trailer`, filled here).
    #[inline]
    pub fn record<'a>(
        &'a self,
        k: usize,
        counters: &'a [u8],
        bytes: &'a [u8],
        ends: &'a [usize; SEGMENTS],
        trailer: &'a mut Vec<u8>,
    ) -> (usize, impl Iterator<Item = &'a [u8]> + 'a) {
        trailer.clear();
        if self.symmetry {
            Fingerprinter::store_hashes(&self.hashes[k], trailer);
        }
        let pieces = self.spans[k]
            .iter()
            .enumerate()
            .map(move |(seg, span)| match *span {
                Some((a, b)) => &self.kept[a..b],
                None if seg == Segment::Counters as usize => counters,
                None => &bytes[if seg == 0 { 0 } else { ends[seg - 1] }..ends[seg]],
            });
        let n = pieces.clone().map(<[u8]>::len).sum::<usize>() + trailer.len();
        let trailer: &'a [u8] = trailer;
        (n, pieces.chain(std::iter::once(trailer)))
    }
}

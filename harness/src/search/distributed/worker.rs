//! One timely worker's share of the search: the states it owns (those [`owner`] maps to it by
//! their history), level by level, in three phases a level (timestamps `3L`, `3L + 1`, `3L + 2`
//! for level `L`):
//!
//! - `3L`, **own**: every successor of level `L - 1` sent to this worker has arrived. The new
//!   ones (not in the visited set; a state reached by several parents keeps the least key: its
//!   parent's rank, then the action's number) are the worker's share of level `L`. It sorts
//!   them by key and sends each range worker the keys whose parents' ranks fall in its range.
//! - `3L + 1`, **rank**: as a range worker, it merges the keys it got into their order and
//!   answers each owner with the ranks of its keys (their places among every key of the range)
//!   and the size of the range.
//! - `3L + 2`, **expand**: with every range's size, each state's rank is its place among every
//!   worker's states of level `L`: the order of their least paths, which is the order the
//!   native BFS with one thread stores them in. The worker expands its share in that order and
//!   sends each successor to its owner (batched per owner; one it owns goes straight into its
//!   table and next level).
//!
//! A state keeps its parent link (the parent's owner, its position there, and the action); a
//! counterexample is rebuilt at the end by walking the links back through the owners. A
//! property a state decides is noted by the worker that generated it (it has the state and
//! what the action changed, as the native BFS does) and travels with it as a bit.

use super::level::{link, Entry, Level, Links};
pub use super::store::Summary;
use super::store::{Share, Store, WorkerMeta};
use super::wire::{self, Body, Edge, Msg, Stats, Stop};
use crate::search::coverage::Coverage;
use crate::search::fingerprints::{
    Fingerprinter, Fingerprints, Recent, SegmentHashes, STORED_HASHES,
};
use crate::search::successors::Successors;
use plasma_model::encode::{Decoder, Segment, SEGMENTS};
use plasma_model::{ActionKind, Setup, World};
use plasma_properties::Property;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Bytes of successors collected for a peer before they are sent as one message.
const BATCH: usize = 1 << 18;

/// What every worker of a process is given.
pub struct Plan {
    pub setup: Setup,
    pub props: Vec<&'static Property>,
    /// The properties whose discovery ends the run (bit per property).
    pub ends: u64,
    pub symmetry: bool,
    /// Worker 0 of process 0 prints progress.
    pub show: bool,
    /// The spinner on a terminal.
    pub bar: Option<indicatif::ProgressBar>,
    pub threads: usize,
    pub expect_states: Option<usize>,
    /// `--disk DIR`: levels' records, the expanded level's entries and the parent links in
    /// unnamed files there.
    pub disk: Option<std::path::PathBuf>,
    /// `--max-states` (generated states, over every worker) and `--timeout`.
    pub max_states: Option<usize>,
    pub timeout: Option<Duration>,
    /// Ctrl-C.
    pub interrupt: Option<Arc<std::sync::atomic::AtomicBool>>,
    pub checkpoint: Option<std::path::PathBuf>,
    /// A level is checkpointed once this long has passed since the last checkpoint on any
    /// worker (zero: every level).
    pub checkpoint_every: Duration,
    /// The checkpoint's identity, for each worker's metas.
    pub meta: WorkerMeta,
    /// Seconds from `beat_start` to the last sign of progress (see `Heartbeat`).
    pub beat: Arc<AtomicU64>,
    pub beat_start: Instant,
    pub start: Instant,
}

/// The worker that owns the state whose segment hashes (of its representative, under
/// symmetry) are `hashes`, among `peers`: a hash of its history segment, which most actions
/// leave alone, so that most successors belong to their parent's owner and never travel. On
/// `small` with two workers, 2% of the successors go to the other worker (by the whole
/// fingerprint: 20%), and the workers own 50.5% and 49.5% of the states (by the server
/// segment: 1%, but 64% and 36%). The bits are mixed, so that neither the visited table's slot
/// (the fingerprint's top bits) nor the filters' entries (its low bits) of a worker's states
/// are skewed.
#[inline]
pub fn owner(hashes: &SegmentHashes, peers: usize) -> usize {
    let h = hashes[PARTITION];
    let mixed = h.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 32;
    ((mixed * peers as u64) >> 32) as usize
}

/// The segment whose hash [`owner`] partitions the states by.
const PARTITION: usize = Segment::History as usize;

/// Fingerprint to entry, for the states of the level being received: open addressing with
/// linear probing, each slot stamped with the level it belongs to (a new level empties the
/// map without touching it), and a slot can be prefetched ahead of its lookup.
#[derive(Default)]
struct LevelMap {
    /// (fingerprint, entry, level stamp); a slot of another stamp is empty.
    slots: Vec<(u64, u32, u32)>,
    len: usize,
    stamp: u32,
}

impl LevelMap {
    /// Empties the map for a level.
    fn clear(&mut self) {
        self.stamp = self.stamp.wrapping_add(1);
        self.len = 0;
        if self.stamp == 0 {
            self.slots.iter_mut().for_each(|s| *s = (0, 0, 0));
            self.stamp = 1;
        }
    }

    #[inline]
    fn slot(&self, fp: u64) -> usize {
        ((u128::from(fp) * self.slots.len() as u128) >> 64) as usize
    }

    #[inline]
    fn prefetch(&self, fp: u64) {
        if !self.slots.is_empty() {
            prefetch(&self.slots[self.slot(fp)] as *const _ as *const u8);
        }
    }

    #[inline]
    fn get(&self, fp: u64) -> Option<u32> {
        if self.slots.is_empty() {
            return None;
        }
        let mut i = self.slot(fp);
        loop {
            let (f, e, stamp) = self.slots[i];
            if stamp != self.stamp {
                return None;
            }
            if f == fp {
                return Some(e);
            }
            i = if i + 1 == self.slots.len() { 0 } else { i + 1 };
        }
    }

    /// Room for `n` entries in all without growing.
    fn reserve(&mut self, n: usize) {
        if n * 4 > self.slots.len() * 3 {
            self.grow((n * 2).max(1 << 12));
        }
    }

    /// Adds `fp` (not in the map) for entry `e`.
    fn insert(&mut self, fp: u64, e: u32) {
        // At most 3/4 full, and half full after growing: 21 to 43 bytes a state of the level.
        if (self.len + 1) * 4 > self.slots.len() * 3 {
            self.grow((self.len * 2).max(1 << 12));
        }
        let mut i = self.slot(fp);
        while self.slots[i].2 == self.stamp {
            i = if i + 1 == self.slots.len() { 0 } else { i + 1 };
        }
        self.slots[i] = (fp, e, self.stamp);
        self.len += 1;
    }

    fn grow(&mut self, slots: usize) {
        let stamp = self.stamp;
        let old = std::mem::replace(&mut self.slots, vec![(0, 0, 0); slots]);
        self.stamp = 1;
        self.len = 0;
        for (fp, e, s) in old {
            if s == stamp {
                self.insert(fp, e);
            }
        }
    }
}

/// Asks the CPU to bring the cache line at `p` in.
#[inline]
fn prefetch(p: *const u8) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch neither reads nor writes memory as far as the program can tell, and
    // the callers pass addresses inside their own allocations.
    unsafe {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        _mm_prefetch::<_MM_HINT_T0>(p.cast());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}

/// Scratch space of the expansion, kept across states.
struct Scratch {
    succ: Successors,
    /// Each successor's owner, by action.
    owners: Vec<usize>,
    trailer: Vec<u8>,
    healed: Option<World>,
}

pub struct Search {
    plan: Arc<Plan>,
    index: usize,
    peers: usize,
    visited: Fingerprints,
    /// The level being expanded (ranked), and the one being received.
    current: Level,
    next: Level,
    /// Fingerprint to entry of `next`, for the successors peers send; the first `mapped`
    /// entries are in it.
    map: LevelMap,
    mapped: usize,
    /// Per level, the parent link of each state this worker owns, in rank order.
    pub links: Links,
    /// States of every level so far, over every worker.
    totals: Vec<u64>,
    /// Properties decided anywhere on the levels so far (bit per property), and the others.
    decided: u64,
    open: Vec<usize>,
    pub summary: Summary,
    /// The fingerprints this worker stored or sent last: one found here is stored already,
    /// or on its way to its owner with a key no larger.
    recent: Recent,
    sent: Sent,
    outbox: Vec<Vec<u8>>,
    /// Messages that arrived, with their times, until their phase.
    stash: Vec<(u32, Msg)>,
    /// Where each range's keys start among `next`'s entries.
    bounds: Vec<usize>,
    decoder: Decoder,
    scratch: Scratch,
    store: Option<Store>,
    last_checkpoint: Instant,
    /// The level the run starts at: it comes ranked (and, resumed, checkpointed).
    first: Option<(u32, bool)>,
    progress: super::progress::Progress,
}

impl Search {
    /// A worker's search, from the initial state or from its checkpointed share.
    pub fn new(
        plan: Arc<Plan>,
        index: usize,
        peers: usize,
        resumed: Option<(&WorkerMeta, Share)>,
    ) -> std::io::Result<Search> {
        let store = match &plan.checkpoint {
            Some(root) => Some(Store::open(root, index, resumed.as_ref().map(|r| &r.1))?),
            None => None,
        };
        let visited = Fingerprints::for_states(plan.expect_states.unwrap_or(0).div_ceil(peers))
            .map_err(out_of_memory)?;
        let mut s = Search {
            index,
            peers,
            visited,
            current: Level::default(),
            next: match &plan.disk {
                Some(dir) => Level::on_disk(dir)?,
                None => Level::default(),
            },
            map: LevelMap::default(),
            mapped: 0,
            links: match &plan.disk {
                Some(dir) => Links::on_disk(dir)?,
                None => Links::default(),
            },
            totals: vec![1],
            decided: 0,
            open: Vec::new(),
            summary: Summary {
                worker: index,
                found: vec![None; plan.props.len()],
                ..Summary::default()
            },
            recent: Recent::default(),
            sent: Sent::new(if peers > 1 { SENT } else { 1 })?,
            outbox: vec![Vec::new(); peers],
            stash: Vec::new(),
            bounds: Vec::new(),
            decoder: Decoder::default(),
            scratch: Scratch {
                succ: Successors::new(&plan.setup, plan.symmetry),
                owners: Vec::new(),
                trailer: Vec::new(),
                healed: None,
            },
            store,
            last_checkpoint: Instant::now(),
            first: Some((0, false)),
            progress: super::progress::Progress::new(
                plan.show && index == 0,
                plan.bar.clone(),
                plan.start,
            ),
            plan,
        };
        match resumed {
            Some((meta, share)) => s.resume(meta, share)?,
            None => s.initial(),
        }
        Ok(s)
    }

    /// Level 0: the initial state, at the worker that owns it.
    fn initial(&mut self) {
        let plan = Arc::clone(&self.plan);
        let init = World::init(&plan.setup);
        let mut record = init.encode();
        let mut hashes = [0; SEGMENTS];
        let fp = self.scratch.succ.key.of_segments(&init, &mut hashes);
        if owner(&hashes, self.peers) != self.index {
            self.links.push(std::iter::empty());
            return;
        }
        if plan.symmetry {
            Fingerprinter::store_hashes(&hashes, &mut record);
        }
        self.visited.insert(fp);
        let mut healed = None;
        for (p, prop) in plan.props.iter().enumerate() {
            if prop.check_with(&plan.setup, &init, &mut healed) != prop.discovery_is_failure() {
                self.summary.found[p] = Some((0, 0, 0));
                self.decided |= 1 << p;
            }
        }
        let e = Entry {
            fp,
            kind: u8::MAX,
            ..Entry::default()
        };
        self.current
            .push(e, record.len(), |b| b.extend_from_slice(&record));
        self.links.push(std::iter::once(0));
        self.summary.unique = 1;
        self.summary.sizes.insert(0, 1);
    }

    fn resume(&mut self, meta: &WorkerMeta, share: Share) -> std::io::Result<()> {
        self.visited = Fingerprints::for_states(
            share
                .visited
                .len()
                .max(self.plan.expect_states.unwrap_or(0).div_ceil(self.peers)),
        )
        .map_err(out_of_memory)?;
        for &fp in &share.visited {
            self.visited.insert(fp);
        }
        let mut links = share.links.into_iter();
        for l in 0..=meta.level {
            let n = meta.summary.sizes.get(&l).copied().unwrap_or(0) as usize;
            self.links.push(links.by_ref().take(n));
        }
        self.current = share.level;
        self.totals = meta.totals.clone();
        self.decided = meta.decided;
        self.summary = meta.summary.clone();
        self.first = Some((meta.level, true));
        Ok(())
    }

    /// The search is over: the spinner goes.
    pub fn done(&mut self) {
        self.progress.finish();
    }

    /// The timestamp the run starts at: the expansion of its first level.
    pub fn start_time(&self) -> u32 {
        3 * self.first.map_or(0, |f| f.0) + 2
    }

    pub fn stash(&mut self, t: u32, m: Msg) {
        self.stash.push((t, m));
    }

    /// Takes the stashed messages of time `t`.
    fn stashed(&mut self, t: u32) -> Vec<Msg> {
        let (now, later): (Vec<_>, Vec<_>) = std::mem::take(&mut self.stash)
            .into_iter()
            .partition(|(at, _)| *at == t);
        self.stash = later;
        now.into_iter().map(|(_, m)| m).collect()
    }

    fn beat(&self) {
        let secs = self.plan.beat_start.elapsed().as_secs();
        self.plan.beat.store(secs, Ordering::Relaxed);
    }

    /// Runs phase `t`, whose messages have all arrived; false when the search is over.
    pub fn phase(&mut self, t: u32, send: &mut dyn FnMut(Msg)) -> bool {
        self.beat();
        match t % 3 {
            0 => {
                self.receive(t);
                self.settle(t / 3);
                for m in self.key_messages(t / 3) {
                    send(m);
                }
                true
            }
            1 => {
                for m in self.rank(t) {
                    send(m);
                }
                true
            }
            _ => {
                if !self.ranked(t) {
                    return false;
                }
                self.expand(send);
                true
            }
        }
    }

    /// Dedups the successors peers sent for the level being received (time `t`), as they
    /// come: this worker's own expansion of the level before is done, so every state of the
    /// level it found itself is in the table and in `next` already.
    pub fn receive(&mut self, t: u32) {
        for m in self.stashed(t) {
            let Body::Edges(batch) = m.body else {
                continue;
            };
            self.beat();
            self.map_own();
            // The table slots of the edges a few ahead are prefetched: each lookup is a cache
            // miss in a table of megabytes.
            const AHEAD: usize = 8;
            let mut ahead = wire::edges(&batch.0);
            for e in ahead.by_ref().take(AHEAD) {
                self.map.prefetch(e.fp);
                self.visited.prefetch(e.fp);
            }
            for e in wire::edges(&batch.0) {
                if let Some(a) = ahead.next() {
                    self.map.prefetch(a.fp);
                    self.visited.prefetch(a.fp);
                }
                self.take(m.from as usize, &e);
            }
        }
    }

    /// Puts the states of `next` not in the level map yet (those this worker found itself)
    /// in it, the slots of the ones a few ahead prefetched.
    fn map_own(&mut self) {
        let n = self.next.entries.len();
        self.map.reserve(n);
        const AHEAD: usize = 8;
        for i in self.mapped..n {
            if let Some(e) = self.next.entries.get(i + AHEAD) {
                self.map.prefetch(e.fp);
            }
            self.map.insert(self.next.entries[i].fp, i as u32);
        }
        self.mapped = n;
    }

    /// A successor a peer sent.
    #[inline]
    fn take(&mut self, from: usize, e: &Edge<'_>) {
        let entry = Entry {
            fp: e.fp,
            key: e.key,
            link: link(from, e.parent, e.key as u16),
            hits: e.hits,
            at: 0,
            len: 0,
            kind: e.kind,
        };
        if let Some(i) = self.map.get(e.fp) {
            if e.key < self.next.entries[i as usize].key {
                self.next.replace(i as usize, entry, e.record);
            }
            return;
        }
        if !self.visited.insert(e.fp) {
            return;
        }
        self.next
            .push(entry, e.record.len(), |b| b.extend_from_slice(e.record));
        self.map.insert(e.fp, self.mapped as u32);
        self.mapped += 1;
    }

    /// Level `level` is in: its states sorted by key, counted, their links and discoveries
    /// noted.
    fn settle(&mut self, level: u32) {
        self.map.clear();
        if self.plan.disk.is_some() {
            // Keys are distinct (a parent and an action reach one state), so an unstable
            // sort gives the one order; in place, it needs no second copy of the entries.
            self.next.entries.sort_unstable_by_key(|e| e.key);
        } else if !self.next.entries.is_sorted_by_key(|e| e.key) {
            // Keys and places sorted, then the entries gathered in that order: cheaper than
            // moving whole entries around while sorting.
            let mut order: Vec<(u64, u32)> = (self.next.entries.iter())
                .enumerate()
                .map(|(i, e)| (e.key, i as u32))
                .collect();
            // A stable sort merges the runs the level arrives in (this worker's own states,
            // then each peer's, each ascending) instead of sorting from scratch.
            order.sort();
            let old = &self.next.entries;
            let sorted = order.iter().map(|&(_, i)| old[i as usize]).collect();
            self.next.entries = sorted;
        }
        let entries = &self.next.entries;
        let s = &mut self.summary;
        for (pos, e) in entries.iter().enumerate() {
            if let Some(&k) = ActionKind::ALL.get(usize::from(e.kind)) {
                s.coverage.take(k);
            }
            let mut hits = e.hits;
            while hits != 0 {
                let p = hits.trailing_zeros() as usize;
                hits &= hits - 1;
                if s.found[p].is_none_or(|(l, k, _)| (level, e.key) < (l, k)) {
                    s.found[p] = Some((level, e.key, pos as u32));
                }
            }
        }
        let n = entries.len() as u64;
        s.unique += n;
        s.sizes.insert(level, n);
        self.links.push(entries.iter().map(|e| e.link));
        self.mapped = 0;
    }

    /// The keys of level `level`'s states, to the workers whose ranges hold their parents'
    /// ranks (each worker gets a message, empty or not: it answers every owner).
    fn key_messages(&mut self, level: u32) -> Vec<Msg> {
        let before = u128::from(self.totals[level as usize - 1].max(1));
        let peers = self.peers;
        let range = |key: u64| (u128::from(key >> 16) * peers as u128 / before) as usize;
        let entries = &self.next.entries;
        self.bounds = (0..=peers)
            .map(|j| entries.partition_point(|e| range(e.key) < j))
            .collect();
        let found = self
            .summary
            .found
            .iter()
            .enumerate()
            .filter(|(_, f)| f.is_some())
            .fold(0u64, |m, (p, _)| m | 1 << p);
        let stats = Stats {
            generated: self.summary.generated,
            unique: self.summary.unique,
            new: entries.len() as u64,
            decided: self.decided | found,
            checkpoint_due: self.store.is_some()
                && self.last_checkpoint.elapsed() >= self.plan.checkpoint_every,
            stop: self.own_stop(),
            process: (self.index / self.plan.threads) as u32,
            rss: super::progress::rss_bytes(),
        };
        (0..peers)
            .map(|j| Msg {
                to: j as u32,
                from: self.index as u32,
                body: Body::Keys {
                    stats,
                    keys: wire::pack(
                        entries[self.bounds[j]..self.bounds[j + 1]]
                            .iter()
                            .map(|e| e.key),
                    ),
                },
            })
            .collect()
    }

    /// As a range worker: the ranks of every owner's keys in this worker's range.
    fn rank(&mut self, t: u32) -> Vec<Msg> {
        let mut asks: Vec<(u32, Stats, Vec<u64>)> = self
            .stashed(t)
            .into_iter()
            .filter_map(|m| match m.body {
                Body::Keys { stats, keys } => Some((m.from, stats, wire::unpack(&keys).collect())),
                _ => None,
            })
            .collect();
        asks.sort_by_key(|a| a.0);
        let stats: Vec<Stats> = asks.iter().map(|a| a.1).collect();
        self.progress.level(t / 3, &stats);
        let count: u64 = asks.iter().map(|a| a.2.len() as u64).sum();
        let decided = stats.iter().fold(0, |m, s| m | s.decided);
        let checkpoint = stats.iter().any(|s| s.checkpoint_due);
        let generated: u64 = stats.iter().map(|s| s.generated).sum();
        let stop = stats.iter().fold(0, |m, s| m | s.stop)
            | match self.plan.max_states {
                Some(n) if generated >= n as u64 => Stop::STATE_LIMIT,
                _ => 0,
            };
        let lists: Vec<Vec<u64>> = asks.iter_mut().map(|a| std::mem::take(&mut a.2)).collect();
        rank_keys(&lists)
            .into_iter()
            .zip(&asks)
            .map(|(ranks, (from, _, _))| Msg {
                to: *from,
                from: self.index as u32,
                body: Body::Ranks {
                    count,
                    decided,
                    checkpoint,
                    stop,
                    ranks: wire::pack(ranks.into_iter()),
                },
            })
            .collect()
    }

    /// Gives level `t / 3`'s states their ranks (unless the run starts with it, ranked); false
    /// when the level is empty everywhere: the search is over.
    fn ranked(&mut self, t: u32) -> bool {
        let level = t / 3;
        let first = self.first.take();
        // The run's first level is checkpointed only when every level is (unless resumed
        // from it); a later one when any worker's checkpoint is due.
        let mut checkpoint =
            first.is_some_and(|(_, resumed)| !resumed) && self.plan.checkpoint_every.is_zero();
        let mut stop = 0;
        if first.is_none() {
            let mut replies: Vec<(u32, u64, u64, wire::Bytes)> = self
                .stashed(t)
                .into_iter()
                .filter_map(|m| match m.body {
                    Body::Ranks {
                        count,
                        decided,
                        checkpoint: due,
                        stop: why,
                        ranks,
                    } => {
                        checkpoint |= due;
                        stop |= why;
                        Some((m.from, count, decided, ranks))
                    }
                    _ => None,
                })
                .collect();
            replies.sort_by_key(|r| r.0);
            let mut offset = 0;
            for (j, (_, count, decided, ranks)) in replies.iter().enumerate() {
                let start = self.bounds[j];
                for (k, r) in wire::unpack(ranks).enumerate() {
                    self.next.entries[start + k].key = offset + r;
                }
                offset += count;
                self.decided |= decided;
            }
            self.totals.push(offset);
            std::mem::swap(&mut self.current, &mut self.next);
            if let Err(e) = self.current.finish() {
                panic!("cannot read back a level file (--disk): {e}");
            }
        }
        let decided = self.decided;
        self.open = (0..self.plan.props.len())
            .filter(|p| decided & (1 << p) == 0)
            .collect();
        if self.totals[level as usize] == 0 {
            self.summary.depth = level;
            return false;
        }
        if decided & self.plan.ends != 0 {
            // As the native BFS: the levels up to this one were expanded.
            self.summary.depth = level;
            self.summary.stopped = true;
            return false;
        }
        if stop != 0 {
            // As the native BFS: a partial search, NOT VERIFIED; the level is stored, not
            // expanded.
            self.summary.depth = level;
            self.summary.limit = stop;
            return false;
        }
        if first.is_none_or(|(_, resumed)| !resumed) {
            // A resumed level's fingerprints and links are in the files already.
            if let Some(store) = self.store.as_mut() {
                if let Err(e) = store.append(&self.current) {
                    panic!("cannot write the checkpoint of worker {}: {e}", self.index);
                }
            }
        }
        if checkpoint {
            self.checkpoint(level);
        }
        self.reserve(level);
        true
    }

    /// This worker's own reasons to stop at the next level boundary ([`Stop`] bits).
    fn own_stop(&self) -> u8 {
        let mut stop = 0;
        if (self.plan.timeout).is_some_and(|t| self.plan.start.elapsed() >= t) {
            stop |= Stop::TIMEOUT;
        }
        if (self.plan.interrupt.as_ref()).is_some_and(|f| f.load(Ordering::Relaxed)) {
            stop |= Stop::INTERRUPTED;
        }
        stop
    }

    /// Grows the visited table ahead of level `level`'s expansion to what the worker's share
    /// of the states will likely be after it: the next level is guessed from the last two,
    /// by every worker alike (from the totals every worker has), so all workers grow their
    /// tables at the same level. A worker whose share outgrows the guess grows alone.
    fn reserve(&mut self, level: u32) {
        let totals = &self.totals[..=level as usize];
        let last = totals[level as usize];
        let before = if level == 0 {
            last
        } else {
            totals[level as usize - 1]
        };
        let next = (u128::from(last) * u128::from(last) / u128::from(before.max(1)))
            .min(u128::from(last) * 4) as u64;
        let states: u64 = totals.iter().sum::<u64>() + next;
        let share = states / self.peers as u64 + states / (16 * self.peers as u64);
        // A table that cannot grow now tries again, and reports it, as the states come.
        let _ = self.visited.reserve(share as usize);
    }

    fn checkpoint(&mut self, level: u32) {
        let Some(store) = self.store.as_mut() else {
            return;
        };
        let meta = WorkerMeta {
            worker: self.index,
            level,
            totals: self.totals.clone(),
            decided: self.decided,
            summary: self.summary.clone(),
            ..self.plan.meta.clone()
        };
        if let Err(e) = store.checkpoint(&meta, &self.current) {
            panic!("cannot write the checkpoint of worker {}: {e}", self.index);
        }
        self.last_checkpoint = Instant::now();
    }
}

/// The rank of each key among all of them, list by list: the lists are ascending, and are
/// merged (keys are distinct: a parent and an action reach one state).
fn rank_keys(lists: &[Vec<u64>]) -> Vec<Vec<u64>> {
    use std::cmp::Reverse;
    let mut out: Vec<Vec<u64>> = lists.iter().map(|l| Vec::with_capacity(l.len())).collect();
    let mut heads: std::collections::BinaryHeap<Reverse<(u64, usize)>> = lists
        .iter()
        .enumerate()
        .filter_map(|(a, l)| l.first().map(|&k| Reverse((k, a))))
        .collect();
    let mut rank = 0;
    while let Some(Reverse((_, a))) = heads.pop() {
        out[a].push(rank);
        rank += 1;
        let l = &lists[a];
        // The list's run of keys below every other list's head takes consecutive ranks.
        let bound = heads.peek().map_or(u64::MAX, |Reverse((k, _))| *k);
        while let Some(&k) = l.get(out[a].len()) {
            if k > bound {
                heads.push(Reverse((k, a)));
                break;
            }
            out[a].push(rank);
            rank += 1;
        }
    }
    out
}

impl Search {
    /// Expands the current level in rank order: each successor goes to its owner, a new one
    /// this worker owns straight into its table and next level.
    fn expand(&mut self, send: &mut dyn FnMut(Msg)) {
        let level = std::mem::take(&mut self.current);
        self.next.clear();
        self.map.clear();
        self.mapped = 0;
        let stored = if self.plan.symmetry { STORED_HASHES } else { 0 };
        let mut decoder = std::mem::take(&mut self.decoder);
        let mut cov = Coverage::default();
        for (i, e) in level.each().enumerate() {
            if i % 4096 == 0 {
                self.beat();
            }
            let record = level.record(&e);
            let Some((parent, ends, held)) = decoder.decode(&record[..record.len() - stored])
            else {
                unreachable!("a level holds only whole encodings");
            };
            let bytes = self.scratch.succ.read_parent(parent, record, ends, held);
            self.successors(parent);
            self.summary.generated += self.scratch.succ.fps.len() as u64;
            self.emit(i as u32, e.key, bytes, ends, &mut cov, send);
        }
        self.decoder = decoder;
        self.summary.coverage.merge(&cov);
        for to in 0..self.peers {
            self.send_batch(to, send);
        }
        self.current = level;
        self.current.clear();
        if let Some(dir) = self
            .plan
            .disk
            .as_ref()
            .filter(|_| !self.current.is_on_disk())
        {
            // The run's first level (the initial state, or a resumed checkpoint's) was read
            // into memory; every later one goes to a file.
            self.current = Level::on_disk(dir)
                .unwrap_or_else(|e| panic!("cannot create a level file in {}: {e}", dir.display()));
        }
    }

    /// Computes every successor of `parent` ([`Successors::compute`]) and its owner, with the
    /// table slot of one this worker owns prefetched (or its slot in the filter of those
    /// sent).
    fn successors(&mut self, parent: &World) {
        let (visited, sent, peers, index) = (&self.visited, &self.sent, self.peers, self.index);
        let owners = &mut self.scratch.owners;
        owners.clear();
        self.scratch
            .succ
            .compute(&self.plan.setup, parent, |fp, child| {
                let to = owner(child, peers);
                if to == index {
                    visited.prefetch(fp);
                } else {
                    sent.prefetch(fp);
                }
                owners.push(to);
            });
    }

    /// Sends the successors of the state at `position` (rank `rank`) that are not stored or
    /// sent already: each new one this worker owns into its next level, each other to its
    /// owner's batch.
    fn emit(
        &mut self,
        position: u32,
        rank: u64,
        bytes: &[u8],
        ends: &[usize; SEGMENTS],
        cov: &mut Coverage,
        send: &mut dyn FnMut(Msg),
    ) {
        let plan = Arc::clone(&self.plan);
        for k in 0..self.scratch.succ.fps.len() {
            let s = &mut self.scratch;
            let fp = s.succ.fps[k];
            let kind = s.succ.actions[k].kind();
            cov.enable(kind);
            let to = s.owners[k];
            let seen = if to == self.index {
                self.recent.seen(fp)
            } else {
                self.sent.seen(fp)
            };
            if seen {
                continue;
            }
            if to == self.index && !self.visited.insert(fp) {
                continue;
            }
            let w = &s.succ.pool[k];
            let mut hits = 0u64;
            if !self.open.is_empty() {
                s.healed = None;
                for &p in &self.open {
                    if plan.props[p].discovered(&plan.setup, w, w.changes(), &mut s.healed) {
                        hits |= 1 << p;
                    }
                }
            }
            let counters = w.counters();
            let (n, pieces) = s.succ.record(k, &counters, bytes, ends, &mut s.trailer);
            let write = |out: &mut Vec<u8>| {
                for piece in pieces {
                    out.extend_from_slice(piece);
                }
            };
            let key = (rank << 16) | k as u64;
            let kind = kind.index() as u8;
            if to == self.index {
                let e = Entry {
                    fp,
                    key,
                    link: link(self.index, position, k as u16),
                    hits,
                    at: 0,
                    len: 0,
                    kind,
                };
                self.next.push(e, n, write);
                continue;
            }
            let edge = Edge {
                fp,
                key,
                parent: position,
                kind,
                hits,
                record: &[],
            };
            wire::put_edge(&mut self.outbox[to], &edge, n, write);
            if self.outbox[to].len() >= BATCH {
                self.send_batch(to, send);
            }
        }
    }

    fn send_batch(&mut self, to: usize, send: &mut dyn FnMut(Msg)) {
        if self.outbox[to].is_empty() {
            return;
        }
        let batch = std::mem::replace(&mut self.outbox[to], Vec::with_capacity(BATCH + 512));
        send(Msg {
            to: to as u32,
            from: self.index as u32,
            body: Body::Edges(wire::Bytes(batch)),
        });
    }
}

/// Entries of [`Sent`].
const SENT: usize = 1 << 20;

/// The fingerprints of other workers' states this worker sent last, by their low bits (a
/// direct-mapped cache, like [`Recent`] but larger): one found here was sent before, at this
/// level with a key no larger (states are expanded in rank order) or at an earlier level, and
/// is stored at its owner or on its way there.
pub struct Sent {
    /// Zeroed memory in huge pages where the kernel has them: with 4 KiB pages nearly every
    /// lookup in these megabytes would also miss the TLB.
    map: memmap2::MmapMut,
    len: usize,
}

impl Sent {
    fn new(len: usize) -> std::io::Result<Sent> {
        let map = memmap2::MmapOptions::new().len(len * 8).map_anon()?;
        #[cfg(target_os = "linux")]
        let _ = map.advise(memmap2::Advice::HugePage);
        Ok(Sent { map, len })
    }

    fn slots(&mut self) -> &mut [u64] {
        // SAFETY: the mapping is page-aligned, `len` u64s long, zeroed by the kernel (0 is a
        // valid u64) and borrowed mutably with `self`.
        unsafe { std::slice::from_raw_parts_mut(self.map.as_mut_ptr().cast::<u64>(), self.len) }
    }

    #[inline]
    fn slot(&self, fp: u64) -> usize {
        (fp >> 8) as usize & (self.len - 1)
    }

    /// Asks the CPU to bring `fp`'s entry into the cache, ahead of [`Sent::seen`]: the
    /// entries are megabytes, and a successor's lookup would otherwise wait for memory.
    #[inline]
    fn prefetch(&self, fp: u64) {
        let i = self.slot(fp.max(1));
        prefetch(self.map[i * 8..].as_ptr());
    }

    /// Whether `fp` is here; puts it here if not.
    #[inline]
    fn seen(&mut self, fp: u64) -> bool {
        let fp = fp.max(1);
        let i = self.slot(fp);
        let slot = &mut self.slots()[i];
        if *slot == fp {
            return true;
        }
        *slot = fp;
        false
    }
}

/// A visited table the machine cannot map, as the I/O error a worker reports.
fn out_of_memory(e: crate::search::fingerprints::OutOfMemory) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::OutOfMemory, e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranks_interleave_the_owners_keys() {
        let ranks = rank_keys(&[vec![1, 5, 9], vec![], vec![2, 3, 10]]);
        assert_eq!(ranks, vec![vec![0, 3, 4], vec![], vec![1, 2, 5]]);
        assert_eq!(rank_keys(&[vec![], vec![4, 7]]), vec![vec![], vec![0, 1]]);
    }

    #[test]
    fn owners_spread_evenly() {
        let mut counts = [0usize; 3];
        for i in 0..30_000u64 {
            let mut hashes = [0; SEGMENTS];
            hashes[PARTITION] = i.wrapping_mul(0xbf58_476d_1ce4_e5b9);
            counts[owner(&hashes, 3)] += 1;
        }
        assert!(
            counts.iter().all(|&c| (9_000..11_000).contains(&c)),
            "{counts:?}"
        );
        assert_eq!(owner(&[u64::MAX; SEGMENTS], 1), 0);
    }

    #[test]
    fn the_level_map_forgets_a_level_and_keeps_entries_across_growth() {
        let mut m = LevelMap::default();
        m.clear();
        let fps: Vec<u64> = (1..20_000u64)
            .map(|i| i.wrapping_mul(0x9e37_79b9_7f4a_7c15))
            .collect();
        for (i, &fp) in fps.iter().enumerate() {
            assert_eq!(m.get(fp), None);
            m.insert(fp, i as u32);
        }
        assert!(fps
            .iter()
            .enumerate()
            .all(|(i, &fp)| m.get(fp) == Some(i as u32)));
        m.clear();
        assert!(fps.iter().all(|&fp| m.get(fp).is_none()), "a new level");
        m.reserve(10);
        m.insert(fps[3], 7);
        assert_eq!(m.get(fps[3]), Some(7));
        assert_eq!(m.get(fps[4]), None);
    }

    #[test]
    fn a_sent_fingerprint_is_seen_until_displaced() {
        let mut sent = Sent::new(1 << 4).unwrap_or_else(|e| panic!("{e}"));
        assert!(!sent.seen(5 << 8));
        assert!(sent.seen(5 << 8));
        assert!(!sent.seen((5 << 8) + (16 << 8)), "the same entry");
        assert!(!sent.seen(5 << 8), "displaced");
    }
}

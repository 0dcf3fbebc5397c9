//! The native breadth-first engine: level by level, on every core, with shortest
//! counterexamples.
//!
//! A level (every state at one distance from the initial state) is a list of encodings (the
//! lossless byte form of a state, `World::encode`, about 110 bytes on `default`), not of
//! states. The threads take chunks of the level, decode each state, compute its successors,
//! and insert their fingerprints into one shared lock-free table ([`Shared`]); a successor that
//! is new is checked against the properties and appended, encoded, to the thread's part of the
//! next level, with a parent link (its parent's index in the level, and the number of the
//! action among the parent's enabled ones). Levels are complete before the next one starts, so
//! the first level at which a property is decided holds the shortest path that decides it: the
//! same length stateright's one-threaded BFS finds. With one thread the order of every level,
//! and so every counterexample, is the same on every run (and the same path as stateright's);
//! with more, the lengths are.
//!
//! Memory: the visited table holds 64-bit fingerprints only (at most 3/4 full: 11-21 bytes a
//! state). Levels are written and read sequentially, so they may live in files
//! (`--disk DIR`, memory-mapped for reading): the parent links (6 bytes a state) and two
//! levels of encodings then leave the heap, and the page cache holds what fits.

use crate::search::checkpoint::{self, Loaded, Meta};
use crate::search::coverage::Coverage;
use crate::search::exact::Exact;
use crate::search::fingerprints::{Fingerprinter, Recent, Shared, STORED_HASHES};
use crate::search::levels::{Level, Part, PartWriter};
use crate::search::plan::{Plan, SearchError};
use crate::search::report::{Report, Search};
use crate::search::shell::{progress_line, Shell};
use crate::search::successors::Successors;
use plasma_model::encode::SEGMENTS;
use plasma_model::{Action, Setup, World};
use plasma_properties::EVERYTHING;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Mutex, RwLock};
use std::time::Instant;

/// Table slots a thread claims at a time.
const ROOM_BLOCK: usize = 1024;

/// Where a property was decided: the state reached from state `parent` of level `level - 1`
/// by its enabled action number `action` (level 0: the initial state).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Witness {
    level: usize,
    parent: u32,
    action: u16,
}

/// What the threads share while they expand one level.
struct Shift<'a> {
    shell: &'a Shell<'a>,
    level: &'a Level,
    level_no: usize,
    /// The visited table: read-locked by a thread while it expands a chunk, write-locked to
    /// grow it when a thread cannot reserve room for a state's successors.
    visited: &'a RwLock<Shared>,
    /// The next chunk of `level` to take.
    next: AtomicUsize,
    /// Set when the run must stop (`reason` says why): every thread stops taking chunks.
    stop: &'a AtomicBool,
    reason: &'a Mutex<Option<String>>,
    generated: &'a AtomicUsize,
    found: &'a Mutex<Vec<Option<Witness>>>,
    /// The properties not decided on an earlier level (by index in `props`): a property decided
    /// on this level is still checked, so that the least witness of the level wins.
    open: &'a [usize],
    spill: Option<&'a std::path::Path>,
    /// Buffers of levels the search is done with, for the threads' parts of the next.
    spare: &'a Mutex<Vec<Vec<u8>>>,
    /// Threads of the search (they also move the table when it grows).
    threads: usize,
    exact: Option<&'a Exact>,
    /// The run's action coverage: each thread counts into its own and adds it here once a
    /// level, so that the hot loop touches no shared line.
    coverage: &'a Mutex<Coverage>,
}

/// The states still to come and the seconds they take, estimated from the sizes of the levels
/// so far (`sizes[k]`: new states of level k) once they clearly shrink (the last level at most
/// 9/10 of the one before): the levels ahead are assumed to shrink by the last ratio, and to be
/// expanded at the rate the last level was (`expanded_per_second`, states of the previous level
/// per second). None while they grow or near their peak, where a ratio close to 1 says little.
/// Past the peak, levels shrink faster and faster, so the estimate is high: on a
/// 457-million-state run, 1.5 to 3 times the states truly left, and never below them.
pub(crate) fn estimate(sizes: &[usize], expanded_per_second: f64) -> Option<(u64, f64)> {
    let [.., before, last] = sizes else {
        return None;
    };
    if *last * 10 > *before * 9 || expanded_per_second <= 0.0 {
        return None;
    }
    let r = *last as f64 / *before as f64;
    let ahead = *last as f64 * r / (1.0 - r);
    // Every state of the last level and of those ahead is still to be expanded.
    let seconds = (*last as f64 + ahead) / expanded_per_second;
    Some((ahead.round() as u64, seconds))
}

/// A thread's scratch space, kept across the chunks it expands.
struct Scratch {
    succ: Successors,
    /// The fingerprints this thread looked up last.
    recent: Recent,
    healed: Option<World>,
    /// Room for a successor's stored hashes, a chunk's unpacked records, and the decoder
    /// each state of the level is decoded with.
    trailer: Vec<u8>,
    unpacked: Vec<u8>,
    decoder: plasma_model::encode::Decoder,
    cov: Coverage,
}

/// Room a thread has claimed in the table, and states it stored, not yet settled.
#[derive(Default)]
struct Claim {
    room: usize,
    stored: usize,
}

impl Shift<'_> {
    /// A thread's work: take chunks until the level is done or the search stops; returns the
    /// thread's part of the next level.
    fn work(&self) -> std::io::Result<Part> {
        let buffer = self
            .spare
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .pop()
            .unwrap_or_default();
        let mut out = PartWriter::reusing(self.spill, buffer)?;
        let mut scratch = Scratch {
            succ: Successors::new(self.shell.setup, self.shell.plan.symmetry),
            recent: Recent::default(),
            healed: None,
            trailer: Vec::with_capacity(STORED_HASHES),
            unpacked: Vec::new(),
            decoder: Default::default(),
            // Lost if a level cannot be stored, but that run reports no verdict anyway.
            cov: Coverage::default(),
        };
        while !self.stop.load(Ordering::Relaxed) {
            if let Some(why) = self
                .shell
                .limit_reached(self.generated.load(Ordering::Relaxed))
            {
                self.stop.store(true, Ordering::Relaxed);
                let mut reason = self.reason.lock().unwrap_or_else(|e| e.into_inner());
                reason.get_or_insert(why);
                break;
            }
            let c = self.next.fetch_add(1, Ordering::Relaxed);
            let Some(chunk) = self.level.chunk(c) else {
                break;
            };
            let generated = match self.expand_chunk(chunk, &mut scratch, &mut out) {
                Ok(g) => g,
                Err(e) => {
                    self.stop.store(true, Ordering::Relaxed);
                    return Err(e);
                }
            };
            self.tick(c, generated);
        }
        self.coverage
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .merge(&scratch.cov);
        out.finish()
    }

    /// Expands the states of one chunk of the level into `out`; returns the successors
    /// generated so far in the run.
    fn expand_chunk(
        &self,
        chunk: crate::search::levels::Chunk,
        scratch: &mut Scratch,
        out: &mut PartWriter,
    ) -> std::io::Result<usize> {
        let mut table = self.visited.read().unwrap_or_else(|e| e.into_inner());
        // Claims on the table and counts are taken and settled per block and per chunk,
        // not per state: counters every thread updates would bounce between the cores.
        let mut claim = Claim::default();
        let mut generated = 0;
        let mut unpacked = std::mem::take(&mut scratch.unpacked);
        let mut decoder = std::mem::take(&mut scratch.decoder);
        // A local copy: counters behind the scratch pointer would be written to memory at
        // every successor.
        let mut cov = scratch.cov;
        for (i, record) in self.level.states(chunk, &mut unpacked) {
            // Under symmetry a state is stored with its representative's segment hashes.
            let encoded = &record[..record.len() - scratch.succ.stored_hashes()];
            let Some((parent, ends, held)) = decoder.decode(encoded) else {
                unreachable!("a level holds only whole encodings");
            };
            let bytes = scratch.succ.read_parent(parent, record, ends, held);
            scratch
                .succ
                .compute(self.shell.setup, parent, |fp, _| table.prefetch(fp));
            let n = scratch.succ.fps.len();
            table = self.make_room(table, &mut claim, n)?;
            generated += n;
            for k in 0..n {
                let fp = scratch.succ.fps[k];
                let kind = scratch.succ.actions[k].kind();
                cov.enable(kind);
                let new = match self.exact {
                    None => !scratch.recent.seen(fp) && table.insert(fp),
                    Some(x) => x.insert(fp, &scratch.succ.pool[k].encode()),
                };
                if !new {
                    continue;
                }
                cov.take(kind);
                claim.room -= 1;
                claim.stored += 1;
                let link = (i as u32, k as u16);
                if !self.open.is_empty() {
                    let w = &scratch.succ.pool[k];
                    self.discover(w, w.changes(), link, &mut scratch.healed);
                }
                self.push_successor(out, scratch, k, (bytes, ends), link)?;
            }
        }
        scratch.unpacked = unpacked;
        scratch.decoder = decoder;
        scratch.cov = cov;
        table.unreserve(claim.room);
        table.add_len(claim.stored);
        Ok(self.generated.fetch_add(generated, Ordering::Relaxed) + generated)
    }

    /// Makes sure `claim` holds room in the table for `n` more states, growing the table when
    /// it is full (every other thread finishes its chunk first).
    fn make_room<'t>(
        &'t self,
        mut table: std::sync::RwLockReadGuard<'t, Shared>,
        claim: &mut Claim,
        n: usize,
    ) -> std::io::Result<std::sync::RwLockReadGuard<'t, Shared>> {
        while claim.room < n {
            let block = n.max(ROOM_BLOCK);
            if table.reserve(block) {
                claim.room += block;
                continue;
            }
            table.unreserve(claim.room);
            table.add_len(claim.stored);
            *claim = Claim::default();
            drop(table);
            let mut writer = self.visited.write().unwrap_or_else(|e| e.into_inner());
            if writer.reserve(block) {
                // Another thread grew it.
                writer.unreserve(block);
            } else {
                writer.grow(block, self.threads).map_err(|e| {
                    std::io::Error::new(std::io::ErrorKind::OutOfMemory, e.to_string())
                })?;
            }
            drop(writer);
            table = self.visited.read().unwrap_or_else(|e| e.into_inner());
        }
        Ok(table)
    }

    /// Appends successor `k` to the next level, its record assembled by [`Successors::record`].
    fn push_successor(
        &self,
        out: &mut PartWriter,
        s: &mut Scratch,
        k: usize,
        (bytes, ends): (&[u8], &[usize; SEGMENTS]),
        link: (u32, u16),
    ) -> std::io::Result<()> {
        let counters = s.succ.pool[k].counters();
        let (n, pieces) = s.succ.record(k, &counters, bytes, ends, &mut s.trailer);
        out.push_with(n, link, |level| {
            for piece in pieces {
                level.extend_from_slice(piece);
            }
        })
    }

    /// Progress after chunk `c`.
    fn tick(&self, c: usize, generated: usize) {
        self.shell.progress.tick(|| {
            let done = ((c + 1) * crate::search::levels::CHUNK).min(self.level.len());
            format!(
                "level {}: {:.0}% of {} states expanded, {}",
                self.level_no,
                100.0 * done as f64 / self.level.len().max(1) as f64,
                self.level.len(),
                progress_line(
                    generated,
                    unique(self.visited),
                    self.level_no,
                    self.shell.start.elapsed()
                )
            )
        });
    }

    /// Checks the properties still open on this level against a new state. Its parent, on the
    /// level before, found none of them (or they would be decided): one that reads none of the
    /// parts `changed` marks finds nothing here either.
    fn discover(
        &self,
        w: &World,
        changed: u8,
        (parent, action): (u32, u16),
        healed: &mut Option<World>,
    ) {
        let witness = Witness {
            level: self.level_no,
            parent,
            action,
        };
        let decided: Vec<usize> = self
            .shell
            .decided(self.open.iter().copied(), w, changed, healed)
            .collect();
        if decided.is_empty() {
            return;
        }
        let mut found = self.found.lock().unwrap_or_else(|e| e.into_inner());
        for p in decided {
            // Two threads may decide one property on the same level: keep the witness one
            // thread would have found first (the least parent, then action).
            if found[p].is_none_or(|f| witness < f) {
                found[p] = Some(witness);
            }
        }
    }
}

/// The native BFS's own options.
#[derive(Clone, Copy, Debug)]
pub struct Options<'a> {
    /// Threads that expand each level.
    pub threads: usize,
    /// Keep levels and parent links in files under this folder, not in memory.
    pub disk: Option<&'a std::path::Path>,
    /// Size the visited table for this many states up front.
    pub expect_states: Option<usize>,
    /// Store every state whole (the `exact` module), not only its fingerprint.
    pub exact: bool,
}

/// A run between two levels.
struct Run<'a> {
    shell: Shell<'a>,
    threads: usize,
    found: Mutex<Vec<Option<Witness>>>,
    stop: AtomicBool,
    reason: Mutex<Option<String>>,
    generated: AtomicUsize,
    coverage: Mutex<Coverage>,
    coverage_partial: bool,
    /// New states per level, and when the current level started.
    sizes: Vec<usize>,
    level_start: Instant,
    stop_reason: Option<String>,
    /// `--disk DIR`: the levels' files live in a folder of their own, removed at the end.
    spill: Option<tempfile::TempDir>,
    /// `done[k]`: the parent links of level k; only the current level keeps its states.
    done: Vec<Level>,
    level: Level,
    level_no: usize,
    visited: RwLock<Shared>,
    /// `--exact`: the states themselves, which decide what is new (the table then only
    /// counts them).
    exact: Option<Exact>,
    spare: Mutex<Vec<Vec<u8>>>,
}

/// Runs the search (continuing the checkpoint `loaded`, if given).
pub(crate) fn run(
    setup: &Setup,
    plan: &Plan,
    options: &Options,
    loaded: Option<Loaded>,
) -> Result<Report, SearchError> {
    let mut run = Run::new(setup, plan, options)?;
    match loaded {
        Some(l) => run.resume(l),
        None => run.first_level()?,
    }
    while !run.level.is_empty() && run.stop_reason.is_none() {
        if run
            .shell
            .hunted(&run.found.lock().unwrap_or_else(|e| e.into_inner()))
        {
            run.stop_reason = Some("stopped at the first violation".to_string());
            break;
        }
        if !run.expand_level() {
            break;
        }
        run.level_done();
    }
    Ok(run.finish())
}

impl<'a> Run<'a> {
    fn new(setup: &'a Setup, plan: &'a Plan, options: &Options) -> Result<Run<'a>, SearchError> {
        let shell = Shell::new(setup, plan);
        let spill = options
            .disk
            .map(tempfile::TempDir::new_in)
            .transpose()
            .map_err(|e| SearchError::Invalid(format!("cannot use the --disk folder: {e}")))?;
        let found = Mutex::new(vec![None; shell.props.len()]);
        Ok(Run {
            shell,
            threads: options.threads.max(1),
            found,
            stop: AtomicBool::new(false),
            reason: Mutex::new(None),
            generated: AtomicUsize::new(1),
            coverage: Mutex::new(Coverage::default()),
            coverage_partial: false,
            sizes: vec![1],
            level_start: Instant::now(),
            stop_reason: None,
            spill,
            done: Vec::new(),
            level: Level::default(),
            level_no: 0,
            visited: RwLock::new(
                Shared::for_states(options.expect_states.unwrap_or(0))
                    .map_err(|e| SearchError::Failed(e.to_string()))?,
            ),
            exact: options.exact.then(Exact::new),
            spare: Mutex::new(Vec::new()),
        })
    }

    /// Level 0: the initial state, its properties checked.
    fn first_level(&mut self) -> Result<(), SearchError> {
        let setup = self.shell.setup;
        let init = World::init(setup);
        let mut key = Fingerprinter::new(setup, self.shell.plan.symmetry);
        let visited = self.visited.get_mut().unwrap_or_else(|e| e.into_inner());
        visited.reserve(1);
        let fp = key.of(&init);
        visited.insert(fp);
        visited.add_len(1);
        if let Some(x) = &self.exact {
            x.insert(fp, &init.encode());
        }
        let found = self.found.get_mut().unwrap_or_else(|e| e.into_inner());
        let mut healed = None;
        let all = 0..self.shell.props.len();
        for p in self.shell.decided(all, &init, EVERYTHING, &mut healed) {
            found[p] = Some(Witness {
                level: 0,
                parent: 0,
                action: 0,
            });
        }
        let mut record = init.encode();
        if self.shell.plan.symmetry {
            let mut hashes = [0; SEGMENTS];
            key.of_segments(&init, &mut hashes);
            Fingerprinter::store_hashes(&hashes, &mut record);
        }
        let first = PartWriter::new(None).and_then(|mut w| {
            w.push(&record, (0, 0))?;
            w.finish()
        });
        let part = first.map_err(|e| SearchError::Failed(format!("cannot store a level: {e}")))?;
        self.level.add(part);
        Ok(())
    }

    /// Continues where checkpoint `l` stopped.
    fn resume(&mut self, l: Loaded) {
        self.done = l.done;
        self.level = l.frontier;
        self.level_no = l.meta.levels;
        self.sizes = l.meta.sizes;
        self.shell.before = l.meta.seconds;
        self.generated.store(l.meta.generated, Ordering::Relaxed);
        self.coverage_partial = l.meta.coverage.is_none();
        *self.coverage.get_mut().unwrap_or_else(|e| e.into_inner()) =
            l.meta.coverage.unwrap_or_default();
        let found = self.found.get_mut().unwrap_or_else(|e| e.into_inner());
        for (slot, w) in found.iter_mut().zip(l.meta.found) {
            *slot = w.map(|(level, parent, action)| Witness {
                level,
                parent,
                action,
            });
        }
        *self.visited.get_mut().unwrap_or_else(|e| e.into_inner()) = l.visited;
    }

    /// Expands the current level on every thread into the next; false when the run stopped.
    fn expand_level(&mut self) -> bool {
        let open: Vec<usize> = {
            let f = self.found.lock().unwrap_or_else(|e| e.into_inner());
            (0..self.shell.props.len())
                .filter(|&p| f[p].is_none())
                .collect()
        };
        let shift = Shift {
            shell: &self.shell,
            level: &self.level,
            level_no: self.level_no + 1,
            visited: &self.visited,
            next: AtomicUsize::new(0),
            stop: &self.stop,
            reason: &self.reason,
            generated: &self.generated,
            found: &self.found,
            open: &open,
            spill: self.spill.as_ref().map(|d| d.path()),
            spare: &self.spare,
            threads: self.threads,
            exact: self.exact.as_ref(),
            coverage: &self.coverage,
        };
        let parts: Vec<std::io::Result<Part>> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..self.threads)
                .map(|_| {
                    let shift = &shift;
                    s.spawn(move || shift.work())
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
                .collect()
        });
        let mut next = Level::default();
        for part in parts {
            match part {
                Ok(p) => next.add(p),
                Err(e) if e.kind() == std::io::ErrorKind::OutOfMemory => {
                    self.stop_reason = Some(e.to_string());
                    self.stop.store(true, Ordering::Relaxed);
                }
                Err(e) => {
                    self.stop_reason = Some(format!("cannot store a level: {e}"));
                    self.stop.store(true, Ordering::Relaxed);
                }
            }
        }
        let finished = std::mem::replace(&mut self.level, next);
        let spare = self.spare.get_mut().unwrap_or_else(|e| e.into_inner());
        self.done.push(finished.into_links(spare));
        if self.stop.load(Ordering::Relaxed) {
            if self.stop_reason.is_none() {
                self.stop_reason = self.reason.lock().unwrap_or_else(|e| e.into_inner()).take();
            }
            return false;
        }
        true
    }

    /// After a level: the estimate of what is left, a checkpoint if one is due, progress.
    fn level_done(&mut self) {
        self.level_no += 1;
        let expanded_per_second = self.sizes[self.sizes.len() - 1] as f64
            / self.level_start.elapsed().as_secs_f64().max(1e-9);
        self.sizes.push(self.level.len());
        self.level_start = Instant::now();
        self.shell.progress.estimate = match estimate(&self.sizes, expanded_per_second) {
            Some((ahead, seconds)) => format!(
                "; estimate: about {} states in all, {:.0}s to go",
                unique(&self.visited) as u64 + ahead,
                seconds
            ),
            None => String::new(),
        };
        if !self.level.is_empty() {
            if let Some(dir) = self.shell.checkpoint_due() {
                self.checkpoint(dir);
            }
        }
        let table = self.visited.read().map(|t| t.bytes()).unwrap_or(0);
        let heap: usize =
            self.done.iter().map(Level::heap_bytes).sum::<usize>() + self.level.heap_bytes();
        self.shell.progress.tick(|| {
            format!(
                "level {}: {} new, {}, {} MB",
                self.level_no,
                self.level.len(),
                progress_line(
                    self.generated.load(Ordering::Relaxed),
                    unique(&self.visited),
                    self.level_no,
                    self.shell.start.elapsed()
                ),
                (table + heap) >> 20
            )
        });
    }

    /// Writes a checkpoint of the level boundary into `dir`.
    fn checkpoint(&mut self, dir: &std::path::Path) {
        let written = Instant::now();
        let meta = Meta {
            levels: self.level_no,
            generated: self.generated.load(Ordering::Relaxed),
            unique: unique(&self.visited),
            sizes: self.sizes.clone(),
            seconds: self.shell.seconds(),
            found: self
                .found
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .iter()
                .map(|w| w.map(|w| (w.level, w.parent, w.action)))
                .collect(),
            frontier: self.level.len(),
            max_depth: self.level_no,
            coverage: Some(*self.coverage.lock().unwrap_or_else(|e| e.into_inner())),
            ..Meta::new(
                checkpoint::ENGINE,
                self.shell.setup,
                self.shell.plan.symmetry,
                &self.shell.props,
            )
        };
        let table = self.visited.read().unwrap_or_else(|e| e.into_inner());
        let result = checkpoint::save(dir, &meta, &table, &self.done, &self.level);
        drop(table);
        let what = format!("level {}, {} states", self.level_no, meta.unique);
        if let Some(e) = self.shell.checkpointed(what, written, result) {
            self.stop_reason = Some(e);
        }
    }

    fn finish(self) -> Report {
        let setup = self.shell.setup;
        let found = self.found.into_inner().unwrap_or_else(|e| e.into_inner());
        let paths = found
            .into_iter()
            .map(|w| w.map(|w| path_to(setup, &self.done, w)))
            .collect();
        let search = Search {
            stop_reason: self.stop_reason,
            states: self.generated.load(Ordering::Relaxed),
            unique_states: unique(&self.visited),
            max_depth: self.done.len(),
            coverage: self
                .coverage
                .into_inner()
                .unwrap_or_else(|e| e.into_inner()),
            coverage_partial: self.coverage_partial,
        };
        self.shell.report(search, paths)
    }
}

fn unique(visited: &RwLock<Shared>) -> usize {
    visited.read().map(|t| t.len()).unwrap_or(0)
}

/// The actions from the initial state to a witness: parent links back to level 0, then the
/// actions replayed forward (an action is stored as its number among the enabled ones).
fn path_to(setup: &Setup, levels: &[Level], w: Witness) -> Vec<Action> {
    if w.level == 0 {
        return Vec::new();
    }
    let mut numbers = vec![w.action];
    let mut at = w.parent as usize;
    for level in levels[1..w.level].iter().rev() {
        let (parent, action) = level.link(at);
        numbers.push(action);
        at = parent as usize;
    }
    numbers.reverse();
    checkpoint::actions_of(setup, &numbers)
}

#[cfg(test)]
mod tests {
    use super::estimate;

    #[test]
    fn no_estimate_while_the_levels_grow() {
        assert_eq!(estimate(&[1], 10.0), None);
        assert_eq!(estimate(&[1, 5, 20], 10.0), None);
        assert_eq!(estimate(&[1, 5, 20, 20], 10.0), None);
        assert_eq!(estimate(&[1, 5, 20, 19], 10.0), None, "near the peak");
    }

    #[test]
    fn shrinking_levels_are_taken_to_shrink_geometrically() {
        // 800, 400: the tail 200 + 100 + ... = 400 states, and 800 expansions at 100 a second.
        let (ahead, seconds) = estimate(&[1, 10, 800, 400], 100.0).unwrap_or_default();
        assert_eq!(ahead, 400);
        assert!((seconds - 8.0).abs() < 1e-9, "{seconds}");
    }
}

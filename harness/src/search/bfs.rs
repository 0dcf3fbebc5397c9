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

use crate::search::check::{progress_line, CheckOptions};
use crate::search::checkpoint::{self, Loaded, Meta};
use crate::search::coverage::Coverage;
use crate::search::fingerprints::{
    Fingerprinter, Recent, SegmentHashes, Shared, Spans, STORED_HASHES,
};
use crate::search::levels::{Level, Part, PartWriter};
use crate::search::report::{replayed_steps, PropertyReport, Report, Search};
use plasma_model::encode::{Segment, SEGMENTS};
use plasma_model::{Action, Enabled, Setup, Source, World};
use plasma_properties::Property;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Mutex, RwLock};
use std::time::{Duration, Instant};

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
    setup: &'a Setup,
    props: &'a [&'static Property],
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
    opts: &'a CheckOptions,
    start: Instant,
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
    progress: &'a Progress,
    /// The run's action coverage: each thread counts into its own and adds it here once a
    /// level, so that the hot loop touches no shared line.
    coverage: &'a Mutex<Coverage>,
}

/// Progress on stderr while a level is expanded: the spinner's message on a terminal, else a
/// line every 10 seconds; levels of a large run take minutes each.
struct Progress {
    bar: Option<indicatif::ProgressBar>,
    last: Mutex<Instant>,
    /// What is known before the level: the estimate from the levels so far.
    estimate: String,
}

impl Progress {
    /// Reports, if it is time to, with `line` computing the message.
    fn tick(&self, line: impl FnOnce() -> String) {
        let Ok(mut last) = self.last.try_lock() else {
            return;
        };
        let every = if self.bar.is_some() { 200 } else { 10_000 };
        if last.elapsed() < Duration::from_millis(every) {
            return;
        }
        *last = Instant::now();
        let message = format!("{}{}", line(), self.estimate);
        match &self.bar {
            Some(bar) => bar.set_message(message),
            None => eprintln!("progress: {message}"),
        }
    }
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
    key: Fingerprinter,
    actions: Vec<Enabled>,
    pool: Vec<World>,
    fps: Vec<u64>,
    /// The fingerprints this thread looked up last.
    recent: Recent,
    /// The parent's segment hashes (from its bytes), and room for a successor's.
    parent: SegmentHashes,
    child: SegmentHashes,
    /// The segments each successor changed, encoded end to end, and where each successor's
    /// are (by action): the encoding of a successor found new is assembled from these and the
    /// parent's bytes.
    kept: Vec<u8>,
    spans: Vec<Spans>,
    /// Under symmetry, each successor's segment hashes (of its representative), stored with it.
    hashes: Vec<SegmentHashes>,
    healed: Option<World>,
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
            key: Fingerprinter::new(self.setup, self.opts.symmetry),
            actions: Vec::new(),
            pool: Vec::new(),
            fps: Vec::new(),
            recent: Recent::default(),
            parent: [0; SEGMENTS],
            child: [0; SEGMENTS],
            kept: Vec::new(),
            spans: Vec::new(),
            hashes: Vec::new(),
            healed: None,
        };
        // Under symmetry a state is stored with its representative's segment hashes.
        let stored_hashes = if self.opts.symmetry { STORED_HASHES } else { 0 };
        let mut trailer = Vec::with_capacity(STORED_HASHES);
        let mut unpacked = Vec::new();
        // Each state of the level is decoded into this one state.
        let mut decoder = plasma_model::encode::Decoder::default();
        // Lost if a level cannot be stored, but that run reports no verdict anyway.
        let mut cov = Coverage::default();
        while !self.stop.load(Ordering::Relaxed) {
            let limit = crate::search::check::limit_reached(
                self.opts,
                self.generated.load(Ordering::Relaxed),
                self.start.elapsed(),
            );
            if let Some(why) = limit {
                self.stop.store(true, Ordering::Relaxed);
                let mut reason = self.reason.lock().unwrap_or_else(|e| e.into_inner());
                reason.get_or_insert(why);
                break;
            }
            let c = self.next.fetch_add(1, Ordering::Relaxed);
            let Some(chunk) = self.level.chunk(c) else {
                break;
            };
            let mut table = self.visited.read().unwrap_or_else(|e| e.into_inner());
            // Claims on the table and counts are taken and settled per block and per chunk,
            // not per state: counters every thread updates would bounce between the cores.
            let mut room = 0;
            let (mut generated, mut stored) = (0, 0);
            for (i, record) in self.level.states(chunk, &mut unpacked) {
                let (bytes, hashes) = record.split_at(record.len() - stored_hashes);
                let Some((parent, ends, held)) = decoder.decode(bytes) else {
                    unreachable!("a level holds only whole encodings");
                };
                if stored_hashes > 0 {
                    scratch
                        .key
                        .of_stored(parent, held, hashes, &mut scratch.parent);
                } else {
                    scratch
                        .key
                        .of_encoded(bytes, ends, held, &mut scratch.parent);
                }
                self.successors(parent, &mut scratch, &table);
                let n = scratch.fps.len();
                while room < n {
                    let block = n.max(ROOM_BLOCK);
                    if table.reserve(block) {
                        room += block;
                        continue;
                    }
                    // Grow the table: every other thread finishes its chunk first.
                    table.unreserve(room);
                    table.add_len(stored);
                    (room, stored) = (0, 0);
                    drop(table);
                    let mut writer = self.visited.write().unwrap_or_else(|e| e.into_inner());
                    if writer.reserve(block) {
                        // Another thread grew it.
                        writer.unreserve(block);
                    } else {
                        writer.grow(block, self.threads);
                    }
                    drop(writer);
                    table = self.visited.read().unwrap_or_else(|e| e.into_inner());
                }
                generated += n;
                for k in 0..n {
                    let fp = scratch.fps[k];
                    let kind = scratch.actions[k].kind();
                    cov.enable(kind);
                    if scratch.recent.seen(fp) || !table.insert(fp) {
                        continue;
                    }
                    cov.take(kind);
                    room -= 1;
                    stored += 1;
                    let link = (i as u32, k as u16);
                    if !self.open.is_empty() {
                        let w = &scratch.pool[k];
                        self.discover(w, w.changes(), link, &mut scratch.healed);
                    }
                    // The successor's encoding, assembled from its kept segments, its own
                    // counters (never kept) and its parent's bytes, straight into the level.
                    let counters = scratch.pool[k].counters();
                    let pieces =
                        scratch.spans[k]
                            .iter()
                            .enumerate()
                            .map(|(seg, span)| match *span {
                                Some((a, b)) => &scratch.kept[a..b],
                                None if seg == Segment::Counters as usize => &counters[..],
                                None => &bytes[if seg == 0 { 0 } else { ends[seg - 1] }..ends[seg]],
                            });
                    let n: usize = pieces.clone().map(<[u8]>::len).sum();
                    trailer.clear();
                    if stored_hashes > 0 {
                        Fingerprinter::store_hashes(&scratch.hashes[k], &mut trailer);
                    }
                    out.push_with(n + trailer.len(), link, |level| {
                        for piece in pieces {
                            level.extend_from_slice(piece);
                        }
                        debug_assert_eq!(level[level.len() - n..], scratch.pool[k].encode());
                        level.extend_from_slice(&trailer);
                    })?;
                }
            }
            table.unreserve(room);
            table.add_len(stored);
            let generated = self.generated.fetch_add(generated, Ordering::Relaxed) + generated;
            drop(table);
            self.progress.tick(|| {
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
                        self.start.elapsed()
                    )
                )
            });
        }
        self.coverage
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .merge(&cov);
        out.finish()
    }

    /// Computes every successor of `parent` into the scratch pool, with its fingerprint (its
    /// table slot prefetched): only the segments the action changed are encoded, and kept, so
    /// that a successor found new has its encoding assembled from them and its parent's bytes.
    fn successors(&self, parent: &World, s: &mut Scratch, table: &Shared) {
        s.actions.clear();
        parent.enabled_at(self.setup, &mut s.actions);
        while s.pool.len() < s.actions.len() {
            s.pool.push(parent.clone());
        }
        s.fps.clear();
        s.kept.clear();
        s.spans.clear();
        s.hashes.clear();
        let source = Source::of(parent);
        for (a, w) in s.actions.iter().zip(s.pool.iter_mut()) {
            w.overwrite_from(source);
            w.forget_changes();
            if w.apply_enabled(self.setup, a).is_err() {
                unreachable!("an enabled action is refused");
            }
            let mut spans = [None; SEGMENTS];
            let fp = s
                .key
                .of_child_keeping(w, &s.parent, &mut s.child, &mut s.kept, &mut spans);
            s.spans.push(spans);
            if self.opts.symmetry {
                s.hashes.push(s.child);
            }
            table.prefetch(fp);
            s.fps.push(fp);
        }
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
        *healed = None;
        let witness = Witness {
            level: self.level_no,
            parent,
            action,
        };
        let decided: Vec<usize> = self
            .open
            .iter()
            .copied()
            .filter(|&p| self.props[p].discovered(self.setup, w, changed, healed))
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

/// Runs the search and reports like [`crate::search::check::run`] does.
pub fn run(setup: &Setup, opts: &CheckOptions) -> Report {
    run_from(setup, opts, None)
}

/// Continues the search a checkpoint stopped at ([`checkpoint::load`]).
pub fn resume(setup: &Setup, opts: &CheckOptions, loaded: Loaded) -> Report {
    run_from(setup, opts, Some(loaded))
}

fn run_from(setup: &Setup, opts: &CheckOptions, loaded: Option<Loaded>) -> Report {
    let start = Instant::now();
    let threads = opts.threads.max(1);
    let props = crate::search::check::selected(setup, opts);
    let found = Mutex::new(vec![None::<Witness>; props.len()]);
    let stop = AtomicBool::new(false);
    let reason = Mutex::new(None);
    let generated = AtomicUsize::new(1);
    let coverage = Mutex::new(Coverage::default());
    let mut coverage_partial = false;
    let hunting = |found: &[Option<Witness>]| crate::search::check::hunted(opts, &props, found);
    let mut progress = Progress {
        bar: crate::search::check::spinner(opts),
        last: Mutex::new(Instant::now()),
        estimate: String::new(),
    };
    // New states per level, and when the current level started.
    let mut sizes = vec![1];
    let mut level_start = Instant::now();
    let mut stop_reason = None;
    // `--disk DIR`: the levels' files live in a folder of their own, removed at the end.
    let spill = match opts
        .disk
        .as_deref()
        .map(tempfile::TempDir::new_in)
        .transpose()
    {
        Ok(d) => d,
        Err(e) => {
            stop_reason = Some(format!("cannot use the --disk folder: {e}"));
            None
        }
    };
    let spill_dir = spill.as_ref().map(|d| d.path());

    // `done[k]`: the parent links of level k; only the current level keeps its states.
    let mut done: Vec<Level> = Vec::new();
    let mut level = Level::default();
    let mut level_no = 0;
    // Seconds spent before a resumed run started.
    let mut before = 0.0;
    let visited = match loaded {
        Some(l) => {
            done = l.done;
            level = l.frontier;
            level_no = l.meta.levels;
            sizes = l.meta.sizes;
            before = l.meta.seconds;
            generated.store(l.meta.generated, Ordering::Relaxed);
            coverage_partial = l.meta.coverage.is_none();
            *coverage.lock().unwrap_or_else(|e| e.into_inner()) =
                l.meta.coverage.unwrap_or_default();
            let mut f = found.lock().unwrap_or_else(|e| e.into_inner());
            for (slot, w) in f.iter_mut().zip(l.meta.found) {
                *slot = w.map(|(level, parent, action)| Witness {
                    level,
                    parent,
                    action,
                });
            }
            l.visited
        }
        None => {
            let init = World::init(setup);
            let visited = opts
                .expect_states
                .map_or_else(Shared::default, Shared::for_states);
            let mut key = Fingerprinter::new(setup, opts.symmetry);
            visited.reserve(1);
            visited.insert(key.of(&init));
            visited.add_len(1);
            let mut f = found.lock().unwrap_or_else(|e| e.into_inner());
            let mut healed = None;
            for (p, slot) in props.iter().zip(f.iter_mut()) {
                if p.check_with(setup, &init, &mut healed) != p.discovery_is_failure() {
                    *slot = Some(Witness {
                        level: 0,
                        parent: 0,
                        action: 0,
                    });
                }
            }
            let mut record = init.encode();
            if opts.symmetry {
                let mut hashes = [0; SEGMENTS];
                key.of_segments(&init, &mut hashes);
                Fingerprinter::store_hashes(&hashes, &mut record);
            }
            let first = PartWriter::new(None).and_then(|mut w| {
                w.push(&record, (0, 0))?;
                w.finish()
            });
            match first {
                Ok(part) => level.add(part),
                Err(e) => stop_reason = Some(format!("cannot store a level: {e}")),
            }
            visited
        }
    };
    let visited = RwLock::new(visited);
    let mut spare = Mutex::new(Vec::new());
    let mut last_checkpoint = Instant::now();
    while !level.is_empty() && stop_reason.is_none() {
        if hunting(&found.lock().unwrap_or_else(|e| e.into_inner())) {
            stop_reason = Some("stopped at the first violation".to_string());
            break;
        }
        let open: Vec<usize> = {
            let f = found.lock().unwrap_or_else(|e| e.into_inner());
            (0..props.len()).filter(|&p| f[p].is_none()).collect()
        };
        let shift = Shift {
            setup,
            props: &props,
            level: &level,
            level_no: level_no + 1,
            visited: &visited,
            next: AtomicUsize::new(0),
            stop: &stop,
            reason: &reason,
            opts,
            start,
            generated: &generated,
            found: &found,
            open: &open,
            spill: spill_dir,
            spare: &spare,
            threads,
            progress: &progress,
            coverage: &coverage,
        };
        let parts: Vec<std::io::Result<Part>> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..threads)
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
                Err(e) => {
                    stop_reason = Some(format!("cannot store a level: {e}"));
                    stop.store(true, Ordering::Relaxed);
                }
            }
        }
        let finished = std::mem::replace(&mut level, next);
        done.push(finished.into_links(spare.get_mut().unwrap_or_else(|e| e.into_inner())));
        if stop.load(Ordering::Relaxed) {
            if stop_reason.is_none() {
                stop_reason = reason.lock().unwrap_or_else(|e| e.into_inner()).take();
            }
            break;
        }
        level_no += 1;
        let elapsed = start.elapsed();
        let expanded_per_second =
            sizes[sizes.len() - 1] as f64 / level_start.elapsed().as_secs_f64().max(1e-9);
        sizes.push(level.len());
        level_start = Instant::now();
        progress.estimate = match estimate(&sizes, expanded_per_second) {
            Some((ahead, seconds)) => format!(
                "; estimate: about {} states in all, {:.0}s to go",
                unique(&visited) as u64 + ahead,
                seconds
            ),
            None => String::new(),
        };
        if let Some(dir) = &opts.checkpoint {
            let every = opts.checkpoint_every.unwrap_or(Duration::from_secs(600));
            if last_checkpoint.elapsed() >= every && !level.is_empty() {
                let written = Instant::now();
                let meta = Meta {
                    levels: level_no,
                    generated: generated.load(Ordering::Relaxed),
                    unique: unique(&visited),
                    sizes: sizes.clone(),
                    seconds: before + start.elapsed().as_secs_f64(),
                    found: found
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .iter()
                        .map(|w| w.map(|w| (w.level, w.parent, w.action)))
                        .collect(),
                    frontier: level.len(),
                    max_depth: level_no,
                    coverage: Some(*coverage.lock().unwrap_or_else(|e| e.into_inner())),
                    ..Meta::new(checkpoint::ENGINE, setup, opts.symmetry, &props)
                };
                let table = visited.read().unwrap_or_else(|e| e.into_inner());
                match checkpoint::save(dir, &meta, &table, &done, &level) {
                    Ok(()) => {
                        if opts.progress {
                            eprintln!(
                                "checkpoint: level {level_no}, {} states, written to {} in {:.1}s",
                                meta.unique,
                                dir.display(),
                                written.elapsed().as_secs_f64()
                            );
                        }
                    }
                    Err(e) => {
                        stop_reason = Some(format!(
                            "cannot write the checkpoint to {}: {e}",
                            dir.display()
                        ));
                    }
                }
                last_checkpoint = Instant::now();
            }
        }
        let table = visited.read().map(|t| t.bytes()).unwrap_or(0);
        let heap: usize = done.iter().map(Level::heap_bytes).sum::<usize>() + level.heap_bytes();
        progress.tick(|| {
            format!(
                "level {level_no}: {} new, {}, {} MB",
                level.len(),
                progress_line(
                    generated.load(Ordering::Relaxed),
                    unique(&visited),
                    level_no,
                    elapsed
                ),
                (table + heap) >> 20
            )
        });
    }
    if let Some(bar) = progress.bar.take() {
        bar.finish_and_clear();
    }
    let seconds = before + start.elapsed().as_secs_f64();
    let complete = stop_reason.is_none();
    let found = found.into_inner().unwrap_or_else(|e| e.into_inner());
    let properties = props
        .iter()
        .zip(found)
        .map(|(p, w)| {
            let path = w.map(|w| path_to(setup, &done, w));
            let trace = path.as_ref().map(|a| replayed_steps(setup, a));
            PropertyReport::of(p, complete, path, trace)
        })
        .collect();
    let search = Search {
        engine: crate::search::check::Engine::Native,
        threads,
        stop_reason,
        states: generated.load(Ordering::Relaxed),
        unique_states: unique(&visited),
        max_depth: done.len(),
        seconds,
        coverage: coverage.into_inner().unwrap_or_else(|e| e.into_inner()),
        coverage_partial,
    };
    Report::of_search(setup, opts, search, properties)
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

//! The native breadth-first engine: level by level, on every core, with shortest
//! counterexamples.
//!
//! A level (every state at one distance from the initial state) is a list of encodings (the
//! lossless byte form of a state, `World::encode`, a few dozen bytes each), not of states. The
//! threads take chunks of the level, decode each state, compute its successors, and insert
//! their fingerprints into one shared lock-free table ([`Shared`]); a successor that is new is
//! checked against the properties and appended, encoded, to the thread's share of the next
//! level, with a parent link (its parent's index in the level, and the number of the action
//! among the parent's enabled ones). Levels are complete before the next one starts, so the
//! first level at which a property is decided holds the shortest path that decides it: the
//! same length stateright's one-threaded BFS finds. With one thread the order of every level,
//! and so every counterexample, is the same on every run; with more, the lengths are.
//!
//! Memory: the visited table holds 64-bit fingerprints only (at most 3/4 full: 11-21 bytes a
//! state), the parent links take 6 bytes a state, and two levels are kept as encodings.

use crate::search::check::{progress_line, CheckOptions};
use crate::search::fingerprints::{Fingerprinter, Shared};
use crate::search::report::{replayed_steps, PropertyReport, Report, Search};
use plasma_model::{Action, Setup, Source, World};
use plasma_properties::Property;
use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// States a thread takes from a level at a time.
const CHUNK: usize = 512;

/// A thread's share of one level: the encodings of its states, end to end.
#[derive(Default)]
struct Part {
    bytes: Vec<u8>,
    /// Where state `i` ends in `bytes` (it starts where `i - 1` ends).
    ends: Vec<u64>,
    /// State `i`'s parent (its index in the previous level) and the number of the action that
    /// led to it among the parent's enabled actions.
    parents: Vec<u32>,
    actions: Vec<u16>,
}

impl Part {
    fn state(&self, i: usize) -> &[u8] {
        let start = if i == 0 { 0 } else { self.ends[i - 1] as usize };
        &self.bytes[start..self.ends[i] as usize]
    }

    /// Adds a state whose encoding is `bytes`.
    fn push(&mut self, bytes: &[u8], (parent, action): (u32, u16)) {
        self.bytes.extend_from_slice(bytes);
        self.ends.push(self.bytes.len() as u64);
        self.parents.push(parent);
        self.actions.push(action);
    }
}

/// One level: the threads' parts, in thread order; state `i` of the level is state
/// `i - starts[p]` of part `p`.
#[derive(Default)]
struct Level {
    parts: Vec<Part>,
    starts: Vec<usize>,
    len: usize,
}

impl Level {
    fn len(&self) -> usize {
        self.len
    }

    fn add(&mut self, part: Part) {
        self.starts.push(self.len);
        self.len += part.ends.len();
        self.parts.push(part);
    }

    /// The part holding state `i`, and `i`'s index in it.
    fn locate(&self, i: usize) -> (&Part, usize) {
        let p = self.starts.partition_point(|&s| s <= i) - 1;
        (&self.parts[p], i - self.starts[p])
    }

    fn state(&self, i: usize) -> &[u8] {
        let (part, k) = self.locate(i);
        part.state(k)
    }

    fn bytes(&self) -> usize {
        self.parts
            .iter()
            .map(|p| p.bytes.capacity() + p.ends.capacity() * 8 + p.parents.capacity() * 6)
            .sum()
    }

    /// The parent links of the whole level, in state order (the encodings are dropped).
    fn links(self) -> Links {
        let mut links = Links {
            parents: Vec::with_capacity(self.len),
            actions: Vec::with_capacity(self.len),
        };
        for p in self.parts {
            links.parents.extend_from_slice(&p.parents);
            links.actions.extend_from_slice(&p.actions);
        }
        links
    }
}

/// The parent links of one level (see [`Part`]).
struct Links {
    parents: Vec<u32>,
    actions: Vec<u16>,
}

/// Where a property was decided: the state reached from state `parent` of level `level` by
/// its enabled action number `action` (`None`: the initial state).
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
    visited: &'a Shared,
    /// The next chunk of `level` to take.
    next: AtomicUsize,
    /// Set when a thread could not reserve room in the table: every thread stops taking
    /// chunks, and the states left over are expanded after the table grew.
    full: AtomicBool,
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
    symmetry: bool,
    /// The chunks this shift covers: `[first, end)` states of `level`.
    first: usize,
    end: usize,
}

/// What a thread did in one shift: its share of the next level, and the states of this level
/// it left for later (the table was full).
struct Share {
    next: Part,
    left: Vec<usize>,
}

impl Shift<'_> {
    /// A thread's work: take chunks until the level is done, the table is full or the search
    /// stops.
    fn work(&self, redo: &[usize]) -> Share {
        let setup = self.setup;
        let mut key = Fingerprinter::new(setup, self.symmetry);
        let mut share = Share {
            next: Part::default(),
            left: Vec::new(),
        };
        let mut actions = Vec::new();
        let mut pool: Vec<World> = Vec::new();
        let mut fps: Vec<u64> = Vec::new();
        // The successors' encodings, end to end, and where each ends.
        let mut encoded: Vec<u8> = Vec::new();
        let mut ends: Vec<usize> = Vec::new();
        let mut healed = None;
        let mut expand = |i: usize, share: &mut Share| -> bool {
            let Some(parent) = World::decode(self.level.state(i)) else {
                unreachable!("a level holds only whole encodings");
            };
            actions.clear();
            parent.enabled(setup, &mut actions);
            while pool.len() < actions.len() {
                pool.push(parent.clone());
            }
            fps.clear();
            encoded.clear();
            ends.clear();
            let source = Source::of(&parent);
            for (a, w) in actions.iter().zip(pool.iter_mut()) {
                w.overwrite_from(source);
                if w.apply(setup, a).is_err() {
                    unreachable!("an enabled action is refused");
                }
                let fp = key.of_keeping(w, &mut encoded);
                ends.push(encoded.len());
                self.visited.prefetch(fp);
                fps.push(fp);
            }
            if !self.visited.reserve(fps.len()) {
                return false;
            }
            self.generated.fetch_add(fps.len(), Ordering::Relaxed);
            for (k, &fp) in fps.iter().enumerate() {
                if !self.visited.insert(fp) {
                    continue;
                }
                let link = (i as u32, k as u16);
                if !self.open.is_empty() {
                    self.discover(&pool[k], link, &mut healed);
                }
                let start = if k == 0 { 0 } else { ends[k - 1] };
                share.next.push(&encoded[start..ends[k]], link);
            }
            true
        };
        for &i in redo {
            if self.full.load(Ordering::Relaxed) || !expand(i, &mut share) {
                self.full.store(true, Ordering::Relaxed);
                share.left.push(i);
            }
        }
        loop {
            if self.full.load(Ordering::Relaxed) || self.stop.load(Ordering::Relaxed) {
                break;
            }
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
            let from = self.first + c * CHUNK;
            if from >= self.end {
                break;
            }
            let to = (from + CHUNK).min(self.end);
            for i in from..to {
                if self.full.load(Ordering::Relaxed) || !expand(i, &mut share) {
                    self.full.store(true, Ordering::Relaxed);
                    share.left.push(i);
                }
            }
        }
        share
    }

    /// Checks the properties still open on this level against a new state.
    fn discover(&self, w: &World, (parent, action): (u32, u16), healed: &mut Option<World>) {
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
            .filter(|&p| {
                self.props[p].check_with(self.setup, w, healed)
                    != self.props[p].discovery_is_failure()
            })
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
    let start = Instant::now();
    let threads = opts.threads.max(1);
    let props = crate::search::check::selected(setup, opts);
    let found = Mutex::new(vec![None::<Witness>; props.len()]);
    let stop = AtomicBool::new(false);
    let reason = Mutex::new(None);
    let generated = AtomicUsize::new(1);
    let hunting = |found: &[Option<Witness>]| {
        props
            .iter()
            .zip(found)
            .any(|(p, f)| f.is_some() && crate::search::check::ends_run(opts, p))
    };
    let tty = std::io::stderr().is_terminal();
    let bar = (opts.progress && tty).then(|| {
        let bar = indicatif::ProgressBar::new_spinner();
        bar.enable_steady_tick(Duration::from_millis(200));
        bar
    });
    let mut last_report = Instant::now();

    let init = World::init(setup);
    let mut visited = Shared::default();
    let mut key = Fingerprinter::new(setup, opts.symmetry);
    visited.reserve(1);
    visited.insert(key.of(&init));
    {
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
    }
    // `links[k]` holds the parent links of level k; only the current level keeps its states.
    let mut links: Vec<Links> = Vec::new();
    let mut level = Level::default();
    let mut first_part = Part::default();
    first_part.push(&init.encode(), (0, 0));
    level.add(first_part);
    let mut stop_reason = None;
    let mut level_no = 0;
    while level.len() > 0 {
        if hunting(&found.lock().unwrap_or_else(|e| e.into_inner())) {
            stop_reason = Some("stopped at the first violation".to_string());
            break;
        }
        let open: Vec<usize> = {
            let f = found.lock().unwrap_or_else(|e| e.into_inner());
            (0..props.len()).filter(|&p| f[p].is_none()).collect()
        };
        let mut next = Level::default();
        let mut redo: Vec<usize> = Vec::new();
        let mut first = 0;
        let end = level.len();
        // Phases: each runs until the level is done or the table needs to grow.
        loop {
            let shift = Shift {
                setup,
                props: &props,
                level: &level,
                level_no: level_no + 1,
                visited: &visited,
                next: AtomicUsize::new(0),
                full: AtomicBool::new(false),
                stop: &stop,
                reason: &reason,
                opts,
                start,
                generated: &generated,
                found: &found,
                open: &open,
                symmetry: opts.symmetry,
                first,
                end,
            };
            let redo_parts: Vec<&[usize]> =
                redo.chunks(redo.len().div_ceil(threads).max(1)).collect();
            let shares: Vec<Share> = std::thread::scope(|s| {
                let handles: Vec<_> = (0..threads)
                    .map(|t| {
                        let part = redo_parts.get(t).copied().unwrap_or(&[]);
                        let shift = &shift;
                        s.spawn(move || shift.work(part))
                    })
                    .collect();
                handles
                    .into_iter()
                    .map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
                    .collect()
            });
            let full = shift.full.load(Ordering::Relaxed);
            let taken = (shift.next.load(Ordering::Relaxed) * CHUNK).min(end - first);
            redo.clear();
            for share in shares {
                next.add(share.next);
                redo.extend(share.left);
            }
            if !full {
                break;
            }
            // Chunks no thread took are still ahead; the states a thread gave back are redone
            // first (in order, so that one thread expands them in the same order every run).
            first += taken;
            redo.sort_unstable();
            visited.grow((end - first + redo.len()).min(1 << 20) * 8);
        }
        let done = std::mem::replace(&mut level, next);
        links.push(done.links());
        if stop.load(Ordering::Relaxed) {
            stop_reason = reason.lock().unwrap_or_else(|e| e.into_inner()).take();
            break;
        }
        // Grow ahead of the next level too, so that a phase rarely ends early.
        visited.grow(level.len() * 2);
        level_no += 1;
        let elapsed = start.elapsed();
        let line = || {
            format!(
                "level {level_no}: {} new, {}, {} MB",
                level.len(),
                progress_line(
                    generated.load(Ordering::Relaxed),
                    visited.len(),
                    level_no,
                    elapsed
                ),
                (visited.bytes() + level.bytes()) >> 20
            )
        };
        if let Some(bar) = &bar {
            bar.set_message(line());
        } else if opts.progress && last_report.elapsed() >= Duration::from_secs(10) {
            eprintln!("progress: {}", line());
            last_report = Instant::now();
        }
    }
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    let seconds = start.elapsed().as_secs_f64();
    let complete = stop_reason.is_none();
    let found = found.into_inner().unwrap_or_else(|e| e.into_inner());
    let properties = props
        .iter()
        .zip(found)
        .map(|(p, w)| {
            let path = w.map(|w| path_to(setup, &links, w));
            let trace = path.as_ref().map(|a| replayed_steps(setup, a));
            PropertyReport::of(p, complete, path, trace)
        })
        .collect();
    let search = Search {
        engine: crate::search::check::Engine::Native,
        threads,
        stop_reason,
        states: generated.load(Ordering::Relaxed),
        unique_states: visited.len(),
        max_depth: links.len(),
        seconds,
    };
    Report::of_search(setup, opts, search, properties)
}

/// The actions from the initial state to a witness: parent links back to level 0, then the
/// actions replayed forward (an action is stored as its number among the enabled ones).
fn path_to(setup: &Setup, links: &[Links], w: Witness) -> Vec<Action> {
    if w.level == 0 {
        return Vec::new();
    }
    let mut numbers = vec![w.action];
    let mut at = w.parent as usize;
    for level in links[1..w.level].iter().rev() {
        numbers.push(level.actions[at]);
        at = level.parents[at] as usize;
    }
    numbers.reverse();
    let mut world = World::init(setup);
    let mut path = Vec::with_capacity(numbers.len());
    let mut enabled = Vec::new();
    for n in numbers {
        enabled.clear();
        world.enabled(setup, &mut enabled);
        let a = enabled[usize::from(n)].clone();
        world = match world.step(setup, &a) {
            Ok(next) => next,
            Err(e) => unreachable!("a stored path replays: {e}"),
        };
        path.push(a);
    }
    path
}

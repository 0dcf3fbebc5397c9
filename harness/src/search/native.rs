//! A lean depth-first search of our own, beside stateright's: one thread, a stack of frames
//! instead of a queue of states each carrying its whole path, and a plain table of 64-bit
//! fingerprints instead of a concurrent map. It is the search SPIN's pan does, and what the
//! benchmark measures against it. Same model, same properties, 64-bit fingerprints as
//! stateright's (so the same, tiny, chance of two states sharing one); a counterexample is the
//! stack itself (a path, not a shortest one: use BFS for that).
//!
//! Where the time goes, and what each choice saves (profile of `default`): a successor is
//! written into a buffer the stack keeps (`World::apply` in place, and `World::overwrite`, one
//! `memcpy` of the parent when nothing spilled, where a clone of two dozen small vectors took
//! 40% of the search's time); a frame is *expanded* all at once, every
//! successor fingerprinted and its table slot prefetched before any is looked up, so that the
//! table's cache misses overlap (the successors found new are the frame's children, and each
//! is computed once: the frame keeps every successor in a pool of buffers, and descending swaps
//! the child's buffer with it);
//! the table is open addressing over the fingerprints themselves (one cache line per lookup,
//! where a general hash set reads its control bytes and then the slot); a frame keeps its
//! state's segment hashes, and a successor encodes and hashes only the segments its action
//! changed (`Fingerprinter::of_child`: 2.44 billion instructions on `tiny` instead of 2.81); a
//! small cache of the fingerprints looked up last ([`Recent`]) answers more than half of the
//! lookups without touching the table.

use crate::search::check::{progress_line, CheckOptions};
use crate::search::checkpoint::{self, LoadedDfs, Meta, StackFrame};
use crate::search::coverage::Coverage;
use crate::search::fingerprints::{Fingerprinter, Recent, SegmentHashes};
use crate::search::report::{replayed_steps, PropertyReport, Report, Search};
use plasma_model::encode::SEGMENTS;
use plasma_model::{Action, Enabled, Renaming, Setup, Source, World};
use plasma_properties::EVERYTHING;
use std::time::{Duration, Instant};

type Visited = crate::search::fingerprints::Fingerprints;

/// One level of the depth-first stack. Frames, and their pools of successor states, are kept
/// when the search backs up, so a successor is written into a buffer that exists already (no
/// allocation).
struct Frame {
    /// Boxed, as the pool's states are, so that descending swaps two pointers.
    world: Box<World>,
    actions: Vec<Enabled>,
    /// Indices of the actions whose successors were new when this frame was expanded: the
    /// children this frame owns and has yet to descend into, last first.
    fresh: Vec<usize>,
    /// The action being explored below this frame: the one that led to frame `k + 1` is
    /// `frames[k].actions[frames[k].taken]`.
    taken: usize,
    /// The successors the expansion computed, by action index: descending into one swaps it
    /// into the next frame. Empty (and `expanded` false) in a frame read back from a
    /// checkpoint, whose children are computed again.
    // Boxed on purpose: a swap moves pointers, not 848-byte states.
    #[allow(clippy::vec_box)]
    pool: Vec<Box<World>>,
    expanded: bool,
    /// The state's segment hashes, and those of its successors by action index (set by the
    /// expansion for every action that succeeded).
    hashes: SegmentHashes,
    succ: Vec<SegmentHashes>,
    /// Under symmetry: the renaming that gave the state's representative where it was its only
    /// candidate (`None` also where the frame does not know it: the expansion works it out),
    /// and those of its successors by action index.
    renaming: Option<Renaming>,
    succ_renaming: Vec<Option<Renaming>>,
}

impl Frame {
    fn new(world: World) -> Frame {
        Frame {
            world: Box::new(world),
            actions: Vec::new(),
            fresh: Vec::new(),
            taken: 0,
            pool: Vec::new(),
            expanded: false,
            hashes: [0; SEGMENTS],
            succ: Vec::new(),
            renaming: None,
            succ_renaming: Vec::new(),
        }
    }
}

/// The actions from the initial state to the newest frame of `frames`.
fn path_of(frames: &[Frame]) -> Vec<Action> {
    frames
        .iter()
        .map(|f| f.world.action_of(&f.actions[f.taken]))
        .collect()
}

/// Computes every successor of `node` (into its pool) and its fingerprint (into `fps`), with
/// the fingerprint's table slot prefetched: [`store`] probes the table once all are computed,
/// so that the cache misses overlap instead of stalling the search one at a time (and the
/// caller checks the node's properties in between, while the slots arrive).
fn expand(
    setup: &Setup,
    node: &mut Frame,
    key: &mut Fingerprinter,
    visited: &Visited,
    fps: &mut Vec<(usize, u64)>,
) {
    fps.clear();
    node.succ.clear();
    node.succ.resize(node.actions.len(), [0; SEGMENTS]);
    while node.pool.len() < node.actions.len() {
        node.pool.push(Box::new((*node.world).clone()));
    }
    node.expanded = true;
    let symmetric = key.symmetric();
    if symmetric {
        match &node.renaming {
            Some(r) => key.parent_noted(r),
            None => key.parent(&node.world),
        }
        node.succ_renaming.resize(node.actions.len(), None);
    }
    let source = Source::of(&node.world);
    for (i, (action, succ)) in node.actions.iter().zip(&mut node.pool).enumerate() {
        succ.overwrite_from(source);
        succ.forget_changes();
        if succ.apply_enabled(setup, action).is_ok() {
            let fp = key.of_child(succ, &node.hashes, &mut node.succ[i]);
            if symmetric {
                match (&mut node.succ_renaming[i], key.noted()) {
                    (Some(to), Some(from)) => to.clone_from(from),
                    (to, from) => *to = from.cloned(),
                }
            }
            visited.prefetch(fp);
            fps.push((i, fp));
        }
    }
}

/// Stores the fingerprints [`expand`] computed and records the new ones' successors as the
/// node's children, counting each successor's kind into `cov`. Returns the successors
/// generated.
fn store(
    node: &mut Frame,
    visited: &mut Visited,
    recent: &mut Recent,
    fps: &[(usize, u64)],
    cov: &mut Coverage,
) -> usize {
    node.fresh.clear();
    for &(i, fp) in fps.iter() {
        let kind = node.actions[i].kind();
        cov.enable(kind);
        if !recent.seen(fp) && visited.insert(fp) {
            node.fresh.push(i);
            cov.take(kind);
        }
    }
    fps.len()
}

/// Runs the search and reports like [`crate::search::check::run`] does.
pub fn run(setup: &Setup, opts: &CheckOptions) -> Report {
    run_from(setup, opts, None)
}

/// Continues the search a checkpoint stopped at ([`checkpoint::load_dfs`]).
pub fn resume(setup: &Setup, opts: &CheckOptions, loaded: LoadedDfs) -> Report {
    run_from(setup, opts, Some(loaded))
}

fn run_from(setup: &Setup, opts: &CheckOptions, loaded: Option<LoadedDfs>) -> Report {
    let start = Instant::now();
    let mut key = Fingerprinter::new(setup, opts.symmetry);
    let props = crate::search::check::selected(setup, opts);
    let mut found: Vec<Option<Vec<Action>>> = vec![None; props.len()];
    let mut undecided = props.len();
    let hunting = |found: &[Option<Vec<Action>>]| crate::search::check::hunted(opts, &props, found);

    let bar = crate::search::check::spinner(opts);
    let mut last_report = Instant::now();

    let mut visited = Visited::default();
    let mut recent = Recent::default();
    // Counted like stateright counts: the initial state too.
    let mut generated: usize = 1;
    let mut max_depth = 0;
    let mut stop_reason = None;
    let mut cov = Coverage::default();
    let mut coverage_partial = false;

    let init = World::init(setup);
    let mut init_hashes = [0; SEGMENTS];
    visited.insert(key.of_segments(&init, &mut init_hashes));
    // Properties of a newly found state, reached by `path` from a state whose verdicts were
    // all "nothing found" (or it would be decided): one that reads none of the parts `changed`
    // marks has that verdict too.
    let discover = |w: &World,
                    changed: u8,
                    path: &dyn Fn() -> Vec<Action>,
                    found: &mut Vec<Option<Vec<Action>>>,
                    undecided: &mut usize| {
        let mut healed = None;
        for (i, p) in props.iter().enumerate() {
            if found[i].is_some() {
                continue;
            }
            if p.discovered(setup, w, changed, &mut healed) {
                found[i] = Some(path());
                *undecided -= 1;
            }
        }
    };
    let mut fps = Vec::new();
    // `frames[..depth]` is the stack; the frames beyond it are buffers for reuse.
    let mut frames;
    let mut depth;
    // Seconds spent before a resumed run started.
    let mut before = 0.0;
    match loaded {
        None => {
            discover(&init, EVERYTHING, &Vec::new, &mut found, &mut undecided);
            let mut root = Frame::new(init);
            root.hashes = init_hashes;
            root.world.enabled_at(setup, &mut root.actions);
            expand(setup, &mut root, &mut key, &visited, &mut fps);
            generated += store(&mut root, &mut visited, &mut recent, &fps, &mut cov);
            frames = vec![root];
            depth = 1;
        }
        Some(l) => {
            visited = l.visited;
            generated = l.meta.generated;
            max_depth = l.meta.max_depth;
            before = l.meta.seconds;
            coverage_partial = l.meta.coverage.is_none();
            cov = l.meta.coverage.unwrap_or_default();
            for (slot, path) in found.iter_mut().zip(&l.meta.paths) {
                *slot = path.as_ref().map(|n| checkpoint::actions_of(setup, n));
            }
            undecided = found.iter().filter(|f| f.is_none()).count();
            frames = Vec::with_capacity(l.stack.len() + 2);
            for f in &l.stack {
                let Some(world) = World::decode(&f.state) else {
                    unreachable!("load_dfs checked every state");
                };
                let mut frame = Frame::new(world);
                key.of_segments(&frame.world, &mut frame.hashes);
                frame.world.enabled_at(setup, &mut frame.actions);
                frame.taken = f.taken;
                frame.fresh = f.fresh.clone();
                frames.push(frame);
            }
            depth = frames.len();
        }
    }
    let mut next_report = 0x10000;
    let mut last_checkpoint = Instant::now();

    while depth > 0 {
        let top = depth - 1;
        if frames[top].fresh.is_empty() {
            depth -= 1;
            continue;
        }
        if generated >= next_report || opts.max_states.is_some_and(|n| generated >= n) {
            next_report = generated + 0x10000;
            let elapsed = start.elapsed();
            stop_reason = crate::search::check::limit_reached(opts, generated, elapsed);
            if stop_reason.is_some() {
                break;
            }
            if let Some(dir) = &opts.checkpoint {
                let every = opts.checkpoint_every.unwrap_or(Duration::from_secs(600));
                if last_checkpoint.elapsed() >= every {
                    let written = Instant::now();
                    let stack: Vec<StackFrame> = frames[..depth]
                        .iter()
                        .map(|f| StackFrame {
                            state: f.world.encode(),
                            taken: f.taken,
                            fresh: f.fresh.clone(),
                        })
                        .collect();
                    let meta = Meta {
                        levels: depth,
                        generated,
                        unique: visited.len(),
                        seconds: before + elapsed.as_secs_f64(),
                        paths: found
                            .iter()
                            .map(|p| p.as_ref().map(|a| checkpoint::numbers_of(setup, a)))
                            .collect(),
                        max_depth,
                        coverage: Some(cov),
                        ..Meta::new(checkpoint::ENGINE_DFS, setup, opts.symmetry, &props)
                    };
                    if let Err(e) = checkpoint::save_dfs(dir, &meta, &mut visited, &stack) {
                        stop_reason = Some(format!(
                            "cannot write the checkpoint to {}: {e}",
                            dir.display()
                        ));
                        break;
                    }
                    if opts.progress {
                        eprintln!(
                            "checkpoint: depth {depth}, {} states, written to {} in {:.1}s",
                            meta.unique,
                            dir.display(),
                            written.elapsed().as_secs_f64()
                        );
                    }
                    last_checkpoint = Instant::now();
                }
            }
            let line = || progress_line(generated, visited.len(), max_depth, elapsed);
            if let Some(bar) = &bar {
                bar.set_message(line());
            } else if opts.progress && last_report.elapsed() >= Duration::from_secs(10) {
                eprintln!("progress: {}", line());
                last_report = Instant::now();
            }
        }
        // A buffer beyond the stack for the child.
        while frames.len() < depth + 1 {
            let world = (*frames[top].world).clone();
            frames.push(Frame::new(world));
        }
        let (stack, rest) = frames.split_at_mut(depth);
        let (parent, rest) = (&mut stack[top], rest);
        let Some(i) = parent.fresh.pop() else {
            continue;
        };
        parent.taken = i;
        let child = &mut rest[0];
        if parent.expanded {
            std::mem::swap(&mut child.world, &mut parent.pool[i]);
        } else {
            child.world.overwrite(&parent.world);
            child.world.forget_changes();
            if child
                .world
                .apply_enabled(setup, &parent.actions[i])
                .is_err()
            {
                unreachable!("a successor the expansion computed is refused");
            }
        }
        match parent.succ.get(i) {
            Some(hashes) => child.hashes = *hashes,
            // A frame read back from a checkpoint was expanded before it was written.
            None => {
                key.of_segments(&child.world, &mut child.hashes);
            }
        }
        match parent.succ_renaming.get_mut(i) {
            Some(r) => std::mem::swap(&mut child.renaming, r),
            None => child.renaming = None,
        }
        child.actions.clear();
        child.world.enabled_at(setup, &mut child.actions);
        expand(setup, child, &mut key, &visited, &mut fps);
        if undecided > 0 {
            let changed = child.world.changes();
            discover(
                &child.world,
                changed,
                &|| path_of(stack),
                &mut found,
                &mut undecided,
            );
            if hunting(&found) {
                stop_reason = Some("stopped at the first violation".to_string());
                break;
            }
        }
        generated += store(child, &mut visited, &mut recent, &fps, &mut cov);
        depth += 1;
        max_depth = max_depth.max(depth);
    }
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    let seconds = before + start.elapsed().as_secs_f64();
    let complete = stop_reason.is_none();
    let properties = props
        .iter()
        .zip(found)
        .map(|(p, path)| {
            let trace = path.as_ref().map(|a| replayed_steps(setup, a));
            PropertyReport::of(p, complete, path, trace)
        })
        .collect();
    let search = Search {
        engine: crate::search::check::Engine::Native,
        threads: 1,
        stop_reason,
        states: generated,
        unique_states: visited.len(),
        max_depth,
        seconds,
        coverage: cov,
        coverage_partial,
    };
    Report::of_search(setup, opts, search, properties)
}

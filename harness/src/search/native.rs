//! A lean depth-first search of our own, beside stateright's: one thread, a stack of frames
//! instead of a queue of states each carrying its whole path, and a plain table of 64-bit
//! fingerprints instead of a concurrent map. It is the search SPIN's pan does, and what the
//! benchmark measures against it. Same model, same properties, 64-bit fingerprints as
//! stateright's (so the same, tiny, chance of two states sharing one); a counterexample is the
//! stack itself (a path, not a shortest one: use BFS for that).
//!
//! Where the time goes, and what each choice saves: a successor is written into a buffer the
//! stack keeps (`World::apply` in place, and `World::overwrite`, one `memcpy` of the parent
//! when nothing spilled, where a clone of two dozen small vectors would dominate the search's
//! time); a frame is *expanded* all at once, every
//! successor fingerprinted and its table slot prefetched before any is looked up, so that the
//! table's cache misses overlap (the successors found new are the frame's children, and each
//! is computed once: the frame keeps every successor in a pool of buffers, and descending swaps
//! the child's buffer with it);
//! the table is open addressing over the fingerprints themselves (one cache line per lookup,
//! where a general hash set reads its control bytes and then the slot); a frame keeps its
//! state's segment hashes, and a successor encodes and hashes only the segments its action
//! changed (`Fingerprinter::of_child`); a
//! small cache of the fingerprints looked up last ([`Recent`]) answers more than half of the
//! lookups without touching the table.

use crate::search::checkpoint::{self, LoadedDfs, Meta, StackFrame};
use crate::search::coverage::Coverage;
use crate::search::fingerprints::{Fingerprinter, Recent, SegmentHashes};
use crate::search::plan::{Plan, SearchError};
use crate::search::report::{Report, Search};
use crate::search::shell::{progress_line, Shell};
use plasma_model::encode::SEGMENTS;
use plasma_model::{Action, Enabled, Renaming, Setup, Source, World};
use plasma_properties::EVERYTHING;
use std::time::Instant;

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

/// A run of the depth-first search.
struct Dfs<'a> {
    shell: Shell<'a>,
    key: Fingerprinter,
    found: Vec<Option<Vec<Action>>>,
    undecided: usize,
    visited: Visited,
    recent: Recent,
    /// Counted like stateright counts: the initial state too.
    generated: usize,
    max_depth: usize,
    stop_reason: Option<String>,
    cov: Coverage,
    coverage_partial: bool,
    fps: Vec<(usize, u64)>,
    /// `frames[..depth]` is the stack; the frames beyond it are buffers for reuse.
    frames: Vec<Frame>,
    depth: usize,
}

/// Runs the search (continuing the checkpoint `loaded`, if given).
pub(crate) fn run(
    setup: &Setup,
    plan: &Plan,
    loaded: Option<LoadedDfs>,
) -> Result<Report, SearchError> {
    let shell = Shell::new(setup, plan);
    let props = shell.props.len();
    let mut dfs = Dfs {
        key: Fingerprinter::new(setup, plan.symmetry),
        shell,
        found: vec![None; props],
        undecided: props,
        visited: Visited::for_states(0).map_err(|e| SearchError::Failed(e.to_string()))?,
        recent: Recent::default(),
        generated: 1,
        max_depth: 0,
        stop_reason: None,
        cov: Coverage::default(),
        coverage_partial: false,
        fps: Vec::new(),
        frames: Vec::new(),
        depth: 0,
    };
    match loaded {
        None => dfs.root(),
        Some(l) => dfs.resume(l),
    }
    dfs.search();
    Ok(dfs.finish())
}

impl Dfs<'_> {
    /// The stack's first frame: the initial state, its properties checked and its successors
    /// stored.
    fn root(&mut self) {
        let setup = self.shell.setup;
        let init = World::init(setup);
        let mut init_hashes = [0; SEGMENTS];
        self.visited
            .insert(self.key.of_segments(&init, &mut init_hashes));
        discover(
            &self.shell,
            &mut self.found,
            &mut self.undecided,
            &init,
            EVERYTHING,
            Vec::new,
        );
        let mut root = Frame::new(init);
        root.hashes = init_hashes;
        root.world.enabled_at(setup, &mut root.actions);
        expand(
            setup,
            &mut root,
            &mut self.key,
            &self.visited,
            &mut self.fps,
        );
        self.generated += store(
            &mut root,
            &mut self.visited,
            &mut self.recent,
            &self.fps,
            &mut self.cov,
        );
        self.frames = vec![root];
        self.depth = 1;
    }

    /// The stack a checkpoint stopped at; its frames' successors are computed again.
    fn resume(&mut self, l: LoadedDfs) {
        let setup = self.shell.setup;
        self.visited = l.visited;
        self.generated = l.meta.generated;
        self.max_depth = l.meta.max_depth;
        self.shell.before = l.meta.seconds;
        self.coverage_partial = l.meta.coverage.is_none();
        self.cov = l.meta.coverage.unwrap_or_default();
        for (slot, path) in self.found.iter_mut().zip(&l.meta.paths) {
            *slot = path.as_ref().map(|n| checkpoint::actions_of(setup, n));
        }
        self.undecided = self.found.iter().filter(|f| f.is_none()).count();
        self.frames = Vec::with_capacity(l.stack.len() + 2);
        for f in &l.stack {
            let Some(world) = World::decode(&f.state) else {
                unreachable!("load_dfs checked every state");
            };
            let mut frame = Frame::new(world);
            self.key.of_segments(&frame.world, &mut frame.hashes);
            frame.world.enabled_at(setup, &mut frame.actions);
            frame.taken = f.taken;
            frame.fresh = f.fresh.clone();
            self.frames.push(frame);
        }
        self.depth = self.frames.len();
    }

    /// Descends and backs up until the stack is empty or the run must stop.
    fn search(&mut self) {
        let mut next_report = 0x10000;
        while self.depth > 0 {
            let top = self.depth - 1;
            if self.frames[top].fresh.is_empty() {
                self.depth -= 1;
                continue;
            }
            let limited = self
                .shell
                .plan
                .limits
                .max_states
                .is_some_and(|n| self.generated >= n);
            if self.generated >= next_report || limited {
                next_report = self.generated + 0x10000;
                if !self.between() {
                    break;
                }
            }
            if !self.descend() {
                break;
            }
        }
    }

    /// Every 64 K states: limits, a checkpoint if one is due, progress. False when the run
    /// must stop.
    fn between(&mut self) -> bool {
        self.stop_reason = self.shell.limit_reached(self.generated);
        if let Some(e) = self.visited.failed() {
            self.stop_reason = Some(e.to_string());
        }
        if self.stop_reason.is_some() {
            return false;
        }
        if let Some(dir) = self.shell.checkpoint_due() {
            self.checkpoint(dir);
            if self.stop_reason.is_some() {
                return false;
            }
        }
        let elapsed = self.shell.start.elapsed();
        self.shell
            .progress
            .tick(|| progress_line(self.generated, self.visited.len(), self.max_depth, elapsed));
        true
    }

    /// Writes the stack and the visited table into `dir`.
    fn checkpoint(&mut self, dir: &std::path::Path) {
        let written = Instant::now();
        let setup = self.shell.setup;
        let stack: Vec<StackFrame> = self.frames[..self.depth]
            .iter()
            .map(|f| StackFrame {
                state: f.world.encode(),
                taken: f.taken,
                fresh: f.fresh.clone(),
            })
            .collect();
        let meta = Meta {
            levels: self.depth,
            generated: self.generated,
            unique: self.visited.len(),
            seconds: self.shell.seconds(),
            paths: self
                .found
                .iter()
                .map(|p| p.as_ref().map(|a| checkpoint::numbers_of(setup, a)))
                .collect(),
            max_depth: self.max_depth,
            coverage: Some(self.cov),
            ..Meta::new(
                checkpoint::ENGINE_DFS,
                setup,
                self.shell.plan.symmetry,
                &self.shell.props,
            )
        };
        let result = checkpoint::save_dfs(dir, &meta, &mut self.visited, &stack);
        let what = format!("depth {}, {} states", self.depth, meta.unique);
        self.stop_reason = self.shell.checkpointed(what, written, result);
    }

    /// Takes the top frame's next new successor as a new frame: its successors computed and
    /// stored, its properties checked. False when a hunted property was found.
    fn descend(&mut self) -> bool {
        let (setup, depth) = (self.shell.setup, self.depth);
        let top = depth - 1;
        // A buffer beyond the stack for the child.
        while self.frames.len() < depth + 1 {
            let world = (*self.frames[top].world).clone();
            self.frames.push(Frame::new(world));
        }
        let (stack, rest) = self.frames.split_at_mut(depth);
        let (parent, child) = (&mut stack[top], &mut rest[0]);
        let Some(i) = parent.fresh.pop() else {
            return true;
        };
        parent.taken = i;
        child_of(setup, parent, i, child, &mut self.key);
        expand(setup, child, &mut self.key, &self.visited, &mut self.fps);
        if self.undecided > 0 {
            let changed = child.world.changes();
            let (stack, rest) = self.frames.split_at(depth);
            let child = &rest[0];
            discover(
                &self.shell,
                &mut self.found,
                &mut self.undecided,
                &child.world,
                changed,
                || path_of(stack),
            );
            if self.shell.hunted(&self.found) {
                self.stop_reason = Some("stopped at the first violation".to_string());
                return false;
            }
        }
        let child = &mut self.frames[depth];
        self.generated += store(
            child,
            &mut self.visited,
            &mut self.recent,
            &self.fps,
            &mut self.cov,
        );
        self.depth += 1;
        self.max_depth = self.max_depth.max(self.depth);
        true
    }

    fn finish(self) -> Report {
        let failed = self.visited.failed().map(|e| e.to_string());
        let search = Search {
            stop_reason: failed.or(self.stop_reason),
            states: self.generated,
            unique_states: self.visited.len(),
            max_depth: self.max_depth,
            coverage: self.cov,
            coverage_partial: self.coverage_partial,
        };
        self.shell.report(search, self.found)
    }
}

/// Puts `parent`'s successor by its action `i` into `child`: the one the expansion computed,
/// or (a frame read back from a checkpoint) computed again.
fn child_of(
    setup: &Setup,
    parent: &mut Frame,
    i: usize,
    child: &mut Frame,
    key: &mut Fingerprinter,
) {
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
}

/// Checks the open properties against a newly found state, reached by `path` from a state
/// whose verdicts were all "nothing found" (or it would be decided): one that reads none of
/// the parts `changed` marks has that verdict too.
fn discover(
    shell: &Shell,
    found: &mut [Option<Vec<Action>>],
    undecided: &mut usize,
    w: &World,
    changed: u8,
    path: impl Fn() -> Vec<Action>,
) {
    let mut healed = None;
    let open = (0..found.len()).filter(|&i| found[i].is_none());
    let decided: Vec<usize> = shell.decided(open, w, changed, &mut healed).collect();
    for i in decided {
        found[i] = Some(path());
        *undecided -= 1;
    }
}

//! The stateright `Model` adapter: states are [`World`]s, actions are model [`Action`]s, and the
//! properties are the shared list from `plasma-properties`.

use crate::search::coverage::Coverage;
use crate::search::fingerprints::Fingerprinter;
use plasma_model::ActionKind;
use plasma_model::{describe, Action, Setup, Symmetry, World};
use stateright::{Model, Property};
use std::cell::RefCell;
use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// The plasma protocol under one [`Setup`], as a stateright model.
#[derive(Clone)]
pub struct PlasmaModel {
    pub setup: Setup,
    /// One flag per property, set at its first discovery. stateright (0.31) evaluates every
    /// property on every state and keeps the *latest* discovery; answering "nothing to report"
    /// after the first one keeps the first (under single-threaded BFS, a shortest one) and skips
    /// re-evaluating a property that is already decided.
    found: Arc<Vec<AtomicBool>>,
    /// Set when the run must stop (timeout): from then on no state has successors, so the
    /// search drains. stateright's own timeout is not enough: a single BFS worker only looks at
    /// it once its local queue is empty.
    pub stop: Arc<AtomicBool>,
    /// Check only these properties (all applicable ones when `None`).
    pub only: Option<Vec<&'static str>>,
    /// Action coverage, counted when set (by the check, not the explorer, whose browsing
    /// would only grow it).
    pub coverage: Option<Arc<Counting>>,
}

/// Shards of [`Counting`]'s set of states seen: enough that threads rarely wait on one another.
const SHARDS: usize = 64;

/// Action coverage counted from inside the model, the only place stateright lets us see its
/// transitions. `enabled` counts every successor `next_state` produces, as stateright's own
/// state count does. stateright keeps to itself whether a successor was new, and its visitor
/// (which sees each new state once) rebuilds the state's whole path by replaying it from the
/// initial state, a cost that grows with the depth of every state; so `taken` comes from a set
/// of our own, of the native engines' fingerprints of the states seen (of their
/// representatives under symmetry, so an orbit enters it once, as in stateright's DFS). Each
/// state enters it once, so `taken` adds up to the unique states but one, as on the native
/// engines; with several threads, which of two racing transitions counts as the first may
/// differ from the one stateright kept.
pub struct Counting {
    /// Tells this run's fingerprinters (one a thread) from an earlier run's.
    id: u64,
    setup: Setup,
    symmetry: bool,
    enabled: [AtomicU64; ActionKind::COUNT],
    taken: [AtomicU64; ActionKind::COUNT],
    seen: Vec<Mutex<HashSet<u64, nohash::BuildNoHash>>>,
}

static RUNS: AtomicU64 = AtomicU64::new(0);

thread_local! {
    /// The fingerprinter of the run (by [`Counting::id`]) this thread last counted for.
    static KEY: RefCell<Option<(u64, Fingerprinter)>> = const { RefCell::new(None) };
}

impl Counting {
    pub fn new(setup: &Setup, symmetry: bool) -> Counting {
        let c = Counting {
            id: RUNS.fetch_add(1, Ordering::Relaxed),
            setup: setup.clone(),
            symmetry,
            enabled: std::array::from_fn(|_| AtomicU64::new(0)),
            taken: std::array::from_fn(|_| AtomicU64::new(0)),
            seen: (0..SHARDS).map(|_| Mutex::default()).collect(),
        };
        c.is_new(&World::init(setup));
        c
    }

    fn is_new(&self, w: &World) -> bool {
        let fp = KEY.with(|key| {
            let mut key = key.borrow_mut();
            match &mut *key {
                Some((id, k)) if *id == self.id => k.of(w),
                _ => {
                    let mut k = Fingerprinter::new(&self.setup, self.symmetry);
                    let fp = k.of(w);
                    *key = Some((self.id, k));
                    fp
                }
            }
        });
        self.seen[(fp >> 58) as usize % SHARDS]
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(fp)
    }

    fn count(&self, kind: ActionKind, next: &World) {
        self.enabled[kind.index()].fetch_add(1, Ordering::Relaxed);
        if self.is_new(next) {
            self.taken[kind.index()].fetch_add(1, Ordering::Relaxed);
        }
    }

    /// The counts so far (take them before stateright replays discovered paths through the
    /// model, which would count those steps again).
    pub fn snapshot(&self) -> Coverage {
        Coverage {
            enabled: std::array::from_fn(|i| self.enabled[i].load(Ordering::Relaxed)),
            taken: std::array::from_fn(|i| self.taken[i].load(Ordering::Relaxed)),
        }
    }
}

/// A hasher for keys that are hashes already.
mod nohash {
    #[derive(Default)]
    pub struct NoHash(u64);

    impl std::hash::Hasher for NoHash {
        fn finish(&self) -> u64 {
            self.0
        }
        fn write(&mut self, _: &[u8]) {
            unreachable!("only u64 keys");
        }
        fn write_u64(&mut self, n: u64) {
            self.0 = n;
        }
    }

    pub type BuildNoHash = std::hash::BuildHasherDefault<NoHash>;
}

impl PlasmaModel {
    pub fn new(setup: Setup) -> Self {
        let found = plasma_properties::all()
            .iter()
            .map(|_| AtomicBool::new(false))
            .collect();
        PlasmaModel {
            setup,
            found: Arc::new(found),
            stop: Arc::new(AtomicBool::new(false)),
            only: None,
            coverage: None,
        }
    }
}

fn representative<const INSTALLS: bool, const PIN0: bool>(w: &World) -> World {
    w.representative(Symmetry {
        installs: INSTALLS,
        pin_client0: PIN0,
    })
}

/// stateright takes the representative as a plain function: one instance per kind of symmetry.
pub fn representative_fn(sym: Symmetry) -> fn(&World) -> World {
    match (sym.installs, sym.pin_client0) {
        (false, false) => representative::<false, false>,
        (false, true) => representative::<false, true>,
        (true, false) => representative::<true, false>,
        (true, true) => representative::<true, true>,
    }
}

fn condition<const I: usize>(model: &PlasmaModel, state: &World) -> bool {
    let p = &plasma_properties::all()[I];
    let no_discovery = p.discovery_is_failure();
    if model.found[I].load(Ordering::Relaxed) {
        return no_discovery;
    }
    let result = p.check(&model.setup, state);
    if result != no_discovery {
        model.found[I].store(true, Ordering::Relaxed);
    }
    result
}

type Condition = fn(&PlasmaModel, &World) -> bool;

macro_rules! conditions {
    ($($i:literal)*) => { [$(condition::<$i> as Condition),*] };
}

/// stateright wants plain function pointers; one instance of `condition` per property index.
const CONDITIONS: [Condition; 36] = conditions!(0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25 26 27 28 29 30 31 32 33 34 35);

impl Model for PlasmaModel {
    type State = World;
    type Action = Action;

    fn init_states(&self) -> Vec<World> {
        vec![World::init(&self.setup)]
    }

    fn actions(&self, state: &World, actions: &mut Vec<Action>) {
        if self.stop.load(Ordering::Relaxed) {
            return;
        }
        state.enabled(&self.setup, actions);
    }

    fn next_state(&self, state: &World, action: Action) -> Option<World> {
        let next = state.step(&self.setup, &action).ok()?;
        if let Some(c) = &self.coverage {
            c.count(action.kind(), &next);
        }
        Some(next)
    }

    fn format_action(&self, action: &Action) -> String {
        describe::action(action)
    }

    fn as_svg(&self, path: stateright::Path<World, Action>) -> Option<String> {
        let pairs = path.into_vec();
        let worlds: Vec<World> = pairs.iter().map(|(w, _)| w.clone()).collect();
        let actions: Vec<Action> = pairs.into_iter().filter_map(|(_, a)| a).collect();
        let numbers = crate::trace::Numbering::lowest_numbers(&worlds, &actions);
        Some(crate::trace::diagram::Diagram::of(&self.setup, &worlds, &actions, &numbers).svg())
    }

    fn format_step(&self, last_state: &World, action: Action) -> Option<String> {
        let next = last_state.step(&self.setup, &action).ok()?;
        Some(describe::step(last_state, &action, &next))
    }

    fn properties(&self) -> Vec<Property<Self>> {
        let all = plasma_properties::all();
        assert!(all.len() <= CONDITIONS.len(), "raise CONDITIONS");
        all.iter()
            .zip(CONDITIONS)
            .filter(|(p, _)| (p.applies)(&self.setup.config))
            .filter(|(p, _)| self.only.as_ref().is_none_or(|o| o.contains(&p.name)))
            .map(|(p, cond)| match p.expect {
                plasma_properties::Expect::Always => Property::always(p.name, cond),
                plasma_properties::Expect::Sometimes => Property::sometimes(p.name, cond),
            })
            .collect()
    }
}

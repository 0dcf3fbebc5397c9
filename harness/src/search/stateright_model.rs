//! The stateright `Model` adapter: states are [`World`]s, actions are model [`Action`]s, and the
//! properties are the shared list from `plasma-properties`.

use plasma_model::{describe, Action, Setup, Symmetry, World};
use stateright::{Model, Property};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

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

/// Extension: `Setup::into_model()`, as stateright's examples spell it.
pub trait IntoModel {
    fn into_model(self) -> PlasmaModel;
}

impl IntoModel for Setup {
    fn into_model(self) -> PlasmaModel {
        PlasmaModel::new(self)
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
        state.step(&self.setup, &action).ok()
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

//! Seeded random exploration past the exhaustive bounds (many tabs, dozens of mutations, resets
//! and faults in the middle). Everything derives from one seed: case `i` uses a ChaCha8 stream
//! seeded from `(seed, i)`, so a failing case can be rerun alone. With `swarm`, each case draws
//! its own mix (which action kinds are enabled at all, and their weights), as swarm testing does.

pub mod cli;

use crate::search::coverage::{never_taken, Coverage, KindCoverage};
use crate::trace::counterexample_trace;
use crate::trace::Trace;
use plasma_model::{Action, Config, Msg, Setup, World};
use plasma_properties::{Expect, Scope};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

/// Action kinds a mix weighs; the index is `kind`.
pub const KINDS: [&str; 14] = [
    "Mutate",
    "Push",
    "Pull",
    "Reload",
    "OpenTab",
    "DuplicateTab",
    "CloseTab",
    "RestoreTab",
    "ResetLocalState",
    "Deliver",
    "Drop",
    "Duplicate",
    "Logout",
    "Login",
];

fn kind(a: &Action) -> usize {
    match a {
        Action::Mutate { .. } => 0,
        Action::Push { .. } => 1,
        Action::Pull { .. } => 2,
        Action::Reload { .. } => 3,
        Action::OpenTab { .. } => 4,
        Action::DuplicateTab { .. } => 5,
        Action::CloseTab { .. } => 6,
        Action::RestoreTab { .. } => 7,
        Action::ResetLocalState { .. } => 8,
        Action::Deliver(_) => 9,
        Action::Drop(_) => 10,
        Action::Duplicate(_) => 11,
        Action::Logout { .. } => 12,
        Action::Login { .. } => 13,
    }
}

/// Relative weight of each action kind (0: never chosen).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Mix {
    pub weights: [u32; 14],
}

impl Mix {
    /// The even mix: deliveries and the sync loop dominate, lifecycle events are rarer.
    pub fn standard() -> Mix {
        Mix {
            weights: [10, 8, 8, 2, 1, 1, 1, 1, 1, 20, 2, 2, 1, 1],
        }
    }

    /// A swarm mix: each kind is switched off with probability 1/3, else weighted 1..=10;
    /// deliveries are never switched off (a network that delivers nothing tests nothing).
    pub fn swarm(rng: &mut ChaCha8Rng) -> Mix {
        let mut weights = [0; 14];
        for (i, w) in weights.iter_mut().enumerate() {
            let on = i == 9 || rng.gen_range(0..3) > 0;
            *w = if on { rng.gen_range(1..=10) } else { 0 };
        }
        weights[9] = weights[9].max(5);
        Mix { weights }
    }
}

/// The configuration `simulate` explores by default: far past what exhaustive search finishes
/// (7 rows: 5 last-write-wins, 1 resolveConflict, 1 counter; the first 2 private).
pub fn large_config() -> Config {
    Config {
        installs: 4,
        tabs: 6,
        rows: 5,
        max_mutations: 40,
        drops: 5,
        duplicates: 5,
        max_in_flight: 8,
        max_resets: 3,
        users: 2,
        private_rows: 2,
        max_rows: 1,
        counter_rows: 1,
        max_auth_changes: 4,
    }
}

#[derive(Clone, Debug)]
pub struct SimOptions {
    pub seed: u64,
    pub cases: u64,
    /// Steps per case (fewer if no action is enabled).
    pub steps: usize,
    pub swarm: bool,
    /// The slice of the cases this run takes (all of them by default).
    pub shard: Shard,
}

/// One of `count` slices of a seeded run: the cases `c < cases` with `c % count == index`.
/// Each case derives from the seed and its own number only, so N machines running shards
/// `0/N` ... `N-1/N` run exactly the unsharded run's cases between them, and the earliest
/// failing case of their union is the unsharded run's failure.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    pub index: u64,
    pub count: u64,
}

impl Default for Shard {
    fn default() -> Self {
        Shard { index: 0, count: 1 }
    }
}

impl Shard {
    /// `I/N` with `I < N`; the error names what is wrong.
    pub fn parse(text: &str) -> Result<Shard, String> {
        let bad = || format!("--shard {text}: expected I/N with 0 <= I < N, for example 0/4");
        let (i, n) = text.split_once('/').ok_or_else(bad)?;
        let index: u64 = i.trim().parse().map_err(|_| bad())?;
        let count: u64 = n.trim().parse().map_err(|_| bad())?;
        if count == 0 || index >= count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }

    pub fn owns(self, case: u64) -> bool {
        case % self.count == self.index
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl Serialize for Shard {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// A failing case, shrunk.
#[derive(Clone, Debug, Serialize)]
pub struct SimFailure {
    pub case: u64,
    pub property: &'static str,
    /// Steps of the failing case before and after shrinking.
    pub steps_found: usize,
    pub steps_shrunk: usize,
    pub mix: Mix,
    #[serde(skip)]
    pub trace: Option<Trace>,
}

#[derive(Clone, Debug, Serialize)]
pub struct SimReport {
    pub seed: u64,
    pub shard: Shard,
    pub cases_run: u64,
    pub steps_run: u64,
    pub seconds: f64,
    pub steps_per_second: f64,
    pub failure: Option<SimFailure>,
    /// Per action kind over every case run: `enabled` counts the actions of the kind offered
    /// at the steps taken (each enabled action once, as an exhaustive search counts its
    /// transitions), `taken` the steps that chose one.
    pub coverage: Vec<KindCoverage>,
    /// The kinds the configuration allows that no step chose.
    pub never_taken: Vec<&'static str>,
}

/// The random stream of case `case` of a run seeded `seed`.
pub fn case_rng(seed: u64, case: u64) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(case);
    rng
}

/// The first `always` property (of state scope) that fails in `w`.
pub fn failing_state_property(setup: &Setup, w: &World) -> Option<&'static str> {
    plasma_properties::applicable(&setup.config)
        .filter(|p| p.expect == Expect::Always && p.scope == Scope::State)
        .find(|p| !(p.holds)(setup, w))
        .map(|p| p.name)
}

/// The first quiescence property that fails once `w` is healed.
pub fn failing_quiescent_property(setup: &Setup, w: &World) -> Option<&'static str> {
    let healed = plasma_properties::heal(setup, w);
    plasma_properties::applicable(&setup.config)
        .filter(|p| p.expect == Expect::Always && p.scope == Scope::Quiescent)
        .find(|p| !(p.holds)(setup, &healed))
        .map(|p| p.name)
}

/// Drives one run from the initial state: `pick` chooses among the enabled actions (or ends
/// the run with `None`). Safety is checked after every step; quiescence (by healing) whenever
/// the network is empty and at the end, as in the exhaustive check. Checking quiescence only at
/// the end lets later writes mask a lost row (`pull_base_check` was found in 1 of ~2,000 cases
/// that way, and missed by one seed in 10,000). Returns the actions taken and the first property
/// that failed. Each step's choices and choice are counted into `cov`.
fn drive(
    setup: &Setup,
    mut pick: impl FnMut(&[Action]) -> Option<usize>,
    cov: &mut Coverage,
) -> (Vec<Action>, Option<&'static str>) {
    let mut w = World::init(setup);
    let mut taken = Vec::new();
    let mut enabled = Vec::new();
    loop {
        enabled.clear();
        w.enabled(setup, &mut enabled);
        let Some(action) = pick(&enabled).and_then(|i| enabled.get(i)) else {
            break;
        };
        let Ok(next) = w.step(setup, action) else {
            break;
        };
        w = next;
        for a in &enabled {
            cov.enable(a.kind());
        }
        cov.take(action.kind());
        taken.push(action.clone());
        if let Some(p) = failing_state_property(setup, &w) {
            return (taken, Some(p));
        }
        if w.network.is_empty() {
            if let Some(p) = failing_quiescent_property(setup, &w) {
                return (taken, Some(p));
            }
        }
    }
    let failed = failing_quiescent_property(setup, &w);
    (taken, failed)
}

/// Runs one random case of at most `steps` steps, each action drawn by the mix's weights; its
/// action coverage is added to `cov`.
pub fn run_case(
    setup: &Setup,
    rng: &mut ChaCha8Rng,
    steps: usize,
    mix: &Mix,
    cov: &mut Coverage,
) -> (Vec<Action>, Option<&'static str>) {
    let mut left = steps;
    drive(
        setup,
        |enabled| {
            left = left.checked_sub(1)?;
            let total: u32 = enabled.iter().map(|a| mix.weights[kind(a)]).sum();
            if total == 0 {
                return None;
            }
            let mut draw = rng.gen_range(0..total);
            enabled.iter().position(|a| {
                let wt = mix.weights[kind(a)];
                if draw < wt {
                    true
                } else {
                    draw -= wt;
                    false
                }
            })
        },
        cov,
    )
}

/// Runs a *choice sequence*: each number picks one of the actions enabled at that step (modulo
/// their count), so every sequence is valid and a shrinker (proptest) can shorten it and lower
/// its numbers freely.
pub fn run_choices(setup: &Setup, choices: &[u16]) -> (Vec<Action>, Option<&'static str>) {
    let mut next = choices.iter();
    drive(
        setup,
        |enabled| {
            let c = next.next()?;
            (!enabled.is_empty()).then(|| usize::from(*c) % enabled.len())
        },
        &mut Coverage::default(),
    )
}

/// Network actions are re-resolved when a shrunk sequence replays: "deliver the oldest push
/// from tab 1" still means something after an earlier mutation was removed, although the
/// message's content (its mids and serials) changed.
fn resolve(w: &World, original: &Action) -> Option<Action> {
    let (make, m): (fn(Msg) -> Action, &Msg) = match original {
        Action::Deliver(m) => (Action::Deliver, m),
        Action::Drop(m) => (Action::Drop, m),
        Action::Duplicate(m) => (Action::Duplicate, m),
        other => return Some(other.clone()),
    };
    if w.network.contains(m) {
        return Some(make(m.clone()));
    }
    w.network
        .distinct()
        .find(|x| x.kind() == m.kind() && x.tab() == m.tab())
        .map(|x| make(x.clone()))
}

/// Replays `actions` leniently (an action the state refuses is left out, so removing a Push
/// also removes the deliveries that depended on it); the actions kept, if they end failing
/// `property`.
fn still_fails(setup: &Setup, actions: &[Action], property: &str) -> Option<Vec<Action>> {
    let p = plasma_properties::by_name(property)?;
    let mut w = World::init(setup);
    let mut kept = Vec::new();
    for a in actions {
        let Some(a) = resolve(&w, a) else { continue };
        if let Ok(n) = w.step(setup, &a) {
            w = n;
            kept.push(a);
            if p.scope == Scope::State && !(p.holds)(setup, &w) {
                return Some(kept);
            }
        }
    }
    let fails = match p.scope {
        Scope::State => false,
        Scope::Quiescent => !(p.holds)(setup, &plasma_properties::heal(setup, &w)),
    };
    fails.then_some(kept)
}

/// Shrinks a failing sequence: remove chunks, halving the chunk size, while the rest still
/// fails the same property (delta debugging over a lenient replay; deterministic).
pub fn shrink(setup: &Setup, actions: &[Action], property: &str) -> Vec<Action> {
    let mut cur = still_fails(setup, actions, property).unwrap_or_else(|| actions.to_vec());
    let mut chunk = cur.len().div_ceil(2).max(1);
    loop {
        let mut i = 0;
        let mut progressed = false;
        while i < cur.len() {
            let end = (i + chunk).min(cur.len());
            let candidate: Vec<Action> = cur[..i].iter().chain(&cur[end..]).cloned().collect();
            match still_fails(setup, &candidate, property) {
                Some(kept) if kept.len() < cur.len() => {
                    cur = kept;
                    progressed = true;
                }
                _ => i += chunk,
            }
        }
        if chunk == 1 && !progressed {
            return cur;
        }
        if !progressed {
            chunk = (chunk / 2).max(1);
        }
    }
}

/// Runs `cases` random cases from one seed; stops at the first failure, which is shrunk and
/// turned into a trace. `on_case` is called after each case (for progress).
pub fn simulate(setup: &Setup, opts: &SimOptions, mut on_case: impl FnMut(u64, u64)) -> SimReport {
    let start = std::time::Instant::now();
    let mut steps_run = 0u64;
    let mut failure = None;
    let mut cases_run = 0;
    let mut cov = Coverage::default();
    for case in (0..opts.cases).filter(|&c| opts.shard.owns(c)) {
        let mut rng = case_rng(opts.seed, case);
        let mix = if opts.swarm {
            Mix::swarm(&mut rng)
        } else {
            Mix::standard()
        };
        let (actions, failed) = run_case(setup, &mut rng, opts.steps, &mix, &mut cov);
        steps_run += actions.len() as u64;
        cases_run += 1;
        on_case(cases_run, steps_run);
        if let Some(property) = failed {
            let shrunk = shrink(setup, &actions, property);
            let trace = counterexample_trace(setup, &shrunk, property).ok();
            failure = Some(SimFailure {
                case,
                property,
                steps_found: actions.len(),
                steps_shrunk: shrunk.len(),
                mix,
                trace,
            });
            break;
        }
    }
    let seconds = start.elapsed().as_secs_f64();
    let coverage = cov.simulation_rows(setup);
    SimReport {
        never_taken: never_taken(&coverage),
        coverage,
        seed: opts.seed,
        shard: opts.shard,
        cases_run,
        steps_run,
        seconds,
        steps_per_second: steps_run as f64 / seconds.max(1e-9),
        failure,
    }
}

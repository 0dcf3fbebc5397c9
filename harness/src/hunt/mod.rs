//! Hunting counterexamples: every mutant, and every flaw of the documented protocol, must be
//! caught by some property; single-threaded BFS finds the shortest counterexample, the same on
//! every run and every machine.

pub mod cli;

use crate::exit;
use crate::presets;
use crate::search::plan::{EnginePlan, Plan, Strategy};
use crate::search::report::Status;
use crate::trace::{counterexample_trace, Trace};
use plasma_model::{Action, Config, DuplicateTab, MidCounter, Mutant, Protocol, ResetScope, Setup};
use serde::Serialize;
use std::fmt::Write;

/// Something the checker must catch.
#[derive(Clone, Debug)]
pub struct Target {
    /// `mutant` or `documented`.
    pub kind: &'static str,
    /// The mutant's name, or the switch of the documented flaw.
    pub name: &'static str,
    pub about: &'static str,
    pub setup: Setup,
    /// The property this target is about, when it is not simply the first one to break.
    pub property: Option<&'static str>,
}

/// The smallest configuration each target needs: `tiny`, or two installations for a bug that
/// only shows across groups.
pub fn hunt_config(mutant: Option<Mutant>) -> Config {
    let tiny = presets::preset("tiny").unwrap_or_default();
    match mutant {
        Some(Mutant::LmidsAllGroups) => Config {
            installs: 2,
            tabs: 2,
            max_resets: 0,
            ..tiny
        },
        Some(Mutant::AuthCtxCached | Mutant::WriteUnchecked) => auth_hunt_config(),
        Some(Mutant::PushAnyAuthor) => presets::preset("user-switch").unwrap_or_default(),
        // A tab closed before a user switch and reopened after it: two tabs, two users, a
        // logout and a login; one message in flight is enough (the trace sends none).
        Some(Mutant::RestoreAcrossLogin) => Config {
            max_in_flight: 1,
            max_resets: 0,
            users: 2,
            max_auth_changes: 2,
            ..tiny
        },
        // Two tabs write one resolveConflict row.
        Some(Mutant::ResolveConflictIgnored) => Config {
            rows: 0,
            max_rows: 1,
            max_resets: 0,
            ..tiny
        },
        // Two tabs increment one counter.
        Some(Mutant::CounterAsLww) => Config {
            rows: 0,
            counter_rows: 1,
            max_resets: 0,
            ..tiny
        },
        _ => tiny,
    }
}

/// One installation, two users, one private row, a logout and a login.
pub fn auth_hunt_config() -> Config {
    Config {
        installs: 1,
        tabs: 1,
        rows: 1,
        max_mutations: 2,
        max_in_flight: 2,
        users: 2,
        private_rows: 1,
        max_auth_changes: 2,
        ..Config::default()
    }
}

/// The documented protocol's flaws, one per switch: the hardened protocol with that one switch
/// set as the page reads.
pub fn documented_flaws() -> Vec<Target> {
    let d = Protocol::documented();
    let flaw = |name: &'static str, about: &'static str, set: fn(&mut Protocol, &Protocol)| {
        let mut p = Protocol::hardened();
        set(&mut p, &d);
        let config = match name {
            "auth_change_reset" => auth_hunt_config(),
            "group_id" => presets::preset("user-switch").unwrap_or_default(),
            "group_id+pull_from" => presets::preset("devices").unwrap_or_default(),
            _ => hunt_config(None),
        };
        Target {
            kind: "documented",
            name,
            about,
            setup: Setup::new(config, p),
            // The page's own example of this flaw is stale rows after a logout.
            property: (name == "auth_change_reset").then_some("read-isolation"),
        }
    };
    let flaws = vec![
        flaw("mid_counter", "the next mutationID is derived from the outbox: after a reload with an empty outbox it restarts at 1", |p, d| p.mid_counter = d.mid_counter),
        flaw("duplicate_tab", "a duplicated tab keeps the copied clientID: two live tabs share one outbox slice", |p, d| p.duplicate_tab = d.duplicate_tab),
        flaw("orphan_recovery", "nobody pushes the slice of a tab closed with pending mutations", |p, d| p.orphan_recovery = d.orphan_recovery),
        flaw("reset_scope", "resetLocalState() wipes the whole IDB, other tabs' pending mutations included", |p, d| p.reset_scope = d.reset_scope),
        flaw("pull_base_check", "a pull response is applied if it is not older than the IDB cookie, even across a reset", |p, d| p.pull_base_check = d.pull_base_check),
        flaw("auth_change_reset", "after the user changes, a pull still gets a tail patch: the old user's rows stay cached", |p, d| p.auth_change_reset = d.auth_change_reset),
        flaw("group_id", "clientGroupID is the user's id: after a user switch the one IDB's pending mutations go out as the new user, in the new user's group", |p, d| p.group_id = d.group_id),
        flaw("pull_from", "the server computes a pull's patch from the last cookie it served the group, not from the request's cookie", |p, d| p.pull_from = d.pull_from),
        flaw("group_id+pull_from", "two devices of one user share one clientGroupID, and so the server's record of what the group has seen", |p, d| {
            p.group_id = d.group_id;
            p.pull_from = d.pull_from;
        }),
    ];
    debug_assert!(d.mid_counter == MidCounter::Outbox && d.duplicate_tab == DuplicateTab::Share);
    debug_assert!(d.reset_scope == ResetScope::Whole);
    flaws
}

pub fn mutants() -> Vec<Target> {
    Mutant::ALL
        .into_iter()
        .map(|m| Target {
            kind: "mutant",
            name: m.name(),
            about: m.about(),
            setup: Setup::mutated(hunt_config(Some(m)), Protocol::hardened(), Some(m)),
            property: None,
        })
        .collect()
}

/// Every target: the mutants, then the documented flaws.
pub fn targets() -> Vec<Target> {
    let mut t = mutants();
    t.extend(documented_flaws());
    t
}

/// What a hunt found.
#[derive(Clone, Debug, Serialize)]
pub struct Catch {
    pub kind: &'static str,
    pub target: &'static str,
    pub about: &'static str,
    /// The property whose counterexample is shortest (ties: the first in the property list).
    pub caught_by: Option<&'static str>,
    pub steps: Option<usize>,
    pub unique_states: usize,
    pub seconds: f64,
    /// Detection by random exploration, when asked for (`mutants --random`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub random: Option<RandomPower>,
    #[serde(skip)]
    pub path: Option<Vec<Action>>,
    #[serde(skip)]
    pub setup: Setup,
}

impl Catch {
    pub fn trace(&self) -> Option<Trace> {
        let path = self.path.as_ref()?;
        counterexample_trace(&self.setup, path, self.caught_by?).ok()
    }
}

/// Single-threaded BFS until the first violation: the counterexample is a shortest one.
pub fn hunt(target: &Target) -> Catch {
    let engine = EnginePlan::Stateright {
        strategy: Strategy::Bfs,
        threads: 1,
    };
    hunt_with(target, engine)
}

/// A hunt on a breadth-first `engine`: the same length on every engine and any number of
/// threads, and with one thread the same path. A plan that cannot run catches nothing, and
/// says why.
pub fn hunt_with(target: &Target, engine: EnginePlan) -> Catch {
    let plan = Plan::new(engine).hunting(target.property);
    let report = match crate::search::run(&target.setup, &plan) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("{}: cannot hunt: {e}", target.name);
            return Catch {
                kind: target.kind,
                target: target.name,
                about: target.about,
                caught_by: None,
                steps: None,
                unique_states: 0,
                seconds: 0.0,
                random: None,
                path: None,
                setup: target.setup.clone(),
            };
        }
    };
    let best = report
        .properties
        .iter()
        .filter(|p| p.status == Status::Violated)
        .filter(|p| target.property.is_none_or(|want| p.name == want))
        .min_by_key(|p| p.steps.unwrap_or(usize::MAX));
    Catch {
        kind: target.kind,
        target: target.name,
        about: target.about,
        caught_by: best.map(|p| p.name),
        steps: best.and_then(|p| p.steps),
        unique_states: report.unique_states,
        seconds: report.seconds,
        random: None,
        path: best.and_then(|p| p.path.clone()),
        setup: target.setup.clone(),
    }
}

/// How fast `simulate --swarm` finds a target on the large configuration.
#[derive(Clone, Debug, Serialize)]
pub struct RandomPower {
    pub seeds: Vec<u64>,
    /// Per seed: the number of cases run until the first failure (None: not found in budget).
    pub cases_to_detection: Vec<Option<u64>>,
    pub budget_cases: u64,
    pub steps_per_case: usize,
    /// Wall time over all seeds.
    pub seconds: f64,
}

impl RandomPower {
    pub fn all_found(&self) -> bool {
        self.cases_to_detection.iter().all(Option::is_some)
    }

    fn summary(&self) -> String {
        let per: Vec<String> = self
            .cases_to_detection
            .iter()
            .map(|c| c.map_or("-".into(), |n| n.to_string()))
            .collect();
        per.join("/")
    }
}

/// Runs `simulate --swarm` on the large configuration with each seed, up to `budget` cases.
pub fn random_power(target: &Target, seeds: &[u64], budget: u64) -> RandomPower {
    let setup = Setup {
        config: crate::random::large_config(),
        ..target.setup.clone()
    };
    let start = std::time::Instant::now();
    let steps = 200;
    let cases_to_detection = seeds
        .iter()
        .map(|&seed| {
            let opts = crate::random::SimOptions {
                seed,
                cases: budget,
                steps,
                swarm: true,
                shard: crate::random::Shard::default(),
            };
            let r = crate::random::simulate(&setup, &opts, |_, _| {});
            r.failure.map(|f| f.case + 1)
        })
        .collect();
    RandomPower {
        seeds: seeds.to_vec(),
        cases_to_detection,
        budget_cases: budget,
        steps_per_case: steps,
        seconds: start.elapsed().as_secs_f64(),
    }
}

/// The table `plasma-check mutants` prints.
pub fn table(catches: &[Catch]) -> String {
    let mut s = String::new();
    let w = catches
        .iter()
        .map(|c| c.target.len())
        .max()
        .unwrap_or(6)
        .max(6);
    let random = catches.iter().any(|c| c.random.is_some());
    let _ = write!(
        s,
        "  {:10}  {:w$}  {:24}  {:>5}  {:>13}  {:>7}",
        "kind", "target", "caught by", "steps", "unique states", "seconds"
    );
    if random {
        let _ = write!(s, "  {:>22}  {:>7}", "random: cases per seed", "seconds");
    }
    let _ = writeln!(s);
    for c in catches {
        let _ = write!(
            s,
            "  {:10}  {:w$}  {:24}  {:>5}  {:>13}  {:>7.2}",
            c.kind,
            c.target,
            c.caught_by.unwrap_or("SURVIVED"),
            c.steps.map_or("-".into(), |n| n.to_string()),
            c.unique_states,
            c.seconds
        );
        if let Some(r) = &c.random {
            let _ = write!(s, "  {:>22}  {:>7.2}", r.summary(), r.seconds);
        }
        let _ = writeln!(s);
    }
    if let Some(r) = catches.iter().find_map(|c| c.random.as_ref()) {
        let _ = writeln!(
            s,
            "\nrandom: simulate --swarm on the large configuration, seeds {:?}, at most {} cases of {} steps each",
            r.seeds, r.budget_cases, r.steps_per_case
        );
    }
    let survivors: Vec<_> = catches
        .iter()
        .filter(|c| c.caught_by.is_none() || c.random.as_ref().is_some_and(|r| !r.all_found()))
        .map(|c| c.target)
        .collect();
    if survivors.is_empty() {
        let _ = writeln!(s, "\nall {} caught", catches.len());
    } else {
        let _ = writeln!(s, "\nSURVIVED: {}", survivors.join(", "));
    }
    s
}

pub fn exit_code(catches: &[Catch]) -> i32 {
    let caught =
        |c: &Catch| c.caught_by.is_some() && c.random.as_ref().is_none_or(RandomPower::all_found);
    if catches.iter().all(caught) {
        exit::VERIFIED
    } else {
        exit::VIOLATED
    }
}

/// The snapshot text of a catch: what was hunted, what caught it, the steps, and the trace.
pub fn snapshot(catch: &Catch) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "{} {}: {}", catch.kind, catch.target, catch.about);
    let Some(trace) = catch.trace() else {
        let _ = writeln!(s, "SURVIVED");
        return s;
    };
    let prop = catch.caught_by.and_then(plasma_properties::by_name);
    if let Some(p) = prop {
        let _ = writeln!(s, "caught by {} ({}): {}", p.name, p.kind(), p.about);
    }
    let steps = catch.steps.unwrap_or(trace.actions.len());
    let healing = trace.actions.len().saturating_sub(steps);
    if healing > 0 {
        let _ = writeln!(
            s,
            "shortest counterexample: {steps} steps, then {healing} steps of healing that fail\n"
        );
    } else {
        let _ = writeln!(s, "shortest counterexample: {steps} steps\n");
    }
    if let Ok(run) = trace.run() {
        for (i, text) in run.step_texts().iter().enumerate() {
            let _ = writeln!(s, "{:>3}. {text}", i + 1);
        }
        if let Some(last) = run.worlds.last() {
            let _ = writeln!(s, "\nfinal state: {}", plasma_model::describe::world(last));
            if prop.is_some_and(|p| p.scope == plasma_properties::Scope::Quiescent) {
                let healed = plasma_properties::heal(&run.setup, last);
                let _ = writeln!(s, "healed:      {}", plasma_model::describe::world(&healed));
            }
        }
    }
    if let Ok(run) = trace.run() {
        let _ = writeln!(s, "\nmermaid:\n{}", run.diagram().mermaid());
    }
    let _ = writeln!(s, "trace:\n{}", trace.to_json());
    s
}

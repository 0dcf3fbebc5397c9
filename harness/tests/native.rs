//! The native engine explores the same state space as stateright and reaches the same verdicts.

use plasma_check::hunt;
use plasma_check::presets::preset;
use plasma_check::search::check::{self, CheckOptions, Engine, Strategy};
use plasma_check::search::report::{Report, Status};
use plasma_model::Setup;
use std::time::Duration;

fn run(setup: &Setup, engine: Engine, symmetry: bool) -> Report {
    let opts = CheckOptions {
        strategy: Strategy::Dfs,
        threads: 1,
        symmetry,
        engine,
        ..CheckOptions::default()
    };
    check::run(setup, &opts)
}

fn statuses(r: &Report) -> Vec<(&'static str, Status)> {
    r.properties.iter().map(|p| (p.name, p.status)).collect()
}

#[test]
fn same_states_as_stateright_on_the_small_presets() {
    for (name, unique, orbits) in [("tiny", 372_210, 168_263), ("small", 1_616_122, 734_739)] {
        let setup = Setup::hardened(preset(name).expect("preset"));
        let native = run(&setup, Engine::Native, false);
        assert!(native.verified, "{name}");
        assert_eq!(native.unique_states, unique, "{name}");
        let reduced = run(&setup, Engine::Native, true);
        assert!(reduced.verified, "{name}");
        assert_eq!(reduced.unique_states, orbits, "{name}");
    }
}

#[test]
fn same_verdicts_as_stateright_on_every_target() {
    for target in hunt::targets() {
        let ours = run(&target.setup, Engine::Native, false);
        let theirs = run(&target.setup, Engine::Stateright, false);
        assert!(ours.complete, "{}", target.name);
        assert_eq!(ours.unique_states, theirs.unique_states, "{}", target.name);
        assert_eq!(statuses(&ours), statuses(&theirs), "{}", target.name);
        // Every counterexample replays to a state that breaks its property.
        for p in ours.violated() {
            let path = p.path.as_ref().expect("a path");
            let mut w = plasma_model::World::init(&target.setup);
            for a in path {
                w = w.step(&target.setup, a).expect("the path replays");
            }
            let prop = plasma_properties::by_name(p.name).expect("property");
            assert!(
                !prop.check(&target.setup, &w),
                "{}: {}",
                target.name,
                p.name
            );
        }
    }
}

#[test]
fn stopping_early_is_not_verified() {
    let setup = Setup::hardened(preset("small").expect("preset"));
    let opts = CheckOptions {
        strategy: Strategy::Dfs,
        engine: Engine::Native,
        max_states: Some(10_000),
        ..CheckOptions::default()
    };
    let r = check::run(&setup, &opts);
    assert!(!r.complete && !r.verified);
    assert!(r
        .stop_reason
        .as_deref()
        .unwrap_or("")
        .contains("state limit"));
    let opts = CheckOptions {
        timeout: Some(Duration::from_millis(1)),
        max_states: None,
        ..opts
    };
    let r = check::run(&setup, &opts);
    assert!(!r.verified, "a 1 ms timeout cannot verify small");
}

//! Every engine explores the same state space and reaches the same verdicts: stateright (the
//! reference), the native DFS, and the native BFS on one and on two threads, with and without
//! symmetry; the native BFS finds counterexamples of the same (shortest) length as
//! stateright's one-threaded BFS, and with one thread the very same path.

use plasma_check::hunt;
use plasma_check::presets::preset;
use plasma_check::search::check::{self, CheckOptions, Engine, Strategy};
use plasma_check::search::report::{Report, Status};
use plasma_model::Setup;
use std::time::Duration;

fn run(setup: &Setup, engine: Engine, strategy: Strategy, threads: usize, sym: bool) -> Report {
    let opts = CheckOptions {
        strategy,
        threads,
        symmetry: sym,
        engine,
        ..CheckOptions::default()
    };
    check::run(setup, &opts)
}

fn statuses(r: &Report) -> Vec<(&'static str, Status)> {
    r.properties.iter().map(|p| (p.name, p.status)).collect()
}

#[test]
fn native_bfs_stores_the_pinned_states_of_the_small_presets() {
    for (name, unique, orbits) in [("tiny", 372_210, 168_263), ("small", 1_616_122, 734_739)] {
        let setup = Setup::hardened(preset(name).expect("preset"));
        for threads in [1, 2] {
            let plain = run(&setup, Engine::Native, Strategy::Bfs, threads, false);
            assert!(plain.verified, "{name} x{threads}");
            assert_eq!(plain.unique_states, unique, "{name} x{threads}");
            let reduced = run(&setup, Engine::Native, Strategy::Bfs, threads, true);
            assert!(reduced.verified, "{name} x{threads} symmetry");
            assert_eq!(reduced.unique_states, orbits, "{name} x{threads} symmetry");
        }
    }
}

#[test]
fn native_engines_reach_stateright_s_verdicts_on_every_target() {
    for target in hunt::targets() {
        let theirs = run(&target.setup, Engine::Stateright, Strategy::Dfs, 2, false);
        let searches = [(Strategy::Bfs, 1), (Strategy::Bfs, 2), (Strategy::Dfs, 1)];
        for (strategy, threads) in searches {
            let ours = run(&target.setup, Engine::Native, strategy, threads, false);
            assert!(ours.complete, "{} {strategy:?} x{threads}", target.name);
            assert_eq!(ours.unique_states, theirs.unique_states, "{}", target.name);
            assert_eq!(statuses(&ours), statuses(&theirs), "{}", target.name);
            for p in ours.properties.iter().filter(|p| p.path.is_some()) {
                // A witness or counterexample replays to a state that decides its property.
                let path = p.path.as_ref().expect("a path");
                let mut w = plasma_model::World::init(&target.setup);
                for a in path {
                    w = w.step(&target.setup, a).expect("the path replays");
                }
                let prop = plasma_properties::by_name(p.name).expect("property");
                assert_eq!(
                    prop.check(&target.setup, &w),
                    !prop.discovery_is_failure(),
                    "{}: {}",
                    target.name,
                    p.name
                );
            }
        }
    }
}

#[test]
fn native_bfs_finds_the_shortest_counterexample_of_every_target() {
    for target in hunt::targets() {
        let reference = hunt::hunt(&target);
        assert!(reference.caught_by.is_some(), "{}", target.name);
        let one = hunt::hunt_with(&target, Engine::Native, 1);
        assert_eq!(one.caught_by, reference.caught_by, "{}", target.name);
        assert_eq!(one.steps, reference.steps, "{}", target.name);
        assert_eq!(
            one.path, reference.path,
            "{}: one thread, same path",
            target.name
        );
        let two = hunt::hunt_with(&target, Engine::Native, 2);
        assert_eq!(two.caught_by, reference.caught_by, "{}", target.name);
        assert_eq!(two.steps, reference.steps, "{}", target.name);
    }
}

#[test]
fn every_property_is_decided_at_the_same_depth_as_stateright_bfs() {
    // Witnesses of `sometimes` properties are shortest too.
    let setup = Setup::hardened(preset("tiny").expect("preset"));
    let theirs = run(&setup, Engine::Stateright, Strategy::Bfs, 1, false);
    let ours = run(&setup, Engine::Native, Strategy::Bfs, 2, false);
    let steps = |r: &Report| -> Vec<(&str, Option<usize>)> {
        r.properties.iter().map(|p| (p.name, p.steps)).collect()
    };
    assert_eq!(steps(&ours), steps(&theirs));
}

#[test]
fn native_bfs_on_disk_stores_the_same_states_and_paths() {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("bfs-disk");
    std::fs::create_dir_all(&dir).expect("dir");
    let setup = Setup::hardened(preset("tiny").expect("preset"));
    let opts = |disk: bool| CheckOptions {
        strategy: Strategy::Bfs,
        engine: Engine::Native,
        threads: 2,
        disk: disk.then(|| dir.clone()),
        expect_states: disk.then_some(400_000),
        ..CheckOptions::default()
    };
    let on_disk = check::run(&setup, &opts(true));
    let in_memory = check::run(&setup, &opts(false));
    assert!(on_disk.verified);
    assert_eq!(on_disk.unique_states, 372_210);
    assert_eq!(on_disk.states, in_memory.states);
    let steps =
        |r: &Report| -> Vec<Option<usize>> { r.properties.iter().map(|p| p.steps).collect() };
    assert_eq!(steps(&on_disk), steps(&in_memory));
    // The folder of the run's levels is removed at the end.
    assert_eq!(std::fs::read_dir(&dir).expect("dir").count(), 0);
    for target in hunt::targets().into_iter().take(4) {
        let opts = CheckOptions {
            stop_at_first_violation: true,
            stop_at: target.property,
            threads: 1,
            ..opts(true)
        };
        let r = check::run(&target.setup, &opts);
        let reference = hunt::hunt(&target);
        let p = r
            .properties
            .iter()
            .find(|p| Some(p.name) == reference.caught_by)
            .expect("the property");
        assert_eq!(p.path, reference.path, "{}", target.name);
    }
}

#[test]
fn native_bfs_with_symmetry_agrees_on_every_target() {
    for target in hunt::targets() {
        let theirs = run(&target.setup, Engine::Stateright, Strategy::Dfs, 2, true);
        let ours = run(&target.setup, Engine::Native, Strategy::Bfs, 2, true);
        assert!(ours.complete, "{}", target.name);
        assert_eq!(ours.unique_states, theirs.unique_states, "{}", target.name);
        assert_eq!(statuses(&ours), statuses(&theirs), "{}", target.name);
        // Orbits keep their shallowest state: counterexamples of state properties stay shortest.
        // A quiescence property is checked after healing, which visits tabs in number order,
        // so a renaming can heal differently where arrival order matters (mutants such as
        // resolve-conflict-ignored): there the orbit's first state may pass, and the
        // counterexample found is longer.
        let reference = hunt::hunt(&target);
        let opts = CheckOptions {
            strategy: Strategy::Bfs,
            engine: Engine::Native,
            threads: 2,
            symmetry: true,
            stop_at_first_violation: true,
            stop_at: target.property,
            ..CheckOptions::default()
        };
        let hunted = check::run(&target.setup, &opts);
        let steps = hunted
            .properties
            .iter()
            .find(|p| Some(p.name) == reference.caught_by)
            .and_then(|p| p.steps);
        let quiescent = reference
            .caught_by
            .and_then(plasma_properties::by_name)
            .is_some_and(|p| p.scope == plasma_properties::Scope::Quiescent);
        if quiescent {
            assert!(
                steps >= reference.steps && steps.is_some(),
                "{}",
                target.name
            );
        } else {
            assert_eq!(steps, reference.steps, "{}", target.name);
        }
    }
}

#[test]
fn native_dfs_stores_the_pinned_states_of_the_small_presets() {
    for (name, unique, orbits) in [("tiny", 372_210, 168_263), ("small", 1_616_122, 734_739)] {
        let setup = Setup::hardened(preset(name).expect("preset"));
        let native = run(&setup, Engine::Native, Strategy::Dfs, 1, false);
        assert!(native.verified, "{name}");
        assert_eq!(native.unique_states, unique, "{name}");
        let reduced = run(&setup, Engine::Native, Strategy::Dfs, 1, true);
        assert!(reduced.verified, "{name}");
        assert_eq!(reduced.unique_states, orbits, "{name}");
    }
}

#[test]
fn native_engines_stopped_early_are_not_verified() {
    let setup = Setup::hardened(preset("small").expect("preset"));
    for (strategy, threads) in [(Strategy::Bfs, 2), (Strategy::Dfs, 1)] {
        let opts = CheckOptions {
            strategy,
            engine: Engine::Native,
            threads,
            max_states: Some(10_000),
            ..CheckOptions::default()
        };
        let r = check::run(&setup, &opts);
        assert!(!r.complete && !r.verified, "{strategy:?}");
        let reason = r.stop_reason.as_deref().unwrap_or("");
        assert!(reason.contains("state limit"), "{strategy:?}: {reason}");
        let opts = CheckOptions {
            timeout: Some(Duration::from_millis(1)),
            max_states: None,
            ..opts
        };
        let r = check::run(&setup, &opts);
        assert!(
            !r.verified,
            "{strategy:?}: a 1 ms timeout cannot verify small"
        );
    }
}

/// A library caller that asks for the timely engine gets it (in this process), not a silent
/// fallback to another engine.
#[test]
fn the_library_runs_the_timely_engine_it_is_asked_for() {
    let setup = Setup::hardened(preset("tiny").expect("preset"));
    let opts = CheckOptions {
        strategy: Strategy::Bfs,
        threads: 2,
        engine: Engine::Timely,
        ..CheckOptions::default()
    };
    let r = check::run(&setup, &opts);
    assert_eq!(r.engine, Engine::Timely);
    assert!(r.verified, "{:?}", r.stop_reason);
    assert_eq!(r.unique_states, 372_210);
}

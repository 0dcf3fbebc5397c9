//! The standard configurations: exact unique-state counts (an unintended change to the model
//! shows up here), verdicts, and BFS/DFS agreement.

use plasma_check::exit;
use plasma_check::presets;
use plasma_check::search::plan::{Engine, EnginePlan, Plan, Strategy};
use plasma_check::search::report::{Report, Status};
use plasma_model::{Protocol, Setup};

const TINY: usize = 372_210;
const SMALL: usize = 1_616_122;
const DEFAULT: usize = 15_149_722;
const AUTH: usize = 45_681_486;
const DEVICES: usize = 81_648;
const USER_SWITCH: usize = 63_508;
const INTERPLAY: usize = 3_103_532;
const INTERPLAY_ZERO: usize = 4_657_288;
/// Orbits under symmetry.
const INTERPLAY_FAULTS: usize = 62_222_940;
const INTERPLAY_FAULTS_ZERO: usize = 93_814_510;
const BIG: usize = 1_021_528_768;
const REPLICACHE_TINY: usize = 1_361_563_424;

fn check(preset: &str, strategy: Strategy, threads: usize) -> Report {
    let config = presets::preset(preset).expect("preset exists");
    let plan = Plan::new(EnginePlan::of(Engine::Stateright, strategy, threads));
    run(&Setup::new(config, Protocol::hardened()), &plan)
}

fn run(setup: &Setup, plan: &Plan) -> Report {
    plasma_check::search::run(setup, plan).expect("runs")
}

fn assert_verified(r: &Report, unique: usize) {
    assert_eq!(r.unique_states, unique, "unique states");
    assert!(r.complete);
    for p in &r.properties {
        let expected = if p.kind.starts_with("always") {
            Status::Holds
        } else {
            Status::ExampleFound
        };
        assert_eq!(p.status, expected, "{}: {:?}", p.name, p.trace);
    }
    assert_eq!(r.exit_code(), exit::VERIFIED);
    assert!(r.verified);
}

#[test]
fn tiny_bfs() {
    assert_verified(&check("tiny", Strategy::Bfs, 1), TINY);
}

#[test]
fn tiny_dfs_two_threads() {
    assert_verified(&check("tiny", Strategy::Dfs, 2), TINY);
}

#[test]
fn small_bfs_two_threads() {
    assert_verified(&check("small", Strategy::Bfs, 2), SMALL);
}

#[test]
fn small_dfs() {
    assert_verified(&check("small", Strategy::Dfs, 1), SMALL);
}

#[test]
fn devices_bfs() {
    assert_verified(&check("devices", Strategy::Bfs, 2), DEVICES);
}

#[test]
fn user_switch_dfs() {
    assert_verified(&check("user-switch", Strategy::Dfs, 1), USER_SWITCH);
}

/// A native search of a preset under `protocol`.
fn native(preset: &str, protocol: Protocol, strategy: Strategy, symmetry: bool) -> Report {
    let config = presets::preset(preset).expect("preset exists");
    let plan = Plan::new(EnginePlan::of(Engine::Native, strategy, 2)).with_symmetry(symmetry);
    run(&Setup::new(config, protocol), &plan)
}

/// Tabs closed, reopened, duplicated and opened across a user switch, with a private row.
#[test]
fn interplay_native_dfs() {
    let r = native("interplay", Protocol::hardened(), Strategy::Dfs, false);
    assert_verified(&r, INTERPLAY);
    assert!(r.never_taken.is_empty(), "{:?}", r.never_taken);
}

#[test]
fn interplay_zero_native_bfs() {
    let r = native("interplay", Protocol::zero(), Strategy::Bfs, false);
    assert_verified(&r, INTERPLAY_ZERO);
}

/// Every action kind of the hardened protocol, where resets, faults, auth changes and reopened
/// tabs meet: verified with symmetry on the native BFS, and no allowed kind left untaken.
#[test]
#[ignore = "about 90 s and 3.7 GB on 2 cores (release); run with --ignored"]
fn interplay_faults_with_symmetry() {
    let r = native(
        "interplay-faults",
        Protocol::hardened(),
        Strategy::Bfs,
        true,
    );
    assert_verified(&r, INTERPLAY_FAULTS);
    assert!(r.never_taken.is_empty(), "{:?}", r.never_taken);
}

#[test]
#[ignore = "about 110 s and 4.4 GB on 2 cores (release); run with --ignored"]
fn interplay_faults_zero_with_symmetry() {
    let r = native("interplay-faults", Protocol::zero(), Strategy::Bfs, true);
    assert_verified(&r, INTERPLAY_FAULTS_ZERO);
    assert!(r.never_taken.is_empty(), "{:?}", r.never_taken);
}

/// The page's `clientGroupID: currentUser.id` alone (with the hardened server, which computes
/// patches from the request's cookie): two devices sharing one group break nothing, a user
/// switch does.
#[test]
fn a_group_per_user_breaks_the_user_switch_not_two_devices() {
    let opts = Plan::new(EnginePlan::of(Engine::Stateright, Strategy::Bfs, 2));
    let per_user = Protocol {
        group_id: plasma_model::GroupIdentity::User,
        ..Protocol::hardened()
    };
    let config = |name| presets::preset(name).expect("preset exists");
    let devices = run(&Setup::new(config("devices"), per_user.clone()), &opts);
    assert_verified(&devices, DEVICES);
    let switch = run(&Setup::new(config("user-switch"), per_user), &opts);
    let violated: Vec<_> = switch.violated().map(|p| p.name).collect();
    for expected in ["at-most-once", "as-author", "no-lost-mutation"] {
        assert!(
            violated.contains(&expected),
            "{expected} not in {violated:?}"
        );
    }
    assert_eq!(switch.exit_code(), exit::VIOLATED);
}

#[test]
#[ignore = "about a minute on 2 cores (release); run with --ignored"]
fn default_bfs() {
    assert_verified(&check("default", Strategy::Bfs, 2), DEFAULT);
}

#[test]
#[ignore = "about two minutes on 2 cores (release, DFS); run with --ignored"]
fn auth_dfs() {
    assert_verified(&check("auth", Strategy::Dfs, 2), AUTH);
}

#[test]
#[ignore = "about a minute on 2 cores (release); run with --ignored"]
fn default_dfs() {
    assert_verified(&check("default", Strategy::Dfs, 2), DEFAULT);
}

#[test]
#[ignore = "23 minutes and 18 GB on 2 cores (release); run with --ignored"]
fn big_native_bfs() {
    let config = presets::preset("big").expect("preset exists");
    let spill = std::env::temp_dir();
    let plan = Plan::new(EnginePlan::NativeBfs {
        threads: 2,
        expect_states: Some(1_100_000_000),
        disk: Some(spill),
        exact: false,
    });
    assert_verified(&run(&Setup::hardened(config), &plan), BIG);
}

/// `--exact` stores every state whole: the same count as the fingerprint table on `default`.
#[test]
#[ignore = "about a minute and 3 GB on 2 cores (release); run with --ignored"]
fn default_exact_agrees_with_fingerprints() {
    let config = presets::preset("default").expect("preset exists");
    let plan = Plan::new(EnginePlan::NativeBfs {
        threads: 2,
        disk: None,
        expect_states: None,
        exact: true,
    });
    let r = run(&Setup::hardened(config), &plan);
    assert!(r.exact && r.collision_probability == 0.0);
    assert_verified(&r, DEFAULT);
}

/// The `replicache` profile (what the real client does) on `tiny`.
#[test]
#[ignore = "about 70 minutes and 19 GB on 2 cores (release); run with --ignored"]
fn replicache_tiny_native_bfs() {
    let config = presets::preset("tiny").expect("preset exists");
    let plan = Plan::new(EnginePlan::NativeBfs {
        threads: 2,
        expect_states: Some(1_400_000_000),
        disk: Some(std::env::temp_dir()),
        exact: false,
    });
    let r = run(&Setup::new(config, Protocol::replicache()), &plan);
    assert_verified(&r, REPLICACHE_TINY);
}

/// Every state reachable in at most `depth` steps.
fn states_within(setup: &Setup, depth: usize) -> Vec<plasma_model::World> {
    let mut all = vec![plasma_model::World::init(setup)];
    let mut frontier = all.clone();
    for _ in 0..depth {
        let mut next = Vec::new();
        for w in &frontier {
            let mut actions = Vec::new();
            w.enabled(setup, &mut actions);
            next.extend(actions.iter().filter_map(|a| w.step(setup, a).ok()));
        }
        all.extend(next.iter().cloned());
        frontier = next;
    }
    all
}

#[test]
fn bfs_witnesses_are_shortest() {
    // Single-threaded BFS keeps the first discovery: no shorter path reaches the property.
    let r = check("tiny", Strategy::Bfs, 1);
    let setup = Setup::new(
        presets::preset("tiny").expect("preset"),
        Protocol::hardened(),
    );
    for name in [
        "retry-in-flight",
        "same-mid-two-clients",
        "client-applied-twice",
    ] {
        let steps = r
            .properties
            .iter()
            .find(|p| p.name == name)
            .and_then(|p| p.steps)
            .expect("found");
        let p = plasma_properties::by_name(name).expect("property");
        let shorter = states_within(&setup, steps - 1);
        assert!(
            !shorter.iter().any(|w| p.check(&setup, w)),
            "{name} is reachable in fewer than {steps} steps"
        );
    }
}

/// The `zero` profile (Zero's endpoint processes a signed-out push, and `auth.write` denies
/// each of its mutations) keeps every property on the user switch: the signed-out pushes it
/// adds are states of their own.
#[test]
fn the_zero_profile_verifies_the_user_switch() {
    let plan = Plan::new(EnginePlan::of(Engine::Stateright, Strategy::Bfs, 2));
    let config = presets::preset("user-switch").expect("preset exists");
    let r = run(&Setup::new(config, Protocol::zero()), &plan);
    assert_verified(&r, 90_446);
}

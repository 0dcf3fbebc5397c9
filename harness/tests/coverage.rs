//! Action coverage: on a complete run every engine's `new_states` adds up to the unique states
//! but the initial one (each new state is reached first by exactly one transition), `enabled` to the
//! transitions generated, and engines that explore the same states agree on `enabled` kind by
//! kind; the JSON and text reports carry it, and `never_taken` names only kinds the
//! configuration allows.

use plasma_check::presets::preset;
use plasma_check::search::plan::{Engine, EnginePlan, Plan, Strategy};
use plasma_check::search::report::Report;
use plasma_model::{ActionKind, Setup};
use serde_json::Value;
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_plasma-check");

fn tiny() -> Setup {
    Setup::hardened(preset("tiny").expect("preset"))
}

fn run(engine: Engine, strategy: Strategy, threads: usize) -> Report {
    let plan = Plan::new(EnginePlan::of(engine, strategy, threads));
    plasma_check::search::run(&tiny(), &plan).expect("runs")
}

/// Checks the sums against the report's counts; returns `enabled` by kind.
fn sums_agree(r: &Report, what: &str) -> Vec<u64> {
    assert!(r.complete, "{what}: complete");
    assert_eq!(r.coverage.len(), ActionKind::COUNT, "{what}");
    let new: u64 = r.coverage.iter().filter_map(|c| c.new_states).sum();
    let enabled: u64 = r.coverage.iter().map(|c| c.enabled).sum();
    assert_eq!(new, r.unique_states as u64 - 1, "{what}: new states");
    // `states` counts the initial state too, as stateright does.
    assert_eq!(enabled, r.states as u64 - 1, "{what}: enabled");
    for c in &r.coverage {
        assert_eq!(c.taken, c.enabled, "{what}: a search takes what it enables");
        assert!(
            c.new_states.is_some_and(|n| n <= c.enabled),
            "{what}: {c:?}"
        );
    }
    r.coverage.iter().map(|c| c.enabled).collect()
}

fn reference() -> Vec<u64> {
    sums_agree(&run(Engine::Native, Strategy::Dfs, 1), "native DFS")
}

#[test]
fn native_dfs_takes_each_new_state_once() {
    let enabled = reference();
    let kinds = ActionKind::ALL.iter().map(|k| k.name());
    let r = run(Engine::Native, Strategy::Dfs, 1);
    assert!(r.coverage.iter().map(|c| c.action).eq(kinds));
    assert!(enabled[ActionKind::Deliver.index()] > 0);
}

#[test]
fn native_bfs_on_one_and_two_threads_agrees() {
    let enabled = reference();
    for threads in [1, 2] {
        let r = run(Engine::Native, Strategy::Bfs, threads);
        assert_eq!(sums_agree(&r, "native BFS"), enabled, "x{threads}");
    }
}

#[test]
fn stateright_bfs_agrees() {
    let r = run(Engine::Stateright, Strategy::Bfs, 1);
    assert_eq!(sums_agree(&r, "stateright BFS"), reference());
}

#[test]
fn stateright_dfs_agrees() {
    let r = run(Engine::Stateright, Strategy::Dfs, 2);
    assert_eq!(sums_agree(&r, "stateright DFS x2"), reference());
}

#[test]
fn symmetric_runs_take_each_orbit_once() {
    for (engine, strategy) in [
        (Engine::Native, Strategy::Dfs),
        (Engine::Native, Strategy::Bfs),
        (Engine::Stateright, Strategy::Dfs),
    ] {
        let plan = Plan::new(EnginePlan::of(engine, strategy, 1)).with_symmetry(true);
        sums_agree(
            &plasma_check::search::run(&tiny(), &plan).expect("runs"),
            &format!("{engine:?} {strategy:?}"),
        );
    }
}

fn check_json(args: &[&str]) -> Value {
    let out = Command::new(BIN)
        .arg("check")
        .args(args)
        .arg("--json")
        .output()
        .expect("runs");
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not a JSON report ({e}): {}",
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

/// The JSON report's rows as (action, allowed, enabled, taken, new states).
fn rows(v: &Value) -> Vec<(String, bool, u64, u64, Option<u64>)> {
    v["coverage"]
        .as_array()
        .expect("coverage")
        .iter()
        .map(|c| {
            (
                c["action"].as_str().expect("action").to_string(),
                c["allowed"].as_bool().expect("allowed"),
                c["enabled"].as_u64().expect("enabled"),
                c["taken"].as_u64().expect("taken"),
                c["new_states"].as_u64(),
            )
        })
        .collect()
}

#[test]
fn timely_workers_agree_and_json_has_the_fields() {
    let v = check_json(&["--config", "tiny", "--engine", "timely", "-w", "2"]);
    assert_eq!(v["engine"], "timely");
    let rows = rows(&v);
    assert_eq!(rows.len(), ActionKind::COUNT);
    let new: u64 = rows.iter().filter_map(|r| r.4).sum();
    assert_eq!(Some(new + 1), v["unique_states"].as_u64());
    let enabled: Vec<u64> = rows.iter().map(|r| r.2).collect();
    assert_eq!(enabled, reference());
    let never: Vec<&str> = v["never_taken"]
        .as_array()
        .expect("never_taken")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    let expected: Vec<&str> = rows
        .iter()
        .filter(|r| r.1 && r.3 == 0)
        .map(|r| r.0.as_str())
        .collect();
    assert_eq!(never, expected);
    assert!(v.get("coverage_partial").is_none(), "only when partial");
}

#[test]
fn a_kind_the_configuration_rules_out_is_never_reported_missing() {
    // One tab per installation: no tab to open, duplicate or restore.
    let v = check_json(&["--config", "user-switch", "--engine", "native"]);
    let rows = rows(&v);
    let restore = rows.iter().find(|r| r.0 == "RestoreTab").expect("row");
    assert_eq!(restore, &("RestoreTab".to_string(), false, 0, 0, Some(0)));
    let never = v["never_taken"].as_array().expect("never_taken");
    assert!(!never.iter().any(|n| n == "RestoreTab"), "{never:?}");
    assert!(rows.iter().any(|r| r.0 == "Login" && r.1 && r.3 > 0));
}

#[test]
fn the_text_report_adds_the_table_after_the_counts() {
    let out = Command::new(BIN)
        .args(["check", "--config", "tiny", "--engine", "native"])
        .args(["--strategy", "dfs"])
        .output()
        .expect("runs");
    let text = String::from_utf8_lossy(&out.stdout);
    let counts = text.find("  states generated ").expect("counts line");
    let table = text.find("  action coverage:").expect("coverage table");
    assert!(counts < table, "{text}");
    assert!(text.contains("\n  Deliver "), "{text}");
    assert!(
        text.contains("  not in this configuration: Reload, Logout, Login, Drop, Duplicate"),
        "{text}"
    );
}

#[test]
fn simulate_counts_the_choices_it_offered_and_made() {
    let out = Command::new(BIN)
        .args(["simulate", "--seed", "7", "--cases", "20", "--steps", "50"])
        .args(["--config", "tiny", "--json"])
        .output()
        .expect("runs");
    let v: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let rows = rows(&v);
    let taken: u64 = rows.iter().map(|r| r.3).sum();
    assert_eq!(Some(taken), v["steps_run"].as_u64());
    assert!(rows.iter().all(|r| r.3 <= r.2 && r.4.is_none()));
    assert!(rows.iter().all(|r| r.1 || r.2 == 0), "{rows:?}");
}

/// The presets of the default suite take every action kind their configuration allows (a
/// preset's comment says what its configuration leaves out, and why).
#[test]
fn small_presets_take_every_kind_they_allow() {
    for name in ["tiny", "small", "devices", "user-switch"] {
        let plan = Plan::new(EnginePlan::native_bfs(2));
        let r = plasma_check::search::run(&Setup::hardened(preset(name).expect("preset")), &plan)
            .expect("runs");
        assert!(r.verified, "{name}");
        assert!(r.never_taken.is_empty(), "{name}: {:?}", r.never_taken);
    }
}

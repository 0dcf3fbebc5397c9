//! Teeth: every mutant and every documented flaw is caught, with a shortest counterexample that
//! is snapshotted and survives a round trip through the trace format.

use plasma_check::hunt::{self, Catch};
use plasma_check::search::plan::{EnginePlan, Plan};
use plasma_check::trace::replay;
use plasma_check::trace::Trace;
use plasma_model::{Config, Protocol, Setup};
use std::sync::OnceLock;

/// Hunting everything takes a few seconds; do it once for all tests in this file.
fn catches() -> &'static [Catch] {
    static CATCHES: OnceLock<Vec<Catch>> = OnceLock::new();
    CATCHES.get_or_init(|| hunt::targets().iter().map(hunt::hunt).collect())
}

#[test]
fn every_target_is_caught_and_snapshotted() {
    assert!(catches().iter().filter(|c| c.kind == "mutant").count() >= 10);
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path("../../snapshots");
    settings.set_prepend_module_to_snapshot(false);
    settings.bind(|| {
        for c in catches() {
            assert!(c.caught_by.is_some(), "{} {} survived", c.kind, c.target);
            insta::assert_snapshot!(format!("{}-{}", c.kind, c.target), hunt::snapshot(c));
        }
    });
}

#[test]
fn every_always_property_is_broken_by_some_target() {
    // Each property must have teeth: some mutant's or documented flaw's shortest counterexample
    // breaks it when replayed (not necessarily as the first property to break).
    let mut broken = std::collections::BTreeSet::new();
    for c in catches() {
        let trace = c.trace().expect("a trace");
        for f in replay::replay(&trace).expect("replays").failures {
            broken.insert(f.property);
        }
    }
    let unbroken: Vec<_> = plasma_properties::all()
        .iter()
        .filter(|p| p.discovery_is_failure() && !broken.contains(p.name))
        .map(|p| p.name)
        .collect();
    assert!(unbroken.is_empty(), "no target breaks {unbroken:?}");
}

#[test]
fn no_snapshot_is_unreferenced() {
    // `cargo insta --unreferenced=reject` only looks inside packages; snapshots/ is at the root.
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../snapshots");
    let mut on_disk: Vec<String> = std::fs::read_dir(&dir)
        .expect("snapshots/")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .collect();
    on_disk.sort();
    let mut expected: Vec<String> = hunt::targets()
        .iter()
        .map(|t| format!("{}-{}.snap", t.kind, t.name))
        .collect();
    expected.sort();
    assert_eq!(
        on_disk, expected,
        "snapshots/ holds exactly one file per target"
    );
}

#[test]
fn every_counterexample_round_trips_through_json_and_replay() {
    for c in catches() {
        let trace = c.trace().expect("a trace");
        let json = trace.to_json();
        let parsed = Trace::parse(&json).expect("parses");
        assert_eq!(parsed, trace, "{}: JSON round trip", c.target);
        let report = replay::replay(&parsed).expect("replays");
        let caught = c.caught_by.expect("caught");
        let failure = report
            .failures
            .iter()
            .find(|f| f.property == caught)
            .unwrap_or_else(|| panic!("{}: replay does not reach {caught}", c.target));
        // The BFS path ends at the first state that fails; replay must agree to the step.
        assert_eq!(Some(failure.step), c.steps, "{}: {caught}", c.target);
        assert_eq!(report.exit_code(), plasma_check::exit::VIOLATED);
    }
}

#[test]
fn shortest_counterexamples_are_the_same_on_every_run() {
    for t in hunt::targets().iter().take(3) {
        let again = hunt::hunt(t);
        let first = catches()
            .iter()
            .find(|c| c.target == t.name)
            .expect("hunted");
        assert_eq!(again.path, first.path, "{}", t.name);
    }
}

#[test]
fn the_documented_protocol_is_violated_and_hardened_is_not() {
    let tiny = plasma_check::presets::preset("tiny").expect("tiny");
    let opts = Plan::new(EnginePlan::native_bfs(2));
    let check = |setup: &Setup| plasma_check::search::run(setup, &opts).expect("runs");
    let documented = check(&Setup::new(tiny.clone(), Protocol::documented()));
    let violated: Vec<_> = documented.violated().map(|p| p.name).collect();
    for expected in [
        "unique-identity",
        "outbox-honesty",
        "no-lost-mutation",
        "convergence",
    ] {
        assert!(
            violated.contains(&expected),
            "{expected} not in {violated:?}"
        );
    }
    assert_eq!(documented.exit_code(), plasma_check::exit::VIOLATED);
    let hardened = check(&Setup::new(tiny, Protocol::hardened()));
    assert_eq!(hardened.exit_code(), plasma_check::exit::VERIFIED);
}

fn err(text: &str) -> String {
    match Trace::parse(text).and_then(|t| t.run().map(|_| ())) {
        Ok(()) => panic!("accepted: {text}"),
        Err(e) => e.to_string(),
    }
}

const HEAD: &str = r#""format": "plasma-trace/1", "config": {"installs": 1, "tabs": 2, "rows": 1, "max_mutations": 1}, "protocol": "hardened""#;

fn with_actions(actions: &str) -> String {
    format!("{{{HEAD}, \"actions\": [{actions}]}}")
}

#[test]
fn malformed_traces_are_rejected_precisely() {
    let cases: Vec<(String, &str)> = vec![
        ("not json".into(), "not a plasma trace"),
        (
            r#"{"format": "plasma-trace/2", "config": {}, "protocol": "hardened", "actions": []}"#.into(),
            "format is \"plasma-trace/2\"",
        ),
        (
            r#"{"format": "plasma-trace/1", "config": {"tab": 2}, "protocol": "hardened", "actions": []}"#.into(),
            "unknown field `tab`",
        ),
        (
            r#"{"format": "plasma-trace/1", "config": {"installs": 2, "tabs": 1}, "protocol": "hardened", "actions": []}"#.into(),
            "config.tabs (1) must be at least config.installs (2)",
        ),
        (
            r#"{"format": "plasma-trace/1", "config": {}, "protocol": "literal", "actions": []}"#.into(),
            "unknown protocol \"literal\"",
        ),
        (
            r#"{"format": "plasma-trace/1", "config": {}, "protocol": "hardened", "mutant": "typo", "actions": []}"#.into(),
            "unknown mutant \"typo\"",
        ),
        (with_actions(r#"{"action": "Jump", "tab": 0}"#), "unknown variant `Jump`"),
        (with_actions(r#"{"action": "Push"}"#), "missing field `tab`"),
        (with_actions(r#"{"action": "Deliver", "msg": 5}"#), "step 1: {\"action\":\"Deliver\",\"msg\":5} not allowed: message 5 was never sent"),
        (
            with_actions(r#"{"action": "Pull", "tab": 0}, {"action": "Deliver", "msg": 0}, {"action": "Deliver", "msg": 0}"#),
            "step 3: {\"action\":\"Deliver\",\"msg\":0} not allowed: message 0 is not in flight: it was delivered at step 2",
        ),
        (
            with_actions(r#"{"action": "CloseTab", "tab": 0}, {"action": "Pull", "tab": 0}"#),
            "step 2: {\"action\":\"Pull\",\"tab\":0} not allowed: tab 0 is closed",
        ),
        (
            with_actions(r#"{"action": "Mutate", "tab": 0, "op": {"Set": {"row": 0, "value": 1}}}, {"action": "Mutate", "tab": 0, "op": {"Set": {"row": 0, "value": 2}}}"#),
            "step 2: {\"action\":\"Mutate\",\"tab\":0,\"op\":{\"Set\":{\"row\":0,\"value\":2}}} not allowed: config.max_mutations (1) mutations were already created",
        ),
        (
            with_actions(r#"{"action": "Mutate", "tab": 0, "op": {"Set": {"row": 3, "value": 1}}}"#),
            "row 3 does not exist (config.rows is 1)",
        ),
        (
            with_actions(r#"{"action": "Drop", "msg": 0}"#),
            "message 0 was never sent",
        ),
    ];
    for (text, expected) in cases {
        let e = err(&text);
        assert!(
            e.contains(expected),
            "for {text}\n got: {e}\nwant: {expected}"
        );
    }
}

#[test]
fn replay_ignores_search_bounds_but_not_limits() {
    // Three pulls in flight exceed max_in_flight (a search bound): replay accepts them.
    let text = with_actions(
        r#"{"action": "Pull", "tab": 0}, {"action": "Pull", "tab": 0}, {"action": "Pull", "tab": 0}"#,
    );
    let trace = Trace::parse(&text).expect("parses");
    assert_eq!(
        trace.config,
        Config {
            tabs: 2,
            max_mutations: 1,
            ..Config::default()
        }
    );
    let report = replay::replay(&trace).expect("replays");
    assert!(report.failures.is_empty());
    assert_eq!(report.steps.len(), 3);
}

#[test]
fn protocol_objects_take_hardened_defaults() {
    let text = r#"{"format": "plasma-trace/1", "config": {}, "protocol": {"mid_counter": "outbox"}, "actions": []}"#;
    let setup = Trace::parse(text).and_then(|t| t.setup()).expect("valid");
    let mut expected = Protocol::hardened();
    expected.mid_counter = plasma_model::MidCounter::Outbox;
    assert_eq!(setup.protocol, expected);
}

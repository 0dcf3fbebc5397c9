//! Conformance against the real Replicache client: every snapshot trace and 20 random traces
//! agree with the model's replicache profile, and the same seed gives the same report.
//!
//! Needs Node and `npm ci` in harness/conformance. Without node_modules the test is skipped with
//! a message, unless PLASMA_REQUIRE_NODE=1 (CI sets it), which makes that a failure.

use plasma_check::conform::{self, Options, Outcome};
use plasma_model::Protocol;

fn options(random: u64, seed: u64) -> Option<Options> {
    let opts = Options {
        node: "node".into(),
        adapter_dir: conform::default_adapter_dir(),
        traces: Some(conform::default_traces_dir()),
        random,
        seed,
        steps: 40,
        case: None,
        protocol: Protocol::replicache(),
        record: false,
    };
    match conform::check_environment(&opts) {
        Ok(_) => Some(opts),
        Err(e) if std::env::var("PLASMA_REQUIRE_NODE").as_deref() == Ok("1") => {
            panic!("PLASMA_REQUIRE_NODE=1 but the conformance adapter cannot run: {e}")
        }
        Err(e) => {
            eprintln!("SKIPPED conformance test: {e}");
            None
        }
    }
}

#[test]
fn snapshots_and_random_traces_agree_with_the_real_client_deterministically() {
    let Some(opts) = options(20, 7) else { return };
    let first = conform::run(&opts, |_| {}).expect("runs");
    let text = first.to_text();
    assert_eq!(first.diverged, 0, "{text}");
    // Every snapshot trace is run or skipped with a reason; only resets are not expressible.
    let snapshots = first
        .results
        .iter()
        .filter(|r| !r.name.starts_with("random-"))
        .count();
    assert_eq!(snapshots, snapshot_files(), "{text}");
    for r in &first.results {
        if let Outcome::Skipped { reason } = &r.outcome {
            assert!(reason.contains("ResetLocalState"), "{}: {reason}", r.name);
        }
    }
    assert_eq!(first.skipped, 4, "{text}");
    assert_eq!(first.agreed, snapshots - 4 + 20, "{text}");
    assert!(first.steps_run > 20 * 30, "{text}");
    let second = conform::run(&opts, |_| {}).expect("runs");
    assert_eq!(
        text,
        second.to_text(),
        "the same seed gives the same report"
    );
    let json = |r: &conform::Report| serde_json::to_string(r).expect("json");
    assert_eq!(json(&first), json(&second));
}

#[test]
fn the_hardened_protocol_is_not_what_the_real_client_does() {
    // Teeth: the comparison finds the differences the profile models.
    let Some(mut opts) = options(5, 1) else {
        return;
    };
    opts.traces = None;
    opts.protocol = Protocol::hardened();
    let report = conform::run(&opts, |_| {}).expect("runs");
    assert_eq!(report.diverged, 5, "{}", report.to_text());
    assert_eq!(report.exit_code(), 1);
}

#[test]
fn a_missing_node_modules_is_bad_input_that_says_what_to_do() {
    let dir = std::env::temp_dir().join(format!("plasma-conform-empty-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    std::fs::write(dir.join("adapter.mjs"), "").expect("write");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_plasma-check"))
        .args(["conform", "--random", "1", "--seed", "1", "--adapter-dir"])
        .arg(&dir)
        .output()
        .expect("runs");
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("run npm ci in harness/conformance"), "{err}");
}

#[test]
fn random_conformance_traces_round_trip_through_the_trace_format() {
    // No node needed: the profile's traces (with the initial tabs' pulls numbered from 0)
    // encode, parse and replay to the same states.
    let setup = conform::profile_setup(&conform::random_config(), &Protocol::replicache());
    for case in 0..20 {
        let actions = conform::random_actions(&setup, 3, case, 40);
        let trace = plasma_check::trace::Trace::encode(&setup, &actions).expect("encodes");
        assert_eq!(
            serde_json::to_value(&trace.protocol).expect("json"),
            serde_json::json!("replicache")
        );
        let parsed = plasma_check::trace::Trace::parse(&trace.to_json()).expect("parses");
        let run = parsed.run().expect("replays");
        assert_eq!(run.actions, actions, "case {case}");
    }
}

/// How many snapshot traces the repository holds: every one is run (or skipped with a reason).
fn snapshot_files() -> usize {
    std::fs::read_dir(conform::default_traces_dir())
        .expect("snapshots/ is readable")
        .filter(|e| {
            e.as_ref()
                .is_ok_and(|e| e.path().extension().is_some_and(|x| x == "snap"))
        })
        .count()
}

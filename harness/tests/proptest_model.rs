//! proptest over choice sequences: every generated sequence is valid (each number picks one of
//! the actions enabled at that step), proptest shrinks failures to a minimal sequence, and
//! failing seeds persist in the committed `harness/proptest-regressions/` folder
//! (the mutants' seeds live there, so they are replayed first on every run).

use plasma_check::random::{large_config, run_choices, shrink};
use plasma_check::trace::counterexample_trace;
use plasma_check::trace::replay;
use plasma_model::{Mutant, Protocol, Setup};
use proptest::prelude::*;
use proptest::test_runner::{
    Config as PtConfig, FileFailurePersistence, TestCaseError, TestError, TestRunner,
};

const REGRESSIONS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/proptest-regressions/model.txt"
);

fn choices() -> impl Strategy<Value = Vec<u16>> {
    prop::collection::vec(any::<u16>(), 0..300)
}

fn config(cases: u32) -> PtConfig {
    PtConfig {
        cases,
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(REGRESSIONS))),
        ..PtConfig::default()
    }
}

/// Runs the property over `cases` sequences; on failure returns the shrunk choice sequence.
fn run(setup: &Setup, cases: u32) -> Result<(), (String, Vec<u16>)> {
    let mut runner = TestRunner::new(config(cases));
    let result = runner.run(&choices(), |cs| {
        let (_, failed) = run_choices(setup, &cs);
        match failed {
            None => Ok(()),
            Some(p) => Err(TestCaseError::fail(p)),
        }
    });
    match result {
        Ok(()) => Ok(()),
        Err(TestError::Fail(reason, shrunk)) => Err((reason.to_string(), shrunk)),
        Err(TestError::Abort(reason)) => Err((format!("aborted: {reason}"), vec![])),
    }
}

/// Writes the trace of a failing choice sequence where a person can find it, and returns the
/// failing property and the number of steps.
fn report(setup: &Setup, shrunk: &[u16]) -> (&'static str, usize, String) {
    let (actions, failed) = run_choices(setup, shrunk);
    let property = failed.expect("the shrunk sequence still fails");
    // proptest shrinks the choices; removing a choice re-aims every later one, so finish with
    // delta debugging on the actions themselves.
    let actions = shrink(setup, &actions, property);
    let trace = counterexample_trace(setup, &actions, property).expect("encodes");
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("proptest-traces");
    std::fs::create_dir_all(&dir).expect("dir");
    let name = format!(
        "{}-{property}.json",
        setup.mutant.map_or("hardened", |m| m.name())
    );
    let path = dir.join(name);
    std::fs::write(&path, trace.to_json()).expect("write");
    let replayed = replay::replay(&trace).expect("replays");
    assert!(
        replayed.failures.iter().any(|f| f.property == property),
        "replay confirms {property}"
    );
    (property, actions.len(), path.display().to_string())
}

fn hardened_holds(cases: u32) {
    let setup = Setup::new(large_config(), Protocol::hardened());
    if let Err((reason, shrunk)) = run(&setup, cases) {
        let (property, steps, path) = report(&setup, &shrunk);
        panic!("hardened fails {property} ({reason}) in {steps} steps: trace {path}");
    }
}

#[test]
fn hardened_holds_on_random_sequences() {
    hardened_holds(48);
}

#[test]
#[ignore = "thousands of long sequences; run with --ignored"]
fn hardened_holds_on_many_random_sequences() {
    hardened_holds(5_000);
}

#[test]
fn every_mutant_fails_and_shrinks() {
    for m in Mutant::ALL {
        let setup = Setup::mutated(large_config(), Protocol::hardened(), Some(m));
        let Err((_, shrunk)) = run(&setup, 1_000) else {
            panic!("{} survived 1000 proptest cases", m.name());
        };
        let (property, steps, _) = report(&setup, &shrunk);
        assert!(
            steps <= 40,
            "{}: {property} shrunk only to {steps} steps",
            m.name()
        );
    }
}

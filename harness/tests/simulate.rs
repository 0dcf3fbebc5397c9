//! Seeded random exploration: deterministic, finds every mutant, shrinks to replayable traces.

use plasma_check::random::{self as simulate, SimOptions};
use plasma_check::trace::replay;
use plasma_model::{Mutant, Protocol, Setup};

fn opts(seed: u64, cases: u64) -> SimOptions {
    SimOptions {
        seed,
        cases,
        steps: 200,
        swarm: true,
    }
}

fn large(mutant: Option<Mutant>) -> Setup {
    Setup::mutated(simulate::large_config(), Protocol::hardened(), mutant)
}

#[test]
fn same_seed_same_run() {
    let setup = large(Some(Mutant::AcceptStalePull));
    let a = simulate::simulate(&setup, &opts(42, 500), |_, _| {});
    let b = simulate::simulate(&setup, &opts(42, 500), |_, _| {});
    assert_eq!(a.steps_run, b.steps_run);
    assert_eq!(a.cases_run, b.cases_run);
    let trace = |r: &simulate::SimReport| r.failure.as_ref().and_then(|f| f.trace.clone());
    assert!(trace(&a).is_some(), "the mutant is found");
    assert_eq!(trace(&a), trace(&b));
    let c = simulate::simulate(&setup, &opts(43, 500), |_, _| {});
    assert_ne!(
        (a.steps_run, trace(&a)),
        (c.steps_run, trace(&c)),
        "another seed, another run"
    );
}

#[test]
fn hardened_survives_a_swarm() {
    let r = simulate::simulate(&large(None), &opts(1, 300), |_, _| {});
    assert!(r.failure.is_none(), "{:?}", r.failure);
    assert_eq!(r.cases_run, 300);
    assert!(r.steps_run > 10_000, "{} steps", r.steps_run);
}

#[test]
fn every_mutant_is_found_and_shrunk_to_a_replayable_trace() {
    for m in Mutant::ALL {
        let r = simulate::simulate(&large(Some(m)), &opts(7, 2_000), |_, _| {});
        let f = r
            .failure
            .unwrap_or_else(|| panic!("{} survived 2000 swarm cases", m.name()));
        assert!(f.steps_shrunk <= f.steps_found);
        let trace = f.trace.expect("a trace");
        let report = replay::replay(&trace).expect("replays");
        assert!(
            report.failures.iter().any(|x| x.property == f.property),
            "{}: replay does not fail {}",
            m.name(),
            f.property
        );
    }
}

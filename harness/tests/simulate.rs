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
        shard: simulate::Shard::default(),
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

/// N shards of one run run exactly its cases between them, and the earliest failing case among
/// their reports is the unsharded run's failure; `merge` adds them up and refuses a shard given
/// twice or missing.
#[test]
fn shards_split_one_run_exactly() {
    let setup = large(Some(Mutant::NoDedup));
    let whole = simulate::simulate(&setup, &opts(7, 2000), |_, _| {});
    let failing = whole
        .failure
        .as_ref()
        .map(|f| f.case)
        .expect("no-dedup is found");
    let mut shards = Vec::new();
    for index in 0..3 {
        let o = SimOptions {
            shard: simulate::Shard { index, count: 3 },
            ..opts(7, 2000)
        };
        shards.push(simulate::simulate(&setup, &o, |_, _| {}));
    }
    let earliest = shards
        .iter()
        .filter_map(|r| r.failure.as_ref())
        .min_by_key(|f| f.case);
    let earliest = earliest.expect("a shard finds it");
    assert_eq!(earliest.case, failing);
    assert_eq!(
        earliest.property,
        whole.failure.as_ref().map_or("", |f| f.property)
    );
    assert_eq!(
        shards[(failing % 3) as usize]
            .failure
            .as_ref()
            .map(|f| f.case),
        Some(failing)
    );

    // Without a failure the shards' cases and steps add up to the whole run's.
    let clean = large(None);
    let whole = simulate::simulate(&clean, &opts(1, 30), |_, _| {});
    let parts: Vec<_> = (0..4)
        .map(|index| {
            let o = SimOptions {
                shard: simulate::Shard { index, count: 4 },
                ..opts(1, 30)
            };
            simulate::simulate(&clean, &o, |_, _| {})
        })
        .collect();
    assert_eq!(
        parts.iter().map(|r| r.cases_run).sum::<u64>(),
        whole.cases_run
    );
    assert_eq!(
        parts.iter().map(|r| r.steps_run).sum::<u64>(),
        whole.steps_run
    );

    let json = |r: &simulate::SimReport| {
        let mut v = serde_json::to_value(r).expect("report");
        v["run"] = serde_json::Value::String("the run".into());
        v
    };
    let paths: Vec<std::path::PathBuf> = (0..4).map(|i| format!("s{i}.json").into()).collect();
    let reports: Vec<_> = paths.iter().zip(parts.iter().map(json)).collect();
    let merged = plasma_check::random::cli::merge(&reports).expect("one run");
    assert_eq!(merged["cases_run"], whole.cases_run);
    assert_eq!(merged["steps_run"], whole.steps_run);
    assert!(merged["failure"].is_null());
    let missing = plasma_check::random::cli::merge(&reports[..3]).expect_err("shard 3 missing");
    assert!(missing.contains("shards are missing"), "{missing}");
    let mut renamed = reports.clone();
    renamed[1].1["shard"] = serde_json::Value::String("1/5".into());
    let mixed = plasma_check::random::cli::merge(&renamed).expect_err("4 and 5 shards");
    assert!(mixed.contains("shard 1/5, others are of 4"), "{mixed}");
    let mut twice = reports.clone();
    twice[3] = reports[0].clone();
    let again = plasma_check::random::cli::merge(&twice).expect_err("shard 0 twice");
    assert!(again.contains("shard 0/4 again"), "{again}");
}

#[test]
fn a_shard_is_i_of_n() {
    assert_eq!(
        simulate::Shard::parse("2/5"),
        Ok(simulate::Shard { index: 2, count: 5 })
    );
    for bad in ["5/5", "1/0", "x/2", "3", "-1/2"] {
        let e = simulate::Shard::parse(bad).expect_err(bad);
        assert!(e.contains(bad) && e.contains("I/N"), "{e}");
    }
}

//! Conformance of the model's server against a real push endpoint: Zero's server library on a
//! throwaway Postgres cluster that the test starts and removes.
//!
//! Needs Node, `npm ci --ignore-scripts` in harness/conformance/server and Debian's postgresql.
//! Without them the tests are skipped with a message, unless PLASMA_REQUIRE_POSTGRES=1 (CI sets
//! it), which makes that a failure.

use plasma_check::conform::concurrent::{self, Setting};
use plasma_check::conform::postgres::Cluster;
use plasma_check::conform::{self, server, Outcome};
use plasma_model::{Mutant, Protocol};

fn options(random: u64, seed: u64) -> Option<server::Options> {
    let opts = server::Options {
        node: "node".into(),
        adapter_dir: server::default_adapter_dir(),
        traces: Some(conform::default_traces_dir()),
        random,
        seed,
        steps: 40,
        case: None,
        protocol: Protocol::zero(),
        mutant: None,
        record: false,
    };
    match server::check_environment(&opts.node, &opts.adapter_dir) {
        Ok(_) => Some(opts),
        Err(e) if std::env::var("PLASMA_REQUIRE_POSTGRES").as_deref() == Ok("1") => {
            panic!("PLASMA_REQUIRE_POSTGRES=1 but the server adapter cannot run: {e}")
        }
        Err(e) => {
            eprintln!("SKIPPED server conformance test: {e}");
            None
        }
    }
}

#[test]
fn snapshot_and_random_traces_agree_with_zero_on_postgres_deterministically() {
    let Some(opts) = options(20, 1) else { return };
    let first = server::run(&opts, |_| {}).expect("runs");
    let text = first.to_text();
    assert_eq!(first.diverged, 0, "{text}");
    let snapshots = first
        .results
        .iter()
        .filter(|r| !r.name.starts_with("random-"))
        .count();
    assert_eq!(snapshots, snapshot_files(), "{text}");
    assert_eq!(first.agreed, snapshots + 20, "{text}");
    // The traces reach the endpoint: retries and duplicates included.
    assert!(first.pushes > 100, "{text}");
    let second = server::run(&opts, |_| {}).expect("runs");
    assert_eq!(
        text,
        second.to_text(),
        "the same seed gives the same report"
    );
}

#[test]
fn a_server_mutant_diverges_from_the_real_endpoint() {
    // Teeth: the comparison notices a model server that is not Zero's.
    for mutant in [
        Mutant::NoDedup,
        Mutant::WatermarkPerGroup,
        Mutant::WriteUnchecked,
        Mutant::ResolveConflictIgnored,
    ] {
        let Some(mut opts) = options(0, 1) else {
            return;
        };
        opts.mutant = Some(mutant);
        let report = server::run(&opts, |_| {}).expect("runs");
        assert!(
            report.diverged > 0,
            "{}: {}",
            mutant.name(),
            report.to_text()
        );
        assert_eq!(report.exit_code(), 1);
        assert!(report
            .results
            .iter()
            .any(|r| matches!(r.outcome, Outcome::Diverged { .. })));
    }
}

#[test]
fn concurrent_pushes_keep_the_properties_under_read_committed_with_atomic_mutators() {
    let Some(opts) = options(0, 1) else { return };
    let (_cluster, mut adapter, _zero) =
        server::start(&opts.node, &opts.adapter_dir).expect("starts");
    let safe = Setting {
        isolation: "read committed".into(),
        mutators: "atomic".into(),
        retry: false,
    };
    let report = concurrent::run_setting(&mut adapter, &safe, 30).expect("runs");
    assert_eq!(report.violations(), 0, "{report:?}");
    let dup = &report.scenarios[0];
    assert_eq!(dup.scenario, "duplicate");
    assert_eq!(dup.duplicated, 30 * (concurrent::COPIES as u64 - 1));
    // Exactly one of the copies applies the mutation; the others and the retries see it done.
    assert_eq!(dup.applied, 30, "{dup:?}");
    // Under SERIALIZABLE with the application's retry of aborted transactions, too.
    let retried = Setting {
        isolation: "serializable".into(),
        mutators: "atomic".into(),
        retry: true,
    };
    let report = concurrent::run_setting(&mut adapter, &retried, 30).expect("runs");
    assert_eq!(report.violations(), 0, "{report:?}");
}

#[test]
fn the_cluster_is_removed_when_dropped() {
    let Some(_) = options(0, 1) else { return };
    let cluster = Cluster::start().expect("starts");
    let dir = cluster.socket_dir().to_path_buf();
    assert!(dir.join("data").join("PG_VERSION").is_file());
    drop(cluster);
    assert!(!dir.exists(), "{} is left behind", dir.display());
}

#[test]
fn the_hardened_server_diverges_only_where_the_zero_profile_says() {
    // Zero's endpoint processes a signed-out push (its mutators deny each mutation); the
    // hardened server refuses it whole. That is the profile's one switch, and the only
    // divergence.
    let Some(mut opts) = options(20, 1) else {
        return;
    };
    opts.traces = None;
    opts.protocol = Protocol::hardened();
    let report = server::run(&opts, |_| {}).expect("runs");
    assert!(report.diverged >= 2, "{}", report.to_text());
    for r in &report.results {
        if let Outcome::Diverged { model, action, .. } = &r.outcome {
            assert_eq!(
                model,
                &serde_json::json!({"refused": "signed out"}),
                "{}: {action}",
                r.name
            );
            assert!(action.contains("signed out"), "{}: {action}", r.name);
        }
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

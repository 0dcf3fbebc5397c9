//! `plasma-check history` on histories recorded from Zero's push processor on Postgres
//! (`conform --server zero --concurrent --rounds 8 --record`, and `conform --server zero
//! --random 10 --seed 1 --record`), in `tests/data/history/`. A last test records afresh (skipped
//! without Node and Postgres, unless PLASMA_REQUIRE_POSTGRES=1) and holds the checker's verdict
//! to the conformance runner's own count of rounds that broke a property.

use plasma_check::conform::concurrent::{self, Setting};
use plasma_check::conform::server;
use plasma_check::history::record::Recorder;
use plasma_check::history::{self, wire, Options, Verdict};
use plasma_model::Protocol;
use std::path::PathBuf;

fn data(name: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/history")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn check(text: &str, protocol: Protocol) -> Verdict {
    let h = wire::parse(text).expect("a recorded history is well formed");
    let opts = Options {
        protocol,
        ..Options::default()
    };
    history::check(&h, &opts).expect("checks")
}

/// Every round of the concurrency scenarios is one segment; each holds its pushes, the
/// retries, and one read per client group.
fn rounds(v: &Verdict) -> usize {
    v.parts
}

#[test]
fn read_committed_read_write_mutators_lose_increments_and_the_checker_names_one() {
    let v = check(
        &data("concurrent-read-committed-read-write.jsonl"),
        Protocol::zero(),
    );
    assert_eq!(v.level, history::Level::Data);
    assert!(v.unexplained > 0, "{}", v.to_text());
    assert!(v.unexplained < rounds(&v), "{}", v.to_text());
    // Every round rejected lost an update: a read shows a row the applied mutations do not give.
    for (_, line, rule) in &v.unexplained_parts {
        assert_eq!(rule, "row-value", "line {line}: {}", v.to_text());
    }
    let f = v.failure.as_ref().expect("a failure");
    let writers = f.row_writers.as_deref().unwrap_or_default();
    assert!(
        writers.contains("increment reported applied is lost"),
        "{}",
        v.to_text()
    );
    assert_eq!(f.operations.len(), 1, "the read alone: {}", v.to_text());
    assert_eq!(v.exit_code(), 1);
    // The bookkeeping is right: at protocol level the same history is explained.
    let h = wire::parse(&data("concurrent-read-committed-read-write.jsonl")).expect("parses");
    let opts = Options {
        level: Some(history::Level::Protocol),
        protocol: Protocol::zero(),
        ..Options::default()
    };
    assert_eq!(history::check(&h, &opts).expect("checks").exit_code(), 0);
}

#[test]
fn serializable_without_retry_consumes_mutations_with_an_error() {
    for name in [
        "concurrent-serializable-atomic.jsonl",
        "concurrent-serializable-read-write.jsonl",
    ] {
        let v = check(&data(name), Protocol::zero());
        assert!(v.unexplained > 0, "{name}: {}", v.to_text());
        for (_, line, rule) in &v.unexplained_parts {
            assert_eq!(rule, "mutator-error", "{name} line {line}: {}", v.to_text());
        }
        let f = v.failure.as_ref().expect("a failure");
        assert!(f.message.contains("incr cannot fail") || f.message.contains("cannot fail"));
    }
}

#[test]
fn serializable_with_retry_and_single_statement_mutators_are_explained() {
    for name in [
        "concurrent-serializable-atomic-retry.jsonl",
        "concurrent-serializable-read-write-retry.jsonl",
        "concurrent-read-committed-atomic.jsonl",
    ] {
        let v = check(&data(name), Protocol::zero());
        assert_eq!(v.exit_code(), 0, "{name}: {}", v.to_text());
        assert_eq!(v.explained, v.parts);
        // 6 scenarios, 8 rounds each.
        assert_eq!(rounds(&v), 48, "{name}");
    }
}

#[test]
fn snapshot_and_random_traces_on_zero_are_explained_by_the_zero_server_only() {
    let text = data("server-zero.jsonl");
    let v = check(&text, Protocol::zero());
    assert_eq!(v.exit_code(), 0, "{}", v.to_text());
    assert!(v.operations > 100, "{}", v.to_text());
    // The hardened server refuses a signed-out push whole; Zero processes it.
    let v = check(&text, Protocol::hardened());
    let f = v.failure.as_ref().expect("a failure");
    assert_eq!(f.rule, "signed-out", "{}", v.to_text());
}

#[test]
fn recorded_files_hold_uuids_not_fixture_names() {
    let text = data("concurrent-read-committed-atomic.jsonl");
    let h = wire::parse(&text).expect("parses");
    for id in h.names.groups.iter().chain(&h.names.clients) {
        assert!(uuid::Uuid::parse_str(id).is_ok(), "{id} is not a UUID");
    }
}

/// Records a few rounds afresh and holds the checker to the runner's own judgement.
#[test]
fn a_fresh_recording_is_judged_as_the_conformance_runner_judges_it() {
    let adapter_dir = server::default_adapter_dir();
    if let Err(e) = server::check_environment("node", &adapter_dir) {
        if std::env::var("PLASMA_REQUIRE_POSTGRES").as_deref() == Ok("1") {
            panic!("PLASMA_REQUIRE_POSTGRES=1 but the server adapter cannot run: {e}");
        }
        eprintln!("SKIPPED recording test: {e}");
        return;
    }
    let (_cluster, mut adapter, _zero) = server::start("node", &adapter_dir).expect("starts");
    for setting in [
        Setting {
            isolation: "read committed".into(),
            mutators: "read-write".into(),
            retry: false,
        },
        Setting {
            isolation: "serializable".into(),
            mutators: "atomic".into(),
            retry: true,
        },
    ] {
        let mut rec = Recorder::new(1);
        rec.header(concurrent::history_header());
        let report = concurrent::run_setting_recorded(&mut adapter, &setting, 4, Some(&mut rec))
            .expect("runs");
        let v = check(&rec.finish(), Protocol::zero());
        // The runner counts rounds that broke a property; the checker, rounds not explained.
        assert_eq!(
            v.unexplained as u64,
            report.violations(),
            "{setting:?}: {}",
            v.to_text()
        );
    }
}

/// The Replicache client's own wire traffic (`conform --random 20 --seed 1 --record`): its push
/// and pull requests, as the client sent them, and the model's responses it got.
#[test]
fn the_replicache_clients_traffic_is_explained_by_the_replicache_server() {
    let v = check(&data("replicache-client.jsonl"), Protocol::replicache());
    assert_eq!(v.exit_code(), 0, "{}", v.to_text());
    assert!(v.operations > 100, "{}", v.to_text());
    let h = wire::parse(&data("replicache-client.jsonl")).expect("parses");
    // Replicache's own IDs: 18 characters.
    assert!(
        h.names.clients.iter().all(|c| c.len() == 18),
        "{:?}",
        h.names.clients
    );
}

/// Records the Replicache client afresh (skipped without Node and `npm ci` in
/// harness/conformance, unless PLASMA_REQUIRE_NODE=1).
#[test]
fn a_fresh_recording_of_the_replicache_client_is_explained() {
    let opts = plasma_check::conform::Options {
        node: "node".into(),
        adapter_dir: plasma_check::conform::default_adapter_dir(),
        traces: None,
        random: 4,
        seed: 3,
        steps: 40,
        case: None,
        protocol: Protocol::replicache(),
        record: true,
    };
    if let Err(e) = plasma_check::conform::check_environment(&opts) {
        if std::env::var("PLASMA_REQUIRE_NODE").as_deref() == Ok("1") {
            panic!("PLASMA_REQUIRE_NODE=1 but the adapter cannot run: {e}");
        }
        eprintln!("SKIPPED Replicache recording test: {e}");
        return;
    }
    let report = plasma_check::conform::run(&opts, |_| {}).expect("runs");
    assert_eq!(report.diverged, 0, "{}", report.to_text());
    let text = report.history.expect("a history");
    let v = check(&text, Protocol::replicache());
    assert_eq!(v.exit_code(), 0, "{}", v.to_text());
    assert!(v.operations > 20, "{}", v.to_text());
}

//! The timely engine against the native BFS: one process with two workers, and three processes
//! of one worker on loopback, give the same unique counts, verdicts and counterexamples as the
//! native BFS on one thread;
//! a killed process makes the others exit 3 at once, and a frozen one after --peer-timeout.

use serde_json::Value;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_plasma-check");

/// What every engine must agree on.
fn outcome(report: &Value) -> Value {
    let props: Vec<Value> = report["properties"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|p| serde_json::json!([p["name"], p["status"], p["steps"], p["trace"]]))
        .collect();
    serde_json::json!({
        "unique": report["unique_states"],
        "generated": report["states"],
        "verified": report["verified"],
        "properties": props,
    })
}

fn json_of(out: std::process::Output) -> (i32, Value) {
    let code = out.status.code().unwrap_or(-1);
    let v = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not a JSON report ({e}): {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (code, v)
}

fn check(args: &[&str]) -> (i32, Value) {
    let out = Command::new(BIN)
        .arg("check")
        .args(args)
        .arg("--json")
        .output()
        .expect("runs");
    json_of(out)
}

/// Ports no other test of this run uses.
fn hostfile(tag: u32, processes: u32) -> std::path::PathBuf {
    let base = 20_000 + (std::process::id() % 2_000) * 20 + tag * 4;
    let path = std::env::temp_dir().join(format!("plasma-hosts-{}-{tag}", std::process::id()));
    let lines: Vec<String> = (0..processes)
        .map(|i| format!("127.0.0.1:{}", base + i))
        .collect();
    std::fs::write(&path, lines.join("\n")).expect("hostfile");
    path
}

fn spawn_process(args: &[&str], hosts: &std::path::Path, p: u32, n: u32) -> Child {
    Command::new(BIN)
        .arg("check")
        .args(args)
        .args(["--engine", "timely", "-w", "1", "-n", &n.to_string()])
        .args(["-p", &p.to_string(), "--hostfile"])
        .arg(hosts)
        .arg("--json")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starts")
}

/// Three processes of one worker; process 0's report.
fn three_processes(args: &[&str], tag: u32) -> (i32, Value) {
    let hosts = hostfile(tag, 3);
    let others: Vec<Child> = (1..3).map(|p| spawn_process(args, &hosts, p, 3)).collect();
    let zero = spawn_process(args, &hosts, 0, 3);
    let report = json_of(zero.wait_with_output().expect("process 0 ends"));
    for (i, c) in others.into_iter().enumerate() {
        let out = c.wait_with_output().expect("ends");
        assert_eq!(out.status.code(), Some(0), "process {}", i + 1);
        assert!(out.stdout.is_empty(), "only process 0 prints the report");
    }
    let _ = std::fs::remove_file(hosts);
    report
}

fn agree(args: &[&str], tag: u32) {
    let mut native = vec!["--threads", "1"];
    native.extend_from_slice(args);
    let (code, reference) = check(&native);
    let mut two = vec!["--engine", "timely", "-w", "2"];
    two.extend_from_slice(args);
    let (code2, workers) = check(&two);
    assert_eq!(workers["engine"], "timely");
    assert_eq!(code2, code, "{args:?}: 1 x 2 workers");
    assert_eq!(
        outcome(&workers),
        outcome(&reference),
        "{args:?}: 1 x 2 workers"
    );
    let (code3, processes) = three_processes(args, tag);
    assert_eq!(code3, code, "{args:?}: 3 processes");
    assert_eq!(processes["threads"], 3);
    assert_eq!(
        outcome(&processes),
        outcome(&reference),
        "{args:?}: 3 processes"
    );
}

#[test]
fn tiny_agrees_with_the_native_engine() {
    agree(&["--config", "tiny"], 0);
}

#[test]
fn small_agrees_with_the_native_engine() {
    agree(&["--config", "small"], 1);
}

#[test]
fn three_mutants_agree_with_the_native_engine() {
    for (i, m) in [
        "watermark-per-group",
        "reset-without-rotation",
        "outbox-by-mid",
    ]
    .iter()
    .enumerate()
    {
        agree(&["--config", "tiny", "--mutant", m], 2 + i as u32);
    }
}

/// With `--disk` every worker keeps its levels' records and its parent links in files: the
/// same counts, and counterexamples walked back through the files.
#[test]
fn levels_on_disk_agree_with_the_native_engine() {
    let dir = std::env::temp_dir().join(format!("plasma-disk-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a folder for the levels");
    let d = dir.to_str().expect("a UTF-8 path");
    agree(&["--config", "tiny", "--disk", d], 5);
    agree(
        &[
            "--config",
            "tiny",
            "--mutant",
            "watermark-per-group",
            "--disk",
            d,
        ],
        6,
    );
    let left = std::fs::read_dir(&dir).map(|d| d.count()).unwrap_or(0);
    assert_eq!(
        left, 0,
        "the level files are unnamed: nothing is left behind"
    );
    let _ = std::fs::remove_dir(&dir);
}

/// Waits for a child, at most `limit`.
fn wait_bounded(c: &mut Child, limit: Duration) -> Option<i32> {
    let start = Instant::now();
    while start.elapsed() < limit {
        if let Ok(Some(s)) = c.try_wait() {
            return s.code();
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = c.kill();
    None
}

/// Starts three processes on `small`, lets them run, hurts process 2 with `signal`, and returns
/// the exit codes of processes 0 and 1 and their stderr.
fn hurt_one(signal: &str, tag: u32, extra: &[&str]) -> Vec<(Option<i32>, String)> {
    let hosts = hostfile(tag, 3);
    let mut args = vec!["--config", "small"];
    args.extend_from_slice(extra);
    let mut procs: Vec<Child> = (0..3).map(|p| spawn_process(&args, &hosts, p, 3)).collect();
    std::thread::sleep(Duration::from_millis(1500));
    let victim = procs[2].id().to_string();
    let status = Command::new("kill")
        .args([signal, &victim])
        .status()
        .expect("kill");
    assert!(status.success());
    let mut out = Vec::new();
    for c in procs.iter_mut().take(2) {
        let code = wait_bounded(c, Duration::from_secs(30));
        let mut err = String::new();
        if let Some(mut e) = c.stderr.take() {
            use std::io::Read;
            let _ = e.read_to_string(&mut err);
        }
        out.push((code, err));
    }
    let _ = procs[2].kill();
    let _ = procs[2].wait();
    let _ = std::fs::remove_file(hosts);
    out
}

/// `--max-states` and `--timeout` stop every worker at one level boundary: a partial report,
/// NOT VERIFIED (exit 3), from one process of two workers and from three processes.
#[test]
fn limits_stop_every_worker_at_one_level_not_verified() {
    let (code, r) = check(&[
        "--config",
        "small",
        "--engine",
        "timely",
        "-w",
        "2",
        "--max-states",
        "1000000",
    ]);
    assert_eq!(code, 3, "{r}");
    assert_eq!(r["complete"], false);
    let reason = r["stop_reason"].as_str().unwrap_or_default();
    assert!(reason.starts_with("state limit reached"), "{reason}");
    assert!(
        r["states"].as_u64().unwrap_or(0) >= 1_000_000,
        "not before the limit"
    );
    assert!(r["unique_states"].as_u64().unwrap_or(u64::MAX) < 1_616_122);

    let (code, r) = three_processes(&["--config", "small", "--timeout", "0"], 12);
    assert_eq!(code, 3, "{r}");
    let reason = r["stop_reason"].as_str().unwrap_or_default();
    assert!(reason.starts_with("timeout reached"), "{reason}");
    assert_eq!(
        r["max_depth"], 1,
        "the initial level is expanded, the next one is not"
    );
}

#[test]
fn a_killed_process_makes_the_others_exit_3() {
    for (code, err) in hurt_one("-KILL", 10, &[]) {
        assert_eq!(code, Some(3), "{err}");
        assert!(err.contains("NOT VERIFIED"), "{err}");
    }
}

#[test]
fn a_frozen_process_makes_the_others_exit_3_after_the_peer_timeout() {
    // The first to give up closes its sockets, and the other may see that before its own
    // timeout: both end NOT VERIFIED, at least one for the timeout.
    let ends = hurt_one("-STOP", 11, &["--peer-timeout", "3"]);
    for (code, err) in &ends {
        assert_eq!(*code, Some(3), "{err}");
        assert!(err.contains("NOT VERIFIED"), "{err}");
    }
    assert!(
        ends.iter()
            .any(|(_, err)| err.contains("no progress for 3s")),
        "{ends:?}"
    );
}

#[test]
fn a_killed_timely_run_resumes_from_its_workers_checkpoints() {
    let dir = std::env::temp_dir().join(format!("plasma-tck-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let d = dir.display().to_string();
    let args = ["--config", "small", "--engine", "timely", "-w", "2"];
    let mut child = Command::new(BIN)
        .arg("check")
        .args(args)
        .args(["--checkpoint", &d, "--checkpoint-every", "0"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("starts");
    // Both workers have checkpointed level 10.
    let start = Instant::now();
    while !(0..2).all(|w| dir.join(format!("worker-{w}/meta-10.json")).is_file()) {
        assert!(start.elapsed() < Duration::from_secs(120), "no checkpoint");
        if let Ok(Some(s)) = child.try_wait() {
            panic!("the run ended ({s}) before level 10 was checkpointed");
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().expect("SIGKILL");
    let _ = child.wait();
    let mut resume = args.to_vec();
    resume.extend_from_slice(&["--resume", &d]);
    let (code, resumed) = check(&resume);
    assert_eq!(code, 0, "{resumed}");
    let (_, reference) = check(&["--config", "small", "--threads", "1"]);
    assert_eq!(outcome(&resumed), outcome(&reference));
    // Another configuration, or another number of workers, is refused.
    let out = Command::new(BIN)
        .args([
            "check", "--config", "tiny", "--engine", "timely", "-w", "2", "--resume", &d,
        ])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("the configuration"));
    let out = Command::new(BIN)
        .args([
            "check", "--config", "small", "--engine", "timely", "-w", "1", "--resume", &d,
        ])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("workers"));
    let _ = std::fs::remove_dir_all(&dir);
}

/// On every mutant and documented flaw, the timely engine on three workers gives the very
/// counterexample the native BFS gives on one thread (the least of the shortest paths), and
/// stops at the same level.
#[test]
fn counterexamples_equal_the_native_bfs_on_one_thread() {
    use plasma_check::hunt;
    use plasma_check::search::distributed::Cluster;
    use plasma_check::search::plan::EnginePlan;
    for target in hunt::targets() {
        let reference = hunt::hunt_with(&target, EnginePlan::native_bfs(1));
        assert!(reference.caught_by.is_some(), "{}", target.name);
        let timely = hunt::hunt_with(&target, EnginePlan::Timely(Cluster::in_process(3)));
        assert_eq!(timely.caught_by, reference.caught_by, "{}", target.name);
        assert_eq!(timely.steps, reference.steps, "{}", target.name);
        assert_eq!(
            timely.path, reference.path,
            "{}: the same path",
            target.name
        );
        assert_eq!(
            timely.unique_states, reference.unique_states,
            "{}: stopped at the same level",
            target.name
        );
    }
}

/// A table sized up front (`expect_states`, each worker its share) stores the same states.
#[test]
fn workers_sized_for_the_expected_states_store_the_same_states() {
    use plasma_check::presets::preset;
    use plasma_check::search::distributed::Cluster;
    use plasma_check::search::plan::{EnginePlan, Plan};
    let setup = plasma_model::Setup::hardened(preset("tiny").expect("preset"));
    let cluster = Cluster {
        expect_states: Some(400_000),
        ..Cluster::in_process(2)
    };
    let r =
        plasma_check::search::run(&setup, &Plan::new(EnginePlan::Timely(cluster))).expect("runs");
    assert!(r.verified, "{:?}", r.stop_reason);
    assert_eq!(r.unique_states, 372_210);
}

/// Checkpoints written every few milliseconds skip levels; every level's fingerprints and
/// links are still kept, so a run resumed from the last one gives the native BFS's report,
/// its counterexample included.
#[test]
fn checkpoints_that_skip_levels_resume_to_the_same_report() {
    use plasma_check::hunt;
    use plasma_check::search::distributed::Cluster;
    use plasma_check::search::plan::{Checkpointing, EnginePlan, Plan};
    let dir = std::env::temp_dir().join(format!("plasma-tck-skip-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    // The target with the longest counterexample: the most levels to skip.
    let target = hunt::targets()
        .into_iter()
        .max_by_key(|t| hunt::hunt_with(t, EnginePlan::native_bfs(1)).steps)
        .expect("targets");
    let plan = |engine, resume| Plan {
        checkpoint: Some(Checkpointing {
            dir: dir.clone(),
            every: Duration::from_millis(20),
            resume,
        }),
        ..Plan::new(engine).hunting(target.property)
    };
    let timely = || EnginePlan::Timely(Cluster::in_process(2));
    let run = |plan: &Plan| plasma_check::search::run(&target.setup, plan).expect("runs");
    let first = run(&plan(timely(), false));
    let resumed = run(&plan(timely(), true));
    let reference = run(&Plan::new(EnginePlan::native_bfs(1)).hunting(target.property));
    let levels: Vec<u32> = std::fs::read_dir(dir.join("worker-0"))
        .expect("lists")
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().to_str()?.to_string();
            name.strip_prefix("meta-")?
                .strip_suffix(".json")?
                .parse()
                .ok()
        })
        .collect();
    assert!(
        levels.len() <= 2,
        "only the last two checkpoints stay: {levels:?}"
    );
    for r in [&first, &resumed] {
        assert_eq!(r.unique_states, reference.unique_states, "{}", target.name);
        assert_eq!(
            serde_json::to_value(&r.properties).expect("json"),
            serde_json::to_value(&reference.properties).expect("json"),
            "{}",
            target.name
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

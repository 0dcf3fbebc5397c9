//! The binary's contract: exit codes, bad input, JSON.

use std::process::Command;

fn plasma_check(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_plasma-check"))
        .args(args)
        .output()
        .expect("runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_run_stopped_by_the_state_limit_is_not_verified() {
    let (code, stdout, _) = plasma_check(&["check", "--config", "tiny", "--max-states", "1000"]);
    assert_eq!(code, 3, "{stdout}");
    assert!(stdout.contains("NOT VERIFIED"), "{stdout}");
    assert!(stdout.contains("state limit"), "{stdout}");
    assert!(!stdout.contains("\nverified"), "{stdout}");
}

#[test]
fn a_run_stopped_by_timeout_is_not_verified() {
    let (code, stdout, _) =
        plasma_check(&["check", "--config", "default", "--timeout", "1", "--json"]);
    assert_eq!(code, 3);
    let v: serde_json::Value = serde_json::from_str(&stdout).expect("json");
    assert_eq!(v["verified"], false);
    assert_eq!(v["complete"], false);
    assert!(v["stop_reason"].as_str().unwrap_or("").contains("timeout"));
}

#[test]
fn tiny_verifies_with_json_report() {
    let (code, stdout, _) = plasma_check(&["check", "--config", "tiny", "--json"]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&stdout).expect("json");
    assert_eq!(v["verified"], true);
    assert_eq!(v["complete"], true);
    assert_eq!(v["unique_states"], 372_210);
    for field in ["states", "max_depth", "seconds", "states_per_second"] {
        assert!(v[field].is_number(), "{field}");
    }
    let props = v["properties"].as_array().expect("properties");
    let tiny = plasma_check::presets::preset("tiny").expect("tiny");
    assert_eq!(props.len(), plasma_properties::applicable(&tiny).count());
    for p in props {
        for field in ["name", "kind", "status"] {
            assert!(p[field].is_string(), "{field} in {p}");
        }
        assert!(p.get("steps").is_some());
    }
}

#[test]
fn bad_input_exits_2_and_names_it() {
    let (code, _, err) = plasma_check(&["check", "--config", "nosuch"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("nosuch") && err.contains("not a preset"),
        "{err}"
    );

    let dir = std::env::temp_dir().join(format!("plasma-check-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("tmp");
    let unknown = dir.join("unknown.json");
    std::fs::write(&unknown, r#"{"installs": 1, "tab": 2}"#).expect("write");
    let (code, _, err) = plasma_check(&["check", "--config", unknown.to_str().expect("utf8")]);
    assert_eq!(code, 2);
    assert!(err.contains("unknown field `tab`"), "{err}");

    let bad = dir.join("bad.json");
    std::fs::write(&bad, r#"{"installs": 2, "tabs": 1}"#).expect("write");
    let (code, _, err) = plasma_check(&["check", "--config", bad.to_str().expect("utf8")]);
    assert_eq!(code, 2);
    assert!(err.contains("config.tabs"), "{err}");

    let (code, _, err) = plasma_check(&["check", "--strategy", "sideways"]);
    assert_eq!(code, 2, "clap errors exit 2: {err}");
    let (code, _, err) = plasma_check(&["check", "--threads", "0"]);
    assert_eq!(code, 2);
    assert!(err.contains("--threads"), "{err}");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_config_file_with_missing_fields_takes_defaults() {
    let dir = std::env::temp_dir().join(format!("plasma-check-cfg-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("tmp");
    let f = dir.join("one.json");
    std::fs::write(&f, r#"{"max_mutations": 1}"#).expect("write");
    let (code, stdout, _) =
        plasma_check(&["check", "--config", f.to_str().expect("utf8"), "--json"]);
    let v: serde_json::Value = serde_json::from_str(&stdout).expect("json");
    assert_eq!(v["config"]["installs"], 1);
    assert_eq!(v["config"]["max_mutations"], 1);
    // One mutation can never witness "two applied": the run is complete but NOT verified.
    assert_eq!(code, 3);
    assert_eq!(v["complete"], true);
    assert_eq!(v["verified"], false);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn bench_measures_a_preset_in_a_child_process() {
    let (code, stdout, _) = plasma_check(&[
        "bench",
        "--presets",
        "tiny",
        "--strategies",
        "dfs",
        "--threads",
        "1",
        "--json",
    ]);
    assert_eq!(code, 0);
    let report: serde_json::Value = serde_json::from_str(&stdout).expect("json");
    let row = &report["rows"][0];
    assert_eq!(row["unique_states"], 372_210);
    assert_eq!(row["verified"], true);
    assert!(row["peak_bytes"].as_u64().unwrap_or(0) > 1_000_000);
    assert!(row["bytes_per_unique_state"].as_f64().unwrap_or(0.0) > 0.0);
    let (code, _, err) = plasma_check(&["bench", "--presets", "huge"]);
    assert_eq!(code, 2);
    assert!(err.contains("huge"), "{err}");
    let (code, _, err) = plasma_check(&["bench", "--repeat", "0"]);
    assert_eq!(code, 2);
    assert!(err.contains("--repeat"), "{err}");
}

/// `timely-procs` starts one process per "thread" on loopback; process 0 reports.
#[test]
fn bench_runs_the_timely_engine_in_two_processes() {
    let (code, stdout, err) = plasma_check(&[
        "bench",
        "--presets",
        "tiny",
        "--strategies",
        "timely-procs",
        "--threads",
        "2",
        "--json",
    ]);
    assert_eq!(code, 0, "{err}");
    let report: serde_json::Value = serde_json::from_str(&stdout).expect("json");
    let row = &report["rows"][0];
    assert_eq!(row["strategy"], "timely-procs");
    assert_eq!(row["threads"], 2);
    assert_eq!(row["unique_states"], 372_210);
    assert_eq!(row["verified"], true);
}

#[test]
fn bench_native_spin_checks_spin_s_nine_properties_and_repeats() {
    let (code, stdout, _) = plasma_check(&[
        "bench",
        "--presets",
        "tiny",
        "--strategies",
        "native-spin",
        "--threads",
        "1",
        "--repeat",
        "2",
        "--json",
    ]);
    assert_eq!(code, 0);
    let report: serde_json::Value = serde_json::from_str(&stdout).expect("json");
    assert_eq!(report["repeat"], 2);
    let row = &report["rows"][0];
    assert_eq!(row["strategy"], "native-spin");
    assert_eq!(row["unique_states"], 372_210);
    assert_eq!(row["states"], 1_140_442);
    assert_eq!(row["verified"], true);
}

#[test]
fn properties_selects_what_is_checked() {
    let (code, stdout, _) = plasma_check(&[
        "check",
        "--config",
        "tiny",
        "--strategy",
        "dfs",
        "--engine",
        "native",
        "--properties",
        "at-most-once,retry-in-flight",
        "--json",
    ]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&stdout).expect("json");
    let names: Vec<&str> = v["properties"]
        .as_array()
        .expect("properties")
        .iter()
        .filter_map(|p| p["name"].as_str())
        .collect();
    assert_eq!(names, ["at-most-once", "retry-in-flight"]);
    assert_eq!(v["engine"], "native");
    let (code, _, err) = plasma_check(&["check", "--config", "tiny", "--properties", "nope"]);
    assert_eq!(code, 2);
    assert!(err.contains("--properties nope"), "{err}");
    let (code, _, err) =
        plasma_check(&["check", "--config", "tiny", "--properties", "crdt-counter"]);
    assert_eq!(code, 2);
    assert!(err.contains("does not apply"), "{err}");
    let (code, _, err) = plasma_check(&[
        "check",
        "--engine",
        "native",
        "--strategy",
        "dfs",
        "--threads",
        "2",
        "--config",
        "tiny",
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("single-threaded"), "{err}");
    let (code, _, err) = plasma_check(&[
        "check",
        "--engine",
        "stateright",
        "--symmetry",
        "--config",
        "tiny",
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("--strategy dfs"), "{err}");
}

#[test]
fn disk_needs_a_folder_and_the_native_bfs() {
    let (code, _, err) =
        plasma_check(&["check", "--config", "tiny", "--disk", "/nonexistent/plasma"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("--disk /nonexistent/plasma: no such folder"),
        "{err}"
    );
    let dir = env!("CARGO_TARGET_TMPDIR");
    let (code, _, err) = plasma_check(&[
        "check",
        "--config",
        "tiny",
        "--disk",
        dir,
        "--engine",
        "stateright",
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("native BFS"), "{err}");
    let (code, stdout, _) = plasma_check(&["check", "--config", "tiny", "--disk", dir, "--json"]);
    assert_eq!(code, 0, "{stdout}");
    let v: serde_json::Value = serde_json::from_str(&stdout).expect("json");
    assert_eq!(v["unique_states"], 372_210);
}

//! The benchmark: each preset under each strategy and thread count, run in a child process (so
//! that its peak memory is its own), side by side: unique states, states per second, and peak
//! resident memory per unique state.

use serde::Serialize;
use std::fmt::Write;
use std::io::Read;
use std::process::{Command, Stdio};

#[derive(Clone, Debug, Serialize)]
pub struct BenchRow {
    pub preset: String,
    pub strategy: String,
    pub threads: usize,
    pub verified: bool,
    pub unique_states: u64,
    pub states: u64,
    pub seconds: f64,
    pub states_per_second: f64,
    /// Peak resident set of the child process, in bytes.
    pub peak_bytes: u64,
    pub bytes_per_unique_state: f64,
}

/// Runs `exe check --config preset --strategy s --threads t --json` and measures it.
pub fn run_one(
    exe: &std::path::Path,
    preset: &str,
    strategy: &str,
    threads: usize,
) -> Result<BenchRow, String> {
    let mut child = Command::new(exe)
        .args([
            "check",
            "--config",
            preset,
            "--strategy",
            strategy,
            "--json",
        ])
        .args(["--threads", &threads.to_string()])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", exe.display()))?;
    let mut out = String::new();
    if let Some(mut stdout) = child.stdout.take() {
        stdout
            .read_to_string(&mut out)
            .map_err(|e| format!("cannot read the check's report: {e}"))?;
    }
    let peak_bytes = wait_peak_rss(child.id())?;
    let v: serde_json::Value = serde_json::from_str(&out)
        .map_err(|e| format!("{preset} {strategy} x{threads}: no JSON report ({e})"))?;
    let num = |k: &str| v[k].as_f64().unwrap_or(0.0);
    let unique = num("unique_states");
    Ok(BenchRow {
        preset: preset.to_string(),
        strategy: strategy.to_string(),
        threads,
        verified: v["verified"].as_bool().unwrap_or(false),
        unique_states: unique as u64,
        states: num("states") as u64,
        seconds: num("seconds"),
        states_per_second: num("states_per_second"),
        peak_bytes,
        bytes_per_unique_state: peak_bytes as f64 / unique.max(1.0),
    })
}

/// Reaps the child and returns its own peak resident set (`wait4`'s `ru_maxrss`, in KiB on
/// Linux).
fn wait_peak_rss(pid: u32) -> Result<u64, String> {
    let mut status = 0;
    // SAFETY: rusage is plain data that wait4 fills in; pid is our own, not yet reaped child.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let r = unsafe { libc::wait4(pid as libc::pid_t, &mut status, 0, &mut usage) };
    if r < 0 {
        return Err(format!("wait4: {}", std::io::Error::last_os_error()));
    }
    Ok(u64::try_from(usage.ru_maxrss).unwrap_or(0) * 1024)
}

pub fn table(rows: &[BenchRow]) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "  {:8} {:4} {:>3}  {:>12} {:>13} {:>9} {:>12} {:>10} {:>11}  verdict",
        "preset",
        "str",
        "thr",
        "unique",
        "generated",
        "seconds",
        "states/s",
        "peak MiB",
        "bytes/state"
    );
    for r in rows {
        let _ = writeln!(
            s,
            "  {:8} {:4} {:>3}  {:>12} {:>13} {:>9.2} {:>12.0} {:>10.1} {:>11.1}  {}",
            r.preset,
            r.strategy,
            r.threads,
            r.unique_states,
            r.states,
            r.seconds,
            r.states_per_second,
            r.peak_bytes as f64 / (1024.0 * 1024.0),
            r.bytes_per_unique_state,
            if r.verified {
                "verified"
            } else {
                "NOT VERIFIED"
            }
        );
    }
    let _ = writeln!(
        s,
        "\nstates/s counts generated states (stateright's counter); peak memory is the child process's maximum resident set."
    );
    s
}

//! The benchmark: each preset under each strategy and thread count, run in a child process (so
//! that its peak memory is its own), side by side: unique states, states per second, and peak
//! resident memory per unique state.

pub mod cli;

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
    /// Unique states per second: what SPIN's "rate" counts (states stored per second).
    pub unique_per_second: f64,
    /// Peak resident set of the child process, in bytes.
    pub peak_bytes: u64,
    pub bytes_per_unique_state: f64,
}

/// How a row searches: stateright's BFS and DFS (`-sym`: with symmetry reduction), the native
/// single-threaded DFS (`native-spin`: checking only the nine properties the Promela port
/// asserts, the same work as SPIN's run), the native BFS, on any number of threads, and the
/// timely engine (`timely`: one process of that many workers; `timely-procs`: that many
/// processes of one worker each, on loopback, whose peak memory is the largest process's).
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Variant {
    Bfs,
    Dfs,
    DfsSym,
    Native,
    NativeSym,
    NativeSpin,
    NativeBfs,
    NativeBfsSym,
    Timely,
    TimelyProcs,
}

/// The properties SPIN's port asserts (`harness/spin/plasma.pml`): the `always` properties that
/// hold per state in a one-user configuration. `bench --spin` checks these, like pan does.
pub const SPIN_PROPERTIES: [&str; 9] = [
    "at-most-once",
    "unique-identity",
    "per-client-order",
    "no-silent-drop",
    "outbox-honesty",
    "monotone",
    "rebase",
    "read-your-writes",
    "group-isolation",
];

impl Variant {
    /// Its name on the command line and in the table.
    pub fn name(self) -> &'static str {
        match self {
            Variant::Bfs => "bfs",
            Variant::Dfs => "dfs",
            Variant::DfsSym => "dfs-sym",
            Variant::Native => "native",
            Variant::NativeSym => "native-sym",
            Variant::NativeSpin => "native-spin",
            Variant::NativeBfs => "native-bfs",
            Variant::NativeBfsSym => "native-bfs-sym",
            Variant::Timely => "timely",
            Variant::TimelyProcs => "timely-procs",
        }
    }

    /// The native DFS runs one thread only.
    pub fn single_threaded(self) -> bool {
        matches!(
            self,
            Variant::Native | Variant::NativeSym | Variant::NativeSpin
        )
    }

    /// The `check` arguments that run it on `threads` threads.
    fn check_args(self, threads: usize) -> Vec<String> {
        let (engine, strategy) = match self {
            Variant::Bfs => ("stateright", "bfs"),
            Variant::Dfs | Variant::DfsSym => ("stateright", "dfs"),
            Variant::Native | Variant::NativeSym | Variant::NativeSpin => ("native", "dfs"),
            Variant::NativeBfs | Variant::NativeBfsSym => ("native", "bfs"),
            Variant::Timely | Variant::TimelyProcs => ("timely", "bfs"),
        };
        let mut args: Vec<String> = ["--engine", engine, "--strategy", strategy]
            .map(String::from)
            .into();
        if self == Variant::TimelyProcs {
            args.extend(["--threads", "1", "--processes"].map(String::from));
            args.push(threads.to_string());
        } else if !self.single_threaded() {
            args.extend(["--threads".to_string(), threads.to_string()]);
        }
        if matches!(
            self,
            Variant::DfsSym | Variant::NativeSym | Variant::NativeBfsSym
        ) {
            args.push("--symmetry".to_string());
        }
        if self == Variant::NativeSpin {
            args.extend(["--properties".to_string(), SPIN_PROPERTIES.join(",")]);
        }
        args
    }
}

/// Runs [`run_one`] `repeat` times and keeps the fastest run: timing on a shared machine only
/// ever errs slow. Every run must find the same states.
pub fn run_best(
    exe: &std::path::Path,
    preset: &str,
    strategy: Variant,
    threads: usize,
    repeat: usize,
) -> Result<BenchRow, String> {
    best_of(
        repeat,
        || run_one(exe, preset, strategy, threads),
        |r| (r.seconds, (r.unique_states, r.states)),
    )
}

/// [`run_spin`] `repeat` times, the fastest kept; every run must store the same states.
pub fn run_spin_best(preset: &str, repeat: usize) -> Result<SpinRow, String> {
    best_of(
        repeat,
        || run_spin(preset),
        |r| (r.seconds, (r.stored, r.transitions)),
    )
}

fn best_of<R>(
    repeat: usize,
    mut run: impl FnMut() -> Result<R, String>,
    key: impl Fn(&R) -> (f64, (u64, u64)),
) -> Result<R, String> {
    let mut best = run()?;
    for _ in 1..repeat {
        let r = run()?;
        let (secs, counts) = key(&r);
        let (best_secs, best_counts) = key(&best);
        if counts != best_counts {
            return Err(format!(
                "two runs of the same search found different states: {counts:?} and {best_counts:?}"
            ));
        }
        if secs < best_secs {
            best = r;
        }
    }
    Ok(best)
}

/// Runs `exe check --config preset --strategy s --threads t --json` and measures it.
pub fn run_one(
    exe: &std::path::Path,
    preset: &str,
    strategy: Variant,
    threads: usize,
) -> Result<BenchRow, String> {
    let processes = if strategy == Variant::TimelyProcs {
        threads
    } else {
        1
    };
    let mut children = Vec::new();
    for process in 0..processes {
        let mut command = Command::new(exe);
        command
            .args(["check", "--config", preset, "--json"])
            .args(strategy.check_args(threads));
        if strategy == Variant::TimelyProcs {
            command.args(["--process", &process.to_string()]);
        }
        let child = command
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", exe.display()))?;
        children.push(child);
    }
    // Process 0 prints the report.
    let mut out = String::new();
    if let Some(mut stdout) = children[0].stdout.take() {
        stdout
            .read_to_string(&mut out)
            .map_err(|e| format!("cannot read the check's report: {e}"))?;
    }
    let mut peak_bytes = 0;
    for child in &children {
        peak_bytes = peak_bytes.max(wait_peak_rss(child.id())?);
    }
    let v: serde_json::Value = serde_json::from_str(&out).map_err(|e| {
        format!(
            "{preset} {} x{threads}: no JSON report ({e})",
            strategy.name()
        )
    })?;
    let num = |k: &str| v[k].as_f64().unwrap_or(0.0);
    let unique = num("unique_states");
    Ok(BenchRow {
        preset: preset.to_string(),
        strategy: strategy.name().to_string(),
        threads,
        verified: v["verified"].as_bool().unwrap_or(false),
        unique_states: unique as u64,
        states: num("states") as u64,
        seconds: num("seconds"),
        states_per_second: num("states_per_second"),
        unique_per_second: unique / num("seconds").max(1e-9),
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

/// The rows as a Markdown table, for `harness/docs/benchmark.md` (`bench --markdown`).
pub fn markdown(rows: &[BenchRow]) -> String {
    let mut s = String::from(
        "| preset | search | threads | unique | generated | seconds | unique/s | generated/s | peak MiB | bytes/state | verdict |\n|---|---|--:|--:|--:|--:|--:|--:|--:|--:|---|\n",
    );
    for r in rows {
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | {:.2} | {:.0} | {:.0} | {:.1} | {:.1} | {} |",
            r.preset,
            r.strategy,
            r.threads,
            r.unique_states,
            r.states,
            r.seconds,
            r.unique_per_second,
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
    s
}

pub fn table(rows: &[BenchRow]) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "  {:8} {:14} {:>3}  {:>12} {:>13} {:>9} {:>12} {:>12} {:>10} {:>11}  verdict",
        "preset",
        "search",
        "thr",
        "unique",
        "generated",
        "seconds",
        "unique/s",
        "generated/s",
        "peak MiB",
        "bytes/state"
    );
    for r in rows {
        let _ = writeln!(
            s,
            "  {:8} {:14} {:>3}  {:>12} {:>13} {:>9.2} {:>12.0} {:>12.0} {:>10.1} {:>11.1}  {}",
            r.preset,
            r.strategy,
            r.threads,
            r.unique_states,
            r.states,
            r.seconds,
            r.unique_per_second,
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
        "\nunique/s = unique states (orbits under dfs-sym) per second, the measure SPIN's \"rate\" uses; generated/s = every successor computed (stateright's counter, SPIN's \"transitions\"); peak memory is the child process's maximum resident set."
    );
    s
}

/// SPIN's exhaustive run of the Promela port (`harness/spin/plasma.pml`) of the same preset.
#[derive(Clone, Debug, Serialize)]
pub struct SpinRow {
    pub preset: String,
    /// pan's "states, stored": SPIN's unique states.
    pub stored: u64,
    pub transitions: u64,
    pub seconds: f64,
    /// Stored states per second (pan's "rate").
    pub states_per_second: f64,
    /// pan's "total actual memory usage", in bytes.
    pub memory_bytes: u64,
    pub errors: u64,
}

/// Ours against SPIN on one preset: single-threaded DFS without symmetry, the search SPIN does
/// (the native engine's rows: every applicable property, and SPIN's nine only).
#[derive(Clone, Debug, Serialize)]
pub struct Comparison {
    pub preset: String,
    /// Which of our rows: `native` (every applicable property) or `native-spin` (the nine
    /// SPIN asserts).
    pub ours: String,
    pub our_unique_states: u64,
    pub spin_stored_states: u64,
    /// The two state spaces have the same size.
    pub matched: bool,
    pub our_unique_per_second: f64,
    pub spin_states_per_second: f64,
    /// Our unique states per second over SPIN's stored states per second.
    pub ratio: f64,
    pub our_bytes_per_state: f64,
    pub spin_bytes_per_state: f64,
}

/// The Promela port and its runner, beside this crate.
pub fn spin_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("spin")
}

/// Presets the Promela port has bounds for.
pub const SPIN_PRESETS: [&str; 3] = ["tiny", "small", "default"];

/// Runs `harness/spin/run.sh PRESET` (spin -a, gcc, pan) and parses pan's report.
pub fn run_spin(preset: &str) -> Result<SpinRow, String> {
    if !SPIN_PRESETS.contains(&preset) {
        return Err(format!(
            "the Promela port has no bounds for preset {preset} (it has {})",
            SPIN_PRESETS.join(", ")
        ));
    }
    let script = spin_dir().join("run.sh");
    let out = Command::new("sh")
        .arg(&script)
        .arg(preset)
        .output()
        .map_err(|e| format!("cannot run {}: {e}", script.display()))?;
    let text = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        return Err(format!(
            "{} {preset} failed ({}): {}{}",
            script.display(),
            out.status,
            text.lines().last().unwrap_or(""),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    parse_pan(preset, &text)
}

/// Reads pan's standard report.
pub fn parse_pan(preset: &str, text: &str) -> Result<SpinRow, String> {
    let number_before = |suffix: &str| -> Result<f64, String> {
        text.lines()
            .find_map(|l| {
                l.split_once(suffix)
                    .and_then(|(a, _)| a.split_whitespace().last())
                    .and_then(|n| n.parse::<f64>().ok())
            })
            .ok_or_else(|| format!("pan's report for {preset} has no \"{suffix}\""))
    };
    let number_after = |prefix: &str| -> Result<f64, String> {
        text.lines()
            .find_map(|l| {
                l.split_once(prefix)
                    .and_then(|(_, b)| b.split_whitespace().next())
                    .and_then(|n| n.trim_end_matches(',').parse::<f64>().ok())
            })
            .ok_or_else(|| format!("pan's report for {preset} has no \"{prefix}\""))
    };
    let stored = number_before("states, stored")?;
    let seconds = number_after("elapsed time")?;
    let errors = number_after("errors:")?;
    if text.contains("max search depth too small") {
        return Err(format!(
            "pan's search of {preset} was truncated (max search depth too small)"
        ));
    }
    Ok(SpinRow {
        preset: preset.to_string(),
        stored: stored as u64,
        transitions: number_before("transitions")? as u64,
        seconds,
        states_per_second: stored / seconds.max(1e-9),
        // pan built with -DNOCOMP (run.sh's default) reports "memory usage (Mbyte)" instead.
        memory_bytes: (number_before("total actual memory usage")
            .or_else(|_| number_before("memory usage (Mbyte)"))?
            * 1024.0
            * 1024.0) as u64,
        errors: errors as u64,
    })
}

pub fn compare(ours: &BenchRow, spin: &SpinRow) -> Comparison {
    Comparison {
        preset: ours.preset.clone(),
        ours: ours.strategy.clone(),
        our_unique_states: ours.unique_states,
        spin_stored_states: spin.stored,
        matched: ours.unique_states == spin.stored,
        our_unique_per_second: ours.unique_per_second,
        spin_states_per_second: spin.states_per_second,
        ratio: ours.unique_per_second / spin.states_per_second.max(1e-9),
        our_bytes_per_state: ours.bytes_per_unique_state,
        spin_bytes_per_state: spin.memory_bytes as f64 / (spin.stored.max(1) as f64),
    }
}

/// One comparison's cells, as both of its tables print them.
fn spin_cells(spin: &[SpinRow], c: &Comparison) -> [String; 11] {
    let secs = spin
        .iter()
        .find(|r| r.preset == c.preset)
        .map_or(0.0, |r| r.seconds);
    [
        c.preset.clone(),
        c.ours.clone(),
        c.our_unique_states.to_string(),
        c.spin_stored_states.to_string(),
        (if c.matched { "yes" } else { "NO" }).to_string(),
        format!("{secs:.2}"),
        format!("{:.0}", c.our_unique_per_second),
        format!("{:.0}", c.spin_states_per_second),
        format!("{:.2}", c.ratio),
        format!("{:.1}", c.our_bytes_per_state),
        format!("{:.1}", c.spin_bytes_per_state),
    ]
}

/// The comparison with SPIN as a Markdown table (`bench --spin --markdown`).
pub fn spin_markdown(spin: &[SpinRow], cmp: &[Comparison]) -> String {
    let mut s = String::from(
        "\n| preset | ours | unique | SPIN stored | matched | SPIN s | ours states/s | SPIN states/s | ours / SPIN | ours bytes/state | SPIN bytes/state |\n|---|---|--:|--:|---|--:|--:|--:|--:|--:|--:|\n",
    );
    for c in cmp {
        let _ = writeln!(s, "| {} |", spin_cells(spin, c).join(" | "));
    }
    s
}

/// The comparison with SPIN as the text table `bench --spin` prints.
pub fn spin_table(spin: &[SpinRow], cmp: &[Comparison]) -> String {
    // Column widths; the first two columns are left-aligned.
    const WIDTHS: [usize; 11] = [8, 11, 12, 12, 8, 9, 12, 12, 7, 11, 11];
    let line = |cells: &[String]| {
        let padded: Vec<String> = (cells.iter().zip(WIDTHS).enumerate())
            .map(|(i, (c, w))| {
                if i < 2 {
                    format!("{c:w$}")
                } else {
                    format!("{c:>w$}")
                }
            })
            .collect();
        format!("  {}", padded.join(" "))
    };
    let header = [
        "preset",
        "ours",
        "unique",
        "SPIN",
        "matched",
        "SPIN s",
        "ours st/s",
        "SPIN st/s",
        "ratio",
        "ours B/st",
        "SPIN B/st",
    ]
    .map(String::from);
    let mut s = String::from(
        "\n  SPIN (harness/spin/plasma.pml, pan -DSAFETY, 1 thread) against plasma-check, 1 thread:\n",
    );
    let _ = writeln!(s, "{}", line(&header));
    for c in cmp {
        let _ = writeln!(s, "{}", line(&spin_cells(spin, c)));
    }
    let _ = writeln!(
        s,
        "  st/s = unique (stored) states per second; ratio = ours / SPIN; B/st = peak memory per state."
    );
    s
}

#[cfg(test)]
mod tests {
    #[test]
    fn best_of_keeps_the_fastest_and_rejects_differing_counts() {
        let mut runs = vec![(3.0, 7), (1.0, 7), (2.0, 7)].into_iter();
        let best = super::best_of(
            3,
            || Ok(runs.next().unwrap_or((9.0, 7))),
            |r| (r.0, (r.1, 0)),
        )
        .expect("same counts");
        assert_eq!(best, (1.0, 7));
        let mut runs = vec![(3.0, 7), (1.0, 8)].into_iter();
        let err = super::best_of(
            2,
            || Ok(runs.next().unwrap_or((9.0, 7))),
            |r| (r.0, (r.1, 0)),
        )
        .unwrap_err();
        assert!(err.contains("different states"), "{err}");
    }

    #[test]
    fn both_spin_tables_show_the_same_cells() {
        let spin = [super::SpinRow {
            preset: "tiny".into(),
            stored: 372_210,
            transitions: 0,
            seconds: 0.25,
            states_per_second: 1_488_840.0,
            memory_bytes: 44_800_000,
            errors: 0,
        }];
        let c = super::Comparison {
            preset: "tiny".into(),
            ours: "native-spin".into(),
            our_unique_states: 372_210,
            spin_stored_states: 372_210,
            matched: true,
            our_unique_per_second: 1_644_450.4,
            spin_states_per_second: 1_488_840.0,
            ratio: 1.1045,
            our_bytes_per_state: 36.24,
            spin_bytes_per_state: 120.36,
        };
        let md = super::spin_markdown(&spin, std::slice::from_ref(&c));
        assert!(md.ends_with("| tiny | native-spin | 372210 | 372210 | yes | 0.25 | 1644450 | 1488840 | 1.10 | 36.2 | 120.4 |\n"), "{md}");
        let text = super::spin_table(&spin, &[c]);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[2], "  preset   ours              unique         SPIN  matched    SPIN s    ours st/s    SPIN st/s   ratio   ours B/st   SPIN B/st");
        assert_eq!(lines[3], "  tiny     native-spin       372210       372210      yes      0.25      1644450      1488840    1.10        36.2       120.4");
    }

    #[test]
    fn reads_pan_s_report() {
        let pan = "State-vector 76 byte, depth reached 56, errors: 0\n   372210 states, stored\n  1845155 transitions (= stored+matched)\n  287.903\ttotal actual memory usage\n\npan: elapsed time 1.4 seconds\npan: rate 265864.29 states/second\n";
        let r = super::parse_pan("tiny", pan).expect("parses");
        assert_eq!((r.stored, r.transitions, r.errors), (372_210, 1_845_155, 0));
        assert!((r.seconds - 1.4).abs() < 1e-9);
        assert_eq!(r.memory_bytes, (287.903 * 1024.0 * 1024.0) as u64);
        let nocomp = pan.replace(
            "287.903\ttotal actual memory usage",
            "180.700\tmemory usage (Mbyte)",
        );
        let r = super::parse_pan("tiny", &nocomp).expect("parses pan -DNOCOMP's report");
        assert_eq!(r.memory_bytes, (180.7 * 1024.0 * 1024.0) as u64);
        let err = super::parse_pan("tiny", "pan: elapsed time 1 seconds").unwrap_err();
        assert!(err.contains("states, stored"), "{err}");
    }
}

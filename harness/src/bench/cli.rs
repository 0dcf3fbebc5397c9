//! `plasma-check bench`: the benchmark's arguments and runner.

use crate::bench::Variant;
use crate::cli::{bad_input, code, emit};
use crate::exit;
use crate::presets;
use std::process::{Command as Process, ExitCode};

#[derive(clap::Args)]
pub struct BenchArgs {
    #[arg(long, value_delimiter = ',', default_value = "tiny,small,default")]
    presets: Vec<String>,
    /// bfs, dfs, dfs-sym (stateright; -sym: symmetry reduction), native, native-sym (our own
    /// single-threaded DFS), native-spin (native, checking only the nine properties SPIN's
    /// port asserts), native-bfs, native-bfs-sym (our own BFS, on any number of threads),
    /// timely (the timely engine, one process of that many workers), timely-procs (that many
    /// processes of one worker each, on loopback ports 2101 and up).
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        default_value = "bfs,dfs,dfs-sym,native,native-sym,native-bfs,native-bfs-sym",
        hide_possible_values = true
    )]
    strategies: Vec<Variant>,
    #[arg(long, value_delimiter = ',', default_value = "1,2")]
    threads: Vec<usize>,
    /// Also run SPIN on the Promela port (harness/spin) of each preset it has bounds for, and
    /// compare it with our single-threaded DFS (needs `spin` and `gcc`).
    #[arg(long)]
    spin: bool,
    /// Runs every measurement this many times and reports the fastest (each run must find the
    /// same states): a shared machine only ever makes a run slower.
    #[arg(long, default_value_t = 1)]
    repeat: usize,
    #[arg(long)]
    json: bool,
    /// Print the tables in Markdown (what harness/docs/benchmark.md holds).
    #[arg(long, conflicts_with = "json")]
    markdown: bool,
}

pub fn run_bench(args: BenchArgs) -> ExitCode {
    for p in &args.presets {
        if presets::preset(p).is_none() {
            return bad_input(&format!(
                "--presets {p}: not a preset ({})",
                presets::NAMES.join(", ")
            ));
        }
    }
    if args.threads.contains(&0) {
        return bad_input("--threads must be at least 1");
    }
    if args.repeat == 0 {
        return bad_input("--repeat must be at least 1");
    }
    let exe = match std::env::current_exe() {
        Ok(e) => e,
        Err(e) => return bad_input(&format!("cannot find this executable: {e}")),
    };
    if args.spin {
        let found = Process::new("spin")
            .arg("-V")
            .output()
            .is_ok_and(|o| o.status.success());
        if !found {
            return bad_input("--spin: SPIN is not installed (Debian: apt-get install spin)");
        }
    }
    let mut rows = Vec::new();
    let mut spin = Vec::new();
    for p in &args.presets {
        for &s in &args.strategies {
            for &t in &args.threads {
                if s.single_threaded() && t != 1 {
                    continue;
                }
                eprintln!("bench: {p} {} x{t} ...", s.name());
                match crate::bench::run_best(&exe, p, s, t, args.repeat) {
                    Ok(r) => rows.push(r),
                    Err(e) => return bad_input(&e),
                }
            }
        }
        if args.spin && crate::bench::SPIN_PRESETS.contains(&p.as_str()) {
            eprintln!("bench: {p} SPIN ...");
            match crate::bench::run_spin_best(p, args.repeat) {
                Ok(r) => spin.push(r),
                Err(e) => return bad_input(&e),
            }
        }
    }
    // SPIN searches depth first, single-threaded, without symmetry: compare it with the native
    // engine's rows, checking every property and checking SPIN's nine.
    let mut comparisons = Vec::new();
    for s in &spin {
        for want in [Variant::Native, Variant::NativeSpin] {
            let ours = rows
                .iter()
                .find(|r| r.preset == s.preset && r.strategy == want.name() && r.threads == 1);
            let ours = match ours {
                Some(r) => r.clone(),
                None => {
                    eprintln!(
                        "bench: {} {} (for the comparison with SPIN) ...",
                        s.preset,
                        want.name()
                    );
                    match crate::bench::run_best(&exe, &s.preset, want, 1, args.repeat) {
                        Ok(r) => r,
                        Err(e) => return bad_input(&e),
                    }
                }
            };
            comparisons.push(crate::bench::compare(&ours, s));
        }
    }
    let report = serde_json::json!({
        "repeat": args.repeat,
        "rows": rows,
        "spin": spin,
        "comparisons": comparisons,
    });
    let text = || {
        let (mut t, spin_text) = if args.markdown {
            (
                crate::bench::markdown(&rows),
                crate::bench::spin_markdown(&spin, &comparisons),
            )
        } else {
            (
                crate::bench::table(&rows),
                crate::bench::spin_table(&spin, &comparisons),
            )
        };
        if !spin.is_empty() {
            t.push_str(&spin_text);
        }
        t
    };
    if let Some(failed) = emit(args.json, &report, text) {
        return failed;
    }
    let spin_ok = spin.iter().all(|s| s.errors == 0) && comparisons.iter().all(|c| c.matched);
    code(if rows.iter().all(|r| r.verified) && spin_ok {
        exit::VERIFIED
    } else {
        exit::NOT_VERIFIED
    })
}

//! `plasma-check conform`: the conformance run's arguments and runner.

use crate::cli::{bad_input, code, emit, load_protocol, write_file};
use crate::conform;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct ConformArgs {
    /// A folder of traces (*.json) and snapshots (*.snap) to run [default: the repository's
    /// snapshots/]; `--traces none` runs none.
    #[arg(long, value_name = "DIR")]
    traces: Option<String>,
    /// Random traces to draw under the replicache profile.
    #[arg(long, default_value_t = 0)]
    random: u64,
    /// The seed random traces derive from (default: drawn from the clock, and printed).
    #[arg(long)]
    seed: Option<u64>,
    /// Steps per random trace.
    #[arg(long, default_value_t = 40)]
    steps: usize,
    /// Run only random case N of the seed (to rerun one).
    #[arg(long, value_name = "N")]
    case: Option<u64>,
    /// Write the trace of every trace that diverged, as run under the replicache profile, to DIR.
    #[arg(long, value_name = "DIR")]
    trace_out: Option<PathBuf>,
    /// The model's protocol: replicache (what the real client does), or another one (hardened,
    /// documented, a JSON file of switches) to see where it differs from the real client.
    #[arg(long, default_value = "replicache")]
    protocol: String,
    /// The node executable.
    #[arg(long, default_value = "node")]
    node: String,
    /// The adapter's folder [default: harness/conformance of this repository].
    #[arg(long, value_name = "DIR")]
    adapter_dir: Option<PathBuf>,
    #[arg(long)]
    json: bool,
}

pub fn run_conform(args: ConformArgs) -> ExitCode {
    let seed = args.seed.unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64 % 1_000_000)
            .unwrap_or(1)
    });
    let traces = match args.traces.as_deref() {
        None => Some(conform::default_traces_dir()),
        Some("none") => None,
        Some(dir) => Some(PathBuf::from(dir)),
    };
    if let Some(dir) = &traces {
        if !dir.is_dir() {
            return bad_input(&format!("--traces {}: not a folder", dir.display()));
        }
    }
    let protocol = match load_protocol(&args.protocol) {
        Ok(p) => p,
        Err(e) => return bad_input(&e),
    };
    let opts = conform::Options {
        protocol,
        node: args.node,
        adapter_dir: args
            .adapter_dir
            .unwrap_or_else(conform::default_adapter_dir),
        traces,
        random: args.random,
        seed,
        steps: args.steps,
        case: args.case,
    };
    let node = match conform::check_environment(&opts) {
        Ok(v) => v,
        Err(e) => return bad_input(&e),
    };
    eprintln!("seed {seed} (node {node})");
    let start = std::time::Instant::now();
    let mut done = 0;
    let report = conform::run(&opts, |r| {
        done += 1;
        if !args.json && !matches!(r.outcome, conform::Outcome::Agreed) {
            eprintln!("{}: {:?}", r.name, r.outcome);
        }
    });
    let report = match report {
        Ok(r) => r,
        Err(e) => return bad_input(&e),
    };
    eprintln!("{done} traces in {:.1}s", start.elapsed().as_secs_f64());
    if let Some(dir) = &args.trace_out {
        for r in &report.results {
            if let (conform::Outcome::Diverged { .. }, Some(t)) = (&r.outcome, &r.profile_trace) {
                match write_file(dir, &format!("conform-{}.json", r.name), &t.to_json()) {
                    Ok(p) => eprintln!("wrote {}", p.display()),
                    Err(e) => return bad_input(&e),
                }
            }
        }
    }
    if let Some(failed) = emit(args.json, &report, || report.to_text()) {
        return failed;
    }
    code(report.exit_code())
}

//! `plasma-check simulate`: seeded random exploration.

use crate::cli::{bad_input, code, load_setup, write_file};
use crate::exit;
use crate::presets;
use crate::random as simulate;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct SimulateArgs {
    /// The seed everything derives from (default: drawn from the clock, and printed).
    #[arg(long)]
    seed: Option<u64>,
    #[arg(long, default_value_t = 100)]
    cases: u64,
    /// Steps per case.
    #[arg(long, default_value_t = 200)]
    steps: usize,
    /// Draw a fresh action mix per case (swarm testing).
    #[arg(long)]
    swarm: bool,
    /// A preset, a JSON configuration file, or `large` (4 installs, 6 tabs, 5 rows, 40 mutations).
    #[arg(long, default_value = "large")]
    config: String,
    #[arg(long, default_value = "hardened")]
    protocol: String,
    #[arg(long)]
    mutant: Option<String>,
    /// Where a shrunk failing trace is written.
    #[arg(long, value_name = "DIR", default_value = "target/plasma-check-traces")]
    trace_out: PathBuf,
    #[arg(long)]
    json: bool,
}

pub fn run_simulate(args: SimulateArgs) -> ExitCode {
    let config = if args.config == "large" {
        Ok(simulate::large_config())
    } else {
        presets::load(&args.config)
    };
    let setup = match load_setup(config, &args.protocol, args.mutant.as_deref()) {
        Ok(s) => s,
        Err(e) => return bad_input(&e),
    };
    let seed = args.seed.unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0)
    });
    let mut rerun = format!(
        "plasma-check simulate --seed {seed} --cases {} --steps {} --config {} --protocol {}",
        args.cases, args.steps, args.config, args.protocol
    );
    if args.swarm {
        rerun.push_str(" --swarm");
    }
    if let Some(m) = &args.mutant {
        rerun.push_str(&format!(" --mutant {m}"));
    }
    eprintln!("seed {seed}");
    let bar = indicatif::ProgressBar::new(args.cases);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{bar:30} {pos}/{len} cases, {msg}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let start = std::time::Instant::now();
    let opts = simulate::SimOptions {
        seed,
        cases: args.cases,
        steps: args.steps,
        swarm: args.swarm,
    };
    let report = simulate::simulate(&setup, &opts, |cases, steps| {
        bar.set_position(cases);
        let rate = steps as f64 / start.elapsed().as_secs_f64().max(1e-9);
        bar.set_message(format!("{steps} steps, {rate:.0} steps/s"));
    });
    bar.finish_and_clear();
    let mut trace_path = None;
    if let Some(f) = &report.failure {
        if let Some(trace) = &f.trace {
            let name = format!("sim-{seed}-case{}.json", f.case);
            match write_file(&args.trace_out, &name, &trace.to_json()) {
                Ok(p) => trace_path = Some(p),
                Err(e) => return bad_input(&e),
            }
        }
    }
    if args.json {
        let mut v = match serde_json::to_value(&report) {
            Ok(v) => v,
            Err(e) => return bad_input(&format!("cannot encode report: {e}")),
        };
        v["rerun"] = serde_json::Value::String(rerun);
        if let Some(p) = &trace_path {
            v["trace"] = serde_json::Value::String(p.display().to_string());
        }
        println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
    } else {
        println!(
            "seed {seed}: {} cases, {} steps in {:.1}s ({:.0} steps/s)",
            report.cases_run, report.steps_run, report.seconds, report.steps_per_second
        );
        match &report.failure {
            None => println!("no property failed"),
            Some(f) => {
                println!(
                    "case {} fails {} after {} steps; shrunk to {} steps",
                    f.case, f.property, f.steps_found, f.steps_shrunk
                );
                if let Some(p) = &trace_path {
                    println!("trace:  {}", p.display());
                    println!("replay: plasma-check replay {}", p.display());
                }
                println!("rerun:  {rerun}");
            }
        }
    }
    code(if report.failure.is_some() {
        exit::VIOLATED
    } else {
        exit::VERIFIED
    })
}

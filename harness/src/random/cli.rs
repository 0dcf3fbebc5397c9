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
    /// Run only the cases c with c % N == I of this seeded run (`I/N`), so that N machines split
    /// one run; `plasma-check merge` adds up their `--json` reports.
    #[arg(long, value_name = "I/N")]
    shard: Option<String>,
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
    let shard = match args
        .shard
        .as_deref()
        .map(simulate::Shard::parse)
        .transpose()
    {
        Ok(s) => s.unwrap_or_default(),
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
    // The whole run, which every shard of it shares; `merge` checks that it is one run.
    let run = rerun.clone();
    if args.shard.is_some() {
        rerun.push_str(&format!(" --shard {shard}"));
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
        shard,
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
        v["run"] = serde_json::Value::String(run);
        if let Some(p) = &trace_path {
            v["trace"] = serde_json::Value::String(p.display().to_string());
        }
        println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
    } else {
        let of = if args.shard.is_some() {
            format!(" (shard {shard})")
        } else {
            String::new()
        };
        println!(
            "seed {seed}{of}: {} cases, {} steps in {:.1}s ({:.0} steps/s)",
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
        println!("\naction coverage:");
        print!(
            "{}",
            crate::search::coverage::table(&report.coverage, &report.never_taken)
        );
    }
    code(if report.failure.is_some() {
        exit::VIOLATED
    } else {
        exit::VERIFIED
    })
}

#[derive(clap::Args)]
pub struct MergeArgs {
    /// The `simulate --shard I/N --json` reports of one run, one per shard.
    #[arg(required = true, value_name = "REPORT.json")]
    reports: Vec<PathBuf>,
    #[arg(long)]
    json: bool,
}

/// Adds up the reports of a sharded `simulate` run: every shard of one run exactly once, and the
/// earliest failing case among them, which is the failure the unsharded run reports.
pub fn run_merge(args: MergeArgs) -> ExitCode {
    let mut reports = Vec::new();
    for path in &args.reports {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) => return bad_input(&format!("{}: cannot read: {e}", path.display())),
        };
        match serde_json::from_str::<serde_json::Value>(&text) {
            Ok(v) => reports.push((path, v)),
            Err(e) => return bad_input(&format!("{}: not a JSON report: {e}", path.display())),
        }
    }
    match merge(&reports) {
        Ok(merged) => {
            if args.json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&merged).unwrap_or_default()
                );
            } else {
                println!(
                    "{}: {} shards, {} cases, {} steps, {:.1}s on the slowest shard",
                    merged["run"].as_str().unwrap_or_default(),
                    merged["shards"],
                    merged["cases_run"],
                    merged["steps_run"],
                    merged["seconds_max"].as_f64().unwrap_or_default()
                );
                match merged["failure"].as_object() {
                    None => println!("no property failed"),
                    Some(f) => {
                        println!(
                            "case {} fails {} (shard {})",
                            f["case"], f["property"], merged["failure_shard"]
                        );
                        if let Some(t) = merged["trace"].as_str() {
                            println!("replay: plasma-check replay {t}");
                        }
                    }
                }
            }
            code(if merged["failure"].is_null() {
                exit::VERIFIED
            } else {
                exit::VIOLATED
            })
        }
        Err(e) => bad_input(&e),
    }
}

/// The shards' coverage rows added up by action (none if a shard's report has none).
fn merged_coverage(reports: &[(&PathBuf, serde_json::Value)]) -> Vec<serde_json::Value> {
    let mut rows: Vec<serde_json::Value> = Vec::new();
    for (_, v) in reports {
        let Some(theirs) = v["coverage"].as_array() else {
            return Vec::new();
        };
        if rows.is_empty() {
            rows = theirs.clone();
            continue;
        }
        for (mine, theirs) in rows.iter_mut().zip(theirs) {
            for field in ["enabled", "taken"] {
                let sum = mine[field].as_u64().unwrap_or(0) + theirs[field].as_u64().unwrap_or(0);
                mine[field] = sum.into();
            }
        }
    }
    rows
}

/// The merged report of `reports` (path, JSON), or what makes them not one sharded run.
pub fn merge(reports: &[(&PathBuf, serde_json::Value)]) -> Result<serde_json::Value, String> {
    use serde_json::{json, Value};
    let (first_path, first) = reports.first().ok_or("no reports")?;
    let run = first["run"].as_str().ok_or_else(|| {
        format!(
            "{}: not a simulate --json report (no \"run\")",
            first_path.display()
        )
    })?;
    let shard_of = |path: &PathBuf, v: &Value| -> Result<simulate::Shard, String> {
        let text = v["shard"].as_str().unwrap_or("0/1");
        simulate::Shard::parse(text).map_err(|e| format!("{}: {e}", path.display()))
    };
    let count = shard_of(first_path, first)?.count;
    if count > reports.len() as u64 {
        return Err(format!(
            "{} reports for the {count} shards of {run}: shards are missing",
            reports.len()
        ));
    }
    let mut seen = vec![None::<&PathBuf>; reports.len()];
    let (mut cases, mut steps, mut seconds) = (0u64, 0u64, 0f64);
    let mut failure: Option<(u64, &Value)> = None;
    for (path, v) in reports {
        if v["run"].as_str() != Some(run) {
            return Err(format!(
                "{}: another run ({}), not {run}",
                path.display(),
                v["run"].as_str().unwrap_or("no \"run\"")
            ));
        }
        let shard = shard_of(path, v)?;
        if shard.count != count {
            return Err(format!(
                "{}: shard {shard}, others are of {count}",
                path.display()
            ));
        }
        let slot = &mut seen[shard.index as usize];
        if let Some(other) = slot {
            return Err(format!(
                "{}: shard {shard} again (also {})",
                path.display(),
                other.display()
            ));
        }
        *slot = Some(*path);
        cases += v["cases_run"].as_u64().unwrap_or(0);
        steps += v["steps_run"].as_u64().unwrap_or(0);
        seconds = seconds.max(v["seconds"].as_f64().unwrap_or(0.0));
        if let Some(case) = v["failure"]["case"].as_u64() {
            if failure.is_none_or(|(c, _)| case < c) {
                failure = Some((case, v));
            }
        }
    }
    let missing: Vec<String> = (0..count)
        .filter(|&i| seen[i as usize].is_none())
        .map(|i| format!("{i}/{count}"))
        .collect();
    if !missing.is_empty() {
        return Err(format!("missing shards: {}", missing.join(", ")));
    }
    let mut merged = json!({
        "run": run,
        "seed": first["seed"],
        "shards": count,
        "cases_run": cases,
        "steps_run": steps,
        "seconds_max": seconds,
        "failure": Value::Null,
    });
    let coverage = merged_coverage(reports);
    if !coverage.is_empty() {
        let never: Vec<&Value> = coverage
            .iter()
            .filter(|r| r["allowed"] == true && r["taken"] == 0)
            .map(|r| &r["action"])
            .collect();
        merged["never_taken"] = json!(never);
        merged["coverage"] = Value::Array(coverage);
    }
    if let Some((_, v)) = failure {
        merged["failure"] = v["failure"].clone();
        merged["failure_shard"] = v["shard"].clone();
        merged["rerun"] = v["rerun"].clone();
        if !v["trace"].is_null() {
            merged["trace"] = v["trace"].clone();
        }
    }
    Ok(merged)
}

//! `plasma-check mutants`: hunt every mutant and documented flaw.

use crate::cli::{bad_input, code, emit, write_file};
use crate::hunt;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct MutantsArgs {
    /// Only these targets (mutant names or documented switches); default all.
    #[arg(long, value_delimiter = ',')]
    only: Vec<String>,
    /// Write each shortest counterexample as DIR/KIND-TARGET.json.
    #[arg(long, value_name = "DIR")]
    trace_out: Option<PathBuf>,
    /// Also measure how fast `simulate --swarm` finds each target (seeds 1..=5 by default).
    #[arg(long)]
    random: bool,
    /// Seeds for --random.
    #[arg(long, value_delimiter = ',', default_value = "1,2,3,4,5")]
    seeds: Vec<u64>,
    /// Case budget per seed for --random.
    #[arg(long, default_value_t = 10_000)]
    budget: u64,
    #[arg(long)]
    json: bool,
}

pub fn run_mutants(args: MutantsArgs) -> ExitCode {
    let all = hunt::targets();
    for name in &args.only {
        if !all.iter().any(|t| t.name == name) {
            let names: Vec<_> = all.iter().map(|t| t.name).collect();
            return bad_input(&format!(
                "--only {name}: unknown target (known: {})",
                names.join(", ")
            ));
        }
    }
    let targets: Vec<_> = all
        .into_iter()
        .filter(|t| args.only.is_empty() || args.only.iter().any(|n| n == t.name))
        .collect();
    let mut catches = Vec::new();
    for t in &targets {
        if !args.json {
            eprintln!("hunting {} {} ...", t.kind, t.name);
        }
        let mut catch = hunt::hunt(t);
        if args.random {
            catch.random = Some(hunt::random_power(t, &args.seeds, args.budget));
        }
        catches.push(catch);
    }
    if let Some(dir) = &args.trace_out {
        for c in &catches {
            if let Some(trace) = c.trace() {
                if let Err(e) = write_file(
                    dir,
                    &format!("{}-{}.json", c.kind, c.target),
                    &trace.to_json(),
                ) {
                    return bad_input(&e);
                }
            }
        }
    }
    if let Some(failed) = emit(args.json, &catches, || hunt::table(&catches)) {
        return failed;
    }
    code(hunt::exit_code(&catches))
}

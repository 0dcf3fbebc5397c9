//! `plasma-check`: the command line. It parses arguments and calls the drivers.

use clap::{Parser, Subcommand};
use plasma_check::check::{self, CheckOptions, Strategy};
use plasma_check::{exit, presets};
use plasma_model::{Protocol, Setup};
use std::process::ExitCode;
use std::time::Duration;

#[derive(Parser)]
#[command(
    name = "plasma-check",
    version,
    about = "Model checker for the plasma sync protocol",
    after_help = "Exit codes: 0 verified, 1 a property is violated, 2 bad arguments or input, 3 not verified (stopped early, or a sometimes-property not reached).\nWithout a command, runs `check` on the default preset."
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Exhaustively check every reachable state of a configuration.
    Check(CheckArgs),
}

#[derive(clap::Args)]
struct CheckArgs {
    /// A preset (tiny, small, default) or a JSON file with a configuration object.
    #[arg(long, default_value = "default")]
    config: String,
    #[arg(long, value_enum, default_value_t = Strategy::Bfs)]
    strategy: Strategy,
    /// Worker threads (default: all cores).
    #[arg(long)]
    threads: Option<usize>,
    /// Stop after this many generated states (the run is then NOT verified).
    #[arg(long)]
    max_states: Option<usize>,
    /// Stop after this many seconds (the run is then NOT verified).
    #[arg(long)]
    timeout: Option<u64>,
    /// Print one JSON report on stdout instead of the table.
    #[arg(long)]
    json: bool,
}

impl Default for CheckArgs {
    fn default() -> Self {
        CheckArgs {
            config: "default".into(),
            strategy: Strategy::Bfs,
            threads: None,
            max_states: None,
            timeout: None,
            json: false,
        }
    }
}

fn bad_input(msg: &str) -> ExitCode {
    eprintln!("plasma-check: {msg}");
    ExitCode::from(exit::BAD_INPUT as u8)
}

fn run_check(args: CheckArgs) -> ExitCode {
    let config = match presets::load(&args.config) {
        Ok(c) => c,
        Err(e) => return bad_input(&e),
    };
    if args.threads == Some(0) {
        return bad_input("--threads must be at least 1");
    }
    let threads = args.threads.unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    });
    let setup = Setup::new(config, Protocol::hardened());
    let opts = CheckOptions {
        strategy: args.strategy,
        threads,
        max_states: args.max_states,
        timeout: args.timeout.map(Duration::from_secs),
        progress: true,
    };
    let report = check::run(&setup, &opts);
    if args.json {
        match serde_json::to_string_pretty(&report) {
            Ok(j) => println!("{j}"),
            Err(e) => return bad_input(&format!("cannot encode report: {e}")),
        }
    } else {
        print!("{}", report.to_table());
    }
    ExitCode::from(report.exit_code() as u8)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        None => run_check(CheckArgs::default()),
        Some(Command::Check(args)) => run_check(args),
    }
}

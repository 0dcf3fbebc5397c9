//! `plasma-check`: the command line. It parses arguments and dispatches to the subcommand's
//! runner, which lives beside the driver it runs (`<folder>/cli.rs`).

use clap::{Parser, Subcommand};
use plasma_check::{bench, conform, history, hunt, random, search, trace};
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "plasma-check",
    version,
    about = "Model checker for the plasma sync protocol",
    after_help = "Exit codes: 0 verified, 1 a property is violated (or a mutant survived), 2 bad arguments or input, 3 not verified (stopped early, or a sometimes-property not reached).\nWithout a command, runs `check` (its options may be given directly).",
    args_conflicts_with_subcommands = true
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    check: search::cli::CheckArgs,
}

#[derive(Subcommand)]
enum Command {
    /// Exhaustively check every reachable state of a configuration.
    Check(search::cli::CheckArgs),
    /// Re-run a plasma-trace/1 file step by step and name every property that fails.
    Replay(trace::cli::ReplayArgs),
    /// Hunt every mutant and every documented flaw; each must be caught.
    Mutants(hunt::cli::MutantsArgs),
    /// Seeded random exploration of large configurations; a failure is shrunk to a trace.
    Simulate(random::cli::SimulateArgs),
    /// Add up the `simulate --shard I/N --json` reports of one seeded run.
    Merge(random::cli::MergeArgs),
    /// Serve stateright's explorer web UI with sequence diagrams of each path.
    Explore(search::explore::ExploreArgs),
    /// Benchmark the presets: states/s and peak memory per unique state, BFS and DFS, 1 and 2 threads.
    Bench(bench::cli::BenchArgs),
    /// Run traces against the model's replicache profile and the real Replicache client; report
    /// the first step where their client-visible states differ.
    Conform(conform::cli::ConformArgs),
    /// Check a recorded history of a real server's pushes and pulls against the model's server:
    /// is there an order, consistent with real time, that gives exactly the recorded responses?
    History(history::cli::HistoryArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        None => search::cli::run_check(cli.check),
        Some(Command::Check(args)) => search::cli::run_check(args),
        Some(Command::Replay(args)) => trace::cli::run_replay(args),
        Some(Command::Mutants(args)) => hunt::cli::run_mutants(args),
        Some(Command::Simulate(args)) => random::cli::run_simulate(args),
        Some(Command::Merge(args)) => random::cli::run_merge(args),
        Some(Command::Explore(args)) => search::explore::run_explore(args),
        Some(Command::Bench(args)) => bench::cli::run_bench(args),
        Some(Command::Conform(args)) => conform::cli::run_conform(args),
        Some(Command::History(args)) => history::cli::run_history(args),
    }
}

//! `plasma-check history FILE`: the arguments and the runner. Exit 0 explained, 1 not
//! explained (a rule broken), 2 a malformed history or bad arguments, 3 not decided (the
//! budget ran out).

use super::{check, generate, itf, wire, Level, Options, DEFAULT_BUDGET};
use crate::cli::{bad_input, code, emit, load_protocol};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct HistoryArgs {
    /// The history: JSON Lines of push and pull operations (harness/docs/history.md).
    #[arg(value_name = "FILE")]
    file: PathBuf,
    /// protocol: bookkeeping only (mutations opaque); data: rows too (every mutator set, max
    /// or incr) [default: data when every mutator is one of the model's, else protocol].
    #[arg(long, value_enum)]
    level: Option<Level>,
    /// The model's server: hardened (refuses a signed-out push whole), zero (processes it), or
    /// a JSON file of switches.
    #[arg(long, default_value = "hardened")]
    protocol: String,
    /// Search steps for the whole history; past it the verdict is "not decided" (exit 3).
    #[arg(long, default_value_t = DEFAULT_BUDGET)]
    budget: u64,
    /// Write the counterexample, if any, as an ITF trace (Apalache/Quint JSON) to FILE.
    #[arg(long, value_name = "FILE")]
    itf: Option<PathBuf>,
    /// Instead of checking FILE, write to it a history with a known explanation: OPS pushes of
    /// increments and pulls, over --groups client groups (for measurements).
    #[arg(long, value_name = "OPS")]
    generate: Option<usize>,
    /// With --generate: client groups.
    #[arg(long, default_value_t = 1000, requires = "generate")]
    groups: usize,
    /// With --generate: the most operations of one group in progress at once.
    #[arg(long, default_value_t = 8, requires = "generate")]
    concurrency: usize,
    /// With --generate: the seed.
    #[arg(long, default_value_t = 1, requires = "generate")]
    seed: u64,
    /// Print the verdict as JSON.
    #[arg(long)]
    json: bool,
}

pub fn run_history(args: HistoryArgs) -> ExitCode {
    if let Some(ops) = args.generate {
        let text = generate::synthetic(ops, args.groups, args.concurrency, args.seed);
        return match std::fs::write(&args.file, text) {
            Ok(()) => {
                eprintln!(
                    "wrote {} ({ops} operations over {} client groups)",
                    args.file.display(),
                    args.groups
                );
                code(crate::exit::VERIFIED)
            }
            Err(e) => bad_input(&format!("cannot write {}: {e}", args.file.display())),
        };
    }
    let protocol = match load_protocol(&args.protocol) {
        Ok(p) => p,
        Err(e) => return bad_input(&e),
    };
    let history = match wire::read(&args.file) {
        Ok(h) => h,
        Err(e) if e.line == 0 => {
            return bad_input(&format!("{}: {}", args.file.display(), e.message))
        }
        Err(e) => return bad_input(&format!("{}: {e}", args.file.display())),
    };
    let opts = Options {
        level: args.level,
        protocol,
        budget: args.budget,
    };
    let verdict = match check(&history, &opts) {
        Ok(v) => v,
        Err(e) => return bad_input(&format!("{}: {e}", args.file.display())),
    };
    if let (Some(path), Some(f)) = (&args.itf, &verdict.failure) {
        let trace = itf::trace(&history, f);
        let text = serde_json::to_string_pretty(&trace).unwrap_or_default();
        if let Err(e) = std::fs::write(path, text) {
            return bad_input(&format!("cannot write {}: {e}", path.display()));
        }
        eprintln!("wrote {}", path.display());
    }
    if let Some(failed) = emit(args.json, &verdict, || verdict.to_text()) {
        return failed;
    }
    code(verdict.exit_code())
}

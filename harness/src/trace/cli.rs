//! `plasma-check replay`: run a trace file step by step.

use crate::cli::{bad_input, code, emit};
use crate::trace::{replay, Trace};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct ReplayArgs {
    /// The trace file.
    trace: PathBuf,
    #[arg(long)]
    json: bool,
    /// Print a Mermaid sequence diagram of the trace instead of the steps.
    #[arg(long)]
    mermaid: bool,
    /// Also write the sequence diagram as SVG to FILE.
    #[arg(long, value_name = "FILE")]
    svg: Option<PathBuf>,
}

pub fn run_replay(args: ReplayArgs) -> ExitCode {
    let text = match std::fs::read_to_string(&args.trace) {
        Ok(t) => t,
        Err(e) => return bad_input(&format!("{}: cannot read: {e}", args.trace.display())),
    };
    let parsed = Trace::parse(&text).and_then(|t| Ok((replay::replay(&t)?, t.run()?)));
    let (report, run) = match parsed {
        Ok(r) => r,
        Err(e) => return bad_input(&format!("{}: {e}", args.trace.display())),
    };
    if let Some(file) = &args.svg {
        if let Err(e) = std::fs::write(file, run.diagram().svg()) {
            return bad_input(&format!("cannot write {}: {e}", file.display()));
        }
        eprintln!("wrote {}", file.display());
    }
    if args.mermaid {
        print!("{}", run.diagram().mermaid());
        return code(report.exit_code());
    }
    if let Some(failed) = emit(args.json, &report, || report.to_text()) {
        return failed;
    }
    code(report.exit_code())
}

//! `plasma-check conform`: the conformance run's arguments and runner.

use crate::cli::{bad_input, code, emit, load_protocol, write_file};
use crate::conform;
use crate::conform::concurrent::{self, Setting};
use crate::conform::server;
use crate::history::record::Recorder;
use plasma_model::Mutant;
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
    /// documented, a JSON file of switches) to see where it differs from the real client. With
    /// --server: the model's protocol there [default: zero, what Zero's endpoint does].
    #[arg(long)]
    protocol: Option<String>,
    /// Hold the model's server against a real push endpoint instead of the client: `zero`
    /// (Zero's server library on a throwaway Postgres cluster).
    #[arg(long, value_enum, value_name = "SERVER")]
    server: Option<ServerKind>,
    /// With --server: the model's server with this server-side mutant (no-dedup,
    /// watermark-per-group, write-unchecked, resolve-conflict-ignored), to see the comparison
    /// catch it.
    #[arg(long, requires = "server")]
    mutant: Option<String>,
    /// With --server: deliver pushes as simultaneous transactions, many rounds over, and check
    /// at-most-once, no lost mutation, the counter and the watermarks.
    #[arg(long, requires = "server")]
    concurrent: bool,
    /// With --server: send the adapter commands of FILE (JSON lines; `#` lines are comments)
    /// to a fresh endpoint and print each reply (the probes in harness/conformance/probes).
    #[arg(
        long,
        value_name = "FILE",
        requires = "server",
        conflicts_with = "concurrent"
    )]
    script: Option<PathBuf>,
    /// With --concurrent: rounds per scenario.
    #[arg(long, default_value_t = 250, requires = "concurrent")]
    rounds: u32,
    /// With --concurrent: isolation levels to run under.
    #[arg(long, value_enum, default_value = "all", requires = "concurrent")]
    isolation: IsolationChoice,
    /// With --concurrent: the application's mutators: atomic (one statement merges under the
    /// row lock), read-write (read the row, then write it), or all.
    #[arg(long, value_enum, default_value = "all", requires = "concurrent")]
    mutators: MutatorsChoice,
    /// Write a history for `plasma-check history` to FILE: the Replicache client's push and pull
    /// requests and the responses it got; with --server, what the endpoint received and answered
    /// (every push, and every read of its tables as a pull), with UUIDs for client groups and
    /// clients. With --concurrent, one file per setting, named FILE's stem followed by the
    /// setting (`h-serializable-atomic-retry.jsonl`).
    #[arg(long, value_name = "FILE", conflicts_with = "script")]
    record: Option<PathBuf>,
    /// The node executable.
    #[arg(long, default_value = "node")]
    node: String,
    /// The adapter's folder [default: harness/conformance of this repository].
    #[arg(long, value_name = "DIR")]
    adapter_dir: Option<PathBuf>,
    #[arg(long)]
    json: bool,
}

#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum ServerKind {
    /// Zero's push processor (`@rocicorp/zero/server`) on Postgres.
    Zero,
}

#[derive(Clone, Copy, Debug, PartialEq, clap::ValueEnum)]
pub enum IsolationChoice {
    ReadCommitted,
    Serializable,
    All,
}

#[derive(Clone, Copy, Debug, PartialEq, clap::ValueEnum)]
pub enum MutatorsChoice {
    Atomic,
    ReadWrite,
    All,
}

fn clock_seed() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64 % 1_000_000)
        .unwrap_or(1)
}

/// `--traces`: the repository's snapshots by default, none for `none`, else a folder.
fn traces_dir(arg: Option<&str>) -> Result<Option<PathBuf>, String> {
    let traces = match arg {
        None => Some(conform::default_traces_dir()),
        Some("none") => None,
        Some(dir) => Some(PathBuf::from(dir)),
    };
    match &traces {
        Some(dir) if !dir.is_dir() => Err(format!("--traces {}: not a folder", dir.display())),
        _ => Ok(traces),
    }
}

pub fn run_conform(args: ConformArgs) -> ExitCode {
    if args.server.is_some() {
        return run_server(args);
    }
    let seed = args.seed.unwrap_or_else(clock_seed);
    let traces = match traces_dir(args.traces.as_deref()) {
        Ok(t) => t,
        Err(e) => return bad_input(&e),
    };
    let protocol = match load_protocol(args.protocol.as_deref().unwrap_or("replicache")) {
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
        record: args.record.is_some(),
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
    if let (Some(path), Some(history)) = (&args.record, &report.history) {
        if let Err(e) = std::fs::write(path, history) {
            return bad_input(&format!("cannot write {}: {e}", path.display()));
        }
        eprintln!("wrote {}", path.display());
    }
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

/// The settings `--concurrent` runs: every isolation level and mutator style asked for; under
/// SERIALIZABLE both without and with the application's retry of aborted transactions (under
/// READ COMMITTED no conflict aborts a transaction, so the retry changes nothing).
fn settings(isolation: IsolationChoice, mutators: MutatorsChoice) -> Vec<Setting> {
    let mut out = Vec::new();
    for (iso, name) in [
        (IsolationChoice::ReadCommitted, "read committed"),
        (IsolationChoice::Serializable, "serializable"),
    ] {
        if isolation != IsolationChoice::All && isolation != iso {
            continue;
        }
        for (m, style) in [
            (MutatorsChoice::Atomic, "atomic"),
            (MutatorsChoice::ReadWrite, "read-write"),
        ] {
            if mutators != MutatorsChoice::All && mutators != m {
                continue;
            }
            let retries: &[bool] = if iso == IsolationChoice::Serializable {
                &[false, true]
            } else {
                &[false]
            };
            for &retry in retries {
                out.push(Setting {
                    isolation: name.to_string(),
                    mutators: style.to_string(),
                    retry,
                });
            }
        }
    }
    out
}

fn run_server(args: ConformArgs) -> ExitCode {
    let adapter_dir = args
        .adapter_dir
        .clone()
        .unwrap_or_else(server::default_adapter_dir);
    let node = match server::check_environment(&args.node, &adapter_dir) {
        Ok(v) => v,
        Err(e) => return bad_input(&e),
    };
    if let Some(path) = &args.script {
        return run_script(&args.node, &adapter_dir, path);
    }
    if args.concurrent {
        return run_concurrent(&args, &adapter_dir, &node);
    }
    let seed = args.seed.unwrap_or_else(clock_seed);
    let traces = match traces_dir(args.traces.as_deref()) {
        Ok(t) => t,
        Err(e) => return bad_input(&e),
    };
    let protocol = match load_protocol(args.protocol.as_deref().unwrap_or("zero")) {
        Ok(p) => p,
        Err(e) => return bad_input(&e),
    };
    let mutant = match args.mutant.as_deref() {
        None => None,
        Some(name) => match Mutant::from_name(name) {
            Some(m) => Some(m),
            None => {
                return bad_input(&format!(
                    "--mutant {name}: unknown (known: {})",
                    Mutant::ALL.map(|m| m.name()).join(", ")
                ))
            }
        },
    };
    let opts = server::Options {
        node: args.node,
        adapter_dir,
        traces,
        random: args.random,
        seed,
        steps: args.steps,
        case: args.case,
        protocol,
        mutant,
        record: args.record.is_some(),
    };
    eprintln!("seed {seed} (node {node})");
    let start = std::time::Instant::now();
    let mut done = 0;
    let report = server::run(&opts, |r| {
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
    if let (Some(path), Some(history)) = (&args.record, &report.history) {
        if let Err(e) = std::fs::write(path, history) {
            return bad_input(&format!("cannot write {}: {e}", path.display()));
        }
        eprintln!("wrote {}", path.display());
    }
    if let Some(failed) = emit(args.json, &report, || report.to_text()) {
        return failed;
    }
    code(report.exit_code())
}

/// The history file of one `--concurrent` setting: `BASE`'s stem, the setting, `.jsonl`.
pub fn setting_path(base: &std::path::Path, s: &Setting) -> PathBuf {
    let stem = base
        .file_stem()
        .map(|x| x.to_string_lossy().to_string())
        .unwrap_or_else(|| "history".into());
    let name = format!(
        "{stem}-{}-{}{}.jsonl",
        s.isolation.replace(' ', "-"),
        s.mutators,
        if s.retry { "-retry" } else { "" }
    );
    base.with_file_name(name)
}

/// `--concurrent`: every setting asked for, each recorded to its own file with `--record`.
fn run_concurrent(args: &ConformArgs, adapter_dir: &std::path::Path, node: &str) -> ExitCode {
    let (cluster, mut adapter, zero) = match server::start(&args.node, adapter_dir) {
        Ok(x) => x,
        Err(e) => return bad_input(&e),
    };
    eprintln!("node {node}, Zero {zero}, Postgres {}", cluster.version);
    let mut reports = Vec::new();
    for setting in settings(args.isolation, args.mutators) {
        let start = std::time::Instant::now();
        let mut recorder = args.record.as_ref().map(|_| {
            let mut r = Recorder::new(clock_seed());
            r.header(concurrent::history_header());
            r
        });
        let result = concurrent::run_setting_recorded(
            &mut adapter,
            &setting,
            args.rounds,
            recorder.as_mut(),
        );
        if let (Some(base), Some(r)) = (&args.record, recorder) {
            let path = setting_path(base, &setting);
            if let Err(e) = std::fs::write(&path, r.finish()) {
                return bad_input(&format!("cannot write {}: {e}", path.display()));
            }
            eprintln!("wrote {}", path.display());
        }
        match result {
            Ok(r) => {
                eprintln!(
                    "{} / {} / retry {}: {} rounds broke a property ({:.1}s)",
                    setting.isolation,
                    setting.mutators,
                    setting.retry,
                    r.violations(),
                    start.elapsed().as_secs_f64()
                );
                reports.push(r);
            }
            Err(e) => return bad_input(&format!("{e}\n{}", cluster.log())),
        }
    }
    let duplicated_deliveries = reports
        .iter()
        .flat_map(|r| &r.scenarios)
        .map(|t| t.duplicated)
        .sum();
    let report = concurrent::Report {
        zero,
        postgres: cluster.version.clone(),
        rounds: args.rounds,
        duplicated_deliveries,
        settings: reports,
    };
    if let Some(failed) = emit(args.json, &report, || report.to_text()) {
        return failed;
    }
    code(report.exit_code())
}

/// `--script`: every command of the file, one reply line each, on a fresh cluster.
fn run_script(node: &str, adapter_dir: &std::path::Path, path: &std::path::Path) -> ExitCode {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) => return bad_input(&format!("--script {}: {e}", path.display())),
    };
    let (cluster, mut adapter, zero) = match server::start(node, adapter_dir) {
        Ok(x) => x,
        Err(e) => return bad_input(&e),
    };
    eprintln!("Zero {zero}, Postgres {}", cluster.version);
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let cmd: serde_json::Value = match serde_json::from_str(line) {
            Ok(v) => v,
            Err(e) => {
                return bad_input(&format!("--script {} line {}: {e}", path.display(), i + 1))
            }
        };
        match adapter.send(cmd) {
            Ok(reply) => println!("{reply}"),
            Err(e) => return bad_input(&e),
        }
    }
    code(crate::exit::VERIFIED)
}

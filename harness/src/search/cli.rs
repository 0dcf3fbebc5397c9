//! `plasma-check check`: the exhaustive check's arguments and runner.

use crate::cli::{bad_input, code, emit, load_mutant, load_protocol, load_setup, write_file};
use crate::presets;
use crate::search::plan::{
    Checkpointing, Engine, EnginePlan, Limits, Plan, SearchError, Stop, Strategy,
};
use crate::search::report::Report;
use crate::search::{self, checkpoint, distributed};
use plasma_model::Setup;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

#[derive(clap::Args)]
pub struct CheckArgs {
    /// A preset (tiny, small, default, auth, devices, user-switch, interplay, interplay-faults,
    /// tabs3, wide, wide-faults, big: harness/docs/cli.md) or a JSON file with a configuration
    /// object [default: default].
    #[arg(long)]
    config: Option<String>,
    /// hardened, documented, replicache, zero, or a JSON file with an object of switches
    /// [default: hardened].
    #[arg(long)]
    protocol: Option<String>,
    /// Check the hardened protocol with one deliberate bug (see `plasma-check mutants`).
    #[arg(long)]
    mutant: Option<String>,
    /// bfs (default; resuming, the checkpoint's) or dfs.
    #[arg(long, value_enum)]
    strategy: Option<Strategy>,
    /// Worker threads (default: all cores; counterexamples are shortest with 1). With
    /// --engine timely: worker threads per process.
    #[arg(long, short = 'w')]
    threads: Option<usize>,
    /// --engine timely: the number of processes of the run (each started with its --process).
    #[arg(long, short = 'n', default_value_t = 1)]
    processes: usize,
    /// --engine timely: this process's index, 0 to processes - 1 (process 0 prints the report).
    #[arg(long, short = 'p', default_value_t = 0)]
    process: usize,
    /// --engine timely: a file of `host:port` lines, one per process [default: 127.0.0.1 ports
    /// 2101, 2102, ...].
    #[arg(long, value_name = "FILE")]
    hostfile: Option<PathBuf>,
    /// --engine timely: give up (NOT VERIFIED, exit 3) after this many seconds without progress
    /// (a frozen peer).
    #[arg(long, value_name = "SECS", default_value_t = 300)]
    peer_timeout: u64,
    /// Stop after this many generated states (the run is then NOT verified).
    #[arg(long)]
    max_states: Option<usize>,
    /// Stop after this many seconds (the run is then NOT verified).
    #[arg(long)]
    timeout: Option<u64>,
    /// Write each counterexample as DIR/PROPERTY.json (plasma-trace/1).
    #[arg(long, value_name = "DIR")]
    trace_out: Option<PathBuf>,
    /// Symmetry reduction: store one state per orbit of tab/installation/clientID renamings
    /// (every engine; stateright only depth first).
    #[arg(long)]
    symmetry: bool,
    /// Check only these properties (comma-separated names; default: every applicable one).
    #[arg(long, value_delimiter = ',')]
    properties: Option<Vec<String>>,
    /// native (default): our own engines, BFS on every thread or a single-threaded DFS; or
    /// stateright, the reference engine.
    #[arg(long, value_enum, default_value_t = Engine::Native)]
    engine: Engine,
    /// Keep the levels and parent links in files under DIR (removed at the end) instead of
    /// memory: for runs whose levels outgrow memory (native BFS; timely: each worker its own).
    #[arg(long, value_name = "DIR")]
    disk: Option<PathBuf>,
    /// Size the visited table for N states up front (8 bytes a slot, at most 3/4 full): a
    /// table that grows needs its old and new copy at once (native BFS; timely: each worker
    /// its share).
    #[arg(long, value_name = "N")]
    expect_states: Option<usize>,
    /// The native BFS stores every state whole instead of its 64-bit fingerprint: no
    /// fingerprint collision can hide a state, for about 130 bytes a state more and about three
    /// times the time.
    #[arg(long)]
    exact: bool,
    /// Write checkpoints into DIR, atomically, so that a run killed at any moment resumes from
    /// the last one with --resume DIR: the native BFS at level boundaries, the native DFS its
    /// stack, the timely engine each worker's share of every level.
    #[arg(long, value_name = "DIR")]
    checkpoint: Option<PathBuf>,
    /// Native engines, with --checkpoint or --resume: a checkpoint this many seconds after the
    /// last one (the BFS at the next level boundary) [default: 600].
    #[arg(long, value_name = "SECS")]
    checkpoint_every: Option<u64>,
    /// Continue the search a checkpoint in DIR stopped at, with the checkpoint's configuration,
    /// protocol, mutant, symmetry, properties and strategy (those given must match), and keep
    /// checkpointing into DIR. The timely engine: give the run's options again.
    #[arg(long, value_name = "DIR")]
    resume: Option<PathBuf>,
    /// Print one JSON report on stdout instead of the table.
    #[arg(long)]
    json: bool,
}

pub fn run_check(args: CheckArgs) -> ExitCode {
    let meta = match args
        .resume
        .as_ref()
        .filter(|_| args.engine != Engine::Timely)
    {
        Some(dir) => match checkpoint::read_meta(dir) {
            Ok(m) => Some(m),
            Err(e) => return bad_input(&e),
        },
        None => None,
    };
    let planned = setup_of(&args, meta.as_ref())
        .and_then(|setup| Ok((plan_of(&args, &setup, meta.as_ref())?, setup)));
    let (plan, setup) = match planned {
        Ok(p) => p,
        Err(e) => return bad_input(&e),
    };
    let result = match &plan.engine {
        EnginePlan::Timely(cluster) => {
            watch_peers(cluster);
            // timely prints some failures on stdout (a short read from a peer, an operator
            // shut down early): send them to stderr, and put stdout back for the report.
            let saved = StdoutToStderr::new();
            let result = search::run(&setup, &plan);
            drop(saved);
            result
        }
        _ => search::run(&setup, &plan),
    };
    let report = match result {
        Ok(r) => r,
        Err(SearchError::Failed(e)) => {
            eprintln!("error: {e}: NOT VERIFIED");
            return code(crate::exit::NOT_VERIFIED);
        }
        Err(e @ SearchError::ReportAtProcessZero) => return code(e.exit_code()),
        Err(e) => return bad_input(&e.to_string()),
    };
    if let Some(dir) = &args.trace_out {
        if let Err(e) = write_traces(&setup, &report, dir) {
            return bad_input(&e);
        }
    }
    if let Some(failed) = emit(args.json, &report, || report.to_table()) {
        return failed;
    }
    code(report.exit_code())
}

/// Writes each counterexample of `report` as `DIR/PROPERTY.json`.
fn write_traces(setup: &Setup, report: &Report, dir: &std::path::Path) -> Result<(), String> {
    for p in report.violated() {
        let Some(path) = &p.path else { continue };
        let trace = crate::trace::counterexample_trace(setup, path, p.name)
            .map_err(|e| format!("cannot encode the trace of {}: {e}", p.name))?;
        let f = write_file(dir, &format!("{}.json", p.name), &trace.to_json())?;
        eprintln!("wrote {}", f.display());
    }
    Ok(())
}

/// The setup to check: resuming, the checkpoint's is the default of every option.
fn setup_of(args: &CheckArgs, meta: Option<&checkpoint::Meta>) -> Result<Setup, String> {
    let Some(m) = meta else {
        return load_setup(
            presets::load(args.config.as_deref().unwrap_or("default")),
            args.protocol.as_deref().unwrap_or("hardened"),
            args.mutant.as_deref(),
        );
    };
    let config = match &args.config {
        Some(c) => presets::load(c)?,
        None => m.run.config.clone(),
    };
    let protocol = match &args.protocol {
        Some(p) => load_protocol(p)?,
        None => m.run.protocol.clone(),
    };
    let mutant = match args.mutant.as_deref().or(m.run.mutant.as_deref()) {
        Some(name) => Some(load_mutant(name)?),
        None => None,
    };
    Ok(Setup::mutated(config, protocol, mutant))
}

/// The properties `--properties` names (each must apply), or resuming, the checkpoint's.
fn properties_of(
    args: &CheckArgs,
    setup: &Setup,
    meta: Option<&checkpoint::Meta>,
) -> Result<Option<Vec<&'static str>>, String> {
    let Some(names) = &args.properties else {
        return Ok(meta.map(|m| {
            m.run
                .properties
                .iter()
                .filter_map(|n| plasma_properties::by_name(n).map(|p| p.name))
                .collect()
        }));
    };
    let mut picked = Vec::new();
    for n in names {
        match plasma_properties::by_name(n) {
            Some(p) if (p.applies)(&setup.config) => picked.push(p.name),
            Some(_) => {
                return Err(format!(
                    "--properties {n}: does not apply to this configuration"
                ))
            }
            None => {
                let all: Vec<&str> = plasma_properties::all().iter().map(|p| p.name).collect();
                return Err(format!(
                    "--properties {n}: no such property (there are: {})",
                    all.join(", ")
                ));
            }
        }
    }
    if picked.is_empty() {
        return Err("--properties: name at least one property".to_string());
    }
    Ok(Some(picked))
}

/// The plan the arguments describe; options that do not go together are refused naming both.
fn plan_of(
    args: &CheckArgs,
    setup: &Setup,
    meta: Option<&checkpoint::Meta>,
) -> Result<Plan, String> {
    if args.threads == Some(0) {
        return Err("--threads must be at least 1".to_string());
    }
    let resumed_dfs = meta.is_some_and(|m| m.engine == checkpoint::ENGINE_DFS);
    let strategy = args.strategy.unwrap_or(if resumed_dfs {
        Strategy::Dfs
    } else {
        Strategy::Bfs
    });
    let cores = || {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    };
    let threads = args.threads.unwrap_or_else(cores);
    let native_bfs = args.engine == Engine::Native && strategy == Strategy::Bfs;
    let timely = args.engine == Engine::Timely;
    if !native_bfs && args.exact {
        return Err(
            "--exact is for the native BFS: drop --engine stateright/timely and --strategy dfs"
                .to_string(),
        );
    }
    if !(native_bfs || timely) && args.disk.is_some() {
        return Err(
            "--disk is for the native BFS and the timely engine: drop --engine stateright and --strategy dfs".to_string(),
        );
    }
    if args.expect_states.is_some() && !(native_bfs || timely) {
        return Err(
            "--expect-states is for the native BFS and the timely engine: drop --engine stateright and --strategy dfs".to_string(),
        );
    }
    let engine = match (args.engine, strategy) {
        (Engine::Native, Strategy::Dfs) if args.threads.is_some_and(|t| t > 1) => {
            return Err("--engine native --strategy dfs is single-threaded: drop --threads, or search breadth first (--strategy bfs) on every thread".to_string());
        }
        (Engine::Native, Strategy::Dfs) => EnginePlan::NativeDfs,
        (Engine::Native, Strategy::Bfs) => EnginePlan::NativeBfs {
            threads,
            disk: args.disk.clone(),
            expect_states: args.expect_states,
            exact: args.exact,
        },
        (Engine::Stateright, _) => EnginePlan::Stateright { strategy, threads },
        (Engine::Timely, Strategy::Dfs) => {
            return Err("--engine timely searches breadth first: drop --strategy dfs".to_string())
        }
        (Engine::Timely, Strategy::Bfs) => EnginePlan::Timely(cluster_of(args, threads)?),
    };
    let checkpoint = args
        .checkpoint
        .clone()
        .or(args.resume.clone())
        .map(|dir| Checkpointing {
            dir,
            every: Duration::from_secs(args.checkpoint_every.unwrap_or(600)),
            resume: args.resume.is_some(),
        });
    if args.engine == Engine::Stateright && checkpoint.is_some() {
        return Err("--checkpoint and --resume are for our engines (native BFS and DFS, timely): drop --engine stateright".to_string());
    }
    let symmetry = args.symmetry || meta.is_some_and(|m| m.run.symmetry);
    if symmetry && args.engine == Engine::Stateright && strategy != Strategy::Dfs {
        return Err("--symmetry with --engine stateright needs --strategy dfs (stateright reduces symmetry only depth first)".to_string());
    }
    Ok(Plan {
        engine,
        limits: Limits {
            max_states: args.max_states,
            timeout: args.timeout.map(Duration::from_secs),
            stop: Stop::Never,
        },
        symmetry,
        properties: properties_of(args, setup, meta)?,
        checkpoint,
        progress: true,
        // A timely run's processes stop together only at the end: Ctrl-C ends the process.
        interrupt: Some(crate::cli::catch_interrupt()),
    })
}

/// `--engine timely`: this process's place in the run.
fn cluster_of(args: &CheckArgs, threads: usize) -> Result<distributed::Cluster, String> {
    if args.processes == 0 || args.process >= args.processes {
        return Err(format!(
            "--process {} is not below --processes {}",
            args.process, args.processes
        ));
    }
    let addresses = match &args.hostfile {
        Some(path) => distributed::read_hostfile(path, args.processes)?,
        None => (0..args.processes)
            .map(|i| format!("127.0.0.1:{}", 2101 + i))
            .collect(),
    };
    Ok(distributed::Cluster {
        threads,
        processes: args.processes,
        process: args.process,
        addresses,
        peer_timeout: Duration::from_secs(args.peer_timeout),
        expect_states: args.expect_states,
        disk: args.disk.clone(),
        heartbeat: Default::default(),
    })
}

/// The process's guards for a distributed run: no progress for `peer_timeout` (a peer frozen
/// or unreachable leaves the workers blocked in timely) ends the process as NOT VERIFIED, and
/// so does a panic in any thread (a peer that dies makes timely's communication threads
/// panic), with a message naming what failed, never a report.
fn watch_peers(cluster: &distributed::Cluster) {
    let heartbeat = std::sync::Arc::clone(&cluster.heartbeat);
    let timeout = cluster.peer_timeout;
    std::thread::spawn(move || loop {
        std::thread::sleep(Duration::from_millis(500));
        if heartbeat.idle() > timeout {
            eprintln!(
                "error: no progress for {}s (a peer is frozen or unreachable): NOT VERIFIED",
                timeout.as_secs()
            );
            std::process::exit(crate::exit::NOT_VERIFIED);
        }
    });
    let process = cluster.process;
    std::panic::set_hook(Box::new(move |info| {
        let thread = std::thread::current();
        let what = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or("a panic");
        eprintln!(
            "error: process {process}, thread {}: {what}: a worker or peer failed: NOT VERIFIED",
            thread.name().unwrap_or("?")
        );
        std::process::exit(crate::exit::NOT_VERIFIED);
    }));
}

/// While alive, file descriptor 1 writes to stderr; dropping it restores stdout.
struct StdoutToStderr {
    saved: i32,
}

impl StdoutToStderr {
    fn new() -> StdoutToStderr {
        use std::io::Write;
        let _ = std::io::stdout().flush();
        // SAFETY: dup and dup2 on the process's own standard descriptors.
        let saved = unsafe { libc::dup(1) };
        if saved >= 0 {
            unsafe { libc::dup2(2, 1) };
        }
        StdoutToStderr { saved }
    }
}

impl Drop for StdoutToStderr {
    fn drop(&mut self) {
        use std::io::Write;
        let _ = std::io::stdout().flush();
        if self.saved >= 0 {
            // SAFETY: restores the descriptor saved by `new`.
            unsafe {
                libc::dup2(self.saved, 1);
                libc::close(self.saved);
            }
        }
    }
}

//! `plasma-check check`: the exhaustive check's arguments and runner.

use crate::cli::{bad_input, code, emit, load_mutant, load_protocol, load_setup, write_file};
use crate::presets;
use crate::search::check::{self, CheckOptions, Engine, Strategy};
use crate::search::{checkpoint, distributed};
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
    /// Keep the native BFS's levels and parent links in files under DIR (removed at the end)
    /// instead of memory: for runs whose levels outgrow memory.
    #[arg(long, value_name = "DIR")]
    disk: Option<PathBuf>,
    /// Size the native BFS's visited table for N states up front (8 bytes a slot, at most 3/4
    /// full): a table that grows needs its old and new copy at once.
    #[arg(long, value_name = "N")]
    expect_states: Option<usize>,
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
    // Resuming, the checkpoint's setup is the default of every option.
    let setup = match &meta {
        None => load_setup(
            presets::load(args.config.as_deref().unwrap_or("default")),
            args.protocol.as_deref().unwrap_or("hardened"),
            args.mutant.as_deref(),
        ),
        Some(m) => (|| {
            let config = match &args.config {
                Some(c) => presets::load(c)?,
                None => m.config.clone(),
            };
            let protocol = match &args.protocol {
                Some(p) => load_protocol(p)?,
                None => m.protocol.clone(),
            };
            let mutant = match args.mutant.as_deref().or(m.mutant.as_deref()) {
                Some(name) => Some(load_mutant(name)?),
                None => None,
            };
            Ok(Setup::mutated(config, protocol, mutant))
        })(),
    };
    let setup = match setup {
        Ok(s) => s,
        Err(e) => return bad_input(&e),
    };
    let symmetry = args.symmetry || meta.as_ref().is_some_and(|m| m.symmetry);
    if args.threads == Some(0) {
        return bad_input("--threads must be at least 1");
    }
    let mut only = None;
    if let Some(names) = &args.properties {
        let mut picked = Vec::new();
        for n in names {
            match plasma_properties::by_name(n) {
                Some(p) if (p.applies)(&setup.config) => picked.push(p.name),
                Some(_) => {
                    return bad_input(&format!(
                        "--properties {n}: does not apply to this configuration"
                    ))
                }
                None => {
                    let all: Vec<&str> = plasma_properties::all().iter().map(|p| p.name).collect();
                    return bad_input(&format!(
                        "--properties {n}: no such property (there are: {})",
                        all.join(", ")
                    ));
                }
            }
        }
        if picked.is_empty() {
            return bad_input("--properties: name at least one property");
        }
        only = Some(picked);
    }
    let strategy = args.strategy.unwrap_or(
        if meta
            .as_ref()
            .is_some_and(|m| m.engine == checkpoint::ENGINE_DFS)
        {
            Strategy::Dfs
        } else {
            Strategy::Bfs
        },
    );
    let native_dfs = args.engine == Engine::Native && strategy == Strategy::Dfs;
    if native_dfs && args.threads.is_some_and(|t| t > 1) {
        return bad_input(
            "--engine native --strategy dfs is single-threaded: drop --threads, or search breadth first (--strategy bfs) on every thread",
        );
    }
    let native_bfs = args.engine == Engine::Native && strategy == Strategy::Bfs;
    let ours = args.engine != Engine::Stateright;
    if !ours && (args.checkpoint.is_some() || args.resume.is_some()) {
        return bad_input(
            "--checkpoint and --resume are for our engines (native BFS and DFS, timely): drop --engine stateright",
        );
    }
    if let Some(m) = &meta {
        let names: Vec<&str> = match &only {
            Some(o) => o.clone(),
            None => m.properties.iter().map(String::as_str).collect(),
        };
        let engine = if native_dfs {
            checkpoint::ENGINE_DFS
        } else {
            checkpoint::ENGINE
        };
        if let Err(e) = checkpoint::check_matches(m, engine, &setup, symmetry, &names) {
            return bad_input(&e);
        }
        if only.is_none() {
            only = Some(
                m.properties
                    .iter()
                    .filter_map(|n| plasma_properties::by_name(n).map(|p| p.name))
                    .collect(),
            );
        }
    }
    if !native_bfs && (args.disk.is_some() || args.expect_states.is_some()) {
        return bad_input(
            "--disk and --expect-states are for the native BFS: drop --engine stateright and --strategy dfs",
        );
    }
    if let Some(d) = args.disk.as_ref().filter(|d| !d.is_dir()) {
        return bad_input(&format!("--disk {}: no such folder", d.display()));
    }
    if symmetry && args.engine == Engine::Stateright && strategy != Strategy::Dfs {
        return bad_input(
            "--symmetry with --engine stateright needs --strategy dfs (stateright reduces symmetry only depth first)",
        );
    }
    let threads = match args.threads {
        Some(t) => t,
        None if native_dfs => 1,
        None => std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1),
    };
    let opts = CheckOptions {
        strategy,
        threads,
        max_states: args.max_states,
        timeout: args.timeout.map(Duration::from_secs),
        progress: true,
        stop_at_first_violation: false,
        stop_at: None,
        symmetry,
        engine: args.engine,
        properties: only,
        disk: args.disk.clone(),
        expect_states: args.expect_states,
        checkpoint: args.checkpoint.clone().or(args.resume.clone()),
        checkpoint_every: args.checkpoint_every.map(Duration::from_secs),
        interrupt: Some(crate::cli::catch_interrupt()),
    };
    if args.engine == Engine::Timely {
        return run_distributed(&args, &setup, &opts);
    }
    let report = match &args.resume {
        None => check::run(&setup, &opts),
        Some(dir) if native_dfs => match checkpoint::load_dfs(dir, &setup) {
            Ok(loaded) => {
                eprintln!(
                    "resuming {} at depth {}: {} states stored, {:.0}s so far",
                    dir.display(),
                    loaded.meta.levels,
                    loaded.meta.unique,
                    loaded.meta.seconds
                );
                crate::search::native::resume(&setup, &opts, loaded)
            }
            Err(e) => return bad_input(&e),
        },
        Some(dir) => match checkpoint::load(dir, &setup, args.expect_states, threads) {
            Ok(loaded) => {
                eprintln!(
                    "resuming {} at level {}: {} states stored, {:.0}s so far",
                    dir.display(),
                    loaded.meta.levels,
                    loaded.meta.unique,
                    loaded.meta.seconds
                );
                crate::search::bfs::resume(&setup, &opts, loaded)
            }
            Err(e) => return bad_input(&e),
        },
    };
    if let Some(dir) = &args.trace_out {
        for p in report.violated() {
            let Some(path) = &p.path else { continue };
            let trace = match crate::trace::counterexample_trace(&setup, path, p.name) {
                Ok(t) => t,
                Err(e) => return bad_input(&format!("cannot encode the trace of {}: {e}", p.name)),
            };
            match write_file(dir, &format!("{}.json", p.name), &trace.to_json()) {
                Ok(f) => eprintln!("wrote {}", f.display()),
                Err(e) => return bad_input(&e),
            }
        }
    }
    if let Some(failed) = emit(args.json, &report, || report.to_table()) {
        return failed;
    }
    code(report.exit_code())
}

/// `--engine timely`: this process's share of a distributed run; process 0 reports.
fn run_distributed(args: &CheckArgs, setup: &Setup, opts: &CheckOptions) -> ExitCode {
    if args.processes == 0 || args.process >= args.processes {
        return bad_input(&format!(
            "--process {} is not below --processes {}",
            args.process, args.processes
        ));
    }
    let addresses = match &args.hostfile {
        Some(path) => match distributed::read_hostfile(path, args.processes) {
            Ok(a) => a,
            Err(e) => return bad_input(&e),
        },
        None => (0..args.processes)
            .map(|i| format!("127.0.0.1:{}", 2101 + i))
            .collect(),
    };
    let cluster = distributed::Cluster {
        threads: opts.threads,
        processes: args.processes,
        process: args.process,
        addresses,
        peer_timeout: Duration::from_secs(args.peer_timeout),
        checkpoint: args.checkpoint.clone().or(args.resume.clone()),
        resume: args.resume.is_some(),
        heartbeat: Default::default(),
    };
    watch_peers(&cluster);
    // timely's networking prints connection messages on stdout: send them to stderr, and put
    // stdout back for the report.
    let saved = StdoutToStderr::new();
    let result = distributed::run(setup, opts, &cluster);
    drop(saved);
    match result {
        Ok(Some(report)) => {
            if let Some(failed) = emit(args.json, &report, || report.to_table()) {
                return failed;
            }
            code(report.exit_code())
        }
        Ok(None) => code(crate::exit::VERIFIED),
        Err(distributed::Failure::BadInput(e)) => bad_input(&e),
        Err(distributed::Failure::Failed(e)) => {
            eprintln!("error: {e}: NOT VERIFIED");
            code(crate::exit::NOT_VERIFIED)
        }
    }
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

//! What a search is asked to do: a [`Plan`] names the engine with only its own options, the
//! limits, symmetry, the properties, and checkpointing. [`crate::search::run`] takes one.
//!
//! Combinations no engine can run are refused by [`Plan::validate`] with an error that names
//! both options; those that cannot even be written (`--disk` on stateright, threads on the
//! native DFS) have no field to write them in.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Strategy {
    /// Breadth first: the counterexamples found are shortest (with one thread).
    Bfs,
    /// Depth first: less memory.
    Dfs,
}

/// Which search engine runs a check: the command line's `--engine`, and the report's label.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Engine {
    /// stateright, the reference engine: BFS or DFS, any number of threads, the explorer UI.
    Stateright,
    /// Our own engines: BFS on every thread (`bfs`: shortest counterexamples, fingerprints
    /// only), or a lean single-threaded DFS (`native`).
    Native,
    /// Breadth first on timely dataflow: worker threads in one process, or several processes
    /// and machines (`--processes`, `--process`, `--hostfile`).
    Timely,
}

/// The engine of a plan, with the options only it has.
#[derive(Clone, Debug)]
pub enum EnginePlan {
    /// stateright's BFS or DFS on `threads` threads.
    Stateright { strategy: Strategy, threads: usize },
    /// The native single-threaded DFS.
    NativeDfs,
    /// The native BFS on `threads` threads; `disk`: keep levels and parent links in files
    /// under this folder; `expect_states`: size the visited table for this many up front;
    /// `exact`: store every state whole, so no fingerprint collision can hide one.
    NativeBfs {
        threads: usize,
        disk: Option<PathBuf>,
        expect_states: Option<usize>,
        exact: bool,
    },
    /// The BFS on timely dataflow: this process's part of `cluster`.
    Timely(Cluster),
}

impl EnginePlan {
    /// The native BFS on `threads` threads, levels in memory.
    pub fn native_bfs(threads: usize) -> EnginePlan {
        EnginePlan::NativeBfs {
            threads,
            disk: None,
            expect_states: None,
            exact: false,
        }
    }

    /// Whether the search stores whole states, not fingerprints.
    pub fn exact(&self) -> bool {
        matches!(self, EnginePlan::NativeBfs { exact: true, .. })
    }

    /// The engine `engine` searching `strategy`-first on `threads` threads: the native DFS
    /// is single-threaded, and the timely engine (breadth first only) runs its `threads`
    /// workers in this process.
    pub fn of(engine: Engine, strategy: Strategy, threads: usize) -> EnginePlan {
        match (engine, strategy) {
            (Engine::Stateright, _) => EnginePlan::Stateright { strategy, threads },
            (Engine::Native, Strategy::Dfs) => EnginePlan::NativeDfs,
            (Engine::Native, Strategy::Bfs) => EnginePlan::native_bfs(threads),
            (Engine::Timely, _) => EnginePlan::Timely(Cluster::in_process(threads)),
        }
    }

    /// The engine's label in reports.
    pub fn engine(&self) -> Engine {
        match self {
            EnginePlan::Stateright { .. } => Engine::Stateright,
            EnginePlan::NativeDfs | EnginePlan::NativeBfs { .. } => Engine::Native,
            EnginePlan::Timely(_) => Engine::Timely,
        }
    }

    /// Breadth or depth first.
    pub fn strategy(&self) -> Strategy {
        match self {
            EnginePlan::Stateright { strategy, .. } => *strategy,
            EnginePlan::NativeDfs => Strategy::Dfs,
            EnginePlan::NativeBfs { .. } | EnginePlan::Timely(_) => Strategy::Bfs,
        }
    }

    /// Threads of this process that search.
    pub fn threads(&self) -> usize {
        match self {
            EnginePlan::Stateright { threads, .. } | EnginePlan::NativeBfs { threads, .. } => {
                *threads
            }
            EnginePlan::NativeDfs => 1,
            EnginePlan::Timely(c) => c.threads * c.processes,
        }
    }
}

/// When a run ends before it has visited every state.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Stop {
    /// Only at the limits: every property is decided over every reachable state.
    #[default]
    Never,
    /// At the first violation of any `always` property (hunting a counterexample).
    FirstViolation,
    /// At the first violation of this property.
    Property(&'static str),
}

/// The limits of a run; one that reaches `max_states` or `timeout` is NOT VERIFIED.
#[derive(Clone, Copy, Debug, Default)]
pub struct Limits {
    /// Stop after this many generated states (stateright counts repeats too).
    pub max_states: Option<usize>,
    pub timeout: Option<Duration>,
    pub stop: Stop,
}

/// Checkpoints of a native or timely run.
#[derive(Clone, Debug)]
pub struct Checkpointing {
    /// Where they are written (and, resuming, read).
    pub dir: PathBuf,
    /// A checkpoint is written this long after the last: by the native DFS then, by the BFS
    /// engines at the next level boundary (the timely engine's workers all at the same one).
    pub every: Duration,
    /// Continue the search the checkpoint in `dir` stopped at; its setup, symmetry and
    /// properties must be this run's.
    pub resume: bool,
}

impl Checkpointing {
    /// Checkpoints into `dir` every 600 seconds.
    pub fn into(dir: PathBuf) -> Checkpointing {
        Checkpointing {
            dir,
            every: Duration::from_secs(600),
            resume: false,
        }
    }
}

/// A search, fully described.
#[derive(Clone, Debug)]
pub struct Plan {
    pub engine: EnginePlan,
    pub limits: Limits,
    /// Store one state per symmetry orbit (see `plasma_model::symmetry`).
    pub symmetry: bool,
    /// Check only these properties (by name); every applicable one when `None`.
    pub properties: Option<Vec<&'static str>>,
    pub checkpoint: Option<Checkpointing>,
    /// Show progress on stderr while running.
    pub progress: bool,
    /// Set from outside (the CLI's Ctrl-C handler, a test) to stop the run with a partial
    /// report, NOT VERIFIED. Each run carries its own flag.
    pub interrupt: Option<Arc<AtomicBool>>,
}

impl Plan {
    /// A complete search on `engine`: no limits, every property, no symmetry, no checkpoint,
    /// no progress.
    pub fn new(engine: EnginePlan) -> Plan {
        Plan {
            engine,
            limits: Limits::default(),
            symmetry: false,
            properties: None,
            checkpoint: None,
            progress: false,
            interrupt: None,
        }
    }

    /// Stops at the first violation (of `property`, if one is named).
    pub fn hunting(mut self, property: Option<&'static str>) -> Plan {
        self.limits.stop = property.map_or(Stop::FirstViolation, Stop::Property);
        self
    }

    pub fn with_symmetry(mut self, symmetry: bool) -> Plan {
        self.symmetry = symmetry;
        self
    }

    /// Refuses what no engine can run, naming both options.
    pub fn validate(&self) -> Result<(), SearchError> {
        let invalid = |why: &str| Err(SearchError::Invalid(why.to_string()));
        match &self.engine {
            EnginePlan::Stateright { threads: 0, .. }
            | EnginePlan::NativeBfs { threads: 0, .. } => {
                return invalid("threads must be at least 1");
            }
            EnginePlan::Timely(c) if c.threads == 0 || c.process >= c.processes.max(1) => {
                return invalid("the timely cluster needs a thread per process and a process index below the number of processes");
            }
            EnginePlan::Stateright { strategy, .. } => {
                if self.symmetry && *strategy == Strategy::Bfs {
                    return invalid("symmetry with the stateright engine needs depth first: stateright reduces symmetry only in its DFS");
                }
                if self.checkpoint.is_some() {
                    return invalid("checkpoints are for our engines (native BFS and DFS, timely), not stateright");
                }
            }
            EnginePlan::NativeBfs { disk: Some(d), .. }
            | EnginePlan::Timely(Cluster { disk: Some(d), .. })
                if !d.is_dir() =>
            {
                return Err(SearchError::Invalid(format!(
                    "--disk {}: no such folder",
                    d.display()
                )));
            }
            EnginePlan::NativeBfs { exact: true, .. } if self.symmetry => {
                return invalid("--exact and --symmetry do not go together: the exact set stores states, not orbits");
            }
            EnginePlan::NativeBfs { exact: true, .. } if self.checkpoint.is_some() => {
                return invalid("--exact and --checkpoint do not go together: a checkpoint keeps fingerprints only");
            }
            _ => {}
        }
        if self.properties.as_ref().is_some_and(Vec::is_empty) {
            return invalid("name at least one property");
        }
        Ok(())
    }
}

/// Why a search gave no report.
#[derive(Debug)]
pub enum SearchError {
    /// The plan cannot run (the message names the options that clash).
    Invalid(String),
    /// The checkpoint to resume is damaged, missing, or of another run (the message names the
    /// file or what differs).
    Checkpoint(String),
    /// The engine could not get what it needs (memory, a worker, a peer); NOT VERIFIED.
    Failed(String),
    /// A timely run's process other than 0 finished its part: process 0 has the report.
    ReportAtProcessZero,
}

impl SearchError {
    /// The exit code the command line gives it.
    pub fn exit_code(&self) -> i32 {
        match self {
            SearchError::Invalid(_) | SearchError::Checkpoint(_) => crate::exit::BAD_INPUT,
            SearchError::Failed(_) => crate::exit::NOT_VERIFIED,
            SearchError::ReportAtProcessZero => crate::exit::VERIFIED,
        }
    }
}

impl std::fmt::Display for SearchError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SearchError::Invalid(e) | SearchError::Checkpoint(e) | SearchError::Failed(e) => {
                f.write_str(e)
            }
            SearchError::ReportAtProcessZero => f.write_str("process 0 reports"),
        }
    }
}

impl std::error::Error for SearchError {}

/// Where the workers run.
#[derive(Clone, Debug)]
pub struct Cluster {
    /// Worker threads per process.
    pub threads: usize,
    /// Processes, this one's index, and every process's `host:port` (one line each of the
    /// hostfile; `127.0.0.1:2101`, `127.0.0.1:2102`, ... when there is none).
    pub processes: usize,
    pub process: usize,
    pub addresses: Vec<String>,
    /// Seconds without any progress (a level, or records from a peer) before the run is given
    /// up as NOT VERIFIED: a frozen peer otherwise leaves the others waiting for ever.
    pub peer_timeout: Duration,
    /// Size each worker's visited table for its share of this many states up front.
    pub expect_states: Option<usize>,
    /// Keep each worker's levels and parent links in unnamed files in this folder.
    pub disk: Option<PathBuf>,
    /// Beats at each level and each batch of records from a peer. The run itself never gives
    /// up on a silent peer (a frozen peer leaves the workers blocked in timely): the caller
    /// watches [`Heartbeat::idle`] and decides (the CLI ends the process after
    /// `peer_timeout`, NOT VERIFIED).
    pub heartbeat: Arc<Heartbeat>,
}

impl Cluster {
    /// `threads` workers in this process alone.
    pub fn in_process(threads: usize) -> Cluster {
        Cluster {
            threads,
            processes: 1,
            process: 0,
            addresses: Vec::new(),
            peer_timeout: Duration::from_secs(300),
            expect_states: None,
            disk: None,
            heartbeat: Default::default(),
        }
    }
}

/// When a distributed run last made progress.
#[derive(Debug)]
pub struct Heartbeat {
    pub(crate) start: Instant,
    /// Seconds from `start` to the last beat.
    pub(crate) last: Arc<AtomicU64>,
}

impl Default for Heartbeat {
    fn default() -> Self {
        Heartbeat {
            start: Instant::now(),
            last: Arc::new(AtomicU64::new(0)),
        }
    }
}

impl Heartbeat {
    /// How long since the last beat (or since the heartbeat was made).
    pub fn idle(&self) -> Duration {
        let last = Duration::from_secs(self.last.load(Ordering::Relaxed));
        self.start.elapsed().saturating_sub(last)
    }
}

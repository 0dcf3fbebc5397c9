//! The exhaustive check: run stateright (BFS or DFS) over the model and build a [`Report`].

use crate::search::report::{PropertyReport, Report, Search, Step};
use crate::search::stateright_model::PlasmaModel;
use plasma_model::{describe, Action, Setup, World};
use stateright::{Checker, Model, Path};
use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Strategy {
    /// Breadth first: the counterexamples found are shortest (with one thread).
    Bfs,
    /// Depth first: less memory.
    Dfs,
}

/// Which search engine runs the check.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Engine {
    /// stateright, the reference engine: BFS or DFS, any number of threads, the explorer UI.
    #[default]
    Stateright,
    /// Our own engines: BFS on every thread (`bfs`: shortest counterexamples, fingerprints
    /// only), or a lean single-threaded DFS (`native`).
    Native,
    /// Breadth first on timely dataflow: worker threads in one process, or several processes
    /// and machines (`--processes`, `--process`, `--hostfile`).
    Timely,
}

#[derive(Clone, Debug)]
pub struct CheckOptions {
    pub strategy: Strategy,
    pub threads: usize,
    /// Stop after this many generated states (stateright counts repeats too).
    pub max_states: Option<usize>,
    pub timeout: Option<Duration>,
    /// Show a progress line on stderr while running.
    pub progress: bool,
    /// Stop as soon as some `always` property is violated (hunting a counterexample).
    pub stop_at_first_violation: bool,
    /// Hunt this property only: stop at its first violation.
    pub stop_at: Option<&'static str>,
    /// Store one state per symmetry orbit (DFS only; see `plasma_model::symmetry`).
    pub symmetry: bool,
    pub engine: Engine,
    /// Check only these properties (by name); all applicable ones when `None`.
    pub properties: Option<Vec<&'static str>>,
    /// Native BFS: keep levels and parent links in files under this folder, not in memory.
    pub disk: Option<std::path::PathBuf>,
    /// Native BFS: size the visited table for this many states up front.
    pub expect_states: Option<usize>,
    /// Native BFS: write a checkpoint into this folder at level boundaries.
    pub checkpoint: Option<std::path::PathBuf>,
    /// How often (at the first level boundary after this long; default 600 s).
    pub checkpoint_every: Option<Duration>,
    /// Set from outside (the CLI's Ctrl-C handler, a test) to stop the run with a partial
    /// report, NOT VERIFIED. Each run carries its own flag, so an interrupted run leaves the
    /// next one alone.
    pub interrupt: Option<std::sync::Arc<AtomicBool>>,
}

impl Default for CheckOptions {
    fn default() -> Self {
        CheckOptions {
            strategy: Strategy::Bfs,
            threads: 1,
            max_states: None,
            timeout: None,
            progress: false,
            stop_at_first_violation: false,
            stop_at: None,
            symmetry: false,
            engine: Engine::Stateright,
            properties: None,
            disk: None,
            expect_states: None,
            checkpoint: None,
            checkpoint_every: None,
            interrupt: None,
        }
    }
}

/// Whether finding `p` decided ends the run: a violation of the property `--stop-at` names, or
/// without one, any violation when the run stops at the first.
pub fn ends_run(opts: &CheckOptions, p: &plasma_properties::Property) -> bool {
    p.discovery_is_failure()
        && match opts.stop_at {
            Some(name) => p.name == name,
            None => opts.stop_at_first_violation,
        }
}

/// Why a run must stop now, if it must: Ctrl-C, the timeout, or the state limit.
pub fn limit_reached(opts: &CheckOptions, generated: usize, elapsed: Duration) -> Option<String> {
    if opts
        .interrupt
        .as_ref()
        .is_some_and(|f| f.load(Ordering::Relaxed))
    {
        return Some(format!(
            "interrupted (Ctrl-C after {:.1}s)",
            elapsed.as_secs_f64()
        ));
    }
    if let Some(t) = opts.timeout.filter(|&t| elapsed >= t) {
        return Some(format!(
            "timeout reached ({:.1}s, --timeout {}s)",
            elapsed.as_secs_f64(),
            t.as_secs()
        ));
    }
    if let Some(n) = opts.max_states.filter(|&n| generated >= n) {
        return Some(format!(
            "state limit reached ({generated} states generated, --max-states {n})"
        ));
    }
    None
}

/// Whether some property decided in `found` (one entry per property of `props`) ends the run.
pub fn hunted<T>(
    opts: &CheckOptions,
    props: &[&plasma_properties::Property],
    found: &[Option<T>],
) -> bool {
    props
        .iter()
        .zip(found)
        .any(|(p, f)| f.is_some() && ends_run(opts, p))
}

/// The progress spinner on stderr, when it is a terminal (else progress is a line every 10 s).
pub fn spinner(opts: &CheckOptions) -> Option<indicatif::ProgressBar> {
    (opts.progress && std::io::stderr().is_terminal()).then(|| {
        let bar = indicatif::ProgressBar::new_spinner();
        bar.enable_steady_tick(Duration::from_millis(200));
        bar
    })
}

/// The properties a run checks: the applicable ones, or those of them `--properties` names.
pub fn selected(setup: &Setup, opts: &CheckOptions) -> Vec<&'static plasma_properties::Property> {
    plasma_properties::applicable(&setup.config)
        .filter(|p| opts.properties.as_ref().is_none_or(|o| o.contains(&p.name)))
        .collect()
}

/// The properties SPIN's port asserts (`harness/spin/plasma.pml`): the `always` properties that
/// hold per state in a one-user configuration. `bench --spin` checks these, like pan does.
pub const SPIN_PROPERTIES: [&str; 9] = [
    "at-most-once",
    "unique-identity",
    "per-client-order",
    "no-silent-drop",
    "outbox-honesty",
    "monotone",
    "rebase",
    "read-your-writes",
    "group-isolation",
];

/// Runs the exhaustive check of `setup` on the engine `opts` names and reports every
/// property. The timely engine runs in this process, on `opts.threads` workers; a failed
/// timely run is a NOT VERIFIED report whose stop reason names the failure.
pub fn run(setup: &Setup, opts: &CheckOptions) -> Report {
    match (opts.engine, opts.strategy) {
        (Engine::Native, Strategy::Bfs) => return crate::search::bfs::run(setup, opts),
        (Engine::Native, Strategy::Dfs) => return crate::search::native::run(setup, opts),
        (Engine::Timely, _) => return run_timely(setup, opts),
        (Engine::Stateright, _) => {}
    }
    let mut model = PlasmaModel::new(setup.clone());
    model.only = opts.properties.clone();
    model.coverage = Some(std::sync::Arc::new(
        crate::search::stateright_model::Counting::new(setup, opts.symmetry),
    ));
    let mut builder = model.checker().threads(opts.threads.max(1));
    if let Some(n) = opts.max_states.and_then(std::num::NonZeroUsize::new) {
        builder = builder.target_state_count(n.get());
    }

    if let Some(p) = opts.stop_at {
        builder = builder.finish_when(stateright::HasDiscoveries::AnyOf([p].into()));
    } else if opts.stop_at_first_violation {
        builder = builder.finish_when(stateright::HasDiscoveries::AnyFailures);
    }
    if opts.symmetry {
        // stateright reduces symmetry in its DFS only; the CLI refuses the other combination.
        builder = builder.symmetry_fn(crate::search::stateright_model::representative_fn(
            plasma_model::Symmetry::of(setup),
        ));
    }
    let start = Instant::now();
    match opts.strategy {
        Strategy::Bfs => finish(builder.spawn_bfs(), setup, opts, start),
        Strategy::Dfs => finish(builder.spawn_dfs(), setup, opts, start),
    }
}

/// The timely engine in this process (one process, `opts.threads` workers).
fn run_timely(setup: &Setup, opts: &CheckOptions) -> Report {
    use crate::search::distributed::{self, Cluster, Failure};
    let cluster = Cluster {
        threads: opts.threads.max(1),
        processes: 1,
        process: 0,
        addresses: Vec::new(),
        peer_timeout: Duration::from_secs(300),
        checkpoint: opts.checkpoint.clone(),
        resume: false,
        heartbeat: Default::default(),
    };
    let start = Instant::now();
    let failure = match distributed::run(setup, opts, &cluster) {
        Ok(Some(report)) => return report,
        Ok(None) => "process 0 of a one-process run got no report".to_string(),
        Err(Failure::BadInput(e) | Failure::Failed(e)) => e,
    };
    let search = crate::search::report::Search {
        engine: Engine::Timely,
        threads: cluster.threads,
        stop_reason: Some(format!("the timely run failed: {failure}")),
        states: 0,
        unique_states: 0,
        max_depth: 0,
        seconds: start.elapsed().as_secs_f64(),
        coverage: Default::default(),
        coverage_partial: false,
    };
    let properties = selected(setup, opts)
        .into_iter()
        .map(|p| PropertyReport::of(p, false, None, None))
        .collect();
    Report::of_search(setup, opts, search, properties)
}

pub(crate) fn progress_line(
    states: usize,
    unique: usize,
    depth: usize,
    elapsed: Duration,
) -> String {
    let rate = states as f64 / elapsed.as_secs_f64().max(1e-9);
    format!(
        "{unique} unique states, {states} generated, depth {depth}, {:.0} states/s, {:.0}s",
        rate,
        elapsed.as_secs_f64()
    )
}

fn finish<C: Checker<PlasmaModel>>(
    checker: C,
    setup: &Setup,
    opts: &CheckOptions,
    start: Instant,
) -> Report {
    let bar = spinner(opts);
    let mut last_plain = Instant::now();
    // stateright counts states against --max-states itself; the timeout and Ctrl-C stop it
    // through the model (no state has successors from then on).
    let deadline = CheckOptions {
        max_states: None,
        ..opts.clone()
    };
    let mut stopped = None;
    while !checker.is_done() {
        std::thread::sleep(Duration::from_millis(100));
        if stopped.is_none() {
            stopped = limit_reached(&deadline, 0, start.elapsed());
            if stopped.is_some() {
                checker.model().stop.store(true, Ordering::Relaxed);
            }
        }
        let line = progress_line(
            checker.state_count(),
            checker.unique_state_count(),
            checker.max_depth(),
            start.elapsed(),
        );
        if let Some(bar) = &bar {
            bar.set_message(line);
        } else if opts.progress && last_plain.elapsed() >= Duration::from_secs(10) {
            eprintln!("progress: {line}");
            last_plain = Instant::now();
        }
    }
    let checker = checker.join();
    // Before anything asks for the discoveries, whose paths stateright replays through the
    // model.
    let counting = checker.model().coverage.as_ref();
    let coverage = counting.map(|c| c.snapshot()).unwrap_or_default();
    // Discoveries are rebuilt by replaying actions: the model must produce them again.
    checker.model().stop.store(false, Ordering::Relaxed);
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    let seconds = start.elapsed().as_secs_f64();
    let states = checker.state_count();
    let mut stop_reason = None;
    if opts.max_states.is_some_and(|n| states >= n) {
        stop_reason = Some(format!(
            "state limit reached ({} states generated, --max-states {})",
            states,
            opts.max_states.unwrap_or_default()
        ));
    }
    if stopped.is_some() {
        stop_reason = stopped;
    }
    let hunted = (opts.stop_at_first_violation || opts.stop_at.is_some())
        && checker
            .discoveries()
            .keys()
            .any(|n| plasma_properties::by_name(n).is_some_and(|p| p.discovery_is_failure()));
    if hunted && stop_reason.is_none() {
        stop_reason = Some("stopped at the first violation".to_string());
    }
    let complete = stop_reason.is_none();
    let discoveries = checker.discoveries();
    let properties = selected(setup, opts)
        .into_iter()
        .map(|p| {
            let path = discoveries.get(p.name);
            PropertyReport::of(
                p,
                complete,
                path.map(|p| p.clone().into_actions()),
                path.map(steps),
            )
        })
        .collect();
    let search = Search {
        engine: Engine::Stateright,
        threads: opts.threads.max(1),
        stop_reason,
        states,
        unique_states: checker.unique_state_count(),
        max_depth: checker.max_depth(),
        seconds,
        coverage,
        coverage_partial: false,
    };
    Report::of_search(setup, opts, search, properties)
}

/// The readable steps of a discovered path.
pub fn steps(path: &Path<World, Action>) -> Vec<Step> {
    let pairs = path.clone().into_vec();
    let mut out = Vec::new();
    for w in pairs.windows(2) {
        let (before, action) = (&w[0].0, &w[0].1);
        let after = &w[1].0;
        if let Some(action) = action {
            out.push(Step {
                text: describe::step(before, action, after),
                action: format!("{action:?}"),
            });
        }
    }
    out
}

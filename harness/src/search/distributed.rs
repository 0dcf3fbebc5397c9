//! The distributed breadth-first engine, on timely dataflow: workers in one process
//! (`--threads`) or in several processes and machines (`--processes N --process I
//! --hostfile FILE`, timely's own cluster configuration).
//!
//! Each worker owns the states that `distributed/worker.rs`'s `owner` maps to it (by a hash of
//! their history) and holds their parent links; a level is complete before the next one starts,
//! and its states are ranked in the order of their least paths, so each state keeps the least of
//! its shortest paths and the counterexamples are the native BFS's with one thread, on any
//! number of workers (`distributed/worker.rs` describes a level's three phases). When a level
//! is empty everywhere the search ends; every worker sends its counts and witnesses to worker 0
//! (of process 0), the least witness of each property is walked back through the owners
//! (`distributed/trace.rs`), and worker 0 reports.

mod connect;
mod level;
mod progress;
mod store;
mod trace;
mod wire;
mod worker;

use crate::search::checkpoint::Identity;
use crate::search::coverage::Coverage;
pub use crate::search::plan::{Cluster, Heartbeat};
use crate::search::plan::{Plan as SearchPlan, SearchError};
use crate::search::report::{Report, Search as SearchCounts};
use crate::search::shell::Shell;
use plasma_model::Setup;
use std::cell::RefCell;
use std::collections::HashMap;
use std::io::IsTerminal;
use std::rc::Rc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use store::{Share, WorkerMeta, WORKER_FORMAT};
use timely::container::CapacityContainerBuilder;
use timely::dataflow::channels::pact::Exchange;
use timely::dataflow::operators::generic::operator::Operator;
use timely::dataflow::operators::{ConnectLoop, Feedback, Input, Probe};
use timely::dataflow::{InputHandle, ProbeHandle};
use timely::worker::Worker;
use worker::{Plan, Search, Summary};

/// The hostfile's lines, `host:port` each.
pub fn read_hostfile(path: &std::path::Path, processes: usize) -> Result<Vec<String>, String> {
    let text =
        std::fs::read_to_string(path).map_err(|e| format!("--hostfile {}: {e}", path.display()))?;
    let hosts: Vec<String> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_string)
        .collect();
    if let Some(bad) = hosts.iter().find(|h| !h.contains(':')) {
        return Err(format!(
            "--hostfile {}: {bad:?} is not host:port",
            path.display()
        ));
    }
    if hosts.len() < processes {
        return Err(format!(
            "--hostfile {}: {} addresses for {processes} processes",
            path.display(),
            hosts.len()
        ));
    }
    Ok(hosts)
}

/// Starts `func` on every worker of this process: threads in one process, or connected to the
/// other processes of the run first ([`connect`]).
fn execute<T, F>(
    cluster: &Cluster,
    func: F,
) -> Result<timely::communication::WorkerGuards<T>, String>
where
    T: Send + 'static,
    F: Fn(&mut Worker) -> T + Send + Sync + 'static,
{
    let threads = cluster.threads.max(1);
    if cluster.processes <= 1 {
        let config = timely::Config {
            communication: timely::CommunicationConfig::Process(threads),
            worker: timely::WorkerConfig::default(),
        };
        return timely::execute(config, func);
    }
    let (builders, guard) = connect::allocators(
        &cluster.addresses[..cluster.processes],
        cluster.process,
        threads,
        cluster.peer_timeout,
    )?;
    timely::execute::execute_from(
        builders,
        Box::new(guard),
        timely::WorkerConfig::default(),
        func,
    )
}

/// Why a distributed run gave no report.
#[derive(Debug)]
pub enum Failure {
    /// The options or the checkpoint to resume do not fit (exit 2).
    BadInput(String),
    /// A worker or a peer failed (exit 3, NOT VERIFIED).
    Failed(String),
}

/// Runs the search; `Err` when it cannot start or a worker failed (the message names it). Only
/// process 0 gets a report (`Ok(None)` elsewhere).
pub fn run(
    setup: &Setup,
    search_plan: &SearchPlan,
    cluster: &Cluster,
) -> Result<Option<Report>, Failure> {
    let start = Instant::now();
    let shell = Shell::quiet(setup, search_plan);
    let props = shell.props.clone();
    let symmetry = search_plan.symmetry;
    let show = search_plan.progress && cluster.process == 0;
    let expect_states = cluster.expect_states;
    let ends = props
        .iter()
        .enumerate()
        .filter(|(_, p)| shell.ends_run(p))
        .fold(0u64, |m, (i, _)| m | 1 << i);
    let checkpoint = search_plan.checkpoint.as_ref().map(|c| c.dir.clone());
    let resuming = search_plan.checkpoint.as_ref().is_some_and(|c| c.resume);
    if props.len() > 64 {
        return Err(Failure::BadInput(format!(
            "the timely engine checks at most 64 properties at once, not {}: choose with --properties",
            props.len()
        )));
    }
    let workers = cluster.threads.max(1) * cluster.processes.max(1);
    let expected = identity(setup, symmetry, &props, workers);
    let (resumed, shares) = resume(
        setup,
        cluster,
        checkpoint.as_deref().filter(|_| resuming),
        workers,
        &expected,
    )?;
    let plan = Arc::new(Plan {
        setup: setup.clone(),
        props: props.clone(),
        ends,
        symmetry,
        show,
        bar: (show && std::io::stderr().is_terminal()).then(|| {
            let bar = indicatif::ProgressBar::new_spinner();
            bar.enable_steady_tick(Duration::from_millis(200));
            bar
        }),
        threads: cluster.threads.max(1),
        expect_states,
        disk: cluster.disk.clone(),
        max_states: search_plan.limits.max_states,
        timeout: search_plan.limits.timeout,
        interrupt: search_plan.interrupt.clone(),
        checkpoint,
        checkpoint_every: search_plan
            .checkpoint
            .as_ref()
            .map_or(Duration::ZERO, |c| c.every),
        meta: expected,
        beat: Arc::clone(&cluster.heartbeat.last),
        beat_start: cluster.heartbeat.start,
        start,
    });
    let shares = Arc::new(Mutex::new(shares));
    let guards = execute(cluster, move |worker| {
        run_worker(worker, &plan, resumed.as_ref(), &shares)
    })
    .map_err(Failure::Failed)?;
    let mut gathered = None;
    for (w, result) in guards.join().into_iter().enumerate() {
        let failed = |e: String| {
            Failure::Failed(format!(
                "worker {w} of process {} failed: {e}",
                cluster.process
            ))
        };
        if let Some(g) = result.map_err(failed)?.map_err(failed)? {
            gathered = Some(g);
        }
    }
    if cluster.process != 0 {
        return Ok(None);
    }
    let (texts, traced) = gathered.unwrap_or_default();
    let summaries = texts
        .iter()
        .map(|t| serde_json::from_str::<Summary>(t))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| Failure::Failed(format!("a worker sent an unreadable summary: {e}")))?;
    if summaries.len() != workers {
        return Err(Failure::Failed(format!(
            "{} of {workers} workers reported",
            summaries.len()
        )));
    }
    Ok(Some(report(shell, &summaries, &traced)))
}

/// What a checkpoint of this run records about it, for every worker's meta.
fn identity(
    setup: &Setup,
    symmetry: bool,
    props: &[&'static plasma_properties::Property],
    workers: usize,
) -> WorkerMeta {
    WorkerMeta {
        format: WORKER_FORMAT.to_string(),
        run: Identity::of(setup, symmetry, props.iter().map(|p| p.name)),
        peers: workers,
        worker: 0,
        level: 0,
        visited: 0,
        visited_sum: Default::default(),
        links: 0,
        links_sum: Default::default(),
        records_sum: Default::default(),
        totals: Vec::new(),
        decided: 0,
        summary: Summary::default(),
    }
}

type Resumed = Option<(u32, Vec<WorkerMeta>)>;

/// Resuming: the level to resume at, and this process's workers' shares, read and checked
/// before any worker starts (a damaged file is bad input, exit 2, naming it).
fn resume(
    setup: &Setup,
    cluster: &Cluster,
    checkpoint: Option<&std::path::Path>,
    workers: usize,
    expected: &WorkerMeta,
) -> Result<(Resumed, HashMap<usize, Share>), Failure> {
    let mut shares = HashMap::new();
    let Some(root) = checkpoint else {
        return Ok((None, shares));
    };
    let (level, metas) = store::resume_level(root, workers, expected).map_err(Failure::BadInput)?;
    let threads = cluster.threads.max(1);
    let first = cluster.process * threads;
    for (w, meta) in metas.iter().enumerate().skip(first).take(threads) {
        let share = store::load_share(root, w, meta, setup).map_err(Failure::BadInput)?;
        shares.insert(w, share);
    }
    Ok((Some((level, metas)), shares))
}

/// The summaries (JSON) and walked-back counterexamples worker 0 of process 0 gathers.
type Gathered = (Vec<String>, Vec<trace::Traced>);

/// One worker's run: its search to the end, then the gathering at worker 0.
fn run_worker(
    worker: &mut Worker,
    plan: &Arc<Plan>,
    resumed: Option<&(u32, Vec<WorkerMeta>)>,
    shares: &Mutex<HashMap<usize, Share>>,
) -> Result<Option<Gathered>, String> {
    let index = worker.index();
    let share = shares
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .remove(&index);
    let mine = resumed.map(|(_, metas)| &metas[index]).zip(share);
    let search = Search::new(Arc::clone(plan), index, worker.peers(), mine)
        .map_err(|e| format!("cannot open the checkpoint of worker {index}: {e}"))?;
    let search = Rc::new(RefCell::new(search));
    let probe = search_dataflow(worker, Rc::clone(&search));
    while !probe.done() {
        worker.step_or_park(None);
    }
    search.borrow_mut().done();
    let (texts, traced) = gather(worker, &search);
    Ok((index == 0).then_some((texts, traced)))
}

/// The search's dataflow: one operator in a loop, its messages routed to the worker each
/// names; it holds a capability at the time of the phase it is in, and drops it when a level
/// is empty everywhere.
fn search_dataflow(worker: &mut Worker, search: Rc<RefCell<Search>>) -> ProbeHandle<u32> {
    let probe = ProbeHandle::new();
    let start = search.borrow().start_time();
    worker.dataflow::<u32, _, _>(|scope| {
        let (handle, looped) = scope.feedback(1u32);
        let activate = scope;
        looped
            .unary_frontier::<CapacityContainerBuilder<Vec<wire::Msg>>, _, _, _>(
                wire::routed(),
                "Search",
                move |mut cap, info| {
                    cap.downgrade(&start);
                    activate.activator_for(info.address).activate();
                    let mut cap = Some(cap);
                    move |(input, frontier), output| {
                        let mut s = search.borrow_mut();
                        input.for_each_stamp(|stamp, data| {
                            let t = stamp.least().copied().unwrap_or_default();
                            for batch in data {
                                for m in batch.drain(..) {
                                    s.stash(t, m);
                                }
                            }
                        });
                        while let Some(c) = cap.as_mut() {
                            let t = *c.time();
                            if t % 3 == 0 {
                                s.receive(t);
                            }
                            if frontier.less_equal(&t) {
                                break;
                            }
                            let mut session = output.session(&*c);
                            let more = s.phase(t, &mut |m| session.give_container(&mut vec![m]));
                            drop(session);
                            if more {
                                c.downgrade(&(t + 1));
                            } else {
                                cap = None;
                            }
                        }
                    }
                },
            )
            .probe_with(&probe)
            .connect_loop(handle);
    });
    probe
}

/// Every worker's summary to worker 0, and each worker's witnesses walked back to worker 0.
fn gather(worker: &mut Worker, search: &Rc<RefCell<Search>>) -> Gathered {
    let mut input: InputHandle<u32, CapacityContainerBuilder<Vec<String>>> = InputHandle::new();
    let collected = Rc::new(RefCell::new(Vec::<String>::new()));
    {
        let collected = Rc::clone(&collected);
        worker.dataflow::<u32, _, _>(|scope| {
            scope.input_from(&mut input).sink(
                Exchange::new(|_: &String| 0),
                "Gather",
                move |(input, _)| {
                    input.for_each_stamp(|_, data| {
                        for batch in data {
                            collected.borrow_mut().append(batch);
                        }
                    });
                },
            );
        });
    }
    let traced = Rc::new(RefCell::new(Vec::new()));
    let mut queries = trace::dataflow(worker, Rc::clone(search), Rc::clone(&traced));
    {
        let s = search.borrow();
        input.send(serde_json::to_string(&s.summary).unwrap_or_default());
        for (p, found) in s.summary.found.iter().enumerate() {
            if let Some((level, _, position)) = *found {
                queries.send(trace::Query {
                    to: worker.index() as u32,
                    origin: worker.index() as u32,
                    prop: p as u32,
                    level,
                    position,
                    actions: Vec::new(),
                });
            }
        }
    }
    input.close();
    queries.close();
    while worker.step_or_park(None) {}
    let texts = collected.take();
    let traced = traced.take();
    (texts, traced)
}

/// The report of a finished run: the counts added up, and per property the least witness
/// over all workers (shortest, then least key: the least path) with its walked-back path.
fn report(shell: Shell, summaries: &[Summary], traced: &[trace::Traced]) -> Report {
    let setup = shell.setup;
    let (mut unique, mut generated, mut depth) = (0u64, 1u64, 0u32);
    let mut coverage = Coverage::default();
    for s in summaries {
        coverage.merge(&s.coverage);
        unique += s.unique;
        generated += s.generated;
        depth = depth.max(s.depth);
    }
    let stop_reason = if summaries.iter().any(|s| s.stopped) {
        Some("stopped at the first violation".to_string())
    } else if summaries.iter().any(|s| s.limit != 0) {
        // The limit a worker saw is one this process sees too by now, except another
        // process's clock.
        Some(
            shell
                .limit_reached(generated as usize)
                .unwrap_or_else(|| "timeout reached on another process (--timeout)".to_string()),
        )
    } else {
        None
    };
    let paths = (0..shell.props.len())
        .map(|p| {
            let best = summaries
                .iter()
                .filter_map(|s| s.found[p].map(|(level, key, _)| ((level, key), s.worker)))
                .min();
            let numbers = best.and_then(|(_, w)| {
                traced
                    .iter()
                    .find(|t| t.0 as usize == w && t.1 as usize == p)
                    .map(|t| t.2.clone())
            });
            numbers.map(|n| crate::search::checkpoint::actions_of(setup, &n))
        })
        .collect();
    let search = SearchCounts {
        stop_reason,
        states: generated as usize,
        unique_states: unique as usize,
        max_depth: depth as usize,
        coverage,
        coverage_partial: false,
    };
    shell.report(search, paths)
}

impl From<Failure> for SearchError {
    fn from(f: Failure) -> Self {
        match f {
            Failure::BadInput(e) => SearchError::Checkpoint(e),
            Failure::Failed(e) => SearchError::Failed(e),
        }
    }
}

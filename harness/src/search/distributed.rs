//! The distributed breadth-first engine, on timely dataflow: workers in one process
//! (`--threads`) or in several processes and machines (`--processes N --process I
//! --hostfile FILE`, timely's own cluster configuration).
//!
//! The search is one loop: a state travels as a record `(fingerprint, encoding, path)` at the
//! timestamp of its level. The record is exchanged to the worker that owns its fingerprint
//! (hash partitioning), which holds the records of a level until timely's progress tracking
//! says no worker can send more at that level (the input frontier passed it), then stores the
//! new fingerprints in its share of the visited set, checks the properties on the new states
//! and sends their successors, at the same timestamp, through a feedback edge that adds one:
//! the next level. Levels are therefore complete before the next starts, and the first level a
//! property is decided at gives a shortest counterexample. A record carries its path from the
//! initial state (the numbers of the actions among the enabled ones), so the worker that
//! decides a property holds the whole counterexample; no parent links need to be gathered
//! across workers. When no record is left, the frontier empties and the loop ends; every
//! worker then sends its counts and witnesses to worker 0 (of process 0), which reports.

use crate::search::check::{progress_line, CheckOptions};
use crate::search::fingerprints::{Fingerprinter, Fingerprints};
use crate::search::report::{replayed_steps, PropertyReport, Report, Search};
use plasma_model::{Action, Setup, World};
use serde::{Deserialize, Serialize};
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use timely::container::CapacityContainerBuilder;
use timely::dataflow::channels::pact::Exchange;
use timely::dataflow::operators::generic::operator::Operator;
use timely::dataflow::operators::{
    Capability, Concat, ConnectLoop, Feedback, Input, Probe, ToStream,
};
use timely::dataflow::{InputHandle, ProbeHandle};

/// A state in flight: its fingerprint (the owner is chosen by it), its encoding, and the path
/// to it from the initial state.
type Record = (u64, Vec<u8>, Vec<u16>);

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
}

/// What one worker found.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
struct Summary {
    worker: usize,
    unique: u64,
    generated: u64,
    /// New states per level.
    sizes: BTreeMap<u32, u64>,
    /// Per property: the least (level, path) that decides it.
    found: Vec<Option<(u32, Vec<u16>)>>,
}

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

fn config(cluster: &Cluster) -> timely::Config {
    let communication = if cluster.processes <= 1 {
        timely::CommunicationConfig::Process(cluster.threads.max(1))
    } else {
        timely::CommunicationConfig::Cluster {
            threads: cluster.threads.max(1),
            process: cluster.process,
            addresses: cluster.addresses.clone(),
            report: false,
            zerocopy: false,
        }
    };
    timely::Config {
        communication,
        worker: timely::WorkerConfig::default(),
    }
}

fn now_secs(start: Instant) -> u64 {
    start.elapsed().as_secs()
}

/// Runs the search; `Err` when a worker or a peer failed (the message names it). Only process 0
/// gets a report (`Ok(None)` elsewhere).
pub fn run(
    setup: &Setup,
    opts: &CheckOptions,
    cluster: &Cluster,
) -> Result<Option<Report>, String> {
    let start = Instant::now();
    let props = crate::search::check::selected(setup, opts);
    let names: Vec<&'static str> = props.iter().map(|p| p.name).collect();
    let progress = Arc::new(AtomicU64::new(0));
    // The watchdog: no progress for `peer_timeout` ends the process as NOT VERIFIED.
    {
        let progress = Arc::clone(&progress);
        let timeout = cluster.peer_timeout;
        std::thread::spawn(move || loop {
            std::thread::sleep(Duration::from_millis(500));
            let last = progress.load(Ordering::Relaxed);
            if now_secs(start).saturating_sub(last) > timeout.as_secs() {
                eprintln!(
                    "error: no progress for {}s (a peer is frozen or unreachable): NOT VERIFIED",
                    timeout.as_secs()
                );
                std::process::exit(crate::exit::NOT_VERIFIED);
            }
        });
    }
    // A peer that dies makes timely's communication threads and the workers panic: end the
    // process with a message naming what failed, as NOT VERIFIED (exit 3), never a report.
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
    let setup_w = setup.clone();
    let symmetry = opts.symmetry;
    let show = opts.progress && cluster.process == 0;
    let guards = timely::execute(config(cluster), move |worker| {
        let index = worker.index();
        let peers = worker.peers();
        let setup = setup_w.clone();
        let props: Vec<&'static plasma_properties::Property> = names
            .iter()
            .filter_map(|n| plasma_properties::by_name(n))
            .collect();
        let summary = Rc::new(RefCell::new(Summary {
            worker: index,
            found: vec![None; props.len()],
            ..Summary::default()
        }));
        let probe = ProbeHandle::new();
        {
            let summary = Rc::clone(&summary);
            let progress = Arc::clone(&progress);
            let setup = setup.clone();
            worker.dataflow::<u32, _, _>(|scope| {
                let mut key = Fingerprinter::new(&setup, symmetry);
                let init = World::init(&setup);
                let mut encoded = Vec::new();
                let fp = key.of_keeping(&init, &mut encoded);
                let seed: Vec<Record> = if index == 0 {
                    vec![(fp, encoded, Vec::new())]
                } else {
                    Vec::new()
                };
                let (handle, looped) = scope.feedback(1u32);
                seed.to_stream(scope)
                    .container::<Vec<Record>>()
                    .concat(looped)
                    .unary_frontier(
                        Exchange::new(|r: &Record| r.0),
                        "Expand",
                        move |_cap, _info| {
                            let mut visited = Fingerprints::default();
                            let mut pending: BTreeMap<u32, (Capability<u32>, Vec<Record>)> =
                                BTreeMap::new();
                            let mut actions: Vec<Action> = Vec::new();
                            move |(input, frontier), output| {
                                input.for_each_stamp(|cap, data| {
                                    if let Some(cap) = cap.retain_least(output.output_index()) {
                                        let t = *cap.time();
                                        let entry =
                                            pending.entry(t).or_insert_with(|| (cap, Vec::new()));
                                        for batch in data {
                                            entry.1.append(batch);
                                        }
                                    }
                                });
                                while let Some(&t) = pending.keys().next() {
                                    if frontier.frontier().less_equal(&t) {
                                        break;
                                    }
                                    let Some((cap, mut records)) = pending.remove(&t) else {
                                        break;
                                    };
                                    // Each state keeps its least path: the same counterexamples
                                    // on every run, whatever order the records arrived in.
                                    records.sort_unstable();
                                    let mut s = summary.borrow_mut();
                                    let mut session = output.session(&cap);
                                    let mut new = 0u64;
                                    for (i, (fp, bytes, path)) in records.into_iter().enumerate() {
                                        if i % 4096 == 0 {
                                            progress.store(now_secs(start), Ordering::Relaxed);
                                        }
                                        if !visited.insert(fp) {
                                            continue;
                                        }
                                        new += 1;
                                        let Some(w) = World::decode(&bytes) else {
                                            unreachable!("a record holds a whole encoding");
                                        };
                                        let mut healed = None;
                                        for (p, prop) in props.iter().enumerate() {
                                            if prop.check_with(&setup, &w, &mut healed)
                                                != prop.discovery_is_failure()
                                            {
                                                let better = match &s.found[p] {
                                                    None => true,
                                                    Some((level, old)) => {
                                                        (t, &path) < (*level, old)
                                                    }
                                                };
                                                if better {
                                                    s.found[p] = Some((t, path.clone()));
                                                }
                                            }
                                        }
                                        actions.clear();
                                        w.enabled(&setup, &mut actions);
                                        s.generated += actions.len() as u64;
                                        for (k, a) in actions.iter().enumerate() {
                                            let Ok(next) = w.step(&setup, a) else {
                                                unreachable!("an enabled action is refused");
                                            };
                                            let mut enc = Vec::new();
                                            let fp = key.of_keeping(&next, &mut enc);
                                            let mut p = path.clone();
                                            p.push(k as u16);
                                            session.give((fp, enc, p));
                                        }
                                    }
                                    s.unique += new;
                                    *s.sizes.entry(t).or_default() += new;
                                    progress.store(now_secs(start), Ordering::Relaxed);
                                    if show && index == 0 {
                                        eprintln!(
                                            "progress: level {t} at worker 0: {new} new of its share ({} workers), {}",
                                            peers,
                                            progress_line(
                                                s.generated as usize,
                                                s.unique as usize,
                                                t as usize,
                                                start.elapsed()
                                            )
                                        );
                                    }
                                }
                            }
                        },
                    )
                    .container::<Vec<Record>>()
                    .probe_with(&probe)
                    .connect_loop(handle);
            });
        }
        // The summaries, to worker 0.
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
        while !probe.done() {
            worker.step();
        }
        let text = serde_json::to_string(&*summary.borrow()).unwrap_or_default();
        input.send(text);
        input.close();
        while worker.step_or_park(None) {}
        let all = collected.borrow().clone();
        all
    })?;
    let mut summaries: Vec<Summary> = Vec::new();
    for (w, result) in guards.join().into_iter().enumerate() {
        match result {
            Ok(texts) => {
                for t in texts {
                    let s: Summary = serde_json::from_str(&t)
                        .map_err(|e| format!("worker {w} sent an unreadable summary: {e}"))?;
                    summaries.push(s);
                }
            }
            Err(e) => {
                return Err(format!(
                    "worker {w} of process {} failed: {e}",
                    cluster.process
                ))
            }
        }
    }
    if cluster.process != 0 {
        return Ok(None);
    }
    let workers = cluster.threads.max(1) * cluster.processes.max(1);
    if summaries.len() != workers {
        return Err(format!(
            "{} of {workers} workers reported: NOT VERIFIED",
            summaries.len()
        ));
    }
    // The least witness over all workers: shortest, then the least path.
    let mut found: Vec<Option<(u32, Vec<u16>)>> = vec![None; props.len()];
    let (mut unique, mut generated, mut depth) = (0u64, 1u64, 0u32);
    for s in &summaries {
        unique += s.unique;
        generated += s.generated;
        depth = depth.max(s.sizes.keys().copied().max().unwrap_or(0));
        for (f, theirs) in found.iter_mut().zip(&s.found) {
            if let Some(t) = theirs {
                if f.as_ref()
                    .is_none_or(|mine| (t.0, &t.1) < (mine.0, &mine.1))
                {
                    *f = Some(t.clone());
                }
            }
        }
    }
    let properties = props
        .iter()
        .zip(found)
        .map(|(p, w)| {
            let path = w.map(|(_, numbers)| replay_numbers(setup, &numbers));
            let trace = path.as_ref().map(|a| replayed_steps(setup, a));
            PropertyReport::of(p, true, path, trace)
        })
        .collect();
    let search = Search {
        engine: crate::search::check::Engine::Timely,
        threads: workers,
        stop_reason: None,
        states: generated as usize,
        unique_states: unique as usize,
        max_depth: depth as usize,
        seconds: start.elapsed().as_secs_f64(),
    };
    Ok(Some(Report::of_search(setup, opts, search, properties)))
}

/// The actions a path of action numbers stands for, from the initial state.
fn replay_numbers(setup: &Setup, numbers: &[u16]) -> Vec<Action> {
    let mut world = World::init(setup);
    let mut path = Vec::with_capacity(numbers.len());
    let mut enabled = Vec::new();
    for &n in numbers {
        enabled.clear();
        world.enabled(setup, &mut enabled);
        let a = enabled[usize::from(n)].clone();
        world = match world.step(setup, &a) {
            Ok(next) => next,
            Err(e) => unreachable!("a stored path replays: {e}"),
        };
        path.push(a);
    }
    path
}

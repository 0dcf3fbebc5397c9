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

use crate::search::checksum::{self, FileSum, Running, Summed};
use crate::search::coverage::Coverage;
use crate::search::fingerprints::{Fingerprinter, Fingerprints};
pub use crate::search::plan::{Cluster, Heartbeat};
use crate::search::plan::{Plan, SearchError};
use crate::search::report::{Report, Search};
use crate::search::shell::{progress_line, Shell};
use plasma_model::{Action, ActionKind, Setup, World};
use serde::{Deserialize, Serialize};
use std::cell::RefCell;
use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, HashMap};
use std::rc::Rc;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;
use timely::container::CapacityContainerBuilder;
use timely::dataflow::channels::pact::Exchange;
use timely::dataflow::operators::generic::operator::Operator;
use timely::dataflow::operators::{Capability, Concat, ConnectLoop, Feedback, Input, Probe};
use timely::dataflow::{InputHandle, ProbeHandle};

/// A state in flight: its fingerprint (the owner is chosen by it), its encoding, the path
/// to it from the initial state, and the kind of the path's last action (its
/// `ActionKind::index`, [`NO_KIND`] for the initial state): the owner, which alone knows
/// whether the state is new, counts it as taken.
type Record = (u64, Vec<u8>, Vec<u16>, u8);

/// The kind of the initial state's record, which no action reached.
const NO_KIND: u8 = u8::MAX;

impl WorkerMeta {
    fn identity(&self) -> crate::search::checkpoint::Identity<'_> {
        crate::search::checkpoint::Identity {
            model: &self.model,
            config: &self.config,
            protocol: &self.protocol,
            mutant: self.mutant.as_deref(),
            symmetry: self.symmetry,
            properties: &self.properties,
        }
    }
}

/// What a worker's checkpoint of a level records.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct WorkerMeta {
    format: String,
    model: String,
    config: plasma_model::Config,
    protocol: plasma_model::Protocol,
    mutant: Option<String>,
    symmetry: bool,
    properties: Vec<String>,
    /// Workers of the run (the fingerprints are shared out among them).
    peers: usize,
    worker: usize,
    /// The level whose records `records-<level>.bin` holds, before they were deduplicated.
    level: u32,
    /// Fingerprints of `visited.bin` that belong to the levels before it.
    visited: u64,
    /// The checksum of those fingerprints (the file grows past them as the next level runs).
    #[serde(default)]
    visited_sum: FileSum,
    /// The checksum of `records-<level>.bin`.
    #[serde(default)]
    records_sum: FileSum,
    summary: Summary,
}

// 2: records carry their action kind, and summaries their coverage. 3: every file is
// checksummed (`meta-<t>.json` by `meta-<t>.sum`, the others in the meta).
const WORKER_FORMAT: &str = "plasma-timely-checkpoint/3";

/// A worker's checkpoint folder: `visited.bin` (its fingerprints, appended level by level),
/// and for the last two levels `records-<t>.bin` (the level's records), `meta-<t>.json` (with
/// the checksums of the records and of `visited.bin` up to the level) and `meta-<t>.sum` (the
/// meta's checksum, written before the meta, so a meta that is there has its sum).
/// Workers move in step (none expands level t + 1 before every worker has expanded level t,
/// and a worker writes level t's checkpoint before it expands it), so the latest level every
/// worker has is at most one behind any worker's latest.
struct Store {
    dir: std::path::PathBuf,
    visited: std::io::BufWriter<std::fs::File>,
    visited_len: u64,
    /// The checksum of the fingerprints written so far.
    visited_sum: Running,
}

fn worker_dir(root: &std::path::Path, worker: usize) -> std::path::PathBuf {
    root.join(format!("worker-{worker}"))
}

impl Store {
    /// Opens a worker's folder; resuming, `visited.bin` is cut back to `keep` fingerprints,
    /// whose checksum `sum` is.
    fn open(
        root: &std::path::Path,
        worker: usize,
        keep: Option<u64>,
        sum: Running,
    ) -> std::io::Result<Store> {
        let dir = worker_dir(root, worker);
        std::fs::create_dir_all(&dir)?;
        let path = dir.join("visited.bin");
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)?;
        let len = keep.unwrap_or(0);
        file.set_len(len * 8)?;
        Ok(Store {
            dir,
            visited: std::io::BufWriter::with_capacity(1 << 20, file),
            visited_len: len,
            visited_sum: sum,
        })
    }

    fn append(&mut self, fps: &[u64]) -> std::io::Result<()> {
        use std::io::Write;
        for fp in fps {
            self.visited.write_all(&fp.to_le_bytes())?;
            self.visited_sum.update(&fp.to_le_bytes());
        }
        self.visited_len += fps.len() as u64;
        Ok(())
    }

    /// Writes level `meta.level`'s checkpoint: the fingerprints so far synced, the records,
    /// then the meta's checksum and the meta (each written to a temporary name, synced and
    /// renamed); level - 2 goes.
    fn checkpoint(&mut self, meta: &WorkerMeta, records: &[Record]) -> std::io::Result<()> {
        use std::io::Write;
        self.visited.flush()?;
        self.visited.get_ref().sync_all()?;
        let t = meta.level;
        let write = |name: &str, bytes: &dyn Fn(&mut dyn Write) -> std::io::Result<()>| {
            let tmp = self.dir.join(format!("{name}.tmp"));
            let f = std::fs::File::create(&tmp)?;
            let mut w = std::io::BufWriter::with_capacity(1 << 20, Summed::new(&f));
            bytes(&mut w)?;
            w.flush()?;
            let sum = w.get_ref().sum();
            drop(w);
            f.sync_all()?;
            std::fs::rename(&tmp, self.dir.join(name))?;
            Ok::<_, std::io::Error>(sum)
        };
        let records_sum = write(&format!("records-{t}.bin"), &|w| {
            for (fp, enc, path, kind) in records {
                w.write_all(&fp.to_le_bytes())?;
                w.write_all(&(enc.len() as u32).to_le_bytes())?;
                w.write_all(enc)?;
                w.write_all(&(path.len() as u32).to_le_bytes())?;
                for a in path {
                    w.write_all(&a.to_le_bytes())?;
                }
                w.write_all(&[*kind])?;
            }
            Ok(())
        })?;
        let meta = WorkerMeta {
            visited_sum: self.visited_sum.sum(),
            records_sum,
            ..meta.clone()
        };
        let text = serde_json::to_string(&meta).map_err(std::io::Error::other)?;
        let line = checksum::sum_line(&checksum::of(text.as_bytes()));
        write(&format!("meta-{t}.sum"), &|w| w.write_all(line.as_bytes()))?;
        write(&format!("meta-{t}.json"), &|w| w.write_all(text.as_bytes()))?;
        std::fs::File::open(&self.dir)?.sync_all()?;
        if t >= 2 {
            for name in ["records-{}.bin", "meta-{}.json", "meta-{}.sum"] {
                let _ =
                    std::fs::remove_file(self.dir.join(name.replace("{}", &(t - 2).to_string())));
            }
        }
        Ok(())
    }
}

fn read_records(bytes: &[u8]) -> Result<Vec<Record>, String> {
    let bad = || "cut short".to_string();
    let mut out = Vec::new();
    let mut at = 0;
    let take = |at: &mut usize, n: usize| -> Result<&[u8], String> {
        let s = bytes.get(*at..at.saturating_add(n)).ok_or_else(bad)?;
        *at += n;
        Ok(s)
    };
    while at < bytes.len() {
        let fp = u64::from_le_bytes(take(&mut at, 8)?.try_into().map_err(|_| bad())?);
        let n = u32::from_le_bytes(take(&mut at, 4)?.try_into().map_err(|_| bad())?) as usize;
        let enc = take(&mut at, n)?.to_vec();
        let k = u32::from_le_bytes(take(&mut at, 4)?.try_into().map_err(|_| bad())?) as usize;
        let path = take(&mut at, k.saturating_mul(2))?
            .chunks_exact(2)
            .map(|c| u16::from_le_bytes([c[0], c[1]]))
            .collect();
        let kind = take(&mut at, 1)?[0];
        out.push((fp, enc, path, kind));
    }
    Ok(out)
}

/// The level to resume at: the latest one every worker checkpointed, with each worker's meta
/// checked against this run. The message names what is missing or does not match.
fn resume_level(
    root: &std::path::Path,
    workers: usize,
    expected: &WorkerMeta,
) -> Result<(u32, Vec<WorkerMeta>), String> {
    let mut latest: Vec<Vec<u32>> = Vec::new();
    for w in 0..workers {
        let dir = worker_dir(root, w);
        let levels: Vec<u32> = std::fs::read_dir(&dir)
            .map_err(|e| format!("--resume: {}: {e} (a checkpoint of {workers} workers has worker-0 to worker-{})", dir.display(), workers - 1))?
            .flatten()
            .filter_map(|e| {
                let name = e.file_name().to_str()?.to_string();
                name.strip_prefix("meta-")?.strip_suffix(".json")?.parse().ok()
            })
            .collect();
        latest.push(levels);
    }
    let common = latest[0]
        .iter()
        .copied()
        .filter(|t| latest.iter().all(|l| l.contains(t)))
        .max()
        .ok_or_else(|| {
            format!(
                "--resume {}: no level that every worker checkpointed",
                root.display()
            )
        })?;
    let mut metas = Vec::new();
    for w in 0..workers {
        let path = worker_dir(root, w).join(format!("meta-{common}.json"));
        let m = read_worker_meta(root, &path)?;
        let mismatch = |what: &str| {
            Err(format!(
                "the checkpoint does not match this run: {what} differs ({})",
                path.display()
            ))
        };
        if m.format != WORKER_FORMAT {
            return mismatch("the format");
        }
        if let Some(what) = m.identity().mismatch(&expected.identity()) {
            return Err(format!(
                "the checkpoint does not match this run: {what} ({})",
                path.display()
            ));
        }
        if m.peers != workers || m.worker != w {
            return Err(format!(
                "the checkpoint does not match this run: it was written by {} workers, this run has {workers}",
                m.peers
            ));
        }
        metas.push(m);
    }
    Ok((common, metas))
}

/// Reads a worker's `meta-<t>.json`, checked against `meta-<t>.sum`.
fn read_worker_meta(root: &std::path::Path, path: &std::path::Path) -> Result<WorkerMeta, String> {
    let sum_file = path.with_extension("sum");
    if !sum_file.exists() {
        // Formats before 3 had no sums: name the format rather than call the file damaged.
        if let Some(f) = checksum::format_of(path).filter(|f| f != WORKER_FORMAT) {
            return Err(format!(
                "the checkpoint does not match this run: the format is {f:?}, expected {WORKER_FORMAT:?} ({})",
                path.display()
            ));
        }
        return Err(checksum::damaged(root, &sum_file, "missing"));
    }
    let bytes = checksum::read_guarded(root, path, &sum_file)?;
    serde_json::from_slice(&bytes)
        .map_err(|e| format!("--resume: corrupted checkpoint ({}: {e})", path.display()))
}

/// A worker's share of the level a run resumes at: its fingerprints so far, their checksum
/// (which the next checkpoints extend), and the level's records.
struct Share {
    visited: Vec<u64>,
    sum: Running,
    records: Vec<Record>,
}

/// Reads worker `w`'s share of level `meta.level`, every file checked against the sums its
/// meta recorded and every state against the model's invariants; the error names the file.
fn load_share(
    root: &std::path::Path,
    w: usize,
    meta: &WorkerMeta,
    setup: &Setup,
) -> Result<Share, String> {
    let dir = worker_dir(root, w);
    let path = dir.join("visited.bin");
    let cannot = |p: &std::path::Path, e: std::io::Error| {
        format!(
            "--resume {}: cannot read {}: {e}",
            root.display(),
            p.display()
        )
    };
    let bytes = std::fs::read(&path).map_err(|e| cannot(&path, e))?;
    let want = usize::try_from(meta.visited.saturating_mul(8)).unwrap_or(usize::MAX);
    let mine = bytes.get(..want).ok_or_else(|| {
        checksum::damaged(
            root,
            &path,
            &format!("{} bytes, the level needs {want}", bytes.len()),
        )
    })?;
    let mut sum = Running::default();
    sum.update(mine);
    checksum::expect(root, &path, &sum.sum(), Some(&meta.visited_sum))?;
    let visited = mine
        .chunks_exact(8)
        .map(|c| u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]))
        .collect();
    let path = dir.join(format!("records-{}.bin", meta.level));
    let bytes = std::fs::read(&path).map_err(|e| cannot(&path, e))?;
    checksum::expect(root, &path, &checksum::of(&bytes), Some(&meta.records_sum))?;
    let records = read_records(&bytes).map_err(|e| checksum::damaged(root, &path, &e))?;
    for (i, r) in records.iter().enumerate() {
        let w = World::decode(&r.1)
            .ok_or_else(|| format!("record {i} holds a state that does not decode"))
            .and_then(|w| {
                w.validate(setup)
                    .map_err(|e| format!("record {i} holds a state the model cannot reach ({e})"))
            });
        w.map_err(|e| checksum::damaged(root, &path, &e))?;
    }
    Ok(Share {
        visited,
        sum,
        records,
    })
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
    /// The action coverage of the states this worker owns: `taken` counts the records that were
    /// new here, `enabled` the successors of the states it expanded.
    #[serde(default)]
    coverage: Coverage,
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
pub fn run(setup: &Setup, plan: &Plan, cluster: &Cluster) -> Result<Option<Report>, Failure> {
    let start = Instant::now();
    let shell = Shell::quiet(setup, plan);
    let props = shell.props.clone();
    // Each worker checkpoints its share of every level into `DIR/worker-<index>/`, and
    // resuming, continues from the latest level every worker wrote.
    let checkpoint = plan.checkpoint.as_ref().map(|c| c.dir.clone());
    let resume = plan.checkpoint.as_ref().is_some_and(|c| c.resume);
    let names: Vec<&'static str> = props.iter().map(|p| p.name).collect();
    let progress = Arc::clone(&cluster.heartbeat.last);
    let beat_start = cluster.heartbeat.start;
    let workers = cluster.threads.max(1) * cluster.processes.max(1);
    let expected = WorkerMeta {
        format: WORKER_FORMAT.to_string(),
        model: crate::search::checkpoint::model_digest(),
        config: setup.config.clone(),
        protocol: setup.protocol.clone(),
        mutant: setup.mutant.map(|m| m.name().to_string()),
        symmetry: plan.symmetry,
        properties: names.iter().map(|n| n.to_string()).collect(),
        peers: workers,
        worker: 0,
        level: 0,
        visited: 0,
        visited_sum: FileSum::default(),
        records_sum: FileSum::default(),
        summary: Summary::default(),
    };
    let resumed: Option<(u32, Vec<WorkerMeta>)> = match (&checkpoint, resume) {
        (Some(root), true) => {
            Some(resume_level(root, workers, &expected).map_err(Failure::BadInput)?)
        }
        _ => None,
    };
    // This process's workers' shares, read and checked before any worker starts: a damaged
    // file is bad input (exit 2) naming it, not a worker's panic.
    let mut shares: HashMap<usize, Share> = HashMap::new();
    if let (Some((_, metas)), Some(root)) = (&resumed, &checkpoint) {
        let threads = cluster.threads.max(1);
        let first = cluster.process * threads;
        for (w, meta) in metas.iter().enumerate().skip(first).take(threads) {
            let share = load_share(root, w, meta, setup).map_err(Failure::BadInput)?;
            shares.insert(w, share);
        }
    }
    let shares = Arc::new(std::sync::Mutex::new(shares));
    let root = checkpoint.clone();
    let setup_w = setup.clone();
    let symmetry = plan.symmetry;
    let show = plan.progress && cluster.process == 0;
    let guards = timely::execute(config(cluster), move |worker| {
        let index = worker.index();
        let peers = worker.peers();
        let setup = setup_w.clone();
        let props: Vec<&'static plasma_properties::Property> = names
            .iter()
            .filter_map(|n| plasma_properties::by_name(n))
            .collect();
        let mine = resumed.as_ref().map(|(t, metas)| (*t, metas[index].clone()));
        let summary = Rc::new(RefCell::new(match &mine {
            Some((_, m)) => m.summary.clone(),
            None => Summary {
                worker: index,
                found: vec![None; props.len()],
                ..Summary::default()
            },
        }));
        let share = shares
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&index);
        let mut store = root.as_ref().map(|r| {
            let sum = share.as_ref().map(|s| s.sum.clone()).unwrap_or_default();
            Store::open(r, index, mine.as_ref().map(|(_, m)| m.visited), sum)
                .unwrap_or_else(|e| panic!("cannot open the checkpoint of worker {index}: {e}"))
        });
        let mut visited = Fingerprints::default();
        let mut seed: Vec<Record> = Vec::new();
        let mut seed_level = 0u32;
        if let (Some((t, _)), Some(share)) = (&mine, share) {
            for fp in share.visited {
                visited.insert(fp);
            }
            seed = share.records;
            seed_level = *t;
        }
        let mut seeds: InputHandle<u32, CapacityContainerBuilder<Vec<Record>>> = InputHandle::new();
        let meta_base = WorkerMeta {
            worker: index,
            ..expected.clone()
        };
        let probe = ProbeHandle::new();
        {
            let summary = Rc::clone(&summary);
            let progress = Arc::clone(&progress);
            let setup = setup.clone();
            worker.dataflow::<u32, _, _>(|scope| {
                let mut key = Fingerprinter::new(&setup, symmetry);
                let (handle, looped) = scope.feedback(1u32);
                scope
                    .input_from(&mut seeds)
                    .concat(looped)
                    .unary_frontier(
                        Exchange::new(|r: &Record| r.0),
                        "Expand",
                        move |_cap, _info| {
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
                                    if let Some(store) = store.as_mut() {
                                        let meta = WorkerMeta {
                                            level: t,
                                            visited: store.visited_len,
                                            summary: summary.borrow().clone(),
                                            ..meta_base.clone()
                                        };
                                        if let Err(e) = store.checkpoint(&meta, &records) {
                                            panic!("cannot write the checkpoint of worker {index}: {e}");
                                        }
                                    }
                                    let mut fresh: Vec<u64> = Vec::new();
                                    let mut scratch: Vec<u8> = Vec::new();
                                    let mut s = summary.borrow_mut();
                                    // The level's successors, each once with its least
                                    // path: a state reached from several parents of this
                                    // worker travels once.
                                    let mut next: HashMap<u64, (Vec<u8>, Vec<u16>, u8)> =
                                        HashMap::new();
                                    let mut new = 0u64;
                                    for (i, (fp, bytes, path, kind)) in
                                        records.into_iter().enumerate()
                                    {
                                        if i % 4096 == 0 {
                                            progress.store(now_secs(beat_start), Ordering::Relaxed);
                                        }
                                        if !visited.insert(fp) {
                                            continue;
                                        }
                                        if let Some(&k) = ActionKind::ALL.get(usize::from(kind)) {
                                            s.coverage.take(k);
                                        }
                                        if store.is_some() {
                                            fresh.push(fp);
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
                                            let Ok(succ) = w.step(&setup, a) else {
                                                unreachable!("an enabled action is refused");
                                            };
                                            let kind = a.kind();
                                            s.coverage.enable(kind);
                                            let kind = kind.index() as u8;
                                            scratch.clear();
                                            let fp = key.of_keeping(&succ, &mut scratch);
                                            let shorter = |old: &Vec<u16>| {
                                                (&old[..old.len() - 1], old[old.len() - 1])
                                                    > (&path[..], k as u16)
                                            };
                                            match next.entry(fp) {
                                                Entry::Vacant(e) => {
                                                    let mut p = path.clone();
                                                    p.push(k as u16);
                                                    e.insert((scratch.clone(), p, kind));
                                                }
                                                Entry::Occupied(mut e) if shorter(&e.get().1) => {
                                                    let mut p = path.clone();
                                                    p.push(k as u16);
                                                    e.get_mut().1 = p;
                                                    e.get_mut().2 = kind;
                                                }
                                                Entry::Occupied(_) => {}
                                            }
                                        }
                                    }
                                    let mut session = output.session(&cap);
                                    for (fp, (enc, p, kind)) in next {
                                        session.give((fp, enc, p, kind));
                                    }
                                    s.unique += new;
                                    *s.sizes.entry(t).or_default() += new;
                                    if let Some(store) = store.as_mut() {
                                        if let Err(e) = store.append(&fresh) {
                                            panic!("cannot write the checkpoint of worker {index}: {e}");
                                        }
                                    }
                                    progress.store(now_secs(beat_start), Ordering::Relaxed);
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
        // The first level: the initial state at worker 0, or each worker's share of the level
        // the checkpoint stopped at.
        if mine.is_none() && index == 0 {
            let init = World::init(&setup);
            let mut encoded = Vec::new();
            let fp = Fingerprinter::new(&setup, symmetry).of_keeping(&init, &mut encoded);
            seed.push((fp, encoded, Vec::new(), NO_KIND));
        }
        seeds.advance_to(seed_level);
        for r in seed {
            seeds.send(r);
        }
        seeds.close();
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
    })
    .map_err(Failure::Failed)?;
    let mut summaries: Vec<Summary> = Vec::new();
    for (w, result) in guards.join().into_iter().enumerate() {
        match result {
            Ok(texts) => {
                for t in texts {
                    let s: Summary = serde_json::from_str(&t).map_err(|e| {
                        Failure::Failed(format!("worker {w} sent an unreadable summary: {e}"))
                    })?;
                    summaries.push(s);
                }
            }
            Err(e) => {
                return Err(Failure::Failed(format!(
                    "worker {w} of process {} failed: {e}",
                    cluster.process
                )))
            }
        }
    }
    if cluster.process != 0 {
        return Ok(None);
    }
    if summaries.len() != workers {
        return Err(Failure::Failed(format!(
            "{} of {workers} workers reported",
            summaries.len()
        )));
    }
    // The least witness over all workers: shortest, then the least path.
    let mut found: Vec<Option<(u32, Vec<u16>)>> = vec![None; props.len()];
    let (mut unique, mut generated, mut depth) = (0u64, 1u64, 0u32);
    let mut coverage = Coverage::default();
    for s in &summaries {
        coverage.merge(&s.coverage);
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
    let paths = found
        .into_iter()
        .map(|w| w.map(|(_, numbers)| crate::search::checkpoint::actions_of(setup, &numbers)))
        .collect();
    let search = Search {
        stop_reason: None,
        states: generated as usize,
        unique_states: unique as usize,
        max_depth: depth as usize,
        coverage,
        coverage_partial: false,
    };
    Ok(Some(shell.report(search, paths)))
}

impl From<Failure> for SearchError {
    fn from(f: Failure) -> Self {
        match f {
            Failure::BadInput(e) => SearchError::Checkpoint(e),
            Failure::Failed(e) => SearchError::Failed(e),
        }
    }
}

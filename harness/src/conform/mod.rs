//! Conformance: runs plasma-check traces against the model under the `replicache` profile and
//! against the real Replicache client (the Node adapter in `harness/conformance/`), step by step,
//! and reports the first step at which the client-visible states differ.
//!
//! The harness plays the server and the network. The model's server computes every push and
//! pull response; a delivery of a response is `respond` to the client's real request, a drop
//! of a request or response is `fail` (a network error). Every step is followed by what an idle
//! browser does (the tab that changed persists its memory to storage, the other tabs of its
//! installation refresh from it), and then the state of every open tab is compared: its
//! clientID, its pending mutations (clientID and mutationID, oldest first), its cookie and its
//! view. No fake time passes, so none of Replicache's timers (push debounce, retry backoff,
//! heartbeats, mutation recovery) fires: every request is one the trace asked for.
//!
//! Identities: the model's clientIDs are small integers; Replicache draws 18-character strings.
//! The runner keeps the mapping, learnt from the replies to `open` and `reload`, and translates
//! every clientID it sends (`lastMutationIDChanges`) and compares. Rows are keys `r0`, `r1`, ...;
//! a cookie is `{"order": version, "user": user}` (`null` before the first pull), so that
//! Replicache's base-cookie check (deep equality) is the model's check of cookie and user.

pub mod cli;
pub mod concurrent;
pub mod postgres;
pub mod server;

use crate::history::record::Recorder;
use crate::random::case_rng;
use crate::trace::{Numbering, Trace};
use plasma_model::auth::{self, Table};
use plasma_model::{describe, Action, Config, Msg, Op, Patch, Protocol, Setup, World};
use rand::Rng;
use serde::Serialize;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::{Arc, Mutex};

/// The adapter's folder in this repository.
pub fn default_adapter_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("conformance")
}

/// The snapshotted counterexamples of this repository.
pub fn default_traces_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("snapshots")
}

/// The configuration random conformance traces are drawn in: two installations, up to five
/// tabs, each kind of table, a dozen mutations, drops. No resets (Replicache has no
/// `resetLocalState()`), no network duplicates (the profile excludes them), one user.
pub fn random_config() -> Config {
    Config {
        installs: 2,
        tabs: 5,
        rows: 2,
        max_mutations: 12,
        drops: 3,
        duplicates: 0,
        max_in_flight: 6,
        max_resets: 0,
        users: 2,
        private_rows: 1,
        max_rows: 1,
        counter_rows: 1,
        max_auth_changes: 4,
    }
}

#[derive(Clone, Debug)]
pub struct Options {
    /// The `node` executable.
    pub node: String,
    /// The folder holding `adapter.mjs` and its `node_modules/`.
    pub adapter_dir: PathBuf,
    /// Traces to run: a folder of `*.snap` (insta snapshots holding a trace) and `*.json`
    /// (plasma-trace/1) files; `None` for none.
    pub traces: Option<PathBuf>,
    /// Random traces to generate under the replicache profile.
    pub random: u64,
    pub seed: u64,
    /// Steps per random trace.
    pub steps: usize,
    /// Run only this random case (for a rerun).
    pub case: Option<u64>,
    /// The model's protocol: the replicache profile, or another one to see where it differs
    /// from the real client.
    pub protocol: Protocol,
    /// Record the client's wire traffic (its push and pull requests and the responses it got)
    /// as a history ([`Report::history`]).
    pub record: bool,
}

/// Checks that node and the adapter's dependencies are there; the message says what to do.
pub fn check_environment(opts: &Options) -> Result<String, String> {
    let adapter = opts.adapter_dir.join("adapter.mjs");
    if !adapter.is_file() {
        return Err(format!("{} is missing", adapter.display()));
    }
    if !opts
        .adapter_dir
        .join("node_modules")
        .join("replicache")
        .is_dir()
    {
        return Err(format!(
            "{} has no node_modules: run npm ci in harness/conformance",
            opts.adapter_dir.display()
        ));
    }
    node_version(&opts.node)
}

/// `node --version`, or what is wrong.
fn node_version(node: &str) -> Result<String, String> {
    let out = Command::new(node)
        .arg("--version")
        .output()
        .map_err(|e| format!("cannot run {node}: {e} (Node 20 or newer is needed)"))?;
    if !out.status.success() {
        return Err(format!("{node} --version failed"));
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// Reads every trace in a folder, sorted by file name: `*.json` files are traces, `*.snap`
/// files are insta snapshots whose text ends with `trace:` and the trace.
pub fn load_traces(dir: &Path) -> Result<Vec<(String, Trace)>, String> {
    let entries =
        std::fs::read_dir(dir).map_err(|e| format!("{}: cannot read: {e}", dir.display()))?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "snap" || x == "json"))
        .collect();
    files.sort();
    let mut out = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(&f)
            .map_err(|e| format!("{}: cannot read: {e}", f.display()))?;
        let json = if f.extension().is_some_and(|x| x == "snap") {
            match text.find("\ntrace:\n") {
                Some(i) => &text[i + 8..],
                None => return Err(format!("{}: a snapshot without a trace", f.display())),
            }
        } else {
            &text[..]
        };
        let trace = Trace::parse(json).map_err(|e| format!("{}: {e}", f.display()))?;
        let name = f
            .file_stem()
            .map(|s| s.to_string_lossy().to_string())
            .unwrap_or_default();
        out.push((name, trace));
    }
    Ok(out)
}

/// The setup every trace runs under (normally the replicache profile: what the real client
/// does).
pub fn profile_setup(config: &Config, protocol: &Protocol) -> Setup {
    Setup::new(config.clone(), protocol.clone())
}

/// Relative weights of the action kinds in a random conformance trace.
fn weight(a: &Action) -> u32 {
    match a {
        Action::Mutate { .. } => 10,
        Action::Push { .. } | Action::Pull { .. } => 6,
        Action::Reload { .. } => 2,
        Action::OpenTab { .. }
        | Action::DuplicateTab { .. }
        | Action::CloseTab { .. }
        | Action::RestoreTab { .. } => 1,
        Action::Deliver(_) => 20,
        Action::Drop(_) => 2,
        Action::Logout { .. } | Action::Login { .. } => 1,
        // Not expressible against the real client: never drawn.
        Action::ResetLocalState { .. } | Action::Duplicate(_) => 0,
    }
}

/// Random case `case` of a seed: at most `steps` actions drawn among those the replicache
/// profile enables, by `weight`.
pub fn random_actions(setup: &Setup, seed: u64, case: u64, steps: usize) -> Vec<Action> {
    random_actions_weighted(setup, seed, case, steps, weight)
}

/// Random case `case` of a seed: at most `steps` actions drawn among those `setup` enables, by
/// `weight` (an action of weight 0 is never drawn).
pub fn random_actions_weighted(
    setup: &Setup,
    seed: u64,
    case: u64,
    steps: usize,
    weight: fn(&Action) -> u32,
) -> Vec<Action> {
    let mut rng = case_rng(seed, case);
    let mut w = World::init(setup);
    let mut taken = Vec::new();
    let mut enabled = Vec::new();
    for _ in 0..steps {
        enabled.clear();
        w.enabled(setup, &mut enabled);
        let total: u32 = enabled.iter().map(weight).sum();
        if total == 0 {
            break;
        }
        let mut draw = rng.gen_range(0..total);
        let Some(a) = enabled.iter().find(|a| {
            let wt = weight(a);
            if draw < wt {
                true
            } else {
                draw -= wt;
                false
            }
        }) else {
            break;
        };
        let Ok(next) = w.step(setup, a) else { break };
        w = next;
        taken.push(a.clone());
    }
    taken
}

/// How one trace ended.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Outcome {
    /// Model and client agreed after every step.
    Agreed,
    /// They differ after `step` (1-based).
    Diverged {
        step: usize,
        action: String,
        what: String,
        model: Value,
        real: Value,
    },
    /// The trace cannot be run against the real client; the reason names the step and why.
    Skipped { reason: String },
}

#[derive(Clone, Debug, Serialize)]
pub struct TraceResult {
    pub name: String,
    /// Steps run (up to and including a divergence).
    pub steps: usize,
    pub adapter_seed: u32,
    #[serde(flatten)]
    pub outcome: Outcome,
    /// Steps of a translated trace that have no counterpart under the replicache profile, and
    /// what was done instead.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// The trace as run under the replicache profile (for `--trace-out`).
    #[serde(skip)]
    pub profile_trace: Option<Trace>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Report {
    /// The model's protocol (`replicache`, or another name).
    pub protocol: String,
    pub replicache: String,
    pub seed: u64,
    pub random: u64,
    pub steps_per_random_trace: usize,
    pub traces_run: usize,
    pub agreed: usize,
    pub diverged: usize,
    pub skipped: usize,
    pub steps_run: usize,
    pub results: Vec<TraceResult>,
    pub rerun: String,
    /// With [`Options::record`]: the client's wire traffic, as a history.
    #[serde(skip)]
    pub history: Option<String>,
}

impl Report {
    pub fn exit_code(&self) -> i32 {
        if self.diverged > 0 {
            crate::exit::VIOLATED
        } else {
            crate::exit::VERIFIED
        }
    }

    /// The text report: snapshot traces one per line, random ones only when they did not
    /// agree, a summary, skip reasons counted, and the first divergence in full.
    pub fn to_text(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "plasma-check conform: the {} protocol against Replicache {} (seed {})\n",
            self.protocol, self.replicache, self.seed
        );
        write_rows(&mut s, &self.results);
        let _ = writeln!(
            s,
            "\n{} traces: {} agreed, {} skipped, {} diverged ({} steps run)",
            self.traces_run, self.agreed, self.skipped, self.diverged, self.steps_run
        );
        let mut reasons: BTreeMap<String, usize> = BTreeMap::new();
        for r in &self.results {
            if let Outcome::Skipped { reason } = &r.outcome {
                // "step N: WHY" counts by WHY.
                let why = reason.split_once(": ").map_or(reason.as_str(), |(_, w)| w);
                *reasons.entry(why.to_string()).or_default() += 1;
            }
        }
        for (why, n) in &reasons {
            let _ = writeln!(s, "  skipped {n}: {why}");
        }
        write_first_divergence(&mut s, &self.results);
        let _ = writeln!(s, "\nrerun: {}", self.rerun);
        s
    }
}

/// The trace table: snapshot traces one per line (with their notes), random ones only when
/// they did not agree.
pub(crate) fn write_rows(s: &mut String, results: &[TraceResult]) {
    let w = results
        .iter()
        .map(|r| r.name.len())
        .max()
        .unwrap_or(5)
        .max(5);
    let _ = writeln!(s, "  {:w$}  {:>5}  outcome", "trace", "steps");
    for r in results {
        if r.name.starts_with("random-") && r.outcome == Outcome::Agreed {
            continue;
        }
        let outcome = match &r.outcome {
            Outcome::Agreed => "agreed".to_string(),
            Outcome::Diverged { step, what, .. } => format!("DIVERGED at step {step}: {what}"),
            Outcome::Skipped { reason } => format!("skipped: {reason}"),
        };
        let _ = writeln!(s, "  {:w$}  {:>5}  {outcome}", r.name, r.steps);
        for n in &r.notes {
            let _ = writeln!(s, "  {:w$}         {n}", "");
        }
    }
    let agreed = results
        .iter()
        .filter(|r| r.name.starts_with("random-") && r.outcome == Outcome::Agreed)
        .count();
    if agreed > 0 {
        let _ = writeln!(s, "  ({agreed} random traces agreed, not listed)");
    }
}

/// The first divergence in full: the step, what differs, both sides.
pub(crate) fn write_first_divergence(s: &mut String, results: &[TraceResult]) {
    let first = results.iter().find_map(|r| match &r.outcome {
        Outcome::Diverged {
            step,
            action,
            what,
            model,
            real,
        } => Some((r, step, action, what, model, real)),
        _ => None,
    });
    if let Some((r, step, action, what, model, real)) = first {
        let _ = writeln!(s, "\nfirst divergence: {} at step {step}: {action}", r.name);
        let _ = writeln!(s, "  {what}");
        let _ = writeln!(s, "  model: {model}");
        let _ = writeln!(s, "  real:  {real}");
    }
}

/// The adapter seed of a random case (Replicache's clientIDs derive from it).
fn case_adapter_seed(seed: u64, case: u64) -> u32 {
    let mut z = seed
        .wrapping_mul(0x9e37_79b9_7f4a_7c15)
        .wrapping_add(case.wrapping_add(1).wrapping_mul(0xbf58_476d_1ce4_e5b9));
    z = (z ^ (z >> 31)).wrapping_mul(0x94d0_49bb_1331_11eb);
    ((z ^ (z >> 29)) as u32).max(1)
}

/// The adapter seed of a named trace (FNV-1a of the name).
fn name_adapter_seed(name: &str) -> u32 {
    let mut h: u32 = 0x811c_9dc5;
    for b in name.bytes() {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    }
    h.max(1)
}

/// Runs everything the options ask for. `on_trace` is called after each trace (progress).
pub fn run(opts: &Options, mut on_trace: impl FnMut(&TraceResult)) -> Result<Report, String> {
    let mut jobs: Vec<(String, Job)> = Vec::new();
    if opts.case.is_none() {
        if let Some(dir) = &opts.traces {
            for (name, trace) in load_traces(dir)? {
                jobs.push((name, Job::Foreign(trace)));
            }
        }
    }
    let cases: Vec<u64> = match opts.case {
        Some(c) => vec![c],
        None => (0..opts.random).collect(),
    };
    let setup = profile_setup(&random_config(), &opts.protocol);
    for case in cases {
        let actions = random_actions(&setup, opts.seed, case, opts.steps);
        jobs.push((
            format!("random-{}-{case}", opts.seed),
            Job::Profile {
                config: setup.config.clone(),
                actions,
                adapter_seed: case_adapter_seed(opts.seed, case),
            },
        ));
    }
    let mut results = Vec::new();
    let mut version = String::new();
    let mut recorder = opts.record.then(|| {
        let mut r = Recorder::new(opts.seed);
        r.header(json!({}));
        r
    });
    for (name, job) in jobs {
        let (result, v) = run_job(opts, &name, job, recorder.as_mut())?;
        if version.is_empty() {
            version = v;
        }
        on_trace(&result);
        results.push(result);
    }
    let count = |f: fn(&Outcome) -> bool| results.iter().filter(|r| f(&r.outcome)).count();
    let mut rerun = format!(
        "plasma-check conform --random {} --seed {} --steps {}",
        opts.random, opts.seed, opts.steps
    );
    if opts.protocol != Protocol::replicache() {
        rerun.push_str(&format!(" --protocol {}", opts.protocol.name()));
    }
    if let Some(c) = opts.case {
        rerun.push_str(&format!(" --case {c}"));
    }
    match &opts.traces {
        _ if opts.case.is_some() => {}
        None => rerun.push_str(" --traces none"),
        Some(dir) if *dir == default_traces_dir() => {}
        Some(dir) => rerun.push_str(&format!(" --traces {}", dir.display())),
    }
    Ok(Report {
        protocol: opts.protocol.name().to_string(),
        replicache: version,
        seed: opts.seed,
        random: opts.random,
        steps_per_random_trace: opts.steps,
        traces_run: results.len(),
        agreed: count(|o| *o == Outcome::Agreed),
        diverged: count(|o| matches!(o, Outcome::Diverged { .. })),
        skipped: count(|o| matches!(o, Outcome::Skipped { .. })),
        steps_run: results.iter().map(|r| r.steps).sum(),
        results,
        rerun,
        history: recorder.map(Recorder::finish),
    })
}

enum Job {
    /// A trace recorded under another protocol (a snapshot): its actions are translated to the
    /// replicache profile as they run.
    Foreign(Trace),
    /// Actions of the replicache profile itself.
    Profile {
        config: Config,
        actions: Vec<Action>,
        adapter_seed: u32,
    },
}

/// What a step of a translated trace becomes under the replicache profile.
enum Mapped {
    Run(Action),
    /// A Push with nothing pending: the model has no such step, the client must send nothing.
    PushNothing(u8),
    /// A delivery or drop of a message that does not exist under the profile: left out.
    Omit(String),
}

/// Why a run stopped early.
enum Stop {
    Skip(String),
    Diverge {
        what: String,
        model: Value,
        real: Value,
    },
}

fn diverge(what: impl Into<String>, model: Value, real: Value) -> Stop {
    Stop::Diverge {
        what: what.into(),
        model,
        real,
    }
}

fn run_job(
    opts: &Options,
    name: &str,
    job: Job,
    record: Option<&mut Recorder>,
) -> Result<(TraceResult, String), String> {
    let (config, adapter_seed) = match &job {
        Job::Foreign(t) => (t.config.clone(), name_adapter_seed(name)),
        Job::Profile {
            config,
            adapter_seed,
            ..
        } => (config.clone(), *adapter_seed),
    };
    let result = |steps, outcome, trace, notes| TraceResult {
        name: name.to_string(),
        steps,
        adapter_seed,
        outcome,
        notes,
        profile_trace: trace,
    };
    let skipped = |reason: String| {
        Ok((
            result(0, Outcome::Skipped { reason }, None, Vec::new()),
            String::new(),
        ))
    };
    // A foreign trace first runs under its own protocol: its messages get their meaning there.
    let wanted: Vec<Action> = match &job {
        Job::Foreign(t) => match t.run() {
            Ok(run) => run.actions,
            Err(e) => return skipped(format!("does not replay: {e}")),
        },
        Job::Profile { actions, .. } => actions.clone(),
    };
    if let Err(e) = config.validate() {
        return skipped(format!("bad config: {e}"));
    }
    let setup = profile_setup(&config, &opts.protocol);
    let mut runner = Runner::start(opts, setup.clone(), adapter_seed)?;
    let version = runner.version.clone();
    let mut outcome = Outcome::Agreed;
    let mut steps = 0;
    let mut notes = Vec::new();
    if let Err(stop) = runner.begin() {
        outcome = stop_outcome(stop, 0, "the tabs open".into());
    }
    if outcome == Outcome::Agreed {
        for (i, a) in wanted.into_iter().enumerate() {
            let step = i + 1;
            let mapped = match &job {
                Job::Foreign(_) => runner.translate(step, &a),
                Job::Profile { .. } => Ok(Mapped::Run(a)),
            };
            let done = match mapped {
                Err(reason) => {
                    outcome = Outcome::Skipped { reason };
                    break;
                }
                Ok(Mapped::Omit(why)) => {
                    notes.push(format!("step {step}: {why}"));
                    continue;
                }
                Ok(Mapped::PushNothing(tab)) => {
                    notes.push(format!(
                        "step {step}: Push from tab {tab} has nothing to send (a group push already carried every pending mutation): the client must send nothing"
                    ));
                    steps = step;
                    runner.push_nothing(tab)
                }
                Ok(Mapped::Run(action)) => {
                    steps = step;
                    runner.step(step, &action)
                }
            };
            if let Err(stop) = done {
                let text = runner.last_text.clone();
                outcome = stop_outcome(stop, step, text);
                break;
            }
        }
    }
    if let Outcome::Skipped { .. } = outcome {
        steps = 0;
        notes.clear();
    }
    let trace = Trace::encode(&setup, &runner.taken).ok();
    if let Some(rec) = record {
        // Each trace starts from a fresh server (and its own rows' owners).
        rec.clear_with(server::history_owners(&config));
        for line in runner.wire.close() {
            rec.raw(line);
        }
    }
    runner.finish();
    Ok((result(steps, outcome, trace, notes), version))
}

fn stop_outcome(stop: Stop, step: usize, action: String) -> Outcome {
    match stop {
        Stop::Skip(reason) => Outcome::Skipped {
            reason: if step == 0 {
                reason
            } else {
                format!("step {step}: {reason}")
            },
        },
        Stop::Diverge { what, model, real } => Outcome::Diverged {
            step,
            action,
            what,
            model,
            real,
        },
    }
}

/// The Node adapter: one JSON command per line, one JSON reply per line.
pub struct Adapter {
    child: Child,
    stdin: Option<ChildStdin>,
    stdout: BufReader<ChildStdout>,
    stderr: Arc<Mutex<String>>,
}

impl Adapter {
    fn spawn(opts: &Options, seed: u32) -> Result<Adapter, String> {
        let args = ["--seed".to_string(), seed.to_string()];
        Adapter::spawn_script(&opts.node, &opts.adapter_dir, "adapter.mjs", &args)
    }

    /// Starts `node DIR/SCRIPT ARGS...` in DIR.
    fn spawn_script(
        node: &str,
        dir: &Path,
        script: &str,
        args: &[String],
    ) -> Result<Adapter, String> {
        let mut child = Command::new(node)
            .arg(dir.join(script))
            .args(args)
            .current_dir(dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot start {node}: {e}"))?;
        let stdin = child.stdin.take();
        let stdout = child
            .stdout
            .take()
            .map(BufReader::new)
            .ok_or("the adapter has no stdout")?;
        let stderr = Arc::new(Mutex::new(String::new()));
        if let Some(mut err) = child.stderr.take() {
            let sink = Arc::clone(&stderr);
            std::thread::spawn(move || {
                let mut buf = String::new();
                let _ = err.read_to_string(&mut buf);
                if let Ok(mut s) = sink.lock() {
                    s.push_str(&buf);
                }
            });
        }
        Ok(Adapter {
            child,
            stdin,
            stdout,
            stderr,
        })
    }

    /// Sends a command and returns its reply; an adapter that died is an error.
    fn send(&mut self, cmd: Value) -> Result<Value, String> {
        let line = cmd.to_string();
        let dead = |me: &mut Adapter, why: String| {
            let _ = me.child.kill();
            let _ = me.child.wait();
            let err = me.stderr.lock().map(|s| s.clone()).unwrap_or_default();
            format!("the adapter failed ({why}) on {line}: {}", err.trim())
        };
        let Some(stdin) = self.stdin.as_mut() else {
            return Err(dead(self, "stdin closed".into()));
        };
        if let Err(e) = writeln!(stdin, "{line}").and_then(|_| stdin.flush()) {
            return Err(dead(self, e.to_string()));
        }
        let mut reply = String::new();
        match self.stdout.read_line(&mut reply) {
            Ok(0) => Err(dead(self, "it exited".into())),
            Ok(_) => serde_json::from_str(&reply)
                .map_err(|e| format!("the adapter replied {reply:?}: {e}")),
            Err(e) => Err(dead(self, e.to_string())),
        }
    }

    fn finish(&mut self) {
        self.stdin.take();
        let _ = self.child.wait();
    }
}

impl Drop for Adapter {
    fn drop(&mut self) {
        if self.stdin.take().is_some() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// The model and the client in lockstep.
struct Runner {
    setup: Setup,
    world: World,
    numbering: Numbering,
    adapter: Adapter,
    version: String,
    /// Model clientID -> Replicache clientID.
    clients: BTreeMap<u8, String>,
    /// Installation -> Replicache clientGroupID.
    groups: BTreeMap<u8, String>,
    /// Model message number (a request, or the response it got) -> the client's request number.
    req_of: BTreeMap<u32, u64>,
    /// Requests the client issued that no model message has matched yet.
    issued: Vec<Value>,
    /// The profile actions run so far.
    taken: Vec<Action>,
    /// Readable text of the last step.
    last_text: String,
    /// The client's wire traffic so far.
    wire: WireLog,
}

/// The client's requests and the responses it got, as history lines: a request is invoked at
/// the command that issued it and completes at the one that answered it (times count adapter
/// commands); a request the network dropped never completes (the client cannot tell whether
/// the server saw it).
#[derive(Default)]
struct WireLog {
    /// Adapter commands so far: the clock.
    tick: u64,
    /// The protocol's server refuses signed-out pushes.
    refuse_signed_out: bool,
    /// Client request number -> its line, waiting for a response.
    open: BTreeMap<u64, Value>,
    lines: Vec<Value>,
}

impl WireLog {
    fn issued(&mut self, r: &Value) {
        let (Some(req), Some(kind)) = (r["req"].as_u64(), r["kind"].as_str()) else {
            return;
        };
        let line = json!({"op": kind, "wire": "replicache", "invoke": self.tick,
                          "request": r["body"]});
        self.open.insert(req, line);
    }

    /// The user the server serves a request as (the installation's login, which the client
    /// does not send).
    fn served_as(&mut self, req: u64, user: Option<u8>) {
        if let Some(line) = self.open.get_mut(&req) {
            line["user"] = json!(user.map(|u| format!("u{u}")));
        }
    }

    /// Every line, requests never answered included (they never completed).
    fn close(&mut self) -> Vec<Value> {
        let open: Vec<u64> = self.open.keys().copied().collect();
        for req in open {
            self.answered(req, None);
        }
        std::mem::take(&mut self.lines)
    }

    fn answered(&mut self, req: u64, response: Option<Value>) {
        if let Some(mut line) = self.open.remove(&req) {
            if let Some(r) = response {
                line["complete"] = json!(self.tick);
                line["response"] = r;
                // The model's server refuses a signed-out push whole: an HTTP 401, though the
                // runner hands the client its empty push response all the same.
                if self.refuse_signed_out && line["op"] == "push" && line["user"].is_null() {
                    line["status"] = json!(401);
                }
            }
            self.lines.push(line);
        }
    }
}

fn open_options() -> Value {
    // pushDelay: no push is sent by itself (no time passes anyway); every mutator the model's
    // tables need: set (last write wins), max (resolveConflict keeps the larger), incr (counter).
    json!({"pushDelay": 1_000_000_000u64, "mutators": ["set", "incr", "max"]})
}

fn key(row: u8) -> String {
    format!("r{row}")
}

fn cookie_json(cookie: Option<u8>, user: Option<u8>) -> Value {
    match cookie {
        None => Value::Null,
        Some(v) => json!({"order": v, "user": user}),
    }
}

impl Runner {
    fn start(opts: &Options, setup: Setup, seed: u32) -> Result<Runner, String> {
        let mut adapter = Adapter::spawn(opts, seed)?;
        let v = adapter.send(json!({"cmd": "version"}))?;
        let version = v["replicache"].as_str().unwrap_or("?").to_string();
        let world = World::init(&setup);
        let numbering = Numbering::start(&world);
        let refuse_signed_out =
            setup.protocol.signed_out_push == plasma_model::SignedOutPush::Refuse;
        Ok(Runner {
            setup,
            world,
            numbering,
            adapter,
            version,
            clients: BTreeMap::new(),
            groups: BTreeMap::new(),
            req_of: BTreeMap::new(),
            issued: Vec::new(),
            taken: Vec::new(),
            last_text: String::new(),
            wire: WireLog {
                refuse_signed_out,
                ..WireLog::default()
            },
        })
    }

    fn finish(mut self) {
        self.adapter.finish();
    }

    /// Sends a command; an error reply is a divergence (the client refused what the model
    /// did), an adapter failure is reported the same way.
    fn cmd(&mut self, cmd: Value) -> Result<Value, Stop> {
        let reply = match self.adapter.send(cmd.clone()) {
            Ok(r) => r,
            Err(e) => return Err(diverge(e, cmd, Value::Null)),
        };
        self.wire.tick += 1;
        if let Some(p) = reply["pending"].as_array() {
            for r in p {
                self.wire.issued(r);
            }
            self.issued.extend(p.iter().cloned());
        }
        if let Some(events) = reply["events"].as_array() {
            for e in events {
                let t = e["type"].as_str().unwrap_or("");
                if matches!(
                    t,
                    "unhandled_rejection" | "network_attempt_blocked" | "timer_error"
                ) {
                    return Err(diverge(format!("the adapter reported {t}"), cmd, e.clone()));
                }
            }
        }
        if reply["ok"] != Value::Bool(true) {
            return Err(diverge(
                format!(
                    "the client refused a command the model accepted: {}",
                    reply["error"].as_str().unwrap_or("?")
                ),
                cmd,
                reply,
            ));
        }
        Ok(reply)
    }

    /// Opens the initial tabs (tab `i` on installation `i`) and matches their pulls.
    fn begin(&mut self) -> Result<(), Stop> {
        for t in 0..self.setup.config.installs {
            let reply = self.cmd(
                json!({"cmd": "open", "tab": t, "idb": format!("i{t}"), "options": open_options()}),
            )?;
            self.learn_open(t, &reply, &self.world.clone())?;
        }
        let first = 0;
        self.match_requests(first, None)?;
        self.compare_tabs()
    }

    /// The replicache-profile action for a step of a trace recorded under another protocol:
    /// the same action, with a delivery or drop naming the oldest message in flight of the
    /// same kind and tab (numbers differ: a group push sends one request where a slice push
    /// sent several, and every open pulls).
    fn translate(&self, step: usize, a: &Action) -> Result<Mapped, String> {
        let resolve = |m: &Msg, verb: &str, make: fn(Msg) -> Action| {
            match self
                .numbering
                .in_flight()
                .find(|(_, x)| x.kind() == m.kind() && x.tab() == m.tab())
            {
                Some((_, x)) => Mapped::Run(make(x.clone())),
                None => Mapped::Omit(format!(
                    "{verb} of a {} of tab {} left out: none is in flight under the replicache profile (its request was queued, or sent nothing)",
                    m.kind(),
                    m.tab()
                )),
            }
        };
        if let Action::Push { tab } = a {
            if let Err(plasma_model::Refusal::NothingToPush(_)) = self.world.step(&self.setup, a) {
                return Ok(Mapped::PushNothing(*tab));
            }
        }
        Ok(match a {
            Action::ResetLocalState { .. } => return Err(format!(
                "step {step}: ResetLocalState: Replicache 15 has no resetLocalState() (its reset is ClientStateNotFound, which forks a new client group)"
            )),
            Action::Duplicate(_) => return Err(format!(
                "step {step}: Duplicate: the replicache profile has no network duplicates (one HTTP response per request)"
            )),
            Action::Deliver(m) => resolve(m, "Deliver", Action::Deliver),
            Action::Drop(m) => resolve(m, "Drop", Action::Drop),
            other => Mapped::Run(other.clone()),
        })
    }

    /// A Push the model cannot take (nothing pending): the client must send nothing either.
    fn push_nothing(&mut self, tab: u8) -> Result<(), Stop> {
        self.last_text = format!("tab {tab} pushes with nothing pending");
        let next = self.numbering.next_number();
        self.cmd(json!({"cmd": "push", "tab": tab}))?;
        self.match_requests(next, None)?;
        self.compare_tabs()
    }

    fn client_name(&self, c: u8) -> String {
        self.clients
            .get(&c)
            .cloned()
            .unwrap_or_else(|| format!("plasma-c{c}"))
    }

    /// Records the clientID (and group) a tab instance got from `open` or `reload`.
    fn learn_open(&mut self, tab: u8, reply: &Value, after: &World) -> Result<(), Stop> {
        let t = &after.tabs[usize::from(tab)];
        let real = reply["clientID"].as_str().unwrap_or("").to_string();
        if let Some(known) = self.clients.get(&t.client) {
            if *known != real {
                return Err(diverge(
                    format!(
                        "tab {tab} is model clientID c{} again, the client minted another",
                        t.client
                    ),
                    json!(known),
                    json!(real),
                ));
            }
        }
        if let Some((c, _)) = self
            .clients
            .iter()
            .find(|(c, r)| **r == real && **c != t.client)
        {
            return Err(diverge(
                format!("tab {tab}: the client reused the clientID of model c{c}"),
                json!(format!("c{}", t.client)),
                json!(real),
            ));
        }
        self.clients.insert(t.client, real);
        let group = reply["clientGroupID"].as_str().unwrap_or("").to_string();
        match self.groups.get(&t.install) {
            Some(g) if *g != group => {
                return Err(diverge(
                    format!("tab {tab} joined another client group than its installation's"),
                    json!(g),
                    json!(group),
                ))
            }
            _ => {
                self.groups.insert(t.install, group);
            }
        }
        Ok(())
    }

    fn step(&mut self, step: usize, action: &Action) -> Result<(), Stop> {
        let before = self.world.clone();
        let after = before.step(&self.setup, action).map_err(|e| {
            Stop::Skip(format!(
                "{} not allowed under the replicache profile: {e}",
                action.name()
            ))
        })?;
        let number = match action {
            Action::Deliver(m) | Action::Drop(m) => self.numbering.number_of(m),
            _ => None,
        };
        let text = describe::step(&before, action, &after);
        self.last_text = match number {
            Some(n) => format!("{text} [msg {n}]"),
            None => text,
        };
        self.taken.push(action.clone());
        let first_new = self.numbering.next_number();
        let acting = self.drive(&before, action, &after, number)?;
        self.world = after;
        // An idle browser: the tab that changed persists; the others of its installation
        // refresh from storage.
        if let Some(t) = acting {
            let install = self.world.tabs[usize::from(t)].install;
            if self.world.tabs[usize::from(t)].is_open() {
                self.cmd(json!({"cmd": "persist", "tab": t}))?;
                let others: Vec<u8> = self
                    .world
                    .open_tabs_of(install)
                    .map(|(o, _)| o)
                    .filter(|&o| o != t)
                    .collect();
                for o in others {
                    self.cmd(json!({"cmd": "refresh", "tab": o}))?;
                }
            }
        }
        self.numbering
            .advance(step, number, &before, action, &self.world);
        self.match_requests(first_new, number)?;
        self.compare_tabs()
    }

    /// The client side of a step; returns the tab whose memory changed.
    fn drive(
        &mut self,
        before: &World,
        action: &Action,
        after: &World,
        number: Option<u32>,
    ) -> Result<Option<u8>, Stop> {
        let config = self.setup.config.clone();
        match action {
            Action::Mutate { tab, op } => {
                let (name, args) = match (*op, auth::table(&config, op.row())) {
                    (Op::Set { row, value }, Table::Max) => {
                        ("max", json!({"key": key(row), "value": value}))
                    }
                    (Op::Set { row, value }, _) => {
                        ("set", json!({"key": key(row), "value": value}))
                    }
                    (Op::Incr { row }, _) => ("incr", json!({"key": key(row)})),
                };
                let reply =
                    self.cmd(json!({"cmd": "mutate", "tab": tab, "name": name, "args": args}))?;
                let Some(c) = after.history.created.last() else {
                    return Ok(Some(*tab));
                };
                let model = json!({"clientID": self.client_name(c.client), "mutationID": c.mid});
                let real =
                    json!({"clientID": reply["clientID"], "mutationID": reply["mutationID"]});
                if model != real {
                    return Err(diverge("the mutation got another identity", model, real));
                }
                Ok(Some(*tab))
            }
            Action::Push { tab } => {
                self.cmd(json!({"cmd": "push", "tab": tab}))?;
                Ok(None)
            }
            Action::Pull { tab } => {
                self.cmd(json!({"cmd": "pull", "tab": tab}))?;
                Ok(None)
            }
            Action::Reload { tab } => {
                let reply = self.cmd(json!({"cmd": "reload", "tab": tab}))?;
                self.learn_open(*tab, &reply, after)?;
                Ok(None)
            }
            Action::OpenTab { .. } | Action::DuplicateTab { .. } | Action::RestoreTab { .. } => {
                // Replicache keeps nothing in sessionStorage: a duplicated or restored tab is
                // a new instance, like a new tab.
                let new = before.tabs.len() as u8;
                let install = after.tabs[usize::from(new)].install;
                let reply = self.cmd(json!({"cmd": "open", "tab": new, "idb": format!("i{install}"), "options": open_options()}))?;
                self.learn_open(new, &reply, after)?;
                Ok(None)
            }
            Action::CloseTab { tab } => {
                self.cmd(json!({"cmd": "close", "tab": tab}))?;
                Ok(None)
            }
            // The login cookie is the app's: Replicache never sees it, only the server does.
            Action::Logout { .. } | Action::Login { .. } => Ok(None),
            Action::Deliver(m) => match m {
                // The server handles it: nothing reaches the client yet.
                Msg::PushReq { .. } | Msg::PullReq { .. } => Ok(None),
                Msg::PushResp { tab, .. } => {
                    let req = self.req(number, m)?;
                    self.cmd(json!({"cmd": "respond", "req": req, "response": {}}))?;
                    self.wire.answered(req, Some(json!({})));
                    // A push reply changes nothing the client keeps (a queued push may go out).
                    let _ = tab;
                    Ok(None)
                }
                Msg::PullResp { tab, .. } => {
                    let req = self.req(number, m)?;
                    let response = self.pull_response(m);
                    self.cmd(json!({"cmd": "respond", "req": req, "response": response}))?;
                    self.wire.answered(req, Some(response));
                    Ok(Some(*tab))
                }
            },
            Action::Drop(m) => {
                let req = self.req(number, m)?;
                self.cmd(json!({"cmd": "respond", "req": req, "fail": "dropped by the network"}))?;
                self.wire.answered(req, None);
                Ok(None)
            }
            Action::ResetLocalState { .. } | Action::Duplicate(_) => Err(Stop::Skip(format!(
                "{} cannot be expressed against the real client",
                action.name()
            ))),
        }
    }

    /// The client's request behind a model message.
    fn req(&self, number: Option<u32>, m: &Msg) -> Result<u64, Stop> {
        number
            .and_then(|n| self.req_of.get(&n).copied())
            .ok_or_else(|| {
                diverge(
                    format!("no client request stands behind {}", describe::msg(m)),
                    json!(number),
                    Value::Null,
                )
            })
    }

    fn pull_response(&self, m: &Msg) -> Value {
        let Msg::PullResp {
            user,
            cookie,
            patch,
            last_mutation_ids,
            ..
        } = m
        else {
            return Value::Null;
        };
        let mut lmids = Map::new();
        for &(c, mid) in last_mutation_ids.iter() {
            lmids.insert(self.client_name(c), json!(mid));
        }
        let mut ops = Vec::new();
        if let Patch::Reset(_) = patch {
            ops.push(json!({"op": "clear"}));
        }
        for &(r, v) in patch.rows() {
            ops.push(json!({"op": "put", "key": key(r), "value": v}));
        }
        json!({"cookie": cookie_json(Some(*cookie), *user), "lastMutationIDChanges": lmids, "patch": ops})
    }

    /// Pairs the requests the model sent in this step with those the client issued, in order
    /// per (kind, tab), and compares them; a response takes its request's number.
    fn match_requests(&mut self, first_new: u32, delivered: Option<u32>) -> Result<(), Stop> {
        for n in first_new..self.numbering.next_number() {
            let Some(m) = self.numbering.message(n).cloned() else {
                continue;
            };
            match &m {
                Msg::PushResp { .. } | Msg::PullResp { .. } => {
                    if let Some(req) = delivered.and_then(|d| self.req_of.get(&d).copied()) {
                        self.req_of.insert(n, req);
                    }
                }
                Msg::PushReq { tab, .. } | Msg::PullReq { tab, .. } => {
                    let kind = if m.is_push() { "push" } else { "pull" };
                    let found = self
                        .issued
                        .iter()
                        .position(|r| r["kind"] == json!(kind) && r["tab"] == json!(tab));
                    let Some(i) = found else {
                        return Err(diverge(
                            format!("the model sent a {kind} request from tab {tab}, the client sent none"),
                            json!(describe::msg(&m)),
                            json!(self.issued),
                        ));
                    };
                    let r = self.issued.remove(i);
                    self.compare_request(&m, &r)?;
                    if let Some(req) = r["req"].as_u64() {
                        self.req_of.insert(n, req);
                        if let Msg::PushReq { user, .. } | Msg::PullReq { user, .. } = &m {
                            self.wire.served_as(req, *user);
                        }
                    }
                }
            }
        }
        if let Some(r) = self.issued.first() {
            return Err(diverge(
                format!(
                    "the client sent a {} request from tab {} that the model did not",
                    r["kind"].as_str().unwrap_or("?"),
                    r["tab"]
                ),
                Value::Null,
                r.clone(),
            ));
        }
        Ok(())
    }

    fn compare_request(&self, m: &Msg, r: &Value) -> Result<(), Stop> {
        let body = &r["body"];
        let (model, real) = match m {
            Msg::PushReq {
                group, mutations, ..
            } => {
                let ms: Vec<Value> = mutations
                    .iter()
                    .map(|p| json!([self.client_name(p.client), p.mid]))
                    .collect();
                let real_ms: Vec<Value> = body["mutations"]
                    .as_array()
                    .map(|a| a.iter().map(|x| json!([x["clientID"], x["id"]])).collect())
                    .unwrap_or_default();
                (
                    json!({"clientGroupID": self.groups.get(group), "mutations": ms}),
                    json!({"clientGroupID": body["clientGroupID"], "mutations": real_ms}),
                )
            }
            Msg::PullReq {
                group,
                cookie,
                cookie_user,
                ..
            } => (
                json!({"clientGroupID": self.groups.get(group), "cookie": cookie_json(*cookie, *cookie_user)}),
                json!({"clientGroupID": body["clientGroupID"], "cookie": body["cookie"]}),
            ),
            _ => return Ok(()),
        };
        if model != real || r["recovery"] == Value::Bool(true) {
            return Err(diverge(
                format!("the {} request differs", r["kind"].as_str().unwrap_or("?")),
                model,
                real,
            ));
        }
        Ok(())
    }

    /// The client-visible state of every open tab, model against client.
    fn compare_tabs(&mut self) -> Result<(), Stop> {
        let open: Vec<u8> = (0..self.world.tabs.len() as u8)
            .filter(|&t| self.world.tabs[usize::from(t)].is_open())
            .collect();
        for t in open {
            let model = self.model_tab(t);
            let reply = self.cmd(json!({"cmd": "state", "tab": t}))?;
            let pending: Vec<Value> = reply["pendingMutations"]
                .as_array()
                .map(|a| a.iter().map(|x| json!([x["clientID"], x["id"]])).collect())
                .unwrap_or_default();
            let real = json!({
                "tab": t,
                "clientID": reply["clientID"],
                "pending": pending,
                "cookie": reply["cookie"],
                "view": reply["view"],
            });
            if model != real {
                let what = ["clientID", "pending", "cookie", "view"]
                    .into_iter()
                    .filter(|k| model[k] != real[k])
                    .collect::<Vec<_>>()
                    .join(", ");
                return Err(diverge(format!("tab {t} differs in {what}"), model, real));
            }
        }
        Ok(())
    }

    fn model_tab(&self, tab: u8) -> Value {
        let t = &self.world.tabs[usize::from(tab)];
        let inst = &self.world.installs[usize::from(t.install)];
        let pending: Vec<Value> = inst
            .pending_in_order()
            .into_iter()
            .map(|(c, mid, _)| json!([self.client_name(c), mid]))
            .collect();
        let mut view = Map::new();
        for (r, v) in t.view.iter().enumerate() {
            if let Some(v) = v {
                view.insert(key(r as u8), json!(v));
            }
        }
        json!({
            "tab": tab,
            "clientID": self.client_name(t.client),
            "pending": pending,
            "cookie": cookie_json(inst.cookie, inst.base_user),
            "view": view,
        })
    }
}

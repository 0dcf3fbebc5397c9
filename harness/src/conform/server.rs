//! Conformance, server side: the model's server against a real push endpoint, Zero's server
//! library (`@rocicorp/zero/server`, its PushProcessor) on a real Postgres, driven by the node
//! adapter in `harness/conformance/server/`.
//!
//! The model plays the clients and the network from a trace; every push the trace delivers goes
//! to the endpoint too. The model's server is a separate copy (the "shadow"), so a trace recorded
//! under a mutant or a documented flaw still supplies realistic pushes (retries, duplicates,
//! reordering, a gap, pushes after a reset under a new clientID, a denied write, two groups),
//! while the expectation is always the server of the chosen protocol (the `zero` profile by
//! default, or a server mutant's, to show that the comparison has teeth). After each delivery the runner compares:
//!
//! - the response: per mutation `applied`, `error` (a write `auth.write` denies: processed with
//!   no effect), `alreadyProcessed` (at or below the watermark), or the whole push failed as
//!   out of order with the mutations from the gap on left unprocessed; under the hardened
//!   protocol a signed-out request is refused whole (the endpoint processes it: the `zero`
//!   profile's `signed_out_push = process`);
//! - every `(clientGroupID, clientID)`'s `last_mutation_id` as stored in Postgres (a client
//!   with no row is at 0);
//! - every row's value, and the set of mutations recorded with an error result.
//!
//! `--concurrent` goes where the model cannot: it delivers pushes as simultaneous transactions
//! (see [`concurrent`](super::concurrent)).

use super::postgres::Cluster;
use super::{load_traces, Adapter, Outcome, TraceResult};
use crate::history::record::Recorder;
use crate::trace::Trace;
use plasma_model::auth::{self, Table};
use plasma_model::{
    Action, Config, History, Msg, Mutant, Op, Protocol, Pushed, Server, Setup, SignedOutPush,
};
use serde::Serialize;
use serde_json::{json, Value};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// The server adapter's folder in this repository.
pub fn default_adapter_dir() -> PathBuf {
    super::default_adapter_dir().join("server")
}

/// The configuration random server traces are drawn in: two installations, three tabs, each
/// kind of table, a private row, two users who log out and in, drops, network duplicates and a
/// reset, so that pushes arrive retried, duplicated, reordered, under a new clientID and denied.
pub fn random_config() -> Config {
    Config {
        installs: 2,
        tabs: 3,
        rows: 2,
        max_mutations: 10,
        drops: 2,
        duplicates: 3,
        max_in_flight: 6,
        max_resets: 1,
        users: 2,
        private_rows: 1,
        max_rows: 1,
        counter_rows: 1,
        max_auth_changes: 2,
    }
}

#[derive(Clone, Debug)]
pub struct Options {
    pub node: String,
    /// The folder holding `adapter.mjs` and its `node_modules/`.
    pub adapter_dir: PathBuf,
    pub traces: Option<PathBuf>,
    pub random: u64,
    pub seed: u64,
    pub steps: usize,
    pub case: Option<u64>,
    /// The model's protocol: random traces are drawn under it, and the model's server runs
    /// with its switches (`zero`: what Zero's endpoint does; `hardened` diverges where the
    /// profile says it would).
    pub protocol: Protocol,
    /// The model's server: hardened, or with this server-side mutant.
    pub mutant: Option<Mutant>,
    /// Record every push and every read of the tables as a history ([`Report::history`]).
    pub record: bool,
}

/// Checks node, the adapter's dependencies and Postgres; the message says what to do.
pub fn check_environment(node: &str, adapter_dir: &Path) -> Result<String, String> {
    let adapter = adapter_dir.join("adapter.mjs");
    if !adapter.is_file() {
        return Err(format!("{} is missing", adapter.display()));
    }
    if !adapter_dir
        .join("node_modules")
        .join("@rocicorp")
        .join("zero")
        .is_dir()
    {
        return Err(format!(
            "{} has no node_modules: run npm ci --ignore-scripts in harness/conformance/server",
            adapter_dir.display()
        ));
    }
    super::postgres::find_bin()?;
    super::node_version(node)
}

/// The mutator a client registers for an op on a row: `max` for the keep-the-larger table.
fn mutator(config: &Config, op: &Op) -> &'static str {
    match op {
        Op::Incr { .. } => "incr",
        Op::Set { row, .. } if auth::table(config, *row) == Table::Max => "max",
        Op::Set { .. } => "set",
    }
}

fn group_name(g: u8) -> String {
    format!("g{g}")
}

fn client_name(c: u8) -> String {
    format!("c{c}")
}

/// The rows' owners of a configuration, as a history's `owners` (private rows only).
pub fn history_owners(config: &Config) -> Value {
    let owners: serde_json::Map<String, Value> = (0..config.total_rows())
        .filter_map(|r| auth::owner(config, r).map(|u| (format!("r{r}"), json!(format!("u{u}")))))
        .collect();
    Value::Object(owners)
}

/// The `reset` command: each row's table and owner.
fn reset_command(config: &Config, isolation: &str, style: &str, retry: bool) -> Value {
    let rows: Vec<Value> = (0..config.total_rows())
        .map(|r| {
            let table = match auth::table(config, r) {
                Table::Lww => "lww",
                Table::Max => "max",
                Table::Counter => "counter",
            };
            json!({"table": table, "owner": auth::owner(config, r)})
        })
        .collect();
    json!({"cmd": "reset", "rows": rows, "isolation": isolation, "style": style, "retry": retry})
}

fn push_command(config: &Config, group: u8, user: Option<u8>, mutations: &[Pushed]) -> Value {
    let ms: Vec<Value> = mutations
        .iter()
        .map(|m| {
            let value = match m.op {
                Op::Set { value, .. } => value,
                Op::Incr { .. } => 0,
            };
            json!({"client": client_name(m.client), "id": m.mid, "op": mutator(config, &m.op),
                   "row": m.op.row(), "value": value})
        })
        .collect();
    json!({"cmd": "push", "group": group_name(group), "user": user, "mutations": ms})
}

/// The response the model's server gives, in the adapter's reduced form.
fn expected_response(
    protocol: &Protocol,
    shadow: &Server,
    history: &History,
    before: usize,
    group: u8,
    user: Option<u8>,
    mutations: &[Pushed],
) -> Value {
    if user.is_none() && protocol.signed_out_push == SignedOutPush::Refuse {
        // The endpoint answers before any mutation runs (an HTTP 401).
        return json!({"refused": "signed out"});
    }
    let processed = &history.processed[before..];
    let mut results = Vec::new();
    for (i, m) in mutations.iter().enumerate() {
        let outcome = match processed.iter().find(|p| p.serial == m.serial) {
            Some(p) if p.applied => "applied",
            Some(_) => "error",
            // At or below the watermark the server now holds: a retry it skipped.
            None if m.mid <= shadow.last_mutation_id(group, m.client) => "alreadyProcessed",
            // Above it: the request stopped at a gap, here.
            None => {
                let unprocessed: Vec<Value> = mutations[i..]
                    .iter()
                    .map(|m| json!({"client": client_name(m.client), "id": m.mid}))
                    .collect();
                return json!({"failed": "oooMutation", "unprocessed": unprocessed});
            }
        };
        results.push(json!({"client": client_name(m.client), "id": m.mid, "result": outcome}));
    }
    json!({ "results": results })
}

/// The endpoint's response with what the model does not predict (Zero's messages, and the raw
/// wire traffic recorded) left out.
fn comparable_response(real: &Value) -> Value {
    let mut r = real.clone();
    if let Some(o) = r.as_object_mut() {
        o.remove("raw");
    }
    if let Some(results) = r.get_mut("results").and_then(Value::as_array_mut) {
        for x in results {
            if let Some(o) = x.as_object_mut() {
                o.remove("message");
            }
        }
    }
    if let Some(o) = r.as_object_mut() {
        o.remove("message");
    }
    r
}

/// The model server's state in the adapter's `state` form: watermarks above 0 (sorted as
/// [`sorted`] sorts), and rows.
fn expected_state(config: &Config, shadow: &Server) -> (Value, Value) {
    let clients: Vec<Value> = shadow
        .clients
        .iter()
        .filter(|(_, &m)| m > 0)
        .map(|(&(g, c), &m)| json!([group_name(g), client_name(c), m]))
        .collect();
    let rows: Vec<Value> = (0..config.total_rows())
        .map(|r| json!(shadow.rows[usize::from(r)].value))
        .collect();
    (sorted(clients), Value::Array(rows))
}

/// A list in one order whatever order it came in (by its JSON text).
fn sorted(mut list: Vec<Value>) -> Value {
    list.sort_by_key(|x| x.to_string());
    list.dedup();
    Value::Array(list)
}

/// Where the endpoint's tables differ from the model's server: what, the model's, the real.
fn state_differs(
    config: &Config,
    shadow: &Server,
    denied: &[Value],
    state: &Value,
) -> Option<(String, Value, Value)> {
    let (want_clients, want_rows) = expected_state(config, shadow);
    let got_clients = sorted(state["clients"].as_array().cloned().unwrap_or_default());
    if got_clients != want_clients {
        return Some((
            "last_mutation_id per (clientGroupID, clientID) differs".into(),
            want_clients,
            got_clients,
        ));
    }
    if state["rows"] != want_rows {
        return Some(("the rows differ".into(), want_rows, state["rows"].clone()));
    }
    let want_denied = sorted(denied.to_vec());
    let got_denied = sorted(state["errors"].as_array().cloned().unwrap_or_default());
    if got_denied != want_denied {
        return Some((
            "the mutations processed with no effect (an error result) differ".into(),
            want_denied,
            got_denied,
        ));
    }
    None
}

/// One trace's pushes against the endpoint.
fn run_trace(
    adapter: &mut Adapter,
    name: &str,
    setup: &Setup,
    actions: &[Action],
    protocol: &Protocol,
    mutant: Option<Mutant>,
    mut record: Option<&mut Recorder>,
) -> Result<TraceResult, String> {
    let config = &setup.config;
    if let Some(rec) = record.as_deref_mut() {
        rec.clear_with(history_owners(config));
    }
    let server_setup = Setup::mutated(config.clone(), protocol.clone(), mutant);
    let reply = adapter.send(reset_command(config, "read committed", "atomic", false))?;
    if reply.get("ok") != Some(&Value::Bool(true)) {
        return Err(format!("the server adapter could not reset: {reply}"));
    }
    let mut shadow = Server::new(config.total_rows());
    let mut history = History::default();
    // `[group, client, mid]` of every mutation processed with no effect so far.
    let mut denied: Vec<Value> = Vec::new();
    let mut steps = 0;
    let mut deliveries = 0;
    for (i, action) in actions.iter().enumerate() {
        steps = i + 1;
        let Action::Deliver(Msg::PushReq {
            tab,
            group,
            client,
            user,
            mutations,
        }) = action
        else {
            continue;
        };
        deliveries += 1;
        let before = history.processed.len();
        shadow.push(
            &server_setup,
            &mut history,
            *tab,
            *group,
            *client,
            *user,
            mutations,
        );
        for p in history.processed[before..].iter().filter(|p| !p.applied) {
            if let Some(m) = mutations.iter().find(|m| m.serial == p.serial) {
                denied.push(json!([group_name(*group), client_name(m.client), m.mid]));
            }
        }
        let expected = expected_response(
            &server_setup.protocol,
            &shadow,
            &history,
            before,
            *group,
            *user,
            mutations,
        );
        let mut command = push_command(config, *group, *user, mutations);
        if record.is_some() {
            command["record"] = json!(true);
        }
        let real = adapter.send(command)?;
        if let Some(e) = real.get("error") {
            return Err(format!("the server adapter failed on a push: {e}"));
        }
        let step_text = plasma_model::describe::action(action);
        let diverged = |what: String, model: Value, real: Value| TraceResult {
            name: name.to_string(),
            steps,
            adapter_seed: 0,
            outcome: Outcome::Diverged {
                step: steps,
                action: step_text.clone(),
                what,
                model,
                real,
            },
            notes: Vec::new(),
            profile_trace: None,
        };
        if comparable_response(&real) != expected {
            return Ok(diverged("the push response differs".into(), expected, real));
        }
        let state = adapter.send(json!({"cmd": "state", "record": record.is_some()}))?;
        if let Some(rec) = record.as_deref_mut() {
            rec.zero_push(&real["raw"], *user);
            rec.state_read(&state, &[group_name(*group)]);
        }
        if let Some((what, model, real)) = state_differs(config, &shadow, &denied, &state) {
            return Ok(diverged(what, model, real));
        }
    }
    let notes = if deliveries == 0 {
        vec!["no push is delivered".to_string()]
    } else {
        Vec::new()
    };
    Ok(TraceResult {
        name: name.to_string(),
        steps,
        adapter_seed: 0,
        outcome: Outcome::Agreed,
        notes,
        profile_trace: None,
    })
}

#[derive(Clone, Debug, Serialize)]
pub struct Report {
    /// The model's server: `hardened`, or `hardened` with a mutant.
    pub server: String,
    pub zero: String,
    pub postgres: String,
    pub seed: u64,
    pub random: u64,
    pub steps_per_random_trace: usize,
    pub traces_run: usize,
    pub agreed: usize,
    pub diverged: usize,
    pub pushes: usize,
    pub results: Vec<TraceResult>,
    pub rerun: String,
    /// With [`Options::record`]: every push and read of the tables, as a history.
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

    pub fn to_text(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "plasma-check conform --server zero: the {} server against Zero {} on Postgres {} \
             (seed {})\n",
            self.server, self.zero, self.postgres, self.seed
        );
        super::write_rows(&mut s, &self.results);
        let _ = writeln!(
            s,
            "\n{} traces: {} agreed, {} diverged ({} pushes delivered to the endpoint)",
            self.traces_run, self.agreed, self.diverged, self.pushes
        );
        super::write_first_divergence(&mut s, &self.results);
        let _ = writeln!(s, "\nrerun: {}", self.rerun);
        s
    }
}

/// Starts Postgres and the adapter; the adapter is connected to the cluster.
pub fn start(node: &str, adapter_dir: &Path) -> Result<(Cluster, Adapter, String), String> {
    let cluster = Cluster::start()?;
    let args = vec![
        "--socket".to_string(),
        cluster.socket_dir().display().to_string(),
        "--port".to_string(),
        cluster.port.to_string(),
        "--user".to_string(),
        cluster.user.clone(),
        "--database".to_string(),
        "postgres".to_string(),
    ];
    let adapter = Adapter::spawn_script(node, adapter_dir, "adapter.mjs", &args)?;
    let version = zero_version(adapter_dir);
    Ok((cluster, adapter, version))
}

/// The installed `@rocicorp/zero` version.
fn zero_version(adapter_dir: &Path) -> String {
    std::fs::read_to_string(
        adapter_dir
            .join("node_modules")
            .join("@rocicorp")
            .join("zero")
            .join("package.json"),
    )
    .ok()
    .and_then(|t| serde_json::from_str::<Value>(&t).ok())
    .and_then(|v| v["version"].as_str().map(str::to_string))
    .unwrap_or_else(|| "?".to_string())
}

/// Runs every trace the options ask for.
pub fn run(opts: &Options, mut on_trace: impl FnMut(&TraceResult)) -> Result<Report, String> {
    let mut jobs: Vec<(String, Setup, Vec<Action>)> = Vec::new();
    if opts.case.is_none() {
        if let Some(dir) = &opts.traces {
            for (name, trace) in load_traces(dir)? {
                let run = trace_run(&name, &trace)?;
                jobs.push((name, run.0, run.1));
            }
        }
    }
    let cases: Vec<u64> = match opts.case {
        Some(c) => vec![c],
        None => (0..opts.random).collect(),
    };
    let setup = Setup::new(random_config(), opts.protocol.clone());
    for case in cases {
        let actions = super::random_actions_weighted(&setup, opts.seed, case, opts.steps, weight);
        jobs.push((
            format!("random-{}-{case}", opts.seed),
            setup.clone(),
            actions,
        ));
    }
    let (cluster, mut adapter, zero) = start(&opts.node, &opts.adapter_dir)?;
    let mut results = Vec::new();
    let mut pushes = 0;
    let mut recorder = opts.record.then(|| {
        let mut r = Recorder::new(opts.seed);
        r.header(json!({}));
        r
    });
    for (name, setup, actions) in &jobs {
        pushes += actions
            .iter()
            .filter(|a| matches!(a, Action::Deliver(Msg::PushReq { .. })))
            .count();
        let r = run_trace(
            &mut adapter,
            name,
            setup,
            actions,
            &opts.protocol,
            opts.mutant,
            recorder.as_mut(),
        )
        .map_err(|e| format!("{name}: {e}\n{}", cluster.log()))?;
        on_trace(&r);
        results.push(r);
    }
    let _ = adapter.send(json!({"cmd": "quit"}));
    adapter.finish();
    let server = match opts.mutant {
        None => opts.protocol.name().to_string(),
        Some(m) => format!("{} with mutant {}", opts.protocol.name(), m.name()),
    };
    let mut rerun = format!(
        "plasma-check conform --server zero --random {} --seed {} --steps {}",
        opts.random, opts.seed, opts.steps
    );
    if opts.protocol != Protocol::zero() {
        let _ = write!(rerun, " --protocol {}", opts.protocol.name());
    }
    if let Some(m) = opts.mutant {
        let _ = write!(rerun, " --mutant {}", m.name());
    }
    if let Some(c) = opts.case {
        let _ = write!(rerun, " --case {c}");
    }
    match &opts.traces {
        _ if opts.case.is_some() => {}
        None => rerun.push_str(" --traces none"),
        Some(dir) if *dir == super::default_traces_dir() => {}
        Some(dir) => {
            let _ = write!(rerun, " --traces {}", dir.display());
        }
    }
    let agreed = results
        .iter()
        .filter(|r| r.outcome == Outcome::Agreed)
        .count();
    Ok(Report {
        server,
        zero,
        postgres: cluster.version.clone(),
        seed: opts.seed,
        random: opts.random,
        steps_per_random_trace: opts.steps,
        traces_run: results.len(),
        diverged: results.len() - agreed,
        agreed,
        pushes,
        results,
        rerun,
        history: recorder.map(Recorder::finish),
    })
}

/// A trace's setup and model actions, as recorded (its own protocol and mutant).
fn trace_run(name: &str, trace: &Trace) -> Result<(Setup, Vec<Action>), String> {
    let run = trace.run().map_err(|e| format!("{name}: {e}"))?;
    Ok((run.setup, run.actions))
}

/// Relative weights of the action kinds in a random server trace: deliveries of pushes matter
/// most; network duplicates and resets are in (the endpoint sees them as retries and new
/// clients).
fn weight(a: &Action) -> u32 {
    match a {
        Action::Mutate { .. } => 10,
        Action::Push { .. } => 8,
        Action::Pull { .. } => 4,
        Action::Deliver(Msg::PushReq { .. }) => 16,
        Action::Deliver(_) => 10,
        Action::Duplicate(_) => 3,
        Action::Drop(_) => 2,
        Action::Reload { .. } | Action::ResetLocalState { .. } => 1,
        Action::OpenTab { .. }
        | Action::DuplicateTab { .. }
        | Action::CloseTab { .. }
        | Action::RestoreTab { .. } => 1,
        Action::Logout { .. } | Action::Login { .. } => 1,
    }
}

//! Reading a history: JSON Lines of operations in the wire formats servers log (Zero's push,
//! Replicache's push and pull), with invocation and completion times or as Jepsen events. The
//! format is documented in `harness/docs/history.md`; anything this module cannot read is a
//! [`Malformed`] naming its line.

use super::identity::Names;
use serde_json::Value;
use std::collections::HashMap;

/// A history that is not well formed: the line (1-based; 0 when the file cannot be read at
/// all) and what is wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Malformed {
    pub line: usize,
    pub message: String,
}

impl std::fmt::Display for Malformed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

fn bad<T>(line: usize, message: impl Into<String>) -> Result<T, Malformed> {
    Err(Malformed {
        line,
        message: message.into(),
    })
}

/// Which endpoint's format an operation is in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Wire {
    Zero,
    Replicache,
}

/// What a model mutator does to a row; `Opaque` for an application's own mutator.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Effect {
    Opaque,
    Set { row: u32, value: u64 },
    Max { row: u32, value: u64 },
    Incr { row: u32 },
}

impl Effect {
    pub fn row(&self) -> Option<u32> {
        match *self {
            Effect::Opaque => None,
            Effect::Set { row, .. } | Effect::Max { row, .. } | Effect::Incr { row } => Some(row),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mutation {
    pub client: u32,
    pub mid: u64,
    pub name: String,
    pub effect: Effect,
}

/// A mutation's result as a Zero push response reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reported {
    Applied,
    /// `{"error": "app"}`: the mutator threw; the mutation is processed with no effect.
    AppError,
    AlreadyProcessed,
    OutOfOrder,
}

/// What a push's response says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PushOutcome {
    /// No response (a timeout, Jepsen's `info`): it may have taken effect or not.
    Unknown,
    /// A Replicache push answered with success: the model's rules decide every mutation.
    Done,
    /// One result per mutation of the request, in its order.
    Results(Vec<Reported>),
    /// The whole push failed as out of order; these mutations (indices into the request) were
    /// left unprocessed.
    OutOfOrder(Vec<usize>),
    /// Any other failure (an HTTP error, Zero's `PushFailed`, Jepsen's `fail`): no effect.
    Failed,
}

/// A pull response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PullResponse {
    pub cookie: u32,
    /// The cookie's order, where it is a number or has a numeric `order`.
    pub order: Option<i64>,
    pub lmids: Vec<(u32, u64)>,
    pub clear: bool,
    /// `put` rows with their value (`None`: not a number, checked only at protocol level).
    pub puts: Vec<(u32, Option<u64>)>,
    pub dels: Vec<u32>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Body {
    Push {
        wire: Wire,
        mutations: Vec<Mutation>,
        outcome: PushOutcome,
    },
    Pull {
        cookie: Option<u32>,
        response: PullResponse,
    },
}

/// The user a request was served as: signed in as someone (or unknown), or signed out.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum User {
    Unknown,
    SignedOut,
    Id(u32),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Op {
    /// The line of the request (its operation line, or its `invoke` event).
    pub line: usize,
    pub group: u32,
    pub invoke: f64,
    /// `f64::INFINITY` when the operation never completed.
    pub complete: f64,
    pub user: User,
    pub body: Body,
}

impl Op {
    pub fn is_push(&self) -> bool {
        matches!(self.body, Body::Push { .. })
    }
}

/// The application's mutator names, from the header line.
#[derive(Clone, Debug, Default)]
pub struct Header {
    /// Mutator name -> `set`, `max` or `incr`.
    pub mutators: HashMap<String, String>,
}

/// A history as read: its operations in segments (a `clear` line starts a new one: the server
/// was emptied), the names behind every identity, and the header.
#[derive(Clone, Debug, Default)]
pub struct History {
    pub segments: Vec<Vec<Op>>,
    /// Each segment's private rows: row -> owning user (from the header, or its `clear` line).
    pub owners: Vec<HashMap<u32, u32>>,
    pub names: Names,
    pub header: Header,
    /// Whether every mutation's name is a model mutator (data level is possible).
    pub model_mutators: bool,
    /// Operations left out: failed pushes and pulls without a response have no effect.
    pub no_effect: usize,
}

/// The format name a header line may carry.
pub const FORMAT: &str = "plasma-history/1";

/// Reads a JSON Lines history.
pub fn parse(text: &str) -> Result<History, Malformed> {
    parse_lines(text.lines().map(|l| Ok(l.to_string())))
}

/// Reads a JSON Lines history from a file, a line at a time.
pub fn read(path: &std::path::Path) -> Result<History, Malformed> {
    use std::io::BufRead;
    let file = std::fs::File::open(path).or_else(|e| bad(0, format!("cannot read: {e}")))?;
    parse_lines(std::io::BufReader::new(file).lines())
}

/// Reads a JSON Lines history from its lines.
pub fn parse_lines<S: AsRef<str>>(
    lines: impl Iterator<Item = std::io::Result<S>>,
) -> Result<History, Malformed> {
    let mut h = History {
        segments: vec![Vec::new()],
        owners: vec![HashMap::new()],
        model_mutators: true,
        ..History::default()
    };
    // Jepsen events: the open invocation of each process.
    let mut open: HashMap<String, (usize, Value)> = HashMap::new();
    let mut first = true;
    for (i, raw) in lines.enumerate() {
        let line = i + 1;
        let raw = raw.or_else(|e| bad(line, format!("cannot read: {e}")))?;
        let raw = raw.as_ref();
        if raw.trim().is_empty() {
            continue;
        }
        let v: Value =
            serde_json::from_str(raw).or_else(|e| bad(line, format!("not JSON: {e}")))?;
        if !v.is_object() {
            return bad(line, "not a JSON object");
        }
        if first && v.get("format").is_some() {
            first = false;
            read_header(&mut h, &v, line)?;
            continue;
        }
        first = false;
        if v.get("op").and_then(Value::as_str) == Some("clear") {
            if !open.is_empty() {
                return bad(line, "a clear while an operation is open");
            }
            h.segments.push(Vec::new());
            let owners = match v.get("owners") {
                Some(o) => read_owners(&mut h.names, o, line)?,
                None => h.owners.last().cloned().unwrap_or_default(),
            };
            h.owners.push(owners);
            continue;
        }
        if let Some(t) = v.get("type") {
            jepsen_event(&mut h, &mut open, t, v.clone(), line)?;
            continue;
        }
        let invoke = time(&v, "invoke", line)?;
        let complete = match v.get("complete") {
            None | Some(Value::Null) => f64::INFINITY,
            Some(_) => time(&v, "complete", line)?,
        };
        let response = v.get("response").filter(|r| !r.is_null());
        let status = v.get("status").and_then(Value::as_u64).unwrap_or(200);
        let failed = status >= 300;
        add_op(&mut h, &v, line, invoke, complete, response, failed)?;
    }
    // An invocation never completed: indeterminate, as Jepsen's `info`.
    let mut pending: Vec<(usize, Value)> = open.into_values().collect();
    pending.sort_by_key(|(l, _)| *l);
    for (line, inv) in pending {
        add_op(&mut h, &inv, line, line as f64, f64::INFINITY, None, false)?;
    }
    for s in &mut h.segments {
        s.sort_by(|a, b| a.invoke.total_cmp(&b.invoke).then(a.line.cmp(&b.line)));
    }
    Ok(h)
}

fn time(v: &Value, key: &str, line: usize) -> Result<f64, Malformed> {
    match v.get(key).and_then(Value::as_f64) {
        Some(t) if t.is_finite() => Ok(t),
        _ => bad(line, format!("`{key}` must be a number (a time)")),
    }
}

fn read_header(h: &mut History, v: &Value, line: usize) -> Result<(), Malformed> {
    if v["format"].as_str() != Some(FORMAT) {
        return bad(line, format!("the header's format must be \"{FORMAT}\""));
    }
    if let Some(m) = v.get("mutators") {
        let Some(m) = m.as_object() else {
            return bad(line, "`mutators` must map names to set, max or incr");
        };
        for (name, model) in m {
            match model.as_str() {
                Some(x @ ("set" | "max" | "incr")) => {
                    h.header.mutators.insert(name.clone(), x.to_string());
                }
                _ => return bad(line, format!("mutator {name}: must be set, max or incr")),
            }
        }
    }
    if let Some(rows) = v.get("owners") {
        h.owners[0] = read_owners(&mut h.names, rows, line)?;
    }
    Ok(())
}

/// `owners`: row key -> the user it belongs to.
fn read_owners(names: &mut Names, v: &Value, line: usize) -> Result<HashMap<u32, u32>, Malformed> {
    let Some(rows) = v.as_object() else {
        return bad(line, "`owners` must map row keys to users");
    };
    let mut out = HashMap::new();
    for (key, owner) in rows {
        let Some(owner) = owner.as_str() else {
            return bad(line, format!("owner of {key}: a user is a string"));
        };
        out.insert(names.row(key), names.user(owner));
    }
    Ok(out)
}

/// A Jepsen event: `invoke` opens an operation of its process, `ok`, `fail` or `info` closes it.
fn jepsen_event(
    h: &mut History,
    open: &mut HashMap<String, (usize, Value)>,
    t: &Value,
    v: Value,
    line: usize,
) -> Result<(), Malformed> {
    let process = match v.get("process") {
        Some(p) if !p.is_null() => p.to_string(),
        _ => return bad(line, "a Jepsen event needs a `process`"),
    };
    let at = v.get("time").and_then(Value::as_f64).unwrap_or(line as f64);
    match t.as_str() {
        Some("invoke") => {
            if open.contains_key(&process) {
                return bad(
                    line,
                    format!("process {process} invokes while its operation is open"),
                );
            }
            let mut v = v;
            v["invoke"] = serde_json::json!(at);
            open.insert(process, (line, v));
            Ok(())
        }
        Some(kind @ ("ok" | "fail" | "info")) => {
            let Some((start, inv)) = open.remove(&process) else {
                return bad(
                    line,
                    format!("`{kind}` of process {process}, which invoked nothing"),
                );
            };
            let invoke = inv["invoke"].as_f64().unwrap_or(start as f64);
            let response = v.get("response").filter(|r| !r.is_null());
            match kind {
                "ok" => add_op(h, &inv, start, invoke, at, response, false),
                "fail" => add_op(h, &inv, start, invoke, at, None, true),
                _ => add_op(h, &inv, start, invoke, f64::INFINITY, None, false),
            }
        }
        _ => bad(line, "`type` must be invoke, ok, fail or info"),
    }
}

fn user_of(h: &mut History, v: &Value) -> User {
    match v.get("user") {
        None => User::Unknown,
        Some(Value::Null) => User::SignedOut,
        Some(Value::String(s)) => User::Id(h.names.user(s)),
        Some(other) => User::Id(h.names.user(&other.to_string())),
    }
}

fn add_op(
    h: &mut History,
    v: &Value,
    line: usize,
    invoke: f64,
    complete: f64,
    response: Option<&Value>,
    failed: bool,
) -> Result<(), Malformed> {
    let Some(request) = v.get("request").filter(|r| r.is_object()) else {
        return bad(line, "no `request` object");
    };
    let Some(group) = request.get("clientGroupID").and_then(Value::as_str) else {
        return bad(line, "the request has no clientGroupID");
    };
    let group = h.names.group(group, line);
    let user = user_of(h, v);
    let body = match v.get("op").and_then(Value::as_str) {
        Some("push") => {
            let wire = match v.get("wire").and_then(Value::as_str) {
                Some("zero") => Wire::Zero,
                Some("replicache") => Wire::Replicache,
                _ => return bad(line, "`wire` must be zero or replicache"),
            };
            let mutations = read_mutations(h, request, group, line)?;
            let outcome = if failed {
                PushOutcome::Failed
            } else {
                match response {
                    None => PushOutcome::Unknown,
                    Some(r) => push_outcome(h, wire, r, &mutations, line)?,
                }
            };
            if outcome == PushOutcome::Failed {
                // Known not to have happened: nothing to order.
                h.no_effect += 1;
                return Ok(());
            }
            Body::Push {
                wire,
                mutations,
                outcome,
            }
        }
        Some("pull") => {
            let cookie = match request.get("cookie") {
                None | Some(Value::Null) => None,
                Some(c) => Some(h.names.cookie(c)),
            };
            let response = match response {
                Some(r) if !failed && r.get("error").is_none() => read_pull(h, r, group, line)?,
                _ => {
                    // No response, or an error: a pull changes nothing on the server.
                    h.no_effect += 1;
                    return Ok(());
                }
            };
            Body::Pull { cookie, response }
        }
        _ => return bad(line, "`op` must be push, pull or clear"),
    };
    let op = Op {
        line,
        group,
        invoke,
        complete,
        user,
        body,
    };
    if let Some(seg) = h.segments.last_mut() {
        seg.push(op);
    }
    Ok(())
}

fn read_mutations(
    h: &mut History,
    request: &Value,
    group: u32,
    line: usize,
) -> Result<Vec<Mutation>, Malformed> {
    let Some(list) = request.get("mutations").and_then(Value::as_array) else {
        return bad(line, "the push request has no `mutations` list");
    };
    let default_client = request.get("clientID").and_then(Value::as_str);
    let mut out = Vec::with_capacity(list.len());
    for m in list {
        let Some(client) = m.get("clientID").and_then(Value::as_str).or(default_client) else {
            return bad(line, "a mutation has no clientID");
        };
        let Some(mid) = m.get("id").and_then(Value::as_u64) else {
            return bad(line, "a mutation's `id` must be a non-negative integer");
        };
        let name = m
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        let client = h.names.client(client, group, line);
        let effect = effect_of(h, &name, m.get("args"));
        if effect == Effect::Opaque {
            h.model_mutators = false;
        }
        out.push(Mutation {
            client,
            mid,
            name,
            effect,
        });
    }
    Ok(out)
}

/// The model mutator a named mutation runs, with its row and value (`Opaque` if it is none).
fn effect_of(h: &mut History, name: &str, args: Option<&Value>) -> Effect {
    let model = match name {
        "set" | "max" | "incr" => name.to_string(),
        other => match h.header.mutators.get(other) {
            Some(m) => m.clone(),
            None => return Effect::Opaque,
        },
    };
    let args = match args {
        Some(Value::Array(a)) => a.first(),
        other => other,
    };
    let Some(args) = args else {
        return Effect::Opaque;
    };
    let key = match (args.get("key"), args.get("row")) {
        (Some(Value::String(k)), _) => k.clone(),
        (_, Some(Value::Number(n))) => format!("r{n}"),
        _ => return Effect::Opaque,
    };
    let row = h.names.row(&key);
    let value = args.get("value").and_then(Value::as_u64);
    match (model.as_str(), value) {
        ("incr", _) => Effect::Incr { row },
        ("set", Some(value)) => Effect::Set { row, value },
        ("max", Some(value)) => Effect::Max { row, value },
        _ => Effect::Opaque,
    }
}

fn mutation_ids(v: &Value) -> Option<Vec<(String, u64)>> {
    v.as_array()?
        .iter()
        .map(|x| {
            Some((
                x.get("clientID")?.as_str()?.to_string(),
                x.get("id")?.as_u64()?,
            ))
        })
        .collect()
}

fn push_outcome(
    h: &History,
    wire: Wire,
    r: &Value,
    mutations: &[Mutation],
    line: usize,
) -> Result<PushOutcome, Malformed> {
    let index_of = |client: &str, id: u64| {
        let c = h.names.find_client(client)?;
        mutations.iter().position(|m| m.client == c && m.mid == id)
    };
    if let Some(results) = r.get("mutations").and_then(Value::as_array) {
        let mut out = vec![None; mutations.len()];
        for x in results {
            let (Some(client), Some(id)) = (x["id"]["clientID"].as_str(), x["id"]["id"].as_u64())
            else {
                return bad(line, "a result without id.clientID and id.id");
            };
            let Some(i) = index_of(client, id) else {
                return bad(
                    line,
                    format!("a result for {client}#{id}, which the request does not carry"),
                );
            };
            let result = &x["result"];
            out[i] = Some(match result.get("error").and_then(Value::as_str) {
                None => Reported::Applied,
                Some("app") => Reported::AppError,
                Some("alreadyProcessed") => Reported::AlreadyProcessed,
                Some("oooMutation") => Reported::OutOfOrder,
                Some(e) => return bad(line, format!("unknown mutation result error {e:?}")),
            });
        }
        let all: Option<Vec<Reported>> = out.into_iter().collect();
        return match all {
            Some(all) => Ok(PushOutcome::Results(all)),
            None => bad(
                line,
                "the response has no result for some mutation of the request",
            ),
        };
    }
    let ooo = r.get("reason").and_then(Value::as_str) == Some("oooMutation")
        || r.get("error").and_then(Value::as_str) == Some("oooMutation");
    if ooo {
        let ids = mutation_ids(r.get("mutationIDs").unwrap_or(&Value::Null)).unwrap_or_default();
        let mut idx = Vec::new();
        for (c, id) in ids {
            match index_of(&c, id) {
                Some(i) => idx.push(i),
                None => {
                    return bad(
                        line,
                        format!("mutationIDs names {c}#{id}, not in the request"),
                    )
                }
            }
        }
        return Ok(PushOutcome::OutOfOrder(idx));
    }
    if r.get("error").is_some() || r.get("kind").and_then(Value::as_str) == Some("PushFailed") {
        return Ok(PushOutcome::Failed);
    }
    match wire {
        Wire::Replicache => Ok(PushOutcome::Done),
        Wire::Zero => bad(line, "a Zero push response needs `mutations` or a failure"),
    }
}

fn read_pull(
    h: &mut History,
    r: &Value,
    group: u32,
    line: usize,
) -> Result<PullResponse, Malformed> {
    let Some(cookie) = r.get("cookie") else {
        return bad(line, "the pull response has no cookie");
    };
    let order = match cookie {
        Value::Number(n) => n.as_i64(),
        Value::Object(o) => o.get("order").and_then(Value::as_i64),
        _ => None,
    };
    let cookie = h.names.cookie(cookie);
    let mut lmids = Vec::new();
    if let Some(m) = r.get("lastMutationIDChanges") {
        let Some(m) = m.as_object() else {
            return bad(line, "lastMutationIDChanges must map clientIDs to numbers");
        };
        for (client, n) in m {
            let Some(n) = n.as_u64() else {
                return bad(
                    line,
                    format!("lastMutationIDChanges[{client}] is not a number"),
                );
            };
            lmids.push((h.names.client(client, group, line), n));
        }
    }
    let mut resp = PullResponse {
        cookie,
        order,
        lmids,
        clear: false,
        puts: Vec::new(),
        dels: Vec::new(),
    };
    for p in r
        .get("patch")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let key = p.get("key").and_then(Value::as_str);
        match (p.get("op").and_then(Value::as_str), key) {
            (Some("clear"), _) => {
                resp.clear = true;
                resp.puts.clear();
                resp.dels.clear();
            }
            (Some("put"), Some(k)) => {
                let row = h.names.row(k);
                resp.puts.retain(|&(r, _)| r != row);
                resp.puts
                    .push((row, p.get("value").and_then(Value::as_u64)));
            }
            (Some("del"), Some(k)) => {
                let row = h.names.row(k);
                resp.puts.retain(|&(r, _)| r != row);
                resp.dels.push(row);
            }
            _ => {
                return bad(
                    line,
                    "a patch operation must be clear, put or del (with a key)",
                )
            }
        }
    }
    Ok(resp)
}

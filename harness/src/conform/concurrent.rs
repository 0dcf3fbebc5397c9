//! `conform --server zero --concurrent`: pushes delivered as simultaneous transactions, which
//! the model's network (one atomic delivery at a time) cannot express.
//!
//! Each scenario is a batch of pushes the adapter starts at once, each on its own connection,
//! repeated for many rounds on emptied tables. After the batch, every push is delivered once
//! more, one after the other (the client's retry until a pull confirms it). Then the runner
//! checks what the model promises:
//!
//! - **at-most-once**: no mutation is reported applied twice, and the counter equals the number
//!   of increments reported applied;
//! - **no lost mutation**: every mutation is applied exactly once (none of these scenarios writes
//!   a row `auth.write` denies, so an error result is a loss);
//! - **watermark**: each client's `last_mutation_id` ends at its highest mutationID;
//! - **merge**: the keep-the-larger row holds the largest value applied, the last-write-wins row
//!   one of the values applied.
//!
//! It runs under each isolation level, with two kinds of application mutators (one SQL statement
//! that merges under the row lock, or a read of the row followed by a write, as a mutator shared
//! with the client does), and with or without the application retrying a transaction the
//! database aborted for a conflict.

use super::Adapter;
use crate::history::record::Recorder;
use serde::Serialize;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// Rows of the concurrency schema: r0 last-write-wins, r1 keep-the-larger, r2 a counter.
const LWW: u8 = 0;
const MAX: u8 = 1;
const COUNTER: u8 = 2;

#[derive(Clone, Debug, Serialize)]
pub struct Mutation {
    pub client: &'static str,
    pub id: u8,
    pub op: &'static str,
    pub row: u8,
    pub value: u8,
}

#[derive(Clone, Debug, Serialize)]
pub struct Push {
    pub group: &'static str,
    pub mutations: Vec<Mutation>,
}

fn incr(client: &'static str, id: u8) -> Mutation {
    Mutation {
        client,
        id,
        op: "incr",
        row: COUNTER,
        value: 0,
    }
}

fn push(group: &'static str, mutations: Vec<Mutation>) -> Push {
    Push { group, mutations }
}

/// A batch delivered at once.
pub struct Scenario {
    pub name: &'static str,
    pub what: &'static str,
    pub batch: Vec<Push>,
}

/// Copies of one push in the `duplicate` scenario.
pub const COPIES: usize = 4;

pub fn scenarios() -> Vec<Scenario> {
    let one = push("g0", vec![incr("c0", 1)]);
    vec![
        Scenario {
            name: "duplicate",
            what: "one client's push, delivered 4 times at once",
            batch: vec![one.clone(); COPIES],
        },
        Scenario {
            name: "one-group",
            what: "two clients of one group increment the counter",
            batch: vec![one.clone(), push("g0", vec![incr("c1", 1)])],
        },
        Scenario {
            name: "two-groups-counter",
            what: "clients of two groups increment the counter",
            batch: vec![one.clone(), push("g1", vec![incr("c1", 1)])],
        },
        Scenario {
            name: "two-groups-max",
            what: "clients of two groups write 3 and 5 to the keep-the-larger row",
            batch: vec![
                push(
                    "g0",
                    vec![Mutation {
                        client: "c0",
                        id: 1,
                        op: "max",
                        row: MAX,
                        value: 5,
                    }],
                ),
                push(
                    "g1",
                    vec![Mutation {
                        client: "c1",
                        id: 1,
                        op: "max",
                        row: MAX,
                        value: 3,
                    }],
                ),
            ],
        },
        Scenario {
            name: "two-groups-lww",
            what: "clients of two groups write 3 and 5 to the last-write-wins row",
            batch: vec![
                push(
                    "g0",
                    vec![Mutation {
                        client: "c0",
                        id: 1,
                        op: "set",
                        row: LWW,
                        value: 3,
                    }],
                ),
                push(
                    "g1",
                    vec![Mutation {
                        client: "c1",
                        id: 1,
                        op: "set",
                        row: LWW,
                        value: 5,
                    }],
                ),
            ],
        },
        Scenario {
            name: "next-two-pushes",
            what: "a client's next two pushes ([1] and [1, 2]) at once",
            batch: vec![one, push("g0", vec![incr("c0", 1), incr("c0", 2)])],
        },
    ]
}

/// One configuration of the endpoint.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Setting {
    /// `read committed` (Postgres's default) or `serializable`.
    pub isolation: String,
    /// `atomic` (one statement merges under the row lock) or `read-write`.
    pub mutators: String,
    /// The application retries a transaction aborted by a conflict (SQLSTATE 40001, 40P01).
    pub retry: bool,
}

/// What one scenario did in one setting, over every round.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Tally {
    pub scenario: String,
    pub rounds: u32,
    pub deliveries: u64,
    /// Deliveries of a push another delivery of the same batch also carried.
    pub duplicated: u64,
    pub applied: u64,
    pub already_processed: u64,
    /// Error results, by Zero's message.
    pub errors: BTreeMap<String, u64>,
    /// Whole pushes that failed, by reason.
    pub failed: BTreeMap<String, u64>,
    /// Rounds that broke each property.
    pub violations: BTreeMap<String, u64>,
    /// The first violation seen, in words.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub example: Option<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct SettingReport {
    #[serde(flatten)]
    pub setting: Setting,
    pub scenarios: Vec<Tally>,
}

impl SettingReport {
    pub fn violations(&self) -> u64 {
        self.scenarios
            .iter()
            .flat_map(|t| t.violations.values())
            .sum()
    }
}

fn push_json(p: &Push) -> Value {
    json!({"cmd": "push", "group": p.group, "user": 0, "mutations": p.mutations})
}

fn reset(setting: &Setting) -> Value {
    json!({"cmd": "reset", "isolation": setting.isolation, "style": setting.mutators,
           "retry": setting.retry, "pool": 8,
           "rows": [{"table": "lww", "owner": null}, {"table": "max", "owner": null},
                    {"table": "counter", "owner": null}]})
}

/// Runs every scenario `rounds` times in one setting.
pub fn run_setting(
    adapter: &mut Adapter,
    setting: &Setting,
    rounds: u32,
) -> Result<SettingReport, String> {
    run_setting_recorded(adapter, setting, rounds, None)
}

/// The history header of a concurrency run: the mutators are the model's, no row is private.
pub fn history_header() -> Value {
    json!({})
}

/// [`run_setting`], writing every push, retry and final read to `record` as a history: each
/// round after a `clear`, the batch's pushes with the times the adapter measured, the retries,
/// and the read of the tables as one pull from scratch per client group.
pub fn run_setting_recorded(
    adapter: &mut Adapter,
    setting: &Setting,
    rounds: u32,
    mut record: Option<&mut Recorder>,
) -> Result<SettingReport, String> {
    let reply = adapter.send(reset(setting))?;
    if reply.get("ok") != Some(&Value::Bool(true)) {
        return Err(format!("the server adapter could not reset: {reply}"));
    }
    let mut out = Vec::new();
    for scenario in scenarios() {
        let mut tally = Tally {
            scenario: scenario.name.to_string(),
            ..Tally::default()
        };
        let recording = record.is_some();
        let batch: Vec<Value> = scenario
            .batch
            .iter()
            .map(|p| {
                let mut j = push_json(p);
                if recording {
                    j["record"] = json!(true);
                }
                j
            })
            .collect();
        let mut groups: Vec<String> = scenario.batch.iter().map(|p| p.group.to_string()).collect();
        groups.sort();
        groups.dedup();
        for _ in 0..rounds {
            adapter.send(json!({"cmd": "clear"}))?;
            let reply = adapter.send(json!({"cmd": "batch", "pushes": batch}))?;
            let mut responses: Vec<Value> = reply["responses"]
                .as_array()
                .cloned()
                .ok_or_else(|| format!("the server adapter answered a batch with {reply}"))?;
            // The client's retries, one at a time, until every mutation is processed.
            for p in &batch {
                responses.push(adapter.send(p.clone())?);
            }
            let state = adapter.send(json!({"cmd": "state", "record": recording}))?;
            if let Some(rec) = record.as_deref_mut() {
                rec.clear();
                for r in &responses {
                    rec.zero_push(&r["raw"], Some(0));
                }
                rec.state_read(&state, &groups);
            }
            tally.rounds += 1;
            tally.deliveries += responses.len() as u64;
            tally.duplicated += duplicated(&scenario.batch);
            judge(&scenario, &responses, &state, &mut tally);
        }
        out.push(tally);
    }
    Ok(SettingReport {
        setting: setting.clone(),
        scenarios: out,
    })
}

/// Deliveries in a batch that repeat a push of the same batch.
fn duplicated(batch: &[Push]) -> u64 {
    let mut seen: Vec<String> = Vec::new();
    let mut dup = 0;
    for p in batch {
        let key = serde_json::to_string(p).unwrap_or_default();
        if seen.contains(&key) {
            dup += 1;
        } else {
            seen.push(key);
        }
    }
    dup
}

/// (client, id) -> times reported applied; (client, id) -> the error result that came back.
type Results = (
    BTreeMap<(String, u64), u64>,
    BTreeMap<(String, u64), String>,
);

/// Counts the responses into the tally, and what each mutation got.
fn count(responses: &[Value], tally: &mut Tally) -> Results {
    let mut applied: BTreeMap<(String, u64), u64> = BTreeMap::new();
    let mut errored: BTreeMap<(String, u64), String> = BTreeMap::new();
    for r in responses {
        if let Some(results) = r["results"].as_array() {
            for x in results {
                let key = (
                    x["client"].as_str().unwrap_or("?").to_string(),
                    x["id"].as_u64().unwrap_or(0),
                );
                match x["result"].as_str().unwrap_or("?") {
                    "applied" => {
                        tally.applied += 1;
                        *applied.entry(key).or_default() += 1;
                    }
                    "alreadyProcessed" => tally.already_processed += 1,
                    other => {
                        let message = x["message"].as_str().unwrap_or(other).to_string();
                        *tally.errors.entry(message.clone()).or_default() += 1;
                        errored.insert(key, message);
                    }
                }
            }
        } else {
            let reason = r["failed"]
                .as_str()
                .or(r["refused"].as_str())
                .unwrap_or("unknown")
                .to_string();
            *tally.failed.entry(reason).or_default() += 1;
        }
    }
    (applied, errored)
}

/// Counts the responses and checks the round's properties.
fn judge(scenario: &Scenario, responses: &[Value], state: &Value, tally: &mut Tally) {
    let (applied, errored) = count(responses, tally);
    let mut broken: Vec<(&str, String)> = Vec::new();
    let mutations: Vec<&Mutation> = {
        let mut all: Vec<&Mutation> = scenario.batch.iter().flat_map(|p| &p.mutations).collect();
        all.sort_by_key(|m| (m.client, m.id));
        all.dedup_by_key(|m| (m.client, m.id));
        all
    };
    for m in &mutations {
        let key = (m.client.to_string(), u64::from(m.id));
        let n = applied.get(&key).copied().unwrap_or(0);
        if n > 1 {
            broken.push((
                "at-most-once",
                format!("{} mutation {} reported applied {n} times", m.client, m.id),
            ));
        }
        if n == 0 {
            let why = errored.get(&key).map_or("never applied".to_string(), |e| {
                format!("error result: {e}")
            });
            broken.push((
                "no-lost-mutation",
                format!("{} mutation {} lost ({why})", m.client, m.id),
            ));
        }
    }
    let applied_of = |pred: &dyn Fn(&Mutation) -> bool| -> Vec<&Mutation> {
        mutations
            .iter()
            .copied()
            .filter(|m| pred(m) && applied.contains_key(&(m.client.to_string(), u64::from(m.id))))
            .collect()
    };
    let rows = state["rows"].as_array().cloned().unwrap_or_default();
    let row = |r: u8| rows.get(usize::from(r)).and_then(Value::as_u64);
    let increments = applied_of(&|m| m.op == "incr").len() as u64;
    if increments > 0 || row(COUNTER).is_some() {
        let counter = row(COUNTER).unwrap_or(0);
        if counter != increments {
            broken.push((
                "counter",
                format!("the counter is {counter} after {increments} increments reported applied"),
            ));
        }
    }
    let maxes = applied_of(&|m| m.op == "max");
    if let Some(top) = maxes.iter().map(|m| u64::from(m.value)).max() {
        if row(MAX) != Some(top) {
            broken.push((
                "merge",
                format!(
                    "the keep-the-larger row is {}, the largest value applied {top}",
                    shown(row(MAX))
                ),
            ));
        }
    }
    let sets = applied_of(&|m| m.op == "set");
    if !sets.is_empty() && !sets.iter().any(|m| row(LWW) == Some(u64::from(m.value))) {
        broken.push((
            "merge",
            format!(
                "the last-write-wins row is {}, not a value applied",
                shown(row(LWW))
            ),
        ));
    }
    watermarks(&mutations, state, &mut broken);
    record(broken, tally);
}

/// Each client's `last_mutation_id` is its highest mutation.
fn watermarks(mutations: &[&Mutation], state: &Value, broken: &mut Vec<(&str, String)>) {
    let mut highest: BTreeMap<&str, u8> = BTreeMap::new();
    for m in mutations {
        let h = highest.entry(m.client).or_default();
        *h = (*h).max(m.id);
    }
    let lmids: BTreeMap<String, u64> = state["clients"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| Some((c[1].as_str()?.to_string(), c[2].as_u64()?)))
        .collect();
    for (client, h) in highest {
        let got = lmids.get(client).copied().unwrap_or(0);
        if got != u64::from(h) {
            broken.push((
                "watermark",
                format!("{client}'s last_mutation_id is {got}, its highest mutation {h}"),
            ));
        }
    }
}

/// Counts each broken property once per round, and keeps the first example.
fn record(broken: Vec<(&str, String)>, tally: &mut Tally) {
    let mut seen: Vec<&str> = Vec::new();
    for (property, text) in broken {
        if !seen.contains(&property) {
            seen.push(property);
            *tally.violations.entry(property.to_string()).or_default() += 1;
        }
        if tally.example.is_none() {
            tally.example = Some(text);
        }
    }
}

fn shown(v: Option<u64>) -> String {
    v.map_or("empty".to_string(), |v| v.to_string())
}

#[derive(Clone, Debug, Serialize)]
pub struct Report {
    pub zero: String,
    pub postgres: String,
    pub rounds: u32,
    pub duplicated_deliveries: u64,
    pub settings: Vec<SettingReport>,
}

impl Report {
    pub fn exit_code(&self) -> i32 {
        if self.settings.iter().any(|s| s.violations() > 0) {
            crate::exit::VIOLATED
        } else {
            crate::exit::VERIFIED
        }
    }

    pub fn to_text(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "plasma-check conform --server zero --concurrent: Zero {} on Postgres {}, {} rounds \
             per scenario\n",
            self.zero, self.postgres, self.rounds
        );
        for sr in &self.settings {
            let st = &sr.setting;
            let _ = writeln!(
                s,
                "{} isolation, {} mutators, {}: {}",
                st.isolation,
                st.mutators,
                if st.retry {
                    "the application retries conflicts"
                } else {
                    "no retry"
                },
                if sr.violations() == 0 {
                    "every property holds".to_string()
                } else {
                    format!("{} rounds broke a property", sr.violations())
                }
            );
            let _ = writeln!(
                s,
                "  {:20} {:>10} {:>8} {:>9} {:>7} {:>7}  violations",
                "scenario", "deliveries", "applied", "processed", "errors", "failed"
            );
            for t in &sr.scenarios {
                let errors: u64 = t.errors.values().sum();
                let v = if t.violations.is_empty() {
                    "-".to_string()
                } else {
                    t.violations
                        .iter()
                        .map(|(k, n)| format!("{k} {n}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                };
                let failed: u64 = t.failed.values().sum();
                let _ = writeln!(
                    s,
                    "  {:20} {:>10} {:>8} {:>9} {:>7} {:>7}  {v}",
                    t.scenario, t.deliveries, t.applied, t.already_processed, errors, failed
                );
                if let Some(e) = &t.example {
                    let _ = writeln!(s, "  {:20} e.g. {e}", "");
                }
            }
            let _ = writeln!(s);
        }
        let _ = writeln!(
            s,
            "applied, processed (alreadyProcessed), errors: mutation results; failed: whole \
             pushes that failed (the client retries them)"
        );
        let _ = writeln!(
            s,
            "{} duplicated deliveries (copies of a push delivered at the same time)",
            self.duplicated_deliveries
        );
        s
    }
}

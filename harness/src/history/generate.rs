//! Histories whose explanation is known. [`model_history`]: what the model itself does (random
//! steps of `World`, each push and pull the server handles written in the wire formats, with
//! random UUIDs and times that keep the model's order: every operation's interval holds the
//! moment the model took it), for the no-false-alarm tests. [`synthetic`]: large histories
//! from a simulation of each group's server bookkeeping under the same rules, for
//! `history --generate` and the speed measurements.

use super::record::{uuid_from, Recorder};
use crate::random::case_rng;
use plasma_model::auth::{self, Table};
use plasma_model::{Action, Config, Msg, Op as ModelOp, Patch, Pushed, Setup, World};
use rand::Rng;
use serde_json::{json, Map, Value};

/// The mutator the conformance fixture registers for a model op.
pub fn mutator(config: &Config, op: &ModelOp) -> &'static str {
    match op {
        ModelOp::Incr { .. } => "incr",
        ModelOp::Set { row, .. } if auth::table(config, *row) == Table::Max => "max",
        ModelOp::Set { .. } => "set",
    }
}

/// A model cookie on the wire: its version and the user it was issued to (as the Replicache
/// conformance adapter writes it).
fn cookie_json(cookie: Option<u8>, user: Option<u8>) -> Value {
    match cookie {
        None => Value::Null,
        Some(v) => json!({"order": v, "user": user.map(|u| format!("u{u}"))}),
    }
}

/// Relative weights of the actions in a generated model history: deliveries first.
fn weight(a: &Action) -> u32 {
    match a {
        Action::Mutate { .. } => 10,
        Action::Push { .. } | Action::Pull { .. } => 8,
        Action::Deliver(_) => 16,
        Action::Duplicate(_) => 3,
        Action::Drop(_) => 2,
        _ => 1,
    }
}

/// The history of random case `case` of `seed` under `setup`: each push or pull the server
/// handles, with its response, at most `steps` model steps. With `overlap`, operations get
/// random intervals around the moment the model took them (so they overlap), else they follow
/// one another.
pub fn model_history(setup: &Setup, seed: u64, case: u64, steps: usize, overlap: bool) -> String {
    let actions = crate::conform::random_actions_weighted(setup, seed, case, steps, weight);
    let mut rng = case_rng(seed ^ 0x5eed, case);
    let config = &setup.config;
    let mut rec = Recorder::new(rng.gen());
    let owners: Map<String, Value> = (0..config.total_rows())
        .filter_map(|r| auth::owner(config, r).map(|u| (format!("r{r}"), json!(format!("u{u}")))))
        .collect();
    rec.header(json!({"owners": owners}));
    let mut w = World::init(setup);
    let mut t = 0.0f64;
    for a in &actions {
        let Ok(next) = w.step(setup, a) else { break };
        if let Action::Deliver(m) = a {
            t += 1.0;
            let (invoke, complete) = if overlap {
                (t - rng.gen_range(0.0..2.5), t + rng.gen_range(0.0..2.5))
            } else {
                (t - 0.25, t + 0.25)
            };
            match m {
                Msg::PushReq {
                    group,
                    user,
                    mutations,
                    ..
                } => {
                    let (request, response, status) =
                        push_wire(setup, &mut rec, &w, &next, *group, *user, mutations);
                    rec.op(
                        "push", "zero", *user, request, response, status, invoke, complete,
                    );
                }
                Msg::PullReq {
                    tab,
                    group,
                    client,
                    user,
                    cookie,
                    cookie_user,
                } => {
                    let resp = w
                        .server
                        .clone()
                        .pull(setup, (*tab, *group, *client, *user, *cookie, *cookie_user));
                    let request = json!({"clientGroupID": rec.group(*group), "cookie": cookie_json(*cookie, *cookie_user), "pullVersion": 1});
                    let response = pull_wire(&mut rec, &resp);
                    rec.op(
                        "pull",
                        "replicache",
                        *user,
                        request,
                        response,
                        200,
                        invoke,
                        complete,
                    );
                }
                _ => {}
            }
        }
        w = next;
    }
    rec.finish()
}

fn push_wire(
    setup: &Setup,
    rec: &mut Recorder,
    before: &World,
    after: &World,
    group: u8,
    user: Option<u8>,
    mutations: &[Pushed],
) -> (Value, Value, u16) {
    let config = &setup.config;
    let ms: Vec<Value> = mutations
        .iter()
        .map(|m| {
            let value = match m.op {
                ModelOp::Set { value, .. } => value,
                ModelOp::Incr { .. } => 0,
            };
            json!({"type": "custom", "id": m.mid, "clientID": rec.client(m.client),
                   "name": mutator(config, &m.op), "args": [{"row": m.op.row(), "value": value}],
                   "timestamp": 0})
        })
        .collect();
    let request = json!({"clientGroupID": rec.group(group), "pushVersion": 1, "mutations": ms});
    let refused =
        user.is_none() && setup.protocol.signed_out_push == plasma_model::SignedOutPush::Refuse;
    if refused {
        return (request, json!({"error": "unauthorized"}), 401);
    }
    let processed = &after.history.processed[before.history.processed.len()..];
    let mut results = Vec::new();
    for (i, m) in mutations.iter().enumerate() {
        let id = json!({"clientID": rec.client(m.client), "id": m.mid});
        let result = match processed.iter().find(|p| p.serial == m.serial) {
            Some(p) if p.applied => json!({}),
            Some(_) => json!({"error": "app", "message": "auth.write denies it"}),
            None if m.mid <= after.server.last_mutation_id(group, m.client) => {
                json!({"error": "alreadyProcessed"})
            }
            None => {
                let unprocessed: Vec<Value> = mutations[i..]
                    .iter()
                    .map(|m| json!({"clientID": rec.client(m.client), "id": m.mid}))
                    .collect();
                let failed = json!({"kind": "PushFailed", "origin": "server", "reason": "oooMutation",
                                     "message": "out of order", "mutationIDs": unprocessed});
                return (request, failed, 200);
            }
        };
        results.push(json!({"id": id, "result": result}));
    }
    (request, json!({"mutations": results}), 200)
}

fn pull_wire(rec: &mut Recorder, resp: &Msg) -> Value {
    let Msg::PullResp {
        user,
        cookie,
        patch,
        last_mutation_ids,
        ..
    } = resp
    else {
        return Value::Null;
    };
    let mut lmids = Map::new();
    for &(c, n) in last_mutation_ids.iter() {
        lmids.insert(rec.client(c), json!(n));
    }
    let mut ops = Vec::new();
    if let Patch::Reset(_) = patch {
        ops.push(json!({"op": "clear"}));
    }
    for &(r, v) in patch.rows() {
        ops.push(json!({"op": "put", "key": format!("r{r}"), "value": v}));
    }
    json!({"cookie": cookie_json(Some(*cookie), *user), "lastMutationIDChanges": lmids, "patch": ops})
}

/// Per group of a synthetic history: the server's bookkeeping of that group.
#[derive(Default)]
struct GroupSim {
    clients: Vec<String>,
    lmids: Vec<u64>,
    version: u64,
    counter: u64,
    counter_version: u64,
    /// Clients' watermarks as of their last change (version).
    changed: Vec<u64>,
    cookie: Option<u64>,
}

/// A large history with a known explanation, for the speed measurements: `ops` operations
/// over `groups` client groups (three clients each, a counter row each), each group's
/// operations overlapping up to `concurrency` at a time; pushes of one to three increments,
/// retries answered alreadyProcessed, pulls with cookies and patches.
pub fn synthetic(ops: usize, groups: usize, concurrency: usize, seed: u64) -> String {
    let mut rng = case_rng(seed, 0);
    let mut rec = Recorder::new(rng.gen());
    rec.header(json!({}));
    let groups = groups.max(1);
    let mut sims: Vec<GroupSim> = (0..groups)
        .map(|_| GroupSim {
            clients: (0..3).map(|_| uuid_from(rng.gen()).to_string()).collect(),
            lmids: vec![0; 3],
            changed: vec![0; 3],
            ..GroupSim::default()
        })
        .collect();
    let gids: Vec<String> = (0..groups)
        .map(|_| uuid_from(rng.gen()).to_string())
        .collect();
    let half = concurrency.max(1) as f64 / 2.0;
    let mut lines: Vec<(f64, Value)> = Vec::with_capacity(ops);
    for i in 0..ops {
        let g = i % groups;
        let slot = (i / groups) as f64 * 1.0;
        let (invoke, complete) = (
            slot - rng.gen_range(0.0..half),
            slot + rng.gen_range(0.0..half),
        );
        let s = &mut sims[g];
        let line = if rng.gen_bool(0.7) {
            synthetic_push(s, &gids[g], g, &mut rng)
        } else {
            synthetic_pull(s, &gids[g], g)
        };
        let mut line = line;
        line["invoke"] = json!(invoke);
        line["complete"] = json!(complete);
        lines.push((invoke, line));
    }
    lines.sort_by(|a, b| a.0.total_cmp(&b.0));
    for (_, l) in lines {
        rec.raw(l);
    }
    rec.finish()
}

fn synthetic_push(s: &mut GroupSim, gid: &str, g: usize, rng: &mut impl Rng) -> Value {
    let c = rng.gen_range(0..3);
    let n = rng.gen_range(1..=3u64);
    // Sometimes a retry of mutations already processed.
    let first = if s.lmids[c] > 0 && rng.gen_bool(0.2) {
        s.lmids[c]
    } else {
        s.lmids[c] + 1
    };
    let mut ms = Vec::new();
    let mut results = Vec::new();
    for mid in first..first + n {
        let id = json!({"clientID": s.clients[c], "id": mid});
        ms.push(
            json!({"type": "custom", "id": mid, "clientID": s.clients[c], "name": "incr",
                       "args": [{"key": format!("count-{g}")}], "timestamp": 0}),
        );
        if mid <= s.lmids[c] {
            results.push(json!({"id": id, "result": {"error": "alreadyProcessed"}}));
        } else {
            s.lmids[c] = mid;
            s.version += 1;
            s.counter += 1;
            s.counter_version = s.version;
            s.changed[c] = s.version;
            results.push(json!({"id": id, "result": {}}));
        }
    }
    json!({"op": "push", "wire": "zero", "request": {"clientGroupID": gid, "pushVersion": 1, "mutations": ms},
           "response": {"mutations": results}})
}

fn synthetic_pull(s: &mut GroupSim, gid: &str, g: usize) -> Value {
    let since = s.cookie;
    let mut lmids = Map::new();
    for c in 0..3 {
        let moved = match since {
            None => s.lmids[c] > 0,
            Some(v) => s.changed[c] > v,
        };
        if moved {
            lmids.insert(s.clients[c].clone(), json!(s.lmids[c]));
        }
    }
    let mut patch = Vec::new();
    if since.is_none() {
        patch.push(json!({"op": "clear"}));
    }
    if s.counter > 0 && since.is_none_or(|v| s.counter_version > v) {
        patch.push(json!({"op": "put", "key": format!("count-{g}"), "value": s.counter}));
    }
    s.cookie = Some(s.version);
    json!({"op": "pull", "wire": "replicache",
           "request": {"clientGroupID": gid, "cookie": since, "pullVersion": 1},
           "response": {"cookie": s.version, "lastMutationIDChanges": lmids, "patch": patch}})
}

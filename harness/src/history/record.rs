//! Writing histories: the header, one line per operation, `clear` between runs on an emptied
//! server. Every client group and client gets a random UUID (as real clients generate them),
//! the same one wherever it appears, so recorded files look like production logs.
//!
//! `conform --server zero --record FILE` drives the endpoint with short names (`g0`, `c1`);
//! [`Recorder::zero_push`] writes what the endpoint received and answered with each short name
//! replaced by its UUID (Zero's push processor stores these IDs as opaque strings, so it
//! behaves the same under either).

use super::wire::FORMAT;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{json, Map, Value};
use std::collections::HashMap;

/// A version-4 UUID made of these random bits.
pub fn uuid_from(bits: u128) -> uuid::Uuid {
    uuid::Builder::from_random_bytes(bits.to_le_bytes()).into_uuid()
}

pub struct Recorder {
    out: String,
    rng: ChaCha8Rng,
    ids: HashMap<String, String>,
    /// Reads of the endpoint's tables so far (each pull's cookie is a fresh `read-N`).
    reads: u64,
}

impl Recorder {
    /// A recorder whose UUIDs derive from `seed`.
    pub fn new(seed: u64) -> Self {
        Recorder {
            out: String::new(),
            rng: ChaCha8Rng::seed_from_u64(seed),
            ids: HashMap::new(),
            reads: 0,
        }
    }

    /// The header line: the format, and `extra`'s fields (`owners`, `mutators`).
    pub fn header(&mut self, extra: Value) {
        let mut h = Map::new();
        h.insert("format".into(), json!(FORMAT));
        if let Value::Object(o) = extra {
            h.extend(o);
        }
        self.raw(Value::Object(h));
    }

    /// The UUID standing for a short name (`g0`, `c1`).
    pub fn id(&mut self, short: &str) -> String {
        if let Some(id) = self.ids.get(short) {
            return id.clone();
        }
        let id = uuid_from(self.rng.gen()).to_string();
        self.ids.insert(short.to_string(), id.clone());
        id
    }

    pub fn group(&mut self, g: u8) -> String {
        self.id(&format!("g{g}"))
    }

    pub fn client(&mut self, c: u8) -> String {
        self.id(&format!("c{c}"))
    }

    pub fn raw(&mut self, v: Value) {
        self.out.push_str(&v.to_string());
        self.out.push('\n');
    }

    /// A `clear` line: the server was emptied; what follows starts afresh, with new clients
    /// (short names get new UUIDs: a fixture that names its clients `c0`, `c1` in every run
    /// stands for new clients each time).
    pub fn clear(&mut self) {
        self.ids.clear();
        self.raw(json!({"op": "clear"}));
    }

    /// [`Recorder::clear`], also setting the rows' owners from here on (a run in another
    /// configuration).
    pub fn clear_with(&mut self, owners: Value) {
        self.ids.clear();
        self.raw(json!({"op": "clear", "owners": owners}));
    }

    /// An operation line with its times.
    #[allow(clippy::too_many_arguments)]
    pub fn op(
        &mut self,
        op: &str,
        wire: &str,
        user: Option<u8>,
        request: Value,
        response: Value,
        status: u16,
        invoke: f64,
        complete: f64,
    ) {
        let mut line = json!({"op": op, "wire": wire, "user": user.map(|u| format!("u{u}")),
                              "invoke": invoke, "complete": complete,
                              "request": request, "response": response});
        if status != 200 {
            line["status"] = json!(status);
        }
        self.raw(line);
    }

    /// Replaces the short names of a Zero push request or response by their UUIDs.
    fn rename(&mut self, v: &mut Value) {
        if let Some(g) = v
            .get("clientGroupID")
            .and_then(Value::as_str)
            .map(str::to_string)
        {
            v["clientGroupID"] = json!(self.id(&g));
        }
        for list in ["mutations", "mutationIDs"] {
            if let Some(ms) = v.get_mut(list).and_then(Value::as_array_mut) {
                for m in ms {
                    let target = if m.get("id").is_some_and(Value::is_object) {
                        &mut m["id"]
                    } else {
                        m
                    };
                    if let Some(c) = target
                        .get("clientID")
                        .and_then(Value::as_str)
                        .map(str::to_string)
                    {
                        target["clientID"] = json!(self.id(&c));
                    }
                }
            }
        }
    }

    /// A push the Zero adapter recorded (`{"request", "response", "invoke", "complete"}`, times
    /// in milliseconds), as a history line.
    pub fn zero_push(&mut self, raw: &Value, user: Option<u8>) {
        let mut request = raw["request"].clone();
        let mut response = raw["response"].clone();
        self.rename(&mut request);
        self.rename(&mut response);
        let t = |k: &str| raw[k].as_f64().unwrap_or(0.0);
        self.op(
            "push",
            "zero",
            user,
            request,
            response,
            200,
            t("invoke"),
            t("complete"),
        );
    }

    /// A read of the endpoint's tables (the adapter's `state`, with its times), as one pull
    /// from scratch per client group: every row, and the group's watermarks.
    pub fn state_read(&mut self, state: &Value, groups: &[String]) {
        let t = |k: &str| state[k].as_f64().unwrap_or(0.0);
        for g in groups {
            self.reads += 1;
            let reads = self.reads;
            let mut lmids = Map::new();
            for c in state["clients"].as_array().into_iter().flatten() {
                if c[0].as_str() == Some(g.as_str()) {
                    if let (Some(name), Some(n)) = (c[1].as_str(), c[2].as_u64()) {
                        lmids.insert(self.id(name), json!(n));
                    }
                }
            }
            let mut patch = vec![json!({"op": "clear"})];
            for (r, v) in state["rows"].as_array().into_iter().flatten().enumerate() {
                if let Some(v) = v.as_u64() {
                    patch.push(json!({"op": "put", "key": format!("r{r}"), "value": v}));
                }
            }
            let request = json!({"clientGroupID": self.id(g), "cookie": null, "pullVersion": 1});
            let response = json!({"cookie": format!("read-{reads}"), "lastMutationIDChanges": lmids, "patch": patch});
            let line = json!({"op": "pull", "wire": "replicache", "invoke": t("invoke"),
                              "complete": t("complete"), "request": request, "response": response});
            self.raw(line);
        }
    }

    pub fn finish(self) -> String {
        self.out
    }
}

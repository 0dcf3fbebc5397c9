//! A counterexample as an ITF trace (the Informal Trace Format of Apalache and Quint): the
//! model server's state after each operation of the explained prefix, in the order found, then
//! the unexplained sub-history and the rule it breaks in the trace's `#meta`.
//!
//! Variables: `version` (applied mutations), `watermarks` (`"g0/c1"` -> last_mutation_id),
//! `rows` (row key -> value), `action` (the operation in words, `"init"` first) and `line`
//! (its line in the history, 0 for the initial state). Integers are ITF `#bigint`s, maps
//! `#map`s.

use super::server::State;
use super::wire::History;
use super::Failure;
use serde_json::{json, Value};

fn int(n: u64) -> Value {
    json!({"#bigint": n.to_string()})
}

fn state(h: &History, s: &State, action: &str, line: usize, index: usize) -> Value {
    let watermarks: Vec<Value> = s
        .watermarks
        .iter()
        .map(|w| {
            let g = h
                .names
                .client_home
                .get(w.client as usize)
                .map_or(0, |x| x.0);
            json!([format!("g{g}/c{}", w.client), int(w.lmid)])
        })
        .collect();
    let rows: Vec<Value> = s
        .rows
        .iter()
        .map(|r| json!([h.names.row_name(r.row), int(r.value)]))
        .collect();
    json!({
        "#meta": {"index": index},
        "version": int(s.version),
        "watermarks": {"#map": watermarks},
        "rows": {"#map": rows},
        "action": action,
        "line": int(line as u64),
    })
}

/// The ITF trace of a failure.
pub fn trace(h: &History, f: &Failure) -> Value {
    let mut states = vec![state(h, &State::default(), "init", 0, 0)];
    for (i, (text, line, s)) in f.steps.iter().enumerate() {
        states.push(state(h, s, text, *line, i + 1));
    }
    // ITF's `#meta` holds strings only.
    let unexplained: Vec<String> = f
        .operations
        .iter()
        .map(|o| format!("line {}: {}", o.line, o.text))
        .collect();
    json!({
        "#meta": {
            "format": "ITF",
            "format-description": "https://apalache-mc.org/docs/adr/015adr-trace.html",
            "source": "plasma-check history",
            "description": format!("{}: {}", f.rule, f.message),
            "rule": f.rule,
            "unexplained": unexplained.join("; "),
        },
        "vars": ["version", "watermarks", "rows", "action", "line"],
        "states": states,
    })
}

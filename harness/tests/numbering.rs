//! Message numbering (PROTOCOL.md §7): every number names one copy. Delivering, dropping or
//! duplicating message N affects that copy only, even while an equal copy with another number is
//! in flight; a trace may name any copy, not only the lowest.

use plasma_check::random::{large_config, run_choices};
use plasma_check::trace::{Trace, TraceAction};
use plasma_model::{Action, Config, Msg, Protocol, Setup, World};
use proptest::prelude::*;
use std::collections::BTreeMap;
use std::process::Command;

fn trace(actions: serde_json::Value) -> Trace {
    let doc = serde_json::json!({
        "format": "plasma-trace/1",
        "config": {"installs": 1, "tabs": 2, "rows": 1, "max_mutations": 2, "drops": 0, "duplicates": 0},
        "protocol": "hardened",
        "actions": actions,
    });
    Trace::parse(&doc.to_string()).expect("parses")
}

fn replay_cli(t: &Trace) -> (i32, String) {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("numbering");
    std::fs::create_dir_all(&dir).expect("dir");
    let path = dir.join(format!("{:x}.json", fxhash(&t.to_json())));
    std::fs::write(&path, t.to_json()).expect("write");
    let out = Command::new(env!("CARGO_BIN_EXE_plasma-check"))
        .arg("replay")
        .arg(&path)
        .output()
        .expect("runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn fxhash(s: &str) -> u64 {
    s.bytes().fold(0xcbf29ce484222325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100000001b3)
    })
}

#[test]
fn a_later_copy_may_be_delivered_before_an_earlier_equal_one() {
    let t = trace(serde_json::json!([
        {"action": "Pull", "tab": 0},
        {"action": "Pull", "tab": 0},
        {"action": "Deliver", "msg": 1},
        {"action": "Deliver", "msg": 0},
    ]));
    let run = t.run().expect("message 0 is still in flight at step 4");
    assert_eq!(run.msg_numbers, vec![None, None, Some(1), Some(0)]);
    // Each delivery produced its own response: numbers 2 and 3.
    assert_eq!(run.worlds[4].network.len(), 2);
    assert_eq!(replay_cli(&t).0, 0);
}

#[test]
fn the_same_copy_cannot_be_delivered_twice() {
    let t = trace(serde_json::json!([
        {"action": "Pull", "tab": 0},
        {"action": "Pull", "tab": 0},
        {"action": "Deliver", "msg": 1},
        {"action": "Deliver", "msg": 1},
    ]));
    let e = t.run().expect_err("message 1 was delivered at step 3");
    assert_eq!(e.step, 4);
    assert!(
        e.message
            .contains("message 1 is not in flight: it was delivered at step 3"),
        "{e}"
    );
    let (code, stderr) = replay_cli(&t);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("step 4") && stderr.contains("message 1"),
        "{stderr}"
    );
}

#[test]
fn copies_made_by_duplicate_have_numbers_of_their_own() {
    let base = serde_json::json!([
        {"action": "Mutate", "tab": 0, "op": {"Set": {"row": 0, "value": 1}}},
        {"action": "Push", "tab": 0},
        {"action": "Duplicate", "msg": 0},
    ]);
    let with = |more: serde_json::Value| {
        let mut doc: serde_json::Value =
            serde_json::from_str(&trace(base.clone()).to_json()).expect("json");
        doc["config"]["duplicates"] = 2.into();
        doc["config"]["drops"] = 1.into();
        let actions = doc["actions"].as_array_mut().expect("array");
        actions.extend(more.as_array().expect("array").iter().cloned());
        Trace::parse(&doc.to_string()).expect("parses")
    };
    // The copy is message 1; deliver it first, then the original: both are retries of one push.
    let run = with(serde_json::json!([
        {"action": "Deliver", "msg": 1},
        {"action": "Deliver", "msg": 0},
    ]))
    .run()
    .expect("both copies are in flight");
    assert_eq!(run.worlds[5].server.version, 1, "applied once");
    // Dropping the copy leaves the original, and only the original.
    let e = with(serde_json::json!([
        {"action": "Drop", "msg": 1},
        {"action": "Deliver", "msg": 0},
        {"action": "Deliver", "msg": 1},
    ]))
    .run()
    .expect_err("message 1 was dropped");
    assert_eq!(e.step, 6);
    assert!(
        e.message
            .contains("message 1 is not in flight: it was dropped at step 4"),
        "{e}"
    );
    // Duplicating the copy makes message 2, a copy of its own; dropping the original leaves
    // both copies deliverable.
    let run = with(serde_json::json!([
        {"action": "Duplicate", "msg": 1},
        {"action": "Drop", "msg": 0},
        {"action": "Deliver", "msg": 2},
        {"action": "Deliver", "msg": 1},
    ]))
    .run()
    .expect("messages 1 and 2 are in flight");
    assert_eq!(run.worlds[7].server.version, 1, "applied once");
}

#[test]
fn two_equal_requests_are_two_copies() {
    // Two pushes of the same pending slice are equal requests: messages 0 and 1.
    let mut doc: serde_json::Value = serde_json::from_str(
        &trace(serde_json::json!([
            {"action": "Mutate", "tab": 0, "op": {"Set": {"row": 0, "value": 1}}},
            {"action": "Push", "tab": 0},
            {"action": "Push", "tab": 0},
            {"action": "Drop", "msg": 1},
            {"action": "Deliver", "msg": 0},
        ]))
        .to_json(),
    )
    .expect("json");
    doc["config"]["drops"] = 1.into();
    let t = Trace::parse(&doc.to_string()).expect("parses");
    let run = t.run().expect("runs");
    assert_eq!(run.worlds[5].server.version, 1);
    assert_eq!(run.msg_numbers, vec![None, None, None, Some(1), Some(0)]);
    // The response to message 0 is message 2.
    let mut more = doc.clone();
    more["actions"]
        .as_array_mut()
        .expect("array")
        .push(serde_json::json!({"action": "Deliver", "msg": 2}));
    Trace::parse(&more.to_string())
        .expect("parses")
        .run()
        .expect("message 2 is the push response");
}

/// Renames every Deliver, Drop and Duplicate of `trace` to an equal copy in flight, picked by
/// `picks`; the renamed trace is as valid as the original. The copies in flight are tracked here
/// by a reference numbering of its own (number -> message), not by the `Numbering` under test.
fn rename(trace: &Trace, picks: &[u16]) -> Trace {
    let run = trace.run().expect("the original runs");
    let mut in_flight: BTreeMap<u32, Msg> = BTreeMap::new();
    let mut next = 0;
    // Messages in `after` beyond the copies already numbered enter with the next numbers.
    let mut enter = |in_flight: &mut BTreeMap<u32, Msg>, after: &World| {
        let mut left: Vec<Msg> = in_flight.values().cloned().collect();
        for (m, count) in after.network.iter() {
            for _ in 0..count {
                match left.iter().position(|x| x == m) {
                    Some(k) => drop(left.swap_remove(k)),
                    None => {
                        in_flight.insert(next, m.clone());
                        next += 1;
                    }
                }
            }
        }
    };
    enter(&mut in_flight, &run.worlds[0]);
    let mut picks = picks.iter().cycle();
    let mut out = trace.clone();
    for (i, action) in run.actions.iter().enumerate() {
        if let Action::Deliver(m) | Action::Drop(m) | Action::Duplicate(m) = action {
            let copies: Vec<u32> = in_flight
                .iter()
                .filter(|(_, x)| *x == m)
                .map(|(&n, _)| n)
                .collect();
            let pick = copies[usize::from(*picks.next().unwrap_or(&0)) % copies.len()];
            out.actions[i] = match action {
                Action::Deliver(_) => TraceAction::Deliver { msg: pick },
                Action::Drop(_) => TraceAction::Drop { msg: pick },
                _ => TraceAction::Duplicate { msg: pick },
            };
            if !matches!(action, Action::Duplicate(_)) {
                in_flight.remove(&pick);
            }
        }
        enter(&mut in_flight, &run.worlds[i + 1]);
    }
    out
}

fn numbering_config() -> Config {
    Config {
        installs: 2,
        tabs: 4,
        max_in_flight: 6,
        ..large_config()
    }
}

#[test]
fn renaming_reaches_later_copies() {
    let setup = Setup::new(numbering_config(), Protocol::hardened());
    let renamed = (0..64u16)
        .filter(|&seed| {
            let choices: Vec<u16> = (0..200u16)
                .map(|i| i.wrapping_mul(31).wrapping_add(seed.wrapping_mul(7919)) ^ (i >> 2))
                .collect();
            let (actions, _) = run_choices(&setup, &choices);
            let original = Trace::encode(&setup, &actions).expect("encodes");
            rename(&original, &[1, 2, 3]) != original
        })
        .count();
    assert!(
        renamed >= 8,
        "only {renamed} of 64 traces name a later copy when renamed"
    );
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, failure_persistence: None, ..ProptestConfig::default() })]

    /// Every valid trace with its deliveries renamed to any equal copy still in flight replays
    /// to the same states.
    #[test]
    fn renaming_to_an_equal_copy_changes_no_state(
        choices in prop::collection::vec(any::<u16>(), 0..200),
        picks in prop::collection::vec(any::<u16>(), 1..50),
    ) {
        let setup = Setup::new(numbering_config(), Protocol::hardened());
        let (actions, _) = run_choices(&setup, &choices);
        let original = Trace::encode(&setup, &actions).expect("encodes");
        let renamed = rename(&original, &picks);
        let a = original.run().expect("original runs");
        let b = renamed.run().map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(a.worlds, b.worlds);
    }
}

/// A trace under `protocol` (a name or an object of switches) on 1 installation, 2 tabs.
fn trace_under(protocol: serde_json::Value, actions: serde_json::Value) -> Trace {
    let doc = serde_json::json!({
        "format": "plasma-trace/1",
        "config": {"installs": 1, "tabs": 2, "rows": 1, "max_mutations": 2, "drops": 0, "duplicates": 0},
        "protocol": protocol,
        "actions": actions,
    });
    Trace::parse(&doc.to_string()).expect("parses")
}

/// The requests of one Push are numbered in ascending clientID order, not the pushing tab's own
/// slice first: here tab 1 (clientID 1) pushes its own slice and tab 0's orphaned one
/// (clientID 0), and message 0 is clientID 0's.
#[test]
fn the_requests_of_one_push_are_numbered_by_client_id() {
    let run = trace_under(
        "hardened".into(),
        serde_json::json!([
            {"action": "Mutate", "tab": 0, "op": {"Set": {"row": 0, "value": 1}}},
            {"action": "OpenTab", "install": 0},
            {"action": "CloseTab", "tab": 0},
            {"action": "Mutate", "tab": 1, "op": {"Set": {"row": 0, "value": 2}}},
            {"action": "Push", "tab": 1},
            {"action": "Deliver", "msg": 0},
        ]),
    )
    .run()
    .expect("runs");
    let (c0, c1) = (run.worlds[1].tabs[0].client, run.worlds[2].tabs[1].client);
    assert!(c0 < c1);
    assert_eq!(run.worlds[5].network.len(), 2, "one request per slice");
    assert_eq!(run.worlds[6].server.clients.get(&(0, c0)), Some(&1));
    assert_eq!(run.worlds[6].server.clients.get(&(0, c1)), None);
}

/// `mid_counter = outbox` reads the outbox at the page's first mutation after it loads (not at
/// page load, not at every mutation), then counts in memory.
#[test]
fn the_outbox_mid_counter_reads_the_outbox_at_the_first_mutation_after_load() {
    let outbox = serde_json::json!({"mid_counter": "outbox"});
    let confirm_then_mutate = |reload: bool| {
        let mut actions = vec![
            serde_json::json!({"action": "Mutate", "tab": 0, "op": {"Set": {"row": 0, "value": 1}}}),
            serde_json::json!({"action": "Push", "tab": 0}),
            serde_json::json!({"action": "Deliver", "msg": 0}),
        ];
        if reload {
            // Loads with mid 1 pending: a counter read now would continue at 2.
            actions.push(serde_json::json!({"action": "Reload", "tab": 0}));
        }
        actions.extend([
            serde_json::json!({"action": "Pull", "tab": 0}),
            serde_json::json!({"action": "Deliver", "msg": 2}),
            serde_json::json!({"action": "Deliver", "msg": 3}),
            serde_json::json!({"action": "Mutate", "tab": 0, "op": {"Set": {"row": 0, "value": 2}}}),
        ]);
        let run = trace_under(outbox.clone(), actions.into())
            .run()
            .expect("runs");
        let last = run.worlds.last().expect("states");
        assert_eq!(last.installs[0].outbox.len(), 1, "mid 1 was confirmed");
        last.history.created[1].mid
    };
    assert_eq!(
        confirm_then_mutate(false),
        2,
        "the page counts in memory after its first mutation"
    );
    assert_eq!(
        confirm_then_mutate(true),
        1,
        "after a reload the first mutation reads the (now empty) outbox: mid 1 again"
    );
}

/// Which outbox entries a pull response confirms: under `orphan_recovery` (hardened and the
/// replicache profile) every entry of the installation's outbox whose clientID the response's
/// `lastMutationIDs` covers; without it (documented) only the receiving tab's own clientID's,
/// its clientID when the response arrives.
#[test]
fn a_pull_response_confirms_the_slices_its_protocol_says() {
    let pending_after = |protocol: serde_json::Value| {
        let run = trace_under(
            protocol,
            serde_json::json!([
                {"action": "Mutate", "tab": 0, "op": {"Set": {"row": 0, "value": 1}}},
                {"action": "Push", "tab": 0},
                {"action": "Deliver", "msg": 0},
                {"action": "OpenTab", "install": 0},
                {"action": "Pull", "tab": 1},
                {"action": "Deliver", "msg": 2},
                {"action": "Deliver", "msg": 3},
            ]),
        )
        .run()
        .expect("runs");
        run.worlds[7].installs[0].outbox.len()
    };
    assert_eq!(
        pending_after("hardened".into()),
        0,
        "tab 1 confirms tab 0's entry"
    );
    assert_eq!(
        pending_after(serde_json::json!({"orphan_recovery": false})),
        1,
        "only the receiving tab's own slice is confirmed"
    );
    assert_eq!(pending_after("documented".into()), 1);
}

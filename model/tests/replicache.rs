//! The replicache profile: what the real Replicache client does where it differs from the page.

mod common;
use common::{run, set};
use plasma_model::{Action, Config, Msg, Protocol, Refusal, Setup, Slot, World};

fn setup() -> Setup {
    Setup::new(
        Config {
            installs: 1,
            tabs: 3,
            rows: 2,
            max_mutations: 4,
            drops: 1,
            duplicates: 1,
            max_in_flight: 4,
            ..Config::default()
        },
        Protocol::replicache(),
    )
}

fn of_kind(w: &World, kind: &str) -> Vec<Msg> {
    w.network
        .distinct()
        .filter(|m| m.kind() == kind)
        .cloned()
        .collect()
}

#[test]
fn the_profile_is_named_and_round_trips_through_json() {
    let p = Protocol::replicache();
    assert_eq!(p.name(), "replicache");
    let json = serde_json::to_string(&p).expect("json");
    assert_eq!(serde_json::from_str::<Protocol>(&json).expect("parse"), p);
    // The hardened protocol writes none of the profile's switches.
    let h = serde_json::to_string(&Protocol::hardened()).expect("json");
    assert!(
        !h.contains("push_scope") && !h.contains("request_slots"),
        "{h}"
    );
}

#[test]
fn every_instance_pulls_as_it_opens_and_gets_a_fresh_client_id() {
    let s = setup();
    let w = World::init(&s);
    assert_eq!(of_kind(&w, "PullReq").len(), 1, "the initial tab pulls");
    assert_eq!(w.tabs[0].pull, Slot::Open);
    let w = run(&s, &w, &[Action::Reload { tab: 0 }]);
    assert_ne!(w.tabs[0].client, 0, "a reload is a new client");
    assert_eq!(of_kind(&w, "PullReq").len(), 2);
    let w = run(&s, &w, &[Action::DuplicateTab { tab: 0 }]);
    assert_ne!(w.tabs[1].client, w.tabs[0].client);
}

#[test]
fn a_group_push_carries_every_client_and_the_server_moves_each_watermark() {
    let s = setup();
    let w = World::init(&s);
    let w = run(
        &s,
        &w,
        &[
            set(0, 0, 1),
            Action::OpenTab { install: 0 },
            set(1, 1, 2),
            set(0, 0, 3),
        ],
    );
    // Views replay the whole group's pending mutations.
    assert_eq!(w.tabs[0].view, w.tabs[1].view);
    let w = run(&s, &w, &[Action::Push { tab: 1 }]);
    let push = of_kind(&w, "PushReq");
    assert_eq!(push.len(), 1, "one request per push");
    let Msg::PushReq { mutations, .. } = &push[0] else {
        unreachable!()
    };
    let ids: Vec<(u8, u8)> = mutations.iter().map(|p| (p.client, p.mid)).collect();
    assert_eq!(ids, vec![(0, 1), (1, 1), (0, 2)], "creation order");
    let w = run(&s, &w, &[Action::Deliver(push[0].clone())]);
    assert_eq!(w.server.last_mutation_id(0, 0), 2);
    assert_eq!(w.server.last_mutation_id(0, 1), 1);
}

#[test]
fn a_push_asked_for_while_one_is_out_is_queued_and_sent_when_it_completes() {
    let s = setup();
    let w = World::init(&s);
    let w = run(
        &s,
        &w,
        &[set(0, 0, 1), Action::Push { tab: 0 }, set(0, 1, 2)],
    );
    assert_eq!(w.tabs[0].push, Slot::Open);
    let w = run(&s, &w, &[Action::Push { tab: 0 }]);
    assert_eq!(w.tabs[0].push, Slot::Queued);
    assert_eq!(of_kind(&w, "PushReq").len(), 1, "nothing more is sent yet");
    // The request is lost: the queued push goes out with everything pending now.
    let lost = of_kind(&w, "PushReq")[0].clone();
    let w = run(&s, &w, &[Action::Drop(lost)]);
    let again = of_kind(&w, "PushReq");
    assert_eq!(again.len(), 1);
    let Msg::PushReq { mutations, .. } = &again[0] else {
        unreachable!()
    };
    assert_eq!(mutations.len(), 2);
    assert_eq!(w.tabs[0].push, Slot::Open);
}

#[test]
fn a_response_to_an_instance_that_is_gone_has_no_effect() {
    let s = setup();
    let w = World::init(&s);
    let first = of_kind(&w, "PullReq")[0].clone();
    let w = run(&s, &w, &[Action::Deliver(first), Action::Reload { tab: 0 }]);
    let old = of_kind(&w, "PullResp")[0].clone();
    let w2 = run(&s, &w, &[Action::Deliver(old)]);
    assert_eq!(
        w2.installs[0].cookie, None,
        "the old instance's response is dropped"
    );
    assert_eq!(
        w2.tabs[0].pull,
        Slot::Open,
        "the new instance still waits for its own"
    );
}

#[test]
fn the_network_does_not_duplicate() {
    let s = setup();
    let w = World::init(&s);
    let m = of_kind(&w, "PullReq")[0].clone();
    let mut enabled = Vec::new();
    w.enabled(&s, &mut enabled);
    assert!(!enabled.iter().any(|a| matches!(a, Action::Duplicate(_))));
    assert_eq!(
        w.step(&s, &Action::Duplicate(m)).err(),
        Some(Refusal::NoDuplicates)
    );
}

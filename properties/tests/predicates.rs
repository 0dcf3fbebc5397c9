//! Every predicate can fail: each test builds a state that breaks one property.

use plasma_model::{
    Action, Config, Created, Entry, History, Op, Processed, Protocol, Setup, World,
};
use plasma_properties::{all, by_name, heal, Expect, Scope};

fn setup() -> Setup {
    Setup::new(
        Config {
            installs: 1,
            tabs: 2,
            rows: 1,
            max_mutations: 3,
            ..Config::default()
        },
        Protocol::hardened(),
    )
}

fn holds(name: &str, w: &World) -> bool {
    let p = by_name(name).unwrap_or_else(|| panic!("no property {name}"));
    (p.holds)(&setup(), w)
}

/// A state where c0 created #1 (serial 0) and the server applied it.
fn applied_once() -> World {
    let s = setup();
    let w = World::init(&s);
    let w = w
        .step(
            &s,
            &Action::Mutate {
                tab: 0,
                op: Op::Set { row: 0, value: 1 },
            },
        )
        .and_then(|w| w.step(&s, &Action::Push { tab: 0 }))
        .expect("valid");
    let push = w.network.distinct().next().cloned().expect("a push");
    w.step(&s, &Action::Deliver(push)).expect("valid")
}

fn done(serial: u8) -> Processed {
    Processed {
        serial,
        applied: true,
        user: Some(0),
    }
}

fn created(client: u8, mid: u8) -> Created {
    Created {
        install: 0,
        tab: 0,
        group: 0,
        client,
        mid,
        op: Op::Set { row: 0, value: mid },
        user: Some(0),
    }
}

#[test]
fn every_always_has_a_sometimes_pair() {
    for p in all() {
        let pair = by_name(p.pair).unwrap_or_else(|| panic!("{} pairs with {}", p.name, p.pair));
        assert_eq!(pair.pair, p.name);
        assert_ne!(pair.expect, p.expect);
        assert_eq!(pair.scope, p.scope);
    }
    assert!(all()
        .iter()
        .any(|p| p.scope == Scope::Quiescent && p.expect == Expect::Always));
}

#[test]
fn at_most_once_fails_when_applied_twice() {
    let mut w = applied_once();
    assert!(holds("at-most-once", &w));
    w.history.processed.push(done(0));
    assert!(!holds("at-most-once", &w));
}

#[test]
fn unique_identity_fails_on_a_reused_mid() {
    let mut w = World::init(&setup());
    w.history.created = vec![created(0, 1), created(1, 1)].into();
    assert!(holds("unique-identity", &w));
    assert!(holds("same-mid-two-clients", &w));
    w.history.created.push(created(0, 1));
    assert!(!holds("unique-identity", &w));
}

#[test]
fn per_client_order_fails_on_a_gap() {
    let mut w = World::init(&setup());
    w.history.created = vec![created(0, 1), created(0, 2), created(0, 3)].into();
    w.history.processed = vec![done(0), done(1)].into();
    assert!(holds("per-client-order", &w));
    assert!(holds("client-applied-twice", &w));
    w.history.processed = vec![done(0), done(2)].into();
    assert!(!holds("per-client-order", &w));
}

#[test]
fn no_silent_drop_fails_when_the_watermark_passes_a_pending_mutation() {
    let mut w = applied_once();
    assert!(holds("no-silent-drop", &w));
    // A second mutation with the same identity, never applied: the watermark already covers it.
    w.history.created.push(created(0, 1));
    assert!(!holds("no-silent-drop", &w));
    w.history.discarded.push(1);
    assert!(
        holds("no-silent-drop", &w),
        "a discarded mutation is not dropped"
    );
}

#[test]
fn outbox_honesty_fails_when_an_unapplied_entry_vanishes() {
    let s = setup();
    let w = World::init(&s)
        .step(
            &s,
            &Action::Mutate {
                tab: 0,
                op: Op::Set { row: 0, value: 1 },
            },
        )
        .expect("valid");
    assert!(holds("outbox-honesty", &w));
    let mut overwritten = w.clone();
    overwritten.installs[0].outbox.insert(
        (0, 1),
        Entry {
            op: Op::Set { row: 0, value: 9 },
            serial: 1,
        },
    );
    assert!(!holds("outbox-honesty", &overwritten));
    let mut wiped = w;
    wiped.installs[0].outbox.clear();
    assert!(!holds("outbox-honesty", &wiped));
}

#[test]
fn monotone_fails_on_a_recorded_regression() {
    let mut w = World::init(&setup());
    assert!(holds("monotone", &w));
    w.history.broken |= History::COOKIE_REGRESSED;
    assert!(!holds("monotone", &w));
}

#[test]
fn rebase_fails_on_a_stale_view() {
    let s = setup();
    let mut w = World::init(&s)
        .step(
            &s,
            &Action::Mutate {
                tab: 0,
                op: Op::Set { row: 0, value: 1 },
            },
        )
        .expect("valid");
    assert!(holds("rebase", &w));
    w.tabs[0].view = w.installs[0].base.clone();
    assert!(!holds("rebase", &w));
}

#[test]
fn healing_applies_and_converges() {
    let s = setup();
    let w = World::init(&s)
        .step(
            &s,
            &Action::Mutate {
                tab: 0,
                op: Op::Set { row: 0, value: 1 },
            },
        )
        .and_then(|w| w.step(&s, &Action::OpenTab { install: 0 }))
        .expect("valid");
    assert!(!holds("no-lost-mutation", &w), "not yet applied");
    let healed = heal(&s, &w);
    for name in [
        "no-lost-mutation",
        "convergence",
        "lww",
        "two-tabs-converge",
    ] {
        assert!(holds(name, &healed), "{name} after healing");
    }
    assert_eq!(healed.tabs[1].view, vec![Some(1)]);
}

#[test]
fn healing_reopens_a_dormant_installation() {
    let s = setup();
    let w = World::init(&s)
        .step(
            &s,
            &Action::Mutate {
                tab: 0,
                op: Op::Set { row: 0, value: 1 },
            },
        )
        .and_then(|w| w.step(&s, &Action::CloseTab { tab: 0 }))
        .expect("valid");
    let healed = heal(&s, &w);
    assert_eq!(healed.history.processed, vec![done(0)]);
    assert!(holds("no-lost-mutation", &healed));
}

#[test]
fn convergence_and_lww_fail_on_a_divergent_view() {
    let s = setup();
    let mut w = heal(
        &s,
        &World::init(&s)
            .step(
                &s,
                &Action::Mutate {
                    tab: 0,
                    op: Op::Set { row: 0, value: 1 },
                },
            )
            .expect("valid"),
    );
    assert!(holds("convergence", &w) && holds("lww", &w));
    w.tabs[0].view = vec![Some(7)].into();
    assert!(!holds("convergence", &w));
    assert!(!holds("lww", &w));
}

//! The semantics of each action, on hand-built states.

mod common;
use common::{run, set};
use plasma_model::{Action, Config, Msg, Op, Patch, Protocol, Pushed, Refusal, Setup, World};

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
            max_resets: 2,
            ..Config::default()
        },
        Protocol::hardened(),
    )
}

/// The one message of a kind in flight.
fn only(w: &World, kind: &str) -> Msg {
    let found: Vec<_> = w.network.distinct().filter(|m| m.kind() == kind).collect();
    assert_eq!(found.len(), 1, "expected one {kind} in {:?}", w.network);
    found[0].clone()
}

fn deliver(s: &Setup, w: &World, kind: &str) -> World {
    run(s, w, &[Action::Deliver(only(w, kind))])
}

#[test]
fn mutate_allocates_mids_and_replays_the_view() {
    let s = setup();
    let w = run(&s, &World::init(&s), &[set(0, 0, 1), set(0, 1, 2)]);
    let inst = &w.installs[0];
    assert_eq!(
        inst.outbox.keys().copied().collect::<Vec<_>>(),
        [(0, 1), (0, 2)]
    );
    assert_eq!(inst.next_mid.get(&0), Some(&2));
    assert_eq!(w.tabs[0].view, vec![Some(1), Some(2)]);
    assert_eq!(
        inst.base,
        vec![None, None],
        "the base changes only by pulls"
    );
}

#[test]
fn a_retry_is_a_no_op() {
    let s = setup();
    let w = run(
        &s,
        &World::init(&s),
        &[set(0, 0, 1), Action::Push { tab: 0 }],
    );
    let push = only(&w, "PushReq");
    let w = run(
        &s,
        &w,
        &[
            Action::Duplicate(push.clone()),
            Action::Deliver(push.clone()),
        ],
    );
    assert_eq!(w.server.version, 1);
    let w = run(&s, &w, &[Action::Deliver(push)]);
    assert_eq!(w.server.version, 1, "the second copy applied nothing");
    assert_eq!(w.server.last_mutation_id(0, 0), 1);
    let serials: Vec<u8> = w.history.processed.iter().map(|p| p.serial).collect();
    assert_eq!(serials, vec![0]);
}

#[test]
fn a_gap_stops_the_request() {
    let s = setup();
    let mut w = World::init(&s);
    let pushed = |mid, value, serial| Pushed {
        client: 0,
        mid,
        op: Op::Set { row: 0, value },
        serial,
    };
    let gap = Msg::PushReq {
        tab: 0,
        group: 0,
        client: 0,
        user: Some(0),
        mutations: vec![pushed(2, 7, 0), pushed(3, 8, 1)].into(),
    };
    w.network.send(gap.clone());
    let w = run(&s, &w, &[Action::Deliver(gap)]);
    assert_eq!(w.server.version, 0);
    assert_eq!(w.server.last_mutation_id(0, 0), 0);
    assert!(w.history.processed.is_empty());
    let resp = only(&w, "PushResp");
    assert!(matches!(
        resp,
        Msg::PushResp {
            last_mutation_id: 0,
            ..
        }
    ));
}

#[test]
fn push_response_changes_nothing_on_the_client() {
    let s = setup();
    let w = run(
        &s,
        &World::init(&s),
        &[set(0, 0, 1), Action::Push { tab: 0 }],
    );
    let w = deliver(&s, &w, "PushReq");
    let after = deliver(&s, &w, "PushResp");
    assert_eq!(
        after.installs, w.installs,
        "confirmation comes only through a pull"
    );
    assert_eq!(after.tabs, w.tabs);
}

#[test]
fn confirmation_drops_only_confirmed_entries() {
    let s = setup();
    let w = run(
        &s,
        &World::init(&s),
        &[set(0, 0, 1), Action::Push { tab: 0 }],
    );
    let w = deliver(&s, &w, "PushReq");
    let w = run(&s, &w, &[set(0, 1, 2), Action::Pull { tab: 0 }]);
    let w = deliver(&s, &w, "PullReq");
    let w = deliver(&s, &w, "PullResp");
    let inst = &w.installs[0];
    assert_eq!(inst.outbox.keys().copied().collect::<Vec<_>>(), [(0, 2)]);
    assert_eq!(inst.cookie, Some(1));
    assert_eq!(inst.base, vec![Some(1), None]);
    assert_eq!(w.tabs[0].view, vec![Some(1), Some(2)], "rebased: base + #2");
}

#[test]
fn a_stale_pull_response_is_ignored() {
    let s = setup();
    // Two pulls based on no cookie; the first response applied moves the cookie, so the second
    // (based on the old cookie) no longer fits and is ignored.
    let w = run(
        &s,
        &World::init(&s),
        &[set(0, 0, 1), Action::Push { tab: 0 }],
    );
    let w = deliver(&s, &w, "PushReq");
    let w = run(&s, &w, &[Action::Pull { tab: 0 }, Action::Pull { tab: 0 }]);
    let req = only(&w, "PullReq");
    let w = run(
        &s,
        &w,
        &[Action::Deliver(req.clone()), Action::Deliver(req)],
    );
    let resp = only(&w, "PullResp");
    assert_eq!(w.network.count(&resp), 2);
    let once = run(&s, &w, &[Action::Deliver(resp.clone())]);
    assert_eq!(once.installs[0].cookie, Some(1));
    let twice = run(&s, &once, &[Action::Deliver(resp)]);
    assert_eq!(
        twice.installs, once.installs,
        "base cookie 'none' != IDB cookie 1"
    );
}

#[test]
fn a_pull_for_a_closed_tab_is_consumed_without_effect() {
    let s = setup();
    let w = run(&s, &World::init(&s), &[Action::Pull { tab: 0 }]);
    let w = deliver(&s, &w, "PullReq");
    let w = run(&s, &w, &[Action::CloseTab { tab: 0 }]);
    let after = deliver(&s, &w, "PullResp");
    assert_eq!(after.installs, w.installs);
    assert!(after.network.is_empty());
}

#[test]
fn reload_keeps_client_and_mid_counter() {
    let s = setup();
    let w = run(
        &s,
        &World::init(&s),
        &[set(0, 0, 1), Action::Push { tab: 0 }],
    );
    let w = deliver(&s, &w, "PushReq");
    let w = run(&s, &w, &[Action::Pull { tab: 0 }]);
    let w = deliver(&s, &deliver(&s, &w, "PullReq"), "PullResp");
    assert!(w.installs[0].outbox.is_empty());
    let w = run(&s, &w, &[Action::Reload { tab: 0 }, set(0, 0, 2)]);
    assert_eq!(w.tabs[0].client, 0);
    assert_eq!(
        w.installs[0].outbox.keys().copied().collect::<Vec<_>>(),
        [(0, 2)],
        "mid continues at 2 after a reload with an empty outbox"
    );
}

#[test]
fn documented_mid_counter_restarts_after_reload_with_empty_outbox() {
    let mut s = setup();
    s.protocol = Protocol::documented();
    let w = run(
        &s,
        &World::init(&s),
        &[set(0, 0, 1), Action::Push { tab: 0 }],
    );
    let w = deliver(&s, &w, "PushReq");
    let w = run(&s, &w, &[Action::Pull { tab: 0 }]);
    let w = deliver(&s, &deliver(&s, &w, "PullReq"), "PullResp");
    let w = run(&s, &w, &[Action::Reload { tab: 0 }, set(0, 0, 2)]);
    assert_eq!(
        w.installs[0].outbox.keys().copied().collect::<Vec<_>>(),
        [(0, 1)],
        "the literal reading reuses mid 1"
    );
}

#[test]
fn new_and_duplicated_tabs_get_fresh_client_ids() {
    let s = setup();
    let w = run(
        &s,
        &World::init(&s),
        &[
            Action::OpenTab { install: 0 },
            Action::DuplicateTab { tab: 0 },
        ],
    );
    let clients: Vec<_> = w.tabs.iter().map(|t| t.client).collect();
    assert_eq!(clients, [0, 1, 2]);
    assert_eq!(
        w.step(&s, &Action::OpenTab { install: 0 }),
        Err(Refusal::TabLimit(3))
    );
}

#[test]
fn documented_duplicate_tab_shares_the_client_id() {
    let mut s = setup();
    s.protocol = Protocol::documented();
    let w = run(&s, &World::init(&s), &[Action::DuplicateTab { tab: 0 }]);
    assert_eq!(w.tabs[1].client, 0);
}

#[test]
fn restore_gets_the_old_client_id_once() {
    let s = setup();
    let w = run(
        &s,
        &World::init(&s),
        &[
            set(0, 0, 1),
            Action::CloseTab { tab: 0 },
            Action::RestoreTab { tab: 0 },
        ],
    );
    assert_eq!(w.tabs[1].client, 0);
    assert_eq!(
        w.tabs[1].view,
        vec![Some(1), None],
        "its pending mutation is back in view"
    );
    assert_eq!(
        w.step(&s, &Action::RestoreTab { tab: 0 }),
        Err(Refusal::AlreadyRestored(0))
    );
}

/// A tab closed before a user switch keeps the previous user's clientID in sessionStorage;
/// restored after the login, it mints a fresh one (as the login did for open tabs), so the new
/// user's mutation starts its own slice at mid 1. The mutant keeps the old clientID.
#[test]
fn a_tab_restored_after_a_login_mints_a_fresh_client_id() {
    let config = Config {
        users: 2,
        max_auth_changes: 2,
        ..setup().config
    };
    let steps = [
        set(0, 0, 1),
        Action::CloseTab { tab: 0 },
        Action::Logout { install: 0 },
        Action::Login {
            install: 0,
            user: 1,
        },
        Action::RestoreTab { tab: 0 },
        set(1, 0, 2),
    ];
    let hardened = Setup::new(config.clone(), Protocol::hardened());
    let w = run(&hardened, &World::init(&hardened), &steps);
    assert_ne!(w.tabs[1].client, 0, "a fresh clientID");
    let slice: Vec<_> = w.installs[0]
        .slice(w.tabs[1].client)
        .map(|(m, _)| m)
        .collect();
    assert_eq!(slice, vec![1], "the new user's slice starts at mid 1");
    assert_eq!(
        w.installs[0].slice(0).count(),
        1,
        "c0#1 waits for its author"
    );

    let mutant = Setup::mutated(
        config,
        Protocol::hardened(),
        Some(plasma_model::Mutant::RestoreAcrossLogin),
    );
    let w = run(&mutant, &World::init(&mutant), &steps);
    assert_eq!(w.tabs[1].client, 0, "the mutant keeps c0");
    assert_eq!(
        w.installs[0].slice(0).count(),
        2,
        "c0#1 and c0#2 share a slice"
    );
}

#[test]
fn reset_rotates_and_wipes_only_its_own_slice() {
    let s = setup();
    let w = run(
        &s,
        &World::init(&s),
        &[
            Action::OpenTab { install: 0 },
            set(0, 0, 1),
            set(1, 1, 2),
            Action::Pull { tab: 0 },
        ],
    );
    let w = deliver(&s, &deliver(&s, &w, "PullReq"), "PullResp");
    assert_eq!(w.installs[0].cookie, Some(0));
    let w = run(&s, &w, &[Action::ResetLocalState { tab: 0 }]);
    let inst = &w.installs[0];
    assert_eq!(w.tabs[0].client, 2, "rotated to a fresh clientID");
    assert_eq!(inst.cookie, None);
    assert_eq!(inst.outbox.keys().copied().collect::<Vec<_>>(), [(1, 1)]);
    assert_eq!(w.history.discarded, vec![0]);
    assert_eq!(w.tabs[1].view, vec![None, Some(2)]);
}

#[test]
fn orphaned_slices_are_pushed_by_a_live_tab() {
    let s = setup();
    let w = run(
        &s,
        &World::init(&s),
        &[
            Action::OpenTab { install: 0 },
            set(0, 0, 1),
            Action::CloseTab { tab: 0 },
            Action::Push { tab: 1 },
        ],
    );
    let push = only(&w, "PushReq");
    assert!(matches!(
        push,
        Msg::PushReq {
            tab: 1,
            client: 0,
            ..
        }
    ));
}

#[test]
fn faults_respect_their_budgets() {
    let s = setup();
    let w = run(
        &s,
        &World::init(&s),
        &[Action::Pull { tab: 0 }, Action::Pull { tab: 0 }],
    );
    let req = only(&w, "PullReq");
    let w = run(&s, &w, &[Action::Drop(req.clone())]);
    assert_eq!(w.network.len(), 1);
    assert_eq!(
        w.step(&s, &Action::Drop(req.clone())),
        Err(Refusal::DropBudget(1))
    );
    let w = run(&s, &w, &[Action::Duplicate(req.clone())]);
    assert_eq!(
        w.step(&s, &Action::Duplicate(req)),
        Err(Refusal::DuplicateBudget(1))
    );
}

#[test]
fn refusals_name_the_problem() {
    let s = setup();
    let w = World::init(&s);
    assert_eq!(
        w.step(&s, &Action::Push { tab: 0 }),
        Err(Refusal::NothingToPush(0))
    );
    assert_eq!(
        w.step(&s, &Action::Pull { tab: 5 }),
        Err(Refusal::NoSuchTab(5))
    );
    assert_eq!(
        w.step(&s, &set(0, 9, 1)),
        Err(Refusal::NoSuchRow { row: 9, rows: 2 })
    );
    let closed = run(&s, &w, &[Action::CloseTab { tab: 0 }]);
    assert_eq!(closed.step(&s, &set(0, 0, 1)), Err(Refusal::TabNotOpen(0)));
    let stray = Msg::PullReq {
        tab: 0,
        group: 0,
        client: 0,
        user: Some(0),
        cookie: None,
        cookie_user: None,
    };
    assert!(matches!(
        w.step(&s, &Action::Deliver(stray)),
        Err(Refusal::NotInFlight(_))
    ));
    assert_eq!(Refusal::TabNotOpen(3).to_string(), "tab 3 is closed");
}

#[test]
fn pull_sends_a_reset_patch_without_cookie_and_a_tail_after() {
    let s = setup();
    let w = run(
        &s,
        &World::init(&s),
        &[set(0, 0, 1), Action::Push { tab: 0 }],
    );
    let w = deliver(&s, &w, "PushReq");
    let w = run(&s, &w, &[Action::Pull { tab: 0 }]);
    let w = deliver(&s, &w, "PullReq");
    let Msg::PullResp { patch, cookie, .. } = only(&w, "PullResp") else {
        unreachable!()
    };
    assert_eq!(patch, Patch::Reset(vec![(0, 1)].into()));
    assert_eq!(cookie, 1);
    let w = deliver(&s, &w, "PullResp");
    let w = run(&s, &w, &[Action::Pull { tab: 0 }]);
    let w = deliver(&s, &w, "PullReq");
    let Msg::PullResp { patch, .. } = only(&w, "PullResp") else {
        unreachable!()
    };
    assert_eq!(patch, Patch::Tail(vec![].into()));
}

#[test]
fn enabled_actions_are_all_accepted_by_step() {
    let s = setup();
    let mut frontier = vec![World::init(&s)];
    let mut seen = 0;
    for _ in 0..4 {
        let mut next = Vec::new();
        for w in &frontier {
            let mut actions = Vec::new();
            w.enabled(&s, &mut actions);
            for a in actions {
                match w.step(&s, &a) {
                    Ok(n) => next.push(n),
                    Err(e) => panic!("enabled {a:?} refused: {e}"),
                }
                seen += 1;
            }
        }
        frontier = next;
    }
    assert!(seen > 1000, "explored {seen} steps");
}

fn auth_setup(protocol: Protocol) -> Setup {
    Setup::new(
        Config {
            installs: 1,
            tabs: 2,
            rows: 1,
            max_rows: 1,
            counter_rows: 1,
            users: 2,
            private_rows: 1,
            max_mutations: 4,
            max_in_flight: 4,
            max_auth_changes: 4,
            ..Config::default()
        },
        protocol,
    )
}

fn sync(s: &Setup, w: &World, tab: u8) -> World {
    let w = run(s, w, &[Action::Push { tab }]);
    let w = deliver(s, &deliver(s, &w, "PushReq"), "PushResp");
    let w = run(s, &w, &[Action::Pull { tab }]);
    deliver(s, &deliver(s, &w, "PullReq"), "PullResp")
}

#[test]
fn auth_write_denies_another_users_private_row_but_advances_the_watermark() {
    let s = auth_setup(Protocol::hardened());
    // Row 0 is private to user 0; the installation signs in as user 1 and writes it.
    let w = run(
        &s,
        &World::init(&s),
        &[
            Action::Logout { install: 0 },
            Action::Login {
                install: 0,
                user: 1,
            },
            set(0, 0, 1),
        ],
    );
    let w = sync(&s, &w, 0);
    // The login gave the tab a fresh clientID (one IndexedDB per user: model choice 25).
    assert_eq!(w.tabs[0].client, 1);
    assert_eq!(w.server.rows[0].value, None, "denied");
    assert_eq!(w.server.last_mutation_id(0, 1), 1, "still processed");
    assert!(!w.history.processed[0].applied);
    assert!(w.installs[0].outbox.is_empty(), "confirmed by the pull");
    assert_eq!(w.tabs[0].view, vec![None, None, None]);
}

#[test]
fn resolve_conflict_keeps_the_larger_value_and_counters_add_up() {
    let s = auth_setup(Protocol::hardened());
    let incr = |tab| Action::Mutate {
        tab,
        op: Op::Incr { row: 2 },
    };
    let w = run(
        &s,
        &World::init(&s),
        &[
            Action::OpenTab { install: 0 },
            set(0, 1, 9),
            set(1, 1, 4),
            incr(0),
            incr(1),
        ],
    );
    let w = sync(&s, &sync(&s, &w, 1), 0);
    let w = run(&s, &w, &[Action::Pull { tab: 1 }]);
    let w = deliver(&s, &deliver(&s, &w, "PullReq"), "PullResp");
    assert_eq!(
        w.server.rows[1].value,
        Some(9),
        "max(4, 9) whatever the order"
    );
    assert_eq!(w.server.rows[2].value, Some(2), "two increments");
    assert_eq!(w.tabs[0].view, w.tabs[1].view);
    assert_eq!(
        World::init(&s).step(
            &s,
            &Action::Mutate {
                tab: 0,
                op: Op::Set { row: 2, value: 1 }
            }
        ),
        Err(Refusal::WrongOp(Op::Set { row: 2, value: 1 }))
    );
}

#[test]
fn after_a_user_change_the_hardened_server_sends_a_reset_patch() {
    for (protocol, stale_row_kept) in [
        (Protocol::hardened(), false),
        (Protocol::documented(), true),
    ] {
        let s = auth_setup(protocol);
        let w = run(&s, &World::init(&s), &[set(0, 0, 1)]);
        let w = sync(&s, &w, 0);
        assert_eq!(
            w.installs[0].base[0],
            Some(1),
            "user 0 reads its private row"
        );
        let w = run(
            &s,
            &w,
            &[
                Action::Logout { install: 0 },
                Action::Login {
                    install: 0,
                    user: 1,
                },
            ],
        );
        let w = run(&s, &w, &[Action::Pull { tab: 0 }]);
        let w = deliver(&s, &deliver(&s, &w, "PullReq"), "PullResp");
        assert_eq!(w.installs[0].base_user, Some(1));
        assert_eq!(w.installs[0].base[0].is_some(), stale_row_kept);
    }
}

#[test]
fn login_and_logout_are_checked() {
    let s = auth_setup(Protocol::hardened());
    let w = World::init(&s);
    assert_eq!(
        w.step(
            &s,
            &Action::Login {
                install: 0,
                user: 1
            }
        ),
        Err(Refusal::AlreadySignedIn(0))
    );
    let out = run(&s, &w, &[Action::Logout { install: 0 }]);
    assert_eq!(
        out.step(&s, &Action::Logout { install: 0 }),
        Err(Refusal::NotSignedIn(0))
    );
    assert_eq!(
        out.step(
            &s,
            &Action::Login {
                install: 0,
                user: 7
            }
        ),
        Err(Refusal::NoSuchUser(7))
    );
}

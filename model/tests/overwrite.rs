//! `World::overwrite` copies a state in one `memcpy` when nothing in either state spilled to the
//! heap, and clones field by field otherwise: both paths must produce an equal, independent state.

mod common;

use common::{run, set};
use plasma_model::vecmap::Inline;
use plasma_model::{Action, Config, Protocol, Setup, World};

fn setup() -> Setup {
    Setup {
        config: Config {
            tabs: 3,
            rows: 4,
            max_mutations: 12,
            max_in_flight: 12,
            ..Config::default()
        },
        protocol: Protocol::hardened(),
        mutant: None,
    }
}

#[test]
fn overwrite_equals_the_source_inline_or_spilled() {
    let s = setup();
    let init = World::init(&s);
    let small = run(&s, &init, &[set(0, 0, 1), Action::Push { tab: 0 }]);
    // The outbox and the history of created mutations (9 > 4 inline) spill.
    let mut actions: Vec<Action> = (0..9).map(|i| set(0, i % 4, i + 1)).collect();
    actions.push(Action::Push { tab: 0 });
    actions.push(Action::OpenTab { install: 0 });
    let big = run(&s, &init, &actions);
    assert!(init.is_inline() && small.is_inline());
    assert!(!big.is_inline(), "the big state spilled");

    for source in [&init, &small, &big] {
        for target in [&init, &small, &big] {
            let mut w = target.clone();
            w.overwrite(source);
            assert_eq!(&w, source);
            // Independent of the source: changing the copy leaves the source alone.
            let before = source.clone();
            let changed = run(&s, &w, &[set(0, 1, 200)]);
            w.overwrite(&changed);
            assert_eq!(source, &before);
            assert_eq!(w, changed);
        }
    }
}

/// A copy made by `memcpy` remembers that its collections own nothing, until one is borrowed
/// mutably: a state that spills in place must not pass for inline (the next `memcpy` into it
/// would leak, and one out of it would share its heap memory).
#[test]
fn a_copy_marked_inline_forgets_it_when_it_spills_in_place() {
    let s = setup();
    let init = World::init(&s);
    let mut w = init.clone();
    w.overwrite(&init);
    assert!(w.is_inline());
    for i in 0..9 {
        w.apply(&s, &set(0, i % 4, i + 1)).expect("mutates");
    }
    assert!(!w.is_inline(), "the outbox spilled in place");
    // Copied field by field then (a spilled vector keeps its heap buffer).
    w.overwrite(&init);
    assert_eq!(w, init);
}

/// The encoding is lossless: every reachable state of `tiny` (and of a configuration with two
/// installations, users, a counter row and faults) decodes back to itself, into a fresh state,
/// into one that held another, and through a `Decoder` that reads only the segments that differ
/// from the state decoded before (also after an encoding it refused). Along the way, every
/// action `enabled_at` lists is the one `enabled` lists (`action_of`) and, taken with
/// `apply_enabled` (the message at the place it names), reaches the successor `step` computes;
/// every pull request in flight that `Server::pull_unchanged` answers gets `Server::pull`'s
/// answer from a server `pull` leaves as it was (and likewise every push request
/// `Server::push_unchanged` answers, with the history).
#[test]
fn every_reachable_state_decodes_to_itself() {
    use plasma_model::encode::{Segment, SEGMENTS};
    use plasma_model::{Config, Protocol, Setup, World};
    use std::collections::HashSet;
    let tiny = Config {
        installs: 1,
        tabs: 2,
        rows: 1,
        max_mutations: 2,
        drops: 0,
        duplicates: 0,
        max_resets: 1,
        ..Config::default()
    };
    let mixed = Config {
        installs: 2,
        tabs: 3,
        rows: 1,
        max_mutations: 2,
        drops: 1,
        duplicates: 1,
        users: 2,
        private_rows: 1,
        counter_rows: 1,
        max_auth_changes: 1,
        max_resets: 1,
        ..Config::default()
    };
    for (config, protocol, at_least) in [
        (tiny, Protocol::hardened(), 372_210),
        (mixed, Protocol::replicache(), 100_000),
    ] {
        let setup = Setup::new(config, protocol);
        let init = World::init(&setup);
        let mut seen: HashSet<Vec<u8>> = HashSet::new();
        let mut reused = World::init(&setup);
        let mut decoder = plasma_model::encode::Decoder::default();
        let (mut skipped, mut previous, mut previous_ends) = (0, Vec::new(), [0; SEGMENTS]);
        let (mut unchanged, mut pushes_unchanged) = (0, 0);
        let mut stack = vec![init];
        let mut actions = Vec::new();
        while let Some(w) = stack.pop() {
            let bytes = w.encode();
            if !seen.insert(bytes.clone()) {
                continue;
            }
            assert_eq!(World::decode(&bytes).as_ref(), Some(&w));
            // Decoded into a buffer that holds the state visited before (other tabs, messages,
            // history): every collection is refilled, nothing of the old state stays.
            assert!(reused.decode_from(&bytes));
            assert_eq!(reused, w);
            let mut ends = [0; SEGMENTS];
            assert!(reused.decode_segments(&bytes, &mut ends));
            let (decoded, decoded_ends, held) = decoder.decode(&bytes).expect("decodes");
            assert_eq!((decoded, decoded_ends), (&w, &ends));
            // A segment counts as held only if its bytes are the previous encoding's.
            for seg in Segment::ALL {
                let k = seg as usize;
                let start = |ends: &[usize; SEGMENTS]| if k == 0 { 0 } else { ends[k - 1] };
                if held & (1 << k) != 0 {
                    skipped += 1;
                    assert_eq!(
                        previous.get(start(&previous_ends)..previous_ends[k]),
                        Some(&bytes[start(&ends)..ends[k]])
                    );
                }
            }
            previous.clone_from(&bytes);
            previous_ends = ends;
            if seen.len() % 1000 == 0 {
                // Refused: the next encoding is decoded whole.
                assert!(decoder.decode(&bytes[..bytes.len() - 1]).is_none());
                previous.clear();
            }
            assert_eq!(
                World::decode(&bytes[..bytes.len() - 1]),
                None,
                "a cut encoding"
            );
            if seen.len() >= at_least {
                break;
            }
            actions.clear();
            w.enabled(&setup, &mut actions);
            // `enabled_at` lists the same actions, and `apply_enabled`, taking messages by
            // place, takes each to the successor `step` computes.
            // A pull that `pull_unchanged` answers leaves the server as it is, and answers
            // as `pull` does.
            for m in w.network.distinct() {
                if let plasma_model::Msg::PullReq {
                    tab,
                    group,
                    client,
                    user,
                    cookie,
                    cookie_user,
                } = *m
                {
                    let request = (tab, group, client, user, cookie, cookie_user);
                    let read = w.server.pull_unchanged(&setup, request);
                    let mut server = (*w.server).clone();
                    let resp = server.pull(&setup, request);
                    if let Some(read) = read {
                        unchanged += 1;
                        assert_eq!((&read, &server), (&resp, &*w.server));
                    }
                }
            }
            // So does a push that `push_unchanged` answers, to the history too.
            for m in w.network.distinct() {
                if let plasma_model::Msg::PushReq {
                    tab,
                    group,
                    client,
                    user,
                    mutations,
                } = m
                {
                    let (tab, group, client, user) = (*tab, *group, *client, *user);
                    let read = w
                        .server
                        .push_unchanged(&setup, tab, group, client, user, mutations);
                    let (mut server, mut history) = ((*w.server).clone(), (*w.history).clone());
                    let resp =
                        server.push(&setup, &mut history, tab, group, client, user, mutations);
                    if let Some(read) = read {
                        pushes_unchanged += 1;
                        assert_eq!((&read, &server, &history), (&resp, &*w.server, &*w.history));
                    }
                }
            }
            let mut listed = Vec::new();
            w.enabled_at(&setup, &mut listed);
            let named: Vec<_> = listed.iter().map(|e| w.action_of(e)).collect();
            assert_eq!(named, actions);
            for (a, e) in actions.iter().zip(&listed) {
                let next = w.step(&setup, a).expect("enabled");
                let mut taken = w.clone();
                taken.apply_enabled(&setup, e).expect("enabled");
                assert_eq!(taken, next, "{a:?} as {e:?}");
                stack.push(next);
            }
        }
        assert!(seen.len() >= at_least.min(372_210), "{} states", seen.len());
        assert!(skipped > seen.len(), "segments held: {skipped}");
        assert!(unchanged > 1000, "pulls answered unchanged: {unchanged}");
        assert!(
            pushes_unchanged > 1000,
            "pushes answered unchanged: {pushes_unchanged}"
        );
    }
}

/// The reusable encoder writes through a fixed buffer and falls back to a vector for longer
/// encodings: both give `World::encode`'s bytes, at every length from a few dozen bytes to past
/// the buffer (a state with 64 rows and spilled collections).
#[test]
fn the_buffered_encoder_agrees_with_encode_at_every_length() {
    use plasma_model::encode::Encoder;
    let s = Setup::new(
        Config {
            installs: 2,
            tabs: 4,
            rows: 64,
            max_mutations: 40,
            max_in_flight: 12,
            ..Config::default()
        },
        Protocol::hardened(),
    );
    let mut w = World::init(&s);
    let mut encoder = Encoder::default();
    let mut lengths = Vec::new();
    for i in 0..40u8 {
        let tab = i % 2;
        w = run(&s, &w, &[set(tab, i % 64, i + 1)]);
        if i % 8 == 7 {
            w = run(&s, &w, &[Action::Push { tab }]);
        }
        let bytes = w.encode();
        assert_eq!(encoder.encode(&w), &bytes[..]);
        lengths.push(bytes.len());
    }
    assert!(
        lengths[0] < 512 && *lengths.last().unwrap_or(&0) > 1024,
        "{lengths:?}"
    );
}

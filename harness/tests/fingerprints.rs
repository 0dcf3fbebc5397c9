//! The native engines' fingerprints are combined from the hashes of the encoding's segments,
//! and a successor re-hashes only the segments its action marked as changed. Here, on every
//! reachable state of several configurations and protocols and under every mutant, each
//! successor's incremental fingerprint equals the one computed from scratch, and every segment
//! left unmarked encodes exactly as the parent's does; and every property that reads none of
//! the marked parts ([`plasma_properties::Property::reads`]) has the parent's verdict, which is
//! what lets the engines skip it.

use plasma_check::search::fingerprints::Fingerprinter;
use plasma_model::encode::{Encoder, Segment, SEGMENTS};
use plasma_model::{Config, Mutant, Protocol, Setup, Source, World};
use plasma_properties::Scope;
use std::collections::HashSet;

/// Explores up to `limit` states of `setup` depth first, checking every successor.
fn check_every_successor(setup: &Setup, limit: usize) -> usize {
    let mut key = Fingerprinter::new(setup, false);
    let mut seen = HashSet::new();
    let mut stack = vec![World::init(setup)];
    let mut actions = Vec::new();
    let mut child = World::init(setup);
    let (mut parent_bytes, mut child_bytes) = (Encoder::default(), Encoder::default());
    let props: Vec<_> = plasma_properties::applicable(&setup.config)
        .filter(|p| p.scope == Scope::State)
        .collect();
    let mut checked = 0;
    while let Some(w) = stack.pop() {
        if !seen.insert(w.encode()) || seen.len() > limit {
            continue;
        }
        let mut parent = [0; SEGMENTS];
        let fp = key.of_segments(&w, &mut parent);
        assert_eq!(fp, key.of_keeping(&w, &mut Vec::new()));
        let verdicts: Vec<bool> = props.iter().map(|p| (p.holds)(setup, &w)).collect();
        actions.clear();
        w.enabled(setup, &mut actions);
        for a in &actions {
            child.overwrite_from(Source::of(&w));
            child.forget_changes();
            child.apply(setup, a).expect("an enabled action is taken");
            let changes = child.changes();
            for seg in Segment::ALL {
                if changes & (1 << seg as u8) == 0 {
                    assert_eq!(
                        parent_bytes.encode_segment(&w, seg),
                        child_bytes.encode_segment(&child, seg),
                        "{a:?} changed {seg:?} without marking it, from {w:?}"
                    );
                }
            }
            for (p, &verdict) in props.iter().zip(&verdicts) {
                if p.reads & changes == 0 {
                    assert_eq!(
                        (p.holds)(setup, &child),
                        verdict,
                        "{} reads a part {a:?} changed, from {w:?}",
                        p.name
                    );
                }
            }
            let mut hashes = [0; SEGMENTS];
            let incremental = key.of_child(&child, &parent, &mut hashes);
            let mut fresh = [0; SEGMENTS];
            assert_eq!(incremental, key.of_segments(&child, &mut fresh), "{a:?}");
            assert_eq!(hashes, fresh, "{a:?}");
            checked += 1;
            stack.push(child.clone());
        }
    }
    checked
}

#[test]
fn incremental_fingerprints_and_skipped_properties_agree_on_every_successor() {
    let small = plasma_check::presets::preset("small").expect("a preset");
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
        max_auth_changes: 2,
        max_resets: 1,
        ..Config::default()
    };
    let mut checked = 0;
    for protocol in [
        Protocol::hardened(),
        Protocol::replicache(),
        Protocol::documented(),
        Protocol::zero(),
    ] {
        checked += check_every_successor(&Setup::new(small.clone(), protocol.clone()), 40_000);
        checked += check_every_successor(&Setup::new(mixed.clone(), protocol), 40_000);
    }
    for mutant in Mutant::ALL {
        let mut setup = Setup::new(small.clone(), Protocol::hardened());
        setup.mutant = Some(mutant);
        checked += check_every_successor(&setup, 20_000);
    }
    assert!(checked > 1_000_000, "{checked} successors checked");
}

//! Symmetry reduction: the representative is canonical (one per orbit), and reducing changes
//! no verdict.

use plasma_check::hunt;
use plasma_check::presets::preset;
use plasma_check::search::plan::{EnginePlan, Plan, Strategy};
use plasma_check::search::report::Report;
use plasma_model::encode::Segment;
use plasma_model::{Canonical, Config, Setup, Symmetry, World};
use std::collections::{HashSet, VecDeque};

/// Every reachable state, by brute force.
fn reachable(setup: &Setup) -> Vec<World> {
    let init = World::init(setup);
    let mut seen: HashSet<World> = HashSet::from([init.clone()]);
    let mut queue = VecDeque::from([init]);
    let mut actions = Vec::new();
    while let Some(w) = queue.pop_front() {
        actions.clear();
        w.enabled(setup, &mut actions);
        for a in &actions {
            if let Ok(next) = w.step(setup, a) {
                if seen.insert(next.clone()) {
                    queue.push_back(next);
                }
            }
        }
    }
    seen.into_iter().collect()
}

fn all_permutations(n: usize) -> Vec<Vec<u8>> {
    if n == 0 {
        return vec![vec![]];
    }
    let mut out = Vec::new();
    for p in all_permutations(n - 1) {
        for i in 0..n {
            let mut q = p.clone();
            q.insert(i, (n - 1) as u8);
            out.push(q);
        }
    }
    out
}

/// The orbit's least encoding over *every* renaming of tabs, installations and clientIDs: the
/// definition of an orbit, computed the slow way.
fn orbit_key(w: &World, sym: Symmetry) -> Vec<u8> {
    let installs = if sym.installs {
        all_permutations(w.installs.len())
    } else {
        vec![(0..w.installs.len() as u8).collect()]
    };
    let clients: Vec<Vec<u8>> = all_permutations(usize::from(w.next_client))
        .into_iter()
        .filter(|p| !sym.pin_client0 || p.first().is_none_or(|&c| c == 0))
        .collect();
    let mut best: Option<Vec<u8>> = None;
    for t in all_permutations(w.tabs.len()) {
        for i in &installs {
            for c in &clients {
                let enc = w.rename(&t, i, c).encode();
                if best.as_ref().is_none_or(|b| enc < *b) {
                    best = Some(enc);
                }
            }
        }
    }
    best.unwrap_or_default()
}

/// The encoding of the representative `canonical` chose for `w`.
fn chosen_encoding(canonical: &mut Canonical, w: &World) -> Vec<u8> {
    Segment::ALL
        .into_iter()
        .flat_map(|seg| canonical.segment(w, seg).to_vec())
        .collect()
}

/// A renaming kept from a state noted as parent ([`Canonical::choose_near`]: its successors,
/// and the next state in any order, given the segments that differ) gives the representative
/// that working it out again gives.
fn assert_renamings_kept(setup: &Setup, states: &[World]) {
    let sym = Symmetry::of(setup);
    let mut canonical = Canonical::default();
    let mut actions = Vec::new();
    let representative = |w: &World| w.representative(sym).encode();
    for w in states {
        canonical.parent(w, sym);
        actions.clear();
        w.enabled(setup, &mut actions);
        for a in &actions {
            let mut next = w.clone();
            next.forget_changes();
            if next.apply(setup, a).is_ok() {
                canonical.choose_near(&next, sym, next.changes(), true);
                assert_eq!(
                    chosen_encoding(&mut canonical, &next),
                    representative(&next),
                    "renaming kept from the parent"
                );
            }
        }
    }
    for pair in states.windows(2) {
        let (before, w) = (&pair[0], &pair[1]);
        canonical.parent(before, sym);
        let changed = Segment::ALL
            .into_iter()
            .filter(|&seg| {
                let (mut x, mut y) = (Vec::new(), Vec::new());
                before.encode_segment(seg, &mut x);
                w.encode_segment(seg, &mut y);
                x != y
            })
            .fold(0, |m, seg| m | 1 << seg as u8);
        canonical.choose_near(w, sym, changed, false);
        assert_eq!(
            chosen_encoding(&mut canonical, w),
            representative(w),
            "renaming kept from the state before"
        );
    }
}

fn dfs(setup: &Setup, symmetry: bool) -> Report {
    stateright_dfs(setup, 1, symmetry)
}

fn stateright_dfs(setup: &Setup, threads: usize, symmetry: bool) -> Report {
    let engine = EnginePlan::Stateright {
        strategy: Strategy::Dfs,
        threads,
    };
    let plan = Plan::new(engine).with_symmetry(symmetry);
    plasma_check::search::run(setup, &plan).expect("runs")
}

/// Orbits counted by brute force equal the states the reduced search stores, and every state's
/// representative lies in its orbit and is the same for the whole orbit.
fn assert_orbits(setup: &Setup) -> usize {
    let sym = Symmetry::of(setup);
    let states = reachable(setup);
    let orbits: HashSet<Vec<u8>> = states.iter().map(|w| orbit_key(w, sym)).collect();
    let mut canonical = Canonical::default();
    let reps: HashSet<Vec<u8>> = states
        .iter()
        .map(|w| {
            let r = w.representative(sym);
            assert_eq!(orbit_key(&r, sym), orbit_key(w, sym), "outside its orbit");
            assert_eq!(
                canonical.encoding(w, sym),
                r.encode(),
                "the representative's encoding, written without building it, is its encoding"
            );
            r.encode()
        })
        .collect();
    assert_eq!(reps.len(), orbits.len(), "one representative per orbit");
    assert_renamings_kept(setup, &states);
    let reduced = dfs(setup, true);
    assert!(reduced.complete);
    assert_eq!(
        reduced.unique_states,
        orbits.len(),
        "the reduced search stores orbits"
    );
    assert!(
        orbits.len() < states.len(),
        "this configuration has symmetry to reduce"
    );
    orbits.len()
}

#[test]
fn orbits_by_brute_force_two_tabs() {
    let config = Config {
        tabs: 2,
        max_mutations: 1,
        max_resets: 1,
        ..Config::default()
    };
    assert_eq!(assert_orbits(&Setup::hardened(config)), 15_735);
}

#[test]
#[ignore = "about 30 s on 2 cores; run with --ignored"]
fn orbits_by_brute_force_two_installs() {
    let config = Config {
        installs: 2,
        tabs: 3,
        max_mutations: 1,
        ..Config::default()
    };
    assert_orbits(&Setup::hardened(config));
}

#[test]
#[ignore = "brute force over the tiny preset: about a minute"]
fn orbits_by_brute_force_tiny() {
    let config = preset("tiny").expect("preset");
    assert_eq!(assert_orbits(&Setup::hardened(config)), 168_263);
}

fn verdicts(r: &Report) -> Vec<(&'static str, String)> {
    r.properties
        .iter()
        .map(|p| (p.name, format!("{:?}", p.status)))
        .collect()
}

/// The native DFS with and without symmetry (stateright's symmetry is held against the
/// native engines' in `engines.rs`, and against brute force above).
fn native_dfs(setup: &Setup, symmetry: bool) -> Report {
    let plan = Plan::new(EnginePlan::NativeDfs).with_symmetry(symmetry);
    plasma_check::search::run(setup, &plan).expect("runs")
}

/// Every target but `no-dedup`, whose 4.3 million states take longer than the rest together.
#[test]
fn symmetry_changes_no_verdict_on_the_targets_below_a_million_states() {
    symmetry_changes_no_verdict(hunt::targets().into_iter().filter(|t| t.name != "no-dedup"));
}

#[test]
#[ignore = "about 35 s on 2 cores; run with --ignored"]
fn symmetry_changes_no_verdict_on_any_target() {
    symmetry_changes_no_verdict(hunt::targets().into_iter());
}

fn symmetry_changes_no_verdict(targets: impl Iterator<Item = hunt::Target>) {
    for target in targets {
        let plain = native_dfs(&target.setup, false);
        let reduced = native_dfs(&target.setup, true);
        assert!(plain.complete && reduced.complete, "{}", target.name);
        assert_eq!(verdicts(&plain), verdicts(&reduced), "{}", target.name);
        assert!(
            reduced.unique_states <= plain.unique_states,
            "{}: {} vs {}",
            target.name,
            reduced.unique_states,
            plain.unique_states
        );
    }
}

#[test]
fn symmetry_changes_no_verdict_on_the_small_presets() {
    // Orbits pinned like the presets' state counts.
    for (name, orbits) in [("tiny", 168_263), ("small", 734_739)] {
        let setup = Setup::hardened(preset(name).expect("preset"));
        let plain = native_dfs(&setup, false);
        let reduced = native_dfs(&setup, true);
        assert!(plain.verified && reduced.verified, "{name}");
        assert_eq!(reduced.unique_states, orbits, "{name}");
        assert_eq!(verdicts(&plain), verdicts(&reduced), "{name}");
    }
}

/// The 3-tab preset: symmetry stores at least 4x fewer states, with the same verdicts.
#[test]
#[ignore = "about 40 s on 2 cores (release); run with --ignored"]
fn tabs3_symmetry_cuts_four_times() {
    let setup = Setup::hardened(preset("tabs3").expect("preset"));
    let run = |symmetry| stateright_dfs(&setup, 2, symmetry);
    let plain = run(false);
    let reduced = run(true);
    assert!(plain.verified && reduced.verified);
    assert_eq!(plain.unique_states, 8_381_438);
    assert_eq!(reduced.unique_states, 1_566_879);
    assert!(plain.unique_states >= 4 * reduced.unique_states);
    assert_eq!(verdicts(&plain), verdicts(&reduced));
}

/// The preset larger than `default`, exhaustive thanks to symmetry reduction.
#[test]
#[ignore = "about 2 minutes on 2 cores (release); run with --ignored"]
fn wide_with_symmetry() {
    let setup = Setup::hardened(preset("wide").expect("preset"));
    let r = stateright_dfs(&setup, 2, true);
    assert!(r.verified);
    assert_eq!(r.unique_states, 21_093_710);
}

/// `wide` with a drop and a duplicate, exhaustive with symmetry on the native BFS.
#[test]
#[ignore = "about 6 minutes on 2 cores (release); run with --ignored"]
fn wide_faults_with_symmetry() {
    let setup = Setup::hardened(preset("wide-faults").expect("preset"));
    let plan = Plan::new(EnginePlan::native_bfs(2)).with_symmetry(true);
    let r = plasma_check::search::run(&setup, &plan).expect("runs");
    assert!(r.verified);
    assert_eq!(r.unique_states, 90_879_175);
}

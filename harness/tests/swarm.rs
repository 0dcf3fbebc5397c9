//! Random search as a guard: the swarm (a fresh action mix per case, over the large
//! configuration) runs on the hardened and `zero` profiles for a fixed set of seeds and must
//! find nothing; the same budget finds the mutant that closing a tab before a user switch and
//! reopening it after used to expose, so the guard has teeth. Deterministic: a failure prints
//! the one-line command that reruns it.

use plasma_check::random::{self as simulate, SimOptions};
use plasma_model::{Mutant, Protocol, Setup};

/// Seeds 1..=SEEDS, CASES cases of 200 steps each: about 5 seconds per profile on 2 cores.
const SEEDS: u64 = 4;
const CASES: u64 = 1_500;

fn opts(seed: u64) -> SimOptions {
    SimOptions {
        seed,
        cases: CASES,
        steps: 200,
        swarm: true,
        shard: simulate::Shard::default(),
    }
}

/// Per seed, the first failure of the swarm on the large configuration: (seed, property).
fn swarm(protocol: Protocol, mutant: Option<Mutant>) -> Vec<(u64, &'static str)> {
    let setup = Setup::mutated(simulate::large_config(), protocol, mutant);
    (1..=SEEDS)
        .filter_map(|seed| {
            let r = simulate::simulate(&setup, &opts(seed), |_, _| {});
            r.failure.map(|f| (seed, f.property))
        })
        .collect()
}

fn assert_nothing_found(name: &str, found: &[(u64, &str)]) {
    let reruns: Vec<String> = found
        .iter()
        .map(|(seed, property)| {
            format!(
                "{property}: plasma-check simulate --swarm --seed {seed} --cases {CASES} --protocol {name}"
            )
        })
        .collect();
    assert!(
        reruns.is_empty(),
        "the swarm found counterexamples of the {name} protocol:\n{}",
        reruns.join("\n")
    );
}

#[test]
fn the_swarm_finds_nothing_in_the_hardened_protocol() {
    assert_nothing_found("hardened", &swarm(Protocol::hardened(), None));
}

#[test]
fn the_swarm_finds_nothing_in_the_zero_profile() {
    assert_nothing_found("zero", &swarm(Protocol::zero(), None));
}

#[test]
fn the_same_swarm_finds_a_tab_restored_across_a_login() {
    let found = swarm(Protocol::hardened(), Some(Mutant::RestoreAcrossLogin));
    assert!(
        found.iter().any(|(_, p)| *p == "no-lost-mutation"),
        "the guard's budget misses restore-across-login: {found:?}"
    );
}

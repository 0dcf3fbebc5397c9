//! SPIN explores the same state space as plasma-check: the Promela port in `harness/spin`
//! stores exactly our unique states. Skipped without `spin` unless PLASMA_REQUIRE_SPIN=1 (CI
//! installs it).

use plasma_check::bench;
use plasma_check::presets::preset;
use plasma_check::search::plan::{EnginePlan, Plan};
use plasma_model::Setup;
use std::process::Command;

fn spin_available() -> bool {
    let found = Command::new("spin")
        .arg("-V")
        .output()
        .is_ok_and(|o| o.status.success());
    if !found && std::env::var_os("PLASMA_REQUIRE_SPIN").is_some() {
        panic!("PLASMA_REQUIRE_SPIN is set but `spin` is not installed (apt-get install spin)");
    }
    if !found {
        eprintln!("skipped: `spin` is not installed (Debian: apt-get install spin)");
    }
    found
}

#[test]
fn spin_stores_exactly_our_states_on_tiny() {
    if !spin_available() {
        return;
    }
    let spin = bench::run_spin("tiny").expect("pan runs");
    assert_eq!(spin.errors, 0, "an assertion failed in SPIN");
    let plan = Plan::new(EnginePlan::NativeDfs);
    let ours = plasma_check::search::run(&Setup::hardened(preset("tiny").expect("preset")), &plan)
        .expect("runs");
    assert!(ours.verified);
    assert_eq!(spin.stored, ours.unique_states as u64);
    // pan adds one property-checking transition per stored state; the rest are the protocol's
    // steps, the very successors our search computes (the initial state counted in both).
    assert_eq!(spin.transitions - spin.stored, ours.states as u64);
}

#[test]
fn the_port_has_no_bounds_for_other_presets() {
    let err = bench::run_spin("auth").unwrap_err();
    assert!(err.contains("auth"), "{err}");
}

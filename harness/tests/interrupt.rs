//! A run's interrupt is its own: the library keeps no process-wide stop flag, so a check
//! interrupted in one call leaves the next check in the same process to complete.

use plasma_check::exit;
use plasma_check::presets::preset;
use plasma_check::search::check::{self, CheckOptions, Engine, Strategy};
use plasma_model::Setup;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

#[test]
fn an_interrupted_check_leaves_the_next_one_alone() {
    let setup = Setup::hardened(preset("tiny").expect("preset"));
    for (engine, strategy) in [
        (Engine::Native, Strategy::Bfs),
        (Engine::Native, Strategy::Dfs),
        (Engine::Stateright, Strategy::Bfs),
    ] {
        let opts = |interrupted: bool| CheckOptions {
            engine,
            strategy,
            threads: 2,
            interrupt: Some(Arc::new(AtomicBool::new(interrupted))),
            ..CheckOptions::default()
        };
        let stopped = check::run(&setup, &opts(true));
        let what = format!("{engine:?} {strategy:?}");
        assert!(!stopped.complete, "{what}");
        assert_eq!(stopped.exit_code(), exit::NOT_VERIFIED, "{what}");
        let why = stopped.stop_reason.as_deref().unwrap_or_default();
        assert!(why.starts_with("interrupted"), "{what}: {why}");
        let next = check::run(&setup, &opts(false));
        assert!(next.verified, "{what}: the next run completes");
        assert_eq!(next.unique_states, 372_210, "{what}");
    }
}

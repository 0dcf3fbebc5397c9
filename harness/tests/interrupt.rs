//! A run's interrupt is its own: the library keeps no process-wide stop flag, so a check
//! interrupted in one call leaves the next check in the same process to complete.

use plasma_check::exit;
use plasma_check::presets::preset;
use plasma_check::search::plan::{Engine, EnginePlan, Plan, Strategy};
use plasma_model::Setup;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

#[test]
fn an_interrupted_check_leaves_the_next_one_alone() {
    let small = Setup::hardened(preset("small").expect("preset"));
    let tiny = Setup::hardened(preset("tiny").expect("preset"));
    for (engine, strategy) in [
        (Engine::Native, Strategy::Bfs),
        (Engine::Native, Strategy::Dfs),
        (Engine::Stateright, Strategy::Bfs),
    ] {
        let plan = |flag: &Arc<AtomicBool>| Plan {
            interrupt: Some(Arc::clone(flag)),
            ..Plan::new(EnginePlan::of(engine, strategy, 2))
        };
        // Ctrl-C arrives while the search runs.
        let flag = Arc::new(AtomicBool::new(false));
        let stopped = std::thread::scope(|s| {
            s.spawn(|| {
                std::thread::sleep(Duration::from_millis(100));
                flag.store(true, Ordering::Relaxed);
            });
            plasma_check::search::run(&small, &plan(&flag)).expect("runs")
        });
        let what = format!("{engine:?} {strategy:?}");
        assert!(!stopped.complete, "{what}");
        assert_eq!(stopped.exit_code(), exit::NOT_VERIFIED, "{what}");
        let why = stopped.stop_reason.as_deref().unwrap_or_default();
        assert!(why.starts_with("interrupted"), "{what}: {why}");
        let next = plasma_check::search::run(&tiny, &plan(&Arc::new(AtomicBool::new(false))))
            .expect("runs");
        assert!(next.verified, "{what}: the next run completes");
        assert_eq!(next.unique_states, 372_210, "{what}");
    }
}

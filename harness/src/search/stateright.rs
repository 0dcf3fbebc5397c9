//! The stateright engine: its BFS or DFS over the model ([`PlasmaModel`]), watched from here
//! for limits, Ctrl-C and progress.

use crate::search::plan::{Plan, Stop, Strategy};
use crate::search::report::{Report, Search};
use crate::search::shell::{progress_line, Shell};
use crate::search::stateright_model::{representative_fn, Counting, PlasmaModel};
use plasma_model::{Setup, Symmetry};
use stateright::{Checker, HasDiscoveries, Model};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

/// Runs stateright's `strategy` on `threads` threads.
pub(crate) fn run(setup: &Setup, plan: &Plan, strategy: Strategy, threads: usize) -> Report {
    let mut model = PlasmaModel::new(setup.clone());
    model.only = plan.properties.clone();
    model.coverage = Some(Arc::new(Counting::new(setup, plan.symmetry)));
    let mut builder = model.checker().threads(threads.max(1));
    if let Some(n) = plan.limits.max_states.filter(|&n| n > 0) {
        builder = builder.target_state_count(n);
    }
    match plan.limits.stop {
        Stop::Never => {}
        Stop::FirstViolation => builder = builder.finish_when(HasDiscoveries::AnyFailures),
        Stop::Property(p) => builder = builder.finish_when(HasDiscoveries::AnyOf([p].into())),
    }
    if plan.symmetry {
        // `Plan::validate` refuses symmetry with stateright's BFS.
        builder = builder.symmetry_fn(representative_fn(Symmetry::of(setup)));
    }
    let shell = Shell::new(setup, plan);
    match strategy {
        Strategy::Bfs => finish(builder.spawn_bfs(), shell),
        Strategy::Dfs => finish(builder.spawn_dfs(), shell),
    }
}

fn finish<C: Checker<PlasmaModel>>(checker: C, shell: Shell) -> Report {
    // stateright counts states against the state limit itself; the timeout and Ctrl-C stop it
    // through the model (no state has successors from then on).
    let mut stopped = None;
    while !checker.is_done() {
        std::thread::sleep(Duration::from_millis(100));
        if stopped.is_none() {
            stopped = shell.limit_reached(0).filter(|_| !checker.is_done());
            if stopped.is_some() {
                checker.model().stop.store(true, Ordering::Relaxed);
            }
        }
        shell.progress.tick(|| {
            progress_line(
                checker.state_count(),
                checker.unique_state_count(),
                checker.max_depth(),
                shell.start.elapsed(),
            )
        });
    }
    let checker = checker.join();
    // Before anything asks for the discoveries, whose paths stateright replays through the
    // model, which must then produce them again.
    let coverage = checker
        .model()
        .coverage
        .as_ref()
        .map(|c| c.snapshot())
        .unwrap_or_default();
    checker.model().stop.store(false, Ordering::Relaxed);
    let states = checker.state_count();
    let limits = &shell.plan.limits;
    let mut stop_reason = limits
        .max_states
        .filter(|&n| states >= n)
        .map(|n| format!("state limit reached ({states} states generated, --max-states {n})"));
    if stopped.is_some() {
        stop_reason = stopped;
    }
    let discoveries = checker.discoveries();
    let hunted = shell
        .props
        .iter()
        .any(|p| discoveries.contains_key(p.name) && shell.ends_run(p));
    if hunted && stop_reason.is_none() {
        stop_reason = Some("stopped at the first violation".to_string());
    }
    let paths = shell
        .props
        .iter()
        .map(|p| {
            discoveries
                .get(p.name)
                .map(|path| path.clone().into_actions())
        })
        .collect();
    let search = Search {
        stop_reason,
        states,
        unique_states: checker.unique_state_count(),
        max_depth: checker.max_depth(),
        coverage,
        coverage_partial: false,
    };
    shell.report(search, paths)
}

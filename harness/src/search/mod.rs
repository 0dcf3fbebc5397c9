//! Exhaustive search: every engine that visits every reachable state of a configuration, and
//! the report they all return. [`run`] is the one entry point: it takes a [`plan::Plan`]
//! (the engine with its own options, limits, symmetry, properties, checkpoints) and returns
//! a [`report::Report`] or a [`plan::SearchError`].
//!
//! - [`plan`]: what a search is asked to do; `shell`: what every engine does around its own
//!   frontier loop (properties, limits, progress, checkpoint timing, the report).
//! - [`stateright`]: stateright's BFS and DFS over [`stateright_model`], the model as a
//!   `stateright::Model` (also what the explorer serves).
//! - [`bfs`]: the native breadth-first engine: parallel, level by level, shortest
//!   counterexamples.
//! - [`native`]: the native single-threaded DFS over 64-bit fingerprints.
//! - [`distributed`]: the breadth-first engine on timely dataflow, across processes and machines.
//! - [`fingerprints`]: state fingerprints and the native engines' visited tables.
//! - [`levels`]: the native BFS's levels, in memory or in files.
//! - [`checkpoint`]: the native engines' checkpoints, and resuming from one; [`checksum`]: the
//!   checksums that guard their files.
//! - [`report`]: the report every engine returns (text, JSON, exit code); [`coverage`]: its
//!   action coverage.
//! - [`cli`]: `plasma-check check`; [`explore`]: `plasma-check explore`.

pub mod bfs;
pub mod checkpoint;
pub mod checksum;
pub mod cli;
pub mod coverage;
pub mod distributed;
pub(crate) mod exact;
pub mod explore;
pub mod fingerprints;
pub mod levels;
pub mod native;
pub mod plan;
pub mod report;
pub(crate) mod shell;
pub mod stateright;
pub mod stateright_model;
pub(crate) mod successors;

use plan::{EnginePlan, Plan, SearchError};
use plasma_model::Setup;
use report::Report;

/// Runs the exhaustive check of `setup` that `plan` describes and reports every property. A
/// plan no engine can run, or a checkpoint that does not continue it, is an error; so is a
/// timely run that lost a worker or a peer.
///
/// ```
/// use plasma_check::search::{self, plan::{EnginePlan, Plan}};
/// use plasma_model::{Config, Setup};
///
/// let setup = Setup::hardened(Config { tabs: 1, ..Config::default() });
/// let report = search::run(&setup, &Plan::new(EnginePlan::native_bfs(2))).expect("a plan that runs");
/// assert!(report.verified);
/// ```
pub fn run(setup: &Setup, plan: &Plan) -> Result<Report, SearchError> {
    plan.validate()?;
    let resume = plan.checkpoint.as_ref().filter(|c| c.resume);
    match &plan.engine {
        EnginePlan::Stateright { strategy, threads } => {
            Ok(stateright::run(setup, plan, *strategy, *threads))
        }
        EnginePlan::NativeDfs => {
            let loaded = match resume {
                Some(c) => {
                    resumable(setup, plan, &c.dir, checkpoint::ENGINE_DFS)?;
                    let l = checkpoint::load_dfs(&c.dir, setup).map_err(SearchError::Checkpoint)?;
                    resuming(plan, &c.dir, "depth", &l.meta);
                    Some(l)
                }
                None => None,
            };
            native::run(setup, plan, loaded)
        }
        EnginePlan::NativeBfs {
            threads,
            disk,
            expect_states,
            exact,
        } => {
            let loaded = match resume {
                Some(c) => {
                    resumable(setup, plan, &c.dir, checkpoint::ENGINE)?;
                    let l = checkpoint::load(&c.dir, setup, *expect_states, *threads)
                        .map_err(SearchError::Checkpoint)?;
                    resuming(plan, &c.dir, "level", &l.meta);
                    Some(l)
                }
                None => None,
            };
            let options = bfs::Options {
                threads: *threads,
                disk: disk.as_deref(),
                expect_states: *expect_states,
                exact: *exact,
            };
            bfs::run(setup, plan, &options, loaded)
        }
        EnginePlan::Timely(cluster) => {
            distributed::run(setup, plan, cluster)?.ok_or(SearchError::ReportAtProcessZero)
        }
    }
}

/// Checks that the checkpoint in `dir` was written by `engine` for this setup, symmetry and
/// properties.
fn resumable(
    setup: &Setup,
    plan: &Plan,
    dir: &std::path::Path,
    engine: &str,
) -> Result<(), SearchError> {
    let meta = checkpoint::read_meta(dir).map_err(SearchError::Checkpoint)?;
    let names: Vec<&str> = shell::selected(setup, plan)
        .iter()
        .map(|p| p.name)
        .collect();
    checkpoint::check_matches(&meta, engine, setup, plan.symmetry, &names)
        .map_err(SearchError::Checkpoint)
}

/// Says where a resumed run continues, when the plan shows progress.
fn resuming(plan: &Plan, dir: &std::path::Path, at: &str, meta: &checkpoint::Meta) {
    if plan.progress {
        eprintln!(
            "resuming {} at {at} {}: {} states stored, {:.0}s so far",
            dir.display(),
            meta.levels,
            meta.unique,
            meta.seconds
        );
    }
}

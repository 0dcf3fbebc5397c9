//! Exhaustive search: every engine that visits every reachable state of a configuration, and
//! the report they all return.
//!
//! - [`check`]: the entry point, [`check::run`], which picks an engine; stateright's BFS and DFS.
//! - [`stateright_model`]: the model as a `stateright::Model` (also what the explorer serves).
//! - [`bfs`]: the native breadth-first engine: parallel, level by level, shortest
//!   counterexamples.
//! - [`native`]: the native single-threaded DFS over 64-bit fingerprints.
//! - [`distributed`]: the breadth-first engine on timely dataflow, across processes and machines.
//! - [`fingerprints`]: state fingerprints and the native engines' visited tables.
//! - [`levels`]: the native BFS's levels, in memory or in files.
//! - [`checkpoint`]: the native BFS's checkpoints, and resuming from one; [`checksum`]: the
//!   checksums that guard their files.
//! - [`report`]: the report every engine returns (text, JSON, exit code); [`coverage`]: its
//!   action coverage.
//! - [`cli`]: `plasma-check check`; [`explore`]: `plasma-check explore`.

pub mod bfs;
pub mod check;
pub mod checkpoint;
pub mod checksum;
pub mod cli;
pub mod coverage;
pub mod distributed;
pub mod explore;
pub mod fingerprints;
pub mod levels;
pub mod native;
pub mod report;
pub mod stateright_model;

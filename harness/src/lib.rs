//! Drivers for the plasma model. Every driver calls the model's `enabled`/`step` and the one
//! property list in `plasma-properties`; each folder owns one concern, and folders import
//! downwards only:
//!
//! - [`trace`]: the `plasma-trace/1` format, replay and sequence diagrams (the currency between
//!   drivers).
//! - [`search`]: exhaustive search engines (stateright, native), the visited table, reports, and
//!   the explorer.
//! - [`random`]: seeded random exploration and shrinking.
//! - [`hunt`]: every mutant and documented flaw, hunted for its shortest counterexample.
//! - [`conform`]: the model against the real Replicache client.
//! - [`history`]: recorded histories of real servers checked against the model's server.
//! - [`bench`](mod@bench): the benchmark and the comparison with SPIN.
//! - [`presets`] and [`cli`]: the named configurations, and what every subcommand shares.
//!
//! Each folder's `cli` module holds its subcommand's arguments and runner; `main.rs` only
//! dispatches.

pub mod bench;
pub mod cli;
pub mod conform;
pub mod history;
pub mod hunt;
pub mod presets;
pub mod random;
pub mod search;
pub mod trace;

/// Exit codes scripts can rely on.
pub mod exit {
    /// Verified: the run was complete, every `always` holds, every `sometimes` was found.
    pub const VERIFIED: i32 = 0;
    /// A property is violated.
    pub const VIOLATED: i32 = 1;
    /// Bad arguments or bad input.
    pub const BAD_INPUT: i32 = 2;
    /// Not verified: stopped early (timeout, state limit) or a `sometimes` was not reached.
    pub const NOT_VERIFIED: i32 = 3;
}

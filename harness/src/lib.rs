//! Drivers for the plasma model: the stateright adapter and exhaustive check, presets, reports
//! and the CLI's pieces. Every driver calls the model's `enabled`/`step` and the one property
//! list in `plasma-properties`.

pub mod bench;
pub mod check;
pub mod conform;
pub mod diagram;
pub mod fingerprints;
pub mod hunt;
pub mod native;
pub mod presets;
pub mod replay;
pub mod report;
pub mod simulate;
pub mod stateright_model;
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

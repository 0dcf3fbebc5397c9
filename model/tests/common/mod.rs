//! Helpers the model's test files share.

use plasma_model::{Action, Op, Setup, World};

/// Runs `actions` from `w`, failing the test on the first refusal.
pub fn run(s: &Setup, w: &World, actions: &[Action]) -> World {
    actions.iter().fold(w.clone(), |w, a| match w.step(s, a) {
        Ok(n) => n,
        Err(e) => panic!("{a:?} refused: {e}"),
    })
}

/// A tab writes `value` into `row`.
pub fn set(tab: u8, row: u8, value: u8) -> Action {
    Action::Mutate {
        tab,
        op: Op::Set { row, value },
    }
}

//! Running a path of actions from the initial state: the one loop every driver that replays a
//! found path shares (reports, checkpoints, traces).

use crate::{Action, Refusal, Setup, World};

/// A path that does not replay: its action number `step` (from 1) was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refused {
    pub step: usize,
    pub refusal: Refusal,
}

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "step {}: {}", self.step, self.refusal)
    }
}

/// The states `actions` pass through from the initial state: `actions.len() + 1` of them, the
/// initial state first.
pub fn replay(setup: &Setup, actions: &[Action]) -> Result<Vec<World>, Refused> {
    let mut worlds = Vec::with_capacity(actions.len() + 1);
    worlds.push(World::init(setup));
    for (i, a) in actions.iter().enumerate() {
        let Some(before) = worlds.last() else {
            unreachable!("the initial state is there");
        };
        let after = before.step(setup, a).map_err(|refusal| Refused {
            step: i + 1,
            refusal,
        })?;
        worlds.push(after);
    }
    Ok(worlds)
}

/// The numbers of `actions` among the actions enabled in the state each is taken from, the
/// compact form of a path that checkpoints store.
pub fn numbers_of(setup: &Setup, actions: &[Action]) -> Result<Vec<u16>, Refused> {
    let worlds = replay(setup, actions)?;
    let mut enabled = Vec::new();
    let mut out = Vec::with_capacity(actions.len());
    for (w, a) in worlds.iter().zip(actions) {
        enabled.clear();
        w.enabled(setup, &mut enabled);
        out.push(enabled.iter().position(|e| e == a).unwrap_or(0) as u16);
    }
    Ok(out)
}

/// The actions a path of action numbers ([`numbers_of`]) stands for, from the initial state;
/// `None` if a number is not that of an enabled action.
pub fn actions_of(setup: &Setup, numbers: &[u16]) -> Option<Vec<Action>> {
    let mut world = World::init(setup);
    let mut path = Vec::with_capacity(numbers.len());
    let mut enabled = Vec::new();
    for &n in numbers {
        enabled.clear();
        world.enabled(setup, &mut enabled);
        let a = enabled.get(usize::from(n))?.clone();
        world = world.step(setup, &a).ok()?;
        path.push(a);
    }
    Some(path)
}

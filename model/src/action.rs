//! The atomic steps of PROTOCOL.md §3.

use crate::network::Msg;
use crate::{InstallId, RowId, TabId, Value};
use serde::{Deserialize, Serialize};

/// What a mutation does to a row.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Op {
    /// Write `value` into `row` (its table decides how the write merges).
    Set { row: RowId, value: Value },
    /// Increment the CRDT counter in `row`.
    Incr { row: RowId },
}

impl Op {
    pub fn row(&self) -> RowId {
        match *self {
            Op::Set { row, .. } | Op::Incr { row } => row,
        }
    }
}

/// One atomic step. Network deliveries name the message by content: the network is a multiset,
/// so equal messages are interchangeable (the trace format numbers them; see the harness).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Action {
    Mutate {
        tab: TabId,
        op: Op,
    },
    Push {
        tab: TabId,
    },
    Pull {
        tab: TabId,
    },
    Reload {
        tab: TabId,
    },
    OpenTab {
        install: InstallId,
    },
    /// The installation's user signs out (the shared login cookie is cleared).
    Logout {
        install: InstallId,
    },
    /// A user signs in to a signed-out installation.
    Login {
        install: InstallId,
        user: crate::UserId,
    },
    DuplicateTab {
        tab: TabId,
    },
    CloseTab {
        tab: TabId,
    },
    RestoreTab {
        tab: TabId,
    },
    ResetLocalState {
        tab: TabId,
    },
    /// The network delivers a message: server push, server pull, or a tab receiving a response.
    Deliver(Msg),
    /// Fault: the network loses a message.
    Drop(Msg),
    /// Fault: the network delivers a message twice (a copy enters the network).
    Duplicate(Msg),
}

impl Action {
    /// The action's name as the trace format spells it.
    pub fn name(&self) -> &'static str {
        match self {
            Action::Mutate { .. } => "Mutate",
            Action::Push { .. } => "Push",
            Action::Pull { .. } => "Pull",
            Action::Reload { .. } => "Reload",
            Action::OpenTab { .. } => "OpenTab",
            Action::Logout { .. } => "Logout",
            Action::Login { .. } => "Login",
            Action::DuplicateTab { .. } => "DuplicateTab",
            Action::CloseTab { .. } => "CloseTab",
            Action::RestoreTab { .. } => "RestoreTab",
            Action::ResetLocalState { .. } => "ResetLocalState",
            Action::Deliver(_) => "Deliver",
            Action::Drop(_) => "Drop",
            Action::Duplicate(_) => "Duplicate",
        }
    }
}

/// An action as [`crate::World::enabled_at`] lists it for a driver that applies it to the state
/// it was listed for: a delivery, drop or duplicate names its message by its place in that
/// state's network ([`crate::Network::distinct`]) instead of carrying a copy (copying every
/// message in flight for every state took 4.6% of a native search's instructions).
/// [`crate::World::action_of`] gives the [`Action`] itself, for a trace.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Enabled {
    /// Any action but a delivery, a drop or a duplicate.
    Act(Action),
    Deliver(u8),
    Drop(u8),
    Duplicate(u8),
}

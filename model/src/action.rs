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

/// What kind of step an action is, whatever it acts on: the unit of action coverage.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ActionKind {
    Mutate,
    Push,
    Pull,
    Reload,
    OpenTab,
    Logout,
    Login,
    DuplicateTab,
    CloseTab,
    RestoreTab,
    ResetLocalState,
    Deliver,
    Drop,
    Duplicate,
}

impl ActionKind {
    pub const COUNT: usize = 14;

    pub const ALL: [ActionKind; ActionKind::COUNT] = [
        ActionKind::Mutate,
        ActionKind::Push,
        ActionKind::Pull,
        ActionKind::Reload,
        ActionKind::OpenTab,
        ActionKind::Logout,
        ActionKind::Login,
        ActionKind::DuplicateTab,
        ActionKind::CloseTab,
        ActionKind::RestoreTab,
        ActionKind::ResetLocalState,
        ActionKind::Deliver,
        ActionKind::Drop,
        ActionKind::Duplicate,
    ];

    /// The kind's name as the trace format spells it.
    pub fn name(self) -> &'static str {
        match self {
            ActionKind::Mutate => "Mutate",
            ActionKind::Push => "Push",
            ActionKind::Pull => "Pull",
            ActionKind::Reload => "Reload",
            ActionKind::OpenTab => "OpenTab",
            ActionKind::Logout => "Logout",
            ActionKind::Login => "Login",
            ActionKind::DuplicateTab => "DuplicateTab",
            ActionKind::CloseTab => "CloseTab",
            ActionKind::RestoreTab => "RestoreTab",
            ActionKind::ResetLocalState => "ResetLocalState",
            ActionKind::Deliver => "Deliver",
            ActionKind::Drop => "Drop",
            ActionKind::Duplicate => "Duplicate",
        }
    }

    /// Whether the configuration's limits and the protocol's switches leave room for this
    /// kind at all. A kind allowed here that a complete run never takes points at a bound or a
    /// preset that hides it.
    pub fn allowed(self, setup: &crate::Setup) -> bool {
        let c = &setup.config;
        let more_tabs = c.tabs > c.installs;
        match self {
            ActionKind::Mutate => c.max_mutations > 0,
            ActionKind::Push | ActionKind::Pull | ActionKind::Deliver | ActionKind::CloseTab => {
                true
            }
            // A page keeps nothing in memory that a reload could lose unless it counts
            // mutationIDs in memory, holds request slots, pulls as it opens or mints its
            // clientID per instance; otherwise a reload is a self-loop, left out of the search.
            ActionKind::Reload => {
                let p = &setup.protocol;
                p.mid_counter == crate::MidCounter::Outbox
                    || p.client_id == crate::ClientIdScope::Instance
                    || p.pull_on_open
                    || p.request_slots
            }
            ActionKind::OpenTab | ActionKind::DuplicateTab | ActionKind::RestoreTab => more_tabs,
            ActionKind::ResetLocalState => c.max_resets > 0,
            ActionKind::Logout => c.max_auth_changes > 0,
            ActionKind::Login => c.max_auth_changes > 1,
            ActionKind::Drop => c.drops > 0,
            ActionKind::Duplicate => c.duplicates > 0 && !setup.protocol.request_slots,
        }
    }

    /// The kind's place in [`ActionKind::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }
}

impl Enabled {
    /// The kind of step this is.
    pub fn kind(&self) -> ActionKind {
        match self {
            Enabled::Act(a) => a.kind(),
            Enabled::Deliver(_) => ActionKind::Deliver,
            Enabled::Drop(_) => ActionKind::Drop,
            Enabled::Duplicate(_) => ActionKind::Duplicate,
        }
    }
}

impl Action {
    /// The kind of step this is.
    pub fn kind(&self) -> ActionKind {
        match self {
            Action::Mutate { .. } => ActionKind::Mutate,
            Action::Push { .. } => ActionKind::Push,
            Action::Pull { .. } => ActionKind::Pull,
            Action::Reload { .. } => ActionKind::Reload,
            Action::OpenTab { .. } => ActionKind::OpenTab,
            Action::Logout { .. } => ActionKind::Logout,
            Action::Login { .. } => ActionKind::Login,
            Action::DuplicateTab { .. } => ActionKind::DuplicateTab,
            Action::CloseTab { .. } => ActionKind::CloseTab,
            Action::RestoreTab { .. } => ActionKind::RestoreTab,
            Action::ResetLocalState { .. } => ActionKind::ResetLocalState,
            Action::Deliver(_) => ActionKind::Deliver,
            Action::Drop(_) => ActionKind::Drop,
            Action::Duplicate(_) => ActionKind::Duplicate,
        }
    }

    /// The action's name as the trace format spells it.
    pub fn name(&self) -> &'static str {
        self.kind().name()
    }
}

/// An action as [`crate::World::enabled_at`] lists it for a driver that applies it to the state
/// it was listed for: a delivery, drop or duplicate names its message by its place in that
/// state's network ([`crate::Network::distinct`]) instead of carrying a copy (copying every
/// message in flight for every state is a cost the searches need not pay).
/// [`crate::World::action_of`] gives the [`Action`] itself, for a trace.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Enabled {
    /// Any action but a delivery, a drop or a duplicate.
    Act(Action),
    Deliver(u8),
    Drop(u8),
    Duplicate(u8),
}

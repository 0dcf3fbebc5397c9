//! A browser tab: its clientID lives in sessionStorage (survives reload, not a new tab), its view
//! in memory.

use crate::{ClientId, InstallId, Mid, Rows};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TabStatus {
    Open,
    /// Closed; "Reopen closed tab" may restore it once.
    Closed,
    /// Closed, and its installation has logged in since (under `group_id = idb-per-user`): the
    /// clientID in its sessionStorage belongs to another user's IndexedDB, so the restored page
    /// mints a fresh one, as the login did for the open tabs.
    ClosedBeforeLogin,
    /// Closed and already restored (as a new tab number): cannot be restored again.
    Restored,
}

/// A tab instance's requests of one kind (switch `request_slots`; always `Idle` without it).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Slot {
    /// Nothing in flight.
    #[default]
    Idle,
    /// One request in flight, not yet answered or failed.
    Open,
    /// One in flight, and another asked for: sent when the outstanding one completes.
    Queued,
}

impl Slot {
    pub fn code(self) -> u8 {
        match self {
            Slot::Idle => 0,
            Slot::Open => 1,
            Slot::Queued => 2,
        }
    }
}

#[derive(Debug, PartialEq, Eq, Hash)]
pub struct Tab {
    pub install: InstallId,
    /// The clientID in this tab's sessionStorage.
    pub client: ClientId,
    pub status: TabStatus,
    /// In memory: base with this tab's pending mutations replayed. Empty when closed.
    pub view: Rows,
    /// In memory: last allocated mutationID under `mid_counter = outbox`; `None` until the page
    /// derives it from the outbox (always `None` under `mid_counter = idb`).
    pub mem_mid: Option<Mid>,
    /// The instance's push and pull requests (switch `request_slots`).
    pub push: Slot,
    pub pull: Slot,
}

crate::fieldwise_clone!(Tab {
    install,
    client,
    status,
    view,
    mem_mid,
    push,
    pull
});

impl Tab {
    pub fn is_open(&self) -> bool {
        self.status == TabStatus::Open
    }

    /// Closed and not yet restored: "Reopen closed tab" may bring it back.
    pub fn is_closed(&self) -> bool {
        matches!(
            self.status,
            TabStatus::Closed | TabStatus::ClosedBeforeLogin
        )
    }

    /// A new client in this tab (a reset, or a login onto another user's IndexedDB): a new
    /// clientID, no in-memory mutationID counter, and no outstanding request (responses to the
    /// old clientID no longer reach the tab under `request_slots`).
    pub fn rotate(&mut self, client: ClientId) {
        self.client = client;
        self.mem_mid = None;
        self.push = Slot::Idle;
        self.pull = Slot::Idle;
    }
}

impl crate::vecmap::Inline for TabStatus {
    fn is_inline(&self) -> bool {
        true
    }
}

impl crate::vecmap::Inline for Slot {
    fn is_inline(&self) -> bool {
        true
    }
}

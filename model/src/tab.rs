//! A browser tab: its clientID lives in sessionStorage (survives reload, not a new tab), its view
//! in memory.

use crate::{ClientId, InstallId, Mid, Rows};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TabStatus {
    Open,
    /// Closed; "Reopen closed tab" may restore it once.
    Closed,
    /// Closed and already restored (as a new tab number): cannot be restored again.
    Restored,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
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
}

impl Tab {
    pub fn is_open(&self) -> bool {
        self.status == TabStatus::Open
    }
}

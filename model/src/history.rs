//! Ghost state: what happened, kept so that properties can be pure predicates over one state.
//! The protocol never reads it.

use crate::{ClientId, CopyVec, GroupId, InstallId, Mid, Op, Serial, TabId, UserId};

/// A mutation as it was created by `Mutate`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Created {
    /// The installation and tab that created it.
    pub install: InstallId,
    pub tab: TabId,
    pub group: GroupId,
    pub client: ClientId,
    pub mid: Mid,
    pub op: Op,
    /// The installation's signed-in user when the mutation was created.
    pub user: Option<UserId>,
}

/// The server processed a mutation: applied it, or (`auth.write` denied) recorded it with no
/// effect. Either way its watermark moved past it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Processed {
    pub serial: Serial,
    pub applied: bool,
    /// The user of the request that carried it.
    pub user: Option<UserId>,
}

#[derive(Debug, Default, PartialEq, Eq, Hash)]
pub struct History {
    /// Every mutation ever created; its index is its [`Serial`].
    pub created: CopyVec<Created, 4>,
    /// What the server processed, in order.
    pub processed: CopyVec<Processed, 4>,
    /// Serials a tab discarded by resetting its own local state while they were pending: a
    /// user-visible discard, not a loss.
    pub discarded: CopyVec<Serial, 8>,
    /// Serials whose confirmed write a reset wiped from their installation's base (they left
    /// the outbox before the reset): read-your-writes no longer applies to them.
    pub wiped: CopyVec<Serial, 8>,
    /// Transitions that broke a monotonicity rule (bit flags below).
    pub broken: u8,
}

crate::fieldwise_clone!(History {
    created,
    processed,
    discarded,
    wiped,
    broken
});

impl History {
    /// A server watermark went backwards.
    pub const WATERMARK_REGRESSED: u8 = 1;
    /// An installation's cookie went backwards (a reset's wipe to "no cookie" excepted).
    pub const COOKIE_REGRESSED: u8 = 2;

    pub fn was_processed(&self, serial: Serial) -> bool {
        self.processed.iter().any(|p| p.serial == serial)
    }

    /// Applied mutations, in application (= row_version) order.
    pub fn applied(&self) -> impl Iterator<Item = &Processed> {
        self.processed.iter().filter(|p| p.applied)
    }

    pub fn was_discarded(&self, serial: Serial) -> bool {
        self.discarded.contains(&serial)
    }

    /// The server version that applied `serial` (each application bumps the version by one),
    /// if it was applied.
    pub fn applied_version(&self, serial: Serial) -> Option<u8> {
        self.applied()
            .position(|p| p.serial == serial)
            .map(|i| i as u8 + 1)
    }
}

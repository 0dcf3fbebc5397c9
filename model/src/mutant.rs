//! Mutants: single deliberate bugs on top of the hardened protocol. Each must be caught by some
//! property; a mutant that survives means the properties (or the bounds) are too weak.

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mutant {
    /// The server applies a mutation whose mid is at or below the watermark again.
    NoDedup,
    /// The server keeps one watermark per clientGroupID instead of per (group, client).
    WatermarkPerGroup,
    /// The outbox is keyed by mutationID only: two tabs' entries with the same mid collide.
    OutboxByMid,
    /// The client drops outbox entries when the push response acknowledges them, instead of on
    /// pull confirmation.
    AckOnPushResponse,
    /// The client applies every pull response, whatever cookie it was based on.
    AcceptStalePull,
    /// The client resolves a tail patch by arrival: a row it already holds keeps its value.
    LwwByArrival,
    /// A pull response's `lastMutationIDs` carries the clients of every group.
    LmidsAllGroups,
    /// After a pull the tab shows the new base without replaying its pending mutations.
    RebaseWithoutReplay,
    /// `resetLocalState()` keeps the clientID (switch `rotate_on_reset` off).
    ResetWithoutRotation,
    /// Confirmation confuses client and group: every slice is confirmed up to the tab's own
    /// client's lastMutationID.
    ConfirmByGroup,
    /// A push sends the slice in descending mutationID order.
    PushOutOfOrder,
    /// The server keeps using the first auth ctx it stored for a (group, client), even after
    /// the installation's user changed.
    AuthCtxCached,
    /// The client turns an increment into a plain write of the value it sees plus one.
    CounterAsLww,
    /// The server applies every mutation without asking `auth.write`.
    WriteUnchecked,
    /// The server ignores the table's `resolveConflict`: the last write wins.
    ResolveConflictIgnored,
    /// A push carries pending mutations whoever made them: after a user switch, the new user's
    /// tab pushes the previous user's slices.
    PushAnyAuthor,
    /// A tab closed before a login and restored after it keeps the clientID in its
    /// sessionStorage, minted on the previous user's IndexedDB.
    RestoreAcrossLogin,
}

impl Mutant {
    pub const ALL: [Mutant; 17] = [
        Mutant::NoDedup,
        Mutant::WatermarkPerGroup,
        Mutant::OutboxByMid,
        Mutant::AckOnPushResponse,
        Mutant::AcceptStalePull,
        Mutant::LwwByArrival,
        Mutant::LmidsAllGroups,
        Mutant::RebaseWithoutReplay,
        Mutant::ResetWithoutRotation,
        Mutant::ConfirmByGroup,
        Mutant::PushOutOfOrder,
        Mutant::AuthCtxCached,
        Mutant::CounterAsLww,
        Mutant::WriteUnchecked,
        Mutant::ResolveConflictIgnored,
        Mutant::PushAnyAuthor,
        Mutant::RestoreAcrossLogin,
    ];

    /// The mutant's name as the CLI and traces spell it (kebab-case).
    pub fn name(self) -> &'static str {
        match self {
            Mutant::NoDedup => "no-dedup",
            Mutant::WatermarkPerGroup => "watermark-per-group",
            Mutant::OutboxByMid => "outbox-by-mid",
            Mutant::AckOnPushResponse => "ack-on-push-response",
            Mutant::AcceptStalePull => "accept-stale-pull",
            Mutant::LwwByArrival => "lww-by-arrival",
            Mutant::LmidsAllGroups => "lmids-all-groups",
            Mutant::RebaseWithoutReplay => "rebase-without-replay",
            Mutant::ResetWithoutRotation => "reset-without-rotation",
            Mutant::ConfirmByGroup => "confirm-by-group",
            Mutant::PushOutOfOrder => "push-out-of-order",
            Mutant::AuthCtxCached => "auth-ctx-cached",
            Mutant::CounterAsLww => "counter-as-lww",
            Mutant::WriteUnchecked => "write-unchecked",
            Mutant::ResolveConflictIgnored => "resolve-conflict-ignored",
            Mutant::PushAnyAuthor => "push-any-author",
            Mutant::RestoreAcrossLogin => "restore-across-login",
        }
    }

    pub fn from_name(name: &str) -> Option<Mutant> {
        Mutant::ALL.into_iter().find(|m| m.name() == name)
    }

    /// One sentence: the bug.
    pub fn about(self) -> &'static str {
        match self {
            Mutant::NoDedup => "the server re-applies a mutation at or below the watermark",
            Mutant::WatermarkPerGroup => {
                "one watermark per clientGroupID instead of per (group, client)"
            }
            Mutant::OutboxByMid => "the outbox is keyed by mutationID only",
            Mutant::AckOnPushResponse => {
                "outbox entries are dropped on push acknowledgement, not pull confirmation"
            }
            Mutant::AcceptStalePull => "a pull response is applied whatever cookie it was based on",
            Mutant::LwwByArrival => {
                "a tail patch does not overwrite a row the client already holds"
            }
            Mutant::LmidsAllGroups => "lastMutationIDs carries the clients of every group",
            Mutant::RebaseWithoutReplay => {
                "after a pull the view is the new base, pending mutations not replayed"
            }
            Mutant::ResetWithoutRotation => "resetLocalState() keeps the clientID",
            Mutant::ConfirmByGroup => "every slice is confirmed up to the tab's own lastMutationID",
            Mutant::PushOutOfOrder => "a push sends its slice in descending mutationID order",
            Mutant::AuthCtxCached => {
                "the server keeps the first auth ctx of a client across logout"
            }
            Mutant::CounterAsLww => {
                "an increment is sent as a write of the value the client sees plus one"
            }
            Mutant::WriteUnchecked => "the server applies mutations without asking auth.write",
            Mutant::ResolveConflictIgnored => {
                "the server ignores resolveConflict: the last write wins"
            }
            Mutant::PushAnyAuthor => {
                "a push carries pending mutations whoever made them, after a user switch too"
            }
            Mutant::RestoreAcrossLogin => {
                "a tab closed before a login is restored with the previous user's clientID"
            }
        }
    }

    /// Mutants that are a protocol switch set the wrong way.
    pub fn apply(self, protocol: &mut crate::Protocol) {
        if self == Mutant::ResetWithoutRotation {
            protocol.rotate_on_reset = false;
        }
    }
}

//! An installation: one browser profile's IndexedDB, shared by all its tabs. The outbox is keyed
//! `[clientID, mutationID]`, so each tab owns a slice of it.

use crate::VecMap;
use crate::{ClientId, Config, GroupId, Mid, Op, Rows, Scope, Serial, Setup, UserId, Version};
use smallvec::SmallVec;

/// A pending mutation in the outbox.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Entry {
    pub op: Op,
    pub serial: Serial,
}

#[derive(Debug, PartialEq, Eq, Hash)]
pub struct Install {
    pub group: GroupId,
    /// The last pulled server view.
    pub base: Rows,
    /// The server version `base` reflects; `None` before the first pull and after a reset.
    pub cookie: Option<Version>,
    pub outbox: VecMap<(ClientId, Mid), Entry, 4>,
    /// Last allocated mutationID per clientID (switch `mid_counter = idb`).
    pub next_mid: VecMap<ClientId, Mid, 2>,
    /// The signed-in user (the login cookie all tabs of the profile share).
    pub signed_in: Option<UserId>,
    /// The user the base and cookie were pulled as (`None` before the first pull, after a
    /// reset, and when pulled signed out).
    pub base_user: Option<UserId>,
}

crate::fieldwise_clone!(Install {
    group,
    base,
    cookie,
    outbox,
    next_mid,
    signed_in,
    base_user
});

impl Install {
    pub fn new(group: GroupId, rows: u8, user: Option<UserId>) -> Self {
        Install {
            group,
            base: Rows::from_elem(None, usize::from(rows)),
            cookie: None,
            outbox: VecMap::new(),
            next_mid: VecMap::new(),
            signed_in: user,
            base_user: None,
        }
    }

    /// The clientGroupID this installation's requests carry now (switch `group_id`).
    pub fn group_of(&self, setup: &Setup) -> GroupId {
        match setup.protocol.group_id {
            crate::GroupIdentity::IdbPerUser | crate::GroupIdentity::Idb => self.group,
            crate::GroupIdentity::User => self.signed_in.unwrap_or(setup.config.users),
        }
    }

    /// One clientID's slice of the outbox, in mutationID order.
    pub fn slice(&self, client: ClientId) -> impl Iterator<Item = (Mid, &Entry)> {
        self.outbox
            .range((client, 0)..=(client, Mid::MAX))
            .map(|(&(_, mid), e)| (mid, e))
    }

    /// The highest mutationID pending in a clientID's slice (0 when the slice is empty).
    pub fn max_pending_mid(&self, client: ClientId) -> Mid {
        self.slice(client).last().map_or(0, |(mid, _)| mid)
    }

    /// clientIDs with pending entries, in order, each once: the outbox is ordered by
    /// `(clientID, mutationID)`, so each clientID's entries are adjacent.
    pub fn pending_clients(&self) -> impl Iterator<Item = ClientId> + '_ {
        let mut last = None;
        self.outbox.keys().filter_map(move |&(c, _)| {
            let new = last != Some(c);
            last = Some(c);
            new.then_some(c)
        })
    }

    /// Removes a clientID's slice and returns the serials it held.
    pub fn remove_slice(&mut self, client: ClientId) -> SmallVec<[Serial; 4]> {
        let keys: SmallVec<[_; 4]> = self.slice(client).map(|(mid, _)| (client, mid)).collect();
        keys.iter()
            .filter_map(|k| self.outbox.remove(k))
            .map(|e| e.serial)
            .collect()
    }

    /// A tab's view: `base` with the clientID's own pending mutations replayed in mid order.
    pub fn replay(&self, config: &Config, client: ClientId) -> Rows {
        let mut view = self.base.clone();
        for (_, e) in self.slice(client) {
            apply_op(config, &mut view, &e.op);
        }
        view
    }

    /// Every pending entry of the installation, in creation order (a Replicache client group's
    /// chain of local commits): `(clientID, mutationID, entry)`.
    pub fn pending_in_order(&self) -> SmallVec<[(ClientId, Mid, Entry); 4]> {
        let mut all: SmallVec<[(ClientId, Mid, Entry); 4]> =
            self.outbox.iter().map(|(&(c, m), &e)| (c, m, e)).collect();
        all.sort_by_key(|&(_, _, e)| e.serial);
        all
    }

    /// A tab's view under switch `view_scope`: its own slice replayed (`slice`), or every
    /// pending mutation of the group in creation order (`group`).
    pub fn view_of(&self, setup: &Setup, client: ClientId) -> Rows {
        match setup.protocol.view_scope {
            Scope::Slice => self.replay(&setup.config, client),
            Scope::Group => {
                let mut view = self.base.clone();
                for (_, _, e) in self.pending_in_order() {
                    apply_op(&setup.config, &mut view, &e.op);
                }
                view
            }
        }
    }
}

/// Applies an optimistic mutation to a local view, with the table's merge rule.
pub fn apply_op(config: &Config, view: &mut Rows, op: &Op) {
    let slot = &mut view[usize::from(op.row())];
    *slot = crate::auth::merge(config, *slot, op);
}

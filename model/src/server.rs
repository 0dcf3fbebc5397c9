//! The server: rows stamped with `row_version`, and the `last_mutation_id` watermark per
//! `(clientGroupID, clientID)` that makes retries idempotent.

use crate::auth;
use crate::history::{History, Processed};
use crate::network::{Msg, Patch, Pushed};
use crate::{
    ClientId, GroupId, Mid, Mutant, Op, PullFrom, Scope, Setup, SignedOutPush, TabId, UserId,
    Value, Version,
};
use crate::{CopyVec, VecMap};
use smallvec::SmallVec;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct ServerRow {
    pub value: Option<Value>,
    /// The server version that last wrote the row.
    pub row_version: Version,
}

#[derive(Debug, PartialEq, Eq, Hash)]
pub struct Server {
    /// Bumped by every applied mutation; the cookie a pull returns.
    pub version: Version,
    pub rows: CopyVec<ServerRow, 4>,
    /// `(clientGroupID, clientID) -> last_mutation_id`; a client is created on its first push.
    pub clients: VecMap<(GroupId, ClientId), Mid, 4>,
    /// The auth ctx stored per `(clientGroupID, clientID)` (kept only by the `auth-ctx-cached`
    /// mutant: see `authorise`).
    pub auth_ctx: VecMap<(GroupId, ClientId), Option<UserId>, 2>,
    /// The last cookie served to each clientGroupID: what the group has seen, as far as the
    /// server knows (kept only under `pull_from = group`, which computes patches from it).
    pub served: VecMap<GroupId, Version, 2>,
}

crate::fieldwise_clone!(Server {
    version,
    rows,
    clients,
    auth_ctx,
    served
});

/// A pull request's fields: tab, group, client, user, cookie and the cookie's user.
pub type PullRequest = (
    TabId,
    GroupId,
    ClientId,
    Option<UserId>,
    Option<Version>,
    Option<UserId>,
);

impl Server {
    pub fn new(rows: u8) -> Self {
        Server {
            version: 0,
            rows: CopyVec::from_elem(ServerRow::default(), usize::from(rows)),
            clients: VecMap::new(),
            auth_ctx: VecMap::new(),
            served: VecMap::new(),
        }
    }

    pub fn last_mutation_id(&self, group: GroupId, client: ClientId) -> Mid {
        self.clients.get(&(group, client)).copied().unwrap_or(0)
    }

    /// The rows as a fully caught-up client would see them.
    pub fn view(&self) -> crate::Rows {
        self.rows.iter().map(|r| r.value).collect()
    }

    /// The user a request is served as: the request's own user (the server re-runs `auth()`
    /// and stores the new ctx when it changed), or under the `auth-ctx-cached` mutant the first
    /// ctx it ever stored for this (group, client).
    fn authorise(
        &mut self,
        setup: &Setup,
        group: GroupId,
        client: ClientId,
        user: Option<UserId>,
    ) -> Option<UserId> {
        // Re-running authorisation whenever the user changed makes the request's user the ctx,
        // so only the mutant, which keeps the first ctx, needs to remember it (remembering it
        // otherwise would split states that behave alike).
        if !setup.has(Mutant::AuthCtxCached) {
            return user;
        }
        *self.auth_ctx.get_or_insert((group, client), user)
    }

    /// Handles a push: each mutation in order, `mid <= last` is a retry (no-op), `mid == last+1`
    /// is applied if `auth.write` allows it (else recorded as processed with no effect),
    /// `mid > last+1` is a gap and stops the request. A signed-out request is refused whole
    /// (under `signed_out_push = process` it is processed, and `auth.write` denies each mutation).
    /// Returns the response.
    #[allow(clippy::too_many_arguments)]
    pub fn push(
        &mut self,
        setup: &Setup,
        history: &mut History,
        tab: TabId,
        group: GroupId,
        client: ClientId,
        user: Option<UserId>,
        mutations: &[Pushed],
    ) -> Msg {
        // The mutant keeps one watermark per group, under clientID 0.
        let key = |c: ClientId| {
            if setup.has(Mutant::WatermarkPerGroup) {
                (group, 0)
            } else {
                (group, c)
            }
        };
        // Watermarks as this request moves them. A slice push creates its client's entry even
        // when it carries nothing new; a group push (each mutation names its clientID) creates
        // the entries of the clients it carries.
        let mut lasts: SmallVec<[((GroupId, ClientId), Mid); 2]> = SmallVec::new();
        if setup.protocol.push_scope == Scope::Slice {
            lasts.push((key(client), self.last_mutation_id(group, key(client).1)));
        }
        let ctx = self.authorise(setup, group, client, user);
        if ctx.is_some() || setup.protocol.signed_out_push == SignedOutPush::Process {
            for m in mutations {
                let k = key(m.client);
                let i = match lasts.iter().position(|&(x, _)| x == k) {
                    Some(i) => i,
                    None => {
                        lasts.push((k, self.last_mutation_id(k.0, k.1)));
                        lasts.len() - 1
                    }
                };
                let last = lasts[i].1;
                if m.mid <= last {
                    if setup.has(Mutant::NoDedup) {
                        self.process(setup, history, m, ctx, user);
                    }
                    continue;
                }
                if m.mid != last + 1 {
                    break;
                }
                self.process(setup, history, m, ctx, user);
                lasts[i].1 = m.mid;
            }
            for &(k, last) in &lasts {
                let before = self.clients.insert(k, last);
                if before.is_some_and(|b| b > last) {
                    history.broken |= History::WATERMARK_REGRESSED;
                }
            }
        }
        let last = self.last_mutation_id(group, key(client).1);
        Msg::PushResp {
            tab,
            client,
            last_mutation_id: last,
        }
    }

    /// [`Server::push`] where it leaves the server and the history as they are (`None` where
    /// it may change them): a retry of mutations processed already, or a refused signed-out
    /// request. Such a push then needs no mutable borrow, so that a state records no change
    /// to its server or history (and a search does not encode them again).
    #[allow(clippy::too_many_arguments)]
    pub fn push_unchanged(
        &self,
        setup: &Setup,
        tab: TabId,
        group: GroupId,
        client: ClientId,
        user: Option<UserId>,
        mutations: &[Pushed],
    ) -> Option<Msg> {
        // The same decisions as `push`, which writes where these do not hold: the mutants
        // re-apply retries or store the auth ctx; a watermark entry is created for every
        // client the request reaches; a mutation next in line is processed.
        if setup.has(Mutant::NoDedup) || setup.has(Mutant::AuthCtxCached) {
            return None;
        }
        let key = |c: ClientId| {
            if setup.has(Mutant::WatermarkPerGroup) {
                (group, 0)
            } else {
                (group, c)
            }
        };
        let stored = |k: (GroupId, ClientId)| self.clients.get(&k).is_some();
        if user.is_some() || setup.protocol.signed_out_push == SignedOutPush::Process {
            if setup.protocol.push_scope == Scope::Slice && !stored(key(client)) {
                return None;
            }
            for m in mutations {
                let k = key(m.client);
                if !stored(k) {
                    return None;
                }
                let last = self.last_mutation_id(k.0, k.1);
                if m.mid <= last {
                    continue;
                }
                if m.mid != last + 1 {
                    break;
                }
                return None;
            }
        }
        Some(Msg::PushResp {
            tab,
            client,
            last_mutation_id: self.last_mutation_id(group, key(client).1),
        })
    }

    fn process(
        &mut self,
        setup: &Setup,
        history: &mut History,
        m: &Pushed,
        ctx: Option<UserId>,
        user: Option<UserId>,
    ) {
        let allowed =
            setup.has(Mutant::WriteUnchecked) || auth::write(&setup.config, ctx, m.op.row());
        if allowed {
            self.version += 1;
            let row = &mut self.rows[usize::from(m.op.row())];
            let value = match m.op {
                Op::Set { value, .. } if setup.has(Mutant::ResolveConflictIgnored) => Some(value),
                op => auth::merge(&setup.config, row.value, &op),
            };
            *row = ServerRow {
                value,
                row_version: self.version,
            };
        } else if setup.protocol.cookie_per_change {
            // The watermark moves: so must the cookie.
            self.version = self.version.saturating_add(1);
        }
        history.processed.push(Processed {
            serial: m.serial,
            applied: allowed,
            user,
        });
    }

    /// Handles a pull: the rows `auth.read` allows, as a full reset patch when the request has
    /// no cookie (or, with `auth_change_reset`, when its cookie was issued to another user), else
    /// as the tail written after the cookie; the watermarks of the request's group only.
    pub fn pull(&mut self, setup: &Setup, request: PullRequest) -> Msg {
        let (_, group, client, user, cookie, cookie_user) = request;
        let ctx = self.authorise(setup, group, client, user);
        let auth_reset = setup.protocol.auth_change_reset && cookie_user != ctx;
        if auth_reset && cookie == Some(self.version) && setup.protocol.cookie_per_change {
            // Another user's rows under the same cookie would be ignored: the cookie moves.
            self.version = self.version.saturating_add(1);
        }
        // The page's per-group record: the server trusts what it last served the group over
        // the request's own cookie (echoed back as the response's base all the same).
        let since = match setup.protocol.pull_from {
            PullFrom::Cookie => cookie,
            PullFrom::Group => {
                let seen = self.served.get(&group).copied();
                self.served.insert(group, self.version);
                cookie.and(seen.or(cookie))
            }
        };
        self.pull_response(setup, request, ctx, since)
    }

    /// [`Server::pull`] where it leaves the server as it is (`None` where it may change it):
    /// the common case, which then needs no mutable borrow, so that a state records no change
    /// to its server (and a search does not encode it again).
    pub fn pull_unchanged(&self, setup: &Setup, request: PullRequest) -> Option<Msg> {
        let (_, _, _, user, cookie, cookie_user) = request;
        // The same decisions as `pull`, which writes where these do not hold.
        if setup.has(Mutant::AuthCtxCached) || setup.protocol.pull_from != PullFrom::Cookie {
            return None;
        }
        let ctx = user;
        let auth_reset = setup.protocol.auth_change_reset && cookie_user != ctx;
        if auth_reset && cookie == Some(self.version) && setup.protocol.cookie_per_change {
            return None;
        }
        Some(self.pull_response(setup, request, ctx, cookie))
    }

    /// The response to a pull request served as `ctx`, with rows written after `since`.
    fn pull_response(
        &self,
        setup: &Setup,
        (tab, group, client, user, cookie, cookie_user): PullRequest,
        ctx: Option<UserId>,
        since: Option<Version>,
    ) -> Msg {
        let config = &setup.config;
        let written = self.rows.iter().enumerate().filter_map(|(r, row)| {
            let r = r as u8;
            row.value
                .filter(|_| auth::read(config, ctx, r))
                .map(|v| (r, v, row.row_version))
        });
        let auth_reset = setup.protocol.auth_change_reset && cookie_user != ctx;
        let reset = cookie.is_none() || auth_reset;
        let patch = match since {
            Some(c) if !reset => Patch::Tail(
                written
                    .filter(|&(_, _, rv)| rv > c)
                    .map(|(r, v, _)| (r, v))
                    .collect(),
            ),
            _ => Patch::Reset(written.map(|(r, v, _)| (r, v)).collect()),
        };
        let groups = if setup.has(Mutant::LmidsAllGroups) {
            (0, 0)..=(GroupId::MAX, ClientId::MAX)
        } else {
            (group, 0)..=(group, ClientId::MAX)
        };
        let last_mutation_ids = self
            .clients
            .range(groups)
            .map(|(&(_, c), &lmid)| (c, lmid))
            .collect();
        Msg::PullResp {
            tab,
            group,
            user,
            base_cookie: cookie,
            base_user: cookie_user,
            cookie: self.version,
            patch,
            last_mutation_ids,
            to_client: setup.protocol.request_slots.then_some(client),
        }
    }
}

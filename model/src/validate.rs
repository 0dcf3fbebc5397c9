//! The structural invariants every reachable state keeps, checked on a state that did not come
//! from [`World::step`]: [`World::decode`] accepts any bytes that parse, and `step`, `enabled`,
//! symmetry and the properties index collections by the numbers a state holds (a tab's
//! installation, a serial into the history, a row), so a state read back from a file (a
//! checkpoint) must be refused before any of them sees it, instead of panicking there.

use crate::network::{Msg, Pushed};
use crate::{GroupIdentity, Op, Setup, World};

/// The bounds numbers in a state stay within, from the setup and the state's own counts.
struct Bounds {
    rows: u8,
    installs: usize,
    tabs: usize,
    clients: u8,
    serials: usize,
    groups: u8,
    users: u8,
    /// mutationIDs count a clientID's mutations, and no more are created than this.
    mids: u8,
}

/// Every other number in a state (versions, cookies, values, copies, counters) is at most this
/// (the encoding writes `Some(v)` as `v + 1`, and the step function counts up by one).
const SMALL: u8 = 250;

impl Bounds {
    fn row(&self, what: &str, row: u8) -> Result<(), String> {
        below(what, "row", row, self.rows)
    }
    fn op(&self, what: &str, op: &Op) -> Result<(), String> {
        if let Op::Set { value, .. } = op {
            small(what, "value", Some(*value))?;
        }
        self.row(what, op.row())
    }
    fn mid(&self, what: &str, mid: Option<u8>) -> Result<(), String> {
        mid.map_or(Ok(()), |m| {
            below(what, "mutationID", m, self.mids.saturating_add(1))
        })
    }
    fn tab(&self, what: &str, tab: u8) -> Result<(), String> {
        below(what, "tab", usize::from(tab), self.tabs)
    }
    fn install(&self, what: &str, install: u8) -> Result<(), String> {
        below(what, "installation", usize::from(install), self.installs)
    }
    fn client(&self, what: &str, client: u8) -> Result<(), String> {
        below(what, "clientID", client, self.clients)
    }
    fn serial(&self, what: &str, serial: u8) -> Result<(), String> {
        below(what, "serial", usize::from(serial), self.serials)
    }
    fn group(&self, what: &str, group: u8) -> Result<(), String> {
        below(what, "clientGroupID", group, self.groups)
    }
    fn user(&self, what: &str, user: Option<u8>) -> Result<(), String> {
        user.map_or(Ok(()), |u| below(what, "user", u, self.users))
    }
    fn pushed(&self, what: &str, p: &Pushed) -> Result<(), String> {
        self.client(what, p.client)?;
        self.mid(what, Some(p.mid))?;
        self.op(what, &p.op)?;
        self.serial(what, p.serial)
    }
}

fn below<T: PartialOrd + std::fmt::Display>(
    what: &str,
    kind: &str,
    value: T,
    bound: T,
) -> Result<(), String> {
    if value < bound {
        Ok(())
    } else {
        Err(format!(
            "{what}: {kind} {value} is out of range (below {bound})"
        ))
    }
}

fn small(what: &str, kind: &str, value: Option<u8>) -> Result<(), String> {
    value.map_or(Ok(()), |v| below(what, kind, v, SMALL + 1))
}

fn rows_small(what: &str, rows: &[Option<u8>]) -> Result<(), String> {
    rows.iter().try_for_each(|&v| small(what, "value", v))
}

fn len_is(what: &str, len: usize, expected: u8) -> Result<(), String> {
    if len == usize::from(expected) {
        Ok(())
    } else {
        Err(format!(
            "{what} has {len} rows, the configuration {expected}"
        ))
    }
}

impl World {
    /// `Ok` if every number in the state is within the range the code that reads it indexes
    /// by (the setup's bounds, and the state's own tabs, clientIDs and history); the message
    /// names the first part that is not. Every state [`World::step`] reaches passes.
    pub fn validate(&self, setup: &Setup) -> Result<(), String> {
        let c = &setup.config;
        let b = Bounds {
            rows: c.total_rows(),
            installs: usize::from(c.installs),
            tabs: self.tabs.len(),
            clients: self.next_client,
            serials: self.history.created.len(),
            groups: match setup.protocol.group_id {
                GroupIdentity::User => c.users.saturating_add(1),
                GroupIdentity::Idb | GroupIdentity::IdbPerUser => c.installs,
            },
            users: c.users.max(1),
            mids: c.max_mutations,
        };
        for (i, n) in self.counters().into_iter().enumerate() {
            small("the counters", &format!("counter {i}"), Some(n))?;
        }
        if self.installs.len() != b.installs {
            return Err(format!(
                "{} installations, the configuration has {}",
                self.installs.len(),
                c.installs
            ));
        }
        if self.tabs.len() < b.installs || self.tabs.len() > usize::from(c.tabs) {
            return Err(format!(
                "{} tabs, the configuration allows {} to {}",
                self.tabs.len(),
                c.installs,
                c.tabs
            ));
        }
        if self.next_client < c.installs {
            return Err(format!(
                "next clientID {} is below the initial tabs' {}",
                self.next_client, c.installs
            ));
        }
        if self.history.created.len() > usize::from(c.max_mutations) {
            return Err(format!(
                "{} mutations created, the configuration allows {}",
                self.history.created.len(),
                c.max_mutations
            ));
        }
        self.validate_server(&b)?;
        self.validate_installs(&b)?;
        self.validate_tabs(&b)?;
        self.validate_network(&b)?;
        self.validate_history(&b)
    }

    fn validate_server(&self, b: &Bounds) -> Result<(), String> {
        let s = &self.server;
        len_is("the server", s.rows.len(), b.rows)?;
        small("the server", "version", Some(s.version))?;
        for r in s.rows.iter() {
            small("the server's rows", "value", r.value)?;
            small("the server's rows", "version", Some(r.row_version))?;
        }
        for (&(g, cl), &m) in s.clients.iter() {
            b.group("the server's clients", g)?;
            b.client("the server's clients", cl)?;
            b.mid("the server's clients", Some(m))?;
        }
        for (&(g, cl), &u) in s.auth_ctx.iter() {
            b.group("the server's auth ctx", g)?;
            b.client("the server's auth ctx", cl)?;
            b.user("the server's auth ctx", u)?;
        }
        for (&g, &v) in s.served.iter() {
            b.group("the server's served cookies", g)?;
            small("the server's served cookies", "version", Some(v))?;
        }
        Ok(())
    }

    fn validate_installs(&self, b: &Bounds) -> Result<(), String> {
        for (i, inst) in self.installs.iter().enumerate() {
            let what = format!("installation {i}");
            len_is(&what, inst.base.len(), b.rows)?;
            b.install(&what, inst.group)?;
            rows_small(&what, &inst.base)?;
            small(&what, "cookie", inst.cookie)?;
            b.user(&what, inst.signed_in)?;
            b.user(&what, inst.base_user)?;
            for (&(cl, m), e) in inst.outbox.iter() {
                b.client(&what, cl)?;
                b.mid(&what, Some(m))?;
                b.op(&what, &e.op)?;
                b.serial(&what, e.serial)?;
            }
            for (&cl, &m) in inst.next_mid.iter() {
                b.client(&what, cl)?;
                b.mid(&what, Some(m))?;
            }
        }
        Ok(())
    }

    fn validate_tabs(&self, b: &Bounds) -> Result<(), String> {
        for (t, tab) in self.tabs.iter().enumerate() {
            let what = format!("tab {t}");
            // A tab that is not open forgets its view.
            if tab.is_open() || !tab.view.is_empty() {
                len_is(&what, tab.view.len(), b.rows)?;
            }
            b.install(&what, tab.install)?;
            b.client(&what, tab.client)?;
            b.mid(&what, tab.mem_mid)?;
            rows_small(&what, &tab.view)?;
        }
        Ok(())
    }

    fn validate_network(&self, b: &Bounds) -> Result<(), String> {
        for (m, copies) in self.network.iter() {
            let what = "a message in flight";
            if copies == 0 || copies > SMALL {
                return Err(format!("{what} has {copies} copies"));
            }
            b.tab(what, m.tab())?;
            match m {
                Msg::PushReq {
                    group,
                    client,
                    user,
                    mutations,
                    ..
                } => {
                    b.group(what, *group)?;
                    b.client(what, *client)?;
                    b.user(what, *user)?;
                    for p in mutations.iter() {
                        b.pushed(what, p)?;
                    }
                }
                Msg::PushResp {
                    client,
                    last_mutation_id,
                    ..
                } => {
                    b.client(what, *client)?;
                    b.mid(what, Some(*last_mutation_id))?;
                }
                Msg::PullReq {
                    group,
                    client,
                    user,
                    cookie,
                    cookie_user,
                    ..
                } => {
                    b.group(what, *group)?;
                    b.client(what, *client)?;
                    b.user(what, *user)?;
                    b.user(what, *cookie_user)?;
                    small(what, "cookie", *cookie)?;
                }
                Msg::PullResp {
                    group,
                    user,
                    base_user,
                    base_cookie,
                    cookie,
                    patch,
                    last_mutation_ids,
                    to_client,
                    ..
                } => {
                    b.group(what, *group)?;
                    b.user(what, *user)?;
                    b.user(what, *base_user)?;
                    small(what, "cookie", *base_cookie)?;
                    small(what, "cookie", Some(*cookie))?;
                    for &(r, v) in patch.rows() {
                        b.row(what, r)?;
                        small(what, "value", Some(v))?;
                    }
                    for &(cl, m) in last_mutation_ids.iter() {
                        b.client(what, cl)?;
                        b.mid(what, Some(m))?;
                    }
                    if let Some(cl) = to_client {
                        b.client(what, *cl)?;
                    }
                }
            }
        }
        Ok(())
    }

    fn validate_history(&self, b: &Bounds) -> Result<(), String> {
        let h = &self.history;
        for (s, x) in h.created.iter().enumerate() {
            let what = format!("created mutation {s}");
            b.install(&what, x.install)?;
            b.tab(&what, x.tab)?;
            b.group(&what, x.group)?;
            b.client(&what, x.client)?;
            b.mid(&what, Some(x.mid))?;
            b.op(&what, &x.op)?;
            b.user(&what, x.user)?;
        }
        for p in h.processed.iter() {
            b.serial("a processed mutation", p.serial)?;
            b.user("a processed mutation", p.user)?;
        }
        for &s in h.discarded.iter() {
            b.serial("a discarded mutation", s)?;
        }
        for &s in h.wiped.iter() {
            b.serial("a wiped mutation", s)?;
        }
        Ok(())
    }
}

//! The server: rows stamped with `row_version`, and the `last_mutation_id` watermark per
//! `(clientGroupID, clientID)` that makes retries idempotent.

use crate::history::History;
use crate::network::{Msg, Patch, Pushed};
use crate::{ClientId, GroupId, Mid, Mutant, Op, Setup, TabId, Value, Version};
use std::collections::BTreeMap;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct ServerRow {
    pub value: Option<Value>,
    /// The server version that last wrote the row.
    pub row_version: Version,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Server {
    /// Bumped by every applied mutation; the cookie a pull returns.
    pub version: Version,
    pub rows: Vec<ServerRow>,
    /// `(clientGroupID, clientID) -> last_mutation_id`; a client is created on its first push.
    pub clients: BTreeMap<(GroupId, ClientId), Mid>,
}

impl Server {
    pub fn new(rows: u8) -> Self {
        Server {
            version: 0,
            rows: vec![ServerRow::default(); usize::from(rows)],
            clients: BTreeMap::new(),
        }
    }

    pub fn last_mutation_id(&self, group: GroupId, client: ClientId) -> Mid {
        self.clients.get(&(group, client)).copied().unwrap_or(0)
    }

    /// The rows as a fully caught-up client would see them.
    pub fn view(&self) -> crate::Rows {
        self.rows.iter().map(|r| r.value).collect()
    }

    /// Handles a push: each mutation in order, `mid <= last` is a retry (no-op), `mid == last+1`
    /// is applied, `mid > last+1` is a gap and stops the request. Returns the response.
    pub fn push(
        &mut self,
        setup: &Setup,
        history: &mut History,
        tab: TabId,
        group: GroupId,
        client: ClientId,
        mutations: &[Pushed],
    ) -> Msg {
        // The mutant keeps one watermark per group, under clientID 0.
        let key = if setup.has(Mutant::WatermarkPerGroup) {
            (group, 0)
        } else {
            (group, client)
        };
        let mut last = self.last_mutation_id(key.0, key.1);
        for m in mutations {
            if m.mid <= last {
                if setup.has(Mutant::NoDedup) {
                    self.apply(&m.op);
                    history.processed.push(m.serial);
                }
                continue;
            }
            if m.mid != last + 1 {
                break;
            }
            self.apply(&m.op);
            history.processed.push(m.serial);
            last = m.mid;
        }
        let before = self.clients.insert(key, last);
        if before.is_some_and(|b| b > last) {
            history.broken |= History::WATERMARK_REGRESSED;
        }
        Msg::PushResp {
            tab,
            client,
            last_mutation_id: last,
        }
    }

    fn apply(&mut self, op: &Op) {
        self.version += 1;
        match *op {
            Op::Set { row, value } => {
                self.rows[usize::from(row)] = ServerRow {
                    value: Some(value),
                    row_version: self.version,
                };
            }
        }
    }

    /// Handles a pull: a full reset patch without a cookie, else the tail of rows written after
    /// it; the watermarks of the request's group only.
    pub fn pull(&self, setup: &Setup, tab: TabId, group: GroupId, cookie: Option<Version>) -> Msg {
        let written = self
            .rows
            .iter()
            .enumerate()
            .filter_map(|(r, row)| row.value.map(|v| (r as u8, v, row.row_version)));
        let patch = match cookie {
            None => Patch::Reset(written.map(|(r, v, _)| (r, v)).collect()),
            Some(c) => Patch::Tail(
                written
                    .filter(|&(_, _, rv)| rv > c)
                    .map(|(r, v, _)| (r, v))
                    .collect(),
            ),
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
            base_cookie: cookie,
            cookie: self.version,
            patch,
            last_mutation_ids,
        }
    }
}

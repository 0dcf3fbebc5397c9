//! Real identities and model identities. A history names client groups, clients, rows, users
//! and cookies with whatever strings its servers use (mostly UUIDs); the checker numbers each
//! in order of first appearance, and reports use the model's notation (`g0`, `c3`, `r1`,
//! `u0`) with a legend back to the real names.
//!
//! The model mints every clientID for one client group: a clientID that appears in two groups is
//! the `client-identity` rule broken (one UUID reused for two clients).

use std::collections::HashMap;

/// One clientID seen in two client groups.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reused {
    pub client: u32,
    pub first_group: u32,
    pub first_line: usize,
    pub group: u32,
    pub line: usize,
}

#[derive(Clone, Debug, Default)]
pub struct Names {
    pub groups: Vec<String>,
    group_ids: HashMap<String, u32>,
    pub clients: Vec<String>,
    /// Each client's group and the line where it first appeared.
    pub client_home: Vec<(u32, usize)>,
    client_ids: HashMap<String, u32>,
    pub rows: Vec<String>,
    row_ids: HashMap<String, u32>,
    pub users: Vec<String>,
    user_ids: HashMap<String, u32>,
    pub cookies: Vec<String>,
    cookie_ids: HashMap<String, u32>,
    /// ClientIDs reused across groups, in order of discovery.
    pub reused: Vec<Reused>,
}

fn intern(names: &mut Vec<String>, ids: &mut HashMap<String, u32>, name: &str) -> u32 {
    if let Some(&i) = ids.get(name) {
        return i;
    }
    let i = names.len() as u32;
    names.push(name.to_string());
    ids.insert(name.to_string(), i);
    i
}

impl Names {
    pub fn group(&mut self, name: &str, _line: usize) -> u32 {
        intern(&mut self.groups, &mut self.group_ids, name)
    }

    /// The client named `name`, seen in `group` at `line`.
    pub fn client(&mut self, name: &str, group: u32, line: usize) -> u32 {
        if let Some(&c) = self.client_ids.get(name) {
            let (home, first_line) = self.client_home[c as usize];
            if home != group
                && !self
                    .reused
                    .iter()
                    .any(|r| r.client == c && r.group == group)
            {
                self.reused.push(Reused {
                    client: c,
                    first_group: home,
                    first_line,
                    group,
                    line,
                });
            }
            return c;
        }
        let c = intern(&mut self.clients, &mut self.client_ids, name);
        self.client_home.push((group, line));
        c
    }

    pub fn find_client(&self, name: &str) -> Option<u32> {
        self.client_ids.get(name).copied()
    }

    pub fn row(&mut self, key: &str) -> u32 {
        intern(&mut self.rows, &mut self.row_ids, key)
    }

    pub fn user(&mut self, name: &str) -> u32 {
        intern(&mut self.users, &mut self.user_ids, name)
    }

    /// A cookie, by its JSON text.
    pub fn cookie(&mut self, v: &serde_json::Value) -> u32 {
        intern(&mut self.cookies, &mut self.cookie_ids, &v.to_string())
    }

    pub fn row_name(&self, row: u32) -> &str {
        self.rows.get(row as usize).map_or("?", String::as_str)
    }

    /// `g0/c3#5`: a mutation in the model's notation.
    pub fn mutation(&self, group: u32, client: u32, mid: u64) -> String {
        format!("g{group}/c{client}#{mid}")
    }
}

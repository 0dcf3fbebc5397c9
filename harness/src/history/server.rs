//! The model's server (`model/src/server.rs`) restated over a history's unbounded identities:
//! the same rules, checked against what a real server answered. A push applies each mutation
//! whose mutationID is next in line (`last_mutation_id + 1`), skips a retry at or below the
//! watermark (`alreadyProcessed`) and stops at a gap (out of order); an applied mutation bumps
//! the version (the cookie). A pull answers with the watermarks of its group and the rows written
//! after its cookie. `State::push` and `State::pull` step the state by one recorded
//! operation, or say which rule its response breaks.
//!
//! The model's server keeps its identities in bytes; this one keeps the same decisions for any
//! number of clients, mutations and versions. `tests/history.rs` holds the two together: every
//! history the model itself produces is explained.

use super::wire::{Body, Effect, Mutation, Op, PullResponse, PushOutcome, Reported, User};
use std::collections::HashMap;

/// What the checker holds the history to.
#[derive(Clone, Debug, Default)]
pub struct Rules {
    /// Data level: mutations are the model's `set`, `max` and `incr`, and rows are checked.
    pub data: bool,
    /// The hardened server refuses a signed-out push whole (`signed_out_push = refuse`); the
    /// `zero` profile processes it, and `auth.write` denies each mutation.
    pub refuse_signed_out: bool,
    /// A mutation processed with no effect bumps the cookie too (`cookie_per_change`).
    pub cookie_per_change: bool,
    /// Row -> owning user (private rows); the others are shared.
    pub owners: HashMap<u32, u32>,
}

impl Rules {
    /// `auth.write`: `None` when the history does not say enough to decide.
    fn may_write(&self, user: User, row: Option<u32>) -> Option<bool> {
        if !self.data {
            return None;
        }
        let owner = row.and_then(|r| self.owners.get(&r).copied());
        match (user, owner) {
            (User::SignedOut, _) => Some(false),
            (_, None) => Some(true),
            (User::Id(u), Some(o)) => Some(u == o),
            (User::Unknown, Some(_)) => None,
        }
    }

    /// `auth.read`.
    fn may_read(&self, user: User, row: u32) -> bool {
        match (self.owners.get(&row), user) {
            (None, _) | (Some(_), User::Unknown) => true,
            (Some(&o), User::Id(u)) => o == u,
            (Some(_), User::SignedOut) => false,
        }
    }
}

/// A rule a response breaks, in words.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Broken {
    /// The rule's name (documented in `harness/docs/history.md`).
    pub rule: &'static str,
    pub message: String,
    /// The row a data-level rule is about.
    pub row: Option<u32>,
}

fn broken<T>(rule: &'static str, message: String) -> Result<T, Broken> {
    Err(Broken {
        rule,
        message,
        row: None,
    })
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Watermark {
    pub client: u32,
    /// The client's group (a part may hold several groups).
    pub group: u32,
    pub lmid: u64,
    /// The version when it last moved.
    pub changed: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Row {
    pub row: u32,
    pub value: u64,
    /// The version that last wrote it (`row_version`).
    pub version: u64,
}

/// The server's state as far as a history can tell.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct State {
    /// Applied mutations so far (the model's cookie).
    pub version: u64,
    /// Sorted by client.
    pub watermarks: Vec<Watermark>,
    /// Sorted by row (data level only).
    pub rows: Vec<Row>,
    /// Cookie -> the version it was returned at, sorted by cookie; a cookie no operation left
    /// refers to is forgotten (the search keeps the state small).
    pub cookies: Vec<(u32, u64)>,
    /// The latest numeric cookie returned, and its version.
    pub top_cookie: Option<(i64, u64)>,
}

/// What the model's server does with one mutation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Decision {
    Retry,
    Next,
    Gap,
}

fn reported_name(r: Reported) -> &'static str {
    match r {
        Reported::Applied => "applied",
        Reported::AppError => "an error",
        Reported::AlreadyProcessed => "alreadyProcessed",
        Reported::OutOfOrder => "out of order",
    }
}

impl State {
    pub fn lmid(&self, client: u32) -> u64 {
        match self.watermarks.binary_search_by_key(&client, |w| w.client) {
            Ok(i) => self.watermarks[i].lmid,
            Err(_) => 0,
        }
    }

    fn set_lmid(&mut self, client: u32, group: u32, lmid: u64) {
        let w = Watermark {
            client,
            group,
            lmid,
            changed: self.version,
        };
        match self.watermarks.binary_search_by_key(&client, |w| w.client) {
            Ok(i) => self.watermarks[i] = w,
            Err(i) => self.watermarks.insert(i, w),
        }
    }

    /// Forgets what a cookie stands for (no operation left refers to it).
    pub fn forget_cookie(&mut self, cookie: u32) {
        if let Ok(i) = self.cookies.binary_search_by_key(&cookie, |&(k, _)| k) {
            self.cookies.remove(i);
        }
    }

    pub fn row(&self, row: u32) -> Option<Row> {
        self.rows
            .binary_search_by_key(&row, |r| r.row)
            .ok()
            .map(|i| self.rows[i])
    }

    fn write(&mut self, effect: Effect) {
        let Some(row) = effect.row() else { return };
        let current = self.row(row).map(|r| r.value);
        let value = match effect {
            Effect::Set { value, .. } => value,
            Effect::Max { value, .. } => current.map_or(value, |c| c.max(value)),
            Effect::Incr { .. } => current.unwrap_or(0).saturating_add(1),
            Effect::Opaque => return,
        };
        let r = Row {
            row,
            value,
            version: self.version,
        };
        match self.rows.binary_search_by_key(&row, |r| r.row) {
            Ok(i) => self.rows[i] = r,
            Err(i) => self.rows.insert(i, r),
        }
    }

    /// Steps the state by one operation; `effect` is false for an operation whose response is
    /// unknown taken as never having happened.
    pub fn step(
        &mut self,
        rules: &Rules,
        op: &Op,
        label: &dyn Fn(&Mutation) -> String,
    ) -> Result<(), Broken> {
        match &op.body {
            Body::Push {
                mutations, outcome, ..
            } => self.push(rules, (op.group, op.user), mutations, outcome, label),
            Body::Pull { cookie, response } => {
                self.pull(rules, (op.group, op.user), *cookie, response)
            }
        }
    }

    fn push(
        &mut self,
        rules: &Rules,
        (group, user): (u32, User),
        mutations: &[Mutation],
        outcome: &PushOutcome,
        label: &dyn Fn(&Mutation) -> String,
    ) -> Result<(), Broken> {
        if *outcome == PushOutcome::Failed {
            return Ok(());
        }
        if user == User::SignedOut && rules.refuse_signed_out {
            return match outcome {
                PushOutcome::Unknown | PushOutcome::Failed => Ok(()),
                _ => broken(
                    "signed-out",
                    "a signed-out push was processed; the server refuses it whole".into(),
                ),
            };
        }
        for (i, m) in mutations.iter().enumerate() {
            let last = self.lmid(m.client);
            let decision = if m.mid <= last {
                Decision::Retry
            } else if m.mid == last + 1 {
                Decision::Next
            } else {
                Decision::Gap
            };
            let reported = match outcome {
                PushOutcome::Results(r) => r.get(i).copied(),
                PushOutcome::OutOfOrder(list) if list.contains(&i) => Some(Reported::OutOfOrder),
                _ => None,
            };
            let name = || label(m);
            match (decision, reported) {
                (Decision::Retry, None | Some(Reported::AlreadyProcessed)) => {}
                (Decision::Retry, Some(r @ (Reported::Applied | Reported::AppError))) => {
                    return broken(
                        "at-most-once",
                        format!(
                            "{} reported {}, but the watermark is already {last}: processed twice",
                            name(),
                            reported_name(r)
                        ),
                    )
                }
                (Decision::Next, Some(Reported::AlreadyProcessed)) => {
                    return broken(
                        "already-processed",
                        format!(
                            "{} reported alreadyProcessed, but the watermark is {last}: it is next in line",
                            name()
                        ),
                    )
                }
                (Decision::Retry | Decision::Next, Some(Reported::OutOfOrder)) => {
                    return broken(
                        "out-of-order",
                        format!(
                            "{} reported out of order, but the watermark is {last}: no gap",
                            name()
                        ),
                    )
                }
                (Decision::Next, r) => self.process(rules, (group, user), m, r, &name)?,
                (Decision::Gap, Some(r @ (Reported::Applied | Reported::AppError))) => {
                    return broken(
                        "no-gap",
                        format!(
                            "{} reported {}, but the watermark is {last}: mutation {} is missing",
                            name(),
                            reported_name(r),
                            last + 1
                        ),
                    )
                }
                (Decision::Gap, Some(Reported::AlreadyProcessed)) => {
                    return broken(
                        "already-processed",
                        format!(
                            "{} reported alreadyProcessed, but the watermark is {last}",
                            name()
                        ),
                    )
                }
                (Decision::Gap, _) => return gap_rest(outcome, i, mutations.len()),
            }
        }
        if let PushOutcome::OutOfOrder(list) = outcome {
            if !list.is_empty() {
                return broken(
                    "out-of-order",
                    "the push failed as out of order, but no mutation of it is above its watermark + 1".into(),
                );
            }
        }
        Ok(())
    }

    /// A mutation next in line: applied, or (its mutator threw) processed with no effect.
    fn process(
        &mut self,
        rules: &Rules,
        (group, user): (u32, User),
        m: &Mutation,
        reported: Option<Reported>,
        name: &dyn Fn() -> String,
    ) -> Result<(), Broken> {
        let allowed = rules.may_write(user, m.effect.row());
        let applied = match reported {
            Some(Reported::Applied) => true,
            Some(_) => false,
            None => allowed.unwrap_or(true),
        };
        match (applied, allowed) {
            (true, Some(false)) => {
                return broken(
                    "auth-write",
                    format!("{} reported applied, but auth.write denies it", name()),
                )
            }
            (false, Some(true)) => {
                return broken(
                    "mutator-error",
                    format!(
                        "{} reported an error, but {} cannot fail (auth.write allows it): consumed without effect",
                        name(),
                        m.name
                    ),
                )
            }
            _ => {}
        }
        if applied {
            self.version += 1;
            if rules.data {
                self.write(m.effect);
            }
        } else if rules.cookie_per_change {
            self.version += 1;
        }
        self.set_lmid(m.client, group, m.mid);
        Ok(())
    }

    fn pull(
        &mut self,
        rules: &Rules,
        (group, user): (u32, User),
        cookie: Option<u32>,
        r: &PullResponse,
    ) -> Result<(), Broken> {
        // From scratch (`Some(None)`), since a version, or since a cookie this history never
        // saw returned (`None`: what it stands for is unknown).
        let since: Option<Option<u64>> = match cookie {
            None => Some(None),
            Some(c) => self
                .cookies
                .binary_search_by_key(&c, |&(k, _)| k)
                .ok()
                .map(|i| Some(self.cookies[i].1)),
        };
        for &(c, n) in &r.lmids {
            let w = self.lmid(c);
            if n != w {
                return broken(
                    "pull-watermark",
                    format!("lastMutationIDChanges gives c{c}: {n}, but its watermark is {w}"),
                );
            }
        }
        for w in self.watermarks.iter().filter(|w| w.group == group) {
            let required = match since {
                Some(None) => w.lmid > 0,
                Some(Some(v)) => w.changed > v,
                None => false,
            };
            if required && !r.lmids.iter().any(|&(c, _)| c == w.client) {
                return broken(
                    "pull-watermark",
                    format!(
                        "lastMutationIDChanges leaves out c{}, whose watermark moved to {} after the request's cookie",
                        w.client, w.lmid
                    ),
                );
            }
        }
        self.cookie(r)?;
        if rules.data {
            self.patch(rules, user, since, r)?;
        }
        Ok(())
    }

    /// The response's cookie stands for this state: the same cookie for another state, or a
    /// numeric cookie that does not grow as the state moves on, is not what the model sends.
    fn cookie(&mut self, r: &PullResponse) -> Result<(), Broken> {
        match self.cookies.binary_search_by_key(&r.cookie, |&(k, _)| k) {
            Ok(i) if self.cookies[i].1 != self.version => {
                return broken(
                    "cookie",
                    format!(
                        "the response's cookie was returned when {} mutations were applied, and again after {}",
                        self.cookies[i].1, self.version
                    ),
                )
            }
            Ok(_) => {}
            Err(i) => self.cookies.insert(i, (r.cookie, self.version)),
        }
        if let Some(order) = r.order {
            if let Some((top, at)) = self.top_cookie {
                if self.version > at && order <= top {
                    return broken(
                        "cookie",
                        format!(
                            "cookie {order} does not come after cookie {top}, though mutations were applied in between"
                        ),
                    );
                }
            }
            if self
                .top_cookie
                .is_none_or(|(top, at)| at < self.version || order > top)
            {
                self.top_cookie = Some((order, self.version));
            }
        }
        Ok(())
    }

    /// Data level: every row the patch puts holds the model's value, and every row written after
    /// the cookie (every row, for a patch from scratch) that the user may read is there.
    fn patch(
        &self,
        rules: &Rules,
        user: User,
        since: Option<Option<u64>>,
        r: &PullResponse,
    ) -> Result<(), Broken> {
        let row_broken = |row: u32, message: String| {
            Err(Broken {
                rule: "row-value",
                message,
                row: Some(row),
            })
        };
        for &(row, value) in &r.puts {
            let model = self.row(row).filter(|_| rules.may_read(user, row));
            match (model, value) {
                (Some(m), Some(v)) if m.value != v => {
                    return row_broken(
                        row,
                        format!("the pull puts {v}, but the model's row is {}", m.value),
                    )
                }
                (None, _) => {
                    return row_broken(
                        row,
                        "the pull puts a row the model does not have (or the user may not read)"
                            .into(),
                    )
                }
                _ => {}
            }
        }
        for &row in &r.dels {
            if let Some(m) = self.row(row).filter(|_| rules.may_read(user, row)) {
                return row_broken(
                    row,
                    format!(
                        "the pull deletes the row, but the model's row is {}",
                        m.value
                    ),
                );
            }
        }
        let scratch = r.clear || since == Some(None);
        for m in &self.rows {
            let required = match since {
                _ if scratch => true,
                Some(Some(v)) => m.version > v,
                _ => false,
            };
            if required && rules.may_read(user, m.row) && !r.puts.iter().any(|&(x, _)| x == m.row) {
                return row_broken(
                    m.row,
                    format!("the pull leaves the row out, but the model's row is {} (written after the request's cookie)", m.value),
                );
            }
        }
        Ok(())
    }
}

/// After a gap the push stops: the rest must be reported out of order (or not at all).
fn gap_rest(outcome: &PushOutcome, i: usize, n: usize) -> Result<(), Broken> {
    match outcome {
        PushOutcome::Results(r) if r[i..].iter().any(|&x| x != Reported::OutOfOrder) => broken(
            "out-of-order",
            "the push stops at a gap, but a later mutation of it has another result".into(),
        ),
        PushOutcome::OutOfOrder(list) => {
            let mut got = list.clone();
            got.sort_unstable();
            if got != (i..n).collect::<Vec<_>>() {
                return broken(
                    "out-of-order",
                    format!(
                        "the push stops at its mutation {} (a gap), but the response lists other mutations as unprocessed",
                        i + 1
                    ),
                );
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

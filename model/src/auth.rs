//! Users, row ownership, and the tables' merge rules.
//!
//! Rows are laid out by table: `config.rows` last-write-wins rows first, then `config.max_rows`
//! rows whose table declares `resolveConflict` = keep the larger value, then
//! `config.counter_rows` CRDT counter rows. The first `config.private_rows` rows are private:
//! row `r` belongs to user `r % config.users`; every other row is shared.

use crate::{Config, Op, RowId, UserId, Value};

/// How a table merges a write into a row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Table {
    /// Last write wins, by `row_version` (the server's application order).
    Lww,
    /// `resolveConflict(server_row, incoming)` = the larger value.
    Max,
    /// A CRDT counter column: increments add up.
    Counter,
}

pub fn table(config: &Config, row: RowId) -> Table {
    if row < config.rows {
        Table::Lww
    } else if row < config.rows + config.max_rows {
        Table::Max
    } else {
        Table::Counter
    }
}

/// The user a private row belongs to; `None` for a shared row.
pub fn owner(config: &Config, row: RowId) -> Option<UserId> {
    (row < config.private_rows).then(|| row % config.users.max(1))
}

/// `auth.read`: a user reads shared rows and their own; a signed-out request reads shared rows.
pub fn read(config: &Config, user: Option<UserId>, row: RowId) -> bool {
    owner(config, row).is_none_or(|o| user == Some(o))
}

/// `auth.write`: a signed-in user writes shared rows and their own.
pub fn write(config: &Config, user: Option<UserId>, row: RowId) -> bool {
    user.is_some() && owner(config, row).is_none_or(|o| user == Some(o))
}

/// The row after a mutation, on the server or replayed optimistically on a client: the same
/// function in both places, so a view can only differ from the server by what it has not seen.
pub fn merge(config: &Config, current: Option<Value>, op: &Op) -> Option<Value> {
    match *op {
        Op::Set { row, value } => match table(config, row) {
            Table::Max => Some(current.map_or(value, |c| c.max(value))),
            Table::Lww | Table::Counter => Some(value),
        },
        Op::Incr { .. } => Some(current.unwrap_or(0).saturating_add(1)),
    }
}

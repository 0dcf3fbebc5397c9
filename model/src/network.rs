//! The network: a bounded multiset of in-flight messages. Delivery order is free (any message
//! may be delivered next), so delay and reordering are unlimited; drops and duplicates are faults
//! drawn from the configuration's budgets.

use crate::CopyVec;
use crate::{ClientId, GroupId, Mid, Op, RowId, Serial, TabId, UserId, Value, Version};
use smallvec::SmallVec;

/// Rows a patch carries, as `(row, value)`.
pub type PatchRows = CopyVec<(RowId, Value), 2>;
/// The mutations one push request carries.
pub type PushedList = CopyVec<Pushed, 3>;
/// `clientID -> last_mutation_id` pairs of a pull response.
pub type Lmids = CopyVec<(ClientId, Mid), 3>;

/// One mutation as it travels in a push.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Pushed {
    /// The clientID that created it (a group push carries several).
    pub client: ClientId,
    pub mid: Mid,
    pub op: Op,
    /// Ghost: which created mutation this is (not part of the wire format).
    pub serial: Serial,
}

/// Rows a pull response sends.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Patch {
    /// `clear`, then `put` every row listed: sent when the request had no cookie.
    Reset(PatchRows),
    /// `put` every row written after the request's cookie.
    Tail(PatchRows),
}

impl Patch {
    pub fn rows(&self) -> &[(RowId, Value)] {
        match self {
            Patch::Reset(rows) | Patch::Tail(rows) => rows,
        }
    }
}

/// A message in flight. Requests name the tab that sent them, so that the response finds its way
/// back to that tab (and to nobody else).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Msg {
    PushReq {
        tab: TabId,
        group: GroupId,
        client: ClientId,
        /// The installation's signed-in user when the request was sent (its login cookie).
        user: Option<UserId>,
        mutations: PushedList,
    },
    /// Carries the watermark after processing; a correct client ignores it (confirmation comes
    /// only through a pull).
    PushResp {
        tab: TabId,
        client: ClientId,
        last_mutation_id: Mid,
    },
    PullReq {
        tab: TabId,
        group: GroupId,
        client: ClientId,
        user: Option<UserId>,
        cookie: Option<Version>,
        /// The user the cookie (and the base it reflects) was issued to.
        cookie_user: Option<UserId>,
    },
    PullResp {
        tab: TabId,
        /// The group and user the request was made for.
        group: GroupId,
        user: Option<UserId>,
        /// The cookie the request was based on, and the user that cookie was issued to.
        base_cookie: Option<Version>,
        base_user: Option<UserId>,
        cookie: Version,
        patch: Patch,
        /// `clientID -> last_mutation_id`, for the request's group only.
        last_mutation_ids: Lmids,
        /// The tab instance (clientID) that asked, where the client tells instances apart
        /// (switch `request_slots`); `None` otherwise.
        to_client: Option<ClientId>,
    },
}

impl Msg {
    /// The tab that sent the request, or that the response is addressed to.
    pub fn tab(&self) -> TabId {
        match self {
            Msg::PushReq { tab, .. }
            | Msg::PushResp { tab, .. }
            | Msg::PullReq { tab, .. }
            | Msg::PullResp { tab, .. } => *tab,
        }
    }

    /// The tab instance (clientID) a request came from or a response goes to, where the
    /// message names it (a `PullResp` only under `request_slots`).
    pub fn instance(&self) -> Option<ClientId> {
        match self {
            Msg::PushReq { client, .. }
            | Msg::PushResp { client, .. }
            | Msg::PullReq { client, .. } => Some(*client),
            Msg::PullResp { to_client, .. } => *to_client,
        }
    }

    /// True for a push request or its response, false for a pull request or its response.
    pub fn is_push(&self) -> bool {
        matches!(self, Msg::PushReq { .. } | Msg::PushResp { .. })
    }

    pub fn kind(&self) -> &'static str {
        match self {
            Msg::PushReq { .. } => "PushReq",
            Msg::PushResp { .. } => "PushResp",
            Msg::PullReq { .. } => "PullReq",
            Msg::PullResp { .. } => "PullResp",
        }
    }
}

impl crate::vecmap::Inline for Msg {
    #[inline]
    fn is_inline(&self) -> bool {
        match self {
            Msg::PushReq { mutations, .. } => mutations.is_inline(),
            Msg::PushResp { .. } | Msg::PullReq { .. } => true,
            Msg::PullResp {
                patch,
                last_mutation_ids,
                ..
            } => {
                let rows = match patch {
                    Patch::Reset(rows) | Patch::Tail(rows) => rows,
                };
                rows.is_inline() && last_mutation_ids.is_inline()
            }
        }
    }
}

/// Multiset of in-flight messages: message -> number of copies.
#[derive(Debug, Default, PartialEq, Eq, Hash)]
pub struct Network {
    msgs: SmallVec<[(Msg, u8); 3]>,
}

crate::fieldwise_clone!(Network { msgs });

impl Network {
    fn find(&self, msg: &Msg) -> Result<usize, usize> {
        self.msgs.binary_search_by(|(m, _)| m.cmp(msg))
    }

    /// Messages in flight, copies counted.
    pub fn len(&self) -> usize {
        self.msgs.iter().map(|&(_, n)| usize::from(n)).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.msgs.is_empty()
    }

    /// Distinct messages in flight (copies of one message counted once).
    pub fn distinct_len(&self) -> usize {
        self.msgs.len()
    }

    pub fn contains(&self, msg: &Msg) -> bool {
        self.find(msg).is_ok()
    }

    /// Copies of `msg` in flight.
    pub fn count(&self, msg: &Msg) -> u8 {
        self.find(msg).map_or(0, |i| self.msgs[i].1)
    }

    pub fn send(&mut self, msg: Msg) {
        match self.find(&msg) {
            Ok(i) => self.msgs[i].1 += 1,
            Err(i) => self.msgs.insert(i, (msg, 1)),
        }
    }

    /// Adds `copies` copies of `msg` (at least one).
    pub fn send_copies(&mut self, msg: Msg, copies: u8) {
        match self.find(&msg) {
            Ok(i) => self.msgs[i].1 += copies,
            Err(i) => self.msgs.insert(i, (msg, copies)),
        }
    }

    /// Takes every message out of the network.
    pub fn clear(&mut self) {
        self.msgs.clear();
    }

    /// Adds `copies` copies of a message that orders after every message present (what a
    /// decoder reading the network in order does, without searching); false, and nothing added,
    /// if it does not.
    pub fn push_ascending(&mut self, msg: Msg, copies: u8) -> bool {
        if self.msgs.last().is_some_and(|(last, _)| *last >= msg) {
            return false;
        }
        self.msgs.push((msg, copies));
        true
    }

    /// Takes one copy of `msg` out of the network; false if none is in flight.
    pub fn take(&mut self, msg: &Msg) -> bool {
        let Some(i) = self.position(msg) else {
            return false;
        };
        self.lose_at(i);
        true
    }

    /// The place in [`Network::distinct`] of `msg`, if it is in flight.
    pub fn position(&self, msg: &Msg) -> Option<usize> {
        // A scan for equality: a handful of messages, and `==` gives up at the first field that
        // differs, where the ordering a binary search needs compares more.
        self.msgs.iter().position(|(m, _)| m == msg)
    }

    /// The message at place `i` of [`Network::distinct`].
    #[inline]
    pub fn get(&self, i: usize) -> &Msg {
        &self.msgs[i].0
    }

    /// Removes one copy of the message at place `i` of [`Network::distinct`].
    pub fn lose_at(&mut self, i: usize) {
        if self.msgs[i].1 > 1 {
            self.msgs[i].1 -= 1;
        } else {
            self.msgs.remove(i);
        }
    }

    /// Takes one copy of the message at place `i` of [`Network::distinct`] out of the network.
    #[inline]
    pub fn take_at(&mut self, i: usize) -> Msg {
        if self.msgs[i].1 > 1 {
            self.msgs[i].1 -= 1;
            self.msgs[i].0.clone()
        } else {
            self.msgs.remove(i).0
        }
    }

    /// Adds a copy of the message at place `i` of [`Network::distinct`].
    #[inline]
    pub fn duplicate_at(&mut self, i: usize) {
        self.msgs[i].1 += 1;
    }

    /// Distinct messages in flight, in a fixed order.
    pub fn distinct(&self) -> impl Iterator<Item = &Msg> {
        self.msgs.iter().map(|(m, _)| m)
    }

    /// Every message with its number of copies, in a fixed order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (&Msg, u8)> {
        self.msgs.iter().map(|(m, n)| (m, *n))
    }
}

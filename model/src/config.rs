//! What is explored: the bounds of a run ([`Config`]) and the protocol's design switches
//! ([`Protocol`]).

use serde::{Deserialize, Serialize};

/// The bounds of a run. The first six fields are the trace format's `config` (PROTOCOL.md §7)
/// and limit every driver, replay included; the rest only keep an exhaustive search finite, so
/// replay ignores them.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Installations (browser profiles), each starting with one open tab.
    pub installs: u8,
    /// The most tabs ever created, closed ones included (so at least `installs`).
    pub tabs: u8,
    /// Rows of the last-write-wins table.
    pub rows: u8,
    /// Mutations created in all.
    pub max_mutations: u8,
    /// Fault budget: messages the network may drop in the whole run.
    pub drops: u8,
    /// Fault budget: messages the network may duplicate in the whole run.
    pub duplicates: u8,
    /// Search bound: messages in flight at once (a Push or Pull that would exceed it waits).
    pub max_in_flight: u8,
    /// Search bound: `ResetLocalState` calls in the whole run.
    pub max_resets: u8,
    /// Users; installation `i` starts signed in as user `i % users`.
    pub users: u8,
    /// The first `private_rows` rows are private (row `r` belongs to user `r % users`).
    pub private_rows: u8,
    /// Rows of a table that declares `resolveConflict` (keep the larger value), after the
    /// last-write-wins rows.
    pub max_rows: u8,
    /// CRDT counter rows, after those.
    pub counter_rows: u8,
    /// Search bound: `Logout` and `Login` actions in the whole run.
    pub max_auth_changes: u8,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            installs: 1,
            tabs: 1,
            rows: 1,
            max_mutations: 2,
            drops: 0,
            duplicates: 0,
            max_in_flight: 2,
            max_resets: 0,
            users: 1,
            private_rows: 0,
            max_rows: 0,
            counter_rows: 0,
            max_auth_changes: 0,
        }
    }
}

impl Config {
    /// Rows of all tables.
    pub fn total_rows(&self) -> u8 {
        self.rows + self.max_rows + self.counter_rows
    }

    /// Checks the bounds for consistency; the message names the bad field.
    pub fn validate(&self) -> Result<(), String> {
        if self.installs == 0 {
            return Err("config.installs must be at least 1".into());
        }
        if self.tabs < self.installs {
            return Err(format!(
                "config.tabs ({}) must be at least config.installs ({}): every installation starts with one tab",
                self.tabs, self.installs
            ));
        }
        if u16::from(self.rows) + u16::from(self.max_rows) + u16::from(self.counter_rows) > 64 {
            return Err(
                "config.rows + config.max_rows + config.counter_rows must be at most 64".into(),
            );
        }
        if self.total_rows() == 0 {
            return Err(
                "config.rows + config.max_rows + config.counter_rows must be at least 1".into(),
            );
        }
        if self.users == 0 || self.users > 16 {
            return Err(format!(
                "config.users ({}) must be between 1 and 16",
                self.users
            ));
        }
        if self.private_rows > self.total_rows() {
            return Err(format!(
                "config.private_rows ({}) exceeds the number of rows ({})",
                self.private_rows,
                self.total_rows()
            ));
        }
        if self.max_in_flight == 0 {
            return Err("config.max_in_flight must be at least 1".into());
        }
        // Values are `mutation number + 1` and versions count mutations: both must fit a u8.
        if self.max_mutations > 250 {
            return Err(format!(
                "config.max_mutations ({}) must be at most 250",
                self.max_mutations
            ));
        }
        if u16::from(self.tabs) + u16::from(self.max_resets) > 250 {
            return Err("config.tabs + config.max_resets must be at most 250 (clientIDs)".into());
        }
        Ok(())
    }
}

/// Where a tab's next mutationID comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MidCounter {
    /// A counter per clientID stored in IndexedDB: survives reloads, and confirmation emptying
    /// the outbox.
    Idb,
    /// Derived from the outbox when the page loads (`max mid in my slice + 1`), then counted in
    /// memory: the page's literal reading.
    Outbox,
}

/// What a tab that starts with a clientID copied from another tab's sessionStorage does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DuplicateTab {
    /// Detects a live holder of the same clientID (Web Lock or BroadcastChannel) and mints a
    /// fresh one.
    Rotate,
    /// Keeps the copied clientID: two live tabs share one outbox slice and one mid counter.
    Share,
}

/// How much of the shared IndexedDB `resetLocalState()` wipes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ResetScope {
    /// Base, cookie, and the resetting tab's own outbox slice and counter; other tabs keep
    /// their slices and counters.
    Slice,
    /// Everything, other live tabs' pending mutations included (the page's literal reading).
    Whole,
}

/// Where a tab's clientID lives.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ClientIdScope {
    /// In sessionStorage: it survives a reload, a restored tab gets it back, a duplicated tab
    /// copies it (then `duplicate_tab` decides).
    Session,
    /// In memory (Replicache): every instance mints a fresh one, at open, reload, duplicate and
    /// restore alike.
    Instance,
}

/// Which pending mutations one tab's push carries, and which ones its view replays.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// Its own clientID's slice (and, for a push with `orphan_recovery`, the slices no open tab
    /// holds), one push request per slice.
    Slice,
    /// Every pending mutation of the installation's client group, whatever its clientID, in
    /// creation order: one push request per push (Replicache).
    Group,
}

/// Which clientGroupID a client's requests carry, and whose IndexedDB a tab uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum GroupIdentity {
    /// One clientGroupID per IndexedDB, minted with it (Replicache), and one IndexedDB per user
    /// (Replicache's `name` set to the user's id): a login opens the new user's IndexedDB, so a
    /// user never pushes another user's pending mutations (model choice 25).
    #[serde(rename = "idb-per-user")]
    IdbPerUser,
    /// One clientGroupID per IndexedDB, and one IndexedDB whoever signs in (Replicache with one
    /// `name` for every user, as the conformance adapter runs it): the installation's own id.
    #[serde(rename = "idb")]
    Idb,
    /// The signed-in user's id (the page: `clientGroupID: currentUser.id`): every installation
    /// of one user shares it, and a login moves the installation's IndexedDB, pending outbox
    /// included, to the new user's group. Signed out, the group is `config.users` (nobody's).
    #[serde(rename = "user")]
    User,
}

/// What the server computes a pull's patch from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PullFrom {
    /// The cookie in the request: the rows written after it.
    Cookie,
    /// The server's own record of what the request's clientGroupID has seen (the last cookie it
    /// served the group), when it has one: the page's "the cookie tracks which server writes
    /// this clientGroupID has seen", kept server-side per group.
    Group,
}

/// What the server does with a push whose request carries no signed-in user.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SignedOutPush {
    /// Refused whole: the watermark does not move, and the mutations wait in the outbox for a
    /// login.
    Refuse,
    /// Processed like any push: `auth.write` denies every mutation of it, so each is processed
    /// with no effect (Zero: the push endpoint runs every mutation, and a mutator that throws
    /// for a signed-out user consumes its mutation with an error result).
    Process,
}

/// The protocol's design switches (PROTOCOL.md §6), and the ways the real Replicache client
/// differs from the page (the `replicache` profile). A missing field in JSON takes its hardened
/// value.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Protocol {
    pub rotate_on_reset: bool,
    pub mid_counter: MidCounter,
    pub duplicate_tab: DuplicateTab,
    pub orphan_recovery: bool,
    pub reset_scope: ResetScope,
    pub auth_change_reset: bool,
    pub pull_base_check: bool,
    /// Which clientGroupID requests carry (`idb-per-user`; Replicache with one `name`: `idb`;
    /// the page: `user`).
    #[serde(skip_serializing_if = "GroupIdentity::is_per_user_idb")]
    pub group_id: GroupIdentity,
    /// What a pull's patch is computed from (`cookie`; the page's per-group record: `group`).
    #[serde(skip_serializing_if = "PullFrom::is_cookie")]
    pub pull_from: PullFrom,
    // The switches below are written only when they differ from hardened, so that traces and
    // snapshots of the page's switches read as they did before the Replicache profile.
    /// Where the clientID lives (`session`; Replicache: `instance`).
    #[serde(skip_serializing_if = "ClientIdScope::is_session")]
    pub client_id: ClientIdScope,
    /// What one push carries (`slice`; Replicache: `group`).
    #[serde(skip_serializing_if = "Scope::is_slice")]
    pub push_scope: Scope,
    /// What a tab's view replays on its base (`slice`; Replicache: `group`).
    #[serde(skip_serializing_if = "Scope::is_slice")]
    pub view_scope: Scope,
    /// One request of each kind in flight per tab instance (Replicache): a Push or Pull asked
    /// for meanwhile is queued and sent, with what is pending then, when the outstanding one
    /// completes (answered or failed); a response reaches only the instance that asked (a
    /// reloaded tab is a new instance); one response per request, so the network does not
    /// duplicate messages.
    #[serde(skip_serializing_if = "is_false")]
    pub request_slots: bool,
    /// Every tab instance pulls as it opens (Replicache): the initial tabs, OpenTab, Reload,
    /// DuplicateTab and RestoreTab.
    #[serde(skip_serializing_if = "is_false")]
    pub pull_on_open: bool,
    /// The server's cookie moves whenever a pull would report something new (Replicache's
    /// contract with the server): a mutation processed with no effect (`auth.write` denied)
    /// bumps the version too, and so does a pull that gets a full reset patch because its
    /// user differs from its cookie's. Replicache ignores a response whose cookie equals the
    /// one it holds, and persists a pulled snapshot only if its cookie orders after the stored
    /// one.
    #[serde(skip_serializing_if = "is_false")]
    pub cookie_per_change: bool,
    /// A push without a signed-in user: `refuse` (hardened), or `process` (Zero's push
    /// endpoint, the `zero` profile: each mutation is denied and consumed).
    #[serde(skip_serializing_if = "SignedOutPush::is_refuse")]
    pub signed_out_push: SignedOutPush,
}

fn is_false(b: &bool) -> bool {
    !*b
}

impl GroupIdentity {
    fn is_per_user_idb(&self) -> bool {
        *self == GroupIdentity::IdbPerUser
    }
}

impl SignedOutPush {
    fn is_refuse(&self) -> bool {
        *self == SignedOutPush::Refuse
    }
}

impl PullFrom {
    fn is_cookie(&self) -> bool {
        *self == PullFrom::Cookie
    }
}

impl ClientIdScope {
    fn is_session(&self) -> bool {
        *self == ClientIdScope::Session
    }
}

impl Scope {
    fn is_slice(&self) -> bool {
        *self == Scope::Slice
    }
}

impl Default for Protocol {
    fn default() -> Self {
        Protocol::hardened()
    }
}

impl Protocol {
    /// The design the harness proves safe.
    pub fn hardened() -> Self {
        Protocol {
            rotate_on_reset: true,
            mid_counter: MidCounter::Idb,
            duplicate_tab: DuplicateTab::Rotate,
            orphan_recovery: true,
            reset_scope: ResetScope::Slice,
            auth_change_reset: true,
            pull_base_check: true,
            group_id: GroupIdentity::IdbPerUser,
            pull_from: PullFrom::Cookie,
            client_id: ClientIdScope::Session,
            push_scope: Scope::Slice,
            view_scope: Scope::Slice,
            request_slots: false,
            pull_on_open: false,
            cookie_per_change: false,
            signed_out_push: SignedOutPush::Refuse,
        }
    }

    /// What Zero's server library (`@rocicorp/zero/server`, its push processor) does where it
    /// differs from the hardened server (the profile in `harness/conformance/README.md`): a
    /// push without a signed-in user is processed, and `auth.write` denies each mutation of it.
    pub fn zero() -> Self {
        Protocol {
            signed_out_push: SignedOutPush::Process,
            ..Protocol::hardened()
        }
    }

    /// What the real Replicache 15 client does where it differs from the hardened page (the
    /// profile in `harness/conformance/README.md`): a fresh clientID per instance, group
    /// pushes and views, one request per kind in flight, a pull at every open, and a server
    /// whose cookie moves with every change a pull reports.
    pub fn replicache() -> Self {
        Protocol {
            client_id: ClientIdScope::Instance,
            push_scope: Scope::Group,
            view_scope: Scope::Group,
            request_slots: true,
            pull_on_open: true,
            cookie_per_change: true,
            group_id: GroupIdentity::Idb,
            ..Protocol::hardened()
        }
    }

    /// The documentation page read literally (the page says nothing of the Replicache
    /// switches: they keep their hardened values).
    pub fn documented() -> Self {
        Protocol {
            rotate_on_reset: true,
            mid_counter: MidCounter::Outbox,
            duplicate_tab: DuplicateTab::Share,
            orphan_recovery: false,
            reset_scope: ResetScope::Whole,
            auth_change_reset: false,
            pull_base_check: false,
            group_id: GroupIdentity::User,
            pull_from: PullFrom::Group,
            ..Protocol::hardened()
        }
    }

    /// The protocol a name stands for: `"hardened"`, `"documented"`, `"replicache"` or
    /// `"zero"`.
    pub fn from_name(name: &str) -> Option<Protocol> {
        match name {
            "hardened" => Some(Protocol::hardened()),
            "documented" => Some(Protocol::documented()),
            "replicache" => Some(Protocol::replicache()),
            "zero" => Some(Protocol::zero()),
            _ => None,
        }
    }

    /// `"hardened"`, `"documented"`, `"replicache"`, `"zero"`, or `"custom"` for any other
    /// mix of switches.
    pub fn name(&self) -> &'static str {
        if *self == Protocol::hardened() {
            "hardened"
        } else if *self == Protocol::documented() {
            "documented"
        } else if *self == Protocol::replicache() {
            "replicache"
        } else if *self == Protocol::zero() {
            "zero"
        } else {
            "custom"
        }
    }
}

/// Everything a step depends on besides the state: the bounds and the protocol.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Setup {
    pub config: Config,
    pub protocol: Protocol,
    pub mutant: Option<crate::Mutant>,
}

impl Setup {
    pub fn new(config: Config, protocol: Protocol) -> Self {
        Setup {
            config,
            protocol,
            mutant: None,
        }
    }

    /// The hardened protocol with one deliberate bug (a switch mutant also sets its switch).
    pub fn mutated(config: Config, protocol: Protocol, mutant: Option<crate::Mutant>) -> Self {
        let mut protocol = protocol;
        if let Some(m) = mutant {
            m.apply(&mut protocol);
        }
        Setup {
            config,
            protocol,
            mutant,
        }
    }

    pub fn has(&self, mutant: crate::Mutant) -> bool {
        self.mutant == Some(mutant)
    }

    pub fn hardened(config: Config) -> Self {
        Setup::new(config, Protocol::hardened())
    }
}

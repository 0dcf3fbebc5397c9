//! The whole system in one value, and the step function that every driver shares.

use crate::auth::{self, Table};
use crate::config::{
    ClientIdScope, DuplicateTab, GroupIdentity, MidCounter, ResetScope, Scope, Setup,
};
use crate::history::{Created, History};
use crate::install::{Entry, Install};
use crate::network::{Msg, Network, Patch, Pushed};
use crate::server::Server;
use crate::tab::{Slot, Tab, TabStatus};
use crate::tracked::Tracked;
use crate::Rows;
use crate::{Action, ClientId, Enabled, InstallId, Mid, Mutant, Op, TabId, UserId, Version};
use smallvec::SmallVec;
use std::fmt;

/// `Hash` hashes the compact encoding (see [`crate::encode`]). The five collections are
/// [`Tracked`]: each remembers being changed, so that a driver re-encodes only those an action
/// changed (one of them for 77% of the successors of `default`).
#[derive(Debug, PartialEq, Eq)]
pub struct World {
    pub server: Tracked<Server>,
    pub installs: Tracked<SmallVec<[Install; 2]>>,
    /// Every tab ever created, in creation order (closed ones stay, so numbers are stable).
    pub tabs: Tracked<SmallVec<[Tab; 4]>>,
    pub network: Tracked<Network>,
    pub history: Tracked<History>,
    /// The next clientID to mint.
    pub next_client: ClientId,
    /// `ResetLocalState` calls so far.
    pub resets: u8,
    /// Fault budgets spent so far.
    pub drops: u8,
    pub duplicates: u8,
    /// `Logout` and `Login` actions so far.
    pub auth_changes: u8,
}

crate::fieldwise_clone!(World {
    server,
    installs,
    tabs,
    network,
    history,
    next_client,
    resets,
    drops,
    duplicates,
    auth_changes
});

/// A state to copy from, examined for heap memory once (see [`World::overwrite_from`]).
#[derive(Clone, Copy, Debug)]
pub enum Source<'a> {
    /// No collection in the state has spilled to the heap.
    Inline(&'a World),
    Spilled(&'a World),
}

impl<'a> Source<'a> {
    pub fn of(world: &'a World) -> Source<'a> {
        use crate::vecmap::Inline;
        if world.is_inline() {
            Source::Inline(world)
        } else {
            Source::Spilled(world)
        }
    }
}

/// Why an action cannot be taken in a state. The message names the offending part.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refusal {
    NoSuchTab(TabId),
    TabNotOpen(TabId),
    TabNotClosed(TabId),
    AlreadyRestored(TabId),
    NoSuchInstall(InstallId),
    NoSuchRow {
        row: u8,
        rows: u8,
    },
    TabLimit(u8),
    MutationLimit(u8),
    NothingToPush(TabId),
    NotInFlight(Msg),
    DropBudget(u8),
    DuplicateBudget(u8),
    ClientIdsExhausted,
    NoSuchUser(u8),
    NotSignedIn(InstallId),
    AlreadySignedIn(InstallId),
    WrongOp(Op),
    /// Under `request_slots` a request has exactly one response: no network duplicates.
    NoDuplicates,
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::NoSuchTab(t) => write!(f, "tab {t} does not exist yet"),
            Refusal::TabNotOpen(t) => write!(f, "tab {t} is closed"),
            Refusal::TabNotClosed(t) => write!(f, "tab {t} is open, so it cannot be restored"),
            Refusal::AlreadyRestored(t) => write!(f, "tab {t} was already restored once"),
            Refusal::NoSuchInstall(i) => write!(f, "installation {i} does not exist"),
            Refusal::NoSuchRow { row, rows } => {
                write!(f, "row {row} does not exist (config.rows is {rows})")
            }
            Refusal::TabLimit(n) => write!(f, "config.tabs ({n}) tabs were already created"),
            Refusal::MutationLimit(n) => {
                write!(
                    f,
                    "config.max_mutations ({n}) mutations were already created"
                )
            }
            Refusal::NothingToPush(t) => write!(f, "tab {t} has no pending mutations to push"),
            Refusal::NotInFlight(m) => write!(f, "message {m:?} is not in flight"),
            Refusal::DropBudget(n) => write!(f, "the drop budget (config.drops = {n}) is spent"),
            Refusal::DuplicateBudget(n) => {
                write!(f, "the duplicate budget (config.duplicates = {n}) is spent")
            }
            Refusal::ClientIdsExhausted => write!(f, "no clientIDs left to mint"),
            Refusal::NoSuchUser(u) => write!(f, "user {u} does not exist (see config.users)"),
            Refusal::NotSignedIn(i) => write!(f, "installation {i} is not signed in"),
            Refusal::AlreadySignedIn(i) => {
                write!(f, "installation {i} is signed in: log out first")
            }
            Refusal::NoDuplicates => write!(
                f,
                "this protocol gives each request exactly one response (request_slots): the network does not duplicate"
            ),
            Refusal::WrongOp(op) => write!(
                f,
                "{op:?} does not fit row {}'s table (counter rows take Incr, the others Set)",
                op.row()
            ),
        }
    }
}

impl std::error::Error for Refusal {}

impl World {
    /// Every installation starts with one open tab; tab `i` and clientID `i` belong to
    /// installation `i`, whose clientGroupID is `i` and whose user is `i % users`.
    pub fn init(setup: &Setup) -> World {
        let c = &setup.config;
        let rows = c.total_rows();
        let installs = (0..c.installs)
            .map(|i| Install::new(i, rows, Some(i % c.users.max(1))))
            .collect();
        let tabs = (0..c.installs)
            .map(|i| Tab {
                install: i,
                client: i,
                status: TabStatus::Open,
                view: Rows::from_elem(None, usize::from(rows)),
                mem_mid: None,
                push: Slot::Idle,
                pull: Slot::Idle,
            })
            .collect();
        let mut w = World {
            server: Tracked::new(Server::new(rows)),
            installs: Tracked::new(installs),
            tabs: Tracked::new(tabs),
            network: Tracked::default(),
            history: Tracked::default(),
            next_client: c.installs,
            resets: 0,
            drops: 0,
            duplicates: 0,
            auth_changes: 0,
        };
        if setup.protocol.pull_on_open {
            for t in 0..c.installs {
                w.start_pull(setup, t);
            }
        }
        w
    }

    /// Which collections were changed since [`World::forget_changes`]: bit `k` for
    /// [`crate::encode::Segment`] `k` (the counters, not tracked, are always marked).
    #[inline]
    pub fn changes(&self) -> u8 {
        use crate::encode::Segment;
        (u8::from(self.server.changed()) << Segment::Server as u8)
            | (u8::from(self.installs.changed()) << Segment::Installs as u8)
            | (u8::from(self.tabs.changed()) << Segment::Tabs as u8)
            | (u8::from(self.network.changed()) << Segment::Network as u8)
            | (u8::from(self.history.changed()) << Segment::History as u8)
            | (1 << Segment::Counters as u8)
    }

    /// Clears the marks [`World::changes`] reads.
    #[inline]
    pub fn forget_changes(&mut self) {
        self.server.forget_change();
        self.installs.forget_change();
        self.tabs.forget_change();
        self.network.forget_change();
        self.history.forget_change();
    }

    /// The actions an exhaustive or random search may take: every action `step` accepts, within
    /// the search bounds (`max_in_flight`, `max_resets`). Mutations write `serial + 1`, so every
    /// written value names the mutation that wrote it.
    pub fn enabled(&self, setup: &Setup, out: &mut Vec<Action>) {
        self.enabled_with(setup, out);
    }

    /// [`World::enabled`], in the same order, with each delivery, drop or duplicate naming its
    /// message by place ([`Enabled`]): for [`World::apply_enabled`] on this state, which then
    /// neither copies nor looks for the message.
    pub fn enabled_at(&self, setup: &Setup, out: &mut Vec<Enabled>) {
        self.enabled_with(setup, out);
    }

    #[inline(always)]
    fn enabled_with(&self, setup: &Setup, out: &mut impl ActionSink) {
        let c = &setup.config;
        let room = usize::from(c.max_in_flight).saturating_sub(self.network.len());
        let can_mutate = self.history.created.len() < usize::from(c.max_mutations);
        let can_create_tab = self.tabs.len() < usize::from(c.tabs);
        let value = self.history.created.len() as u8 + 1;
        for (t, tab) in self.tabs.iter().enumerate() {
            let t = t as TabId;
            if tab.is_closed() && can_create_tab {
                out.act(Action::RestoreTab { tab: t });
            }
            if !tab.is_open() {
                continue;
            }
            if can_mutate {
                for row in 0..c.total_rows() {
                    let op = match auth::table(c, row) {
                        Table::Counter => Op::Incr { row },
                        Table::Lww | Table::Max => Op::Set { row, value },
                    };
                    out.act(Action::Mutate { tab: t, op });
                }
            }
            let slices = self.push_slices_iter(setup, t).count();
            let sends = match setup.protocol.push_scope {
                Scope::Slice => slices,
                Scope::Group => usize::from(slices > 0),
            };
            // With request slots, asking while a request is out queues one (sends nothing).
            match tab.push {
                Slot::Idle if slices > 0 && sends <= room => out.act(Action::Push { tab: t }),
                Slot::Open if slices > 0 => out.act(Action::Push { tab: t }),
                _ => {}
            }
            match tab.pull {
                Slot::Idle if room > 0 => out.act(Action::Pull { tab: t }),
                Slot::Open => out.act(Action::Pull { tab: t }),
                _ => {}
            }
            // Under `client_id = instance` a reload mints a clientID: a search mints at most
            // two per tab slot (a search bound, as `max_resets` is), or it would never end.
            let fresh_ids =
                usize::from(self.next_client) < 2 * usize::from(c.tabs) + usize::from(c.max_resets);
            // A reload that would change nothing is a self-loop: no new state, only work (under
            // the hardened protocol every reload is one, 18% of the successors computed).
            let no_op = setup.protocol.client_id == ClientIdScope::Session
                && !setup.protocol.pull_on_open
                && tab.mem_mid.is_none()
                && tab.push == Slot::Idle
                && tab.pull == Slot::Idle
                && tab.view == self.installs[usize::from(tab.install)].view_of(setup, tab.client);
            if (setup.protocol.client_id == ClientIdScope::Session || fresh_ids) && !no_op {
                out.act(Action::Reload { tab: t });
            }
            if can_create_tab {
                out.act(Action::DuplicateTab { tab: t });
            }
            out.act(Action::CloseTab { tab: t });
            if self.resets < c.max_resets {
                out.act(Action::ResetLocalState { tab: t });
            }
        }
        if can_create_tab {
            for i in 0..c.installs {
                out.act(Action::OpenTab { install: i });
            }
        }
        if self.auth_changes < c.max_auth_changes {
            for (i, inst) in self.installs.iter().enumerate() {
                let install = i as InstallId;
                match inst.signed_in {
                    Some(_) => out.act(Action::Logout { install }),
                    None => {
                        for user in 0..c.users {
                            out.act(Action::Login { install, user });
                        }
                    }
                }
            }
        }
        // A correct server processes each mutation once, so `processed` never outgrows
        // `created`; a mutant that re-applies retries (no-dedup) could grow it, and the server
        // version with it, forever. Two re-applications show any such bug; beyond that a push
        // waits in the network, which keeps every mutant's state space finite.
        let may_process = self.history.processed.len() < usize::from(c.max_mutations) + 2;
        for (i, msg) in self.network.distinct().enumerate() {
            // The network holds at most `max_in_flight` (a `u8`) distinct messages.
            debug_assert!(i < usize::from(u8::MAX));
            let i = i as u8;
            if may_process || !matches!(msg, Msg::PushReq { .. }) {
                out.message(MsgAction::Deliver, i, msg);
            }
            if self.drops < c.drops {
                out.message(MsgAction::Drop, i, msg);
            }
            if self.duplicates < c.duplicates && room > 0 && !setup.protocol.request_slots {
                out.message(MsgAction::Duplicate, i, msg);
            }
        }
    }

    /// The successor of `self` under `action`, or why `action` is not allowed here. Enforces the
    /// protocol's rules and the configuration's limits, not the search bounds.
    pub fn step(&self, setup: &Setup, action: &Action) -> Result<World, Refusal> {
        let mut w = self.clone();
        w.apply(setup, action)?;
        Ok(w)
    }

    /// Makes `self` equal to `source`, as `clone_from` does, for drivers that write successors
    /// into a buffer: when neither state owns heap memory (every collection within its inline
    /// capacity, as in every exhaustive preset) the copy is one `memcpy` of the whole state
    /// instead of a clone of each of its two dozen small collections (40% of a search's time).
    pub fn overwrite(&mut self, source: &World) {
        self.overwrite_from(Source::of(source));
    }

    /// [`World::overwrite`] from a source examined once for many copies (a driver copying one
    /// state into its buffer for each of its successors).
    pub fn overwrite_from(&mut self, source: Source<'_>) {
        use crate::vecmap::Inline;
        match source {
            Source::Inline(source) if self.is_inline() => {
                // SAFETY: `is_inline` checks every field (the list `fieldwise_clone!` proves
                // complete) and holds only if no collection in the state has spilled (a
                // `Tracked` collection may answer from its mark, set below right after such a
                // check and cleared by every mutable borrow, the only way to change it); a
                // `Source::Inline` is built only after that check and borrows its state, which
                // therefore cannot have changed since. Both states are then plain bytes that
                // own nothing: overwriting `self` leaks nothing, and the copy shares nothing
                // with `source` (an inline `SmallVec` holds no pointer, only its length and
                // its elements, all `Copy`).
                unsafe { std::ptr::copy_nonoverlapping(source, self, 1) }
                // Until a collection is borrowed mutably, the next copy into `self` need not
                // walk it to know it owns nothing.
                self.server.known_inline();
                self.installs.known_inline();
                self.tabs.known_inline();
                self.network.known_inline();
                self.history.known_inline();
            }
            Source::Inline(source) | Source::Spilled(source) => self.clone_from(source),
        }
    }

    /// [`World::apply`] of an action [`World::enabled_at`] listed for a state equal to `self`: a
    /// message is taken from the place the action names, not looked for (the scan compared
    /// messages field by field).
    #[inline]
    pub fn apply_enabled(&mut self, setup: &Setup, action: &Enabled) -> Result<(), Refusal> {
        match *action {
            Enabled::Act(ref action) => self.apply(setup, action),
            Enabled::Deliver(i) => {
                let msg = self.network.take_at(usize::from(i));
                self.deliver(setup, &msg);
                Ok(())
            }
            Enabled::Drop(i) => self.drop_at(setup, usize::from(i)),
            Enabled::Duplicate(i) => self.duplicate_at(setup, usize::from(i)),
        }
    }

    /// The action `action` is, in this state (the one [`World::enabled_at`] listed it for).
    pub fn action_of(&self, action: &Enabled) -> Action {
        let msg = |i: u8| self.network.get(usize::from(i)).clone();
        match *action {
            Enabled::Act(ref action) => action.clone(),
            Enabled::Deliver(i) => Action::Deliver(msg(i)),
            Enabled::Drop(i) => Action::Drop(msg(i)),
            Enabled::Duplicate(i) => Action::Duplicate(msg(i)),
        }
    }

    /// Loses one copy of the message at place `i` of the network, within the drop budget.
    fn drop_at(&mut self, setup: &Setup, i: usize) -> Result<(), Refusal> {
        if self.drops >= setup.config.drops {
            return Err(Refusal::DropBudget(setup.config.drops));
        }
        let msg = self.network.get(i);
        let (tab, push) = (msg.tab(), msg.is_push());
        let current = self.asked_by_current_instance(setup, msg);
        self.network.lose_at(i);
        self.drops += 1;
        // A lost request or response is a failed request for the instance that sent it.
        if current {
            self.complete(setup, tab, push);
        }
        Ok(())
    }

    /// Adds a copy of the message at place `i` of the network, within the duplicate budget.
    fn duplicate_at(&mut self, setup: &Setup, i: usize) -> Result<(), Refusal> {
        if setup.protocol.request_slots {
            return Err(Refusal::NoDuplicates);
        }
        if self.duplicates >= setup.config.duplicates {
            return Err(Refusal::DuplicateBudget(setup.config.duplicates));
        }
        self.network.duplicate_at(i);
        self.duplicates += 1;
        Ok(())
    }

    /// [`World::step`] in place, for drivers that keep their own successor buffer. On a refusal
    /// `self` may be partly changed: overwrite it (`clone_from`) before using it again.
    pub fn apply(&mut self, setup: &Setup, action: &Action) -> Result<(), Refusal> {
        let w = self;
        match action {
            Action::Mutate { tab, op } => w.mutate(setup, *tab, *op)?,
            Action::Push { tab } => w.ask_push(setup, *tab)?,
            Action::Pull { tab } => {
                let t = w.open_tab(*tab)?;
                if t.pull != Slot::Idle {
                    w.tabs[usize::from(*tab)].pull = Slot::Queued;
                } else {
                    w.start_pull(setup, *tab);
                }
            }
            Action::Reload { tab } => {
                w.open_tab(*tab)?;
                let fresh = match setup.protocol.client_id {
                    ClientIdScope::Session => None,
                    ClientIdScope::Instance => Some(w.mint()?),
                };
                let t = &mut w.tabs[usize::from(*tab)];
                t.mem_mid = None;
                t.push = Slot::Idle;
                t.pull = Slot::Idle;
                if let Some(c) = fresh {
                    t.client = c;
                }
                t.view = w.installs[usize::from(t.install)].view_of(setup, t.client);
                if setup.protocol.pull_on_open {
                    w.start_pull(setup, *tab);
                }
            }
            Action::OpenTab { install } => {
                if *install >= setup.config.installs {
                    return Err(Refusal::NoSuchInstall(*install));
                }
                w.check_tab_limit(setup)?;
                let client = w.mint()?;
                w.new_tab(setup, *install, client);
            }
            Action::Logout { install } | Action::Login { install, .. } => {
                let inst = w
                    .installs
                    .get_mut(usize::from(*install))
                    .ok_or(Refusal::NoSuchInstall(*install))?;
                match (action, inst.signed_in) {
                    (Action::Logout { .. }, Some(_)) => inst.signed_in = None,
                    (Action::Login { user, .. }, None) => {
                        if *user >= setup.config.users {
                            return Err(Refusal::NoSuchUser(*user));
                        }
                        inst.signed_in = Some(*user);
                        if setup.protocol.group_id == GroupIdentity::IdbPerUser {
                            w.open_user_idb(setup, *install)?;
                        }
                    }
                    (Action::Logout { .. }, None) => return Err(Refusal::NotSignedIn(*install)),
                    _ => return Err(Refusal::AlreadySignedIn(*install)),
                }
                w.auth_changes = w.auth_changes.saturating_add(1);
            }
            Action::DuplicateTab { tab } => {
                let t = w.open_tab(*tab)?;
                let (install, client) = (t.install, t.client);
                w.check_tab_limit(setup)?;
                let client = match (setup.protocol.client_id, setup.protocol.duplicate_tab) {
                    (ClientIdScope::Session, DuplicateTab::Share) => client,
                    _ => w.mint()?,
                };
                w.new_tab(setup, install, client);
            }
            Action::CloseTab { tab } => {
                w.open_tab(*tab)?;
                let t = &mut w.tabs[usize::from(*tab)];
                t.status = TabStatus::Closed;
                t.view.clear();
                t.mem_mid = None;
                t.push = Slot::Idle;
                t.pull = Slot::Idle;
            }
            Action::RestoreTab { tab } => w.restore(setup, *tab)?,
            Action::ResetLocalState { tab } => w.reset(setup, *tab)?,
            Action::Deliver(msg) => {
                if !w.network.take(msg) {
                    return Err(Refusal::NotInFlight(msg.clone()));
                }
                w.deliver(setup, msg);
            }
            // The budgets are checked (again in `drop_at`, `duplicate_at`) before the message is
            // looked for, so that a spent budget is the refusal a replay names first.
            Action::Drop(msg) => {
                if w.drops >= setup.config.drops {
                    return Err(Refusal::DropBudget(setup.config.drops));
                }
                let Some(i) = w.network.position(msg) else {
                    return Err(Refusal::NotInFlight(msg.clone()));
                };
                w.drop_at(setup, i)?;
            }
            Action::Duplicate(msg) => {
                if setup.protocol.request_slots {
                    return Err(Refusal::NoDuplicates);
                }
                if w.duplicates >= setup.config.duplicates {
                    return Err(Refusal::DuplicateBudget(setup.config.duplicates));
                }
                let Some(i) = w.network.position(msg) else {
                    return Err(Refusal::NotInFlight(msg.clone()));
                };
                w.duplicate_at(setup, i)?;
            }
        }
        Ok(())
    }

    /// Open tabs of an installation, in tab order.
    pub fn open_tabs_of(&self, install: InstallId) -> impl Iterator<Item = (TabId, &Tab)> {
        self.tabs
            .iter()
            .enumerate()
            .filter(move |(_, t)| t.is_open() && t.install == install)
            .map(|(i, t)| (i as TabId, t))
    }

    /// The clientID slices a Push from `tab` carries: its own, and (with `orphan_recovery`) every
    /// slice whose clientID no open tab of the installation holds. Only non-empty slices.
    pub fn push_slices(&self, setup: &Setup, tab: TabId) -> SmallVec<[ClientId; 4]> {
        self.push_slices_iter(setup, tab).collect()
    }

    /// [`World::push_slices`] without collecting them (what `enabled` needs is their number).
    fn push_slices_iter<'a>(
        &'a self,
        setup: &'a Setup,
        tab: TabId,
    ) -> impl Iterator<Item = ClientId> + 'a {
        let t = &self.tabs[usize::from(tab)];
        let inst = &self.installs[usize::from(t.install)];
        let group = setup.protocol.push_scope == Scope::Group;
        inst.pending_clients()
            .filter(move |&c| {
                group
                    || c == t.client
                    || (setup.protocol.orphan_recovery
                        && !self.open_tabs_of(t.install).any(|(_, o)| o.client == c))
            })
            .filter(move |&c| self.signed_in_owns(setup, t.install, c))
    }

    /// Whether the installation's signed-in user may push a clientID's slice. Under
    /// `group_id = idb-per-user` the app keeps one IndexedDB per user (Replicache's `name`), so
    /// a user never sees, let alone pushes, another user's pending mutations: a slice goes out
    /// only when every entry in it was made by the signed-in user (or while signed out). Under
    /// `idb` and `user` the one IndexedDB carries whatever is pending to whoever signs in.
    pub fn signed_in_owns(&self, setup: &Setup, install: InstallId, client: ClientId) -> bool {
        // Before the first logout or login every entry is its installation's first user's.
        if setup.protocol.group_id != GroupIdentity::IdbPerUser
            || setup.has(Mutant::PushAnyAuthor)
            || self.auth_changes == 0
        {
            return true;
        }
        let inst = &self.installs[usize::from(install)];
        inst.slice(client).all(|(_, e)| {
            let author = self.history.created[usize::from(e.serial)].user;
            author.is_none() || author == inst.signed_in
        })
    }

    /// True when `msg` is a request of, or a response to, the tab instance that is open now
    /// under its tab number (switch `request_slots`; always false without it).
    pub fn asked_by_current_instance(&self, setup: &Setup, msg: &Msg) -> bool {
        setup.protocol.request_slots
            && self
                .tabs
                .get(usize::from(msg.tab()))
                .is_some_and(|t| t.is_open() && Some(t.client) == msg.instance())
    }

    /// The pull request of an open tab, sent now (its pull slot opens under `request_slots`).
    fn start_pull(&mut self, setup: &Setup, tab: TabId) {
        let t = &self.tabs[usize::from(tab)];
        let inst = &self.installs[usize::from(t.install)];
        let msg = Msg::PullReq {
            tab,
            group: inst.group_of(setup),
            client: t.client,
            user: inst.signed_in,
            cookie: inst.cookie,
            cookie_user: inst.base_user,
        };
        self.network.send(msg);
        if setup.protocol.request_slots {
            self.tabs[usize::from(tab)].pull = Slot::Open;
        }
    }

    /// A tab instance's outstanding request of one kind completed (answered, or failed): its
    /// slot frees, and a queued request goes out now with what is pending now.
    fn complete(&mut self, setup: &Setup, tab: TabId, push: bool) {
        let t = &mut self.tabs[usize::from(tab)];
        let slot = if push { &mut t.push } else { &mut t.pull };
        let queued = *slot == Slot::Queued;
        *slot = Slot::Idle;
        if !queued {
            return;
        }
        if push {
            // Nothing pending: the queued push sends nothing.
            let _ = self.push(setup, tab);
        } else {
            self.start_pull(setup, tab);
        }
    }

    fn open_tab(&self, tab: TabId) -> Result<&Tab, Refusal> {
        match self.tabs.get(usize::from(tab)) {
            None => Err(Refusal::NoSuchTab(tab)),
            Some(t) if !t.is_open() => Err(Refusal::TabNotOpen(tab)),
            Some(t) => Ok(t),
        }
    }

    fn check_tab_limit(&self, setup: &Setup) -> Result<(), Refusal> {
        if self.tabs.len() >= usize::from(setup.config.tabs) {
            return Err(Refusal::TabLimit(setup.config.tabs));
        }
        Ok(())
    }

    fn mint(&mut self) -> Result<ClientId, Refusal> {
        let c = self.next_client;
        self.next_client = c.checked_add(1).ok_or(Refusal::ClientIdsExhausted)?;
        Ok(c)
    }

    fn new_tab(&mut self, setup: &Setup, install: InstallId, client: ClientId) {
        let view = self.installs[usize::from(install)].view_of(setup, client);
        self.tabs.push(Tab {
            install,
            client,
            status: TabStatus::Open,
            view,
            mem_mid: None,
            push: Slot::Idle,
            pull: Slot::Idle,
        });
        if setup.protocol.pull_on_open {
            self.start_pull(setup, (self.tabs.len() - 1) as TabId);
        }
    }

    /// The first installation holding a pending mutation made by a signed-in user other than
    /// the one signed in there now, and that user.
    pub fn waiting_author(&self) -> Option<(InstallId, UserId)> {
        self.installs.iter().enumerate().find_map(|(i, inst)| {
            inst.outbox.values().find_map(|e| {
                let author = self.history.created[usize::from(e.serial)].user?;
                (Some(author) != inst.signed_in).then_some((i as InstallId, author))
            })
        })
    }

    /// A login under `group_id = idb-per-user`: each open tab of the installation closes the
    /// previous user's client and opens one on the new user's IndexedDB (Replicache: a new
    /// instance with `name` = the user), with a fresh clientID. The previous user's slices stay behind,
    /// pushed when that user signs in again (as orphans, by `orphan_recovery`). A closed tab's
    /// sessionStorage keeps the previous user's clientID: restored, it mints a fresh one.
    fn open_user_idb(&mut self, setup: &Setup, install: InstallId) -> Result<(), Refusal> {
        let open: SmallVec<[TabId; 4]> = self.open_tabs_of(install).map(|(t, _)| t).collect();
        for tab in open {
            let client = self.mint()?;
            self.tabs[usize::from(tab)].rotate(client);
        }
        // Once the run's tab budget is spent no closed tab can be restored, and marking it
        // would only tell apart states that behave alike.
        if self.tabs.len() < usize::from(setup.config.tabs) {
            for t in self.tabs.iter_mut() {
                if t.install == install && t.status == TabStatus::Closed {
                    t.status = TabStatus::ClosedBeforeLogin;
                }
            }
        }
        self.rebase(setup, install);
        Ok(())
    }

    /// Every change to an installation's IDB is seen by its open tabs (they share it and are
    /// notified), which rebase their views on it.
    fn rebase(&mut self, setup: &Setup, install: InstallId) {
        let inst = &self.installs[usize::from(install)];
        for t in self.tabs.iter_mut() {
            if t.is_open() && t.install == install {
                t.view = inst.view_of(setup, t.client);
            }
        }
    }

    fn mutate(&mut self, setup: &Setup, tab: TabId, op: Op) -> Result<(), Refusal> {
        let t = self.open_tab(tab)?;
        let (install, client, mem_mid) = (t.install, t.client, t.mem_mid);
        let c = &setup.config;
        if self.history.created.len() >= usize::from(c.max_mutations) {
            return Err(Refusal::MutationLimit(c.max_mutations));
        }
        if op.row() >= c.total_rows() {
            return Err(Refusal::NoSuchRow {
                row: op.row(),
                rows: c.total_rows(),
            });
        }
        let counter = auth::table(c, op.row()) == Table::Counter;
        if counter != matches!(op, Op::Incr { .. }) {
            return Err(Refusal::WrongOp(op));
        }
        // The mutant computes the counter's next value locally and sends it as a plain write.
        let op = match op {
            Op::Incr { row } if setup.has(Mutant::CounterAsLww) => {
                let seen = self.tabs[usize::from(tab)].view[usize::from(row)];
                Op::Set {
                    row,
                    value: seen.unwrap_or(0).saturating_add(1),
                }
            }
            op => op,
        };
        let inst = &mut self.installs[usize::from(install)];
        let mid: Mid = match setup.protocol.mid_counter {
            MidCounter::Idb => {
                let last = inst.next_mid.get_or_insert(client, 0);
                *last += 1;
                *last
            }
            MidCounter::Outbox => {
                let mid = mem_mid.unwrap_or_else(|| inst.max_pending_mid(client)) + 1;
                self.tabs[usize::from(tab)].mem_mid = Some(mid);
                mid
            }
        };
        let serial = self.history.created.len() as u8;
        self.history.created.push(Created {
            install,
            tab,
            group: inst.group_of(setup),
            client,
            mid,
            op,
            user: inst.signed_in,
        });
        if setup.has(Mutant::OutboxByMid) {
            inst.outbox.retain(|&(_, m), _| m != mid);
        }
        inst.outbox.insert((client, mid), Entry { op, serial });
        self.rebase(setup, install);
        Ok(())
    }

    /// A Push: queued while the tab's push is out (`request_slots`), else sent now.
    fn ask_push(&mut self, setup: &Setup, tab: TabId) -> Result<(), Refusal> {
        let t = self.open_tab(tab)?;
        if t.push != Slot::Idle {
            self.tabs[usize::from(tab)].push = Slot::Queued;
            return Ok(());
        }
        self.push(setup, tab)
    }

    fn push(&mut self, setup: &Setup, tab: TabId) -> Result<(), Refusal> {
        let t = self.open_tab(tab)?;
        let sender = t.client;
        let inst = &self.installs[usize::from(t.install)];
        let slices = self.push_slices(setup, tab);
        if slices.is_empty() {
            return Err(Refusal::NothingToPush(tab));
        }
        let request = |client, mut mutations: crate::network::PushedList| {
            if setup.has(Mutant::PushOutOfOrder) {
                mutations.reverse();
            }
            Msg::PushReq {
                tab,
                group: inst.group_of(setup),
                client,
                user: inst.signed_in,
                mutations,
            }
        };
        let msgs: SmallVec<[Msg; 2]> = match setup.protocol.push_scope {
            Scope::Slice => slices
                .into_iter()
                .map(|client| {
                    let mutations = inst
                        .slice(client)
                        .map(|(mid, e)| Pushed {
                            client,
                            mid,
                            op: e.op,
                            serial: e.serial,
                        })
                        .collect();
                    request(client, mutations)
                })
                .collect(),
            Scope::Group => {
                let mutations = inst
                    .pending_in_order()
                    .into_iter()
                    .map(|(client, mid, e)| Pushed {
                        client,
                        mid,
                        op: e.op,
                        serial: e.serial,
                    })
                    .collect();
                SmallVec::from_iter([request(sender, mutations)])
            }
        };
        for m in msgs {
            self.network.send(m);
        }
        if setup.protocol.request_slots {
            self.tabs[usize::from(tab)].push = Slot::Open;
        }
        Ok(())
    }

    fn restore(&mut self, setup: &Setup, tab: TabId) -> Result<(), Refusal> {
        let t = self
            .tabs
            .get(usize::from(tab))
            .ok_or(Refusal::NoSuchTab(tab))?;
        match t.status {
            TabStatus::Open => return Err(Refusal::TabNotClosed(tab)),
            TabStatus::Restored => return Err(Refusal::AlreadyRestored(tab)),
            TabStatus::Closed | TabStatus::ClosedBeforeLogin => {}
        }
        let (install, old) = (t.install, t.client);
        let foreign =
            t.status == TabStatus::ClosedBeforeLogin && !setup.has(Mutant::RestoreAcrossLogin);
        self.check_tab_limit(setup)?;
        let held = self.open_tabs_of(install).any(|(_, o)| o.client == old);
        let client = match (setup.protocol.client_id, setup.protocol.duplicate_tab) {
            (ClientIdScope::Instance, _) => self.mint()?,
            (ClientIdScope::Session, DuplicateTab::Rotate) if held => self.mint()?,
            (ClientIdScope::Session, _) if foreign => self.mint()?,
            (ClientIdScope::Session, _) => old,
        };
        self.tabs[usize::from(tab)].status = TabStatus::Restored;
        self.new_tab(setup, install, client);
        Ok(())
    }

    fn reset(&mut self, setup: &Setup, tab: TabId) -> Result<(), Refusal> {
        let t = self.open_tab(tab)?;
        let (install, client) = (t.install, t.client);
        let p = &setup.protocol;
        let rotated = if p.rotate_on_reset {
            self.mint()?
        } else {
            client
        };
        let inst = &mut self.installs[usize::from(install)];
        let history: &mut History = &mut self.history;
        for (s, c) in history.created.iter().enumerate() {
            let s = s as u8;
            let confirmed =
                history.was_processed(s) && !inst.outbox.values().any(|e| e.serial == s);
            if c.install == install && confirmed && !history.wiped.contains(&s) {
                history.wiped.push(s);
            }
        }
        history.wiped.sort_unstable();
        inst.base.iter_mut().for_each(|v| *v = None);
        inst.cookie = None;
        inst.base_user = None;
        // The resetting tab's slice is its user's visible discard, except entries that another
        // tab still open (sharing the clientID) created: those are lost, and `outbox-honesty`
        // says so. A restored tab owns what its closed predecessor created.
        let (tabs, history) = (&self.tabs, &self.history);
        let discarded: SmallVec<[_; 4]> = inst
            .remove_slice(client)
            .into_iter()
            .filter(|&s| {
                let by = history.created[usize::from(s)].tab;
                by == tab || !tabs[usize::from(by)].is_open()
            })
            .collect();
        match p.reset_scope {
            ResetScope::Slice => {
                inst.next_mid.remove(&client);
            }
            ResetScope::Whole => {
                inst.outbox.clear();
                inst.next_mid.clear();
            }
        }
        self.history.discarded.extend(discarded);
        self.history.discarded.sort_unstable();
        self.resets += 1;
        self.tabs[usize::from(tab)].rotate(rotated);
        self.rebase(setup, install);
        Ok(())
    }

    fn deliver(&mut self, setup: &Setup, msg: &Msg) {
        match msg {
            Msg::PushReq {
                tab,
                group,
                client,
                user,
                mutations,
            } => {
                let (tab, group, client, user) = (*tab, *group, *client, *user);
                let resp = match self
                    .server
                    .push_unchanged(setup, tab, group, client, user, mutations)
                {
                    Some(resp) => resp,
                    None => self.server.push(
                        setup,
                        &mut self.history,
                        tab,
                        group,
                        client,
                        user,
                        mutations,
                    ),
                };
                self.network.send(resp);
            }
            Msg::PullReq {
                tab,
                group,
                client,
                user,
                cookie,
                cookie_user,
            } => {
                let request = (*tab, *group, *client, *user, *cookie, *cookie_user);
                let resp = match self.server.pull_unchanged(setup, request) {
                    Some(resp) => resp,
                    None => self.server.pull(setup, request),
                };
                self.network.send(resp);
            }
            Msg::PushResp {
                tab,
                client,
                last_mutation_id,
            } => {
                if setup.has(Mutant::AckOnPushResponse) {
                    self.drop_confirmed(setup, *tab, |c| {
                        (c == *client).then_some(*last_mutation_id)
                    });
                }
                if self.asked_by_current_instance(setup, msg) {
                    self.complete(setup, *tab, true);
                }
            }
            Msg::PullResp {
                tab,
                group: _,
                user,
                base_cookie,
                base_user,
                cookie,
                patch,
                last_mutation_ids,
                to_client: _,
            } => {
                let current = self.asked_by_current_instance(setup, msg);
                if current || !setup.protocol.request_slots {
                    self.receive_pull(
                        setup,
                        *tab,
                        *user,
                        (*base_cookie, *base_user, *cookie),
                        patch,
                        last_mutation_ids,
                    );
                }
                if current {
                    self.complete(setup, *tab, false);
                }
            }
        }
    }

    /// Drops the outbox entries of `tab`'s installation that `confirmed(client)` covers
    /// (`mid <= confirmed(client)`), and rebases the open tabs. Does nothing for a closed tab.
    fn drop_confirmed(
        &mut self,
        setup: &Setup,
        tab: TabId,
        confirmed: impl Fn(ClientId) -> Option<Mid>,
    ) {
        let Some(t) = self.tabs.get(usize::from(tab)).filter(|t| t.is_open()) else {
            return;
        };
        let install = t.install;
        let keep = |&(c, mid): &(ClientId, Mid)| confirmed(c).is_none_or(|lmid| mid > lmid);
        let outbox = &self.installs[usize::from(install)].outbox;
        // Nothing confirmed: the installation is left unborrowed (no change recorded).
        if !outbox.iter().all(|(key, _)| keep(key)) {
            self.installs[usize::from(install)]
                .outbox
                .retain(|key, _| keep(key));
        }
        self.rebase(setup, install);
    }

    /// Applies a pull response to the installation's IDB if it still fits, confirms outbox
    /// entries, and rebases the open tabs.
    fn receive_pull(
        &mut self,
        setup: &Setup,
        tab: TabId,
        user: Option<UserId>,
        (base_cookie, base_user, cookie): (Option<Version>, Option<UserId>, Version),
        patch: &Patch,
        last_mutation_ids: &[(ClientId, Mid)],
    ) {
        let Some(t) = self.tabs.get(usize::from(tab)).filter(|t| t.is_open()) else {
            return; // the page that asked is gone
        };
        let (install, own) = (t.install, t.client);
        let p = &setup.protocol;
        // Borrowed mutably only once the response fits: a stale one records no change.
        let inst = &self.installs[usize::from(install)];
        let fits = if setup.has(Mutant::AcceptStalePull) {
            true
        } else if p.pull_base_check {
            // The cookie names a version of the rows *a user* may read: a response based on the
            // same version pulled as another user does not fit either.
            base_cookie == inst.cookie && base_user == inst.base_user
        } else {
            inst.cookie.is_none_or(|c| cookie >= c)
        };
        if !fits {
            return;
        }
        if inst.cookie.is_some_and(|c| cookie < c) {
            self.history.broken |= History::COOKIE_REGRESSED;
        }
        let inst = &mut self.installs[usize::from(install)];
        if let Patch::Reset(_) = patch {
            inst.base.iter_mut().for_each(|v| *v = None);
        }
        let by_arrival = setup.has(Mutant::LwwByArrival) && matches!(patch, Patch::Tail(_));
        for &(row, value) in patch.rows() {
            let slot = &mut inst.base[usize::from(row)];
            if !(by_arrival && slot.is_some()) {
                *slot = Some(value);
            }
        }
        inst.cookie = Some(cookie);
        inst.base_user = user;
        let lmid_of = |c: ClientId| {
            last_mutation_ids
                .iter()
                .find(|&&(x, _)| x == c)
                .map(|&(_, m)| m)
        };
        if setup.has(Mutant::ConfirmByGroup) {
            let own_lmid = lmid_of(own);
            self.drop_confirmed(setup, tab, |_| own_lmid);
        } else {
            let orphans = p.orphan_recovery;
            self.drop_confirmed(setup, tab, |c| {
                (c == own || orphans).then(|| lmid_of(c)).flatten()
            });
        }
        if setup.has(Mutant::RebaseWithoutReplay) {
            let base = self.installs[usize::from(install)].base.clone();
            for t in self.tabs.iter_mut() {
                if t.is_open() && t.install == install {
                    t.view = base.clone();
                }
            }
        }
    }
}

/// What a delivery, drop or duplicate does to its message ([`ActionSink::message`]).
#[derive(Clone, Copy)]
enum MsgAction {
    Deliver,
    Drop,
    Duplicate,
}

/// Where [`World::enabled_with`] lists actions: as [`Action`]s, or as [`Enabled`]s that name
/// messages by place.
trait ActionSink {
    fn act(&mut self, action: Action);
    /// An action on the message at place `i` of the network.
    fn message(&mut self, kind: MsgAction, i: u8, msg: &Msg);
}

impl ActionSink for Vec<Action> {
    #[inline(always)]
    fn act(&mut self, action: Action) {
        self.push(action);
    }

    #[inline(always)]
    fn message(&mut self, kind: MsgAction, _: u8, msg: &Msg) {
        self.push(match kind {
            MsgAction::Deliver => Action::Deliver(msg.clone()),
            MsgAction::Drop => Action::Drop(msg.clone()),
            MsgAction::Duplicate => Action::Duplicate(msg.clone()),
        });
    }
}

impl ActionSink for Vec<Enabled> {
    #[inline(always)]
    fn act(&mut self, action: Action) {
        self.push(Enabled::Act(action));
    }

    #[inline(always)]
    fn message(&mut self, kind: MsgAction, i: u8, _: &Msg) {
        self.push(match kind {
            MsgAction::Deliver => Enabled::Deliver(i),
            MsgAction::Drop => Enabled::Drop(i),
            MsgAction::Duplicate => Enabled::Duplicate(i),
        });
    }
}

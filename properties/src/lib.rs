//! The properties of PROTOCOL.md §5 as named pure predicates over model states: one list, used
//! by every driver (exhaustive, random, replay, explorer).
//!
//! Each `always` property is paired with a `sometimes` property that witnesses the situation the
//! `always` guards, so that a property cannot pass because its situation never arises.
//!
//! Liveness is not checked with `eventually` (unsound on cyclic paths in stateright). Instead,
//! quiescence properties are checked on the *healed* completion of each state whose network is
//! empty: faults stop, every open tab pushes and pulls until nothing changes ([`heal`]), and the
//! result must have lost nothing and converged. Every state with messages in flight reaches such a
//! state by delivering them, so checking only empty-network states loses nothing.

pub mod quiescence;
pub mod safety;

pub use quiescence::{heal, heal_steps};

use plasma_model::encode::{Segment, SEGMENTS};
use plasma_model::{Setup, World};

/// Every part of a state: the quiescent properties read the healed completion, which depends
/// on all of it.
pub const EVERYTHING: u8 = (1 << SEGMENTS) - 1;

/// The mask of `segments`, for [`Property::reads`].
pub const fn reads(segments: &[Segment]) -> u8 {
    let mut mask = 0;
    let mut i = 0;
    while i < segments.len() {
        mask |= 1 << segments[i] as u8;
        i += 1;
    }
    mask
}

/// Whether a predicate must hold in every state, or must hold in at least one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expect {
    Always,
    Sometimes,
}

/// Where a predicate is evaluated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// On every reachable state.
    State,
    /// On the healed completion of every reachable state whose network is empty.
    Quiescent,
}

/// A named pure predicate.
#[derive(Clone, Copy, Debug)]
pub struct Property {
    pub name: &'static str,
    pub expect: Expect,
    pub scope: Scope,
    /// What it means, in one sentence.
    pub about: &'static str,
    /// For an `always`, the name of its paired `sometimes`; for a `sometimes`, the `always` it
    /// witnesses.
    pub pair: &'static str,
    pub holds: fn(&Setup, &World) -> bool,
    /// The parts of a state `holds` reads: bit `k` for [`Segment`] `k`, as
    /// [`World::changes`] marks them. A state whose marked parts miss all of these has the
    /// verdict of the state it was stepped from, so an engine need not evaluate it again.
    pub reads: u8,
    /// Whether the property means anything in a configuration (a CRDT property needs a counter
    /// row); drivers check only the applicable ones.
    pub applies: fn(&plasma_model::Config) -> bool,
}

impl Property {
    /// `always`, `sometimes`, `always@quiescence` or `sometimes@quiescence`.
    pub fn kind(&self) -> &'static str {
        match (self.expect, self.scope) {
            (Expect::Always, Scope::State) => "always",
            (Expect::Sometimes, Scope::State) => "sometimes",
            (Expect::Always, Scope::Quiescent) => "always@quiescence",
            (Expect::Sometimes, Scope::Quiescent) => "sometimes@quiescence",
        }
    }

    /// Evaluates the property on a reachable state. A quiescence property is evaluated on the
    /// healed state when the network is empty; elsewhere an `always` holds vacuously and a
    /// `sometimes` is not witnessed.
    pub fn check(&self, setup: &Setup, world: &World) -> bool {
        match self.scope {
            Scope::State => (self.holds)(setup, world),
            Scope::Quiescent => {
                if !world.network.is_empty() {
                    return self.expect == Expect::Always;
                }
                quiescence::with_healed(setup, world, |healed| (self.holds)(setup, healed))
            }
        }
    }

    /// [`Property::check`] for a driver that checks many properties on one state: the healed
    /// completion is computed at most once, into `healed` (start each state with `None`),
    /// instead of being looked up in the per-thread cache for every quiescence property.
    pub fn check_with(&self, setup: &Setup, world: &World, healed: &mut Option<World>) -> bool {
        match self.scope {
            Scope::State => (self.holds)(setup, world),
            Scope::Quiescent => {
                if !world.network.is_empty() {
                    return self.expect == Expect::Always;
                }
                let healed = healed.get_or_insert_with(|| heal(setup, world));
                (self.holds)(setup, healed)
            }
        }
    }

    /// A discovery for this property is a failure (a counterexample), not an example.
    pub fn discovery_is_failure(&self) -> bool {
        self.expect == Expect::Always
    }

    /// Whether `world` is a discovery (a counterexample or an example), given that it was
    /// stepped from a state that was not and that its action marked the parts `changed`
    /// ([`World::changes`]): a property that reads none of them is not evaluated (test builds
    /// evaluate it anyway and assert that `reads` was right).
    #[inline]
    pub fn discovered(
        &self,
        setup: &Setup,
        world: &World,
        changed: u8,
        healed: &mut Option<World>,
    ) -> bool {
        if self.reads & changed == 0 {
            debug_assert_eq!(
                self.check_with(setup, world, healed),
                self.discovery_is_failure(),
                "{} reads more than its `reads` says",
                self.name
            );
            return false;
        }
        self.check_with(setup, world, healed) != self.discovery_is_failure()
    }
}

/// Every property, in report order: each `always` directly followed by its `sometimes`.
pub fn all() -> &'static [Property] {
    ALL
}

/// The properties that apply to a configuration, in report order.
pub fn applicable(config: &plasma_model::Config) -> impl Iterator<Item = &'static Property> + '_ {
    ALL.iter().filter(move |p| (p.applies)(config))
}

/// Looks a property up by name.
pub fn by_name(name: &str) -> Option<&'static Property> {
    ALL.iter().find(|p| p.name == name)
}

fn everywhere(_: &plasma_model::Config) -> bool {
    true
}

/// Two clients in one group: a second tab in an installation, or a reset that rotates.
fn with_two_clients_per_group(c: &plasma_model::Config) -> bool {
    c.tabs > c.installs || c.max_resets > 0
}

fn with_two_tabs(c: &plasma_model::Config) -> bool {
    c.tabs >= 2
}

fn with_lww_rows_and_two_clients(c: &plasma_model::Config) -> bool {
    c.rows > 0 && with_two_clients_per_group(c)
}

fn with_private_rows(c: &plasma_model::Config) -> bool {
    c.private_rows > 0
}

fn with_users_and_private_rows(c: &plasma_model::Config) -> bool {
    c.private_rows > 0 && c.users >= 2
}

/// Two users and a logout and login: an installation can change hands.
fn with_user_switch(c: &plasma_model::Config) -> bool {
    c.users >= 2 && c.max_auth_changes >= 2
}

fn with_lww_rows(c: &plasma_model::Config) -> bool {
    c.rows > 0
}

fn with_max_rows(c: &plasma_model::Config) -> bool {
    c.max_rows > 0
}

fn with_counter_rows(c: &plasma_model::Config) -> bool {
    c.counter_rows > 0
}

macro_rules! prop {
    ($name:literal, $expect:ident, $scope:ident, $pair:literal, $holds:path, $reads:expr, $about:literal) => {
        prop!($name, $expect, $scope, $pair, $holds, $reads, $about, everywhere)
    };
    ($name:literal, $expect:ident, $scope:ident, $pair:literal, $holds:path, $reads:expr, $about:literal, $applies:path) => {
        Property {
            name: $name,
            expect: Expect::$expect,
            scope: Scope::$scope,
            about: $about,
            pair: $pair,
            holds: $holds,
            reads: $reads,
            applies: $applies,
        }
    };
}

static ALL: &[Property] = &[
    prop!(
        "at-most-once",
        Always,
        State,
        "retry-in-flight",
        safety::at_most_once,
        reads(&[Segment::History]),
        "no (group, client, mid) and no mutation is applied twice"
    ),
    prop!(
        "retry-in-flight",
        Sometimes,
        State,
        "at-most-once",
        safety::retry_in_flight,
        reads(&[Segment::Network, Segment::History]),
        "a push carrying an already applied mutation is in flight"
    ),
    prop!(
        "unique-identity",
        Always,
        State,
        "same-mid-two-clients",
        safety::unique_identity,
        reads(&[Segment::History]),
        "no two created mutations share (group, client, mid)"
    ),
    prop!(
        "same-mid-two-clients",
        Sometimes,
        State,
        "unique-identity",
        safety::same_mid_two_clients,
        reads(&[Segment::History]),
        "two clients of one group each created a mutation with the same mid",
        with_two_clients_per_group
    ),
    prop!(
        "per-client-order",
        Always,
        State,
        "client-applied-twice",
        safety::per_client_order,
        reads(&[Segment::History]),
        "each client's mutations are applied in mid order 1, 2, 3, ... without gaps"
    ),
    prop!(
        "client-applied-twice",
        Sometimes,
        State,
        "per-client-order",
        safety::client_applied_twice,
        reads(&[Segment::History]),
        "some client has two applied mutations"
    ),
    prop!(
        "no-silent-drop",
        Always,
        State,
        "mid-reused-after-rotation",
        safety::no_silent_drop,
        reads(&[Segment::Server, Segment::History]),
        "a watermark never passes a pending mutation that was not applied"
    ),
    prop!(
        "mid-reused-after-rotation",
        Sometimes,
        State,
        "no-silent-drop",
        safety::mid_reused,
        reads(&[Segment::History]),
        "two clients of one group each had a mid-1 mutation applied",
        with_two_clients_per_group
    ),
    prop!(
        "outbox-honesty",
        Always,
        State,
        "confirmed-entry-removed",
        safety::outbox_honesty,
        reads(&[Segment::Installs, Segment::History]),
        "an entry leaves the outbox only once applied, or by its own tab's reset"
    ),
    prop!(
        "confirmed-entry-removed",
        Sometimes,
        State,
        "outbox-honesty",
        safety::confirmed_entry_removed,
        reads(&[Segment::Installs, Segment::History]),
        "an applied mutation was confirmed and left the outbox"
    ),
    prop!(
        "monotone",
        Always,
        State,
        "cookie-advanced",
        safety::monotone,
        reads(&[Segment::History]),
        "watermarks and IDB cookies never go backwards"
    ),
    prop!(
        "cookie-advanced",
        Sometimes,
        State,
        "monotone",
        safety::cookie_advanced,
        reads(&[Segment::Installs]),
        "an IDB cookie reached version 2"
    ),
    prop!(
        "rebase",
        Always,
        State,
        "optimistic-view",
        safety::rebase,
        reads(&[Segment::Installs, Segment::Tabs]),
        "each open tab's view is its base with its own pending mutations replayed"
    ),
    prop!(
        "optimistic-view",
        Sometimes,
        State,
        "rebase",
        safety::optimistic_view,
        reads(&[Segment::Installs, Segment::Tabs]),
        "a tab shows pending mutations on top of a pulled base"
    ),
    prop!(
        "read-your-writes",
        Always,
        State,
        "own-write-in-base",
        safety::read_your_writes,
        reads(&[Segment::Installs, Segment::History]),
        "a mutation that left the outbox is in its installation's base"
    ),
    prop!(
        "own-write-in-base",
        Sometimes,
        State,
        "read-your-writes",
        safety::own_write_in_base,
        reads(&[Segment::Installs, Segment::History]),
        "an installation's base holds its own confirmed write"
    ),
    prop!(
        "group-isolation",
        Always,
        State,
        "pull-confirms",
        safety::group_isolation,
        reads(&[Segment::Server, Segment::Network]),
        "a pull response carries only its own group's clientIDs"
    ),
    prop!(
        "pull-confirms",
        Sometimes,
        State,
        "group-isolation",
        safety::pull_confirms,
        reads(&[Segment::Network]),
        "a pull response in flight confirms some mutation"
    ),
    prop!(
        "read-isolation",
        Always,
        State,
        "private-row-cached",
        safety::read_isolation,
        reads(&[Segment::Installs]),
        "no installation caches a row auth.read denies the user its base was pulled as",
        with_private_rows
    ),
    prop!(
        "private-row-cached",
        Sometimes,
        State,
        "read-isolation",
        safety::private_row_cached,
        reads(&[Segment::Installs]),
        "an installation caches a private row",
        with_private_rows
    ),
    prop!(
        "write-authorisation",
        Always,
        State,
        "write-denied",
        safety::write_authorisation,
        reads(&[Segment::History]),
        "no applied mutation was denied by auth.write for the user of its request",
        with_users_and_private_rows
    ),
    prop!(
        "write-denied",
        Sometimes,
        State,
        "write-authorisation",
        safety::write_denied,
        reads(&[Segment::History]),
        "the server processed a mutation that auth.write denied, with no effect",
        with_users_and_private_rows
    ),
    prop!(
        "as-author",
        Always,
        State,
        "pending-across-user-switch",
        safety::as_author,
        reads(&[Segment::History]),
        "every mutation reaches the server as the user who made it",
        with_user_switch
    ),
    prop!(
        "pending-across-user-switch",
        Sometimes,
        State,
        "as-author",
        safety::pending_across_user_switch,
        reads(&[Segment::Installs, Segment::History]),
        "an installation holds a pending mutation of a user other than the one signed in",
        with_user_switch
    ),
    prop!(
        "no-lost-mutation",
        Always,
        Quiescent,
        "all-applied",
        quiescence::no_lost_mutation,
        EVERYTHING,
        "once healed, every mutation was applied or discarded by its own tab's reset"
    ),
    prop!(
        "all-applied",
        Sometimes,
        Quiescent,
        "no-lost-mutation",
        quiescence::all_applied,
        EVERYTHING,
        "once healed, two mutations were applied"
    ),
    prop!(
        "convergence",
        Always,
        Quiescent,
        "two-tabs-converge",
        quiescence::convergence,
        EVERYTHING,
        "once healed, every open tab's view equals the server's rows"
    ),
    prop!(
        "two-tabs-converge",
        Sometimes,
        Quiescent,
        "convergence",
        quiescence::two_tabs_converge,
        EVERYTHING,
        "once healed, two open tabs show a written row",
        with_two_tabs
    ),
    prop!(
        "lww",
        Always,
        Quiescent,
        "conflict-resolved",
        quiescence::lww,
        EVERYTHING,
        "once healed, each last-write-wins row holds the applied write with the highest row_version",
        with_lww_rows
    ),
    prop!(
        "conflict-resolved",
        Sometimes,
        Quiescent,
        "lww",
        quiescence::conflict_resolved,
        EVERYTHING,
        "once healed, a last-write-wins row was written by two different clients",
        with_lww_rows_and_two_clients
    ),
    prop!(
        "resolve-conflict",
        Always,
        Quiescent,
        "resolved-against-arrival",
        quiescence::resolve_conflict,
        EVERYTHING,
        "once healed, each resolveConflict row holds its largest applied write, whatever the arrival order",
        with_max_rows
    ),
    prop!(
        "resolved-against-arrival",
        Sometimes,
        Quiescent,
        "resolve-conflict",
        quiescence::resolved_against_arrival,
        EVERYTHING,
        "once healed, a resolveConflict row got its larger write first",
        with_max_rows
    ),
    prop!(
        "crdt-counter",
        Always,
        Quiescent,
        "counter-merged",
        quiescence::crdt_counter,
        EVERYTHING,
        "once healed, each counter holds the number of applied increments",
        with_counter_rows
    ),
    prop!(
        "counter-merged",
        Sometimes,
        Quiescent,
        "crdt-counter",
        quiescence::counter_merged,
        EVERYTHING,
        "once healed, a counter was incremented by two clients",
        with_counter_rows
    ),
];

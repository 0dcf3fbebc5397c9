//! The plasma sync protocol as a pure state machine.
//!
//! plasma is a local-first sync engine: browser tabs (clientIDs) live in installations
//! (clientGroupIDs) that share one IndexedDB. Each tab writes optimistic mutations into an outbox
//! keyed `[clientID, mutationID]`, pushes them to a server that keeps a `last_mutation_id`
//! watermark per `(clientGroupID, clientID)`, and pulls patches against a causal cookie; a pull
//! response's `lastMutationIDs` confirms outbox entries, and the tab rebases its view.
//!
//! This crate is the protocol and nothing else: plain data, pure functions, ordered collections,
//! identities minted from counters. Every driver (exhaustive checker, random explorer, replay,
//! explorer UI) calls the same two functions:
//!
//! - [`World::enabled`]: the actions the search may take next (bounded by [`Config`]);
//! - [`World::step`]: the successor state, or a [`Refusal`] naming why the action is not allowed.
//!
//! The precise semantics are in `model/PROTOCOL.md`; the choices this model makes where the
//! page is silent are numbered in `model/README.md`.

pub mod action;
pub mod auth;
pub mod config;
pub mod describe;
pub mod encode;
pub mod history;
pub mod install;
pub mod mutant;
pub mod network;
pub mod replay;
pub mod server;
pub mod symmetry;
pub mod tab;
pub mod tracked;
pub mod validate;
pub mod vecmap;
pub mod world;

pub use action::{Action, ActionKind, Enabled, Op};
pub use config::{
    ClientIdScope, Config, DuplicateTab, GroupIdentity, MidCounter, Protocol, PullFrom, ResetScope,
    Scope, Setup, SignedOutPush,
};
pub use history::{Created, History, Processed};
pub use install::{Entry, Install};
pub use mutant::Mutant;
pub use network::{Msg, Network, Patch, Pushed};
pub use replay::replay;
pub use server::{Server, ServerRow};
/// Re-exported so that tests and drivers build model values with the same collections.
pub use smallvec;
pub use symmetry::{Candidates, Canonical, Renaming, Symmetry};
pub use tab::{Slot, Tab, TabStatus};
pub use tracked::Tracked;
pub use vecmap::{CopyVec, VecMap};
pub use world::{Refusal, Source, World};

/// Tab number: tabs are numbered in creation order, the initial tabs first.
pub type TabId = u8;
/// Installation (one browser profile, one IndexedDB).
pub type InstallId = u8;
/// A clientID, minted from a counter; real-looking UUIDs are derived from it only in reports.
pub type ClientId = u8;
/// A clientGroupID.
pub type GroupId = u8;
/// A mutationID: 1, 2, 3, ... per clientID.
pub type Mid = u8;
/// Row of the (single, last-write-wins) table.
pub type RowId = u8;
/// Value written by a `Set`.
pub type Value = u8;
/// Server version; also the causal cookie.
pub type Version = u8;
/// A user; an installation's signed-in user decides what its requests may read and write.
pub type UserId = u8;
/// Ghost identity of a created mutation: its index in [`History::created`]. The protocol never
/// sees it; properties use it to tell two mutations with the same `(group, client, mid)` apart.
pub type Serial = u8;

/// A table's rows as a client or the server sees them: `rows[r]` is `None` when row `r` is absent.
pub type Rows = CopyVec<Option<Value>, 4>;

//! The trace format `plasma-trace/1` (PROTOCOL.md §7): the currency between drivers. Whatever
//! finds a counterexample writes one; whatever shows or re-checks one reads one.
//!
//! The model names messages by content (the network is a multiset); a trace names them by number,
//! in the order they entered the network. [`Numbering`] translates between the two by watching
//! the network change step by step, so it depends on neither hashing nor the implementation.
//! [`replay`] runs a trace and names the properties that fail; [`diagram`] draws one as a
//! sequence diagram; [`cli`] is `plasma-check replay`.

pub mod cli;
pub mod diagram;
pub mod replay;

use plasma_model::{Action, Config, Msg, Mutant, Op, Protocol, Setup, World};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

pub const FORMAT: &str = "plasma-trace/1";

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Trace {
    pub format: String,
    pub config: Config,
    pub protocol: ProtocolSpec,
    #[serde(default)]
    pub mutant: Option<String>,
    pub actions: Vec<TraceAction>,
}

/// `"hardened"`, `"documented"`, or an object of switches (missing ones take hardened values).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ProtocolSpec {
    Named(String),
    Switches(Protocol),
}

impl ProtocolSpec {
    pub fn of(p: &Protocol) -> Self {
        match p.name() {
            "custom" => ProtocolSpec::Switches(p.clone()),
            name => ProtocolSpec::Named(name.to_string()),
        }
    }

    pub fn resolve(&self) -> Result<Protocol, String> {
        match self {
            ProtocolSpec::Named(n) => Protocol::from_name(n)
                .ok_or_else(|| format!("unknown protocol {n:?} (expected \"hardened\", \"documented\", \"replicache\" or an object of switches)")),
            ProtocolSpec::Switches(p) => Ok(p.clone()),
        }
    }
}

/// One action, as the trace format spells it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", deny_unknown_fields)]
pub enum TraceAction {
    Mutate { tab: u8, op: Op },
    Push { tab: u8 },
    Pull { tab: u8 },
    Reload { tab: u8 },
    DuplicateTab { tab: u8 },
    CloseTab { tab: u8 },
    RestoreTab { tab: u8 },
    ResetLocalState { tab: u8 },
    OpenTab { install: u8 },
    Logout { install: u8 },
    Login { install: u8, user: u8 },
    Deliver { msg: u32 },
    Drop { msg: u32 },
    Duplicate { msg: u32 },
}

impl TraceAction {
    /// The message number a Deliver, Drop or Duplicate names.
    pub fn msg(&self) -> Option<u32> {
        match *self {
            TraceAction::Deliver { msg }
            | TraceAction::Drop { msg }
            | TraceAction::Duplicate { msg } => Some(msg),
            _ => None,
        }
    }
}

/// A trace that cannot be read or replayed: which step (1-based; 0 for the header) and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TraceError {
    pub step: usize,
    pub message: String,
}

impl fmt::Display for TraceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.step == 0 {
            write!(f, "{}", self.message)
        } else {
            write!(f, "step {}: {}", self.step, self.message)
        }
    }
}

impl std::error::Error for TraceError {}

fn header(message: String) -> TraceError {
    TraceError { step: 0, message }
}

/// Message numbers of the messages in flight, kept in step with the model's network.
#[derive(Clone, Debug, Default)]
pub struct Numbering {
    next: u32,
    /// In flight: number -> message.
    in_flight: BTreeMap<u32, Msg>,
    /// Left the network: number -> (step, "delivered" | "dropped").
    gone: BTreeMap<u32, (usize, &'static str)>,
}

impl Numbering {
    /// The numbering of an initial state: messages already in flight (the pulls of the initial
    /// tabs under `pull_on_open`) are numbered from 0 in the network's order.
    pub fn start(world: &World) -> Numbering {
        let mut n = Numbering::default();
        for (m, count) in world.network.iter() {
            for _ in 0..count {
                n.in_flight.insert(n.next, m.clone());
                n.next += 1;
            }
        }
        n
    }

    /// The lowest-numbered in-flight copy of `msg`.
    pub fn number_of(&self, msg: &Msg) -> Option<u32> {
        self.in_flight
            .iter()
            .find(|(_, m)| *m == msg)
            .map(|(&n, _)| n)
    }

    pub fn message(&self, n: u32) -> Option<&Msg> {
        self.in_flight.get(&n)
    }

    /// The number the next message to enter the network will get.
    pub fn next_number(&self) -> u32 {
        self.next
    }

    /// The messages in flight with their numbers, lowest (oldest) first.
    pub fn in_flight(&self) -> impl Iterator<Item = (u32, &Msg)> {
        self.in_flight.iter().map(|(&n, m)| (n, m))
    }

    /// Why message `n` is not in flight.
    fn absent(&self, n: u32) -> String {
        match self.gone.get(&n) {
            Some((step, verb)) => {
                format!("message {n} is not in flight: it was {verb} at step {step}")
            }
            None if n >= self.next => format!(
                "message {n} was never sent (messages so far: 0..{})",
                self.next
            ),
            None => format!("message {n} is not in flight"),
        }
    }

    /// Follows one step. `named` is the number of the copy the action consumed (a Deliver or a
    /// Drop): that copy leaves, and no other, even while an equal copy is in flight; `None`
    /// consumes the lowest-numbered equal copy (the number [`Numbering::to_trace`] writes).
    /// Messages the step sent get the next numbers, in the network's order when there are
    /// several (the requests of one Push: by clientID, since they share their tab and group).
    pub fn advance(
        &mut self,
        step: usize,
        named: Option<u32>,
        before: &World,
        action: &Action,
        after: &World,
    ) {
        let consumed = match action {
            Action::Deliver(m) => Some((m, "delivered")),
            Action::Drop(m) => Some((m, "dropped")),
            _ => None,
        };
        if let Some((m, verb)) = consumed {
            let n = named
                .filter(|n| self.in_flight.get(n) == Some(m))
                .or_else(|| self.number_of(m));
            if let Some(n) = n {
                self.in_flight.remove(&n);
                self.gone.insert(n, (step, verb));
            }
        }
        for (m, count) in after.network.iter() {
            let mut had = before.network.count(m);
            if consumed.is_some_and(|(c, _)| c == m) {
                had -= 1;
            }
            for _ in had..count {
                self.in_flight.insert(self.next, m.clone());
                self.next += 1;
            }
        }
    }

    /// The message numbers a path of model actions names, each the lowest equal copy in flight
    /// (`None` for actions that name no message).
    pub fn lowest_numbers(worlds: &[World], actions: &[Action]) -> Vec<Option<u32>> {
        let mut numbering = worlds.first().map(Numbering::start).unwrap_or_default();
        actions
            .iter()
            .zip(worlds.windows(2))
            .enumerate()
            .map(|(i, (a, w))| {
                let n = numbering.to_trace(a).msg();
                numbering.advance(i + 1, n, &w[0], a, &w[1]);
                n
            })
            .collect()
    }

    /// The trace form of a model action taken in the current state.
    pub fn to_trace(&self, action: &Action) -> TraceAction {
        let num = |m: &Msg| self.number_of(m).unwrap_or(u32::MAX);
        match action {
            Action::Mutate { tab, op } => TraceAction::Mutate { tab: *tab, op: *op },
            Action::Push { tab } => TraceAction::Push { tab: *tab },
            Action::Pull { tab } => TraceAction::Pull { tab: *tab },
            Action::Reload { tab } => TraceAction::Reload { tab: *tab },
            Action::DuplicateTab { tab } => TraceAction::DuplicateTab { tab: *tab },
            Action::CloseTab { tab } => TraceAction::CloseTab { tab: *tab },
            Action::RestoreTab { tab } => TraceAction::RestoreTab { tab: *tab },
            Action::ResetLocalState { tab } => TraceAction::ResetLocalState { tab: *tab },
            Action::OpenTab { install } => TraceAction::OpenTab { install: *install },
            Action::Logout { install } => TraceAction::Logout { install: *install },
            Action::Login { install, user } => TraceAction::Login {
                install: *install,
                user: *user,
            },
            Action::Deliver(m) => TraceAction::Deliver { msg: num(m) },
            Action::Drop(m) => TraceAction::Drop { msg: num(m) },
            Action::Duplicate(m) => TraceAction::Duplicate { msg: num(m) },
        }
    }

    /// The model action for a trace action in the current state.
    pub fn to_model(&self, action: &TraceAction) -> Result<Action, String> {
        let msg = |n: u32| self.message(n).cloned().ok_or_else(|| self.absent(n));
        Ok(match *action {
            TraceAction::Mutate { tab, op } => Action::Mutate { tab, op },
            TraceAction::Push { tab } => Action::Push { tab },
            TraceAction::Pull { tab } => Action::Pull { tab },
            TraceAction::Reload { tab } => Action::Reload { tab },
            TraceAction::DuplicateTab { tab } => Action::DuplicateTab { tab },
            TraceAction::CloseTab { tab } => Action::CloseTab { tab },
            TraceAction::RestoreTab { tab } => Action::RestoreTab { tab },
            TraceAction::ResetLocalState { tab } => Action::ResetLocalState { tab },
            TraceAction::OpenTab { install } => Action::OpenTab { install },
            TraceAction::Logout { install } => Action::Logout { install },
            TraceAction::Login { install, user } => Action::Login { install, user },
            TraceAction::Deliver { msg: n } => Action::Deliver(msg(n)?),
            TraceAction::Drop { msg: n } => Action::Drop(msg(n)?),
            TraceAction::Duplicate { msg: n } => Action::Duplicate(msg(n)?),
        })
    }
}

/// A trace's states: `worlds[0]` is the initial state, `worlds[i]` the state after step `i`.
#[derive(Clone, Debug)]
pub struct Run {
    pub setup: Setup,
    pub actions: Vec<Action>,
    pub worlds: Vec<World>,
    /// The message number each Deliver/Drop/Duplicate step named (None for other actions).
    pub msg_numbers: Vec<Option<u32>>,
}

impl Trace {
    /// The trace of a path of model actions from the initial state.
    pub fn encode(setup: &Setup, actions: &[Action]) -> Result<Trace, TraceError> {
        let worlds = plasma_model::replay(setup, actions).map_err(refused)?;
        let mut numbering = Numbering::start(&worlds[0]);
        let mut out = Vec::new();
        for (i, (w, a)) in worlds.windows(2).zip(actions).enumerate() {
            let ta = numbering.to_trace(a);
            numbering.advance(i + 1, ta.msg(), &w[0], a, &w[1]);
            out.push(ta);
        }
        Ok(Trace {
            format: FORMAT.to_string(),
            config: setup.config.clone(),
            protocol: ProtocolSpec::of(&setup.protocol),
            mutant: setup.mutant.map(|m| m.name().to_string()),
            actions: out,
        })
    }

    /// Parses a trace document; the error names what is wrong.
    pub fn parse(text: &str) -> Result<Trace, TraceError> {
        let trace: Trace =
            serde_json::from_str(text).map_err(|e| header(format!("not a plasma trace: {e}")))?;
        if trace.format != FORMAT {
            return Err(header(format!(
                "format is {:?}, expected {FORMAT:?}",
                trace.format
            )));
        }
        Ok(trace)
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
    }

    /// The setup the trace runs under.
    pub fn setup(&self) -> Result<Setup, TraceError> {
        self.config
            .validate()
            .map_err(|e| header(format!("bad config: {e}")))?;
        let protocol = self.protocol.resolve().map_err(header)?;
        let mutant = match &self.mutant {
            None => None,
            Some(name) => Some(Mutant::from_name(name).ok_or_else(|| {
                header(format!(
                    "unknown mutant {name:?} (known: {})",
                    Mutant::ALL.map(|m| m.name()).join(", ")
                ))
            })?),
        };
        Ok(Setup::mutated(self.config.clone(), protocol, mutant))
    }

    /// Runs the trace step by step; an action that is not allowed stops it with an error naming
    /// the step and why.
    pub fn run(&self) -> Result<Run, TraceError> {
        let setup = self.setup()?;
        let mut worlds = vec![World::init(&setup)];
        let mut numbering = Numbering::start(&worlds[0]);
        let mut actions = Vec::new();
        let mut msg_numbers = Vec::new();
        for (i, ta) in self.actions.iter().enumerate() {
            let step = i + 1;
            let err = |message: String| TraceError {
                step,
                message: format!("{} not allowed: {message}", name(ta)),
            };
            let action = numbering.to_model(ta).map_err(err)?;
            let before = worlds
                .last()
                .cloned()
                .unwrap_or_else(|| World::init(&setup));
            let after = before
                .step(&setup, &action)
                .map_err(|e| err(e.to_string()))?;
            msg_numbers.push(ta.msg());
            numbering.advance(step, ta.msg(), &before, &action, &after);
            actions.push(action);
            worlds.push(after);
        }
        Ok(Run {
            setup,
            actions,
            worlds,
            msg_numbers,
        })
    }
}

/// The trace of a counterexample. For a quiescence property the healing steps that fail are
/// appended (and `config.tabs` raised if healing had to open a tab), so that the replay shows
/// the loss itself, not only the state it starts from.
pub fn counterexample_trace(
    setup: &Setup,
    path: &[Action],
    property: &str,
) -> Result<Trace, TraceError> {
    let quiescent = plasma_properties::by_name(property)
        .is_some_and(|p| p.scope == plasma_properties::Scope::Quiescent);
    if !quiescent {
        return Trace::encode(setup, path);
    }
    let worlds = plasma_model::replay(setup, path).map_err(refused)?;
    let world = worlds.last().cloned().unwrap_or_else(|| World::init(setup));
    let (healed, extra) = plasma_properties::heal_steps(setup, &world);
    let mut setup = setup.clone();
    setup.config.tabs = setup.config.tabs.max(healed.tabs.len() as u8);
    let full: Vec<Action> = path.iter().cloned().chain(extra).collect();
    Trace::encode(&setup, &full)
}

fn refused(e: plasma_model::replay::Refused) -> TraceError {
    TraceError {
        step: e.step,
        message: e.refusal.to_string(),
    }
}

fn name(a: &TraceAction) -> String {
    serde_json::to_string(a).unwrap_or_else(|_| format!("{a:?}"))
}

impl Run {
    pub fn diagram(&self) -> crate::trace::diagram::Diagram {
        crate::trace::diagram::Diagram::of(
            &self.setup,
            &self.worlds,
            &self.actions,
            &self.msg_numbers,
        )
    }

    /// Readable text of each step, with message numbers.
    pub fn step_texts(&self) -> Vec<String> {
        self.actions
            .iter()
            .enumerate()
            .map(|(i, a)| {
                let text = plasma_model::describe::step(&self.worlds[i], a, &self.worlds[i + 1]);
                match self.msg_numbers[i] {
                    Some(n) => format!("{text} [msg {n}]"),
                    None => text,
                }
            })
            .collect()
    }
}

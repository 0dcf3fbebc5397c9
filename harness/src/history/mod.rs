//! `plasma-check history`: checks a recorded history of a real sync server (push and pull
//! requests and responses with their times) against the model's server, Jepsen-style: is there
//! an order of the operations, consistent with real time, that steps the model's server to
//! exactly the recorded responses?
//!
//! - [`wire`]: reading the JSON Lines history (Zero's push, Replicache's push and pull; times or
//!   Jepsen events); [`identity`]: real IDs to model identities, and the `client-identity` rule;
//! - [`server`]: the model's server rules over unbounded identities, each rule named;
//! - [`search`]: the search for an order, by parts that share no state, and the smallest
//!   unexplained sub-history;
//! - [`report`]: the verdict in words and JSON; [`itf`]: a counterexample as an ITF trace;
//! - [`record`]: writing histories (`conform --record`), [`generate`]: histories the model
//!   itself produces (the no-false-alarm tests and the speed measurements).
//!
//! The format, the rules and the choices: `harness/docs/history.md`.

pub mod cli;
pub mod generate;
pub mod identity;
pub mod itf;
pub mod record;
pub mod report;
pub mod search;
pub mod server;
pub mod wire;

use plasma_model::{Protocol, PullFrom, SignedOutPush};
use search::{Ctx, Search, Stuck};
use serde::Serialize;
use server::{Broken, Rules, State};
use wire::{Body, History, Op};

/// What is checked: the bookkeeping only (mutations opaque), or the rows too.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Protocol,
    Data,
}

#[derive(Clone, Debug)]
pub struct Options {
    /// `None`: data level when every mutator is a model mutator, else protocol level.
    pub level: Option<Level>,
    pub protocol: Protocol,
    /// Search steps for the whole history; past it the verdict is "not decided".
    pub budget: u64,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            level: None,
            protocol: Protocol::hardened(),
            budget: DEFAULT_BUDGET,
        }
    }
}

/// The default budget of search steps.
pub const DEFAULT_BUDGET: u64 = 50_000_000;

/// A part of the history the budget did not decide.
#[derive(Clone, Debug, Serialize)]
pub struct Undecided {
    pub segment: usize,
    pub groups: Vec<String>,
    pub operations: usize,
}

/// An operation of a counterexample, in words.
#[derive(Clone, Debug, Serialize)]
pub struct Shown {
    pub line: usize,
    pub text: String,
}

/// Why a history is not explained.
#[derive(Clone, Debug, Serialize)]
pub struct Failure {
    /// The rule broken (of the first refusal), and in words.
    pub rule: String,
    pub message: String,
    pub segment: usize,
    /// Operations of the same part explained before the unexplained sub-history.
    pub explained_before: usize,
    /// The model's server state before the sub-history.
    pub state_before: String,
    /// The smallest unexplained sub-history.
    pub operations: Vec<Shown>,
    /// Every operation that could come next, and the rule its response breaks.
    pub refusals: Vec<Shown>,
    /// For a row that does not hold its value: the mutations that wrote it, in the order found.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub row_writers: Option<String>,
    /// Model identities in this failure and the real IDs behind them.
    pub legend: Vec<(String, String)>,
    /// The explained steps before the failure (state after each), for the ITF export.
    #[serde(skip)]
    pub steps: Vec<(String, usize, State)>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Verdict {
    pub level: Level,
    pub protocol: String,
    pub operations: usize,
    /// Failed pushes and pulls without a response: no effect, left out.
    pub no_effect: usize,
    pub groups: usize,
    pub clients: usize,
    pub parts: usize,
    pub explained: usize,
    pub unexplained: usize,
    pub undecided: Vec<Undecided>,
    /// Every unexplained part: its segment, the first line of its smallest unexplained
    /// sub-history, and the rule broken.
    pub unexplained_parts: Vec<(usize, usize, String)>,
    pub steps: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure: Option<Failure>,
}

impl Verdict {
    pub fn exit_code(&self) -> i32 {
        if self.failure.is_some() {
            crate::exit::VIOLATED
        } else if !self.undecided.is_empty() {
            crate::exit::NOT_VERIFIED
        } else {
            crate::exit::VERIFIED
        }
    }
}

/// The rules a protocol and level hold a history to; an error for a protocol whose server
/// this checker does not restate.
pub fn rules(h: &History, level: Level, protocol: &Protocol) -> Result<Rules, String> {
    if protocol.pull_from != PullFrom::Cookie {
        return Err("only protocols whose pulls answer from the request's cookie (pull_from = cookie) can be checked".into());
    }
    Ok(Rules {
        data: level == Level::Data,
        refuse_signed_out: protocol.signed_out_push == SignedOutPush::Refuse,
        cookie_per_change: protocol.cookie_per_change,
        owners: h.owners.first().cloned().unwrap_or_default(),
    })
}

/// The parts of a segment that share no state: client groups, joined at data level by the
/// rows they touch. Each part lists operation indices in invocation order.
pub fn parts(ops: &[Op], data: bool, groups: usize) -> Vec<Vec<usize>> {
    let mut parent: Vec<usize> = (0..groups).collect();
    fn find(p: &mut [usize], mut x: usize) -> usize {
        while p[x] != x {
            p[x] = p[p[x]];
            x = p[x];
        }
        x
    }
    if data {
        let mut owner_of_row: std::collections::HashMap<u32, usize> = Default::default();
        for op in ops {
            let rows: Vec<u32> = match &op.body {
                Body::Push { mutations, .. } => {
                    mutations.iter().filter_map(|m| m.effect.row()).collect()
                }
                Body::Pull { response, .. } => response
                    .puts
                    .iter()
                    .map(|&(r, _)| r)
                    .chain(response.dels.iter().copied())
                    .collect(),
            };
            for r in rows {
                let g = *owner_of_row.entry(r).or_insert(op.group as usize);
                let (a, b) = (find(&mut parent, g), find(&mut parent, op.group as usize));
                parent[a] = b;
            }
        }
    }
    let mut index: std::collections::HashMap<usize, usize> = Default::default();
    let mut out: Vec<Vec<usize>> = Vec::new();
    for (i, op) in ops.iter().enumerate() {
        let root = find(&mut parent, op.group as usize);
        let k = *index.entry(root).or_insert_with(|| {
            out.push(Vec::new());
            out.len() - 1
        });
        out[k].push(i);
    }
    out
}

/// Checks a history read by [`wire::parse`].
pub fn check(h: &History, opts: &Options) -> Result<Verdict, String> {
    let level = opts.level.unwrap_or(if h.model_mutators {
        Level::Data
    } else {
        Level::Protocol
    });
    if level == Level::Data && !h.model_mutators {
        return Err("--level data needs every mutator to be set, max or incr (or declared as one in the header)".into());
    }
    let mut rules = rules(h, level, &opts.protocol)?;
    let names = &h.names;
    let label = |op: &Op, m: &wire::Mutation| {
        format!(
            "{} (line {})",
            names.mutation(op.group, m.client, m.mid),
            op.line
        )
    };
    let mut budget = opts.budget;
    let mut v = Verdict {
        level,
        protocol: opts.protocol.name().to_string(),
        operations: h.segments.iter().map(Vec::len).sum(),
        no_effect: h.no_effect,
        groups: names.groups.len(),
        clients: names.clients.len(),
        parts: 0,
        explained: 0,
        unexplained: 0,
        undecided: Vec::new(),
        unexplained_parts: Vec::new(),
        steps: 0,
        failure: None,
    };
    if let Some(r) = names.reused.first() {
        v.unexplained = 1;
        v.unexplained_parts
            .push((0, r.line, "client-identity".into()));
        v.failure = Some(report::reused(h, r));
        return Ok(v);
    }
    for (s, seg) in h.segments.iter().enumerate() {
        // Each segment has its own private rows.
        rules.owners = h.owners.get(s).cloned().unwrap_or_default();
        let mut ctx = Ctx {
            rules: &rules,
            label: &label,
            budget,
        };
        for part in parts(seg, rules.data, names.groups.len()) {
            v.parts += 1;
            let ops: Vec<&Op> = part.iter().map(|&i| &seg[i]).collect();
            match check_part(&mut ctx, h, s, &ops) {
                PartResult::Explained => v.explained += 1,
                PartResult::Undecided => v.undecided.push(Undecided {
                    segment: s,
                    groups: report::groups_of(h, &ops),
                    operations: ops.len(),
                }),
                PartResult::Unexplained(f) => {
                    v.unexplained += 1;
                    let line = f.operations.first().map_or(0, |o| o.line);
                    v.unexplained_parts.push((s, line, f.rule.clone()));
                    // The failure reported is the one that starts earliest in the file.
                    let earlier = |a: &Failure, b: &Failure| {
                        a.operations.first().map(|o| o.line) < b.operations.first().map(|o| o.line)
                    };
                    if v.failure.as_ref().is_none_or(|g| earlier(&f, g)) {
                        v.failure = Some(*f);
                    }
                }
            }
        }
        budget = ctx.budget;
    }
    v.steps = opts.budget - budget;
    Ok(v)
}

enum PartResult {
    Explained,
    Undecided,
    Unexplained(Box<Failure>),
}

fn check_part(ctx: &mut Ctx<'_>, h: &History, segment: usize, ops: &[&Op]) -> PartResult {
    // A response before its request: no order can explain it.
    if let Some((k, op)) = ops.iter().enumerate().find(|(_, o)| o.complete < o.invoke) {
        let stuck = Stuck {
            path: Vec::new(),
            state: State::default(),
            refusals: vec![(
                k,
                Broken {
                    rule: "real-time",
                    message: format!(
                        "its response completes at {} before its request is invoked at {}",
                        op.complete, op.invoke
                    ),
                    row: None,
                },
            )],
        };
        let sel: Vec<usize> = (0..ops.len()).collect();
        return PartResult::Unexplained(Box::new(report::failure(
            ctx,
            h,
            segment,
            ops,
            &sel,
            &stuck,
            &[k],
            &stuck,
        )));
    }
    let sel: Vec<usize> = (0..ops.len()).collect();
    match search::explain(ctx, ops, &sel, &State::default()) {
        Search::Explained(_) => PartResult::Explained,
        Search::OutOfBudget => PartResult::Undecided,
        Search::Unexplained(stuck) => {
            let (keep, last) = search::minimize(ctx, ops, &sel, &stuck);
            PartResult::Unexplained(Box::new(report::failure(
                ctx, h, segment, ops, &sel, &stuck, &keep, &last,
            )))
        }
    }
}

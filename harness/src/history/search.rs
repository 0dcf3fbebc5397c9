//! The search for an explanation: an order of a history's operations, consistent with real
//! time (an operation that completed before another was invoked comes first), that steps the
//! model's server to exactly the recorded responses. It is the Wing–Gong–Lowe search that
//! Jepsen's Knossos and Porcupine use: depth first, trying each operation that may come next,
//! with a memo of (operations explained, state) pairs already explored, on each part of the
//! history that shares no state with the others (P-compositionality):
//!
//! - a segment between two `clear` lines (the server was emptied);
//! - within a segment, a client group at protocol level (groups share no watermark); at data
//!   level, the groups linked by the rows they touch (groups share only rows).
//!
//! When no order explains a part, [`minimize`] shrinks it to a smallest unexplained
//! sub-history: from the state at the deepest point any order reached, it drops every operation
//! whose removal still leaves the rest unexplained.

use super::server::{Broken, Rules, State};
use super::wire::{Body, Op, PushOutcome};
use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasher, Hash, Hasher};

/// One candidate step: an operation (its position in the selection) and whether it takes
/// effect (false only for a push whose response is unknown, taken as never having happened).
type Choice = (usize, bool);

/// The most steps one trial of [`minimize`] may take.
const TRIAL_BUDGET: u64 = 200_000;

/// How far an unexplained search got: the deepest point, and why nothing went on from there.
#[derive(Clone, Debug)]
pub struct Stuck {
    /// The operations explained up to there (positions in the selection), in order.
    pub path: Vec<Choice>,
    pub state: State,
    /// The operations that could come next and the rule each one's response breaks.
    pub refusals: Vec<(usize, Broken)>,
}

#[derive(Clone, Debug)]
pub enum Search {
    /// The order found (positions in the selection).
    Explained(Vec<Choice>),
    Unexplained(Stuck),
    /// The budget of steps ran out first.
    OutOfBudget,
}

struct Frame {
    state: State,
    /// The first position not yet explained.
    first: usize,
    choices: Vec<Choice>,
    next: usize,
    refusals: Vec<(usize, Broken)>,
}

/// A fixed pseudo-random 64-bit key per position (splitmix64), for the memo's hash of the set of
/// explained operations.
fn zobrist(i: usize) -> u64 {
    let mut z = (i as u64).wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The operations that may come next: not yet explained, invoked before every unexplained
/// operation completed. Earliest completion first; an operation with an unknown response is
/// tried with its effect, then without.
fn choices(ops: &[&Op], sel: &[usize], done: &[bool], first: usize) -> Vec<Choice> {
    let mut horizon = f64::INFINITY;
    let mut end = first;
    while end < sel.len() {
        if !done[end] {
            let op = ops[sel[end]];
            if op.invoke > horizon {
                break;
            }
            horizon = horizon.min(op.complete);
        }
        end += 1;
    }
    let mut out: Vec<Choice> = (first..end)
        .filter(|&k| !done[k] && ops[sel[k]].invoke <= horizon)
        .map(|k| (k, true))
        .collect();
    out.sort_by(|a, b| ops[sel[a.0]].complete.total_cmp(&ops[sel[b.0]].complete));
    let unknown: Vec<Choice> = out
        .iter()
        .filter(|&&(k, _)| unknown_push(ops[sel[k]]))
        .map(|&(k, _)| (k, false))
        .collect();
    out.extend(unknown);
    out
}

/// The cookies an operation refers to: a pull's request and response cookies.
fn cookies_of(op: &Op) -> Vec<u32> {
    match &op.body {
        Body::Pull { cookie, response } => {
            let mut v = vec![response.cookie];
            v.extend(*cookie);
            v
        }
        Body::Push { .. } => Vec::new(),
    }
}

fn unknown_push(op: &Op) -> bool {
    matches!(
        op.body,
        Body::Push {
            outcome: PushOutcome::Unknown,
            ..
        }
    )
}

/// What the search needs besides the operations: the rules, how to name a mutation, and the
/// budget of steps left (shared by every search of a check).
pub struct Ctx<'a> {
    pub rules: &'a Rules,
    pub label: &'a dyn Fn(&Op, &super::wire::Mutation) -> String,
    pub budget: u64,
}

/// Steps `state` by operation `op`.
pub fn step(ctx: &Ctx<'_>, state: &mut State, op: &Op) -> Result<(), Broken> {
    state.step(ctx.rules, op, &|m| (ctx.label)(op, m))
}

/// Searches for an order of the selected operations (`sel`: positions in `ops`, sorted by
/// invocation) from `start`.
pub fn explain(ctx: &mut Ctx<'_>, ops: &[&Op], sel: &[usize], start: &State) -> Search {
    let n = sel.len();
    // Each cookie's references by operations not yet placed: once none is left, the state
    // forgets the cookie (a function of the set placed, so the memo stays sound).
    let refs: Vec<Vec<u32>> = sel.iter().map(|&i| cookies_of(ops[i])).collect();
    let mut left: HashMap<u32, u32> = HashMap::new();
    for r in refs.iter().flatten() {
        *left.entry(*r).or_default() += 1;
    }
    let mut done = vec![false; n];
    let mut done_key = 0u64;
    let mut path: Vec<Choice> = Vec::new();
    let hasher = ahash::RandomState::with_seeds(1, 2, 3, 4);
    let mut seen: HashSet<u64, ahash::RandomState> = HashSet::default();
    let mut best: Option<Stuck> = None;
    let mut stack = vec![Frame {
        state: start.clone(),
        first: 0,
        choices: choices(ops, sel, &done, 0),
        next: 0,
        refusals: Vec::new(),
    }];
    while let Some(top) = stack.last_mut() {
        if path.len() == n {
            return Search::Explained(path);
        }
        if top.next >= top.choices.len() {
            let frame = stack.pop().expect("a frame");
            if !frame.refusals.is_empty() && best.as_ref().is_none_or(|b| path.len() > b.path.len())
            {
                best = Some(Stuck {
                    path: path.clone(),
                    state: frame.state,
                    refusals: frame.refusals,
                });
            }
            if let Some((k, _)) = path.pop() {
                done[k] = false;
                done_key ^= zobrist(k);
                for c in &refs[k] {
                    *left.entry(*c).or_default() += 1;
                }
            }
            continue;
        }
        let (k, effect) = top.choices[top.next];
        top.next += 1;
        if ctx.budget == 0 {
            return Search::OutOfBudget;
        }
        ctx.budget -= 1;
        let mut state = top.state.clone();
        if effect {
            if let Err(b) = step(ctx, &mut state, ops[sel[k]]) {
                top.refusals.push((k, b));
                continue;
            }
        }
        for c in &refs[k] {
            let l = left.entry(*c).or_default();
            *l -= 1;
            if *l == 0 {
                state.forget_cookie(*c);
            }
        }
        let key = {
            let mut h = hasher.build_hasher();
            (done_key ^ zobrist(k)).hash(&mut h);
            state.hash(&mut h);
            h.finish()
        };
        if !seen.insert(key) {
            for c in &refs[k] {
                *left.entry(*c).or_default() += 1;
            }
            continue;
        }
        done[k] = true;
        done_key ^= zobrist(k);
        path.push((k, effect));
        let mut first = top.first;
        while first < n && done[first] {
            first += 1;
        }
        let choices = choices(ops, sel, &done, first);
        stack.push(Frame {
            state,
            first,
            choices,
            next: 0,
            refusals: Vec::new(),
        });
    }
    match best {
        Some(b) => Search::Unexplained(b),
        // Every branch was cut by the memo: cannot happen from a fresh start, but say so.
        None => Search::Unexplained(Stuck {
            path: Vec::new(),
            state: start.clone(),
            refusals: Vec::new(),
        }),
    }
}

/// A smallest unexplained sub-history after `stuck`: an operation refused at the deepest
/// point, alone, when it stays unexplained from there (the usual case: the rule it breaks is
/// the cause); else the operations not explained there, less every one whose removal leaves
/// the rest still unexplained from the same state (those not refused there first, latest
/// first). Returns positions in `sel`'s numbering, and the search of what is left.
pub fn minimize(
    ctx: &mut Ctx<'_>,
    ops: &[&Op],
    sel: &[usize],
    stuck: &Stuck,
) -> (Vec<usize>, Stuck) {
    // A response that claims a mutation processed against the rules before one that only
    // observes the state (what was processed, the watermarks, the rows, the cookie), which is
    // often the consequence; then pushes before pulls, then the earliest invoked.
    let observes = |b: &Broken| {
        matches!(
            b.rule,
            "already-processed" | "pull-watermark" | "row-value" | "cookie"
        )
    };
    let mut singles: Vec<(bool, bool, f64, usize, usize)> = stuck
        .refusals
        .iter()
        .map(|(k, b)| {
            let op = ops[sel[*k]];
            (observes(b), !op.is_push(), op.invoke, op.line, *k)
        })
        .collect();
    singles.sort_by(|a, b| {
        (a.0, a.1)
            .cmp(&(b.0, b.1))
            .then(a.2.total_cmp(&b.2))
            .then(a.3.cmp(&b.3))
    });
    for k in singles.into_iter().map(|x| x.4) {
        if let Some(s) = unexplained(ctx, ops, sel, &[k], &stuck.state) {
            return (vec![k], s);
        }
    }
    let explained: HashSet<usize> = stuck.path.iter().map(|&(k, _)| k).collect();
    let refused: HashSet<usize> = stuck.refusals.iter().map(|&(k, _)| k).collect();
    let rest: Vec<usize> = (0..sel.len()).filter(|k| !explained.contains(k)).collect();
    let order: Vec<usize> = rest
        .iter()
        .rev()
        .filter(|k| !refused.contains(k))
        .chain(rest.iter().rev().filter(|k| refused.contains(k)))
        .copied()
        .collect();
    let mut keep = rest;
    let mut last = None;
    for k in order {
        if keep.len() == 1 {
            break;
        }
        let trial: Vec<usize> = keep.iter().copied().filter(|&x| x != k).collect();
        if let Some(s) = unexplained(ctx, ops, sel, &trial, &stuck.state) {
            keep = trial;
            last = Some(s);
        }
    }
    let last = last.unwrap_or_else(|| Stuck {
        path: Vec::new(),
        state: stuck.state.clone(),
        refusals: stuck.refusals.clone(),
    });
    (keep, last)
}

/// The search of a subset (positions in `sel`) from `start`, if it is unexplained, in `sel`'s
/// numbering. Each trial gets a bounded share of the budget; running out counts as explained
/// (the operation is kept).
fn unexplained(
    ctx: &mut Ctx<'_>,
    ops: &[&Op],
    sel: &[usize],
    subset: &[usize],
    start: &State,
) -> Option<Stuck> {
    let trial_sel: Vec<usize> = subset.iter().map(|&k| sel[k]).collect();
    let saved = ctx.budget;
    let cap = saved.min(TRIAL_BUDGET);
    ctx.budget = cap;
    let result = explain(ctx, ops, &trial_sel, start);
    ctx.budget = saved - (cap - ctx.budget);
    match result {
        Search::Unexplained(s) => Some(Stuck {
            path: s.path.iter().map(|&(k, e)| (subset[k], e)).collect(),
            state: s.state,
            refusals: s
                .refusals
                .into_iter()
                .map(|(k, b)| (subset[k], b))
                .collect(),
        }),
        _ => None,
    }
}

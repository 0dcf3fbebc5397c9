//! The verdict in words: operations in the model's notation (`g0/c3#5`, `r2`), a failure's
//! smallest unexplained sub-history, the state before it, the rule each operation breaks, and
//! the real IDs behind every model identity it names.

use super::identity::Reused;
use super::search::{self, Ctx, Stuck};
use super::server::State;
use super::wire::{Body, Effect, History, Op, PushOutcome, Reported, User};
use super::{Failure, Shown, Verdict};
use std::fmt::Write as _;

fn effect_text(h: &History, e: &Effect) -> String {
    match *e {
        Effect::Opaque => String::new(),
        Effect::Set { row, value } => format!(" set {}={value}", h.names.row_name(row)),
        Effect::Max { row, value } => format!(" max {}={value}", h.names.row_name(row)),
        Effect::Incr { row } => format!(" incr {}", h.names.row_name(row)),
    }
}

fn reported_text(r: Reported) -> &'static str {
    match r {
        Reported::Applied => "applied",
        Reported::AppError => "error",
        Reported::AlreadyProcessed => "alreadyProcessed",
        Reported::OutOfOrder => "oooMutation",
    }
}

/// One operation in the model's notation.
pub fn describe(h: &History, op: &Op) -> String {
    let mut s = match &op.body {
        Body::Push {
            mutations, outcome, ..
        } => {
            let ms: Vec<String> = mutations
                .iter()
                .map(|m| format!("c{}#{}{}", m.client, m.mid, effect_text(h, &m.effect)))
                .collect();
            let answer = match outcome {
                PushOutcome::Unknown => "no response".to_string(),
                PushOutcome::Done => "ok".to_string(),
                PushOutcome::Failed => "failed".to_string(),
                PushOutcome::Results(r) => r
                    .iter()
                    .map(|&x| reported_text(x))
                    .collect::<Vec<_>>()
                    .join(", "),
                PushOutcome::OutOfOrder(list) => format!(
                    "out of order, unprocessed {}",
                    list.iter()
                        .map(|&i| format!("c{}#{}", mutations[i].client, mutations[i].mid))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            };
            format!("push g{} [{}] -> {answer}", op.group, ms.join(", "))
        }
        Body::Pull { cookie, response } => {
            let cookie_text = |c: &Option<u32>| match c {
                None => "none".to_string(),
                Some(c) => h
                    .names
                    .cookies
                    .get(*c as usize)
                    .cloned()
                    .unwrap_or_default(),
            };
            let lmids: Vec<String> = response
                .lmids
                .iter()
                .map(|(c, n)| format!("c{c}:{n}"))
                .collect();
            let mut patch: Vec<String> = Vec::new();
            if response.clear {
                patch.push("clear".into());
            }
            for (r, v) in &response.puts {
                let v = v.map_or("?".to_string(), |v| v.to_string());
                patch.push(format!("{}={v}", h.names.row_name(*r)));
            }
            for r in &response.dels {
                patch.push(format!("del {}", h.names.row_name(*r)));
            }
            format!(
                "pull g{} cookie {} -> cookie {}, lastMutationIDChanges {{{}}}, patch [{}]",
                op.group,
                cookie_text(cookie),
                cookie_text(&Some(response.cookie)),
                lmids.join(", "),
                patch.join(", ")
            )
        }
    };
    if op.user == User::SignedOut {
        s.push_str(" (signed out)");
    }
    if op.complete.is_finite() {
        let _ = write!(s, " [{} to {}]", op.invoke, op.complete);
    } else {
        let _ = write!(s, " [from {}, never completed]", op.invoke);
    }
    s
}

/// The server state in words.
pub fn state_text(h: &History, s: &State) -> String {
    let wm: Vec<String> = s
        .watermarks
        .iter()
        .map(|w| {
            let g = h
                .names
                .client_home
                .get(w.client as usize)
                .map_or(0, |x| x.0);
            format!("g{g}/c{}:{}", w.client, w.lmid)
        })
        .collect();
    let rows: Vec<String> = s
        .rows
        .iter()
        .map(|r| format!("{}={} (v{})", h.names.row_name(r.row), r.value, r.version))
        .collect();
    format!(
        "version {}, watermarks {{{}}}, rows [{}], {} cookies still referred to",
        s.version,
        wm.join(", "),
        rows.join(", "),
        s.cookies.len()
    )
}

/// Real group IDs of a part (at most five, then a count).
pub fn groups_of(h: &History, ops: &[&Op]) -> Vec<String> {
    let mut gs: Vec<u32> = ops.iter().map(|o| o.group).collect();
    gs.sort_unstable();
    gs.dedup();
    gs.iter()
        .map(|&g| format!("g{g} = {}", h.names.groups[g as usize]))
        .collect()
}

fn legend(h: &History, ops: &[&Op]) -> Vec<(String, String)> {
    let mut groups: Vec<u32> = Vec::new();
    let mut clients: Vec<u32> = Vec::new();
    for op in ops {
        groups.push(op.group);
        match &op.body {
            Body::Push { mutations, .. } => clients.extend(mutations.iter().map(|m| m.client)),
            Body::Pull { response, .. } => clients.extend(response.lmids.iter().map(|l| l.0)),
        }
    }
    groups.sort_unstable();
    groups.dedup();
    clients.sort_unstable();
    clients.dedup();
    let mut out: Vec<(String, String)> = groups
        .iter()
        .map(|&g| (format!("g{g}"), h.names.groups[g as usize].clone()))
        .collect();
    out.extend(
        clients
            .iter()
            .map(|&c| (format!("c{c}"), h.names.clients[c as usize].clone())),
    );
    out
}

/// The failure of a part: `stuck` is the first search's deepest point, `keep` the smallest
/// unexplained sub-history after it (positions in `sel`), `last` its search.
#[allow(clippy::too_many_arguments)]
pub fn failure(
    ctx: &Ctx<'_>,
    h: &History,
    segment: usize,
    ops: &[&Op],
    sel: &[usize],
    stuck: &Stuck,
    keep: &[usize],
    last: &Stuck,
) -> Failure {
    let at = |k: usize| ops[sel[k]];
    let mut steps = Vec::new();
    let mut state = State::default();
    for &(k, effect) in &stuck.path {
        if effect {
            let _ = search::step(ctx, &mut state, at(k));
        }
        let text = if effect {
            describe(h, at(k))
        } else {
            format!("{} (taken as never having happened)", describe(h, at(k)))
        };
        steps.push((text, at(k).line, state.clone()));
    }
    let refusals: Vec<Shown> = last
        .refusals
        .iter()
        .map(|(k, b)| Shown {
            line: at(*k).line,
            text: format!("{}: {}", b.rule, b.message),
        })
        .collect();
    let (rule, message) = last
        .refusals
        .first()
        .map(|(k, b)| {
            (
                b.rule.to_string(),
                format!("line {}: {}", at(*k).line, b.message),
            )
        })
        .unwrap_or_default();
    let mut writer_ops: Vec<&Op> = Vec::new();
    let row_writers = last
        .refusals
        .iter()
        .find_map(|(k, b)| b.row.map(|r| (*k, r)))
        .map(|(k, row)| {
            let path = [&stuck.path[..], &last.path[..]].concat();
            let (text, wrote) = writers(ctx, h, (ops, sel), &path, k, row);
            writer_ops = wrote;
            text
        });
    let shown: Vec<&Op> = keep.iter().map(|&k| at(k)).collect();
    let named: Vec<&Op> = shown.iter().copied().chain(writer_ops).collect();
    Failure {
        rule,
        message,
        segment,
        explained_before: stuck.path.len(),
        state_before: state_text(h, &stuck.state),
        operations: shown
            .iter()
            .map(|op| Shown {
                line: op.line,
                text: describe(h, op),
            })
            .collect(),
        refusals,
        row_writers,
        legend: legend(h, &named),
        steps,
    }
}

/// The mutations that wrote `row` in the order found, and for a counter that a pull shows
/// short, the increments lost.
fn writers<'a>(
    ctx: &Ctx<'_>,
    h: &History,
    (ops, sel): (&[&'a Op], &[usize]),
    path: &[(usize, bool)],
    refused: usize,
    row: u32,
) -> (String, Vec<&'a Op>) {
    let mut state = State::default();
    let mut list: Vec<(String, bool)> = Vec::new();
    let mut wrote: Vec<&'a Op> = Vec::new();
    for &(k, effect) in path {
        let op = ops[sel[k]];
        if !effect {
            continue;
        }
        let before = state.clone();
        let _ = search::step(ctx, &mut state, op);
        if let Body::Push { mutations, .. } = &op.body {
            for m in mutations.iter().filter(|m| m.effect.row() == Some(row)) {
                if before.lmid(m.client) < m.mid && m.mid <= state.lmid(m.client) {
                    let incr = matches!(m.effect, Effect::Incr { .. });
                    let text = format!(
                        "{}{} (line {})",
                        h.names.mutation(op.group, m.client, m.mid),
                        effect_text(h, &m.effect),
                        op.line
                    );
                    list.push((text, incr));
                    wrote.push(op);
                }
            }
        }
    }
    let name = h.names.row_name(row);
    let model = state.row(row).map_or(0, |r| r.value);
    let shown = match &ops[sel[refused]].body {
        Body::Pull { response, .. } => response.puts.iter().find(|p| p.0 == row).and_then(|p| p.1),
        Body::Push { .. } => None,
    };
    let mut s = format!(
        "{name} was written by {}: the model's {name} is {model}",
        if list.is_empty() {
            "no mutation".to_string()
        } else {
            list.iter()
                .map(|x| x.0.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        }
    );
    let incrs: Vec<&String> = list.iter().filter(|x| x.1).map(|x| &x.0).collect();
    if let Some(got) = shown {
        if !incrs.is_empty() && got < model {
            let lost = (model - got) as usize;
            let named: Vec<&str> = incrs.iter().rev().take(lost).map(|s| s.as_str()).collect();
            let _ = write!(
                s,
                "; the pull shows {got}: {lost} increment{} reported applied {} lost ({} in the order found)",
                if lost == 1 { "" } else { "s" },
                if lost == 1 { "is" } else { "are" },
                named.join(", ")
            );
        }
    }
    (s, wrote)
}

/// The `client-identity` failure: one clientID in two client groups.
pub fn reused(h: &History, r: &Reused) -> Failure {
    let real = &h.names.clients[r.client as usize];
    let message = format!(
        "line {}: clientID {real} (c{}) of group g{} (line {}) appears in group g{}: the model mints each clientID for one client group, so one ID stands for two clients",
        r.line, r.client, r.first_group, r.first_line, r.group
    );
    let legend = vec![
        (
            format!("g{}", r.first_group),
            h.names.groups[r.first_group as usize].clone(),
        ),
        (
            format!("g{}", r.group),
            h.names.groups[r.group as usize].clone(),
        ),
        (format!("c{}", r.client), real.clone()),
    ];
    Failure {
        rule: "client-identity".into(),
        message: message.clone(),
        segment: 0,
        explained_before: 0,
        state_before: state_text(h, &State::default()),
        operations: vec![
            Shown {
                line: r.first_line,
                text: format!("c{} first seen, in g{}", r.client, r.first_group),
            },
            Shown {
                line: r.line,
                text: format!("c{} seen in g{}", r.client, r.group),
            },
        ],
        refusals: vec![Shown {
            line: r.line,
            text: format!("client-identity: {message}"),
        }],
        row_writers: None,
        legend,
        steps: Vec::new(),
    }
}

impl Verdict {
    pub fn to_text(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "plasma-check history: {} operations ({} without effect left out), {} client groups, {} clients; {} level, {} server",
            self.operations,
            self.no_effect,
            self.groups,
            self.clients,
            match self.level {
                super::Level::Data => "data",
                super::Level::Protocol => "protocol",
            },
            self.protocol
        );
        let _ = writeln!(
            s,
            "{} parts: {} explained, {} unexplained, {} not decided ({} search steps)",
            self.parts,
            self.explained,
            self.unexplained,
            self.undecided.len(),
            self.steps
        );
        if let Some(f) = &self.failure {
            failure_text(&mut s, f);
            let _ = writeln!(s, "\nNOT EXPLAINED ({})", f.rule);
        } else if !self.undecided.is_empty() {
            for u in self.undecided.iter().take(5) {
                let _ = writeln!(
                    s,
                    "  not decided: segment {}, {} operations of {}",
                    u.segment,
                    u.operations,
                    u.groups.join(", ")
                );
            }
            let _ = writeln!(s, "\nNOT DECIDED (the budget of search steps ran out)");
        } else {
            let _ = writeln!(s, "\nexplained");
        }
        s
    }
}

fn failure_text(s: &mut String, f: &Failure) {
    let _ = writeln!(s, "\nrule broken: {}: {}", f.rule, f.message);
    let _ = writeln!(
        s,
        "model state before ({} operations of this part explained, segment {}): {}",
        f.explained_before, f.segment, f.state_before
    );
    let _ = writeln!(
        s,
        "smallest unexplained sub-history ({} operation{}):",
        f.operations.len(),
        if f.operations.len() == 1 { "" } else { "s" }
    );
    for o in &f.operations {
        let _ = writeln!(s, "  line {}: {}", o.line, o.text);
    }
    let _ = writeln!(s, "no order goes on from there:");
    for r in &f.refusals {
        let _ = writeln!(s, "  line {}: {}", r.line, r.text);
    }
    if let Some(w) = &f.row_writers {
        let _ = writeln!(s, "{w}");
    }
    let _ = writeln!(s, "identities:");
    for (model, real) in &f.legend {
        let _ = writeln!(s, "  {model} = {real}");
    }
}

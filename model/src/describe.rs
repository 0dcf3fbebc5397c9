//! Readable text for messages and steps, for people reading counterexamples.

use crate::network::{Msg, Patch};
use crate::{Action, Op, World};
use std::fmt::Write;

/// `[#1 #2]` for the sender's own mutations; a group push names other clientIDs: `[c0#1 #1]`.
fn mutations(sender: u8, ms: &[crate::Pushed]) -> String {
    let ids: Vec<String> = ms
        .iter()
        .map(|m| {
            if m.client == sender {
                format!("#{}", m.mid)
            } else {
                format!("c{}#{}", m.client, m.mid)
            }
        })
        .collect();
    format!("[{}]", ids.join(" "))
}

/// " as u1", or " signed out".
fn as_user(u: Option<u8>) -> String {
    u.map_or(" signed out".into(), |u| format!(" as u{u}"))
}

fn cookie(c: Option<u8>) -> String {
    c.map_or("none".into(), |c| c.to_string())
}

fn rows(rows: &[(u8, u8)]) -> String {
    let r: Vec<String> = rows.iter().map(|(r, v)| format!("r{r}={v}")).collect();
    format!("[{}]", r.join(" "))
}

fn op_text(op: &Op) -> String {
    match *op {
        Op::Set { row, value } => format!("sets r{row}={value}"),
        Op::Incr { row } => format!("increments r{row}"),
    }
}

/// One line for a message, e.g. `push c1 [#1 #2] from tab 0`.
pub fn msg(m: &Msg) -> String {
    match m {
        Msg::PushReq {
            tab,
            group,
            client,
            user,
            mutations: ms,
        } => format!(
            "push g{group}/c{client} {} from tab {tab}{}",
            mutations(*client, ms),
            as_user(*user)
        ),
        Msg::PushResp {
            tab,
            client,
            last_mutation_id,
        } => format!("push reply to tab {tab}: c{client} watermark {last_mutation_id}"),
        Msg::PullReq {
            tab,
            group,
            client,
            user,
            cookie: c,
            cookie_user: _,
        } => format!(
            "pull g{group}/c{client} cookie {} from tab {tab}{}",
            cookie(*c),
            as_user(*user)
        ),
        Msg::PullResp {
            tab,
            group: _,
            user: _,
            base_cookie,
            base_user: _,
            cookie: c,
            patch,
            last_mutation_ids,
            to_client: _,
        } => {
            let kind = match patch {
                Patch::Reset(_) => "reset",
                Patch::Tail(_) => "tail",
            };
            let lm: Vec<String> = last_mutation_ids
                .iter()
                .map(|(c, m)| format!("c{c}:{m}"))
                .collect();
            format!(
                "pull reply to tab {tab}: cookie {} -> {c}, {kind} {}, lastMutationIDs {{{}}}",
                cookie(*base_cookie),
                rows(patch.rows()),
                lm.join(" ")
            )
        }
    }
}

/// One line for a step, using the states before and after it to say what happened.
pub fn step(before: &World, action: &Action, after: &World) -> String {
    let tab_name = |t: u8| {
        let c = before.tabs.get(usize::from(t)).map(|t| t.client);
        match c {
            Some(c) => format!("tab {t} (c{c})"),
            None => format!("tab {t}"),
        }
    };
    let mut s = String::new();
    match action {
        Action::Mutate { tab, op } => {
            let created = after.history.created.last();
            let _ = write!(s, "{} {}", tab_name(*tab), op_text(op));
            if let Some(c) = created {
                let _ = write!(s, " as c{}#{}", c.client, c.mid);
            }
        }
        Action::Push { tab } => {
            let sent: Vec<String> = after
                .network
                .iter()
                .filter(|(m, n)| before.network.count(m) < *n)
                .map(|(m, _)| msg(m))
                .collect();
            let _ = write!(s, "{} sends {}", tab_name(*tab), sent.join("; "));
        }
        Action::Pull { tab } => {
            let inst = &before.installs[usize::from(before.tabs[usize::from(*tab)].install)];
            let _ = write!(
                s,
                "{} pulls with cookie {}",
                tab_name(*tab),
                cookie(inst.cookie)
            );
        }
        Action::Reload { tab } => {
            let _ = write!(s, "{} reloads", tab_name(*tab));
        }
        Action::Logout { install } => {
            let _ = write!(s, "install {install} logs out");
        }
        Action::Login { install, user } => {
            let _ = write!(s, "install {install} logs in as u{user}");
        }
        Action::OpenTab { install } => {
            let c = after.tabs.last().map_or(0, |t| t.client);
            let _ = write!(
                s,
                "install {install} opens tab {} (c{c})",
                after.tabs.len() - 1
            );
        }
        Action::DuplicateTab { tab } => {
            let c = after.tabs.last().map_or(0, |t| t.client);
            let _ = write!(
                s,
                "{} is duplicated as tab {} (c{c})",
                tab_name(*tab),
                after.tabs.len() - 1
            );
        }
        Action::CloseTab { tab } => {
            let _ = write!(s, "{} closes", tab_name(*tab));
        }
        Action::RestoreTab { tab } => {
            let c = after.tabs.last().map_or(0, |t| t.client);
            let _ = write!(
                s,
                "tab {tab} is reopened as tab {} (c{c})",
                after.tabs.len() - 1
            );
        }
        Action::ResetLocalState { tab } => {
            let c = after.tabs[usize::from(*tab)].client;
            let gone = after.history.discarded.len() - before.history.discarded.len();
            let _ = write!(
                s,
                "{} resets local state, now c{c}, discarding {gone} pending",
                tab_name(*tab)
            );
        }
        Action::Deliver(m) => {
            let _ = write!(s, "deliver {}", msg(m));
            match m {
                Msg::PushReq { .. } => {
                    let applied = &after.history.processed[before.history.processed.len()..];
                    if applied.is_empty() {
                        let _ = write!(s, " => server applies nothing");
                    } else {
                        let ids: Vec<String> = applied
                            .iter()
                            .map(|p| {
                                let c = &after.history.created[usize::from(p.serial)];
                                let denied = if p.applied { "" } else { " (denied)" };
                                format!("c{}#{}{denied}", c.client, c.mid)
                            })
                            .collect();
                        let _ = write!(
                            s,
                            " => server applies {} (v{})",
                            ids.join(" "),
                            after.server.version
                        );
                    }
                }
                Msg::PullResp { tab, .. } => {
                    let t = usize::from(*tab);
                    let i = usize::from(before.tabs[t].install);
                    if !before.tabs[t].is_open() {
                        let _ = write!(s, " => tab is closed, dropped");
                    } else if before.installs[i] == after.installs[i] {
                        let _ = write!(s, " => ignored");
                    } else {
                        let _ = write!(
                            s,
                            " => applied, IDB cookie {}, outbox {}",
                            cookie(after.installs[i].cookie),
                            after.installs[i].outbox.len()
                        );
                    }
                }
                _ => {}
            }
        }
        Action::Drop(m) => {
            let _ = write!(s, "network drops {}", msg(m));
        }
        Action::Duplicate(m) => {
            let _ = write!(s, "network duplicates {}", msg(m));
        }
    }
    s
}

fn view(rows: &[Option<u8>]) -> String {
    let r: Vec<String> = rows
        .iter()
        .map(|v| v.map_or("-".into(), |v| v.to_string()))
        .collect();
    format!("[{}]", r.join(" "))
}

/// One line for a whole state: server, installations, tabs, network.
pub fn world(w: &World) -> String {
    let mut s = String::new();
    let wm: Vec<String> = w
        .server
        .clients
        .iter()
        .map(|((g, c), m)| format!("g{g}/c{c}:{m}"))
        .collect();
    let _ = write!(
        s,
        "server v{} rows {} watermarks {{{}}}",
        w.server.version,
        view(&w.server.view()),
        wm.join(" ")
    );
    for (i, inst) in w.installs.iter().enumerate() {
        let outbox: Vec<String> = inst
            .outbox
            .keys()
            .map(|(c, m)| format!("c{c}#{m}"))
            .collect();
        let _ = write!(
            s,
            " | install {i}: cookie {} base {} outbox [{}]",
            cookie(inst.cookie),
            view(&inst.base),
            outbox.join(" ")
        );
    }
    for (t, tab) in w.tabs.iter().enumerate() {
        if tab.is_open() {
            let _ = write!(s, " | tab {t} c{} {}", tab.client, view(&tab.view));
        } else {
            let _ = write!(s, " | tab {t} closed");
        }
    }
    let _ = write!(s, " | in flight {}", w.network.len());
    s
}

/// One line for an action on its own (without the states around it).
pub fn action(a: &Action) -> String {
    match a {
        Action::Mutate { tab, op } => format!("tab {tab} {}", op_text(op)),
        Action::Push { tab } => format!("tab {tab} pushes"),
        Action::Pull { tab } => format!("tab {tab} pulls"),
        Action::Reload { tab } => format!("tab {tab} reloads"),
        Action::OpenTab { install } => format!("install {install} opens a tab"),
        Action::Logout { install } => format!("install {install} logs out"),
        Action::Login { install, user } => format!("install {install} logs in as u{user}"),
        Action::DuplicateTab { tab } => format!("tab {tab} is duplicated"),
        Action::CloseTab { tab } => format!("tab {tab} closes"),
        Action::RestoreTab { tab } => format!("tab {tab} is reopened"),
        Action::ResetLocalState { tab } => format!("tab {tab} resets local state"),
        Action::Deliver(m) => format!("deliver {}", msg(m)),
        Action::Drop(m) => format!("drop {}", msg(m)),
        Action::Duplicate(m) => format!("duplicate {}", msg(m)),
    }
}

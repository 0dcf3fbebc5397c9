//! Quiescence: what must hold once faults stop and every tab pushes and pulls until nothing
//! changes.

use plasma_model::{Action, Setup, World};
use std::cell::RefCell;

/// Rounds of "every open tab pushes, then pulls" before giving up on quiet.
fn max_rounds(w: &World) -> usize {
    w.tabs.len() + 4
}

fn deliver_all(setup: &Setup, w: &mut World, log: &mut Vec<Action>) {
    loop {
        let Some(m) = w.network.distinct().next().cloned() else {
            return;
        };
        try_step(setup, w, Action::Deliver(m), log);
    }
}

fn try_step(setup: &Setup, w: &mut World, action: Action, log: &mut Vec<Action>) {
    if let Ok(next) = w.step(setup, &action) {
        *w = next;
        log.push(action);
    }
}

/// The deterministic completion of `world` with a healed network: deliver every message; the
/// user comes back to every installation that has pending mutations but no open tab (a tab is
/// opened there, beyond `config.tabs` if need be); then in rounds every open tab pushes (if it has
/// anything to push) and pulls, each delivered at once, until a round changes nothing (or a bound
/// of rounds is hit: then the result is not quiet and the liveness properties judge it as it is).
pub fn heal(setup: &Setup, world: &World) -> World {
    heal_steps(setup, world).0
}

/// [`heal`], with the actions it took (to append to a counterexample, so that a replay shows
/// the healing that fails).
pub fn heal_steps(setup: &Setup, world: &World) -> (World, Vec<Action>) {
    let mut w = world.clone();
    let mut log = Vec::new();
    deliver_all(setup, &mut w, &mut log);
    let mut returning = setup.clone();
    returning.config.tabs = u8::MAX;
    for i in 0..w.installs.len() as u8 {
        let dormant = w.open_tabs_of(i).next().is_none();
        if dormant && !w.installs[usize::from(i)].outbox.is_empty() {
            try_step(&returning, &mut w, Action::OpenTab { install: i }, &mut log);
        }
    }
    for _ in 0..max_rounds(&w) {
        let start = w.clone();
        let logged = log.len();
        for t in 0..w.tabs.len() as u8 {
            if !w.tabs[usize::from(t)].is_open() {
                continue;
            }
            if !w.push_slices(setup, t).is_empty() {
                try_step(setup, &mut w, Action::Push { tab: t }, &mut log);
                deliver_all(setup, &mut w, &mut log);
            }
            try_step(setup, &mut w, Action::Pull { tab: t }, &mut log);
            deliver_all(setup, &mut w, &mut log);
        }
        if w == start {
            // The last round changed nothing: its steps are not part of the story.
            log.truncate(logged);
            break;
        }
    }
    (w, log)
}

thread_local! {
    /// Drivers evaluate several quiescence properties on the same state in a row: heal once.
    static LAST: RefCell<Option<(Setup, World, World)>> = const { RefCell::new(None) };
}

/// Runs `f` on the healed completion of `world`, healing at most once per distinct state in a row.
pub fn with_healed<R>(setup: &Setup, world: &World, f: impl FnOnce(&World) -> R) -> R {
    LAST.with(|cell| {
        let mut cache = cell.borrow_mut();
        let hit = matches!(&*cache, Some((s, w, _)) if s == setup && w == world);
        if !hit {
            let healed = heal(setup, world);
            *cache = Some((setup.clone(), world.clone(), healed));
        }
        match &*cache {
            Some((_, _, healed)) => f(healed),
            None => unreachable!("filled above"),
        }
    })
}

pub fn no_lost_mutation(_: &Setup, w: &World) -> bool {
    let h = &w.history;
    (0..h.created.len() as u8).all(|s| h.was_processed(s) || h.was_discarded(s))
}

pub fn all_applied(_: &Setup, w: &World) -> bool {
    w.history.processed.len() >= 2
}

pub fn convergence(_: &Setup, w: &World) -> bool {
    let server = w.server.view();
    w.tabs
        .iter()
        .filter(|t| t.is_open())
        .all(|t| t.view == server)
}

pub fn two_tabs_converge(_: &Setup, w: &World) -> bool {
    w.tabs
        .iter()
        .filter(|t| t.is_open() && t.view.iter().any(Option::is_some))
        .count()
        >= 2
}

/// The value the last applied write to each row left, by application order (which is
/// row_version order: every application bumps the version).
fn last_writes(w: &World) -> Vec<Option<(u8, u8)>> {
    let h = &w.history;
    let mut last = vec![None; w.server.rows.len()];
    for &s in &h.processed {
        let c = &h.created[usize::from(s)];
        let plasma_model::Op::Set { row, value } = c.op;
        last[usize::from(row)] = Some((value, c.client));
    }
    last
}

pub fn lww(_: &Setup, w: &World) -> bool {
    let last = last_writes(w);
    let server_ok = w
        .server
        .rows
        .iter()
        .zip(&last)
        .all(|(r, l)| r.value == l.map(|(v, _)| v));
    server_ok && convergence_on_written(w)
}

/// Views agree with the server on written rows (the full check is `convergence`).
fn convergence_on_written(w: &World) -> bool {
    let server = w.server.view();
    w.tabs.iter().filter(|t| t.is_open()).all(|t| {
        server
            .iter()
            .zip(&t.view)
            .all(|(s, v)| s.is_none() || s == v)
    })
}

pub fn conflict_resolved(_: &Setup, w: &World) -> bool {
    let h = &w.history;
    (0..w.server.rows.len() as u8).any(|row| {
        let mut writers = h
            .processed
            .iter()
            .map(|&s| h.created[usize::from(s)])
            .filter(|c| c.op.row() == row)
            .map(|c| c.client);
        let first = writers.next();
        writers.any(|c| Some(c) != first)
    })
}

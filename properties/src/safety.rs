//! Safety properties, checked in every reachable state, and their witnesses.

use plasma_model::{auth, History, Msg, Setup, World};

fn identity(h: &History, serial: u8) -> (u8, u8, u8) {
    let c = &h.created[usize::from(serial)];
    (c.group, c.client, c.mid)
}

pub fn at_most_once(_: &Setup, w: &World) -> bool {
    let h = &w.history;
    // Pairwise: a handful of entries, and a check of every state must not allocate.
    let p = &h.processed;
    p.iter().enumerate().all(|(i, a)| {
        p[i + 1..]
            .iter()
            .all(|b| a.serial != b.serial && identity(h, a.serial) != identity(h, b.serial))
    })
}

pub fn retry_in_flight(_: &Setup, w: &World) -> bool {
    w.network.distinct().any(|m| match m {
        Msg::PushReq { mutations, .. } => {
            mutations.iter().any(|p| w.history.was_processed(p.serial))
        }
        _ => false,
    })
}

pub fn unique_identity(_: &Setup, w: &World) -> bool {
    let c = &w.history.created;
    c.iter().enumerate().all(|(i, a)| {
        c[i + 1..]
            .iter()
            .all(|b| (a.group, a.client, a.mid) != (b.group, b.client, b.mid))
    })
}

pub fn same_mid_two_clients(_: &Setup, w: &World) -> bool {
    let c = &w.history.created;
    c.iter().enumerate().any(|(i, a)| {
        c[i + 1..]
            .iter()
            .any(|b| a.group == b.group && a.mid == b.mid && a.client != b.client)
    })
}

/// The (group, client, mid) of each processed mutation, in order of processing.
fn processed_ids(h: &History) -> impl Iterator<Item = (u8, u8, u8)> + Clone + '_ {
    h.processed.iter().map(|p| identity(h, p.serial))
}

/// Each client's processed mids are 1, 2, 3, ... in order: the n-th of a (group, client) to
/// be processed has mid n.
pub fn per_client_order(_: &Setup, w: &World) -> bool {
    let ids = processed_ids(&w.history);
    ids.clone().enumerate().all(|(i, (g, c, mid))| {
        let before = ids
            .clone()
            .take(i)
            .filter(|&(g2, c2, _)| (g2, c2) == (g, c))
            .count();
        usize::from(mid) == before + 1
    })
}

pub fn client_applied_twice(_: &Setup, w: &World) -> bool {
    let ids = processed_ids(&w.history);
    ids.clone().enumerate().any(|(i, (g, c, _))| {
        ids.clone()
            .skip(i + 1)
            .any(|(g2, c2, _)| (g2, c2) == (g, c))
    })
}

/// The watermark of a mutation's (group, client) has reached its mid, yet this very mutation
/// was never applied: the server has already skipped it, or will, as a "duplicate".
pub fn no_silent_drop(_: &Setup, w: &World) -> bool {
    let h = &w.history;
    h.created.iter().enumerate().all(|(s, c)| {
        let s = s as u8;
        w.server.last_mutation_id(c.group, c.client) < c.mid
            || h.was_processed(s)
            || h.was_discarded(s)
    })
}

pub fn mid_reused(_: &Setup, w: &World) -> bool {
    let firsts = processed_ids(&w.history).filter(|&(_, _, mid)| mid == 1);
    firsts
        .clone()
        .enumerate()
        .any(|(i, a)| firsts.clone().skip(i + 1).any(|b| a.0 == b.0 && a.1 != b.1))
}

fn in_some_outbox(w: &World, serial: u8) -> bool {
    w.installs
        .iter()
        .any(|i| i.outbox.values().any(|e| e.serial == serial))
}

pub fn outbox_honesty(_: &Setup, w: &World) -> bool {
    let h = &w.history;
    (0..h.created.len() as u8)
        .all(|s| h.was_processed(s) || h.was_discarded(s) || in_some_outbox(w, s))
}

pub fn confirmed_entry_removed(_: &Setup, w: &World) -> bool {
    w.history
        .processed
        .iter()
        .any(|p| !in_some_outbox(w, p.serial))
}

pub fn monotone(_: &Setup, w: &World) -> bool {
    w.history.broken == 0
}

pub fn cookie_advanced(_: &Setup, w: &World) -> bool {
    w.installs.iter().any(|i| i.cookie.is_some_and(|c| c >= 2))
}

pub fn rebase(s: &Setup, w: &World) -> bool {
    w.tabs
        .iter()
        .filter(|t| t.is_open())
        .all(|t| t.view == w.installs[usize::from(t.install)].view_of(s, t.client))
}

pub fn optimistic_view(_: &Setup, w: &World) -> bool {
    w.tabs.iter().filter(|t| t.is_open()).any(|t| {
        let inst = &w.installs[usize::from(t.install)];
        inst.cookie.is_some() && t.view != inst.base
    })
}

/// A mutation that left its installation's outbox (and was not discarded) is visible in the base
/// its tabs see: the installation's cookie has reached the version that applied it, unless a
/// reset has wiped the base since. Confirmation through a pull guarantees this, because the
/// response that confirms an entry also carries the rows it wrote.
pub fn read_your_writes(_: &Setup, w: &World) -> bool {
    let h = &w.history;
    h.created.iter().enumerate().all(|(s, c)| {
        let s = s as u8;
        let inst = &w.installs[usize::from(c.install)];
        if h.was_discarded(s) || h.wiped.contains(&s) || inst.outbox.values().any(|e| e.serial == s)
        {
            return true;
        }
        match (h.applied_version(s), inst.cookie) {
            (_, None) => true,
            (Some(v), Some(cookie)) => cookie >= v,
            (None, Some(_)) => true, // not applied and gone: `outbox-honesty` reports it
        }
    })
}

pub fn own_write_in_base(_: &Setup, w: &World) -> bool {
    let h = &w.history;
    w.installs.iter().enumerate().any(|(i, inst)| {
        inst.base.iter().flatten().any(|&v| {
            let s = v.wrapping_sub(1);
            h.created.get(usize::from(s)).is_some_and(|c| {
                usize::from(c.install) == i && !inst.outbox.values().any(|e| e.serial == s)
            })
        })
    })
}

/// A pull response carries the watermarks of its own group's clients only.
pub fn group_isolation(_: &Setup, w: &World) -> bool {
    w.network.distinct().all(|m| match m {
        Msg::PullResp {
            group,
            last_mutation_ids,
            ..
        } => last_mutation_ids
            .iter()
            .all(|&(c, _)| w.server.clients.contains_key(&(*group, c))),
        _ => true,
    })
}

pub fn pull_confirms(_: &Setup, w: &World) -> bool {
    w.network.distinct().any(
        |m| matches!(m, Msg::PullResp { last_mutation_ids, .. } if !last_mutation_ids.is_empty()),
    )
}

/// No tab's installation caches a row that `auth.read` denies the user its base was pulled as.
pub fn read_isolation(s: &Setup, w: &World) -> bool {
    w.installs.iter().all(|i| {
        i.base
            .iter()
            .enumerate()
            .all(|(r, v)| v.is_none() || auth::read(&s.config, i.base_user, r as u8))
    })
}

pub fn private_row_cached(s: &Setup, w: &World) -> bool {
    w.installs.iter().any(|i| {
        i.base
            .iter()
            .enumerate()
            .any(|(r, v)| v.is_some() && auth::owner(&s.config, r as u8).is_some())
    })
}

/// No applied mutation was denied by `auth.write` for the user of the request that carried it.
pub fn write_authorisation(s: &Setup, w: &World) -> bool {
    let h = &w.history;
    h.applied().all(|p| {
        let row = h.created[usize::from(p.serial)].op.row();
        auth::write(&s.config, p.user, row)
    })
}

/// Every processed mutation made by a signed-in user was processed as that user (a mutation made
/// signed out goes out as whoever signs in).
pub fn as_author(_: &Setup, w: &World) -> bool {
    let h = &w.history;
    h.processed.iter().all(|p| {
        let author = h.created[usize::from(p.serial)].user;
        author.is_none() || author == p.user
    })
}

pub fn pending_across_user_switch(_: &Setup, w: &World) -> bool {
    w.waiting_author().is_some()
}

pub fn write_denied(_: &Setup, w: &World) -> bool {
    w.history.processed.iter().any(|p| !p.applied)
}

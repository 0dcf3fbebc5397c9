//! Symmetry: tabs, installations and clientIDs are interchangeable up to renaming. Tabs are
//! numbered in creation order, clientIDs minted from a counter and installations numbered at
//! start, but nothing in the protocol looks at those numbers beyond telling them apart, so a
//! state with tabs 1 and 2 swapped (their clientIDs, messages and history entries with them)
//! behaves exactly like the original: same properties, successors renamed alike. A search may
//! therefore keep one state per *orbit*, the [`World::representative`].
//!
//! Not interchangeable: mutations (serials are creation order, and values name the serial that
//! wrote them), rows (this model's tables and private rows tie rows to users; the presets have
//! one row per table), and installations when there is more than one user (an installation's
//! first user, whom healing signs back in, is `install % users`). The `watermark-per-group`
//! mutant keeps its watermark under clientID 0, so under it clientID 0 keeps its name.
//!
//! The representative is the least encoding among a few candidate renamings
//! ([`World::candidates`]; in the presets nearly always one). The native engines never build
//! it: [`Canonical`] writes its encoding segment by segment from the state and the renaming
//! ([`World::encode_segment_as`]), and a successor renamed like its parent shares the
//! encoding of every segment its action left alone (the fingerprint is then updated as without
//! symmetry). Most successors keep their parent's renaming: where the action changed none of
//! what the renaming is worked out from, or where the parent's renaming still sorts the tabs
//! strictly and names the clientIDs in order of first appearance (`World::keeps`, a few
//! comparisons), it is not worked out again: most successors take that path.

use crate::encode::{Encoder, Names, Segment, SEGMENTS};
use crate::network::{Msg, Patch};
use crate::{ClientId, Setup, World};
use smallvec::SmallVec;
use std::cmp::Ordering;

/// Which renamings a configuration allows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Symmetry {
    /// Installations may be permuted (one user).
    pub installs: bool,
    /// clientID 0 keeps its name (`watermark-per-group`).
    pub pin_client0: bool,
}

impl Symmetry {
    pub fn of(setup: &Setup) -> Symmetry {
        Symmetry {
            // Installations are interchangeable when they are their clientGroupIDs (under
            // `group_id = user` the groups are users, and a renaming would have to leave them).
            installs: setup.config.users <= 1
                && setup.config.installs > 1
                && setup.protocol.group_id != crate::GroupIdentity::User,
            pin_client0: setup.has(crate::Mutant::WatermarkPerGroup),
        }
    }
}

/// A renaming of tabs, installations (= clientGroupIDs) and clientIDs: old number -> new
/// number, and for tabs and installations also new -> old. One buffer, compared in one go: the
/// tab map, the installation map, the clientID map, the tab order, the installation order.
#[derive(Clone, Debug)]
pub struct Renaming {
    /// The buffer where it fits (the presets' renamings do), else `spill`.
    inline: [u8; RENAMING_INLINE],
    spill: Vec<u8>,
    len: usize,
    /// Where the installation map, the clientID map, the tab order and the installation order
    /// start in the buffer.
    at: [usize; 4],
    identity: bool,
    /// What it was worked out from, beside the tabs: the number of mutations created, the
    /// number of clientIDs minted, whether pull requests in flight were looked at, and how
    /// many clientIDs were named before they were.
    created: usize,
    clients: u8,
    network: bool,
    before_pulls: u8,
}

/// Bytes of a renaming kept inline: 2 x tabs + 2 x installations + clientIDs.
const RENAMING_INLINE: usize = 48;

impl Default for Renaming {
    fn default() -> Self {
        Renaming {
            inline: [0; RENAMING_INLINE],
            spill: Vec::new(),
            len: 0,
            at: [0; 4],
            identity: true,
            created: 0,
            clients: 0,
            network: true,
            before_pulls: 0,
        }
    }
}

impl PartialEq for Renaming {
    fn eq(&self, other: &Renaming) -> bool {
        self.at == other.at && self.map() == other.map()
    }
}

impl Renaming {
    fn map(&self) -> &[u8] {
        if self.len <= RENAMING_INLINE {
            &self.inline[..self.len]
        } else {
            &self.spill
        }
    }

    /// The renaming with tabs in `tab_order` (`tab_order[new] = old`), installations in
    /// `install_order`, and clientIDs as `client` writes them (into a slice of `next_client`
    /// bytes, given the tab map).
    fn fill(
        &mut self,
        tab_order: &[u8],
        install_order: &[u8],
        clients: usize,
        client: impl FnOnce(&[u8], &[u8], &mut [u8]) -> Option<u8>,
    ) {
        let (tabs, installs) = (tab_order.len(), install_order.len());
        self.len = 2 * tabs + 2 * installs + clients;
        self.at = [
            tabs,
            tabs + installs,
            tabs + installs + clients,
            2 * tabs + installs + clients,
        ];
        let map = if self.len <= RENAMING_INLINE {
            &mut self.inline[..self.len]
        } else {
            self.spill.clear();
            self.spill.resize(self.len, 0);
            &mut self.spill[..]
        };
        let (tab, rest) = map.split_at_mut(tabs);
        let (install, rest) = rest.split_at_mut(installs);
        let (client_map, rest) = rest.split_at_mut(clients);
        let (old_tab, old_install) = rest.split_at_mut(tabs);
        // Byte by byte: a few bytes each, where a slice copy is a call.
        for (new, &old) in tab_order.iter().enumerate() {
            tab[usize::from(old)] = new as u8;
            old_tab[new] = old;
        }
        for (new, &old) in install_order.iter().enumerate() {
            install[usize::from(old)] = new as u8;
            old_install[new] = old;
        }
        let before_pulls = client(tab, install, client_map);
        self.network = before_pulls.is_some();
        self.before_pulls = before_pulls.unwrap_or(clients as u8);
        self.identity = is_identity(tab) && is_identity(install) && is_identity(client_map);
    }

    /// The renaming `tab`, `install`, `client` (each old -> new).
    fn of_maps(tab: &[u8], install: &[u8], client: &[u8]) -> Renaming {
        let mut r = Renaming::default();
        let (tab_order, install_order) = (inverse(tab), inverse(install));
        r.fill(&tab_order, &install_order, client.len(), |_, _, out| {
            out.copy_from_slice(client);
            Some(0)
        });
        r
    }

    /// Every number stays.
    pub fn is_identity(&self) -> bool {
        self.identity
    }
}

impl Names for Renaming {
    const SAME: bool = false;
    #[inline(always)]
    fn tab(&self, old: u8) -> u8 {
        self.map()[usize::from(old)]
    }
    #[inline(always)]
    fn install(&self, old: u8) -> u8 {
        self.map()[self.at[0] + usize::from(old)]
    }
    #[inline(always)]
    fn client(&self, old: u8) -> u8 {
        self.map()[self.at[1] + usize::from(old)]
    }
    #[inline(always)]
    fn old_tab(&self, new: usize) -> usize {
        usize::from(self.map()[self.at[2] + new])
    }
    #[inline(always)]
    fn old_install(&self, new: usize) -> usize {
        usize::from(self.map()[self.at[3] + new])
    }
}

type Order = SmallVec<[u8; 8]>;

/// A pull request by everything but its clientID (tab and group renamed), then the clientID.
type PullKey = (u8, u8, u8, u8, u8, ClientId);

fn is_identity(map: &[u8]) -> bool {
    map.iter().enumerate().all(|(i, &x)| usize::from(x) == i)
}

/// `0, 1, .., n - 1`.
#[inline]
fn counting(n: usize) -> Order {
    const FIRST: [u8; 8] = [0, 1, 2, 3, 4, 5, 6, 7];
    // Not `collect`: building a `SmallVec` from an iterator costs some 100 instructions.
    if n <= FIRST.len() {
        SmallVec::from_buf_and_len(FIRST, n)
    } else {
        (0..n as u8).collect()
    }
}

/// `order[new] = old` turned into `old -> new` (and back).
fn inverse(order: &[u8]) -> Order {
    let mut map = counting(order.len());
    for (new, &old) in order.iter().enumerate() {
        map[usize::from(old)] = new as u8;
    }
    map
}

/// Every permutation of `items` (Heap's algorithm), each passed to `f`.
fn permutations(items: &mut [u8], f: &mut impl FnMut(&[u8])) {
    fn go(k: usize, items: &mut [u8], f: &mut impl FnMut(&[u8])) {
        if k <= 1 {
            f(items);
            return;
        }
        go(k - 1, items, f);
        for i in 0..k - 1 {
            if k & 1 == 0 {
                items.swap(i, k - 1);
            } else {
                items.swap(0, k - 1);
            }
            go(k - 1, items, f);
        }
    }
    let n = items.len();
    go(n, items, f);
}

impl World {
    /// The least state (by encoding) among the renamings of `self` that keep tabs in an order
    /// fixed by what the tabs are (see `World::cmp_tabs`), with clientIDs renamed in order of
    /// first appearance. Equal for every state of an orbit, so the checker stores one per orbit.
    pub fn representative(&self, sym: Symmetry) -> World {
        let mut c = Canonical::default();
        c.choose(self, sym);
        let r = c.chosen();
        if r.identity {
            self.clone()
        } else {
            self.renamed(r)
        }
    }

    /// The renamings a representative is chosen from (at least one): installations in every
    /// order (where they are interchangeable), tabs sorted by what they are, tabs that look
    /// alike in every order, clientIDs in order of first appearance.
    pub fn candidates(&self, sym: Symmetry, out: &mut Candidates) {
        out.len = 0;
        let mut order = counting(self.installs.len());
        if sym.installs {
            permutations(&mut order, &mut |p| self.candidates_for(p, sym, out));
        } else {
            self.candidates_for(&order, sym, out);
        }
    }

    /// The candidates with installations in `install_order` (`install_order[new] = old`).
    fn candidates_for(&self, install_order: &[u8], sym: Symmetry, out: &mut Candidates) {
        let install = inverse(install_order);
        // Tabs sorted by what they are (a stable insertion sort: a handful of tabs); tabs that
        // look alike are tried in every order.
        let mut tabs = counting(self.tabs.len());
        // `tied[k]`: tabs `k - 1` and `k` of the sorted prefix look alike. Kept up to date as the
        // sort moves tabs, so that no pair is compared twice.
        let mut tied: SmallVec<[bool; 8]> = if tabs.len() <= 8 {
            SmallVec::from_buf_and_len([false; 8], tabs.len())
        } else {
            SmallVec::from_elem(false, tabs.len())
        };
        for i in 1..tabs.len() {
            let mut j = i;
            while j > 0 {
                match self.cmp_tabs(tabs[j - 1], tabs[j], &install) {
                    Ordering::Greater => {
                        tabs.swap(j - 1, j);
                        if j < i {
                            tied[j + 1] = tied[j];
                        }
                        tied[j] = false;
                    }
                    order => {
                        tied[j] = order == Ordering::Equal;
                        break;
                    }
                }
                j -= 1;
            }
        }
        let ties = tied.contains(&true);
        let clients = usize::from(self.next_client);
        let mut add = |tab_order: &[u8]| {
            let r = out.next();
            r.fill(tab_order, install_order, clients, |tab, install, client| {
                self.client_renaming(tab_order, tab, install, sym, client)
            });
            r.created = self.history.created.len();
            r.clients = self.next_client;
        };
        if !ties {
            add(&tabs);
            return;
        }
        let mut groups: SmallVec<[(usize, usize); 8]> = SmallVec::new();
        let mut start = 0;
        for i in 1..=tabs.len() {
            if i == tabs.len() || !tied[i] {
                if i - start > 1 {
                    groups.push((start, i));
                }
                start = i;
            }
        }
        self.each_tie_order(&mut tabs, &groups, &mut add);
    }

    /// Whether `r` is the only candidate renaming of `self` ([`World::candidates`]), checked
    /// without working the candidates out: installations are not permuted, `r`'s tab order is
    /// strictly sorted (so no tabs tie), and the clientIDs in order of first appearance are
    /// `r`'s: all of them without looking at pull requests, or (where `r` was worked out from a
    /// state with the same pull requests, `same_pulls`) as many as before they were looked at.
    fn keeps(&self, r: &Renaming, sym: Symmetry, same_pulls: bool) -> bool {
        let (tabs, installs) = (self.tabs.len(), self.installs.len());
        let n = usize::from(self.next_client);
        if (sym.installs && installs > 1)
            || r.at
                != [
                    tabs,
                    tabs + installs,
                    tabs + installs + n,
                    2 * tabs + installs + n,
                ]
        {
            return false;
        }
        let map = r.map();
        let install = &map[tabs..r.at[1]];
        let order = &map[r.at[2]..r.at[3]];
        if (1..tabs).any(|k| self.cmp_tabs(order[k - 1], order[k], install) != Ordering::Less) {
            return false;
        }
        // The clientIDs met so far are those `r` names `0..next`: one `r` names `next` is met
        // for the first time, one it names below `next` was met before.
        let client = &map[r.at[1]..r.at[2]];
        let agrees = |next: &mut usize, c: ClientId| {
            let m = usize::from(client[usize::from(c)]);
            if m == *next {
                *next += 1;
            }
            m < *next
        };
        let mut next = 0;
        if n == 0 {
            return true;
        }
        if sym.pin_client0 && !agrees(&mut next, 0) {
            return false;
        }
        for &old in order {
            if !agrees(&mut next, self.tabs[usize::from(old)].client) {
                return false;
            }
        }
        for c in self.history.created.iter() {
            if next + 1 >= n {
                break;
            }
            if !agrees(&mut next, c.client) {
                return false;
            }
        }
        // The rest is named from pull requests as in the state `r` was worked out from, given
        // the same clientIDs are left.
        next + 1 >= n || r.network && same_pulls && next == usize::from(r.before_pulls)
    }

    /// Orders tabs by what they are, independent of numbering: installation (renamed by
    /// `install`), status, the serials of the mutations each created (serials are not
    /// renamed), view.
    fn cmp_tabs(&self, a: u8, b: u8, install: &[u8]) -> Ordering {
        let (x, y) = (&self.tabs[usize::from(a)], &self.tabs[usize::from(b)]);
        let created = |t: u8| {
            self.history
                .created
                .iter()
                .enumerate()
                .filter(move |(_, c)| c.tab == t)
                .map(|(s, _)| s)
        };
        install[usize::from(x.install)]
            .cmp(&install[usize::from(y.install)])
            .then((x.status as u8).cmp(&(y.status as u8)))
            .then_with(|| created(a).cmp(created(b)))
            .then_with(|| {
                let view = |v: &Option<u8>| v.map_or(0, |v| v + 1);
                x.view.iter().map(view).cmp(y.view.iter().map(view))
            })
    }

    /// Calls `f` with every order of `tabs` that permutes only within the tie `groups`.
    fn each_tie_order(
        &self,
        tabs: &mut Order,
        groups: &[(usize, usize)],
        f: &mut impl FnMut(&[u8]),
    ) {
        match groups.split_first() {
            None => f(tabs),
            Some((&(lo, hi), rest)) => {
                let mut part: Order = tabs[lo..hi].into();
                permutations(&mut part, &mut |p| {
                    let mut t = tabs.clone();
                    t[lo..hi].copy_from_slice(p);
                    self.each_tie_order(&mut t, rest, f);
                });
            }
        }
    }

    /// clientIDs renamed in order of first appearance: the tabs' (in their new order), then the
    /// creators of mutations (in serial order), then clientIDs only pull requests still name
    /// (ordered by the rest of the request), then any others in their old order. Returns how
    /// many were named before pull requests were looked at, if they were (not when one is left).
    fn client_renaming(
        &self,
        tab_order: &[u8],
        tab: &[u8],
        install: &[u8],
        sym: Symmetry,
        map: &mut [u8],
    ) -> Option<u8> {
        const UNSET: u8 = u8::MAX;
        let n = map.len();
        map.fill(UNSET);
        let mut next = 0u8;
        let assign = |map: &mut [u8], next: &mut u8, c: ClientId| {
            let slot = &mut map[usize::from(c)];
            if *slot == UNSET {
                *slot = *next;
                *next += 1;
            }
        };
        if sym.pin_client0 && n > 0 {
            assign(map, &mut next, 0);
        }
        for &old in tab_order {
            assign(map, &mut next, self.tabs[usize::from(old)].client);
        }
        for c in self.history.created.iter() {
            assign(map, &mut next, c.client);
        }
        // One clientID left takes the last number whatever the pull requests say.
        if usize::from(next) + 1 >= n {
            for c in 0..n {
                assign(map, &mut next, c as u8);
            }
            return None;
        }
        let before_pulls = next;
        let mut pulls: SmallVec<[PullKey; 4]> = self
            .network
            .distinct()
            .filter_map(|m| match *m {
                Msg::PullReq {
                    tab: t,
                    group,
                    client,
                    user,
                    cookie,
                    cookie_user,
                } if map[usize::from(client)] == UNSET => Some((
                    tab[usize::from(t)],
                    // Under `group_id = user` a group is a user (up to `config.users`, which
                    // may exceed the installations), and installations are never renamed.
                    install.get(usize::from(group)).copied().unwrap_or(group),
                    user.map_or(0, |u| u + 1),
                    cookie.map_or(0, |u| u + 1),
                    cookie_user.map_or(0, |u| u + 1),
                    client,
                )),
                _ => None,
            })
            .collect();
        pulls.sort_unstable();
        for p in pulls {
            assign(map, &mut next, p.5);
        }
        for c in 0..n {
            assign(map, &mut next, c as u8);
        }
        Some(before_pulls)
    }

    /// The same state with every tab, installation and clientID renamed: `tab[old] = new`, and
    /// alike for `install` and `client` (each a permutation of `0..len`; `client` covers
    /// `0..next_client`).
    pub fn rename(&self, tab: &[u8], install: &[u8], client: &[u8]) -> World {
        self.renamed(&Renaming::of_maps(tab, install, client))
    }

    fn renamed(&self, r: &Renaming) -> World {
        let mut w = self.clone();
        self.rename_into(r, &mut w);
        w
    }

    /// Writes the renaming of `self` into `w`, a copy of `self`.
    fn rename_into(&self, r: &Renaming, w: &mut World) {
        let t = |x: u8| r.tab(x);
        let i = |x: u8| r.install(x);
        let c = |x: u8| r.client(x);
        w.server.clients.clear();
        for (&(g, cl), &m) in self.server.clients.iter() {
            w.server.clients.insert((i(g), c(cl)), m);
        }
        w.server.auth_ctx.clear();
        for (&(g, cl), &u) in self.server.auth_ctx.iter() {
            w.server.auth_ctx.insert((i(g), c(cl)), u);
        }
        w.server.served.clear();
        for (&g, &v) in self.server.served.iter() {
            w.server.served.insert(i(g), v);
        }
        for (old, inst) in self.installs.iter().enumerate() {
            let new = &mut w.installs[usize::from(i(old as u8))];
            new.clone_from(inst);
            new.group = i(inst.group);
            new.outbox.clear();
            for (&(cl, m), &e) in inst.outbox.iter() {
                new.outbox.insert((c(cl), m), e);
            }
            new.next_mid.clear();
            for (&cl, &m) in inst.next_mid.iter() {
                new.next_mid.insert(c(cl), m);
            }
        }
        for (old, tab) in self.tabs.iter().enumerate() {
            let new = &mut w.tabs[usize::from(t(old as u8))];
            new.clone_from(tab);
            new.install = i(tab.install);
            new.client = c(tab.client);
        }
        *w.network = crate::Network::default();
        for (m, n) in self.network.iter() {
            w.network.send_copies(rename_msg(m, &t, &i, &c), n);
        }
        for x in w.history.created.iter_mut() {
            x.install = i(x.install);
            x.tab = t(x.tab);
            x.group = i(x.group);
            x.client = c(x.client);
        }
    }
}

/// The candidate renamings of a state ([`World::candidates`]), in storage kept from one state to
/// the next.
#[derive(Default)]
pub struct Candidates {
    list: Vec<Renaming>,
    len: usize,
}

impl Candidates {
    /// Room for one more candidate.
    fn next(&mut self) -> &mut Renaming {
        if self.len == self.list.len() {
            self.list.push(Renaming::default());
        }
        self.len += 1;
        &mut self.list[self.len - 1]
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn get(&self, i: usize) -> &Renaming {
        &self.list[..self.len][i]
    }
}

/// Chooses a state's representative among its [`World::candidates`] and writes its encoding
/// segment by segment, without building the renamed state. A search keeps one per thread.
#[derive(Default)]
pub struct Canonical {
    encoder: Encoder,
    candidates: Candidates,
    /// The chosen candidate, whether there were several, and whether the chosen one is
    /// `parent` (then `candidates` was not worked out).
    chosen: usize,
    several: bool,
    from_parent: bool,
    /// Where there were several candidates: the chosen one's encoding, and where its segments
    /// end; a candidate being compared with it.
    best: Vec<u8>,
    best_ends: [usize; SEGMENTS],
    other: Vec<u8>,
    other_ends: [usize; SEGMENTS],
    /// The renaming that gave the representative of the state whose successors come next, if
    /// it was its only candidate (`has_parent`).
    parent: Renaming,
    has_parent: bool,
}

impl Canonical {
    /// Notes the renaming of `w`, the state whose successors come next: a successor renamed
    /// alike has the representative's segments its action left alone in common with it.
    pub fn parent(&mut self, w: &World, sym: Symmetry) {
        w.candidates(sym, &mut self.candidates);
        self.has_parent = self.candidates.len() == 1;
        if self.has_parent {
            self.parent.clone_from(self.candidates.get(0));
        }
    }

    /// Notes the renaming [`Canonical::choose`] chose for `w` as [`Canonical::parent`] would.
    pub fn chosen_is_parent(&mut self) {
        self.has_parent = !self.several;
        if self.has_parent && !self.from_parent {
            self.parent.clone_from(self.candidates.get(self.chosen));
        }
    }

    /// Notes `r` as the renaming of the state whose successors come next, where an earlier
    /// [`Canonical::only`] gave it (as [`Canonical::parent`] would work it out again).
    pub fn parent_is(&mut self, r: &Renaming) {
        self.has_parent = true;
        self.parent.clone_from(r);
    }

    /// The renaming [`Canonical::choose`] chose, if it was the only candidate.
    pub fn only(&self) -> Option<&Renaming> {
        (!self.several).then(|| self.chosen())
    }

    fn chosen(&self) -> &Renaming {
        if self.from_parent {
            &self.parent
        } else {
            self.candidates.get(self.chosen)
        }
    }

    /// [`Canonical::choose`] for `w`, which differs from the state [`Canonical::parent`] noted
    /// at most in the segments `changed` marks (bit `Segment as u8`), and is its successor if
    /// `successor` (then the mutations it created are the parent's and those after). Where none
    /// of what that state's renaming was worked out from changed (the tabs, the mutations
    /// created, the clientIDs minted; pull requests where they were looked at), the renaming is
    /// `w`'s too; where some did, it is still `w`'s if it still sorts `w`'s tabs strictly and
    /// names `w`'s clientIDs in order of first appearance (`World::keeps`).
    pub fn choose_near(&mut self, w: &World, sym: Symmetry, changed: u8, successor: bool) {
        let p = &self.parent;
        let history = changed & (1 << Segment::History as u8) == 0;
        let same_pulls = changed & (1 << Segment::Network as u8) == 0;
        if self.has_parent && p.clients == w.next_client {
            let created = w.history.created.len();
            if changed & (1 << Segment::Tabs as u8) == 0
                && (history || successor && p.created == created)
                && (!p.network || same_pulls)
            {
                self.from_parent = true;
                self.several = false;
                return;
            }
            if (!p.network || same_pulls) && w.keeps(p, sym, same_pulls) {
                self.several = false;
                if p.created == created {
                    self.from_parent = true;
                } else {
                    self.from_parent = false;
                    self.chosen = 0;
                    self.candidates.len = 0;
                    let r = self.candidates.next();
                    r.clone_from(&self.parent);
                    r.created = created;
                }
                return;
            }
        }
        self.choose(w, sym);
    }

    /// Chooses the representative of `w`: with one candidate, that one; with several, the one
    /// whose encoding is least (compared a segment at a time: segments delimit themselves, so
    /// the first segment that differs decides, and a candidate is given up there).
    pub fn choose(&mut self, w: &World, sym: Symmetry) {
        w.candidates(sym, &mut self.candidates);
        self.chosen = 0;
        self.from_parent = false;
        self.several = self.candidates.len() > 1;
        if !self.several {
            return;
        }
        for n in 0..self.candidates.len() {
            let r = self.candidates.get(n);
            let mut ord = if n == 0 {
                Ordering::Less
            } else {
                Ordering::Equal
            };
            self.other.clear();
            let mut from = 0;
            for (k, seg) in Segment::ALL.into_iter().enumerate() {
                let start = self.other.len();
                if r.identity {
                    w.encode_segment(seg, &mut self.other);
                } else {
                    w.encode_segment_as(seg, r, &mut self.other);
                }
                self.other_ends[k] = self.other.len();
                if ord == Ordering::Equal {
                    ord = self.other[start..].cmp(&self.best[from..self.best_ends[k]]);
                    from = self.best_ends[k];
                    if ord == Ordering::Greater {
                        break;
                    }
                }
            }
            if ord == Ordering::Less {
                std::mem::swap(&mut self.best, &mut self.other);
                self.best_ends = self.other_ends;
                self.chosen = n;
            }
        }
    }

    /// Whether the chosen renaming is the only candidate and the one [`Canonical::parent`]
    /// noted.
    pub fn same_as_parent(&self) -> bool {
        self.from_parent
            || (!self.several && self.has_parent && self.parent == *self.candidates.get(0))
    }

    /// A segment of the encoding of the representative [`Canonical::choose`] chose for `w`.
    #[inline]
    pub fn segment(&mut self, w: &World, seg: Segment) -> &[u8] {
        if self.several {
            let k = seg as usize;
            let from = if k == 0 { 0 } else { self.best_ends[k - 1] };
            return &self.best[from..self.best_ends[k]];
        }
        let r = if self.from_parent {
            &self.parent
        } else {
            self.candidates.get(self.chosen)
        };
        if r.identity {
            self.encoder.encode_segment(w, seg)
        } else {
            self.encoder.encode_segment_as(w, r, seg)
        }
    }

    /// The encoding of `w`'s representative.
    pub fn encoding(&mut self, w: &World, sym: Symmetry) -> Vec<u8> {
        self.choose(w, sym);
        let mut out = Vec::new();
        for seg in Segment::ALL {
            out.extend_from_slice(self.segment(w, seg));
        }
        out
    }
}

fn rename_msg(m: &Msg, t: &impl Fn(u8) -> u8, i: &impl Fn(u8) -> u8, c: &impl Fn(u8) -> u8) -> Msg {
    let mut m = m.clone();
    match &mut m {
        Msg::PushReq {
            tab,
            group,
            client,
            mutations,
            ..
        } => {
            *tab = t(*tab);
            *group = i(*group);
            *client = c(*client);
            for p in mutations.iter_mut() {
                p.client = c(p.client);
            }
        }
        Msg::PullReq {
            tab, group, client, ..
        } => {
            *tab = t(*tab);
            *group = i(*group);
            *client = c(*client);
        }
        Msg::PushResp { tab, client, .. } => {
            *tab = t(*tab);
            *client = c(*client);
        }
        Msg::PullResp {
            tab,
            group,
            last_mutation_ids,
            patch,
            to_client,
            ..
        } => {
            *tab = t(*tab);
            *group = i(*group);
            *to_client = to_client.map(c);
            for (cl, _) in last_mutation_ids.iter_mut() {
                *cl = c(*cl);
            }
            last_mutation_ids.sort_unstable();
            // Patches name rows and values, neither of which is renamed.
            let _: &Patch = patch;
        }
    }
    m
}

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

use crate::network::{Msg, Patch};
use crate::{ClientId, Setup, World};
use smallvec::SmallVec;

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

/// old number -> new number, for tabs, installations (= clientGroupIDs) and clientIDs.
struct Renaming {
    tab: SmallVec<[u8; 8]>,
    install: SmallVec<[u8; 4]>,
    client: SmallVec<[u8; 16]>,
}

type Order = SmallVec<[u8; 8]>;

/// A pull request by everything but its clientID (tab and group renamed), then the clientID.
type PullKey = (u8, u8, u8, u8, u8, ClientId);

fn is_identity(map: &[u8]) -> bool {
    map.iter().enumerate().all(|(i, &x)| usize::from(x) == i)
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
    /// fixed by what the tabs are (see `World::tab_key`), with clientIDs renamed in order of
    /// first appearance. Equal for every state of an orbit, so the checker stores one per orbit.
    pub fn representative(&self, sym: Symmetry) -> World {
        let mut best: Option<(Vec<u8>, World)> = None;
        self.each_candidate(sym, &mut |r, single| {
            let w = match r {
                None => self.clone(),
                Some(r) => self.renamed(r),
            };
            if single {
                best = Some((Vec::new(), w));
                return;
            }
            let enc = w.encode();
            if best.as_ref().is_none_or(|(b, _)| enc < *b) {
                best = Some((enc, w));
            }
        });
        best.map(|(_, w)| w).unwrap_or_else(|| self.clone())
    }

    /// The encoding of [`World::representative`], written to `out`. Cheaper than encoding the
    /// representative: where `self` is its own representative (the identity is a candidate),
    /// it is encoded without a copy; other candidates are renamed into `scratch` (reused
    /// storage) and compared as encodings.
    pub fn canonical_encoding(&self, sym: Symmetry, c: &mut Canonical) {
        c.best.clear();
        let mut any = false;
        self.each_candidate(sym, &mut |r, _| {
            let bytes = match r {
                None => c.encoder.encode(self),
                Some(r) => {
                    let w = c.scratch.get_or_insert_with(|| self.clone());
                    w.clone_from(self);
                    self.rename_into(r, w);
                    c.encoder.encode(w)
                }
            };
            if !any || bytes < &c.best[..] {
                c.best.clear();
                c.best.extend_from_slice(bytes);
            }
            any = true;
        });
    }

    /// Calls `f` with every candidate renaming (`None`: the identity), and whether it is the
    /// only one.
    fn each_candidate(&self, sym: Symmetry, f: &mut impl FnMut(Option<&Renaming>, bool)) {
        let installs = self.installs.len();
        let mut install_orders: SmallVec<[Order; 2]> = SmallVec::new();
        let mut identity: Order = (0..installs as u8).collect();
        if sym.installs {
            permutations(&mut identity, &mut |p| install_orders.push(p.into()));
        } else {
            install_orders.push(identity);
        }
        for order in &install_orders {
            // order[new] = old
            let mut install: SmallVec<[u8; 4]> = SmallVec::from_elem(0, installs);
            for (new, &old) in order.iter().enumerate() {
                install[usize::from(old)] = new as u8;
            }
            // Tabs sorted by what they are; tabs that look alike are tried in every order.
            let mut tabs: Order = (0..self.tabs.len() as u8).collect();
            let keys: SmallVec<[_; 8]> = (0..self.tabs.len())
                .map(|t| self.tab_key(t as u8, &install))
                .collect();
            tabs.sort_by(|&a, &b| keys[usize::from(a)].cmp(&keys[usize::from(b)]));
            let mut groups: SmallVec<[(usize, usize); 8]> = SmallVec::new();
            let mut start = 0;
            for i in 1..=tabs.len() {
                if i == tabs.len() || keys[usize::from(tabs[i])] != keys[usize::from(tabs[start])] {
                    if i - start > 1 {
                        groups.push((start, i));
                    }
                    start = i;
                }
            }
            let only = install_orders.len() == 1 && groups.is_empty();
            self.each_tie_order(&mut tabs, &groups, &mut |tab_order| {
                let mut tab: SmallVec<[u8; 8]> = SmallVec::from_elem(0, tab_order.len());
                for (new, &old) in tab_order.iter().enumerate() {
                    tab[usize::from(old)] = new as u8;
                }
                let client = self.client_renaming(tab_order, &tab, &install, sym);
                let identity = is_identity(&tab) && is_identity(&install) && is_identity(&client);
                if identity {
                    f(None, only);
                } else {
                    let r = Renaming {
                        tab,
                        install: install.clone(),
                        client,
                    };
                    f(Some(&r), only);
                }
            });
        }
    }

    /// What a tab is, independent of numbering: its installation (renamed), status, view, and
    /// the serials of the mutations it created (serials are not renamed).
    fn tab_key(&self, t: u8, install: &[u8]) -> (u8, u8, SmallVec<[u8; 8]>, SmallVec<[u8; 8]>) {
        let tab = &self.tabs[usize::from(t)];
        let status = tab.status as u8;
        let view = tab.view.iter().map(|v| v.map_or(0, |v| v + 1)).collect();
        let created = self
            .history
            .created
            .iter()
            .enumerate()
            .filter(|(_, c)| c.tab == t)
            .map(|(s, _)| s as u8)
            .collect();
        (install[usize::from(tab.install)], status, created, view)
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
    /// (ordered by the rest of the request), then any others in their old order.
    fn client_renaming(
        &self,
        tab_order: &[u8],
        tab: &[u8],
        install: &[u8],
        sym: Symmetry,
    ) -> SmallVec<[u8; 16]> {
        const UNSET: u8 = u8::MAX;
        let n = usize::from(self.next_client);
        let mut map: SmallVec<[u8; 16]> = SmallVec::from_elem(UNSET, n);
        let mut next = 0u8;
        let mut assign = |map: &mut SmallVec<[u8; 16]>, c: ClientId| {
            if map[usize::from(c)] == UNSET {
                map[usize::from(c)] = next;
                next += 1;
            }
        };
        if sym.pin_client0 && n > 0 {
            assign(&mut map, 0);
        }
        for &old in tab_order {
            assign(&mut map, self.tabs[usize::from(old)].client);
        }
        for c in self.history.created.iter() {
            assign(&mut map, c.client);
        }
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
                    install[usize::from(group)],
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
            assign(&mut map, p.5);
        }
        for c in 0..n {
            assign(&mut map, c as u8);
        }
        map
    }

    /// The same state with every tab, installation and clientID renamed: `tab[old] = new`, and
    /// alike for `install` and `client` (each a permutation of `0..len`; `client` covers
    /// `0..next_client`).
    pub fn rename(&self, tab: &[u8], install: &[u8], client: &[u8]) -> World {
        self.renamed(&Renaming {
            tab: tab.into(),
            install: install.into(),
            client: client.into(),
        })
    }

    fn renamed(&self, r: &Renaming) -> World {
        let mut w = self.clone();
        self.rename_into(r, &mut w);
        w
    }

    /// Writes the renaming of `self` into `w`, a copy of `self`.
    fn rename_into(&self, r: &Renaming, w: &mut World) {
        let t = |x: u8| r.tab[usize::from(x)];
        let i = |x: u8| r.install[usize::from(x)];
        let c = |x: u8| r.client[usize::from(x)];
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

/// Reusable buffers for [`World::canonical_encoding`]: a search keeps one per thread.
#[derive(Default)]
pub struct Canonical {
    encoder: crate::encode::Encoder,
    scratch: Option<World>,
    best: Vec<u8>,
}

impl Canonical {
    /// The last canonical encoding computed.
    pub fn bytes(&self) -> &[u8] {
        &self.best
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

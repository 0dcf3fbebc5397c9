//! The compact encoding of a [`World`]: every field as one or a few bytes, lengths as one byte.
//! The encoding is injective, so it serves as the state's identity: its hash is the checker's
//! fingerprint (one bulk write, not one hasher call per field), and comparing encodings orders
//! states (symmetry reduction picks the least encoding among renamings).

use crate::history::{Created, Processed};
use crate::install::{Entry, Install};
use crate::network::{Msg, Patch, Pushed};
use crate::server::{Server, ServerRow};
use crate::tab::{Slot, Tab, TabStatus};
use crate::{CopyVec, Op, Tracked, VecMap, World};
use smallvec::SmallVec;
use std::cmp::Ordering;
use std::hash::{Hash, Hasher};

/// An encoded state.
pub type Encoded = Vec<u8>;

/// Where an encoding goes: a vector, or an [`Encoder`]'s buffer.
pub trait Sink {
    fn extend_from_slice(&mut self, bytes: &[u8]);
    fn push(&mut self, byte: u8) {
        self.extend_from_slice(&[byte]);
    }
    /// A few bytes known at compile time: a sink writing into a buffer stores them directly
    /// (through `extend_from_slice` they cost a `memcpy` call each).
    fn put<const K: usize>(&mut self, bytes: [u8; K]) {
        self.extend_from_slice(&bytes);
    }
}

impl Sink for Vec<u8> {
    fn extend_from_slice(&mut self, bytes: &[u8]) {
        Vec::extend_from_slice(self, bytes);
    }
    fn push(&mut self, byte: u8) {
        Vec::push(self, byte);
    }
}

/// Every number in a state is at most 250 (`Config::validate` bounds mutations, clientIDs and
/// users), so `None` can be 0 and `Some(v)` `v + 1`.
#[inline]
fn opt(v: Option<u8>) -> u8 {
    v.map_or(0, |v| v + 1)
}

#[inline]
fn op(out: &mut impl Sink, op: &Op) {
    match *op {
        Op::Set { row, value } => out.put([row, value + 1]),
        Op::Incr { row } => out.put([row, 0]),
    }
}

#[inline]
fn rows(out: &mut impl Sink, rows: &[Option<u8>]) {
    out.push(rows.len() as u8);
    for &v in rows {
        out.push(opt(v));
    }
}

/// A message, its numbers as `names` gives them.
#[inline]
fn msg<N: Names>(out: &mut impl Sink, m: &Msg, names: &N) {
    let (t, i, c) = (|x| names.tab(x), |x| names.install(x), |x| names.client(x));
    match m {
        Msg::PushReq {
            tab,
            group,
            client,
            user,
            mutations,
        } => {
            out.put([0, t(*tab), i(*group), c(*client), opt(*user)]);
            out.push(mutations.len() as u8);
            for p in mutations.iter() {
                out.put([c(p.client), p.mid]);
                op(out, &p.op);
                out.push(p.serial);
            }
        }
        Msg::PushResp {
            tab,
            client,
            last_mutation_id,
        } => out.put([1, t(*tab), c(*client), *last_mutation_id]),
        Msg::PullReq {
            tab,
            group,
            client,
            user,
            cookie,
            cookie_user,
        } => out.put([
            2,
            t(*tab),
            i(*group),
            c(*client),
            opt(*user),
            opt(*cookie),
            opt(*cookie_user),
        ]),
        Msg::PullResp {
            tab,
            group,
            user,
            base_cookie,
            base_user,
            cookie,
            patch,
            last_mutation_ids,
            to_client,
        } => {
            let kind = match patch {
                Patch::Reset(_) => 3,
                Patch::Tail(_) => 4,
            };
            out.put([
                kind,
                t(*tab),
                i(*group),
                opt(*user),
                opt(*base_cookie),
                opt(*base_user),
                *cookie,
                opt(to_client.map(c)),
            ]);
            out.push(patch.rows().len() as u8);
            for &(r, v) in patch.rows() {
                out.put([r, v]);
            }
            out.push(last_mutation_ids.len() as u8);
            put_sorted::<N, 2>(out, last_mutation_ids.iter().map(|&(cl, m)| [c(cl), m]));
        }
    }
}

/// How two messages order ([`Msg`]'s `Ord`, the network's order) once renamed as `names`
/// says, without building the renamed messages.
fn cmp_as<N: Names>(a: &Msg, b: &Msg, names: &N) -> Ordering {
    let (t, i, c) = (|x| names.tab(x), |x| names.install(x), |x| names.client(x));
    let variant = |m: &Msg| match m {
        Msg::PushReq { .. } => 0,
        Msg::PushResp { .. } => 1,
        Msg::PullReq { .. } => 2,
        Msg::PullResp { .. } => 3,
    };
    variant(a).cmp(&variant(b)).then_with(|| match (a, b) {
        (
            Msg::PushReq {
                tab,
                group,
                client,
                user,
                mutations,
            },
            Msg::PushReq {
                tab: tab2,
                group: group2,
                client: client2,
                user: user2,
                mutations: mutations2,
            },
        ) => (t(*tab), i(*group), c(*client), user)
            .cmp(&(t(*tab2), i(*group2), c(*client2), user2))
            .then_with(|| {
                let renamed = |p: &Pushed| (c(p.client), p.mid, p.op, p.serial);
                mutations
                    .iter()
                    .map(renamed)
                    .cmp(mutations2.iter().map(renamed))
            }),
        (
            Msg::PushResp {
                tab,
                client,
                last_mutation_id,
            },
            Msg::PushResp {
                tab: tab2,
                client: client2,
                last_mutation_id: last2,
            },
        ) => (t(*tab), c(*client), last_mutation_id).cmp(&(t(*tab2), c(*client2), last2)),
        (
            Msg::PullReq {
                tab,
                group,
                client,
                user,
                cookie,
                cookie_user,
            },
            Msg::PullReq {
                tab: tab2,
                group: group2,
                client: client2,
                user: user2,
                cookie: cookie2,
                cookie_user: cookie_user2,
            },
        ) => (t(*tab), i(*group), c(*client), user, cookie, cookie_user).cmp(&(
            t(*tab2),
            i(*group2),
            c(*client2),
            user2,
            cookie2,
            cookie_user2,
        )),
        (
            Msg::PullResp {
                tab,
                group,
                user,
                base_cookie,
                base_user,
                cookie,
                patch,
                last_mutation_ids,
                to_client,
            },
            Msg::PullResp {
                tab: tab2,
                group: group2,
                user: user2,
                base_cookie: base_cookie2,
                base_user: base_user2,
                cookie: cookie2,
                patch: patch2,
                last_mutation_ids: lmids2,
                to_client: to_client2,
            },
        ) => (
            t(*tab),
            i(*group),
            user,
            base_cookie,
            base_user,
            cookie,
            patch,
        )
            .cmp(&(
                t(*tab2),
                i(*group2),
                user2,
                base_cookie2,
                base_user2,
                cookie2,
                patch2,
            ))
            .then_with(|| {
                // Renamed, a response's list is sorted again.
                let sorted = |l: &[(u8, u8)]| {
                    let mut v: SmallVec<[(u8, u8); 4]> =
                        l.iter().map(|&(cl, m)| (c(cl), m)).collect();
                    v.sort_unstable();
                    v
                };
                sorted(last_mutation_ids).cmp(&sorted(lmids2))
            })
            .then_with(|| to_client.map(c).cmp(&to_client2.map(c))),
        _ => Ordering::Equal,
    })
}

/// The parts of an encoding, in the order it writes them: one for each collection a state
/// tracks changes to ([`crate::Tracked`]), and the counters (with the history's `broken`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Segment {
    Server = 0,
    Installs = 1,
    Tabs = 2,
    Network = 3,
    History = 4,
    Counters = 5,
}

/// The number of [`Segment`]s.
pub const SEGMENTS: usize = 6;

/// The bytes of [`Segment::Counters`].
pub const COUNTERS: usize = 6;

impl Segment {
    pub const ALL: [Segment; SEGMENTS] = [
        Segment::Server,
        Segment::Installs,
        Segment::Tabs,
        Segment::Network,
        Segment::History,
        Segment::Counters,
    ];
}

/// How an encoding numbers tabs, installations and clientIDs: as the state does ([`Same`]), or
/// renamed (symmetry reduction encodes a state's renamings without building them).
pub trait Names {
    /// Every number is its own (the encoding writes collections in the order the state keeps).
    const SAME: bool;
    fn tab(&self, old: u8) -> u8;
    fn install(&self, old: u8) -> u8;
    fn client(&self, old: u8) -> u8;
    /// The tab that gets number `new`.
    fn old_tab(&self, new: usize) -> usize;
    /// The installation that gets number `new`.
    fn old_install(&self, new: usize) -> usize;
}

/// The state's own numbers.
pub struct Same;

impl Names for Same {
    const SAME: bool = true;
    #[inline(always)]
    fn tab(&self, old: u8) -> u8 {
        old
    }
    #[inline(always)]
    fn install(&self, old: u8) -> u8 {
        old
    }
    #[inline(always)]
    fn client(&self, old: u8) -> u8 {
        old
    }
    #[inline(always)]
    fn old_tab(&self, new: usize) -> usize {
        new
    }
    #[inline(always)]
    fn old_install(&self, new: usize) -> usize {
        new
    }
}

/// Writes the entries of a map in key order: the map's own order under [`Same`] names, sorted
/// otherwise (an entry's bytes start with its key, and keys are distinct).
#[inline(always)]
fn put_sorted<N: Names, const K: usize>(
    out: &mut impl Sink,
    entries: impl ExactSizeIterator<Item = [u8; K]>,
) {
    if N::SAME {
        for e in entries {
            out.put(e);
        }
    } else {
        each_sorted(entries, |a, b| a.cmp(b), |e| out.put(e));
    }
}

/// Calls `f` with `items` in the order `cmp` gives. Up to 8 items (the presets' lists are a
/// handful long): an insertion sort in a local array, where a `collect` and `sort_unstable`
/// cost several times the sorting itself.
#[inline(always)]
fn each_sorted<T: Copy>(
    mut items: impl ExactSizeIterator<Item = T>,
    cmp: impl Fn(&T, &T) -> Ordering,
    mut f: impl FnMut(T),
) {
    const INLINE: usize = 8;
    if items.len() > INLINE {
        let mut v: Vec<T> = items.collect();
        v.sort_by(cmp);
        v.into_iter().for_each(f);
        return;
    }
    let Some(first) = items.next() else {
        return;
    };
    let mut buf = [first; INLINE];
    let mut len = 1;
    for x in items {
        let mut j = len;
        while j > 0 && cmp(&buf[j - 1], &x) == Ordering::Greater {
            buf[j] = buf[j - 1];
            j -= 1;
        }
        buf[j] = x;
        len += 1;
    }
    for &x in &buf[..len] {
        f(x);
    }
}

impl World {
    /// Appends the state's encoding to `out`: its segments in order.
    #[inline]
    pub fn encode_into(&self, out: &mut impl Sink) {
        for seg in Segment::ALL {
            self.encode_segment(seg, out);
        }
    }

    /// Appends one segment of the state's encoding to `out`.
    #[inline(always)]
    pub fn encode_segment(&self, seg: Segment, out: &mut impl Sink) {
        self.encode_segment_as(seg, &Same, out);
    }

    /// Appends one segment of the encoding of this state with its tabs, installations and
    /// clientIDs numbered as `names` says: the encoding of the renamed state, written without
    /// building it (collections keyed by those numbers are sorted again, as the renamed state
    /// keeps them).
    #[inline(always)]
    pub fn encode_segment_as<N: Names>(&self, seg: Segment, names: &N, out: &mut impl Sink) {
        let (i, c) = (|x| names.install(x), |x| names.client(x));
        match seg {
            Segment::Server => {
                let s = &self.server;
                out.push(s.version);
                out.push(s.rows.len() as u8);
                for r in s.rows.iter() {
                    out.put([opt(r.value), r.row_version]);
                }
                out.push(s.clients.len() as u8);
                put_sorted::<N, 3>(out, s.clients.iter().map(|(&(g, cl), &m)| [i(g), c(cl), m]));
                out.push(s.auth_ctx.len() as u8);
                put_sorted::<N, 3>(
                    out,
                    s.auth_ctx
                        .iter()
                        .map(|(&(g, cl), &u)| [i(g), c(cl), opt(u)]),
                );
                out.push(s.served.len() as u8);
                put_sorted::<N, 2>(out, s.served.iter().map(|(&g, &v)| [i(g), v]));
            }
            Segment::Installs => {
                out.push(self.installs.len() as u8);
                for new in 0..self.installs.len() {
                    let inst = &self.installs[names.old_install(new)];
                    out.push(i(inst.group));
                    rows(out, &inst.base);
                    out.put([opt(inst.cookie), opt(inst.signed_in), opt(inst.base_user)]);
                    out.push(inst.outbox.len() as u8);
                    let outbox = inst.outbox.iter().map(|(&(cl, m), e)| (c(cl), m, e));
                    let entry = |(cl, m, e): (u8, u8, &Entry)| {
                        out.put([cl, m]);
                        op(out, &e.op);
                        out.push(e.serial);
                    };
                    if N::SAME {
                        outbox.for_each(entry);
                    } else {
                        each_sorted(outbox, |a, b| (a.0, a.1).cmp(&(b.0, b.1)), entry);
                    }
                    out.push(inst.next_mid.len() as u8);
                    put_sorted::<N, 2>(out, inst.next_mid.iter().map(|(&cl, &m)| [c(cl), m]));
                }
            }
            Segment::Tabs => {
                out.push(self.tabs.len() as u8);
                for new in 0..self.tabs.len() {
                    let t = &self.tabs[names.old_tab(new)];
                    let status = match t.status {
                        TabStatus::Open => 0,
                        TabStatus::Closed => 1,
                        TabStatus::Restored => 2,
                        TabStatus::ClosedBeforeLogin => 3,
                    };
                    out.put([
                        i(t.install),
                        c(t.client),
                        status,
                        opt(t.mem_mid),
                        t.push.code(),
                        t.pull.code(),
                    ]);
                    rows(out, &t.view);
                }
            }
            Segment::Network => {
                out.push(self.network.distinct_len() as u8);
                if N::SAME {
                    for (m, n) in self.network.iter() {
                        out.push(n);
                        msg(out, m, names);
                    }
                } else {
                    each_sorted(
                        self.network.iter(),
                        |a, b| cmp_as(a.0, b.0, names),
                        |(m, n)| {
                            out.push(n);
                            msg(out, m, names);
                        },
                    );
                }
            }
            Segment::History => {
                let h = &self.history;
                out.push(h.created.len() as u8);
                for x in h.created.iter() {
                    out.put([
                        i(x.install),
                        names.tab(x.tab),
                        i(x.group),
                        c(x.client),
                        x.mid,
                        opt(x.user),
                    ]);
                    op(out, &x.op);
                }
                out.push(h.processed.len() as u8);
                for p in h.processed.iter() {
                    out.put([p.serial, u8::from(p.applied), opt(p.user)]);
                }
                // Byte by byte: these lists are short, and a slice copy of unknown length is a call.
                out.push(h.discarded.len() as u8);
                for &s in h.discarded.iter() {
                    out.push(s);
                }
                out.push(h.wiped.len() as u8);
                for &s in h.wiped.iter() {
                    out.push(s);
                }
            }
            Segment::Counters => out.put(self.counters()),
        }
    }

    /// The [`Segment::Counters`] of the encoding: few enough bytes to hash as one number.
    #[inline]
    pub fn counters(&self) -> [u8; COUNTERS] {
        [
            self.history.broken,
            self.next_client,
            self.resets,
            self.drops,
            self.duplicates,
            self.auth_changes,
        ]
    }

    /// The state's encoding.
    pub fn encode(&self) -> Encoded {
        let mut out = Encoded::new();
        self.encode_into(&mut out);
        out
    }
}

/// Writes into a fixed buffer. A local struct, so its length stays in a register (a sink that
/// escapes into calls keeps its length in memory, and every byte written then waits for the
/// previous one's store). Writes land at the length modulo [`ENCODER_BYTES`], in a buffer with
/// room for the widest `put` beyond that: the index needs no bounds check, and an encoding longer
/// than the buffer only wraps around, which the caller sees from the length and then encodes
/// again into a vector.
struct Cursor<'a> {
    buf: &'a mut [u8; ENCODER_BYTES + PUT_MAX],
    len: usize,
}

/// Encodings up to this many bytes go through the fixed buffer (a power of two).
const ENCODER_BYTES: usize = 512;
/// The widest `put` of the encoding.
const PUT_MAX: usize = 8;

impl Sink for Cursor<'_> {
    #[inline(always)]
    fn extend_from_slice(&mut self, bytes: &[u8]) {
        let end = self.len + bytes.len();
        if let Some(dst) = self.buf.get_mut(self.len..end) {
            dst.copy_from_slice(bytes);
        }
        self.len = end;
    }
    #[inline(always)]
    fn push(&mut self, byte: u8) {
        self.buf[self.len % ENCODER_BYTES] = byte;
        self.len += 1;
    }
    #[inline(always)]
    fn put<const K: usize>(&mut self, bytes: [u8; K]) {
        const { assert!(K <= PUT_MAX) };
        let at = self.len % ENCODER_BYTES;
        self.buf[at..at + K].copy_from_slice(&bytes);
        self.len += K;
    }
}

/// A reusable buffer for encodings: a driver that fingerprints millions of states keeps one,
/// so that no state pays for a fresh buffer.
pub struct Encoder {
    buf: [u8; ENCODER_BYTES + PUT_MAX],
    long: Vec<u8>,
}

impl Default for Encoder {
    fn default() -> Self {
        Encoder {
            buf: [0; ENCODER_BYTES + PUT_MAX],
            long: Vec::new(),
        }
    }
}

impl Encoder {
    /// The encoding of `w` (the bytes [`World::encode`] returns).
    #[inline]
    pub fn encode(&mut self, w: &World) -> &[u8] {
        self.encode_segments(w, &mut [0; SEGMENTS])
    }

    /// The encoding of `w`, with where each [`Segment`] ends in it.
    #[inline]
    pub fn encode_segments(&mut self, w: &World, ends: &mut [usize; SEGMENTS]) -> &[u8] {
        let mut cursor = Cursor {
            buf: &mut self.buf,
            len: 0,
        };
        for (seg, end) in Segment::ALL.into_iter().zip(ends.iter_mut()) {
            w.encode_segment(seg, &mut cursor);
            *end = cursor.len;
        }
        let len = cursor.len;
        if len <= ENCODER_BYTES {
            &self.buf[..len]
        } else {
            self.long.clear();
            w.encode_into(&mut self.long);
            &self.long
        }
    }

    /// One segment of the encoding of `w`.
    #[inline]
    pub fn encode_segment(&mut self, w: &World, seg: Segment) -> &[u8] {
        self.encode_segment_as(w, &Same, seg)
    }
}

impl Encoder {
    /// One segment of the encoding of `w` renamed as `names` says
    /// ([`World::encode_segment_as`]).
    #[inline]
    pub fn encode_segment_as<N: Names>(&mut self, w: &World, names: &N, seg: Segment) -> &[u8] {
        let mut cursor = Cursor {
            buf: &mut self.buf,
            len: 0,
        };
        w.encode_segment_as(seg, names, &mut cursor);
        let len = cursor.len;
        if len <= ENCODER_BYTES {
            &self.buf[..len]
        } else {
            self.long.clear();
            w.encode_segment_as(seg, names, &mut self.long);
            &self.long
        }
    }
}

/// Hashes the encoding in one write: equal states have equal encodings, so this agrees with
/// `Eq`, and it is what the checker fingerprints.
impl Hash for World {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write(Encoder::default().encode(self));
    }
}

/// Where a [`Reader`] takes bytes from: the next byte, and how many were taken.
trait Input {
    fn byte(&mut self) -> Option<u8>;
    fn taken(&self) -> usize;
    /// Goes on reading at byte `at` of the encoding.
    fn seek(&mut self, at: usize);
}

/// An encoding of any length: every byte checked against the end.
struct Checked<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Input for Checked<'_> {
    #[inline]
    fn byte(&mut self) -> Option<u8> {
        let b = *self.bytes.get(self.at)?;
        self.at += 1;
        Some(b)
    }
    fn taken(&self) -> usize {
        self.at
    }
    fn seek(&mut self, at: usize) {
        self.at = at;
    }
}

/// Encodings shorter than this are decoded from a copy in a buffer of this size (a power of two).
const PADDED_BYTES: usize = 512;

/// A short encoding copied to the start of a buffer, read at the position modulo its size: no
/// byte needs a bounds check. Reading past the encoding yields whatever the buffer holds there
/// (zeros, or a longer encoding's bytes in a reused buffer) instead of an error, which the
/// decoder then sees in the bytes taken (more than the encoding's length: reads only move
/// forward, so one past the end makes the total too).
struct Padded<'a> {
    buf: &'a [u8; PADDED_BYTES],
    at: usize,
}

impl Input for Padded<'_> {
    #[inline]
    fn byte(&mut self) -> Option<u8> {
        let b = self.buf[self.at % PADDED_BYTES];
        self.at += 1;
        Some(b)
    }
    fn taken(&self) -> usize {
        self.at
    }
    fn seek(&mut self, at: usize) {
        self.at = at;
    }
}

/// Reads an encoding back: the encoding is lossless, so a search may keep states as their
/// encodings (a few dozen bytes) and decode them when it expands them.
struct Reader<I: Input> {
    input: I,
}

impl<I: Input> Reader<I> {
    #[inline]
    fn u8(&mut self) -> Option<u8> {
        self.input.byte()
    }
    #[inline]
    fn opt(&mut self) -> Option<Option<u8>> {
        Some(self.u8()?.checked_sub(1))
    }
    #[inline]
    fn op(&mut self) -> Option<Op> {
        let row = self.u8()?;
        Some(match self.u8()? {
            0 => Op::Incr { row },
            v => Op::Set { row, value: v - 1 },
        })
    }
    fn rows_into(&mut self, rows: &mut crate::Rows) -> Option<()> {
        rows.clear();
        for _ in 0..self.u8()? {
            rows.push(self.opt()?);
        }
        Some(())
    }
    fn slot(&mut self) -> Option<Slot> {
        Some(match self.u8()? {
            0 => Slot::Idle,
            1 => Slot::Open,
            2 => Slot::Queued,
            _ => return None,
        })
    }
    fn msg(&mut self) -> Option<Msg> {
        Some(match self.u8()? {
            0 => Msg::PushReq {
                tab: self.u8()?,
                group: self.u8()?,
                client: self.u8()?,
                user: self.opt()?,
                mutations: {
                    let mut list = crate::network::PushedList::new();
                    for _ in 0..self.u8()? {
                        list.push(Pushed {
                            client: self.u8()?,
                            mid: self.u8()?,
                            op: self.op()?,
                            serial: self.u8()?,
                        });
                    }
                    list
                },
            },
            1 => Msg::PushResp {
                tab: self.u8()?,
                client: self.u8()?,
                last_mutation_id: self.u8()?,
            },
            2 => Msg::PullReq {
                tab: self.u8()?,
                group: self.u8()?,
                client: self.u8()?,
                user: self.opt()?,
                cookie: self.opt()?,
                cookie_user: self.opt()?,
            },
            kind @ (3 | 4) => {
                let (tab, group, user) = (self.u8()?, self.u8()?, self.opt()?);
                let (base_cookie, base_user, cookie) = (self.opt()?, self.opt()?, self.u8()?);
                let to_client = self.opt()?;
                let mut rows = crate::network::PatchRows::new();
                for _ in 0..self.u8()? {
                    rows.push((self.u8()?, self.u8()?));
                }
                let mut last_mutation_ids = crate::network::Lmids::new();
                for _ in 0..self.u8()? {
                    last_mutation_ids.push((self.u8()?, self.u8()?));
                }
                Msg::PullResp {
                    tab,
                    group,
                    user,
                    base_cookie,
                    base_user,
                    cookie,
                    patch: if kind == 3 {
                        Patch::Reset(rows)
                    } else {
                        Patch::Tail(rows)
                    },
                    last_mutation_ids,
                    to_client,
                }
            }
            _ => return None,
        })
    }
}

/// Decodes a run of encodings into one state, reading only the segments whose bytes differ
/// from the previous encoding's: a segment's encoding delimits itself and decodes on its own,
/// so equal bytes mean the state already holds that segment. Consecutive states of a search
/// level share most parts (on `small`, with the one before: the server in 89% of states, the
/// installations in 77%, the history in 78%, the tabs in 33%, the network in 12%).
pub struct Decoder {
    world: World,
    /// The encoding `world` holds, and where its segments end; empty when `world` holds
    /// nothing usable (at first, and after an encoding that did not decode).
    bytes: Vec<u8>,
    ends: [usize; SEGMENTS],
    /// The buffer a short encoding is copied into, reused (see [`Padded`]).
    padded: [u8; PADDED_BYTES],
}

impl Default for Decoder {
    fn default() -> Self {
        Decoder {
            world: World::empty(),
            bytes: Vec::new(),
            ends: [0; SEGMENTS],
            padded: [0; PADDED_BYTES],
        }
    }
}

impl Decoder {
    /// Decodes `bytes`: the state, where its segments end, and a mask (bit `Segment as u8`) of
    /// the segments that were the previous encoding's. `None` if `bytes` is not a whole
    /// encoding.
    #[inline]
    pub fn decode(&mut self, bytes: &[u8]) -> Option<(&World, &[usize; SEGMENTS], u8)> {
        let Decoder {
            world,
            bytes: held,
            ends: held_ends,
            padded,
        } = self;
        let mut ends = [0; SEGMENTS];
        let mut same = 0u8;
        let whole = world.decode_skipping(
            bytes,
            &mut ends,
            |seg, from| {
                // The counters are six bytes: reading them costs less than comparing.
                if seg == Segment::Counters || held.is_empty() {
                    return None;
                }
                let k = seg as usize;
                let start = if k == 0 { 0 } else { held_ends[k - 1] };
                let end = from + (held_ends[k] - start);
                (bytes.get(from..end)? == &held[start..held_ends[k]]).then(|| {
                    same |= 1 << k;
                    end
                })
            },
            padded,
        );
        held.clear();
        if !whole {
            return None;
        }
        held.extend_from_slice(bytes);
        *held_ends = ends;
        Some((&self.world, &self.ends, same))
    }
}

/// A map or the network read back must come in the order the encoding writes it (ascending,
/// no key twice): anything else is not an encoding.
#[inline]
fn ascending(in_order: bool) -> Option<()> {
    in_order.then_some(())
}

impl World {
    /// The state whose encoding `bytes` is ([`World::encode`]'s inverse); `None` if `bytes` is
    /// not a whole encoding.
    pub fn decode(bytes: &[u8]) -> Option<World> {
        let mut world = World::empty();
        world.decode_from(bytes).then_some(world)
    }

    /// [`World::decode`] into `self`, reusing its collections: a driver that decodes millions
    /// of states keeps one, and no state is built up and then moved into place. False, with
    /// `self` holding an unspecified state, if `bytes` is not a whole encoding.
    pub fn decode_from(&mut self, bytes: &[u8]) -> bool {
        self.decode_segments(bytes, &mut [0; SEGMENTS])
    }

    /// [`World::decode_from`], also writing where each [`Segment`] of `bytes` ends.
    pub fn decode_segments(&mut self, bytes: &[u8], ends: &mut [usize; SEGMENTS]) -> bool {
        self.decode_skipping(bytes, ends, |_, _| None, &mut [0; PADDED_BYTES])
    }

    /// Decodes `bytes` segment by segment, except where `skip(segment, from)` answers with the
    /// end of a segment that `self` already holds (the bytes from `from` to that end are the
    /// encoding of `self`'s segment).
    #[inline]
    fn decode_skipping(
        &mut self,
        bytes: &[u8],
        ends: &mut [usize; SEGMENTS],
        skip: impl FnMut(Segment, usize) -> Option<usize>,
        buf: &mut [u8; PADDED_BYTES],
    ) -> bool {
        let taken = if bytes.len() < PADDED_BYTES {
            buf[..bytes.len()].copy_from_slice(bytes);
            let mut r = Reader {
                input: Padded { buf, at: 0 },
            };
            self.read_skipping(&mut r, ends, skip)
        } else {
            let mut r = Reader {
                input: Checked { bytes, at: 0 },
            };
            self.read_skipping(&mut r, ends, skip)
        };
        taken == Some(bytes.len())
    }

    /// A state with every collection empty, for [`World::decode_from`] to fill.
    fn empty() -> World {
        World {
            server: Tracked::new(Server {
                version: 0,
                rows: CopyVec::new(),
                clients: VecMap::new(),
                auth_ctx: VecMap::new(),
                served: VecMap::new(),
            }),
            installs: Tracked::default(),
            tabs: Tracked::default(),
            network: Tracked::default(),
            history: Tracked::default(),
            next_client: 0,
            resets: 0,
            drops: 0,
            duplicates: 0,
            auth_changes: 0,
        }
    }

    /// Reads a whole state into `self` but the segments `skip` answers for (see
    /// [`World::decode_skipping`]); returns where the encoding ended, which the caller checks.
    #[inline]
    fn read_skipping<I: Input>(
        &mut self,
        r: &mut Reader<I>,
        ends: &mut [usize; SEGMENTS],
        mut skip: impl FnMut(Segment, usize) -> Option<usize>,
    ) -> Option<usize> {
        let mut from = 0;
        for (seg, end) in Segment::ALL.into_iter().zip(ends.iter_mut()) {
            *end = match skip(seg, from) {
                Some(end) => end,
                None => {
                    r.input.seek(from);
                    self.read_segment(seg, r)?;
                    r.input.taken()
                }
            };
            from = *end;
        }
        Some(from)
    }

    /// Reads one segment into `self`, from the reader's position.
    #[inline]
    fn read_segment<I: Input>(&mut self, seg: Segment, r: &mut Reader<I>) -> Option<()> {
        match seg {
            Segment::Server => self.read_server(r),
            Segment::Installs => self.read_installs(r),
            Segment::Tabs => self.read_tabs(r),
            Segment::Network => self.read_network(r),
            Segment::History => self.read_history(r),
            Segment::Counters => {
                self.history.broken = r.u8()?;
                self.next_client = r.u8()?;
                self.resets = r.u8()?;
                self.drops = r.u8()?;
                self.duplicates = r.u8()?;
                self.auth_changes = r.u8()?;
                Some(())
            }
        }
    }

    #[inline]
    fn read_server<I: Input>(&mut self, r: &mut Reader<I>) -> Option<()> {
        let s = &mut self.server;
        s.version = r.u8()?;
        s.rows.clear();
        for _ in 0..r.u8()? {
            s.rows.push(ServerRow {
                value: r.opt()?,
                row_version: r.u8()?,
            });
        }
        s.clients.clear();
        for _ in 0..r.u8()? {
            ascending(s.clients.push_ascending((r.u8()?, r.u8()?), r.u8()?))?;
        }
        s.auth_ctx.clear();
        for _ in 0..r.u8()? {
            ascending(s.auth_ctx.push_ascending((r.u8()?, r.u8()?), r.opt()?))?;
        }
        s.served.clear();
        for _ in 0..r.u8()? {
            ascending(s.served.push_ascending(r.u8()?, r.u8()?))?;
        }
        Some(())
    }

    #[inline]
    fn read_installs<I: Input>(&mut self, r: &mut Reader<I>) -> Option<()> {
        let n = usize::from(r.u8()?);
        self.installs.truncate(n);
        while self.installs.len() < n {
            self.installs.push(Install::new(0, 0, None));
        }
        for inst in self.installs.iter_mut() {
            inst.group = r.u8()?;
            r.rows_into(&mut inst.base)?;
            (inst.cookie, inst.signed_in, inst.base_user) = (r.opt()?, r.opt()?, r.opt()?);
            inst.outbox.clear();
            for _ in 0..r.u8()? {
                let key = (r.u8()?, r.u8()?);
                let (op, serial) = (r.op()?, r.u8()?);
                ascending(inst.outbox.push_ascending(key, Entry { op, serial }))?;
            }
            inst.next_mid.clear();
            for _ in 0..r.u8()? {
                ascending(inst.next_mid.push_ascending(r.u8()?, r.u8()?))?;
            }
        }
        Some(())
    }

    #[inline]
    fn read_tabs<I: Input>(&mut self, r: &mut Reader<I>) -> Option<()> {
        let n = usize::from(r.u8()?);
        self.tabs.truncate(n);
        while self.tabs.len() < n {
            self.tabs.push(Tab {
                install: 0,
                client: 0,
                status: TabStatus::Open,
                view: CopyVec::new(),
                mem_mid: None,
                push: Slot::Idle,
                pull: Slot::Idle,
            });
        }
        for t in self.tabs.iter_mut() {
            (t.install, t.client) = (r.u8()?, r.u8()?);
            t.status = match r.u8()? {
                0 => TabStatus::Open,
                1 => TabStatus::Closed,
                2 => TabStatus::Restored,
                3 => TabStatus::ClosedBeforeLogin,
                _ => return None,
            };
            t.mem_mid = r.opt()?;
            (t.push, t.pull) = (r.slot()?, r.slot()?);
            r.rows_into(&mut t.view)?;
        }
        Some(())
    }

    #[inline]
    fn read_network<I: Input>(&mut self, r: &mut Reader<I>) -> Option<()> {
        self.network.clear();
        for _ in 0..r.u8()? {
            let copies = r.u8()?;
            ascending(self.network.push_ascending(r.msg()?, copies))?;
        }
        Some(())
    }

    #[inline]
    fn read_history<I: Input>(&mut self, r: &mut Reader<I>) -> Option<()> {
        let h = &mut self.history;
        h.created.clear();
        for _ in 0..r.u8()? {
            let (install, tab, group, client, mid, user) =
                (r.u8()?, r.u8()?, r.u8()?, r.u8()?, r.u8()?, r.opt()?);
            h.created.push(Created {
                install,
                tab,
                group,
                client,
                mid,
                op: r.op()?,
                user,
            });
        }
        h.processed.clear();
        for _ in 0..r.u8()? {
            h.processed.push(Processed {
                serial: r.u8()?,
                applied: r.u8()? != 0,
                user: r.opt()?,
            });
        }
        h.discarded.clear();
        for _ in 0..r.u8()? {
            h.discarded.push(r.u8()?);
        }
        h.wiped.clear();
        for _ in 0..r.u8()? {
            h.wiped.push(r.u8()?);
        }
        Some(())
    }
}

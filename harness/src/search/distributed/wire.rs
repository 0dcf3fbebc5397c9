//! What the timely workers send each other: one message type on one channel, routed to the
//! worker it names, one message per channel push (timely's exchange would hold up to a few
//! hundred messages per destination before it sends any: a level's successors would then
//! travel only after their sender finished the level).
//!
//! A batch of successors is an encoding in a byte buffer ([`put_edge`], [`edges`]), not a list
//! of allocated records: a few hundred thousand bytes travel as one message.

use serde::{Deserialize, Serialize};
use timely::communication::Push;
use timely::dataflow::channels::pact::DistributorPact;
use timely::dataflow::channels::pushers::exchange::Distributor;
use timely::dataflow::channels::{Message, Stamp};

/// Bytes that travel as one byte string (for bincode: a length and the bytes, written at
/// once), not as a sequence of `u8` values.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Bytes(pub Vec<u8>);

impl Serialize for Bytes {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(&self.0)
    }
}

impl<'de> Deserialize<'de> for Bytes {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visit;
        impl serde::de::Visitor<'_> for Visit {
            type Value = Bytes;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a byte string")
            }
            fn visit_bytes<E>(self, v: &[u8]) -> Result<Bytes, E> {
                Ok(Bytes(v.to_vec()))
            }
            fn visit_byte_buf<E>(self, v: Vec<u8>) -> Result<Bytes, E> {
                Ok(Bytes(v))
            }
        }
        d.deserialize_byte_buf(Visit)
    }
}

/// A message from worker `from` to worker `to`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Msg {
    pub to: u32,
    pub from: u32,
    pub body: Body,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub enum Body {
    /// Successors for the worker that owns them ([`put_edge`] records).
    Edges(Bytes),
    /// An owner's new states whose parents' ranks fall in the receiver's range: their keys,
    /// ascending (8 bytes each), with the owner's counts.
    Keys { stats: Stats, keys: Bytes },
    /// The answer to `Keys`: the rank of each key among every key of the range (8 bytes
    /// each, in the order of the keys), how many keys the range holds, and the properties
    /// decided anywhere so far, and whether any owner's checkpoint is due (then every worker
    /// checkpoints the level: all see the same answer).
    Ranks {
        count: u64,
        decided: u64,
        checkpoint: bool,
        /// Why every worker stops before expanding the level ([`Stop`] bits), or 0.
        stop: u8,
        ranks: Bytes,
    },
}

/// An owner's counts, sent with its keys each level: worker 0 prints the run's progress from
/// them, and every range worker tells every owner which properties are decided.
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize)]
pub struct Stats {
    pub generated: u64,
    pub unique: u64,
    /// New states of the level.
    pub new: u64,
    /// Properties decided (bit `p` for property `p`), on this level or before.
    pub decided: u64,
    /// `--checkpoint-every` has passed since the owner's last checkpoint.
    pub checkpoint_due: bool,
    /// The owner's own reasons to stop ([`Stop::TIMEOUT`], [`Stop::INTERRUPTED`]).
    pub stop: u8,
    /// The owner's process, and its resident memory.
    pub process: u32,
    pub rss: u64,
}

/// Why a run stops at a level boundary before it is complete, as bits: an owner's timeout or
/// Ctrl-C travels with its keys, and every range worker adds the state limit (from the
/// generated counts every owner sends) and answers every owner with the same bits.
pub struct Stop;

impl Stop {
    pub const TIMEOUT: u8 = 1;
    pub const INTERRUPTED: u8 = 2;
    pub const STATE_LIMIT: u8 = 4;
}

/// Routes each message to the worker it names, at once.
pub struct Route;

impl Distributor<Vec<Msg>> for Route {
    fn partition<T: Clone, P: Push<Message<T, Vec<Msg>>>>(
        &mut self,
        container: &mut Vec<Msg>,
        stamp: &Stamp<T>,
        pushers: &mut [P],
    ) {
        for m in container.drain(..) {
            let to = m.to as usize % pushers.len();
            Message::push_at(&mut vec![m], stamp.clone(), &mut pushers[to]);
        }
    }

    fn flush<T: Clone, P: Push<Message<T, Vec<Msg>>>>(&mut self, _: &Stamp<T>, _: &mut [P]) {}
}

/// The channel's contract: every message to the worker it names.
pub fn routed() -> DistributorPact<impl FnOnce(usize) -> Route> {
    DistributorPact(|_peers| Route)
}

/// A successor in a batch: its fingerprint, its key (the parent's rank << 16 | the action's
/// number), the parent's position in its owner's level (the sender owns the parent), the
/// action's kind, the properties it decides (bit per property), and its record (encoding,
/// and under symmetry its representative's segment hashes).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Edge<'a> {
    pub fp: u64,
    pub key: u64,
    pub parent: u32,
    pub kind: u8,
    pub hits: u64,
    pub record: &'a [u8],
}

/// Bit of the kind byte that says a property mask follows.
const HITS: u8 = 0x80;

/// Appends an edge whose record is `n` bytes long, which `write` appends.
#[inline]
pub fn put_edge(out: &mut Vec<u8>, e: &Edge<'_>, n: usize, write: impl FnOnce(&mut Vec<u8>)) {
    debug_assert!(e.kind < HITS && n <= usize::from(u16::MAX));
    out.extend_from_slice(&e.fp.to_le_bytes());
    out.extend_from_slice(&e.key.to_le_bytes());
    out.extend_from_slice(&e.parent.to_le_bytes());
    if e.hits == 0 {
        out.push(e.kind);
    } else {
        out.push(e.kind | HITS);
        out.extend_from_slice(&e.hits.to_le_bytes());
    }
    out.extend_from_slice(&(n as u16).to_le_bytes());
    let before = out.len();
    write(out);
    debug_assert_eq!(out.len() - before, n, "the record's announced length");
}

fn word<const N: usize>(b: &[u8], at: usize) -> [u8; N] {
    std::array::from_fn(|i| b[at + i])
}

/// The edges of a batch [`put_edge`] wrote, in order. A batch comes from another worker of
/// this run, which wrote whole edges only.
pub fn edges(batch: &[u8]) -> impl Iterator<Item = Edge<'_>> {
    let mut at = 0;
    std::iter::from_fn(move || {
        if at >= batch.len() {
            return None;
        }
        let fp = u64::from_le_bytes(word(batch, at));
        let key = u64::from_le_bytes(word(batch, at + 8));
        let parent = u32::from_le_bytes(word(batch, at + 16));
        let flagged = batch[at + 20];
        at += 21;
        let mut hits = 0;
        if flagged & HITS != 0 {
            hits = u64::from_le_bytes(word(batch, at));
            at += 8;
        }
        let n = usize::from(u16::from_le_bytes(word(batch, at)));
        at += 2;
        let record = &batch[at..at + n];
        at += n;
        Some(Edge {
            fp,
            key,
            parent,
            kind: flagged & !HITS,
            hits,
            record,
        })
    })
}

/// `values` as 8 little-endian bytes each.
pub fn pack(values: impl Iterator<Item = u64>) -> Bytes {
    Bytes(values.flat_map(u64::to_le_bytes).collect())
}

/// The values [`pack`] wrote.
pub fn unpack(bytes: &Bytes) -> impl Iterator<Item = u64> + '_ {
    bytes
        .0
        .chunks_exact(8)
        .map(|c| u64::from_le_bytes(word(c, 0)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edges_read_back_as_written() {
        let a = Edge {
            fp: 7,
            key: (3 << 16) | 2,
            parent: 9,
            kind: 4,
            hits: 0,
            record: b"abc",
        };
        let b = Edge {
            fp: u64::MAX,
            key: 1,
            parent: u32::MAX,
            kind: 0,
            hits: 1 << 40,
            record: b"",
        };
        let mut out = Vec::new();
        for e in [a, b] {
            put_edge(&mut out, &e, e.record.len(), |o| {
                o.extend_from_slice(e.record)
            });
        }
        assert_eq!(edges(&out).collect::<Vec<_>>(), vec![a, b]);
    }
}

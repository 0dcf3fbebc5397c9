//! The native engine's visited set: 64-bit fingerprints in one open-addressing table with linear
//! probing. A search is bound by this table's cache misses (one random access per generated
//! state), and a general hash set takes two (its control bytes, then the slot); here a probe
//! reads one slot and, on a collision, usually the next in the same cache line.

/// Marks an empty slot; a state whose fingerprint is 0 is stored as 1, which merges two of the
/// 2^64 fingerprints (one more collision chance in 2^64 per state: nothing beside the 64-bit
/// fingerprint's own ~n²/2^65).
const EMPTY: u64 = 0;

pub struct Fingerprints {
    slots: Vec<u64>,
    len: usize,
}

impl Default for Fingerprints {
    fn default() -> Self {
        Fingerprints {
            slots: vec![EMPTY; 1 << 16],
            len: 0,
        }
    }
}

impl Fingerprints {
    /// Fingerprints stored.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Asks the CPU to bring `fp`'s slot into the cache, ahead of an `insert`.
    #[inline]
    pub fn prefetch(&self, fp: u64) {
        #[cfg(target_arch = "x86_64")]
        {
            let i = slot(self.slots.len(), fp);
            // SAFETY: `i` is in bounds (`slot` returns an index below the length), and a
            // prefetch neither reads nor writes memory as far as the program can tell.
            #[allow(unused_unsafe)]
            unsafe {
                use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
                _mm_prefetch::<_MM_HINT_T0>(self.slots.as_ptr().add(i).cast());
            }
        }
        #[cfg(not(target_arch = "x86_64"))]
        let _ = fp;
    }

    /// Adds `fp`; false if it was there already.
    #[inline]
    pub fn insert(&mut self, fp: u64) -> bool {
        let fp = if fp == EMPTY { 1 } else { fp };
        // At most 3/4 full: an insert of a new fingerprint probes 8.5 slots on average at
        // that load, most of them in the first slot's cache line.
        if (self.len + 1) * 4 > self.slots.len() * 3 {
            self.grow();
        }
        if place(&mut self.slots, fp) {
            self.len += 1;
            true
        } else {
            false
        }
    }

    fn grow(&mut self) {
        let bigger = vec![EMPTY; self.slots.len() * 2];
        let old = std::mem::replace(&mut self.slots, bigger);
        for fp in old.into_iter().filter(|&fp| fp != EMPTY) {
            place(&mut self.slots, fp);
        }
    }
}

/// The first slot to probe for `fp` in a table of `len` (a power of two) slots: the
/// fingerprint is a hash already, so its high bits serve.
#[inline]
fn slot(len: usize, fp: u64) -> usize {
    let fp = if fp == EMPTY { 1 } else { fp };
    (fp >> (64 - len.trailing_zeros())) as usize
}

/// Puts `fp` in its slot or the first empty one after it; false if it is there already.
#[inline]
fn place(slots: &mut [u64], fp: u64) -> bool {
    let mask = slots.len() - 1;
    let mut i = slot(slots.len(), fp);
    loop {
        let s = slots[i];
        if s == EMPTY {
            slots[i] = fp;
            return true;
        }
        if s == fp {
            return false;
        }
        i = (i + 1) & mask;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stores_each_fingerprint_once_across_growth() {
        let mut set = Fingerprints::default();
        // Deterministic spread of values, 0 included (stored as 1, so 1 is then "seen").
        let values: Vec<u64> = (0..200_000u64)
            .map(|i| i.wrapping_mul(0x9e37_79b9_7f4a_7c15))
            .collect();
        for &v in &values {
            assert!(set.insert(v), "{v} is new");
        }
        assert_eq!(set.len(), values.len());
        for &v in &values {
            assert!(!set.insert(v), "{v} was stored");
        }
        assert!(!set.insert(1), "0 is stored as 1");
        assert!(set.insert(2));
        assert_eq!(set.len(), values.len() + 1);
        assert!(set.slots.len() * 3 >= set.len() * 4, "at most 3/4 full");
    }
}

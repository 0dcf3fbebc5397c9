//! Inline collections for the model's state. A state is cloned for every successor the checker
//! generates, and the model's vectors and maps hold a handful of small plain values: kept inline
//! (spilling to the heap only in configurations beyond the exhaustive presets) and copied with one
//! `memcpy`, they cost a fraction of `Vec`/`BTreeMap` clones (a heap allocation each, freed again
//! a moment later).

use smallvec::SmallVec;
use std::ops::{Deref, DerefMut, RangeInclusive};

/// A vector of plain values, inline up to `N`; cloning copies the used prefix in one go (a
/// `SmallVec` clones element by element).
#[derive(Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CopyVec<T: Copy, const N: usize>(SmallVec<[T; N]>);

impl<T: Copy, const N: usize> CopyVec<T, N> {
    pub fn new() -> Self {
        CopyVec(SmallVec::new())
    }

    pub fn from_elem(elem: T, n: usize) -> Self {
        CopyVec(SmallVec::from_elem(elem, n))
    }

    pub fn from_slice(items: &[T]) -> Self {
        CopyVec(SmallVec::from_slice(items))
    }
}

impl<T: Copy, const N: usize> Default for CopyVec<T, N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: Copy, const N: usize> Clone for CopyVec<T, N> {
    #[inline]
    fn clone(&self) -> Self {
        if self.0.spilled() {
            return CopyVec(SmallVec::from_slice(&self.0));
        }
        // SAFETY: an inline `SmallVec` of `Copy` items owns no heap memory (its length and its
        // elements are all it holds), so a bitwise copy is an independent, equal vector; the
        // unused slots are `MaybeUninit`, which a copy may carry uninitialized.
        unsafe { std::ptr::read(self) }
    }

    fn clone_from(&mut self, source: &Self) {
        self.0.clear();
        self.0.extend_from_slice(&source.0);
    }
}

/// `Clone` with a field-by-field `clone_from`, so that a driver overwriting a successor buffer
/// copies into the buffer's inline storage instead of building a whole value and moving it
/// (derived `clone_from` is `*self = source.clone()`). The struct literal in `clone` fails to
/// compile if a field is missing from the list.
#[macro_export]
macro_rules! fieldwise_clone {
    ($ty:ident { $($field:ident),* $(,)? }) => {
        impl Clone for $ty {
            fn clone(&self) -> Self {
                $ty { $($field: self.$field.clone()),* }
            }

            fn clone_from(&mut self, source: &Self) {
                $(self.$field.clone_from(&source.$field);)*
            }
        }

        // The same list as `clone`, whose struct literal proves it complete: a field whose
        // type has no `Inline` impl does not compile.
        impl $crate::vecmap::Inline for $ty {
            #[inline]
            fn is_inline(&self) -> bool {
                true $(&& $crate::vecmap::Inline::is_inline(&self.$field))*
            }
        }
    };
}

/// Whether a value owns no heap memory (every collection in it within its inline capacity).
/// A state for which this holds is plain bytes: [`crate::World::overwrite`] copies it in one
/// `memcpy`. Implemented only for the types a state is made of, field by field, so that a new
/// kind of field cannot slip past the check.
pub trait Inline {
    fn is_inline(&self) -> bool;
}

macro_rules! plain_inline {
    ($($t:ty),*) => {
        $(impl Inline for $t {
            #[inline]
            fn is_inline(&self) -> bool {
                true
            }
        })*
    };
}

plain_inline!(u8, bool, Option<u8>);

impl<T: Copy, const N: usize> Inline for CopyVec<T, N> {
    #[inline]
    fn is_inline(&self) -> bool {
        // `T: Copy` owns nothing, so only the vector's own storage can be on the heap.
        !self.0.spilled()
    }
}

impl<K: Copy, V: Copy, const N: usize> Inline for VecMap<K, V, N> {
    #[inline]
    fn is_inline(&self) -> bool {
        self.entries.is_inline()
    }
}

impl<T: Inline, const N: usize> Inline for SmallVec<[T; N]> {
    #[inline]
    fn is_inline(&self) -> bool {
        !self.spilled() && self.iter().all(Inline::is_inline)
    }
}

impl<A: Inline, B: Inline> Inline for (A, B) {
    #[inline]
    fn is_inline(&self) -> bool {
        self.0.is_inline() && self.1.is_inline()
    }
}

impl<T: Copy, const N: usize> Deref for CopyVec<T, N> {
    type Target = SmallVec<[T; N]>;
    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl<T: Copy, const N: usize> DerefMut for CopyVec<T, N> {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.0
    }
}

impl<T: Copy, const N: usize> FromIterator<T> for CopyVec<T, N> {
    fn from_iter<I: IntoIterator<Item = T>>(iter: I) -> Self {
        CopyVec(iter.into_iter().collect())
    }
}

impl<'a, T: Copy, const N: usize> IntoIterator for &'a CopyVec<T, N> {
    type Item = &'a T;
    type IntoIter = std::slice::Iter<'a, T>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

impl<T: Copy, const N: usize, const M: usize> PartialEq<[T; M]> for CopyVec<T, N>
where
    T: PartialEq,
{
    fn eq(&self, other: &[T; M]) -> bool {
        self.0[..] == other[..]
    }
}

impl<T: Copy + PartialEq, const N: usize> PartialEq<Vec<T>> for CopyVec<T, N> {
    fn eq(&self, other: &Vec<T>) -> bool {
        self.0[..] == other[..]
    }
}

impl<T: Copy, const N: usize> From<Vec<T>> for CopyVec<T, N> {
    fn from(items: Vec<T>) -> Self {
        CopyVec(SmallVec::from_vec(items))
    }
}

/// A small ordered map of plain keys and values, kept sorted by key so that equal maps are
/// equal (and hash alike) whatever order they were built in.
#[derive(Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct VecMap<K: Copy, V: Copy, const N: usize> {
    entries: CopyVec<(K, V), N>,
}

impl<K: Copy, V: Copy, const N: usize> Clone for VecMap<K, V, N> {
    fn clone(&self) -> Self {
        VecMap {
            entries: self.entries.clone(),
        }
    }

    fn clone_from(&mut self, source: &Self) {
        self.entries.clone_from(&source.entries);
    }
}

impl<K: Copy, V: Copy, const N: usize> Default for VecMap<K, V, N> {
    fn default() -> Self {
        VecMap {
            entries: CopyVec::new(),
        }
    }
}

impl<K: Ord + Copy, V: Copy, const N: usize> VecMap<K, V, N> {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    fn find(&self, key: &K) -> Result<usize, usize> {
        self.entries.binary_search_by(|(k, _)| k.cmp(key))
    }

    pub fn get(&self, key: &K) -> Option<&V> {
        self.find(key).ok().map(|i| &self.entries[i].1)
    }

    pub fn get_mut(&mut self, key: &K) -> Option<&mut V> {
        match self.find(key) {
            Ok(i) => Some(&mut self.entries[i].1),
            Err(_) => None,
        }
    }

    pub fn contains_key(&self, key: &K) -> bool {
        self.find(key).is_ok()
    }

    /// Inserts or replaces; returns the value replaced.
    pub fn insert(&mut self, key: K, value: V) -> Option<V> {
        match self.find(&key) {
            Ok(i) => Some(std::mem::replace(&mut self.entries[i].1, value)),
            Err(i) => {
                self.entries.insert(i, (key, value));
                None
            }
        }
    }

    /// Appends an entry whose key is greater than every key present (what a decoder reading a
    /// map in key order does, without searching); false, and nothing added, otherwise.
    pub fn push_ascending(&mut self, key: K, value: V) -> bool {
        if self.entries.last().is_some_and(|(last, _)| *last >= key) {
            return false;
        }
        self.entries.push((key, value));
        true
    }

    pub fn remove(&mut self, key: &K) -> Option<V> {
        self.find(key).ok().map(|i| self.entries.remove(i).1)
    }

    /// The value under `key`, inserted as `default` first if absent.
    pub fn get_or_insert(&mut self, key: K, default: V) -> &mut V {
        let i = match self.find(&key) {
            Ok(i) => i,
            Err(i) => {
                self.entries.insert(i, (key, default));
                i
            }
        };
        &mut self.entries[i].1
    }

    pub fn iter(&self) -> impl DoubleEndedIterator<Item = (&K, &V)> + ExactSizeIterator + Clone {
        self.entries.iter().map(|(k, v)| (k, v))
    }

    pub fn keys(&self) -> impl DoubleEndedIterator<Item = &K> + Clone {
        self.entries.iter().map(|(k, _)| k)
    }

    pub fn values(&self) -> impl DoubleEndedIterator<Item = &V> + Clone {
        self.entries.iter().map(|(_, v)| v)
    }

    /// Entries whose key lies in `range`, in key order.
    pub fn range(&self, range: RangeInclusive<K>) -> impl DoubleEndedIterator<Item = (&K, &V)> {
        let lo = self.entries.partition_point(|(k, _)| k < range.start());
        let hi = self.entries.partition_point(|(k, _)| k <= range.end());
        self.entries[lo..hi.max(lo)].iter().map(|(k, v)| (k, v))
    }

    pub fn retain(&mut self, mut keep: impl FnMut(&K, &mut V) -> bool) {
        self.entries.retain(|(k, v)| keep(k, v));
    }

    pub fn clear(&mut self) {
        self.entries.clear();
    }
}

impl<K: Ord + Copy, V: Copy, const N: usize> FromIterator<(K, V)> for VecMap<K, V, N> {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        let mut m = VecMap::new();
        for (k, v) in iter {
            m.insert(k, v);
        }
        m
    }
}

#[cfg(test)]
mod tests {
    use super::VecMap;

    #[test]
    fn behaves_like_an_ordered_map() {
        let mut m: VecMap<(u8, u8), char, 2> = VecMap::new();
        assert_eq!(m.insert((1, 2), 'a'), None);
        assert_eq!(m.insert((0, 5), 'b'), None);
        assert_eq!(m.insert((1, 1), 'c'), None);
        assert_eq!(m.insert((1, 2), 'd'), Some('a'));
        assert_eq!(
            m.keys().copied().collect::<Vec<_>>(),
            [(0, 5), (1, 1), (1, 2)]
        );
        assert_eq!(m.range((1, 0)..=(1, 255)).count(), 2);
        assert_eq!(m.range((2, 0)..=(2, 255)).count(), 0);
        assert_eq!(m.remove(&(0, 5)), Some('b'));
        *m.get_or_insert((3, 3), 'x') = 'y';
        assert_eq!(m.get(&(3, 3)), Some(&'y'));
        m.retain(|&(c, _), _| c != 1);
        assert_eq!(m.len(), 1);
        let a: VecMap<u8, u8, 2> = [(2, 0), (1, 0)].into_iter().collect();
        let b: VecMap<u8, u8, 2> = [(1, 0), (2, 0)].into_iter().collect();
        assert_eq!(a, b, "equal whatever the insertion order");
    }
}

//! A part of the state that remembers being changed. Every mutable access goes through
//! `DerefMut`, which marks the part, so the step function needs no bookkeeping of its own and a
//! new mutation cannot forget it: a driver clears the marks ([`crate::World::forget_changes`]),
//! applies an action, and re-encodes only the parts marked ([`crate::World::changes`]). A mark
//! may be spurious (a mutable borrow that changed nothing); a change is never unmarked.

use std::fmt;
use std::ops::{Deref, DerefMut};

pub struct Tracked<T> {
    value: T,
    changed: bool,
    /// Known to own no heap memory: set when the state was copied in one `memcpy` from a
    /// state found inline ([`crate::World::overwrite_from`]), cleared by any mutable borrow.
    /// It spares the copy that follows the walk over the collections.
    inline: bool,
}

impl<T> Tracked<T> {
    pub fn new(value: T) -> Self {
        Tracked {
            value,
            changed: false,
            inline: false,
        }
    }

    /// Records that the value owns no heap memory (the caller checked it).
    #[inline]
    pub(crate) fn known_inline(&mut self) {
        self.inline = true;
    }

    /// Whether the part was mutably borrowed since the marks were last cleared.
    #[inline]
    pub fn changed(&self) -> bool {
        self.changed
    }

    #[inline]
    pub fn forget_change(&mut self) {
        self.changed = false;
    }
}

impl<T> Deref for Tracked<T> {
    type Target = T;
    #[inline]
    fn deref(&self) -> &T {
        &self.value
    }
}

impl<T> DerefMut for Tracked<T> {
    #[inline]
    fn deref_mut(&mut self) -> &mut T {
        self.changed = true;
        self.inline = false;
        &mut self.value
    }
}

impl<T: Default> Default for Tracked<T> {
    fn default() -> Self {
        Tracked::new(T::default())
    }
}

impl<T: Clone> Clone for Tracked<T> {
    fn clone(&self) -> Self {
        Tracked::new(self.value.clone())
    }

    fn clone_from(&mut self, source: &Self) {
        self.value.clone_from(&source.value);
        self.changed = true;
        self.inline = false;
    }
}

/// The state's identity is its value: the mark is bookkeeping, not part of the state.
impl<T: PartialEq> PartialEq for Tracked<T> {
    fn eq(&self, other: &Self) -> bool {
        self.value == other.value
    }
}

impl<T: Eq> Eq for Tracked<T> {}

impl<T: fmt::Debug> fmt::Debug for Tracked<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.value.fmt(f)
    }
}

impl<T: crate::vecmap::Inline> crate::vecmap::Inline for Tracked<T> {
    #[inline]
    fn is_inline(&self) -> bool {
        self.inline || self.value.is_inline()
    }
}

#[cfg(test)]
mod tests {
    use super::Tracked;

    #[test]
    fn a_mutable_borrow_marks_and_a_read_does_not() {
        let mut t = Tracked::new(vec![1u8]);
        assert_eq!(t.len(), 1);
        assert!(!t.changed());
        t.push(2);
        assert!(t.changed());
        t.forget_change();
        assert!(!t.changed());
        assert_eq!(
            t,
            Tracked::new(vec![1, 2]),
            "equal by value, whatever the marks"
        );
    }
}

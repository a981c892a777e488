//! [`ScopeGuard`]: a [`StackArena`] scope that lasts as long as a value.
//!
//! The guard holds the arena's `&mut` borrow and lends only `&StackArena`,
//! so the blocks of the scope borrow the guard and die before it; its drop
//! restores the enclosing floor and rewinds. `unsafe` is allowed here for
//! those two cursor calls.
#![allow(unsafe_code)]

use core::fmt;
use core::ops::Deref;

use super::{offset_of, Mark, StackArena};
use crate::error::Error;

/// An open scope of a [`StackArena`], made by
/// [`StackArena::scope_guard`]: it dereferences to the arena, and when it
/// drops, everything allocated since it was made is freed.
///
/// While it lives, the arena is borrowed exclusively by the guard, so
/// only the guard can reach it; allocations borrow the guard, so they
/// cannot outlive it. Guards nest through
/// [`scope_guard`](ScopeGuard::scope_guard).
///
/// ```
/// let mut arena = anon_arena::StackArena::with_capacity(4096);
/// let mut outer = arena.scope_guard();
/// outer.alloc(1u64);
/// {
///     let inner = outer.scope_guard();
///     inner.alloc([0u64; 4]);
///     assert_eq!(inner.allocated_bytes(), 40);
/// }
/// assert_eq!(outer.allocated_bytes(), 8);
/// drop(outer);
/// assert_eq!(arena.allocated_bytes(), 0);
/// ```
///
/// The guard cannot be dropped or reset while something allocated in it is
/// borrowed:
///
/// ```compile_fail,E0502
/// let mut arena = anon_arena::StackArena::with_capacity(4096);
/// let mut scope = arena.scope_guard();
/// let x = scope.alloc(1u64);
/// scope.reset();
/// *x += 1;
/// ```
pub struct ScopeGuard<'a> {
    /// The arena, borrowed exclusively for the scope's life.
    arena: &'a mut StackArena,
    /// The stack height when the scope opened, in bytes: where its
    /// allocations begin and what drop rewinds to. The cursor's floor while
    /// this is the innermost guard; `outer_floor <= start <= floor`.
    start: usize,
    /// The enclosing scope's floor, restored on drop, in bytes.
    outer_floor: usize,
}

impl<'a> ScopeGuard<'a> {
    /// Opens a scope at the arena's current top.
    #[inline]
    pub(super) fn open(arena: &'a mut StackArena) -> Self {
        let cursor = arena.cursor();
        let start = arena.allocated_bytes();
        let outer_floor = offset_of(cursor, cursor.floor());
        // SAFETY: the new floor is `pos` itself.
        unsafe { cursor.set_floor(cursor.pos()) };
        let guard = ScopeGuard {
            arena,
            start,
            outer_floor,
        };
        guard.debug_assert_invariants();
        guard
    }

    /// Frees everything allocated in this scope so far; the scope stays
    /// open.
    ///
    /// ```
    /// let mut arena = anon_arena::StackArena::with_capacity(4096);
    /// arena.alloc(1u64);
    /// let mut scope = arena.scope_guard();
    /// for round in 0..3 {
    ///     scope.alloc_slice_fill_copy(10, round);
    ///     scope.reset();
    ///     assert_eq!(scope.allocated_bytes(), 8);
    /// }
    /// ```
    pub fn reset(&mut self) {
        let start = self.arena.position(self.start);
        let cursor = self.arena.cursor();
        // SAFETY: `start <= floor <= pos` (the invariant on `start`), so
        // lowering the floor to `start` keeps `floor <= pos`, and then
        // `floor == start <= pos` for the rewind. `&mut self` proves no
        // block allocated in the scope is still borrowed.
        unsafe {
            cursor.set_floor(start);
            cursor.rewind(start);
        }
        self.debug_assert_invariants();
    }

    /// [`StackArena::reset_to`] inside this scope: marks taken before the
    /// scope opened are refused.
    ///
    /// # Panics
    ///
    /// When `mark` is refused; the message says why.
    ///
    /// ```
    /// let mut arena = anon_arena::StackArena::with_capacity(4096);
    /// let mut scope = arena.scope_guard();
    /// scope.alloc(1u64);
    /// let mark = scope.mark();
    /// scope.alloc(2u64);
    /// scope.reset_to(mark);
    /// assert_eq!(scope.allocated_bytes(), 8);
    /// ```
    #[track_caller]
    pub fn reset_to(&mut self, mark: Mark) {
        self.arena.reset_to(mark);
    }

    /// [`StackArena::try_reset_to`] inside this scope.
    ///
    /// # Errors
    ///
    /// As for [`StackArena::try_reset_to`]; a mark taken before the scope
    /// opened is [`Error::MarkOutOfRange`].
    ///
    /// ```
    /// use anon_arena::{Error, StackArena};
    /// let mut arena = StackArena::with_capacity(4096);
    /// let before = arena.mark();
    /// arena.alloc(1u64);
    /// let mut scope = arena.scope_guard();
    /// assert_eq!(
    ///     scope.try_reset_to(before),
    ///     Err(Error::MarkOutOfRange { mark: 0, floor: 8, top: 8 })
    /// );
    /// ```
    pub fn try_reset_to(&mut self, mark: Mark) -> Result<(), Error> {
        self.arena.try_reset_to(mark)
    }

    /// [`StackArena::scope`], nested in this scope.
    ///
    /// ```
    /// let mut arena = anon_arena::StackArena::with_capacity(4096);
    /// let mut scope = arena.scope_guard();
    /// scope.alloc(1u64);
    /// let n = scope.scope(|inner| *inner.alloc(2u64));
    /// assert_eq!((n, scope.allocated_bytes()), (2, 8));
    /// ```
    #[inline]
    pub fn scope<R>(&mut self, f: impl FnOnce(&StackArena) -> R) -> R {
        self.arena.scope(f)
    }

    /// [`StackArena::scope_guard`], nested in this scope.
    ///
    /// ```
    /// let mut arena = anon_arena::StackArena::with_capacity(4096);
    /// let mut outer = arena.scope_guard();
    /// let inner = outer.scope_guard();
    /// inner.alloc(1u64);
    /// drop(inner);
    /// assert_eq!(outer.allocated_bytes(), 0);
    /// ```
    #[must_use = "the scope ends (and frees its allocations) when the guard drops"]
    #[inline]
    pub fn scope_guard(&mut self) -> ScopeGuard<'_> {
        self.arena.scope_guard()
    }

    /// Checks the invariants written on the fields (debug builds only).
    #[inline]
    fn debug_assert_invariants(&self) {
        let cursor = self.arena.cursor();
        cursor.debug_assert_invariants();
        debug_assert!(
            self.outer_floor <= self.start && self.start <= offset_of(cursor, cursor.floor()),
            "scope guard bounds broken"
        );
    }
}

impl Deref for ScopeGuard<'_> {
    type Target = StackArena;

    #[inline(always)]
    fn deref(&self) -> &StackArena {
        self.arena
    }
}

impl Drop for ScopeGuard<'_> {
    #[inline]
    fn drop(&mut self) {
        self.debug_assert_invariants();
        let outer_floor = self.arena.position(self.outer_floor);
        let start = self.arena.position(self.start);
        let cursor = self.arena.cursor();
        // SAFETY: `outer_floor <= start <= floor <= pos` (the invariants on
        // the fields), so the outer floor is a valid floor, and afterwards
        // `floor <= start <= pos` for the rewind. Both positions came from
        // `pos` and are 8-aligned. `&mut self` proves nothing allocated in
        // the scope is still borrowed.
        unsafe {
            cursor.set_floor(outer_floor);
            cursor.rewind(start);
        }
    }
}

impl fmt::Debug for ScopeGuard<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ScopeGuard")
            .field("start", &self.start)
            .field("arena", &self.arena)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::super::offset_of;
    use crate::StackArena;

    #[test]
    fn a_scope_sets_and_restores_the_floor() {
        let mut arena = StackArena::with_capacity(4096);
        arena.alloc(1u64);
        let start = arena.cursor().start();
        assert_eq!(arena.cursor().floor(), start);
        {
            let mut outer = arena.scope_guard();
            assert_eq!(offset_of(outer.cursor(), outer.cursor().floor()), 8);
            outer.alloc(2u64);
            let inner = outer.scope_guard();
            assert_eq!(offset_of(inner.cursor(), inner.cursor().floor()), 16);
            drop(inner);
            assert_eq!(offset_of(outer.cursor(), outer.cursor().floor()), 8);
        }
        assert_eq!(arena.cursor().floor(), start);
        assert_eq!(arena.allocated_bytes(), 8);
    }

    #[test]
    fn a_forgotten_inner_guard_is_closed_by_the_outer_one() {
        let mut arena = StackArena::with_capacity(4096);
        {
            let mut outer = arena.scope_guard();
            outer.alloc(1u64);
            let inner = outer.scope_guard();
            inner.alloc(2u64);
            core::mem::forget(inner);
            assert_eq!(offset_of(outer.cursor(), outer.cursor().floor()), 8);
            outer.reset();
            assert_eq!(outer.allocated_bytes(), 0);
            assert_eq!(outer.cursor().floor(), outer.cursor().start());
            outer.alloc(3u64);
            core::mem::forget(outer.scope_guard());
        }
        assert_eq!(arena.allocated_bytes(), 0);
        assert_eq!(arena.cursor().floor(), arena.cursor().start());
    }
}

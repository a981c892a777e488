//! [`ScopeGuard`]: a [`StackArena`] scope that lasts as long as a value,
//! and the [`Frame`] bookkeeping it shares with [`Scope`].
//!
//! The guard holds the arena's `&mut` borrow and lends only `&StackArena`,
//! so the blocks of the scope borrow the guard and die before it; its drop
//! restores the enclosing floor and rewinds. `unsafe` is allowed here for
//! those two cursor calls and for the `Allocator` glue.
#![allow(unsafe_code)]

use core::fmt;
use core::ops::Deref;

use super::{offset_of, Mark, Scope, StackArena};
use crate::error::Error;

/// One open scope's bookkeeping, in bytes from the arena's start: where it
/// began and the enclosing scope's floor. Opening sets the cursor's floor
/// to the top; closing restores the outer floor and rewinds.
#[derive(Clone, Copy, Debug)]
pub(super) struct Frame {
    /// The stack height when the scope opened: where its allocations begin
    /// and what closing rewinds to. The cursor's floor while this is the
    /// innermost scope; `outer_floor <= start <= floor`.
    start: usize,
    /// The enclosing scope's floor, restored on close.
    outer_floor: usize,
}

impl Frame {
    /// Opens a scope at `arena`'s current top.
    #[inline]
    pub(super) fn open(arena: &StackArena) -> Frame {
        let cursor = arena.cursor();
        let frame = Frame {
            start: arena.allocated_bytes(),
            outer_floor: offset_of(cursor, cursor.floor()),
        };
        // SAFETY: the new floor is `pos` itself.
        unsafe { cursor.set_floor(cursor.pos()) };
        frame.debug_assert_invariants(arena);
        frame
    }

    /// Frees everything allocated in the scope; it stays open.
    ///
    /// # Safety
    ///
    /// * No block allocated in the scope is used again, and every scope
    ///   opened inside it is closed (or forgotten).
    #[inline]
    pub(super) unsafe fn reset(&self, arena: &StackArena) {
        let start = arena.position(self.start);
        let cursor = arena.cursor();
        // SAFETY: `start <= floor <= pos` (the invariant on `start`), so
        // lowering the floor to `start` keeps `floor <= pos`, and then
        // `floor == start <= pos` for the rewind; nothing above is live
        // (the caller's promise).
        unsafe {
            cursor.set_floor(start);
            cursor.rewind(start);
        }
        self.debug_assert_invariants(arena);
    }

    /// Closes the scope: restores the enclosing floor and frees
    /// everything allocated in it.
    ///
    /// # Safety
    ///
    /// * As for [`reset`](Self::reset); the frame is not used again.
    #[inline]
    pub(super) unsafe fn close(&self, arena: &StackArena) {
        self.debug_assert_invariants(arena);
        let outer_floor = arena.position(self.outer_floor);
        let start = arena.position(self.start);
        let cursor = arena.cursor();
        // SAFETY: `outer_floor <= start <= floor <= pos` (the invariants on
        // the fields), so the outer floor is a valid floor, and afterwards
        // `floor <= start <= pos` for the rewind. Both positions came from
        // `pos` and are 8-aligned; nothing above `start` is live (the
        // caller's promise).
        unsafe {
            cursor.set_floor(outer_floor);
            cursor.rewind(start);
        }
    }

    /// Checks the invariants written on the fields (debug builds only).
    #[inline]
    fn debug_assert_invariants(&self, arena: &StackArena) {
        let cursor = arena.cursor();
        cursor.debug_assert_invariants();
        debug_assert!(
            self.outer_floor <= self.start && self.start <= offset_of(cursor, cursor.floor()),
            "scope bounds broken"
        );
    }
}

/// An open scope of a [`StackArena`], made by
/// [`StackArena::scope_guard`]: it dereferences to the arena, and when it
/// drops, everything allocated since it was made is freed.
///
/// While it lives, the arena is borrowed exclusively by the guard, so
/// only the guard can reach it; allocations borrow the guard, so they
/// cannot outlive it. Guards nest through
/// [`scope_guard`](ScopeGuard::scope_guard), and `&ScopeGuard` is an
/// [`Allocator`](allocator_api2::alloc::Allocator) for the scope.
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
    /// Where the scope starts, and the floor to restore on drop.
    frame: Frame,
}

impl<'a> ScopeGuard<'a> {
    /// Opens a scope at the arena's current top.
    #[inline]
    pub(super) fn open(arena: &'a mut StackArena) -> Self {
        let frame = Frame::open(arena);
        ScopeGuard { arena, frame }
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
        // SAFETY: `&mut self` proves no block allocated in the scope is
        // still borrowed, and no scope opened from this guard is open.
        unsafe { self.frame.reset(self.arena) }
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
    pub fn scope<R>(&mut self, f: impl FnOnce(Scope<'_>) -> R) -> R {
        self.arena.scope(f)
    }

    /// This scope as a [`Scope`] handle, whose allocations live as long as
    /// the guard is borrowed (rather than as long as each call's borrow),
    /// so they can be kept across the nested scopes it opens.
    ///
    /// ```
    /// let mut arena = anon_arena::StackArena::with_capacity(4096);
    /// let mut guard = arena.scope_guard();
    /// let mut scope = guard.as_scope();
    /// let total = scope.alloc(0u64);
    /// scope.scope(|inner| *total = inner.alloc_slice_fill_copy(4, 5u64).iter().sum());
    /// assert_eq!(*total, 20);
    /// ```
    #[inline]
    pub fn as_scope(&mut self) -> Scope<'_> {
        Scope::over(self.arena)
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
        // SAFETY: `&mut self` proves nothing allocated in the scope is
        // still borrowed, and no scope opened from this guard is open.
        unsafe { self.frame.close(self.arena) }
    }
}

impl fmt::Debug for ScopeGuard<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ScopeGuard")
            .field("frame", &self.frame)
            .field("arena", &self.arena)
            .finish()
    }
}

stack_allocator!(['h, 'a] &'h ScopeGuard<'a>, "StackArena");

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

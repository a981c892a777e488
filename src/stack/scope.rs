//! [`Scope`]: the handle [`StackArena::scope`] passes to its closure,
//! which allocates for the whole scope and opens nested scopes.
//!
//! A `Scope<'s>` lends `&'s` references (not borrows of the handle), so
//! what a scope allocated stays usable while it opens nested scopes. That
//! is sound because a nested scope needs `&mut` to the handle, so nothing
//! else allocates through it while the inner scope is open, and the inner
//! closure is generic over its own lifetime, so nothing allocated inside
//! can leave it. `unsafe` is allowed here for closing a nested scope and
//! for the `Allocator` glue.
#![allow(unsafe_code)]

use core::alloc::Layout;
use core::fmt;
use core::ops::Deref;
use core::ptr::NonNull;

use super::guard::Frame;
use super::StackArena;
use crate::alloc_methods::alloc_methods;
use crate::error::Error;
use crate::raw::RawAllocator;

/// An open scope of a [`StackArena`], handed to the closure of
/// [`StackArena::scope`] (or made by [`StackArena::as_scope`]): it
/// allocates (`alloc`, `alloc_str`, `alloc_slice_*`, their `try_` forms,
/// and `Allocator` for `&Scope`) and opens nested scopes with
/// [`scope`](Scope::scope). What it allocates lives until the scope ends,
/// and stays usable while nested scopes come and go; what a nested scope
/// allocates is freed when its closure returns. It dereferences to the
/// arena for the statistics and [`mark`](StackArena::mark).
///
/// ```
/// let mut arena = anon_arena::StackArena::with_capacity(1 << 16);
/// let sum = arena.scope(|mut outer| {
///     let totals = outer.alloc_slice_fill_copy(3, 0u64);
///     for (round, total) in totals.iter_mut().enumerate() {
///         // Scratch space, freed at the end of each round.
///         *total = outer.scope(|inner| {
///             inner.alloc_slice_fill_with(100, |i| (i * round) as u64).iter().sum()
///         });
///     }
///     assert_eq!(outer.allocated_bytes(), 24, "only the totals are left");
///     totals.iter().sum::<u64>()
/// });
/// assert_eq!(sum, 3 * 4950);
/// assert_eq!(arena.allocated_bytes(), 0);
/// ```
///
/// A reference from an inner scope cannot escape to the outer one:
///
/// ```compile_fail
/// let mut arena = anon_arena::StackArena::with_capacity(4096);
/// arena.scope(|mut outer| {
///     let escaped: &mut u64 = outer.scope(|inner| inner.alloc(1u64));
///     *escaped += 1;
/// });
/// ```
///
/// and the outer scope cannot allocate while the inner one is open:
///
/// ```compile_fail,E0502
/// let mut arena = anon_arena::StackArena::with_capacity(4096);
/// arena.scope(|mut outer| {
///     outer.scope(|inner| {
///         inner.alloc(1u64);
///         outer.alloc(2u64);
///     });
/// });
/// ```
///
/// nor can a collection that allocates through it stay alive across an
/// inner scope:
///
/// ```compile_fail,E0502
/// use anon_arena::allocator_api2::vec::Vec;
/// let mut arena = anon_arena::StackArena::with_capacity(4096);
/// arena.scope(|mut outer| {
///     let mut v = Vec::new_in(&outer);
///     v.push(1u64);
///     outer.scope(|inner| *inner.alloc(2u64));
///     v.push(3);
/// });
/// ```
pub struct Scope<'s> {
    /// The arena; the cursor's floor is at or below this scope's start.
    /// Allocation through it lives for `'s`: no reset can happen before
    /// `'s` ends (the arena is borrowed exclusively by whoever made the
    /// handle), and the nested scopes this handle opens rewind only to
    /// their own start.
    arena: &'s StackArena,
}

impl<'s> Scope<'s> {
    /// A handle on `arena`, which the caller has borrowed exclusively for
    /// `'s` (a scope's closure, or `&mut StackArena`).
    #[inline]
    pub(super) fn over(arena: &'s StackArena) -> Scope<'s> {
        Scope { arena }
    }

    /// Runs `f` in a nested scope: everything `f` allocates is freed when
    /// it returns or unwinds, and what this scope allocated stays.
    ///
    /// ```
    /// let mut arena = anon_arena::StackArena::with_capacity(4096);
    /// let mut scope = arena.as_scope();
    /// let kept = scope.alloc_str("kept");
    /// let len = scope.scope(|inner| inner.alloc_str("scratch").len());
    /// assert_eq!((len, &*kept), (7, "kept"));
    /// assert_eq!(scope.allocated_bytes(), 8);
    /// ```
    #[inline]
    pub fn scope<R>(&mut self, f: impl FnOnce(Scope<'_>) -> R) -> R {
        let open = Open {
            arena: self.arena,
            frame: Frame::open(self.arena),
        };
        f(Scope::over(open.arena))
    }

    #[inline(always)]
    fn raw_alloc(&self, layout: Layout) -> Option<NonNull<u8>> {
        self.arena.cursor().allocate(layout)
    }

    #[cold]
    #[inline(never)]
    fn alloc_error(&self, layout: Layout) -> Error {
        self.arena.cursor().exhausted(layout)
    }
}

/// A nested scope while its closure runs; closes it on drop, so also when
/// the closure unwinds.
struct Open<'s> {
    arena: &'s StackArena,
    frame: Frame,
}

impl Drop for Open<'_> {
    #[inline]
    fn drop(&mut self) {
        // SAFETY: the closure has returned or unwound: the references it
        // was lent had its own lifetime and are dead, the collections it
        // made borrowed its handle and are gone, and the scopes it opened
        // were closed by their own `Open` (or guard) first.
        unsafe { self.frame.close(self.arena) }
    }
}

// The examples allocate through a handle on a whole arena.
alloc_methods!(
    Scope<'s>,
    "anon_arena::StackArena::with_capacity(1 << 20); let mut stack = arena; let arena = stack.as_scope()"
);

impl Deref for Scope<'_> {
    type Target = StackArena;

    #[inline(always)]
    fn deref(&self) -> &StackArena {
        self.arena
    }
}

impl fmt::Debug for Scope<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Scope").field("arena", &self.arena).finish()
    }
}

// A nested scope, which would rewind over a `&Scope`'s blocks, needs
// `&mut` to the handle.
stack_allocator!(['h, 's] &'h Scope<'s>, "Scope");

//! [`StackArena`]: an [`Arena`] with a last-in-first-out discipline —
//! [`Mark`]s to rewind to, and scopes ([`StackArena::scope`] and its
//! [`Scope`] handle, [`ScopeGuard`]) that free what they allocated when
//! they end.
//!
//! Everything here is a thin layer over the arena's [`RawCursor`]: its
//! `floor` is the start of the innermost open scope, so nothing allocated
//! before a scope can be popped, shrunk or grown in place from inside it.
//! Rewinding is sound because it needs `&mut StackArena` (or `&mut` to the
//! scope's guard), which proves every block above the target is dead: each
//! reference from `alloc*` and each collection using `&StackArena` as its
//! allocator borrows the arena shared.
//!
//! `unsafe` is allowed here for those rewinds and for turning a checked byte
//! offset back into a pointer inside the mapping.
#![allow(unsafe_code)]

use core::alloc::Layout;
use core::fmt;
use core::panic::{RefUnwindSafe, UnwindSafe};
use core::ptr::NonNull;
use core::sync::atomic::{AtomicUsize, Ordering};

use crate::alloc_methods::alloc_methods;
use crate::arena::Arena;
use crate::arena_constructors::arena_constructors;
use crate::builder::Builder;
use crate::error::Error;
use crate::mapped::Mapped;
use crate::raw::{RawAllocator, RawCursor};
use crate::stats::Stats;

/// Makes `$self_ty`, a reference to something that dereferences to a
/// `StackArena` (the arena, a guard, a scope handle), an `Allocator` over
/// the arena's cursor, and `ReportsRemaining`; panic messages under
/// `Exhausted::Panic` name it `$name`.
///
/// Blocks live until the arena is reset or released, a `reset_to`, or the
/// end of the scope they were allocated in: each needs `&mut` to the arena,
/// the guard or the scope handle, which no shared borrow of it outlives.
macro_rules! stack_allocator {
    ([$($generics:tt)*] $self_ty:ty, $name:literal) => {
        impl<$($generics)*> $crate::alloc_api::AsRaw for $self_ty {
            type Raw = $crate::raw::RawCursor;
            #[inline(always)]
            fn as_raw(&self) -> &$crate::raw::RawCursor {
                self.cursor()
            }
            #[inline]
            fn refuse(&self, layout: core::alloc::Layout) {
                self.refuse_as($name, layout);
            }
        }

        $crate::alloc_api::impl_allocator!([$($generics)*] $self_ty);

        impl<$($generics)*> $crate::collections::ReportsRemaining for $self_ty {
            #[inline]
            fn remaining_bytes(&self) -> Option<usize> {
                Some(self.remaining())
            }
        }
    };
}

mod guard;
mod scope;

pub use guard::ScopeGuard;
pub use scope::Scope;

/// A bump allocator that also frees in last-in-first-out order: freeing the
/// newest block pops it, resizing the newest block happens in place, and
/// [`mark`](StackArena::mark)/[`reset_to`](StackArena::reset_to) and
/// [`scope`](StackArena::scope) free everything allocated after a point.
///
/// It has everything [`Arena`] has (constructors, builder, the `alloc*`
/// methods, `reset`, `release`, the statistics, `Allocator for
/// &StackArena`), over the same single anonymous mapping. Values allocated
/// with `alloc*` are never dropped; collections using the arena through
/// [`Allocator`](allocator_api2::alloc::Allocator) drop their contents as
/// usual.
///
/// A vector pushed at the top of the stack grows in place and never
/// copies, and one built and dropped inside a scope leaves the arena as it
/// found it:
///
/// ```
/// use allocator_api2::vec::Vec;
/// use anon_arena::StackArena;
///
/// let mut arena = StackArena::with_capacity(1 << 20);
/// let header = arena.alloc_str("header");
/// let before = arena.allocated_bytes();
/// let total = arena.scope(|scratch| {
///     let mut v: Vec<u64, _> = Vec::with_capacity_in(1, &scratch);
///     let first = v.as_ptr();
///     v.extend(1..=1000);
///     assert_eq!(v.as_ptr(), first, "grown in place");
///     v.iter().sum::<u64>()
/// });
/// assert_eq!(total, 500_500);
/// assert_eq!(arena.allocated_bytes(), before);
/// ```
///
/// Like `Arena`, it can move to another thread but not be shared:
///
/// ```compile_fail,E0277
/// fn shared<T: Sync>(_: T) {}
/// shared(anon_arena::StackArena::new());
/// ```
pub struct StackArena {
    /// The mapping and its cursor. The cursor's floor is the start of the
    /// innermost open scope, or the arena's start when none is open (or a
    /// forgotten guard's start, until the next `reset`).
    arena: Arena,
    /// Stamped into every [`Mark`] this arena hands out; unique among the
    /// arenas of the process. A counter rather than the mapping's address,
    /// so an arena mapped where a dropped one was does not accept its marks.
    id: usize,
}

// As for `Arena`: a panic cannot leave the cursor half-updated, and a scope
// or guard that unwinds closes on the way out (their drops run).
impl UnwindSafe for StackArena {}
impl RefUnwindSafe for StackArena {}

/// The next [`StackArena::id`]. On 64-bit targets it cannot wrap; on 32-bit
/// ones it would after 2³² arenas, and a mark of an arena that long dead
/// is still bounds-checked, so a wrap costs a diagnostic, never soundness.
static NEXT_ID: AtomicUsize = AtomicUsize::new(1);

/// A position in one [`StackArena`], taken by [`StackArena::mark`]: a
/// [`reset_to`](StackArena::reset_to) with it frees everything allocated
/// after it. `Copy`, and holds no borrow of the arena.
///
/// A mark is checked, never trusted: one from another arena, one above the
/// current top (its space was freed since) and one below the open scope's
/// start are refused. A mark whose space was freed and then allocated again
/// is a position like any other; rewinding to it is sound (`reset_to` needs
/// `&mut`, so nothing above it is borrowed) but frees whatever is there now.
///
/// ```
/// let mut arena = anon_arena::StackArena::with_capacity(4096);
/// let mark = arena.mark();
/// arena.alloc([0u8; 100]);
/// arena.reset_to(mark);
/// assert_eq!(arena.allocated_bytes(), mark.allocated_bytes());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Mark {
    /// The id of the arena that made it.
    arena: usize,
    /// Bytes from the arena's start; a multiple of `MIN_ALIGN`.
    offset: usize,
}

impl Mark {
    /// The arena's [`allocated_bytes`](StackArena::allocated_bytes) when the
    /// mark was taken, which is what it becomes again after
    /// [`reset_to`](StackArena::reset_to) this mark.
    ///
    /// ```
    /// let arena = anon_arena::StackArena::with_capacity(4096);
    /// arena.alloc(1u32);
    /// assert_eq!(arena.mark().allocated_bytes(), 8);
    /// ```
    #[must_use]
    #[inline]
    pub fn allocated_bytes(self) -> usize {
        self.offset
    }
}

impl StackArena {
    fn from_mapped(mapped: Mapped<RawCursor>) -> StackArena {
        StackArena {
            arena: Arena::from_mapped(mapped),
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
        }
    }

    fn into_mapped(self) -> Mapped<RawCursor> {
        self.arena.into_mapped()
    }

    /// The arena underneath, for freezing.
    pub(crate) fn arena_mut(&mut self) -> &mut Arena {
        &mut self.arena
    }

    /// Frees every allocation at once, in O(1), and closes any scope whose
    /// guard was forgotten; the pages stay committed for reuse.
    ///
    /// ```
    /// let mut arena = anon_arena::StackArena::with_capacity(4096);
    /// let first = arena.alloc(1u64) as *mut u64;
    /// arena.reset();
    /// assert_eq!(arena.alloc(2u64) as *mut u64, first);
    /// ```
    pub fn reset(&mut self) {
        self.arena.reset();
    }

    /// Resets the arena and hands every page it touched back to the OS
    /// (`madvise(MADV_DONTNEED)`), as [`Arena::release`] does.
    ///
    /// ```
    /// let mut arena = anon_arena::StackArena::with_capacity(1 << 20);
    /// arena.alloc_slice_fill_copy(100_000, 0xFFu8);
    /// arena.release();
    /// assert_eq!(arena.allocated_bytes(), 0);
    /// assert!(arena.alloc_slice_fill_default::<u8>(100_000).iter().all(|&b| b == 0));
    /// ```
    pub fn release(&mut self) {
        self.arena.release();
    }

    /// Bytes allocated and not yet freed, alignment padding included: the
    /// height of the stack. Popping, [`reset_to`](StackArena::reset_to) and
    /// the end of a scope bring it back to its earlier value.
    ///
    /// ```
    /// use allocator_api2::boxed::Box;
    /// let arena = anon_arena::StackArena::with_capacity(4096);
    /// arena.alloc(1u8);
    /// assert_eq!(arena.allocated_bytes(), 8); // every block is 8-byte aligned
    /// drop(Box::new_in([0u64; 4], &arena)); // the newest block pops
    /// assert_eq!(arena.allocated_bytes(), 8);
    /// ```
    #[must_use]
    #[inline]
    pub fn allocated_bytes(&self) -> usize {
        self.arena.allocated_bytes()
    }

    /// Total bytes the arena can hand out: the requested capacity rounded
    /// up to whole pages.
    ///
    /// ```
    /// assert_eq!(anon_arena::StackArena::with_capacity(4096).capacity(), 4096);
    /// ```
    #[must_use]
    #[inline]
    pub fn capacity(&self) -> usize {
        self.arena.capacity()
    }

    /// Bytes still free: `capacity() - allocated_bytes()`, or what is left
    /// below the [allocation limit](StackArena::set_allocation_limit).
    ///
    /// ```
    /// let arena = anon_arena::StackArena::with_capacity(4096);
    /// arena.alloc([0u8; 96]);
    /// assert_eq!(arena.remaining(), 4000);
    /// ```
    #[must_use]
    #[inline]
    pub fn remaining(&self) -> usize {
        self.arena.remaining()
    }

    /// Caps the arena at `limit` bytes of stack height, as
    /// [`Arena::set_allocation_limit`] does; scopes count from the
    /// arena's start too.
    ///
    /// ```
    /// let mut arena = anon_arena::StackArena::with_capacity(1 << 20);
    /// arena.set_allocation_limit(Some(4096));
    /// arena.scope(|scope| {
    ///     assert!(scope.try_alloc([0u8; 8192]).is_err());
    ///     scope.alloc([0u8; 4096]);
    /// });
    /// ```
    pub fn set_allocation_limit(&self, limit: Option<usize>) {
        self.arena.set_allocation_limit(limit);
    }

    /// The limit set by
    /// [`set_allocation_limit`](StackArena::set_allocation_limit), if any.
    ///
    /// ```
    /// let arena = anon_arena::StackArena::with_capacity(4096);
    /// arena.set_allocation_limit(Some(64));
    /// assert_eq!(arena.allocation_limit(), Some(64));
    /// ```
    #[must_use]
    #[inline]
    pub fn allocation_limit(&self) -> Option<usize> {
        self.arena.allocation_limit()
    }

    /// The arena's counters, as [`Arena::stats`] gives them; the
    /// high-water mark is the tallest the stack has been.
    ///
    /// ```
    /// let mut arena = anon_arena::StackArena::with_capacity(1 << 16);
    /// arena.scope(|scope| {
    ///     scope.alloc([0u8; 1000]);
    /// });
    /// let stats = arena.stats();
    /// assert_eq!((stats.allocated, stats.high_water), (0, 1000));
    /// ```
    #[must_use]
    pub fn stats(&self) -> Stats {
        self.arena.stats()
    }

    /// The current top of the stack, to come back to with
    /// [`reset_to`](StackArena::reset_to).
    ///
    /// ```
    /// let arena = anon_arena::StackArena::with_capacity(4096);
    /// let empty = arena.mark();
    /// arena.alloc(1u64);
    /// assert_ne!(arena.mark(), empty);
    /// ```
    #[must_use = "a mark does nothing until given to `reset_to`"]
    #[inline]
    pub fn mark(&self) -> Mark {
        Mark {
            arena: self.id,
            offset: self.allocated_bytes(),
        }
    }

    /// Frees everything allocated after `mark` was taken; `&mut self`
    /// proves none of it is still borrowed.
    ///
    /// # Panics
    ///
    /// When `mark` is refused (see [`try_reset_to`](StackArena::try_reset_to));
    /// the message says why.
    ///
    /// ```
    /// let mut arena = anon_arena::StackArena::with_capacity(4096);
    /// arena.alloc(1u64);
    /// let mark = arena.mark();
    /// let block = arena.alloc(2u64) as *mut u64;
    /// arena.reset_to(mark);
    /// assert_eq!(arena.allocated_bytes(), 8);
    /// assert_eq!(arena.alloc(3u64) as *mut u64, block, "the space is reused");
    /// ```
    ///
    /// A reference into the freed space cannot be used afterwards:
    ///
    /// ```compile_fail,E0502
    /// let mut arena = anon_arena::StackArena::with_capacity(4096);
    /// let mark = arena.mark();
    /// let x = arena.alloc(1u64);
    /// arena.reset_to(mark);
    /// *x += 1;
    /// ```
    #[track_caller]
    pub fn reset_to(&mut self, mark: Mark) {
        if let Err(error) = self.try_reset_to(mark) {
            mark_refused(error);
        }
    }

    /// Like [`reset_to`](StackArena::reset_to), but returns an error for a
    /// mark it refuses, leaving the arena unchanged.
    ///
    /// # Errors
    ///
    /// * [`Error::ForeignMark`]: `mark` comes from another arena.
    /// * [`Error::MarkOutOfRange`]: `mark` lies above the current top (what
    ///   it marked has been freed since) or below the start of the open
    ///   scope (it was taken outside it).
    ///
    /// ```
    /// use anon_arena::{Error, StackArena};
    /// let mut arena = StackArena::with_capacity(4096);
    /// let other = StackArena::with_capacity(4096);
    /// assert_eq!(arena.try_reset_to(other.mark()), Err(Error::ForeignMark));
    ///
    /// arena.alloc(1u64);
    /// let stale = arena.mark();
    /// arena.reset();
    /// assert_eq!(
    ///     arena.try_reset_to(stale),
    ///     Err(Error::MarkOutOfRange { mark: 8, floor: 0, top: 0 })
    /// );
    /// ```
    pub fn try_reset_to(&mut self, mark: Mark) -> Result<(), Error> {
        let cursor = self.cursor();
        let floor = offset_of(cursor, cursor.floor());
        let top = self.allocated_bytes();
        if mark.arena != self.id {
            return Err(Error::ForeignMark);
        }
        if mark.offset < floor || mark.offset > top {
            return Err(Error::MarkOutOfRange {
                mark: mark.offset,
                floor,
                top,
            });
        }
        // SAFETY: `floor <= mark.offset <= top`, so the position lies in the
        // mapping between the floor and `pos`, and it is 8-aligned because
        // this arena's marks are taken from `pos`. `&mut self` proves no
        // block above it is still borrowed.
        unsafe { cursor.rewind(self.position(mark.offset)) };
        Ok(())
    }

    /// Runs `f` in a scope: everything `f` allocates is freed when it
    /// returns or unwinds, and the allocations made before stay as they
    /// are. `f` gets a [`Scope`] handle, which allocates for the whole
    /// scope and opens nested scopes ([`Scope::scope`]); `&Scope` is an
    /// [`Allocator`](allocator_api2::alloc::Allocator).
    ///
    /// ```
    /// let mut arena = anon_arena::StackArena::with_capacity(1 << 16);
    /// let kept = arena.alloc(1u64) as *mut u64;
    /// let sum = arena.scope(|mut outer| {
    ///     let a = outer.alloc_slice_fill_copy(100, 2u32);
    ///     let b = outer.alloc(0u32);
    ///     *b = a.iter().sum();
    ///     // A nested scope: `a` and `b` stay usable across it.
    ///     *b += outer.scope(|inner| *inner.alloc(a.len() as u32));
    ///     *b
    /// });
    /// assert_eq!(sum, 300);
    /// assert_eq!(arena.allocated_bytes(), 8);
    /// assert_eq!(unsafe { *kept }, 1);
    /// ```
    ///
    /// Nothing allocated inside can leave the closure — not a reference:
    ///
    /// ```compile_fail
    /// let mut arena = anon_arena::StackArena::with_capacity(4096);
    /// let escaped: &mut u64 = arena.scope(|scope| scope.alloc(1u64));
    /// ```
    ///
    /// not a collection that allocates from the scope:
    ///
    /// ```compile_fail
    /// use allocator_api2::vec::Vec;
    /// let mut arena = anon_arena::StackArena::with_capacity(4096);
    /// let escaped = arena.scope(|scope| {
    ///     let mut v = Vec::new_in(&scope);
    ///     v.push(1u32);
    ///     v
    /// });
    /// ```
    ///
    /// and not through a variable captured from outside:
    ///
    /// ```compile_fail,E0521
    /// let mut arena = anon_arena::StackArena::with_capacity(4096);
    /// let mut outside: Option<&u64> = None;
    /// arena.scope(|scope| outside = Some(scope.alloc(1u64)));
    /// ```
    ///
    /// And the arena cannot be used from outside while a scope is open:
    ///
    /// ```compile_fail,E0502
    /// let mut arena = anon_arena::StackArena::with_capacity(4096);
    /// let outer = &arena;
    /// arena.scope(|scope| *scope.alloc(outer.allocated_bytes()));
    /// ```
    ///
    /// See [`Scope`] for nesting, and for what cannot escape an inner scope.
    #[inline]
    pub fn scope<R>(&mut self, f: impl FnOnce(Scope<'_>) -> R) -> R {
        let guard = self.scope_guard();
        f(Scope::over(&guard))
    }

    /// The whole arena as a [`Scope`] handle: its allocations live as long
    /// as this borrow (not each call's), so they can be kept across the
    /// nested scopes it opens. Nothing is freed when the handle goes; the
    /// arena's own [`reset`](StackArena::reset) frees it all.
    ///
    /// ```
    /// let mut arena = anon_arena::StackArena::with_capacity(4096);
    /// let mut scope = arena.as_scope();
    /// let header = scope.alloc_str("header");
    /// let body_len = scope.scope(|inner| inner.alloc_str("scratch body").len());
    /// assert_eq!((&*header, body_len), ("header", 12));
    /// assert_eq!(arena.allocated_bytes(), 8);
    /// ```
    #[inline]
    pub fn as_scope(&mut self) -> Scope<'_> {
        Scope::over(self)
    }

    /// Opens a scope that lasts as long as the returned guard: allocate
    /// through the guard (it dereferences to the arena), and everything
    /// allocated in the scope is freed when the guard drops.
    ///
    /// Forgetting the guard (`mem::forget`) is safe: the scope's blocks and
    /// its floor then stay until the enclosing scope ends or the arena is
    /// [`reset`](StackArena::reset).
    ///
    /// ```
    /// let mut arena = anon_arena::StackArena::with_capacity(4096);
    /// {
    ///     let scope = arena.scope_guard();
    ///     scope.alloc_str("temporary");
    ///     assert_eq!(scope.allocated_bytes(), 16);
    /// }
    /// assert_eq!(arena.allocated_bytes(), 0);
    /// ```
    ///
    /// Allocations cannot outlive the guard:
    ///
    /// ```compile_fail,E0597
    /// let mut arena = anon_arena::StackArena::with_capacity(4096);
    /// let escaped: &u64 = {
    ///     let scope = arena.scope_guard();
    ///     scope.alloc(1u64)
    /// };
    /// ```
    #[must_use = "the scope ends (and frees its allocations) when the guard drops"]
    #[inline]
    pub fn scope_guard(&mut self) -> ScopeGuard<'_> {
        ScopeGuard::open(self)
    }

    #[inline(always)]
    fn cursor(&self) -> &RawCursor {
        self.arena.cursor()
    }

    /// The pointer `offset` bytes into the mapping.
    ///
    /// # Panics
    ///
    /// Never for offsets this arena produced: each is at most `used()`.
    #[inline]
    fn position(&self, offset: usize) -> NonNull<u8> {
        assert!(offset <= self.capacity(), "StackArena: offset out of range");
        // SAFETY: `offset <= capacity`, so the result stays inside the
        // mapping (or one past its end) and keeps the start's provenance.
        unsafe { self.cursor().start().add(offset) }
    }

    #[inline(always)]
    fn raw_alloc(&self, layout: Layout) -> Option<NonNull<u8>> {
        self.cursor().allocate(layout)
    }

    #[cold]
    #[inline(never)]
    fn alloc_error(&self, layout: Layout) -> Error {
        self.cursor().exhausted(layout)
    }

    /// The `Allocator` impl's answer to a refused request, for the arena
    /// and its scopes: panics under [`Exhausted::Panic`](crate::Exhausted::Panic),
    /// naming the type as `name`.
    #[inline]
    fn refuse_as(&self, name: &str, layout: Layout) {
        self.arena.refuse_as(name, layout);
    }
}

/// Bytes from the cursor's start to `at`, a position inside its memory.
#[inline]
fn offset_of(cursor: &RawCursor, at: NonNull<u8>) -> usize {
    at.addr().get() - cursor.start().addr().get()
}

/// Panics for a mark that [`StackArena::reset_to`] refused.
#[cold]
#[inline(never)]
#[track_caller]
fn mark_refused(error: Error) -> ! {
    panic!("StackArena::reset_to: mark refused: {error}")
}

alloc_methods!(StackArena, "anon_arena::StackArena::with_capacity(1 << 20)");

impl fmt::Debug for StackArena {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StackArena")
            .field("id", &self.id)
            .field("floor", &offset_of(self.cursor(), self.cursor().floor()))
            .field("arena", &self.arena)
            .finish()
    }
}

stack_allocator!(['a] &'a StackArena, "StackArena");

arena_constructors!(StackArena, "A stack arena");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique() {
        let a = StackArena::with_capacity(4096);
        let b = StackArena::with_capacity(4096);
        assert_ne!(a.id, b.id);
        assert_ne!(a.mark(), b.mark());
    }
}

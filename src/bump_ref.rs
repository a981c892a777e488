//! [`BumpRef`]: a shared reference to one of the crate's bump allocators,
//! the bound that lets one generic body serve `Arena`, `StackArena` (and
//! its scopes), `SyncArena` and `LocalArena`.
//!
//! The trait is sealed: its operations live in the private supertrait
//! [`RawBump`], which only [`impl_bump_ref!`] implements, next to each
//! type's allocation methods. Generic code (`ArenaBox`, `alloc_iter`,
//! `alloc_fmt`, the rewinding initialisers) works on raw blocks through
//! it; users only name `BumpRef` in bounds.
//!
//! `unsafe` is allowed here because [`RawBump`] is an unsafe trait: its
//! implementors promise how long blocks live, and its resize and free
//! operations take blocks on trust.
#![allow(unsafe_code)]

use core::alloc::Layout;
use core::ptr::NonNull;

use crate::error::Error;

/// A shared reference to a bump allocator of this crate whose blocks live
/// for `'a`: `&'a Arena`, `&'a StackArena` (also a guard's), `&Scope<'a>`,
/// `&'a SyncArena` and `&LocalArena<'a>` (the blocks of a scope handle or a
/// `LocalArena` handle live as long as the scope or the borrow of the
/// `SyncArena`, not as long as the borrow of the handle).
///
/// It is the allocator parameter of [`ArenaBox::new_in`](crate::ArenaBox::new_in)
/// and the other generic constructors. It is sealed: only this crate's
/// types implement it.
///
/// ```
/// use anon_arena::{ArenaBox, BumpRef};
///
/// fn boxed_pair<'a>(arena: impl BumpRef<'a>) -> (ArenaBox<'a, u32>, ArenaBox<'a, str>) {
///     (ArenaBox::new_in(7, arena), ArenaBox::from_str_in("seven", arena))
/// }
///
/// let arena = anon_arena::Arena::with_capacity(4096);
/// let (n, s) = boxed_pair(&arena);
/// assert_eq!((*n, &*s), (7, "seven"));
/// let sync = anon_arena::SyncArena::with_capacity(1 << 20);
/// let local = sync.local();
/// assert_eq!(*boxed_pair(&local).1, *"seven");
/// ```
pub trait BumpRef<'a>: Copy + RawBump<'a> {}

/// The operations behind [`BumpRef`]. Public only in name (it lives in a
/// private module), so nothing outside the crate can implement or call it.
///
/// # Safety
///
/// Implementors promise that:
/// * a block from [`bump_alloc`](Self::bump_alloc) is valid for reads and
///   writes of `layout.size()` bytes, aligned to `max(8, layout.align())`,
///   disjoint from every other live block, and stays valid for `'a`
///   unless it is freed (`'a` ends before any reset, which needs `&mut`);
/// * [`bump_grow`](Self::bump_grow) and [`bump_shrink`](Self::bump_shrink)
///   keep what `RawAllocator::grow`/`shrink` keep, for blocks of this
///   allocator;
/// * [`bump_free`](Self::bump_free) takes back a dead block only if it
///   lies in this allocator's memory and ends where the allocator's
///   cursor stands (the newest block above the scope's floor), and does
///   nothing otherwise, whoever handed the block out.
pub unsafe trait RawBump<'a>: Copy {
    /// The type's name, for panic messages.
    const NAME: &'static str;

    /// A block for `layout`, or `None` when it does not fit.
    fn bump_alloc(self, layout: Layout) -> Option<NonNull<u8>>;

    /// Why `layout` does not fit, with the numbers as they are now.
    fn bump_error(self, layout: Layout) -> Error;

    /// Gives a dead block back if it is the newest; otherwise does nothing
    /// (its space comes back at the next reset).
    ///
    /// # Safety
    ///
    /// * `block..block + layout.size()` is a block some bump allocator of
    ///   this crate handed out (this one or another), and nothing uses it
    ///   again.
    unsafe fn bump_free(self, block: NonNull<u8>, layout: Layout);

    /// Enlarges a block of this allocator to `new`, in place when it is
    /// the newest, by allocating and copying otherwise (the old block is
    /// then left for the next reset). `None` when `new` does not fit; the
    /// old block is then untouched.
    ///
    /// # Safety
    ///
    /// * `block` is live in this allocator for `old`; `new.size() >= old.size()`
    ///   and `new.align() == old.align()`.
    /// * On success `block` is not used again unless it is returned.
    unsafe fn bump_grow(self, block: NonNull<u8>, old: Layout, new: Layout) -> Option<NonNull<u8>>;

    /// Shrinks a block of this allocator to `new` in place, giving the tail
    /// back when it is the newest.
    ///
    /// # Safety
    ///
    /// * `block` is live in this allocator for `old`; `new.size() <= old.size()`
    ///   and `new.align() == old.align()`.
    unsafe fn bump_shrink(self, block: NonNull<u8>, old: Layout, new: Layout);
}

/// Implements [`BumpRef`] for references to `$ty`, which must have the
/// inherent `raw_alloc` and `alloc_error` that `alloc_methods!` needs, and an
/// `AsRaw` (or `RawAllocator`) impl whose free and resize are the cursor's:
/// `impl_bump_ref!([] Arena [])` for `&'a Arena`, or
/// `impl_bump_ref!([$lt] LocalArena [<$lt>])` for `&LocalArena<'a>`, whose
/// blocks live for `'a`.
macro_rules! impl_bump_ref {
    ([] $ty:ident []) => {
        $crate::bump_ref::impl_bump_ref!(@impl ['bump] 'bump, 'bump, $ty, stringify!($ty));
    };
    ([$lt:lifetime] $ty:ident [<$arg:lifetime>]) => {
        $crate::bump_ref::impl_bump_ref!(@impl ['handle, $lt] $lt, 'handle, $ty<$lt>, stringify!($ty));
    };
    (@impl [$($generics:tt)*] $out:lifetime, $borrow:lifetime, $ty:ty, $name:expr) => {
        // SAFETY: the blocks are `raw_alloc`'s, which lives up to the
        // promise `alloc_methods!` relies on for `$out`; free and resize are
        // the cursor's `RawAllocator` operations, which act in place only on
        // a block that lies in the cursor's memory above its floor and ends
        // at its position, and do nothing to any other block.
        unsafe impl<$($generics)*> $crate::bump_ref::RawBump<$out> for &$borrow $ty {
            const NAME: &'static str = $name;

            #[inline(always)]
            fn bump_alloc(self, layout: ::core::alloc::Layout) -> Option<::core::ptr::NonNull<u8>> {
                <$ty>::raw_alloc(self, layout)
            }

            #[cold]
            #[inline(never)]
            fn bump_error(self, layout: ::core::alloc::Layout) -> $crate::Error {
                <$ty>::alloc_error(self, layout)
            }

            #[inline]
            unsafe fn bump_free(self, block: ::core::ptr::NonNull<u8>, layout: ::core::alloc::Layout) {
                let raw = $crate::alloc_api::AsRaw::as_raw(&self);
                // SAFETY: the block is dead; the cursor takes it back only
                // if it ends at the cursor's position inside its memory
                // (see the impl comment), which a block of another
                // allocator never does while this one's blocks are live
                // there.
                unsafe { $crate::raw::RawAllocator::deallocate(raw, block, layout) }
            }

            #[inline]
            unsafe fn bump_grow(
                self,
                block: ::core::ptr::NonNull<u8>,
                old: ::core::alloc::Layout,
                new: ::core::alloc::Layout,
            ) -> Option<::core::ptr::NonNull<u8>> {
                let raw = $crate::alloc_api::AsRaw::as_raw(&self);
                // SAFETY: the caller's contract is `RawAllocator::grow`'s.
                unsafe { $crate::raw::RawAllocator::grow(raw, block, old, new, false) }
            }

            #[inline]
            unsafe fn bump_shrink(
                self,
                block: ::core::ptr::NonNull<u8>,
                old: ::core::alloc::Layout,
                new: ::core::alloc::Layout,
            ) {
                let raw = $crate::alloc_api::AsRaw::as_raw(&self);
                // SAFETY: the caller's contract is `RawAllocator::shrink`'s;
                // with the alignment unchanged the block stays where it is.
                let kept = unsafe { $crate::raw::RawAllocator::shrink(raw, block, old, new) };
                debug_assert_eq!(kept, Some(block), "a same-alignment shrink stays in place");
            }
        }

        impl<$($generics)*> $crate::bump_ref::BumpRef<$out> for &$borrow $ty {}
    };
}
pub(crate) use impl_bump_ref;

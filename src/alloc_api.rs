//! The `Allocator` glue: one place decides which `Allocator` traits exist
//! (allocator-api2 0.2, 0.3, 0.4, nightly `core::alloc`) and implements each
//! of them by forwarding to [`RawAllocator`].
//!
//! Allocators call [`impl_allocator!`] once, next to their type; that
//! expands to one impl per enabled trait version. The impls are for `&Arena`
//! (not `Arena`): a collection that owned its allocator by value could hand
//! out `&mut Arena` and let safe code `reset` under live data.
//!
//! `unsafe` is allowed here because implementing `Allocator` is an unsafe
//! promise; it is kept by `RawAllocator`'s contract, which is the same one.
#![allow(unsafe_code)]

use crate::raw::RawAllocator;

/// The allocator-api2 0.2 trait and error (hashbrown's and bumpalo's).
#[cfg(feature = "allocator-api2-02")]
pub(crate) mod api_02 {
    pub(crate) use allocator_api2::alloc::{AllocError, Allocator};
}

/// The allocator-api2 0.3 trait and error.
#[cfg(feature = "allocator-api2-03")]
pub(crate) mod api_03 {
    pub(crate) use allocator_api2_03::alloc::{AllocError, Allocator};
}

/// The allocator-api2 0.4 trait and error.
#[cfg(feature = "allocator-api2-04")]
pub(crate) mod api_04 {
    pub(crate) use allocator_api2_04::alloc::{AllocError, Allocator};
}

/// The nightly standard library's own trait and error. With allocator-api2
/// 0.2 too, `nightly` turns on its `nightly`, which makes its trait this
/// one: the 0.2 impl is then the only one (a second would be E0119).
#[cfg(all(feature = "nightly", not(feature = "allocator-api2-02")))]
pub(crate) mod api_core {
    pub(crate) use core::alloc::{AllocError, Allocator};
}

/// From the type an `Allocator` impl is written for (`&Arena`, or a unit
/// type such as `PageAllocator`) to the [`RawAllocator`] doing the work:
/// the type itself, or the cursor inside it (`Arena`, `StackArena` and
/// `SyncArena` hand their cursor over instead of forwarding each method).
/// A type that delegates must keep every block valid until `&mut` access
/// to it (reset, release, drop), which no borrow of it can outlive.
pub(crate) trait AsRaw {
    /// The type implementing the operations.
    type Raw: RawAllocator + ?Sized;
    /// Borrows it.
    fn as_raw(&self) -> &Self::Raw;
    /// Called when a request for `layout` was refused, before the trait's
    /// `AllocError` goes back: panics under
    /// [`Exhausted::Panic`](crate::Exhausted::Panic). Does nothing by
    /// default.
    #[inline(always)]
    fn refuse(&self, layout: core::alloc::Layout) {
        let _ = layout;
    }
}

impl<T: RawAllocator + ?Sized> AsRaw for &T {
    type Raw = T;
    #[inline(always)]
    fn as_raw(&self) -> &T {
        self
    }
    #[inline(always)]
    fn refuse(&self, layout: core::alloc::Layout) {
        (**self).refused(layout);
    }
}

/// Implements every enabled `Allocator` trait for a type that implements
/// [`AsRaw`]: `impl_allocator!(['a] &'a Arena);`, or with more generics,
/// `impl_allocator!(['a, T] &'a Pool<T>);`.
macro_rules! impl_allocator {
    ([$($generics:tt)*] $self_ty:ty) => {
        #[cfg(feature = "allocator-api2-02")]
        $crate::alloc_api::impl_allocator!(@one api_02, "allocator-api2-02", [$($generics)*] $self_ty);
        #[cfg(feature = "allocator-api2-03")]
        $crate::alloc_api::impl_allocator!(@one api_03, "allocator-api2-03", [$($generics)*] $self_ty);
        #[cfg(feature = "allocator-api2-04")]
        $crate::alloc_api::impl_allocator!(@one api_04, "allocator-api2-04", [$($generics)*] $self_ty);
        #[cfg(all(feature = "nightly", not(feature = "allocator-api2-02")))]
        $crate::alloc_api::impl_allocator!(@one api_core, "nightly", [$($generics)*] $self_ty);
    };
    (@one $api:ident, $feature:literal, [$($generics:tt)*] $self_ty:ty) => {
        // SAFETY: every method forwards to `RawAllocator`, whose contract is
        // this trait's (valid, aligned, disjoint blocks that live until freed
        // or until `&mut` access to the allocator, which these borrows rule
        // out; contents kept across resizes).
        #[cfg_attr(docsrs, doc(cfg(feature = $feature)))]
        unsafe impl<$($generics)*> $crate::alloc_api::$api::Allocator for $self_ty {
            #[inline(always)]
            fn allocate(
                &self,
                layout: ::core::alloc::Layout,
            ) -> Result<::core::ptr::NonNull<[u8]>, $crate::alloc_api::$api::AllocError> {
                $crate::alloc_api::or_refuse(
                    $crate::alloc_api::block(
                        $crate::raw::RawAllocator::allocate($crate::alloc_api::AsRaw::as_raw(self), layout),
                        layout,
                    ),
                    self,
                    layout,
                    $crate::alloc_api::$api::AllocError,
                )
            }

            #[inline]
            fn allocate_zeroed(
                &self,
                layout: ::core::alloc::Layout,
            ) -> Result<::core::ptr::NonNull<[u8]>, $crate::alloc_api::$api::AllocError> {
                $crate::alloc_api::or_refuse(
                    $crate::alloc_api::block(
                        $crate::raw::RawAllocator::allocate_zeroed($crate::alloc_api::AsRaw::as_raw(self), layout),
                        layout,
                    ),
                    self,
                    layout,
                    $crate::alloc_api::$api::AllocError,
                )
            }

            #[inline]
            unsafe fn deallocate(&self, ptr: ::core::ptr::NonNull<u8>, layout: ::core::alloc::Layout) {
                // SAFETY: `Allocator::deallocate`'s contract is `RawAllocator`'s.
                unsafe { $crate::raw::RawAllocator::deallocate($crate::alloc_api::AsRaw::as_raw(self), ptr, layout) }
            }

            #[inline]
            unsafe fn grow(
                &self,
                ptr: ::core::ptr::NonNull<u8>,
                old: ::core::alloc::Layout,
                new: ::core::alloc::Layout,
            ) -> Result<::core::ptr::NonNull<[u8]>, $crate::alloc_api::$api::AllocError> {
                // SAFETY: `Allocator::grow`'s contract is `RawAllocator`'s.
                let moved = unsafe { $crate::raw::RawAllocator::grow($crate::alloc_api::AsRaw::as_raw(self), ptr, old, new, false) };
                $crate::alloc_api::or_refuse($crate::alloc_api::block(moved, new), self, new, $crate::alloc_api::$api::AllocError)
            }

            #[inline]
            unsafe fn grow_zeroed(
                &self,
                ptr: ::core::ptr::NonNull<u8>,
                old: ::core::alloc::Layout,
                new: ::core::alloc::Layout,
            ) -> Result<::core::ptr::NonNull<[u8]>, $crate::alloc_api::$api::AllocError> {
                // SAFETY: `Allocator::grow_zeroed`'s contract is `RawAllocator`'s.
                let moved = unsafe { $crate::raw::RawAllocator::grow($crate::alloc_api::AsRaw::as_raw(self), ptr, old, new, true) };
                $crate::alloc_api::or_refuse($crate::alloc_api::block(moved, new), self, new, $crate::alloc_api::$api::AllocError)
            }

            #[inline]
            unsafe fn shrink(
                &self,
                ptr: ::core::ptr::NonNull<u8>,
                old: ::core::alloc::Layout,
                new: ::core::alloc::Layout,
            ) -> Result<::core::ptr::NonNull<[u8]>, $crate::alloc_api::$api::AllocError> {
                // SAFETY: `Allocator::shrink`'s contract is `RawAllocator`'s.
                let moved = unsafe { $crate::raw::RawAllocator::shrink($crate::alloc_api::AsRaw::as_raw(self), ptr, old, new) };
                $crate::alloc_api::or_refuse($crate::alloc_api::block(moved, new), self, new, $crate::alloc_api::$api::AllocError)
            }
        }
    };
}
pub(crate) use impl_allocator;

/// `block`, or `error` once `allocator` has had its say about the refusal
/// of `layout` (a panic, under `Exhausted::Panic`).
#[inline(always)]
pub(crate) fn or_refuse<S: AsRaw + ?Sized, E>(
    block: Option<core::ptr::NonNull<[u8]>>,
    allocator: &S,
    layout: core::alloc::Layout,
    error: E,
) -> Result<core::ptr::NonNull<[u8]>, E> {
    match block {
        Some(block) => Ok(block),
        None => {
            allocator.refuse(layout);
            Err(error)
        }
    }
}

/// A block start and its layout as the `NonNull<[u8]>` the traits return.
#[inline(always)]
pub(crate) fn block(
    start: Option<core::ptr::NonNull<u8>>,
    layout: core::alloc::Layout,
) -> Option<core::ptr::NonNull<[u8]>> {
    start.map(|start| core::ptr::NonNull::slice_from_raw_parts(start, layout.size()))
}

//! [`Mapped`]: a bump cursor over a region that came from a cache — what
//! `Arena` (and through it `StackArena`) and `SyncArena` share: how they
//! are made, `release`, the policy for exhaustion, and giving the mapping
//! back when they go.
//!
//! `unsafe` is allowed here for making the cursor over the region, whose
//! contract the region meets, for the promise a returned mapping carries
//! (zero past what the cursor touched), and for zeroing a `secret()`
//! arena's bytes when no block is live.
#![allow(unsafe_code)]

use core::alloc::Layout;

use crate::asan;
use crate::builder::Builder;
use crate::cache::{CachedRegion, RegionCache};
use crate::error::Error;
use crate::exhausted::{self, Bounds, Exhausted};
use crate::raw::BumpCursor;
use crate::region::Shape;

/// A cursor and the mapping it bumps through.
pub(crate) struct Mapped<C: BumpCursor> {
    /// Hands out the bytes of `region`; its memory is exactly the region.
    pub(crate) cursor: C,
    /// The mapping; parked in its cache or unmapped when this drops.
    /// Declared after `cursor` so that it goes after the cursor's ASan
    /// shadow (`cfg(asan)`) has unpoisoned it.
    region: CachedRegion,
    /// What the owner's `Allocator` impl does with a request that does not
    /// fit; read on the failure path only.
    on_exhausted: Exhausted,
    /// Bytes handed back to the OS by [`release`](Self::release), summed.
    released: usize,
    /// `secret()`: zero what the cursor wrote on reset, release and drop.
    secret: bool,
}

impl<C: BumpCursor> Mapped<C> {
    /// Maps what `builder` asks for, from `scoped` if given (and then given
    /// back only by [`recycle_into`](Self::recycle_into)), else from the
    /// builder's cache, to which it goes back on drop.
    pub(crate) fn build<K>(
        builder: &Builder<K>,
        scoped: Option<&RegionCache>,
    ) -> Result<Mapped<C>, Error> {
        let reuse = builder.recycle && Shape::reusable(&builder.options);
        let cache = scoped.unwrap_or(builder.cache);
        let (region, dirty) = builder.build_sized(
            |bytes| bytes,
            |bytes| cache.map(&builder.options_with_len(bytes), reuse),
        )?;
        let home = scoped.is_none().then_some(builder.cache);
        let start = region.base();
        // SAFETY: the region is page-aligned, a whole number of pages, owned
        // by the result for as long as the cursor, and zero past its first
        // `dirty <= len` bytes (`RegionCache::map`'s promise).
        let cursor = unsafe { C::with_dirty_prefix(start, region.len(), dirty) };
        Ok(Mapped {
            cursor,
            region: CachedRegion::new(region, home, reuse),
            on_exhausted: builder.on_exhausted,
            released: 0,
            secret: builder.options.hardening.wipe,
        })
    }

    /// Frees every block at once ([`BumpCursor::reset`]); a `secret()`
    /// arena also zeroes what it wrote, after which all of it reads as
    /// zero again.
    ///
    /// # Safety
    ///
    /// * No block the cursor handed out is live.
    #[inline]
    pub(crate) unsafe fn reset(&mut self) {
        // SAFETY: the caller's promise.
        unsafe { self.cursor.reset() };
        if self.secret {
            // SAFETY: no block is live (the caller's promise), and once
            // wiped every byte reads as zero.
            unsafe {
                self.wipe_if_secret();
                self.cursor.reset_pristine();
            }
        }
    }

    /// For a `secret()` arena, zeroes every byte the cursor may have
    /// written, with writes the compiler cannot remove; nothing for others.
    ///
    /// # Safety
    ///
    /// * No block the cursor handed out is live.
    unsafe fn wipe_if_secret(&mut self) {
        let touched = self.cursor.touched();
        let Some(region) = self.region.get_mut().filter(|_| self.secret) else {
            return;
        };
        let base = region.base();
        // The free space is poisoned under ASan; a secret mapping is never
        // reused, so what was touched lies below the shadow's frontier and
        // is poisoned again as it was.
        asan::unpoison(base, touched);
        region.wipe_prefix(touched);
        asan::poison(base, touched);
    }

    /// Makes the mapping read-only, or read/write again (freezing).
    pub(crate) fn set_writable(&mut self, writable: bool) -> Result<(), Error> {
        match self.region.get_mut() {
            Some(region) => region.set_writable(writable),
            None => Ok(()),
        }
    }

    /// Frees every block and hands every page the cursor touched back to
    /// the OS; they read as zero afterwards, so the cursor forgets them.
    ///
    /// # Safety
    ///
    /// * No block the cursor handed out is live.
    pub(crate) unsafe fn release(&mut self) {
        // SAFETY: the caller's promise, twice.
        unsafe {
            self.cursor.reset();
            self.wipe_if_secret();
        }
        if let Ok(bytes) = self.region.release_prefix(self.cursor.touched()) {
            self.released = self.released.saturating_add(bytes);
            // SAFETY: no block is live, every touched page now reads as
            // zero, and untouched ones always did.
            unsafe { self.cursor.reset_pristine() };
        }
    }

    /// Bytes handed back to the OS by `release` so far.
    pub(crate) fn released(&self) -> usize {
        self.released
    }

    /// The owner's `Allocator` impl's answer to a refused request for
    /// `layout`: panics under [`Exhausted::Panic`] with the cursor's
    /// numbers and `limit` (the owner's allocation limit), naming the
    /// owner `name`.
    #[inline]
    pub(crate) fn refuse(&self, name: &str, layout: Layout, limit: Option<usize>) {
        if self.on_exhausted == Exhausted::Panic {
            self.exhausted_panic(name, layout, limit);
        }
    }

    #[cold]
    #[inline(never)]
    fn exhausted_panic(&self, name: &str, layout: Layout, limit: Option<usize>) -> ! {
        let bounds = Bounds {
            capacity: self.cursor.capacity(),
            limit,
            unit: "bytes",
        };
        exhausted::refused(&name, layout, self.cursor.exhausted(layout), bounds)
    }

    /// Parks the mapping in `cache` instead of the cache it came from.
    ///
    /// # Safety
    ///
    /// * No block the cursor handed out is used again.
    pub(crate) unsafe fn recycle_into(mut self, cache: &RegionCache) {
        // SAFETY: the caller uses no block again. (A secret mapping is
        // then unmapped, not parked.)
        unsafe { self.wipe_if_secret() };
        let written = self.cursor.touched();
        let mut region = self.region.take();
        // The cursor goes first: its ASan shadow unpoisons before the cache
        // poisons what was written.
        drop(self);
        // SAFETY: past what the cursor touched the mapping is zero (its
        // invariant), and the caller uses no block again.
        unsafe {
            region.set_written(written);
            region.park_in(cache);
        }
    }
}

impl<C: BumpCursor> Drop for Mapped<C> {
    fn drop(&mut self) {
        // SAFETY: the owner is going, and every block borrowed it.
        unsafe { self.wipe_if_secret() };
        let written = self.cursor.touched();
        // SAFETY: past what the cursor touched the mapping is zero (the
        // cursor's invariant), and the region drops right after the cursor,
        // when nothing borrowed from the owner is left.
        unsafe { self.region.set_written(written) };
    }
}

impl<C: BumpCursor> core::fmt::Debug for Mapped<C> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        self.region.fmt(f)
    }
}

#[cfg(test)]
mod secret_tests;

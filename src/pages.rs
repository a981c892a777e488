//! [`PageAllocator`]: every allocation its own anonymous mapping, unmapped
//! the moment it is freed, resized with `mremap`.
//!
//! Every live mapping's base pointer is kept in a [`registry`], and
//! resizes and frees act through it, never through the caller's pointer
//! (whose provenance may cover only part of the mapping).
//!
//! `unsafe` is allowed here because the allocator hands out, resizes and
//! takes back raw mappings through the region layer's `map_pages`, `remap`
//! and `unmap`, and implements the unsafe `RawAllocator` contract.
#![allow(unsafe_code)]

mod registry;

use core::alloc::Layout;
use core::ptr::{self, NonNull};

use crate::alloc_api::{impl_allocator, AsRaw};
use crate::error::Error;
use crate::math::align_up;
use crate::raw::RawAllocator;
use crate::region::{self, page_size};
use registry::LIVE;

/// An allocator that gives every allocation its own anonymous mapping,
/// rounded up to whole pages, and unmaps it as soon as it is deallocated —
/// what glibc `malloc` does for blocks above `M_MMAP_THRESHOLD`, without the
/// threshold.
///
/// Growing or shrinking uses `mremap(MREMAP_MAYMOVE)`: the kernel moves page
/// table entries instead of copying bytes, so a huge
/// `Vec<u8, PageAllocator>` doubles its capacity in time that does not
/// depend on its length. Memory handed back is returned to the OS at once,
/// so the resident set falls as soon as a collection is dropped.
///
/// Every allocation costs at least one page and a system call: use it for
/// large, long-lived buffers, not for many small values.
///
/// * Zero-sized layouts get a dangling, aligned pointer and no mapping.
/// * Alignments up to the page size come free with `mmap`. Larger ones are
///   honoured by mapping `align - page` extra bytes and unmapping the
///   misaligned head and the tail; such blocks grow and shrink by
///   allocating, copying and unmapping, since `mremap` may move a mapping
///   to any page boundary.
/// * `allocate_zeroed` costs nothing extra: fresh pages are zero.
/// * The pointer `mmap` returned for each live block is recorded (about 8
///   bytes per 4 KiB page of address space ever used), so that resizes and
///   frees act through it. A resize that moves a block to a range never
///   recorded before, while the process is so short of memory that 32 KiB
///   cannot be mapped to record it, panics: the block cannot be handed out
///   unrecorded, nor be where it was.
///
/// ```
/// use allocator_api2::vec::Vec;
/// use anon_arena::PageAllocator;
///
/// let mut v: Vec<u8, PageAllocator> = Vec::new_in(PageAllocator);
/// v.extend_from_slice(&[1, 2, 3]);
/// v.resize(1 << 20, 7); // grows by mremap, no copy of the bytes
/// assert_eq!((v[2], v[1 << 19]), (3, 7));
/// assert_eq!(v.as_ptr() as usize % rustix::param::page_size(), 0);
/// drop(v); // munmap: the megabyte goes back to the OS now
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct PageAllocator;

/// The aligned, non-null address a zero-sized block gets.
#[inline]
fn dangling(align: usize) -> NonNull<u8> {
    // An alignment is a power of two, so never zero.
    NonNull::new(ptr::without_provenance_mut(align)).unwrap_or(NonNull::dangling())
}

/// The mapping length for a block of `size` bytes: whole pages.
#[inline]
fn mapping_len(size: usize) -> Option<usize> {
    align_up(size, page_size())
}

impl PageAllocator {
    /// Maps `len` bytes (whole pages) aligned to `align`, which is larger
    /// than a page: maps `len + align - page`, then unmaps the misaligned
    /// head and the tail (all of it if that fails).
    #[cold]
    fn map_overaligned(len: usize, align: usize) -> Option<NonNull<u8>> {
        let page = page_size();
        let reserve = len.checked_add(align - page)?;
        let base = region::map_pages(reserve).ok()?;
        // Whole pages below `align - page`: `base` is page-aligned.
        let head = base.as_ptr().align_offset(align);
        // SAFETY: a fresh mapping nothing points into; `head <= align -
        // page`, so `head + len <= reserve`, and mapping addresses, `len`
        // and `align` are page multiples.
        unsafe { region::keep_window(base, reserve, head, len) }.ok()
    }

    /// Records a fresh mapping of `len` bytes at `block` and hands it out;
    /// unmaps it and fails if the registry cannot map a node for it.
    fn register(block: NonNull<u8>, len: usize) -> Option<NonNull<u8>> {
        if LIVE.insert(block).is_ok() {
            return Some(block);
        }
        // SAFETY: the mapping was just made, is exactly `len` bytes, and is
        // handed to no one.
        let result = unsafe { region::unmap(block, len) };
        debug_assert!(result.is_ok(), "munmap failed: {result:?}");
        None
    }

    /// Resizes the whole mapping of a live block from `old_len` to
    /// `new_len` bytes with `mremap`, which grows or shrinks it in place
    /// when it can and moves its pages otherwise. On failure the block
    /// stays where and as it was.
    ///
    /// # Panics
    ///
    /// When the mapping moved to a 16 MiB range the registry has never
    /// seen and the 32 KiB node that would record it cannot be mapped (the
    /// process is out of memory): the block is gone from where it was and
    /// cannot be handed out unrecorded, so it is unmapped and the resize
    /// panics rather than report a failure that would leave the caller
    /// holding a dangling pointer.
    ///
    /// # Safety
    ///
    /// * `ptr` is a live block of this allocator whose mapping is
    ///   `old_len` bytes, not used again if this returns `Some`.
    unsafe fn resize(ptr: NonNull<u8>, old_len: usize, new_len: usize) -> Option<NonNull<u8>> {
        // Out of the registry before `mremap`: once the pages move, the
        // old address may come back from another thread's `mmap` at once.
        let Some(base) = LIVE.remove(ptr.addr().get()) else {
            debug_assert!(false, "PageAllocator: {ptr:p} is not a live block");
            return None;
        };
        // SAFETY: the registered pointer of the block's whole mapping of
        // `old_len` bytes, without guard page; the caller gives `ptr` up if
        // a new pointer comes back.
        let Ok(moved) = (unsafe { region::remap(base, old_len, new_len) }) else {
            // Still at `base`, whose nodes exist: re-recording cannot fail.
            let back = LIVE.insert(base);
            debug_assert!(back.is_ok(), "re-recording {base:p} failed: {back:?}");
            return None;
        };
        match LIVE.insert(moved) {
            Ok(()) => Some(moved),
            Err(error) => PageAllocator::lost(moved, new_len, error),
        }
    }

    /// Unmaps a moved mapping the registry could not record, and panics
    /// (see [`resize`](Self::resize)).
    #[cold]
    #[inline(never)]
    fn lost(moved: NonNull<u8>, len: usize, error: Error) -> ! {
        // SAFETY: the mapping `mremap` just returned, `len` bytes, handed to
        // no one.
        let result = unsafe { region::unmap(moved, len) };
        debug_assert!(result.is_ok(), "munmap failed: {result:?}");
        panic!("PageAllocator: a block of {len} bytes moved to {moved:p} and cannot be recorded there: {error}")
    }

    /// The registered base pointer of a live block, with the provenance of
    /// its whole mapping.
    fn base(ptr: NonNull<u8>) -> Option<NonNull<u8>> {
        let base = LIVE.find(ptr.addr().get());
        debug_assert!(base.is_some(), "PageAllocator: {ptr:p} is not a live block");
        base
    }

    /// Moves a block to a fresh mapping for `new`: allocate, copy the bytes
    /// both layouts hold, unmap the old one. For alignments `mremap` cannot
    /// promise.
    ///
    /// # Safety
    ///
    /// * `ptr` is live in this allocator for `old`, and not used again if
    ///   this returns `Some`.
    #[cold]
    unsafe fn move_to_new(
        &self,
        ptr: NonNull<u8>,
        old: Layout,
        new: Layout,
    ) -> Option<NonNull<u8>> {
        let moved = self.allocate(new)?;
        // SAFETY: two distinct live mappings; `min` of the sizes fits both.
        unsafe {
            ptr::copy_nonoverlapping(ptr.as_ptr(), moved.as_ptr(), old.size().min(new.size()));
            self.deallocate(ptr, old);
        }
        Some(moved)
    }
}

// SAFETY: every non-empty block is a mapping of its own (so blocks never
// overlap), readable and writable for at least `layout.size()` bytes,
// aligned (mappings are page-aligned; larger alignments are trimmed to), and
// alive until `deallocate` unmaps it. Pointers handed out or acted through
// are the registered ones, with the whole mapping's provenance. Fresh pages read as zero; `grow`
// zeroes the one partial page it reuses when asked to, and `mremap` keeps
// the bytes of the common prefix.
unsafe impl RawAllocator for PageAllocator {
    #[inline]
    fn allocate(&self, layout: Layout) -> Option<NonNull<u8>> {
        if layout.size() == 0 {
            return Some(dangling(layout.align()));
        }
        let len = mapping_len(layout.size())?;
        let block = if layout.align() > page_size() {
            PageAllocator::map_overaligned(len, layout.align())?
        } else {
            region::map_pages(len).ok()?
        };
        PageAllocator::register(block, len)
    }

    #[inline]
    fn allocate_zeroed(&self, layout: Layout) -> Option<NonNull<u8>> {
        // Every block is a fresh mapping, and fresh pages read as zero.
        self.allocate(layout)
    }

    #[inline]
    unsafe fn deallocate(&self, ptr: NonNull<u8>, layout: Layout) {
        if layout.size() == 0 {
            return;
        }
        // Cannot fail: the same rounding succeeded when the block was made.
        let Some(len) = mapping_len(layout.size()) else {
            return;
        };
        // Out of the registry before `munmap`: once unmapped, the address
        // may come back from another thread's `mmap` at once.
        let Some(base) = LIVE.remove(ptr.addr().get()) else {
            // Not a live block: the old pointer of a block whose move could
            // not be recorded (`resize` unmapped it and panicked; a
            // collection unwinding frees what it still holds), or a
            // caller's bug. Nothing of ours to unmap either way.
            return;
        };
        // SAFETY: `base..base + len` is exactly the mapping made for this
        // block, with its provenance, and the caller does not use it again.
        let result = unsafe { region::unmap(base, len) };
        debug_assert!(result.is_ok(), "munmap failed: {result:?}");
    }

    unsafe fn grow(
        &self,
        ptr: NonNull<u8>,
        old: Layout,
        new: Layout,
        zeroed: bool,
    ) -> Option<NonNull<u8>> {
        if old.size() == 0 {
            return self.allocate(new);
        }
        if new.align() > page_size() {
            // SAFETY: forwarded caller contract.
            return unsafe { self.move_to_new(ptr, old, new) };
        }
        // Cannot fail: the block was made with this rounding.
        let old_len = mapping_len(old.size())?;
        let new_len = mapping_len(new.size())?;
        if zeroed {
            let base = PageAllocator::base(ptr)?;
            // The rest of the last old page may hold bytes from before a
            // shrink; pages past it will be fresh.
            let dirty = new.size().min(old_len) - old.size();
            // SAFETY: `old.size()..old.size() + dirty` lies in the block's
            // mapping (below `old_len`), whose provenance `base` has, and
            // the caller gives us those bytes.
            unsafe { ptr::write_bytes(base.as_ptr().add(old.size()), 0, dirty) };
        }
        if new_len == old_len {
            return PageAllocator::base(ptr);
        }
        // SAFETY: forwarded caller contract; the mapping is `old_len` bytes.
        unsafe { PageAllocator::resize(ptr, old_len, new_len) }
    }

    unsafe fn shrink(&self, ptr: NonNull<u8>, old: Layout, new: Layout) -> Option<NonNull<u8>> {
        if new.size() == 0 {
            // SAFETY: forwarded caller contract; the block is dead after this.
            unsafe { self.deallocate(ptr, old) };
            return Some(dangling(new.align()));
        }
        if new.align() > page_size() {
            // SAFETY: forwarded caller contract.
            return unsafe { self.move_to_new(ptr, old, new) };
        }
        let old_len = mapping_len(old.size())?;
        let new_len = mapping_len(new.size())?;
        if new_len == old_len {
            return PageAllocator::base(ptr);
        }
        // SAFETY: forwarded caller contract; the mapping is `old_len` bytes.
        unsafe { PageAllocator::resize(ptr, old_len, new_len) }
    }
}

impl AsRaw for PageAllocator {
    type Raw = PageAllocator;
    #[inline(always)]
    fn as_raw(&self) -> &PageAllocator {
        self
    }
}

impl_allocator!([] PageAllocator);

/// Each block is its own mapping, limited only by the OS: no number to give.
impl crate::collections::ReportsRemaining for PageAllocator {}

#[cfg(test)]
mod tests {
    use super::*;

    fn layout(size: usize, align: usize) -> Layout {
        Layout::from_size_align(size, align).unwrap()
    }

    #[test]
    fn blocks_are_page_aligned_zero_and_writable() {
        let l = layout(10_000, 8);
        let block = PageAllocator.allocate_zeroed(l).unwrap();
        assert_eq!(block.addr().get() % page_size(), 0);
        // SAFETY: a live block of `l.size()` bytes, freed at the end.
        unsafe {
            let bytes = core::slice::from_raw_parts_mut(block.as_ptr(), l.size());
            assert!(bytes.iter().all(|&b| b == 0));
            bytes.fill(0xAB);
            PageAllocator.deallocate(block, l);
        }
    }

    #[test]
    fn zero_sized_blocks_map_nothing() {
        let l = layout(0, 64);
        let block = PageAllocator.allocate(l).unwrap();
        assert_eq!(block.addr().get(), 64);
        // SAFETY: a zero-sized block; grown, then freed.
        unsafe {
            let grown = PageAllocator.grow(block, l, layout(8, 64), true).unwrap();
            assert_eq!(grown.cast::<u64>().read(), 0);
            PageAllocator.deallocate(grown, layout(8, 64));
        }
    }

    #[test]
    fn grow_after_shrink_zeroes_the_reused_tail() {
        let big = layout(4096, 8);
        let block = PageAllocator.allocate(big).unwrap();
        // SAFETY: the block is live throughout and freed at the end.
        unsafe {
            ptr::write_bytes(block.as_ptr(), 0xFF, 4096);
            let small = layout(100, 8);
            let shrunk = PageAllocator.shrink(block, big, small).unwrap();
            let regrown = PageAllocator
                .grow(shrunk, small, layout(3 * 4096, 8), true)
                .unwrap();
            let bytes = core::slice::from_raw_parts(regrown.as_ptr(), 3 * 4096);
            assert!(bytes[..100].iter().all(|&b| b == 0xFF), "kept");
            assert!(bytes[100..].iter().all(|&b| b == 0), "zeroed");
            PageAllocator.deallocate(regrown, layout(3 * 4096, 8));
        }
    }

    #[test]
    #[cfg_attr(miri, ignore = "Miri cannot unmap part of a mapping")]
    fn alignment_above_a_page_is_honoured() {
        let align = 64 * page_size();
        let l = layout(100, align);
        let block = PageAllocator.allocate(l).unwrap();
        assert_eq!(block.addr().get() % align, 0);
        // SAFETY: the block is live throughout and freed at the end.
        unsafe {
            block.as_ptr().write(9);
            let grown = PageAllocator
                .grow(block, l, layout(5 * 4096, align), false)
                .unwrap();
            assert_eq!(grown.addr().get() % align, 0);
            assert_eq!(grown.as_ptr().read(), 9);
            PageAllocator.deallocate(grown, layout(5 * 4096, align));
        }
    }
}

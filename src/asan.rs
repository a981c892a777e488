//! AddressSanitizer awareness (the `asan` feature).
//!
//! An arena hands out memory the system allocator never sees, so ASan
//! cannot know that a block died at `reset`: a stale reference would read
//! reused memory in silence. With `cfg(asan)` — set by `build.rs` when the
//! `asan` feature is on *and* the build uses `-Zsanitizer=address` — the
//! allocators tell ASan what is live: free space is poisoned, an allocation
//! unpoisons exactly its bytes (its rounding tail and alignment padding
//! stay poisoned), and `reset`, `reset_to`, a scope's end, a pool free or a
//! `deallocate` poison the block again. Any access to poisoned bytes is
//! then reported as `use-after-poison`, with both stacks.
//!
//! Without `cfg(asan)` every function here is an empty `#[inline(always)]`
//! body and [`Shadow`] is a zero-sized type: the allocators compile to
//! exactly the code they have without this module.
//!
//! Poisoning is lazy: a cursor's [`Shadow`] poisons its free space a chunk
//! at a time, ahead of the cursor, because poisoning costs one shadow byte
//! per 8 bytes and arenas reserve gigabytes they never touch. For the same
//! reason the poisoned part, not the whole mapping, is unpoisoned before
//! the region is unmapped (`munmap` through rustix is a raw syscall that
//! ASan's interceptors never see, and a later mapping at the same address
//! would otherwise inherit the poison).
//!
//! `unsafe` is allowed here for the two `extern "C"` calls into the ASan
//! runtime. They change only ASan's shadow memory, outside anything Rust
//! code can reference, so they cannot cause undefined behaviour: a wrong
//! range only makes ASan report, or miss, an access.
#![allow(unsafe_code)]

use core::ptr::NonNull;

#[cfg(asan)]
mod runtime {
    use core::ffi::c_void;

    extern "C" {
        /// Marks `size` bytes at `addr` unaddressable (ASan's public API).
        pub(super) fn __asan_poison_memory_region(addr: *const c_void, size: usize);
        /// Marks `size` bytes at `addr` addressable again.
        pub(super) fn __asan_unpoison_memory_region(addr: *const c_void, size: usize);
    }
}

/// Tells ASan that `len` bytes at `ptr` must not be accessed.
#[inline(always)]
pub(crate) fn poison(ptr: NonNull<u8>, len: usize) {
    #[cfg(asan)]
    if len > 0 {
        // SAFETY: the ASan runtime accepts any range; only its shadow
        // memory changes (see the module docs).
        unsafe { runtime::__asan_poison_memory_region(ptr.as_ptr().cast(), len) };
    }
    #[cfg(not(asan))]
    let _ = (ptr, len);
}

/// Tells ASan that `len` bytes at `ptr` may be accessed again.
// Without `cfg(asan)` only `Shadow` would call it, and its calls vanish.
#[cfg_attr(not(asan), allow(dead_code))]
#[inline(always)]
pub(crate) fn unpoison(ptr: NonNull<u8>, len: usize) {
    #[cfg(asan)]
    if len > 0 {
        // SAFETY: as in `poison`.
        unsafe { runtime::__asan_unpoison_memory_region(ptr.as_ptr().cast(), len) };
    }
    #[cfg(not(asan))]
    let _ = (ptr, len);
}

/// How far ahead of a cursor the free space is poisoned at once.
#[cfg(asan)]
const CHUNK: usize = 256 << 10;

/// A bump cursor's poisoning state: everything from its start up to the
/// frontier that is not a live block is poisoned; beyond the frontier
/// nothing has been handed out yet. Unpoisons what it poisoned on drop,
/// which must happen before the memory is unmapped.
#[cfg(asan)]
pub(crate) struct Shadow {
    /// The cursor's first byte.
    start: NonNull<u8>,
    /// Bytes from `start` that have been poisoned (some since handed out).
    frontier: core::cell::Cell<usize>,
}

/// Zero-sized without `cfg(asan)`.
#[cfg(not(asan))]
pub(crate) struct Shadow;

impl Shadow {
    /// The state for a cursor over fresh memory starting at `start`.
    #[inline(always)]
    pub(crate) fn new(start: NonNull<u8>) -> Shadow {
        #[cfg(asan)]
        let shadow = Shadow {
            start,
            frontier: core::cell::Cell::new(0),
        };
        #[cfg(not(asan))]
        let shadow = {
            let _ = start;
            Shadow
        };
        shadow
    }

    /// `len` bytes at `block` were just handed out: poisons the free space
    /// ahead of them if the frontier is behind (never past `end`), then
    /// unpoisons exactly the block.
    #[inline(always)]
    pub(crate) fn handed_out(&self, block: NonNull<u8>, len: usize, end: NonNull<u8>) {
        #[cfg(asan)]
        if len > 0 {
            let start = self.start.as_ptr() as usize;
            let needed = block.as_ptr() as usize + len - start;
            let frontier = self.frontier.get();
            if needed > frontier {
                let limit = end.as_ptr() as usize - start;
                let target = needed.saturating_add(CHUNK).min(limit);
                // SAFETY: `frontier <= target <= limit`: inside the memory.
                poison(unsafe { self.start.add(frontier) }, target - frontier);
                self.frontier.set(target);
            }
            unpoison(block, len);
        }
        #[cfg(not(asan))]
        let _ = (block, len, end);
    }

    /// `len` bytes at `block` are free again.
    #[inline(always)]
    pub(crate) fn given_back(&self, block: NonNull<u8>, len: usize) {
        poison(block, len);
    }
}

#[cfg(asan)]
impl Drop for Shadow {
    fn drop(&mut self) {
        unpoison(self.start, self.frontier.get());
    }
}

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
//! Covered: `Arena` and `StackArena` (through `RawCursor`'s [`Shadow`]),
//! `Pool` (the same [`Shadow`] over its never-used slots; a freed slot is
//! poisoned whole, its free-list link word unpoisoned only for the moment
//! it is written; a slot is unpoisoned whole when handed out, before its
//! link is read, as the raw pool does not know the value's size), and
//! `SyncArena`
//! (its atomic cursor's [`AtomicShadow`]; a lease — a `LocalArena`'s, or
//! with `std` a thread's — is poisoned whole when claimed, and its cursor
//! only unpoisons the blocks it bumps out, so the unused tail stays
//! poisoned, even after the handle or thread moves on). Not covered:
//! `SharedArena`, whose blocks other processes allocate and whose
//! poisoning this process's shadow could not follow.
//!
//! Without `cfg(asan)` every function here is an empty `#[inline(always)]`
//! body and [`Shadow`] and [`AtomicShadow`] are zero-sized types: the
//! allocators compile to exactly the code they have without this module.
//!
//! Poisoning is lazy: a cursor's [`Shadow`] or [`AtomicShadow`] poisons its
//! free space a chunk at a time, ahead of the cursor, because poisoning
//! costs one shadow byte per 8 bytes and arenas and pools reserve
//! gigabytes they never touch. For the same
//! reason the poisoned part, not the whole mapping, is unpoisoned before
//! the region is unmapped (`munmap` through rustix is a raw syscall that
//! ASan's interceptors never see, and a later mapping at the same address
//! would otherwise inherit the poison).
//!
//! `unsafe` is allowed here for the two `extern "C"` calls into the ASan
//! runtime, and for the pointer arithmetic that finds the frontier inside
//! the memory a shadow was made for. The calls change only ASan's shadow
//! memory, outside anything Rust code can reference, so they cannot cause
//! undefined behaviour: a wrong range only makes ASan report, or miss, an
//! access.
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
    /// Whether this shadow poisoned `start..start + frontier` and so must
    /// unpoison it on drop (not for memory another shadow poisoned).
    owns_poison: bool,
}

/// Zero-sized without `cfg(asan)`.
#[cfg(not(asan))]
pub(crate) struct Shadow;

impl Shadow {
    /// The state for a cursor over fresh memory starting at `start`.
    #[inline(always)]
    pub(crate) const fn new(start: NonNull<u8>) -> Shadow {
        #[cfg(asan)]
        let shadow = Shadow {
            start,
            frontier: core::cell::Cell::new(0),
            owns_poison: true,
        };
        #[cfg(not(asan))]
        let shadow = {
            let _ = start;
            Shadow
        };
        shadow
    }

    /// The state for a cursor over `len` bytes at `start` that are poisoned
    /// already by their owner, who also unpoisons them before the memory
    /// is unmapped: a `SyncArena` lease, poisoned by the arena's
    /// [`AtomicShadow`] when it was claimed. Nothing is poisoned ahead, and
    /// nothing is unpoisoned on drop, so a lease's tail and freed blocks
    /// stay poisoned when its handle moves on.
    #[inline(always)]
    pub(crate) fn over_poisoned(start: NonNull<u8>, len: usize) -> Shadow {
        #[cfg(asan)]
        let shadow = Shadow {
            start,
            frontier: core::cell::Cell::new(len),
            owns_poison: false,
        };
        #[cfg(not(asan))]
        let shadow = {
            let _ = (start, len);
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
        if self.owns_poison {
            unpoison(self.start, self.frontier.get());
        }
    }
}

/// Set in [`AtomicShadow`]'s frontier while one thread poisons past it.
/// Offsets are multiples of 8, so bit 0 is free.
#[cfg(asan)]
const EXTENDING: usize = 1;

/// A lock-free bump cursor's poisoning state (`SyncArena`'s): like
/// [`Shadow`], everything from `start` up to the frontier that is not a
/// live block is poisoned, and the frontier moves ahead of the cursor a
/// chunk at a time.
///
/// Why concurrent poisoning cannot hit a block another thread was just
/// handed (which would be a false report):
///
/// * Bytes below the frontier are poisoned only by whoever owns them: a
///   block's owner as it frees it (*before* the compare-and-swap that
///   gives it back, so the next claimer, whose claim acquires that
///   release, unpoisons after), or `reset` under `&mut`.
/// * Bytes past the frontier are poisoned by one thread at a time: it sets
///   [`EXTENDING`] with a compare-and-swap, poisons `frontier..target`,
///   and only then publishes `target` with a release store. A thread that
///   claimed `offset..end` waits until the published frontier covers `end`
///   (acquire) before it unpoisons its block, so the extension's poisoning
///   of those bytes happens before its unpoisoning; later extensions start
///   at or past `end` and never touch it.
/// * Blocks and leases are 8-aligned and rounded to 8 bytes, so two threads
///   never write the same shadow byte.
///
/// A `SharedArena`'s cursor uses [`disabled`](Self::disabled): ASan's
/// shadow is per process, so a block another process allocated would look
/// poisoned here.
#[cfg(asan)]
pub(crate) struct AtomicShadow {
    /// The cursor's first byte; `None` when this cursor never poisons. One
    /// field for both keeps a `SharedArena`'s cursor within its header.
    start: Option<NonNull<u8>>,
    /// Bytes from `start` poisoned (some since handed out), published after
    /// the poisoning; plus [`EXTENDING`] while a thread poisons beyond it.
    frontier: core::sync::atomic::AtomicUsize,
}

/// Zero-sized without `cfg(asan)`.
#[cfg(not(asan))]
pub(crate) struct AtomicShadow;

impl AtomicShadow {
    /// The state for a cursor over fresh memory starting at `start`.
    #[inline(always)]
    pub(crate) fn new(start: NonNull<u8>) -> AtomicShadow {
        AtomicShadow::with_enabled(start, true)
    }

    /// The state for a cursor that never poisons (memory shared with other
    /// processes, which have their own shadows).
    #[inline(always)]
    pub(crate) fn disabled(start: NonNull<u8>) -> AtomicShadow {
        AtomicShadow::with_enabled(start, false)
    }

    #[inline(always)]
    fn with_enabled(start: NonNull<u8>, enabled: bool) -> AtomicShadow {
        #[cfg(asan)]
        let shadow = AtomicShadow {
            start: enabled.then_some(start),
            frontier: core::sync::atomic::AtomicUsize::new(0),
        };
        #[cfg(not(asan))]
        let shadow = {
            let _ = (start, enabled);
            AtomicShadow
        };
        shadow
    }

    /// The bytes up to offset `end` (a multiple of 8, at most `capacity`)
    /// were just claimed by this thread: returns once everything up to
    /// `end` has been poisoned, poisoning the next chunk if needed. The
    /// claim stays poisoned (a lease's tail is unused until bumped into).
    #[inline(always)]
    pub(crate) fn claimed(&self, end: usize, capacity: usize) {
        #[cfg(asan)]
        if let Some(start) = self.start {
            if self.frontier.load(core::sync::atomic::Ordering::Acquire) & !EXTENDING < end {
                self.advance(start, end, capacity);
            }
        }
        #[cfg(not(asan))]
        let _ = (end, capacity);
    }

    /// `len` bytes at `block`, ending at offset `end` once rounded, were
    /// just claimed by this thread: [`claimed`](Self::claimed), then
    /// unpoisons exactly the block.
    #[inline(always)]
    pub(crate) fn handed_out(&self, block: NonNull<u8>, len: usize, end: usize, capacity: usize) {
        #[cfg(asan)]
        if self.start.is_some() && len > 0 {
            self.claimed(end, capacity);
            unpoison(block, len);
        }
        #[cfg(not(asan))]
        let _ = (block, len, end, capacity);
    }

    /// `len` bytes at `block` are dead: called by their owner *before* they
    /// can be claimed again (before the rewind that gives them back).
    #[inline(always)]
    pub(crate) fn given_back(&self, block: NonNull<u8>, len: usize) {
        #[cfg(asan)]
        if self.start.is_some() {
            poison(block, len);
        }
        #[cfg(not(asan))]
        let _ = (block, len);
    }

    /// Moves the frontier to at least `end`, one extending thread at a
    /// time (see the type's docs).
    #[cfg(asan)]
    #[cold]
    #[inline(never)]
    fn advance(&self, start: NonNull<u8>, end: usize, capacity: usize) {
        use core::sync::atomic::Ordering;
        debug_assert!(end % 8 == 0 && capacity % 8 == 0 && end <= capacity);
        loop {
            let frontier = self.frontier.load(Ordering::Acquire);
            let published = frontier & !EXTENDING;
            if published >= end {
                return;
            }
            if frontier & EXTENDING != 0 {
                core::hint::spin_loop();
                continue;
            }
            if self
                .frontier
                .compare_exchange_weak(
                    frontier,
                    frontier | EXTENDING,
                    Ordering::Acquire,
                    Ordering::Relaxed,
                )
                .is_ok()
            {
                let target = end.saturating_add(CHUNK).min(capacity);
                // SAFETY: `published < end <= target <= capacity`: inside
                // the memory.
                poison(unsafe { start.add(published) }, target - published);
                self.frontier.store(target, Ordering::Release);
                return;
            }
        }
    }
}

#[cfg(asan)]
impl Drop for AtomicShadow {
    fn drop(&mut self) {
        if let Some(start) = self.start {
            unpoison(start, *self.frontier.get_mut() & !EXTENDING);
        }
    }
}

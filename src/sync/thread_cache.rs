//! The `&SyncArena` fast path (`cfg(thread_cache)`: `std` and 64-bit
//! atomics): each thread caches a lease of the last two arenas it
//! allocated from, and bumps inside it without atomics, as a
//! [`LocalArena`](super::LocalArena) does, but found implicitly.
//!
//! The cache is a `thread_local!` initialised in a `const` and without
//! `Drop`, so reaching it is one thread-pointer-relative address, with no
//! lazy initialisation and no destructor to register. Each of its two
//! slots holds a [`LeaseCursor`] and the *key* of the arena whose cursor
//! owns it. A key names one arena from its creation, or its last
//! `reset`/`release`, to the next (or its drop): keys come from a global
//! counter and are never reused, and `reset` and `release` give the arena
//! a new one. A slot is used only with an arena in hand whose key it
//! records, so a lease is never used after the reset that ended its epoch,
//! nor after its arena was dropped — even when a new arena is mapped at
//! the same address. A slot whose arena is gone is simply overwritten
//! later; its lease's tail is lost with the arena.
//!
//! A thread's slot for an arena starts over (a first, 4 KiB lease) when it
//! is claimed after the arena's reset or after an eviction. Evicted slots
//! (a thread that alternates among three arenas or more) lose their tail
//! until their arena's next reset: the slot cannot reach its arena, which
//! may be gone.
//!
//! Not async-signal-safe: a signal handler allocating from an arena the
//! interrupted code on its thread was allocating from would bump the same
//! lease. (Without `thread_cache`, `&SyncArena` is one compare-and-swap
//! per block, and a handler may use it.)
//!
//! `unsafe` is allowed here for the lease cursors' operations, whose
//! owner a slot's key names.
#![allow(unsafe_code)]

use core::alloc::Layout;
use core::cell::Cell;
use core::mem::ManuallyDrop;
use core::ptr::NonNull;
use core::sync::atomic::{AtomicU64, Ordering};

use super::lease::LeaseCursor;
use super::SyncArena;
use crate::raw::RawAllocator;

/// The next key to hand out; 0 is no arena's (an empty slot's).
static NEXT_KEY: AtomicU64 = AtomicU64::new(1);

/// A key that no arena has had before, for a new arena or a reset one.
///
/// # Panics
///
/// When half the keys are spent: at a billion keys a second that takes
/// three centuries, but a key that came round again would let a thread use
/// a lease of a dropped arena, so it is checked.
pub(crate) fn new_key() -> u64 {
    // Relaxed: the read-modify-write alone makes every key unique; no
    // memory is published with it.
    let key = NEXT_KEY.fetch_add(1, Ordering::Relaxed);
    assert!(key < 1 << 63, "SyncArena: arena keys exhausted");
    key
}

/// One cached lease.
struct Slot {
    /// The key of the arena whose cursor owns `leases` (see the module
    /// docs); 0 before the slot's first use.
    key: Cell<u64>,
    /// The thread's leases of that arena. `ManuallyDrop` keeps the cache
    /// free of drop glue under every cfg (the `asan` shadow inside a
    /// cursor has a `Drop`, which would give the thread-local a
    /// destructor); a lease cursor's drop has nothing to do: its shadow
    /// does not own the poison, and the memory is the arena's.
    leases: ManuallyDrop<LeaseCursor>,
}

// The fast path relies on the cache having no destructor (see `slots`).
const _: () = assert!(!core::mem::needs_drop::<Slots>());

impl Slot {
    /// Trades contents (key and leases together) with `other`.
    fn swap(&self, other: &Slot) {
        self.key.swap(&other.key);
        self.leases.swap(&other.leases);
    }
}

/// A thread's cache: slot 0 serves the arena the thread allocated from
/// last (the fast path looks at it alone), slot 1 the one before. The two
/// keys differ unless both are 0.
struct Slots([Slot; 2]);

impl Slots {
    const fn new() -> Slots {
        Slots([
            Slot {
                key: Cell::new(0),
                leases: ManuallyDrop::new(LeaseCursor::new()),
            },
            Slot {
                key: Cell::new(0),
                leases: ManuallyDrop::new(LeaseCursor::new()),
            },
        ])
    }

    /// The slot `arena`'s cursor owns, if any.
    #[inline]
    fn find(&self, arena: &SyncArena) -> Option<&Slot> {
        self.0.iter().find(|slot| slot.key.get() == arena.key)
    }

    /// The slot for `arena`, which the fast path did not find in slot 0:
    /// slot 1 if it is `arena`'s, else slot 1 started over on `arena`
    /// (evicting its lease); then moved to slot 0.
    #[cold]
    #[inline(never)]
    fn promote(&self, arena: &SyncArena) -> &Slot {
        let [first, second] = &self.0;
        if second.key.get() != arena.key {
            second.leases.start_over(arena.cursor());
            second.key.set(arena.key);
        }
        first.swap(second);
        first
    }
}

#[cfg(not(all(test, loom)))]
std::thread_local! {
    /// This thread's cache.
    static SLOTS: Slots = const { Slots::new() };
}

// Loom's threads share the OS thread of the model: each needs loom's
// thread-local storage (which has no `const` form).
#[cfg(all(test, loom))]
loom::thread_local! {
    static SLOTS: Slots = Slots::new();
}

/// This thread's cache.
#[cfg(not(all(test, loom)))]
#[inline(always)]
fn slots<R>(f: impl FnOnce(&Slots) -> R) -> R {
    // Out of `with`, whose closure must stay small for `with` itself to
    // be inlined (else the fast path calls it, and through it the key's
    // accessor, by pointer).
    let slots = SLOTS.with(core::ptr::from_ref);
    // SAFETY: the cache is made in a `const` and has no destructor, so it
    // lives as long as this thread, which is running; `Slots` is `!Sync`,
    // so nothing else reaches it.
    f(unsafe { &*slots })
}

/// This thread's cache (loom's).
#[cfg(all(test, loom))]
fn slots<R>(f: impl FnOnce(&Slots) -> R) -> R {
    SLOTS.with(f)
}

/// The slot for `arena` on this thread, made the first if it was not.
#[inline(always)]
fn slot_for<R>(arena: &SyncArena, f: impl FnOnce(&Slot) -> R) -> R {
    slots(|slots| {
        let first = &slots.0[0];
        // One call of `f`, which is then inlined once.
        let slot = if first.key.get() == arena.key {
            first
        } else {
            slots.promote(arena)
        };
        f(slot)
    })
}

/// `arena.alloc*`'s and `Allocator::allocate`'s block: from this thread's
/// lease of `arena`.
#[inline(always)]
pub(crate) fn allocate(arena: &SyncArena, layout: Layout) -> Option<NonNull<u8>> {
    // SAFETY: the slot carries `arena`'s key, so `arena`'s cursor owns its
    // leases (the module docs).
    slot_for(arena, |slot| unsafe {
        slot.leases.allocate(arena.cursor(), layout)
    })
}

/// [`allocate`], zeroed.
#[inline]
pub(crate) fn allocate_zeroed(arena: &SyncArena, layout: Layout) -> Option<NonNull<u8>> {
    // SAFETY: as in `allocate`.
    slot_for(arena, |slot| unsafe {
        slot.leases.allocate_zeroed(arena.cursor(), layout)
    })
}

/// Frees a block: in this thread's lease of `arena` if it lies there, by
/// the shared cursor's rules otherwise.
///
/// Out of line, as are [`grow`] and [`shrink`]: inlined, their bodies
/// (the cache lookup and both cursors' rules) crowd the caller's
/// registers: a `Vec` in `&SyncArena` pushed in a loop then kept its
/// length or capacity on the stack, a store and a load per push (see the
/// `sync_vec` rows in `benches/README.md`), and its drop glue stayed a
/// call that took the vector's address. A call per free or resize costs
/// little next to that.
///
/// # Safety
///
/// * As for [`LeaseCursor::deallocate`] (without the owner: found here).
#[inline(never)]
pub(crate) unsafe fn deallocate(arena: &SyncArena, ptr: NonNull<u8>, layout: Layout) {
    slots(|slots| match slots.find(arena) {
        // SAFETY: the caller's contract; the slot carries `arena`'s key.
        Some(slot) => unsafe { slot.leases.deallocate(arena.cursor(), ptr, layout) },
        // SAFETY: the caller's contract; with no lease of `arena` here, the
        // block is the shared cursor's (see `LeaseCursor`).
        None => unsafe { arena.cursor().deallocate(ptr, layout) },
    })
}

/// Grows a block, in this thread's lease of `arena` if it lies there.
///
/// Out of line: see [`deallocate`].
///
/// # Safety
///
/// * As for [`LeaseCursor::grow`] (without the owner: found here).
#[inline(never)]
pub(crate) unsafe fn grow(
    arena: &SyncArena,
    ptr: NonNull<u8>,
    old: Layout,
    new: Layout,
    zeroed: bool,
) -> Option<NonNull<u8>> {
    slots(|slots| match slots.find(arena) {
        // SAFETY: the caller's contract; the slot carries `arena`'s key.
        Some(slot) => unsafe { slot.leases.grow(arena.cursor(), ptr, old, new, zeroed) },
        // SAFETY: as in `deallocate`.
        None => unsafe { arena.cursor().grow(ptr, old, new, zeroed) },
    })
}

/// Shrinks a block, in this thread's lease of `arena` if it lies there.
///
/// Out of line: see [`deallocate`].
///
/// # Safety
///
/// * As for [`LeaseCursor::shrink`] (without the owner: found here).
#[inline(never)]
pub(crate) unsafe fn shrink(
    arena: &SyncArena,
    ptr: NonNull<u8>,
    old: Layout,
    new: Layout,
) -> Option<NonNull<u8>> {
    slots(|slots| match slots.find(arena) {
        // SAFETY: the caller's contract; the slot carries `arena`'s key.
        Some(slot) => unsafe { slot.leases.shrink(arena.cursor(), ptr, old, new) },
        // SAFETY: as in `deallocate`.
        None => unsafe { arena.cursor().shrink(ptr, old, new) },
    })
}

/// Bytes left in this thread's lease of `arena` (0 without one).
pub(crate) fn lease_remaining(arena: &SyncArena) -> usize {
    slots(|slots| slots.find(arena).map_or(0, |slot| slot.leases.remaining()))
}

//! Loom models of `&SyncArena`'s per-thread leases (`thread_cache`):
//! three threads allocate through the shared `&SyncArena`, each from its
//! own cached lease, claiming leases against each other, handing tails
//! back and freeing blocks of another thread's lease by the shared
//! cursor's rules; then a reset, and a drop, after which the model's own
//! thread must not use its cached lease again.
//!
//! The blocks are written and read through loom cells ([`Words`]) as in
//! `loom_tests`, whose helpers these models share. Under loom each model
//! thread has its own loom thread-local cache. `ci/loom.sh` runs them
//! (they are named `loom_*`).

use core::alloc::Layout;

use loom::sync::Arc;

use super::loom_tests::{alloc, free, shared};
use super::SyncArena;
use crate::raw::loom_tests::assert_settled;
use crate::raw::RawAllocator;
use crate::sync_prims::model::{self, Block, Words};

/// Grows `block` (a live block of `arena`, holding its tag) to `size`
/// bytes through `&SyncArena`, and fills the grown block with `tag`.
fn grow(arena: &SyncArena, words: &Words, block: Block, size: usize, tag: u8) -> Option<Block> {
    let old = Layout::from_size_align(block.len, 8).unwrap();
    let new = Layout::from_size_align(size, 8).unwrap();
    // SAFETY: `block` is live in `arena` for `old`; on success it is not
    // used again.
    let ptr = unsafe { RawAllocator::grow(arena, block.ptr, old, new, false)? };
    // SAFETY: the grown block is this thread's now, its first `old` bytes
    // kept.
    unsafe { words.expect(ptr, block.len, block.tag) };
    let grown = Block {
        ptr,
        len: size,
        tag,
    };
    // SAFETY: as above.
    unsafe { words.fill(grown, None) };
    Some(grown)
}

/// Lease claim against lease claim against tail hand-back, all implicit.
/// One thread's first block claims a lease, its second does not fit the
/// lease's rest (the tail goes back if nothing was claimed after it, and a
/// larger lease is claimed) and is freed inside the new lease; another
/// claims a zeroed block and grows it past its lease (moved into a new
/// one); the model's own thread claims a lease, and frees the first
/// thread's first block by the shared cursor's rules. After the joins
/// the live blocks are apart with their tags; after a reset, the model's
/// thread's next block is at the arena's start, not in its stale lease.
#[test]
fn loom_thread_leases_claim_vs_claim_vs_give_back() {
    model::check("thread leases: claim vs claim vs give back", || {
        let shared = shared();

        let s = Arc::clone(&shared);
        let outgrows = model::spawn(move || {
            let small = alloc(&s.arena, &s.words, 16, false, 1).unwrap();
            if let Some(big) = alloc(&s.arena, &s.words, 2048, false, 2) {
                free(&s.arena, big);
            }
            small
        });
        let s = Arc::clone(&shared);
        let grows = model::spawn(move || {
            let first = alloc(&s.arena, &s.words, 24, true, 3).unwrap();
            grow(&s.arena, &s.words, first, 3000, 4).unwrap()
        });
        model::start_line();
        let own = alloc(&shared.arena, &shared.words, 64, true, 5).unwrap();
        let small = outgrows.join().unwrap();
        // Outside this thread's lease: the shared cursor's rules (in place
        // only if nothing was claimed after it).
        free(&shared.arena, small);
        let live = [own, grows.join().unwrap()];

        let mut shared = shared;
        let s = Arc::get_mut(&mut shared).expect("every thread joined");
        // SAFETY: the cells are the arena's mapping's; the threads are done.
        unsafe { assert_settled(&mut s.arena.mapped.cursor, &s.words, &live) };
        s.arena.reset();
        assert_eq!(s.arena.lease_remaining(), 0, "the lease is stale");
        let again = alloc(&s.arena, &s.words, 8, true, 6).unwrap();
        assert_eq!(
            again.ptr,
            s.arena.cursor().start(),
            "a new lease from the start"
        );
    });
}

/// A dropped arena's cached lease against a new arena's claims: the model's
/// thread and another allocate from one arena, which is then dropped; two
/// threads allocate from a new arena (perhaps mapped at the same address)
/// at once, the model's thread through a cache whose slot still holds the
/// dropped arena's lease. The new blocks are apart, and the model's first
/// one is in a lease of its own.
#[test]
fn loom_a_dropped_arenas_lease_is_not_used() {
    model::check("thread leases: dropped arena", || {
        let old = shared();
        let o = Arc::clone(&old);
        let other = model::spawn(move || alloc(&o.arena, &o.words, 40, false, 1).unwrap());
        model::start_line();
        alloc(&old.arena, &old.words, 16, false, 2).unwrap();
        other.join().unwrap();
        drop(old);

        let new = shared();
        let n = Arc::clone(&new);
        let other = model::spawn(move || alloc(&n.arena, &n.words, 40, false, 3).unwrap());
        assert_eq!(
            new.arena.lease_remaining(),
            0,
            "no lease of the new arena yet"
        );
        let mine = alloc(&new.arena, &new.words, 16, false, 4).unwrap();
        let live = [mine, other.join().unwrap()];
        let mut new = new;
        let n = Arc::get_mut(&mut new).expect("every thread joined");
        // SAFETY: as in the first model.
        unsafe { assert_settled(&mut n.arena.mapped.cursor, &n.words, &live) };
    });
}

//! A loom model of [`LocalArena`](super::LocalArena)'s leases: two handles
//! on two threads claim leases from the shared cursor, hand their unused
//! tails back (when renewing and when dropped) and free blocks inside
//! them, while a third thread allocates from the shared cursor directly.
//!
//! Every block is written and read through loom cells ([`Words`]), so a
//! byte handed out twice, or handed on without the release/acquire pair
//! that makes its old owner's writes visible, fails the model; at the end
//! the live blocks must be apart with their tags, and every byte past the
//! cursor's high-water mark zero. `ci/loom.sh` runs it.

use core::alloc::Layout;

use loom::sync::Arc;

use super::SyncArena;
use crate::raw::loom_tests::assert_settled;
use crate::raw::RawAllocator;
use crate::sync_prims::model::{self, Block, Words};

/// The arena (a real mapping of three pages: room for the leases of three
/// threads) and the loom cells of its words.
pub(super) struct Shared {
    pub(super) arena: SyncArena,
    pub(super) words: Words,
}

/// A three-page arena (no recycling: each execution maps its own) and its
/// loom cells.
pub(super) fn shared() -> Arc<Shared> {
    let arena = SyncArena::builder()
        .capacity(3 << 12)
        .recycle(false)
        .build()
        .unwrap();
    let cursor = arena.cursor();
    let words = Words::new(cursor.start(), cursor.capacity());
    Arc::new(Shared { arena, words })
}

/// Allocates `size` bytes from `allocator` (zeroed, and checked, if
/// asked) and fills them with `tag`; `None` when the arena is full.
pub(super) fn alloc(
    allocator: &impl RawAllocator,
    words: &Words,
    size: usize,
    zeroed: bool,
    tag: u8,
) -> Option<Block> {
    let layout = Layout::from_size_align(size, 8).unwrap();
    let ptr = if zeroed {
        allocator.allocate_zeroed(layout)?
    } else {
        allocator.allocate(layout)?
    };
    let block = Block {
        ptr,
        len: size,
        tag,
    };
    // SAFETY: the allocator just handed the block to this thread.
    unsafe { words.fill(block, zeroed.then_some(0)) };
    Some(block)
}

/// Frees `block`, a live block of `allocator`.
pub(super) fn free(allocator: &impl RawAllocator, block: Block) {
    let layout = Layout::from_size_align(block.len, 8).unwrap();
    // SAFETY: a live block of this allocator (a handle frees blocks of its
    // own leases and passes others to the shared cursor), not used again.
    unsafe { allocator.deallocate(block.ptr, layout) };
}

/// Lease claim against lease return. One handle fills a block, outgrows
/// its first lease (handing the tail back if it is still the newest claim,
/// then claiming a larger lease), frees that big block inside the new
/// lease and drops the handle (handing back the tail, dirty bytes and
/// all); another handle claims a lease and allocates zeroed memory twice;
/// the model's own thread allocates zeroed memory from the arena itself.
#[test]
fn loom_lease_claim_vs_return() {
    model::check("lease claim vs lease return", || {
        let shared = shared();

        let s = Arc::clone(&shared);
        let outgrows = model::spawn(move || {
            let local = s.arena.local();
            let small = alloc(&local, &s.words, 16, false, 1).unwrap();
            if let Some(big) = alloc(&local, &s.words, 4096, false, 2) {
                free(&local, big);
            }
            small
        });
        let s = Arc::clone(&shared);
        let claims = model::spawn(move || {
            let local = s.arena.local();
            let first = alloc(&local, &s.words, 24, true, 3);
            let second = alloc(&local, &s.words, 2048, true, 4);
            [first, second]
        });
        model::start_line();
        let direct = alloc(shared.arena.cursor(), &shared.words, 64, true, 5);

        let mut live = vec![outgrows.join().unwrap()];
        live.extend(claims.join().unwrap().into_iter().flatten());
        live.extend(direct);
        settle(shared, &live);
    });
}

/// After every thread joined: the checks of [`assert_settled`] on the
/// shared cursor.
pub(super) fn settle(mut shared: Arc<Shared>, live: &[Block]) {
    let shared = Arc::get_mut(&mut shared).expect("every thread joined");
    // SAFETY: the cells are the arena's mapping's; the threads are done.
    unsafe { assert_settled(&mut shared.arena.mapped.cursor, &shared.words, live) };
}

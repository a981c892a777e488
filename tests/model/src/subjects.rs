//! [`Subject`] for each allocator type that exists (Arena, SyncArena,
//! StackArena, PageAllocator). A new type adds one impl here and is fuzzed
//! through the trait.

use core::alloc::Layout;
use core::ops::Range;

use anon_arena::{Arena, PageAllocator};

use crate::input::CAPACITY;
use crate::{bump_may_refuse, Stats, Subject};

/// Where an empty bump allocator's next block would start: the address a
/// zero-sized request of alignment 1 gets.
pub(crate) fn base_of(arena: &Arena) -> usize {
    arena.alloc_layout(Layout::new::<()>()).as_ptr() as usize - arena.allocated_bytes()
}

/// The bump arenas answer every `Subject` question the same way through
/// their shared surface; only the type, its name, whether its trait calls
/// follow the exact [`CursorModel`](crate::CursorModel), where its memory
/// starts and what it may refuse differ.
macro_rules! bump_subject {
    ($($ty:ty => $name:literal, cursor: $cursor:literal, start: $start:expr, lease: $lease:expr;)*) => {$(
        impl Subject for $ty {
            const NAME: &'static str = $name;
            const BUMP: bool = true;
            const RESET: bool = true;
            const CURSOR: bool = $cursor;
            const SHRINKS_IN_PLACE: bool = true;

            fn make() -> Self {
                <$ty>::with_capacity(CAPACITY)
            }

            fn bounds(&self) -> Range<usize> {
                let start = $start(self);
                start..start + self.capacity()
            }

            /// From `stats()`, which must agree with `allocated_bytes()`,
            /// `remaining()` and `capacity()` and have a high-water mark no
            /// lower than what is allocated.
            fn stats(&self) -> Stats {
                let all = <$ty>::stats(self);
                let stats = Stats {
                    allocated: all.allocated,
                    remaining: all.remaining,
                    capacity: all.capacity,
                };
                let direct = Stats {
                    allocated: self.allocated_bytes(),
                    remaining: self.remaining(),
                    capacity: self.capacity(),
                };
                assert!(
                    stats == direct && all.high_water >= all.allocated,
                    "{}: stats() says {all}, the methods {direct:?}",
                    $name
                );
                stats
            }

            fn may_refuse(&self, layout: Layout) -> bool {
                bump_may_refuse(layout, $lease(self)) && bump_may_refuse(layout, self.remaining())
            }

            fn reset(&mut self, release: bool) {
                if release {
                    self.release();
                } else {
                    self.reset();
                }
            }
        }
    )*};
}

/// Where a `SyncArena`'s memory starts: a new handle's zero-sized block
/// sits there (a block through `&SyncArena` sits in this thread's lease).
fn sync_start(arena: &anon_arena::SyncArena) -> usize {
    arena.local().alloc_layout(Layout::new::<()>()).as_ptr() as usize
}

/// Where a `StackArena`'s memory starts, as [`base_of`] finds an `Arena`'s.
fn stack_start(arena: &anon_arena::StackArena) -> usize {
    arena.alloc_layout(Layout::new::<()>()).as_ptr() as usize - arena.allocated_bytes()
}

bump_subject! {
    Arena => "Arena", cursor: true, start: base_of, lease: |_| 0;
    anon_arena::SyncArena => "SyncArena", cursor: false, start: sync_start,
        lease: anon_arena::SyncArena::lease_remaining;
    anon_arena::StackArena => "StackArena", cursor: true, start: stack_start, lease: |_| 0;
}

/// Every mapping `mmap` makes without an address hint lies below 2^48 (the
/// `PageAllocator` registry's range too); none starts in the first page.
const MAPPABLE: Range<usize> = 4096..1 << 48;

/// The largest block the programs ask a `PageAllocator` for: sixteen
/// pages. Larger ones would be mapped (and filled by the checker) for
/// real; only those no address space holds are still asked, to be refused.
const PAGES_LARGEST: usize = 64 << 10;

/// No process has this much address space (user space is 2^47 bytes on
/// x86-64, 2^48 with 48-bit aarch64), so a mapping this large must be
/// refused; smaller ones may be served, `mmap` reserving nothing.
const UNMAPPABLE: usize = 1 << 48;

/// Each block its own mapping: no capacity, no numbers, no reset, so every
/// program frees what it leaves live. Non-empty blocks start on a page
/// (4 KiB at least) anywhere a mapping can; zero-sized ones get only the
/// alignment asked; a shrink to an alignment above a page moves the block.
impl Subject for PageAllocator {
    const NAME: &'static str = "PageAllocator";
    const BUMP: bool = false;
    const RESET: bool = false;
    const SHRINKS_IN_PLACE: bool = false;
    const MIN_ALIGN: usize = 1;
    const NON_EMPTY_ALIGN: usize = 4096;

    fn make() -> Self {
        PageAllocator
    }

    fn bounds(&self) -> Range<usize> {
        MAPPABLE
    }

    /// It counts nothing: all of the address space, none of it allocated.
    fn stats(&self) -> Stats {
        Stats {
            allocated: 0,
            remaining: usize::MAX,
            capacity: usize::MAX,
        }
    }

    fn may_refuse(&self, layout: Layout) -> bool {
        layout.size() >= UNMAPPABLE
    }

    fn reset(&mut self, _release: bool) {
        unreachable!("PageAllocator has no reset");
    }

    /// Under Miri, also the requests that must be refused (its `mmap`
    /// reserves the memory, and stops the run when it cannot), and
    /// alignments above a page: such a block is cut out of a larger
    /// mapping, and Miri's `munmap` unmaps only whole ones (the crate's own
    /// tests of them are ignored under Miri for the same reason).
    fn skips(&self, layout: Layout) -> bool {
        if cfg!(miri) {
            return layout.size() > PAGES_LARGEST || layout.align() > 4096;
        }
        (PAGES_LARGEST + 1..UNMAPPABLE).contains(&layout.size())
    }
}

//! [`Subject`] for each allocator type that exists (Arena, SyncArena,
//! StackArena). A new type adds one impl here and is fuzzed through the trait.

use core::alloc::Layout;
use core::ops::Range;

use anon_arena::Arena;

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

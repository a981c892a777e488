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

impl Subject for Arena {
    const NAME: &'static str = "Arena";
    const BUMP: bool = true;
    const RESET: bool = true;

    fn make() -> Self {
        Arena::with_capacity(CAPACITY)
    }

    fn bounds(&self) -> Range<usize> {
        let start = base_of(self);
        start..start + self.capacity()
    }

    fn stats(&self) -> Stats {
        Stats {
            allocated: self.allocated_bytes(),
            remaining: self.remaining(),
            capacity: self.capacity(),
        }
    }

    fn may_refuse(&self, layout: Layout) -> bool {
        bump_may_refuse(layout, self.remaining())
    }

    fn reset(&mut self, release: bool) {
        if release {
            self.release();
        } else {
            self.reset();
        }
    }
}

impl Subject for anon_arena::SyncArena {
    const NAME: &'static str = "SyncArena";
    const BUMP: bool = true;
    const RESET: bool = true;

    fn make() -> Self {
        anon_arena::SyncArena::with_capacity(CAPACITY)
    }

    fn bounds(&self) -> Range<usize> {
        let zst = self.alloc_layout(Layout::new::<()>()).as_ptr() as usize;
        let start = zst - self.allocated_bytes();
        start..start + self.capacity()
    }

    fn stats(&self) -> Stats {
        Stats {
            allocated: self.allocated_bytes(),
            remaining: self.remaining(),
            capacity: self.capacity(),
        }
    }

    fn may_refuse(&self, layout: Layout) -> bool {
        bump_may_refuse(layout, self.remaining())
    }

    fn reset(&mut self, release: bool) {
        if release {
            self.release();
        } else {
            self.reset();
        }
    }
}

impl Subject for anon_arena::StackArena {
    const NAME: &'static str = "StackArena";
    const BUMP: bool = true;
    const RESET: bool = true;

    fn make() -> Self {
        anon_arena::StackArena::with_capacity(CAPACITY)
    }

    fn bounds(&self) -> Range<usize> {
        let zst = self.alloc_layout(Layout::new::<()>()).as_ptr() as usize;
        let start = zst - self.allocated_bytes();
        start..start + self.capacity()
    }

    fn stats(&self) -> Stats {
        Stats {
            allocated: self.allocated_bytes(),
            remaining: self.remaining(),
            capacity: self.capacity(),
        }
    }

    fn may_refuse(&self, layout: Layout) -> bool {
        bump_may_refuse(layout, self.remaining())
    }

    fn reset(&mut self, release: bool) {
        if release {
            self.release();
        } else {
            self.reset();
        }
    }
}

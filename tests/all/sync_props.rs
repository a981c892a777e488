//! Model-based property test for `SyncArena`, run sequentially: random
//! programs of allocate / grow / shrink / deallocate / reset / release
//! through the `Allocator` trait, checked against a model that predicts
//! the cursor exactly (where every block lands, when a resize is in place)
//! and a list of live blocks with their fill patterns.

use std::alloc::Layout;
use std::ptr::NonNull;

use allocator_api2::alloc::Allocator;
use anon_arena::SyncArena;
use proptest::prelude::*;

const CAPACITY: usize = 64 << 10;
/// Operations per program: fewer under Miri, where every check is slow.
const OPS: usize = if cfg!(miri) { 60 } else { 200 };
/// Largest block and largest growth step, in bytes: smaller under Miri.
const MAX_SIZE: usize = if cfg!(miri) { 300 } else { 3000 };

#[derive(Clone, Debug)]
enum Op {
    Alloc {
        size: usize,
        align_log2: u32,
        zeroed: bool,
    },
    Grow {
        which: usize,
        extra: usize,
        zeroed: bool,
    },
    Shrink {
        which: usize,
        less: usize,
    },
    Dealloc {
        which: usize,
    },
    Reset,
    Release,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => (0usize..MAX_SIZE, 0u32..=12, any::<bool>())
            .prop_map(|(size, align_log2, zeroed)| Op::Alloc { size, align_log2, zeroed }),
        3 => (any::<usize>(), 0usize..MAX_SIZE, any::<bool>())
            .prop_map(|(which, extra, zeroed)| Op::Grow { which, extra, zeroed }),
        2 => (any::<usize>(), any::<usize>()).prop_map(|(which, less)| Op::Shrink { which, less }),
        3 => any::<usize>().prop_map(|which| Op::Dealloc { which }),
        1 => Just(Op::Reset),
        1 => Just(Op::Release),
    ]
}

/// A block the model believes is live, and the byte it was filled with.
struct Live {
    ptr: NonNull<u8>,
    layout: Layout,
    fill: u8,
}

struct Model {
    arena: SyncArena,
    /// Address of the arena's first byte.
    start: usize,
    /// What `allocated_bytes` must be.
    used: usize,
    live: Vec<Live>,
    next_fill: u8,
}

fn round8(size: usize) -> usize {
    size.next_multiple_of(8)
}

impl Model {
    fn new() -> Model {
        let arena = SyncArena::with_capacity(CAPACITY);
        // A zero-sized block at the start of an empty arena marks its base.
        let start = arena.alloc_layout(Layout::new::<()>()).as_ptr() as usize;
        Model {
            arena,
            start,
            used: 0,
            live: Vec::new(),
            next_fill: 1,
        }
    }

    /// Where a fresh block for `layout` lands and the cursor after it, or
    /// `None` if it does not fit (zero-sized over-aligned blocks: `Some`
    /// with no address in the arena, handled by the caller).
    fn predict(&self, layout: Layout) -> Option<(usize, usize)> {
        let here = self.start + self.used;
        let at = here.next_multiple_of(layout.align().max(8));
        let end = at + round8(layout.size());
        (end <= self.start + self.arena.capacity()).then_some((at, end - self.start))
    }

    fn is_newest(&self, addr: usize, size: usize) -> bool {
        addr >= self.start && addr + round8(size) == self.start + self.used
    }

    fn fill(&mut self, ptr: NonNull<u8>, len: usize) -> u8 {
        let fill = self.next_fill;
        self.next_fill = self.next_fill.wrapping_add(1).max(1);
        // SAFETY: `..len` lies inside a live block the model owns.
        unsafe { std::ptr::write_bytes(ptr.as_ptr(), fill, len) };
        fill
    }

    fn bytes(ptr: NonNull<u8>, len: usize) -> &'static [u8] {
        // SAFETY: callers pass live blocks, read before any later mutation.
        unsafe { std::slice::from_raw_parts(ptr.as_ptr(), len) }
    }

    /// Checks a fresh block for `layout` against the prediction and moves
    /// the model's cursor.
    fn expect_fresh(&mut self, block: Option<NonNull<u8>>, layout: Layout) -> TestResult {
        if layout.size() == 0 && layout.align() > 8 {
            prop_assert!(block.is_some(), "zero-sized requests never fail");
            return Ok(());
        }
        match (block, self.predict(layout)) {
            (Some(block), Some((at, used))) => {
                prop_assert_eq!(block.as_ptr() as usize, at, "{:?} landed elsewhere", layout);
                self.used = used;
            }
            (None, None) => {}
            (got, want) => prop_assert!(false, "{layout:?}: got {got:?}, model says {want:?}"),
        }
        Ok(())
    }

    fn apply(&mut self, op: Op) -> TestResult {
        match op {
            Op::Alloc {
                size,
                align_log2,
                zeroed,
            } => {
                let layout = Layout::from_size_align(size, 1 << align_log2).unwrap();
                let arena = &self.arena;
                let result = if zeroed {
                    arena.allocate_zeroed(layout)
                } else {
                    arena.allocate(layout)
                };
                let block = result.ok().map(NonNull::cast::<u8>);
                self.expect_fresh(block, layout)?;
                if let Some(ptr) = block {
                    if zeroed {
                        prop_assert!(Self::bytes(ptr, size).iter().all(|&b| b == 0));
                    }
                    let fill = self.fill(ptr, size);
                    self.live.push(Live { ptr, layout, fill });
                }
            }
            Op::Grow {
                which,
                extra,
                zeroed,
            } if !self.live.is_empty() => {
                let i = which % self.live.len();
                let Live { ptr, layout, fill } = self.live[i];
                let new = Layout::from_size_align(layout.size() + extra, layout.align()).unwrap();
                let addr = ptr.as_ptr() as usize;
                let in_place = self.is_newest(addr, layout.size())
                    && addr + round8(new.size()) <= self.start + self.arena.capacity();
                let arena = &self.arena;
                // SAFETY: `ptr` is live for `layout`; `new` is no smaller.
                let result = unsafe {
                    if zeroed {
                        arena.grow_zeroed(ptr, layout, new)
                    } else {
                        arena.grow(ptr, layout, new)
                    }
                };
                let block = result.ok().map(NonNull::cast::<u8>);
                if in_place {
                    prop_assert_eq!(block, Some(ptr), "the newest block grows in place");
                    self.used = addr - self.start + round8(new.size());
                } else {
                    self.expect_fresh(block, new)?;
                }
                if let Some(moved) = block {
                    let bytes = Self::bytes(moved, new.size());
                    prop_assert!(bytes[..layout.size()].iter().all(|&b| b == fill));
                    if zeroed {
                        prop_assert!(bytes[layout.size()..].iter().all(|&b| b == 0));
                    }
                    let fill = self.fill(moved, new.size());
                    self.live[i] = Live {
                        ptr: moved,
                        layout: new,
                        fill,
                    };
                }
            }
            Op::Shrink { which, less } if !self.live.is_empty() => {
                let i = which % self.live.len();
                let Live { ptr, layout, fill } = self.live[i];
                let new = Layout::from_size_align(
                    layout.size() - less % (layout.size() + 1),
                    layout.align(),
                )
                .unwrap();
                let addr = ptr.as_ptr() as usize;
                if self.is_newest(addr, layout.size()) {
                    self.used = addr - self.start + round8(new.size());
                }
                // SAFETY: `ptr` is live for `layout`; `new` is no larger.
                let block = unsafe { (&self.arena).shrink(ptr, layout, new) }
                    .map_err(|_| TestCaseError::fail("shrink failed"))?;
                prop_assert_eq!(block.cast::<u8>(), ptr, "same alignment shrinks in place");
                prop_assert!(Self::bytes(ptr, new.size()).iter().all(|&b| b == fill));
                self.live[i].layout = new;
            }
            Op::Dealloc { which } if !self.live.is_empty() => {
                let Live { ptr, layout, .. } = self.live.swap_remove(which % self.live.len());
                let addr = ptr.as_ptr() as usize;
                if self.is_newest(addr, layout.size()) {
                    self.used = addr - self.start;
                }
                // SAFETY: live for `layout`, forgotten by the model now.
                unsafe { (&self.arena).deallocate(ptr, layout) };
            }
            Op::Reset | Op::Release => {
                self.live.clear();
                if matches!(op, Op::Reset) {
                    self.arena.reset();
                } else {
                    self.arena.release();
                }
                self.used = 0;
            }
            _ => {}
        }
        self.check()
    }

    fn check(&self) -> TestResult {
        let arena = &self.arena;
        prop_assert_eq!(arena.allocated_bytes(), self.used, "cursor off the model");
        prop_assert_eq!(
            arena.allocated_bytes() + arena.remaining(),
            arena.capacity()
        );
        let mut ranges = Vec::new();
        for live in &self.live {
            let addr = live.ptr.as_ptr() as usize;
            prop_assert_eq!(addr % live.layout.align().max(8), 0);
            if live.layout.size() == 0 {
                continue;
            }
            prop_assert!(addr + live.layout.size() <= self.start + self.used);
            prop_assert!(
                Self::bytes(live.ptr, live.layout.size())
                    .iter()
                    .all(|&b| b == live.fill),
                "contents changed"
            );
            ranges.push((addr, addr + live.layout.size()));
        }
        ranges.sort_unstable();
        for pair in ranges.windows(2) {
            prop_assert!(pair[0].1 <= pair[1].0, "overlap {:?}", pair);
        }
        Ok(())
    }
}

type TestResult = Result<(), TestCaseError>;

proptest! {
    #![proptest_config(ProptestConfig {
        cases: if cfg!(miri) { 4 } else { 256 },
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn sync_arena_matches_the_model(ops in proptest::collection::vec(op(), 1..OPS)) {
        let mut model = Model::new();
        for op in ops {
            model.apply(op)?;
        }
    }
}

//! Model-based property test: random programs of allocate / grow / shrink /
//! deallocate / reset through the `Allocator` trait, checked against a list
//! of live blocks and their fill patterns.

use std::alloc::Layout;
use std::ptr::NonNull;

use allocator_api2::alloc::Allocator;
use anon_arena::Arena;
use proptest::prelude::*;

const CAPACITY: usize = 64 << 10;

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
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => (0usize..2048, 0u32..=12, any::<bool>())
            .prop_map(|(size, align_log2, zeroed)| Op::Alloc { size, align_log2, zeroed }),
        3 => (any::<usize>(), 0usize..4096, any::<bool>())
            .prop_map(|(which, extra, zeroed)| Op::Grow { which, extra, zeroed }),
        2 => (any::<usize>(), any::<usize>()).prop_map(|(which, less)| Op::Shrink { which, less }),
        3 => any::<usize>().prop_map(|which| Op::Dealloc { which }),
        1 => Just(Op::Reset),
    ]
}

/// A block the model believes is live, and the byte it was filled with.
struct Live {
    ptr: NonNull<u8>,
    layout: Layout,
    fill: u8,
}

struct Model {
    arena: Arena,
    start: usize,
    live: Vec<Live>,
    next_fill: u8,
}

impl Model {
    fn new() -> Model {
        let arena = Arena::with_capacity(CAPACITY);
        // A zero-sized block at the start of an empty arena marks its base.
        let start = arena.alloc_layout(Layout::new::<()>()).as_ptr() as usize;
        Model {
            arena,
            start,
            live: Vec::new(),
            next_fill: 1,
        }
    }

    fn fill(&mut self, ptr: NonNull<u8>, from: usize, to: usize) -> u8 {
        let fill = self.next_fill;
        self.next_fill = self.next_fill.wrapping_add(1).max(1);
        // SAFETY: `from..to` lies inside a live block the model owns.
        unsafe { std::ptr::write_bytes(ptr.as_ptr().add(from), fill, to - from) };
        fill
    }

    fn bytes(ptr: NonNull<u8>, len: usize) -> &'static [u8] {
        // SAFETY: callers pass live blocks, read before any later mutation.
        unsafe { std::slice::from_raw_parts(ptr.as_ptr(), len) }
    }

    fn apply(&mut self, op: Op) -> Result<(), TestCaseError> {
        let arena = &self.arena;
        match op {
            Op::Alloc {
                size,
                align_log2,
                zeroed,
            } => {
                let layout = Layout::from_size_align(size, 1 << align_log2).unwrap();
                let result = if zeroed {
                    arena.allocate_zeroed(layout)
                } else {
                    arena.allocate(layout)
                };
                match result {
                    Ok(block) => {
                        let ptr = block.cast::<u8>();
                        prop_assert_eq!(block.len(), size);
                        if zeroed {
                            prop_assert!(
                                Self::bytes(ptr, size).iter().all(|&b| b == 0),
                                "zeroed block not zero"
                            );
                        }
                        let fill = self.fill(ptr, 0, size);
                        self.live.push(Live { ptr, layout, fill });
                    }
                    Err(_) => {
                        let worst = size.next_multiple_of(8) + layout.align().saturating_sub(8);
                        prop_assert!(
                            worst > self.arena.remaining(),
                            "refused {layout:?} with {} left",
                            self.arena.remaining()
                        );
                    }
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
                // SAFETY: `ptr` is live for `layout`; `new` is no smaller.
                let result = unsafe {
                    if zeroed {
                        arena.grow_zeroed(ptr, layout, new)
                    } else {
                        arena.grow(ptr, layout, new)
                    }
                };
                if let Ok(block) = result {
                    let moved = block.cast::<u8>();
                    let bytes = Self::bytes(moved, new.size());
                    prop_assert!(
                        bytes[..layout.size()].iter().all(|&b| b == fill),
                        "grow lost contents"
                    );
                    if zeroed {
                        prop_assert!(
                            bytes[layout.size()..].iter().all(|&b| b == 0),
                            "grow_zeroed not zero"
                        );
                    }
                    let fill = self.fill(moved, 0, new.size());
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
                // SAFETY: `ptr` is live for `layout`; `new` is no larger.
                let block = unsafe { arena.shrink(ptr, layout, new) }
                    .map_err(|_| TestCaseError::fail("shrink failed"))?;
                let moved = block.cast::<u8>();
                prop_assert!(
                    Self::bytes(moved, new.size()).iter().all(|&b| b == fill),
                    "shrink lost contents"
                );
                self.live[i] = Live {
                    ptr: moved,
                    layout: new,
                    fill,
                };
            }
            Op::Dealloc { which } if !self.live.is_empty() => {
                let Live { ptr, layout, .. } = self.live.swap_remove(which % self.live.len());
                // SAFETY: live for `layout`, forgotten by the model now.
                unsafe { arena.deallocate(ptr, layout) };
            }
            Op::Reset => {
                self.live.clear();
                self.arena.reset();
                prop_assert_eq!(self.arena.allocated_bytes(), 0);
            }
            _ => {}
        }
        self.check()
    }

    fn check(&self) -> Result<(), TestCaseError> {
        let arena = &self.arena;
        prop_assert_eq!(
            arena.allocated_bytes() + arena.remaining(),
            arena.capacity()
        );
        let mut ranges = Vec::new();
        for live in &self.live {
            let addr = live.ptr.as_ptr() as usize;
            prop_assert_eq!(
                addr % live.layout.align().max(8),
                0,
                "misaligned {:?}",
                live.layout
            );
            if live.layout.size() == 0 {
                continue;
            }
            prop_assert!(
                addr >= self.start && addr + live.layout.size() <= self.start + arena.capacity(),
                "outside the region"
            );
            prop_assert!(
                addr + live.layout.size() <= self.start + arena.allocated_bytes(),
                "live block above the cursor"
            );
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

proptest! {
    #![proptest_config(ProptestConfig {
        cases: if cfg!(miri) { 4 } else { 256 },
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn arena_matches_the_model(ops in proptest::collection::vec(op(), 1..if cfg!(miri) { 24 } else { 200 })) {
        let mut model = Model::new();
        for op in ops {
            model.apply(op)?;
        }
    }
}

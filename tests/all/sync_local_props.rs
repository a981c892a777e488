//! Model-based property test for `LocalArena`, run sequentially: random
//! programs of allocate / grow / shrink / deallocate through the
//! `Allocator` trait of a handle, with the handle dropped and remade and
//! the arena reset or released in between. Where leases put blocks is the
//! handle's business, so the model checks what must hold wherever they
//! land: inside the arena, aligned, disjoint, contents kept, zeroed bytes
//! zero (also in memory dirtied before a reset), same-alignment shrinks in
//! place, and a refusal only when the arena is out of room.

use std::alloc::Layout;
use std::ptr::NonNull;

use allocator_api2::alloc::Allocator;
use anon_arena::{LocalArena, SyncArena};
use proptest::prelude::*;

const CAPACITY: usize = if cfg!(miri) { 32 << 10 } else { 256 << 10 };
/// Operations per program: fewer under Miri, where every check is slow.
const OPS: usize = if cfg!(miri) { 60 } else { 200 };
/// Largest small block and growth step, in bytes: smaller under Miri.
const MAX_SIZE: usize = if cfg!(miri) { 300 } else { 3000 };
/// Big blocks (past the handle's direct threshold of 16 KiB) natively.
const BIG: std::ops::Range<usize> = if cfg!(miri) { 0..1 } else { 16_000..40_000 };

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
    NewHandle,
    Reset {
        release: bool,
    },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        8 => (0usize..MAX_SIZE, 0u32..=12, any::<bool>())
            .prop_map(|(size, align_log2, zeroed)| Op::Alloc { size, align_log2, zeroed }),
        1 => (BIG, any::<bool>())
            .prop_map(|(size, zeroed)| Op::Alloc { size, align_log2: 3, zeroed }),
        3 => (any::<usize>(), 0usize..MAX_SIZE, any::<bool>())
            .prop_map(|(which, extra, zeroed)| Op::Grow { which, extra, zeroed }),
        2 => (any::<usize>(), any::<usize>()).prop_map(|(which, less)| Op::Shrink { which, less }),
        3 => any::<usize>().prop_map(|which| Op::Dealloc { which }),
        1 => Just(Op::NewHandle),
        1 => any::<bool>().prop_map(|release| Op::Reset { release }),
    ]
}

/// A block the model believes is live, and the byte it was filled with.
struct Live {
    ptr: NonNull<u8>,
    layout: Layout,
    fill: u8,
}

/// One stretch of a program between resets: a handle and the blocks it
/// (or an earlier handle of the same stretch) handed out.
struct Model<'a> {
    arena: &'a SyncArena,
    /// Address of the arena's first byte.
    start: usize,
    local: LocalArena<'a>,
    live: Vec<Live>,
    next_fill: u8,
}

type TestResult = Result<(), TestCaseError>;

fn bytes<'b>(ptr: NonNull<u8>, len: usize) -> &'b [u8] {
    // SAFETY: callers pass live blocks, read before any later mutation.
    unsafe { std::slice::from_raw_parts(ptr.as_ptr(), len) }
}

impl<'a> Model<'a> {
    fn fill(&mut self, ptr: NonNull<u8>, len: usize) -> u8 {
        let fill = self.next_fill;
        self.next_fill = self.next_fill.wrapping_add(1).max(1);
        // SAFETY: `..len` lies inside a live block the model owns.
        unsafe { std::ptr::write_bytes(ptr.as_ptr(), fill, len) };
        fill
    }

    /// A refusal is only allowed when the arena itself has no room left
    /// for the block wherever a lease starts.
    fn expect_refusal_only_when_full(&self, layout: Layout) -> TestResult {
        let needed = layout.size().next_multiple_of(8) + layout.align().max(8) - 8;
        prop_assert!(
            self.arena.remaining() < needed,
            "{:?} refused with {} bytes left in the arena",
            layout,
            self.arena.remaining()
        );
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
                let local = &self.local;
                let result = if zeroed {
                    local.allocate_zeroed(layout)
                } else {
                    local.allocate(layout)
                };
                match result {
                    Ok(block) => {
                        let ptr = block.cast::<u8>();
                        if zeroed {
                            prop_assert!(bytes(ptr, size).iter().all(|&b| b == 0), "not zeroed");
                        }
                        let fill = self.fill(ptr, size);
                        self.live.push(Live { ptr, layout, fill });
                    }
                    Err(_) => self.expect_refusal_only_when_full(layout)?,
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
                let local = &self.local;
                // SAFETY: `ptr` is live for `layout`; `new` is no smaller.
                let result = unsafe {
                    if zeroed {
                        local.grow_zeroed(ptr, layout, new)
                    } else {
                        local.grow(ptr, layout, new)
                    }
                };
                match result {
                    Ok(block) => {
                        let moved = block.cast::<u8>();
                        let now = bytes(moved, new.size());
                        prop_assert!(now[..layout.size()].iter().all(|&b| b == fill));
                        if zeroed {
                            prop_assert!(now[layout.size()..].iter().all(|&b| b == 0));
                        }
                        let fill = self.fill(moved, new.size());
                        self.live[i] = Live {
                            ptr: moved,
                            layout: new,
                            fill,
                        };
                    }
                    Err(_) => self.expect_refusal_only_when_full(new)?,
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
                let block = unsafe { (&self.local).shrink(ptr, layout, new) }
                    .map_err(|_| TestCaseError::fail("shrink failed"))?;
                prop_assert_eq!(block.cast::<u8>(), ptr, "same alignment shrinks in place");
                prop_assert!(bytes(ptr, new.size()).iter().all(|&b| b == fill));
                self.live[i].layout = new;
            }
            Op::Dealloc { which } if !self.live.is_empty() => {
                let Live { ptr, layout, .. } = self.live.swap_remove(which % self.live.len());
                // SAFETY: live for `layout`, forgotten by the model now.
                unsafe { (&self.local).deallocate(ptr, layout) };
            }
            Op::NewHandle => {
                // Blocks of the old handle stay live: they borrow the arena.
                self.local = self.arena.local();
            }
            _ => {}
        }
        self.check()
    }

    fn check(&self) -> TestResult {
        let arena = self.arena;
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
            prop_assert!(addr >= self.start);
            prop_assert!(addr + live.layout.size() <= self.start + arena.allocated_bytes());
            prop_assert!(
                bytes(live.ptr, live.layout.size())
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
    fn local_arena_keeps_blocks_disjoint_and_intact(ops in proptest::collection::vec(op(), 1..OPS)) {
        let mut arena = SyncArena::with_capacity(CAPACITY);
        // A zero-sized block at the start of an empty arena marks its base.
        let start = arena.alloc_layout(Layout::new::<()>()).as_ptr() as usize;
        let mut ops = ops.into_iter().peekable();
        while ops.peek().is_some() {
            let mut model = Model {
                arena: &arena,
                start,
                local: arena.local(),
                live: Vec::new(),
                next_fill: 1,
            };
            let mut release = None;
            for op in ops.by_ref() {
                if let Op::Reset { release: r } = op {
                    release = Some(r);
                    break;
                }
                model.apply(op)?;
            }
            drop(model);
            match release {
                Some(true) => arena.release(),
                Some(false) => arena.reset(),
                None => {}
            }
            if release.is_some() {
                prop_assert_eq!(arena.allocated_bytes(), 0, "a reset frees every lease");
            }
        }
    }
}

//! Model-based property test for `StackArena`: random programs of push /
//! pop / grow / shrink of the newest block, marks, `reset_to`, and scopes
//! entered and left, run against a model of the stack that predicts every
//! address and the exact `allocated_bytes()`.
//!
//! Scopes are real `ScopeGuard`s: the interpreter recurses on "enter" and
//! returns on "leave", so each guard borrows the one outside it as it would
//! in user code.

use std::alloc::Layout;
use std::ptr::NonNull;

use allocator_api2::alloc::Allocator;
use anon_arena::{Error, Mark, ScopeGuard, StackArena};
use proptest::prelude::*;

const CAPACITY: usize = 64 << 10;
/// Largest push and growth step. Smaller under Miri, where every byte the
/// model fills and checks is interpreted.
const MAX_SIZE: usize = if cfg!(miri) { 256 } else { 3000 };
/// Longest program.
const MAX_OPS: usize = if cfg!(miri) { 80 } else { 300 };

#[derive(Clone, Debug)]
enum Op {
    Push {
        size: usize,
        align_log2: u32,
        zeroed: bool,
    },
    PopNewest,
    GrowNewest {
        extra: usize,
        zeroed: bool,
    },
    ShrinkNewest {
        less: usize,
    },
    Mark,
    ResetTo {
        which: usize,
    },
    ResetToForeign,
    ResetScope,
    Enter,
    Leave,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        8 => (0usize..MAX_SIZE, 0u32..=12, any::<bool>())
            .prop_map(|(size, align_log2, zeroed)| Op::Push { size, align_log2, zeroed }),
        3 => Just(Op::PopNewest),
        3 => (0usize..MAX_SIZE, any::<bool>()).prop_map(|(extra, zeroed)| Op::GrowNewest { extra, zeroed }),
        2 => any::<usize>().prop_map(|less| Op::ShrinkNewest { less }),
        2 => Just(Op::Mark),
        2 => any::<usize>().prop_map(|which| Op::ResetTo { which }),
        1 => Just(Op::ResetToForeign),
        1 => Just(Op::ResetScope),
        2 => Just(Op::Enter),
        2 => Just(Op::Leave),
    ]
}

/// What the interpreter needs from one level of nesting: the arena itself
/// at the bottom, a scope guard above it.
trait Level {
    fn arena(&self) -> &StackArena;
    fn try_reset_to(&mut self, mark: Mark) -> Result<(), Error>;
    fn reset(&mut self);
    fn enter(&mut self) -> ScopeGuard<'_>;
}

impl Level for StackArena {
    fn arena(&self) -> &StackArena {
        self
    }
    fn try_reset_to(&mut self, mark: Mark) -> Result<(), Error> {
        StackArena::try_reset_to(self, mark)
    }
    fn reset(&mut self) {
        StackArena::reset(self)
    }
    fn enter(&mut self) -> ScopeGuard<'_> {
        self.scope_guard()
    }
}

impl Level for ScopeGuard<'_> {
    fn arena(&self) -> &StackArena {
        self
    }
    fn try_reset_to(&mut self, mark: Mark) -> Result<(), Error> {
        ScopeGuard::try_reset_to(self, mark)
    }
    fn reset(&mut self) {
        ScopeGuard::reset(self)
    }
    fn enter(&mut self) -> ScopeGuard<'_> {
        self.scope_guard()
    }
}

/// A block the model believes is live.
#[derive(Clone, Copy)]
struct Live {
    ptr: NonNull<u8>,
    layout: Layout,
    /// The byte every byte of the block holds.
    fill: u8,
    /// The scope depth the block was made (or last moved) in.
    depth: usize,
}

impl Live {
    fn addr(&self) -> usize {
        self.ptr.as_ptr() as usize
    }
}

/// The stack as the model sees it. Offsets are bytes from the arena's start.
struct Model {
    base: usize,
    /// What `allocated_bytes()` must be.
    top: usize,
    /// The start offset of each open scope, outermost first.
    scopes: Vec<usize>,
    /// Live blocks, oldest first; the last one is "the newest".
    live: Vec<Live>,
    /// Every mark taken in the run, with the top it recorded.
    marks: Vec<(Mark, usize)>,
    next_fill: u8,
    /// Where foreign marks come from.
    foreign: StackArena,
}

fn round8(size: usize) -> usize {
    size.next_multiple_of(8)
}

impl Model {
    fn floor(&self) -> usize {
        self.scopes.last().copied().unwrap_or(0)
    }

    fn depth(&self) -> usize {
        self.scopes.len()
    }

    /// Where a fresh block for `layout` must land and the top after it;
    /// `None` if it must not fit.
    fn predict_alloc(&self, layout: Layout) -> Option<(usize, usize)> {
        if layout.size() == 0 {
            let addr = if layout.align() <= 8 {
                self.base + self.top
            } else {
                layout.align()
            };
            return Some((addr, self.top));
        }
        let start = (self.base + self.top).next_multiple_of(layout.align().max(8)) - self.base;
        let new_top = start + round8(layout.size());
        (new_top <= CAPACITY).then_some((self.base + start, new_top))
    }

    /// Is the block at `addr` of `size` bytes the newest above the floor —
    /// the one the arena may pop or resize in place?
    fn is_newest(&self, addr: usize, size: usize) -> bool {
        addr >= self.base + self.floor() && addr + round8(size) == self.base + self.top
    }

    fn fill(&mut self, ptr: NonNull<u8>, len: usize) -> u8 {
        let fill = self.next_fill;
        self.next_fill = self.next_fill.wrapping_add(1).max(1);
        // SAFETY: `ptr..ptr + len` is a live block the model owns.
        unsafe { std::ptr::write_bytes(ptr.as_ptr(), fill, len) };
        fill
    }

    fn bytes<'b>(ptr: NonNull<u8>, len: usize) -> &'b [u8] {
        // SAFETY: callers pass live blocks and read before any later mutation.
        unsafe { std::slice::from_raw_parts(ptr.as_ptr(), len) }
    }

    /// Forgets every block that reaches above offset `to` (their space was
    /// given back), and zero-sized ones made at or above it.
    fn free_above(&mut self, to: usize) {
        let limit = self.base + to;
        self.live.retain(|b| {
            let in_region = b.addr() >= self.base && b.addr() <= self.base + CAPACITY;
            !(b.addr() + b.layout.size() > limit || (in_region && b.addr() > limit))
        });
    }

    fn apply(&mut self, level: &mut impl Level, op: Op) -> Result<(), TestCaseError> {
        match op {
            Op::Push {
                size,
                align_log2,
                zeroed,
            } => {
                let layout = Layout::from_size_align(size, 1 << align_log2).unwrap();
                let arena = level.arena();
                let result = if zeroed {
                    arena.allocate_zeroed(layout)
                } else {
                    arena.allocate(layout)
                };
                match (result, self.predict_alloc(layout)) {
                    (Ok(block), Some((addr, new_top))) => {
                        let ptr = block.cast::<u8>();
                        prop_assert_eq!(ptr.as_ptr() as usize, addr, "{:?}", layout);
                        prop_assert_eq!(block.len(), size);
                        if zeroed {
                            prop_assert!(
                                Self::bytes(ptr, size).iter().all(|&b| b == 0),
                                "zeroed block not zero"
                            );
                        }
                        self.top = new_top;
                        let fill = self.fill(ptr, size);
                        let depth = self.depth();
                        self.live.push(Live {
                            ptr,
                            layout,
                            fill,
                            depth,
                        });
                    }
                    (Err(_), None) => {}
                    (result, predicted) => prop_assert!(
                        false,
                        "{:?}: got {:?}, model predicted {:?}",
                        layout,
                        result.is_ok(),
                        predicted
                    ),
                }
            }
            Op::PopNewest => {
                if let Some(block) = self.live.pop() {
                    if self.is_newest(block.addr(), block.layout.size()) {
                        self.top = block.addr() - self.base;
                    }
                    // SAFETY: live for its layout; the model forgot it above.
                    unsafe { level.arena().deallocate(block.ptr, block.layout) };
                }
            }
            Op::GrowNewest { extra, zeroed } => {
                let Some(&block) = self.live.last() else {
                    return self.check(level.arena());
                };
                let old = block.layout;
                let new = Layout::from_size_align(old.size() + extra, old.align()).unwrap();
                let in_place = self.is_newest(block.addr(), old.size());
                let predicted = if in_place {
                    let new_top = block.addr() - self.base + round8(new.size());
                    (new_top <= CAPACITY).then_some((block.addr(), new_top))
                } else {
                    self.predict_alloc(new)
                };
                let arena = level.arena();
                // SAFETY: `block` is live for `old`; `new` is no smaller.
                let result = unsafe {
                    if zeroed {
                        arena.grow_zeroed(block.ptr, old, new)
                    } else {
                        arena.grow(block.ptr, old, new)
                    }
                };
                match (result, predicted) {
                    (Ok(grown), Some((addr, new_top))) => {
                        let ptr = grown.cast::<u8>();
                        prop_assert_eq!(ptr.as_ptr() as usize, addr, "grow {:?} -> {:?}", old, new);
                        let bytes = Self::bytes(ptr, new.size());
                        prop_assert!(
                            bytes[..old.size()].iter().all(|&b| b == block.fill),
                            "grow lost contents"
                        );
                        if zeroed {
                            prop_assert!(
                                bytes[old.size()..].iter().all(|&b| b == 0),
                                "grow_zeroed not zero"
                            );
                        }
                        self.top = new_top;
                        let fill = self.fill(ptr, new.size());
                        // A zero-sized block lying exactly at a scope's
                        // floor may predate the scope; growing it in place
                        // fills memory the scope owns, so the grown block
                        // ends with the scope like any block made in it.
                        let depth = if in_place && old.size() > 0 {
                            block.depth
                        } else {
                            self.depth()
                        };
                        *self.live.last_mut().unwrap() = Live {
                            ptr,
                            layout: new,
                            fill,
                            depth,
                        };
                    }
                    (Err(_), None) => {}
                    (result, predicted) => prop_assert!(
                        false,
                        "grow {:?} -> {:?}: got {:?}, model predicted {:?}",
                        old,
                        new,
                        result.is_ok(),
                        predicted
                    ),
                }
            }
            Op::ShrinkNewest { less } => {
                let Some(&block) = self.live.last() else {
                    return self.check(level.arena());
                };
                let old = block.layout;
                let new =
                    Layout::from_size_align(old.size() - less % (old.size() + 1), old.align())
                        .unwrap();
                if self.is_newest(block.addr(), old.size()) {
                    self.top = block.addr() - self.base + round8(new.size());
                }
                // SAFETY: `block` is live for `old`; `new` is no larger.
                let shrunk = unsafe { level.arena().shrink(block.ptr, old, new) }
                    .map_err(|_| TestCaseError::fail("shrink failed"))?;
                prop_assert_eq!(shrunk.cast::<u8>(), block.ptr, "shrink moved");
                prop_assert!(
                    Self::bytes(block.ptr, new.size())
                        .iter()
                        .all(|&b| b == block.fill),
                    "shrink lost contents"
                );
                self.live.last_mut().unwrap().layout = new;
            }
            Op::Mark => {
                let mark = level.arena().mark();
                prop_assert_eq!(mark.allocated_bytes(), self.top);
                self.marks.push((mark, self.top));
            }
            Op::ResetTo { which } => {
                if self.marks.is_empty() {
                    return self.check(level.arena());
                }
                let (mark, at) = self.marks[which % self.marks.len()];
                let expected = if at < self.floor() || at > self.top {
                    Err(Error::MarkOutOfRange {
                        mark: at,
                        floor: self.floor(),
                        top: self.top,
                    })
                } else {
                    Ok(())
                };
                prop_assert_eq!(level.try_reset_to(mark), expected);
                if expected.is_ok() {
                    self.top = at;
                    self.free_above(at);
                }
            }
            Op::ResetToForeign => {
                prop_assert_eq!(
                    level.try_reset_to(self.foreign.mark()),
                    Err(Error::ForeignMark)
                );
            }
            Op::ResetScope => {
                level.reset();
                self.top = self.floor();
                let depth = self.depth();
                // A scope frees its own blocks; the arena (depth 0) frees all.
                self.live.retain(|b| depth > 0 && b.depth < depth);
            }
            Op::Enter | Op::Leave => unreachable!("handled by run"),
        }
        self.check(level.arena())
    }

    fn check(&self, arena: &StackArena) -> Result<(), TestCaseError> {
        prop_assert_eq!(arena.allocated_bytes(), self.top, "allocated_bytes");
        prop_assert_eq!(arena.remaining(), CAPACITY - self.top);
        let mut ranges = Vec::new();
        for live in &self.live {
            let addr = live.addr();
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
                addr >= self.base && addr + live.layout.size() <= self.base + self.top,
                "live block outside the stack"
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

/// Runs ops at one level until a `Leave` (or the end), recursing into a new
/// scope guard on each `Enter`.
fn run(
    level: &mut impl Level,
    model: &mut Model,
    ops: &mut impl Iterator<Item = Op>,
) -> Result<(), TestCaseError> {
    while let Some(op) = ops.next() {
        match op {
            Op::Enter => {
                let start = model.top;
                model.scopes.push(start);
                let mut guard = level.enter();
                run(&mut guard, model, ops)?;
                drop(guard);
                model.scopes.pop();
                model.top = start;
                let depth = model.depth();
                model.live.retain(|b| b.depth <= depth);
                model.check(level.arena())?;
            }
            Op::Leave if !model.scopes.is_empty() => return Ok(()),
            Op::Leave => {}
            op => model.apply(level, op)?,
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: if cfg!(miri) { 4 } else { 256 },
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn stack_arena_matches_the_stack_model(ops in proptest::collection::vec(op(), 1..MAX_OPS)) {
        let mut arena = StackArena::with_capacity(CAPACITY);
        // A zero-sized block at the start of an empty arena marks its base.
        let base = arena.alloc_layout(Layout::new::<()>()).as_ptr() as usize;
        let mut model = Model {
            base,
            top: 0,
            scopes: Vec::new(),
            live: Vec::new(),
            marks: Vec::new(),
            next_fill: 1,
            foreign: StackArena::with_capacity(4096),
        };
        run(&mut arena, &mut model, &mut ops.into_iter())?;
        prop_assert!(model.scopes.is_empty());
        model.check(&arena)?;
    }
}

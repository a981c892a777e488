//! Programs over `StackArena`'s LIFO surface: allocations (surface and
//! `Allocator` trait), `mark` / `try_reset_to` (including marks it must
//! refuse), nested scopes through `scope_guard`, and pop / grow / shrink of
//! the newest block through the trait, under the shared [`Checker`]. The
//! checker's `mark` / `rewind` carry the scope rule: a scope's blocks die at
//! its end, the older ones are intact, and the next block reuses the freed
//! space from where it starts.

use core::alloc::Layout;
use core::ptr::NonNull;

use allocator_api2::alloc::Allocator;
use anon_arena::{Error, Mark, ScopeGuard, StackArena};
use arbitrary::Arbitrary;

use crate::input::{program, Align, Size, Which};
use crate::{bump_may_refuse, Checker, Contents, Failure, Resize, Subject, Violation};

/// Scopes nest at most this deep; deeper `Open`s are skipped, so a program
/// cannot overflow the test's stack.
const MAX_DEPTH: usize = 16;

/// Marks remembered for `ResetTo`; older ones are forgotten.
const MAX_MARKS: usize = 16;

/// One step of a stack program.
#[derive(Clone, Debug, Arbitrary)]
pub enum StackOp {
    /// An allocation: `how % 4` picks `try_alloc_layout`, `allocate`,
    /// `allocate_zeroed` or `try_alloc_slice_fill_copy(size, fill)`.
    Alloc {
        /// Bytes.
        size: Size,
        /// Alignment (ignored by the slice form).
        align: Align,
        /// Which allocation call.
        how: u8,
        /// The slice form's byte.
        fill: u8,
    },
    /// `mark()`, remembered for `ResetTo`.
    Mark,
    /// `try_reset_to` a remembered mark: accepted iff it lies between the
    /// open scope's start and the top, refused with those numbers if not.
    ResetTo {
        /// Which remembered mark.
        which: Which,
    },
    /// `try_reset_to` a mark of another arena: always `ForeignMark`.
    ForeignMark,
    /// Opens a scope with `scope_guard` (on the arena or the open guard).
    Open,
    /// Drops the innermost open guard (nothing at the top level).
    Close,
    /// `reset` of the innermost scope, or of the arena (`release` too at
    /// the top level when asked).
    Reset {
        /// `release` rather than `reset` at the top level.
        release: bool,
    },
    /// `deallocate` the newest block of the open scope.
    Pop,
    /// `grow` / `grow_zeroed` of the newest block of the open scope.
    Grow {
        /// Bytes added.
        extra: Size,
        /// The new alignment.
        align: Align,
        /// `grow_zeroed`.
        zeroed: bool,
    },
    /// `shrink` of the newest block of the open scope.
    Shrink {
        /// Bytes taken off (modulo its size + 1).
        less: Size,
        /// The new alignment.
        align: Align,
    },
}

/// What the arena and every open guard have in common: the arena to
/// allocate from, and the `&mut` operations of the innermost scope.
trait Level {
    fn stack(&self) -> &StackArena;
    fn reset_level(&mut self, release: bool);
    fn try_reset_to(&mut self, mark: Mark) -> Result<(), Error>;
    fn open(&mut self) -> ScopeGuard<'_>;
}

impl Level for StackArena {
    fn stack(&self) -> &StackArena {
        self
    }
    fn reset_level(&mut self, release: bool) {
        if release {
            self.release();
        } else {
            self.reset();
        }
    }
    fn try_reset_to(&mut self, mark: Mark) -> Result<(), Error> {
        StackArena::try_reset_to(self, mark)
    }
    fn open(&mut self) -> ScopeGuard<'_> {
        self.scope_guard()
    }
}

impl Level for ScopeGuard<'_> {
    fn stack(&self) -> &StackArena {
        self
    }
    fn reset_level(&mut self, _release: bool) {
        self.reset();
    }
    fn try_reset_to(&mut self, mark: Mark) -> Result<(), Error> {
        ScopeGuard::try_reset_to(self, mark)
    }
    fn open(&mut self) -> ScopeGuard<'_> {
        self.scope_guard()
    }
}

/// The program, the checker and what the model remembers across levels.
struct State<'p> {
    ops: &'p [StackOp],
    next: usize,
    checker: Checker,
    /// The arena's first byte.
    base: usize,
    marks: Vec<Mark>,
    foreign: Mark,
}

/// The innermost open scope as the model sees it.
#[derive(Clone, Copy)]
struct Scope {
    /// Bytes allocated when it opened: its floor.
    start: usize,
    /// Checker index of its first block.
    first: usize,
    depth: usize,
}

/// Decodes a program from `bytes` and runs it against a fresh stack arena.
pub fn run_bytes(bytes: &[u8]) -> Result<(), Failure> {
    run(&program::<StackOp>(bytes))
}

/// Runs `ops` against a fresh stack arena; unmatched `Open`s close at the
/// end, and every surviving block is verified.
pub fn run(ops: &[StackOp]) -> Result<(), Failure> {
    let mut arena = <StackArena as Subject>::make();
    let other = StackArena::with_capacity(4096);
    let mut state = State {
        ops,
        next: 0,
        checker: Checker::new(arena.bounds()),
        base: arena.bounds().start,
        marks: Vec::new(),
        foreign: other.mark(),
    };
    let top = Scope {
        start: 0,
        first: 0,
        depth: 0,
    };
    run_level(&mut arena, &mut state, top)?;
    state
        .checker
        .verify_all()
        .map_err(|v| failure(ops, ops.len(), v))
}

fn failure(ops: &[StackOp], step: usize, violation: Violation) -> Failure {
    Failure {
        subject: "StackArena (surface)",
        step,
        op: ops
            .get(step)
            .map_or("final sweep".into(), |op| format!("{op:?}")),
        violation,
    }
}

/// Runs operations in `scope` until its `Close` (or the program's end).
fn run_level<L: Level>(level: &mut L, state: &mut State<'_>, scope: Scope) -> Result<(), Failure> {
    let ops = state.ops;
    while let Some(op) = ops.get(state.next) {
        let step = state.next;
        state.next += 1;
        match op {
            StackOp::Close if scope.depth > 0 => return Ok(()),
            StackOp::Open if scope.depth < MAX_DEPTH => {
                let inner = Scope {
                    start: level.stack().allocated_bytes(),
                    first: state.checker.len(),
                    depth: scope.depth + 1,
                };
                let mut guard = level.open();
                run_level(&mut guard, state, inner)?;
                // The scope's blocks are checked and forgotten before the
                // guard frees them.
                let closed_at = state.next - 1;
                state
                    .checker
                    .rewind(inner.first, Some(state.base + inner.start))
                    .map_err(|v| failure(ops, closed_at, v))?;
                drop(guard);
                let stats = level.stack().stats();
                if stats.allocated != inner.start {
                    return Err(failure(ops, closed_at, Violation::Stats(stats)));
                }
            }
            _ => apply(level, state, scope, op).map_err(|v| failure(ops, step, v))?,
        }
        let stats = level.stack().stats();
        state
            .checker
            .check_stats(stats, true)
            .map_err(|v| failure(ops, step, v))?;
    }
    Ok(())
}

fn apply<L: Level>(
    level: &mut L,
    state: &mut State<'_>,
    scope: Scope,
    op: &StackOp,
) -> Result<(), Violation> {
    let checker = &mut state.checker;
    // Trait operations touch only the open scope's newest block: the older
    // scopes' blocks are out of reach while a guard holds the arena.
    let newest = checker.newest().filter(|&index| index >= scope.first);
    match *op {
        StackOp::Alloc {
            size,
            align,
            how,
            fill,
        } => {
            let stack = level.stack();
            let how = how % 4;
            let size = if how == 3 {
                size.0.min(2 * crate::input::CAPACITY)
            } else {
                size.0
            };
            let align = if how == 3 { 1 } else { align.0 };
            let Ok(layout) = Layout::from_size_align(size, align) else {
                return Ok(());
            };
            let may_refuse = bump_may_refuse(layout, stack.remaining());
            let expected;
            let (result, contents) = match how {
                0 => (stack.try_alloc_layout(layout).ok(), Contents::Any),
                1 => (
                    stack.allocate(layout).ok().map(NonNull::cast),
                    Contents::Any,
                ),
                2 => (
                    stack.allocate_zeroed(layout).ok().map(NonNull::cast),
                    Contents::Zero,
                ),
                _ => {
                    expected = vec![fill; size];
                    let block = stack.try_alloc_slice_fill_copy(size, fill).ok();
                    (
                        block.map(|b| NonNull::from(b).cast()),
                        Contents::Bytes(&expected),
                    )
                }
            };
            match result {
                // SAFETY: a fresh block of `layout` from the arena, used
                // only by the checker until it is popped, resized, or its
                // scope rewound, each of which forgets it first.
                Some(ptr) => unsafe { checker.admit(ptr, layout, contents) }.map(drop),
                None if may_refuse => Ok(()),
                None => Err(Violation::Refused {
                    layout,
                    remaining: stack.remaining(),
                }),
            }
        }
        StackOp::Mark => {
            if state.marks.len() == MAX_MARKS {
                state.marks.remove(0);
            }
            state.marks.push(level.stack().mark());
            Ok(())
        }
        StackOp::ResetTo { which } => {
            let Some(index) = which.of(state.marks.len()) else {
                return Ok(());
            };
            let mark = state.marks[index];
            let (offset, floor, top) = (
                mark.allocated_bytes(),
                scope.start,
                level.stack().allocated_bytes(),
            );
            if offset < floor || offset > top {
                let want = Error::MarkOutOfRange {
                    mark: offset,
                    floor,
                    top,
                };
                return expect_error(level.try_reset_to(mark), want);
            }
            // Everything at or past the mark dies, including a block that
            // straddles it (its space was freed and reused since).
            let cut = state.base + offset;
            let first_dead = (scope.first..checker.len())
                .find(|&i| {
                    let block = checker.block(i).range();
                    block.start >= cut || block.end > cut
                })
                .unwrap_or(checker.len());
            checker.rewind(first_dead, Some(cut))?;
            level.try_reset_to(mark).map_err(|error| {
                Violation::WrongOutcome(format!(
                    "mark {offset} in {floor}..={top} refused: {error:?}"
                ))
            })?;
            expect_allocated(level.stack(), offset)
        }
        StackOp::ForeignMark => expect_error(level.try_reset_to(state.foreign), Error::ForeignMark),
        StackOp::Open | StackOp::Close => Ok(()),
        StackOp::Reset { release } => {
            checker.rewind(scope.first, Some(state.base + scope.start))?;
            level.reset_level(release);
            expect_allocated(level.stack(), scope.start)
        }
        StackOp::Pop => {
            let Some(index) = newest else {
                return Ok(());
            };
            let block = checker.retire(index)?;
            // SAFETY: the block is live for its layout and the checker
            // forgot it.
            unsafe { level.stack().deallocate(block.ptr, block.layout) };
            // The space freed may start below where a rewind said the next
            // block goes.
            checker.forget_reuse();
            Ok(())
        }
        StackOp::Grow {
            extra,
            align,
            zeroed,
        } => {
            let Some(index) = newest else {
                return Ok(());
            };
            let old = checker.block(index);
            let new_size = old.layout.size().checked_add(extra.0);
            let Some(new) = new_size.and_then(|size| Layout::from_size_align(size, align.0).ok())
            else {
                return Ok(());
            };
            checker.verify(index)?;
            let stack = level.stack();
            let may_refuse = bump_may_refuse(new, stack.remaining());
            // SAFETY: `old` is live for `old.layout` and `new` is no
            // smaller; the checker forgets the old pointer on success.
            let result = unsafe {
                if zeroed {
                    stack.grow_zeroed(old.ptr, old.layout, new)
                } else {
                    stack.grow(old.ptr, old.layout, new)
                }
            };
            match result {
                // SAFETY: as for `admit` in `Alloc`.
                Ok(block) => unsafe {
                    checker.resized(index, block.cast(), new, Resize::Grow { zeroed })
                },
                Err(_) if may_refuse => Ok(()),
                Err(_) => Err(Violation::Refused {
                    layout: new,
                    remaining: stack.remaining(),
                }),
            }
        }
        StackOp::Shrink { less, align } => {
            let Some(index) = newest else {
                return Ok(());
            };
            let old = checker.block(index);
            let new_size = old.layout.size() - less.0 % (old.layout.size() + 1);
            let Ok(new) = Layout::from_size_align(new_size, align.0) else {
                return Ok(());
            };
            checker.verify(index)?;
            let stack = level.stack();
            let in_place = old.ptr.as_ptr() as usize % new.align() == 0;
            let may_refuse = !in_place && bump_may_refuse(new, stack.remaining());
            // SAFETY: `old` is live for `old.layout`; `new` is no larger.
            match unsafe { stack.shrink(old.ptr, old.layout, new) } {
                Ok(block) => {
                    // Shrinking the top block frees the space above it,
                    // which may start below where a rewind said the next
                    // block goes.
                    checker.forget_reuse();
                    // SAFETY: as for `admit` in `Alloc`.
                    unsafe { checker.resized(index, block.cast(), new, Resize::Shrink) }
                }
                Err(_) if may_refuse => Ok(()),
                Err(_) => Err(Violation::Refused {
                    layout: new,
                    remaining: stack.remaining(),
                }),
            }
        }
    }
}

fn expect_error(result: Result<(), Error>, want: Error) -> Result<(), Violation> {
    match result {
        Err(error) if error == want => Ok(()),
        other => Err(Violation::WrongOutcome(format!(
            "wanted {want:?}, got {other:?}"
        ))),
    }
}

fn expect_allocated(stack: &StackArena, allocated: usize) -> Result<(), Violation> {
    let stats = stack.stats();
    if stats.allocated != allocated {
        return Err(Violation::Stats(stats));
    }
    Ok(())
}

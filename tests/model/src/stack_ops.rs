//! Programs over `StackArena`'s LIFO surface: surface allocations,
//! `mark` / `try_reset_to` (including marks it must refuse), nested scopes
//! through `scope_guard`, `reset` of a scope, and every `Allocator` trait
//! call (through [`api::step`]) on any live block, older scopes' blocks
//! included. The exact [`CursorModel`], taught the scopes' floors, says
//! where every block goes, when a request must be refused (with the
//! surface's exact numbers) and what `allocated_bytes()` and every mark
//! read; the [`Checker`] carries the scope rule by address: a scope's (or a
//! reset-to mark's) blocks die, the older ones are intact, and the next
//! block reuses the freed space from where it starts.

use core::alloc::Layout;

use anon_arena::{Error, Mark, ScopeGuard, StackArena};
use arbitrary::Arbitrary;

use crate::api::{self, ApiOp, Rules};
use crate::arena_ops::Outcome;
use crate::input::{Align, Size, Which, CAPACITY};
use crate::{Checker, Contents, CursorModel, Failure, Subject, Violation};

/// Scopes nest at most this deep; deeper `Open`s are skipped, so a program
/// cannot overflow the test's stack.
const MAX_DEPTH: usize = 16;

/// Marks remembered for `ResetTo`; older ones are forgotten.
const MAX_MARKS: usize = 16;

/// One step of a stack program.
#[derive(Clone, Debug, Arbitrary)]
pub enum StackOp {
    /// `try_alloc_layout`, or with `slice` `try_alloc_slice_fill_copy(size,
    /// fill)` of bytes.
    Alloc {
        /// Bytes.
        size: Size,
        /// Alignment (ignored by the slice form).
        align: Align,
        /// The slice form.
        slice: bool,
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
    /// A trait call on the open level, judged by [`api::step`]: blocks of
    /// any scope may be freed, grown or shrunk, and the floor keeps the
    /// cursor from going below the open scope's start. `ApiOp::Reset` is
    /// `reset` of the innermost scope, or of the arena (`release` too at
    /// the top level when asked).
    Trait(ApiOp),
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

/// The program, the models and what they remember across levels.
struct State<'p> {
    ops: &'p [StackOp],
    next: usize,
    checker: Checker,
    cursor: CursorModel,
    marks: Vec<Mark>,
    foreign: Mark,
}

session_basics!(StackOp);

/// One stack arena (and one other, for foreign marks) for program after
/// program, as a fuzz target keeps them: each program starts with a
/// `reset` and the check that the arena is as good as new
/// ([`start_over`](crate::start_over)).
pub struct Session {
    arena: StackArena,
    other: StackArena,
}

impl Session {
    /// A session over fresh arenas.
    pub fn new() -> Session {
        Session {
            arena: <StackArena as Subject>::make(),
            other: StackArena::with_capacity(4096),
        }
    }

    /// Runs `ops` on the session's arena, reset first.
    pub fn run(&mut self, ops: &[StackOp]) -> Result<(), Failure> {
        let arena = &mut self.arena;
        let checker =
            crate::start_over(arena).map_err(|v| Failure::at_start("StackArena (scopes)", v))?;
        let mut state = State {
            ops,
            next: 0,
            checker,
            cursor: CursorModel::new(arena.bounds().start, 0, arena.capacity()),
            marks: Vec::new(),
            foreign: self.other.mark(),
        };
        run_level(arena, &mut state, 0)?;
        state
            .checker
            .verify_all()
            .map_err(|v| failure(ops, ops.len(), v))
    }
}

fn failure(ops: &[StackOp], step: usize, violation: Violation) -> Failure {
    Failure {
        subject: "StackArena (scopes)",
        step,
        op: ops
            .get(step)
            .map_or("final sweep".into(), |op| format!("{op:?}")),
        violation,
    }
}

/// Runs operations in a scope `depth` deep until its `Close` (or the
/// program's end).
fn run_level<L: Level>(level: &mut L, state: &mut State<'_>, depth: usize) -> Result<(), Failure> {
    let ops = state.ops;
    while let Some(op) = ops.get(state.next) {
        let mut step = state.next;
        state.next += 1;
        match op {
            StackOp::Close if depth > 0 => return Ok(()),
            StackOp::Open if depth < MAX_DEPTH => {
                let outer = state.cursor.open_scope();
                let start = state.cursor.base + state.cursor.floor;
                let mut guard = level.open();
                run_level(&mut guard, state, depth + 1)?;
                // The scope's blocks are checked and forgotten before the
                // guard frees them.
                step = state.next - 1;
                state
                    .checker
                    .rewind_to(start)
                    .map_err(|v| failure(ops, step, v))?;
                drop(guard);
                state.cursor.close_scope(outer);
            }
            _ => apply(level, state, op).map_err(|v| failure(ops, step, v))?,
        }
        check_numbers(level.stack(), state).map_err(|v| failure(ops, step, v))?;
    }
    Ok(())
}

/// After every step: `allocated_bytes()` where the cursor model stands,
/// the capacity unchanged and the counts adding up, and every live block
/// below the top.
fn check_numbers(stack: &StackArena, state: &State<'_>) -> Result<(), Violation> {
    let stats = Subject::stats(stack);
    if stats.capacity != state.cursor.capacity {
        return Err(Violation::Stats(stats));
    }
    if stats.allocated != state.cursor.pos {
        let (expected, found) = (state.cursor.pos, stats.allocated);
        return Err(Violation::Cursor { expected, found });
    }
    state.checker.check_stats(stats, true)
}

fn apply<L: Level>(level: &mut L, state: &mut State<'_>, op: &StackOp) -> Result<(), Violation> {
    let cursor = &mut state.cursor;
    let checker = &mut state.checker;
    match *op {
        StackOp::Alloc {
            size,
            align,
            slice,
            fill,
        } => {
            let stack = level.stack();
            let mut outcome = Outcome {
                checker,
                model: cursor,
            };
            if slice {
                // Just past the capacity fails as surely as any larger length.
                let len = size.0.min(CAPACITY + 1);
                let result = stack.try_alloc_slice_fill_copy(len, fill);
                return outcome.slice(len, result, Contents::Repeat(fill));
            }
            let Ok(layout) = Layout::from_size_align(size.0, align.0) else {
                return Ok(());
            };
            let result = stack.try_alloc_layout(layout);
            outcome.check(Some(layout), result.map(|ptr| (ptr, layout)), Contents::Any)
        }
        StackOp::Mark => {
            let mark = level.stack().mark();
            if mark.allocated_bytes() != cursor.pos {
                return Err(Violation::Cursor {
                    expected: cursor.pos,
                    found: mark.allocated_bytes(),
                });
            }
            if state.marks.len() == MAX_MARKS {
                state.marks.remove(0);
            }
            state.marks.push(mark);
            Ok(())
        }
        StackOp::ResetTo { which } => {
            let Some(index) = which.of(state.marks.len()) else {
                return Ok(());
            };
            let mark = state.marks[index];
            let (offset, floor, top) = (mark.allocated_bytes(), cursor.floor, cursor.pos);
            if !cursor.reset_to(offset) {
                let want = Error::MarkOutOfRange {
                    mark: offset,
                    floor,
                    top,
                };
                return expect_error(level.try_reset_to(mark), want);
            }
            // Everything at or past the mark dies, including a block that
            // straddles it (its space was freed and reused since).
            checker.rewind_to(cursor.base + offset)?;
            level.try_reset_to(mark).map_err(|error| {
                Violation::WrongOutcome(format!(
                    "mark {offset} in {floor}..={top} refused: {error:?}"
                ))
            })
        }
        StackOp::ForeignMark => expect_error(level.try_reset_to(state.foreign), Error::ForeignMark),
        StackOp::Open | StackOp::Close => Ok(()),
        StackOp::Trait(ApiOp::Reset { release }) => {
            checker.rewind_to(cursor.base + cursor.floor)?;
            level.reset_level(release);
            cursor.reset_scope();
            Ok(())
        }
        StackOp::Trait(ref op) => {
            let stack = level.stack();
            api::step(
                stack,
                checker,
                0,
                op,
                Rules::exact(cursor, stack.remaining()),
            )?;
            if let ApiOp::Deallocate { .. } | ApiOp::DeallocateNewest | ApiOp::Shrink { .. } = op {
                // Freeing the top block's space may move the cursor below
                // where a rewind said the next block goes (the cursor model
                // still says exactly where).
                checker.forget_reuse();
            }
            Ok(())
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

//! Single-threaded programs over `SyncArena`'s surface and its
//! allocator-api2 `Allocator` trait, allocating, growing, shrinking and
//! freeing both through the arena itself (served, with `std`, from this
//! thread's cached lease of it) and through `LocalArena` handles (opened
//! and dropped as the program says; leases renewed, tails given back),
//! with `reset` and `release` in between, under the shared [`Checker`]:
//! every block aligned, inside the region, apart from every live block
//! (across handles and leases), below the shared cursor, holding what it
//! was allocated with (and kept by resizes; zeroed bytes zero, also in
//! memory dirtied before a reset); refusals only when neither the lease
//! nor the arena has room; after a reset the next block at the start.
//! Trait calls on the arena or a handle shrink in place when the address
//! allows. A dropped handle's blocks are then freed and resized through
//! another handle or the arena (outside every live lease, they are the
//! shared cursor's). `ArenaBox`es made through one of them are given back
//! through any other (`dealloc`): a box from another lease must never move
//! a cursor over a live block. Allocations from other arenas on the same
//! thread move the arena's cached lease to the cache's second slot or
//! evict it (its blocks pass to the shared cursor's rules, and the next
//! allocation starts a new lease), and a reset makes every cached lease
//! stale: a stale one used again would put blocks over live ones.

use core::alloc::Layout;
use core::ptr::NonNull;

use anon_arena::{ArenaBox, Error, LocalArena, SyncArena};
use arbitrary::Arbitrary;

use crate::api::{self, ApiOp, Rules};
use crate::input::{Align, Size, Which, CAPACITY};
use crate::sequences::{bytes_of, Pieces, MAX_STEPS, U16S, U64S_BY_3, XS};
use crate::{bump_may_refuse, Checker, Contents, Failure, Subject, Violation};

/// Handles open at once, at most.
const MAX_HANDLES: usize = 4;

/// The checker's owner tag of blocks from the surface, which no trait
/// call may free or resize.
const SURFACE: u32 = 0;
/// The owner tag of blocks from the arena's own `Allocator`.
const ARENA: u32 = 1;

/// One step of a sync-arena program.
#[derive(Clone, Debug, Arbitrary)]
pub enum SyncOp {
    /// An allocation through the arena (`on == 0`) or a handle (`on - 1`,
    /// modulo their number); `kind % 8` picks `try_alloc_layout`,
    /// `try_alloc_slice_fill_copy` (bytes), `try_alloc_str`,
    /// `try_alloc_slice_fill_with` (`u64`), `try_alloc_slice_fill_default`
    /// (`u32`), `try_alloc` (`u64`), `try_alloc_iter` (`u16`s with no size
    /// hint, growing across leases) or `try_alloc_fmt`.
    Alloc {
        /// Where from.
        on: u8,
        /// Which call.
        kind: u8,
        /// Bytes or elements.
        len: Size,
        /// Alignment (`try_alloc_layout` only).
        align: Align,
        /// The fill byte or value seed.
        fill: u8,
    },
    /// `local()`: a new handle.
    Open,
    /// Drops a handle: its blocks stay, and pass to another open handle
    /// (or to the arena) for trait calls.
    Drop {
        /// Which handle.
        which: Which,
    },
    /// An `ArenaBox` made through the arena or a handle (`from`, as `on`
    /// for `Alloc`) and given back through `dealloc` of the arena or a
    /// handle (`to`), maybe another: dropped, and its block freed only if
    /// it is the newest of the cursor that frees it.
    Dealloc {
        /// Where the box comes from.
        from: u8,
        /// Who gives it back.
        to: u8,
        /// Its value.
        seed: u64,
    },
    /// A call through the `Allocator` trait of the arena (`on == 0`) or a
    /// handle (as for `Alloc`), on the blocks that allocator handed out.
    /// `ApiOp::Reset` drops every handle, then does `reset` or `release`,
    /// whatever `on` says.
    Trait {
        /// Which allocator.
        on: u8,
        /// The call.
        op: ApiOp,
    },
    /// Allocations on this thread from other arenas: one (`both` false),
    /// which moves the arena's cached lease to the second slot, from which
    /// a zero-sized block of the arena brings it back; or two, which evict
    /// it.
    Others {
        /// Two other arenas rather than one.
        both: bool,
    },
}

/// A served block: its first byte and its layout.
type Served = Result<(NonNull<u8>, Layout), Error>;

/// The `try_` surface calls the programs make, on the arena or a handle,
/// each giving back the block as the checker takes it (the reference the
/// call returned is gone).
trait Surface {
    fn layout(&self, layout: Layout) -> Served;
    fn fill_copy(&self, len: usize, value: u8) -> Served;
    fn str(&self, s: &str) -> Served;
    fn fill_with(&self, len: usize) -> Served;
    fn fill_default(&self, len: usize) -> Served;
    fn value(&self, value: u64) -> Served;
    fn iter(&self, len: usize) -> Served;
    fn fmt(&self, len: usize) -> Served;
    fn boxed(&self, value: u64) -> Option<ArenaBox<'_, u64>>;
    fn dealloc_box(&self, boxed: ArenaBox<'_, u64>);
}

macro_rules! surface {
    ($($ty:ty),*) => {$(
        impl Surface for $ty {
            fn layout(&self, layout: Layout) -> Served {
                self.try_alloc_layout(layout).map(|ptr| (ptr, layout))
            }
            fn fill_copy(&self, len: usize, value: u8) -> Served {
                block(self.try_alloc_slice_fill_copy(len, value))
            }
            fn str(&self, s: &str) -> Served {
                // The checker overwrites the bytes, but nothing reads them
                // as a `str` again.
                self.try_alloc_str(s).map(|s| {
                    let layout = Layout::for_value(s);
                    (NonNull::from(s).cast(), layout)
                })
            }
            fn fill_with(&self, len: usize) -> Served {
                block(self.try_alloc_slice_fill_with(len, |i| i as u64 * 3))
            }
            fn fill_default(&self, len: usize) -> Served {
                block(self.try_alloc_slice_fill_default::<u32>(len))
            }
            fn value(&self, value: u64) -> Served {
                self.try_alloc(value)
                    .map(|v| (NonNull::from(v).cast(), Layout::new::<u64>()))
            }
            fn iter(&self, len: usize) -> Served {
                block(self.try_alloc_iter((0..len).map(|i| i as u16).filter(|_| true)))
            }
            fn fmt(&self, len: usize) -> Served {
                // Long texts in fewer, longer pieces: at most `MAX_STEPS`
                // writes, each a growth step.
                let piece = len.div_ceil(MAX_STEPS).max(7);
                self.try_alloc_fmt(format_args!("{}", Pieces { len, piece })).map(|s| {
                    let layout = Layout::for_value(s);
                    (NonNull::from(s).cast(), layout)
                })
            }
            fn boxed(&self, value: u64) -> Option<ArenaBox<'_, u64>> {
                ArenaBox::try_new_in(value, self).ok()
            }
            fn dealloc_box(&self, boxed: ArenaBox<'_, u64>) {
                self.dealloc(boxed);
            }
        }
    )*};
}
surface!(SyncArena, LocalArena<'_>);

session_basics!(SyncOp);

/// One arena for program after program, as a fuzz target keeps it: each
/// program starts with a `reset` and the check that the arena is as good
/// as new ([`start_over`](crate::start_over)).
pub struct Session {
    arena: SyncArena,
    /// The other arenas of `SyncOp::Others`, for the whole session.
    others: [SyncArena; 2],
}

impl Session {
    /// A session over a fresh arena.
    pub fn new() -> Session {
        Session {
            arena: <SyncArena as Subject>::make(),
            others: [
                SyncArena::with_capacity(4096),
                SyncArena::with_capacity(4096),
            ],
        }
    }

    /// Runs `ops` on the session's arena, reset first.
    pub fn run(&mut self, ops: &[SyncOp]) -> Result<(), Failure> {
        run_on(&mut self.arena, &self.others, ops)
    }
}

/// Runs `ops` on `arena`: in epochs between resets, each with its own
/// handles; `others` are the arenas of `SyncOp::Others`, which may refuse.
fn run_on(arena: &mut SyncArena, others: &[SyncArena; 2], ops: &[SyncOp]) -> Result<(), Failure> {
    let mut checker = crate::start_over(arena)
        .map_err(|v| Failure::at_start("SyncArena (surface and trait)", v))?;
    let start = arena.bounds().start;
    let fail = |step: usize, violation: Violation| Failure {
        subject: "SyncArena (surface and trait)",
        step,
        op: ops
            .get(step)
            .map_or("final sweep".into(), |op| format!("{op:?}")),
        violation,
    };
    let mut next = 0;
    while let Some(release) = run_epoch(arena, others, &mut checker, ops, &mut next)? {
        let step = next - 1;
        checker.clear(Some(start)).map_err(|v| fail(step, v))?;
        if release {
            arena.release();
        } else {
            arena.reset();
        }
        let stats = Subject::stats(&*arena);
        if stats.allocated != 0 {
            return Err(fail(step, Violation::Stats(stats)));
        }
    }
    checker.verify_all().map_err(|v| fail(ops.len(), v))
}

/// Runs operations until a reset (returning whether it is a release,
/// once its handles are gone) or the end of the program (`None`).
fn run_epoch(
    arena: &SyncArena,
    others: &[SyncArena; 2],
    checker: &mut Checker,
    ops: &[SyncOp],
    next: &mut usize,
) -> Result<Option<bool>, Failure> {
    // Each handle with its owner tag (never reused).
    let mut handles: Vec<(u32, LocalArena<'_>)> = Vec::new();
    let mut next_tag = ARENA + 1;
    while let Some(op) = ops.get(*next) {
        let step = *next;
        *next += 1;
        let fail = |violation| Failure {
            subject: "SyncArena (surface and trait)",
            step,
            op: format!("{op:?}"),
            violation,
        };
        // The handle `on` names, if any: 0 is the arena itself.
        let handle = |on: u8| {
            usize::from(on)
                .checked_sub(1)
                .and_then(|i| Which(i as u8).of(handles.len()))
        };
        match *op {
            SyncOp::Trait {
                op: ApiOp::Reset { release },
                ..
            } => return Ok(Some(release)),
            SyncOp::Open if handles.len() < MAX_HANDLES => {
                handles.push((next_tag, arena.local()));
                next_tag += 1;
            }
            SyncOp::Open => {}
            SyncOp::Drop { which } => {
                if let Some(index) = which.of(handles.len()) {
                    let (tag, local) = handles.swap_remove(index);
                    drop(local);
                    // Its blocks lie outside every live lease, so they are
                    // the shared cursor's: another handle (or, with none
                    // left, the arena) frees and resizes them from now on.
                    let heir = handles.first().map_or(ARENA, |&(heir, _)| heir);
                    checker.retag(tag, heir);
                }
            }
            SyncOp::Alloc {
                on,
                kind,
                len,
                align,
                fill,
            } => {
                let result = match handle(on) {
                    Some(index) => {
                        let local = &handles[index].1;
                        let lease = local.lease_remaining();
                        alloc(local, checker, kind, len, align, fill, |layout| {
                            bump_may_refuse(layout, lease)
                                && bump_may_refuse(layout, arena.remaining())
                        })
                    }
                    None => {
                        let lease = arena.lease_remaining();
                        alloc(arena, checker, kind, len, align, fill, |layout| {
                            bump_may_refuse(layout, lease)
                                && bump_may_refuse(layout, arena.remaining())
                        })
                    }
                };
                result.map_err(fail)?;
            }
            SyncOp::Dealloc { from, to, seed } => {
                let boxed = match handle(from) {
                    Some(index) => handles[index].1.boxed(seed),
                    None => arena.boxed(seed),
                };
                if let Some(boxed) = boxed {
                    // Whether its block comes back depends on which cursor
                    // frees it: the next block may start anywhere free.
                    checker.forget_reuse();
                    if *boxed != seed {
                        return Err(fail(Violation::WrongOutcome("a box lost its value".into())));
                    }
                    match handle(to) {
                        Some(index) => handles[index].1.dealloc_box(boxed),
                        None => arena.dealloc_box(boxed),
                    }
                }
            }
            SyncOp::Trait { on, ref op } => {
                let result = match handle(on) {
                    Some(index) => {
                        let (tag, ref local) = handles[index];
                        let lease = local.lease_remaining();
                        on_lease(arena, local, lease, tag, checker, op)
                    }
                    None => on_lease(arena, arena, arena.lease_remaining(), ARENA, checker, op),
                };
                result.map_err(fail)?;
            }
            SyncOp::Others { both } => {
                let lease = arena.lease_remaining();
                let count = if both { 2 } else { 1 };
                for other in &others[..count] {
                    // Refused or not, the other arena takes the first slot.
                    let _ = other.try_alloc(0u64);
                }
                if !both {
                    // Back to the arena: its lease comes back from the
                    // second slot (a zero-sized block takes nothing).
                    arena.alloc_layout(Layout::new::<()>());
                }
                let expected = if both { 0 } else { lease };
                if arena.lease_remaining() != expected {
                    return Err(fail(Violation::WrongOutcome(format!(
                        "the arena's lease had {lease} bytes left, then {} after {count} other arenas",
                        arena.lease_remaining()
                    ))));
                }
                if both {
                    // The arena's next block starts a new lease, not where a
                    // rewind left the old one.
                    checker.forget_reuse();
                }
            }
        }
        checker
            .check_stats(Subject::stats(arena), true)
            .map_err(fail)?;
    }
    Ok(None)
}

/// A trait call on the arena or a handle, whose lease has `lease` bytes
/// left: where leases put blocks is the allocator's business, but it
/// refuses an allocation only when neither its lease nor the arena has
/// room, a moving resize only when the arena has none (a block from an
/// older lease moves to the arena, not to the current lease), and shrinks
/// in place when the address allows.
fn on_lease<A>(
    arena: &SyncArena,
    allocator: A,
    lease: usize,
    tag: u32,
    checker: &mut Checker,
    op: &ApiOp,
) -> Result<(), Violation>
where
    A: allocator_api2::alloc::Allocator,
{
    let may_refuse =
        |layout| bump_may_refuse(layout, lease) && bump_may_refuse(layout, arena.remaining());
    let may_refuse_move = |layout| bump_may_refuse(layout, arena.remaining());
    let rules = Rules {
        may_refuse: &may_refuse,
        may_refuse_move: &may_refuse_move,
        skips: &api::never_asked,
        shrinks_in_place: true,
        remaining: arena.remaining(),
        cursor: None,
    };
    api::step(allocator, checker, tag, op, rules)
}

/// One surface allocation, judged: served blocks are admitted with the
/// contents they must hold; a refusal must be one `may_refuse` allows (or
/// a length whose layout overflows).
fn alloc<S: Surface>(
    on: &S,
    checker: &mut Checker,
    kind: u8,
    len: Size,
    align: Align,
    fill: u8,
    may_refuse: impl Fn(Layout) -> bool,
) -> Result<(), Violation> {
    // A length just past the capacity fails as surely as a huge one.
    let short = |size: usize| len.0.min(CAPACITY / size + 1);
    let value: [u8; 8];
    // Growing collections may be refused wherever a lease or the arena ran
    // out, and may leave copies behind in older leases: only their blocks
    // are judged, not their refusals or where the next block starts.
    let growing = kind % 8 >= 6;
    if growing {
        checker.forget_reuse();
    }
    let lenient = |_: Layout| true;
    let may_refuse: &dyn Fn(Layout) -> bool = if growing { &lenient } else { &may_refuse };
    let (intended, result, contents) = match kind % 8 {
        0 => {
            let Ok(layout) = Layout::from_size_align(len.0, align.0) else {
                return Ok(());
            };
            (Ok(layout), on.layout(layout), Contents::Any)
        }
        1 => {
            let len = short(1);
            let result = on.fill_copy(len, fill);
            (Layout::array::<u8>(len), result, Contents::Repeat(fill))
        }
        2 => {
            let src = &XS[..short(1)];
            let result = on.str(src);
            (
                Layout::array::<u8>(src.len()),
                result,
                Contents::Repeat(b'x'),
            )
        }
        3 => {
            let len = short(8);
            let expected = Contents::Bytes(bytes_of(&U64S_BY_3[..len]));
            (Layout::array::<u64>(len), on.fill_with(len), expected)
        }
        4 => {
            let len = short(4);
            (
                Layout::array::<u32>(len),
                on.fill_default(len),
                Contents::Zero,
            )
        }
        5 => {
            let item = u64::from(fill) * 0x0101_0101_0101_0101;
            value = item.to_ne_bytes();
            (
                Ok(Layout::new::<u64>()),
                on.value(item),
                Contents::Bytes(&value),
            )
        }
        6 => {
            // Item by item: a bounded number of steps keeps it cheap, and
            // a lease near its end still makes it move.
            let len = short(2).min(MAX_STEPS);
            let expected = Contents::Bytes(bytes_of(&U16S[..len]));
            (Layout::array::<u16>(len), on.iter(len), expected)
        }
        _ => {
            let len = short(1);
            (
                Layout::array::<u8>(len),
                on.fmt(len),
                Contents::Repeat(b'x'),
            )
        }
    };
    let Ok(intended) = intended else {
        return match result {
            Err(Error::LayoutOverflow) => Ok(()),
            other => Err(Violation::WrongOutcome(format!(
                "overflowing length gave {:?}",
                other.map(|(_, layout)| layout)
            ))),
        };
    };
    match result {
        Ok((ptr, layout)) if layout == intended => {
            let contents = if layout.size() > 0 {
                contents
            } else {
                Contents::Any
            };
            // SAFETY: a fresh block of `layout` from the arena, used only by
            // the checker (the reference it came from is gone) until the
            // arena is reset, which clears the checker first.
            let index = unsafe { checker.admit(ptr, layout, contents) }?;
            checker.tag(index, SURFACE);
            Ok(())
        }
        Ok((_, layout)) => Err(Violation::WrongOutcome(format!(
            "{intended:?} served as {layout:?}"
        ))),
        Err(Error::Exhausted { .. }) if may_refuse(intended) => Ok(()),
        Err(error) => Err(Violation::WrongOutcome(format!(
            "{intended:?} refused: {error:?}"
        ))),
    }
}

/// A served slice as the checker's pointer and layout.
fn block<T>(result: Result<&mut [T], Error>) -> Served {
    result.map(|items| {
        let layout = Layout::for_value(items);
        (NonNull::from(items).cast(), layout)
    })
}

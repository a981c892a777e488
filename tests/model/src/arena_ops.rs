//! Programs over `Arena`'s own surface (`alloc*`, `try_*`, `alloc_iter`,
//! `alloc_fmt`, the fallible initialisers, `ArenaBox` of values, slices
//! and `str`, `freeze` / `thaw`, `reset`, `release`), checked by the
//! [`Checker`] and by an exact model of the cursor: each block must start
//! where the model says, each refusal must be one the model predicts, with
//! the numbers the model computes.
//!
//! The rewinding rule is part of the model: an initialiser that fails
//! leaves the cursor where it was, and a collection that grows (an
//! iterator without a size hint, formatted text) ends exactly at its last
//! element, as if made at its final size.

use core::alloc::Layout;
use core::ptr::NonNull;

use core::num::NonZeroU64;

use crate::math::bytes_needed_ref;
use anon_arena::{AllocOrInitError, Arena, ArenaBox, Error, FrozenArena, FrozenRoot};
use arbitrary::Arbitrary;

use crate::input::{Align, Edgy, Size, CAPACITY};
use crate::sequences::{bytes_of, Int, Pieces, MAX_STEPS, U16S, U16S_MIXED, U32S, U64S_BY_3, XS};
use crate::subjects::base_of;
use crate::{start_over, Checker, Contents, CursorModel, Failure, Subject, Violation};

/// One step of an arena program.
#[derive(Clone, Debug, Arbitrary)]
pub enum ArenaOp {
    /// `alloc(value)` of a `u8`, `u16`, `u32`, `u64`, `u128` or `[u8; 3]`.
    Value {
        /// Which type (modulo 6).
        kind: u8,
        /// The value's bytes come from this.
        seed: u64,
    },
    /// `alloc_str` of `len` copies of `'x'`.
    Str {
        /// Bytes.
        len: Size,
    },
    /// `alloc_slice_copy` of `len` `u32`s.
    SliceCopy {
        /// Elements.
        len: Size,
    },
    /// `alloc_slice_clone` of `len` `u16`s.
    SliceClone {
        /// Elements.
        len: Size,
    },
    /// `alloc_slice_fill_copy(len, value)` of bytes.
    SliceFillCopy {
        /// Elements.
        len: Size,
        /// The byte.
        value: u8,
    },
    /// `alloc_slice_fill_with(len, |i| i * 3)` of `u64`s.
    SliceFillWith {
        /// Elements.
        len: Size,
    },
    /// `alloc_slice_fill_default` of `u32`s: zeroes.
    SliceFillDefault {
        /// Elements.
        len: Size,
    },
    /// `alloc_slice_fill_iter(0..len)` of `u16`s.
    SliceFillIter {
        /// Elements.
        len: Size,
    },
    /// `alloc_layout`.
    Layout {
        /// Bytes.
        size: Size,
        /// Alignment.
        align: Align,
    },
    /// `try_alloc_slice_fill_copy` of `u64`s with any length at all: must
    /// fail cleanly when it overflows or does not fit.
    Absurd {
        /// Elements.
        len: Edgy,
    },
    /// `try_alloc_iter` of `len` `u16`s, from an exact-size iterator or,
    /// `filtered`, one with no size hint (the block grows as it goes).
    Iter {
        /// Items.
        len: Size,
        /// Through `filter`, which hides the length.
        filtered: bool,
    },
    /// `try_alloc_fmt` of `len` bytes written `piece` bytes at a time.
    Fmt {
        /// Bytes of text.
        len: Size,
        /// Bytes per write (modulo 16, plus 1).
        piece: u8,
    },
    /// `try_alloc_try_with` of a non-zero `u64` whose initialiser fails
    /// (`fail`) or succeeds: a failure leaves the cursor where it was.
    TryWith {
        /// The value's bytes come from this.
        seed: u64,
        /// The initialiser returns `Err`.
        fail: bool,
    },
    /// `alloc_slice_try_fill_with` of `len` `u32`s failing at element
    /// `fail_at` (no failure when it is `len` or more).
    TryFill {
        /// Elements.
        len: Size,
        /// The element whose initialiser fails.
        fail_at: Size,
    },
    /// `ArenaBox::try_new_in` of a `u64`, then `dealloc` (gives the newest
    /// block back) or `leak`.
    Boxed {
        /// The value.
        seed: u64,
        /// `dealloc` rather than `leak`.
        dealloc: bool,
    },
    /// An `ArenaBox` of `len` elements, made (`how` modulo 5) by
    /// `try_from_iter_in(0..len)` of `u16`s, `from_slice_copy_in` of
    /// `u32`s, `from_slice_clone_in` of `u16`s, `from_fn_in(len, |i| i *
    /// 3)` of `u64`s or `from_str_in` of `'x'`s (the panicking forms only
    /// where the model says they fit); checked, then leaked or (`dealloc`)
    /// given back.
    BoxedSlice {
        /// Elements.
        len: Size,
        /// Which constructor.
        how: u8,
        /// `dealloc` rather than `leak`.
        dealloc: bool,
    },
    /// `ArenaBox::into_inner` of a boxed `u64`: the value comes back and
    /// its block stays allocated.
    Unboxed {
        /// The value.
        seed: u64,
    },
    /// `freeze_with` a root of `len` `u32`s (or, without `root`, `freeze`),
    /// then `thaw`. While frozen the sizes must be the arena's, the root
    /// must read as built and every live block as it was; after the thaw
    /// the checker writes into every live block (or a probe), which needs
    /// the pages writable again.
    Freeze {
        /// Elements of the root.
        len: Size,
        /// `freeze_with` rather than `freeze`.
        root: bool,
    },
    /// `reset`.
    Reset,
    /// `release`.
    Release,
}

session_basics!(ArenaOp);

/// One arena for program after program, as a fuzz target keeps it: each
/// program starts with a `reset` and a check that the arena is as good as
/// new (see [`start_over`](crate::start_over)), then runs over memory the
/// earlier programs dirtied.
pub struct Session {
    /// Empty only while a [`ArenaOp::Freeze`] holds the arena by value.
    arena: Option<Arena>,
}

impl Session {
    /// A session over a fresh arena.
    pub fn new() -> Session {
        Session {
            arena: Some(<Arena as Subject>::make()),
        }
    }

    /// Runs `ops` on the session's arena, reset first.
    pub fn run(&mut self, ops: &[ArenaOp]) -> Result<(), Failure> {
        run_on(&mut self.arena, ops)
    }
}

/// Every step, a freeze included, leaves the arena in its slot when it
/// returns.
const ARENA_BACK: &str = "the arena is back in its slot after every step";

fn run_on(slot: &mut Option<Arena>, ops: &[ArenaOp]) -> Result<(), Failure> {
    let fail = |step: usize, violation: Violation| Failure {
        subject: "Arena (surface)",
        step,
        op: ops
            .get(step)
            .map_or("final sweep".into(), |op| format!("{op:?}")),
        violation,
    };
    let arena = slot.as_mut().expect(ARENA_BACK);
    let mut checker = start_over(arena).map_err(|v| Failure::at_start("Arena (surface)", v))?;
    let mut model = CursorModel::new(base_of(arena), 0, arena.capacity());
    for (step, op) in ops.iter().enumerate() {
        let mut outcome = Outcome {
            checker: &mut checker,
            model: &mut model,
        };
        match *op {
            ArenaOp::Freeze { len, root } => {
                let arena = slot.take().expect(ARENA_BACK);
                let (thawed, result) = freeze_and_thaw(arena, &mut outcome, len, root);
                *slot = Some(thawed);
                result
            }
            _ => apply(slot.as_mut().expect(ARENA_BACK), &mut outcome, op),
        }
        .map_err(|v| fail(step, v))?;
        let stats = Subject::stats(slot.as_ref().expect(ARENA_BACK));
        if stats.allocated != model.pos {
            return Err(fail(step, Violation::Stats(stats)));
        }
        checker
            .check_stats(stats, true)
            .map_err(|v| fail(step, v))?;
    }
    checker.verify_all().map_err(|v| fail(ops.len(), v))
}

/// A length just past what the arena holds fails as surely as a huge one,
/// without building huge source and expected vectors; `Absurd` covers the
/// huge ones.
fn short<T>(len: Size) -> usize {
    len.0.min(CAPACITY / size_of::<T>() + 1)
}

fn apply(arena: &mut Arena, outcome: &mut Outcome<'_>, op: &ArenaOp) -> Result<(), Violation> {
    match *op {
        ArenaOp::Value { kind, seed } => {
            let b = seed.to_ne_bytes();
            match kind % 6 {
                0 => outcome.typed(arena.try_alloc(b[0]), &b[..1]),
                1 => outcome.typed(arena.try_alloc(seed as u16), &b[..2]),
                2 => outcome.typed(arena.try_alloc(seed as u32), &b[..4]),
                3 => outcome.typed(arena.try_alloc(seed), &b),
                4 => {
                    let wide = u128::from(seed) << 64 | u128::from(!seed);
                    outcome.typed(arena.try_alloc(wide), &wide.to_ne_bytes())
                }
                _ => outcome.typed(arena.try_alloc([b[0], b[1], b[2]]), &b[..3]),
            }
        }
        ArenaOp::Str { len } => {
            let src = &XS[..short::<u8>(len)];
            let result = arena.try_alloc_str(src).map(str_bytes);
            outcome.slice(src.len(), result, Contents::Repeat(b'x'))
        }
        ArenaOp::SliceCopy { len } => {
            let src = &U32S[..short::<u32>(len)];
            let result = arena.try_alloc_slice_copy(src);
            outcome.slice(src.len(), result, Contents::Bytes(bytes_of(src)))
        }
        ArenaOp::SliceClone { len } => {
            let src = &U16S_MIXED[..short::<u16>(len)];
            // The panicking form when the model says it fits.
            let result = if outcome.model.fresh(Layout::for_value(src)).is_some() {
                Ok(arena.alloc_slice_clone(src))
            } else {
                arena.try_alloc_slice_clone(src)
            };
            outcome.slice(src.len(), result, Contents::Bytes(bytes_of(src)))
        }
        ArenaOp::SliceFillCopy { len, value } => {
            let len = short::<u8>(len);
            let result = arena.try_alloc_slice_fill_copy(len, value);
            outcome.slice(len, result, Contents::Repeat(value))
        }
        ArenaOp::SliceFillWith { len } => {
            let len = short::<u64>(len);
            let result = arena.try_alloc_slice_fill_with(len, |i| i as u64 * 3);
            let expected = bytes_of(&U64S_BY_3[..len]);
            outcome.slice(len, result, Contents::Bytes(expected))
        }
        ArenaOp::SliceFillDefault { len } => {
            let len = short::<u32>(len);
            let result = arena.try_alloc_slice_fill_default::<u32>(len);
            outcome.slice(len, result, Contents::Zero)
        }
        ArenaOp::SliceFillIter { len } => {
            let len = short::<u16>(len);
            let result = arena.try_alloc_slice_fill_iter((0..len).map(|i| i as u16));
            let expected = bytes_of(&U16S[..len]);
            outcome.slice(len, result, Contents::Bytes(expected))
        }
        ArenaOp::Layout { size, align } => {
            let Ok(layout) = Layout::from_size_align(size.0, align.0) else {
                return Ok(());
            };
            // The panicking form when the model says it fits.
            let result = if outcome.model.fresh(layout).is_some() {
                Ok(arena.alloc_layout(layout))
            } else {
                arena.try_alloc_layout(layout)
            };
            outcome.check(Some(layout), result.map(|ptr| (ptr, layout)), Contents::Any)
        }
        ArenaOp::Absurd { len } => {
            let result = arena.try_alloc_slice_fill_copy(len.0, 7u8);
            outcome.slice(len.0, result, Contents::Repeat(7))
        }
        ArenaOp::Iter { len, filtered } => {
            // Without a size hint the collection grows item by item: a
            // bounded number of steps (enough to outgrow what is left only
            // in a fuller arena) keeps the operation cheap.
            let len = short::<u16>(len).min(if filtered { MAX_STEPS } else { usize::MAX });
            let items = (0..len).map(|i| i as u16);
            let result = if filtered {
                arena.try_alloc_iter(items.filter(|_| true))
            } else {
                arena.try_alloc_iter(items)
            };
            // An exact-size iterator asks for the whole slice first; one
            // without a hint grows until the first item that does not fit.
            let intended = if filtered {
                grown_until_refused(outcome.model, len, 2, 2)
            } else {
                Layout::array::<u16>(len).ok()
            };
            let result = result.map(|items| {
                let layout = Layout::for_value(items);
                (NonNull::from(items).cast(), layout)
            });
            let expected = Contents::Bytes(bytes_of(&U16S[..len]));
            outcome.check(intended, result, expected)
        }
        ArenaOp::Fmt { len, piece } => {
            let len = short::<u8>(len);
            // Long texts in fewer, longer pieces: at most `MAX_STEPS` writes.
            let piece = (usize::from(piece % 16) + 1).max(len.div_ceil(MAX_STEPS));
            let result = arena
                .try_alloc_fmt(format_args!("{}", Pieces { len, piece }))
                .map(|text| {
                    let layout = Layout::for_value(text);
                    (NonNull::from(str_bytes(text)).cast(), layout)
                });
            let intended = grown_until_refused(outcome.model, len, piece, 1);
            outcome.check(intended, result, Contents::Repeat(b'x'))
        }
        ArenaOp::TryWith { seed, fail } => {
            // `Result<NonZeroU64, ()>` is one word with the value at its
            // start (the documented `Option`-like layout), so the block
            // is the value's.
            let value = NonZeroU64::new(seed | 1).unwrap_or(NonZeroU64::MIN);
            let layout = Layout::new::<Result<NonZeroU64, ()>>();
            let result = arena.try_alloc_try_with(|| if fail { Err(()) } else { Ok(value) });
            let result = match result {
                Err(AllocOrInitError::Init(())) if fail => {
                    return match outcome.model.fresh(layout) {
                        Some(_) => Ok(()),
                        None => Err(Violation::WrongOutcome(
                            "an initialiser ran with no room".into(),
                        )),
                    };
                }
                Err(AllocOrInitError::Init(())) => {
                    return Err(Violation::WrongOutcome(
                        "a succeeding initialiser failed".into(),
                    ))
                }
                Err(AllocOrInitError::Alloc(error)) => Err(error),
                Ok(kept) => Ok((NonNull::from(kept).cast(), layout)),
            };
            let expected = value.get().to_ne_bytes();
            outcome.check(Some(layout), result, Contents::Bytes(&expected))
        }
        ArenaOp::TryFill { len, fail_at } => {
            let len = short::<u32>(len);
            let fail_at = fail_at.0;
            let Some(fits) = Layout::array::<u32>(len)
                .ok()
                .filter(|&l| outcome.model.fresh(l).is_some())
            else {
                // The panicking form: only when the model says it fits.
                return Ok(());
            };
            let result = arena.alloc_slice_try_fill_with(len, |i| {
                if i == fail_at {
                    Err(i)
                } else {
                    Ok(i as u32)
                }
            });
            match result {
                Err(at) if at == fail_at && fail_at < len => Ok(()),
                Ok(items) if fail_at >= len => {
                    let expected = Contents::Bytes(bytes_of(&U32S[..len]));
                    let result = Ok((NonNull::from(items).cast(), fits));
                    outcome.check(Some(fits), result, expected)
                }
                other => Err(Violation::WrongOutcome(format!(
                    "alloc_slice_try_fill_with({len}) failing at {fail_at} gave {:?}",
                    other.map(|items| items.len())
                ))),
            }
        }
        ArenaOp::Boxed { seed, dealloc } => {
            let made = ArenaBox::try_new_in(seed, &*arena);
            let expected = Contents::Bytes(&seed.to_ne_bytes());
            outcome.boxed(arena, Some(Layout::new::<u64>()), made, expected, dealloc)
        }
        ArenaOp::BoxedSlice { len, how, dealloc } => boxed_slice(arena, outcome, len, how, dealloc),
        ArenaOp::Unboxed { seed } => {
            let layout = Layout::new::<u64>();
            let result = ArenaBox::try_new_in(seed, &*arena).map(|mut boxed| {
                // From the box's `&mut`: the checker writes through it.
                let at = NonNull::from(&mut *boxed).cast();
                (ArenaBox::into_inner(boxed), at)
            });
            match result {
                Ok((value, _)) if value != seed => Err(Violation::WrongOutcome(format!(
                    "into_inner gave {value:#x} for {seed:#x}"
                ))),
                // The block stays allocated and still holds the value's
                // bytes (a move copies them out).
                result => {
                    let result = result.map(|(_, at)| (at, layout));
                    outcome.check(Some(layout), result, Contents::Bytes(&seed.to_ne_bytes()))
                }
            }
        }
        ArenaOp::Freeze { .. } => unreachable!("run_on freezes the arena it owns"),
        ArenaOp::Reset | ArenaOp::Release => {
            outcome.checker.clear(Some(outcome.model.base))?;
            if let ArenaOp::Release = op {
                arena.release();
            } else {
                arena.reset();
            }
            outcome.model.pos = 0;
            Ok(())
        }
    }
}

/// [`ArenaOp::BoxedSlice`]. Where a panicking constructor's block would
/// not fit, the same elements go through `try_from_iter_in`, which must
/// refuse them.
fn boxed_slice(
    arena: &Arena,
    outcome: &mut Outcome<'_>,
    len: Size,
    how: u8,
    dealloc: bool,
) -> Result<(), Violation> {
    fn boxed<'a, T: Int + 'a>(
        outcome: &mut Outcome<'_>,
        arena: &'a Arena,
        src: &[T],
        make: impl FnOnce(&[T], &'a Arena) -> ArenaBox<'a, [T]>,
        dealloc: bool,
    ) -> Result<(), Violation> {
        let layout = Layout::for_value(src);
        let made = if outcome.model.fresh(layout).is_some() {
            Ok(make(src, arena))
        } else {
            ArenaBox::try_from_iter_in(src.iter().copied(), arena)
        };
        outcome.boxed(
            arena,
            Some(layout),
            made,
            Contents::Bytes(bytes_of(src)),
            dealloc,
        )
    }
    match how % 5 {
        0 => {
            let len = short::<u16>(len);
            let made = ArenaBox::try_from_iter_in((0..len).map(|i| i as u16), arena);
            let expected = Contents::Bytes(bytes_of(&U16S[..len]));
            outcome.boxed(
                arena,
                Layout::array::<u16>(len).ok(),
                made,
                expected,
                dealloc,
            )
        }
        1 => {
            let src = &U32S[..short::<u32>(len)];
            boxed(outcome, arena, src, ArenaBox::from_slice_copy_in, dealloc)
        }
        2 => {
            let src = &U16S_MIXED[..short::<u16>(len)];
            boxed(outcome, arena, src, ArenaBox::from_slice_clone_in, dealloc)
        }
        3 => {
            let src = &U64S_BY_3[..short::<u64>(len)];
            let from_fn =
                |src: &[u64], arena| ArenaBox::from_fn_in(src.len(), |i| i as u64 * 3, arena);
            boxed(outcome, arena, src, from_fn, dealloc)
        }
        _ => {
            let src = &XS[..short::<u8>(len)];
            let layout = Layout::for_value(src);
            if outcome.model.fresh(layout).is_some() {
                let made = Ok(ArenaBox::from_str_in(src, arena));
                outcome.boxed(arena, Some(layout), made, Contents::Repeat(b'x'), dealloc)
            } else {
                let made = ArenaBox::try_from_iter_in(src.bytes(), arena);
                outcome.boxed(arena, Some(layout), made, Contents::Repeat(b'x'), dealloc)
            }
        }
    }
}

/// [`ArenaOp::Freeze`]: takes the arena by value and always gives it back,
/// thawed, with the step's outcome.
fn freeze_and_thaw(
    arena: Arena,
    outcome: &mut Outcome<'_>,
    len: Size,
    root: bool,
) -> (Arena, Result<(), Violation>) {
    let src = &U32S[..short::<u32>(len)];
    let layout = Layout::for_value(src);
    let (arena, made) = if root {
        // The root's block, with the provenance of the `&mut` the arena
        // handed out: the checker writes through it after the thaw.
        let mut made = None;
        let frozen: FrozenArena<[u32]> = arena.freeze_with(|arena| {
            match arena.try_alloc_slice_copy(src) {
                Ok(items) => {
                    made = Some(Ok(NonNull::from(&mut *items)));
                    // A shared reborrow, a read: the checker's pointer stays
                    // valid (passing `items` on by value would not keep it).
                    &*items
                }
                Err(error) => {
                    made = Some(Err(error));
                    &[]
                }
            }
        });
        let root_read = match &made {
            Some(Ok(_)) if frozen.get() != src => Err(Violation::WrongOutcome(format!(
                "the frozen root of {} u32s reads {:?}",
                src.len(),
                &frozen.get()[..frozen.get().len().min(8)]
            ))),
            _ => Ok(()),
        };
        let while_frozen = root_read.and_then(|()| frozen_sizes(&frozen, outcome, Some(layout)));
        (frozen.thaw(), while_frozen.map(|()| made))
    } else {
        let frozen = arena.freeze();
        let while_frozen = frozen_sizes(&frozen, outcome, None);
        (frozen.thaw(), while_frozen.map(|()| None))
    };
    let result = match made {
        Err(violation) => Err(violation),
        Ok(None) => Ok(()),
        Ok(Some(made)) => {
            let result = made.map(|items| (items.cast(), layout));
            outcome.check(Some(layout), result, Contents::Bytes(bytes_of(src)))
        }
    };
    let result = result.and_then(|()| writable_after_thaw(&arena, outcome));
    (arena, result)
}

/// After a thaw the pages must take writes again: the checker writes a new
/// pattern over every live block or, with no live byte, into a `u64` box it
/// gives back. (Left to a later step, a failed write could crash in a later
/// input, which would not replay alone.)
fn writable_after_thaw(arena: &Arena, outcome: &mut Outcome<'_>) -> Result<(), Violation> {
    outcome.checker.rewrite_all()?;
    if outcome.checker.live_bytes() > 0 {
        return Ok(());
    }
    let probe = 0x5EED_u64;
    let made = ArenaBox::try_new_in(probe, arena);
    let expected = Contents::Bytes(&probe.to_ne_bytes());
    outcome.boxed(arena, Some(Layout::new::<u64>()), made, expected, true)
}

/// While frozen: the sizes are the arena's (with the root, if it fits) and
/// every live block still holds its pattern.
fn frozen_sizes<R: FrozenRoot + ?Sized>(
    frozen: &FrozenArena<R>,
    outcome: &Outcome<'_>,
    root: Option<Layout>,
) -> Result<(), Violation> {
    let model = &*outcome.model;
    let expected = root
        .and_then(|layout| model.fresh(layout))
        .map_or(model.pos, |placed| placed.pos);
    if frozen.allocated_bytes() != expected {
        return Err(Violation::Cursor {
            expected,
            found: frozen.allocated_bytes(),
        });
    }
    if frozen.capacity() != model.capacity {
        return Err(Violation::WrongOutcome(format!(
            "frozen with capacity {}, not {}",
            frozen.capacity(),
            model.capacity
        )));
    }
    outcome.checker.verify_all()
}

/// What a collection that grows `step` elements of `size` bytes at a time
/// up to `len` asks the model for: the whole collection if it fits, else
/// the first length that does not (the error reports it). Whether a length
/// fits only gets less likely as it grows, so the first one that does not
/// is found by bisection over the number of steps.
fn grown_until_refused(
    model: &CursorModel,
    len: usize,
    step: usize,
    size: usize,
) -> Option<Layout> {
    let array = |n: usize| Layout::from_size_align(n * size, size).ok();
    if array(len).is_some_and(|layout| model.fresh(layout).is_some()) {
        return array(len);
    }
    let length = |steps: usize| (steps * step).min(len);
    // Invariant: `length(fit)` fits (zero always does), `length(miss)`
    // does not.
    let (mut fit, mut miss) = (0, len.div_ceil(step));
    while miss - fit > 1 {
        let mid = fit + (miss - fit) / 2;
        match array(length(mid)) {
            Some(layout) if model.fresh(layout).is_some() => fit = mid,
            _ => miss = mid,
        }
    }
    array(length(miss))
}

/// The bytes of an arena `str`, as a slice the checker may overwrite with
/// non-UTF-8 patterns: the `&mut str` is gone once this returns.
fn str_bytes(s: &mut str) -> &mut [u8] {
    // SAFETY: the checker's writes break UTF-8, but nothing reads the bytes
    // as a `str` again: only this function ever saw it as one.
    unsafe { s.as_bytes_mut() }
}

/// Judges one allocation's outcome against the model and admits the block
/// (the stack driver, [`crate::stack_ops`], judges its surface with it too).
pub(crate) struct Outcome<'c> {
    pub(crate) checker: &'c mut Checker,
    pub(crate) model: &'c mut CursorModel,
}

impl Outcome<'_> {
    /// `alloc(value)` of a `T` whose bytes are `expected`.
    fn typed<T>(
        &mut self,
        result: Result<&mut T, Error>,
        expected: &[u8],
    ) -> Result<(), Violation> {
        let result = result.map(|value| (NonNull::from(value).cast(), Layout::new::<T>()));
        self.check(Some(Layout::new::<T>()), result, Contents::Bytes(expected))
    }

    /// A box that must hold `expected` where the model puts `intended`;
    /// then leaked (its block stays with the checker) or, `dealloc`,
    /// retired and given back to `arena`.
    fn boxed<T: ?Sized>(
        &mut self,
        arena: &Arena,
        intended: Option<Layout>,
        made: Result<ArenaBox<'_, T>, Error>,
        expected: Contents<'_>,
        dealloc: bool,
    ) -> Result<(), Violation> {
        // The checker's pointer comes from the `&mut` a leak gives, or from
        // the box's own `&mut` while the box stays (a later `&mut` from the
        // box would invalidate it). A `str` box given back holds the
        // checker's bytes, not UTF-8, by then: `dealloc` only measures it
        // and drops a `str`, which reads none of them.
        let (result, back) = match made {
            Ok(mut boxed) if dealloc => {
                let layout = Layout::for_value::<T>(&boxed);
                (Ok((NonNull::from(&mut *boxed).cast(), layout)), Some(boxed))
            }
            Ok(boxed) => {
                let kept = ArenaBox::leak(boxed);
                let layout = Layout::for_value::<T>(kept);
                (Ok((NonNull::from(kept).cast(), layout)), None)
            }
            Err(error) => (Err(error), None),
        };
        self.check(intended, result, expected)?;
        if let Some(boxed) = back {
            let newest = self.checker.newest().expect("admitted just now");
            let block = self.checker.retire(newest)?;
            arena.dealloc(boxed);
            self.model
                .free(block.ptr.as_ptr() as usize, block.layout.size());
        }
        Ok(())
    }

    /// A slice of `len` `T`s that must hold `expected`.
    pub(crate) fn slice<T>(
        &mut self,
        len: usize,
        result: Result<&mut [T], Error>,
        expected: Contents<'_>,
    ) -> Result<(), Violation> {
        let result = result.map(|items| {
            let layout = Layout::for_value(items);
            (NonNull::from(items).cast(), layout)
        });
        self.check(Layout::array::<T>(len).ok(), result, expected)
    }

    /// The outcome must be what the model predicts for `intended` (`None`:
    /// a length whose layout overflows): the block at the model's address,
    /// or exactly the model's error; then the block is admitted, holding
    /// `expected`.
    pub(crate) fn check(
        &mut self,
        intended: Option<Layout>,
        result: Result<(NonNull<u8>, Layout), Error>,
        expected: Contents<'_>,
    ) -> Result<(), Violation> {
        let model = &mut *self.model;
        let left = model.capacity - model.pos;
        let Some(intended) = intended else {
            return match result {
                Err(Error::LayoutOverflow) => Ok(()),
                other => Err(Violation::WrongOutcome(format!(
                    "overflowing length gave {:?}",
                    other.map(|(_, layout)| layout)
                ))),
            };
        };
        let Some(placed) = model.fresh(intended) else {
            let want = Error::Exhausted {
                requested: bytes_needed_ref(
                    model.base + model.pos,
                    intended.size(),
                    intended.align(),
                ),
                remaining: left,
            };
            return match result {
                Err(error) if error == want => Ok(()),
                other => Err(Violation::WrongOutcome(format!(
                    "{intended:?} with {left} left: wanted {want:?}, got {:?}",
                    other.map(|(_, layout)| layout)
                ))),
            };
        };
        let (ptr, layout) = match result {
            Ok(block) if block.1 == intended => block,
            other => {
                return Err(Violation::WrongOutcome(format!(
                    "{intended:?} with {left} left: got {:?}",
                    other.map(|(_, layout)| layout)
                )))
            }
        };
        if let Some(expected) = placed.addr.filter(|&at| at != ptr.as_ptr() as usize) {
            return Err(Violation::WrongPosition {
                expected,
                found: ptr.as_ptr() as usize,
            });
        }
        model.pos = placed.pos;
        // SAFETY: a fresh block of `layout` from the arena, used only by the
        // checker (the reference it came from is gone) until the arena is
        // reset or rewound past it, which makes the checker forget it first.
        unsafe { self.checker.admit(ptr, layout, expected) }.map(drop)
    }
}

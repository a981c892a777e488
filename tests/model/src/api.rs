//! Programs through allocator-api2's `Allocator` trait, for any
//! [`Subject`]: allocate, allocate_zeroed, grow (with or without zeroing,
//! to any alignment), shrink, deallocate, reset and release.

use core::alloc::Layout;

use allocator_api2::alloc::Allocator;
use arbitrary::Arbitrary;

use crate::input::{program, Align, Size, Which};
use crate::{Checker, Contents, Failure, Resize, Subject, Violation};

/// One step of an allocator-api program.
#[derive(Clone, Debug, Arbitrary)]
pub enum ApiOp {
    /// `allocate` or `allocate_zeroed`.
    Allocate {
        /// Bytes.
        size: Size,
        /// Alignment.
        align: Align,
        /// `allocate_zeroed`.
        zeroed: bool,
    },
    /// `grow` or `grow_zeroed` of a live block, by `extra` bytes, to `align`.
    Grow {
        /// Which live block.
        which: Which,
        /// Bytes added.
        extra: Size,
        /// The new alignment.
        align: Align,
        /// `grow_zeroed`.
        zeroed: bool,
    },
    /// `shrink` of a live block by `less` bytes (modulo its size), to `align`.
    Shrink {
        /// Which live block.
        which: Which,
        /// Bytes taken off.
        less: Size,
        /// The new alignment.
        align: Align,
    },
    /// `deallocate` a live block.
    Deallocate {
        /// Which live block.
        which: Which,
    },
    /// `deallocate` the newest block (the one a bump allocator reclaims).
    DeallocateNewest,
    /// `reset`, or `release` (reset and hand the pages back).
    Reset {
        /// `release` rather than `reset`.
        release: bool,
    },
}

/// Decodes a program from `bytes` and runs it against a fresh `S`.
pub fn run_bytes<S: Subject>(bytes: &[u8]) -> Result<(), Failure>
where
    for<'a> &'a S: Allocator,
{
    run(&mut S::make(), &program::<ApiOp>(bytes))
}

/// Runs `ops` against `subject`, checking every result and, after every
/// step, the subject's numbers; at the end, every live block's contents.
pub fn run<S: Subject>(subject: &mut S, ops: &[ApiOp]) -> Result<(), Failure>
where
    for<'a> &'a S: Allocator,
{
    let mut checker = Checker::new(subject.bounds());
    let fail = |step: usize, violation: Violation| Failure {
        subject: S::NAME,
        step,
        op: ops
            .get(step)
            .map_or("final sweep".into(), |op| format!("{op:?}")),
        violation,
    };
    for (step, op) in ops.iter().enumerate() {
        apply(subject, &mut checker, op).map_err(|v| fail(step, v))?;
        checker
            .check_stats(subject.stats(), S::BUMP)
            .map_err(|v| fail(step, v))?;
    }
    checker.verify_all().map_err(|v| fail(ops.len(), v))
}

fn apply<S: Subject>(subject: &mut S, checker: &mut Checker, op: &ApiOp) -> Result<(), Violation>
where
    for<'a> &'a S: Allocator,
{
    let refused = |subject: &S, layout| Violation::Refused {
        layout,
        remaining: subject.stats().remaining,
    };
    match *op {
        ApiOp::Allocate {
            size,
            align,
            zeroed,
        } => {
            let Ok(layout) = Layout::from_size_align(size.0, align.0) else {
                return Ok(());
            };
            let may_refuse = subject.may_refuse(layout);
            let allocator = &*subject;
            let result = if zeroed {
                allocator.allocate_zeroed(layout)
            } else {
                allocator.allocate(layout)
            };
            match result {
                Ok(block) if block.len() < layout.size() => Err(Violation::WrongOutcome(format!(
                    "{} bytes returned for {layout:?}",
                    block.len()
                ))),
                Ok(block) => {
                    let contents = if zeroed {
                        Contents::Zero
                    } else {
                        Contents::Any
                    };
                    // SAFETY: a fresh block of `layout` from the subject,
                    // used only by the checker until it is freed, resized or
                    // the subject reset, each of which forgets it first.
                    unsafe { checker.admit(block.cast(), layout, contents) }.map(drop)
                }
                Err(_) if may_refuse => Ok(()),
                Err(_) => Err(refused(subject, layout)),
            }
        }
        ApiOp::Grow {
            which,
            extra,
            align,
            zeroed,
        } => {
            let Some(index) = which.of(checker.len()) else {
                return Ok(());
            };
            let old = checker.block(index);
            let new_size = old.layout.size().checked_add(extra.0);
            let Some(new) = new_size.and_then(|size| Layout::from_size_align(size, align.0).ok())
            else {
                return Ok(());
            };
            checker.verify(index)?;
            let may_refuse = subject.may_refuse(new);
            let allocator = &*subject;
            // SAFETY: `old` is live in this allocator for `old.layout`, and
            // `new` is no smaller; the checker forgets the old pointer on
            // success.
            let result = unsafe {
                if zeroed {
                    allocator.grow_zeroed(old.ptr, old.layout, new)
                } else {
                    allocator.grow(old.ptr, old.layout, new)
                }
            };
            match result {
                // SAFETY: as for `admit` in `Allocate`.
                Ok(block) => unsafe {
                    checker.resized(index, block.cast(), new, Resize::Grow { zeroed })
                },
                Err(_) if may_refuse => Ok(()),
                Err(_) => Err(refused(subject, new)),
            }
        }
        ApiOp::Shrink { which, less, align } => {
            let Some(index) = which.of(checker.len()) else {
                return Ok(());
            };
            let old = checker.block(index);
            let new_size = old.layout.size() - less.0 % (old.layout.size() + 1);
            let Ok(new) = Layout::from_size_align(new_size, align.0) else {
                return Ok(());
            };
            checker.verify(index)?;
            // A block already aligned for `new` shrinks in place.
            let in_place = old.ptr.as_ptr() as usize % new.align() == 0;
            let may_refuse = !in_place && subject.may_refuse(new);
            let allocator = &*subject;
            // SAFETY: `old` is live for `old.layout`; `new` is no larger.
            match unsafe { allocator.shrink(old.ptr, old.layout, new) } {
                // SAFETY: as for `admit` in `Allocate`.
                Ok(block) => unsafe { checker.resized(index, block.cast(), new, Resize::Shrink) },
                Err(_) if may_refuse => Ok(()),
                Err(_) => Err(refused(subject, new)),
            }
        }
        ApiOp::Deallocate { which } => match which.of(checker.len()) {
            Some(index) => deallocate(subject, checker, index),
            None => Ok(()),
        },
        ApiOp::DeallocateNewest => match checker.newest() {
            Some(index) => deallocate(subject, checker, index),
            None => Ok(()),
        },
        ApiOp::Reset { release } => {
            if !S::RESET {
                return Ok(());
            }
            let start = subject.bounds().start;
            checker.clear(S::BUMP.then_some(start))?;
            subject.reset(release);
            let stats = subject.stats();
            if stats.allocated != 0 {
                return Err(Violation::Stats(stats));
            }
            Ok(())
        }
    }
}

fn deallocate<S: Subject>(subject: &S, checker: &mut Checker, index: usize) -> Result<(), Violation>
where
    for<'a> &'a S: Allocator,
{
    let block = checker.retire(index)?;
    // SAFETY: the block is live for its layout and the checker forgot it.
    unsafe { subject.deallocate(block.ptr, block.layout) };
    Ok(())
}

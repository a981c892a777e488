//! The model's own address arithmetic, written from the design in `u128`
//! where nothing can overflow ([`bump_ref`], [`bytes_needed_ref`]), and the
//! crate's private `src/math.rs`, compiled in here by path, checked against
//! it: the same formulas narrowed back with the check the crate's versions
//! must do themselves.

use arbitrary::{Arbitrary, Unstructured};

use subject::{Bump, Resize, MIN_ALIGN};

use crate::input::Edgy;
use crate::{Failure, Violation};

/// The crate's `src/math.rs`, private to it, compiled into the model as is.
#[path = "../../../src/math.rs"]
#[allow(dead_code, clippy::all)]
mod subject;

use subject as math;

/// One set of inputs for every function in the crate's `math`.
#[derive(Clone, Copy, Debug, Arbitrary)]
pub struct MathCase {
    /// `value` of `align_up`/`align_down`, `pos` of `bump_up`/`bytes_needed`.
    pub pos: Edgy,
    /// `end` of `bump_up`.
    pub end: Edgy,
    /// `size` of `bump_up`/`bytes_needed`/`round_to_min_align`.
    pub size: Edgy,
    /// The alignment is `1 << (align_log2 % usize::BITS)`.
    pub align_log2: u8,
    /// The new size of `resize_in_place` (its old size is `size`).
    pub other: Edgy,
}

/// Decodes cases from `bytes` until they run out and checks each.
pub fn run_bytes(bytes: &[u8]) -> Result<(), Failure> {
    let mut u = Unstructured::new(bytes);
    let mut step = 0;
    while let Ok(case) = MathCase::arbitrary(&mut u) {
        check(&case).map_err(|violation| Failure {
            subject: "math",
            step,
            op: format!("{case:?}"),
            violation,
        })?;
        step += 1;
        if u.is_empty() {
            break;
        }
    }
    Ok(())
}

/// `Some(x)` if `x` fits in a `usize`.
fn narrow(x: u128) -> Option<usize> {
    usize::try_from(x).ok()
}

/// `value` rounded up to `align`, exactly.
fn align_up_ref(value: u128, align: u128) -> u128 {
    value.div_ceil(align) * align
}

/// Where a block of `size` bytes aligned to `align` starts when bumped up
/// from `pos`, and where the cursor stands after it, if that is not past
/// `end`: the design's rule (a block is aligned to `max(8, align)` and
/// takes its size rounded up to 8), in `u128`.
pub fn bump_ref(pos: usize, end: usize, size: usize, align: usize) -> Option<(usize, usize)> {
    let align = align.max(MIN_ALIGN) as u128;
    let start = align_up_ref(pos as u128, align);
    let new_pos = start + align_up_ref(size as u128, MIN_ALIGN as u128);
    (new_pos <= end as u128).then_some((start as usize, new_pos as usize))
}

/// The bytes a request takes from `pos`, alignment padding included: what
/// an exhaustion error reports as `requested`, saturated at `usize::MAX`.
pub fn bytes_needed_ref(pos: usize, size: usize, align: usize) -> usize {
    let align = align.max(MIN_ALIGN) as u128;
    let start = align_up_ref(pos as u128, align);
    // A start past the address space pads without bound.
    let padding = narrow(start).map_or(u128::MAX, |start| (start - pos) as u128);
    let rounded = align_up_ref(size as u128, MIN_ALIGN as u128);
    narrow(padding.saturating_add(rounded)).unwrap_or(usize::MAX)
}

/// Checks every function of the crate's `math` on `case`.
pub fn check(case: &MathCase) -> Result<(), Violation> {
    let (pos, end, size, other) = (case.pos.0, case.end.0, case.size.0, case.other.0);
    let align = 1usize << (u32::from(case.align_log2) % usize::BITS);
    let (pos128, end128, size128, align128) =
        (pos as u128, end as u128, size as u128, align as u128);
    let mismatch =
        |function: &str, expected: &dyn core::fmt::Debug, found: &dyn core::fmt::Debug| {
            Err(Violation::Math(format!(
                "{function}: expected {expected:?}, found {found:?}"
            )))
        };

    let expected = narrow(align_up_ref(pos128, align128));
    let found = math::align_up(pos, align);
    if found != expected {
        return mismatch("align_up", &expected, &found);
    }

    let expected = (pos128 / align128 * align128) as usize;
    let found = math::align_down(pos, align);
    if found != expected {
        return mismatch("align_down", &expected, &found);
    }

    let expected = narrow(align_up_ref(size128, MIN_ALIGN as u128));
    let found = math::round_to_min_align(size);
    if found != expected {
        return mismatch("round_to_min_align", &expected, &found);
    }

    let expected = bump_ref(pos, end, size, align).map(|(start, new_pos)| Bump { start, new_pos });
    let found = math::bump_up(pos, end, size, align);
    if found != expected {
        return mismatch("bump_up", &expected, &found);
    }
    if let Some(bump) = found {
        // The promises on `bump_up`'s doc: 8-aligned results when `pos` is,
        // the block aligned as asked, and the cursor never past `end`.
        let aligned = bump.start % align.max(MIN_ALIGN) == 0;
        let eight = pos % MIN_ALIGN != 0 || bump.new_pos % MIN_ALIGN == 0;
        if !(aligned && eight && pos <= bump.start && bump.new_pos <= end) {
            return mismatch("bump_up's promises", &"kept", &bump);
        }
    }

    let expected = bytes_needed_ref(pos, size, align);
    let found = math::bytes_needed(pos, size, align);
    if found != expected {
        return mismatch("bytes_needed", &expected, &found);
    }

    if size <= isize::MAX as usize {
        let expected = align_up_ref(size128, MIN_ALIGN as u128) as usize;
        let found = math::round_layout_size(size);
        if found != expected {
            return mismatch("round_layout_size", &expected, &found);
        }
    }

    let expected = pos128 % align128 == 0;
    let found = math::is_aligned(pos, align);
    if found != expected {
        return mismatch("is_aligned", &expected, &found);
    }

    let end_of = |size: u128| pos128 + align_up_ref(size, MIN_ALIGN as u128);
    let expected = narrow(end_of(size128));
    let found = math::block_end(pos, size);
    if found != expected {
        return mismatch("block_end", &expected, &found);
    }

    let (old_end, new_end) = (end_of(size128), end_of(other as u128));
    let expected = (pos128 % align128 == 0 && old_end <= usize::MAX as u128 && new_end <= end128)
        .then_some(Resize {
            old_end: old_end as usize,
            new_end: new_end as usize,
        });
    let found = math::resize_in_place(pos, size, other, align, end);
    if found != expected {
        return mismatch("resize_in_place", &expected, &found);
    }

    let expected = end128.saturating_sub(pos128).min(size128) as usize;
    let found = math::dirty_len(pos, size, end);
    if found != expected {
        return mismatch("dirty_len", &expected, &found);
    }
    Ok(())
}

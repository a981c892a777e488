//! `anon_arena::math` against a `u128` reference: the same formulas
//! computed where nothing can overflow, then narrowed back with the check
//! the crate's versions must do themselves.

use anon_arena::math::{self, Bump, MIN_ALIGN};
use arbitrary::{Arbitrary, Unstructured};

use crate::input::Edgy;
use crate::{Failure, Violation};

/// One set of inputs for every function in `anon_arena::math`.
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

/// Checks every function of `anon_arena::math` on `case`.
pub fn check(case: &MathCase) -> Result<(), Violation> {
    let (pos, end, size) = (case.pos.0, case.end.0, case.size.0);
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

    let big_align = align128.max(MIN_ALIGN as u128);
    let start = align_up_ref(pos128, big_align);
    let new_pos = start + align_up_ref(size128, MIN_ALIGN as u128);
    let expected = (new_pos <= end128).then_some(Bump {
        start: start as usize,
        new_pos: new_pos as usize,
    });
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

    let padding = narrow(start).map_or(u128::from(u64::MAX) << 64, |s| s as u128 - pos128);
    let rounded = align_up_ref(size128, MIN_ALIGN as u128);
    let expected = narrow(padding.saturating_add(rounded)).unwrap_or(usize::MAX);
    let found = math::bytes_needed(pos, size, align);
    if found != expected {
        return mismatch("bytes_needed", &expected, &found);
    }
    Ok(())
}

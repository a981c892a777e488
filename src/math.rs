//! Address arithmetic for every allocator in the crate, on plain `usize`.
//!
//! Nothing here touches memory, so the module forbids `unsafe` and every
//! function is checked: a result that would not fit in the address space is
//! `None`, never a wrapped value. The raw layers turn these numbers back into
//! pointers derived from their region's base pointer.
#![forbid(unsafe_code)]

/// The alignment of every cursor position and of every block handed out
/// (larger alignments are honoured on request).
pub const MIN_ALIGN: usize = 8;

/// Rounds `value` up to a multiple of `align`, a power of two.
#[inline]
pub const fn align_up(value: usize, align: usize) -> Option<usize> {
    debug_assert!(align.is_power_of_two());
    match value.checked_add(align - 1) {
        Some(bumped) => Some(bumped & !(align - 1)),
        None => None,
    }
}

/// Rounds `value` down to a multiple of `align`, a power of two.
#[inline]
pub const fn align_down(value: usize, align: usize) -> usize {
    debug_assert!(align.is_power_of_two());
    value & !(align - 1)
}

/// Rounds a `Layout` size up to [`MIN_ALIGN`].
///
/// Cannot overflow for a size taken from a `Layout`: those are at most
/// `isize::MAX - (align - 1)`, far below `usize::MAX - 7`. The checked form
/// is kept for sizes computed elsewhere.
#[inline(always)]
pub const fn round_to_min_align(size: usize) -> Option<usize> {
    align_up(size, MIN_ALIGN)
}

/// Where a block of `size` bytes aligned to `align` lands when bumped up
/// from `pos`, and where the cursor goes after it; `None` if the block
/// would pass `end`.
///
/// Both returned positions are multiples of `MIN_ALIGN` when `pos` is, and
/// `start <= new_pos <= end` holds.
#[inline]
pub const fn bump_up(pos: usize, end: usize, size: usize, align: usize) -> Option<Bump> {
    let align = if align < MIN_ALIGN { MIN_ALIGN } else { align };
    let Some(start) = align_up(pos, align) else {
        return None;
    };
    let Some(rounded) = round_to_min_align(size) else {
        return None;
    };
    let Some(new_pos) = start.checked_add(rounded) else {
        return None;
    };
    if new_pos > end {
        return None;
    }
    Some(Bump { start, new_pos })
}

/// The result of [`bump_up`]: where a block starts, and the cursor after it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Bump {
    /// The first byte of the block, aligned as requested.
    pub start: usize,
    /// The cursor after the block: `start + round_to_min_align(size)`.
    pub new_pos: usize,
}

/// How many bytes a request for `size` bytes aligned to `align` consumes
/// from `pos`, padding included — the `requested` number of an
/// exhaustion error. Saturates instead of overflowing: it only feeds messages.
#[inline]
pub const fn bytes_needed(pos: usize, size: usize, align: usize) -> usize {
    let align = if align < MIN_ALIGN { MIN_ALIGN } else { align };
    let padding = match align_up(pos, align) {
        Some(start) => start - pos,
        None => usize::MAX,
    };
    let rounded = match round_to_min_align(size) {
        Some(rounded) => rounded,
        None => usize::MAX,
    };
    padding.saturating_add(rounded)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn align_up_rounds_and_detects_overflow() {
        assert_eq!(align_up(0, 8), Some(0));
        assert_eq!(align_up(1, 8), Some(8));
        assert_eq!(align_up(4096, 4096), Some(4096));
        assert_eq!(align_up(4097, 4096), Some(8192));
        assert_eq!(align_up(usize::MAX - 3, 8), None);
        assert_eq!(align_up(usize::MAX, 1), Some(usize::MAX));
    }

    #[test]
    fn align_down_rounds_down() {
        assert_eq!(align_down(4095, 4096), 0);
        assert_eq!(align_down(8193, 4096), 8192);
    }

    #[test]
    fn bump_pads_small_sizes_to_eight() {
        assert_eq!(
            bump_up(16, 64, 1, 1),
            Some(Bump {
                start: 16,
                new_pos: 24
            })
        );
        assert_eq!(
            bump_up(16, 64, 0, 1),
            Some(Bump {
                start: 16,
                new_pos: 16
            })
        );
        assert_eq!(
            bump_up(16, 64, 8, 4),
            Some(Bump {
                start: 16,
                new_pos: 24
            })
        );
    }

    #[test]
    fn bump_honours_large_alignment() {
        assert_eq!(
            bump_up(8, 8192, 10, 4096),
            Some(Bump {
                start: 4096,
                new_pos: 4112
            })
        );
    }

    #[test]
    fn bump_fails_past_end_or_on_overflow() {
        assert_eq!(bump_up(0, 64, 65, 8), None);
        assert_eq!(
            bump_up(0, 64, 64, 8),
            Some(Bump {
                start: 0,
                new_pos: 64
            })
        );
        assert_eq!(bump_up(8, 64, usize::MAX - 8, 8), None);
        assert_eq!(bump_up(usize::MAX - 7, usize::MAX, 0, 16), None);
        assert_eq!(bump_up(0, usize::MAX, usize::MAX, 8), None);
    }

    #[test]
    fn bytes_needed_counts_padding_and_saturates() {
        assert_eq!(bytes_needed(8, 10, 4096), 4088 + 16);
        assert_eq!(bytes_needed(8, 3, 1), 8);
        assert_eq!(bytes_needed(8, usize::MAX, 8), usize::MAX);
    }
}

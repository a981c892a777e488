//! Address arithmetic for every allocator in the crate, on plain `usize`:
//! alignment, bumping, where a resized block ends, how much of a block may
//! hold old bytes. Both bump cursors (`RawCursor`, `RawAtomicCursor`) and
//! the pool take their numbers from here, so each rule is written once.
//!
//! Nothing here touches memory, so the module forbids `unsafe` and every
//! function is checked: a result that would not fit in the address space is
//! `None`, never a wrapped value (the one unchecked function says why it
//! cannot wrap). The raw layers turn these numbers back into pointers
//! derived from their region's base pointer.
#![forbid(unsafe_code)]

/// The alignment of every cursor position and of every block handed out
/// (larger alignments are honoured on request).
pub(crate) const MIN_ALIGN: usize = 8;

/// Rounds `value` up to a multiple of `align`, a power of two.
#[inline]
pub(crate) const fn align_up(value: usize, align: usize) -> Option<usize> {
    debug_assert!(align.is_power_of_two());
    match value.checked_add(align - 1) {
        Some(bumped) => Some(bumped & !(align - 1)),
        None => None,
    }
}

/// Rounds `value` down to a multiple of `align`, a power of two.
#[inline]
pub(crate) const fn align_down(value: usize, align: usize) -> usize {
    debug_assert!(align.is_power_of_two());
    value & !(align - 1)
}

/// Rounds a `Layout` size up to [`MIN_ALIGN`].
///
/// Cannot overflow for a size taken from a `Layout`: those are at most
/// `isize::MAX - (align - 1)`, far below `usize::MAX - 7`. The checked form
/// is kept for sizes computed elsewhere.
#[inline(always)]
pub(crate) const fn round_to_min_align(size: usize) -> Option<usize> {
    align_up(size, MIN_ALIGN)
}

/// Rounds the size of a `Layout` up to [`MIN_ALIGN`] without a check: the
/// allocation fast paths' rounding.
///
/// Cannot overflow: a `Layout` size is at most `isize::MAX - (align - 1)`,
/// far below `usize::MAX - 7`.
#[inline(always)]
pub(crate) const fn round_layout_size(size: usize) -> usize {
    debug_assert!(size <= isize::MAX as usize);
    (size + (MIN_ALIGN - 1)) & !(MIN_ALIGN - 1)
}

/// Whether `value` is a multiple of `align`, a power of two.
#[inline(always)]
pub(crate) const fn is_aligned(value: usize, align: usize) -> bool {
    debug_assert!(align.is_power_of_two());
    value & (align - 1) == 0
}

/// Where a block starting at `start` ends in its cursor: `size` rounded to
/// [`MIN_ALIGN`] further on; `None` past the address space.
#[inline]
pub(crate) const fn block_end(start: usize, size: usize) -> Option<usize> {
    match round_to_min_align(size) {
        Some(rounded) => start.checked_add(rounded),
        None => None,
    }
}

/// Where a block starting at `block` ends now (`old_size` bytes) and where
/// it would end resized in place to `new_size` bytes aligned to `align`:
/// `None` when it cannot stay where it is, because `block` is not aligned
/// to `align` or the new end would pass `end`.
///
/// A cursor resizes in place only its newest block (its old end is the
/// cursor); shrinking never passes `end`, so only the alignment decides.
#[inline]
pub(crate) const fn resize_in_place(
    block: usize,
    old_size: usize,
    new_size: usize,
    align: usize,
    end: usize,
) -> Option<Resize> {
    if !is_aligned(block, align) {
        return None;
    }
    let (Some(old_end), Some(new_end)) = (block_end(block, old_size), block_end(block, new_size))
    else {
        return None;
    };
    if new_end > end {
        return None;
    }
    Some(Resize { old_end, new_end })
}

/// The result of [`resize_in_place`]: a block's end before and after.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Resize {
    /// `block + round_to_min_align(old_size)`: where the cursor must stand
    /// for the block to be the newest.
    pub(crate) old_end: usize,
    /// `block + round_to_min_align(new_size)`: where the cursor goes.
    pub(crate) new_end: usize,
}

/// How many of the `len` bytes at `block` lie below `dirty_end`, the end of
/// what may hold old data (a cursor's high-water mark): the bytes a zeroed
/// allocation must clear.
#[inline]
pub(crate) const fn dirty_len(block: usize, len: usize, dirty_end: usize) -> usize {
    let below = dirty_end.saturating_sub(block);
    if below < len {
        below
    } else {
        len
    }
}

/// Where a block of `size` bytes aligned to `align` lands when bumped up
/// from `pos`, and where the cursor goes after it; `None` if the block
/// would pass `end`.
///
/// Both returned positions are multiples of `MIN_ALIGN` when `pos` is, and
/// `start <= new_pos <= end` holds.
#[inline]
pub(crate) const fn bump_up(pos: usize, end: usize, size: usize, align: usize) -> Option<Bump> {
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
pub(crate) struct Bump {
    /// The first byte of the block, aligned as requested.
    pub(crate) start: usize,
    /// The cursor after the block: `start + round_to_min_align(size)`.
    pub(crate) new_pos: usize,
}

/// How many bytes a request for `size` bytes aligned to `align` consumes
/// from `pos`, padding included — the `requested` number of an
/// exhaustion error. Saturates instead of overflowing: it only feeds messages.
#[inline]
pub(crate) const fn bytes_needed(pos: usize, size: usize, align: usize) -> usize {
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
    fn layout_sizes_round_to_eight() {
        assert_eq!(round_layout_size(0), 0);
        assert_eq!(round_layout_size(1), 8);
        assert_eq!(
            round_layout_size(isize::MAX as usize),
            isize::MAX as usize + 1
        );
    }

    #[test]
    fn blocks_resize_in_place_when_aligned_and_within_the_end() {
        assert_eq!(
            resize_in_place(64, 8, 20, 8, 96),
            Some(Resize {
                old_end: 72,
                new_end: 88
            })
        );
        assert_eq!(resize_in_place(64, 8, 40, 8, 96), None, "past the end");
        assert_eq!(resize_in_place(64, 8, 8, 128, 96), None, "misaligned");
        assert_eq!(
            resize_in_place(64, 40, 1, 64, 104),
            Some(Resize {
                old_end: 104,
                new_end: 72
            })
        );
        assert_eq!(resize_in_place(8, usize::MAX, 0, 8, usize::MAX), None);
        assert_eq!(block_end(usize::MAX - 7, 1), None);
    }

    #[test]
    fn dirty_len_is_the_part_below_the_mark() {
        assert_eq!(dirty_len(100, 50, 120), 20);
        assert_eq!(dirty_len(100, 50, 200), 50);
        assert_eq!(dirty_len(100, 50, 80), 0);
        assert!(is_aligned(64, 64) && !is_aligned(72, 64));
    }

    #[test]
    fn bytes_needed_counts_padding_and_saturates() {
        assert_eq!(bytes_needed(8, 10, 4096), 4088 + 16);
        assert_eq!(bytes_needed(8, 3, 1), 8);
        assert_eq!(bytes_needed(8, usize::MAX, 8), usize::MAX);
    }
}

//! Cutting an aligned window out of a larger fresh mapping: the way both a
//! huge-page-aligned [`Region`](super::Region) and a `PageAllocator` block
//! aligned above a page are made (map more than needed, unmap the
//! misaligned head and the unused tail).
//!
//! Each cut is a `munmap` that can fail. Whatever fails, nothing is left
//! mapped that no one owns: the caller gets an error and every byte of the
//! reservation that may still be mapped is unmapped.

use core::ptr::NonNull;

use crate::error::Error;

/// Keeps `keep` bytes at `offset` of the fresh mapping `base..base +
/// reserve` and unmaps the rest; returns the window's start. On failure
/// unmaps what may still be mapped and returns the error.
///
/// # Safety
///
/// * `base..base + reserve` is one mapping the caller owns and nothing
///   points into; `offset`, `keep` and `reserve` are whole pages with
///   `offset + keep <= reserve`.
pub(crate) unsafe fn keep_window(
    base: NonNull<u8>,
    reserve: usize,
    offset: usize,
    keep: usize,
) -> Result<NonNull<u8>, Error> {
    keep_window_with(base, reserve, offset, keep, &mut |ptr, len| {
        // SAFETY: `keep_window_with` unmaps only whole pages of the
        // caller's reservation that it gives up (its contract, checked by
        // its tests), and the caller's contract makes them ours.
        unsafe { super::unmap(ptr, len) }
    })
}

/// [`keep_window`] with the unmapping done by `unmap`, so that tests can
/// make it fail. `unmap` is called only on whole pages of the reservation,
/// never twice on the same byte, and never on the window it returns.
fn keep_window_with(
    base: NonNull<u8>,
    reserve: usize,
    offset: usize,
    keep: usize,
    unmap: &mut dyn FnMut(NonNull<u8>, usize) -> Result<(), Error>,
) -> Result<NonNull<u8>, Error> {
    debug_assert!(offset.checked_add(keep).is_some_and(|end| end <= reserve));
    let at = |bytes: usize| {
        NonNull::new(base.as_ptr().wrapping_add(bytes)).expect("a mapping does not wrap")
    };
    let start = at(offset);
    let tail = reserve - offset - keep;
    if offset > 0 {
        if let Err(error) = unmap(base, offset) {
            // A failed `munmap` unmaps nothing: give the whole reservation
            // back.
            unmap_or_assert(unmap, base, reserve);
            return Err(error);
        }
    }
    if tail > 0 {
        if let Err(error) = unmap(at(offset + keep), tail) {
            // The head is gone; the window and the tail are still mapped.
            unmap_or_assert(unmap, start, keep + tail);
            return Err(error);
        }
    }
    Ok(start)
}

/// Gives back pages on an error path. A second failure would leave them
/// mapped with no owner: a bug (or an exhausted kernel) that debug builds
/// report.
fn unmap_or_assert(
    unmap: &mut dyn FnMut(NonNull<u8>, usize) -> Result<(), Error>,
    ptr: NonNull<u8>,
    len: usize,
) {
    let result = unmap(ptr, len);
    debug_assert!(result.is_ok(), "munmap failed: {result:?}");
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What a fake `munmap` was asked to do, as (offset from base, length).
    type Calls = std::vec::Vec<(usize, usize)>;

    /// Runs `keep_window_with` over a fake reservation at `base` whose
    /// `fail_at`-th unmap call (0-based) fails.
    fn run(
        reserve: usize,
        offset: usize,
        keep: usize,
        fail_at: Option<usize>,
    ) -> (Result<usize, Error>, Calls) {
        let base = NonNull::new(core::ptr::without_provenance_mut::<u8>(1 << 20)).unwrap();
        let mut calls = Calls::new();
        let result = keep_window_with(base, reserve, offset, keep, &mut |ptr, len| {
            calls.push((ptr.addr().get() - base.addr().get(), len));
            if Some(calls.len() - 1) == fail_at {
                Err(Error::MapFailed {
                    call: "munmap",
                    len,
                    errno: rustix::io::Errno::NOMEM,
                })
            } else {
                Ok(())
            }
        });
        let result = result.map(|start| start.addr().get() - base.addr().get());
        (result, calls)
    }

    #[test]
    fn unmaps_head_and_tail_and_keeps_the_window() {
        assert_eq!(run(10, 3, 4, None), (Ok(3), vec![(0, 3), (7, 3)]));
        assert_eq!(run(10, 0, 4, None), (Ok(0), vec![(4, 6)]));
        assert_eq!(run(10, 6, 4, None), (Ok(6), vec![(0, 6)]));
        assert_eq!(run(4, 0, 4, None), (Ok(0), vec![]));
    }

    #[test]
    fn a_failed_head_unmap_gives_back_the_whole_reservation() {
        let (result, calls) = run(10, 3, 4, Some(0));
        assert!(result.is_err());
        assert_eq!(calls, [(0, 3), (0, 10)]);
    }

    #[test]
    fn a_failed_tail_unmap_gives_back_the_window_and_the_tail() {
        let (result, calls) = run(10, 3, 4, Some(1));
        assert!(result.is_err());
        assert_eq!(calls, [(0, 3), (7, 3), (3, 7)]);
        let (result, calls) = run(10, 0, 4, Some(0));
        assert!(result.is_err());
        assert_eq!(calls, [(4, 6), (0, 10)]);
    }
}

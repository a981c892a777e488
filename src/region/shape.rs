//! [`Shape`]: how a region is laid out and where its huge pages start —
//! decided from the options before anything is mapped.
#![forbid(unsafe_code)]

use super::{page_size, Backing, RegionOptions};
use crate::error::Error;
use crate::math::align_up;

/// The span transparent huge pages need to be aligned to (x86-64, arm64 4K).
pub(crate) const HUGE_PAGE: usize = 2 << 20;

/// Regions at least this large get huge pages past their first
/// [`SMALL_PAGED_LEAD`] bytes unless the user said otherwise.
pub(crate) const AUTO_HUGE_MIN: usize = 64 << 20;

/// How much of an automatically huge-paged region keeps 4 KiB pages.
///
/// The region starts this far before a 2 MiB boundary, so a region used
/// only below 256 KiB commits memory 4 KiB at a time (at most 64 faults),
/// and one filled past it takes a fault per 2 MiB from there on: a small
/// user does not commit 2 MiB, a large one takes 512 times fewer faults
/// (benches/README.md has the measurements).
pub(crate) const SMALL_PAGED_LEAD: usize = 256 << 10;

/// Everything about how a region is mapped that its next user could tell
/// apart: a mapping is reused only for exactly the same shape.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Shape {
    /// Usable bytes: a whole number of pages.
    pub(crate) len: usize,
    /// `len` plus the guard page, if any.
    pub(crate) mapped_len: usize,
    /// Which part is advised `MADV_HUGEPAGE`.
    pub(crate) huge: HugePages,
}

impl Shape {
    /// The shape `options` ask for.
    pub(crate) fn of(options: &RegionOptions) -> Result<Shape, Error> {
        let page = page_size();
        let len = align_up(options.len.max(1), page).ok_or(Error::LayoutOverflow)?;
        let guard = if options.guard_pages && !cfg!(miri) {
            page
        } else {
            0
        };
        Ok(Shape {
            len,
            mapped_len: len.checked_add(guard).ok_or(Error::LayoutOverflow)?,
            huge: HugePages::plan(options, len),
        })
    }

    /// Whether a mapping of these options may be handed to a later user.
    /// Only plain private anonymous ones: a shared mapping is seen by other
    /// processes, `/dev/zero` was asked for by name, `populate` wants
    /// every page resident, which a mapping kept for reuse is not, and a
    /// hardened one is never reused (the crate docs' "Keeping secrets"
    /// says why).
    pub(crate) fn reusable(options: &RegionOptions) -> bool {
        !options.shared
            && !options.populate
            && options.backing == Backing::Anonymous
            && !options.hardening.any()
    }
}

/// Which part of a region is advised `MADV_HUGEPAGE`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum HugePages {
    /// None of it.
    Off,
    /// All of it: the user asked; a failing `madvise` is an error.
    Whole,
    /// All but the first [`SMALL_PAGED_LEAD`] bytes, best effort: a large
    /// region that is only lightly used keeps 4 KiB granularity, while one
    /// filled past that takes a fault per 2 MiB instead of one per 4 KiB.
    AfterLead,
}

impl HugePages {
    /// Bytes at the region's start that stay out of the advice; the rest
    /// begins on a [`HUGE_PAGE`] boundary.
    pub(crate) const fn lead(self) -> usize {
        match self {
            HugePages::AfterLead => SMALL_PAGED_LEAD,
            HugePages::Off | HugePages::Whole => 0,
        }
    }

    /// What `options` get for a region of `len` bytes.
    pub(crate) fn plan(options: &RegionOptions, len: usize) -> HugePages {
        if cfg!(miri) {
            return HugePages::Off;
        }
        match options.huge_pages {
            Some(true) => HugePages::Whole,
            Some(false) => HugePages::Off,
            // Shared memory is shmem, whose huge pages follow a separate
            // system setting; leave it alone.
            None if len >= AUTO_HUGE_MIN && !options.shared => HugePages::AfterLead,
            None => HugePages::Off,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn huge_pages_from_64_mib_unless_told_or_shared() {
        let options = RegionOptions::new(AUTO_HUGE_MIN);
        assert_eq!(
            HugePages::plan(&options, AUTO_HUGE_MIN),
            if cfg!(miri) {
                HugePages::Off
            } else {
                HugePages::AfterLead
            }
        );
        assert_eq!(HugePages::plan(&options, AUTO_HUGE_MIN - 1), HugePages::Off);
        let off = RegionOptions {
            huge_pages: Some(false),
            ..options
        };
        assert_eq!(HugePages::plan(&off, AUTO_HUGE_MIN), HugePages::Off);
        let shared = RegionOptions {
            shared: true,
            ..options
        };
        assert_eq!(HugePages::plan(&shared, AUTO_HUGE_MIN), HugePages::Off);
    }

    #[test]
    fn shapes_round_to_pages_and_count_the_guard() {
        let page = page_size();
        let plain = Shape::of(&RegionOptions::new(page + 1)).unwrap();
        assert_eq!((plain.len, plain.mapped_len), (2 * page, 2 * page));
        let guarded = Shape::of(&RegionOptions {
            guard_pages: true,
            ..RegionOptions::new(page)
        })
        .unwrap();
        let guard = if cfg!(miri) { 0 } else { page };
        assert_eq!((guarded.len, guarded.mapped_len), (page, page + guard));
        assert_eq!(
            Shape::of(&RegionOptions::new(usize::MAX)),
            Err(Error::LayoutOverflow)
        );
    }
}

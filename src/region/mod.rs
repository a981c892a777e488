//! [`Region`]: one anonymous memory mapping, unmapped on drop.
//!
//! This module makes every system call of the crate, in [`sys`]; [`shape`]
//! decides how a mapping is laid out. Everything above works on the pointer
//! and length a `Region` hands out, so the allocators stay plain arithmetic
//! that Miri can check.
//!
//! `unsafe` is allowed here because a region hands out a raw mapping and
//! gives it back to the kernel on drop; each step states which facts about
//! the mapping make it sound.
#![allow(unsafe_code)]

use core::ops::Range;
use core::ptr::NonNull;

use crate::error::Error;
use crate::math::{align_down, align_up};

mod harden;
mod shape;
mod sys;
mod trim;

#[cfg(test)]
pub(crate) use harden::tests::wiped_by;
pub(crate) use harden::Hardening;

use shape::HUGE_PAGE;
pub(crate) use shape::{HugePages, Shape};
pub(crate) use sys::{map_pages, page_size, remap, unmap};
use sys::{map_raw, unmap_whole};
pub(crate) use trim::keep_window;

/// Where the zero pages of a [`Region`] come from.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Backing {
    /// `mmap(MAP_ANONYMOUS)`, `fd = -1`: the usual way.
    #[default]
    Anonymous,
    /// `/dev/zero` opened read/write and mapped, the System V way; the file
    /// descriptor is closed right after `mmap`. Behaves the same.
    DevZero,
}

/// What a [`Region`] is asked to be; filled in by a
/// [`Builder`](crate::Builder).
#[derive(Clone, Copy, Debug)]
pub(crate) struct RegionOptions {
    pub(crate) len: usize,
    pub(crate) guard_pages: bool,
    /// `Some` when the user chose; `None` lets [`HugePages::plan`] decide.
    pub(crate) huge_pages: Option<bool>,
    pub(crate) populate: bool,
    pub(crate) backing: Backing,
    pub(crate) shared: bool,
    pub(crate) hardening: Hardening,
}

impl RegionOptions {
    pub(crate) const fn new(len: usize) -> Self {
        RegionOptions {
            len,
            guard_pages: false,
            huge_pages: None,
            populate: false,
            backing: Backing::Anonymous,
            shared: false,
            hardening: Hardening::NONE,
        }
    }
}

/// One anonymous memory mapping, readable and writable, unmapped on drop.
///
/// The whole length is reserved as address space at once (`MAP_NORESERVE`);
/// the kernel commits a page, zeroed, the first time it is touched. A region
/// never moves and never grows.
///
/// ```
/// use anon_arena::Region;
///
/// let region = Region::new(1 << 30)?; // 1 GiB of address space, no memory yet
/// assert_eq!(region.len(), 1 << 30);
/// // SAFETY: the first byte lies inside the mapping, which is read/write.
/// unsafe { region.as_ptr().write(7) };
/// # Ok::<(), anon_arena::Error>(())
/// ```
pub struct Region {
    /// Start of the usable bytes: page-aligned, never null, from `mmap`.
    ptr: NonNull<u8>,
    /// Its usable length (`shape.len`, whole pages), the bytes mapped from
    /// `ptr` (`shape.mapped_len`: the guard page too, if any) and its huge
    /// pages.
    shape: Shape,
    /// `MAP_SHARED`: `release` must drop the shmem pages, not only this
    /// process's view of them.
    shared: bool,
    /// Locked (`mlock2`): `release` must use `MADV_DONTNEED_LOCKED`.
    locked: bool,
    /// For a `MADV_DONTFORK` mapping, the process that made it: a forked
    /// child has no mapping at these addresses (it may map something else
    /// there), so the child's copy of the region must never write, advise
    /// or unmap through them.
    owner: Option<sys::ProcessId>,
    /// Under loom, the mapping's [`LoomToken`].
    #[cfg(all(test, loom))]
    #[expect(dead_code, reason = "only its drop matters")]
    token: LoomToken,
}

/// Under loom, a byte of heap per mapping, allocated and freed through
/// loom: a mapping neither unmapped nor held at the end of a model's
/// execution fails the model as a leak, and one unmapped twice as a free
/// of a pointer loom no longer tracks.
#[cfg(all(test, loom))]
struct LoomToken(NonNull<u8>);

#[cfg(all(test, loom))]
impl LoomToken {
    fn new() -> LoomToken {
        // SAFETY: the layout is not zero-sized.
        let byte = unsafe { loom::alloc::alloc(core::alloc::Layout::new::<u8>()) };
        LoomToken(NonNull::new(byte).expect("heap exhausted"))
    }
}

#[cfg(all(test, loom))]
impl Drop for LoomToken {
    fn drop(&mut self) {
        // SAFETY: allocated in `new` with this layout; freed here once,
        // unless the `Region` was duplicated, which loom then reports.
        unsafe { loom::alloc::dealloc(self.0.as_ptr(), core::alloc::Layout::new::<u8>()) };
    }
}

// SAFETY: a `Region` owns its mapping exclusively; nothing in it is tied to
// the thread that created it, and it hands out only raw pointers, whose use
// across threads is the user's responsibility.
unsafe impl Send for Region {}
// SAFETY: `&Region` offers only `as_ptr`/`len`, reads of immutable fields.
unsafe impl Sync for Region {}

impl Region {
    /// Maps `len` bytes (rounded up to whole pages, at least one) of private
    /// anonymous memory: `mmap(NULL, len, PROT_READ | PROT_WRITE,
    /// MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0)`.
    ///
    /// # Errors
    ///
    /// [`Error::MapFailed`] when the kernel refuses the mapping,
    /// [`Error::LayoutOverflow`] when `len` rounded to pages overflows.
    ///
    /// ```
    /// let region = anon_arena::Region::new(10)?;
    /// assert_eq!(region.len(), rustix::param::page_size());
    /// # Ok::<(), anon_arena::Error>(())
    /// ```
    pub fn new(len: usize) -> Result<Region, Error> {
        Region::map(&RegionOptions::new(len))
    }

    /// The first usable byte; page-aligned.
    ///
    /// ```
    /// let region = anon_arena::Region::new(4096)?;
    /// assert_eq!(region.as_ptr() as usize % rustix::param::page_size(), 0);
    /// # Ok::<(), anon_arena::Error>(())
    /// ```
    #[inline]
    pub fn as_ptr(&self) -> *mut u8 {
        self.ptr.as_ptr()
    }

    /// The usable length in bytes, a whole number of pages (the guard page,
    /// if any, is not counted).
    ///
    /// ```
    /// assert_eq!(anon_arena::Region::new(8192)?.len(), 8192);
    /// # Ok::<(), anon_arena::Error>(())
    /// ```
    #[inline]
    #[allow(clippy::len_without_is_empty)] // a region is never empty
    pub fn len(&self) -> usize {
        self.shape.len
    }

    /// Hands the whole pages inside the byte range `range` back to the
    /// operating system: `madvise(MADV_DONTNEED)` (`MADV_REMOVE` for a
    /// shared region). They read as zero afterwards and cost no memory until
    /// touched again. Partial pages at either end are left as they are.
    ///
    /// # Errors
    ///
    /// [`Error::MapFailed`] if the kernel refuses the advice.
    ///
    /// # Panics
    ///
    /// If `range` is reversed or reaches past [`len`](Region::len).
    ///
    /// ```
    /// let mut region = anon_arena::Region::new(1 << 16)?;
    /// // SAFETY: byte 100 is inside the read/write mapping.
    /// unsafe { region.as_ptr().add(100).write(1) };
    /// region.release(0..region.len())?;
    /// // SAFETY: as above; released pages read as zero.
    /// assert_eq!(unsafe { region.as_ptr().add(100).read() }, 0);
    /// # Ok::<(), anon_arena::Error>(())
    /// ```
    pub fn release(&mut self, range: Range<usize>) -> Result<(), Error> {
        assert!(
            range.start <= range.end && range.end <= self.shape.len,
            "Region::release: range {range:?} is outside the region of {} bytes",
            self.shape.len
        );
        let page = page_size();
        // Cannot overflow: `range.start <= len`, and `len` is a whole number
        // of pages that fits in the address space.
        let first = align_up(range.start, page).unwrap_or(self.shape.len);
        let last = align_down(range.end, page);
        if first >= last {
            return Ok(());
        }
        // SAFETY: `first..last` lies inside the usable pages of this mapping
        // (checked above), and `&mut self` means no reference derived from
        // `&self` can observe the bytes change.
        unsafe { self.discard(first, last - first) }
    }

    /// Drops the pages of `offset..offset + len` (page-aligned, inside the
    /// usable part) so that they read as zero.
    ///
    /// # Safety
    ///
    /// * `offset` and `len` are multiples of the page size and
    ///   `offset + len <= self.shape.len`.
    /// * No live reference points into those bytes.
    unsafe fn discard(&mut self, offset: usize, len: usize) -> Result<(), Error> {
        // SAFETY: the caller keeps the range inside the mapping.
        let start = unsafe { self.ptr.add(offset) };
        // SAFETY: whole pages of our read/write mapping, unreferenced by the
        // caller's contract.
        unsafe { sys::discard(start, len, self.shared, self.locked) }
    }

    /// Creates the mapping the options describe.
    pub(crate) fn map(options: &RegionOptions) -> Result<Region, Error> {
        Hardening::check(options)?;
        let shape = Shape::of(options)?;
        let Shape {
            mapped_len, huge, ..
        } = shape;
        let align_huge = huge != HugePages::Off;
        let reserve = if align_huge {
            mapped_len
                .checked_add(HUGE_PAGE)
                .ok_or(Error::LayoutOverflow)?
        } else {
            mapped_len
        };
        let base = map_raw(reserve, options)?;
        let ptr = if align_huge {
            // SAFETY: `base..base + reserve` is the mapping just made and
            // nothing points into it yet.
            unsafe { trim_to_huge_page(base, reserve, mapped_len, huge.lead()) }?
        } else {
            base
        };
        let region = Region {
            ptr,
            shape,
            shared: options.shared,
            locked: options.hardening.lock && !cfg!(miri),
            owner: (options.hardening.dont_fork && !cfg!(miri)).then(sys::current_process),
            #[cfg(all(test, loom))]
            token: LoomToken::new(),
        };
        region.apply_options(options, huge)?;
        Ok(region)
    }

    /// The guard page, huge-page advice and hardening, after the mapping
    /// exists. On error the region is dropped, which unmaps it.
    fn apply_options(&self, options: &RegionOptions, huge: HugePages) -> Result<(), Error> {
        if cfg!(miri) {
            return Ok(());
        }
        self.harden(options.hardening)?;
        if options.guard_pages {
            // SAFETY: the guard page is the last page of our own mapping,
            // past every usable byte; nothing will ever point into it.
            unsafe {
                sys::protect_none(
                    self.ptr.add(self.shape.len),
                    self.shape.mapped_len - self.shape.len,
                )?
            };
        }
        if huge == HugePages::Off {
            return Ok(());
        }
        let skip = huge.lead();
        // SAFETY: advice on our own mapping (`skip < AUTO_HUGE_MIN <= len`
        // when skipping).
        let advised = unsafe { sys::advise_huge(self.ptr.add(skip), self.shape.len - skip) };
        match advised {
            Err(errno) if huge == HugePages::Whole => Err(Error::MapFailed {
                call: "madvise(MADV_HUGEPAGE)",
                len: self.shape.len,
                errno,
            }),
            // The automatic advice is an optimisation; a kernel without
            // transparent huge pages just keeps 4 KiB pages.
            _ => Ok(()),
        }
    }

    /// [`as_ptr`](Self::as_ptr), non-null.
    pub(crate) fn base(&self) -> NonNull<u8> {
        self.ptr
    }

    /// Whether this process has the mapping: always, except in a child
    /// forked from the process that made a `dont_fork` region.
    pub(crate) fn mapped_here(&self) -> bool {
        self.owner
            .is_none_or(|owner| owner == sys::current_process())
    }

    /// How the region is laid out: what a later user of the mapping would
    /// get.
    pub(crate) fn shape(&self) -> Shape {
        self.shape
    }
}

impl Drop for Region {
    fn drop(&mut self) {
        if !self.mapped_here() {
            return;
        }
        // SAFETY: `ptr..ptr + mapped_len` is exactly the mapping this region
        // owns; whoever borrowed from it is gone, since `drop` has `&mut self`.
        unsafe { unmap_whole(self.ptr, self.shape.mapped_len) };
    }
}

impl core::fmt::Debug for Region {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Region")
            .field("ptr", &self.ptr)
            .field("len", &self.shape.len)
            .field("shared", &self.shared)
            .finish()
    }
}

/// Unmaps the head and tail of a fresh mapping so that `keep` bytes remain,
/// starting `lead` bytes before a multiple of [`HUGE_PAGE`]; returns that
/// start. On failure nothing of the mapping is left (see [`keep_window`]).
///
/// # Safety
///
/// * `base..base + reserve` is one mapping owned by the caller, with
///   `reserve >= keep + HUGE_PAGE`, and nothing points into it.
/// * `lead < HUGE_PAGE` is a whole number of pages.
unsafe fn trim_to_huge_page(
    base: NonNull<u8>,
    reserve: usize,
    keep: usize,
    lead: usize,
) -> Result<NonNull<u8>, Error> {
    // The distance from `base` to the next start whose `start + lead` is a
    // huge-page boundary; `base` is page-aligned, so this is whole pages.
    let boundary = base.as_ptr().align_offset(HUGE_PAGE);
    let head = (boundary + HUGE_PAGE - lead) % HUGE_PAGE;
    // SAFETY: the reservation is ours and unreferenced (the caller's
    // contract); `head < HUGE_PAGE`, so `head + keep <= reserve`, and all
    // three are whole pages (the kernel maps at page granularity, and
    // `keep` is a page multiple).
    unsafe { keep_window(base, reserve, head, keep) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounds_up_to_pages() {
        let page = page_size();
        assert_eq!(Region::new(0).unwrap().len(), page);
        assert_eq!(Region::new(page + 1).unwrap().len(), 2 * page);
    }

    #[test]
    fn fresh_memory_is_zero_and_writable() {
        let region = Region::new(3 * page_size()).unwrap();
        // SAFETY: every byte lies inside the fresh read/write mapping.
        let bytes = unsafe { core::slice::from_raw_parts_mut(region.as_ptr(), region.len()) };
        assert!(bytes.iter().all(|&b| b == 0));
        bytes.fill(0xAB);
        assert!(bytes.iter().all(|&b| b == 0xAB));
    }

    #[test]
    fn release_zeroes_whole_pages_only() {
        let page = page_size();
        let mut region = Region::new(4 * page).unwrap();
        // SAFETY: inside the mapping.
        unsafe { core::ptr::write_bytes(region.as_ptr(), 0xFF, 4 * page) };
        region.release(10..3 * page + 10).unwrap();
        // SAFETY: inside the mapping, no reference held.
        let bytes = unsafe { core::slice::from_raw_parts(region.as_ptr(), region.len()) };
        assert!(
            bytes[..page].iter().all(|&b| b == 0xFF),
            "partial first page kept"
        );
        assert!(
            bytes[page..3 * page].iter().all(|&b| b == 0),
            "whole pages zeroed"
        );
        assert!(
            bytes[3 * page..].iter().all(|&b| b == 0xFF),
            "partial last page kept"
        );
    }

    #[test]
    #[should_panic(expected = "outside the region")]
    fn release_rejects_ranges_past_the_end() {
        let mut region = Region::new(4096).unwrap();
        let len = region.len();
        let _ = region.release(0..len + 1);
    }

    #[test]
    #[cfg_attr(miri, ignore = "Miri does not apply huge-page alignment")]
    fn large_regions_start_their_huge_pages_on_a_boundary() {
        let auto = Region::new(shape::AUTO_HUGE_MIN).unwrap();
        assert_eq!(
            (auto.as_ptr() as usize + shape::SMALL_PAGED_LEAD) % HUGE_PAGE,
            0,
            "the advised part must start on a huge-page boundary"
        );
    }

    #[test]
    #[cfg_attr(miri, ignore = "Miri does not apply huge-page alignment")]
    fn huge_page_regions_are_aligned() {
        let options = RegionOptions {
            huge_pages: Some(true),
            ..RegionOptions::new(4 << 20)
        };
        let region = Region::map(&options).unwrap();
        assert_eq!(region.as_ptr() as usize % HUGE_PAGE, 0);
        assert_eq!(region.len(), 4 << 20);
    }
}

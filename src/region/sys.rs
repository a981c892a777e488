//! The system calls: the crate's only caller of `rustix::mm` (`mmap`,
//! `munmap`, `mremap`, `mprotect`, `madvise`), each wrapped once.
//!
//! `unsafe` is allowed here because these calls hand out or take back raw
//! memory; each wrapper's contract says which facts about the mapping make
//! the call sound.
//!
//! Under Miri, which models only plain private anonymous read/write mappings
//! unmapped whole, the guard page, huge-page, populate, shared and hardening
//! options are not applied, `discard` writes zeros instead of calling
//! `madvise`, `set_writable` (freezing) does nothing, and `remap` maps,
//! copies and unmaps. Each such fallback is one `cfg(miri)` branch in this
//! file (the options are skipped where they are applied, in `Region::map`).
#![allow(unsafe_code)]

use core::ffi::c_void;
use core::ptr::{self, NonNull};
use core::sync::atomic::{AtomicUsize, Ordering};

use rustix::mm::{Advice, MapFlags, MlockFlags, MprotectFlags, ProtFlags};

use super::{Backing, RegionOptions};
use crate::error::Error;

/// The size of a memory page, looked up once.
pub(crate) fn page_size() -> usize {
    static PAGE_SIZE: AtomicUsize = AtomicUsize::new(0);
    match PAGE_SIZE.load(Ordering::Relaxed) {
        0 => {
            let size = if cfg!(miri) {
                4096
            } else {
                rustix::param::page_size()
            };
            PAGE_SIZE.store(size, Ordering::Relaxed);
            size
        }
        size => size,
    }
}

/// The `mmap` call itself: `len` bytes, read/write, private or shared,
/// anonymous or from `/dev/zero`.
pub(super) fn map_raw(len: usize, options: &RegionOptions) -> Result<NonNull<u8>, Error> {
    let prot = ProtFlags::READ | ProtFlags::WRITE;
    let sharing = if options.shared && !cfg!(miri) {
        MapFlags::SHARED
    } else {
        MapFlags::PRIVATE
    };
    let flags = if cfg!(miri) {
        sharing
    } else if options.populate {
        sharing | MapFlags::NORESERVE | MapFlags::POPULATE
    } else {
        sharing | MapFlags::NORESERVE
    };
    let failed = |call| move |errno| Error::MapFailed { call, len, errno };
    let mapped = match options.backing {
        Backing::DevZero if !cfg!(miri) => {
            let zero = rustix::fs::open(
                c"/dev/zero",
                rustix::fs::OFlags::RDWR | rustix::fs::OFlags::CLOEXEC,
                rustix::fs::Mode::empty(),
            )
            .map_err(failed("open(/dev/zero)"))?;
            // SAFETY: a fresh mapping at an address the kernel chooses
            // overlaps nothing; the fd may be closed once `mmap` returns.
            unsafe { rustix::mm::mmap(ptr::null_mut(), len, prot, flags, &zero, 0) }
                .map_err(failed("mmap(/dev/zero)"))?
        }
        // SAFETY: as above, without a file.
        _ => unsafe { rustix::mm::mmap_anonymous(ptr::null_mut(), len, prot, flags) }
            .map_err(failed("mmap"))?,
    };
    NonNull::new(mapped.cast::<u8>()).ok_or(Error::MapFailed {
        call: "mmap",
        len,
        errno: rustix::io::Errno::NOMEM,
    })
}

/// Maps `len` bytes (a whole number of pages) of private anonymous memory
/// that the caller owns and must give back with [`unmap`].
pub(crate) fn map_pages(len: usize) -> Result<NonNull<u8>, Error> {
    map_raw(len, &RegionOptions::new(len))
}

/// `munmap(ptr, len)`.
///
/// # Safety
///
/// * `ptr..ptr + len` is a whole mapping (or whole pages of one) owned by the
///   caller, and nothing will access it again.
/// * `ptr` carries the provenance of those pages (derived from the pointer
///   `mmap` returned, not from a block inside them).
pub(crate) unsafe fn unmap(ptr: NonNull<u8>, len: usize) -> Result<(), Error> {
    // SAFETY: the caller owns these pages and gives them up.
    unsafe { rustix::mm::munmap(ptr.as_ptr().cast::<c_void>(), len) }.map_err(|errno| {
        Error::MapFailed {
            call: "munmap",
            len,
            errno,
        }
    })
}

/// Unmaps a whole mapping that is going away. `munmap` of a whole mapping
/// fails only on a bad address, which would be this crate's bug.
///
/// # Safety
///
/// * `base..base + mapped_len` is exactly a mapping the caller owns, and
///   nothing will access it again.
pub(super) unsafe fn unmap_whole(base: NonNull<u8>, mapped_len: usize) {
    // SAFETY: the caller's contract.
    let result = unsafe { unmap(base, mapped_len) };
    debug_assert!(result.is_ok(), "munmap failed: {result:?}");
}

/// Moves or resizes a whole private anonymous mapping: `mremap(ptr, old_len,
/// new_len, MREMAP_MAYMOVE)`. The bytes up to `min(old_len, new_len)` are
/// kept (moved by page-table edits, not copied); the old address is invalid
/// afterwards unless it is returned again. Both lengths are whole pages.
///
/// # Safety
///
/// * `ptr..ptr + old_len` is a whole mapping owned by the caller, made by
///   [`Region`](super::Region) (or [`map_pages`]) without guard page, and
///   nothing points into it once this returns a different address.
/// * `ptr` carries the provenance of the whole mapping (the pointer `mmap`
///   returned, or one derived from it): the Miri fallback reads every old
///   byte through it.
pub(crate) unsafe fn remap(
    ptr: NonNull<u8>,
    old_len: usize,
    new_len: usize,
) -> Result<NonNull<u8>, Error> {
    if cfg!(miri) {
        // Miri has no `mremap`: map, copy, unmap.
        let new = map_pages(new_len)?;
        // SAFETY: both mappings are ours and distinct; we copy the bytes both
        // hold, then give up the old mapping as the caller allows.
        unsafe {
            ptr::copy_nonoverlapping(ptr.as_ptr(), new.as_ptr(), old_len.min(new_len));
            unmap(ptr, old_len)?;
        }
        return Ok(new);
    }
    // SAFETY: the caller owns the whole mapping; MAYMOVE lets the kernel
    // pick a new address, which we return.
    let moved = unsafe {
        rustix::mm::mremap(
            ptr.as_ptr().cast::<c_void>(),
            old_len,
            new_len,
            rustix::mm::MremapFlags::MAYMOVE,
        )
    }
    .map_err(|errno| Error::MapFailed {
        call: "mremap",
        len: new_len,
        errno,
    })?;
    NonNull::new(moved.cast::<u8>()).ok_or(Error::MapFailed {
        call: "mremap",
        len: new_len,
        errno: rustix::io::Errno::NOMEM,
    })
}

/// Makes `len` bytes at `ptr` inaccessible: `mprotect(ptr, len, PROT_NONE)`.
///
/// # Safety
///
/// * `ptr..ptr + len` are whole pages of a mapping the caller owns, and
///   nothing points into them.
pub(super) unsafe fn protect_none(ptr: NonNull<u8>, len: usize) -> Result<(), Error> {
    // SAFETY: the caller's pages; nothing will access them.
    unsafe {
        rustix::mm::mprotect(
            ptr.as_ptr().cast::<c_void>(),
            len,
            rustix::mm::MprotectFlags::empty(),
        )
    }
    .map_err(|errno| Error::MapFailed {
        call: "mprotect",
        len,
        errno,
    })
}

/// Asks for transparent huge pages on `len` bytes at `ptr`:
/// `madvise(ptr, len, MADV_HUGEPAGE)`.
///
/// # Safety
///
/// * `ptr..ptr + len` lies inside a mapping the caller owns (the advice
///   changes no contents).
pub(super) unsafe fn advise_huge(ptr: NonNull<u8>, len: usize) -> Result<(), rustix::io::Errno> {
    // SAFETY: advice on the caller's mapping; it changes no contents.
    unsafe {
        rustix::mm::madvise(
            ptr.as_ptr().cast::<c_void>(),
            len,
            rustix::mm::Advice::LinuxHugepage,
        )
    }
}

/// Drops the pages of `start..start + len` so that they read as zero:
/// `madvise(MADV_DONTNEED)`, or `MADV_REMOVE` for a `shared` mapping, whose
/// shmem pages must go, not only this process's view of them, or
/// `MADV_DONTNEED_LOCKED` (Linux 5.18) for a `locked` one, which plain
/// `MADV_DONTNEED` refuses.
///
/// # Safety
///
/// * `start` and `len` are multiples of the page size, inside a read/write
///   mapping the caller owns.
/// * No live reference points into those bytes.
pub(super) unsafe fn discard(
    start: NonNull<u8>,
    len: usize,
    shared: bool,
    locked: bool,
) -> Result<(), Error> {
    if cfg!(miri) {
        // SAFETY: writable bytes of the caller's mapping, unreferenced by
        // the caller's contract.
        unsafe { ptr::write_bytes(start.as_ptr(), 0, len) };
        return Ok(());
    }
    let advice = if shared {
        Advice::LinuxRemove
    } else if locked {
        Advice::LinuxDontneedLocked
    } else {
        Advice::LinuxDontNeed
    };
    // SAFETY: page-aligned range inside a mapping the caller owns; dropping
    // its pages only changes their contents to zero, which the caller allows.
    unsafe { rustix::mm::madvise(start.as_ptr().cast::<c_void>(), len, advice) }.map_err(|errno| {
        Error::MapFailed {
            call: "madvise",
            len,
            errno,
        }
    })
}

/// Advice that changes no contents, only how the kernel treats the pages
/// (`MADV_DONTDUMP`, `MADV_WIPEONFORK`, `MADV_DONTFORK`): `madvise(ptr,
/// len, advice)`; the error names the call as `call`.
///
/// # Safety
///
/// * `ptr..ptr + len` are whole pages of a mapping the caller owns.
pub(super) unsafe fn advise(
    ptr: NonNull<u8>,
    len: usize,
    advice: Advice,
    call: &'static str,
) -> Result<(), Error> {
    // SAFETY: advice on the caller's pages; none of these changes their
    // contents in this process.
    unsafe { rustix::mm::madvise(ptr.as_ptr().cast::<c_void>(), len, advice) }
        .map_err(|errno| Error::MapFailed { call, len, errno })
}

/// Keeps the pages of `ptr..ptr + len` in memory once touched:
/// `mlock2(ptr, len, MLOCK_ONFAULT)`. The kernel counts all `len` bytes
/// against `RLIMIT_MEMLOCK` at once, touched or not.
///
/// # Safety
///
/// * `ptr..ptr + len` are whole pages of a read/write mapping the caller
///   owns.
pub(super) unsafe fn lock_on_fault(ptr: NonNull<u8>, len: usize) -> Result<(), rustix::io::Errno> {
    // SAFETY: the caller's pages, readable with `ptr`'s provenance; locking
    // changes no contents.
    unsafe { rustix::mm::mlock_with(ptr.as_ptr().cast::<c_void>(), len, MlockFlags::ONFAULT) }
}

/// A process id, as `getpid` returns it.
pub(super) type ProcessId = rustix::process::Pid;

/// This process's id (`getpid`): how a `dont_fork` region tells the
/// process that made it from a forked child, which lacks the mapping.
pub(super) fn current_process() -> ProcessId {
    rustix::process::getpid()
}

/// The soft `RLIMIT_MEMLOCK` in bytes (`getrlimit`); `None` when unlimited.
pub(super) fn memlock_limit() -> Option<u64> {
    rustix::process::getrlimit(rustix::process::Resource::Memlock).current
}

/// Makes `ptr..ptr + len` read-only (`writable == false`) or read/write
/// again: `mprotect(ptr, len, PROT_READ)` or `mprotect(ptr, len, PROT_READ
/// | PROT_WRITE)`. Does nothing under Miri, which has no `mprotect`.
///
/// # Safety
///
/// * `ptr..ptr + len` are whole pages of a read/write mapping the caller
///   owns.
/// * Made read-only, nothing writes them until they are made writable
///   again (a write would fault).
pub(super) unsafe fn set_writable(
    ptr: NonNull<u8>,
    len: usize,
    writable: bool,
) -> Result<(), Error> {
    if cfg!(miri) {
        return Ok(());
    }
    let (flags, call) = if writable {
        (
            MprotectFlags::READ | MprotectFlags::WRITE,
            "mprotect(PROT_READ | PROT_WRITE)",
        )
    } else {
        (MprotectFlags::READ, "mprotect(PROT_READ)")
    };
    // SAFETY: the caller's pages; the caller keeps writes away while they
    // are read-only.
    unsafe { rustix::mm::mprotect(ptr.as_ptr().cast::<c_void>(), len, flags) }
        .map_err(|errno| Error::MapFailed { call, len, errno })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remap_keeps_contents() {
        let page = page_size();
        let ptr = map_pages(page).unwrap();
        // SAFETY: `ptr` is a fresh one-page mapping we own.
        unsafe {
            ptr.as_ptr().write(42);
            let grown = remap(ptr, page, 16 * page).unwrap();
            assert_eq!(grown.as_ptr().read(), 42);
            assert_eq!(grown.as_ptr().add(16 * page - 1).read(), 0);
            unmap(grown, 16 * page).unwrap();
        }
    }
}

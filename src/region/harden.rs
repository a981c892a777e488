//! Hardening a region: per-mapping kernel flags that keep its bytes out of
//! core dumps, forked children and swap, zeroing that the compiler cannot
//! drop, and the read-only switch behind freezing.
//!
//! Each flag is one `madvise` or `mlock2` on the fresh mapping (see
//! [`Hardening`]); the kernel keeps it for the mapping's life, and
//! `/proc/self/smaps` shows it in `VmFlags` (`dd`, `wf`, `dc`, `lo`).
//!
//! `unsafe` is allowed here for the volatile writes that zero a region's
//! bytes and for the system calls on the region's own pages.
#![allow(unsafe_code)]

use core::ptr::NonNull;
use core::sync::atomic::{compiler_fence, Ordering};

use rustix::mm::Advice;

use super::{sys, Backing, Region, RegionOptions};
use crate::error::Error;

/// Which hardening a region gets; all off by default.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Hardening {
    /// `MADV_DONTDUMP` (Linux 3.4): left out of core dumps (`dd`).
    pub(crate) dont_dump: bool,
    /// `MADV_WIPEONFORK` (Linux 4.14): a forked child sees zeros (`wf`).
    /// Private anonymous memory only.
    pub(crate) wipe_on_fork: bool,
    /// `MADV_DONTFORK`: a forked child has no mapping here at all (`dc`).
    pub(crate) dont_fork: bool,
    /// `mlock2(MLOCK_ONFAULT)` (Linux 4.4): pages stay in RAM once touched
    /// (`lo`, `lf`).
    pub(crate) lock: bool,
    /// `secret()`: the owner zeroes what it wrote before `reset` and
    /// `release` return and before the mapping goes (the region does not
    /// know what was written; [`Region::wipe_prefix`] is the tool).
    pub(crate) wipe: bool,
}

impl Hardening {
    /// Nothing: a plain mapping.
    pub(crate) const NONE: Hardening = Hardening {
        dont_dump: false,
        wipe_on_fork: false,
        dont_fork: false,
        lock: false,
        wipe: false,
    };

    /// What `secret()` asks for: every flag, and zeroing.
    pub(crate) const SECRET: Hardening = Hardening {
        dont_dump: true,
        wipe_on_fork: true,
        dont_fork: true,
        lock: true,
        wipe: true,
    };

    /// Whether anything is asked for. A hardened mapping is never recycled
    /// (see [`Shape::reusable`](super::Shape::reusable)).
    pub(crate) fn any(self) -> bool {
        self != Hardening::NONE
    }

    /// Refuses, before anything is mapped, what the kernel would refuse
    /// with a bare `EINVAL`: `MADV_WIPEONFORK` on memory that is not
    /// private and anonymous.
    pub(crate) fn check(options: &RegionOptions) -> Result<(), Error> {
        if !options.hardening.wipe_on_fork {
            return Ok(());
        }
        if options.shared {
            return Err(Error::Unsupported {
                option: "wipe_on_fork",
                why: "MADV_WIPEONFORK works on private anonymous memory only, and a \
                      shared mapping is the same pages in parent and child",
            });
        }
        if options.backing == Backing::DevZero {
            return Err(Error::Unsupported {
                option: "wipe_on_fork",
                why: "MADV_WIPEONFORK works on private anonymous memory only, and a \
                      /dev/zero mapping is backed by a file",
            });
        }
        Ok(())
    }
}

impl Region {
    /// Applies the hardening flags to the fresh mapping: the advice over
    /// the whole mapping (the guard page too: a child then has none of
    /// it), the lock over the usable pages.
    pub(super) fn harden(&self, hardening: Hardening) -> Result<(), Error> {
        let advice = [
            (
                hardening.dont_dump,
                Advice::LinuxDontDump,
                "madvise(MADV_DONTDUMP)",
            ),
            (
                hardening.dont_fork,
                Advice::LinuxDontFork,
                "madvise(MADV_DONTFORK)",
            ),
            (
                hardening.wipe_on_fork,
                Advice::LinuxWipeOnFork,
                "madvise(MADV_WIPEONFORK)",
            ),
        ];
        for (_, advice, call) in advice.into_iter().filter(|(on, ..)| *on) {
            // SAFETY: the whole mapping this region owns; these advices
            // change no contents in this process.
            unsafe { sys::advise(self.ptr, self.shape.mapped_len, advice, call) }?;
        }
        if hardening.lock {
            // SAFETY: the usable pages of our read/write mapping.
            unsafe { sys::lock_on_fault(self.ptr, self.shape.len) }.map_err(|errno| {
                Error::LockFailed {
                    requested: self.shape.len,
                    limit: sys::memlock_limit(),
                    errno,
                }
            })?;
        }
        Ok(())
    }

    /// Zeroes the first `bytes` bytes (at most [`len`](Region::len)) with
    /// writes the compiler may not remove, as a dead store before an unmap
    /// could be: what `secret()` does to what an arena wrote.
    ///
    /// `&mut self`, as for [`release`](Region::release): no reference
    /// derived from `&self` sees the bytes change.
    pub(crate) fn wipe_prefix(&mut self, bytes: usize) {
        if !self.mapped_here() {
            // A forked child's copy of a `dont_fork` region: the secret
            // bytes are the parent's alone, and the addresses may hold
            // another mapping of the child's.
            return;
        }
        let len = bytes.min(self.shape.len);
        // SAFETY: the first `len <= self.shape.len` bytes of our read/write
        // mapping, with its provenance.
        unsafe { zero_volatile(self.ptr, len) };
    }

    /// Makes the usable pages read-only (`writable == false`) or
    /// read/write again: the `mprotect` behind freezing. The guard page, if
    /// any, stays `PROT_NONE`. A write to a read-only page kills the
    /// process with `SIGSEGV`; it cannot change a byte.
    ///
    /// # Errors
    ///
    /// [`Error::MapFailed`] when the kernel refuses (`ENOMEM` when it would
    /// have to split a mapping beyond `vm.max_map_count`).
    pub(crate) fn set_writable(&mut self, writable: bool) -> Result<(), Error> {
        // SAFETY: the usable pages of our own read/write mapping; what a
        // write does while they are read-only is a fault, not a change.
        unsafe { sys::set_writable(self.ptr, self.shape.len, writable) }
    }
}

/// Writes zero over `len` bytes at `start` with volatile stores, then a
/// compiler fence, so that neither the stores nor their order with what
/// follows (a `munmap`, a `madvise`) can be optimised away — how `zeroize`
/// does it, a word at a time.
///
/// # Safety
///
/// * `start..start + len` is writable memory with `start`'s provenance,
///   and nothing references it.
unsafe fn zero_volatile(start: NonNull<u8>, len: usize) {
    let word = size_of::<u64>();
    let head = start.as_ptr().align_offset(align_of::<u64>()).min(len);
    let words = (len - head) / word;
    let base = start.as_ptr();
    for i in 0..head {
        // SAFETY: `i < head <= len`: inside the caller's bytes.
        unsafe { base.add(i).write_volatile(0) };
    }
    // SAFETY: `head <= len`; `base + head` is 8-aligned (or `head == len`
    // and `words == 0`).
    let aligned = unsafe { base.add(head) }.cast::<u64>();
    for i in 0..words {
        // SAFETY: word `i < words` ends at or before `start + len`.
        unsafe { aligned.add(i).write_volatile(0) };
    }
    for i in head + words * word..len {
        // SAFETY: `i < len`.
        unsafe { base.add(i).write_volatile(0) };
    }
    compiler_fence(Ordering::SeqCst);
    #[cfg(test)]
    tests::after_wipe(start, len);
}

#[cfg(test)]
pub(crate) mod tests {
    use core::cell::Cell;

    use super::*;
    use crate::region::page_size;

    /// What [`zero_volatile`] calls after zeroing, with the bytes.
    type WipeHook = fn(NonNull<u8>, usize);

    std::thread_local! {
        /// Called by [`zero_volatile`] on this thread right after it
        /// zeroed, while the bytes are still mapped: how tests see a wipe
        /// that happens just before an unmap.
        static AFTER_WIPE: Cell<Option<WipeHook>> = const { Cell::new(None) };
    }

    pub(crate) fn after_wipe(start: NonNull<u8>, len: usize) {
        if let Some(hook) = AFTER_WIPE.get() {
            hook(start, len);
        }
    }

    std::thread_local! {
        /// The lengths [`wiped_by`] has seen wiped.
        static WIPED: core::cell::RefCell<Vec<usize>> = const { core::cell::RefCell::new(Vec::new()) };
    }

    /// Runs `body` and returns the length of every wipe it made on this
    /// thread, checking at each, while the bytes are still mapped, that
    /// they read as zero.
    pub(crate) fn wiped_by(body: impl FnOnce()) -> Vec<usize> {
        fn check(start: NonNull<u8>, len: usize) {
            // SAFETY: called by `zero_volatile` right after it zeroed these
            // bytes, which are mapped and carry its caller's provenance.
            let bytes = unsafe { core::slice::from_raw_parts(start.as_ptr(), len) };
            assert!(bytes.iter().all(|&b| b == 0), "a wipe left a byte set");
            WIPED.with_borrow_mut(|wiped| wiped.push(len));
        }
        WIPED.with_borrow_mut(Vec::clear);
        AFTER_WIPE.set(Some(check));
        body();
        AFTER_WIPE.set(None);
        WIPED.with_borrow_mut(core::mem::take)
    }

    #[test]
    fn wipe_zeroes_exactly_the_prefix_at_any_alignment() {
        let mut region = Region::new(page_size()).unwrap();
        for (bytes, cut) in [(0usize, 0usize), (1, 0), (13, 3), (64, 8), (4000, 5)] {
            // SAFETY: the whole page is ours and unreferenced.
            unsafe { core::ptr::write_bytes(region.as_ptr(), 0xA5, page_size()) };
            let start = NonNull::new(region.as_ptr()).unwrap();
            // SAFETY: `cut + bytes` is inside the page.
            unsafe { zero_volatile(start.add(cut), bytes) };
            // SAFETY: inside the mapping, no reference held.
            let all = unsafe { core::slice::from_raw_parts(region.as_ptr(), page_size()) };
            assert!(all[..cut].iter().all(|&b| b == 0xA5), "before {cut}");
            assert!(
                all[cut..cut + bytes].iter().all(|&b| b == 0),
                "{bytes} at {cut}"
            );
            assert!(all[cut + bytes..].iter().all(|&b| b == 0xA5), "after");
        }
        region.wipe_prefix(usize::MAX);
        // SAFETY: as above.
        let all = unsafe { core::slice::from_raw_parts(region.as_ptr(), page_size()) };
        assert!(all.iter().all(|&b| b == 0), "clamped to the region");
    }

    #[test]
    fn wipe_on_fork_is_refused_where_the_kernel_would_refuse_it() {
        let wiped = RegionOptions {
            hardening: Hardening {
                wipe_on_fork: true,
                ..Hardening::NONE
            },
            ..RegionOptions::new(4096)
        };
        assert!(Hardening::check(&wiped).is_ok());
        let shared = RegionOptions {
            shared: true,
            ..wiped
        };
        assert!(matches!(
            Hardening::check(&shared),
            Err(Error::Unsupported {
                option: "wipe_on_fork",
                ..
            })
        ));
        let dev_zero = RegionOptions {
            backing: Backing::DevZero,
            ..wiped
        };
        assert!(Hardening::check(&dev_zero).is_err());
        let plain_shared = RegionOptions {
            shared: true,
            ..RegionOptions::new(4096)
        };
        assert!(Hardening::check(&plain_shared).is_ok());
    }
}

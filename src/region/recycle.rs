//! Mappings of dropped arenas, kept for the next arena of the same shape.
//!
//! A new arena's pages cost a page fault each on first touch (about 1.5 µs
//! per 4 KiB on the reference VM), while glibc hands a freed block straight
//! back to the next `malloc` with its pages still resident. A program that
//! makes a fresh arena per input (a parser per document, a fuzzer per
//! iteration) would pay the faults again and again. So, like `free`, a
//! dropped arena's mapping is parked here instead of unmapped, with its
//! first few MiB still resident and a note of how far it was written, and
//! the next arena asking for a mapping of the same shape takes it: no
//! `mmap`, no `munmap`, no faults. The cursor zeroes the written prefix on
//! `allocate_zeroed` as it does after a `reset`.
//!
//! The store is [`SLOTS`] atomic pointers, so it works without `std` and
//! never blocks: whoever swaps a pointer out of a slot owns that mapping.
//! The mapping's [`Parked`] record lives in its own first bytes.

use core::ptr::{self, NonNull};
use core::sync::atomic::{AtomicPtr, Ordering};

/// How many dropped mappings are kept at most.
const SLOTS: usize = 4;

/// Resident bytes a parked mapping keeps, past its small-paged lead: the
/// rest goes back to the OS when it is parked. With [`SLOTS`] this bounds
/// what the store holds to about 33 MiB, glibc's order of magnitude (its
/// trim threshold grows to 64 MiB).
pub(super) const KEEP_RESIDENT: usize = 8 << 20;

static PARKED: [AtomicPtr<u8>; SLOTS] = [const { AtomicPtr::new(ptr::null_mut()) }; SLOTS];

/// What a parked mapping is and how much of it may hold old data. Written
/// at the mapping's start when it is parked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Parked {
    /// The mapping's shape; a taker must ask for exactly this.
    pub(super) shape: super::Shape,
    /// Bytes from the start that may be nonzero (this record included).
    pub(super) dirty: usize,
}

/// The size of the [`Parked`] record: the least a parked mapping is dirty.
pub(super) const RECORD_BYTES: usize = core::mem::size_of::<Parked>();

/// Parks the mapping at `base`, recording `parked`; gives it back when
/// every slot is taken.
///
/// # Safety
///
/// * `base` starts a mapping of `parked.shape`, owned by the caller and
///   handed over to the store: nothing references its bytes any more.
/// * Its first [`RECORD_BYTES`] are writable, and `parked.dirty` covers
///   them.
pub(super) unsafe fn park(base: NonNull<u8>, parked: Parked) -> Result<(), NonNull<u8>> {
    // SAFETY: the caller hands over the mapping, whose start is page-aligned
    // and writable.
    unsafe { base.cast::<Parked>().write(parked) };
    offer(base)
}

/// Takes a parked mapping of `shape`, if there is one, and its record.
pub(super) fn take(shape: super::Shape) -> Option<(NonNull<u8>, Parked)> {
    for slot in &PARKED {
        if slot.load(Ordering::Relaxed).is_null() {
            continue;
        }
        // Acquire: see the record written before the `Release` in `offer`.
        let Some(base) = NonNull::new(slot.swap(ptr::null_mut(), Ordering::Acquire)) else {
            continue;
        };
        // SAFETY: swapping the pointer out made us the mapping's only owner,
        // and `park` wrote its record first.
        let parked = unsafe { base.cast::<Parked>().read() };
        if parked.shape == shape {
            return Some((base, parked));
        }
        if let Err(unwanted) = offer(base) {
            // SAFETY: we own it, nobody references it, and its record says
            // how it was mapped.
            unsafe { super::unmap_parked(unwanted, parked.shape) };
        }
    }
    None
}

/// Unmaps every parked mapping; returns how many there were.
pub(super) fn trim() -> usize {
    let mut unmapped = 0;
    for slot in &PARKED {
        if let Some(base) = NonNull::new(slot.swap(ptr::null_mut(), Ordering::Acquire)) {
            // SAFETY: as in `take`: we own it and read its record.
            unsafe {
                let parked = base.cast::<Parked>().read();
                super::unmap_parked(base, parked.shape);
            }
            unmapped += 1;
        }
    }
    unmapped
}

/// Puts an owned, recorded mapping into a free slot; gives it back when
/// every slot is taken.
fn offer(base: NonNull<u8>) -> Result<(), NonNull<u8>> {
    for slot in &PARKED {
        // Release: publish the record to the `Acquire` that takes it.
        let free = slot
            .compare_exchange(
                ptr::null_mut(),
                base.as_ptr(),
                Ordering::Release,
                Ordering::Relaxed,
            )
            .is_ok();
        if free {
            return Ok(());
        }
    }
    Err(base)
}

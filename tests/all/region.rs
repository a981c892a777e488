//! `Region` from the outside: sizes, zeroing, backings, release, guards.

use anon_arena::{Backing, Region};

use crate::common::{in_child, resident_in, rustix_page_size, ChildEnd};

#[test]
fn new_region_is_page_aligned_and_zeroed() {
    // Not a multiple of the page size; under Miri, where each byte of the
    // check below costs about 0.1 ms, a smaller one.
    let asked = if cfg!(miri) { 10_000 } else { 100_000 };
    let region = Region::new(asked).unwrap();
    let page = rustix_page_size();
    assert_eq!(region.as_ptr() as usize % page, 0);
    assert_eq!(region.len() % page, 0);
    assert!(region.len() >= asked);
    // SAFETY: the whole usable length is mapped read/write, nothing else uses it.
    let bytes = unsafe { std::slice::from_raw_parts(region.as_ptr(), region.len()) };
    assert!(bytes.iter().all(|&b| b == 0));
}

#[test]
fn dev_zero_backing_is_zeroed_and_writable() {
    // Under Miri each byte of the loops below costs about 0.1 ms: a
    // megabyte took it over five minutes.
    let len = if cfg!(miri) { 16 << 10 } else { 1 << 20 };
    let region = Region::builder()
        .len(len)
        .backing(Backing::DevZero)
        .build()
        .unwrap();
    // SAFETY: inside the read/write mapping, nothing else uses it.
    let bytes = unsafe { std::slice::from_raw_parts_mut(region.as_ptr(), region.len()) };
    assert!(bytes.iter().all(|&b| b == 0));
    bytes.fill(0x5A);
    assert!(bytes.iter().all(|&b| b == 0x5A));
}

#[test]
#[cfg_attr(miri, ignore = "Miri has no /proc/self/smaps")]
fn huge_reservation_costs_no_memory() {
    let region = Region::new(8 << 30).unwrap();
    let resident = resident_in(region.as_ptr() as usize, region.len());
    assert!(
        resident < 1 << 20,
        "an 8 GiB region must cost under 1 MiB, costs {resident} bytes"
    );
}

#[test]
#[cfg_attr(miri, ignore = "Miri cannot fork and does not apply guard pages")]
fn write_past_a_guarded_region_faults() {
    let end = in_child(|| {
        let region = Region::builder()
            .len(4096)
            .guard_pages(true)
            .build()
            .unwrap();
        // SAFETY: deliberately none: this write hits the guard page, and the
        // fault kills only this child.
        unsafe { region.as_ptr().add(region.len()).write_volatile(1) };
        0
    });
    assert_eq!(end, ChildEnd::Signaled(libc::SIGSEGV));
}

#[test]
#[cfg_attr(miri, ignore = "Miri cannot fork")]
fn unguarded_write_inside_the_last_page_is_fine() {
    let end = in_child(|| {
        let region = Region::builder()
            .len(4096)
            .guard_pages(true)
            .build()
            .unwrap();
        // SAFETY: the last usable byte is inside the read/write mapping.
        unsafe { region.as_ptr().add(region.len() - 1).write_volatile(1) };
        0
    });
    assert_eq!(end, ChildEnd::Exited(0));
}

#[test]
#[cfg_attr(
    miri,
    ignore = "Miri stops the program at an impossible mmap instead of failing it"
)]
fn mapping_failure_is_an_error_not_a_crash() {
    let error = Region::new(usize::MAX / 2).unwrap_err();
    assert!(
        matches!(error, anon_arena::Error::MapFailed { .. }),
        "{error:?}"
    );
    assert!(error.to_string().contains("mmap"), "{error}");
}

//! `PageAllocator`: a big `Vec` grows by `mremap`, keeps its bytes, sits
//! on page boundaries, and gives its memory back the moment it is dropped.

use std::alloc::Layout;

use allocator_api2::alloc::Allocator;
use allocator_api2::boxed::Box as ABox;
use allocator_api2::vec::Vec as AVec;
use anon_arena::PageAllocator;

use crate::common::{in_child, resident_bytes, rustix_page_size, ChildEnd};

#[test]
#[cfg_attr(
    miri,
    ignore = "64 MiB pushed byte by byte is too slow under Miri; RSS needs fork"
)]
fn a_64_mib_vec_built_by_push_is_intact_aligned_and_freed_at_once() {
    const LEN: usize = 64 << 20;
    // In a child, so that no other test's memory moves the RSS readings.
    let end = in_child(|| {
        let before = resident_bytes();
        let mut v: AVec<u8, PageAllocator> = AVec::new_in(PageAllocator);
        for i in 0..LEN {
            v.push((i % 251) as u8);
        }
        assert_eq!(v.as_ptr() as usize % rustix_page_size(), 0, "page-aligned");
        assert!(
            v.iter().enumerate().all(|(i, &b)| b == (i % 251) as u8),
            "contents lost while growing"
        );
        let full = resident_bytes();
        assert!(
            full >= before + LEN,
            "the vector is resident: {before} -> {full}"
        );
        drop(v);
        let after = resident_bytes();
        assert!(
            after < before + (4 << 20),
            "RSS falls at once after drop: {before} -> {full} -> {after}"
        );
        0
    });
    assert_eq!(end, ChildEnd::Exited(0));
}

#[test]
fn a_small_vec_grows_shrinks_and_keeps_its_bytes() {
    let page = rustix_page_size();
    let mut v: AVec<u64, PageAllocator> = AVec::new_in(PageAllocator);
    let n = 3 * page / 8 + 5; // spills onto a fourth page
    v.extend(0..n as u64);
    assert_eq!(v.as_ptr() as usize % page, 0);
    v.truncate(10);
    v.shrink_to_fit();
    assert_eq!(v[..], (0..10).collect::<Vec<u64>>()[..]);
    v.extend(10..n as u64);
    assert!(v.iter().enumerate().all(|(i, &x)| x == i as u64));
}

#[test]
fn zeroed_growth_reads_zero_even_where_a_shrink_left_bytes() {
    let a = PageAllocator;
    let big = Layout::from_size_align(4096, 8).unwrap();
    let small = Layout::from_size_align(10, 8).unwrap();
    let bigger = Layout::from_size_align(20_000, 8).unwrap();
    let block = a.allocate(big).unwrap().cast::<u8>();
    // SAFETY: the block is live for each layout in turn and freed at the end.
    unsafe {
        block.as_ptr().write_bytes(0xEE, big.size());
        let shrunk = a.shrink(block, big, small).unwrap().cast::<u8>();
        let grown = a.grow_zeroed(shrunk, small, bigger).unwrap();
        let bytes = grown.as_ref();
        assert!(bytes[..10].iter().all(|&b| b == 0xEE));
        assert!(bytes[10..].iter().all(|&b| b == 0));
        a.deallocate(grown.cast(), bigger);
    }
}

#[test]
fn zero_sized_layouts_map_nothing() {
    let empty: AVec<u8, PageAllocator> = AVec::new_in(PageAllocator);
    assert_eq!(empty.capacity(), 0);
    let zst = PageAllocator
        .allocate(Layout::from_size_align(0, 4096).unwrap())
        .unwrap();
    assert_eq!(zst.cast::<u8>().as_ptr() as usize % 4096, 0);
}

/// Under Miri's Stacked Borrows too: the box narrows its pointer to its
/// 5000 bytes, and the allocator unmaps the whole page-rounded mapping
/// through the pointer it recorded, not through the box's.
#[test]
fn boxed_values_live_in_their_own_pages() {
    let boxed = ABox::new_in([7u8; 5000], PageAllocator);
    assert_eq!(boxed[4999], 7);
    assert_eq!(boxed.as_ptr() as usize % rustix_page_size(), 0);
}

#[test]
#[cfg_attr(miri, ignore = "Miri cannot unmap part of a mapping")]
fn alignment_larger_than_a_page_is_honoured() {
    let align = 2 << 20;
    let layout = Layout::from_size_align(10_000, align).unwrap();
    let block = PageAllocator.allocate_zeroed(layout).unwrap().cast::<u8>();
    assert_eq!(block.as_ptr() as usize % align, 0);
    // SAFETY: live for `layout`, freed once.
    unsafe { PageAllocator.deallocate(block, layout) };
}

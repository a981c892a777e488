//! `Pool<T>` and `PoolBox` through the public API: capacity, reuse, drops,
//! the `Allocator` impl, zero-sized types, region options, and a pool of
//! ten million slots that costs no memory.

use std::alloc::Layout;
use std::cell::Cell;
use std::collections::HashSet;
use std::rc::Rc;

use allocator_api2::alloc::Allocator;
use allocator_api2::boxed::Box;
use anon_arena::{Backing, Error, Pool, PoolBox};

use crate::common::{in_child, resident_bytes, ChildEnd};

/// Counts its drops in a shared cell.
struct Tracked<'c>(u64, &'c Cell<usize>);

impl Drop for Tracked<'_> {
    fn drop(&mut self) {
        self.1.set(self.1.get() + 1);
    }
}

fn addr<T>(b: &PoolBox<'_, T>) -> usize {
    &**b as *const T as usize
}

#[test]
fn holds_exactly_its_capacity_and_hands_the_next_value_back() {
    let pool = Pool::<String>::with_capacity(3);
    let boxes: Vec<_> = (0..3).map(|i| pool.alloc(i.to_string())).collect();
    assert_eq!((pool.len(), pool.capacity()), (3, 3));
    let refused = pool.try_alloc(String::from("fourth")).unwrap_err();
    assert_eq!(refused, "fourth", "the value comes back intact");
    assert_eq!(pool.len(), 3);
    drop(boxes);
    assert!(pool.is_empty());
    assert_eq!(&*pool.try_alloc(String::from("again")).unwrap(), "again");
}

#[test]
#[should_panic(expected = "all 1 slots (8 bytes each) are in use")]
fn alloc_on_a_full_pool_panics_with_the_numbers() {
    let pool = Pool::<u32>::with_capacity(1);
    let _first = pool.alloc(1);
    let _second = pool.alloc(2);
}

#[test]
fn a_pool_of_zero_slots_is_always_full() {
    let pool = Pool::<u64>::with_capacity(0);
    assert_eq!(pool.try_alloc(9).unwrap_err(), 9);
}

#[test]
fn a_freed_slot_is_reused_first_newest_first() {
    let pool = Pool::with_capacity(8);
    let a = pool.alloc(1u64);
    let b = pool.alloc(2u64);
    let (a_addr, b_addr) = (addr(&a), addr(&b));
    assert_eq!(b_addr - a_addr, 8, "fresh slots are adjacent");
    drop(a);
    drop(b);
    let c = pool.alloc(3u64);
    let d = pool.alloc(4u64);
    assert_eq!((addr(&c), addr(&d)), (b_addr, a_addr));
    assert_eq!((*c, *d), (3, 4));
}

#[test]
fn dropping_a_box_drops_its_value_once() {
    let drops = Cell::new(0);
    let pool = Pool::with_capacity(4);
    let a = pool.alloc(Tracked(1, &drops));
    let b = pool.alloc(Tracked(2, &drops));
    assert_eq!(a.0 + b.0, 3);
    drop(a);
    assert_eq!((drops.get(), pool.len()), (1, 1));
    drop(b);
    assert_eq!((drops.get(), pool.len()), (2, 0));
}

#[test]
fn into_inner_moves_out_without_dropping_and_leak_never_drops() {
    let drops = Cell::new(0);
    let pool = Pool::with_capacity(4);
    let value = PoolBox::into_inner(pool.alloc(Tracked(7, &drops)));
    assert_eq!((value.0, drops.get(), pool.len()), (7, 0, 0));
    drop(value);
    assert_eq!(drops.get(), 1);

    let leaked = PoolBox::leak(pool.alloc(Tracked(8, &drops)));
    leaked.0 += 1;
    assert_eq!((leaked.0, pool.len()), (9, 1));
    drop(pool);
    assert_eq!(drops.get(), 1, "a leaked value is never dropped");
}

#[test]
fn boxes_format_as_their_values() {
    let pool = Pool::with_capacity(2);
    let b = pool.alloc(vec![1, 2]);
    assert_eq!(format!("{b:?}"), "[1, 2]");
    let numbers = Pool::with_capacity(1);
    let n = numbers.alloc(5u8);
    assert_eq!(format!("{n} {n:>3}"), "5   5");
    let debug = format!("{pool:?}");
    assert!(
        debug.contains("len: 1") && debug.contains("capacity: 2"),
        "{debug}"
    );
}

#[test]
fn layouts_that_fit_a_slot_are_served_and_others_refused() {
    let pool = Pool::<[u64; 4]>::with_capacity(8);
    assert_eq!(pool.slot_size(), 32);
    let fits = [
        Layout::new::<[u64; 4]>(),
        Layout::new::<u8>(),
        Layout::from_size_align(32, 8).unwrap(),
        Layout::from_size_align(1, 8).unwrap(),
    ];
    let mut seen = HashSet::new();
    for layout in fits {
        let block = (&pool).allocate(layout).expect("fits a slot");
        assert_eq!(block.len(), layout.size());
        assert_eq!(block.cast::<u8>().as_ptr() as usize % 8, 0);
        assert!(
            seen.insert(block.cast::<u8>().as_ptr() as usize),
            "disjoint"
        );
    }
    assert_eq!(pool.len(), 4);
    for layout in [
        Layout::from_size_align(33, 8).unwrap(),
        Layout::from_size_align(8, 16).unwrap(),
        Layout::from_size_align(4096, 4096).unwrap(),
    ] {
        assert!((&pool).allocate(layout).is_err(), "{layout:?} must not fit");
    }
    assert_eq!(pool.len(), 4, "refusals take no slot");
}

#[test]
fn zero_sized_layouts_never_fail_and_take_no_slot() {
    let pool = Pool::<u64>::with_capacity(0);
    let layout = Layout::from_size_align(0, 64).unwrap();
    let block = (&pool).allocate(layout).unwrap();
    assert_eq!(block.cast::<u8>().as_ptr() as usize % 64, 0);
    // SAFETY: allocated above with `layout`.
    unsafe { (&pool).deallocate(block.cast(), layout) };
    assert_eq!(pool.len(), 0);
}

#[test]
fn grow_stays_in_the_slot_or_fails_and_shrink_is_in_place() {
    let pool = Pool::<[u8; 24]>::with_capacity(2);
    let small = Layout::from_size_align(4, 1).unwrap();
    let block = (&pool).allocate(small).unwrap().cast::<u8>();
    // SAFETY: a live block of 4 bytes.
    unsafe { block.as_ptr().copy_from(b"pool".as_ptr(), 4) };
    let within = Layout::from_size_align(24, 8).unwrap();
    // SAFETY: `block` is live for `small`; `within` is no smaller.
    let grown = unsafe { (&pool).grow_zeroed(block, small, within) }.unwrap();
    assert_eq!(grown.cast::<u8>(), block, "in place");
    // SAFETY: a live block of 24 bytes.
    let bytes = unsafe { grown.as_ref() };
    assert_eq!(&bytes[..4], b"pool");
    assert!(bytes[4..].iter().all(|&b| b == 0));
    let beyond = Layout::from_size_align(25, 8).unwrap();
    // SAFETY: live for `within`; `beyond` is larger.
    assert!(unsafe { (&pool).grow(block, within, beyond) }.is_err());
    // SAFETY: still live for `within` after the failed grow.
    let shrunk = unsafe { (&pool).shrink(block, within, small) }.unwrap();
    assert_eq!((shrunk.cast::<u8>(), shrunk.len()), (block, 4));
    // SAFETY: live for `small`, not used again.
    unsafe { (&pool).deallocate(block, small) };
    assert!(pool.is_empty());
}

#[test]
fn a_reused_block_is_zeroed_on_request() {
    let pool = Pool::<[u8; 16]>::with_capacity(1);
    let layout = Layout::new::<[u8; 16]>();
    let block = (&pool).allocate(layout).unwrap().cast::<u8>();
    // SAFETY: 16 live bytes.
    unsafe { block.as_ptr().write_bytes(0xEE, 16) };
    // SAFETY: live for `layout`, not used again.
    unsafe { (&pool).deallocate(block, layout) };
    let again = (&pool).allocate_zeroed(layout).unwrap();
    assert_eq!(again.cast::<u8>(), block);
    // SAFETY: 16 live bytes.
    assert!(unsafe { again.as_ref() }.iter().all(|&b| b == 0));
}

#[test]
fn allocator_boxes_build_a_linked_list() {
    struct Node<'p> {
        value: u64,
        next: Option<Box<Node<'p>, &'p Pool<Node<'p>>>>,
    }
    let pool = Pool::with_capacity(100);
    let mut head: Option<Box<Node<'_>, _>> = None;
    for value in 0..100 {
        head = Some(Box::new_in(Node { value, next: head }, &pool));
    }
    assert_eq!(pool.len(), 100);
    assert!(Box::try_new_in(
        Node {
            value: 0,
            next: None
        },
        &pool
    )
    .is_err());
    let mut sum = 0;
    let mut cursor = head.as_deref();
    while let Some(node) = cursor {
        sum += node.value;
        cursor = node.next.as_deref();
    }
    assert_eq!(sum, 4950);
    // Unlink iteratively so a long list cannot overflow the stack.
    while let Some(mut node) = head {
        head = node.next.take();
    }
    assert!(pool.is_empty());
}

#[test]
fn a_small_live_set_churns_forever_inside_a_small_pool() {
    const LIVE: usize = 8;
    let cycles = if cfg!(miri) { 2_000 } else { 100_000 };
    let pool = Pool::<[u64; 2]>::with_capacity(LIVE);
    let mut live: Vec<PoolBox<'_, [u64; 2]>> = Vec::new();
    let mut addresses = HashSet::new();
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    for i in 0..cycles as u64 {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        if live.len() == LIVE || (!live.is_empty() && state % 3 == 0) {
            let gone = live.swap_remove(state as usize % live.len());
            assert_eq!(gone[0], gone[1] ^ 0xFF, "contents intact");
        }
        let b = pool.alloc([i, i ^ 0xFF]);
        addresses.insert(addr(&b));
        live.push(b);
        assert_eq!(pool.len(), live.len());
    }
    assert!(
        addresses.len() <= LIVE,
        "only the pool's own slots are used"
    );
}

#[test]
fn zero_sized_values_use_no_memory_and_never_fail() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static DROPS: AtomicUsize = AtomicUsize::new(0);
    struct Unit;
    impl Drop for Unit {
        fn drop(&mut self) {
            DROPS.fetch_add(1, Ordering::Relaxed);
        }
    }
    let pool = Pool::<Unit>::with_capacity(0);
    assert_eq!((pool.capacity(), pool.slot_size()), (usize::MAX, 0));
    let boxes: Vec<_> = (0..1000).map(|_| pool.alloc(Unit)).collect();
    assert_eq!(pool.len(), 1000);
    drop(boxes);
    assert_eq!((DROPS.load(Ordering::Relaxed), pool.len()), (1000, 0));
    assert!(
        (&pool).allocate(Layout::new::<u8>()).is_err(),
        "a zero-sized slot holds no byte"
    );
    assert!(
        format!("{pool:?}").contains("region: None"),
        "nothing mapped"
    );
}

#[test]
fn every_region_option_builds_a_working_pool() {
    for (guard, huge, populate, backing) in [
        (true, false, false, Backing::Anonymous),
        (false, true, false, Backing::Anonymous),
        (false, false, true, Backing::Anonymous),
        (false, false, false, Backing::DevZero),
    ] {
        let pool = Pool::<u64>::builder()
            .slots(1000)
            .guard_pages(guard)
            .huge_pages(huge)
            .populate(populate)
            .backing(backing)
            .build()
            .unwrap();
        let b = pool.alloc(42);
        assert_eq!((*b, pool.capacity()), (42, 1000));
    }
}

#[test]
#[cfg_attr(miri, ignore = "Miri keeps the default reservation in host memory")]
fn a_builder_without_slots_reserves_the_default_address_space() {
    let pool = Pool::<[u8; 64]>::builder().build().unwrap();
    assert!(pool.capacity() >= (64 << 20) / 64);
}

#[test]
fn an_impossible_capacity_is_an_error() {
    assert_eq!(
        Pool::<[u8; 64]>::try_with_capacity(usize::MAX / 32).unwrap_err(),
        Error::LayoutOverflow
    );
}

#[test]
fn a_pool_moves_to_another_thread() {
    let pool = Pool::with_capacity(4);
    std::thread::spawn(move || {
        let b = pool.alloc(String::from("moved"));
        assert_eq!(*b, "moved");
    })
    .join()
    .unwrap();
}

#[test]
#[cfg_attr(
    miri,
    ignore = "Miri cannot fork and has no resident-memory accounting"
)]
fn ten_million_slots_cost_no_memory_until_used() {
    let end = in_child(|| {
        let before = resident_bytes();
        let pool = Pool::<[u8; 64]>::with_capacity(10_000_000);
        let created = resident_bytes();
        let boxes: Vec<_> = (0..1000).map(|i| pool.alloc([i as u8; 64])).collect();
        let used = resident_bytes();
        let ok = pool.capacity() == 10_000_000
            // 640 MB reserved; touching it all would commit 640 MB. The
            // child's own bookkeeping (the statm reads, the fork's copied
            // stack pages) varies by up to about 1 MiB between builds, so
            // the bound is 4 MiB: still 160 times below an O(n) init.
            && created < before + (4 << 20)
            // 1000 slots are 64 KB; allow the Vec and page granularity.
            && used < created + (4 << 20)
            && boxes.iter().enumerate().all(|(i, b)| b[63] == i as u8);
        if !ok {
            eprintln!("resident: before {before}, created {created}, used {used}");
        }
        i32::from(!ok)
    });
    assert_eq!(end, ChildEnd::Exited(0));
}

#[test]
#[cfg(debug_assertions)]
#[should_panic(expected = "double free of slot 0")]
fn a_debug_build_catches_a_double_free() {
    let pool = Pool::<u64>::with_capacity(2);
    let layout = Layout::new::<u64>();
    let block = (&pool).allocate(layout).unwrap().cast::<u8>();
    // SAFETY: deliberately broken on the second call; the debug check
    // panics before anything is corrupted.
    unsafe {
        (&pool).deallocate(block, layout);
        (&pool).deallocate(block, layout);
    }
}

#[test]
#[cfg(debug_assertions)]
#[should_panic(expected = "which is not a slot this pool handed out")]
fn a_debug_build_catches_a_foreign_pointer() {
    let pool = Pool::<u64>::with_capacity(2);
    let other = Pool::<u64>::with_capacity(2);
    let layout = Layout::new::<u64>();
    let _mine = (&pool).allocate(layout).unwrap();
    let theirs = (&other).allocate(layout).unwrap().cast::<u8>();
    // SAFETY: deliberately broken: the debug check panics first.
    unsafe { (&pool).deallocate(theirs, layout) };
}

#[test]
fn a_box_survives_moves_of_its_handle() {
    let pool = Pool::with_capacity(2);
    let rc = Rc::new(5);
    let b = pool.alloc(Rc::clone(&rc));
    let moved = std::iter::once(b).collect::<Vec<_>>();
    assert_eq!((**moved[0], Rc::strong_count(&rc)), (5, 2));
    drop(moved);
    assert_eq!(Rc::strong_count(&rc), 1);
}

#[test]
fn boxes_of_small_values_recycle_whole_slots() {
    // A `Box<u8>` hands back a pointer whose provenance covers one byte;
    // the pool must still be able to link the freed slot and reuse it whole
    // (Miri checks the provenance).
    let pool = Pool::<u64>::with_capacity(4);
    for round in 0..3u8 {
        let a = allocator_api2::boxed::Box::new_in(round, &pool);
        let b = allocator_api2::boxed::Box::new_in(round + 1, &pool);
        drop(a);
        drop(b);
        let c = allocator_api2::boxed::Box::new_in(u64::MAX, &pool);
        let d = allocator_api2::boxed::Box::new_in(u64::from(round), &pool);
        assert_eq!((*c, *d), (u64::MAX, u64::from(round)));
    }
}

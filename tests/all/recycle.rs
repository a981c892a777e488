//! A dropped arena's mapping is parked and handed to the next arena of the
//! same shape, with the old contents zeroed where `allocate_zeroed` asks.
//!
//! Most tests run in a forked child that starts with `trim()`: the store is
//! process-wide, and the other tests' arenas come and go in parallel.

use core::alloc::Layout;

use allocator_api2::alloc::Allocator;
use anon_arena::{set_recycling, trim, Arena, RegionCache, SharedArena, StackArena, SyncArena};

use crate::common::{in_child, resident_in, ChildEnd};

/// Fills `len` bytes of `arena` with `0xAB` and returns their address.
fn scribble(arena: &Arena, len: usize) -> usize {
    arena.alloc_slice_fill_copy(len, 0xABu8).as_ptr() as usize
}

/// Whether `allocate_zeroed` of `len` bytes through `allocator` reads zero.
fn zeroed_reads_zero(allocator: impl Allocator, len: usize) -> bool {
    let block = allocator
        .allocate_zeroed(Layout::from_size_align(len, 8).unwrap())
        .unwrap();
    // SAFETY: `allocate_zeroed` handed out `len` initialised bytes.
    let bytes = unsafe { block.as_ref() };
    bytes.len() == len && bytes.iter().all(|&b| b == 0)
}

#[test]
#[cfg_attr(miri, ignore = "Miri cannot fork")]
fn the_next_arena_of_the_same_shape_takes_the_mapping_with_its_pages() {
    const CAPACITY: usize = (96 << 20) + 4096;
    let end = in_child(|| {
        trim();
        let first = Arena::with_capacity(CAPACITY);
        let start = scribble(&first, 1 << 20);
        drop(first);
        let second = Arena::with_capacity(CAPACITY);
        let resident = resident_in(start, CAPACITY);
        assert!(
            resident >= 1 << 20,
            "the written pages stay resident: {resident} bytes"
        );
        assert!(zeroed_reads_zero(&second, 2 << 20), "old bytes leaked");
        let reused = second.alloc(0u64) as *mut u64 as usize;
        assert_eq!(reused, start + (2 << 20), "the same mapping, reused");
        0
    });
    assert_eq!(end, ChildEnd::Exited(0));
}

#[test]
#[cfg_attr(miri, ignore = "Miri cannot fork")]
fn another_shape_gets_a_new_mapping_and_leaves_the_parked_one() {
    let end = in_child(|| {
        trim();
        drop(Arena::with_capacity(1 << 20));
        // Kept alive, so that only the first arena's mapping can be parked.
        let _bigger = Arena::with_capacity(2 << 20);
        let _guarded = Arena::builder()
            .capacity(1 << 20)
            .guard_pages(true)
            .build()
            .unwrap();
        assert_eq!(trim(), 1, "the first arena's mapping still waits");
        0
    });
    assert_eq!(end, ChildEnd::Exited(0));
}

#[test]
#[cfg_attr(miri, ignore = "Miri cannot fork")]
fn opting_out_unmaps_on_drop_and_never_takes_a_parked_mapping() {
    let end = in_child(|| {
        trim();
        let private = || {
            Arena::builder()
                .capacity(1 << 20)
                .recycle(false)
                .build()
                .unwrap()
        };
        drop(private());
        assert_eq!(trim(), 0, "recycle(false) unmaps");
        drop(Arena::with_capacity(1 << 20));
        drop(private());
        assert_eq!(trim(), 1, "recycle(false) leaves the parked one alone");
        drop(
            Arena::builder()
                .capacity(1 << 20)
                .populate(true)
                .build()
                .unwrap(),
        );
        drop(SharedArena::with_capacity(1 << 20).unwrap());
        assert_eq!(trim(), 0, "populated and shared mappings are never parked");
        0
    });
    assert_eq!(end, ChildEnd::Exited(0));
}

#[test]
#[cfg_attr(miri, ignore = "Miri cannot fork and has no /proc/self/smaps")]
fn a_parked_mapping_gives_back_all_but_a_few_mebibytes() {
    const CAPACITY: usize = 256 << 20;
    let end = in_child(|| {
        trim();
        let first = Arena::with_capacity(CAPACITY);
        let start = scribble(&first, 64 << 20);
        drop(first);
        let second = Arena::with_capacity(CAPACITY);
        let resident = resident_in(start, CAPACITY);
        assert!(
            (4 << 20..=12 << 20).contains(&resident),
            "kept {resident} bytes resident of 64 MiB written"
        );
        assert!(zeroed_reads_zero(&second, 64 << 20), "old bytes leaked");
        0
    });
    assert_eq!(end, ChildEnd::Exited(0));
}

#[test]
#[cfg_attr(miri, ignore = "Miri cannot fork")]
fn switched_off_for_the_process_nothing_waits() {
    let end = in_child(|| {
        drop(Arena::with_capacity(1 << 20));
        set_recycling(false);
        assert_eq!(trim(), 0, "switching off unmapped the parked mapping");
        drop(Arena::with_capacity(1 << 20));
        assert_eq!(trim(), 0, "and parks nothing new");
        set_recycling(true);
        drop(Arena::with_capacity(1 << 20));
        assert_eq!(trim(), 1);
        0
    });
    assert_eq!(end, ChildEnd::Exited(0));
}

#[test]
#[cfg_attr(miri, ignore = "Miri cannot fork and does not apply guard pages")]
fn a_reused_guarded_mapping_still_faults_past_its_end() {
    let end = in_child(|| {
        trim();
        let guarded = || {
            Arena::builder()
                .capacity(8192)
                .guard_pages(true)
                .build()
                .unwrap()
        };
        let first = guarded();
        let start = scribble(&first, 8192);
        drop(first);
        let second = guarded();
        let all = second.alloc_layout(Layout::from_size_align(8192, 8).unwrap());
        assert_eq!(
            all.as_ptr() as usize,
            start,
            "the parked mapping was reused"
        );
        // SAFETY: deliberately none: one byte past the arena is the guard page.
        unsafe { all.as_ptr().add(8192).write_volatile(1) };
        0
    });
    assert_eq!(end, ChildEnd::Signaled(libc::SIGSEGV));
}

#[test]
#[cfg_attr(miri, ignore = "Miri cannot fork")]
fn leases_released_arenas_and_threads_leave_no_stale_bytes_behind() {
    const CAPACITY: usize = (2 << 20) + 5 * 4096;
    let end = in_child(|| {
        trim();
        // Leases: four handles write their leases, then the arena drops.
        let sync = SyncArena::with_capacity(CAPACITY);
        std::thread::scope(|threads| {
            for _ in 0..4 {
                threads.spawn(|| {
                    let local = sync.local();
                    for _ in 0..64 {
                        local.alloc_slice_fill_copy(1000, 0x5Au8);
                    }
                });
            }
        });
        drop(sync);
        let sync = SyncArena::with_capacity(CAPACITY);
        assert!(zeroed_reads_zero(&sync, CAPACITY), "a lease's bytes leaked");
        drop(sync);
        // `release` before the drop: the parked mapping is clean.
        let mut arena = Arena::with_capacity(CAPACITY);
        scribble(&arena, 1 << 20);
        arena.release();
        scribble(&arena, 4096);
        drop(arena);
        let arena = Arena::with_capacity(CAPACITY);
        assert!(zeroed_reads_zero(&arena, CAPACITY), "released bytes leaked");
        0
    });
    assert_eq!(end, ChildEnd::Exited(0));
}

/// Threads make and drop arenas of two shapes while another trims: every
/// zeroed block reads zero, and nothing crashes.
#[test]
#[cfg_attr(miri, ignore = "too slow under Miri")]
fn threads_making_dropping_and_trimming_see_only_zeroes() {
    const SHAPES: [usize; 2] = [(1 << 20) + 7 * 4096, (1 << 20) + 9 * 4096];
    /// Stops the trimming thread however the scope ends, a failed
    /// assertion included, so that a failure cannot hang the test.
    struct StopOnDrop<'a>(&'a std::sync::atomic::AtomicBool);
    impl Drop for StopOnDrop<'_> {
        fn drop(&mut self) {
            self.0.store(true, std::sync::atomic::Ordering::Relaxed);
        }
    }
    let stop = std::sync::atomic::AtomicBool::new(false);
    std::thread::scope(|threads| {
        threads.spawn(|| {
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                trim();
                std::thread::yield_now();
            }
        });
        let _stop = StopOnDrop(&stop);
        let workers: Vec<_> = (0..4)
            .map(|worker| {
                threads.spawn(move || {
                    for round in 0..200 {
                        let mut arena = Arena::with_capacity(SHAPES[(worker + round) % 2]);
                        assert!(zeroed_reads_zero(&arena, 128 << 10), "round {round}");
                        // Leave the bytes the next arena will check dirty.
                        arena.reset();
                        scribble(&arena, 128 << 10);
                    }
                })
            })
            .collect();
        for worker in workers {
            worker.join().unwrap();
        }
    });
}

#[test]
#[cfg_attr(miri, ignore = "Miri cannot fork")]
fn at_most_four_mappings_wait() {
    let end = in_child(|| {
        trim();
        let arenas: Vec<Arena> = (0..6).map(|_| Arena::with_capacity(1 << 20)).collect();
        for arena in &arenas {
            scribble(arena, 100);
        }
        drop(arenas);
        assert_eq!(trim(), 4);
        0
    });
    assert_eq!(end, ChildEnd::Exited(0));
}

#[test]
#[cfg_attr(miri, ignore = "Miri cannot fork")]
fn stack_and_sync_arenas_recycle_too() {
    const CAPACITY: usize = (3 << 20) + 8192;
    let end = in_child(|| {
        trim();
        let mut stack = StackArena::with_capacity(CAPACITY);
        let start = stack.scope(|scope| scope.alloc_slice_fill_copy(1 << 20, 0xCDu8).as_ptr());
        drop(stack);
        let stack = StackArena::with_capacity(CAPACITY);
        assert!(zeroed_reads_zero(&stack, 1 << 20), "StackArena leaked");
        assert_eq!(
            stack.alloc(0u64) as *mut u64 as *const u8,
            start.wrapping_add(1 << 20)
        );
        drop(stack);
        let sync = SyncArena::with_capacity(CAPACITY);
        assert!(zeroed_reads_zero(&sync, 2 << 20), "SyncArena leaked");
        sync.alloc_slice_fill_copy(1 << 20, 0xEFu8);
        drop(sync);
        let sync = SyncArena::with_capacity(CAPACITY);
        assert!(zeroed_reads_zero(&sync, 3 << 20), "SyncArena leaked");
        0
    });
    assert_eq!(end, ChildEnd::Exited(0));
}

/// Without a fork, so Miri runs it too: whether or not the mapping is
/// recycled (another test may take it), zeroed memory reads zero.
#[test]
fn arenas_made_one_after_another_always_zero_what_is_asked() {
    const CAPACITY: usize = (5 << 20) + 3 * 4096;
    for round in 0..4 {
        let mut arena = Arena::with_capacity(CAPACITY);
        assert!(zeroed_reads_zero(&arena, 64 << 10), "round {round}");
        // Leave the bytes the next arena will check dirty.
        arena.reset();
        scribble(&arena, 64 << 10);
    }
}

#[test]
#[cfg_attr(miri, ignore = "Miri cannot fork")]
fn a_mapping_that_fails_for_lack_of_address_space_gives_back_the_parked_ones() {
    const GIB: usize = 1 << 30;
    let end = in_child(|| {
        trim();
        drop(Arena::with_capacity(GIB));
        let statm = std::fs::read_to_string("/proc/self/statm").unwrap();
        let pages: usize = statm.split_whitespace().next().unwrap().parse().unwrap();
        let mapped = pages * crate::common::rustix_page_size();
        // Room for half a GiB more than is mapped now, the parked GiB
        // included: a second GiB fits only once the parked one is gone.
        let limit = (mapped + GIB / 2) as libc::rlim_t;
        let rlimit = libc::rlimit {
            rlim_cur: limit,
            rlim_max: limit,
        };
        // SAFETY: `setrlimit` reads the struct it is given.
        assert_eq!(unsafe { libc::setrlimit(libc::RLIMIT_AS, &rlimit) }, 0);
        let other = Arena::try_with_capacity(GIB + 4096);
        assert!(other.is_ok(), "{:?}", other.err());
        assert_eq!(trim(), 0, "the parked GiB was given back to make room");
        0
    });
    assert_eq!(end, ChildEnd::Exited(0));
}

/// Issue 14's reproduction: another thread drops a big arena, whose
/// parking gives 192 MiB back to the OS (which takes a while), as this one
/// switches reuse off and builds an arena of the same shape. Whatever the
/// timing, the new arena must not get the old one's mapping.
#[test]
#[cfg_attr(miri, ignore = "too slow under Miri")]
fn after_the_switch_goes_off_no_mapping_passes_to_another_arena() {
    static CACHE: RegionCache = RegionCache::new();
    let arena = || {
        Arena::builder()
            .capacity(256 << 20)
            .huge_pages(false)
            .cache(&CACHE)
            .build()
            .unwrap()
    };
    for round in 0..10 {
        CACHE.set_enabled(true);
        let old = arena();
        old.alloc_slice_fill_copy(200 << 20, 0xABu8);
        let dropping = std::thread::spawn(move || drop(old));
        std::thread::sleep(std::time::Duration::from_micros(300));
        CACHE.set_enabled(false);
        dropping.join().unwrap();
        let new = arena();
        let block = new.alloc_layout(Layout::from_size_align(4096, 8).unwrap());
        // SAFETY: a block of 4096 bytes just handed out; mapped memory.
        let first = unsafe { block.as_ptr().read() };
        assert_eq!(first, 0, "round {round}: the dropped arena's bytes");
    }
}

//! A dropped arena's mapping is parked in a `RegionCache` and handed to the
//! next arena of the same shape, with the old contents zeroed where
//! `allocate_zeroed` asks.
//!
//! Each test uses a cache of its own (a `static` one through
//! `Builder::cache`, or a local one through `build_in`/`recycle_into`), so
//! the other tests' arenas, which come and go in parallel, cannot take its
//! mappings. Only the tests of the process-wide cache itself
//! (`set_recycling`, `trim`) and of faults and limits run in a forked child.

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

/// An arena of `capacity` bytes taking its mapping from `cache` and parking
/// it there when dropped.
fn arena_in(cache: &'static RegionCache, capacity: usize) -> Arena {
    Arena::builder()
        .capacity(capacity)
        .cache(cache)
        .build()
        .unwrap()
}

/// Whether anything is mapped at `addr`, from `/proc/self/maps`.
fn mapped_at(addr: usize) -> bool {
    let maps = std::fs::read_to_string("/proc/self/maps").expect("read /proc/self/maps");
    maps.lines().any(|line| {
        let range = line.split(' ').next().unwrap_or_default();
        let (from, to) = range.split_once('-').unwrap_or_default();
        let from = usize::from_str_radix(from, 16).unwrap_or(usize::MAX);
        let to = usize::from_str_radix(to, 16).unwrap_or(0);
        (from..to).contains(&addr)
    })
}

#[test]
#[cfg_attr(miri, ignore = "Miri has no /proc/self/smaps")]
fn the_next_arena_of_the_same_shape_takes_the_mapping_with_its_pages() {
    static CACHE: RegionCache = RegionCache::new();
    const CAPACITY: usize = (96 << 20) + 4096;
    let first = arena_in(&CACHE, CAPACITY);
    let start = scribble(&first, 1 << 20);
    drop(first);
    let second = arena_in(&CACHE, CAPACITY);
    let resident = resident_in(start, CAPACITY);
    assert!(
        resident >= 1 << 20,
        "the written pages stay resident: {resident} bytes"
    );
    assert!(zeroed_reads_zero(&second, 2 << 20), "old bytes leaked");
    let reused = second.alloc(0u64) as *mut u64 as usize;
    assert_eq!(reused, start + (2 << 20), "the same mapping, reused");
}

#[test]
fn another_shape_gets_a_new_mapping_and_leaves_the_parked_one() {
    let cache = RegionCache::new();
    let build = |bytes: usize, guard: bool| {
        Arena::builder()
            .capacity(bytes)
            .guard_pages(guard)
            .build_in(&cache)
            .unwrap()
    };
    let first = build(1 << 20, false);
    let first_start = scribble(&first, 8);
    first.recycle_into(&cache);
    let bigger = build(2 << 20, false);
    assert_ne!(scribble(&bigger, 8), first_start, "a new mapping");
    // Miri maps no guard page, so there a guarded region has the plain shape.
    let guarded = (!cfg!(miri)).then(|| build(1 << 20, true));
    if let Some(guarded) = &guarded {
        assert_ne!(scribble(guarded, 8), first_start, "a new mapping");
    }
    assert_eq!(cache.len(), 1, "the first arena's mapping still waits");
    let same = build(1 << 20, false);
    assert_eq!(scribble(&same, 8), first_start, "taken by the same shape");
}

#[test]
fn opting_out_unmaps_on_drop_and_never_takes_a_parked_mapping() {
    static CACHE: RegionCache = RegionCache::new();
    let private = || {
        Arena::builder()
            .capacity(1 << 20)
            .recycle(false)
            .cache(&CACHE)
            .build()
            .unwrap()
    };
    drop(private());
    assert!(CACHE.is_empty(), "recycle(false) unmaps");
    drop(arena_in(&CACHE, 1 << 20));
    drop(private());
    assert_eq!(CACHE.len(), 1, "recycle(false) leaves the parked one alone");
    let populated = Arena::builder()
        .capacity(1 << 20)
        .populate(true)
        .cache(&CACHE)
        .build()
        .unwrap();
    drop(populated);
    assert_eq!(CACHE.trim(), 1, "a populated mapping is never parked");
}

#[test]
#[cfg_attr(miri, ignore = "Miri cannot fork")]
fn shared_arenas_never_park_in_the_process_wide_cache() {
    let end = in_child(|| {
        trim();
        drop(SharedArena::with_capacity(1 << 20).unwrap());
        assert_eq!(trim(), 0, "shared mappings are never parked");
        0
    });
    assert_eq!(end, ChildEnd::Exited(0));
}

#[test]
#[cfg_attr(miri, ignore = "Miri has no /proc/self/smaps")]
fn a_parked_mapping_gives_back_all_but_a_few_mebibytes() {
    static CACHE: RegionCache = RegionCache::new();
    const CAPACITY: usize = 256 << 20;
    let first = arena_in(&CACHE, CAPACITY);
    let start = scribble(&first, 64 << 20);
    drop(first);
    let second = arena_in(&CACHE, CAPACITY);
    let resident = resident_in(start, CAPACITY);
    assert!(
        (4 << 20..=12 << 20).contains(&resident),
        "kept {resident} bytes resident of 64 MiB written"
    );
    assert!(zeroed_reads_zero(&second, 64 << 20), "old bytes leaked");
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
        let cache = RegionCache::new();
        let guarded = || {
            Arena::builder()
                .capacity(8192)
                .guard_pages(true)
                .build_in(&cache)
                .unwrap()
        };
        let first = guarded();
        let start = scribble(&first, 8192);
        first.recycle_into(&cache);
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
#[cfg_attr(miri, ignore = "too slow under Miri")]
fn leases_released_arenas_and_threads_leave_no_stale_bytes_behind() {
    static CACHE: RegionCache = RegionCache::new();
    const CAPACITY: usize = (2 << 20) + 5 * 4096;
    let sync_arena = || {
        SyncArena::builder()
            .capacity(CAPACITY)
            .cache(&CACHE)
            .build()
            .unwrap()
    };
    // Leases: four handles write their leases, then the arena drops.
    let sync = sync_arena();
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
    let sync = sync_arena();
    assert!(zeroed_reads_zero(&sync, CAPACITY), "a lease's bytes leaked");
    drop(sync);
    // `release` before the drop: the parked mapping is clean.
    let mut arena = arena_in(&CACHE, CAPACITY);
    scribble(&arena, 1 << 20);
    arena.release();
    scribble(&arena, 4096);
    drop(arena);
    let arena = arena_in(&CACHE, CAPACITY);
    assert!(zeroed_reads_zero(&arena, CAPACITY), "released bytes leaked");
}

/// Threads make and drop arenas of two shapes while another trims: every
/// zeroed block reads zero, and nothing crashes.
#[test]
#[cfg_attr(miri, ignore = "too slow under Miri")]
fn threads_making_dropping_and_trimming_see_only_zeroes() {
    static CACHE: RegionCache = RegionCache::new();
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
                CACHE.trim();
                std::thread::yield_now();
            }
        });
        let _stop = StopOnDrop(&stop);
        let workers: Vec<_> = (0..4)
            .map(|worker| {
                threads.spawn(move || {
                    for round in 0..200 {
                        let mut arena = arena_in(&CACHE, SHAPES[(worker + round) % 2]);
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
fn at_most_four_mappings_wait() {
    static CACHE: RegionCache = RegionCache::new();
    let arenas: Vec<Arena> = (0..6).map(|_| arena_in(&CACHE, 1 << 20)).collect();
    for arena in &arenas {
        scribble(arena, 100);
    }
    drop(arenas);
    assert_eq!(CACHE.len(), 4);
    assert_eq!(CACHE.trim(), 4);
}

#[test]
#[cfg_attr(miri, ignore = "too slow under Miri")]
fn stack_and_sync_arenas_recycle_too() {
    static CACHE: RegionCache = RegionCache::new();
    const CAPACITY: usize = (3 << 20) + 8192;
    let stack_arena = || {
        StackArena::builder()
            .capacity(CAPACITY)
            .cache(&CACHE)
            .build()
            .unwrap()
    };
    let sync_arena = || {
        SyncArena::builder()
            .capacity(CAPACITY)
            .cache(&CACHE)
            .build()
            .unwrap()
    };
    let mut stack = stack_arena();
    let start = stack.scope(|scope| scope.alloc_slice_fill_copy(1 << 20, 0xCDu8).as_ptr());
    drop(stack);
    let stack = stack_arena();
    assert!(zeroed_reads_zero(&stack, 1 << 20), "StackArena leaked");
    assert_eq!(
        stack.alloc(0u64) as *mut u64 as *const u8,
        start.wrapping_add(1 << 20)
    );
    drop(stack);
    let sync = sync_arena();
    assert!(zeroed_reads_zero(&sync, 2 << 20), "SyncArena leaked");
    sync.alloc_slice_fill_copy(1 << 20, 0xEFu8);
    drop(sync);
    let sync = sync_arena();
    assert!(zeroed_reads_zero(&sync, 3 << 20), "SyncArena leaked");
}

/// Small enough for Miri: each arena takes the last one's mapping, and
/// zeroed memory reads zero however dirty it was left.
#[test]
fn arenas_made_one_after_another_always_zero_what_is_asked() {
    static CACHE: RegionCache = RegionCache::new();
    const CAPACITY: usize = (5 << 20) + 3 * 4096;
    let mut first = None;
    for round in 0..4 {
        let mut arena = arena_in(&CACHE, CAPACITY);
        assert!(zeroed_reads_zero(&arena, 64 << 10), "round {round}");
        // Leave the bytes the next arena will check dirty.
        arena.reset();
        let start = scribble(&arena, 64 << 10);
        assert_eq!(*first.get_or_insert(start), start, "round {round}: reused");
    }
}

/// In a child, whose only thread maps nothing in between, so an address
/// found unmapped was unmapped by the code under test.
#[test]
#[cfg_attr(miri, ignore = "Miri cannot fork")]
fn an_arena_built_in_a_cache_unmaps_on_drop_unless_given_back_and_so_does_the_cache() {
    let end = in_child(|| {
        let cache = RegionCache::new();
        let build = || Arena::builder().capacity(1 << 20).build_in(&cache).unwrap();
        let start = scribble(&build(), 8);
        assert!(!mapped_at(start), "dropped without recycle_into: unmapped");
        assert!(cache.is_empty());
        let arena = build();
        let start = scribble(&arena, 8);
        arena.recycle_into(&cache);
        assert!(mapped_at(start) && cache.len() == 1, "parked");
        drop(cache);
        assert!(!mapped_at(start), "a dropped cache unmaps what it holds");
        0
    });
    assert_eq!(end, ChildEnd::Exited(0));
}

#[test]
#[cfg_attr(miri, ignore = "Miri cannot fork")]
fn a_mapping_that_fails_for_lack_of_address_space_gives_back_the_parked_ones() {
    static CACHE: RegionCache = RegionCache::new();
    const GIB: usize = 1 << 30;
    let end = in_child(|| {
        drop(arena_in(&CACHE, GIB));
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
        let other = Arena::builder().capacity(GIB + 4096).cache(&CACHE).build();
        assert!(other.is_ok(), "{:?}", other.err());
        assert!(
            CACHE.is_empty(),
            "the parked GiB was given back to make room"
        );
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

//! `SharedArena` across `fork()`: children write into the parent's blocks
//! (through atomics and cells), allocate from the same cursor, race without
//! overlap; and a private `Arena` stays copy-on-write, for contrast.

use std::sync::atomic::{AtomicU32, AtomicU64, AtomicUsize, Ordering};

use anon_arena::{Arena, Backing, Error, NoPadding, SharedArena, SharedCell, SharedSafe};

use crate::common::{in_child, ChildEnd};

/// What a worker reports back, laid out for a `SharedCell`.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq)]
struct Report {
    count: u64,
    ratio: f64,
    message: [u8; 16],
}
const _: () = assert!(size_of::<Report>() == 8 + 8 + 16, "no padding");
// SAFETY: plain integers, a float and bytes; no pointer, no `Drop`.
unsafe impl SharedSafe for Report {}
// SAFETY: the assertion above: the fields fill the struct.
unsafe impl NoPadding for Report {}

#[test]
#[cfg_attr(
    miri,
    ignore = "Miri cannot fork, and it maps MAP_SHARED memory privately"
)]
fn a_child_writes_into_what_the_parent_allocated() {
    let arena = SharedArena::with_capacity(1 << 16).unwrap();
    let report = arena.alloc(SharedCell::new(Report {
        count: 0,
        ratio: 0.0,
        message: [0; 16],
    }));
    let ticks = arena.alloc(AtomicU64::new(0));
    let end = in_child(|| {
        let mut message = [0; 16];
        message[..5].copy_from_slice(b"hello");
        report.store(Report {
            count: 42,
            ratio: 0.75,
            message,
        });
        ticks.fetch_add(3, Ordering::Relaxed);
        0
    });
    assert_eq!(end, ChildEnd::Exited(0));
    let seen = report.load();
    assert_eq!(seen.count, 42, "the child's write is visible");
    assert_eq!(seen.ratio, 0.75);
    assert_eq!(&seen.message[..5], b"hello");
    assert_eq!(ticks.load(Ordering::Relaxed), 3);
}

#[test]
#[cfg_attr(
    miri,
    ignore = "Miri cannot fork, and it maps MAP_SHARED memory privately"
)]
fn the_parent_finds_a_childs_allocation_and_gets_a_different_one() {
    let arena = SharedArena::with_capacity(1 << 16).unwrap();
    let mailbox = arena.alloc(AtomicUsize::new(0));
    let before = arena.allocated_bytes();
    let end = in_child(|| {
        let mine = arena.alloc(AtomicU64::new(0xC0FFEE));
        mailbox.store(mine as *const AtomicU64 as usize, Ordering::Release);
        0
    });
    assert_eq!(end, ChildEnd::Exited(0));
    let child_addr = mailbox.load(Ordering::Acquire);
    assert_ne!(child_addr, 0, "the child posted its address");
    assert_eq!(arena.allocated_bytes(), before + 8, "the cursor is shared");
    // SAFETY: the child allocated an `AtomicU64` there and published its
    // address with a release store this acquire load saw.
    let found = unsafe { arena.ref_from_addr::<AtomicU64>(child_addr) }.unwrap();
    assert_eq!(found.load(Ordering::Relaxed), 0xC0FFEE);
    let own = arena.alloc(1u64) as *const u64 as usize;
    assert_ne!(own, child_addr);
    assert!(
        own >= child_addr + 8,
        "the parent allocates after the child"
    );
}

/// Forks a child that runs `body` and `_exit`s with its result (101 if it
/// panics); returns the child's pid without waiting.
pub fn spawn_child(body: impl FnOnce() -> i32) -> libc::pid_t {
    // SAFETY: the child only runs `body` and `_exit`s.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork failed: {}", std::io::Error::last_os_error());
    if pid == 0 {
        let code = std::panic::catch_unwind(std::panic::AssertUnwindSafe(body)).unwrap_or(101);
        // SAFETY: leaving the child without the parent's exit handlers.
        unsafe { libc::_exit(code) };
    }
    pid
}

/// Spins until `done` holds, for at most ten seconds; says whether it did.
pub fn spin_until(done: impl Fn() -> bool) -> bool {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !done() {
        if std::time::Instant::now() > deadline {
            return false;
        }
        std::hint::spin_loop();
    }
    true
}

/// Waits for `pid` and returns its exit code (`-signal` if killed).
pub fn wait_for(pid: libc::pid_t) -> i32 {
    let mut status = 0;
    // SAFETY: `pid` is our child; `status` is a valid out-pointer.
    assert_eq!(unsafe { libc::waitpid(pid, &mut status, 0) }, pid);
    if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        -libc::WTERMSIG(status)
    }
}

#[test]
#[cfg_attr(
    miri,
    ignore = "Miri cannot fork, and it maps MAP_SHARED memory privately"
)]
fn two_children_allocating_at_once_never_overlap() {
    const EACH: usize = 20_000;
    let arena = SharedArena::with_capacity(4 << 20).unwrap();
    let go = arena.alloc(AtomicU32::new(0));
    let ready = arena.alloc(AtomicU32::new(0));
    let first = arena.alloc_slice_zeroed::<AtomicUsize>(EACH);
    let second = arena.alloc_slice_zeroed::<AtomicUsize>(EACH);
    let pids = [(1u64, first), (2u64, second)].map(|(id, out)| {
        let arena = &arena;
        spawn_child(move || {
            ready.fetch_add(1, Ordering::AcqRel);
            if !spin_until(|| go.load(Ordering::Acquire) != 0) {
                return 3; // the parent's signal never came through
            }
            for (i, slot) in out.iter().enumerate() {
                let value = arena.alloc(AtomicU64::new(id << 32 | i as u64));
                slot.store(value as *const AtomicU64 as usize, Ordering::Release);
            }
            0
        })
    });
    let both_ready = spin_until(|| ready.load(Ordering::Acquire) == 2);
    go.store(1, Ordering::Release);
    if !both_ready {
        for pid in pids {
            // SAFETY: signalling our own children.
            unsafe { libc::kill(pid, libc::SIGKILL) };
            wait_for(pid);
        }
        panic!("the children's start signal never reached the parent");
    }
    for pid in pids {
        assert_eq!(wait_for(pid), 0, "a child failed");
    }
    let mut all: Vec<usize> = Vec::with_capacity(2 * EACH);
    for (id, slots) in [(1u64, first), (2u64, second)] {
        for (i, slot) in slots.iter().enumerate() {
            let addr = slot.load(Ordering::Acquire);
            // SAFETY: a child allocated an `AtomicU64` there and published
            // the address with a release store this acquire load saw.
            let value = unsafe { arena.ref_from_addr::<AtomicU64>(addr) }.expect("inside");
            assert_eq!(
                value.load(Ordering::Relaxed),
                id << 32 | i as u64,
                "block {addr:#x} was shared"
            );
            all.push(addr);
        }
    }
    all.sort_unstable();
    all.dedup();
    assert_eq!(all.len(), 2 * EACH, "no address handed out twice");
}

#[test]
#[cfg_attr(
    miri,
    ignore = "Miri cannot fork, and it maps MAP_SHARED memory privately"
)]
fn shared_pages_are_seen_at_once_but_a_private_arena_stays_copy_on_write() {
    let shared = SharedArena::with_capacity(4096).unwrap();
    let private = Arena::with_capacity(4096);
    let in_shared = shared.alloc(AtomicU64::new(1));
    let in_private = private.alloc(1u64);
    let end = in_child(|| {
        in_shared.store(2, Ordering::Relaxed);
        *in_private = 2;
        // Both changed in the child's own view.
        i32::from(!(in_shared.load(Ordering::Relaxed) == 2 && *in_private == 2))
    });
    assert_eq!(end, ChildEnd::Exited(0));
    assert_eq!(
        in_shared.load(Ordering::Relaxed),
        2,
        "MAP_SHARED: the child's write reaches the parent"
    );
    assert_eq!(*in_private, 1, "MAP_PRIVATE: the child wrote its own copy");
}

#[test]
#[cfg_attr(
    miri,
    ignore = "Miri cannot fork, and it maps MAP_SHARED memory privately"
)]
fn dev_zero_backing_is_shared_too() {
    let arena = SharedArena::builder()
        .capacity(1 << 16)
        .backing(Backing::DevZero)
        .build()
        .unwrap();
    let cell = arena.alloc(AtomicU32::new(0));
    assert_eq!(
        in_child(|| {
            cell.store(7, Ordering::Release);
            0
        }),
        ChildEnd::Exited(0)
    );
    assert_eq!(cell.load(Ordering::Acquire), 7);
}

#[test]
fn slices_stats_and_exhaustion() {
    let arena = SharedArena::with_capacity(4000).unwrap();
    assert_eq!(arena.capacity(), 4096 - 64);
    let copied = arena.alloc_slice_copy(&[1u32, 2, 3]);
    let filled = arena.try_alloc_slice_fill_copy(5, 9u8).unwrap();
    assert_eq!((copied, filled), (&[1, 2, 3][..], &[9; 5][..]));
    assert_eq!(arena.allocated_bytes(), 16 + 8);
    let zeroed = arena.alloc_slice_zeroed::<SharedCell<u16>>(3);
    assert!(zeroed.iter().all(|cell| cell.load() == 0));
    let ring = arena.try_alloc_ring(100).unwrap();
    assert_eq!(ring.capacity(), 104);
    assert_eq!(
        arena.allocated_bytes() + arena.remaining(),
        arena.capacity()
    );
    assert!(matches!(
        arena.try_alloc([0u64; 1000]),
        Err(Error::Exhausted {
            requested: 8000,
            ..
        })
    ));
    assert!(matches!(
        arena.try_alloc_zeroed::<[u64; 1000]>(),
        Err(Error::Exhausted { .. })
    ));
    assert!(matches!(
        arena.try_alloc_ring(4096),
        Err(Error::Exhausted { .. })
    ));
    assert_eq!(
        arena
            .try_alloc_slice_fill_copy(usize::MAX, 0u64)
            .unwrap_err(),
        Error::LayoutOverflow
    );
    assert_eq!(
        arena.try_alloc_slice_zeroed::<u64>(usize::MAX).unwrap_err(),
        Error::LayoutOverflow
    );
    assert_eq!(
        arena.try_alloc_ring(usize::MAX).unwrap_err(),
        Error::LayoutOverflow
    );
    assert!(arena.ptr_from_addr(0).is_none());
    let addr = copied.as_ptr() as usize;
    assert!(arena.ptr_from_addr(addr).is_some());
    assert!(arena.ptr_from_addr(addr + arena.capacity()).is_none());
}

#[test]
fn threads_share_it_like_a_sync_arena() {
    let arena = SharedArena::with_capacity(1 << 16).unwrap();
    let n = if cfg!(miri) { 20 } else { 1000 };
    let addrs: Vec<usize> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..4u64)
            .map(|t| {
                let arena = &arena;
                s.spawn(move || {
                    (0..n)
                        .map(|i| {
                            let v = arena.alloc(t << 32 | i);
                            assert_eq!(*v, t << 32 | i);
                            v as *const u64 as usize
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().unwrap())
            .collect()
    });
    let mut unique = addrs.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(unique.len(), addrs.len());
}

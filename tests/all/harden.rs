//! Hardened regions: for each builder option, the `VmFlags` letter the
//! kernel shows for the mapping (and its absence without the option), what
//! a forked child sees, and the error when the option is refused; and what
//! `secret()` leaves behind after `reset` and `release`, read through
//! `/proc/self/mem`. (The zeroing before an unmap is checked by the unit
//! tests, through a hook that runs while the mapping is still there.)
//!
//! Each test prints the `VmFlags` line it read (`--nocapture` shows them).

use std::os::unix::fs::FileExt;

use anon_arena::{Arena, Backing, Error, Pool, Region, SharedArena, StackArena, SyncArena};

use crate::common::{has_flag, in_child, resident_in, vm_flags, ChildEnd};

/// A 64 KiB arena with the given options, never recycled (so the plain one
/// is fresh too), and the address of a `u64` in it holding `0xA5A5…`.
fn arena_with(
    options: impl FnOnce(anon_arena::Builder<Arena>) -> anon_arena::Builder<Arena>,
) -> (Arena, usize) {
    let arena = options(Arena::builder().capacity(64 << 10).recycle(false))
        .build()
        .unwrap();
    let addr = arena.alloc(0xA5A5_A5A5_A5A5_A5A5u64) as *mut u64 as usize;
    (arena, addr)
}

/// What a forked child reads at `addr`: exits 0 if the pattern is there, 2
/// if zeros are (and dies of `SIGSEGV` if nothing is mapped).
fn child_reads(addr: usize) -> ChildEnd {
    in_child(|| {
        // SAFETY: `addr` is a `u64` the parent allocated; in the child it
        // is mapped (copied or wiped) or not at all, which is what the test
        // finds out.
        match unsafe { (addr as *const u64).read_volatile() } {
            0xA5A5_A5A5_A5A5_A5A5 => 0,
            0 => 2,
            _ => 3,
        }
    })
}

#[test]
#[cfg_attr(miri, ignore = "Miri cannot fork nor read /proc/self/smaps")]
fn dont_dump_shows_dd_and_leaves_a_child_its_copy() {
    let (_arena, addr) = arena_with(|b| b.dont_dump(true));
    let line = vm_flags("dont_dump", addr);
    assert!(has_flag(&line, "dd"), "{line}");
    let (_plain, plain) = arena_with(|b| b);
    assert!(!has_flag(&vm_flags("plain", plain), "dd"));
    assert_eq!(
        child_reads(addr),
        ChildEnd::Exited(0),
        "intact in the child"
    );
}

#[test]
#[cfg_attr(miri, ignore = "Miri cannot fork nor read /proc/self/smaps")]
fn wipe_on_fork_shows_wf_and_a_child_sees_zeros() {
    let (_arena, addr) = arena_with(|b| b.wipe_on_fork(true));
    let line = vm_flags("wipe_on_fork", addr);
    assert!(has_flag(&line, "wf"), "{line}");
    let (_plain, plain) = arena_with(|b| b);
    assert!(!has_flag(&vm_flags("plain", plain), "wf"));
    assert_eq!(
        child_reads(addr),
        ChildEnd::Exited(2),
        "zeroed in the child"
    );
    assert_eq!(child_reads(plain), ChildEnd::Exited(0), "copied without it");
    // SAFETY: the parent's own live `u64`.
    let kept = unsafe { (addr as *const u64).read() };
    assert_eq!(kept, 0xA5A5_A5A5_A5A5_A5A5, "the parent keeps its bytes");
}

#[test]
#[cfg_attr(miri, ignore = "Miri cannot fork nor read /proc/self/smaps")]
fn dont_fork_shows_dc_and_a_child_has_no_mapping() {
    let (_arena, addr) = arena_with(|b| b.dont_fork(true));
    let line = vm_flags("dont_fork", addr);
    assert!(has_flag(&line, "dc"), "{line}");
    let (_plain, plain) = arena_with(|b| b);
    assert!(!has_flag(&vm_flags("plain", plain), "dc"));
    assert_eq!(child_reads(addr), ChildEnd::Signaled(libc::SIGSEGV));
    assert_eq!(child_reads(plain), ChildEnd::Exited(0));
}

/// A forked child has no mapping where a `secret()` (so `dont_fork`)
/// arena lives and may map something else there: dropping its copy of the
/// arena must neither wipe nor unmap those addresses.
#[test]
#[cfg_attr(miri, ignore = "Miri cannot fork")]
fn secret_arena_dropped_in_a_child_leaves_the_childs_own_mapping_alone() {
    let (arena, addr) = arena_with(|b| b.secret());
    let page = addr & !(rustix::param::page_size() - 1);
    let end = in_child(move || {
        // SAFETY: a fresh private mapping at an address this process has
        // nothing at (MAP_FIXED_NOREPLACE refuses otherwise).
        let mapped = unsafe {
            libc::mmap(
                page as *mut libc::c_void,
                rustix::param::page_size(),
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_FIXED_NOREPLACE,
                -1,
                0,
            )
        };
        if mapped as usize != page {
            return 3;
        }
        // SAFETY: `addr` lies in the page just mapped.
        unsafe { (addr as *mut u64).write(0x5A5A) };
        drop(arena);
        // SAFETY: as above; the page is still ours unless the drop unmapped
        // it (then this faults).
        i32::from(unsafe { (addr as *const u64).read() } != 0x5A5A)
    });
    assert_eq!(end, ChildEnd::Exited(0), "the child's page kept its bytes");
}

#[test]
#[cfg_attr(miri, ignore = "Miri cannot fork nor read /proc/self/smaps")]
fn lock_shows_lo_and_is_not_inherited() {
    let (_arena, addr) = arena_with(|b| b.lock(true));
    let line = vm_flags("lock", addr);
    assert!(has_flag(&line, "lo"), "{line}");
    assert!(has_flag(&line, "lf"), "locked on fault: {line}");
    let (_plain, plain) = arena_with(|b| b);
    assert!(!has_flag(&vm_flags("plain", plain), "lo"));
    let end = in_child(|| {
        // SAFETY: the parent's `u64`, copied into the child.
        let intact = unsafe { (addr as *const u64).read() } == 0xA5A5_A5A5_A5A5_A5A5;
        let locked = has_flag(&vm_flags("lock, in the child", addr), "lo");
        i32::from(!intact) + 2 * i32::from(locked)
    });
    assert_eq!(
        end,
        ChildEnd::Exited(0),
        "intact, and not locked, in the child"
    );
}

/// The lock is refused over `RLIMIT_MEMLOCK` (lowered in a child, which
/// gives up root first: `CAP_IPC_LOCK` ignores the limit), and the error
/// says what was asked and what the limit is.
#[test]
#[cfg_attr(miri, ignore = "Miri cannot fork")]
fn lock_over_the_memlock_limit_says_asked_and_limit() {
    const LIMIT: u64 = 64 << 10;
    let end = in_child(|| {
        let rlimit = libc::rlimit {
            rlim_cur: LIMIT as libc::rlim_t,
            rlim_max: LIMIT as libc::rlim_t,
        };
        // SAFETY: `setrlimit` reads the struct it is given; `setuid` takes
        // a plain id (nobody), and this child has one thread.
        unsafe {
            assert_eq!(libc::setrlimit(libc::RLIMIT_MEMLOCK, &rlimit), 0);
            if libc::geteuid() == 0 {
                assert_eq!(libc::setuid(65534), 0, "cannot leave root");
            }
        }
        let refused = Arena::builder().capacity(1 << 20).lock(true).build();
        let Err(error) = refused else {
            eprintln!("a 1 MiB lock passed a 64 KiB limit");
            return 1;
        };
        eprintln!("refused: {error}");
        let Error::LockFailed {
            requested,
            limit,
            errno,
        } = error
        else {
            return 2;
        };
        let text = error.to_string();
        let says_both = text.contains("1048576 bytes") && text.contains("allows 65536 bytes");
        let fits = Arena::builder()
            .capacity(32 << 10)
            .lock(true)
            .build()
            .is_ok();
        let expected =
            (requested, limit, errno) == (1 << 20, Some(LIMIT), rustix::io::Errno::NOMEM);
        i32::from(!expected) * 3 + i32::from(!says_both) * 4 + i32::from(!fits) * 8
    });
    assert_eq!(end, ChildEnd::Exited(0));
}

/// `MADV_WIPEONFORK` exists for private anonymous memory only: a shared
/// mapping or a `/dev/zero` one is refused before anything is mapped.
#[test]
fn wipe_on_fork_is_refused_on_shared_and_dev_zero_memory() {
    let shared = SharedArena::builder()
        .capacity(4096)
        .wipe_on_fork(true)
        .build();
    let Err(error) = shared else {
        panic!("a shared arena took wipe_on_fork");
    };
    assert!(matches!(
        error,
        Error::Unsupported {
            option: "wipe_on_fork",
            ..
        }
    ));
    assert!(error.to_string().contains("shared mapping"), "{error}");
    let region = Region::builder()
        .len(4096)
        .shared(true)
        .wipe_on_fork(true)
        .build();
    assert!(matches!(region, Err(Error::Unsupported { .. })));
    let dev_zero = Arena::builder()
        .capacity(4096)
        .backing(Backing::DevZero)
        .wipe_on_fork(true)
        .build();
    let error = dev_zero.expect_err("a /dev/zero arena took wipe_on_fork");
    assert!(error.to_string().contains("/dev/zero"), "{error}");
    // The other options are fine on a shared mapping.
    assert!(SharedArena::builder()
        .capacity(4096)
        .dont_dump(true)
        .build()
        .is_ok());
}

/// Every type's builder takes the options: a `Region`, a `Pool`, a
/// `SharedArena`, a `StackArena`, a `SyncArena`.
#[test]
#[cfg_attr(miri, ignore = "Miri cannot read /proc/self/smaps")]
fn every_builder_hardens_its_mapping() {
    let assert_flag = |label, addr, flag| {
        let line = vm_flags(label, addr);
        assert!(has_flag(&line, flag), "{label}: no {flag} in {line}");
    };
    let region = Region::builder().len(4096).dont_dump(true).build().unwrap();
    assert_flag("Region", region.as_ptr() as usize, "dd");
    let pool = Pool::<u64>::builder().slots(64).lock(true).build().unwrap();
    assert_flag("Pool", &*pool.alloc(1) as *const u64 as usize, "lo");
    let shared = SharedArena::builder().capacity(4096).dont_fork(true);
    let shared = shared.build().unwrap();
    assert_flag(
        "SharedArena",
        shared.alloc(1u64) as *const u64 as usize,
        "dc",
    );
    let stack = StackArena::builder().capacity(4096).wipe_on_fork(true);
    let stack = stack.build().unwrap();
    assert_flag("StackArena", stack.alloc(1u64) as *mut u64 as usize, "wf");
    let sync = SyncArena::builder().capacity(4096).dont_dump(true);
    let sync = sync.build().unwrap();
    assert_flag("SyncArena", sync.alloc(1u64) as *mut u64 as usize, "dd");
}

/// Whether the running kernel is at least `major.minor`.
fn kernel_at_least(major: u32, minor: u32) -> bool {
    let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    let mut parts = release
        .split(['.', '-'])
        .map(|p| p.trim().parse::<u32>().unwrap_or(0));
    (parts.next().unwrap_or(0), parts.next().unwrap_or(0)) >= (major, minor)
}

/// `release` hands a locked arena's pages back too, with
/// `MADV_DONTNEED_LOCKED`: plain `MADV_DONTNEED` refuses locked pages.
#[test]
#[cfg_attr(miri, ignore = "Miri has no resident-memory accounting")]
fn a_locked_arena_releases_its_pages() {
    if !kernel_at_least(5, 18) {
        eprintln!("skipped: MADV_DONTNEED_LOCKED needs Linux 5.18");
        return;
    }
    let mut arena = Arena::builder()
        .capacity(4 << 20)
        .lock(true)
        .huge_pages(false)
        .build()
        .unwrap();
    let start = arena.alloc_slice_fill_copy(2 << 20, 1u8).as_ptr() as usize;
    assert!(resident_in(start, 4 << 20) >= 2 << 20, "filled and locked");
    arena.release();
    let left = resident_in(start, 4 << 20);
    assert!(left < 64 << 10, "{left} bytes still resident after release");
}

const SECRET: &[u8; 16] = b"0123456789abcdef";

/// What the process's memory holds at `addr`, read by the kernel through
/// `/proc/self/mem`: no reference into the arena is made.
fn memory_at(addr: usize) -> [u8; 16] {
    let mem = std::fs::File::open("/proc/self/mem").expect("open /proc/self/mem");
    let mut bytes = [0; 16];
    mem.read_exact_at(&mut bytes, addr as u64)
        .expect("read /proc/self/mem");
    bytes
}

#[test]
#[cfg_attr(miri, ignore = "Miri cannot fork nor read /proc")]
fn secret_sets_every_flag_and_a_child_has_nothing() {
    let arena = Arena::builder()
        .capacity(64 << 10)
        .secret()
        .build()
        .unwrap();
    let addr = arena.alloc_slice_copy(SECRET).as_ptr() as usize;
    let line = vm_flags("secret", addr);
    for flag in ["dd", "wf", "dc", "lo"] {
        assert!(has_flag(&line, flag), "{flag} missing: {line}");
    }
    // `MADV_DONTFORK` wins over `MADV_WIPEONFORK`: nothing to wipe.
    let end = in_child(|| {
        // SAFETY: deliberately none: the child has no such mapping.
        i32::from(unsafe { (addr as *const u8).read_volatile() })
    });
    assert_eq!(end, ChildEnd::Signaled(libc::SIGSEGV));
}

#[test]
#[cfg_attr(miri, ignore = "Miri cannot read /proc/self/mem")]
fn secret_bytes_are_gone_after_reset_and_release() {
    let mut arena = Arena::builder()
        .capacity(64 << 10)
        .secret()
        .build()
        .unwrap();
    let addr = arena.alloc_slice_copy(SECRET).as_ptr() as usize;
    assert_eq!(&memory_at(addr), SECRET, "the probe sees the bytes");
    arena.reset();
    assert_eq!(memory_at(addr), [0; 16], "after reset");
    let again = arena.alloc_slice_copy(SECRET).as_ptr() as usize;
    assert_eq!(again, addr);
    arena.release();
    assert_eq!(memory_at(addr), [0; 16], "after release");

    // Without `secret()` a reset leaves them, which is what the probe
    // would have shown above.
    let mut plain = Arena::builder()
        .capacity(64 << 10)
        .recycle(false)
        .build()
        .unwrap();
    let addr = plain.alloc_slice_copy(SECRET).as_ptr() as usize;
    plain.reset();
    assert_eq!(&memory_at(addr), SECRET);
}

#[test]
#[cfg_attr(miri, ignore = "Miri cannot read /proc/self/mem")]
fn secret_stack_and_sync_arenas_zero_on_reset() {
    let mut stack = StackArena::builder()
        .capacity(64 << 10)
        .secret()
        .build()
        .unwrap();
    let addr = stack.alloc_slice_copy(SECRET).as_ptr() as usize;
    stack.reset();
    assert_eq!(memory_at(addr), [0; 16], "StackArena");
    let mut sync = SyncArena::builder()
        .capacity(64 << 10)
        .secret()
        .build()
        .unwrap();
    let addr = sync.local().alloc_slice_copy(SECRET).as_ptr() as usize;
    sync.reset();
    assert_eq!(
        memory_at(addr),
        [0; 16],
        "SyncArena, through a LocalArena lease"
    );
}

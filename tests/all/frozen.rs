//! Frozen arenas: the mapping loses `wr` in `VmFlags` while frozen and gets
//! it back on thaw, a write through a raw pointer kills a forked child
//! with `SIGSEGV`, a thawed arena is written again, and a dropped frozen
//! arena's mapping reaches the next arena writable. The reading and
//! thawing logic runs under Miri too (where nothing is protected).

use anon_arena::{Arena, FrozenArena, FrozenRoot, RegionCache, StackArena};

use crate::common::{has_flag, in_child, vm_flags, ChildEnd};

/// A configuration as a parser would build it, borrowing from its arena.
struct Config<'a> {
    name: &'a str,
    rules: &'a [Rule<'a>],
}

struct Rule<'a> {
    path: &'a str,
    allow: bool,
}

/// `Config` with the frozen arena's lifetime.
struct ConfigRoot;

impl FrozenRoot for ConfigRoot {
    type Of<'a> = Config<'a>;
    fn shorten<'long: 'short, 'short>(root: &'short Config<'long>) -> &'short Config<'short> {
        root
    }
}

/// Parses `name: path=allow, path=deny` into `arena`.
fn parse<'a>(arena: &'a Arena, text: &str) -> &'a Config<'a> {
    let (name, rules) = text.split_once(':').unwrap();
    let rules: Vec<&str> = rules.split(',').map(str::trim).collect();
    let rules = arena.alloc_slice_fill_with(rules.len(), |i| {
        let (path, verdict) = rules[i].split_once('=').unwrap();
        Rule {
            path: arena.alloc_str(path),
            allow: verdict == "allow",
        }
    });
    arena.alloc(Config {
        name: arena.alloc_str(name),
        rules,
    })
}

fn allowed(config: &Config<'_>, path: &str) -> bool {
    config
        .rules
        .iter()
        .any(|rule| rule.allow && rule.path == path)
}

#[test]
fn a_frozen_config_is_read_from_threads_and_thaws_writable() {
    let frozen = Arena::with_capacity(1 << 16)
        .freeze_with::<ConfigRoot>(|arena| parse(arena, "web: /=allow, /admin=deny, /api=allow"));
    let verdicts: Vec<(bool, bool)> = std::thread::scope(|s| {
        let readers: Vec<_> = (0..4)
            .map(|_| {
                s.spawn(|| {
                    let config = frozen.get();
                    (allowed(config, "/api"), allowed(config, "/admin"))
                })
            })
            .collect();
        readers.into_iter().map(|r| r.join().unwrap()).collect()
    });
    assert_eq!(verdicts, [(true, false); 4]);
    assert_eq!(frozen.get().name, "web");
    let built = frozen.allocated_bytes();
    let mut arena = frozen.thaw();
    assert_eq!(arena.allocated_bytes(), built);
    let n = arena.alloc(41u64);
    *n += 1;
    assert_eq!(*n, 42);
    arena.reset();
}

#[test]
#[cfg_attr(miri, ignore = "Miri cannot read /proc/self/smaps and has no mprotect")]
fn freezing_takes_write_access_away_and_thawing_gives_it_back() {
    let arena = Arena::with_capacity(1 << 16);
    let addr = arena.alloc(1u64) as *mut u64 as usize;
    assert!(has_flag(&vm_flags("before freeze", addr), "wr"));
    let frozen = arena.freeze();
    let line = vm_flags("frozen", addr);
    assert!(has_flag(&line, "rd") && !has_flag(&line, "wr"), "{line}");
    let arena = frozen.thaw();
    assert!(has_flag(&vm_flags("thawed", addr), "wr"));
    drop(arena);
}

/// A stray write into a frozen arena, through a raw pointer kept from
/// before: the child dies of `SIGSEGV`; after a thaw the same write works.
#[test]
#[cfg_attr(miri, ignore = "Miri cannot fork and has no mprotect")]
fn a_write_into_a_frozen_arena_kills_the_child() {
    for stack in [false, true] {
        let (ptr, frozen_arena, frozen_stack) = if stack {
            let arena = StackArena::with_capacity(1 << 16);
            let ptr = arena.alloc(1u64) as *mut u64;
            (ptr, None, Some(arena.freeze()))
        } else {
            let arena = Arena::with_capacity(1 << 16);
            let ptr = arena.alloc(1u64) as *mut u64;
            (ptr, Some(arena.freeze()), None)
        };
        let end = in_child(|| {
            // SAFETY: deliberately none: the page is read-only.
            unsafe { ptr.write_volatile(2) };
            0
        });
        assert_eq!(end, ChildEnd::Signaled(libc::SIGSEGV), "stack: {stack}");
        // SAFETY: the block is live in the arena, which is frozen but
        // mapped: reading it is fine.
        assert_eq!(unsafe { ptr.read() }, 1);
        let _thawed = (
            frozen_arena.map(FrozenArena::thaw),
            frozen_stack.map(FrozenArena::thaw),
        );
        let end = in_child(|| {
            // SAFETY: the arena is thawed and the block still live.
            unsafe { ptr.write_volatile(2) };
            0
        });
        assert_eq!(end, ChildEnd::Exited(0), "thawed, stack: {stack}");
    }
}

/// A frozen arena dropped without a thaw parks its mapping writable: the
/// next arena of the same shape takes it and writes.
#[test]
#[cfg_attr(miri, ignore = "Miri cannot fork and has no mprotect")]
fn a_dropped_frozen_arena_parks_its_mapping_writable() {
    static CACHE: RegionCache = RegionCache::new();
    let end = in_child(|| {
        let builder = || Arena::builder().capacity(1 << 16).cache(&CACHE);
        let arena = builder().build().unwrap();
        let first = arena.alloc(1u64) as *mut u64 as usize;
        drop(arena.freeze());
        let next = builder().build().unwrap();
        let reused = next.alloc(2u64) as *mut u64 as usize == first;
        i32::from(!reused)
    });
    assert_eq!(end, ChildEnd::Exited(0));
}

/// A frozen arena is `Send` as well as `Sync`: it can move to the thread
/// that drops or thaws it.
#[test]
fn a_frozen_arena_moves_to_another_thread() {
    let frozen: FrozenArena<[u32]> =
        Arena::with_capacity(4096).freeze_with(|arena| arena.alloc_slice_copy(&[1, 2, 3]));
    let arena = std::thread::spawn(move || {
        assert_eq!(&*frozen, &[1, 2, 3]);
        frozen.thaw()
    })
    .join()
    .unwrap();
    assert_eq!(arena.allocated_bytes(), 16);
}

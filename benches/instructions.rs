//! The instruction-count harness `benches/callgrind.sh` runs under
//! valgrind: `instructions <workload> <n>` runs one workload `n` times.
//! Wall time is noisy on a shared machine; instruction counts are not.
//!
//! Workloads: `small/<peer>` (`alloc(u64)` into a pre-sized bump, as in
//! `benches/small.rs`; `small/sync` through `&SyncArena`, `small/local`
//! through a `LocalArena` handle) and `vec/<peer>` (push `u32`s onto a
//! vector living in the allocator; `vec/sync` and `vec/local` likewise).
//! Each runs in its own `#[inline(never)]` function so its loop can be
//! read in the disassembly (`callgrind.sh --asm`). Run by `cargo bench`
//! without arguments, it does nothing.

use std::alloc::Layout;
use std::hint::black_box;

#[allow(dead_code)] // each bench uses part of the floor
#[path = "common/floor.rs"]
mod floor;

/// Bytes every allocator is created with.
const CAPACITY: usize = 64 << 20;

type BumpScope8 =
    bump_scope::Bump<bump_scope::alloc::Global, bump_scope::settings::BumpSettings<8>>;

#[inline(never)]
fn small_floor(bump: &floor::FloorBump, n: u64) {
    for i in 0..n {
        black_box(bump.alloc(i));
    }
}

#[inline(never)]
fn small_arena(arena: &anon_arena::Arena, n: u64) {
    for i in 0..n {
        black_box(arena.alloc(i));
    }
}

#[inline(never)]
fn small_sync(arena: &anon_arena::SyncArena, n: u64) {
    for i in 0..n {
        black_box(arena.alloc(i));
    }
}

#[inline(never)]
fn small_local(local: &anon_arena::LocalArena<'_>, n: u64) {
    for i in 0..n {
        black_box(local.alloc(i));
    }
}

#[inline(never)]
fn small_bumpalo(bump: &bumpalo::Bump, n: u64) {
    for i in 0..n {
        black_box(bump.alloc(i));
    }
}

#[inline(never)]
fn small_bumpalo8(bump: &bumpalo::Bump<8>, n: u64) {
    for i in 0..n {
        black_box(bump.alloc(i));
    }
}

#[inline(never)]
fn small_bump_scope(bump: &bump_scope::Bump, n: u64) {
    for i in 0..n {
        black_box(bump.alloc(i).into_mut());
    }
}

#[inline(never)]
fn small_bump_scope8(bump: &BumpScope8, n: u64) {
    for i in 0..n {
        black_box(bump.alloc(i).into_mut());
    }
}

#[inline(never)]
fn vec_arena(arena: &anon_arena::Arena, n: u32) -> usize {
    let mut v = allocator_api2::vec::Vec::new_in(arena);
    for i in 0..n {
        v.push(black_box(i));
    }
    v.len()
}

#[inline(never)]
fn vec_sync(arena: &anon_arena::SyncArena, n: u32) -> usize {
    let mut v = allocator_api2::vec::Vec::new_in(arena);
    for i in 0..n {
        v.push(black_box(i));
    }
    v.len()
}

#[inline(never)]
fn vec_local(local: &anon_arena::LocalArena<'_>, n: u32) -> usize {
    let mut v = allocator_api2::vec::Vec::new_in(local);
    for i in 0..n {
        v.push(black_box(i));
    }
    v.len()
}

#[inline(never)]
fn vec_bumpalo(bump: &bumpalo::Bump, n: u32) -> usize {
    let mut v = bumpalo::collections::Vec::new_in(bump);
    for i in 0..n {
        v.push(black_box(i));
    }
    v.len()
}

#[inline(never)]
fn vec_bump_scope(bump: &bump_scope::Bump, n: u32) -> usize {
    let mut v = bump_scope::BumpVec::new_in(bump);
    for i in 0..n {
        v.push(black_box(i));
    }
    v.len()
}

#[inline(never)]
fn vec_std(n: u32) -> usize {
    let mut v = Vec::new();
    for i in 0..n {
        v.push(black_box(i));
    }
    v.len()
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (Some(workload), Some(n)) = (args.get(1), args.get(2).and_then(|n| n.parse::<u32>().ok()))
    else {
        eprintln!("usage: instructions <small|vec>/<peer> <n>  (see benches/callgrind.sh)");
        return;
    };
    // The same room whatever `n` (so setup costs cancel out between runs),
    // enough that no peer grows a chunk mid-loop.
    let capacity = CAPACITY;
    assert!(
        n as usize * 8 * 2 < CAPACITY,
        "n too large for the fixed capacity"
    );
    let bytes = Layout::array::<u8>(capacity).expect("capacity fits a layout");
    let n64 = u64::from(n);
    match workload.as_str() {
        "small/floor" => small_floor(&floor::FloorBump::with_capacity(capacity), n64),
        "small/arena" => small_arena(&anon_arena::Arena::with_capacity(capacity), n64),
        "small/sync" => small_sync(&anon_arena::SyncArena::with_capacity(capacity), n64),
        "small/local" => small_local(&anon_arena::SyncArena::with_capacity(capacity).local(), n64),
        "small/bumpalo" => small_bumpalo(&bumpalo::Bump::with_capacity(capacity), n64),
        "small/bumpalo8" => small_bumpalo8(
            &bumpalo::Bump::<8>::with_min_align_and_capacity(capacity),
            n64,
        ),
        "small/bump_scope" => small_bump_scope(&bump_scope::Bump::with_capacity(bytes), n64),
        "small/bump_scope8" => small_bump_scope8(&BumpScope8::with_capacity(bytes), n64),
        "vec/arena" => {
            black_box(vec_arena(&anon_arena::Arena::with_capacity(capacity), n));
        }
        "vec/sync" => {
            black_box(vec_sync(&anon_arena::SyncArena::with_capacity(capacity), n));
        }
        "vec/local" => {
            let sync = anon_arena::SyncArena::with_capacity(capacity);
            black_box(vec_local(&sync.local(), n));
        }
        "vec/bumpalo" => {
            black_box(vec_bumpalo(&bumpalo::Bump::with_capacity(capacity), n));
        }
        "vec/bump_scope" => {
            black_box(vec_bump_scope(&bump_scope::Bump::with_capacity(bytes), n));
        }
        "vec/std" => {
            black_box(vec_std(n));
        }
        other => {
            eprintln!("unknown workload {other}");
            std::process::exit(2);
        }
    }
}

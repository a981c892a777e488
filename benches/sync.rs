//! `SyncArena` shared by plain `&SyncArena` between threads (each thread
//! bumping in its own cached lease, issue 16) against `Arena`, against
//! explicit per-thread `LocalArena` handles, and against bumpalo-herd with
//! `herd.get()` per thread:
//!
//! * `sync_single_thread`: `alloc(u64)` on one thread (goal: `&SyncArena`
//!   within 2x `Arena`);
//! * `sync_threads`: the same on one spawned thread and on two (goals: two
//!   threads' total throughput at least 1.7x one thread's, and no slower
//!   than bumpalo-herd); the same word stores into plain per-thread buffers
//!   on one thread and on two are the machine's own scaling, the ceiling
//!   for every allocator's;
//! * `sync_vec`: two threads each pushing 1 M `u64` onto a `Vec` in the
//!   arena (goal: `&SyncArena` within 1.3x `&LocalArena`);
//! * before the groups, without criterion: the bytes lost in unused lease
//!   tails after two threads made 1 M `alloc(u64)` each, over the bytes
//!   allocated (goal: at most 1 %).
//!
//! Run with `cargo bench --bench sync -- --warm-up-time 1 --measurement-time 3`;
//! results in `benches/README.md`.

use std::hint::black_box;

use allocator_api2::vec::Vec as AVec;
use anon_arena::{Arena, SyncArena};
use criterion::{criterion_group, Criterion, Throughput};

/// Allocations (or pushes) per thread per iteration.
const N: usize = 1_000_000;
/// Room for the part of each thread's last lease it leaves unused (leases
/// are at most 64 KiB).
const LEASE_SLACK: usize = 64 << 10;
/// Room for two threads' vectors of `N` words and the copies their growth
/// leaves behind.
const VEC_CAPACITY: usize = 2 * 4 * N * 8;

fn single_thread(c: &mut Criterion) {
    let mut group = c.benchmark_group("sync_single_thread");
    group.throughput(Throughput::Elements(N as u64));
    let mut arena = Arena::with_capacity(N * 8);
    group.bench_function("Arena", |b| {
        b.iter(|| {
            for i in 0..N as u64 {
                black_box(arena.alloc(i));
            }
            arena.reset();
        })
    });
    let mut sync = SyncArena::with_capacity(N * 8 + LEASE_SLACK);
    group.bench_function("SyncArena", |b| {
        b.iter(|| {
            for i in 0..N as u64 {
                black_box(sync.alloc(i));
            }
            sync.reset();
        })
    });
    let mut sync = SyncArena::with_capacity(N * 8 + LEASE_SLACK);
    group.bench_function("SyncArena::local", |b| {
        b.iter(|| {
            let local = sync.local();
            for i in 0..N as u64 {
                black_box(local.alloc(i));
            }
            drop(local);
            sync.reset();
        })
    });
    group.finish();
}

/// `N` `alloc(u64)` through `&SyncArena` on each of `threads` spawned
/// threads.
fn shared_allocs(sync: &SyncArena, threads: usize) {
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(move || {
                for i in 0..N as u64 {
                    black_box(sync.alloc(i));
                }
            });
        }
    });
}

fn threads(c: &mut Criterion) {
    let mut group = c.benchmark_group("sync_threads");
    let mut sync = SyncArena::with_capacity(2 * (N * 8 + LEASE_SLACK));
    group.throughput(Throughput::Elements(N as u64));
    group.bench_function("SyncArena, 1 thread", |b| {
        b.iter(|| {
            shared_allocs(&sync, 1);
            sync.reset();
        })
    });
    group.throughput(Throughput::Elements(2 * N as u64));
    group.bench_function("SyncArena, 2 threads", |b| {
        b.iter(|| {
            shared_allocs(&sync, 2);
            sync.reset();
        })
    });
    group.bench_function("SyncArena::local, 2 threads", |b| {
        b.iter(|| {
            std::thread::scope(|s| {
                for _ in 0..2 {
                    let sync = &sync;
                    s.spawn(move || {
                        let local = sync.local();
                        for i in 0..N as u64 {
                            black_box(local.alloc(i));
                        }
                    });
                }
            });
            sync.reset();
        })
    });
    let mut herd = bumpalo_herd::Herd::new();
    group.bench_function("bumpalo-herd, 2 threads", |b| {
        b.iter(|| {
            std::thread::scope(|s| {
                for _ in 0..2 {
                    let herd = &herd;
                    s.spawn(move || {
                        let member = herd.get();
                        for i in 0..N as u64 {
                            black_box(member.alloc(i));
                        }
                    });
                }
            });
            herd.reset();
        })
    });
    let mut buffers = vec![vec![0u64; N]; 2];
    group.throughput(Throughput::Elements(N as u64));
    group.bench_function("plain stores, 1 thread", |b| {
        b.iter(|| plain_stores(&mut buffers[..1]))
    });
    group.throughput(Throughput::Elements(2 * N as u64));
    group.bench_function("plain stores, 2 threads", |b| {
        b.iter(|| plain_stores(&mut buffers))
    });
    group.finish();
}

/// Stores `N` words into each buffer, one spawned thread per buffer: the
/// memory traffic of `N` `alloc(u64)` with no allocator at all.
fn plain_stores(buffers: &mut [Vec<u64>]) {
    std::thread::scope(|s| {
        for buffer in buffers {
            s.spawn(move || {
                for (i, slot) in (0..N as u64).zip(buffer.iter_mut()) {
                    *slot = i;
                    black_box(slot);
                }
            });
        }
    });
}

/// Pushes `N` words onto a vector in `allocator`, element by element.
fn push_all<A: allocator_api2::alloc::Allocator>(allocator: A) {
    let mut v = AVec::new_in(allocator);
    for i in 0..N as u64 {
        v.push(i);
    }
    black_box(v.as_ptr());
}

fn vectors(c: &mut Criterion) {
    let mut group = c.benchmark_group("sync_vec");
    group.throughput(Throughput::Elements(2 * N as u64));
    let mut sync = SyncArena::with_capacity(VEC_CAPACITY);
    group.bench_function("Vec in &SyncArena, 2 threads", |b| {
        b.iter(|| {
            std::thread::scope(|s| {
                for _ in 0..2 {
                    let sync = &sync;
                    s.spawn(move || push_all(sync));
                }
            });
            sync.reset();
        })
    });
    group.bench_function("Vec in &LocalArena, 2 threads", |b| {
        b.iter(|| {
            std::thread::scope(|s| {
                for _ in 0..2 {
                    let local = sync.local();
                    s.spawn(move || push_all(&local));
                }
            });
            sync.reset();
        })
    });
    group.finish();
}

/// Prints, for a few rounds, the bytes the arena counts beyond the blocks
/// two threads allocated (1 M `alloc(u64)` each through `&SyncArena`):
/// the unused tails of their leases, over the bytes allocated.
fn lease_waste() {
    let blocks = 2 * N * 8;
    let mut sync = SyncArena::with_capacity(2 * (N * 8 + LEASE_SLACK));
    let ratios: Vec<String> = (0..5)
        .map(|_| {
            shared_allocs(&sync, 2);
            let waste = sync.allocated_bytes() - blocks;
            sync.reset();
            format!("{waste} B ({:.3} %)", 100.0 * waste as f64 / blocks as f64)
        })
        .collect();
    println!(
        "lease tails after 2 threads x {N} alloc(u64), {blocks} B of blocks: {}",
        ratios.join(", ")
    );
}

criterion_group!(benches, single_thread, threads, vectors);

fn main() {
    lease_waste();
    benches();
    Criterion::default().configure_from_args().final_summary();
}

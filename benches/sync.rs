//! Is one atomic bump cursor cheap enough? Single-threaded `SyncArena` vs
//! `Arena` (goal: within 1.5x), and two threads allocating at once from one
//! `SyncArena` vs one `Mutex<bumpalo::Bump>` vs `bumpalo-herd` (goal:
//! faster than both). `SyncArena::local` rows: the same through per-thread
//! `LocalArena` handles (one CAS per lease instead of per block).
//!
//! Run with `cargo bench --bench sync -- --warm-up-time 1 --measurement-time 3`.

use std::hint::black_box;
use std::sync::Mutex;

use anon_arena::{Arena, SyncArena};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};

/// Allocations per thread per iteration.
const N: usize = 100_000;
/// Room for the part of a thread's last lease it leaves unused (leases
/// are at most 64 KiB).
const LEASE_SLACK: usize = 64 << 10;

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
    let mut sync = SyncArena::with_capacity(N * 8);
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

fn two_threads(c: &mut Criterion) {
    let mut group = c.benchmark_group("sync_two_threads");
    group.throughput(Throughput::Elements(2 * N as u64));
    let mut sync = SyncArena::with_capacity(2 * N * 8);
    group.bench_function("SyncArena", |b| {
        b.iter(|| {
            std::thread::scope(|s| {
                for _ in 0..2 {
                    let sync = &sync;
                    s.spawn(move || {
                        for i in 0..N as u64 {
                            black_box(sync.alloc(i));
                        }
                    });
                }
            });
            sync.reset();
        })
    });
    let mut sync = SyncArena::with_capacity(2 * N * 8 + 2 * LEASE_SLACK);
    group.bench_function("SyncArena::local", |b| {
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
    let mut bump = Mutex::new(bumpalo::Bump::with_capacity(2 * N * 8));
    group.bench_function("Mutex<Bump>", |b| {
        b.iter(|| {
            std::thread::scope(|s| {
                for _ in 0..2 {
                    let bump = &bump;
                    s.spawn(move || {
                        for i in 0..N as u64 {
                            let guard = bump.lock().unwrap();
                            black_box(guard.alloc(i) as *mut u64);
                        }
                    });
                }
            });
            bump.get_mut().unwrap().reset();
        })
    });
    let mut herd = bumpalo_herd::Herd::new();
    group.bench_function("bumpalo-herd", |b| {
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
    group.finish();
}

criterion_group!(benches, single_thread, two_threads);
criterion_main!(benches);

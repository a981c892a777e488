//! Is one atomic bump cursor cheap enough? Single-threaded `SyncArena` vs
//! `Arena` (goal: within 1.5x), and two threads allocating at once from one
//! `SyncArena` vs one `Mutex<bumpalo::Bump>` vs `bumpalo-herd` (goal:
//! faster than both). `SyncArena::local` rows: the same through per-thread
//! `LocalArena` handles (one CAS per lease instead of per block).
//!
//! Run with `cargo bench --bench sync -- --warm-up-time 1 --measurement-time 3`.
//!
//! Results (2026-11-30, three runs on the 2-core VM while it was quiet,
//! load 1.3; medians):
//!
//! | row | run 1 | run 2 | run 3 | vs the goal's peer |
//! |---|---:|---:|---:|---|
//! | 1 thread: `Arena` | 47.7 µs | 47.2 µs | 48.1 µs | – |
//! | 1 thread: `SyncArena::local` | 47.8 µs | 48.0 µs | 48.0 µs | 1.00–1.02× Arena: met |
//! | 1 thread: `SyncArena` | 493 µs | 492 µs | 502 µs | 10.3–10.4× Arena: one locked CAS per block |
//! | 2 threads: `SyncArena::local` | 88.1 µs | 91.7 µs | 104.7 µs | 0.74–0.80× bumpalo-herd: met |
//! | 2 threads: bumpalo-herd | 115.0 µs | 115.0 µs | 141.2 µs | – |
//! | 2 threads: `Mutex<Bump>` | 6.14 ms | 10.2 ms | 9.23 ms | `local` 70–110× faster |
//! | 2 threads: `SyncArena` | 6.07 ms | 6.32 ms | 6.31 ms | as fast as the mutex: the CAS line bounces |

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

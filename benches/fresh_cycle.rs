//! `fresh_cycle`: a new allocator per request. One iteration is 100 cycles
//! of (make an allocator, 10 000 `alloc(u64)`, drop it): what a fuzzer or a
//! server that builds a fresh arena per input pays, creation and teardown
//! included. `reset_cycle` is the same work with one allocator reset
//! between requests.
//!
//! The arena rows differ only in recycling: by default a dropped arena's
//! mapping is parked and the next arena takes it, pages resident;
//! `recycle(false)` maps, faults and unmaps anew every cycle. The bumpalo
//! and bump-scope chunks come from glibc, which recycles them.
//!
//! Run: `cargo bench --bench fresh_cycle`.
//!
//! Results (2026-11-30, 2-core VM, load 1.3; µs per 100 requests, one run):
//!
//! | allocator                  | time  | vs `Arena::new()` |
//! |----------------------------|------:|------------------:|
//! | `Arena::new()` (recycled)  |   396 | 1.00×             |
//! | `bump_scope::Bump::new()`  |   765 | 1.93×             |
//! | `bumpalo::Bump::new()`     |   783 | 1.98×             |
//! | `Arena`, `recycle(false)`  |  5521 | 13.9×             |
//!
//! Without recycling, each request pays `mmap` of the 4 GiB reservation,
//! about 20 page faults and `munmap`: 55 µs, fourteen times its 4 µs of
//! allocation.

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, SamplingMode, Throughput};

/// Requests per iteration.
const CYCLES: usize = 100;
/// Allocations per request.
const PER_CYCLE: usize = 10_000;

/// Runs the cycles: `$make` a new allocator, then `$alloc` each value `$i`
/// with it, then drop it.
macro_rules! cycles {
    (|$bump:ident| $make:expr, |$i:ident| $alloc:expr) => {
        for _ in 0..CYCLES {
            let $bump = $make;
            for $i in 0..PER_CYCLE as u64 {
                black_box($alloc);
            }
            drop($bump);
        }
    };
}

fn fresh_cycle(c: &mut Criterion) {
    let mut g = c.benchmark_group("fresh_cycle");
    g.throughput(Throughput::Elements((CYCLES * PER_CYCLE) as u64));
    g.sample_size(10);
    g.sampling_mode(SamplingMode::Flat);
    g.warm_up_time(Duration::from_secs(1));
    g.measurement_time(Duration::from_secs(3));

    g.bench_function("anon_arena::Arena::new()", |b| {
        b.iter(|| cycles!(|arena| anon_arena::Arena::new(), |i| arena.alloc(i)))
    });
    g.bench_function("anon_arena::Arena recycle(false)", |b| {
        b.iter(|| {
            cycles!(
                |arena| anon_arena::Arena::builder()
                    .recycle(false)
                    .build()
                    .expect("reserve the default capacity"),
                |i| arena.alloc(i)
            )
        })
    });
    g.bench_function("bumpalo::Bump::new()", |b| {
        b.iter(|| cycles!(|bump| bumpalo::Bump::new(), |i| bump.alloc(i)))
    });
    g.bench_function("bump_scope::Bump::new()", |b| {
        b.iter(|| {
            cycles!(
                |bump| bump_scope::Bump::<bump_scope::alloc::Global>::new(),
                |i| bump.alloc(i).into_mut()
            )
        })
    });
    g.finish();
}

criterion_group!(benches, fresh_cycle);
criterion_main!(benches);

//! `small`: 10 million `alloc(u64)` into a pre-sized arena whose pages are
//! resident (criterion's warm-up touches them; the heap peers keep theirs
//! via `keep_heap_resident`). One iteration = reset + 10 million allocations.

use std::alloc::Layout;
use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, SamplingMode, Throughput};

#[allow(dead_code)] // each bench uses part of the floor
#[path = "common/floor.rs"]
mod floor;
#[path = "common/heap.rs"]
mod heap;

/// Allocations per iteration.
const N: usize = 10_000_000;
/// Room for them, with slack for the peers' chunk headers.
const CAPACITY: usize = N * 8 + (1 << 20);

type BumpScope8 =
    bump_scope::Bump<bump_scope::alloc::Global, bump_scope::settings::BumpSettings<8>>;

fn small(c: &mut Criterion) {
    heap::keep_heap_resident();
    let mut g = c.benchmark_group("small");
    g.throughput(Throughput::Elements(N as u64));
    g.sample_size(10);
    // Flat: iterations are milliseconds long; linear sampling would need
    // 55 of them per row.
    g.sampling_mode(SamplingMode::Flat);
    g.warm_up_time(Duration::from_secs(1));
    g.measurement_time(Duration::from_secs(3));

    let mut floor = floor::FloorBump::with_capacity(CAPACITY);
    g.bench_function("floor (hand-written bump)", |b| {
        b.iter(|| {
            floor.reset();
            for i in 0..N {
                black_box(floor.alloc(i as u64));
            }
        })
    });
    drop(floor);

    let mut arena = anon_arena::Arena::with_capacity(CAPACITY);
    g.bench_function("anon_arena::Arena", |b| {
        b.iter(|| {
            arena.reset();
            for i in 0..N {
                black_box(arena.alloc(i as u64));
            }
        })
    });
    drop(arena);

    let mut bump = bumpalo::Bump::with_capacity(CAPACITY);
    g.bench_function("bumpalo::Bump", |b| {
        b.iter(|| {
            bump.reset();
            for i in 0..N {
                black_box(bump.alloc(i as u64));
            }
        })
    });
    drop(bump);

    let mut bump = bumpalo::Bump::<8>::with_min_align_and_capacity(CAPACITY);
    g.bench_function("bumpalo::Bump MIN_ALIGN=8", |b| {
        b.iter(|| {
            bump.reset();
            for i in 0..N {
                black_box(bump.alloc(i as u64));
            }
        })
    });
    drop(bump);

    let bytes = Layout::array::<u8>(CAPACITY).unwrap();
    let mut bump = bump_scope::Bump::<bump_scope::alloc::Global>::with_capacity(bytes);
    g.bench_function("bump_scope::Bump", |b| {
        b.iter(|| {
            bump.reset();
            for i in 0..N {
                black_box(bump.alloc(i as u64).into_mut());
            }
        })
    });
    drop(bump);

    let mut bump = BumpScope8::with_capacity(bytes);
    g.bench_function("bump_scope::Bump MIN_ALIGN=8", |b| {
        b.iter(|| {
            bump.reset();
            for i in 0..N {
                black_box(bump.alloc(i as u64).into_mut());
            }
        })
    });
    drop(bump);

    // The slow rows (about 0.5 s per iteration with setup and teardown)
    // get less time: their ratios are large, and a full `cargo bench`
    // should take minutes.
    g.warm_up_time(Duration::from_millis(500));
    g.measurement_time(Duration::from_secs(2));

    // typed_arena cannot be reset: each iteration gets a new one of the
    // same capacity, whose heap pages the previous one left resident.
    g.bench_function("typed_arena::Arena", |b| {
        b.iter_batched(
            || typed_arena::Arena::with_capacity(N),
            |arena| {
                for i in 0..N {
                    black_box(arena.alloc(i as u64));
                }
                arena
            },
            BatchSize::PerIteration,
        )
    });

    // Boxes are kept alive, as the arenas keep their values; freeing them
    // happens outside the timed routine.
    g.bench_function("Box::new (glibc malloc)", |b| {
        b.iter_batched(
            || Vec::with_capacity(N),
            |mut boxes| {
                for i in 0..N {
                    boxes.push(Box::new(i as u64));
                }
                boxes
            },
            BatchSize::PerIteration,
        )
    });
    g.finish();
}

criterion_group!(benches, small);
criterion_main!(benches);

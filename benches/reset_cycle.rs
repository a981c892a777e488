//! `reset_cycle`: the steady state of a per-request arena. One iteration is
//! 1000 cycles of (10 000 `alloc(u64)`, reset); the same 80 KB are reused
//! every cycle, so everything stays in cache and no page is ever new.
//! `Box` frees its 10 000 boxes where the arenas reset. `typed_arena` is
//! absent: it cannot be reset.

use std::alloc::Layout;
use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, SamplingMode, Throughput};

#[allow(dead_code)] // each bench uses part of the floor
#[path = "common/floor.rs"]
mod floor;

/// Cycles per iteration.
const CYCLES: usize = 1000;
/// Allocations per cycle.
const PER_CYCLE: usize = 10_000;
/// Room for one cycle, with slack for the peers' chunk headers.
const CAPACITY: usize = PER_CYCLE * 8 + 4096;

type BumpScope8 =
    bump_scope::Bump<bump_scope::alloc::Global, bump_scope::settings::BumpSettings<8>>;

/// Runs the cycles against any bump type: `$reset`, then `$alloc` for
/// each value `$i` of the cycle.
macro_rules! cycles {
    ($reset:expr, |$i:ident| $alloc:expr) => {
        for _ in 0..CYCLES {
            $reset;
            for $i in 0..PER_CYCLE as u64 {
                black_box($alloc);
            }
        }
    };
}

fn reset_cycle(c: &mut Criterion) {
    let mut g = c.benchmark_group("reset_cycle");
    g.throughput(Throughput::Elements((CYCLES * PER_CYCLE) as u64));
    g.sample_size(10);
    // Flat: iterations are milliseconds long; linear sampling would need
    // 55 of them per row.
    g.sampling_mode(SamplingMode::Flat);
    g.warm_up_time(Duration::from_secs(1));
    g.measurement_time(Duration::from_secs(3));

    let mut floor = floor::FloorBump::with_capacity(CAPACITY);
    g.bench_function("floor (hand-written bump)", |b| {
        b.iter(|| cycles!(floor.reset(), |i| floor.alloc(i)))
    });

    let mut arena = anon_arena::Arena::with_capacity(CAPACITY);
    g.bench_function("anon_arena::Arena", |b| {
        b.iter(|| cycles!(arena.reset(), |i| arena.alloc(i)))
    });

    let mut bump = bumpalo::Bump::with_capacity(CAPACITY);
    g.bench_function("bumpalo::Bump", |b| {
        b.iter(|| cycles!(bump.reset(), |i| bump.alloc(i)))
    });

    let mut bump = bumpalo::Bump::<8>::with_min_align_and_capacity(CAPACITY);
    g.bench_function("bumpalo::Bump MIN_ALIGN=8", |b| {
        b.iter(|| cycles!(bump.reset(), |i| bump.alloc(i)))
    });

    let bytes = Layout::array::<u8>(CAPACITY).unwrap();
    let mut bump = bump_scope::Bump::<bump_scope::alloc::Global>::with_capacity(bytes);
    g.bench_function("bump_scope::Bump", |b| {
        b.iter(|| cycles!(bump.reset(), |i| bump.alloc(i).into_mut()))
    });

    let mut bump = BumpScope8::with_capacity(bytes);
    g.bench_function("bump_scope::Bump MIN_ALIGN=8", |b| {
        b.iter(|| cycles!(bump.reset(), |i| bump.alloc(i).into_mut()))
    });

    // The slow row gets less time; its ratio is large.
    g.warm_up_time(Duration::from_millis(500));
    g.measurement_time(Duration::from_secs(2));
    let mut boxes: Vec<Box<u64>> = Vec::with_capacity(PER_CYCLE);
    g.bench_function("Box::new (glibc malloc)", |b| {
        b.iter(|| {
            for _ in 0..CYCLES {
                boxes.clear();
                for i in 0..PER_CYCLE {
                    boxes.push(Box::new(i as u64));
                }
            }
        })
    });
    g.finish();
}

criterion_group!(benches, reset_cycle);
criterion_main!(benches);

//! `json`: the demo's parser (`examples/json/`, included here, not copied)
//! on a fixed, generated 10 MB document, per allocator. Only the parse is
//! timed; freeing the tree happens outside the timing (the demo prints the
//! time to free). "reused" rows reset one allocator between parses, so
//! their pages are resident; "fresh" rows create the allocator inside the
//! timing and pay its page faults.

use std::hint::black_box;
use std::time::{Duration, Instant};

use allocator_api2::alloc::Global;
use criterion::{criterion_group, criterion_main, Criterion, SamplingMode, Throughput};

#[allow(dead_code, unused_imports)] // the demo's module; the bench needs part of it
#[path = "../examples/json/mod.rs"]
mod json;

use json::{generate, parse, DEFAULT_SEED};

/// Size of the document.
const SIZE: usize = 10 << 20;

fn json(c: &mut Criterion) {
    let input = generate(SIZE, DEFAULT_SEED);
    let mut g = c.benchmark_group("json");
    g.throughput(Throughput::Bytes(input.len() as u64));
    g.sample_size(20);
    g.sampling_mode(SamplingMode::Flat);
    g.warm_up_time(Duration::from_secs(1));
    g.measurement_time(Duration::from_secs(3));

    g.bench_function("global allocator", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let start = Instant::now();
                let tree = black_box(parse(&input, Global));
                total += start.elapsed();
                drop(tree);
            }
            total
        })
    });

    let mut arena = anon_arena::Arena::new();
    g.bench_function("anon_arena::Arena (reused)", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                arena.reset();
                let start = Instant::now();
                // An arena tree has nothing to drop.
                black_box(parse(&input, &arena)).ok();
                total += start.elapsed();
            }
            total
        })
    });
    drop(arena);

    let mut bump = bumpalo::Bump::new();
    g.bench_function("bumpalo::Bump (reused)", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                bump.reset();
                let start = Instant::now();
                // An arena tree has nothing to drop.
                black_box(parse(&input, &bump)).ok();
                total += start.elapsed();
            }
            total
        })
    });
    drop(bump);

    g.bench_function("anon_arena::Arena (fresh)", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let start = Instant::now();
                let arena = anon_arena::Arena::new();
                // An arena tree has nothing to drop.
                black_box(parse(&input, &arena)).ok();
                total += start.elapsed();
            }
            total
        })
    });

    g.bench_function("bumpalo::Bump (fresh)", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let start = Instant::now();
                let bump = bumpalo::Bump::new();
                // An arena tree has nothing to drop.
                black_box(parse(&input, &bump)).ok();
                total += start.elapsed();
            }
            total
        })
    });
    g.finish();
}

criterion_group!(benches, json);
criterion_main!(benches);

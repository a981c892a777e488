//! `first_touch`: a fresh allocator filled with 256 MiB in 64-byte pieces,
//! every piece written. One iteration = create, fill, drop, so the page
//! faults (and giving the memory back) are part of the time: this is what
//! a short-lived arena costs when its pages are new. The arenas opt out of
//! recycling (`recycle(false)`), so every iteration's mapping is new; a
//! recycled one would start with 8 MiB of its 256 resident.

use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, SamplingMode, Throughput};

/// Bytes filled per iteration.
const BYTES: usize = 256 << 20;
/// Size of each piece.
const PIECE: usize = 64;
/// Pieces per iteration.
const PIECES: usize = BYTES / PIECE;

fn first_touch(c: &mut Criterion) {
    let mut g = c.benchmark_group("first_touch");
    g.throughput(Throughput::Elements(PIECES as u64));
    g.sample_size(10);
    g.sampling_mode(SamplingMode::Flat);
    g.warm_up_time(Duration::from_secs(1));
    g.measurement_time(Duration::from_secs(3));

    g.bench_function("anon_arena::Arena", |b| {
        b.iter(|| {
            let arena = anon_arena::Arena::builder()
                .capacity(BYTES)
                .recycle(false)
                .build()
                .expect("map 256 MiB");
            for i in 0..PIECES {
                std::hint::black_box(arena.alloc([i as u8; PIECE]));
            }
            drop(arena);
        })
    });

    g.bench_function("anon_arena::Arena huge_pages(false)", |b| {
        b.iter(|| {
            let arena = anon_arena::Arena::builder()
                .capacity(BYTES)
                .recycle(false)
                .huge_pages(false)
                .build()
                .expect("map 256 MiB");
            for i in 0..PIECES {
                std::hint::black_box(arena.alloc([i as u8; PIECE]));
            }
            drop(arena);
        })
    });

    g.bench_function("anon_arena::Arena huge_pages(true)", |b| {
        b.iter(|| {
            let arena = anon_arena::Arena::builder()
                .capacity(BYTES)
                .recycle(false)
                .huge_pages(true)
                .build()
                .expect("map 256 MiB");
            for i in 0..PIECES {
                std::hint::black_box(arena.alloc([i as u8; PIECE]));
            }
            drop(arena);
        })
    });

    g.bench_function("bumpalo::Bump", |b| {
        b.iter(|| {
            let bump = bumpalo::Bump::with_capacity(BYTES);
            for i in 0..PIECES {
                std::hint::black_box(bump.alloc([i as u8; PIECE]));
            }
            drop(bump);
        })
    });

    g.bench_function("Box::new (glibc malloc)", |b| {
        b.iter(|| {
            let mut boxes = Vec::with_capacity(PIECES);
            for i in 0..PIECES {
                boxes.push(Box::new([i as u8; PIECE]));
            }
            drop(boxes);
        })
    });
    g.finish();
}

criterion_group!(benches, first_touch);
criterion_main!(benches);

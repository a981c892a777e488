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

/// One row of a resettable allocator: `$make` it once, then each
/// iteration resets it and allocates `$alloc` for every value `$i`. It is
/// dropped before the next row, so the rows do not share memory.
macro_rules! reset_row {
    ($g:expr, $name:expr, $make:expr, |$a:ident, $i:ident| $alloc:expr) => {{
        let mut $a = $make;
        $g.bench_function($name, |b| {
            b.iter(|| {
                $a.reset();
                for $i in 0..N as u64 {
                    black_box($alloc);
                }
            })
        });
    }};
}

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

    reset_row!(
        g,
        "floor (hand-written bump)",
        floor::FloorBump::with_capacity(CAPACITY),
        |floor, i| floor.alloc(i)
    );
    reset_row!(
        g,
        "anon_arena::Arena",
        anon_arena::Arena::with_capacity(CAPACITY),
        |arena, i| arena.alloc(i)
    );
    reset_row!(
        g,
        "bumpalo::Bump",
        bumpalo::Bump::with_capacity(CAPACITY),
        |bump, i| bump.alloc(i)
    );
    reset_row!(
        g,
        "bumpalo::Bump MIN_ALIGN=8",
        bumpalo::Bump::<8>::with_min_align_and_capacity(CAPACITY),
        |bump, i| bump.alloc(i)
    );
    let bytes = Layout::array::<u8>(CAPACITY).unwrap();
    reset_row!(
        g,
        "bump_scope::Bump",
        bump_scope::Bump::<bump_scope::alloc::Global>::with_capacity(bytes),
        |bump, i| bump.alloc(i).into_mut()
    );
    reset_row!(
        g,
        "bump_scope::Bump MIN_ALIGN=8",
        BumpScope8::with_capacity(bytes),
        |bump, i| bump.alloc(i).into_mut()
    );

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

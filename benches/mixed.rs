//! `mixed`: 1 million allocations of sizes 1..=256 bytes drawn with a fixed
//! seed, each aligned like a Rust type of that size would be (the largest
//! power of two dividing the size, at most 8). Pages are resident, as in
//! `small`. `typed_arena` is absent: it holds one type, one size.

use std::alloc::Layout;
use std::hint::black_box;
use std::ptr::NonNull;
use std::time::Duration;

use bump_scope::traits::BumpAllocatorTyped;
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, SamplingMode, Throughput};

#[allow(dead_code)] // each bench uses part of the floor
#[path = "common/floor.rs"]
mod floor;
#[path = "common/heap.rs"]
mod heap;

/// Allocations per iteration.
const N: usize = 1_000_000;

type BumpScope8 =
    bump_scope::Bump<bump_scope::alloc::Global, bump_scope::settings::BumpSettings<8>>;

/// The request sequence: the same on every run and machine (xorshift64*).
fn layouts() -> Vec<Layout> {
    let mut state: u64 = 0x2545_F491_4F6C_DD1D;
    (0..N)
        .map(|_| {
            state ^= state >> 12;
            state ^= state << 25;
            state ^= state >> 27;
            let size = 1 + (state.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 56) as usize;
            let align = (1 << size.trailing_zeros()).min(8);
            Layout::from_size_align(size, align).unwrap()
        })
        .collect()
}

/// Heap blocks freed when dropped, so freeing stays outside the timing.
struct HeapBlocks(Vec<(NonNull<u8>, Layout)>);

impl Drop for HeapBlocks {
    fn drop(&mut self) {
        for &(ptr, layout) in &self.0 {
            // SAFETY: each block came from `std::alloc::alloc(layout)`.
            unsafe { std::alloc::dealloc(ptr.as_ptr(), layout) };
        }
    }
}

fn mixed(c: &mut Criterion) {
    heap::keep_heap_resident();
    let layouts = layouts();
    let capacity: usize = layouts.iter().map(|l| (l.size() + 7) & !7).sum::<usize>() + (1 << 20);
    let mut g = c.benchmark_group("mixed");
    g.throughput(Throughput::Elements(N as u64));
    g.sample_size(10);
    // Flat: iterations are milliseconds long; linear sampling would need
    // 55 of them per row.
    g.sampling_mode(SamplingMode::Flat);
    g.warm_up_time(Duration::from_secs(1));
    g.measurement_time(Duration::from_secs(3));

    let mut floor = floor::FloorBump::with_capacity(capacity);
    g.bench_function("floor (hand-written bump)", |b| {
        b.iter(|| {
            floor.reset();
            for &layout in &layouts {
                black_box(floor.alloc_layout(layout));
            }
        })
    });
    drop(floor);

    let mut arena = anon_arena::Arena::with_capacity(capacity);
    g.bench_function("anon_arena::Arena", |b| {
        b.iter(|| {
            arena.reset();
            for &layout in &layouts {
                black_box(arena.alloc_layout(layout));
            }
        })
    });
    drop(arena);

    let mut bump = bumpalo::Bump::with_capacity(capacity);
    g.bench_function("bumpalo::Bump", |b| {
        b.iter(|| {
            bump.reset();
            for &layout in &layouts {
                black_box(bump.alloc_layout(layout));
            }
        })
    });
    drop(bump);

    let mut bump = bumpalo::Bump::<8>::with_min_align_and_capacity(capacity);
    g.bench_function("bumpalo::Bump MIN_ALIGN=8", |b| {
        b.iter(|| {
            bump.reset();
            for &layout in &layouts {
                black_box(bump.alloc_layout(layout));
            }
        })
    });
    drop(bump);

    let bytes = Layout::array::<u8>(capacity).unwrap();
    let mut bump = bump_scope::Bump::<bump_scope::alloc::Global>::with_capacity(bytes);
    g.bench_function("bump_scope::Bump", |b| {
        b.iter(|| {
            bump.reset();
            for &layout in &layouts {
                black_box(bump.allocate_layout(layout));
            }
        })
    });
    drop(bump);

    let mut bump = BumpScope8::with_capacity(bytes);
    g.bench_function("bump_scope::Bump MIN_ALIGN=8", |b| {
        b.iter(|| {
            bump.reset();
            for &layout in &layouts {
                black_box(bump.allocate_layout(layout));
            }
        })
    });
    drop(bump);

    // The slow row gets less time; its ratio is large.
    g.warm_up_time(Duration::from_millis(500));
    g.measurement_time(Duration::from_secs(2));
    g.bench_function("glibc malloc", |b| {
        b.iter_batched(
            || HeapBlocks(Vec::with_capacity(N)),
            |mut blocks| {
                for &layout in &layouts {
                    // SAFETY: every layout has a non-zero size.
                    let ptr = unsafe { std::alloc::alloc(layout) };
                    let Some(ptr) = NonNull::new(ptr) else {
                        std::alloc::handle_alloc_error(layout)
                    };
                    blocks.0.push((ptr, layout));
                }
                blocks
            },
            BatchSize::PerIteration,
        )
    });
    g.finish();
}

criterion_group!(benches, mixed);
criterion_main!(benches);

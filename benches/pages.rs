//! Does a `Vec<u8>` grow faster when every doubling is an `mremap`? Growing
//! a vector to 1 GiB by doubling its length, `PageAllocator` vs the global
//! allocator (glibc `malloc`, whose large blocks are `mmap`ed and `mremap`ed
//! too). Goal: no slower.
//!
//! Run with `cargo bench --bench pages -- --warm-up-time 1 --measurement-time 3`.

use std::hint::black_box;

use allocator_api2::alloc::{Allocator, Global};
use allocator_api2::vec::Vec;
use anon_arena::PageAllocator;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};

const TARGET: usize = 1 << 30;

/// Starts at one page and doubles the length (so the capacity) until the
/// vector holds `TARGET` bytes, every byte written.
fn grow_by_doubling<A: Allocator>(alloc: A) -> usize {
    let mut v: Vec<u8, A> = Vec::with_capacity_in(4096, alloc);
    v.resize(4096, 1);
    while v.len() < TARGET {
        let len = v.len();
        v.reserve_exact(len);
        v.resize(2 * len, 1);
    }
    black_box(v.as_ptr());
    v.len()
}

fn grow(c: &mut Criterion) {
    let mut group = c.benchmark_group("pages_grow_to_1GiB");
    group.sample_size(10);
    group.throughput(Throughput::Bytes(TARGET as u64));
    group.bench_function("std", |b| b.iter(|| grow_by_doubling(Global)));
    group.bench_function("PageAllocator", |b| {
        b.iter(|| grow_by_doubling(PageAllocator))
    });
    group.finish();
}

criterion_group!(benches, grow);
criterion_main!(benches);

//! `pool_churn`: a working set of 10k live 64-byte objects; one iteration is
//! 1 million times "free a random live object, then allocate a new one in
//! its place", with the same fixed-seed random sequence for every peer.
//!
//! Peers, one group, same run: `Pool` through `PoolBox`, `Pool` through its
//! `Allocator` impl (`allocator_api2::boxed::Box<_, &Pool<_>>`), `slab::Slab`,
//! `Box` with the system allocator, and the floor: a hand-written free list
//! threaded through a `Vec` of slots, addressed by index.
//!
//! Freeing first and then allocating into the same element of the live set
//! takes an `Option` for the box types (`take`, then `Some(new)`); the
//! compiler cannot prove the element still `None` after the allocator's
//! writes, so it reloads and tests it. The `(assigned)` rows measure the
//! other idiomatic form, `live[i] = pool.alloc(value)` (allocate, then drop
//! the old box), which has no `Option`, for `Pool` and for `Box`.
//!
//! A `PoolBox` (like `Box<_, &Pool<_>>`) is 16 bytes, a slot pointer and
//! the pool it returns to, where the floor keeps an 8-byte index: the
//! `floor (16-byte handles)` row keeps the same free list but a 16-byte
//! live-set entry, to separate the allocator's cost from the handle's.
//!
//! ```sh
//! cargo bench --bench pool_churn -- --warm-up-time 1 --measurement-time 3
//! ```

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};

/// Objects live at any time.
const LIVE: usize = 10_000;
/// Free-then-allocate operations per iteration.
const OPS: usize = 1_000_000;

/// The 64-byte object.
type Object = [u64; 8];

#[inline(always)]
fn object(n: u64) -> Object {
    [n; 8]
}

/// A fixed-seed xorshift64 stream of indices into the live set.
struct Indices(u64);

impl Indices {
    fn new() -> Self {
        Indices(0x9E37_79B9_7F4A_7C15)
    }

    #[inline(always)]
    fn next(&mut self) -> usize {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        // Lemire's multiply-shift: uniform in 0..LIVE without a division.
        ((u128::from(x) * LIVE as u128) >> 64) as usize
    }
}

/// The floor: a free list threaded through a `Vec` of slots, with the
/// live set holding indices.
struct FloorFreeList {
    slots: Vec<FloorSlot>,
    /// The most recently freed slot, or `usize::MAX`.
    head: usize,
}

union FloorSlot {
    value: Object,
    next: usize,
}

impl FloorFreeList {
    fn with_capacity(slots: usize) -> Self {
        FloorFreeList {
            slots: Vec::with_capacity(slots),
            head: usize::MAX,
        }
    }

    #[inline(always)]
    fn alloc(&mut self, value: Object) -> usize {
        if self.head != usize::MAX {
            let index = self.head;
            let slot = &mut self.slots[index];
            // SAFETY: a slot on the free list holds its `next` link.
            self.head = unsafe { slot.next };
            slot.value = value;
            index
        } else {
            self.slots.push(FloorSlot { value });
            self.slots.len() - 1
        }
    }

    #[inline(always)]
    fn free(&mut self, index: usize) {
        self.slots[index].next = self.head;
        self.head = index;
    }

    fn get(&self, index: usize) -> &Object {
        // SAFETY: callers pass live indices, whose slots hold a value.
        unsafe { &self.slots[index].value }
    }
}

fn pool_churn(c: &mut Criterion) {
    let mut g = c.benchmark_group("pool_churn");
    g.throughput(Throughput::Elements(OPS as u64));
    g.sample_size(20);

    {
        let mut floor = FloorFreeList::with_capacity(LIVE);
        let mut live: Vec<usize> = (0..LIVE as u64).map(|n| floor.alloc(object(n))).collect();
        g.bench_function("floor (free list over a Vec)", |b| {
            b.iter(|| {
                let mut indices = Indices::new();
                for n in 0..OPS as u64 {
                    let i = indices.next();
                    floor.free(live[i]);
                    live[i] = floor.alloc(object(n));
                }
                black_box(floor.get(live[0])[0])
            })
        });
    }

    {
        let mut floor = FloorFreeList::with_capacity(LIVE);
        let mut live: Vec<(usize, u64)> = (0..LIVE as u64)
            .map(|n| (floor.alloc(object(n)), n))
            .collect();
        g.bench_function("floor (16-byte handles)", |b| {
            b.iter(|| {
                let mut indices = Indices::new();
                for n in 0..OPS as u64 {
                    let i = indices.next();
                    floor.free(live[i].0);
                    live[i] = (floor.alloc(object(n)), n);
                }
                black_box(floor.get(live[0].0)[0])
            })
        });
    }

    {
        let pool = anon_arena::Pool::<Object>::with_capacity(LIVE);
        let mut live: Vec<Option<anon_arena::PoolBox<'_, Object>>> = (0..LIVE as u64)
            .map(|n| Some(pool.alloc(object(n))))
            .collect();
        g.bench_function("anon_arena::Pool (PoolBox)", |b| {
            b.iter(|| {
                let mut indices = Indices::new();
                for n in 0..OPS as u64 {
                    let slot = &mut live[indices.next()];
                    drop(slot.take());
                    *slot = Some(pool.alloc(object(n)));
                }
                black_box(live[0].as_ref().map(|b| b[0]))
            })
        });
    }

    {
        use allocator_api2::boxed::Box;
        let pool = anon_arena::Pool::<Object>::with_capacity(LIVE);
        let mut live: Vec<Option<Box<Object, &anon_arena::Pool<Object>>>> = (0..LIVE as u64)
            .map(|n| Some(Box::new_in(object(n), &pool)))
            .collect();
        g.bench_function("anon_arena::Pool (Allocator, Box)", |b| {
            b.iter(|| {
                let mut indices = Indices::new();
                for n in 0..OPS as u64 {
                    let slot = &mut live[indices.next()];
                    drop(slot.take());
                    *slot = Some(Box::new_in(object(n), &pool));
                }
                black_box(live[0].as_ref().map(|b| b[0]))
            })
        });
    }

    {
        // One slot of slack: the new box is allocated before the old drops.
        let pool = anon_arena::Pool::<Object>::with_capacity(LIVE + 1);
        let mut live: Vec<anon_arena::PoolBox<'_, Object>> =
            (0..LIVE as u64).map(|n| pool.alloc(object(n))).collect();
        g.bench_function("anon_arena::Pool (PoolBox, assigned)", |b| {
            b.iter(|| {
                let mut indices = Indices::new();
                for n in 0..OPS as u64 {
                    live[indices.next()] = pool.alloc(object(n));
                }
                black_box(live[0][0])
            })
        });
    }

    {
        let mut slab = slab::Slab::with_capacity(LIVE);
        let mut live: Vec<usize> = (0..LIVE as u64).map(|n| slab.insert(object(n))).collect();
        g.bench_function("slab::Slab", |b| {
            b.iter(|| {
                let mut indices = Indices::new();
                for n in 0..OPS as u64 {
                    let i = indices.next();
                    slab.remove(live[i]);
                    live[i] = slab.insert(object(n));
                }
                black_box(slab[live[0]][0])
            })
        });
    }

    {
        let mut live: Vec<Option<Box<Object>>> = (0..LIVE as u64)
            .map(|n| Some(Box::new(object(n))))
            .collect();
        g.bench_function("Box (system allocator)", |b| {
            b.iter(|| {
                let mut indices = Indices::new();
                for n in 0..OPS as u64 {
                    let slot = &mut live[indices.next()];
                    drop(slot.take());
                    *slot = Some(Box::new(object(n)));
                }
                black_box(live[0].as_ref().map(|b| b[0]))
            })
        });
    }

    {
        let mut live: Vec<Box<Object>> = (0..LIVE as u64).map(|n| Box::new(object(n))).collect();
        g.bench_function("Box (system allocator, assigned)", |b| {
            b.iter(|| {
                let mut indices = Indices::new();
                for n in 0..OPS as u64 {
                    // The allocation and free are what is measured.
                    #[allow(clippy::replace_box)]
                    {
                        live[indices.next()] = Box::new(object(n));
                    }
                }
                black_box(live[0][0])
            })
        });
    }

    g.finish();
}

criterion_group!(benches, pool_churn);
criterion_main!(benches);

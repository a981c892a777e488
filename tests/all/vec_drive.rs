//! Every allocator driven through allocator-api2 0.2's `Vec` the way the
//! standard library's own `Vec` tests drive `Vec`: growth of a buffer
//! rebuilt from a boxed slice, shrinking, `split_off`, `drain` (front,
//! middle, back), `insert` at capacity, `retain`, `extend_from_within`,
//! `dedup`, `truncate`, `splice`, zero-sized and over-aligned elements, and
//! vectors of vectors in the same allocator — with `Global` as the control.
//!
//! Its point is Miri: `Vec` hands its buffer back to the allocator through
//! pointers it retagged (a `Box<[T]>` covers its elements only), so a
//! `grow`, `shrink` or `deallocate` that returns or acts through the
//! caller's pointer instead of one derived from the allocator's own memory
//! is undefined behaviour under Stacked Borrows. Run with
//! `cargo +nightly miri test --test all vec_drive`.
//!
//! Each test is one allocator and one scenario, run over every element
//! type that fits: `vec_drive::<allocator>::<scenario>`.

use std::fmt;
use std::mem::{align_of, size_of};

use allocator_api2::alloc::{Allocator, Global};
use allocator_api2::boxed::Box;
use allocator_api2::vec::Vec;
use anon_arena::{Arena, PageAllocator, Pool, StackArena, SyncArena};

/// The issue's reproducer, verbatim but for the allocator: a vector rebuilt
/// from a boxed slice grows in place.
fn reproducer<A: Allocator + Copy>(alloc: A) {
    let mut v: Vec<u8, _> = Vec::with_capacity_in(8, alloc);
    v.extend_from_slice(&[1; 8]);
    let mut v = v.into_boxed_slice().into_vec();
    v.push(2);
    assert_eq!(v[..], [1, 1, 1, 1, 1, 1, 1, 1, 2]);
}

#[test]
fn the_issues_reproducer_with_a_pool_of_64_byte_slots() {
    reproducer(&Pool::<[u8; 64]>::with_capacity(4));
}

#[test]
fn the_issues_reproducer_with_a_sync_arena() {
    reproducer(&SyncArena::with_capacity(1 << 16));
}

#[test]
fn the_issues_reproducer_with_the_page_allocator() {
    reproducer(PageAllocator);
}

/// Capacity of every arena under test: room for the largest scenario's
/// copies (bump arenas leave a moved buffer's old block behind).
const CAPACITY: usize = 16 << 20;

/// What an allocator serves: every layout, or (a pool) blocks of at most
/// `bytes` bytes aligned to at most `align`.
#[derive(Clone, Copy)]
struct Fit {
    bytes: usize,
    align: usize,
}

/// Every layout.
const ANY: Fit = Fit {
    bytes: usize::MAX,
    align: usize::MAX,
};

/// The pool under test: 1 KiB slots aligned to 64.
#[repr(align(64))]
#[allow(dead_code)]
struct PoolSlot([u8; 1024]);

const POOL_FIT: Fit = Fit {
    bytes: 1024,
    align: 64,
};

impl Fit {
    /// How many elements of `T` a scenario may use, `want` at most; `None`
    /// when `T` does not fit at all. Vectors grow to powers of two (at
    /// least 8, 4 or 1 elements), and no scenario takes a vector past
    /// `2 * n + 1` elements, so `4 * n` elements bound every buffer.
    fn count<T>(self, want: usize) -> Option<usize> {
        if size_of::<T>() == 0 {
            return Some(want);
        }
        if align_of::<T>() > self.align || 8 * size_of::<T>() > self.bytes {
            return None;
        }
        let n = want.min(self.bytes / size_of::<T>() / 4);
        (n >= 2).then_some(n)
    }
}

/// An element type: made from an index, compared by value.
trait Elem: Clone + PartialEq + fmt::Debug {
    fn make(i: usize) -> Self;
}

impl Elem for u8 {
    fn make(i: usize) -> u8 {
        i as u8
    }
}

impl Elem for u64 {
    fn make(i: usize) -> u64 {
        i as u64 * 0x0101_0101_0101
    }
}

/// Aligned past the arenas' 8-byte minimum.
#[derive(Clone, PartialEq, Debug)]
#[repr(align(64))]
struct Align64(u64);

impl Elem for Align64 {
    fn make(i: usize) -> Align64 {
        Align64(i as u64)
    }
}

/// Aligned to a page.
#[derive(Clone, PartialEq, Debug)]
#[repr(align(4096))]
struct Align4096(u64);

impl Elem for Align4096 {
    fn make(i: usize) -> Align4096 {
        Align4096(i as u64)
    }
}

/// 4 KiB: eight of them take a vector past the 16 KiB above which a
/// `LocalArena` serves blocks from the shared cursor instead of its lease.
#[derive(Clone, PartialEq)]
struct Big([u64; 512]);

impl fmt::Debug for Big {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Big({}..{})", self.0[0], self.0[511])
    }
}

impl Elem for Big {
    fn make(i: usize) -> Big {
        let mut words = [0; 512];
        words[0] = i as u64;
        words[511] = !(i as u64);
        Big(words)
    }
}

/// Zero-sized: its vectors never allocate.
#[derive(Clone, PartialEq, Debug)]
struct Zst;

impl Elem for Zst {
    fn make(_: usize) -> Zst {
        Zst
    }
}

/// A vector of `T::make(i)` for each `i` of `ids`, in `alloc`, pushed one
/// by one.
fn filled<T: Elem, A: Allocator>(alloc: A, ids: impl IntoIterator<Item = usize>) -> Vec<T, A> {
    let mut v = Vec::new_in(alloc);
    for i in ids {
        v.push(T::make(i));
    }
    v
}

/// Asserts `v` holds `T::make(i)` for each `i` of `model`, in order.
#[track_caller]
fn check<T: Elem, A: Allocator>(v: &Vec<T, A>, model: &[usize]) {
    assert_eq!(v.len(), model.len(), "length");
    for (k, (got, &i)) in v.iter().zip(model).enumerate() {
        assert_eq!(*got, T::make(i), "element {k}");
    }
}

/// The scenarios: each runs with `n` elements at most in its base vector
/// (see [`Fit::count`]) and keeps a model of the ids it expects.
mod body {
    use super::*;

    /// Growth of buffers whose pointer went through a `Box`: the
    /// reproducer's shape for every element type, and a boxed value turned
    /// into a one-element slice.
    pub fn boxed_slice_grows<T: Elem, A: Allocator + Copy>(alloc: A, n: usize) {
        let mut v = Vec::with_capacity_in(n, alloc);
        v.extend((0..n).map(T::make));
        let mut v = v.into_boxed_slice().into_vec();
        let mut model: std::vec::Vec<usize> = (0..n).collect();
        for i in n..2 * n {
            v.push(T::make(i));
            model.push(i);
        }
        check(&v, &model);
        let mut one = Box::into_boxed_slice(Box::new_in(T::make(7), alloc)).into_vec();
        one.push(T::make(8));
        one.push(T::make(9));
        check(&one, &[7, 8, 9]);
    }

    /// Boxed values and boxed slices freed through the pointer their box
    /// narrowed, oldest first and newest first.
    pub fn boxes_dropped<T: Elem, A: Allocator + Copy>(alloc: A, n: usize) {
        let one = Box::new_in(T::make(1), alloc);
        let slice: Box<[T], A> = filled(alloc, 0..n).into_boxed_slice();
        assert_eq!(*one, T::make(1));
        assert_eq!(slice.len(), n);
        drop(one);
        drop(slice);
        let older = Box::new_in(T::make(2), alloc);
        let newer: Box<[T], A> = filled(alloc, 0..n).into_boxed_slice();
        drop(newer);
        drop(older);
    }

    /// `shrink_to_fit` and `shrink_to`, each followed by growth.
    pub fn shrink_then_grow<T: Elem, A: Allocator + Copy>(alloc: A, n: usize) {
        let mut v = Vec::with_capacity_in(2 * n, alloc);
        v.extend((0..n).map(T::make));
        v.shrink_to_fit();
        assert!(v.capacity() >= n);
        v.extend((n..2 * n).map(T::make));
        let mut model: std::vec::Vec<usize> = (0..2 * n).collect();
        check(&v, &model);
        v.truncate(n / 2);
        model.truncate(n / 2);
        v.shrink_to(n / 2 + 1);
        check(&v, &model);
        v.push(T::make(100));
        v.push(T::make(101));
        model.extend([100, 101]);
        check(&v, &model);
        v.shrink_to_fit();
        v.push(T::make(102));
        model.push(102);
        check(&v, &model);
    }

    /// `split_off` in the middle and at 0, then pushes to both halves.
    pub fn split_off<T: Elem, A: Allocator + Copy>(alloc: A, n: usize) {
        let mut v: Vec<T, A> = filled(alloc, 0..2 * n);
        let mut tail = v.split_off(n);
        v.push(T::make(200));
        tail.push(T::make(201));
        let mut head_model: std::vec::Vec<usize> = (0..n).chain([200]).collect();
        let tail_model: std::vec::Vec<usize> = (n..2 * n).chain([201]).collect();
        check(&v, &head_model);
        check(&tail, &tail_model);
        let mut whole = v.split_off(0);
        assert!(v.is_empty());
        whole.push(T::make(202));
        head_model.push(202);
        check(&whole, &head_model);
        v.push(T::make(203));
        check(&v, &[203]);
    }

    /// `drain` of the front, a middle range, the back, into a vector of
    /// the same allocator, and of everything.
    pub fn drain<T: Elem, A: Allocator + Copy>(alloc: A, n: usize) {
        let mut v: Vec<T, A> = filled(alloc, 0..2 * n);
        let mut model: std::vec::Vec<usize> = (0..2 * n).collect();
        v.drain(..1);
        model.drain(..1);
        v.drain(n / 2..n);
        model.drain(n / 2..n);
        let len = v.len();
        v.drain(len - 1..);
        model.drain(len - 1..);
        check(&v, &model);
        let mut taken = Vec::new_in(alloc);
        taken.extend(v.drain(1..3));
        let taken_model: std::vec::Vec<usize> = model.drain(1..3).collect();
        check(&taken, &taken_model);
        v.push(T::make(300));
        model.push(300);
        check(&v, &model);
        v.drain(..);
        assert!(v.is_empty());
        v.push(T::make(301));
        check(&v, &[301]);
    }

    /// `insert` into a full vector at the front, the middle and the end.
    pub fn insert_at_capacity<T: Elem, A: Allocator + Copy>(alloc: A, n: usize) {
        let mut v = Vec::with_capacity_in(n, alloc);
        let mut model = std::vec::Vec::new();
        for i in 0..n {
            v.push(T::make(i));
            model.push(i);
        }
        if size_of::<T>() != 0 {
            assert_eq!(v.capacity(), v.len(), "full");
        }
        v.insert(0, T::make(400));
        model.insert(0, 400);
        let mid = v.len() / 2;
        v.insert(mid, T::make(401));
        model.insert(mid, 401);
        let end = v.len();
        v.insert(end, T::make(402));
        model.insert(end, 402);
        check(&v, &model);
    }

    /// `retain` of two elements in three, then growth.
    pub fn retain<T: Elem, A: Allocator + Copy>(alloc: A, n: usize) {
        let mut v: Vec<T, A> = filled(alloc, 0..2 * n);
        let mut model: std::vec::Vec<usize> = (0..2 * n).collect();
        let mut seen = 0;
        v.retain(|_| {
            seen += 1;
            seen % 3 != 0
        });
        let mut seen = 0;
        model.retain(|_| {
            seen += 1;
            seen % 3 != 0
        });
        check(&v, &model);
        v.push(T::make(500));
        model.push(500);
        check(&v, &model);
    }

    /// `extend_from_within` of everything, then of one element.
    pub fn extend_from_within<T: Elem, A: Allocator + Copy>(alloc: A, n: usize) {
        let mut v = Vec::with_capacity_in(n, alloc);
        v.extend((0..n).map(T::make));
        let mut model: std::vec::Vec<usize> = (0..n).collect();
        v.extend_from_within(..);
        model.extend_from_within(..);
        v.extend_from_within(1..2);
        model.extend_from_within(1..2);
        check(&v, &model);
    }

    /// `dedup` of each element pushed twice, then growth.
    pub fn dedup<T: Elem, A: Allocator + Copy>(alloc: A, n: usize) {
        let ids: std::vec::Vec<usize> = (0..n).flat_map(|i| [i, i]).collect();
        let mut v: Vec<T, A> = filled(alloc, ids.iter().copied());
        let mut model = ids;
        v.dedup();
        model.dedup_by(|a, b| T::make(*a) == T::make(*b));
        check(&v, &model);
        v.push(T::make(600));
        model.push(600);
        check(&v, &model);
    }

    /// `truncate` and `shrink_to_fit` down to nothing (which frees the
    /// buffer), then a fresh buffer.
    pub fn truncate<T: Elem, A: Allocator + Copy>(alloc: A, n: usize) {
        let mut v: Vec<T, A> = filled(alloc, 0..2 * n);
        v.truncate(n);
        v.shrink_to_fit();
        v.push(T::make(700));
        let model: std::vec::Vec<usize> = (0..n).chain([700]).collect();
        check(&v, &model);
        v.truncate(0);
        v.shrink_to_fit();
        v.push(T::make(701));
        check(&v, &[701]);
    }

    /// `clone`, `append`, `swap_remove`, `remove`, `resize`, `splice`,
    /// `reserve_exact`.
    pub fn splice_and_friends<T: Elem, A: Allocator + Copy>(alloc: A, n: usize) {
        let mut v: Vec<T, A> = filled(alloc, 0..n);
        let mut model: std::vec::Vec<usize> = (0..n).collect();
        let mut copy = v.clone();
        v.append(&mut copy);
        model.extend_from_within(..);
        assert!(copy.is_empty());
        v.swap_remove(0);
        model.swap_remove(0);
        v.remove(1);
        model.remove(1);
        v.truncate(n);
        model.truncate(n);
        v.resize(n + 2, T::make(800));
        model.resize(n + 2, 800);
        let replaced: std::vec::Vec<T> = v.splice(1..3, (801..804).map(T::make)).collect();
        let replaced_model: std::vec::Vec<usize> = model.splice(1..3, 801..804).collect();
        assert_eq!(replaced.len(), replaced_model.len());
        v.reserve_exact(1);
        v.push(T::make(804));
        model.push(804);
        check(&v, &model);
        copy.push(T::make(805));
        check(&copy, &[805]);
    }

    /// Vectors of vectors in the same allocator, grown in turn (so most
    /// grow while not the newest block), then some dropped from the
    /// middle, popped, replaced and cloned.
    pub fn vec_of_vecs<T: Elem, A: Allocator + Copy>(alloc: A, n: usize) {
        let m = n.min(8);
        let mut outer: Vec<Vec<T, A>, A> = Vec::new_in(alloc);
        let mut model: std::vec::Vec<std::vec::Vec<usize>> = std::vec::Vec::new();
        for _ in 0..m {
            outer.push(Vec::new_in(alloc));
            model.push(std::vec::Vec::new());
        }
        for k in 0..n {
            for j in 0..m {
                outer[j].push(T::make(k * m + j));
                model[j].push(k * m + j);
            }
        }
        outer.remove(m / 2);
        model.remove(m / 2);
        outer.pop();
        model.pop();
        outer.push(filled(alloc, 900..900 + n));
        model.push((900..900 + n).collect());
        let copy = outer[0].clone();
        outer.push(copy);
        model.push(model[0].clone());
        outer[1].shrink_to_fit();
        outer[1].push(T::make(950));
        model[1].push(950);
        for (v, ids) in outer.iter().zip(&model) {
            check(v, ids);
        }
        outer.drain(1..3);
        model.drain(1..3);
        for (v, ids) in outer.iter().zip(&model) {
            check(v, ids);
        }
        while let Some(v) = outer.pop() {
            check(&v, &model.pop().unwrap());
        }
    }
}

/// A scenario run over every element type that fits the allocator.
trait Scenario {
    fn run<A: Allocator + Copy>(&self, alloc: A, fit: Fit);
}

/// The scenario types of [`body`], and a test for each allocator and
/// scenario (see [`grid!`]).
macro_rules! scenarios {
    ([$($allocator:ident),*] [$($name:ident),* $(,)?]) => {
        /// One unit type per scenario of [`body`], naming it for the grid.
        #[allow(non_camel_case_types)]
        mod scenario {
            $(pub struct $name;)*
        }
        $(
            impl Scenario for scenario::$name {
                fn run<A: Allocator + Copy>(&self, alloc: A, fit: Fit) {
                    if let Some(n) = fit.count::<u8>(16) {
                        body::$name::<u8, A>(alloc, n);
                    }
                    if let Some(n) = fit.count::<u64>(16) {
                        body::$name::<u64, A>(alloc, n);
                    }
                    if let Some(n) = fit.count::<Zst>(16) {
                        body::$name::<Zst, A>(alloc, n);
                    }
                    if let Some(n) = fit.count::<Align64>(8) {
                        body::$name::<Align64, A>(alloc, n);
                    }
                    if let Some(n) = fit.count::<Align4096>(4) {
                        body::$name::<Align4096, A>(alloc, n);
                    }
                    if let Some(n) = fit.count::<Big>(8) {
                        body::$name::<Big, A>(alloc, n);
                    }
                }
            }
        )*
        grid!([$($allocator),*] [$($name),*]);
    };
}

/// The reproducer as a scenario, so that every allocator runs it.
impl Scenario for scenario_reproducer {
    fn run<A: Allocator + Copy>(&self, alloc: A, _: Fit) {
        reproducer(alloc);
    }
}

#[allow(non_camel_case_types)]
struct scenario_reproducer;

// The allocators: each makes a fresh one and runs the scenario in it.

fn global(scenario: impl Scenario) {
    scenario.run(Global, ANY);
}

fn arena(scenario: impl Scenario) {
    scenario.run(&Arena::with_capacity(CAPACITY), ANY);
}

fn stack(scenario: impl Scenario) {
    scenario.run(&StackArena::with_capacity(CAPACITY), ANY);
}

fn stack_scope(scenario: impl Scenario) {
    let mut stack = StackArena::with_capacity(CAPACITY);
    stack.alloc(1u64);
    stack.scope(|scope| scenario.run(&scope, ANY));
}

fn pool(scenario: impl Scenario) {
    scenario.run(&Pool::<PoolSlot>::with_capacity(64), POOL_FIT);
}

fn sync(scenario: impl Scenario) {
    scenario.run(&SyncArena::with_capacity(CAPACITY), ANY);
}

fn local(scenario: impl Scenario) {
    let sync = SyncArena::with_capacity(CAPACITY);
    scenario.run(&sync.local(), ANY);
}

fn pages(scenario: impl Scenario) {
    scenario.run(PageAllocator, ANY);
}

/// One test per allocator and scenario.
macro_rules! grid {
    ([$($allocator:ident),*] $scenarios:tt) => {
        $(grid!(@one $allocator $scenarios);)*
    };
    (@one $allocator:ident [$($scenario:ident),*]) => {
        mod $allocator {
            #[test]
            fn reproducer() {
                super::$allocator(super::scenario_reproducer);
            }
            $(
                #[test]
                fn $scenario() {
                    super::$allocator(super::scenario::$scenario);
                }
            )*
        }
    };
}

scenarios!(
    [global, arena, stack, stack_scope, pool, sync, local, pages]
    [
        boxed_slice_grows,
        boxes_dropped,
        shrink_then_grow,
        split_off,
        drain,
        insert_at_capacity,
        retain,
        extend_from_within,
        dedup,
        truncate,
        splice_and_friends,
        vec_of_vecs,
    ]
);

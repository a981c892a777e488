//! [`SharedCell`]: a sequence-locked cell holding a `Copy` value that many
//! processes (or threads) read and write through `&`.
//!
//! # The protocol
//!
//! `seq` counts writes: even means the value is stable, odd means a writer
//! holds the cell (the low bit is the writer lock). A writer
//!
//! 1. takes the lock with a compare-and-swap `s → s + 1` from an even `s`
//!    (acquire: the previous writer's copy happens before ours, so the
//!    words' modification orders agree with the writers' order), then a
//!    release fence;
//! 2. copies the value in with relaxed atomic stores;
//! 3. releases with a release store of `s + 2`.
//!
//! A reader loads `seq` (acquire), copies the value out with relaxed atomic
//! loads, issues an acquire fence and loads `seq` again (relaxed); it keeps
//! the copy only if both loads saw the same even number, and retries
//! otherwise. Why that copy is one writer's whole value: if any word it
//! read came from a writer that locked from `s`, that writer's release
//! fence (before its store of the word) synchronises with the reader's
//! acquire fence (after its load of the word), so the lock `s + 1` happens
//! before the second load, which therefore sees `s + 1` or later. Equal
//! even loads then mean the first load saw `s + 2` or later as well, and an
//! acquire load of a writer's `s + 2` orders all of that writer's stores
//! before the reader's loads. So every word comes from the last writer that
//! finished before the first load, and none from a later one.
//!
//! Many writers may use a cell at once: the lock bit serialises them.
//! [`update`](SharedCell::update) needs no lock while it runs the caller's
//! function: it reads a consistent value at sequence `s`, computes, and
//! takes the lock only if `seq` is still `s` (nobody wrote since), retrying
//! from a fresh read otherwise.
//!
//! # Why atomics word by word
//!
//! The value lives in an `UnsafeCell` and is only ever copied in and out
//! through `AtomicUsize`s (and `AtomicU8`s for a tail shorter than a
//! word), always split the same way, so no access races with a plain one
//! or with an atomic one of another size. The `seqlock` crate and
//! crossbeam's `AtomicCell` copy with a volatile read instead, which is a
//! data race — undefined behaviour even though the torn result is thrown
//! away — and crossbeam says so; per-byte atomic copies of uninitialised
//! (padding) bytes need inline assembly (the `atomic-memcpy` crate) or
//! RFC 3301's `AtomicPerByte`. Hence the [`NoPadding`] bound: every byte of
//! the value can be read as an integer.
//!
//! `unsafe` is allowed here for the atomic views of the value's bytes, the
//! byte copies between a `T` and words, and the `Sync`/`SharedSafe` impls.
#![allow(unsafe_code)]

use core::cell::UnsafeCell;
use core::fmt;
use core::mem::{size_of, MaybeUninit};
use core::panic::{RefUnwindSafe, UnwindSafe};
use core::ptr;
use core::sync::atomic::{fence, AtomicU64, AtomicU8, AtomicUsize, Ordering};

use super::marker::{NoPadding, SharedSafe, Zeroable};
use super::spin::Backoff;

/// Bytes in a word of the copy.
const WORD: usize = size_of::<usize>();

/// The value's storage, aligned for whole-word atomics at every multiple
/// of [`WORD`] from its start.
#[repr(C, align(8))]
struct Slot<T>(UnsafeCell<MaybeUninit<T>>);

/// A value of a [`NoPadding`] type that processes (or threads) read and
/// write through `&`: a sequence lock, so readers never block writers and
/// never see half of one write and half of another.
///
/// Put it in a [`SharedArena`](crate::SharedArena) before forking, and
/// every process reads and writes the same value:
///
/// ```
/// use anon_arena::{SharedArena, SharedCell};
///
/// let arena = SharedArena::with_capacity(4096)?;
/// let best = arena.alloc(SharedCell::new([0u32; 4])); // &SharedCell<[u32; 4]>
/// best.store([1, 2, 3, 4]);
/// let previous = best.update(|v| v.map(|x| x * 10));
/// assert_eq!((previous, best.load()), ([1, 2, 3, 4], [10, 20, 30, 40]));
/// # Ok::<(), anon_arena::Error>(())
/// ```
///
/// * Any number of readers and writers may use it at once, in any
///   processes; writers take turns (a lock bit in the sequence number),
///   readers retry while a write is in progress.
/// * A writer holds the lock only while it copies the value in; no code of
///   the caller runs under it. A process killed (`SIGKILL`) in that window
///   leaves the cell locked, and later `store`s and `load`s wait forever.
/// * `load` and `store` cost a few atomic operations plus one atomic
///   access per word of the value: meant for small values (progress, a
///   result, a configuration), not for bulk data.
///
/// What it cannot hold:
///
/// ```compile_fail,E0277
/// // Not `Copy`: the cell hands out copies.
/// let cell = anon_arena::SharedCell::new(std::sync::atomic::AtomicU64::new(0));
/// ```
///
/// ```compile_fail,E0277
/// // A pointer to the process's own heap.
/// let cell = anon_arena::SharedCell::new(String::new());
/// ```
#[repr(C)]
pub struct SharedCell<T: NoPadding> {
    /// Twice the number of writes finished, plus one while a writer holds
    /// the cell.
    seq: AtomicU64,
    /// The value; accessed only by [`word`](Self::word) and
    /// [`byte`](Self::byte) once the cell is shared.
    value: Slot<T>,
}

// SAFETY: after construction (which needs no `&`), the value is read and
// written only through atomic operations of one fixed size per byte, and
// what leaves the cell is a copy made under the sequence check; `T` is
// `Send` (a `SharedSafe` bound), so handing copies to other threads is fine.
unsafe impl<T: NoPadding> Sync for SharedCell<T> {}
// SAFETY: a sequence number and a `NoPadding` value: no pointer, no `Drop`,
// and everything that changes behind `&` changes through atomics.
unsafe impl<T: NoPadding> SharedSafe for SharedCell<T> {}
// SAFETY: sequence 0 is even (unlocked), and the value's bytes are an
// all-zero `T`, valid since `T: Zeroable`.
unsafe impl<T: NoPadding + Zeroable> Zeroable for SharedCell<T> {}

// A panic cannot leave the cell half written: no code of the caller runs
// while a writer holds it, and `update`'s function runs before the lock.
impl<T: NoPadding> RefUnwindSafe for SharedCell<T> {}
impl<T: NoPadding> UnwindSafe for SharedCell<T> {}

impl<T: NoPadding> SharedCell<T> {
    /// Whole words in the value; the rest of its bytes are the tail.
    const WORDS: usize = size_of::<T>() / WORD;

    /// A cell holding `value`.
    ///
    /// ```
    /// let cell = anon_arena::SharedCell::new(1.5f64);
    /// assert_eq!(cell.load(), 1.5);
    /// ```
    pub const fn new(value: T) -> SharedCell<T> {
        SharedCell {
            seq: AtomicU64::new(0),
            value: Slot(UnsafeCell::new(MaybeUninit::new(value))),
        }
    }

    /// The current value: a copy of what one `store` or `update` wrote
    /// (or of the initial value), never a mix of two. Waits while a writer
    /// holds the cell.
    ///
    /// ```
    /// let cell = anon_arena::SharedCell::new([7u8; 3]);
    /// assert_eq!(cell.load(), [7, 7, 7]);
    /// ```
    pub fn load(&self) -> T {
        self.snapshot().1
    }

    /// Replaces the value; waits while another writer holds the cell.
    ///
    /// ```
    /// let cell = anon_arena::SharedCell::new('a');
    /// cell.store('b');
    /// assert_eq!(cell.load(), 'b');
    /// ```
    pub fn store(&self, value: T) {
        let mut backoff = Backoff::new();
        loop {
            let seq = self.seq.load(Ordering::Relaxed);
            if seq & 1 == 0 && self.lock_from(seq) {
                // SAFETY: we hold the lock taken from `seq`.
                unsafe { self.write_and_unlock(seq, &value) };
                return;
            }
            backoff.wait();
        }
    }

    /// Replaces the value with `f(current)` atomically, and returns the
    /// value it replaced. `f` runs without the lock held and may run more
    /// than once: when another writer got in between, it runs again on that
    /// writer's value. (A panic in `f` leaves the cell unchanged and
    /// unlocked.)
    ///
    /// ```
    /// let hits = anon_arena::SharedCell::new(0u64);
    /// std::thread::scope(|s| {
    ///     for _ in 0..4 {
    ///         s.spawn(|| hits.update(|n| n + 1));
    ///     }
    /// });
    /// assert_eq!(hits.load(), 4);
    /// ```
    pub fn update(&self, mut f: impl FnMut(T) -> T) -> T {
        loop {
            let (seq, old) = self.snapshot();
            let new = f(old);
            // Nobody wrote since the snapshot iff `seq` is still `seq`.
            if self.lock_from(seq) {
                // SAFETY: we hold the lock taken from `seq`.
                unsafe { self.write_and_unlock(seq, &new) };
                return old;
            }
        }
    }

    /// An even sequence number and the value written by the last writer
    /// that finished before it was read.
    fn snapshot(&self) -> (u64, T) {
        let mut backoff = Backoff::new();
        loop {
            // Acquire: if this is a writer's unlock, its copy happens
            // before ours.
            let before = self.seq.load(Ordering::Acquire);
            if before & 1 == 0 {
                let copy = self.read();
                // Acquire fence: a word we read from a writer that has not
                // unlocked makes its lock visible to the load below.
                fence(Ordering::Acquire);
                if self.seq.load(Ordering::Relaxed) == before {
                    // SAFETY: the sequence did not move, so (module docs)
                    // every byte came from the one write (or the initial
                    // value) that `before` finished: a valid `T`.
                    return (before, unsafe { copy.assume_init() });
                }
            }
            backoff.wait();
        }
    }

    /// Takes the writer lock if the sequence number is still `seq` (even);
    /// says whether it did.
    fn lock_from(&self, seq: u64) -> bool {
        debug_assert!(seq & 1 == 0);
        // Acquire: the previous writer's copy happens before ours.
        let locked = self
            .seq
            .compare_exchange(seq, seq + 1, Ordering::Acquire, Ordering::Relaxed)
            .is_ok();
        if locked {
            // Release fence: a reader that sees any word we store after it
            // sees our lock too (module docs).
            fence(Ordering::Release);
        }
        locked
    }

    /// Copies `value` in and unlocks.
    ///
    /// # Safety
    ///
    /// * The caller took the lock from `seq` with [`lock_from`](Self::lock_from)
    ///   and has not released it.
    unsafe fn write_and_unlock(&self, seq: u64, value: &T) {
        let src = ptr::from_ref(value).cast::<u8>();
        for i in 0..Self::WORDS {
            // SAFETY: `i * WORD + WORD <= size_of::<T>()`, inside `value`,
            // whose bytes are all initialised (`T: NoPadding`).
            let word = unsafe { src.add(i * WORD).cast::<usize>().read_unaligned() };
            self.word(i).store(word, Ordering::Relaxed);
        }
        for j in Self::WORDS * WORD..size_of::<T>() {
            // SAFETY: `j < size_of::<T>()`, an initialised byte of `value`.
            let byte = unsafe { src.add(j).read() };
            self.byte(j).store(byte, Ordering::Relaxed);
        }
        // Release: our copy happens before the copy of whoever acquires
        // this number (readers and the next writer).
        self.seq.store(seq + 2, Ordering::Release);
    }

    /// Copies the value out with relaxed loads: whole only if the caller's
    /// sequence check says so.
    fn read(&self) -> MaybeUninit<T> {
        let mut copy = MaybeUninit::<T>::uninit();
        let dst = copy.as_mut_ptr().cast::<u8>();
        for i in 0..Self::WORDS {
            let word = self.word(i).load(Ordering::Relaxed);
            // SAFETY: `i * WORD + WORD <= size_of::<T>()`, inside `copy`.
            unsafe { dst.add(i * WORD).cast::<usize>().write_unaligned(word) };
        }
        for j in Self::WORDS * WORD..size_of::<T>() {
            let byte = self.byte(j).load(Ordering::Relaxed);
            // SAFETY: `j < size_of::<T>()`, inside `copy`.
            unsafe { dst.add(j).write(byte) };
        }
        copy
    }

    /// The value's `i`th word, as an atomic.
    #[inline(always)]
    fn word(&self, i: usize) -> &AtomicUsize {
        debug_assert!(i < Self::WORDS);
        // SAFETY: `i < WORDS`, so the word lies inside the value; `Slot` is
        // 8-aligned, so `i * WORD` is aligned for a word; the bytes are
        // inside an `UnsafeCell` and, once shared, only ever accessed as
        // this same word (`word` and `byte` never overlap), so no access
        // mixes sizes or races with a plain one; the word lives as long as
        // `&self`.
        unsafe { AtomicUsize::from_ptr(self.value.0.get().cast::<u8>().add(i * WORD).cast()) }
    }

    /// The value's `j`th byte, in the tail after the last whole word, as an
    /// atomic.
    #[inline(always)]
    fn byte(&self, j: usize) -> &AtomicU8 {
        debug_assert!(Self::WORDS * WORD <= j && j < size_of::<T>());
        // SAFETY: `j < size_of::<T>()`, inside the value, and past the last
        // whole word, so only ever accessed as this byte; in an
        // `UnsafeCell`; lives as long as `&self`.
        unsafe { AtomicU8::from_ptr(self.value.0.get().cast::<u8>().add(j)) }
    }
}

impl<T: NoPadding + Default> Default for SharedCell<T> {
    fn default() -> Self {
        SharedCell::new(T::default())
    }
}

impl<T: NoPadding + fmt::Debug> fmt::Debug for SharedCell<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("SharedCell").field(&self.load()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_value_with_a_tail_round_trips() {
        // 8 + 3 bytes: whole words and a tail of single bytes.
        let cell = SharedCell::new([1u8, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
        assert_eq!(cell.load(), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
        cell.store([0xFF; 11]);
        assert_eq!(cell.load(), [0xFF; 11]);
        assert_eq!(cell.seq.load(Ordering::Relaxed), 2);
    }

    #[test]
    fn zero_sized_and_odd_values() {
        let unit = SharedCell::new(());
        unit.store(());
        unit.load();
        let flag = SharedCell::new(false);
        assert!(!flag.update(|b| !b));
        assert!(flag.load());
        let big = SharedCell::new(u128::MAX - 1);
        assert_eq!(big.update(|x| x + 1), u128::MAX - 1);
        assert_eq!(big.load(), u128::MAX);
    }

    #[test]
    fn a_panicking_update_leaves_it_unlocked_and_unchanged() {
        let cell = SharedCell::new(5u32);
        let result = std::panic::catch_unwind(|| cell.update(|_| panic!("no")));
        assert!(result.is_err());
        assert_eq!(cell.seq.load(Ordering::Relaxed) & 1, 0);
        cell.store(6);
        assert_eq!(cell.load(), 6);
    }

    #[test]
    fn update_reruns_on_the_newer_value_when_another_writer_got_in() {
        let cell = SharedCell::new(1u64);
        let mut calls = 0;
        let old = cell.update(|x| {
            calls += 1;
            if calls == 1 {
                // Another writer finishes while we compute.
                cell.store(10);
            }
            x + 1
        });
        assert_eq!((old, cell.load(), calls), (10, 11, 2));
    }

    #[test]
    fn debug_shows_the_value() {
        assert_eq!(format!("{:?}", SharedCell::new(3i8)), "SharedCell(3)");
    }
}

//! The promises a type makes to live in a [`SharedArena`](super::SharedArena):
//! [`SharedSafe`] (may be shared with other processes at all),
//! [`NoPadding`] (may be copied through a [`SharedCell`](super::SharedCell))
//! and [`Zeroable`] (may be handed out as fresh, all-zero memory).
//!
//! `unsafe` is allowed here because each trait is an `unsafe` promise about
//! a type's contents, and the impls below make it for the standard types.
#![allow(unsafe_code)]

use core::sync::atomic;

/// Types whose values may be placed in memory that other processes read and
/// write while this one does.
///
/// To Rust, a process sharing a [`SharedArena`](crate::SharedArena) with
/// this one is one more thread: its writes race with ours exactly as a
/// thread's would. So the arena hands out values only as `&T`, and a
/// `SharedSafe` type is `Send + Sync`: whatever may change in it behind a
/// `&T` changes through atomic operations, never through a plain write
/// another process could race with.
///
/// # Safety
///
/// Implement it only for a type that
///
/// * holds no pointer, reference, function pointer or handle into
///   process-private memory (no `&T`, `Box`, `Vec`, `String`, `Rc`,
///   `AtomicPtr`, `fn`): another process would read an address that means
///   nothing — or something else — in its own address space. Addresses kept
///   as plain integers are numbers like any other; turning one back into a
///   reference is [`SharedArena::ref_from_addr`](crate::SharedArena::ref_from_addr)'s
///   job;
/// * needs no `Drop` (values in a shared arena are never dropped), and
/// * changes behind a `&T` only through lock-free atomic operations on its
///   own bytes — the `core::sync::atomic` types, [`SharedCell`](crate::SharedCell),
///   [`SharedRing`](crate::SharedRing) — which work between processes as
///   between threads. `Sync` alone is not enough: `std`'s `Mutex`,
///   `RwLock`, `Condvar` and `OnceLock` are `Sync`, but their waiters sleep
///   on process-private futexes, so a process could sleep forever on
///   another's wake-up.
///
/// It is implemented for the primitive integers, floats, `bool`, `char`,
/// `()`, every `core::sync::atomic` integer and `AtomicBool` type, arrays
/// and tuples (up to six) of `SharedSafe` types, [`SharedCell`](crate::SharedCell)
/// and [`SharedRing`](crate::SharedRing). A struct whose fields are all
/// `SharedSafe` may implement it too.
///
/// ```
/// use anon_arena::{SharedArena, SharedSafe};
/// use std::sync::atomic::{AtomicU32, Ordering};
///
/// #[repr(C)]
/// struct Progress {
///     done: AtomicU32,
///     total: u32,
/// }
/// // SAFETY: an atomic and a plain integer; no pointer, no `Drop`.
/// unsafe impl SharedSafe for Progress {}
///
/// let arena = SharedArena::with_capacity(4096)?;
/// let p = arena.alloc(Progress { done: AtomicU32::new(0), total: 10 });
/// p.done.fetch_add(1, Ordering::Relaxed);
/// assert_eq!((p.done.load(Ordering::Relaxed), p.total), (1, 10));
/// # Ok::<(), anon_arena::Error>(())
/// ```
///
/// Anything that points into the process's own heap is refused:
///
/// ```compile_fail,E0277
/// let arena = anon_arena::SharedArena::with_capacity(4096).unwrap();
/// arena.alloc(Box::new(1u32));
/// ```
///
/// ```compile_fail,E0277
/// let arena = anon_arena::SharedArena::with_capacity(4096).unwrap();
/// let x = 5u32;
/// arena.alloc(&x);
/// ```
///
/// and so is a type that changes behind `&` without atomics (`Cell` is not
/// `Sync`):
///
/// ```compile_fail,E0277
/// struct Counter(std::cell::Cell<u32>);
/// unsafe impl anon_arena::SharedSafe for Counter {}
/// ```
pub unsafe trait SharedSafe: Send + Sync {}

/// [`SharedSafe`] `Copy` types without padding: every byte of every value
/// is initialised, so a [`SharedCell`](crate::SharedCell) can copy a value
/// through atomic integers.
///
/// A cell must copy its value with atomic operations (a plain copy racing
/// with another process's write is undefined behaviour, even if the torn
/// result is thrown away), and stable Rust has atomics only for integers: a
/// padding byte is uninitialised, and reading it as part of an integer is
/// undefined behaviour too.
///
/// # Safety
///
/// Implement it only for a type whose values have every byte initialised:
/// no padding between or after fields, no `MaybeUninit` or union field.
/// For a `#[repr(C)]` struct of `NoPadding` fields, that is: its size is
/// the sum of its fields' sizes (assert it in a `const`).
///
/// Implemented for the primitive integers, floats, `bool`, `char`, `()` and
/// arrays of `NoPadding` types. Not for tuples: the compiler may put
/// padding between their fields.
///
/// ```
/// use anon_arena::{NoPadding, SharedCell, SharedSafe};
///
/// #[repr(C)]
/// #[derive(Clone, Copy, Debug, PartialEq)]
/// struct Sample {
///     seq: u64,
///     value: f64,
/// }
/// const _: () = assert!(size_of::<Sample>() == 8 + 8, "no padding");
/// // SAFETY: two plain numbers; no pointer, no `Drop`.
/// unsafe impl SharedSafe for Sample {}
/// // SAFETY: the assertion above: the fields fill the struct.
/// unsafe impl NoPadding for Sample {}
///
/// let cell = SharedCell::new(Sample { seq: 1, value: 0.5 });
/// assert_eq!(cell.load().value, 0.5);
/// ```
///
/// A tuple may have padding, so it does not qualify:
///
/// ```compile_fail,E0277
/// let cell = anon_arena::SharedCell::new((1u8, 2u64));
/// ```
pub unsafe trait NoPadding: SharedSafe + Copy {}

/// [`SharedSafe`] types for which all-zero bytes are a valid value, so a
/// [`SharedArena`](crate::SharedArena) can hand out its fresh (zero)
/// memory as such values without writing them:
/// [`alloc_zeroed`](crate::SharedArena::alloc_zeroed),
/// [`alloc_slice_zeroed`](crate::SharedArena::alloc_slice_zeroed).
///
/// # Safety
///
/// Implement it only for a type for which the all-zero bit pattern is a
/// valid value (not for a reference, `NonZero*`, or an enum without a zero
/// discriminant).
///
/// Implemented for the primitive integers, floats, `bool`, `char`, `()`,
/// the atomic integers and `AtomicBool`, arrays and tuples of `Zeroable`
/// types, and [`SharedCell`](crate::SharedCell)s of them.
///
/// ```
/// use std::sync::atomic::{AtomicU64, Ordering};
///
/// let arena = anon_arena::SharedArena::with_capacity(1 << 16)?;
/// let slots = arena.alloc_slice_zeroed::<AtomicU64>(1000);
/// slots[999].store(7, Ordering::Relaxed);
/// assert_eq!(slots[0].load(Ordering::Relaxed), 0);
/// # Ok::<(), anon_arena::Error>(())
/// ```
pub unsafe trait Zeroable: SharedSafe {}

/// Plain numbers: no pointer, no `Drop`, no interior mutability; every
/// byte initialised and all-zero a valid value.
macro_rules! plain {
    ($($ty:ty),* $(,)?) => {
        $(
            // SAFETY: plain data: no pointer, no `Drop`, nothing changes
            // behind `&`.
            unsafe impl SharedSafe for $ty {}
            // SAFETY: a primitive has no padding.
            unsafe impl NoPadding for $ty {}
            // SAFETY: zero is a valid integer, float, `false`, `'\0'`, `()`.
            unsafe impl Zeroable for $ty {}
        )*
    };
}

plain!(
    u8,
    u16,
    u32,
    u64,
    u128,
    usize,
    i8,
    i16,
    i32,
    i64,
    i128,
    isize,
    f32,
    f64,
    bool,
    char,
    ()
);

/// The atomics: lock-free (every Rust atomic type is), so their operations
/// work between processes as between threads.
macro_rules! atomics {
    ($($ty:ty),* $(,)?) => {
        $(
            // SAFETY: a lock-free atomic changes only through atomic
            // operations on its own bytes; no pointer, no `Drop`.
            unsafe impl SharedSafe for $ty {}
            // SAFETY: zero is a valid atomic integer, and `false`.
            unsafe impl Zeroable for $ty {}
        )*
    };
}

atomics!(
    atomic::AtomicBool,
    atomic::AtomicU8,
    atomic::AtomicU16,
    atomic::AtomicU32,
    atomic::AtomicU64,
    atomic::AtomicUsize,
    atomic::AtomicI8,
    atomic::AtomicI16,
    atomic::AtomicI32,
    atomic::AtomicI64,
    atomic::AtomicIsize,
);

// SAFETY: an array holds only its elements, which are `SharedSafe`.
unsafe impl<T: SharedSafe, const N: usize> SharedSafe for [T; N] {}
// SAFETY: an array has no padding between elements (its stride is the
// element's size), and its elements have none.
unsafe impl<T: NoPadding, const N: usize> NoPadding for [T; N] {}
// SAFETY: all-zero elements are valid, so an all-zero array is.
unsafe impl<T: Zeroable, const N: usize> Zeroable for [T; N] {}

macro_rules! tuple {
    ($($name:ident)+) => {
        // SAFETY: a tuple holds only its fields, which are all `SharedSafe`.
        unsafe impl<$($name: SharedSafe),+> SharedSafe for ($($name,)+) {}
        // SAFETY: all-zero fields are valid (padding may hold anything).
        unsafe impl<$($name: Zeroable),+> Zeroable for ($($name,)+) {}
    };
}
tuple!(A);
tuple!(A B);
tuple!(A B C);
tuple!(A B C D);
tuple!(A B C D E);
tuple!(A B C D E F);

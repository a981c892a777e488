//! [`FrozenArena`]: an [`Arena`] (or [`StackArena`]) made read-only with
//! `mprotect(PROT_READ)`, shared between threads for reading, and
//! [`thaw`](FrozenArena::thaw)ed back into a writable arena.
//!
//! Freezing consumes the arena, so no reference from before survives it.
//! What was built is reached afterwards through a root: the build closure
//! of [`Arena::freeze_with`] returns a reference into the arena, whose type
//! may borrow the arena (a tree of `&'a` nodes). [`FrozenRoot`] names that
//! type for every lifetime, and [`FrozenArena::get`] hands it out with the
//! lifetime of the borrow of the `FrozenArena`.
//!
//! Under Miri, which has no `mprotect`, the pages stay writable; the types
//! and every other step are the same.
//!
//! `unsafe` is allowed here for keeping the root as a raw pointer with its
//! lifetime erased, turning it back into a reference, and dropping the
//! arena only once it is writable again.
#![allow(unsafe_code)]

use core::fmt;
use core::mem::ManuallyDrop;
use core::ops::Deref;
use core::ptr::NonNull;

use crate::error::Error;
use crate::{Arena, StackArena};

/// A type that may borrow from a frozen arena, named for every lifetime:
/// `Of<'a>` is the root's type when the arena lives for `'a`. The type to
/// give [`FrozenArena`] and [`Arena::freeze_with`].
///
/// Implement it on a marker type of your own; `shorten` is always the
/// identity (`{ root }`), and it compiles only when `Of` is *covariant*,
/// which is what makes handing out `Of<'short>` sound. Implemented here for
/// `()` (no root), `str` and `[T]`, whose types borrow nothing.
///
/// ```
/// use anon_arena::{Arena, FrozenArena, FrozenRoot};
///
/// struct Config<'a> {
///     name: &'a str,
///     ports: &'a [u16],
/// }
///
/// /// `Config` with the frozen arena's lifetime.
/// struct ConfigRoot;
///
/// impl FrozenRoot for ConfigRoot {
///     type Of<'a> = Config<'a>;
///     fn shorten<'long: 'short, 'short>(root: &'short Config<'long>) -> &'short Config<'short> {
///         root
///     }
/// }
///
/// let frozen: FrozenArena<ConfigRoot> = Arena::with_capacity(1 << 16).freeze_with(|arena| {
///     arena.alloc(Config {
///         name: arena.alloc_str("web"),
///         ports: arena.alloc_slice_copy(&[80, 443]),
///     })
/// });
/// assert_eq!((frozen.get().name, frozen.get().ports), ("web", &[80, 443][..]));
/// ```
///
/// A root type that is not covariant (here through a `Cell`, which could
/// store a shorter-lived reference) does not compile:
///
/// ```compile_fail
/// use std::cell::Cell;
///
/// struct Slot;
/// impl anon_arena::FrozenRoot for Slot {
///     type Of<'a> = Cell<&'a u8>;
///     fn shorten<'long: 'short, 'short>(root: &'short Cell<&'long u8>) -> &'short Cell<&'short u8> {
///         root
///     }
/// }
/// ```
pub trait FrozenRoot {
    /// The root's type when the arena lives for `'a`.
    type Of<'a>: ?Sized + 'a;

    /// Gives a root whose borrows last `'long` the shorter lifetime
    /// `'short`: the body is `root`, which compiles only for a covariant
    /// `Of`.
    fn shorten<'long: 'short, 'short>(root: &'short Self::Of<'long>) -> &'short Self::Of<'short>;
}

impl FrozenRoot for () {
    type Of<'a> = ();
    fn shorten<'long: 'short, 'short>(root: &'short ()) -> &'short () {
        root
    }
}

impl FrozenRoot for str {
    type Of<'a> = str;
    fn shorten<'long: 'short, 'short>(root: &'short str) -> &'short str {
        root
    }
}

impl<T: 'static> FrozenRoot for [T] {
    type Of<'a> = [T];
    fn shorten<'long: 'short, 'short>(root: &'short [T]) -> &'short [T] {
        root
    }
}

mod sealed {
    use crate::error::Error;

    /// The arena types that freeze.
    pub trait Freezable: Sized {
        /// The type's name, for panic messages.
        const NAME: &'static str;
        /// Makes the whole usable mapping read-only, or writable again.
        fn set_writable(&mut self, writable: bool) -> Result<(), Error>;
        /// `allocated_bytes()` and `capacity()`.
        fn sizes(&self) -> (usize, usize);
    }
}

use sealed::Freezable;

impl Freezable for Arena {
    const NAME: &'static str = "Arena";
    fn set_writable(&mut self, writable: bool) -> Result<(), Error> {
        self.mapped_mut().set_writable(writable)
    }
    fn sizes(&self) -> (usize, usize) {
        (self.allocated_bytes(), self.capacity())
    }
}

impl Freezable for StackArena {
    const NAME: &'static str = "StackArena";
    fn set_writable(&mut self, writable: bool) -> Result<(), Error> {
        self.arena_mut().mapped_mut().set_writable(writable)
    }
    fn sizes(&self) -> (usize, usize) {
        (self.allocated_bytes(), self.capacity())
    }
}

/// An arena made read-only: its whole mapping is `PROT_READ`, so what was
/// built in it can be read from any number of threads, and any write into
/// it — a stray raw pointer, a `Cell` or an atomic inside the data — kills
/// the process with `SIGSEGV` instead of corrupting it silently.
///
/// Made by [`Arena::freeze`] / [`Arena::freeze_with`] (and the same on
/// [`StackArena`], which gives `FrozenArena<R, StackArena>`); the root the
/// build closure returned is read with [`get`](FrozenArena::get), or
/// through `Deref` when it is a `str` or a slice. [`thaw`](FrozenArena::thaw)
/// makes the mapping writable again and gives the arena back, with its
/// contents. Dropping it drops the arena (zeroing a `secret()` one, parking
/// a recyclable one) after making its mapping writable again.
///
/// `R` is the root's [`FrozenRoot`] (`()`: none); `A` is the arena type.
/// The cost is one `mprotect` over the whole reservation on each of
/// freeze and thaw (the kernel walks only the page tables that exist, so
/// untouched address space costs next to nothing).
///
/// The use case: parse a configuration into an arena, freeze it, share it
/// between threads read-only.
///
/// ```
/// use anon_arena::{Arena, FrozenArena};
///
/// let frozen: FrozenArena<[u64]> =
///     Arena::with_capacity(1 << 16).freeze_with(|arena| arena.alloc_slice_copy(&[1, 2, 3]));
/// let sums: Vec<u64> = std::thread::scope(|s| {
///     let readers: Vec<_> = (0..3).map(|_| s.spawn(|| frozen.iter().sum())).collect();
///     readers.into_iter().map(|r| r.join().unwrap()).collect()
/// });
/// assert_eq!(sums, [6, 6, 6]);
/// let arena = frozen.thaw(); // writable again
/// arena.alloc(4u64);
/// ```
///
/// A reference taken before freezing cannot be used after it, `&mut` or
/// not — the arena moved:
///
/// ```compile_fail,E0505
/// let arena = anon_arena::Arena::with_capacity(4096);
/// let n = arena.alloc(1u64);
/// let frozen = arena.freeze();
/// *n += 1;
/// ```
///
/// ```compile_fail,E0505
/// let arena = anon_arena::Arena::with_capacity(4096);
/// let s: &str = arena.alloc_str("parsed");
/// let frozen = anon_arena::Arena::freeze(arena);
/// assert_eq!(s, "parsed");
/// ```
///
/// Nothing writes through a `FrozenArena`: `get` gives `&`, and there is no
/// `alloc`:
///
/// ```compile_fail,E0594
/// use anon_arena::{Arena, FrozenArena};
/// let frozen: FrozenArena<[u64]> =
///     Arena::with_capacity(4096).freeze_with(|arena| arena.alloc_slice_copy(&[1, 2]));
/// frozen.get()[0] = 5;
/// ```
///
/// ```compile_fail,E0599
/// let frozen = anon_arena::Arena::with_capacity(4096).freeze();
/// frozen.alloc(1u64);
/// ```
///
/// A reference from `get` cannot outlive the `FrozenArena`, nor live
/// across `thaw`:
///
/// ```compile_fail,E0505
/// use anon_arena::{Arena, FrozenArena};
/// let frozen: FrozenArena<str> = Arena::with_capacity(4096).freeze_with(|arena| arena.alloc_str("x"));
/// let text: &str = frozen.get();
/// let arena = frozen.thaw();
/// assert_eq!(text, "x");
/// ```
///
/// and nothing built in the closure leaves it but through the root:
///
/// ```compile_fail,E0521
/// use anon_arena::{Arena, FrozenArena};
/// let mut outside: Option<&u64> = None;
/// let frozen: FrozenArena<str> = Arena::with_capacity(4096).freeze_with(|arena| {
///     outside = Some(arena.alloc(1u64));
///     arena.alloc_str("x")
/// });
/// ```
///
/// It is shared between threads only when the root is `Sync`:
///
/// ```compile_fail,E0277
/// use std::cell::Cell;
/// use anon_arena::{Arena, FrozenArena, FrozenRoot};
///
/// struct Counter;
/// impl FrozenRoot for Counter {
///     type Of<'a> = Cell<u64>;
///     fn shorten<'long: 'short, 'short>(root: &'short Cell<u64>) -> &'short Cell<u64> {
///         root
///     }
/// }
/// fn shared<T: Sync>(_: &T) {}
/// let frozen: FrozenArena<Counter> =
///     Arena::with_capacity(4096).freeze_with(|arena| arena.alloc(Cell::new(0)));
/// shared(&frozen);
/// ```
pub struct FrozenArena<R: FrozenRoot + ?Sized = (), A: Freezable = Arena> {
    /// The arena, its mapping read-only. Dropped by hand: only once the
    /// mapping is writable again (a `secret()` arena writes zeros on its
    /// way out, and a recycled mapping must not reach the next arena
    /// read-only).
    arena: ManuallyDrop<A>,
    /// What the build closure returned, a reference into the arena (or to
    /// `'static` data), kept with its lifetime written as `'static`;
    /// [`get`](FrozenArena::get) shortens it to a borrow of `self`.
    root: NonNull<R::Of<'static>>,
    /// The arena's `allocated_bytes()` and `capacity()`, fixed while frozen.
    sizes: (usize, usize),
}

// SAFETY: through `&FrozenArena` the only memory reached is the root, read
// through `&R::Of` (the mapping is read-only and nothing in this crate
// writes it while frozen), and the `sizes` copy; the arena itself, whose
// cursor is a `Cell`, is not touched through `&self`. So sharing the
// `FrozenArena` shares `&R::Of`, which needs `R::Of: Sync`.
unsafe impl<R, A> Sync for FrozenArena<R, A>
where
    R: FrozenRoot + ?Sized,
    R::Of<'static>: Sync,
    A: Freezable,
{
}

// SAFETY: moving it moves the arena (which is `Send`), and the new thread
// reaches the root through `&R::Of` only, as if it had been sent a shared
// reference: that needs `R::Of: Sync`. (Auto traits cannot tell lifetimes
// apart, so `Of<'static>` speaks for every `Of<'a>`.)
unsafe impl<R, A> Send for FrozenArena<R, A>
where
    R: FrozenRoot + ?Sized,
    R::Of<'static>: Sync,
    A: Freezable + Send,
{
}

/// `root` as a pointer with its lifetime erased: only the lifetime in the
/// type changes, not the pointer or its metadata.
fn erase<'a, R: FrozenRoot + ?Sized>(root: &'a R::Of<'a>) -> NonNull<R::Of<'static>> {
    let ptr: *const R::Of<'a> = root;
    NonNull::new(ptr as *mut R::Of<'static>).expect("a reference is never null")
}

impl<R: FrozenRoot + ?Sized, A: Freezable> FrozenArena<R, A> {
    /// Makes `arena`'s mapping read-only and keeps `root`, a reference
    /// that points into it (or to `'static` data) and borrows nothing
    /// else.
    fn new(mut arena: A, root: NonNull<R::Of<'static>>) -> FrozenArena<R, A> {
        if let Err(error) = arena.set_writable(false) {
            // A failed `mprotect` may have changed part of the range.
            let _ = arena.set_writable(true);
            freeze_failed(A::NAME, error);
        }
        FrozenArena {
            sizes: arena.sizes(),
            arena: ManuallyDrop::new(arena),
            root,
        }
    }

    /// The root the build closure returned, for as long as `self` is
    /// borrowed.
    ///
    /// ```
    /// use anon_arena::{Arena, FrozenArena};
    ///
    /// let frozen: FrozenArena<str> = Arena::with_capacity(4096).freeze_with(|arena| arena.alloc_str("ro"));
    /// assert_eq!(frozen.get(), "ro");
    /// ```
    #[inline]
    pub fn get(&self) -> &R::Of<'_> {
        // SAFETY: `root` came from a reference the build closure returned
        // for every lifetime of its `&arena`, so it points into the
        // arena's mapping (or at `'static` data). The mapping stays mapped,
        // unmoved and unchanged (read-only, and no arena handle exists to
        // write it) for as long as `self`, which this borrow cannot
        // outlive. The `'static` in its type is shortened by `shorten`
        // before anyone sees it.
        let root: &R::Of<'static> = unsafe { self.root.as_ref() };
        R::shorten(root)
    }

    /// The arena's [`allocated_bytes`](Arena::allocated_bytes) when it was
    /// frozen.
    ///
    /// ```
    /// let arena = anon_arena::Arena::with_capacity(4096);
    /// arena.alloc(1u64);
    /// assert_eq!(arena.freeze().allocated_bytes(), 8);
    /// ```
    #[must_use]
    pub fn allocated_bytes(&self) -> usize {
        self.sizes.0
    }

    /// The arena's [`capacity`](Arena::capacity).
    ///
    /// ```
    /// assert_eq!(anon_arena::Arena::with_capacity(4096).freeze().capacity(), 4096);
    /// ```
    #[must_use]
    pub fn capacity(&self) -> usize {
        self.sizes.1
    }

    /// Makes the mapping writable again (`mprotect(PROT_READ |
    /// PROT_WRITE)`) and gives the arena back, with everything in it; the
    /// root is gone, and the next allocation goes after what was there.
    ///
    /// # Panics
    ///
    /// If the kernel refuses the `mprotect` (`ENOMEM` when the change would
    /// split a mapping beyond `vm.max_map_count`); the arena then stays
    /// read-only and is leaked.
    ///
    /// ```
    /// let frozen = anon_arena::Arena::with_capacity(4096).freeze();
    /// let mut arena = frozen.thaw();
    /// *arena.alloc(1u64) += 1;
    /// arena.reset();
    /// ```
    pub fn thaw(mut self) -> A {
        if let Err(error) = self.arena.set_writable(true) {
            thaw_failed(A::NAME, error);
        }
        // SAFETY: `self` is forgotten right after, so the arena is taken
        // out once and never dropped in place.
        let arena = unsafe { ManuallyDrop::take(&mut self.arena) };
        core::mem::forget(self);
        arena
    }
}

/// Panics for a refused freeze, with the arena's type and the OS error.
#[cold]
#[inline(never)]
#[track_caller]
fn freeze_failed(name: &str, error: Error) -> ! {
    panic!("{name}::freeze: cannot make the mapping read-only: {error}")
}

/// Panics for a refused thaw, with the arena's type and the OS error.
#[cold]
#[inline(never)]
#[track_caller]
fn thaw_failed(name: &str, error: Error) -> ! {
    panic!("FrozenArena<{name}>::thaw: cannot make the mapping writable again: {error}")
}

impl<R: FrozenRoot + ?Sized, A: Freezable> Drop for FrozenArena<R, A> {
    fn drop(&mut self) {
        // Leaked (left mapped, read-only) when it cannot be made writable:
        // dropping it would write into read-only pages (a `secret()` wipe)
        // or hand them read-only to the next arena.
        if self.arena.set_writable(true).is_ok() {
            // SAFETY: dropped once, here; `self.arena` is not used again.
            unsafe { ManuallyDrop::drop(&mut self.arena) };
        }
    }
}

impl<A: Freezable> Deref for FrozenArena<str, A> {
    type Target = str;

    /// [`get`](FrozenArena::get).
    fn deref(&self) -> &str {
        self.get()
    }
}

impl<T: 'static, A: Freezable> Deref for FrozenArena<[T], A> {
    type Target = [T];

    /// [`get`](FrozenArena::get).
    fn deref(&self) -> &[T] {
        self.get()
    }
}

impl<R: FrozenRoot + ?Sized, A: Freezable> fmt::Debug for FrozenArena<R, A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FrozenArena")
            .field("arena", &A::NAME)
            .field("allocated_bytes", &self.sizes.0)
            .field("capacity", &self.sizes.1)
            .finish_non_exhaustive()
    }
}

/// Writes `freeze` and `freeze_with` for an arena type.
macro_rules! freeze_methods {
    ($ty:ident) => {
        impl $ty {
            #[doc = concat!("Makes the arena read-only: a [`FrozenArena<(), ", stringify!($ty), ">`](FrozenArena)")]
            /// without a root, for a phase in which nothing may write it,
            /// [`thaw`](FrozenArena::thaw)ed afterwards. To read what is in
            /// it while frozen, build it in
            #[doc = concat!("[`freeze_with`](", stringify!($ty), "::freeze_with).")]
            ///
            /// # Panics
            ///
            /// If the kernel refuses the `mprotect` (see
            /// [`thaw`](FrozenArena::thaw)).
            ///
            /// ```
            #[doc = concat!("let arena = anon_arena::", stringify!($ty), "::with_capacity(4096);")]
            /// arena.alloc_str("kept");
            /// let frozen = arena.freeze();
            /// // ... no write can reach the arena here ...
            /// let arena = frozen.thaw();
            /// assert_eq!(arena.allocated_bytes(), 8);
            /// ```
            pub fn freeze(self) -> FrozenArena<(), $ty> {
                self.freeze_with(|_| &())
            }

            /// Runs `build` on the arena, then makes the arena read-only
            /// and keeps the reference `build` returned as the root of a
            /// [`FrozenArena`], read with [`get`](FrozenArena::get). `R`
            /// names the root's type (see [`FrozenRoot`]); `build` must
            /// work for any lifetime of the arena, so everything it made
            /// is reached through the root or not at all.
            ///
            /// # Panics
            ///
            /// If the kernel refuses the `mprotect` (see
            /// [`thaw`](FrozenArena::thaw)). A panic in `build` drops the
            /// arena as usual, still writable.
            ///
            /// ```
            #[doc = concat!("use anon_arena::{FrozenArena, ", stringify!($ty), "};")]
            ///
            #[doc = concat!("let frozen: FrozenArena<str, ", stringify!($ty), "> = ", stringify!($ty), "::with_capacity(4096)")]
            ///     .freeze_with(|arena| arena.alloc_str("policy: deny"));
            /// assert_eq!(&*frozen, "policy: deny");
            /// ```
            pub fn freeze_with<R: FrozenRoot + ?Sized>(
                self,
                build: impl for<'a> FnOnce(&'a $ty) -> &'a R::Of<'a>,
            ) -> FrozenArena<R, $ty> {
                let root = erase::<R>(build(&self));
                FrozenArena::new(self, root)
            }
        }
    };
}

freeze_methods!(Arena);
freeze_methods!(StackArena);

#[cfg(test)]
mod tests {
    use super::*;

    /// A tree that borrows from its arena.
    struct Node<'a> {
        name: &'a str,
        children: &'a [Node<'a>],
    }

    struct Tree;

    impl FrozenRoot for Tree {
        type Of<'a> = Node<'a>;
        fn shorten<'long: 'short, 'short>(root: &'short Node<'long>) -> &'short Node<'short> {
            root
        }
    }

    fn build(arena: &Arena) -> &Node<'_> {
        let leaves = arena.alloc_slice_fill_with(3, |i| Node {
            name: arena.alloc_str(["a", "b", "c"][i]),
            children: &[],
        });
        arena.alloc(Node {
            name: arena.alloc_str("root"),
            children: leaves,
        })
    }

    fn names(node: &Node<'_>) -> String {
        let mut out = node.name.to_owned();
        for child in node.children {
            out.push_str(&names(child));
        }
        out
    }

    #[test]
    fn a_frozen_tree_reads_from_many_threads_and_thaws_with_its_bytes() {
        let frozen = Arena::with_capacity(1 << 16).freeze_with::<Tree>(build);
        let used = frozen.allocated_bytes();
        assert!(used > 0);
        let seen: Vec<String> = std::thread::scope(|s| {
            let readers: Vec<_> = (0..3).map(|_| s.spawn(|| names(frozen.get()))).collect();
            readers.into_iter().map(|r| r.join().unwrap()).collect()
        });
        assert_eq!(seen, ["rootabc", "rootabc", "rootabc"]);
        let mut arena = frozen.thaw();
        assert_eq!(arena.allocated_bytes(), used, "thaw keeps what was built");
        *arena.alloc(1u64) += 1;
        arena.reset();
        let again = arena.freeze_with::<str>(|arena| arena.alloc_str("second"));
        assert_eq!(&*again, "second");
    }

    #[test]
    fn a_stack_arena_freezes_and_thaws_as_itself() {
        let mut stack = StackArena::with_capacity(1 << 16);
        let mark = stack.mark();
        let frozen: FrozenArena<[u32], StackArena> =
            stack.freeze_with(|arena| arena.alloc_slice_copy(&[7, 8, 9]));
        assert_eq!(&*frozen, &[7, 8, 9]);
        stack = frozen.thaw();
        stack.reset_to(mark);
        assert_eq!(stack.allocated_bytes(), 0);
        let sum = stack.scope(|scope| scope.alloc_slice_copy(&[1u32, 2]).iter().sum::<u32>());
        assert_eq!(sum, 3);
    }

    /// Dropping a frozen `secret()` arena makes it writable before the
    /// arena's drop zeroes it (or the zeroing would fault).
    #[test]
    fn a_frozen_secret_arena_is_wiped_when_it_drops() {
        let arena = Arena::builder().capacity(1 << 16).secret().build().unwrap();
        arena.alloc_slice_copy(b"key material");
        let frozen = arena.freeze();
        let wiped = crate::region::wiped_by(|| drop(frozen));
        assert_eq!(wiped, [16], "the written prefix, zeroed before the unmap");
    }

    fn assert_send_sync<T: Send + Sync>() {}

    #[test]
    fn frozen_arenas_are_send_and_sync() {
        assert_send_sync::<FrozenArena>();
        assert_send_sync::<FrozenArena<Tree>>();
        assert_send_sync::<FrozenArena<str, StackArena>>();
    }
}

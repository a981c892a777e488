//! [`ArenaBox`]: an owning pointer into a bump arena, one pointer wide,
//! that runs its value's destructor.
//!
//! `unsafe` is allowed here because the box is a raw pointer to a value it
//! owns: it reads, drops and hands out references to that value, and
//! builds wide pointers for its unsized forms.
#![allow(unsafe_code)]

use core::alloc::Layout;
use core::borrow::{Borrow, BorrowMut};
use core::cmp::Ordering;
use core::fmt;
use core::hash::{Hash, Hasher};
use core::marker::PhantomData;
use core::mem::ManuallyDrop;
use core::ops::{Deref, DerefMut};
use core::ptr::{self, NonNull};

use crate::bump_ref::BumpRef;
use crate::error::Error;
use crate::fill::{self, Refusal};

/// An owned value in a bump arena: the size of one pointer for a sized `T`
/// (two for `[T]` and `str`), and `T`'s `Drop` runs when the box drops,
/// as bumpalo's and bump-scope's boxes do.
///
/// **Dropping a box does not free its memory.** One pointer cannot reach
/// its arena, so the block stays allocated until the arena is reset (or
/// its `StackArena` scope ends). To give the block back as well, hand the
/// box to the arena: `arena.dealloc(boxed)` drops the value and frees the
/// block if it is still the newest (any bump type has `dealloc`; a box
/// from another arena is only dropped).
///
/// Made with [`new_in`](ArenaBox::new_in) and the constructors below, for
/// any bump type (`&Arena`, `&StackArena` or a scope, `&SyncArena`,
/// `&LocalArena`; see [`BumpRef`]). `Deref`, `DerefMut` and the usual
/// traits (`Debug`, `Display`, `PartialEq`, `Eq`, `PartialOrd`, `Ord`,
/// `Hash`) go to the value.
///
/// ```
/// use anon_arena::{Arena, ArenaBox};
/// use std::rc::Rc;
///
/// let arena = Arena::with_capacity(4096);
/// let shared = Rc::new(());
/// let boxed = ArenaBox::new_in(Rc::clone(&shared), &arena);
/// assert_eq!(Rc::strong_count(&shared), 2);
/// drop(boxed); // runs Rc's Drop; the 8 bytes stay until reset
/// assert_eq!((Rc::strong_count(&shared), arena.allocated_bytes()), (1, 8));
///
/// let boxed = ArenaBox::new_in(Rc::clone(&shared), &arena);
/// arena.dealloc(boxed); // drops it and gives the newest block back
/// assert_eq!((Rc::strong_count(&shared), arena.allocated_bytes()), (1, 8));
/// assert_eq!(size_of::<ArenaBox<'_, u64>>(), size_of::<usize>());
/// ```
///
/// A box borrows its arena, so the arena cannot be reset while it lives:
///
/// ```compile_fail,E0502
/// let mut arena = anon_arena::Arena::with_capacity(4096);
/// let boxed = anon_arena::ArenaBox::new_in(String::from("x"), &arena);
/// arena.reset();
/// drop(boxed);
/// ```
///
/// nor dropped:
///
/// ```compile_fail,E0597
/// let boxed = {
///     let arena = anon_arena::Arena::with_capacity(4096);
///     anon_arena::ArenaBox::new_in(1u64, &arena)
/// };
/// ```
pub struct ArenaBox<'a, T: ?Sized> {
    /// The value, in a block that lives for `'a`; owned by this box alone.
    ptr: NonNull<T>,
    /// Owns a `T`, borrows the arena for `'a`.
    owns: PhantomData<(&'a (), T)>,
}

// SAFETY: the box is the only way to the value, as a `Box<T>` is, and
// touches nothing of the arena when moved or dropped (freeing is the
// arena's `dealloc`), so it may cross threads when `T` may.
unsafe impl<T: ?Sized + Send> Send for ArenaBox<'_, T> {}
// SAFETY: `&ArenaBox<T>` gives only `&T`.
unsafe impl<T: ?Sized + Sync> Sync for ArenaBox<'_, T> {}

impl<'a, T: 'a> ArenaBox<'a, T> {
    /// Moves `value` into the arena `bump` refers to.
    ///
    /// # Panics
    ///
    /// When the arena is full; the message says what was asked and what
    /// remained.
    ///
    /// ```
    /// let arena = anon_arena::StackArena::with_capacity(4096);
    /// let mut boxed = anon_arena::ArenaBox::new_in(vec![1, 2], &arena);
    /// boxed.push(3);
    /// assert_eq!(*boxed, [1, 2, 3]);
    /// ```
    #[inline]
    #[track_caller]
    pub fn new_in(value: T, bump: impl BumpRef<'a>) -> Self {
        Self::new_in_or_panic(value, bump)
    }

    #[inline(always)]
    #[track_caller]
    fn new_in_or_panic<B: BumpRef<'a>>(value: T, bump: B) -> Self {
        match Self::try_new_in(value, bump) {
            Ok(boxed) => boxed,
            Err(error) => Refusal::of_layout(Layout::new::<T>(), error).panic(B::NAME),
        }
    }

    /// Like [`new_in`](Self::new_in), but returns an error when the arena
    /// is full (`value` is then dropped).
    ///
    /// # Errors
    ///
    /// [`Error::Exhausted`] when `T` does not fit.
    ///
    /// ```
    /// let arena = anon_arena::Arena::with_capacity(4096);
    /// assert!(anon_arena::ArenaBox::try_new_in([0u8; 8192], &arena).is_err());
    /// ```
    #[inline]
    pub fn try_new_in(value: T, bump: impl BumpRef<'a>) -> Result<Self, Error> {
        fill::try_alloc_with(bump, || value).map(|value| ArenaBox {
            ptr: NonNull::from(value),
            owns: PhantomData,
        })
    }

    /// Moves the value out of the box. Its block stays allocated until the
    /// arena is reset.
    ///
    /// ```
    /// let arena = anon_arena::Arena::with_capacity(4096);
    /// let boxed = anon_arena::ArenaBox::new_in(String::from("moved"), &arena);
    /// let s: String = anon_arena::ArenaBox::into_inner(boxed);
    /// assert_eq!(s, "moved");
    /// ```
    #[inline]
    pub fn into_inner(this: Self) -> T {
        let this = ManuallyDrop::new(this);
        // SAFETY: the box owns an initialised `T` and is never used again,
        // so the value moves out once and is not dropped here.
        unsafe { this.ptr.as_ptr().read() }
    }
}

impl<'a, T: ?Sized> ArenaBox<'a, T> {
    /// Gives up ownership: the value is never dropped, and the reference
    /// lives as long as the arena's borrow.
    ///
    /// ```
    /// let arena = anon_arena::Arena::with_capacity(4096);
    /// let n: &mut u32 = anon_arena::ArenaBox::leak(anon_arena::ArenaBox::new_in(1, &arena));
    /// *n += 1;
    /// assert_eq!(*n, 2);
    /// ```
    #[inline]
    pub fn leak(this: Self) -> &'a mut T {
        let this = ManuallyDrop::new(this);
        // SAFETY: the value is initialised, lives for `'a`, and the box, its
        // only other way in, is gone.
        unsafe { &mut *this.ptr.as_ptr() }
    }

    /// The pointer to the value, giving up ownership (crate-internal: the
    /// arenas' `dealloc`).
    #[inline]
    pub(crate) fn into_raw(this: Self) -> NonNull<T> {
        ManuallyDrop::new(this).ptr
    }

    /// Boxes the slice or string a fill made.
    #[inline]
    fn owning(value: &'a mut T) -> Self
    where
        T: 'a,
    {
        ArenaBox {
            ptr: NonNull::from(value),
            owns: PhantomData,
        }
    }
}

impl<'a, T: 'a> ArenaBox<'a, [T]> {
    /// The items of any iterator, collected at the top of the arena as
    /// [`alloc_iter`](crate::Arena::alloc_iter) does.
    ///
    /// # Panics
    ///
    /// When the arena is full (the items taken so far are dropped).
    ///
    /// ```
    /// let arena = anon_arena::Arena::with_capacity(4096);
    /// let odd = anon_arena::ArenaBox::from_iter_in((0..10).filter(|n| n % 2 == 1), &arena);
    /// assert_eq!(*odd, [1, 3, 5, 7, 9]);
    /// ```
    #[inline]
    #[track_caller]
    pub fn from_iter_in<B: BumpRef<'a>>(iter: impl IntoIterator<Item = T>, bump: B) -> Self {
        match Self::try_from_iter_or_refusal(iter, bump) {
            Ok(boxed) => boxed,
            Err(refusal) => refusal.panic(B::NAME),
        }
    }

    /// Like [`from_iter_in`](Self::from_iter_in), but returns an error
    /// when the arena is full.
    ///
    /// # Errors
    ///
    /// [`Error::Exhausted`] or [`Error::LayoutOverflow`].
    ///
    /// ```
    /// let arena = anon_arena::Arena::with_capacity(4096);
    /// assert!(anon_arena::ArenaBox::try_from_iter_in(0..10_000u64, &arena).is_err());
    /// assert_eq!(arena.allocated_bytes(), 0);
    /// ```
    #[inline]
    pub fn try_from_iter_in(
        iter: impl IntoIterator<Item = T>,
        bump: impl BumpRef<'a>,
    ) -> Result<Self, Error> {
        Self::try_from_iter_or_refusal(iter, bump).map_err(|refusal| refusal.error)
    }

    #[inline(always)]
    fn try_from_iter_or_refusal(
        iter: impl IntoIterator<Item = T>,
        bump: impl BumpRef<'a>,
    ) -> Result<Self, Refusal> {
        fill::try_alloc_iter(bump, iter).map(Self::owning)
    }

    /// A copy of `src`.
    ///
    /// # Panics
    ///
    /// When the arena is full.
    ///
    /// ```
    /// let arena = anon_arena::Arena::with_capacity(4096);
    /// let boxed = anon_arena::ArenaBox::from_slice_copy_in(&[1, 2, 3], &arena);
    /// assert_eq!(*boxed, [1, 2, 3]);
    /// ```
    #[inline]
    #[track_caller]
    pub fn from_slice_copy_in<B: BumpRef<'a>>(src: &[T], bump: B) -> Self
    where
        T: Copy,
    {
        Self::from_fn_in(src.len(), |i| src[i], bump)
    }

    /// A clone of every element of `src`.
    ///
    /// # Panics
    ///
    /// When the arena is full, or a `clone` panics (the clones made so far
    /// are dropped).
    ///
    /// ```
    /// let arena = anon_arena::Arena::with_capacity(4096);
    /// let names = [String::from("a"), String::from("b")];
    /// let boxed = anon_arena::ArenaBox::from_slice_clone_in(&names, &arena);
    /// assert_eq!(*boxed, names);
    /// ```
    #[inline]
    #[track_caller]
    pub fn from_slice_clone_in<B: BumpRef<'a>>(src: &[T], bump: B) -> Self
    where
        T: Clone,
    {
        Self::from_fn_in(src.len(), |i| src[i].clone(), bump)
    }

    /// `len` elements, element `i` being `f(i)`: a fill.
    ///
    /// # Panics
    ///
    /// When the arena is full or `len` overflows; when `f` panics (the
    /// elements made so far are dropped and the block given back).
    ///
    /// ```
    /// let arena = anon_arena::Arena::with_capacity(4096);
    /// let squares = anon_arena::ArenaBox::from_fn_in(4, |i| i * i, &arena);
    /// assert_eq!(*squares, [0, 1, 4, 9]);
    /// ```
    #[inline]
    #[track_caller]
    pub fn from_fn_in<B: BumpRef<'a>>(len: usize, f: impl FnMut(usize) -> T, bump: B) -> Self {
        match fill::try_fill_with(bump, len, f) {
            Ok(slice) => Self::owning(slice),
            Err(refusal) => refusal.panic(B::NAME),
        }
    }
}

impl<'a> ArenaBox<'a, str> {
    /// A copy of `src`.
    ///
    /// # Panics
    ///
    /// When the arena is full.
    ///
    /// ```
    /// let arena = anon_arena::Arena::with_capacity(4096);
    /// let mut s = anon_arena::ArenaBox::from_str_in("boxed", &arena);
    /// s.make_ascii_uppercase();
    /// assert_eq!(&*s, "BOXED");
    /// ```
    #[inline]
    #[track_caller]
    pub fn from_str_in(src: &str, bump: impl BumpRef<'a>) -> Self {
        ArenaBox::from_utf8_box(ArenaBox::from_slice_copy_in(src.as_bytes(), bump))
    }

    /// The bytes of a box as a `str`, for bytes known to be UTF-8.
    fn from_utf8_box(bytes: ArenaBox<'a, [u8]>) -> Self {
        debug_assert!(core::str::from_utf8(&bytes).is_ok());
        let ptr = ArenaBox::into_raw(bytes);
        ArenaBox {
            // A `[u8]` and a `str` of the same length have the same layout.
            // SAFETY: the callers pass only bytes copied from a `str`.
            ptr: unsafe { NonNull::new_unchecked(ptr.as_ptr() as *mut str) },
            owns: PhantomData,
        }
    }
}

/// The arenas' `dealloc`: drops the boxed value, then gives its block back
/// to `bump` if it is the newest block there.
#[inline]
pub(crate) fn dealloc<'a, T: ?Sized>(bump: impl BumpRef<'a>, boxed: ArenaBox<'_, T>) {
    let layout = Layout::for_value::<T>(&boxed);
    let ptr = ArenaBox::into_raw(boxed);
    // SAFETY: the box owned an initialised value and is gone; the value is
    // dropped once, here.
    unsafe { ptr::drop_in_place(ptr.as_ptr()) };
    if layout.size() != 0 {
        // SAFETY: the block was handed out by a bump allocator of this
        // crate (only they make boxes), is at least `layout` large, and is
        // dead now. Zero-sized values have no block to give back.
        unsafe { bump.bump_free(ptr.cast(), layout) };
    }
}

impl<T: ?Sized> Drop for ArenaBox<'_, T> {
    fn drop(&mut self) {
        // SAFETY: the box owns an initialised value, dropped once, here.
        unsafe { ptr::drop_in_place(self.ptr.as_ptr()) };
    }
}

impl<T: ?Sized> Deref for ArenaBox<'_, T> {
    type Target = T;
    #[inline(always)]
    fn deref(&self) -> &T {
        // SAFETY: the value is initialised and owned by this box.
        unsafe { self.ptr.as_ref() }
    }
}

impl<T: ?Sized> DerefMut for ArenaBox<'_, T> {
    #[inline(always)]
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as for `deref`, and `&mut self` makes the access unique.
        unsafe { self.ptr.as_mut() }
    }
}

impl<T: ?Sized> AsRef<T> for ArenaBox<'_, T> {
    fn as_ref(&self) -> &T {
        self
    }
}

impl<T: ?Sized> AsMut<T> for ArenaBox<'_, T> {
    fn as_mut(&mut self) -> &mut T {
        self
    }
}

impl<T: ?Sized> Borrow<T> for ArenaBox<'_, T> {
    fn borrow(&self) -> &T {
        self
    }
}

impl<T: ?Sized> BorrowMut<T> for ArenaBox<'_, T> {
    fn borrow_mut(&mut self) -> &mut T {
        self
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for ArenaBox<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: ?Sized + fmt::Display> fmt::Display for ArenaBox<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&**self, f)
    }
}

impl<T: ?Sized> fmt::Pointer for ArenaBox<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Pointer::fmt(&self.ptr, f)
    }
}

impl<'b, T: ?Sized + PartialEq> PartialEq<ArenaBox<'b, T>> for ArenaBox<'_, T> {
    fn eq(&self, other: &ArenaBox<'b, T>) -> bool {
        **self == **other
    }
}

impl<T: ?Sized + Eq> Eq for ArenaBox<'_, T> {}

impl<'b, T: ?Sized + PartialOrd> PartialOrd<ArenaBox<'b, T>> for ArenaBox<'_, T> {
    fn partial_cmp(&self, other: &ArenaBox<'b, T>) -> Option<Ordering> {
        (**self).partial_cmp(&**other)
    }
}

impl<T: ?Sized + Ord> Ord for ArenaBox<'_, T> {
    fn cmp(&self, other: &Self) -> Ordering {
        (**self).cmp(&**other)
    }
}

impl<T: ?Sized + Hash> Hash for ArenaBox<'_, T> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        (**self).hash(state);
    }
}

#[cfg(feature = "collections")]
mod from_collections {
    use allocator_api2::alloc::Allocator;
    use allocator_api2::vec::Vec;
    use core::marker::PhantomData;
    use core::ptr::NonNull;

    use super::ArenaBox;
    use crate::bump_ref::BumpRef;
    use crate::collections::String;

    /// Takes over a `Vec`'s block, shrunk to its length (which gives the
    /// slack back if it is the newest block): no copy.
    ///
    /// ```
    /// use anon_arena::{collections::Vec, ArenaBox, Arena};
    /// let arena = Arena::with_capacity(4096);
    /// let mut v = Vec::with_capacity_in(100, &arena);
    /// v.extend_from_slice(&[1u64, 2, 3]);
    /// let boxed = ArenaBox::from(v);
    /// assert_eq!((&*boxed, arena.allocated_bytes()), (&[1, 2, 3][..], 24));
    /// ```
    impl<'a, T, A: BumpRef<'a> + Allocator> From<Vec<T, A>> for ArenaBox<'a, [T]> {
        fn from(mut vec: Vec<T, A>) -> Self {
            vec.shrink_to_fit();
            let (ptr, len, _capacity, _bump) = vec.into_raw_parts_with_alloc();
            let ptr = core::ptr::slice_from_raw_parts_mut(ptr, len);
            ArenaBox {
                // SAFETY: a `Vec`'s pointer is never null, and its `len`
                // elements are initialised; the block came from `A`, one of
                // this crate's bump allocators, whose blocks live for `'a`.
                // After `shrink_to_fit` the block is exactly the slice.
                ptr: unsafe { NonNull::new_unchecked(ptr) },
                owns: PhantomData,
            }
        }
    }

    /// Takes over a `String`'s block, shrunk to its length: no copy.
    ///
    /// ```
    /// use anon_arena::{collections::String, ArenaBox, Arena};
    /// let arena = Arena::with_capacity(4096);
    /// let mut s = String::new_in(&arena);
    /// s.push_str("grown");
    /// let boxed: ArenaBox<'_, str> = s.into();
    /// assert_eq!(&*boxed, "grown");
    /// ```
    impl<'a, A: BumpRef<'a> + Allocator> From<String<A>> for ArenaBox<'a, str> {
        fn from(string: String<A>) -> Self {
            ArenaBox::from_utf8_box(ArenaBox::from(string.into_bytes()))
        }
    }
}

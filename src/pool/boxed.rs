//! [`PoolBox`]: the owning handle to a value in a [`Pool`] slot, which drops
//! the value and gives the slot back when it goes out of scope.
//!
//! `unsafe` is allowed here because a box reads and drops the value in a raw
//! slot; the shared borrow of the pool it holds keeps the slot (and the
//! mapping under it) alive for as long as the box.
#![allow(unsafe_code)]

use core::fmt;
use core::marker::PhantomData;
use core::mem::ManuallyDrop;
use core::ops::{Deref, DerefMut};
use core::ptr::{self, NonNull};

use crate::pool::Pool;

/// A value of type `T` in a slot of a [`Pool`]; drops the value and gives
/// the slot back when it goes out of scope.
///
/// It derefs to `T` (mutably too) and formats as `T` does. It borrows its
/// pool, so it cannot outlive it.
///
/// ```
/// let pool = anon_arena::Pool::with_capacity(2);
/// let mut name = pool.alloc(String::from("pool"));
/// name.push_str("box");
/// assert_eq!(format!("{name} {name:?}"), "poolbox \"poolbox\"");
/// ```
pub struct PoolBox<'a, T> {
    /// The slot, holding a live `T` this box owns.
    slot: NonNull<T>,
    /// The pool the slot goes back to.
    pool: &'a Pool<T>,
    /// The box owns a `T` and drops it.
    _owns: PhantomData<T>,
}

impl<'a, T> PoolBox<'a, T> {
    /// Wraps a slot holding a value.
    ///
    /// # Safety
    ///
    /// * `slot` was handed out by `pool` for one `T` and holds a live `T`
    ///   that nothing else owns or references.
    #[inline(always)]
    pub(crate) unsafe fn from_slot(slot: NonNull<T>, pool: &'a Pool<T>) -> Self {
        PoolBox {
            slot,
            pool,
            _owns: PhantomData,
        }
    }

    /// Moves the value out and gives the slot back.
    ///
    /// ```
    /// use anon_arena::{Pool, PoolBox};
    ///
    /// let pool = Pool::with_capacity(1);
    /// let boxed = pool.alloc(vec![1, 2, 3]);
    /// let v: Vec<i32> = PoolBox::into_inner(boxed);
    /// assert_eq!((v.len(), pool.len()), (3, 0));
    /// ```
    #[inline]
    pub fn into_inner(boxed: Self) -> T {
        let boxed = ManuallyDrop::new(boxed);
        // SAFETY: the slot holds a live `T` owned by the box, which is not
        // dropped; after the read the slot is dead and goes back to its pool.
        unsafe {
            let value = boxed.slot.read();
            boxed.pool.give_back(boxed.slot);
            value
        }
    }

    /// Gives up ownership: the value stays in its slot for as long as the
    /// pool is borrowed, and is never dropped. The slot counts as live
    /// until the pool itself is dropped.
    ///
    /// ```
    /// use anon_arena::{Pool, PoolBox};
    ///
    /// let pool = Pool::with_capacity(4);
    /// let forever: &mut u32 = PoolBox::leak(pool.alloc(7));
    /// *forever += 1;
    /// assert_eq!((*forever, pool.len()), (8, 1));
    /// ```
    #[inline]
    pub fn leak(boxed: Self) -> &'a mut T {
        let boxed = ManuallyDrop::new(boxed);
        // SAFETY: the slot holds a live `T` and stays allocated for as long
        // as the pool is borrowed (`'a`); the box is gone, so this is the
        // only reference to it.
        unsafe { &mut *boxed.slot.as_ptr() }
    }
}

impl<T> Deref for PoolBox<'_, T> {
    type Target = T;

    #[inline(always)]
    fn deref(&self) -> &T {
        // SAFETY: the slot holds a live `T` owned by this box.
        unsafe { self.slot.as_ref() }
    }
}

impl<T> DerefMut for PoolBox<'_, T> {
    #[inline(always)]
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: the slot holds a live `T` owned by this box, and `&mut
        // self` makes this the only reference.
        unsafe { self.slot.as_mut() }
    }
}

impl<T> Drop for PoolBox<'_, T> {
    #[inline]
    fn drop(&mut self) {
        // SAFETY: the slot holds a live `T` owned by this box; after the
        // drop it is dead and goes back to the pool it came from. (If `T`'s
        // destructor panics the slot is leaked, which is safe.)
        unsafe {
            ptr::drop_in_place(self.slot.as_ptr());
            self.pool.give_back(self.slot);
        }
    }
}

impl<T> AsRef<T> for PoolBox<'_, T> {
    fn as_ref(&self) -> &T {
        self
    }
}

impl<T> AsMut<T> for PoolBox<'_, T> {
    fn as_mut(&mut self) -> &mut T {
        self
    }
}

impl<T: fmt::Debug> fmt::Debug for PoolBox<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: fmt::Display> fmt::Display for PoolBox<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&**self, f)
    }
}

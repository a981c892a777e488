//! Filling arena blocks with values a caller's code produces, written once
//! for every bump allocator (through [`BumpRef`]) and keeping one rule:
//!
//! **A panicking or failing initialiser gives its block back.** When the
//! closure of `alloc_with`/`alloc_try_with`, the element function of an
//! `alloc_slice_fill_*`, or the iterator of `alloc_iter` panics or returns
//! `Err`, the values made so far are dropped and the block goes back to
//! the arena if it is still the newest, so `allocated_bytes()` is what it
//! was before the call. (bumpalo leaks those values; here they are dropped.)
//! If the initialiser allocated in the same arena and kept that
//! allocation, the block is no longer the newest and stays until reset.
//!
//! [`Filling`] is the one growable block behind the slice methods,
//! `alloc_iter` and `alloc_fmt`: it grows in place while it is the newest
//! block, by copying when the iterator allocated after it, and finishes by
//! giving back the slack past its last element.
//!
//! `unsafe` is allowed here because the block is raw memory written
//! element by element; each step says which elements are initialised.
#![allow(unsafe_code)]

use core::alloc::Layout;
use core::marker::PhantomData;
use core::mem::{self, ManuallyDrop, MaybeUninit};
use core::ptr::{self, NonNull};

use crate::bump_ref::BumpRef;
use crate::error::Error;

/// What a refused request asked for, for the error and the panic message.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Request {
    /// A block of this layout.
    Bytes(Layout),
    /// `len` elements of this layout, which overflows the address space.
    Elements {
        /// How many.
        len: usize,
        /// Each one's layout.
        element: Layout,
    },
}

impl Request {
    /// `len` elements of `T`.
    pub(crate) fn array<T>(len: usize) -> Request {
        match Layout::array::<T>(len) {
            Ok(layout) => Request::Bytes(layout),
            Err(_) => Request::Elements {
                len,
                element: Layout::new::<T>(),
            },
        }
    }

    /// The refusal of this request by `bump`, with the numbers as they are
    /// now: called after the failed call gave its block back, so they are
    /// the numbers from before the call.
    #[cold]
    pub(crate) fn refused<'a>(self, bump: impl BumpRef<'a>) -> Refusal {
        let error = match self {
            Request::Bytes(layout) => bump.bump_error(layout),
            Request::Elements { .. } => Error::LayoutOverflow,
        };
        Refusal {
            error,
            request: self,
        }
    }
}

/// A request the arena could not serve: the error a `try_` method
/// returns, and what its panicking twin says.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Refusal {
    /// Why.
    pub(crate) error: Error,
    /// What was asked.
    request: Request,
}

impl Refusal {
    /// The refusal of a block of `layout` for `error`.
    pub(crate) fn of_layout(layout: Layout, error: Error) -> Refusal {
        Refusal {
            error,
            request: Request::Bytes(layout),
        }
    }

    /// Panics with a message saying which allocator, what was asked and
    /// why it could not be served.
    #[cold]
    #[inline(never)]
    #[track_caller]
    pub(crate) fn panic(self, allocator: &str) -> ! {
        match self.request {
            Request::Bytes(layout) => {
                crate::alloc_methods::alloc_failed(allocator, layout, self.error)
            }
            Request::Elements { len, element } => {
                crate::alloc_methods::alloc_elements_failed(allocator, len, element, self.error)
            }
        }
    }
}

/// Why a fill stopped: the arena refused, or the initialiser returned `Err`.
pub(crate) enum Failed<E> {
    /// The arena had no room.
    Refused(Refusal),
    /// The initialiser's error.
    Init(E),
}

/// Gives a block back when dropped: held while a caller's closure runs, so
/// that a panic returns the block, and forgotten once the block is kept.
struct GiveBack<'a, B: BumpRef<'a>> {
    bump: B,
    block: NonNull<u8>,
    layout: Layout,
    lifetime: PhantomData<&'a ()>,
}

impl<'a, B: BumpRef<'a>> Drop for GiveBack<'a, B> {
    fn drop(&mut self) {
        // SAFETY: the block came from `bump` for `layout`, and whatever was
        // written to it is abandoned (never read or dropped).
        unsafe { self.bump.bump_free(self.block, self.layout) };
    }
}

/// `alloc_with`: room for a `T`, then `f()` written into it; the room goes
/// back if `f` panics.
#[inline(always)]
pub(crate) fn try_alloc_with<'a, B: BumpRef<'a>, T>(
    bump: B,
    f: impl FnOnce() -> T,
) -> Result<&'a mut T, Error> {
    let layout = Layout::new::<T>();
    let Some(block) = bump.bump_alloc(layout) else {
        return Err(bump.bump_error(layout));
    };
    let guard = GiveBack {
        bump,
        block,
        layout,
        lifetime: PhantomData,
    };
    // SAFETY: a fresh block, valid and aligned for a `T`, disjoint from
    // every live block and living for `'a`; a `MaybeUninit` needs no
    // initialisation.
    let slot = unsafe { block.cast::<MaybeUninit<T>>().as_mut() };
    let value = slot.write(f());
    mem::forget(guard);
    Ok(value)
}

/// `alloc_try_with`: room for a `Result<T, E>`, `f()` written into it (so
/// a large `T` can be built in place), and a reference to the `T`; on
/// `Err` the error is moved out and the room goes back.
#[inline(always)]
pub(crate) fn try_alloc_try_with<'a, B: BumpRef<'a>, T, E>(
    bump: B,
    f: impl FnOnce() -> Result<T, E>,
) -> Result<&'a mut T, Failed<E>> {
    let layout = Layout::new::<Result<T, E>>();
    let Some(block) = bump.bump_alloc(layout) else {
        return Err(Failed::Refused(Request::Bytes(layout).refused(bump)));
    };
    let guard = GiveBack {
        bump,
        block,
        layout,
        lifetime: PhantomData,
    };
    // SAFETY: as in `try_alloc_with`, for a `Result<T, E>`; the reference
    // lives only in this function (`E` need not outlive the arena).
    let slot = unsafe { block.cast::<MaybeUninit<Result<T, E>>>().as_mut() };
    match slot.write(f()) {
        Ok(value) => {
            let value = NonNull::from(value);
            mem::forget(guard);
            // SAFETY: the `T` is initialised, in a block kept for `'a`, and
            // reached through no other reference.
            Ok(unsafe { &mut *value.as_ptr() })
        }
        Err(error) => {
            // SAFETY: a bitwise move out of the block's `Result`, which is
            // never read or dropped again: the guard abandons it below.
            let error = unsafe { ptr::read(error) };
            drop(guard);
            Err(Failed::Init(error))
        }
    }
}

/// The smallest block [`Filling`] allocates when it must guess.
const MIN_BYTES: usize = 64;

/// A slice being filled at the top of an arena: the first `len` of the
/// `cap` elements at `ptr` are initialised. Dropped before
/// [`finish`](Self::finish) (an error, a panic), it drops them and gives
/// the block back if it is still the newest.
///
/// Invariants: `len <= cap`; `cap == 0` means no block yet (`ptr` is
/// dangling), except for a zero-sized `T`, whose `cap` is `usize::MAX` and
/// `ptr` a zero-sized block; otherwise `ptr` is a live block of `bump` for
/// `Layout::array::<T>(cap)`.
pub(crate) struct Filling<'a, B: BumpRef<'a>, T> {
    bump: B,
    ptr: NonNull<T>,
    len: usize,
    cap: usize,
    /// The elements are `T`s owned here, living in `'a` memory.
    owns: PhantomData<(&'a (), T)>,
}

impl<'a, B: BumpRef<'a>, T> Filling<'a, B, T> {
    /// A filling with room for `cap` elements (a block only if `cap > 0`).
    pub(crate) fn with_capacity(bump: B, cap: usize) -> Result<Self, Refusal> {
        let mut filling = Filling {
            bump,
            ptr: NonNull::dangling(),
            len: 0,
            cap: 0,
            owns: PhantomData,
        };
        if mem::size_of::<T>() == 0 {
            // Zero-sized blocks never fail; this one gives the slice the
            // arena's address, as every zero-length slice of it has.
            if let Some(block) = bump.bump_alloc(Layout::new::<T>()) {
                filling.ptr = block.cast();
            }
            filling.cap = usize::MAX;
        } else if cap > 0 {
            filling
                .resize(cap)
                .map_err(|request| request.refused(bump))?;
        }
        Ok(filling)
    }

    /// Moves the block to room for `cap` elements: a new block, or the old
    /// one grown (in place when it is the newest). On failure nothing
    /// changes and the request is returned.
    fn resize(&mut self, cap: usize) -> Result<(), Request> {
        let Ok(new) = Layout::array::<T>(cap) else {
            return Err(Request::array::<T>(cap));
        };
        let block = if self.cap == 0 {
            self.bump.bump_alloc(new)
        } else {
            // Cannot fail: the current block was made with this layout.
            let old = Layout::array::<T>(self.cap).map_err(|_| Request::Bytes(new))?;
            // SAFETY: `ptr` is live in `bump` for `old` (the invariant), the
            // alignment is `T`'s in both, and `cap > self.cap`.
            unsafe { self.bump.bump_grow(self.ptr.cast(), old, new) }
        };
        let block = block.ok_or(Request::Bytes(new))?;
        self.ptr = block.cast();
        self.cap = cap;
        self.debug_assert_invariants();
        Ok(())
    }

    /// Checks the invariants written on the type (debug builds only).
    #[inline]
    fn debug_assert_invariants(&self) {
        debug_assert!(self.len <= self.cap, "more elements than room");
        debug_assert!(
            self.cap == 0 || self.ptr.as_ptr().is_aligned(),
            "a block not aligned for its elements"
        );
    }

    /// Makes room for `needed` elements in all: twice the room, or what is
    /// needed, whichever is more; just what is needed if that fails (near
    /// the end of the arena).
    #[cold]
    #[inline(never)]
    fn reserve(&mut self, needed: usize) -> Result<(), Request> {
        let least = (MIN_BYTES / mem::size_of::<T>().max(1)).max(1);
        let generous = self.cap.saturating_mul(2).max(least).max(needed);
        if generous > needed && self.resize(generous).is_ok() {
            return Ok(());
        }
        self.resize(needed)
    }

    /// Appends `item`, growing the block if it is full. On failure `item`
    /// is dropped and the request that failed is returned.
    #[inline]
    pub(crate) fn push(&mut self, item: T) -> Result<(), Request> {
        if self.len == self.cap {
            let needed = self
                .len
                .checked_add(1)
                .ok_or(Request::array::<T>(usize::MAX))?;
            self.reserve(needed)?;
        }
        // SAFETY: `len < cap`, so the slot lies in the block; it is not
        // initialised yet.
        unsafe { self.ptr.as_ptr().add(self.len).write(item) };
        self.len += 1;
        self.debug_assert_invariants();
        Ok(())
    }

    /// Appends `item` in room the block already has: the fast path of the
    /// fills, whose length is known before they start.
    ///
    /// # Safety
    ///
    /// * `len < cap`.
    #[inline(always)]
    unsafe fn push_within_capacity(&mut self, item: T) {
        debug_assert!(self.len < self.cap, "no room left");
        // SAFETY: `len < cap` (the caller's promise), so the slot lies in
        // the block; it is not initialised yet.
        unsafe { self.ptr.as_ptr().add(self.len).write(item) };
        self.len += 1;
    }

    /// Appends a copy of `items`, growing the block as needed.
    pub(crate) fn extend_from_slice(&mut self, items: &[T]) -> Result<(), Request>
    where
        T: Copy,
    {
        if items.len() > self.cap - self.len {
            let needed = self
                .len
                .checked_add(items.len())
                .ok_or(Request::array::<T>(usize::MAX))?;
            self.reserve(needed)?;
        }
        // SAFETY: `len + items.len() <= cap`, so the slots lie in the
        // block, which is fresh memory no `items` can overlap.
        unsafe {
            ptr::copy_nonoverlapping(items.as_ptr(), self.ptr.as_ptr().add(self.len), items.len());
        }
        self.len += items.len();
        self.debug_assert_invariants();
        Ok(())
    }

    /// The filled slice, its block ending at the last element: the slack
    /// goes back to the arena if the block is still the newest.
    pub(crate) fn finish(self) -> &'a mut [T]
    where
        T: 'a,
    {
        let this = ManuallyDrop::new(self);
        let mut ptr = this.ptr;
        if mem::size_of::<T>() != 0 {
            if this.cap == 0 {
                // Zero-sized: never fails; the arena's address, as above.
                if let Some(block) = this.bump.bump_alloc(Layout::new::<[T; 0]>()) {
                    ptr = block.cast();
                }
            } else if this.len < this.cap {
                // Cannot fail: both layouts fit in the current block's.
                if let (Ok(old), Ok(new)) =
                    (Layout::array::<T>(this.cap), Layout::array::<T>(this.len))
                {
                    // SAFETY: `ptr` is live in `bump` for `old`; the tail
                    // past `len` holds no element.
                    unsafe { this.bump.bump_shrink(ptr.cast(), old, new) };
                }
            }
        }
        // SAFETY: the first `len` elements are initialised, and the block
        // lives for `'a`; `this` is never dropped, so they have no other
        // owner.
        unsafe { core::slice::from_raw_parts_mut(ptr.as_ptr(), this.len) }
    }
}

impl<'a, B: BumpRef<'a>, T> Drop for Filling<'a, B, T> {
    fn drop(&mut self) {
        // Values first, block after: a destructor that allocates in this
        // arena must not get (and overwrite) the block before it is done.
        // SAFETY: the first `len` elements are initialised and owned here.
        unsafe {
            ptr::drop_in_place(ptr::slice_from_raw_parts_mut(self.ptr.as_ptr(), self.len));
        }
        if mem::size_of::<T>() != 0 && self.cap > 0 {
            if let Ok(layout) = Layout::array::<T>(self.cap) {
                // SAFETY: a block of `bump` for `layout`, now dead.
                unsafe { self.bump.bump_free(self.ptr.cast(), layout) };
            }
        }
    }
}

/// `alloc_iter`: any iterator, collected at the top of the arena.
#[inline]
pub(crate) fn try_alloc_iter<'a, B: BumpRef<'a>, T>(
    bump: B,
    iter: impl IntoIterator<Item = T>,
) -> Result<&'a mut [T], Refusal> {
    let mut iter = iter.into_iter();
    let promised = iter.size_hint().0;
    let mut filling = Filling::with_capacity(bump, promised)?;
    // The items the hint promised go into the room made for them, with no
    // check per item (an exact-size iterator, such as a `drain`, has no
    // others)...
    for item in iter.by_ref().take(promised) {
        // SAFETY: `take(promised)` yields at most `promised <= cap` items.
        unsafe { filling.push_within_capacity(item) };
    }
    // ...and any more grow the block.
    for item in iter {
        if let Err(request) = filling.push(item) {
            drop(filling);
            return Err(request.refused(bump));
        }
    }
    Ok(filling.finish())
}

/// `alloc_slice_fill_iter`: room for `len()` items first (so the iterator
/// may allocate in the arena), at most that many taken, the slack given
/// back if it yields fewer.
#[inline]
pub(crate) fn try_fill_iter<'a, B: BumpRef<'a>, T, I>(
    bump: B,
    iter: I,
) -> Result<&'a mut [T], Refusal>
where
    I: IntoIterator<Item = T>,
    I::IntoIter: ExactSizeIterator,
{
    let iter = iter.into_iter();
    let len = iter.len();
    try_fill_try_iter(bump, len, iter.map(Ok::<T, core::convert::Infallible>)).map_err(|failed| {
        match failed {
            Failed::Refused(refusal) => refusal,
            Failed::Init(never) => match never {},
        }
    })
}

/// `alloc_slice_fill_copy` of every allocator: `len` copies of `value`
/// written into a fresh block with one slice `fill` (a `memset` for
/// bytes). Copies run no caller code and cannot panic, so unlike
/// [`try_fill_with`] nothing needs undoing.
///
/// # Safety
///
/// * `block` is valid for writes of `len` `T`s, aligned for `T`, reached
///   by no other reference, and lives for `'a` (for zero bytes, any
///   aligned address: an empty or zero-sized slice needs no more).
#[inline]
pub(crate) unsafe fn fill_copies<'a, T: Copy>(
    block: NonNull<u8>,
    len: usize,
    value: T,
) -> &'a mut [T] {
    // SAFETY: the caller's promise; uninitialised slots are valid
    // `MaybeUninit`s.
    let slots =
        unsafe { NonNull::slice_from_raw_parts(block.cast::<MaybeUninit<T>>(), len).as_mut() };
    slots.fill(MaybeUninit::new(value));
    // SAFETY: every slot was written by the `fill` above.
    unsafe { &mut *(slots as *mut [MaybeUninit<T>] as *mut [T]) }
}

/// `alloc_slice_fill_with`: `len` elements, element `i` being `f(i)`.
#[inline]
pub(crate) fn try_fill_with<'a, B: BumpRef<'a>, T>(
    bump: B,
    len: usize,
    mut f: impl FnMut(usize) -> T,
) -> Result<&'a mut [T], Refusal> {
    let mut filling = Filling::with_capacity(bump, len)?;
    for i in 0..len {
        let item = f(i);
        // SAFETY: `filling.len == i < len <= cap`.
        unsafe { filling.push_within_capacity(item) };
    }
    Ok(filling.finish())
}

/// `alloc_slice_try_fill_with`: as [`try_fill_with`], stopping at the
/// first `Err`.
#[inline]
pub(crate) fn try_fill_try_with<'a, B: BumpRef<'a>, T, E>(
    bump: B,
    len: usize,
    f: impl FnMut(usize) -> Result<T, E>,
) -> Result<&'a mut [T], Failed<E>> {
    try_fill_iter_exact(bump, len, (0..len).map(f))
}

/// `alloc_slice_try_fill_iter` and the body of [`try_fill_iter`]: room for
/// `len` elements, filled from `items` until it ends, `len` are taken or
/// one is `Err`.
#[inline]
pub(crate) fn try_fill_try_iter<'a, B: BumpRef<'a>, T, E>(
    bump: B,
    len: usize,
    items: impl Iterator<Item = Result<T, E>>,
) -> Result<&'a mut [T], Failed<E>> {
    try_fill_iter_exact(bump, len, items)
}

/// Room for `len` elements (none of `items` is asked for if that fails),
/// then at most `len` of them: the block never grows.
#[inline]
fn try_fill_iter_exact<'a, B: BumpRef<'a>, T, E>(
    bump: B,
    len: usize,
    items: impl Iterator<Item = Result<T, E>>,
) -> Result<&'a mut [T], Failed<E>> {
    let mut filling = Filling::with_capacity(bump, len).map_err(Failed::Refused)?;
    for item in items.take(len) {
        match item {
            // SAFETY: `take(len)` yields at most `len` items, so
            // `filling.len < len <= cap` before each.
            Ok(item) => unsafe { filling.push_within_capacity(item) },
            Err(error) => return Err(Failed::Init(error)),
        }
    }
    Ok(filling.finish())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Arena;

    #[test]
    fn growth_doubles_then_falls_back_to_what_is_needed() {
        let arena = Arena::with_capacity(4096);
        arena.alloc([0u8; 96]);
        let mut filling = Filling::<_, u64>::with_capacity(&arena, 0).unwrap();
        filling.push(1).unwrap();
        assert_eq!(filling.cap, MIN_BYTES / 8, "a first guess of 64 bytes");
        for i in 0..8 {
            filling.push(i).unwrap();
        }
        assert_eq!(filling.cap, 16, "doubled");
        // 4000 bytes are left, room for 500 u64s: doubling from 256 to 512
        // does not fit, so growth goes on one element at a time, and only
        // the 501st is refused.
        while filling.len < 500 {
            filling.push(0).unwrap();
        }
        assert_eq!(filling.cap, 500);
        assert!(filling.push(0).is_err());
        assert_eq!(filling.len, 500);
        assert_eq!(filling.finish().len(), 500);
        assert_eq!(arena.remaining(), 0);
    }

    #[test]
    fn a_block_that_moved_keeps_its_elements() {
        let arena = Arena::with_capacity(1 << 16);
        let mut filling = Filling::<_, u32>::with_capacity(&arena, 2).unwrap();
        filling.push(7).unwrap();
        filling.push(8).unwrap();
        let first = filling.ptr;
        arena.alloc(0u8); // no longer the newest: the next growth copies
        filling.push(9).unwrap();
        assert_ne!(filling.ptr, first);
        assert_eq!(filling.finish(), &[7, 8, 9]);
    }
}

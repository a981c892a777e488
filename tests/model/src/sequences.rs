//! The sequences the drivers allocate (`0..n` as `u16`, `u32`, ...) and
//! must then find in the arena, made once at compile time: an operation
//! takes a prefix as its source or its expected bytes instead of building
//! a vector element by element (which, under the fuzzers' instrumentation,
//! cost as much as the allocation it checks).

use crate::input::CAPACITY;

/// An integer type, whose slices are also their bytes in memory order.
pub(crate) trait Int: Copy {}
impl Int for u16 {}
impl Int for u32 {}
impl Int for u64 {}

/// The bytes of `items`, in memory order (what `to_ne_bytes` of each
/// gives, one after the other).
pub(crate) fn bytes_of<T: Int>(items: &[T]) -> &[u8] {
    // SAFETY: `T` is a primitive integer (the sealed `Int`): no padding,
    // every byte initialised, and `u8` has no alignment to meet; the
    // bytes borrow `items`.
    unsafe { core::slice::from_raw_parts(items.as_ptr().cast(), size_of_val(items)) }
}

/// Elements of `T` one past what an arena of [`CAPACITY`] holds: the most
/// a driver asks for.
const fn most(size: usize) -> usize {
    CAPACITY / size + 1
}

/// Builds `[f(0), f(1), ...]` at compile time.
macro_rules! sequence {
    ($(#[$doc:meta])* $name:ident: $ty:ty = |$i:ident| $value:expr) => {
        $(#[$doc])*
        pub(crate) static $name: [$ty; most(size_of::<$ty>())] = {
            let mut items = [0; most(size_of::<$ty>())];
            let mut $i = 0;
            while $i < items.len() {
                items[$i] = $value;
                $i += 1;
            }
            items
        };
    };
}

sequence!(
    /// `i as u16`.
    U16S: u16 = |i| i as u16
);
sequence!(
    /// `i as u16 ^ 0x5A5A`.
    U16S_MIXED: u16 = |i| i as u16 ^ 0x5A5A
);
sequence!(
    /// `i as u32`.
    U32S: u32 = |i| i as u32
);
sequence!(
    /// `i as u64 * 3`.
    U64S_BY_3: u64 = |i| i as u64 * 3
);

/// Growth steps of a collection that grows as it goes (`try_alloc_iter`
/// without a size hint, `try_alloc_fmt`) at most.
pub(crate) const MAX_STEPS: usize = 32;

/// `CAPACITY + 1` bytes of `'x'`: the text operations' source.
pub(crate) const XS: &str = match core::str::from_utf8(&[b'x'; CAPACITY + 1]) {
    Ok(xs) => xs,
    Err(_) => panic!("ASCII"),
};

/// `len` bytes of `'x'`, written `piece` bytes at a time.
pub(crate) struct Pieces {
    pub(crate) len: usize,
    pub(crate) piece: usize,
}

impl core::fmt::Display for Pieces {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let mut left = self.len;
        while left > 0 {
            let now = left.min(self.piece);
            f.write_str(&XS[..now])?;
            left -= now;
        }
        Ok(())
    }
}

//! The numbers programs are made of, decoded from fuzz bytes with a bias
//! towards what breaks allocators: mostly small sizes, sometimes a size
//! near the capacity, now and then one no address space can hold.

use arbitrary::{Arbitrary, Result, Unstructured};

/// The capacity every program's allocator is made with: small enough to be
/// exhausted within a few operations (and cheap to fill and check, which
/// the fuzzers' speed depends on), large enough for many blocks, two
/// pages and a `LocalArena`'s first lease.
pub const CAPACITY: usize = 8 << 10;

/// A byte count: mostly under 64, sometimes up to a page or twice the
/// capacity, rarely any `usize` at all.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Size(pub usize);

impl<'a> Arbitrary<'a> for Size {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        let size = match u.int_in_range(0u8..=15)? {
            0..=9 => u.int_in_range(0..=64)?,
            10..=12 => u.int_in_range(0..=4096)?,
            13 | 14 => u.int_in_range(0..=2 * CAPACITY)?,
            _ => Edgy::arbitrary(u)?.0,
        };
        Ok(Size(size))
    }
}

/// An alignment: mostly 1 to 16, sometimes up to a page, rarely up to 2^30.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Align(pub usize);

impl<'a> Arbitrary<'a> for Align {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        let log2 = match u.int_in_range(0u8..=7)? {
            0..=5 => u.int_in_range(0..=4)?,
            6 => u.int_in_range(5..=12)?,
            _ => u.int_in_range(13..=30)?,
        };
        Ok(Align(1 << log2))
    }
}

/// Any `usize`, with the values next to the edges (0, powers of two, the
/// top of the address space) much likelier than uniform bytes make them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Edgy(pub usize);

impl<'a> Arbitrary<'a> for Edgy {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        let bits = usize::BITS - 1;
        let value = match u.int_in_range(0u8..=5)? {
            0 => u.int_in_range(0..=64)?,
            1 => usize::MAX - u.int_in_range(0..=64)?,
            2 => (isize::MAX as usize)
                .wrapping_add(u.int_in_range(0..=16)?)
                .wrapping_sub(8),
            3 => (1usize << u.int_in_range(0..=bits)?)
                .wrapping_add(u.int_in_range(0..=16)?)
                .wrapping_sub(8),
            _ => u.arbitrary()?,
        };
        Ok(Edgy(value))
    }
}

/// An index into the live blocks, taken modulo their number.
#[derive(Clone, Copy, Debug, Arbitrary, PartialEq, Eq)]
pub struct Which(pub u8);

impl Which {
    /// The index among `len` live blocks, `None` when there are none.
    pub fn of(self, len: usize) -> Option<usize> {
        (len > 0).then(|| usize::from(self.0) % len)
    }
}

/// Decodes a whole program from `bytes`: operations until the bytes run out.
pub fn program<'a, Op: Arbitrary<'a>>(bytes: &'a [u8]) -> Vec<Op> {
    let mut u = Unstructured::new(bytes);
    let mut ops = Vec::new();
    while !u.is_empty() {
        match Op::arbitrary(&mut u) {
            Ok(op) => ops.push(op),
            Err(_) => break,
        }
    }
    ops
}

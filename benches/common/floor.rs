//! The floor: the simplest bump allocator that can be written, over a
//! pre-allocated `Vec<u64>`. It rounds every size up to 8 (like `Arena`),
//! checks one bound and moves one pointer; no growth, no zeroing, no
//! statistics. The benchmarks report the crate's distance from it.
//!
//! `unsafe` here: the allocator hands out raw blocks of its buffer.

use core::alloc::Layout;
use core::cell::Cell;
use core::ptr::NonNull;

/// A fixed-capacity upward bump over a heap buffer.
pub struct FloorBump {
    /// The backing memory; blocks are carved from it and never outlive it.
    buffer: Vec<u64>,
    /// Next free byte, as an address inside `buffer`.
    pos: Cell<usize>,
    /// One past the buffer's last byte.
    end: usize,
}

impl FloorBump {
    /// A bump over `bytes` bytes (rounded up to 8), written once so its
    /// pages are resident, as the arenas' are after warm-up.
    pub fn with_capacity(bytes: usize) -> FloorBump {
        let buffer = vec![1u64; bytes.div_ceil(8)];
        let start = buffer.as_ptr() as usize;
        FloorBump {
            pos: Cell::new(start),
            end: start + buffer.len() * 8,
            buffer,
        }
    }

    /// A block for `layout` (alignment at most 8), or a panic when full.
    #[inline(always)]
    pub fn alloc_layout(&self, layout: Layout) -> NonNull<u8> {
        debug_assert!(layout.align() <= 8);
        let size = (layout.size() + 7) & !7;
        let pos = self.pos.get();
        // The sum cannot wrap: `pos` is a heap address (below isize::MAX)
        // and the sizes benchmarked are tiny. Comparing the sum with `end`
        // is the shortest bound check (`end` is read straight from memory).
        if pos + size > self.end {
            full();
        }
        self.pos.set(pos + size);
        let offset = pos - self.buffer.as_ptr() as usize;
        // SAFETY: `offset + size <= len * 8`, so the block is inside the
        // buffer; the pointer keeps the buffer's provenance.
        unsafe { NonNull::new_unchecked(self.buffer.as_ptr().cast::<u8>().cast_mut().add(offset)) }
    }

    /// Moves `value` into the bump.
    #[inline(always)]
    #[allow(clippy::mut_from_ref)]
    pub fn alloc<T>(&self, value: T) -> &mut T {
        let block = self.alloc_layout(Layout::new::<T>()).cast::<T>();
        // SAFETY: the block is fresh, aligned for `T` (8-aligned and
        // `align_of::<T>() <= 8`), and lives as long as `&self`.
        unsafe {
            block.as_ptr().write(value);
            &mut *block.as_ptr()
        }
    }

    /// Frees everything.
    pub fn reset(&mut self) {
        self.pos.set(self.buffer.as_ptr() as usize);
    }
}

#[cold]
#[inline(never)]
fn full() -> ! {
    panic!("FloorBump: out of capacity")
}

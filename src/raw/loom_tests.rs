//! Loom models of [`RawAtomicCursor`]'s lock-free protocols: concurrent
//! allocation (8-aligned and over-aligned), allocation against freeing the
//! newest block, and allocation against growing and shrinking it in place.
//!
//! Each model runs three threads (two spawned, and the model's own) over a
//! small heap buffer, writes a tag into every block it gets through loom
//! cells ([`Words`]), and checks at the end that the live blocks are apart
//! and keep their tags, that zeroed blocks read zero, and that every byte
//! past the cursor's high-water mark is still zero. `ci/loom.sh` runs them.

use core::alloc::Layout;
use core::ptr::NonNull;

use loom::sync::Arc;

use super::{BumpCursor, RawAllocator, RawAtomicCursor};
use crate::math::align_up;
use crate::sync_prims::model::{self, assert_disjoint, Block, Words};

/// The buffer's alignment: fixed, so that over-aligned requests pad the
/// same in every execution (loom replays each one step by step).
const BUFFER_ALIGN: usize = 64;

/// A cursor over a zeroed heap buffer of its own, and the loom cells of
/// that buffer's words.
struct Memory {
    buffer: NonNull<u8>,
    cursor: RawAtomicCursor,
    words: Words,
}

// SAFETY: the buffer is reached only through the cursor, which is `Sync`,
// and through the blocks it hands out, each used by the thread it went to.
unsafe impl Send for Memory {}
// SAFETY: as for `Send`.
unsafe impl Sync for Memory {}

impl Memory {
    /// A cursor over `words` zeroed words.
    fn new(words: usize) -> Arc<Memory> {
        let len = words * 8;
        let buffer = NonNull::new(zeroed_buffer(len)).expect("heap exhausted");
        // SAFETY: the buffer is zeroed, 64-aligned, `len` bytes, and only
        // the cursor hands it out until `drop` frees it.
        let cursor = unsafe { RawAtomicCursor::with_dirty_prefix(buffer, len, 0) };
        let words = Words::new(buffer, len);
        Arc::new(Memory {
            buffer,
            cursor,
            words,
        })
    }

    /// A block of `size` bytes aligned to `align`, zeroed (and checked)
    /// if asked, and filled with `tag`; `None` when the cursor refuses.
    fn alloc(&self, size: usize, align: usize, zeroed: bool, tag: u8) -> Option<Block> {
        let layout = Layout::from_size_align(size, align).unwrap();
        let ptr = if zeroed {
            self.cursor.allocate_zeroed(layout)?
        } else {
            self.cursor.allocate(layout)?
        };
        assert_eq!(ptr.addr().get() % align.max(8), 0, "misaligned block");
        let block = Block {
            ptr,
            len: size,
            tag,
        };
        if size > 0 {
            // SAFETY: the cursor just handed the block to this thread.
            unsafe { self.words.fill(block, zeroed.then_some(0)) };
        }
        Some(block)
    }

    /// Gives `block` back (its bytes return only if it is the newest).
    fn free(&self, block: Block) {
        // SAFETY: a live block of this cursor, not used again.
        unsafe { self.cursor.deallocate(block.ptr, layout(block.len)) };
    }

    /// Grows `block` to `size` bytes (both multiples of 8), checks that it
    /// kept its bytes (and that the added ones are zero if `zeroed`), and
    /// fills it with `tag`.
    fn grow(&self, block: Block, size: usize, zeroed: bool, tag: u8) -> Option<Block> {
        // SAFETY: a live block of this cursor for that layout; on success
        // only the returned one is used.
        let ptr = unsafe {
            self.cursor
                .grow(block.ptr, layout(block.len), layout(size), zeroed)?
        };
        // SAFETY: the grown block is this thread's.
        unsafe {
            self.words.expect(ptr, block.len, block.tag);
            if zeroed {
                self.words.expect(ptr.add(block.len), size - block.len, 0);
            }
        }
        let grown = Block {
            ptr,
            len: size,
            tag,
        };
        // SAFETY: as above.
        unsafe { self.words.fill(grown, None) };
        Some(grown)
    }

    /// Shrinks `block` to `size` bytes, checks that it kept them, and fills
    /// it with `tag`.
    fn shrink(&self, block: Block, size: usize, tag: u8) -> Block {
        // SAFETY: a live block of this cursor for that layout; only the
        // returned one is used.
        let ptr = unsafe {
            self.cursor
                .shrink(block.ptr, layout(block.len), layout(size))
        };
        let ptr = ptr.expect("an 8-aligned shrink stays in place");
        assert_eq!(ptr, block.ptr, "an 8-aligned shrink stays in place");
        let shrunk = Block {
            ptr,
            len: size,
            tag,
        };
        // SAFETY: the block is this thread's.
        unsafe { self.words.fill(shrunk, Some(block.tag)) };
        shrunk
    }
}

impl Drop for Memory {
    fn drop(&mut self) {
        let layout = Layout::from_size_align(self.cursor.capacity(), BUFFER_ALIGN).unwrap();
        // SAFETY: allocated in `new` with this layout; the cursor and every
        // block are gone with the model.
        unsafe { std::alloc::dealloc(self.buffer.as_ptr(), layout) };
    }
}

/// `len` zeroed bytes aligned to [`BUFFER_ALIGN`] from the heap.
fn zeroed_buffer(len: usize) -> *mut u8 {
    let layout = Layout::from_size_align(len, BUFFER_ALIGN).unwrap();
    // SAFETY: `len` is not zero in any model.
    unsafe { std::alloc::alloc_zeroed(layout) }
}

/// An 8-aligned layout of `size` bytes.
fn layout(size: usize) -> Layout {
    Layout::from_size_align(size, 8).unwrap()
}

/// After every thread joined: the checks of [`assert_settled`].
fn settle(mut memory: Arc<Memory>, live: &[Block]) {
    let memory = Arc::get_mut(&mut memory).expect("every thread joined");
    // SAFETY: the cells are the buffer's; the threads are done.
    unsafe { assert_settled(&mut memory.cursor, &memory.words, live) };
}

/// Once every thread that used `cursor` is done: the cursor's invariants
/// hold, the `live` blocks lie below the offset, apart, with their tags,
/// and every byte at or past `max(high-water mark, offset)` reads zero.
///
/// # Safety
///
/// * `words` covers the cursor's memory, and `live` are blocks the cursor
///   handed out that are still live and that no thread uses any more.
pub(crate) unsafe fn assert_settled(cursor: &mut RawAtomicCursor, words: &Words, live: &[Block]) {
    cursor.debug_assert_invariants();
    let (start, capacity, used) = (cursor.start(), cursor.capacity(), cursor.used());
    let touched = cursor.touched();
    for block in live {
        let end = block.range().end;
        assert!(
            end <= start.addr().get() + used,
            "live block past the offset"
        );
    }
    // SAFETY: the bytes lie in the memory, which nothing uses now.
    unsafe {
        words.expect(start.add(touched), capacity - touched, 0);
        assert_disjoint(words, live);
    }
}

/// Three threads allocate at once, 8-aligned and over-aligned, some
/// zeroed, from a buffer too small for every request in every order: no
/// two blocks overlap, and a request is refused only when it did not fit.
#[test]
fn loom_concurrent_allocate() {
    model::check("concurrent allocate", || {
        let memory = Memory::new(12);
        let requests = [
            [(16, 8, false, 1), (8, 32, true, 2)],
            [(8, 16, false, 3), (24, 8, true, 4)],
            [(8, 8, false, 5), (0, 64, false, 6)],
        ];
        let run = |memory: Arc<Memory>, requests: [(usize, usize, bool, u8); 2]| {
            requests.map(|(size, align, zeroed, tag)| {
                let block = memory.alloc(size, align, zeroed, tag);
                (size, align, block)
            })
        };
        let spawned: Vec<_> = requests[..2]
            .iter()
            .map(|&requests| {
                let memory = Arc::clone(&memory);
                model::spawn(move || run(memory, requests))
            })
            .collect();
        model::start_line();
        let mut results = vec![run(Arc::clone(&memory), requests[2])];
        results.extend(spawned.into_iter().map(|t| t.join().unwrap()));
        let start = memory.cursor.start().addr().get();
        let end = start + memory.cursor.capacity();
        let used = memory.cursor.used();
        let mut live = Vec::new();
        for (size, align, block) in results.into_iter().flatten() {
            match block {
                Some(block) if size > 0 => live.push(block),
                Some(_) => {}
                // The offset only grew since the refusal, and so did the
                // aligned start the request would have had.
                None => assert!(
                    align_up(start + used, align.max(8)).unwrap() + size > end,
                    "refused a request of {size} bytes aligned to {align} that fits"
                ),
            }
        }
        settle(memory, &live);
    });
}

/// One thread frees its newest block and allocates again while another
/// allocates zeroed, over-aligned memory and a third frees its own newest
/// block: bytes
/// that come back are handed out again zeroed where asked, and only after
/// their old owner's writes.
#[test]
fn loom_allocate_vs_free_newest() {
    model::check("allocate vs free newest", || {
        let memory = Memory::new(8);
        let m = Arc::clone(&memory);
        let frees_then_allocates = model::spawn(move || {
            let block = m.alloc(16, 8, false, 1).unwrap();
            m.free(block);
            m.alloc(8, 8, true, 2).unwrap()
        });
        let m = Arc::clone(&memory);
        let allocates_zeroed = model::spawn(move || m.alloc(24, 16, true, 3).unwrap());
        model::start_line();
        let block = memory.alloc(8, 8, false, 4).unwrap();
        memory.free(block);
        let live = [
            frees_then_allocates.join().unwrap(),
            allocates_zeroed.join().unwrap(),
        ];
        settle(memory, &live);
    });
}

/// One thread grows its newest block (zeroed) and shrinks it back while
/// another allocates, frees and allocates zeroed, and a third allocates
/// zeroed and grows: in place or by copying, every block keeps its bytes,
/// added bytes read zero, and no block overlaps another.
#[test]
fn loom_allocate_vs_grow_newest() {
    model::check("allocate vs grow/shrink newest", || {
        let memory = Memory::new(16);
        let m = Arc::clone(&memory);
        let grows = model::spawn(move || {
            let block = m.alloc(8, 8, false, 1).unwrap();
            let grown = m.grow(block, 24, true, 2).unwrap();
            m.shrink(grown, 8, 3)
        });
        let m = Arc::clone(&memory);
        let frees = model::spawn(move || {
            let block = m.alloc(16, 8, false, 4).unwrap();
            m.free(block);
            m.alloc(8, 8, true, 5).unwrap()
        });
        model::start_line();
        let block = memory.alloc(8, 8, true, 6).unwrap();
        let mine = memory.grow(block, 16, false, 7).unwrap();
        let live = [grows.join().unwrap(), frees.join().unwrap(), mine];
        settle(memory, &live);
    });
}

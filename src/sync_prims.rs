//! The atomics and the `UnsafeCell` that the lock-free protocols (the
//! atomic cursor in `raw/` and the slots of the region cache) are built
//! of: `core`'s, or loom's in the unit tests built with `--cfg loom`, so
//! that loom's models (`ci/loom.sh`) explore every interleaving of those
//! protocols and check every access to a slot's record against the
//! happens-before order. Modules that hold such a protocol name these
//! types through here, never `core::sync::atomic` directly.
//!
//! Loom's types exist only inside a model (and loom is a dev-dependency),
//! so the switch is `all(test, loom)`: any other build with `--cfg loom`
//! gets `core`'s. Loom's atomics have no `const fn new`: under loom the
//! cache is made at run time, and its process-wide instance is one of
//! loom's per-execution statics.

#[cfg(not(all(test, loom)))]
pub(crate) use core::sync::atomic::{fence, AtomicU8, AtomicUsize, Ordering};
#[cfg(all(test, loom))]
pub(crate) use loom::sync::atomic::{fence, AtomicU8, AtomicUsize, Ordering};

#[cfg(all(test, loom))]
pub(crate) use loom::cell::UnsafeCell;

/// `core::cell::UnsafeCell` with loom's interface: access goes through a
/// closure, which is where loom checks it against other threads' accesses.
#[cfg(not(all(test, loom)))]
pub(crate) struct UnsafeCell<T>(core::cell::UnsafeCell<T>);

#[cfg(not(all(test, loom)))]
impl<T> UnsafeCell<T> {
    pub(crate) const fn new(value: T) -> UnsafeCell<T> {
        UnsafeCell(core::cell::UnsafeCell::new(value))
    }

    /// Calls `f` with a pointer to the value, to read or write it.
    #[inline(always)]
    pub(crate) fn with_mut<R>(&self, f: impl FnOnce(*mut T) -> R) -> R {
        f(self.0.get())
    }
}

/// What the loom models share: running one and counting its executions,
/// and [`Words`], which makes loom check every byte a block holds.
///
/// `unsafe` is allowed here because the models write and read the blocks
/// an allocator hands out through raw pointers, as its users do.
#[cfg(all(test, loom))]
#[allow(unsafe_code)]
pub(crate) mod model {
    use core::ops::Range;
    use core::ptr::{self, NonNull};
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    use super::UnsafeCell;
    use crate::math::MIN_ALIGN;

    /// How many preemptions a model explores when `LOOM_MAX_PREEMPTIONS`
    /// does not say: every deliberately broken protocol the models were
    /// tried on fails within 3, and all of them run in seconds.
    /// `ci/loom.sh` asks for 4.
    const PREEMPTIONS: usize = 3;

    /// Runs `model` under loom for every interleaving of its threads (up to
    /// the preemption bound) and prints how many executions that was.
    pub(crate) fn check(name: &str, model: impl Fn() + Sync + Send + 'static) {
        let mut builder = loom::model::Builder::new();
        if builder.preemption_bound.is_none() {
            builder.preemption_bound = Some(PREEMPTIONS);
        }
        let executions = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&executions);
        builder.check(move || {
            counter.fetch_add(1, Ordering::Relaxed);
            model();
        });
        let executions = executions.load(Ordering::Relaxed);
        println!(
            "loom {name}: {executions} executions (preemption bound {})",
            builder.preemption_bound.unwrap_or(0)
        );
    }

    loom::lazy_static! {
        /// What every thread of a model touches first; see [`start_line`].
        static ref START_LINE: super::AtomicUsize = super::AtomicUsize::new(0);
    }

    /// Crossed by every thread of a model before its first step: the
    /// model's own thread once it has spawned the others, and each spawned
    /// one through [`spawn`]. Loom's exploration misses interleavings when
    /// a new thread's first step is a load (tokio-rs/loom#392: the
    /// schedule branch made at the spawn is never revisited, so the model
    /// runs once per order of the other steps only); a first step that is
    /// a read-modify-write of one shared atomic gives the branches it needs
    /// to order every thread's start against the others'. Relaxed, so it
    /// orders no memory: no happens-before it adds can hide a missing one.
    pub(crate) fn start_line() {
        START_LINE.fetch_add(1, super::Ordering::Relaxed);
    }

    /// [`loom::thread::spawn`], crossing the [`start_line`] first.
    pub(crate) fn spawn<T: Send + 'static>(
        body: impl FnOnce() -> T + Send + 'static,
    ) -> loom::thread::JoinHandle<T> {
        loom::thread::spawn(move || {
            start_line();
            body()
        })
    }

    /// A loom cell for each 8-byte word of some memory an allocator hands
    /// out, through which a model writes and reads every block it gets. Loom
    /// fails the model when a thread touches a word whose previous access
    /// does not happen before it: a byte handed to two threads at once, or
    /// handed on without the release/acquire pair that makes the old
    /// owner's writes visible to the new one. The bytes themselves hold a
    /// tag per block, so an overlap between blocks shows as a wrong tag
    /// even where loom's order allowed it.
    pub(crate) struct Words {
        /// Address of the first word.
        base: usize,
        cells: Vec<UnsafeCell<()>>,
    }

    // SAFETY: the cells hold nothing; they exist to be accessed from many
    // threads, each access checked by loom.
    unsafe impl Send for Words {}
    // SAFETY: as for `Send`.
    unsafe impl Sync for Words {}

    /// A block a model holds: where, how many bytes, and the tag in them.
    #[derive(Clone, Copy, Debug)]
    pub(crate) struct Block {
        pub(crate) ptr: NonNull<u8>,
        pub(crate) len: usize,
        pub(crate) tag: u8,
    }

    // SAFETY: a `Block` is an address and a length; the model thread that
    // holds it owns the bytes, as the allocator's user would.
    unsafe impl Send for Block {}

    impl Block {
        /// The block's address range.
        pub(crate) fn range(&self) -> Range<usize> {
            let start = self.ptr.addr().get();
            start..start + self.len
        }
    }

    impl Words {
        /// Cells for `len` bytes (a multiple of 8) at `base`.
        pub(crate) fn new(base: NonNull<u8>, len: usize) -> Words {
            assert!(base.addr().get() % MIN_ALIGN == 0 && len % MIN_ALIGN == 0);
            Words {
                base: base.addr().get(),
                cells: (0..len / MIN_ALIGN).map(|_| UnsafeCell::new(())).collect(),
            }
        }

        /// The cells of `len` bytes at `ptr`, which must lie in the memory
        /// and start on a word.
        fn cells(&self, ptr: NonNull<u8>, len: usize) -> &[UnsafeCell<()>] {
            let offset = ptr.addr().get().checked_sub(self.base);
            let offset = offset.expect("block before the memory");
            assert!(offset % MIN_ALIGN == 0, "block not 8-aligned");
            let first = offset / MIN_ALIGN;
            let end = first + len.div_ceil(MIN_ALIGN);
            assert!(end <= self.cells.len(), "block past the memory");
            &self.cells[first..end]
        }

        /// Takes `block`: writes its tag into every byte, after checking
        /// that it holds `before` (`Some(0)` for a zeroed block).
        ///
        /// # Safety
        ///
        /// * The allocator handed `block` to this thread, live and valid for
        ///   `block.len` bytes.
        pub(crate) unsafe fn fill(&self, block: Block, before: Option<u8>) {
            if let Some(before) = before {
                // SAFETY: the caller's contract.
                unsafe { self.expect(block.ptr, block.len, before) };
            }
            for cell in self.cells(block.ptr, block.len) {
                cell.with_mut(|_| ());
            }
            // SAFETY: the caller's contract.
            unsafe { ptr::write_bytes(block.ptr.as_ptr(), block.tag, block.len) };
        }

        /// Checks that every one of `len` bytes at `ptr` holds `tag`.
        ///
        /// # Safety
        ///
        /// * As for [`fill`](Self::fill): the bytes are this thread's.
        pub(crate) unsafe fn expect(&self, ptr: NonNull<u8>, len: usize, tag: u8) {
            for cell in self.cells(ptr, len) {
                cell.with(|_| ());
            }
            // SAFETY: the caller's contract.
            let bytes = unsafe { core::slice::from_raw_parts(ptr.as_ptr(), len) };
            if let Some(at) = bytes.iter().position(|&b| b != tag) {
                panic!("byte {at} of {ptr:?} is {:#x}, not {tag:#x}", bytes[at]);
            }
        }
    }

    /// Checks that no two of `blocks` overlap and that each still holds
    /// its tag: what the threads were handed at once was theirs alone.
    ///
    /// # Safety
    ///
    /// * Every block is live, and no other thread uses it any more.
    pub(crate) unsafe fn assert_disjoint(words: &Words, blocks: &[Block]) {
        let mut ranges: Vec<Range<usize>> = blocks.iter().map(Block::range).collect();
        ranges.sort_by_key(|range| range.start);
        for pair in ranges.windows(2) {
            assert!(pair[0].end <= pair[1].start, "blocks overlap: {pair:?}");
        }
        for block in blocks {
            // SAFETY: the caller's contract.
            unsafe { words.expect(block.ptr, block.len, block.tag) };
        }
    }
}

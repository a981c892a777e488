//! [`Exhausted`]: what an allocator's `Allocator` impl does with a request
//! it cannot serve, and the panic it raises under [`Exhausted::Panic`].
#![forbid(unsafe_code)]

use core::alloc::Layout;
use core::fmt;

use crate::error::Error;

/// What an allocator's [`Allocator`](allocator_api2::alloc::Allocator)
/// impl does when a request does not fit, set with `on_exhausted` on its
/// builder.
///
/// The trait's contract is to return `AllocError`, and that is the
/// default. But collections (`Vec`, `hashbrown::HashMap`, `Box`) answer
/// that error from their infallible methods (`push`, `insert`, `new_in`)
/// with `handle_alloc_error`, which
/// **aborts the process**: a fuzzer reports a crash, and a property test
/// dies without shrinking. With `Panic` the allocator panics instead, with
/// its numbers, so the collection's growth unwinds: `catch_unwind` catches
/// it, proptest shrinks it, and the collection stays valid (its old buffer
/// and contents are untouched, as for any panic in an allocator).
///
/// The methods that return errors (`try_alloc*`, [`TryVec`](crate::TryVec),
/// `try_reserve`) ask the allocator too, so under `Panic` they panic as
/// well: choose `Error` for code that handles errors, `Panic` for code
/// that would otherwise abort. The `alloc*` methods panic under either.
///
/// ```
/// use anon_arena::{Arena, Exhausted};
/// use anon_arena::allocator_api2::vec::Vec;
///
/// let arena = Arena::builder().capacity(4096).on_exhausted(Exhausted::Panic).build()?;
/// let mut v: Vec<u64, _> = Vec::new_in(&arena);
/// let grown = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
///     v.extend(0..10_000) // 80 KB in a 4 KiB arena
/// }));
/// let message = grown.unwrap_err().downcast::<String>().unwrap();
/// assert!(message.starts_with("Arena: cannot allocate"), "{message}");
/// assert!(v.iter().copied().eq(0..v.len() as u64), "the Vec is intact");
/// # Ok::<(), anon_arena::Error>(())
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Exhausted {
    /// Return `AllocError`, as the `Allocator` trait says (the default).
    #[default]
    Error,
    /// Panic with a message naming the allocator, the request, what was
    /// left, the capacity and the allocation limit.
    Panic,
}

/// The numbers an [`Exhausted::Panic`] message shows, besides the error.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Bounds {
    /// The allocator's capacity, in its unit (`unit`).
    pub(crate) capacity: usize,
    /// The allocation limit in bytes, if one is set.
    pub(crate) limit: Option<usize>,
    /// "bytes", or "slots" for a pool.
    pub(crate) unit: &'static str,
}

impl fmt::Display for Bounds {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "capacity {} {}", self.capacity, self.unit)?;
        match self.limit {
            Some(limit) => write!(f, ", allocation limit {limit} bytes"),
            None => Ok(()),
        }
    }
}

/// Panics for a request the `Allocator` impl of `allocator` refused under
/// [`Exhausted::Panic`]: "`Arena`: cannot allocate 8000 bytes aligned to 8
/// through `Allocator`: out of capacity: … (capacity …)".
#[cold]
#[inline(never)]
pub(crate) fn refused(
    allocator: &dyn fmt::Display,
    layout: Layout,
    error: Error,
    bounds: Bounds,
) -> ! {
    panic!(
        "{allocator}: cannot allocate {} bytes aligned to {} through `Allocator`: {error} ({bounds})",
        layout.size(),
        layout.align()
    )
}

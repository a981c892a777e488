//! [`Builder`]: the one builder shape every type in the crate shares.
#![forbid(unsafe_code)]

use core::marker::PhantomData;

use crate::cache::RegionCache;
use crate::error::Error;
use crate::exhausted::Exhausted;
use crate::region::{Backing, Region, RegionOptions};

mod harden;

/// Address-space sizes `Arena::new` and its kin try in turn: as much as is
/// cheap to reserve, then less where the OS limits overcommit. Miri keeps
/// every byte in host memory, so it gets a small one.
const DEFAULT_CAPACITIES: &[usize] = if cfg!(miri) {
    &[64 << 20]
} else if cfg!(target_pointer_width = "64") {
    &[4 << 30, 1 << 30, 256 << 20]
} else {
    &[256 << 20, 64 << 20]
};

/// Configures the [`Region`](crate::Region) behind an allocator of type `K`
/// before it is created: `K::builder()`, the region options, a size, then
/// `.build()`.
///
/// The region options are the same for every `K`; the size method differs
/// (`.len(bytes)` for a `Region`, `.capacity(bytes)` for the arenas,
/// `.slots(n)` for a pool), as does what `.build()` returns.
///
/// ```
/// use anon_arena::{Arena, Backing};
///
/// let arena = Arena::builder()
///     .capacity(1 << 20)
///     .guard_pages(true)
///     .populate(true)
///     .backing(Backing::DevZero)
///     .build()?;
/// assert_eq!(arena.capacity(), 1 << 20);
/// # Ok::<(), anon_arena::Error>(())
/// ```
#[must_use = "a builder does nothing until `.build()` is called"]
pub struct Builder<K> {
    pub(crate) options: RegionOptions,
    /// The size asked for, in the unit `K` documents (bytes or slots);
    /// `None` picks `K`'s default.
    pub(crate) size: Option<usize>,
    /// Arenas: whether the mapping may come from a cache and go back to one.
    pub(crate) recycle: bool,
    /// Arenas: the cache `build` takes the mapping from and the arena parks
    /// it in when it drops.
    pub(crate) cache: &'static RegionCache,
    /// Arenas and pools: what the `Allocator` impl does with a request
    /// that does not fit.
    pub(crate) on_exhausted: Exhausted,
    _kind: PhantomData<fn() -> K>,
}

// By hand: a derive would ask `K: Clone`, and `K` is only a marker.
impl<K> Clone for Builder<K> {
    fn clone(&self) -> Self {
        Builder {
            options: self.options,
            size: self.size,
            recycle: self.recycle,
            cache: self.cache,
            on_exhausted: self.on_exhausted,
            _kind: PhantomData,
        }
    }
}

impl<K> Builder<K> {
    pub(crate) fn new() -> Self {
        Builder {
            options: RegionOptions::new(0),
            size: None,
            recycle: true,
            cache: RegionCache::default_cache(),
            on_exhausted: Exhausted::Error,
            _kind: PhantomData,
        }
    }

    /// Maps one `PROT_NONE` page right after the last usable byte, so that a
    /// write running off the end faults instead of corrupting a neighbour.
    /// Off by default; costs one `mprotect` at creation.
    ///
    /// ```
    /// let arena = anon_arena::Arena::builder().capacity(4096).guard_pages(true).build()?;
    /// assert_eq!(arena.capacity(), 4096);
    /// # Ok::<(), anon_arena::Error>(())
    /// ```
    pub fn guard_pages(mut self, on: bool) -> Self {
        self.options.guard_pages = on;
        self
    }

    /// `true`: aligns the region to 2 MiB and advises all of it
    /// `MADV_HUGEPAGE` (far fewer page faults, memory committed 2 MiB at a
    /// time), failing if the kernel refuses. `false`: no huge pages, e.g.
    /// where compaction stalls on first touch are unwelcome. Unset, a
    /// private region of 64 MiB or more gets them past its first 256 KiB,
    /// best effort (see the crate docs' table of allocators).
    ///
    /// ```
    /// let arena = anon_arena::Arena::builder().capacity(8 << 20).huge_pages(true).build()?;
    /// assert_eq!(arena.capacity(), 8 << 20);
    /// # Ok::<(), anon_arena::Error>(())
    /// ```
    pub fn huge_pages(mut self, on: bool) -> Self {
        self.options.huge_pages = Some(on);
        self
    }

    /// Commits every page at creation (`MAP_POPULATE`) instead of on first
    /// touch: the cost of the page faults is paid up front, once.
    ///
    /// ```
    /// let arena = anon_arena::Arena::builder().capacity(1 << 16).populate(true).build()?;
    /// assert_eq!(arena.remaining(), 1 << 16);
    /// # Ok::<(), anon_arena::Error>(())
    /// ```
    pub fn populate(mut self, on: bool) -> Self {
        self.options.populate = on;
        self
    }

    /// Where the pages come from: [`Backing::Anonymous`] (the default) or
    /// [`Backing::DevZero`].
    ///
    /// ```
    /// use anon_arena::{Arena, Backing};
    /// let arena = Arena::builder().capacity(4096).backing(Backing::DevZero).build()?;
    /// assert_eq!(*arena.alloc(5u64), 5);
    /// # Ok::<(), anon_arena::Error>(())
    /// ```
    pub fn backing(mut self, backing: Backing) -> Self {
        self.options.backing = backing;
        self
    }
}

impl Region {
    /// A builder for a region with guard pages, huge pages, populate or
    /// `/dev/zero` backing.
    ///
    /// ```
    /// use anon_arena::{Backing, Region};
    ///
    /// let region = Region::builder()
    ///     .len(1 << 20)
    ///     .guard_pages(true)
    ///     .backing(Backing::DevZero)
    ///     .build()?;
    /// assert_eq!(region.len(), 1 << 20);
    /// # Ok::<(), anon_arena::Error>(())
    /// ```
    pub fn builder() -> Builder<Region> {
        Builder::new()
    }
}

impl Builder<Region> {
    /// The region's length in bytes, rounded up to whole pages.
    ///
    /// ```
    /// let region = anon_arena::Region::builder().len(100).build()?;
    /// assert_eq!(region.len(), rustix::param::page_size());
    /// # Ok::<(), anon_arena::Error>(())
    /// ```
    pub fn len(mut self, bytes: usize) -> Self {
        self.size = Some(bytes);
        self
    }

    /// Maps the region `MAP_SHARED` instead of `MAP_PRIVATE`: children
    /// forked afterwards see the same pages, and writes on either side are
    /// visible to the other.
    ///
    /// ```
    /// let region = anon_arena::Region::builder().len(4096).shared(true).build()?;
    /// assert_eq!(region.len(), 4096);
    /// # Ok::<(), anon_arena::Error>(())
    /// ```
    pub fn shared(mut self, on: bool) -> Self {
        self.options.shared = on;
        self
    }

    /// Creates the mapping.
    ///
    /// # Errors
    ///
    /// [`Error::MapFailed`](crate::Error::MapFailed) when the kernel refuses
    /// it; [`Error::LayoutOverflow`](crate::Error::LayoutOverflow) for a
    /// length that cannot be rounded up to pages.
    ///
    /// ```
    /// let region = anon_arena::Region::builder().len(1 << 20).build()?;
    /// assert!(!region.as_ptr().is_null());
    /// # Ok::<(), anon_arena::Error>(())
    /// ```
    pub fn build(self) -> Result<Region, Error> {
        Region::map(&self.options_with_len(self.size.unwrap_or(0)))
    }
}

impl<K> Builder<K> {
    /// The region options with the given byte length.
    pub(crate) fn options_with_len(&self, len: usize) -> RegionOptions {
        RegionOptions {
            len,
            ..self.options
        }
    }

    /// Calls `build` with the size asked for or, without one, with each
    /// default capacity in turn until the OS grants one (`from_bytes` turns
    /// a capacity in bytes into `K`'s unit); the last error if none is.
    pub(crate) fn build_sized<T>(
        &self,
        from_bytes: impl Fn(usize) -> usize,
        mut build: impl FnMut(usize) -> Result<T, Error>,
    ) -> Result<T, Error> {
        if let Some(size) = self.size {
            return build(size);
        }
        let mut last_error = Error::LayoutOverflow;
        for &bytes in DEFAULT_CAPACITIES {
            match build(from_bytes(bytes)) {
                Ok(built) => return Ok(built),
                Err(error) => last_error = error,
            }
        }
        Err(last_error)
    }
}

/// Maps a new region of the size `builder` asks for, or else of the first
/// default capacity the OS grants, through the builder's cache (which gives
/// back what it holds if the OS refuses); the `usize` is 0, the bytes that
/// may hold old data.
pub(crate) fn map_region<K>(builder: &Builder<K>) -> Result<(Region, usize), Error> {
    builder.build_sized(
        |bytes| bytes,
        |bytes| builder.cache.map(&builder.options_with_len(bytes), false),
    )
}

impl<K> core::fmt::Debug for Builder<K> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Builder")
            .field("size", &self.size)
            .field("options", &self.options)
            .field("recycle", &self.recycle)
            .field("on_exhausted", &self.on_exhausted)
            .finish()
    }
}

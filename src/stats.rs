//! [`Stats`] and [`PoolStats`]: snapshots of an allocator's counters, for
//! tests, logs and sizing a fuzz harness's cap.
#![forbid(unsafe_code)]

use core::fmt;

/// A snapshot of a bump allocator's counters, from `stats()` on
/// [`Arena`](crate::Arena), [`StackArena`](crate::StackArena) and
/// [`SyncArena`](crate::SyncArena). All numbers are bytes. `Display` prints
/// them on one line.
///
/// ```
/// let mut arena = anon_arena::Arena::with_capacity(1 << 20);
/// arena.set_allocation_limit(Some(16 << 10));
/// arena.alloc_slice_fill_copy(1000, 0u64);
/// arena.reset();
/// arena.alloc(1u64);
/// let stats = arena.stats();
/// assert_eq!((stats.allocated, stats.high_water, stats.limit), (8, 8000, Some(16384)));
/// assert_eq!(
///     stats.to_string(),
///     "8 bytes allocated, 16376 remaining (limit 16384), capacity 1048576, \
///      high-water mark 8000, 0 released"
/// );
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Stats {
    /// Bytes allocated now, alignment padding included: `allocated_bytes()`.
    pub allocated: usize,
    /// Bytes that can still be allocated, below the limit if one is set:
    /// `remaining()`.
    pub remaining: usize,
    /// The allocation limit, if one is set: `allocation_limit()`.
    pub limit: Option<usize>,
    /// Bytes the mapping holds: `capacity()`.
    pub capacity: usize,
    /// The most bytes ever allocated at once since the allocator was made
    /// (resets and releases included): what a cap must allow.
    pub high_water: usize,
    /// Bytes handed back to the OS by `release`, summed over the
    /// allocator's life (whole pages).
    pub released: usize,
}

impl fmt::Display for Stats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} bytes allocated, {} remaining",
            self.allocated, self.remaining
        )?;
        if let Some(limit) = self.limit {
            write!(f, " (limit {limit})")?;
        }
        write!(
            f,
            ", capacity {}, high-water mark {}, {} released",
            self.capacity, self.high_water, self.released
        )
    }
}

/// A snapshot of a [`Pool`](crate::Pool)'s counters, from
/// [`Pool::stats`](crate::Pool::stats): counted in slots. `Display` prints
/// them on one line.
///
/// ```
/// let pool = anon_arena::Pool::<u64>::with_capacity(100);
/// let a = pool.alloc(1);
/// let _b = pool.alloc(2);
/// drop(a);
/// let stats = pool.stats();
/// assert_eq!((stats.live, stats.touched, stats.capacity), (1, 2, 100));
/// assert_eq!(stats.to_string(), "1 of 100 slots live (8 bytes each), 2 touched");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct PoolStats {
    /// Slots live now: `len()`.
    pub live: usize,
    /// Slots in the pool: `capacity()`.
    pub capacity: usize,
    /// Slots ever handed out, whose memory has been touched: the pool's
    /// high-water mark.
    pub touched: usize,
    /// Bytes per slot: `slot_size()`.
    pub slot_size: usize,
}

impl fmt::Display for PoolStats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} of {} slots live ({} bytes each), {} touched",
            self.live, self.capacity, self.slot_size, self.touched
        )
    }
}

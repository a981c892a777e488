#![doc = include_str!("../README.md")]
#![cfg_attr(not(any(feature = "std", test)), no_std)]
#![deny(unsafe_code)]
#![cfg_attr(feature = "nightly", feature(allocator_api))]
// `nightly` turns allocator-api2's `nightly` on, which makes its `Vec` the
// standard one, whose `TryReserveError::kind` `TryVec` reads.
#![cfg_attr(
    all(feature = "nightly", feature = "collections"),
    feature(try_reserve_kind)
)]
#![cfg_attr(docsrs, feature(doc_cfg))]
// With no `Allocator` trait enabled, the operations behind the trait impls
// (resize, free, zeroed allocation) have no caller; they stay compiled so
// that every feature combination checks the same code.
#![cfg_attr(
    not(any(
        feature = "allocator-api2-02",
        feature = "allocator-api2-03",
        feature = "allocator-api2-04",
        feature = "nightly"
    )),
    allow(dead_code)
)]

mod alloc_api;
mod alloc_fmt;
mod alloc_methods;
mod arena;
mod arena_constructors;
mod asan;
mod builder;
mod bump_methods;
mod bump_ref;
mod cache;
pub mod collections;
mod error;
mod exhausted;
mod fill;
mod frozen;
mod init_error;
mod mapped;
mod math;
mod pages;
mod pool;
mod raw;
mod region;
mod shared;
mod stack;
mod stats;
mod sync;
mod sync_prims;

pub use arena::Arena;
pub use builder::Builder;
pub use bump_ref::BumpRef;
pub use cache::{set_recycling, trim, RegionCache};
pub use collections::ArenaBox;
pub use collections::ReportsRemaining;
#[cfg(feature = "collections")]
pub use collections::TryVec;
#[cfg(feature = "collections")]
pub use collections::{CollectIn, FromIteratorIn};
pub use error::Error;
pub use exhausted::Exhausted;
pub use frozen::{FrozenArena, FrozenRoot};
pub use init_error::AllocOrInitError;
pub use pages::PageAllocator;
pub use pool::{Pool, PoolBox};
pub use region::{Backing, Region};
pub use shared::{
    NoPadding, SharedArena, SharedCell, SharedRing, SharedSafe, TryRecvError, TrySendError,
    Zeroable,
};
pub use stack::{Mark, Scope, ScopeGuard, StackArena};
pub use stats::{PoolStats, Stats};
pub use sync::{LocalArena, SyncArena};

/// The allocator-api2 version (0.2) whose `Allocator` trait the default
/// impls implement, and which `hashbrown` uses: name collections through
/// it (`anon_arena::allocator_api2::vec::Vec`), or depend on the same
/// version (`cargo add allocator-api2@0.2`). A plain
/// `cargo add allocator-api2` picks a newer version, whose `Vec` then
/// rejects `&Arena` with E0277 ("multiple different versions of crate
/// `allocator_api2`").
#[cfg(feature = "allocator-api2-02")]
pub use allocator_api2;

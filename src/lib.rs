#![doc = include_str!("../README.md")]
#![cfg_attr(not(any(feature = "std", test)), no_std)]
#![deny(unsafe_code)]
#![cfg_attr(feature = "nightly", feature(allocator_api))]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod alloc_api;
mod arena;
mod asan;
mod builder;
mod error;
pub mod math;
mod raw;
mod region;
mod surface;

pub use arena::Arena;
pub use builder::Builder;
pub use error::Error;
pub use region::{Backing, Region};

//! The integration tests: one binary, one module per public type, all
//! through the public API only.

mod alloc_api;
mod arena;
mod asan;
mod checker;
mod common;
mod ecosystem;
mod exhausted;
mod limit;
mod model;
mod pages;
mod pool;
mod readme;
mod recycle;
mod region;
mod scope;
mod shared;
mod shared_ipc;
mod stack;
mod stats;
mod sync;
mod sync_local;
mod try_vec;
mod unwind;

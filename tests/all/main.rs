//! The integration tests: one binary, one module per public type, all
//! through the public API only.

mod alloc_api;
mod arena;
mod asan;
mod boxes;
mod checker;
mod common;
mod ecosystem;
mod every_bump;
mod exhausted;
mod frozen;
mod harden;
mod iter;
mod limit;
mod model;
mod pages;
mod panic_messages;
mod pool;
mod readme;
mod recycle;
mod region;
mod rewind;
mod scope;
mod shared;
mod shared_ipc;
mod stack;
mod stats;
mod sync;
mod sync_leases;
mod sync_local;
mod text;
mod try_vec;
mod unwind;
mod vec_drive;

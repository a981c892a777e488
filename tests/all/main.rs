//! The integration tests: one binary, one module per public type, all
//! through the public API only.

mod alloc_api;
mod arena;
mod asan;
mod boxes;
mod checker;
mod common;
mod every_bump;
mod frozen;
mod harden;
mod iter;
mod model;
mod pages;
mod panic_messages;
mod pool;
mod recycle;
mod region;
mod rewind;
mod shared;
mod shared_ipc;
mod stack;
mod sync;
mod sync_leases;
mod sync_local;
mod text;
mod vec_drive;

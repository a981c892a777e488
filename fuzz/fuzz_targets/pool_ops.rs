//! `Pool<T>`'s boxes (`try_alloc`, drop, `into_inner`) and `Allocator`
//! blocks (allocate, grow, shrink, deallocate) under the shared checker's
//! slot and count rules.
#![no_main]

mod asan_options;
mod session;

session::session_target!(anon_arena_model::pool_ops::Session);

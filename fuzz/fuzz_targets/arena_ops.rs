//! `Arena`'s own surface (`alloc*`, `try_*`, `ArenaBox` of values, slices
//! and `str`, `freeze` / `thaw`, reset, release) against the exact cursor
//! model and the shared checker.
#![no_main]

mod asan_options;
mod session;

session::session_target!(anon_arena_model::arena_ops::Session);

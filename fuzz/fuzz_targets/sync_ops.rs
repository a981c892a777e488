//! `SyncArena`'s surface from the arena (through this thread's cached
//! lease, which other arenas move aside or evict) and from `LocalArena`
//! handles, single-threaded, with resets between, under the shared checker.
#![no_main]

mod asan_options;
mod session;

session::session_target!(anon_arena_model::sync_ops::Session);

//! The crate's collections (`String`, `Vec` through `TryVec`,
//! `collect_in`, leaks) in an `Arena` under an allocation limit the
//! program moves, each against a `std` twin, under the shared checks.
#![no_main]

mod asan_options;
mod session;

session::session_target!(anon_arena_model::collections_ops::Session);

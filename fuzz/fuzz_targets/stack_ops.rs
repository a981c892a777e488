//! `StackArena`'s marks, nested scopes (`scope_guard`) and LIFO pop / grow /
//! shrink through the `Allocator` trait, under the shared checker's scope
//! rule.
#![no_main]

mod asan_options;
mod session;

session::session_target!(anon_arena_model::stack_ops::Session);

//! The integration tests: one binary, one module per public type, all
//! through the public API only.

mod alloc_api;
mod arena;
mod common;
mod props;
mod region;
mod stack;
mod stack_props;

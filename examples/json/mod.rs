//! A complete RFC 8259 JSON parser, measured with its tree in an
//! [`anon_arena::Arena`], in `bumpalo::Bump` and in the global allocator,
//! each built the way that allocator's users would build it (see
//! [`build`]): `Box`es in the global heap, `&'t` slices and strings in the
//! two arenas.
//!
//! Unescaped strings borrow from the input; everything else (containers,
//! strings that contained escapes) is allocated by the caller's [`Build`],
//! each at its exact final size so that bump allocators waste nothing on
//! growth.
//!
//! This module is shared, not copied: `examples/json.rs` (the demo) and
//! `benches/json.rs` both include it with `#[path]`, under the name `json`
//! (its files refer to each other as `crate::json::…`). Not every program
//! uses every item, hence the `dead_code` allowance at each include site.

pub mod build;
pub mod error;
pub mod fuzz;
pub mod generate;
pub mod keys;
pub mod number;
pub mod parser;
pub mod scan;
pub mod serialize;
pub mod tree;
pub mod unescape;

#[cfg(test)]
mod tests;

pub use build::Build;
pub use error::{ErrorKind, ParseError};
pub use fuzz::fuzz_one;
pub use generate::{generate, DEFAULT_SEED};
pub use keys::distinct_keys;
pub use parser::{parse, parse_bytes, Tree, MAX_DEPTH};
pub use serialize::{to_string, write_value};
pub use tree::{Heap, Member, Slices, Store, Str, TreeStats, Value};

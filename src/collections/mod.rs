//! Collections for arenas, with bumpalo's names: [`String`], [`Vec`]
//! (allocator-api2 0.2's, re-exported so that one import line covers
//! both), the [`format!`](crate::format!) and [`vec!`](crate::vec!) macros,
//! [`CollectIn`], and the owning box [`ArenaBox`].
//!
//! `String` and `Vec` take their allocator as a parameter, so the same
//! types live in an `Arena` (`String<&Arena>`), a `StackArena` scope, a
//! `LocalArena` handle, or the global heap (`String<Global>`). They need
//! the `collections` feature (on by default); `ArenaBox` does not.
//!
//! ```
//! use anon_arena::collections::{String, Vec};
//! use anon_arena::{Arena, CollectIn};
//!
//! let arena = Arena::with_capacity(1 << 16);
//! let words: Vec<&str, _> = "a bump arena".split(' ').collect_in(&arena);
//! let mut title = String::new_in(&arena);
//! for word in &words {
//!     title.push_str(&word.to_uppercase());
//! }
//! assert_eq!(title, "ABUMPARENA");
//! ```

mod boxed;
#[cfg(feature = "collections")]
mod collect_in;
#[cfg(feature = "collections")]
mod macros;
#[cfg(feature = "collections")]
mod string;
mod try_vec;

pub(crate) use boxed::dealloc;
pub use boxed::ArenaBox;

#[cfg(feature = "collections")]
pub use allocator_api2::collections::TryReserveError;
#[cfg(feature = "collections")]
pub use allocator_api2::vec::Vec;
#[cfg(feature = "collections")]
pub use collect_in::{CollectIn, FromIteratorIn};
#[cfg(feature = "collections")]
pub use string::{FromUtf8Error, String};
pub use try_vec::ReportsRemaining;
#[cfg(feature = "collections")]
pub use try_vec::TryVec;

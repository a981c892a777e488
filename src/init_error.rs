//! [`AllocOrInitError`]: the error of `try_alloc_try_with`, which can fail
//! in two ways.

use core::fmt;

use crate::error::Error;

/// Why `try_alloc_try_with` failed: the arena had no room (the initialiser
/// was not called), or the initialiser returned an error (its block was
/// given back if it was still the newest). bumpalo's type of the same name,
/// with this crate's [`Error`].
///
/// ```
/// use anon_arena::{AllocOrInitError, Arena};
///
/// let arena = Arena::with_capacity(4096);
/// let failed = arena.try_alloc_try_with(|| "x".parse::<u32>());
/// assert!(matches!(failed, Err(AllocOrInitError::Init(_))));
/// assert_eq!(arena.allocated_bytes(), 0);
///
/// let too_big = arena.try_alloc_try_with(|| Ok::<_, ()>([0u8; 8192]));
/// assert!(matches!(too_big, Err(AllocOrInitError::Alloc(anon_arena::Error::Exhausted { .. }))));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AllocOrInitError<E> {
    /// The arena could not hold the value; the initialiser did not run.
    Alloc(Error),
    /// The initialiser failed with this error.
    Init(E),
}

impl<E> From<Error> for AllocOrInitError<E> {
    fn from(error: Error) -> Self {
        AllocOrInitError::Alloc(error)
    }
}

impl<E: fmt::Display> fmt::Display for AllocOrInitError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AllocOrInitError::Alloc(error) => write!(f, "allocation failed: {error}"),
            AllocOrInitError::Init(error) => write!(f, "initialisation failed: {error}"),
        }
    }
}

#[cfg(feature = "std")]
impl<E: std::error::Error + 'static> std::error::Error for AllocOrInitError<E> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            AllocOrInitError::Alloc(error) => Some(error),
            AllocOrInitError::Init(error) => Some(error),
        }
    }
}

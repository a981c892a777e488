//! The one error type every fallible operation of this crate returns.

use core::fmt;

/// Why a region could not be mapped or an allocation could not be served.
///
/// `try_*` methods return it; the panicking forms format it into their
/// panic message, so both say the same thing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// The kernel refused a mapping call (`mmap`, `mprotect`, `madvise`, or
    /// opening `/dev/zero`).
    MapFailed {
        /// The system call that failed.
        call: &'static str,
        /// How many bytes were asked for.
        len: usize,
        /// The OS error.
        errno: rustix::io::Errno,
    },
    /// The allocator has not enough room left.
    Exhausted {
        /// Bytes the request needed, including alignment padding.
        requested: usize,
        /// Bytes that were still free.
        remaining: usize,
    },
    /// A size or alignment computation overflowed: the `Layout` (or slice
    /// length, or capacity) is larger than any address space.
    LayoutOverflow,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Error::MapFailed { call, len, errno } => {
                write!(f, "{call} of {len} bytes failed: {errno}")
            }
            Error::Exhausted {
                requested,
                remaining,
            } => write!(
                f,
                "out of capacity: {requested} bytes requested, {remaining} bytes remaining"
            ),
            Error::LayoutOverflow => f.write_str("size or alignment overflows the address space"),
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::MapFailed { errno, .. } => Some(errno),
            _ => None,
        }
    }
}

#[cfg(feature = "std")]
impl From<Error> for std::io::Error {
    fn from(error: Error) -> Self {
        match error {
            Error::MapFailed { errno, .. } => {
                std::io::Error::from_raw_os_error(errno.raw_os_error())
            }
            Error::Exhausted { .. } => std::io::Error::new(std::io::ErrorKind::OutOfMemory, error),
            Error::LayoutOverflow => std::io::Error::new(std::io::ErrorKind::InvalidInput, error),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_the_numbers() {
        let e = Error::Exhausted {
            requested: 100,
            remaining: 7,
        };
        assert_eq!(
            e.to_string(),
            "out of capacity: 100 bytes requested, 7 bytes remaining"
        );
    }

    #[cfg(feature = "std")]
    #[test]
    fn converts_to_io_error() {
        let io: std::io::Error = Error::MapFailed {
            call: "mmap",
            len: 1,
            errno: rustix::io::Errno::NOMEM,
        }
        .into();
        assert_eq!(
            io.raw_os_error(),
            Some(rustix::io::Errno::NOMEM.raw_os_error())
        );
        let io: std::io::Error = Error::LayoutOverflow.into();
        assert_eq!(io.kind(), std::io::ErrorKind::InvalidInput);
    }
}

//! The one error type every fallible operation of this crate returns.

use core::fmt;

/// Why a region could not be mapped or an allocation could not be served.
///
/// `try_*` methods return it; the panicking forms format it into their
/// panic message, so both say the same thing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
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
    /// An allocator that does not say how much it has left (one from
    /// another crate, the global heap, [`PageAllocator`](crate::PageAllocator))
    /// refused a request: what [`TryVec`](crate::TryVec) reports for it.
    AllocFailed {
        /// Bytes of the block asked for.
        requested: usize,
    },
    /// A size or alignment computation overflowed: the `Layout` (or slice
    /// length, or capacity) is larger than any address space.
    LayoutOverflow,
    /// `mlock2` refused to lock a mapping made with
    /// [`Builder::lock`](crate::Builder::lock): usually because the
    /// whole mapping counts against `RLIMIT_MEMLOCK` at once, touched or
    /// not, and that limit is small by default (often 8 MiB).
    LockFailed {
        /// Bytes the mapping asked to lock: its whole capacity.
        requested: usize,
        /// The soft `RLIMIT_MEMLOCK` in bytes (`ulimit -l`, in KiB), or
        /// `None` when unlimited. Bytes the process has locked already
        /// count against it too.
        limit: Option<u64>,
        /// The OS error (`ENOMEM` over the limit, `EPERM` when it is 0).
        errno: rustix::io::Errno,
    },
    /// A builder option that cannot apply to what is being built, refused
    /// before anything is mapped (such as
    /// [`wipe_on_fork`](crate::Builder::wipe_on_fork) on a `SharedArena`).
    Unsupported {
        /// The builder option.
        option: &'static str,
        /// Why it cannot apply.
        why: &'static str,
    },
    /// A `StackArena` was given a `Mark` taken from a different arena.
    ForeignMark,
    /// A `StackArena` was given a `Mark` outside its live stack: above the
    /// top (the stack has been popped below it since) or below the floor
    /// (taken outside the scope that is open now). Offsets are in bytes
    /// from the arena's start.
    MarkOutOfRange {
        /// Where the mark points.
        mark: usize,
        /// The start of the innermost open scope (0 outside any scope).
        floor: usize,
        /// The current top of the stack: `allocated_bytes()`.
        top: usize,
    },
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
            Error::AllocFailed { requested } => {
                write!(f, "allocation of {requested} bytes failed")
            }
            Error::LockFailed {
                requested,
                limit: Some(limit),
                errno,
            } => write!(
                f,
                "mlock2(MLOCK_ONFAULT) of {requested} bytes failed: {errno}; RLIMIT_MEMLOCK \
                 allows {limit} bytes locked per process, and a locked mapping counts whole \
                 from the start (give a smaller capacity or raise the limit: `ulimit -l`)"
            ),
            Error::LockFailed {
                requested,
                limit: None,
                errno,
            } => write!(
                f,
                "mlock2(MLOCK_ONFAULT) of {requested} bytes failed: {errno} \
                 (RLIMIT_MEMLOCK is unlimited)"
            ),
            Error::Unsupported { option, why } => write!(f, "{option} is refused: {why}"),
            Error::LayoutOverflow => f.write_str("size or alignment overflows the address space"),
            Error::ForeignMark => f.write_str("the mark was taken from a different StackArena"),
            Error::MarkOutOfRange { mark, top, .. } if mark > top => write!(
                f,
                "stale mark at byte {mark}: the stack top is at byte {top}, the mark's space was freed"
            ),
            Error::MarkOutOfRange { mark, floor, .. } => write!(
                f,
                "mark at byte {mark} lies below the open scope's start at byte {floor}"
            ),
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::MapFailed { errno, .. } | Error::LockFailed { errno, .. } => Some(errno),
            _ => None,
        }
    }
}

#[cfg(feature = "std")]
impl From<Error> for std::io::Error {
    fn from(error: Error) -> Self {
        match error {
            Error::MapFailed { errno, .. } | Error::LockFailed { errno, .. } => {
                std::io::Error::from_raw_os_error(errno.raw_os_error())
            }
            Error::Exhausted { .. } | Error::AllocFailed { .. } => {
                std::io::Error::new(std::io::ErrorKind::OutOfMemory, error)
            }
            Error::LayoutOverflow
            | Error::Unsupported { .. }
            | Error::ForeignMark
            | Error::MarkOutOfRange { .. } => {
                std::io::Error::new(std::io::ErrorKind::InvalidInput, error)
            }
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

    #[test]
    fn mark_errors_say_which_bound() {
        let stale = Error::MarkOutOfRange {
            mark: 64,
            floor: 0,
            top: 16,
        };
        assert_eq!(
            stale.to_string(),
            "stale mark at byte 64: the stack top is at byte 16, the mark's space was freed"
        );
        let outside = Error::MarkOutOfRange {
            mark: 8,
            floor: 32,
            top: 40,
        };
        assert_eq!(
            outside.to_string(),
            "mark at byte 8 lies below the open scope's start at byte 32"
        );
        assert_eq!(
            Error::ForeignMark.to_string(),
            "the mark was taken from a different StackArena"
        );
    }

    #[test]
    fn lock_errors_say_asked_and_limit() {
        let limited = Error::LockFailed {
            requested: 16 << 20,
            limit: Some(8 << 20),
            errno: rustix::io::Errno::NOMEM,
        };
        let text = limited.to_string();
        assert!(text.starts_with("mlock2(MLOCK_ONFAULT) of 16777216 bytes failed: "));
        assert!(
            text.contains("RLIMIT_MEMLOCK allows 8388608 bytes"),
            "{text}"
        );
        let unlimited = Error::LockFailed {
            requested: 16 << 20,
            limit: None,
            errno: rustix::io::Errno::NOMEM,
        };
        assert!(unlimited
            .to_string()
            .ends_with("(RLIMIT_MEMLOCK is unlimited)"));
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

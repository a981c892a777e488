//! [`SharedRing`]: a single-producer, single-consumer ring of
//! variable-length byte messages, for traffic between processes that share
//! a [`SharedArena`](super::SharedArena) (or between threads).
//!
//! # Layout and protocol
//!
//! The ring is a header of two positions, each on its own cache line, and
//! a buffer of `cap` 8-byte words, all atomics. Positions count words from
//! the ring's creation and never wrap (a `u64` of words outlasts any
//! program); word `p` of the stream lives at index `p % cap`. A message is
//! one word holding its length in bytes, then its bytes packed into words,
//! the last one zero-padded.
//!
//! * Only the producer stores `tail`; it writes a message's words at `tail`
//!   (relaxed) and then publishes them with a release store of the new
//!   `tail`. Before writing, it checks the room with an acquire load of
//!   `head`: the consumer's reads of the words it freed happen before the
//!   producer overwrites them.
//! * Only the consumer stores `head`; it loads `tail` (acquire: the
//!   producer's words happen before its reads), reads one message, and
//!   frees its words with a release store of the new `head`.
//!
//! That is the classic single-producer, single-consumer queue; every word
//! is an atomic, so even a misused ring (two producers or two consumers at
//! once, which `fork` makes impossible to rule out by types: both processes
//! hold the same `&SharedRing`) has no data race. Misuse garbles or
//! duplicates messages, or panics when the positions become impossible;
//! every index is taken modulo the buffer's length and every length is
//! checked against what was published and what the caller's buffer holds,
//! so it never reads or writes out of bounds.
//!
//! `unsafe` is allowed here for turning a fresh zeroed block into a
//! `&SharedRing` (a slice-tailed type made from a pointer and a length).
#![allow(unsafe_code)]

use core::alloc::Layout;
use core::fmt;
use core::ptr::{self, NonNull};
use core::sync::atomic::{AtomicU64, Ordering};

use super::marker::SharedSafe;
use super::spin::Backoff;

/// Bytes in a word of the buffer.
const WORD: usize = 8;

/// One position, alone on its cache line so that the producer's and the
/// consumer's stores do not contend for one line.
#[repr(C, align(64))]
struct Line(AtomicU64);

/// A ring of variable-length byte messages from one producer to one
/// consumer, made by [`SharedArena::alloc_ring`](crate::SharedArena::alloc_ring).
///
/// Allocate it before forking; then one process sends, the other receives.
/// For traffic both ways, use two rings:
///
/// ```
/// let arena = anon_arena::SharedArena::with_capacity(1 << 16)?;
/// let (requests, replies) = (arena.alloc_ring(1024), arena.alloc_ring(1024));
///
/// requests.send(b"square 12");
/// // ... a worker process receives, computes, replies ...
/// let mut buf = [0u8; 64];
/// let len = requests.recv(&mut buf);
/// assert_eq!(&buf[..len], b"square 12");
/// replies.send(b"144");
///
/// let len = replies.recv(&mut buf);
/// assert_eq!(&buf[..len], b"144");
/// # Ok::<(), anon_arena::Error>(())
/// ```
///
/// * **One producer and one consumer at a time.** Types cannot enforce it
///   (after `fork` both processes hold the same `&SharedRing`), so it is
///   the protocol's job: decide before forking who sends on which ring.
///   Two senders or two receivers at once cannot corrupt memory, but they
///   lose, mix or duplicate messages, and a receiver panics when it sees
///   positions no single producer could make.
/// * Messages arrive whole and in order. One takes 8 bytes of header plus
///   its length rounded up to 8; [`max_message`](Self::max_message) says
///   the longest that fits.
/// * [`try_send`](Self::try_send) and [`try_recv`](Self::try_recv) never
///   wait; [`send`](Self::send) and [`recv`](Self::recv) wait by spinning,
///   then yielding the CPU (no futex): right for a worker that answers
///   quickly, wasteful for one that waits for long.
/// * A producer that dies mid-message publishes nothing of it; a consumer
///   that dies mid-message frees nothing of it.
#[repr(C)]
pub struct SharedRing {
    /// Words the consumer has taken since creation: `head <= tail`.
    head: Line,
    /// Words the producer has published since creation:
    /// `tail - head <= words.len()`.
    tail: Line,
    /// The buffer: word `p` of the stream is `words[p % words.len()]`;
    /// at least two words (a header and one of payload).
    words: [AtomicU64],
}

// SAFETY: atomics only, no pointer, no `Drop`; all it changes behind `&` it
// changes with atomic operations, and it is never moved (it is unsized,
// made only inside an arena's block).
unsafe impl SharedSafe for SharedRing {}

/// Why [`SharedRing::try_send`] sent nothing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TrySendError {
    /// Not enough room now; the consumer frees some as it receives.
    Full,
    /// The message is longer than the ring can ever hold.
    TooLarge {
        /// The message's length in bytes.
        len: usize,
        /// [`SharedRing::max_message`].
        max: usize,
    },
}

/// Why [`SharedRing::try_recv`] received nothing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TryRecvError {
    /// No message is waiting.
    Empty,
    /// The next message is longer than the buffer; it stays in the ring.
    BufferTooSmall {
        /// The message's length in bytes.
        needed: usize,
    },
}

impl SharedRing {
    /// The block for a ring of at least `bytes` of buffer (at least 16),
    /// and the buffer's length in words; `None` when that overflows.
    pub(super) fn layout(bytes: usize) -> Option<(Layout, usize)> {
        let words = bytes.checked_add(WORD - 1)? / WORD;
        let words = words.max(2);
        let header = Layout::new::<[Line; 2]>();
        let (layout, _) = header
            .extend(Layout::array::<AtomicU64>(words).ok()?)
            .ok()?;
        Some((layout.pad_to_align(), words))
    }

    /// The ring in `block`.
    ///
    /// # Safety
    ///
    /// * `block` is valid for reads and writes of `layout(..)`'s layout for
    ///   `words` words, aligned to it, all zero, used for nothing else, and
    ///   stays so for `'a`.
    pub(super) unsafe fn from_zeroed<'a>(block: NonNull<u8>, words: usize) -> &'a SharedRing {
        debug_assert!(words >= 2);
        // A slice-tailed struct's pointer carries the tail's length; the
        // cast keeps it.
        let ring = ptr::slice_from_raw_parts(block.as_ptr().cast::<AtomicU64>(), words)
            as *const SharedRing;
        // SAFETY: the block is as large and aligned as `SharedRing` with
        // `words` words (the caller's layout); all-zero bytes are valid
        // atomics, with both positions 0 (empty); nothing else uses it for
        // `'a`.
        unsafe { &*ring }
    }

    /// Bytes in the buffer (the `bytes` asked for, rounded up to 8; at
    /// least 16).
    ///
    /// ```
    /// let arena = anon_arena::SharedArena::with_capacity(4096)?;
    /// assert_eq!(arena.alloc_ring(100).capacity(), 104);
    /// # Ok::<(), anon_arena::Error>(())
    /// ```
    pub fn capacity(&self) -> usize {
        self.words.len() * WORD
    }

    /// The longest message that fits in the empty ring: the capacity less
    /// one 8-byte header.
    ///
    /// ```
    /// let arena = anon_arena::SharedArena::with_capacity(4096)?;
    /// let ring = arena.alloc_ring(64);
    /// assert_eq!(ring.max_message(), 56);
    /// assert!(ring.try_send(&[0; 56]).is_ok());
    /// # Ok::<(), anon_arena::Error>(())
    /// ```
    pub fn max_message(&self) -> usize {
        self.capacity() - WORD
    }

    /// Sends `msg` if there is room now.
    ///
    /// # Errors
    ///
    /// [`TrySendError::Full`] when the ring has not enough room now,
    /// [`TrySendError::TooLarge`] when `msg` is longer than
    /// [`max_message`](Self::max_message).
    ///
    /// # Panics
    ///
    /// When the positions are impossible for one producer and one consumer
    /// (more than one process sends or receives on this ring).
    ///
    /// ```
    /// use anon_arena::TrySendError;
    ///
    /// let arena = anon_arena::SharedArena::with_capacity(4096)?;
    /// let ring = arena.alloc_ring(32);
    /// assert_eq!(ring.try_send(b"0123456789abcdef"), Ok(()));
    /// assert_eq!(ring.try_send(b"more"), Err(TrySendError::Full));
    /// assert_eq!(ring.try_send(&[0; 40]), Err(TrySendError::TooLarge { len: 40, max: 24 }));
    /// # Ok::<(), anon_arena::Error>(())
    /// ```
    pub fn try_send(&self, msg: &[u8]) -> Result<(), TrySendError> {
        let cap = self.words.len() as u64;
        // Cannot overflow: a slice is at most `isize::MAX` bytes.
        let need = 1 + msg.len().div_ceil(WORD) as u64;
        if need > cap {
            return Err(TrySendError::TooLarge {
                len: msg.len(),
                max: self.max_message(),
            });
        }
        let tail = self.tail.0.load(Ordering::Relaxed);
        // Acquire: the consumer's reads of the words it freed happen before
        // we overwrite them.
        let head = self.head.0.load(Ordering::Acquire);
        let used = tail.wrapping_sub(head);
        if used > cap {
            misused(head, tail, cap);
        }
        if need > cap - used {
            return Err(TrySendError::Full);
        }
        let mut at = self.index(tail);
        self.words[at].store(msg.len() as u64, Ordering::Relaxed);
        for chunk in msg.chunks(WORD) {
            at = self.next(at);
            let mut word = [0u8; WORD];
            word[..chunk.len()].copy_from_slice(chunk);
            self.words[at].store(u64::from_ne_bytes(word), Ordering::Relaxed);
        }
        // Release: the words above happen before the consumer's reads.
        self.tail.0.store(tail + need, Ordering::Release);
        Ok(())
    }

    /// Sends `msg`, waiting for room.
    ///
    /// # Panics
    ///
    /// When `msg` is longer than [`max_message`](Self::max_message) (it
    /// would never fit), or as [`try_send`](Self::try_send) does.
    ///
    /// ```
    /// let arena = anon_arena::SharedArena::with_capacity(4096)?;
    /// let ring = arena.alloc_ring(256);
    /// ring.send(b"hello");
    /// let mut buf = [0u8; 8];
    /// let len = ring.recv(&mut buf);
    /// assert_eq!(&buf[..len], b"hello");
    /// # Ok::<(), anon_arena::Error>(())
    /// ```
    #[track_caller]
    pub fn send(&self, msg: &[u8]) {
        let mut backoff = Backoff::new();
        loop {
            match self.try_send(msg) {
                Ok(()) => return,
                Err(TrySendError::Full) => backoff.wait(),
                Err(TrySendError::TooLarge { len, max }) => {
                    panic!("SharedRing: cannot send a message of {len} bytes: at most {max} fit")
                }
            }
        }
    }

    /// Receives the next message into `buf` if one is waiting; returns its
    /// length.
    ///
    /// # Errors
    ///
    /// [`TryRecvError::Empty`] when no message is waiting,
    /// [`TryRecvError::BufferTooSmall`] when the next one is longer than
    /// `buf` (it stays in the ring; call again with a larger buffer).
    ///
    /// # Panics
    ///
    /// When the positions or the message's length are impossible for one
    /// producer and one consumer (more than one process sends or receives
    /// on this ring).
    ///
    /// ```
    /// use anon_arena::TryRecvError;
    ///
    /// let arena = anon_arena::SharedArena::with_capacity(4096)?;
    /// let ring = arena.alloc_ring(64);
    /// let mut small = [0u8; 2];
    /// assert_eq!(ring.try_recv(&mut small), Err(TryRecvError::Empty));
    /// ring.send(b"four");
    /// assert_eq!(ring.try_recv(&mut small), Err(TryRecvError::BufferTooSmall { needed: 4 }));
    /// let mut buf = [0u8; 4];
    /// assert_eq!(ring.try_recv(&mut buf), Ok(4));
    /// assert_eq!(&buf, b"four");
    /// # Ok::<(), anon_arena::Error>(())
    /// ```
    pub fn try_recv(&self, buf: &mut [u8]) -> Result<usize, TryRecvError> {
        let cap = self.words.len() as u64;
        let head = self.head.0.load(Ordering::Relaxed);
        // Acquire: the producer's words happen before our reads.
        let tail = self.tail.0.load(Ordering::Acquire);
        let used = tail.wrapping_sub(head);
        if used == 0 {
            return Err(TryRecvError::Empty);
        }
        if used > cap {
            misused(head, tail, cap);
        }
        let mut at = self.index(head);
        let len = self.words[at].load(Ordering::Relaxed);
        // Cannot overflow: `len / 8 + 1` is far below `u64::MAX`.
        let need = 1 + len.div_ceil(WORD as u64);
        if need > used {
            misused(head, tail, cap);
        }
        // Fits: `len <= 8 * used <= 8 * cap`, which is the buffer's size.
        let len = len as usize;
        if len > buf.len() {
            return Err(TryRecvError::BufferTooSmall { needed: len });
        }
        for chunk in buf[..len].chunks_mut(WORD) {
            at = self.next(at);
            let word = self.words[at].load(Ordering::Relaxed).to_ne_bytes();
            chunk.copy_from_slice(&word[..chunk.len()]);
        }
        // Release: our reads happen before the producer reuses the words.
        self.head.0.store(head + need, Ordering::Release);
        Ok(len)
    }

    /// Receives the next message into `buf`, waiting for one; returns its
    /// length.
    ///
    /// # Panics
    ///
    /// When the next message is longer than `buf` (it stays in the ring),
    /// or as [`try_recv`](Self::try_recv) does.
    ///
    /// ```
    /// let arena = anon_arena::SharedArena::with_capacity(4096)?;
    /// let ring = arena.alloc_ring(256);
    /// std::thread::scope(|s| {
    ///     s.spawn(|| ring.send(b"from another thread"));
    ///     let mut buf = [0u8; 64];
    ///     let len = ring.recv(&mut buf);
    ///     assert_eq!(&buf[..len], b"from another thread");
    /// });
    /// # Ok::<(), anon_arena::Error>(())
    /// ```
    #[track_caller]
    pub fn recv(&self, buf: &mut [u8]) -> usize {
        let mut backoff = Backoff::new();
        loop {
            match self.try_recv(buf) {
                Ok(len) => return len,
                Err(TryRecvError::Empty) => backoff.wait(),
                Err(TryRecvError::BufferTooSmall { needed }) => panic!(
                    "SharedRing: the next message is {needed} bytes, the buffer only {}",
                    buf.len()
                ),
            }
        }
    }

    /// Where word `pos` of the stream lives.
    #[inline]
    fn index(&self, pos: u64) -> usize {
        // Fits: the remainder is below `words.len()`, a `usize`.
        (pos % self.words.len() as u64) as usize
    }

    /// The index after `at`, wrapping.
    #[inline]
    fn next(&self, at: usize) -> usize {
        if at + 1 == self.words.len() {
            0
        } else {
            at + 1
        }
    }
}

/// The panic for positions no single producer and consumer can make.
#[cold]
#[inline(never)]
#[track_caller]
fn misused(head: u64, tail: u64, cap: u64) -> ! {
    panic!(
        "SharedRing: head {head} and tail {tail} (in words) are impossible for a ring of \
         {cap} words: more than one process or thread sends or receives on it at once"
    )
}

impl fmt::Debug for SharedRing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SharedRing")
            .field("capacity", &self.capacity())
            .field("head", &self.head.0.load(Ordering::Relaxed))
            .field("tail", &self.tail.0.load(Ordering::Relaxed))
            .finish()
    }
}

impl fmt::Display for TrySendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            TrySendError::Full => f.write_str("the ring is full"),
            TrySendError::TooLarge { len, max } => {
                write!(f, "a message of {len} bytes never fits: at most {max} do")
            }
        }
    }
}

impl fmt::Display for TryRecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            TryRecvError::Empty => f.write_str("no message is waiting"),
            TryRecvError::BufferTooSmall { needed } => {
                write!(f, "the next message needs a buffer of {needed} bytes")
            }
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for TrySendError {}

#[cfg(feature = "std")]
impl std::error::Error for TryRecvError {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SharedArena;

    #[test]
    fn layout_matches_the_type() {
        let arena = SharedArena::with_capacity(4096).unwrap();
        for bytes in [0, 1, 16, 17, 100, 1000] {
            let (layout, words) = SharedRing::layout(bytes).unwrap();
            let ring = arena.alloc_ring(bytes);
            assert_eq!(ring.words.len(), words);
            assert_eq!(core::mem::size_of_val(ring), layout.size());
            assert_eq!(core::mem::align_of_val(ring), layout.align());
            let start = ptr::from_ref(ring).cast::<u8>().addr();
            assert_eq!(ring.words.as_ptr().addr() - start, 128);
            assert_eq!(start % 64, 0);
        }
        assert!(SharedRing::layout(usize::MAX).is_none());
    }

    #[test]
    fn messages_wrap_around_the_end_intact() {
        let arena = SharedArena::with_capacity(4096).unwrap();
        // 5 words: messages of 0..=20 bytes take 1..=4, so they start and
        // wrap at every index; the ring is kept full, so a word written at
        // the wrong index overwrites a message still in it.
        let ring = arena.alloc_ring(40);
        let message = |n: usize| -> Vec<u8> { (0..n % 21).map(|i| (n * 31 + i) as u8).collect() };
        let mut in_flight = std::collections::VecDeque::new();
        let mut buf = [0u8; 32];
        let mut sent = 0;
        for _ in 0..300 {
            while ring.try_send(&message(sent)).is_ok() {
                in_flight.push_back(message(sent));
                sent += 1;
            }
            let expected = in_flight.pop_front().unwrap();
            assert_eq!(ring.try_recv(&mut buf), Ok(expected.len()));
            assert_eq!(&buf[..expected.len()], &expected[..]);
        }
        while let Some(expected) = in_flight.pop_front() {
            assert_eq!(ring.try_recv(&mut buf), Ok(expected.len()));
            assert_eq!(&buf[..expected.len()], &expected[..]);
        }
        assert_eq!(ring.try_recv(&mut buf), Err(TryRecvError::Empty));
    }

    #[test]
    fn full_frees_as_the_consumer_reads() {
        let arena = SharedArena::with_capacity(4096).unwrap();
        let ring = arena.alloc_ring(32); // 4 words
        ring.try_send(b"abc").unwrap(); // 2 words
        ring.try_send(b"").unwrap(); // 1 word
        assert_eq!(ring.try_send(b"de"), Err(TrySendError::Full));
        ring.try_send(b"").unwrap(); // the last word
        let mut buf = [0u8; 8];
        assert_eq!(ring.try_recv(&mut buf), Ok(3));
        ring.try_send(b"de").unwrap();
        for expected in [&b""[..], b"", b"de"] {
            let len = ring.try_recv(&mut buf).unwrap();
            assert_eq!(&buf[..len], expected);
        }
    }

    #[test]
    #[should_panic(expected = "SharedRing: cannot send a message of 25 bytes: at most 24 fit")]
    fn send_panics_on_a_message_that_never_fits() {
        let arena = SharedArena::with_capacity(4096).unwrap();
        arena.alloc_ring(32).send(&[0; 25]);
    }

    #[test]
    #[should_panic(expected = "SharedRing: the next message is 5 bytes, the buffer only 4")]
    fn recv_panics_on_a_buffer_too_small() {
        let arena = SharedArena::with_capacity(4096).unwrap();
        let ring = arena.alloc_ring(32);
        ring.send(b"12345");
        ring.recv(&mut [0; 4]);
    }

    #[test]
    fn impossible_positions_panic_instead_of_reading_out_of_bounds() {
        let arena = SharedArena::with_capacity(4096).unwrap();
        let ring = arena.alloc_ring(32);
        // A header claiming more words than were published, as a second
        // producer racing the first could leave.
        ring.words[0].store(1000, Ordering::Relaxed);
        ring.tail.0.store(2, Ordering::Relaxed);
        let err = std::panic::catch_unwind(|| ring.try_recv(&mut [0; 2048])).unwrap_err();
        let msg = err.downcast_ref::<String>().unwrap();
        assert!(msg.contains("impossible for a ring of 4 words"), "{msg}");
        // A head past the tail, as a second consumer could leave.
        ring.head.0.store(3, Ordering::Relaxed);
        assert!(std::panic::catch_unwind(|| ring.try_send(b"x")).is_err());
        assert!(std::panic::catch_unwind(|| ring.try_recv(&mut [0; 8])).is_err());
    }

    /// Two producers at once break the protocol; the ring must still be
    /// free of data races and out-of-bounds accesses (what Miri checks).
    #[test]
    fn two_producers_at_once_garble_but_stay_memory_safe() {
        let arena = SharedArena::with_capacity(4096).unwrap();
        let ring = arena.alloc_ring(64);
        let per = if cfg!(miri) { 10 } else { 2000 };
        std::thread::scope(|s| {
            for id in 0..2u8 {
                s.spawn(move || {
                    for i in 0..per {
                        let _ = std::panic::catch_unwind(|| {
                            let _ = ring.try_send(&[id; 13][..i % 14]);
                        });
                    }
                });
            }
            s.spawn(|| {
                let mut buf = [0u8; 64];
                for _ in 0..2 * per {
                    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        let _ = ring.try_recv(&mut buf);
                    }));
                }
            });
        });
    }
}

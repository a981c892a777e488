//! Programs over the crate's collections in an [`Arena`] under an
//! allocation limit that the program moves: arena [`String`]s grown only
//! after a successful `try_reserve` (as a caller who must not abort does),
//! `Vec<u32>`s grown through [`TryVec`], vectors made by
//! [`CollectIn::collect_in`] when they fit, strings and vectors leaked and
//! dropped, each checked against a `std` twin after every step: the same
//! contents, buffers inside the arena and apart from every other live or
//! leaked one, leaked contents kept to the end. A refused growth leaves the
//! collection as it was and is refused only when the request did not fit
//! in what the arena reported left (with that number in the error), and
//! `remaining()` always reports the limit (rounded down to 8 bytes) less
//! what is allocated, so no growth takes the arena past its limit.

use core::ops::Range;

use allocator_api2::collections::TryReserveErrorKind;
use anon_arena::collections::{String, Vec};
use anon_arena::{Arena, CollectIn, Error, TryVec};
use arbitrary::Arbitrary;

use crate::input::{Size, Which, CAPACITY};
use crate::sequences::{bytes_of, U32S};
use crate::{Failure, Subject, Violation};

/// Collections live at once, at most.
const MAX_LIVE: usize = 4;

/// The subject's name in failure reports.
const NAME: &str = "Arena collections under a limit";

/// One step of a collections program. `which` picks a live collection
/// (modulo their number); a step on none does nothing.
#[derive(Clone, Debug, Arbitrary)]
pub enum CollectionsOp {
    /// An empty `String::new_in` (`text`) or `Vec::new_in`.
    New {
        /// A string rather than a vector.
        text: bool,
    },
    /// Strings: `try_reserve`, then `push_str` of about `len` bytes of
    /// mixed one- to four-byte characters (from `from`); vectors:
    /// `try_extend_from_slice` of `len` items.
    Append {
        /// Which collection.
        which: Which,
        /// Bytes (strings) or items (vectors).
        len: Size,
        /// Where in the text the piece starts.
        from: u8,
    },
    /// Strings: `try_reserve`, then `insert_str` (at the char boundary at
    /// or below `at`); vectors: `try_insert` of one item at `at`.
    Insert {
        /// Which collection.
        which: Which,
        /// Where (modulo the length plus one).
        at: u16,
        /// Bytes (strings).
        len: Size,
        /// Where in the text the piece starts (strings), the item (vectors).
        from: u8,
    },
    /// Strings: `try_reserve`, then `push` of `c`; vectors: `try_push` of
    /// `c as u32`.
    PushOne {
        /// Which collection.
        which: Which,
        /// The character (or item).
        c: char,
    },
    /// `try_reserve(additional)` alone.
    Reserve {
        /// Which collection.
        which: Which,
        /// Bytes or items.
        additional: Size,
    },
    /// `pop`.
    Pop {
        /// Which collection.
        which: Which,
    },
    /// `truncate` (at the char boundary at or below `at`).
    Truncate {
        /// Which collection.
        which: Which,
        /// The new length (modulo the length plus one).
        at: u16,
    },
    /// `clear`, then `shrink_to_fit` when `shrink`.
    Clear {
        /// Which collection.
        which: Which,
        /// Give the buffer back too.
        shrink: bool,
    },
    /// `shrink_to_fit`.
    Shrink {
        /// Which collection.
        which: Which,
    },
    /// Drops the collection (its buffer comes back if it is the newest).
    Drop {
        /// Which collection.
        which: Which,
    },
    /// `leak`: its contents must stay as they are until the program ends.
    Leak {
        /// Which collection.
        which: Which,
    },
    /// `(0..len).collect_in::<Vec<u32, _>>(&arena)`, when its buffer (at
    /// least four items) fits in what is left (it cannot fail, so it is
    /// not asked to otherwise).
    Collect {
        /// Items.
        len: Size,
    },
    /// `set_allocation_limit(limit)` (`None` lifts it).
    Limit {
        /// The new limit.
        limit: Option<Size>,
    },
}

session_basics!(CollectionsOp);

/// One arena for program after program, as a fuzz target keeps it: each
/// program starts with the limit lifted, a `reset` and the check that the
/// arena is as good as new.
pub struct Session {
    arena: Arena,
}

impl Session {
    /// A session over a fresh arena.
    pub fn new() -> Session {
        Session {
            arena: <Arena as Subject>::make(),
        }
    }

    /// Runs `ops` on the session's arena, reset first.
    pub fn run(&mut self, ops: &[CollectionsOp]) -> Result<(), Failure> {
        self.arena.set_allocation_limit(None);
        crate::start_over(&mut self.arena).map_err(|v| Failure::at_start(NAME, v))?;
        let mut program = Program::new(&self.arena);
        for (step, op) in ops.iter().enumerate() {
            program.step(op).map_err(|violation| Failure {
                subject: NAME,
                step,
                op: format!("{op:?}"),
                violation,
            })?;
        }
        program.check_leaked().map_err(|violation| Failure {
            subject: NAME,
            step: ops.len(),
            op: "final sweep".into(),
            violation,
        })
    }
}

/// A live collection and its `std` twin.
enum Live<'a> {
    Text(String<&'a Arena>, std::string::String),
    Items(Vec<u32, &'a Arena>, std::vec::Vec<u32>),
}

impl Live<'_> {
    /// The buffer's addresses (empty without one).
    fn buffer(&self) -> Range<usize> {
        let (start, bytes) = match self {
            Live::Text(text, _) => (text.as_ptr() as usize, text.capacity()),
            Live::Items(items, _) => (items.as_ptr() as usize, items.capacity() * 4),
        };
        start..start + bytes
    }

    /// Whether it holds what its twin holds.
    fn agrees(&self) -> bool {
        match self {
            Live::Text(text, twin) => text.as_str() == twin.as_str(),
            Live::Items(items, twin) => items.as_slice() == twin.as_slice(),
        }
    }
}

/// A leaked collection's bytes in the arena and what they must hold.
type Leaked<'a> = (&'a [u8], std::vec::Vec<u8>);

/// One program's state over the session's arena.
struct Program<'a> {
    arena: &'a Arena,
    bounds: Range<usize>,
    live: std::vec::Vec<Live<'a>>,
    leaked: std::vec::Vec<Leaked<'a>>,
    /// The limit as set (before rounding), if any.
    limit: Option<usize>,
    /// Every buffer's addresses, for the overlap check: kept from step to
    /// step so that checking does not allocate (a `malloc` per step is
    /// dear under ASan).
    buffers: std::vec::Vec<Range<usize>>,
}

/// What a step that may grow a collection asked for, for judging a
/// refusal: the bytes needed beyond the length (at least), and what the
/// arena reported left before.
struct Growth {
    needed: usize,
    remaining: usize,
}

impl<'a> Program<'a> {
    fn new(arena: &'a Arena) -> Program<'a> {
        Program {
            arena,
            bounds: Subject::bounds(arena),
            live: std::vec::Vec::new(),
            leaked: std::vec::Vec::new(),
            limit: None,
            buffers: std::vec::Vec::with_capacity(MAX_LIVE + 64),
        }
    }

    fn step(&mut self, op: &CollectionsOp) -> Result<(), Violation> {
        let allocated = self.arena.allocated_bytes();
        let remaining = self.arena.remaining();
        let chosen = |which: Which| which.of(self.live.len());
        match *op {
            CollectionsOp::New { text } => {
                if self.live.len() < MAX_LIVE {
                    self.live.push(if text {
                        Live::Text(String::new_in(self.arena), std::string::String::new())
                    } else {
                        Live::Items(Vec::new_in(self.arena), std::vec::Vec::new())
                    });
                }
            }
            CollectionsOp::Append { which, len, from } => {
                if let Some(index) = chosen(which) {
                    match &mut self.live[index] {
                        Live::Text(text, twin) => {
                            let piece = text_piece(from, len.0);
                            if reserve_text(text, piece.len(), remaining)? {
                                text.push_str(piece);
                                twin.push_str(piece);
                            }
                        }
                        Live::Items(items, twin) => {
                            let piece = &U32S[..len.0.min(U32S.len())];
                            let growth = Growth {
                                needed: size_of_val(piece),
                                remaining,
                            };
                            if judge_try(items.try_extend_from_slice(piece), growth)? {
                                twin.extend_from_slice(piece);
                            }
                        }
                    }
                }
            }
            CollectionsOp::Insert {
                which,
                at,
                len,
                from,
            } => {
                if let Some(index) = chosen(which) {
                    match &mut self.live[index] {
                        Live::Text(text, twin) => {
                            let at = boundary(twin, usize::from(at) % (twin.len() + 1));
                            let piece = text_piece(from, len.0);
                            if reserve_text(text, piece.len(), remaining)? {
                                text.insert_str(at, piece);
                                twin.insert_str(at, piece);
                            }
                        }
                        Live::Items(items, twin) => {
                            let at = usize::from(at) % (twin.len() + 1);
                            let value = u32::from(from) * 0x0101_0101;
                            let growth = Growth {
                                needed: 4,
                                remaining,
                            };
                            if judge_try(items.try_insert(at, value), growth)? {
                                twin.insert(at, value);
                            }
                        }
                    }
                }
            }
            CollectionsOp::PushOne { which, c } => {
                if let Some(index) = chosen(which) {
                    match &mut self.live[index] {
                        Live::Text(text, twin) => {
                            if reserve_text(text, c.len_utf8(), remaining)? {
                                text.push(c);
                                twin.push(c);
                            }
                        }
                        Live::Items(items, twin) => {
                            let growth = Growth {
                                needed: 4,
                                remaining,
                            };
                            if judge_try(items.try_push(c as u32), growth)? {
                                twin.push(c as u32);
                            }
                        }
                    }
                }
            }
            CollectionsOp::Reserve { which, additional } => {
                if let Some(index) = chosen(which) {
                    let additional = additional.0;
                    let (result, size, len) = match &mut self.live[index] {
                        Live::Text(text, _) => (text.try_reserve(additional), 1, text.len()),
                        Live::Items(items, _) => (items.try_reserve(additional), 4, items.len()),
                    };
                    let needed = additional.saturating_mul(size);
                    judge_reserve(result, needed, len * size, remaining)?;
                }
            }
            CollectionsOp::Pop { which } => {
                if let Some(index) = chosen(which) {
                    let agree = match &mut self.live[index] {
                        Live::Text(text, twin) => text.pop() == twin.pop(),
                        Live::Items(items, twin) => items.pop() == twin.pop(),
                    };
                    if !agree {
                        return Err(Violation::WrongOutcome("pop disagrees with std".into()));
                    }
                }
            }
            CollectionsOp::Truncate { which, at } => {
                if let Some(index) = chosen(which) {
                    match &mut self.live[index] {
                        Live::Text(text, twin) => {
                            let at = boundary(twin, usize::from(at) % (twin.len() + 1));
                            text.truncate(at);
                            twin.truncate(at);
                        }
                        Live::Items(items, twin) => {
                            let at = usize::from(at) % (twin.len() + 1);
                            items.truncate(at);
                            twin.truncate(at);
                        }
                    }
                }
            }
            CollectionsOp::Clear { which, shrink } => {
                if let Some(index) = chosen(which) {
                    match &mut self.live[index] {
                        Live::Text(text, twin) => {
                            text.clear();
                            twin.clear();
                        }
                        Live::Items(items, twin) => {
                            items.clear();
                            twin.clear();
                        }
                    }
                    if shrink {
                        self.shrink(index)?;
                    }
                }
            }
            CollectionsOp::Shrink { which } => {
                if let Some(index) = chosen(which) {
                    self.shrink(index)?;
                }
            }
            CollectionsOp::Drop { which } => {
                if let Some(index) = chosen(which) {
                    self.live.swap_remove(index);
                }
            }
            CollectionsOp::Leak { which } => {
                if let Some(index) = chosen(which) {
                    let leaked: Leaked<'a> = match self.live.swap_remove(index) {
                        Live::Text(text, twin) => {
                            let text: &'a str = text.leak();
                            (text.as_bytes(), twin.into_bytes())
                        }
                        Live::Items(items, twin) => {
                            let items: &'a [u32] = items.leak();
                            (bytes_of(items), bytes_of(&twin).to_vec())
                        }
                    };
                    self.leaked.push(leaked);
                }
            }
            CollectionsOp::Collect { len } => {
                let len = len.0.min(U32S.len());
                // A vector's first buffer holds at least four items.
                if self.live.len() < MAX_LIVE && len.max(4) * 4 <= remaining {
                    let items: Vec<u32, &Arena> =
                        U32S[..len].iter().copied().collect_in(self.arena);
                    if items.len() != len || items.capacity() < len {
                        return Err(Violation::WrongOutcome(format!(
                            "collect_in of {len} items made {} of capacity {}",
                            items.len(),
                            items.capacity()
                        )));
                    }
                    self.live.push(Live::Items(items, U32S[..len].to_vec()));
                }
            }
            CollectionsOp::Limit { limit } => {
                let limit = limit.map(|limit| limit.0);
                self.arena.set_allocation_limit(limit);
                self.limit = limit.filter(|&limit| limit != usize::MAX);
                if self.arena.allocation_limit() != self.limit {
                    return Err(Violation::WrongOutcome(format!(
                        "set_allocation_limit({limit:?}), then allocation_limit() = {:?}",
                        self.arena.allocation_limit()
                    )));
                }
            }
        }
        self.check(allocated)
    }

    /// `shrink_to_fit` of a live collection: in place, contents kept.
    fn shrink(&mut self, index: usize) -> Result<(), Violation> {
        let before = self.live[index].buffer().start;
        let len = match &mut self.live[index] {
            Live::Text(text, _) => {
                text.shrink_to_fit();
                text.len()
            }
            Live::Items(items, _) => {
                items.shrink_to_fit();
                items.len()
            }
        };
        let after = self.live[index].buffer();
        if len > 0 && after.start != before {
            return Err(Violation::WrongOutcome(format!(
                "shrink_to_fit moved a buffer from {before:#x} to {:#x}",
                after.start
            )));
        }
        Ok(())
    }

    /// After every step: the limit's arithmetic, every collection as its
    /// twin, inside the arena and apart from every other buffer.
    fn check(&mut self, allocated_before: usize) -> Result<(), Violation> {
        let stats = self.arena.stats();
        let ceiling = self
            .limit
            .map_or(CAPACITY, |limit| (limit - limit % 8).min(CAPACITY));
        if stats.remaining != ceiling.saturating_sub(stats.allocated)
            || stats.limit != self.limit
            || stats.capacity != CAPACITY
        {
            return Err(Violation::WrongOutcome(format!(
                "limit {:?}: stats say {stats}",
                self.limit
            )));
        }
        if stats.allocated > allocated_before && stats.allocated > ceiling {
            return Err(Violation::WrongOutcome(format!(
                "allocated {} bytes past the limit of {ceiling}",
                stats.allocated
            )));
        }
        let mut buffers = core::mem::take(&mut self.buffers);
        buffers.clear();
        for live in &self.live {
            if !live.agrees() {
                return Err(Violation::WrongOutcome(
                    "a collection differs from std's".into(),
                ));
            }
            buffers.push(live.buffer());
        }
        buffers.extend(self.leaked.iter().map(|(bytes, _)| {
            let start = bytes.as_ptr() as usize;
            start..start + bytes.len()
        }));
        buffers.retain(|buffer| !buffer.is_empty());
        buffers.sort_by_key(|buffer| buffer.start);
        for buffer in &buffers {
            if buffer.start < self.bounds.start || buffer.end > self.bounds.end {
                return Err(Violation::OutOfBounds {
                    block: buffer.clone(),
                    bounds: self.bounds.clone(),
                });
            }
        }
        for pair in buffers.windows(2) {
            if pair[0].end > pair[1].start {
                return Err(Violation::Overlap {
                    new: pair[1].clone(),
                    live: pair[0].clone(),
                });
            }
        }
        self.buffers = buffers;
        Ok(())
    }

    /// The final sweep: leaked contents kept.
    fn check_leaked(&self) -> Result<(), Violation> {
        for (bytes, expected) in &self.leaked {
            if *bytes != expected.as_slice() {
                let offset = bytes
                    .iter()
                    .zip(expected)
                    .take_while(|(a, b)| a == b)
                    .count();
                return Err(Violation::Corrupted {
                    addr: bytes.as_ptr() as usize,
                    offset,
                    expected: expected.get(offset).copied().unwrap_or(0),
                    found: bytes.get(offset).copied().unwrap_or(0),
                });
            }
        }
        Ok(())
    }
}

/// Whether a `TryVec` growth succeeded; a refusal must name what the
/// arena had left and a request that did not fit in it, and leaves the
/// vector as it was (checked against the twin afterwards).
fn judge_try(result: Result<(), Error>, growth: Growth) -> Result<bool, Violation> {
    match result {
        Ok(()) => Ok(true),
        Err(Error::Exhausted {
            requested,
            remaining,
        }) if remaining == growth.remaining
            && requested > remaining
            && requested >= growth.needed =>
        {
            Ok(false)
        }
        Err(error) => Err(Violation::WrongOutcome(format!(
            "{} more bytes with {} left refused: {error:?}",
            growth.needed, growth.remaining
        ))),
    }
}

/// `try_reserve(bytes)` on a string, judged: whether the room is there
/// (after which growing by `bytes` cannot allocate, so cannot abort).
fn reserve_text(
    text: &mut String<&Arena>,
    bytes: usize,
    remaining: usize,
) -> Result<bool, Violation> {
    let result = text.try_reserve(bytes);
    let reserved = result.is_ok();
    judge_reserve(result, bytes, text.len(), remaining)?;
    Ok(reserved)
}

/// Judges `try_reserve(needed bytes)` on a collection of `len` bytes: a
/// refusal is an overflow of a request no address space holds, or asks for
/// a buffer (at least `len + needed` bytes) larger than what was left.
fn judge_reserve(
    result: Result<(), allocator_api2::collections::TryReserveError>,
    needed: usize,
    len: usize,
    remaining: usize,
) -> Result<(), Violation> {
    let Err(error) = result else {
        return Ok(());
    };
    let fair = match error.kind() {
        TryReserveErrorKind::CapacityOverflow => len.saturating_add(needed) > isize::MAX as usize,
        TryReserveErrorKind::AllocError { layout, .. } => {
            layout.size() > remaining && layout.size() >= len.saturating_add(needed)
        }
    };
    if fair {
        Ok(())
    } else {
        Err(Violation::WrongOutcome(format!(
            "try_reserve of {needed} bytes on {len} with {remaining} left refused: {error:?}"
        )))
    }
}

/// The mixed text the strings grow from: one-, two-, three- and four-byte
/// characters, repeated past what an arena holds.
const TEXT: &str = {
    const UNIT: &[u8] = "ab\u{e9}\u{20ac}\u{1f600}".as_bytes();
    const LEN: usize = (CAPACITY / UNIT.len() + 2) * UNIT.len();
    const BYTES: [u8; LEN] = {
        let mut bytes = [0; LEN];
        let mut i = 0;
        while i < LEN {
            bytes[i] = UNIT[i % UNIT.len()];
            i += 1;
        }
        bytes
    };
    match core::str::from_utf8(&BYTES) {
        Ok(text) => text,
        Err(_) => panic!("whole units"),
    }
};

/// About `len` bytes of [`TEXT`] from about `from`, cut at char boundaries.
fn text_piece(from: u8, len: usize) -> &'static str {
    let start = boundary(TEXT, usize::from(from) % 16);
    let end = boundary(TEXT, start.saturating_add(len).min(TEXT.len()));
    &TEXT[start..end]
}

/// The char boundary of `text` at or below `at`.
fn boundary(text: &str, mut at: usize) -> usize {
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

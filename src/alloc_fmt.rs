//! `alloc_fmt`: formatting straight into an arena, with no temporary
//! string: the text is written into one block at the top of the arena,
//! grown in place as the pieces come (by copying only if the formatting
//! code itself allocates in the same arena), then shrunk to the exact
//! length, which gives the slack back.
//!
//! `unsafe` is allowed here for the one step that turns the written bytes,
//! all copied from `&str` pieces, back into a `str`.
#![allow(unsafe_code)]

use core::fmt;

use crate::bump_ref::BumpRef;
use crate::fill::{Filling, Refusal, Request};

/// The text being written: a growing byte block, and the request it could
/// not serve, if any.
struct Text<'a, B: BumpRef<'a>> {
    bytes: Filling<'a, B, u8>,
    refused: Option<Request>,
}

impl<'a, B: BumpRef<'a>> fmt::Write for Text<'a, B> {
    #[inline]
    fn write_str(&mut self, piece: &str) -> fmt::Result {
        self.bytes
            .extend_from_slice(piece.as_bytes())
            .map_err(|request| {
                self.refused = Some(request);
                fmt::Error
            })
    }
}

/// Formats `args` into `bump`: the text, or why the arena could not hold it
/// (with the numbers from before the call: the block was given back).
///
/// # Panics
///
/// When a formatting trait implementation returns an error by itself, as
/// `format!` does.
#[track_caller]
pub(crate) fn try_alloc_fmt<'a, B: BumpRef<'a>>(
    bump: B,
    args: fmt::Arguments<'_>,
) -> Result<&'a mut str, Refusal> {
    let mut text = Text {
        bytes: Filling::with_capacity(bump, args.as_str().map_or(0, str::len))?,
        refused: None,
    };
    if fmt::write(&mut text, args).is_err() {
        let refused = text.refused;
        drop(text);
        match refused {
            Some(request) => return Err(request.refused(bump)),
            None => formatting_failed(),
        }
    }
    let bytes = text.bytes.finish();
    // SAFETY: every byte was copied from a `&str` piece, in order, so the
    // whole is valid UTF-8.
    Ok(unsafe { core::str::from_utf8_unchecked_mut(bytes) })
}

/// Panics as `format!` does when a `Display` (or other formatting) impl
/// fails although the text it writes to did not.
#[cold]
#[inline(never)]
#[track_caller]
fn formatting_failed() -> ! {
    panic!("a formatting trait implementation returned an error when the underlying stream did not")
}

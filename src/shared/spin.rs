//! [`Backoff`]: how a [`SharedCell`](super::SharedCell) or
//! [`SharedRing`](super::SharedRing) waits for another process.
//!
//! No futex: the waits are short (a cell's writer holds it for one copy of
//! the value) or chosen by the caller (the blocking `send`/`recv` of a
//! ring, whose `try_` forms never wait).
#![forbid(unsafe_code)]

/// Doublings of the busy-wait before waiting yields the CPU instead.
const SPIN_DOUBLINGS: u32 = 6;

/// Exponential busy-waiting, then yielding the CPU (with `std`; without it,
/// more busy-waiting): the process we wait for may be the one that needs
/// this CPU to make progress.
pub(super) struct Backoff {
    /// How many times [`wait`](Self::wait) has run, up to [`SPIN_DOUBLINGS`].
    step: u32,
}

impl Backoff {
    /// A fresh backoff: the first waits are the shortest.
    pub(super) fn new() -> Backoff {
        Backoff { step: 0 }
    }

    /// Waits a little, longer each time.
    pub(super) fn wait(&mut self) {
        if self.step < SPIN_DOUBLINGS {
            for _ in 0..1u32 << self.step {
                core::hint::spin_loop();
            }
            self.step += 1;
        } else {
            yield_now();
        }
    }
}

#[cfg(any(feature = "std", test))]
fn yield_now() {
    std::thread::yield_now();
}

#[cfg(not(any(feature = "std", test)))]
fn yield_now() {
    for _ in 0..1u32 << SPIN_DOUBLINGS {
        core::hint::spin_loop();
    }
}

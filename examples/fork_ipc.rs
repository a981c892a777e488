//! Parent/child IPC through a `SharedArena`: the parent sets up a shared
//! struct (a counter, a message, a float result), forks a worker that
//! fills it in, waits for it, and prints what it reads. No pipe, no file,
//! no named shared-memory object: the anonymous `MAP_SHARED` mapping made
//! before `fork()` is the channel.
//!
//! Run with `cargo run --example fork_ipc`.

use std::sync::atomic::{AtomicU64, Ordering};

use anon_arena::{SharedArena, SharedSafe};

/// What the worker reports. Plain data and atomics only: a pointer would
/// mean nothing in the other process, which is what `SharedSafe` promises.
#[repr(C)]
struct Report {
    /// Bumped by the worker while it runs; the parent could watch it live.
    counter: AtomicU64,
    /// Written by the worker, read by the parent after `waitpid`.
    message: [u8; 64],
    message_len: usize,
    result: f64,
}

// SAFETY: an atomic, bytes, an integer and a float: no pointer, no `Drop`.
unsafe impl SharedSafe for Report {}

fn main() -> Result<(), anon_arena::Error> {
    let arena = SharedArena::with_capacity(1 << 20)?;
    let report = arena.alloc(Report {
        counter: AtomicU64::new(0),
        message: [0; 64],
        message_len: 0,
        result: 0.0,
    });

    // SAFETY: the child only touches the shared report and `_exit`s; it
    // runs no code of the parent's (no return from `main`, no destructors).
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork: {}", std::io::Error::last_os_error());
    if pid == 0 {
        // The worker: estimate pi with the Leibniz series.
        let mut sum = 0.0;
        for k in 0..1_000_000u64 {
            let term = 1.0 / (2 * k + 1) as f64;
            sum += if k % 2 == 0 { term } else { -term };
            report.counter.fetch_add(1, Ordering::Relaxed);
        }
        report.result = 4.0 * sum;
        let text = format!("hello from worker {}", std::process::id());
        report.message[..text.len()].copy_from_slice(text.as_bytes());
        report.message_len = text.len();
        // SAFETY: leaving the child at once, as promised above.
        unsafe { libc::_exit(0) };
    }

    let mut status = 0;
    // SAFETY: `pid` is our child; `status` is a valid out-pointer.
    let waited = unsafe { libc::waitpid(pid, &mut status, 0) };
    assert_eq!(waited, pid, "waitpid: {}", std::io::Error::last_os_error());
    assert!(libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0);

    // `waitpid` has returned, so every write of the worker happened before
    // these reads.
    let message = std::str::from_utf8(&report.message[..report.message_len]).unwrap_or("?");
    println!("parent {} read:", std::process::id());
    println!("  counter = {}", report.counter.load(Ordering::Relaxed));
    println!("  message = {message:?}");
    println!("  result  = {:.6} (pi estimate)", report.result);
    println!(
        "  arena: {} of {} bytes used",
        arena.allocated_bytes(),
        arena.capacity()
    );
    Ok(())
}

//! Parent/worker IPC through a `SharedArena`: the parent sets up two
//! message rings (requests down, replies up), a progress cell and a
//! counter, forks a worker, and sends it jobs; the worker answers each one,
//! publishing its progress as it goes, until told to quit. No pipe, no
//! file, no named shared-memory object: the anonymous `MAP_SHARED` mapping
//! made before `fork()` is the channel, and after the fork both sides reach
//! it through `&` only (rings, cells and atomics), never through `&mut`.
//!
//! Run with `cargo run --example fork_ipc`.

use std::sync::atomic::{AtomicU64, Ordering};

use anon_arena::{NoPadding, SharedArena, SharedCell, SharedRing, SharedSafe};

/// What the worker is doing, read by the parent while it waits.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
struct Progress {
    /// The job being worked on (0 before the first).
    job: u64,
    /// Terms of the series summed so far.
    terms_done: u64,
    /// The estimate so far.
    estimate: f64,
}
const _: () = assert!(size_of::<Progress>() == 3 * 8, "no padding");
// SAFETY: three plain numbers: no pointer, no `Drop`.
unsafe impl SharedSafe for Progress {}
// SAFETY: the assertion above: the fields fill the struct.
unsafe impl NoPadding for Progress {}

/// Everything the two sides share, set up before the fork.
struct Channel<'a> {
    /// Parent to worker: `"pi <terms>"` or `"quit"`.
    requests: &'a SharedRing,
    /// Worker to parent: one line per job.
    replies: &'a SharedRing,
    /// Written by the worker, read by the parent at any time.
    progress: &'a SharedCell<Progress>,
    /// Series terms the worker summed, over all jobs.
    terms: &'a AtomicU64,
}

/// The worker: answers jobs until told to quit.
fn worker(ch: &Channel<'_>) {
    let mut buf = [0u8; 64];
    for job in 1.. {
        let len = ch.requests.recv(&mut buf);
        let request = std::str::from_utf8(&buf[..len]).unwrap_or("?");
        let Some(terms) = request
            .strip_prefix("pi ")
            .and_then(|n| n.parse::<u64>().ok())
        else {
            return; // "quit", or nonsense
        };
        // Estimate pi with the Leibniz series, publishing progress.
        let mut sum = 0.0;
        for k in 0..terms {
            let term = 1.0 / (2 * k + 1) as f64;
            sum += if k % 2 == 0 { term } else { -term };
            if k % 4096 == 0 || k + 1 == terms {
                ch.progress.store(Progress {
                    job,
                    terms_done: k + 1,
                    estimate: 4.0 * sum,
                });
            }
        }
        ch.terms.fetch_add(terms, Ordering::Relaxed);
        let answer = format!(
            "job {job}: pi ~ {:.9} from {terms} terms (worker {})",
            4.0 * sum,
            std::process::id()
        );
        ch.replies.send(answer.as_bytes());
    }
}

fn main() -> Result<(), anon_arena::Error> {
    let arena = SharedArena::with_capacity(1 << 20)?;
    let ch = Channel {
        requests: arena.alloc_ring(1024),
        replies: arena.alloc_ring(1024),
        progress: arena.alloc(SharedCell::new(Progress::default())),
        terms: arena.alloc(AtomicU64::new(0)),
    };

    // SAFETY: the child runs only `worker` and `_exit`s; it runs no code of
    // the parent's (no return from `main`, no destructors).
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork: {}", std::io::Error::last_os_error());
    if pid == 0 {
        worker(&ch);
        // SAFETY: leaving the child at once, as promised above.
        unsafe { libc::_exit(0) };
    }

    println!("parent {} forked worker {pid}", std::process::id());
    let mut buf = [0u8; 128];
    for terms in [1_000u64, 100_000, 10_000_000] {
        ch.requests.send(format!("pi {terms}").as_bytes());
        // Wait for the reply, glancing at the worker's progress meanwhile.
        let mut glances = 0u64;
        let mut last = Progress::default();
        let len = loop {
            match ch.replies.try_recv(&mut buf) {
                Ok(len) => break len,
                Err(anon_arena::TryRecvError::Empty) => {
                    last = ch.progress.load();
                    glances += 1;
                    std::thread::sleep(std::time::Duration::from_micros(200));
                }
                Err(e) => panic!("reply: {e}"),
            }
        };
        println!("  {}", std::str::from_utf8(&buf[..len]).unwrap_or("?"));
        if glances > 0 && last.job > 0 {
            println!(
                "    (while waiting, {glances} glances at the progress cell; last: job {}, {} terms, {:.6})",
                last.job, last.terms_done, last.estimate
            );
        }
    }
    ch.requests.send(b"quit");

    let mut status = 0;
    // SAFETY: `pid` is our child; `status` is a valid out-pointer.
    let waited = unsafe { libc::waitpid(pid, &mut status, 0) };
    assert_eq!(waited, pid, "waitpid: {}", std::io::Error::last_os_error());
    assert!(libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0);

    println!(
        "worker exited; it summed {} terms in all",
        ch.terms.load(Ordering::Relaxed)
    );
    println!(
        "arena: {} of {} bytes used",
        arena.allocated_bytes(),
        arena.capacity()
    );
    Ok(())
}

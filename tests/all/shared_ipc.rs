//! Traffic through a `SharedArena` between a parent and its workers:
//! `SharedRing` messages both ways, and `SharedCell` values written and
//! read at once. Each protocol runs between forked processes (what the
//! types are for) and between threads (what Miri can check).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anon_arena::{SharedArena, SharedCell, SharedRing, SharedSafe, TryRecvError, Zeroable};

use crate::shared::{spawn_child, wait_for};

/// A forked child's exit code for `result`: 0, or 1 after printing the
/// error (the parent sees only the code).
fn exit_code(result: Result<(), String>) -> i32 {
    match result {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("{e}");
            1
        }
    }
}

/// How long a side waits without progress before it reports a hang.
/// Counted from the last progress, not from the start: under valgrind,
/// which runs one thread at a time, a whole exchange takes minutes.
const PATIENCE: Duration = Duration::from_secs(20);

/// Messages per worker.
const MESSAGES: u32 = if cfg!(miri) { 12 } else { 20_000 };

/// What every side counts, in the arena, to check the totals at the end.
#[derive(Default)]
struct Counts {
    /// Messages the workers sent.
    sent: AtomicU64,
    /// Messages the parent received.
    received: AtomicU64,
    /// Replies the parent sent.
    replied: AtomicU64,
    /// Replies the workers received.
    replies_received: AtomicU64,
    /// Set by a side that found something wrong, so the others stop
    /// waiting for it.
    failed: AtomicBool,
}
// SAFETY: atomics only; no pointer, no `Drop`.
unsafe impl SharedSafe for Counts {}
// SAFETY: zero is a valid value of every atomic.
unsafe impl Zeroable for Counts {}

/// Worker `id`'s message number `i`: its length (0 to `max` bytes) and
/// bytes both depend on `id` and `i`, so a message lost, duplicated,
/// reordered, mixed with another worker's or torn shows up as a mismatch.
fn message(id: u8, i: u32, max: usize) -> Vec<u8> {
    let len = (i as usize * 37 + id as usize * 11) % (max + 1);
    (0..len)
        .map(|k| (i as usize * 7 + k * 13 + id as usize * 101) as u8)
        .collect()
}

/// The parent's reply to `msg`: reversed and inverted, same length.
fn reply(msg: &[u8]) -> Vec<u8> {
    msg.iter().rev().map(|b| !b).collect()
}

/// Runs one side of the exchange; if it fails, raises `counts.failed` so
/// the other sides give up at once instead of waiting for it.
fn side(counts: &Counts, run: impl FnOnce() -> Result<(), String>) -> Result<(), String> {
    let result = run();
    if result.is_err() {
        counts.failed.store(true, Ordering::Relaxed);
    }
    result
}

/// Why a side stops early: another one failed, or nothing moved for too
/// long.
fn give_up(counts: &Counts, deadline: Instant, at: impl FnOnce() -> String) -> Option<String> {
    if counts.failed.load(Ordering::Relaxed) {
        Some(format!("{}: another side failed", at()))
    } else if Instant::now() > deadline {
        Some(format!("{}: stuck", at()))
    } else {
        None
    }
}

/// A worker's side: sends `MESSAGES` messages on `up` while taking the
/// replies from `down`, never blocking (so neither ring filling up can
/// deadlock the two sides), and checks each reply against its message.
fn worker(id: u8, up: &SharedRing, down: &SharedRing, counts: &Counts) -> Result<(), String> {
    let max = up.max_message().min(down.max_message());
    let mut buf = vec![0u8; max];
    let (mut sent, mut got) = (0u32, 0u32);
    let mut deadline = Instant::now() + PATIENCE;
    while got < MESSAGES {
        let mut progress = false;
        if sent < MESSAGES {
            match up.try_send(&message(id, sent, max)) {
                Ok(()) => {
                    sent += 1;
                    counts.sent.fetch_add(1, Ordering::Relaxed);
                    progress = true;
                }
                Err(anon_arena::TrySendError::Full) => {}
                Err(e) => return Err(format!("worker {id}: send {sent}: {e}")),
            }
        }
        match down.try_recv(&mut buf) {
            Ok(len) => {
                let expected = reply(&message(id, got, max));
                if buf[..len] != expected[..] {
                    return Err(format!(
                        "worker {id}: reply {got} is {:?}, expected {expected:?}",
                        &buf[..len]
                    ));
                }
                got += 1;
                counts.replies_received.fetch_add(1, Ordering::Relaxed);
                progress = true;
            }
            Err(TryRecvError::Empty) => {}
            Err(e) => return Err(format!("worker {id}: reply {got}: {e}")),
        }
        if progress {
            deadline = Instant::now() + PATIENCE;
        } else {
            if let Some(why) = give_up(counts, deadline, || {
                format!("worker {id} after {sent} sent, {got} replies")
            }) {
                return Err(why);
            }
            std::thread::yield_now();
        }
    }
    Ok(())
}

/// One worker as the parent sees it.
struct Link<'a> {
    id: u8,
    /// Worker to parent.
    up: &'a SharedRing,
    /// Parent to worker.
    down: &'a SharedRing,
    /// The next message number expected.
    next: u32,
    /// A reply that did not fit yet.
    pending: Option<Vec<u8>>,
}

/// The parent's side: serves every worker at once, never blocking, and
/// checks that each worker's messages arrive whole and in order.
fn parent(rings: &[(u8, &SharedRing, &SharedRing)], counts: &Counts) -> Result<(), String> {
    let mut links: Vec<Link<'_>> = rings
        .iter()
        .map(|&(id, up, down)| Link {
            id,
            up,
            down,
            next: 0,
            pending: None,
        })
        .collect();
    let mut buf = vec![0u8; 4096];
    let mut deadline = Instant::now() + PATIENCE;
    while links
        .iter()
        .any(|l| l.next < MESSAGES || l.pending.is_some())
    {
        let mut progress = false;
        for link in links.iter_mut() {
            let max = link.up.max_message().min(link.down.max_message());
            if link.pending.is_none() && link.next < MESSAGES {
                match link.up.try_recv(&mut buf) {
                    Ok(len) => {
                        let expected = message(link.id, link.next, max);
                        if buf[..len] != expected[..] {
                            return Err(format!(
                                "message {} of worker {} is {:?}, expected {expected:?}",
                                link.next,
                                link.id,
                                &buf[..len]
                            ));
                        }
                        link.next += 1;
                        counts.received.fetch_add(1, Ordering::Relaxed);
                        link.pending = Some(reply(&buf[..len]));
                        progress = true;
                    }
                    Err(TryRecvError::Empty) => {}
                    Err(e) => return Err(format!("worker {}: {e}", link.id)),
                }
            }
            if let Some(answer) = &link.pending {
                match link.down.try_send(answer) {
                    Ok(()) => {
                        link.pending = None;
                        counts.replied.fetch_add(1, Ordering::Relaxed);
                        progress = true;
                    }
                    Err(anon_arena::TrySendError::Full) => {}
                    Err(e) => return Err(format!("reply to worker {}: {e}", link.id)),
                }
            }
        }
        if progress {
            deadline = Instant::now() + PATIENCE;
        } else {
            if let Some(why) = give_up(counts, deadline, || {
                let at: Vec<u32> = links.iter().map(|l| l.next).collect();
                format!("parent at messages {at:?}")
            }) {
                return Err(why);
            }
            std::thread::yield_now();
        }
    }
    Ok(())
}

/// The rings for two workers, small enough (and of sizes that are not
/// powers of two) that messages wrap around the end and fill them often.
fn two_links(arena: &SharedArena) -> [(u8, &SharedRing, &SharedRing); 2] {
    [
        (1, arena.alloc_ring(200), arena.alloc_ring(152)),
        (2, arena.alloc_ring(264), arena.alloc_ring(96)),
    ]
}

/// Every counter says `2 * MESSAGES`, and every ring is drained.
fn check_totals(counts: &Counts, rings: &[(u8, &SharedRing, &SharedRing)]) {
    let total = 2 * u64::from(MESSAGES);
    for (name, count) in [
        ("sent", &counts.sent),
        ("received", &counts.received),
        ("replied", &counts.replied),
        ("replies received", &counts.replies_received),
    ] {
        assert_eq!(count.load(Ordering::Relaxed), total, "{name}");
    }
    let mut buf = [0u8; 512];
    for &(_, up, down) in rings {
        assert_eq!(up.try_recv(&mut buf), Err(TryRecvError::Empty));
        assert_eq!(down.try_recv(&mut buf), Err(TryRecvError::Empty));
    }
}

#[test]
#[cfg_attr(
    miri,
    ignore = "Miri cannot fork, and it maps MAP_SHARED memory privately"
)]
fn a_parent_and_two_forked_workers_exchange_messages_both_ways() {
    let arena = SharedArena::with_capacity(1 << 16).unwrap();
    let counts = arena.alloc_zeroed::<Counts>();
    let rings = two_links(&arena);
    let pids = rings.map(|(id, up, down)| {
        spawn_child(move || exit_code(side(counts, || worker(id, up, down, counts))))
    });
    // A side that fails raises `failed`, so the others stop soon after.
    let parent = side(counts, || parent(&rings, counts));
    let codes = pids.map(wait_for);
    parent.unwrap();
    assert_eq!(codes, [0, 0], "a worker failed (see its message above)");
    check_totals(counts, &rings);
}

#[test]
fn a_parent_and_two_worker_threads_exchange_messages_both_ways() {
    let arena = SharedArena::with_capacity(1 << 16).unwrap();
    let counts = arena.alloc_zeroed::<Counts>();
    let rings = two_links(&arena);
    std::thread::scope(|s| {
        let workers = rings
            .map(|(id, up, down)| s.spawn(move || side(counts, || worker(id, up, down, counts))));
        let parent = side(counts, || parent(&rings, counts));
        for w in workers {
            w.join().unwrap().unwrap();
        }
        parent.unwrap();
    });
    check_totals(counts, &rings);
}

/// 68 bytes: whole words and a tail of bytes, all copies of one number
/// in a consistent value.
type Pattern = [u32; 17];

/// Updates per writer in the cell stress tests.
const UPDATES: u32 = if cfg!(miri) { 15 } else { 100_000 };

/// The number a consistent pattern repeats; an error naming a torn one.
fn uniform(v: &Pattern, what: &str) -> Result<u32, String> {
    if v.iter().all(|&x| x == v[0]) {
        Ok(v[0])
    } else {
        Err(format!("torn read of the {what} cell: {v:?}"))
    }
}

/// A writer: `UPDATES` times, adds one to every number of `counter` (so no
/// update may be lost) and stores a pattern of its own into `latest`
/// (writer `id` stores only numbers `≡ id (mod 2)`), checking both cells'
/// reads in between.
fn cell_writer(
    id: u32,
    counter: &SharedCell<Pattern>,
    latest: &SharedCell<Pattern>,
) -> Result<(), String> {
    for i in 0..UPDATES {
        counter.update(|v| v.map(|x| x + 1));
        latest.store([2 * i + id; 17]);
        uniform(&counter.load(), "counter")?;
        uniform(&latest.load(), "latest")?;
    }
    Ok(())
}

/// [`cell_writer`], then one more in `finished` (even if it panicked, so
/// the reader never waits for a writer that is gone).
fn counted_writer(
    id: u32,
    counter: &SharedCell<Pattern>,
    latest: &SharedCell<Pattern>,
    finished: &AtomicU64,
) -> Result<(), String> {
    let run = std::panic::AssertUnwindSafe(|| cell_writer(id, counter, latest));
    let result = std::panic::catch_unwind(run).unwrap_or_else(|_| Err("panicked".into()));
    finished.fetch_add(1, Ordering::Release);
    result.map_err(|e| format!("writer {id}: {e}"))
}

/// A reader, until `done`: every read of either cell is consistent, and
/// the counter never goes back. Returns how many counter values strictly
/// between the first and the last it saw (reads that overlapped writes).
fn cell_reader(
    counter: &SharedCell<Pattern>,
    latest: &SharedCell<Pattern>,
    done: impl Fn() -> bool,
) -> Result<u32, String> {
    let (mut last, mut between) = (0, 0);
    let mut deadline = Instant::now() + PATIENCE;
    while !done() {
        let now = uniform(&counter.load(), "counter")?;
        if now < last {
            return Err(format!("the counter went back from {last} to {now}"));
        }
        if now != last {
            deadline = Instant::now() + PATIENCE;
            if now < 2 * UPDATES {
                between += 1;
            }
        }
        last = now;
        uniform(&latest.load(), "latest")?;
        if Instant::now() > deadline {
            return Err(format!("the writers are stuck at {last}"));
        }
        if cfg!(miri) {
            std::thread::yield_now();
        }
    }
    Ok(between)
}

#[test]
#[cfg_attr(
    miri,
    ignore = "Miri cannot fork, and it maps MAP_SHARED memory privately"
)]
fn cell_reads_are_never_torn_and_updates_never_lost_across_processes() {
    let arena = SharedArena::with_capacity(1 << 16).unwrap();
    let counter = arena.alloc(SharedCell::new([0u32; 17]));
    let latest = arena.alloc(SharedCell::new([0u32; 17]));
    let go = arena.alloc(AtomicBool::new(false));
    let finished = arena.alloc(AtomicU64::new(0));
    let pids = [0, 1].map(|id| {
        spawn_child(move || {
            while !go.load(Ordering::Acquire) {
                std::hint::spin_loop();
            }
            exit_code(counted_writer(id, counter, latest, finished))
        })
    });
    go.store(true, Ordering::Release);
    let seen = cell_reader(counter, latest, || finished.load(Ordering::Acquire) == 2);
    let codes = pids.map(wait_for);
    let between = seen.unwrap();
    assert_eq!(codes, [0, 0], "a writer failed (see its message above)");
    assert_eq!(counter.load(), [2 * UPDATES; 17], "no update was lost");
    let last = uniform(&latest.load(), "latest").unwrap();
    assert!(
        last == 2 * (UPDATES - 1) || last == 2 * (UPDATES - 1) + 1,
        "the last store wins: {last}"
    );
    assert!(between > 0, "the parent's reads overlapped the writes");
}

#[test]
fn cell_reads_are_never_torn_and_updates_never_lost_across_threads() {
    let counter = SharedCell::new([0u32; 17]);
    let latest = SharedCell::new([0u32; 17]);
    let finished = AtomicU64::new(0);
    std::thread::scope(|s| {
        for id in 0..2 {
            let (counter, latest, finished) = (&counter, &latest, &finished);
            s.spawn(move || counted_writer(id, counter, latest, finished).unwrap());
        }
        cell_reader(&counter, &latest, || finished.load(Ordering::Acquire) == 2).unwrap();
    });
    assert_eq!(counter.load(), [2 * UPDATES; 17], "no update was lost");
}

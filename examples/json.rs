//! The crate's main demo: a complete JSON parser whose document tree lives
//! in an allocator, measured in an [`Arena`], in `bumpalo::Bump` and in the
//! global allocator.
//!
//! ```sh
//! cargo run --release --example json            # a generated ~50 MB document
//! cargo run --release --example json -- FILE    # your own JSON file
//! ```
//!
//! It prints one row per allocator (parse time, MB/s, time to free, bytes
//! held, peak RSS), then parses a second document into the reset arena and
//! counts the page faults that took (none: the pages are reused), and
//! finally indexes the tree's keys with a `hashbrown` set in the same arena.
//! Malformed input is reported with its line and column.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::time::Instant;

use allocator_api2::alloc::Global;
use anon_arena::Arena;
use bumpalo::Bump;

#[allow(dead_code, unused_imports)] // shared with benches/json.rs; each uses a subset
#[path = "json/mod.rs"]
mod json;
#[path = "json/report.rs"]
mod report;

use json::{distinct_keys, generate, parse_bytes, DEFAULT_SEED};
use report::{measure, mib, minor_faults, print_table};

/// Size of the generated document when no file is given.
const DEFAULT_SIZE: usize = 50 << 20;

/// Live bytes in the global heap, so the global-allocator row can report
/// what the tree costs there.
pub struct LiveHeap(AtomicUsize);

impl LiveHeap {
    /// Bytes currently allocated through the global allocator.
    pub fn get(&self) -> usize {
        self.0.load(Relaxed)
    }
}

/// The counter [`CountingHeap`] keeps.
pub static LIVE_HEAP: LiveHeap = LiveHeap(AtomicUsize::new(0));

/// The system allocator, counting live bytes into [`LIVE_HEAP`].
struct CountingHeap;

// SAFETY: every method forwards to `System` with the caller's arguments, so
// `System`'s guarantees hold; the counter only observes. Load-then-store
// instead of `fetch_add` because the measured code is single-threaded, and a
// locked read-modify-write per allocation would slow down exactly the row
// being compared (a race could only skew the statistic).
unsafe impl GlobalAlloc for CountingHeap {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // Wrapping: the example's tests run on several threads, where the
        // racy update can lose a count; a skewed statistic must not panic
        // inside the allocator (that aborts the process).
        LIVE_HEAP
            .0
            .store(LIVE_HEAP.get().wrapping_add(layout.size()), Relaxed);
        // SAFETY: forwarded caller contract.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE_HEAP
            .0
            .store(LIVE_HEAP.get().wrapping_sub(layout.size()), Relaxed);
        // SAFETY: forwarded caller contract.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let live = LIVE_HEAP
            .get()
            .wrapping_sub(layout.size())
            .wrapping_add(new_size);
        LIVE_HEAP.0.store(live, Relaxed);
        // SAFETY: forwarded caller contract.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static HEAP: CountingHeap = CountingHeap;

fn main() {
    let (name, input) = match std::env::args().nth(1) {
        Some(path) => match std::fs::read(&path) {
            Ok(bytes) => (path, bytes),
            Err(e) => fail(format_args!("cannot read {path}: {e}")),
        },
        None => (
            "generated document".to_owned(),
            generate(DEFAULT_SIZE, DEFAULT_SEED).into_bytes(),
        ),
    };
    // Validate once, with a clear message, before anything is timed.
    if let Err(e) = parse_bytes(&input, Global) {
        fail(format_args!("{name}: {e}"));
    }
    let Ok(input) = String::from_utf8(input) else {
        unreachable!("parse_bytes accepted it, so it is UTF-8");
    };

    let rows = [
        measure("global allocator", &input, |p| {
            p.parse_in(Global, || None);
        }),
        measure("Arena (fresh each run)", &input, |p| {
            let arena = Arena::new();
            p.parse_in(&arena, || Some(arena.allocated_bytes()));
            p.free(|| drop(arena));
        }),
        measure("Arena (reset, reused)", &input, {
            let mut arena = Arena::new();
            move |p| {
                p.parse_in(&arena, || Some(arena.allocated_bytes()));
                p.free(|| arena.reset());
            }
        }),
        // StackArena lands on its own branch; its row will be one more call:
        // measure("StackArena (scope per document)", &input, {
        //     let mut stack = StackArena::new();
        //     move |p| stack.scope(|s| p.parse_in(s, || Some(s.allocated_bytes())))
        // }),
        measure("bumpalo::Bump (fresh)", &input, |p| {
            let bump = Bump::new();
            p.parse_in(&bump, || Some(bump.allocated_bytes()));
            p.free(|| drop(bump));
        }),
        measure("bumpalo::Bump (reset)", &input, {
            let mut bump = Bump::new();
            move |p| {
                p.parse_in(&bump, || Some(bump.allocated_bytes()));
                p.free(|| bump.reset());
            }
        }),
    ];
    print_table(input.len(), &rows);
    second_document_reuses_pages(&input);
    key_index_in_arena(&input);
}

/// Prints `message` and exits with status 1.
fn fail(message: std::fmt::Arguments<'_>) -> ! {
    eprintln!("error: {message}");
    std::process::exit(1)
}

/// Parses `first` into a fresh arena, resets it and parses a second,
/// slightly smaller document into the same pages, counting page faults.
fn second_document_reuses_pages(first: &str) {
    let second = generate(first.len() * 9 / 10, DEFAULT_SEED + 1);
    // The parser's scratch stacks live in the global heap; one untimed
    // parse lets malloc settle so the counts below are the arena's own.
    let _ = parse_bytes(second.as_bytes(), Global);

    let mut arena = Arena::new();
    let before = minor_faults();
    let used_first = match parse_bytes(first.as_bytes(), &arena) {
        Ok(_) => arena.allocated_bytes(),
        Err(e) => fail(format_args!("{e}")),
    };
    let after_first = minor_faults();
    arena.reset();
    let start = Instant::now();
    let used_second = match parse_bytes(second.as_bytes(), &arena) {
        Ok(_) => arena.allocated_bytes(),
        Err(e) => fail(format_args!("{e}")),
    };
    let parse_ms = start.elapsed().as_secs_f64() * 1e3;
    let after_second = minor_faults();
    let faults = |a: Option<u64>, b: Option<u64>| match (a, b) {
        (Some(a), Some(b)) => (b - a).to_string(),
        _ => "?".to_owned(),
    };
    println!(
        "\nreuse: document 1 into a fresh Arena: {} MiB, {} page faults; \
         reset; document 2: {} MiB in {parse_ms:.1} ms, {} page faults",
        mib(used_first),
        faults(before, after_first),
        mib(used_second),
        faults(after_first, after_second),
    );
}

/// Builds a hashbrown set in the same arena as the tree it indexes: both
/// go away together when the arena is reset or dropped.
///
/// Kept out of the timed runs: its heap churn would perturb them.
fn key_index_in_arena(input: &str) {
    let arena = Arena::new();
    let Ok(tree) = parse_bytes(input.as_bytes(), &arena) else {
        return;
    };
    let before = arena.allocated_bytes();
    let start = Instant::now();
    let keys = distinct_keys(&tree, &arena);
    println!(
        "{keys} distinct keys, indexed in {:.1} ms with a hashbrown set in the \
         tree's Arena (+{} MiB)",
        start.elapsed().as_secs_f64() * 1e3,
        mib(arena.allocated_bytes() - before)
    );
}

//! Measuring one allocator's runs of the parser and printing the table.
//!
//! Adding an allocator to the demo is one [`measure`] call: its closure gets
//! a [`Probe`] per run, hands the probe an allocator through
//! [`Probe::parse_in`] and then times the freeing with [`Probe::free`].

use std::time::{Duration, Instant};

use crate::json::{parse, Build, TreeStats};
use crate::LIVE_HEAP;

/// Runs measured per allocator; the median is reported.
pub const RUNS: usize = 5;

/// Collects one allocator's measurements across runs.
pub struct Probe<'i> {
    input: &'i str,
    parse: Vec<Duration>,
    free: Vec<Duration>,
    tree: TreeStats,
    heap_delta: usize,
    held: Option<usize>,
    faults: Vec<u64>,
}

impl<'i> Probe<'i> {
    /// Parses the input once into a tree `build` makes (timed), records
    /// sizes while the tree is alive (`held` says what the allocator holds
    /// for it), then drops the tree (timed as part of freeing: the heap
    /// tree's `Box`es free their nodes; an arena tree has nothing to drop).
    pub fn parse_in<'t, B: Build<'t>>(&mut self, build: B, held: impl FnOnce() -> Option<usize>)
    where
        'i: 't,
    {
        let live_before = LIVE_HEAP.get();
        let faults_before = minor_faults();
        let start = Instant::now();
        let tree = parse(self.input, build);
        self.parse.push(start.elapsed());
        if let (Some(before), Some(after)) = (faults_before, minor_faults()) {
            self.faults.push(after - before);
        }
        let tree = match tree {
            Ok(tree) => tree,
            Err(e) => {
                eprintln!("parse error: {e}");
                std::process::exit(1);
            }
        };
        self.heap_delta = LIVE_HEAP.get().wrapping_sub(live_before);
        self.held = held();
        self.tree = tree.stats(self.input);
        let start = Instant::now();
        drop(tree);
        self.free.push(start.elapsed());
    }

    /// Times `free` (an arena reset, dropping a `Bump`) and adds it to this
    /// run's free time.
    pub fn free(&mut self, free: impl FnOnce()) {
        let start = Instant::now();
        free();
        if let Some(last) = self.free.last_mut() {
            *last += start.elapsed();
        }
    }
}

/// One table row.
pub struct Row {
    name: String,
    parse: Duration,
    free: Duration,
    mb_per_s: f64,
    tree: TreeStats,
    heap_delta: usize,
    held: Option<usize>,
    peak_rss: Option<usize>,
    faults: Option<u64>,
}

/// Measures one allocator: one warm-up and [`RUNS`] timed calls of `run`.
pub fn measure(name: &str, input: &str, mut run: impl FnMut(&mut Probe<'_>)) -> Row {
    reset_peak_rss();
    let mut probe = Probe {
        input,
        parse: Vec::new(),
        free: Vec::new(),
        tree: TreeStats::default(),
        heap_delta: 0,
        held: None,
        faults: Vec::new(),
    };
    run(&mut probe);
    probe.parse.clear();
    probe.free.clear();
    probe.faults.clear();
    for _ in 0..RUNS {
        run(&mut probe);
    }
    let parse = median(&mut probe.parse);
    Row {
        name: name.to_owned(),
        parse,
        free: median(&mut probe.free),
        mb_per_s: input.len() as f64 / 1e6 / parse.as_secs_f64(),
        tree: probe.tree,
        heap_delta: probe.heap_delta,
        held: probe.held,
        peak_rss: peak_rss(),
        faults: (!probe.faults.is_empty()).then(|| {
            probe.faults.sort();
            probe.faults[probe.faults.len() / 2]
        }),
    }
}

fn median(samples: &mut [Duration]) -> Duration {
    samples.sort();
    samples.get(samples.len() / 2).copied().unwrap_or_default()
}

/// Restarts the kernel's peak-RSS counter so each row's peak is its own.
fn reset_peak_rss() {
    // Best effort: without it the peaks are cumulative.
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// `VmHWM` from /proc/self/status, in bytes.
fn peak_rss() -> Option<usize> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: usize = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// Minor page faults of this process so far (`minflt`, field 10 of
/// /proc/self/stat): each is a page the kernel had to supply on first touch.
pub fn minor_faults() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // The command name (field 2) may contain spaces; count from after it.
    let after_name = &stat[stat.rfind(')')? + 1..];
    after_name.split_whitespace().nth(7)?.parse().ok()
}

/// Bytes as MiB with one decimal.
pub fn mib(bytes: usize) -> String {
    format!("{:.1}", bytes as f64 / (1 << 20) as f64)
}

/// Prints the table, one row per allocator.
pub fn print_table(input_len: usize, rows: &[Row]) {
    println!(
        "input {} MiB, median of {RUNS} runs after one warm-up.\n\
         tree = bytes the tree asked for; held = what the allocator holds for it \
         (global heap: live-heap growth);\npeak RSS = the process's peak during that \
         row (the input itself is included); faults = minor page faults while parsing.\n",
        mib(input_len)
    );
    println!(
        "{:<24} {:>9} {:>8} {:>9} {:>9} {:>9} {:>9} {:>8}",
        "allocator", "parse ms", "MB/s", "free ms", "tree MiB", "held MiB", "peak RSS", "faults"
    );
    for r in rows {
        println!(
            "{:<24} {:>9.1} {:>8.0} {:>9.3} {:>9} {:>9} {:>9} {:>8}",
            r.name,
            r.parse.as_secs_f64() * 1e3,
            r.mb_per_s,
            r.free.as_secs_f64() * 1e3,
            mib(r.tree.bytes),
            mib(r.held.unwrap_or(r.heap_delta)),
            r.peak_rss.map_or("-".into(), mib),
            r.faults.map_or("-".into(), |f| f.to_string()),
        );
    }
    if let Some(r) = rows.first() {
        println!(
            "\n{} values, {} strings copied because of escapes",
            r.tree.values, r.tree.owned_strings
        );
    }
}

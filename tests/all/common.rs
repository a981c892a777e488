//! Helpers shared by the integration tests: running code in a forked child
//! (for faults and resident-memory readings that must not disturb the test
//! process), running a test in a process of its own (for aborts), reading
//! the resident set size and a mapping's `VmFlags`, and reading a caught
//! panic's message.

/// How a forked child ended.
#[derive(Debug, PartialEq, Eq)]
pub enum ChildEnd {
    /// `exit(code)`.
    Exited(i32),
    /// Killed by this signal.
    Signaled(i32),
}

/// Runs `body` in a forked child and reports how the child ended; the
/// child exits with `body`'s return value. The child never returns into the
/// test harness, even if `body` panics (it exits with 101 then).
pub fn in_child(body: impl FnOnce() -> i32) -> ChildEnd {
    // SAFETY: the child only runs `body` and then `_exit`s; glibc resets the
    // malloc locks across fork, so allocating in the child is fine.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork failed: {}", std::io::Error::last_os_error());
    if pid == 0 {
        let code = std::panic::catch_unwind(std::panic::AssertUnwindSafe(body)).unwrap_or(101);
        // SAFETY: leaving the child without running the parent's atexit
        // handlers or test harness.
        unsafe { libc::_exit(code) };
    }
    let mut status = 0;
    // SAFETY: `pid` is our child; `status` is a valid out-pointer.
    let waited = unsafe { libc::waitpid(pid, &mut status, 0) };
    assert_eq!(waited, pid, "waitpid failed");
    if libc::WIFSIGNALED(status) {
        ChildEnd::Signaled(libc::WTERMSIG(status))
    } else {
        ChildEnd::Exited(libc::WEXITSTATUS(status))
    }
}

/// This process's resident set size in bytes, from `/proc/self/statm`.
pub fn resident_bytes() -> usize {
    let statm = std::fs::read_to_string("/proc/self/statm").expect("read /proc/self/statm");
    let pages: usize = statm
        .split_whitespace()
        .nth(1)
        .and_then(|field| field.parse().ok())
        .expect("statm has a resident field");
    pages * rustix_page_size()
}

/// The page size, as the tests see it.
pub fn rustix_page_size() -> usize {
    // SAFETY: `sysconf` has no preconditions.
    let size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    usize::try_from(size).expect("page size is positive")
}

/// Resident bytes of the mappings that lie in `start..start + len`, summed
/// from `/proc/self/smaps`. Unlike the process-wide count it sees only the
/// region under test, so other tests' threads, the allocator's own pages
/// and khugepaged's work elsewhere in the process cannot disturb it.
pub fn resident_in(start: usize, len: usize) -> usize {
    let smaps = std::fs::read_to_string("/proc/self/smaps").expect("read /proc/self/smaps");
    let end = start + len;
    let mut inside = false;
    let mut total_kib = 0;
    for line in smaps.lines() {
        if let Some((from, to)) = mapping_range(line) {
            inside = from < end && to > start;
            continue;
        }
        if inside {
            if let Some(kib) = line.strip_prefix("Rss:") {
                let kib = kib.trim().trim_end_matches("kB").trim();
                total_kib += kib.parse::<usize>().expect("Rss is a number of kB");
            }
        }
    }
    total_kib * 1024
}

/// The address range `from..to` of a `/proc/self/smaps` line that starts
/// a mapping's entry (`from-to perms offset ...`); `None` for a field line.
fn mapping_range(line: &str) -> Option<(usize, usize)> {
    let (range, _) = line.split_once(' ')?;
    let (from, to) = range.split_once('-')?;
    Some((
        usize::from_str_radix(from, 16).ok()?,
        usize::from_str_radix(to, 16).ok()?,
    ))
}

/// The `VmFlags` line of the mapping that holds `addr`, from
/// `/proc/self/smaps`; printed under `label`, so that `--nocapture` shows
/// what a test read.
pub fn vm_flags(label: &str, addr: usize) -> String {
    let smaps = std::fs::read_to_string("/proc/self/smaps").expect("read /proc/self/smaps");
    let mut inside = false;
    for line in smaps.lines() {
        if let Some((from, to)) = mapping_range(line) {
            inside = (from..to).contains(&addr);
        } else if inside && line.starts_with("VmFlags:") {
            eprintln!("{label}: {line}");
            return line.to_owned();
        }
    }
    panic!("no mapping holds {addr:#x}");
}

/// Whether a `VmFlags` line has the two-letter flag `flag`.
pub fn has_flag(line: &str, flag: &str) -> bool {
    line.split_whitespace().skip(1).any(|f| f == flag)
}

/// Asserts that no two `(address, length)` spans overlap; sorts them.
pub fn assert_disjoint(spans: &mut [(usize, usize)]) {
    spans.sort_unstable();
    for pair in spans.windows(2) {
        assert!(pair[0].0 + pair[0].1 <= pair[1].0, "overlap: {pair:?}");
    }
}

/// Joins scoped workers that each return the `(address, length)` spans
/// they allocated, and asserts that no two spans, of one worker or of
/// two, overlap. Returns them all, sorted.
pub fn join_disjoint(
    workers: Vec<std::thread::ScopedJoinHandle<'_, Vec<(usize, usize)>>>,
) -> Vec<(usize, usize)> {
    let mut spans: Vec<_> = workers
        .into_iter()
        .flat_map(|worker| worker.join().unwrap())
        .collect();
    assert_disjoint(&mut spans);
    spans
}

/// The variable [`run_alone`] sets for the test it runs: such a test does
/// its work only when it is set (see [`alone`]).
const ALONE: &str = "ANON_ARENA_TEST_ALONE";

/// Runs the `#[ignore]`d test `name` (its full path, e.g.
/// `"exhausted::child"`) in a new process of this test binary, and returns
/// how it ended with what it printed. For code that must abort: unlike a
/// forked child, a new process inherits no lock another test thread held
/// (a backtrace being printed), so it cannot hang on one.
pub fn run_alone(name: &str) -> std::process::Output {
    std::process::Command::new(std::env::current_exe().expect("the test binary"))
        .args([
            name,
            "--exact",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(ALONE, name)
        .output()
        .expect("the test binary runs")
}

/// Whether this process was started by [`run_alone`] for the test `name`:
/// an `#[ignore]`d test that aborts does nothing otherwise, so
/// `cargo test -- --ignored` runs it harmlessly.
pub fn alone(name: &str) -> bool {
    std::env::var(ALONE).is_ok_and(|running| running == name)
}

/// The message of a caught panic.
pub fn panic_message(payload: Box<dyn std::any::Any + Send>) -> String {
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
        .expect("a string panic payload")
}

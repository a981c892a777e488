//! Keeps freed heap memory resident so the `Box` and `typed_arena` peers
//! are measured with warm pages, like the pre-sized arenas.

/// Tells glibc to serve every allocation from its heap (no per-block
/// `mmap`) and never to trim the heap back to the OS.
pub fn keep_heap_resident() {
    // SAFETY: `mallopt` only changes malloc's tuning; it is called before
    // the benchmarks start any threads.
    unsafe {
        libc::mallopt(libc::M_MMAP_MAX, 0);
        libc::mallopt(libc::M_TRIM_THRESHOLD, i32::MAX);
    }
}

//! ASan's defaults for every target; `ASAN_OPTIONS` in the environment
//! still overrides them. Freed heap blocks wait in a 32 MB quarantine
//! instead of 256 MB, which keeps a target's RSS under 256 MB. Use after
//! free of the model's own heap blocks is caught within those 32 MB; the
//! arenas' memory is not ASan's heap, and its poisoning (the `asan`
//! feature) does not depend on the quarantine.

/// Read by the ASan runtime at start-up.
#[no_mangle]
pub extern "C" fn __asan_default_options() -> *const core::ffi::c_char {
    c"quarantine_size_mb=32".as_ptr()
}

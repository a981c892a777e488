//! The driver the model-program targets share: one session for the whole
//! run, whose allocator is made once and checked as new before each input
//! (reset first; a pool is emptied after each program instead); each
//! input is decoded as a program and run, and a broken rule panics with
//! the model's account of it.

/// Writes the fuzz target that runs every input on one `$session` (a
/// model `Session` type: `new()` and `run_bytes(&[u8])`).
macro_rules! session_target {
    ($session:ty) => {
        thread_local! {
            static SESSION: ::std::cell::RefCell<$session> =
                ::std::cell::RefCell::new(<$session>::new());
        }

        ::libfuzzer_sys::fuzz_target!(|bytes: &[u8]| {
            if let Err(failure) = SESSION.with_borrow_mut(|session| session.run_bytes(bytes)) {
                panic!("{failure}");
            }
        });
    };
}

pub(crate) use session_target;

//! `format!(in alloc, …)` and `vec![in alloc; …]`: bumpalo's macros, for
//! any allocator-api2 0.2 allocator.

/// Formats into a [`collections::String`](crate::collections::String) in the
/// given allocator: `format!(in &arena, "{x}")`, as bumpalo's
/// `format!(in &bump, …)`. The string has no capacity past its text, and
/// in an arena it is grown in place, so the arena holds exactly the text
/// (rounded up to 8 bytes).
///
/// # Panics
///
/// When the allocator fails, or a formatting trait implementation returns
/// an error, as `std::format!` does.
///
/// ```
/// let arena = anon_arena::Arena::with_capacity(4096);
/// let (line, column) = (3, 14);
/// let message = anon_arena::format!(in &arena, "unexpected ')' at {line}:{column}");
/// assert_eq!(message, "unexpected ')' at 3:14");
/// assert_eq!(arena.allocated_bytes(), 24);
/// ```
#[macro_export]
macro_rules! format {
    (in $alloc:expr, $($arg:tt)*) => {
        $crate::collections::String::from_fmt_in(::core::format_args!($($arg)*), $alloc)
    };
}

/// Builds a [`collections::Vec`](crate::collections::Vec) in the given
/// allocator, as bumpalo's `vec![in &bump; …]`: `vec![in &arena; 1, 2, 3]`
/// (one allocation of exactly three elements), `vec![in &arena; 0u8; 100]`,
/// or `vec![in &arena]` for an empty one.
///
/// ```
/// let arena = anon_arena::Arena::with_capacity(4096);
/// let mut v = anon_arena::vec![in &arena; 1u32, 2, 3];
/// v.push(4);
/// assert_eq!(v, [1, 2, 3, 4]);
/// assert_eq!(anon_arena::vec![in &arena; 'x'; 2], ['x', 'x']);
/// ```
#[macro_export]
macro_rules! vec {
    (in $alloc:expr $(;)?) => {
        $crate::collections::Vec::new_in($alloc)
    };
    (in $alloc:expr; $elem:expr; $n:expr) => {{
        let n = $n;
        let mut vec = $crate::collections::Vec::with_capacity_in(n, $alloc);
        vec.resize(n, $elem);
        vec
    }};
    (in $alloc:expr; $($item:expr),+ $(,)?) => {{
        let items = [$($item),+];
        let mut vec = $crate::collections::Vec::with_capacity_in(items.len(), $alloc);
        vec.extend(items);
        vec
    }};
}

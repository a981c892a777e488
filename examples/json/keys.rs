//! A post-parse query that also allocates in the tree's allocator.

use allocator_api2::alloc::Allocator;
use hashbrown::{DefaultHashBuilder, HashSet};

use crate::json::tree::{Store, Value};

/// Counts the distinct object member names in `value`, building the set in
/// `alloc`: shows that a hash table can share an arena with the tree it
/// indexes and be freed with it.
pub fn distinct_keys<'v, 't, S: Store<'t>, A: Allocator + Copy>(
    value: &'v Value<'t, S>,
    alloc: A,
) -> usize {
    let mut seen: HashSet<&'v str, DefaultHashBuilder, A> =
        HashSet::with_hasher_in(DefaultHashBuilder::default(), alloc);
    // An explicit stack: the tree may be MAX_DEPTH deep.
    let mut pending = vec![value];
    while let Some(v) = pending.pop() {
        match v {
            Value::Array(items) => pending.extend(items.iter()),
            Value::Object(members) => {
                for (k, v) in members.iter() {
                    seen.insert(&**k);
                    pending.push(v);
                }
            }
            _ => {}
        }
    }
    seen.len()
}

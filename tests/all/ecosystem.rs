//! Fitting the ecosystem: the re-exported allocator-api2 is the one the
//! impls and hashbrown use, builders are `Clone`, errors are `Hash`.

use std::collections::HashSet;

use anon_arena::allocator_api2::vec::Vec as ReexportedVec;
use anon_arena::{Arena, Error, Exhausted, Pool, Region, SharedArena, StackArena, SyncArena};

#[test]
fn the_reexported_allocator_api2_is_the_one_hashbrown_and_the_impls_use() {
    let arena = Arena::with_capacity(1 << 16);
    let mut v: ReexportedVec<u32, &Arena> = ReexportedVec::new_in(&arena);
    v.extend(0..10);
    // The same type as the test's own allocator-api2 0.2 `Vec`.
    let same: allocator_api2::vec::Vec<u32, &Arena> = v;
    let mut map = hashbrown::HashMap::new_in(&arena);
    map.extend(same.iter().map(|&i| (i, i)));
    assert_eq!(map.len(), 10);
}

#[test]
fn builders_clone_with_every_option() {
    let template = Arena::builder()
        .capacity(8192)
        .recycle(false)
        .on_exhausted(Exhausted::Panic);
    let (a, b) = (template.clone().build().unwrap(), template.build().unwrap());
    assert_eq!((a.capacity(), b.capacity()), (8192, 8192));
    for arena in [&a, &b] {
        let mut v: ReexportedVec<u8, _> = ReexportedVec::new_in(arena);
        let grown = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            v.extend_from_slice(&[0; 10_000])
        }));
        assert!(grown.is_err(), "the clone kept on_exhausted");
    }
    let stack = StackArena::builder().capacity(4096);
    assert_eq!(stack.clone().build().unwrap().capacity(), 4096);
    let sync = SyncArena::builder().capacity(4096);
    assert_eq!(sync.clone().build().unwrap().capacity(), 4096);
    let pool = Pool::<u64>::builder().slots(3);
    assert_eq!(pool.clone().build().unwrap().capacity(), 3);
    let region = Region::builder().len(4096);
    assert_eq!(region.clone().build().unwrap().len(), 4096);
    let shared = SharedArena::builder().capacity(4000);
    assert_eq!(shared.clone().build().unwrap().capacity(), 4096 - 64);
}

#[test]
fn errors_hash_and_compare() {
    let errors: HashSet<Error> = [
        Error::LayoutOverflow,
        Error::Exhausted {
            requested: 8,
            remaining: 0,
        },
        Error::AllocFailed { requested: 8 },
        Error::LayoutOverflow,
    ]
    .into_iter()
    .collect();
    assert_eq!(errors.len(), 3);
    assert!(errors.contains(&Error::AllocFailed { requested: 8 }));
}

//! Model-based property test for `Pool<T>`: random programs of alloc /
//! free (a random live box) / write / read, checked against a model that
//! maps each live box to the value it should hold.

use std::collections::HashSet;

use anon_arena::{Pool, PoolBox};
use proptest::prelude::*;

const CAPACITY: usize = 32;

/// A 24-byte value whose words must always agree, so a torn or clobbered
/// slot shows up.
type Value = [u64; 3];

fn value(seed: u64) -> Value {
    [seed, !seed, seed.rotate_left(17)]
}

#[derive(Clone, Debug)]
enum Op {
    Alloc(u64),
    Free(usize),
    Write(usize, u64),
    Read(usize),
    IntoInner(usize),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        5 => any::<u64>().prop_map(Op::Alloc),
        3 => any::<usize>().prop_map(Op::Free),
        2 => (any::<usize>(), any::<u64>()).prop_map(|(i, seed)| Op::Write(i, seed)),
        2 => any::<usize>().prop_map(Op::Read),
        1 => any::<usize>().prop_map(Op::IntoInner),
    ]
}

fn run(ops: Vec<Op>) -> Result<(), TestCaseError> {
    let pool = Pool::<Value>::with_capacity(CAPACITY);
    // The model: each live box and the seed of the value it must hold.
    let mut live: Vec<(PoolBox<'_, Value>, u64)> = Vec::new();
    let mut last_freed: Option<usize> = None;
    for op in ops {
        match op {
            Op::Alloc(seed) => match pool.try_alloc(value(seed)) {
                Ok(b) => {
                    let at = &*b as *const Value as usize;
                    if let Some(freed) = last_freed.take() {
                        prop_assert_eq!(at, freed, "the newest freed slot is reused first");
                    }
                    live.push((b, seed));
                }
                Err(back) => {
                    prop_assert_eq!(live.len(), CAPACITY, "refused while not full");
                    prop_assert_eq!(back, value(seed), "the refused value comes back");
                }
            },
            Op::Free(i) if !live.is_empty() => {
                let (b, seed) = live.swap_remove(i % live.len());
                prop_assert_eq!(*b, value(seed));
                last_freed = Some(&*b as *const Value as usize);
                drop(b);
            }
            Op::IntoInner(i) if !live.is_empty() => {
                let (b, seed) = live.swap_remove(i % live.len());
                last_freed = Some(&*b as *const Value as usize);
                prop_assert_eq!(PoolBox::into_inner(b), value(seed));
            }
            Op::Write(i, seed) if !live.is_empty() => {
                let i = i % live.len();
                *live[i].0 = value(seed);
                live[i].1 = seed;
            }
            Op::Read(i) if !live.is_empty() => {
                let (b, seed) = &live[i % live.len()];
                prop_assert_eq!(**b, value(*seed));
            }
            _ => {}
        }
        prop_assert_eq!(pool.len(), live.len());
        prop_assert_eq!(pool.is_empty(), live.is_empty());
        let mut slots = HashSet::new();
        for (b, seed) in &live {
            prop_assert_eq!(**b, value(*seed), "contents intact");
            let at = &**b as *const Value as usize;
            prop_assert_eq!(at % 8, 0);
            prop_assert!(slots.insert(at), "two live boxes share a slot");
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: if cfg!(miri) { 4 } else { 256 },
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn pool_matches_the_model(ops in proptest::collection::vec(op(), 1..300)) {
        run(ops)?;
    }
}

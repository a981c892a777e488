//! The shared model's programs, driven by proptest with a fixed seed: the
//! same decoding and checking the fuzz targets run (`fuzz/`), so a failure
//! here is a fuzz input and a fuzz crash file replays through
//! `anon_arena_model::*::run_bytes`.

use anon_arena::Arena;
use anon_arena_model::{api, arena_ops, math, Failure};
use proptest::prelude::*;
use proptest::test_runner::RngSeed;

fn config() -> ProptestConfig {
    ProptestConfig {
        // 256 natively unless PROPTEST_CASES says otherwise (valgrind).
        cases: if cfg!(miri) {
            4
        } else {
            ProptestConfig::default().cases
        },
        failure_persistence: None,
        rng_seed: RngSeed::Fixed(0x00A1_10C8),
        ..ProptestConfig::default()
    }
}

/// Program bytes: a few hundred operations natively, a few dozen under Miri.
fn program() -> impl Strategy<Value = Vec<u8>> {
    let len = if cfg!(miri) { 256 } else { 4096 };
    proptest::collection::vec(any::<u8>(), 0..len)
}

fn judged(result: Result<(), Failure>) -> Result<(), TestCaseError> {
    result.map_err(|failure| TestCaseError::fail(failure.to_string()))
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn arena_through_the_allocator_trait(bytes in program()) {
        judged(api::run_bytes::<Arena>(&bytes))?;
    }

    #[test]
    fn sync_arena_through_the_allocator_trait(bytes in program()) {
        judged(api::run_bytes::<anon_arena::SyncArena>(&bytes))?;
    }

    #[test]
    fn stack_arena_through_the_allocator_trait(bytes in program()) {
        judged(api::run_bytes::<anon_arena::StackArena>(&bytes))?;
    }

    #[test]
    fn arena_surface_matches_the_cursor_model(bytes in program()) {
        judged(arena_ops::run_bytes(&bytes))?;
    }

    #[test]
    fn math_matches_the_u128_reference(bytes in program()) {
        judged(math::run_bytes(&bytes))?;
    }
}

#[test]
fn empty_and_tiny_programs_pass() {
    for bytes in [&[][..], &[0], &[255; 7], &[1, 2, 3, 4, 5, 6, 7, 8, 9]] {
        api::run_bytes::<Arena>(bytes).unwrap();
        arena_ops::run_bytes(bytes).unwrap();
        math::run_bytes(bytes).unwrap();
    }
}

//! The shared model's programs, driven by proptest with a fixed seed: the
//! same decoding and checking the fuzz targets run (`fuzz/`), so a failure
//! here is a fuzz input and a fuzz crash file replays through
//! `anon_arena_model::*::run_bytes`.

use anon_arena::Arena;
use anon_arena_model::{
    api, arena_ops, collections_ops, math, pool_ops, stack_ops, sync_ops, Failure,
};
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
    fn page_allocator_through_the_allocator_trait(bytes in program()) {
        judged(api::run_bytes::<anon_arena::PageAllocator>(&bytes))?;
    }

    #[test]
    fn arena_surface_matches_the_cursor_model(bytes in program()) {
        judged(arena_ops::run_bytes(&bytes))?;
    }

    #[test]
    fn stack_marks_and_scopes_follow_the_lifo_model(bytes in program()) {
        judged(stack_ops::run_bytes(&bytes))?;
    }

    #[test]
    fn pool_boxes_and_trait_blocks_keep_to_their_slots(bytes in program()) {
        judged(pool_ops::run_bytes(&bytes))?;
    }

    #[test]
    fn sync_arena_and_its_handles_keep_their_blocks_apart(bytes in program()) {
        judged(sync_ops::run_bytes(&bytes))?;
    }

    #[test]
    fn collections_under_a_moving_limit_match_std(bytes in program()) {
        judged(collections_ops::run_bytes(&bytes))?;
    }

    #[test]
    fn programs_back_to_back_on_one_allocator_each(
        programs in proptest::collection::vec(program(), 1..4)
    ) {
        // As the fuzz targets run them: each program starts with a reset
        // of what the last one left, checked to be as good as new.
        let mut arena = arena_ops::Session::new();
        let mut stack = stack_ops::Session::new();
        let mut pool = pool_ops::Session::new();
        let mut sync = sync_ops::Session::new();
        let mut trait_stack = api::Session::<anon_arena::StackArena>::new();
        let mut collections = collections_ops::Session::new();
        for bytes in &programs {
            judged(arena.run_bytes(bytes))?;
            judged(stack.run_bytes(bytes))?;
            judged(pool.run_bytes(bytes))?;
            judged(sync.run_bytes(bytes))?;
            judged(trait_stack.run_bytes(bytes))?;
            judged(collections.run_bytes(bytes))?;
        }
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
        stack_ops::run_bytes(bytes).unwrap();
        pool_ops::run_bytes(bytes).unwrap();
        sync_ops::run_bytes(bytes).unwrap();
        collections_ops::run_bytes(bytes).unwrap();
        math::run_bytes(bytes).unwrap();
    }
}

/// The committed fuzz seeds (`fuzz/corpus/TARGET/`) pass as they do under
/// `ci/fuzz.sh`, each on a fresh allocator and then one after another on
/// one allocator per target, reset between them, as the fuzz targets run
/// them: a change to the model or the allocators that one of them trips
/// shows up in `cargo test` already.
#[test]
#[cfg_attr(miri, ignore = "reads files, which Miri's isolation forbids")]
fn committed_seeds_pass() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus");
    let Ok(targets) = std::fs::read_dir(&root) else {
        return; // no committed corpus: nothing to replay
    };
    let mut replayed = 0;
    // As the fuzz targets run them: one allocator per target for all its
    // seeds, reset between them.
    let mut sessions = (
        api::Session::<Arena>::new(),
        api::Session::<anon_arena::SyncArena>::new(),
        api::Session::<anon_arena::StackArena>::new(),
        arena_ops::Session::new(),
        stack_ops::Session::new(),
        pool_ops::Session::new(),
        sync_ops::Session::new(),
        collections_ops::Session::new(),
    );
    for target in targets {
        let target = target.unwrap().path();
        let name = target.file_name().unwrap().to_str().unwrap().to_owned();
        for seed in std::fs::read_dir(&target).unwrap() {
            let seed = seed.unwrap().path();
            let bytes = std::fs::read(&seed).unwrap();
            // Each seed on a fresh allocator, then on the target's reused one.
            let result = match name.as_str() {
                "allocator_api" => match bytes.split_first() {
                    Some((which, program)) => match which % 4 {
                        0 => api::run_bytes::<Arena>(program)
                            .and_then(|()| sessions.0.run_bytes(program)),
                        1 => api::run_bytes::<anon_arena::SyncArena>(program)
                            .and_then(|()| sessions.1.run_bytes(program)),
                        2 => api::run_bytes::<anon_arena::StackArena>(program)
                            .and_then(|()| sessions.2.run_bytes(program)),
                        // No reset: the session frees what each one leaves.
                        _ => api::run_bytes::<anon_arena::PageAllocator>(program).and_then(|()| {
                            api::Session::<anon_arena::PageAllocator>::new().run_bytes(program)
                        }),
                    },
                    None => Ok(()),
                },
                "arena_ops" => {
                    arena_ops::run_bytes(&bytes).and_then(|()| sessions.3.run_bytes(&bytes))
                }
                "stack_ops" => {
                    stack_ops::run_bytes(&bytes).and_then(|()| sessions.4.run_bytes(&bytes))
                }
                "pool_ops" => {
                    pool_ops::run_bytes(&bytes).and_then(|()| sessions.5.run_bytes(&bytes))
                }
                "sync_ops" => {
                    sync_ops::run_bytes(&bytes).and_then(|()| sessions.6.run_bytes(&bytes))
                }
                "collections_ops" => {
                    collections_ops::run_bytes(&bytes).and_then(|()| sessions.7.run_bytes(&bytes))
                }
                "math" => math::run_bytes(&bytes),
                // Not model programs: ci/fuzz.sh replays these.
                "capped_lines" | "json_capped" => continue,
                other => panic!("fuzz/corpus/{other}: no such target"),
            };
            if let Err(failure) = result {
                panic!("{}: {failure}", seed.display());
            }
            replayed += 1;
        }
    }
    assert!(replayed > 0, "{} holds no seeds", root.display());
}

/// Every arena operation that grows a block or can fail midway, on both
/// paths: collections that fit and end at their last element, ones that
/// run out of room partway (refused with the numbers from before the
/// call, the cursor back where it was), failing initialisers, and boxes
/// given back or kept; near the end of the arena too.
#[test]
fn arena_program_exercises_growing_and_failing_operations() {
    use anon_arena_model::arena_ops::ArenaOp::*;
    use anon_arena_model::input::{Align, Size, CAPACITY};
    let program = [
        Boxed {
            seed: 1,
            dealloc: true,
        },
        Boxed {
            seed: 2,
            dealloc: false,
        },
        Iter {
            len: Size(10),
            filtered: true,
        },
        Iter {
            len: Size(10),
            filtered: false,
        },
        Iter {
            len: Size(0),
            filtered: true,
        },
        Fmt {
            len: Size(100),
            piece: 5,
        },
        Fmt {
            len: Size(0),
            piece: 0,
        },
        TryWith {
            seed: 3,
            fail: true,
        },
        TryWith {
            seed: 4,
            fail: false,
        },
        TryFill {
            len: Size(8),
            fail_at: Size(3),
        },
        TryFill {
            len: Size(8),
            fail_at: Size(100),
        },
        Iter {
            len: Size(CAPACITY),
            filtered: true,
        },
        Fmt {
            len: Size(2 * CAPACITY),
            piece: 14,
        },
        Reset,
        // 64 bytes left.
        Layout {
            size: Size(CAPACITY - 64),
            align: Align(8),
        },
        TryWith {
            seed: 5,
            fail: true,
        },
        Iter {
            len: Size(100),
            filtered: true,
        }, // refused at 33 items
        Fmt {
            len: Size(100),
            piece: 6,
        }, // refused at 70 bytes
        TryFill {
            len: Size(8),
            fail_at: Size(3),
        },
        Boxed {
            seed: 6,
            dealloc: true,
        },
        Iter {
            len: Size(32),
            filtered: true,
        }, // exactly fills the arena
        TryWith {
            seed: 7,
            fail: false,
        }, // no room
        Iter {
            len: Size(1),
            filtered: false,
        },
        Fmt {
            len: Size(1),
            piece: 0,
        },
        Boxed {
            seed: 8,
            dealloc: false,
        },
        Release,
        Fmt {
            len: Size(9),
            piece: 2,
        },
    ];
    arena_ops::run(&program).unwrap();
}

/// Boxed slices and strings from every constructor, leaked and given
/// back, `into_inner`, and freezing with and without a root, with room and
/// without: the blocks land where the model says, a box given back frees
/// its block, a frozen arena reads as it was and is writable after `thaw`.
#[test]
fn arena_program_exercises_boxes_and_freezing() {
    use anon_arena_model::arena_ops::ArenaOp::*;
    use anon_arena_model::input::{Align, Size, CAPACITY};
    let slices = (0..10u8).map(|how| BoxedSlice {
        len: Size(usize::from(how) * 7),
        how,
        dealloc: how % 2 == 1,
    });
    let mut program: Vec<_> = slices.collect();
    program.extend([
        // Empty: nothing to give back.
        BoxedSlice {
            len: Size(0),
            how: 1,
            dealloc: true,
        },
        Unboxed { seed: 0x1234 },
        Freeze {
            len: Size(5),
            root: true,
        },
        Freeze {
            len: Size(0),
            root: true,
        },
        Freeze {
            len: Size(9),
            root: false,
        },
        // Too long for what is left: refused inside the freeze.
        Freeze {
            len: Size(CAPACITY),
            root: true,
        },
        Reset,
        // 16 bytes left: a box of four `u32`s fits exactly and is given
        // back, then a root of four fills the arena.
        Layout {
            size: Size(CAPACITY - 16),
            align: Align(8),
        },
        BoxedSlice {
            len: Size(4),
            how: 1,
            dealloc: true,
        },
        Freeze {
            len: Size(4),
            root: true,
        },
    ]);
    // Nothing left: every constructor refuses, and so does a root.
    program.extend((0..5u8).map(|how| BoxedSlice {
        len: Size(1),
        how,
        dealloc: false,
    }));
    program.extend([
        Unboxed { seed: 7 },
        Freeze {
            len: Size(1),
            root: true,
        },
        Release,
        Freeze {
            len: Size(3),
            root: true,
        },
    ]);
    arena_ops::run(&program).unwrap();
}

/// Every stack operation on a path where it does something: nested scopes,
/// accepted and refused marks, a straddled mark, trait calls on the open
/// scope's blocks and on the parent's (the floor: freed, shrunk and grown
/// without the top going below the scope's start), a scope reset.
#[test]
fn stack_program_exercises_every_operation() {
    use anon_arena_model::api::ApiOp;
    use anon_arena_model::input::{Align, Size, Which};
    use stack_ops::StackOp::*;
    let alloc = |size, slice| Alloc {
        size: Size(size),
        align: Align(8),
        slice,
        fill: 0xA5,
    };
    let allocate = |size, zeroed| {
        Trait(ApiOp::Allocate {
            size: Size(size),
            align: Align(8),
            zeroed,
        })
    };
    let grow = |which, extra| {
        Trait(ApiOp::Grow {
            which: Which(which),
            extra: Size(extra),
            align: Align(8),
            zeroed: true,
        })
    };
    let shrink = |which, less, align| {
        Trait(ApiOp::Shrink {
            which: Which(which),
            less: Size(less),
            align: Align(align),
        })
    };
    let pop = || Trait(ApiOp::DeallocateNewest);
    let reset = |release| Trait(ApiOp::Reset { release });
    // Offsets from the arena's start; "floor" is the open scope's start.
    let program = [
        alloc(16, false),                             // a: 0..16
        Mark,                                         // 0: at 16
        allocate(8, false),                           // b: 16..24
        Mark,                                         // 1: at 24
        Open,                                         // floor 24
        pop(),                                        // b ends at the floor: the top stays at 24
        grow(0, 16),                                  // a, not the newest: moves to 24..56
        allocate(40, true),                           // c: 56..96
        Trait(ApiOp::Deallocate { which: Which(0) }), // a, not the newest
        ResetTo { which: Which(0) },                  // below the floor: refused
        Mark,                                         // 2: at 96
        Open,                                         // floor 96
        shrink(0, 40, 8), // c to nothing, below the floor: the top stays
        alloc(3, true),   // d: 96..99
        grow(1, 24),      // d, the newest: in place
        shrink(1, 5, 4),  // d: gives its tail back, the top at 120
        Open,             // floor 120
        grow(1, 8),       // d ends at the floor: moves to 120..150
        ForeignMark,
        reset(false), // this scope only: d's new place is gone
        Close,
        alloc(40, false),
        reset(false),
        Close,                       // the top back at 96
        ResetTo { which: Which(2) }, // the top itself: accepted
        allocate(8, false),          // g: 96..104
        Mark,                        // 3: at 104
        pop(),                       // g: the top back at 96
        alloc(72, false),            // 96..168
        ResetTo { which: Which(3) }, // straddles that block: accepted
        Close,
        ResetTo { which: Which(2) }, // above the top now: refused
        ResetTo { which: Which(1) },
        alloc(8, true),
        pop(),
        alloc(8, false),
        ResetTo { which: Which(1) },
        reset(true),
        allocate(1, true),
    ];
    stack_ops::run(&program).unwrap();
}

/// Found by `stack_ops` in its first run (a model bug, not the arena's):
/// shrinking the top block to nothing after a rewind frees space below the
/// rewind point, and the next block rightly starts there.
#[test]
fn stack_shrink_to_empty_after_a_rewind_moves_reuse_down() {
    use anon_arena_model::api::ApiOp;
    use anon_arena_model::input::{Align, Size, Which};
    use stack_ops::StackOp::*;
    let program = [
        Open,
        Alloc {
            size: Size(51),
            align: Align(2),
            slice: true,
            fill: 51,
        },
        Mark,
        Alloc {
            size: Size(0),
            align: Align(2),
            slice: false,
            fill: 0,
        },
        ResetTo { which: Which(0) },
        Trait(ApiOp::Shrink {
            which: Which(0),
            less: Size(51),
            align: Align(2),
        }),
        Alloc {
            size: Size(51),
            align: Align(2),
            slice: true,
            fill: 51,
        },
    ];
    stack_ops::run(&program).unwrap();
}

/// Every pool operation on a path where it does something: a full pool's
/// refusals, a write through a box, `into_inner`, resizes within and
/// beyond a slot, a shrink to nothing, and slot reuse.
#[test]
fn pool_program_exercises_every_operation() {
    use anon_arena_model::input::{Align, Size, Which};
    use pool_ops::PoolOp::*;
    let raw = |size, zeroed| Raw {
        size: Size(size),
        align: Align(8),
        zeroed,
    };
    let mut program = vec![raw(0, false), raw(25, false), raw(8, true)];
    program.extend((0..pool_ops::SLOTS).map(|seed| Alloc { seed: seed as u64 }));
    program.extend([
        raw(8, false), // full: refused
        Write {
            which: Which(4),
            seed: 0xFEED,
        },
        Write {
            which: Which(0), // a trait block: skipped
            seed: 1,
        },
        IntoInner { which: Which(5) },
        Alloc { seed: 99 }, // takes the slot just freed
        Grow {
            which: Which(0),
            extra: Size(16),
            zeroed: true,
        },
        Grow {
            which: Which(0),
            extra: Size(1), // past the slot: refused
            zeroed: false,
        },
        Shrink {
            which: Which(0),
            less: Size(4),
            align: Align(16), // over-aligned: refused
        },
        Shrink {
            which: Which(0),
            less: Size(4),
            align: Align(4),
        },
        Shrink {
            which: Which(0),
            less: Size(20),
            align: Align(1), // to nothing: frees the slot
        },
        raw(24, true),
        Free { which: Which(7) },
        IntoInner { which: Which(0) },
    ]);
    pool_ops::run(&program).unwrap();
}

/// Handles and the arena interleaved: leases renewed and left behind, a
/// handle dropped, a block too big for any lease, trait calls on the arena
/// and on handles (grown in and out of place, shrunk, freed; a dropped
/// handle's block freed through another), then a reset and a release with
/// handles open; other arenas taking the thread's cached lease of the
/// arena to the second slot and evicting it.
#[test]
fn sync_program_exercises_every_operation() {
    use anon_arena_model::api::ApiOp;
    use anon_arena_model::input::{Align, Size, Which};
    use sync_ops::SyncOp::*;
    let alloc = |on, kind, len| Alloc {
        on,
        kind,
        len: Size(len),
        align: Align(16),
        fill: 0x3C,
    };
    let allocate = |on, size, zeroed| Trait {
        on,
        op: ApiOp::Allocate {
            size: Size(size),
            align: Align(8),
            zeroed,
        },
    };
    let grow = |on, which, extra| Trait {
        on,
        op: ApiOp::Grow {
            which: Which(which),
            extra: Size(extra),
            align: Align(8),
            zeroed: true,
        },
    };
    let shrink = |on, which, less, align| Trait {
        on,
        op: ApiOp::Shrink {
            which: Which(which),
            less: Size(less),
            align: Align(align),
        },
    };
    let reset = |release| Trait {
        on: 0,
        op: ApiOp::Reset { release },
    };
    let mut program = vec![Open, Open, alloc(1, 0, 24), alloc(2, 1, 5), alloc(0, 2, 7)];
    // Enough through one handle to renew its lease a few times.
    program.extend((0..12).map(|_| alloc(1, 3, 100)));
    program.extend([
        alloc(2, 4, 3),
        Drop { which: Which(0) },
        alloc(1, 5, 0),
        alloc(1, 1, 20_000), // beyond any lease: straight from the arena
        reset(false),
        Open,
        Open,
        allocate(0, 40, false),
        grow(0, 0, 24), // the newest of the arena's lease: in place
        allocate(1, 24, true),
        allocate(1, 8, false),
        grow(1, 0, 16),          // not the lease's newest: moves within it
        grow(1, 1, 20_000),      // past any lease: moves to the arena
        shrink(1, 1, 19_000, 8), // the shared cursor's newest: gives its tail back
        shrink(1, 0, 3, 4096),   // over-aligned: moves
        allocate(2, 100, false),
        allocate(0, 16, false),
        shrink(0, 1, 8, 8), // the newest of the arena's lease: gives its tail back
        Trait {
            on: 1,
            op: ApiOp::DeallocateNewest,
        },
        Trait {
            on: 0,
            op: ApiOp::Deallocate { which: Which(0) },
        },
        Drop { which: Which(1) },
        Trait {
            on: 1,
            op: ApiOp::DeallocateNewest, // the dropped handle's block
        },
        grow(1, 0, 8),
        reset(false),
        Open,
        alloc(1, 0, 8),
        allocate(1, 64, true), // zeroed over memory dirtied before the reset
        alloc(0, 5, 0),
        reset(true),
        alloc(0, 3, 2),
        allocate(0, 8, true),
        // Growing collections from the arena and from a handle, one long
        // enough to outgrow its lease; then boxes given back by their own
        // allocator, by the arena, by another handle.
        Open,
        Open,
        alloc(0, 6, 300),
        alloc(1, 6, 3000),
        alloc(2, 7, 500),
        Dealloc {
            from: 1,
            to: 1,
            seed: 1,
        },
        Dealloc {
            from: 1,
            to: 0,
            seed: 2,
        },
        Dealloc {
            from: 0,
            to: 2,
            seed: 3,
        },
        Dealloc {
            from: 2,
            to: 1,
            seed: 4,
        },
        Dealloc {
            from: 0,
            to: 0,
            seed: 5,
        },
        alloc(1, 3, 10),
        // The arena's cached lease: to the second slot and back, then
        // evicted, its blocks freed and grown by the shared cursor's rules.
        allocate(0, 24, false),
        Others { both: false },
        grow(0, 0, 8),
        Others { both: true },
        grow(0, 0, 8),
        allocate(0, 8, false),
        Trait {
            on: 0,
            op: ApiOp::DeallocateNewest,
        },
        reset(false),
        Others { both: true },
        alloc(0, 5, 0), // after a reset: at the start
    ]);
    sync_ops::run(&program).unwrap();
}

/// Every collections operation on strings and vectors, with refusals under
/// a lowered limit (the collection kept as it was), a limit below what is
/// allocated, leaks kept to the end, and `collect_in`.
#[test]
fn collections_program_exercises_every_operation() {
    use anon_arena_model::collections_ops::CollectionsOp::*;
    use anon_arena_model::input::{Size, Which};
    let first = Which(0);
    let program = [
        New { text: true },
        Append {
            which: first,
            len: Size(100),
            from: 3,
        },
        PushOne {
            which: first,
            c: '\u{1f600}',
        },
        Insert {
            which: first,
            at: 50,
            len: Size(20),
            from: 1,
        },
        Truncate {
            which: first,
            at: 61,
        },
        Pop { which: first },
        Collect { len: Size(300) },
        // Now the vector is the newest: the string moves when it grows.
        Append {
            which: first,
            len: Size(200),
            from: 0,
        },
        Limit {
            limit: Some(Size(3000)),
        },
        // Past the limit: refused, both kept.
        Append {
            which: Which(1),
            len: Size(2000),
            from: 0,
        },
        Reserve {
            which: first,
            additional: Size(5000),
        },
        Reserve {
            which: first,
            additional: Size(usize::MAX),
        },
        Insert {
            which: Which(1),
            at: 7,
            len: Size(0),
            from: 9,
        },
        PushOne {
            which: Which(1),
            c: 'x',
        },
        Leak { which: first },
        New { text: false },
        // A limit below what is allocated: nothing more fits.
        Limit {
            limit: Some(Size(16)),
        },
        PushOne {
            which: Which(1),
            c: 'y',
        },
        Collect { len: Size(1) },
        Limit { limit: None },
        Append {
            which: Which(1),
            len: Size(64),
            from: 0,
        },
        Clear {
            which: Which(0),
            shrink: false,
        },
        Shrink { which: Which(1) },
        Clear {
            which: Which(1),
            shrink: true,
        },
        Drop { which: first },
        New { text: true },
        Append {
            which: Which(1),
            len: Size(40),
            from: 5,
        },
        Leak { which: Which(1) },
    ];
    collections_ops::run(&program).unwrap();
    // Back to back on one arena: the second run starts from a reset.
    let mut session = collections_ops::Session::new();
    session.run(&program).unwrap();
    session.run(&program).unwrap();
}

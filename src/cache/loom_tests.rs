//! Loom models of [`RegionCache`]'s slot protocol: parking against taking
//! against trimming (with evictions from a full cache), and the on/off
//! switch's flip count against a park and a take.
//!
//! The regions are real (small) mappings that loom tracks under
//! `cfg(loom)`: one neither unmapped nor held at the end of an execution
//! fails the model, as does any access to a slot's record that does not
//! happen after the previous one. Every take checks that what it got was
//! parked under the switch count it saw, while the switch was on.
//! `ci/loom.sh` runs them.

use loom::sync::Arc;

use super::{Parked, RegionCache, BUSY, FULL, SLOTS};
use crate::region::{page_size, Region, RegionOptions, Shape};
use crate::sync_prims::{model, Ordering};

/// The options of a mapping of `pages` pages.
fn options(pages: usize) -> RegionOptions {
    RegionOptions::new(pages * page_size())
}

/// The shape of a mapping of `pages` pages.
fn shape(pages: usize) -> Shape {
    Shape::of(&options(pages)).unwrap()
}

/// Parks a fresh (all-zero) mapping of `pages` pages in `cache`.
fn park_fresh(cache: &RegionCache, pages: usize) {
    let region = Region::map(&options(pages)).unwrap();
    // SAFETY: a fresh mapping, all zero, referenced by nothing.
    unsafe { cache.park(region, 0) };
}

/// Once every thread is done: no slot is left busy, and a slot is full
/// exactly when it holds a record.
fn assert_settled(cache: &RegionCache) {
    for slot in &cache.slots {
        let state = slot.state.load(Ordering::Relaxed);
        assert_ne!(state, BUSY, "a slot was left busy");
        // SAFETY: no thread holds the slot (it is not busy, and every
        // thread is done); loom checks that the last holder's access
        // happens before this one.
        let held = slot
            .parked
            .with_mut(|record| unsafe { (*record).is_some() });
        assert_eq!(held, state == FULL, "slot state and record disagree");
    }
}

/// Takes a mapping of `shape` and checks the count it was parked under:
/// even (the switch was on), and one the switch showed during this take
/// (the switch has not flipped since the mapping was parked).
fn take_checked(cache: &RegionCache, shape: Shape) -> Option<Region> {
    let before = cache.switch.load(Ordering::SeqCst);
    let parked: Option<Parked> = cache.take_parked(shape);
    let after = cache.switch.load(Ordering::SeqCst);
    let parked = parked?;
    assert!(
        parked.flips % 2 == 0 && (before..=after).contains(&parked.flips),
        "took a mapping parked under switch count {} while the switch went {before}..={after}",
        parked.flips
    );
    Some(parked.unpark().0)
}

/// Two threads park mappings of one shape into a cache with one slot left
/// (so the later park evicts, unless the third thread has emptied a slot),
/// while a third takes that shape and then trims: each mapping is taken at
/// most once, and every one is unmapped or held at the end.
#[test]
fn loom_park_vs_take_vs_trim() {
    model::check("park vs take vs trim", || {
        let cache = Arc::new(RegionCache::new());
        for pages in 2..=SLOTS {
            park_fresh(&cache, pages);
        }
        let parkers: Vec<_> = (0..2)
            .map(|_| {
                let cache = Arc::clone(&cache);
                model::spawn(move || park_fresh(&cache, 1))
            })
            .collect();
        model::start_line();
        let taken = take_checked(&cache, shape(1));
        cache.trim();
        for parker in parkers {
            parker.join().unwrap();
        }
        assert_settled(&cache);
        drop(taken);
    });
}

/// A mapping is parked while another thread turns the switch off (and,
/// with `back_on`, on again) and a third takes: a take never hands out a
/// mapping across an off period, and once the switch is off for good
/// nothing stays parked.
fn switch_model(back_on: bool) {
    let cache = Arc::new(RegionCache::new());
    let c = Arc::clone(&cache);
    let parks = model::spawn(move || park_fresh(&c, 1));
    let c = Arc::clone(&cache);
    let flips = model::spawn(move || {
        c.set_enabled(false);
        if back_on {
            c.set_enabled(true);
        }
    });
    model::start_line();
    let taken = take_checked(&cache, shape(1));
    parks.join().unwrap();
    flips.join().unwrap();
    assert_settled(&cache);
    if !back_on {
        assert!(
            cache.is_empty(),
            "a mapping stayed parked while the switch is off"
        );
    }
    drop(taken);
}

#[test]
fn loom_switch_off_vs_park_vs_take() {
    model::check("switch off vs park vs take", || switch_model(false));
}

#[test]
fn loom_switch_off_and_on_vs_park_vs_take() {
    model::check("switch off and on vs park vs take", || switch_model(true));
}

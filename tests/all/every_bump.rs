//! Helpers for the tests of the methods every bump type shares: a macro
//! that runs one body against each of them, and a value that records its
//! drops.

use std::cell::RefCell;

/// Runs `$body` once per bump type, with `$arena` a shared reference to it
/// (`&Arena`, `&StackArena`, a `StackArena` guard, a nested `&Scope`, `&SyncArena`,
/// `&LocalArena`), `$used` a closure giving how far its cursor stands
/// (bytes handed out; for `&SyncArena`, not counting what is left in this
/// thread's lease; for a handle, how much of its lease is used, after one
/// block that claims the lease) and `$kind` its name. Each has 64 KiB.
macro_rules! in_every_bump {
    (|$arena:ident, $used:ident, $kind:ident| $body:block) => {{
        {
            let owner = anon_arena::Arena::with_capacity(1 << 16);
            let $arena = &owner;
            let $used = || $arena.allocated_bytes();
            let $kind = "Arena";
            $body
        }
        {
            let owner = anon_arena::StackArena::with_capacity(1 << 16);
            let $arena = &owner;
            let $used = || $arena.allocated_bytes();
            let $kind = "StackArena";
            $body
        }
        {
            let mut owner = anon_arena::StackArena::with_capacity(1 << 16);
            owner.alloc(0u64);
            let scope = owner.scope_guard();
            let $arena: &anon_arena::StackArena = &scope;
            let $used = || $arena.allocated_bytes();
            let $kind = "StackArena scope";
            $body
        }
        {
            let mut owner = anon_arena::StackArena::with_capacity(1 << 16);
            owner.alloc(0u64);
            owner.scope(|mut outer| {
                outer.alloc(0u64);
                outer.scope(|scope| {
                    let $arena = &scope;
                    let $used = || $arena.allocated_bytes();
                    let $kind = "Scope";
                    $body
                })
            });
        }
        {
            let owner = anon_arena::SyncArena::with_capacity(1 << 16);
            let $arena = &owner;
            let $used = || $arena.allocated_bytes() - $arena.lease_remaining();
            let $kind = "SyncArena";
            $body
        }
        {
            let owner = anon_arena::SyncArena::with_capacity(1 << 16);
            let handle = owner.local();
            handle.alloc(0u8);
            let $arena = &handle;
            let $used = || (1usize << 16) - $arena.lease_remaining();
            let $kind = "LocalArena";
            $body
        }
    }};
}
pub(crate) use in_every_bump;

/// The ids of the [`Counted`] values dropped so far, in drop order.
#[derive(Default)]
pub struct Drops(RefCell<Vec<u32>>);

impl Drops {
    /// A value that records its drop here.
    pub fn value(&self, id: u32) -> Counted<'_> {
        Counted { drops: self, id }
    }

    /// The ids dropped so far, sorted.
    pub fn dropped(&self) -> Vec<u32> {
        let mut ids = self.0.borrow().clone();
        ids.sort_unstable();
        ids
    }

    /// Forgets the drops so far.
    pub fn clear(&self) {
        self.0.borrow_mut().clear();
    }

    /// How many drops so far.
    pub fn count(&self) -> usize {
        self.0.borrow().len()
    }
}

/// A value that records its drop in a [`Drops`].
#[derive(Debug)]
pub struct Counted<'d> {
    drops: &'d Drops,
    /// Which value this is.
    pub id: u32,
}

impl Clone for Counted<'_> {
    fn clone(&self) -> Self {
        self.drops.value(self.id)
    }
}

impl Drop for Counted<'_> {
    fn drop(&mut self) {
        self.drops.0.borrow_mut().push(self.id);
    }
}

impl std::fmt::Debug for Drops {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.0.borrow().iter()).finish()
    }
}

//! [`CursorModel`]: where a bump cursor must put every block and where it
//! must stand after every allocation, free and resize — the rules `Arena`,
//! `StackArena` and `SyncArena` share, written from the design (DESIGN.md,
//! invariants 1, 2 and 5; "the newest allocation may be freed, grown or
//! shrunk in place") rather than from their code.
//!
//! `StackArena`'s scopes and marks move the cursor too: a scope's start is
//! a floor (nothing inside the scope frees, grows or shrinks a block made
//! before it so that the cursor goes below its start), its end and
//! `reset` take the cursor back to that start, and `reset_to` moves it to
//! a mark between the floor and the cursor.
//!
//! The drivers compare each block's address with [`Placed::addr`] and the
//! allocator's `allocated_bytes()` with [`CursorModel::pos`] after every
//! step, and require a refusal exactly when the model has no room.

use core::alloc::Layout;

use crate::math::bump_ref;

/// A bump cursor as the design says it must move: offsets from its first
/// byte, every position a multiple of 8.
#[derive(Clone, Copy, Debug)]
pub struct CursorModel {
    /// Address of the first byte.
    pub base: usize,
    /// Offset of the next free byte: what `allocated_bytes()` must say.
    pub pos: usize,
    /// Bytes the cursor manages.
    pub capacity: usize,
    /// Offset of the innermost open scope's start (0 outside scopes): a
    /// block starting below it is never the newest, so freeing or resizing
    /// it leaves the cursor where it is.
    pub floor: usize,
}

/// Where the model puts a block, and the cursor after it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Placed {
    /// The address the block must have; `None` for an over-aligned
    /// zero-sized block, which needs only an aligned address and takes no
    /// room.
    pub addr: Option<usize>,
    /// The cursor's offset after the step.
    pub pos: usize,
}

/// `size` rounded up to the 8-byte minimum alignment (sizes come from a
/// `Layout`, so this cannot overflow).
fn round8(size: usize) -> usize {
    size.next_multiple_of(8)
}

impl CursorModel {
    /// A cursor over `capacity` bytes from `base`, standing at offset `pos`,
    /// outside any scope.
    pub fn new(base: usize, pos: usize, capacity: usize) -> CursorModel {
        CursorModel {
            base,
            pos,
            capacity,
            floor: 0,
        }
    }

    /// A fresh block for `layout`, bumped from the cursor; `None` when it
    /// does not fit (the allocator must refuse).
    pub fn fresh(&self, layout: Layout) -> Option<Placed> {
        if layout.size() == 0 {
            let addr = (layout.align() <= 8).then_some(self.base + self.pos);
            return Some(Placed {
                addr,
                pos: self.pos,
            });
        }
        // Alignment is of addresses, not offsets: bump from the real ones.
        let (pos, end) = (self.base + self.pos, self.base + self.capacity);
        bump_ref(pos, end, layout.size(), layout.align()).map(|(start, new_pos)| Placed {
            addr: Some(start),
            pos: new_pos - self.base,
        })
    }

    /// Whether the block at `addr` of `size` bytes is the newest: it
    /// starts at or above the floor and ends (rounded to 8) where the
    /// cursor stands.
    pub fn is_newest(&self, addr: usize, size: usize) -> bool {
        addr >= self.base + self.floor && addr - self.base + round8(size) == self.pos
    }

    /// `grow` of the block at `addr` from `old` to `new`: in place when it
    /// is the newest, its address suits `new.align()` and the room after
    /// it holds `new`; otherwise a fresh block (the old one stays counted).
    pub fn grow(&self, addr: usize, old: Layout, new: Layout) -> Option<Placed> {
        let aligned = addr % new.align() == 0;
        if aligned && self.is_newest(addr, old.size()) {
            let end = addr - self.base + round8(new.size());
            if end <= self.capacity {
                return Some(Placed {
                    addr: Some(addr),
                    pos: end,
                });
            }
        }
        self.fresh(new)
    }

    /// `shrink` of the block at `addr` from `old` to `new`: in place when
    /// its address suits `new.align()`, giving the tail back if it is the
    /// newest; a fresh block otherwise.
    pub fn shrink(&self, addr: usize, old: Layout, new: Layout) -> Option<Placed> {
        if addr % new.align() != 0 {
            return self.fresh(new);
        }
        let pos = if self.is_newest(addr, old.size()) {
            addr - self.base + round8(new.size())
        } else {
            self.pos
        };
        Some(Placed {
            addr: Some(addr),
            pos,
        })
    }

    /// `deallocate` of the block at `addr` of `size` bytes: the cursor
    /// goes back to it if it is the newest, and stays otherwise.
    pub fn free(&mut self, addr: usize, size: usize) {
        if self.is_newest(addr, size) {
            self.pos = addr - self.base;
        }
    }

    /// Opens a scope where the cursor stands: that becomes the floor.
    /// Returns the enclosing floor, for [`close_scope`](Self::close_scope).
    pub fn open_scope(&mut self) -> usize {
        core::mem::replace(&mut self.floor, self.pos)
    }

    /// Ends the innermost scope: the cursor goes back to its start and the
    /// floor to `outer`, what [`open_scope`](Self::open_scope) returned.
    pub fn close_scope(&mut self, outer: usize) {
        self.pos = self.floor;
        self.floor = outer;
    }

    /// `reset` of the innermost scope (of everything outside scopes): the
    /// cursor goes back to the floor.
    pub fn reset_scope(&mut self) {
        self.pos = self.floor;
    }

    /// `reset_to` a mark taken at offset `mark`: accepted, and the cursor
    /// moves there, exactly when it lies between the floor and the cursor.
    pub fn reset_to(&mut self, mark: usize) -> bool {
        let accepted = (self.floor..=self.pos).contains(&mark);
        if accepted {
            self.pos = mark;
        }
        accepted
    }
}

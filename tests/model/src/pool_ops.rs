//! Programs over `Pool<T>`: `try_alloc` / drop / `into_inner` of
//! `PoolBox`es and writes through them, mixed with blocks taken, resized and freed through the
//! `Allocator` trait, under the shared [`Checker`] with the slot rule
//! (`with_slots`: every block starts on a slot of its own) and the count
//! rule (`check_count`: `len()` is the number of live blocks, and
//! `is_empty()` says whether there are any). On top, the
//! pool's own promises: it refuses only when full or for a layout larger
//! than a slot, resizes in place, and reuses the newest freed slot first.

use core::alloc::Layout;
use core::ptr::NonNull;

use allocator_api2::alloc::Allocator;
use anon_arena::{Pool, PoolBox};
use arbitrary::Arbitrary;

use crate::input::{Align, Size, Which};
use crate::{Checker, Contents, Failure, Resize, Violation};

/// The value the boxes hold: 24 bytes, any bit pattern valid, so the
/// checker may fill it.
type Value = [u64; 3];

/// Slots in every program's pool: few enough to fill often.
pub const SLOTS: usize = 16;

/// One step of a pool program.
#[derive(Clone, Debug, Arbitrary)]
pub enum PoolOp {
    /// `try_alloc` of a box.
    Alloc {
        /// The value's seed.
        seed: u64,
    },
    /// `allocate` / `allocate_zeroed` of `size % 40` bytes (zero-sized
    /// blocks own no slot and are given back at once).
    Raw {
        /// Bytes (modulo 40: some more than a slot).
        size: Size,
        /// Alignment.
        align: Align,
        /// `allocate_zeroed`.
        zeroed: bool,
    },
    /// Drops a live box, or `deallocate`s a live trait block.
    Free {
        /// Which live block.
        which: Which,
    },
    /// `PoolBox::into_inner` of a live box (a trait block is freed).
    IntoInner {
        /// Which live block.
        which: Which,
    },
    /// Writes a new value through a live box's `DerefMut` and reads it
    /// back through `Deref` (trait blocks are skipped).
    Write {
        /// Which live block.
        which: Which,
        /// The new value's seed.
        seed: u64,
    },
    /// `grow` / `grow_zeroed` of a trait block: in place within the slot,
    /// refused beyond it.
    Grow {
        /// Which live block (boxes are skipped).
        which: Which,
        /// Bytes added (modulo 32).
        extra: Size,
        /// `grow_zeroed`.
        zeroed: bool,
    },
    /// `shrink` of a trait block, possibly to nothing (which frees it).
    Shrink {
        /// Which live block (boxes are skipped).
        which: Which,
        /// Bytes taken off (modulo its size + 1).
        less: Size,
        /// The new alignment.
        align: Align,
    },
}

/// What owns each live block, in the checker's order.
enum Held<'p> {
    Boxed(PoolBox<'p, Value>),
    Raw,
}

session_basics!(PoolOp);

/// One pool for program after program, as a fuzz target keeps it. Each
/// program ends by freeing every block it left live (checked first), so
/// the next one starts from an empty pool, which it checks; the LIFO rule
/// carries over: the next program's first block takes the slot the last
/// one freed last.
pub struct Session {
    pool: Pool<Value>,
    /// The first slot's address.
    base: usize,
    /// The slot the next allocation must take, if known.
    reuse: Option<usize>,
}

impl Session {
    /// A session over a fresh pool of [`SLOTS`] slots.
    pub fn new() -> Session {
        let pool = Pool::<Value>::with_capacity(SLOTS);
        // A fresh pool hands out its first slot first.
        let probe = Layout::new::<u8>();
        let first = (&pool)
            .allocate(probe)
            .expect("a fresh pool refused a byte");
        let base = first.cast::<u8>().as_ptr() as usize;
        // SAFETY: just allocated for `probe`, never used.
        unsafe { (&pool).deallocate(first.cast(), probe) };
        Session {
            pool,
            base,
            reuse: Some(base),
        }
    }

    /// Runs `ops` on the session's pool, which must be empty.
    pub fn run(&mut self, ops: &[PoolOp]) -> Result<(), Failure> {
        let pool = &self.pool;
        let fail = |step: usize, violation: Violation| Failure {
            subject: "Pool<[u64; 3]>",
            step,
            op: ops
                .get(step)
                .map_or("final sweep".into(), |op| format!("{op:?}")),
            violation,
        };
        let stride = pool.slot_size();
        let mut model = Model {
            pool,
            checker: Checker::new(self.base..self.base + SLOTS * stride).with_slots(stride),
            held: Vec::new(),
            reuse: self.reuse,
        };
        // Empty, as the last program left it (or as made).
        let at_start = |v| Failure::at_start("Pool<[u64; 3]>", v);
        model.checker.check_count(pool.len()).map_err(at_start)?;
        if !pool.is_empty() {
            let found = "is_empty() false with 0 live".into();
            return Err(at_start(Violation::WrongOutcome(found)));
        }
        for (step, op) in ops.iter().enumerate() {
            model.apply(op).map_err(|v| fail(step, v))?;
            model
                .checker
                .check_count(pool.len())
                .map_err(|v| fail(step, v))?;
            if pool.is_empty() != model.checker.is_empty() {
                let found = format!("is_empty() {} with {} live", pool.is_empty(), pool.len());
                return Err(fail(step, Violation::WrongOutcome(found)));
            }
        }
        model.checker.verify_all().map_err(|v| fail(ops.len(), v))?;
        // Every block is freed (boxes dropped, trait blocks deallocated),
        // oldest first, after the checker has judged them.
        while !model.checker.is_empty() {
            model.free(0, false).map_err(|v| fail(ops.len(), v))?;
        }
        self.reuse = model.reuse;
        Ok(())
    }
}

fn value(seed: u64) -> Value {
    [seed, !seed, seed.rotate_left(17)]
}

fn bytes_of(value: &Value) -> Vec<u8> {
    value.iter().flat_map(|word| word.to_ne_bytes()).collect()
}

struct Model<'p> {
    pool: &'p Pool<Value>,
    checker: Checker,
    /// Parallel to the checker's live blocks.
    held: Vec<Held<'p>>,
    /// The slot the next allocation must take: the newest freed one (LIFO
    /// free list), if known.
    reuse: Option<usize>,
}

impl<'p> Model<'p> {
    fn apply(&mut self, op: &PoolOp) -> Result<(), Violation> {
        let full = self.checker.len() == SLOTS;
        match *op {
            PoolOp::Alloc { seed } => match self.pool.try_alloc(value(seed)) {
                Ok(boxed) => {
                    self.took(NonNull::from(&*boxed).cast())?;
                    self.hold(boxed, seed).map(drop)
                }
                Err(back) if full && back == value(seed) => Ok(()),
                Err(back) => Err(Violation::WrongOutcome(format!(
                    "try_alloc refused with {} of {SLOTS} live, gave back {back:?}",
                    self.checker.len()
                ))),
            },
            PoolOp::Raw {
                size,
                align,
                zeroed,
            } => {
                let Ok(layout) = Layout::from_size_align(size.0 % 40, align.0) else {
                    return Ok(());
                };
                let result = if zeroed {
                    self.pool.allocate_zeroed(layout)
                } else {
                    self.pool.allocate(layout)
                };
                let block = match result {
                    Ok(block) => block.cast::<u8>(),
                    Err(_) if layout.size() > 0 && (full || !self.fits(layout)) => return Ok(()),
                    Err(_) => {
                        return Err(Violation::Refused {
                            layout,
                            remaining: SLOTS - self.checker.len(),
                        })
                    }
                };
                if layout.size() == 0 {
                    if block.as_ptr() as usize % layout.align() != 0 {
                        return Err(Violation::Misaligned {
                            addr: block.as_ptr() as usize,
                            align: layout.align(),
                        });
                    }
                    // SAFETY: just allocated for `layout`.
                    unsafe { self.pool.deallocate(block, layout) };
                    return Ok(());
                }
                if !self.fits(layout) {
                    return Err(Violation::WrongOutcome(format!(
                        "{layout:?} served from {}-byte slots",
                        self.pool.slot_size()
                    )));
                }
                self.took(block)?;
                let contents = if zeroed {
                    Contents::Zero
                } else {
                    Contents::Any
                };
                // SAFETY: a fresh block of `layout`, used only by the checker
                // until it is freed or resized, which forget it first.
                unsafe { self.checker.admit(block, layout, contents) }?;
                self.held.push(Held::Raw);
                Ok(())
            }
            PoolOp::Free { which } => match which.of(self.checker.len()) {
                Some(index) => self.free(index, false),
                None => Ok(()),
            },
            PoolOp::IntoInner { which } => match which.of(self.checker.len()) {
                Some(index) => self.free(index, true),
                None => Ok(()),
            },
            PoolOp::Write { which, seed } => match which.of(self.checker.len()) {
                Some(index) => self.write(index, seed),
                None => Ok(()),
            },
            PoolOp::Grow {
                which,
                extra,
                zeroed,
            } => {
                let Some(index) = self.raw_block(which) else {
                    return Ok(());
                };
                let old = self.checker.block(index);
                let new = Layout::from_size_align(old.layout.size() + extra.0 % 32, 1)
                    .expect("small sizes");
                self.checker.verify(index)?;
                // SAFETY: `old` is live for `old.layout`; `new` is no
                // smaller; the checker forgets the old pointer on success.
                let result = unsafe {
                    if zeroed {
                        self.pool.grow_zeroed(old.ptr, old.layout, new)
                    } else {
                        self.pool.grow(old.ptr, old.layout, new)
                    }
                };
                match result {
                    Ok(block) if block.cast() == old.ptr && self.fits(new) => {
                        // SAFETY: the same slot, now of `new`.
                        unsafe {
                            self.checker
                                .resized(index, old.ptr, new, Resize::Grow { zeroed })
                        }
                    }
                    Err(_) if !self.fits(new) => Ok(()),
                    other => Err(Violation::WrongOutcome(format!(
                        "grow {:?} -> {new:?} in {}-byte slots: {:?}",
                        old.layout,
                        self.pool.slot_size(),
                        other.map(|block| block.cast::<u8>() == old.ptr)
                    ))),
                }
            }
            PoolOp::Shrink { which, less, align } => {
                let Some(index) = self.raw_block(which) else {
                    return Ok(());
                };
                let old = self.checker.block(index);
                let new_size = old.layout.size() - less.0 % (old.layout.size() + 1);
                let Ok(new) = Layout::from_size_align(new_size, align.0) else {
                    return Ok(());
                };
                if new_size == 0 {
                    // Shrinking to nothing frees the slot.
                    self.checker.retire(index)?;
                    self.held.remove(index);
                    self.reuse = Some(old.ptr.as_ptr() as usize);
                } else {
                    self.checker.verify(index)?;
                }
                // SAFETY: `old` is live for `old.layout`; `new` is no larger.
                let result = unsafe { self.pool.shrink(old.ptr, old.layout, new) };
                match result {
                    Ok(block) if new_size == 0 => {
                        let addr = block.cast::<u8>().as_ptr() as usize;
                        if addr % new.align() != 0 {
                            return Err(Violation::Misaligned {
                                addr,
                                align: new.align(),
                            });
                        }
                        Ok(())
                    }
                    Ok(block) if block.cast() == old.ptr && self.fits(new) => {
                        // SAFETY: the same slot, now of `new`.
                        unsafe { self.checker.resized(index, old.ptr, new, Resize::Shrink) }
                    }
                    Err(_) if !self.fits(new) && new_size > 0 => Ok(()),
                    other => Err(Violation::WrongOutcome(format!(
                        "shrink {:?} -> {new:?} in {}-byte slots: {:?}",
                        old.layout,
                        self.pool.slot_size(),
                        other.map(|block| block.cast::<u8>() == old.ptr)
                    ))),
                }
            }
        }
    }

    /// A layout a slot holds (slots are aligned to 8 for `[u64; 3]`).
    fn fits(&self, layout: Layout) -> bool {
        layout.size() <= self.pool.slot_size() && layout.align() <= 8
    }

    /// The LIFO rule: a new block takes the newest freed slot.
    fn took(&mut self, ptr: NonNull<u8>) -> Result<(), Violation> {
        let found = ptr.as_ptr() as usize;
        match self.reuse.take() {
            Some(expected) if expected != found => Err(Violation::NotReused { expected, found }),
            _ => Ok(()),
        }
    }

    /// The live block `which` picks, if it is a trait block.
    fn raw_block(&self, which: Which) -> Option<usize> {
        let index = which.of(self.checker.len())?;
        matches!(self.held[index], Held::Raw).then_some(index)
    }

    /// Writes `value(seed)` through box `index` and reads it back. The
    /// checker forgets the slot first (the box's `&mut` makes its pointer
    /// stale) and admits it again, as the newest block, from the box's
    /// new `&mut`, checking the bytes the write left.
    fn write(&mut self, index: usize, seed: u64) -> Result<(), Violation> {
        if let Held::Raw = self.held[index] {
            return Ok(());
        }
        let old = self.checker.retire(index)?;
        let Held::Boxed(mut boxed) = self.held.remove(index) else {
            unreachable!("checked above");
        };
        *boxed = value(seed);
        if *boxed != value(seed) {
            return Err(Violation::WrongOutcome(format!(
                "wrote {:?} through a box, read back {:?}",
                value(seed),
                *boxed
            )));
        }
        let (expected, found) = (old.ptr.as_ptr() as usize, self.hold(boxed, seed)?);
        if found != expected {
            return Err(Violation::WrongPosition { expected, found });
        }
        Ok(())
    }

    /// Admits `boxed`, which must hold `value(seed)`, as the newest block,
    /// through its `DerefMut` so the checker's pointer may write. Returns
    /// its address.
    fn hold(&mut self, mut boxed: PoolBox<'p, Value>, seed: u64) -> Result<usize, Violation> {
        let ptr = NonNull::from(&mut *boxed).cast::<u8>();
        let expected = bytes_of(&value(seed));
        // SAFETY: the box's slot; nothing touches it through the box again
        // until the checker forgets it.
        unsafe {
            self.checker
                .admit(ptr, Layout::new::<Value>(), Contents::Bytes(&expected))
        }?;
        self.held.push(Held::Boxed(boxed));
        Ok(ptr.as_ptr() as usize)
    }

    /// Frees block `index`: a box by drop (or `into_inner`, whose value
    /// must be the bytes the checker left), a trait block by `deallocate`.
    fn free(&mut self, index: usize, into_inner: bool) -> Result<(), Violation> {
        let block = self.checker.block(index);
        let mut held_bytes = [0u8; size_of::<Value>()];
        if let Held::Boxed(_) = self.held[index] {
            // SAFETY: the box's slot, admitted for a whole `Value`.
            unsafe {
                core::ptr::copy_nonoverlapping(
                    block.ptr.as_ptr(),
                    held_bytes.as_mut_ptr(),
                    held_bytes.len(),
                )
            };
        }
        self.checker.retire(index)?;
        self.reuse = Some(block.ptr.as_ptr() as usize);
        match self.held.remove(index) {
            Held::Boxed(boxed) if into_inner => {
                let value = PoolBox::into_inner(boxed);
                let returned = bytes_of(&value);
                if let Some(offset) = (0..returned.len()).find(|&i| returned[i] != held_bytes[i]) {
                    return Err(Violation::Corrupted {
                        addr: block.ptr.as_ptr() as usize,
                        offset,
                        expected: held_bytes[offset],
                        found: returned[offset],
                    });
                }
                Ok(())
            }
            Held::Boxed(boxed) => {
                drop(boxed);
                Ok(())
            }
            Held::Raw => {
                // SAFETY: live for its layout; the checker forgot it.
                unsafe { self.pool.deallocate(block.ptr, block.layout) };
                Ok(())
            }
        }
    }
}

//! The live mappings of [`PageAllocator`](super::PageAllocator), each kept
//! as the pointer `mmap` returned, so that resizing and unmapping act
//! through the mapping's own provenance.
//!
//! A caller hands a block back through its own pointer, whose provenance
//! may cover only part of the mapping (a `Box<u8>` covers one byte). The
//! allocator keeps no base pointer of its own (it is a unit type), so it
//! looks the block's address up here and gets the pointer `mmap` gave,
//! valid for the whole mapping, to `munmap`, `mremap` or return. An
//! integer address turned back into a pointer would need exposed
//! provenance, which `-Zmiri-strict-provenance` (and CHERI) rule out.
//!
//! The registry is a three-level radix tree over page numbers, like a page
//! table: one atomic pointer per 4 KiB page of address space, in nodes of
//! 4096 entries (32 KiB) mapped through the region layer (no `alloc`
//! crate: the crate works without it). Every operation is a walk of three
//! loads and one atomic load, store or swap: no lock, so no thread ever
//! waits for another, and a `fork` or a signal at any moment leaves
//! nothing half done.
//!
//! Growth policy: a node is mapped the first time an address in its range
//! is registered (two threads racing to make one keep the winner's) and
//! kept while the registry lives, so registering an address a second time
//! never maps anything and cannot fail. What the registry holds is thus
//! bounded by the address space the allocator has ever used, and small
//! next to it: the kernel commits a node page by page, and one 4 KiB page
//! of a leaf covers 2 MiB of mappings (0.2%); a leaf spans 16 MiB, a middle
//! node 64 GiB, the root 256 TiB (addresses below 2^48: every address
//! Linux's `mmap` returns unless asked for a higher one).
//!
//! `unsafe` here (allowed by the parent module) reads a node's mapping as
//! atomic entries and unmaps nodes; each step names why the node is valid.

use core::mem::size_of;
use core::ptr::{self, NonNull};
use core::sync::atomic::{AtomicPtr, AtomicUsize, Ordering};

use crate::error::Error;
use crate::region;

/// Bits of the page number each level of the tree indexes.
const BITS: u32 = 12;

/// Entries per node.
const FANOUT: usize = 1 << BITS;

/// Bits of an address below its page number.
const PAGE_SHIFT: u32 = 12;

/// Levels of the tree: the page numbers of addresses below 2^48.
const LEVELS: u32 = 3;

/// A node: pointers to the next level's nodes, or (in a leaf) the base
/// pointers of live mappings; null where there is none. All-zero bytes
/// are an empty node, so a fresh mapping is one.
type Node = [AtomicPtr<u8>; FANOUT];

/// Bytes of a node's mapping: whole pages.
const NODE_BYTES: usize = size_of::<Node>();

/// Base pointers of live mappings, keyed by address.
pub(super) struct Registry {
    /// The root node; null until the first registration.
    root: AtomicPtr<u8>,
    /// Nodes mapped so far (for the tests of the growth policy).
    nodes: AtomicUsize,
}

/// The registry of every `PageAllocator` in the process.
pub(super) static LIVE: Registry = Registry::new();

impl Registry {
    pub(super) const fn new() -> Registry {
        Registry {
            root: AtomicPtr::new(ptr::null_mut()),
            nodes: AtomicUsize::new(0),
        }
    }

    /// Records the live mapping that starts at `base`. Cannot fail for an
    /// address that was registered before.
    ///
    /// # Errors
    ///
    /// [`Error::MapFailed`] when a node on the way cannot be mapped,
    /// [`Error::LayoutOverflow`] for an address above the tree's range.
    pub(super) fn insert(&self, base: NonNull<u8>) -> Result<(), Error> {
        let entry = self.entry(base.addr().get(), true)?;
        let previous = entry.swap(base.as_ptr(), Ordering::Release);
        debug_assert!(previous.is_null(), "{base:p} registered twice");
        Ok(())
    }

    /// The base pointer of the live mapping at `addr`.
    pub(super) fn find(&self, addr: usize) -> Option<NonNull<u8>> {
        let entry = self.entry(addr, false).ok()?;
        NonNull::new(entry.load(Ordering::Acquire))
    }

    /// Forgets the mapping at `addr` and returns its base pointer. Call it
    /// before the mapping is unmapped or moved: its address may come back
    /// from another thread's `mmap` at once.
    pub(super) fn remove(&self, addr: usize) -> Option<NonNull<u8>> {
        let entry = self.entry(addr, false).ok()?;
        NonNull::new(entry.swap(ptr::null_mut(), Ordering::AcqRel))
    }

    /// The leaf entry for `addr`, mapping the nodes on the way if `create`.
    /// `Err` without `create` only means "no entry".
    fn entry(&self, addr: usize, create: bool) -> Result<&AtomicPtr<u8>, Error> {
        let page = addr >> PAGE_SHIFT;
        // `checked_shr`: on 32-bit targets every page number is in range.
        if page.checked_shr(BITS * LEVELS).unwrap_or(0) != 0 {
            return Err(Error::LayoutOverflow);
        }
        let mut slot = &self.root;
        for level in (0..LEVELS).rev() {
            let node = self.child(slot, create)?;
            let index = (page >> (BITS * level)) & (FANOUT - 1);
            // SAFETY: `index < FANOUT` entries of a node of this registry
            // (all-zero bytes or atomics written since, valid as
            // `AtomicPtr`s), unmapped only by `drop`, which `&self` rules
            // out. A reference to the one entry rather than the node: Miri
            // retags a reference to each of a node's 4096 cells.
            slot = unsafe { &*node.as_ptr().add(index) };
        }
        Ok(slot)
    }

    /// The first entry of the node `slot` points to, mapped now if it is
    /// missing and `create`.
    fn child(&self, slot: &AtomicPtr<u8>, create: bool) -> Result<NonNull<AtomicPtr<u8>>, Error> {
        let mut node = slot.load(Ordering::Acquire);
        if node.is_null() {
            if !create {
                return Err(Error::LayoutOverflow);
            }
            let fresh = region::map_pages(NODE_BYTES)?;
            // AcqRel: publish the zeroed node; see the winner's if we lose.
            node = match slot.compare_exchange(
                ptr::null_mut(),
                fresh.as_ptr(),
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => {
                    self.nodes.fetch_add(1, Ordering::Relaxed);
                    fresh.as_ptr()
                }
                Err(winner) => {
                    // SAFETY: our fresh node, never published.
                    unsafe { unmap_node(fresh) };
                    winner
                }
            };
        }
        // Non-null: checked or mapped above.
        Ok(NonNull::new(node).expect("a mapped node").cast())
    }

    /// Nodes mapped so far.
    #[cfg(test)]
    fn nodes(&self) -> usize {
        self.nodes.load(Ordering::Relaxed)
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        // Only registries made by tests drop; the static one never does.
        /// Unmaps the node at `node` (of `level`, 0 for a leaf) and those
        /// below it.
        fn free(node: *mut u8, level: u32) {
            let Some(node) = NonNull::new(node) else {
                return;
            };
            if level > 0 {
                for index in 0..FANOUT {
                    // SAFETY: entries of a node of this registry, as in
                    // `entry`; `&mut self` means no other thread touches
                    // them, so plain reads (cheap under Miri) do.
                    let child = unsafe { node.as_ptr().cast::<*mut u8>().add(index).read() };
                    free(child, level - 1);
                }
            }
            // SAFETY: the node is dropped with the registry.
            unsafe { unmap_node(node) };
        }
        free(*self.root.get_mut(), LEVELS - 1);
    }
}

/// Unmaps a node's mapping.
///
/// # Safety
///
/// * `node` is a node's whole mapping (from `map_pages(NODE_BYTES)`), and
///   nothing reads it again.
unsafe fn unmap_node(node: NonNull<u8>) {
    // SAFETY: the caller's contract.
    let result = unsafe { region::unmap(node, NODE_BYTES) };
    debug_assert!(result.is_ok(), "munmap failed: {result:?}");
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fake mapping address: never dereferenced, so it needs no
    /// provenance.
    fn at(addr: usize) -> NonNull<u8> {
        NonNull::new(ptr::without_provenance_mut(addr)).unwrap()
    }

    const LEAF_SPAN: usize = FANOUT << PAGE_SHIFT;
    const MIDDLE_SPAN: usize = LEAF_SPAN * FANOUT;

    #[test]
    fn finds_what_was_inserted_until_it_is_removed() {
        let registry = Registry::new();
        let addrs: std::vec::Vec<usize> = (1..40)
            .map(|i| i * 4096 + (i % 3) * LEAF_SPAN + (i % 5) * MIDDLE_SPAN)
            .collect();
        assert_eq!(registry.find(addrs[0]), None);
        assert_eq!(registry.remove(addrs[0]), None);
        for &a in &addrs {
            registry.insert(at(a)).unwrap();
        }
        for &a in &addrs {
            assert_eq!(registry.find(a), Some(at(a)));
        }
        for &a in addrs.iter().step_by(2) {
            assert_eq!(registry.remove(a), Some(at(a)));
        }
        for (k, &a) in addrs.iter().enumerate() {
            let expected = (k % 2 == 1).then(|| at(a));
            assert_eq!(registry.find(a), expected, "entry {k}");
        }
        assert_eq!(registry.find(addrs[1] + 4096), None, "a neighbour page");
    }

    #[test]
    fn nodes_are_mapped_once_per_range_and_kept() {
        let registry = Registry::new();
        registry.insert(at(0x1000)).unwrap();
        assert_eq!(registry.nodes(), 3, "root, middle node, leaf");
        registry.insert(at(0x5000)).unwrap();
        assert_eq!(registry.nodes(), 3, "same leaf");
        registry.insert(at(0x1000 + LEAF_SPAN)).unwrap();
        assert_eq!(registry.nodes(), 4, "a new leaf under the same middle node");
        registry.insert(at(0x1000 + MIDDLE_SPAN)).unwrap();
        assert_eq!(registry.nodes(), 6, "a new middle node and its leaf");
        for a in [0x1000, 0x5000, 0x1000 + LEAF_SPAN, 0x1000 + MIDDLE_SPAN] {
            registry.remove(a).unwrap();
        }
        assert_eq!(registry.nodes(), 6, "nodes are kept");
        registry.insert(at(0x1000 + MIDDLE_SPAN)).unwrap();
        assert_eq!(registry.nodes(), 6, "registering again maps nothing");
    }

    #[test]
    #[cfg(target_pointer_width = "64")]
    fn addresses_above_the_range_are_refused() {
        let registry = Registry::new();
        let high = 1usize << 48;
        assert_eq!(registry.insert(at(high)), Err(Error::LayoutOverflow));
        assert_eq!(registry.find(high), None);
        registry.insert(at(high - 4096)).unwrap();
        assert_eq!(registry.find(high - 4096), Some(at(high - 4096)));
    }

    #[test]
    fn threads_racing_for_the_same_nodes_all_land() {
        let registry = Registry::new();
        let per_thread = if cfg!(miri) { 8 } else { 1000 };
        std::thread::scope(|s| {
            for t in 0..4 {
                let registry = &registry;
                s.spawn(move || {
                    for i in 0..per_thread {
                        // Interleaved pages: every thread needs the same
                        // nodes at once.
                        let a = (1 + i * 4 + t) * 4096;
                        registry.insert(at(a)).unwrap();
                        assert_eq!(registry.find(a), Some(at(a)));
                        if i % 3 == 0 {
                            assert_eq!(registry.remove(a), Some(at(a)));
                        }
                    }
                });
            }
        });
        assert_eq!(registry.nodes(), 3, "losers unmapped their nodes");
        for t in 0..4 {
            for i in 0..per_thread {
                let a = (1 + i * 4 + t) * 4096;
                let expected = (i % 3 != 0).then(|| at(a));
                assert_eq!(registry.find(a), expected);
            }
        }
    }
}

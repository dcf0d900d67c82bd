"""The hardware page-table walker: one Sv32 translation from guest physical memory.

`sv32_walk` is the privileged spec's "Virtual Address Translation Process" for a
U-mode access, over the flat PhysMem (memory.pxd): two levels, 4 KiB pages and 4 MiB
megapages. It has no state and caches nothing (the TLBs in tlb.pxd do); it reads the
PTEs straight from RAM and, with WALK_HARDWARE_AD, writes a leaf back to set A (and D
for a non-speculative store). It reports every PTE address it read (Sv32Walk), so the
out-of-order core can time those reads through the cache hierarchy without a callback.

Faults, in the spec's order (the first that applies wins; tval is the virtual address):
  - a PTE address outside RAM (or beyond 4 GiB): access fault of the access's kind
    (1 fetch, 5 load, 7 store/AMO);
  - V clear, W without R, a pointer PTE with D, A or U set (reserved for future use),
    a pointer PTE in the last-level table: page fault (12, 13, 15);
  - a leaf that denies the access (U clear; fetch without X, load without R, store
    without W): page fault;
  - a megapage whose PPN[0] is not zero (misaligned): page fault;
  - A clear, or D clear on a store, when A/D are not set by hardware: page fault.
Nothing is written unless the walk succeeds.
"""

from libc.stdint cimport uint32_t

from emu._core.memory cimport PhysMem
from emu._core.sv32 cimport Sv32Walk


cdef int sv32_walk(PhysMem m, uint32_t root_ppn, uint32_t vaddr, uint32_t kind, uint32_t flags,
                   Sv32Walk* w) noexcept nogil
    # Translate vaddr for an access of XlateKind `kind` with the root table at physical
    # page root_ppn; flags are WalkFlag bits. Returns ACCESS_OK (memory.pxd) or the trap
    # cause, and fills *w either way (reads are valid on a fault too).


cdef int phys_mem_of(object ram, uint32_t ram_base, PhysMem* m) except -1
    # The Python faces' PhysMem over a writable C-contiguous uint8 numpy array (no decode
    # cache); the caller keeps `ram` alive while m is in use.

"""The Sv32 page-table walker (ptw.pxd) and `walk`, its Python face for tests and tools."""

from collections import namedtuple

import numpy as np

from libc.stdint cimport uint8_t, uint32_t, uint64_t

from emu._core.memory cimport ACCESS_OK, PhysMem, ram_offset
from emu._core.sv32 cimport (PTE_A, PTE_D, PTE_G, PTE_R, PTE_U, PTE_V, PTE_W, PTE_X,
                             SV32_LEVELS, SV32_PAGE_MASK, SV32_PAGE_SHIFT, SV32_PTE_PPN_SHIFT,
                             SV32_PTE_SIZE, SV32_VPN_BITS, SV32_VPN_MASK, WALK_HARDWARE_AD,
                             WALK_SPECULATIVE, XLATE_FETCH, XLATE_LOAD, XLATE_STORE, Sv32Walk,
                             access_fault_cause, leaf_page_ppn, page_fault_cause, user_may)

#: XlateKind numbers by name: "store" covers stores, SC and AMOs.
KIND_NUMBERS = {"fetch": XLATE_FETCH, "load": XLATE_LOAD, "store": XLATE_STORE}


cdef int sv32_walk(PhysMem m, uint32_t root_ppn, uint32_t vaddr, uint32_t kind, uint32_t flags,
                   Sv32Walk* w) noexcept nogil:
    # Step numbers are those of the spec's algorithm.
    cdef uint64_t table = <uint64_t>root_ppn << SV32_PAGE_SHIFT     # step 1: a
    cdef uint64_t addr
    cdef uint32_t level = SV32_LEVELS - 1
    cdef uint32_t pte, update, offset
    w.reads = 0
    w.written = 0
    w.dirty_pending = 0
    w.is_global = 0
    while True:
        # step 2: the PTE at a + va.vpn[i] * PTESIZE; outside RAM it fails the PMA check
        addr = table + (((vaddr >> (SV32_PAGE_SHIFT + level * SV32_VPN_BITS)) & SV32_VPN_MASK)
                        * SV32_PTE_SIZE)
        if addr >> 32 or not ram_offset(m, <uint32_t>addr, SV32_PTE_SIZE, &offset):
            return access_fault_cause(kind)
        pte = (<uint32_t*>(m.data + offset))[0]
        w.pte_addr[w.reads] = <uint32_t>addr
        w.reads += 1
        # step 3: invalid, or the reserved W-without-R encoding
        if not (pte & PTE_V) or (pte & (PTE_R | PTE_W)) == PTE_W:
            return page_fault_cause(kind)
        # step 4: R or X makes a leaf; anything else points to the next table
        if pte & (PTE_R | PTE_X):
            break
        if pte & (PTE_D | PTE_A | PTE_U) or level == 0:   # reserved bits on a pointer; no level left
            return page_fault_cause(kind)
        w.is_global |= (pte & PTE_G) != 0                  # a global pointer makes all below it global
        level -= 1
        table = <uint64_t>(pte >> SV32_PTE_PPN_SHIFT) << SV32_PAGE_SHIFT
    # step 5: permissions (U-mode: U set, and X / R / W for fetch / load / store)
    if not user_may(pte, kind):
        return page_fault_cause(kind)
    # step 6: a megapage's PPN[0] must be zero
    if level and (pte >> SV32_PTE_PPN_SHIFT) & SV32_VPN_MASK:
        return page_fault_cause(kind)
    # step 7: A, and D for a store
    update = 0
    if not (pte & PTE_A):
        update = PTE_A
    if kind == XLATE_STORE and not (pte & PTE_D):
        if flags & WALK_SPECULATIVE:
            w.dirty_pending = 1      # D must be exact: the store sets it when it is no longer speculative
        else:
            update |= PTE_D
    if update or w.dirty_pending:
        if not (flags & WALK_HARDWARE_AD):
            return page_fault_cause(kind)
    if update:
        pte |= update
        (<uint32_t*>(m.data + offset))[0] = pte
        w.written = 1
    w.pte = pte
    w.level = level
    w.is_global |= (pte & PTE_G) != 0
    return ACCESS_OK


cdef int phys_mem_of(object ram, uint32_t ram_base, PhysMem* m) except -1:
    cdef uint8_t[::1] bytes_view
    if not isinstance(ram, np.ndarray) or ram.dtype != np.uint8 or ram.ndim != 1:
        raise TypeError("ram must be a 1-d numpy array of uint8")
    size = ram.shape[0]
    if size == 0 or size % (1 << SV32_PAGE_SHIFT) or ram_base & SV32_PAGE_MASK:
        raise ValueError(f"ram must be whole pages at a page-aligned base, not {size} bytes "
                         f"at {ram_base:#x}")
    if ram_base + size > 1 << 32:
        raise ValueError(f"ram [{ram_base:#x}, {ram_base + size:#x}) does not fit in 32 bits")
    bytes_view = ram          # a writable, C-contiguous buffer (raises otherwise)
    m.data = &bytes_view[0]
    m.base = ram_base
    m.size = size
    m.code_pages = NULL
    m.npages = 0
    return 0


def kind_number(kind):
    """The XlateKind of "fetch", "load" or "store"."""
    try:
        return KIND_NUMBERS[kind]
    except (KeyError, TypeError):
        raise ValueError(f"kind must be one of {', '.join(KIND_NUMBERS)}, not {kind!r}") from None


#: What `walk` returns: `cause` is None on success, when `paddr` (possibly beyond 32
#: bits), `pte` (after any A/D update), `level` and `is_global` describe the leaf.
#: `pte_addrs` are the PTEs read, root level first (also on a fault).
WalkResult = namedtuple("WalkResult", "cause paddr pte level is_global pte_addrs written "
                                      "dirty_pending")


def walk(ram, uint32_t ram_base, uint32_t root_ppn, uint32_t vaddr, kind, *,
         bint hardware_ad=True, bint speculative=False):
    """One walk over `ram` (a uint8 numpy array at physical ram_base), which it may
    write (A/D bits). The walker's Python face: no TLB, no state."""
    cdef PhysMem m
    cdef Sv32Walk w
    cdef uint32_t k = kind_number(kind)
    cdef int cause
    phys_mem_of(ram, ram_base, &m)
    cause = sv32_walk(m, root_ppn, vaddr, k,
                      (WALK_HARDWARE_AD if hardware_ad else 0) |
                      (WALK_SPECULATIVE if speculative else 0), &w)
    addrs = tuple(w.pte_addr[i] for i in range(w.reads))
    if cause != ACCESS_OK:
        return WalkResult(cause, None, None, None, None, addrs, False, False)
    paddr = (<uint64_t>leaf_page_ppn(w.pte, w.level, vaddr) << SV32_PAGE_SHIFT) | (vaddr & SV32_PAGE_MASK)
    return WalkResult(None, paddr, w.pte, w.level, bool(w.is_global), addrs, bool(w.written),
                      bool(w.dirty_pending))

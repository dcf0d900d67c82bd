"""How long a memory access takes: the timing interface between a core and memory.

Data always lives in the one flat PhysMem; this interface only answers "how many
cycles". The out-of-order core asks it for every load, AMO and LR/SC it executes,
and, with Sv32 on, for what each address translation costs (translation_latency).
Two models: a fixed latency, and the cache hierarchy (hierarchy.pxd: tags, MESI
states, MSHRs, a DRAM model). The access kinds (AccessKind, from access.pxd) can be
cimported from here as before.
"""

from libc.stdint cimport uint32_t, uint64_t

from emu._core.access cimport (ACCESS_ATOMIC, ACCESS_FETCH, ACCESS_LOAD, ACCESS_STORE,
                               AccessKind)
from emu._core.hierarchy cimport (Hierarchy, hierarchy_access_bytes, hierarchy_access_pc,
                                  hierarchy_release, hierarchy_reservation_held,
                                  hierarchy_reserve)
from emu._core.sv32 cimport XLATE_L2, XLATE_WALK, Translation


cdef enum MemoryModel:
    MEM_FIXED = 0           # every access takes fixed_latency cycles
    MEM_CACHES = 1          # the cache hierarchy `hierarchy` answers


cdef struct MemoryTiming:
    uint32_t model          # MemoryModel
    uint32_t fixed_latency  # MEM_FIXED: load-to-use cycles
    void* hierarchy         # MEM_CACHES: a Hierarchy*, owned by whoever built this timing


cdef inline uint32_t access_latency(MemoryTiming* t, uint32_t hart, uint32_t pc, uint32_t addr,
                                    uint32_t kind, uint64_t now) noexcept nogil:
    """Cycles from issuing the access at cycle `now` until its data is usable. `pc` is
    the instruction's (the stride prefetcher's key and a profile's row; 0: the walker)."""
    if t.model == MEM_CACHES:
        return hierarchy_access_pc(<Hierarchy*>t.hierarchy, hart, pc, addr, kind, now)
    return t.fixed_latency


cdef inline uint32_t store_latency(MemoryTiming* t, uint32_t hart, uint32_t pc, uint32_t addr,
                                   uint32_t width, uint64_t now) noexcept nogil:
    """A store of `width` bytes: the hierarchy records which bytes each hart writes
    (for the false-sharing report)."""
    if t.model == MEM_CACHES:
        return hierarchy_access_bytes(<Hierarchy*>t.hierarchy, hart, pc, addr, width,
                                      ACCESS_STORE, now)
    return t.fixed_latency


cdef inline void reserve(MemoryTiming* t, uint32_t hart, uint32_t addr) noexcept nogil:
    """lr.w: the caches watch the line for other harts' writes."""
    if t.model == MEM_CACHES:
        hierarchy_reserve(<Hierarchy*>t.hierarchy, hart, addr)


cdef inline bint reservation_held(MemoryTiming* t, uint32_t hart, uint32_t addr) noexcept nogil:
    """sc.w: whether no other hart wrote the reserved line (always, without caches:
    the architectural per-word check in memory.pxd is then the only one)."""
    if t.model == MEM_CACHES:
        return hierarchy_reservation_held(<Hierarchy*>t.hierarchy, hart, addr)
    return True


cdef inline void release(MemoryTiming* t, uint32_t hart) noexcept nogil:
    if t.model == MEM_CACHES:
        hierarchy_release(<Hierarchy*>t.hierarchy, hart)


cdef inline uint32_t translation_latency(MemoryTiming* t, uint32_t hart, Translation* x,
                                         uint32_t l2tlb_latency, uint64_t now,
                                         uint64_t* walk_cycles) noexcept nogil:
    """Cycles an address translation (tlb.pxd mmu_translate) adds before the access it
    serves can start at `now`: nothing for an L1 TLB hit (or satp off), `l2tlb_latency`
    for an L2 TLB hit, and for a walk its PTE reads one after another, root level first,
    each timed like a load (through the caches, or the fixed latency). A PTE the walker
    wrote back (A/D) goes to the caches as a store, off the critical path. Adds a walk's
    cycles to *walk_cycles (faulting walks too; the MMU counts the walks themselves)."""
    cdef uint32_t latency = 0
    cdef uint32_t i
    if x.source == XLATE_L2:
        return l2tlb_latency
    if x.source != XLATE_WALK:
        return 0
    for i in range(x.walk.reads):
        latency += access_latency(t, hart, 0, x.walk.pte_addr[i], ACCESS_LOAD, now + latency)
    if x.walk.written:
        access_latency(t, hart, 0, x.walk.pte_addr[x.walk.reads - 1], ACCESS_STORE,
                       now + latency)
    walk_cycles[0] += latency
    return latency

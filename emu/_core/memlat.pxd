"""How long a memory access takes: the timing interface between a core and memory.

Data always lives in the one flat PhysMem; this interface only answers "how many
cycles". The out-of-order core asks it for every load, AMO and LR/SC it executes.
Two models: a fixed latency, and the cache hierarchy (hierarchy.pxd: tags, MESI
states, MSHRs, a DRAM model). The access kinds (AccessKind, from access.pxd) can be
cimported from here as before.
"""

from libc.stdint cimport uint32_t, uint64_t

from emu._core.access cimport (ACCESS_ATOMIC, ACCESS_FETCH, ACCESS_LOAD, ACCESS_STORE,
                               AccessKind)
from emu._core.hierarchy cimport Hierarchy, hierarchy_access


cdef enum MemoryModel:
    MEM_FIXED = 0           # every access takes fixed_latency cycles
    MEM_CACHES = 1          # the cache hierarchy `hierarchy` answers


cdef struct MemoryTiming:
    uint32_t model          # MemoryModel
    uint32_t fixed_latency  # MEM_FIXED: load-to-use cycles
    void* hierarchy         # MEM_CACHES: a Hierarchy*, owned by whoever built this timing


cdef inline uint32_t access_latency(MemoryTiming* t, uint32_t hart, uint32_t addr,
                                    uint32_t kind, uint64_t now) noexcept nogil:
    """Cycles from issuing the access at cycle `now` until its data is usable."""
    if t.model == MEM_CACHES:
        return hierarchy_access(<Hierarchy*>t.hierarchy, hart, addr, kind, now)
    return t.fixed_latency

"""How long a memory access takes: the timing interface between a core and memory.

Data always lives in the one flat PhysMem; this interface only answers "how many
cycles". The out-of-order core asks it for every load, AMO and LR/SC it executes.
Today's model is a fixed latency; the cache hierarchy (tags, MESI state, MSHRs, a
DRAM model) plugs in as another MemoryModel behind the same call.
"""

from libc.stdint cimport uint32_t, uint64_t


cdef enum MemoryModel:
    MEM_FIXED = 0           # every access takes fixed_latency cycles


cdef enum AccessKind:
    ACCESS_LOAD = 0
    ACCESS_STORE = 1
    ACCESS_ATOMIC = 2       # AMO, LR, SC: need the line exclusively


cdef struct MemoryTiming:
    uint32_t model          # MemoryModel
    uint32_t fixed_latency  # MEM_FIXED: load-to-use cycles


cdef inline uint32_t access_latency(MemoryTiming* t, uint32_t hart, uint32_t addr,
                                    uint32_t kind, uint64_t now) noexcept nogil:
    """Cycles from issuing the access at cycle `now` until its data is usable."""
    return t.fixed_latency

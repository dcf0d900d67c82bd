"""The cache hierarchy: per-hart L1I and L1D, a shared L2, an optional shared L3, DRAM.

It owns the wiring between the levels (cache.pxd is one level, dram.pxd the memory):
a miss asks the next level outwards, filling every level on the way back (the line is
installed in each level it missed in, outermost first); a dirty victim is written to
the next level (a full line, so a writeback that misses there allocates without
fetching); with `inclusive`, every outer level holds everything inside it, so evicting
a line from L2 (or L3) first removes it from every level inside, and a dirty inner copy
makes the outgoing line dirty. Without it the hierarchy is non-inclusive and
non-exclusive (what pycachesim models): fills still go to every level, but an outer
eviction leaves inner copies alone.

Timing (cycles): an access at cycle t to a level with hit latency h is answered at
t + h on a hit; a miss is known at t + h, takes an MSHR (waiting for one if all are
busy) and asks the next level at that cycle; the line arrives, and the access
completes, when the next level answers. DRAM answers a read after its latency plus any
wait for its channel. Levels are numbered outwards: 0 is the hart's L1, 1 the L2 (outer[0]),
2 the L3 (outer[1]), outer_levels + 1 the DRAM.

Coherence: there is none yet between the L1s of different harts (each behaves as if
it were alone; a single hart needs none). Every L1 line already carries its MESI
state, and every line fill, upgrade and eviction of an L1 passes through
`level_access`/`evict` in hierarchy.pyx, which is where the snooping bus will sit:
an L1 miss becomes a BusRd (BusRdX for a store or an atomic) that the other harts'
L1s snoop with `cache_find`, a store hit on an S line a BusUpgr, and a fill comes back
S or E depending on the bus's shared signal.
"""

from libc.stdint cimport int64_t, uint8_t, uint32_t, uint64_t

from emu._core.access cimport ACCESS_KINDS
from emu._core.cache cimport Cache, CacheParams
from emu._core.dram cimport Dram

cdef enum:
    MAX_OUTER_LEVELS = 2    # shared levels: L2, L3


cdef struct HierarchyParams:
    uint32_t harts          # >= 1: one L1I and one L1D each
    CacheParams l1i         # every CacheParams.seed here is the machine seed
    CacheParams l1d
    CacheParams outer[MAX_OUTER_LEVELS]  # outer[0] the L2, outer[1] the L3
    uint32_t outer_levels   # 1 (L2) or 2 (L2 and L3)
    uint8_t inclusive       # 1: outer levels include the inner ones (back-invalidation)
    uint32_t dram_latency   # cycles from a read leaving the last level to its line arriving
    uint32_t dram_transfer_cycles  # cycles the DRAM channel is busy per line (>= 1)


cdef struct Hierarchy:
    HierarchyParams params
    Cache* l1i              # params.harts instruction caches
    Cache* l1d              # params.harts data caches
    Cache outer[MAX_OUTER_LEVELS]  # the first params.outer_levels are in use
    Dram dram
    uint64_t accesses[ACCESS_KINDS]     # accesses asked for, by AccessKind
    uint64_t latency_sum[ACCESS_KINDS]  # cycles they took, summed (AMAT = sum / accesses)


cdef int hierarchy_params(HierarchyParams* p, object config, uint32_t harts) except -1
cdef int hierarchy_init(Hierarchy* h, HierarchyParams* params) except -1
cdef void hierarchy_free(Hierarchy* h) noexcept nogil
cdef void hierarchy_reset(Hierarchy* h) noexcept nogil
cdef uint32_t hierarchy_access_pc(Hierarchy* h, uint32_t hart, uint32_t pc, uint32_t addr,
                                  uint32_t kind, uint64_t now) noexcept nogil


cdef inline uint32_t hierarchy_access(Hierarchy* h, uint32_t hart, uint32_t addr, uint32_t kind,
                                      uint64_t now) noexcept nogil:
    """Cycles from issuing an access of AccessKind `kind` at cycle `now` until its data is
    usable (a store: until its line is held in M). For callers that know no pc (the
    stride prefetcher then sees one global stream)."""
    return hierarchy_access_pc(h, hart, 0, addr, kind, now)


cdef class HierarchyModel:
    # A Hierarchy owned by a Python object: the trace-driven mode, tests, and the
    # machine (whose cores time their accesses through &model.h).
    cdef Hierarchy h
    cdef bint built
    cdef int64_t last_cycle         # cycle of the latest access, -1 before the first
    cdef readonly object config
    cdef readonly uint32_t harts
    cdef Cache* _cache(self, str level, uint32_t hart) except NULL

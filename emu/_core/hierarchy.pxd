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

Coherence (coherence.pxd): MESI among the L1s of different harts over a snooping bus
between the L1s and the L2. Every L1 state change is a step of the protocol table:
an L1 miss puts a BusRd (BusRdX for a store or an atomic) on the bus, which the other
harts' L1I and L1D snoop; a write to an S copy puts a BusUpgr; the fill comes back S
or E by the shared signal. A BusRd that finds a dirty copy takes the data from it
(an intervention: cache to cache, and the owner writes back to the L2 and keeps an S
copy); BusRdX and BusUpgr invalidate every other copy. A hart's own L1I is not
snooped by its own L1D (instruction fetch sees a hart's own stores only after
fence.i, and the decode cache re-checks words anyway). Timing: the request leaves the
L1 after its lookup, waits for the bus, holds it `bus_latency` cycles, then the data
comes from the owner (its hit latency later) or from the L2 as before; an upgrade is
done when its transaction is. With one hart there is no bus (nothing to snoop).

Writes (`hierarchy_access_bytes` with their width; `hierarchy_access_pc` assumes a word)
stamp a new data version on the copy and note the bytes written, for the data-value
invariant and the false-sharing report, and end other harts' LR reservations on the
line: `hierarchy_reserve`, `hierarchy_reservation_held`, `hierarchy_release` are the
cores' side of LR/SC (an SC succeeds only while its reservation is held).

Profiling (profile.pxd): with a Profile attached, every demand access also counts, at
its pc's row, its class (fetch, read, write), the levels it missed in and its latency.
The levels' miss counters tell which level answered (each level looks a demand access
up at most once, under the access's own kind), so the access path itself is unchanged.
"""

from libc.stdint cimport int64_t, uint8_t, uint32_t, uint64_t

from emu._core.access cimport ACCESS_KINDS
from emu._core.cache cimport Cache, CacheParams
from emu._core.coherence cimport Coherence
from emu._core.dram cimport Dram
from emu._core.profile cimport Profile

cdef enum:
    MAX_OUTER_LEVELS = 2    # shared levels: L2, L3
    BUS_LATENCY_DEFAULT = 4         # cycles a bus transaction holds the snooping bus
    SHARING_LINES_DEFAULT = 4096    # lines the sharing table records at most


cdef struct HierarchyParams:
    uint32_t harts          # >= 1: one L1I and one L1D each
    CacheParams l1i         # every CacheParams.seed here is the machine seed
    CacheParams l1d
    CacheParams outer[MAX_OUTER_LEVELS]  # outer[0] the L2, outer[1] the L3
    uint32_t outer_levels   # 1 (L2) or 2 (L2 and L3)
    uint8_t inclusive       # 1: outer levels include the inner ones (back-invalidation)
    uint32_t dram_latency   # cycles from a read leaving the last level to its line arriving
    uint32_t dram_transfer_cycles  # cycles the DRAM channel is busy per line (>= 1)
    uint32_t bus_latency    # cycles a transaction holds the snooping bus (harts > 1)
    uint32_t sharing_lines  # capacity of the sharing table (harts > 1; 0: no report)


cdef struct Snoop:          # what the other harts' L1s answered to one bus request
    bint shared             # a copy stays valid elsewhere: a BusRd's fill is S
    bint supplied           # a dirty copy supplies the data (an intervention) ...
    uint64_t ready          # ... reaching the requester at this cycle
    uint64_t version        # ... holding this data version


cdef struct Hierarchy:
    HierarchyParams params
    Cache* l1i              # params.harts instruction caches
    Cache* l1d              # params.harts data caches
    Cache outer[MAX_OUTER_LEVELS]  # the first params.outer_levels are in use
    Dram dram
    Coherence coherence     # the protocol table, the bus, coherence counters, sharing table
    uint32_t* reservation_line   # per hart: the L1D line its LR reserved ...
    uint8_t* reservation_valid   # ... while 1 (another hart's write to the line clears it)
    uint32_t reservations        # harts holding one (0: writes skip the check)
    uint64_t accesses[ACCESS_KINDS]     # accesses asked for, by AccessKind
    uint64_t latency_sum[ACCESS_KINDS]  # cycles they took, summed (AMAT = sum / accesses)
    Profile* profile        # per-pc counters of every demand access, or NULL (profile.pxd)


cdef int hierarchy_params(HierarchyParams* p, object config, uint32_t harts) except -1
cdef int hierarchy_init(Hierarchy* h, HierarchyParams* params) except -1
cdef void hierarchy_free(Hierarchy* h) noexcept nogil
cdef void hierarchy_reset(Hierarchy* h) noexcept nogil
cdef uint32_t hierarchy_access_pc(Hierarchy* h, uint32_t hart, uint32_t pc, uint32_t addr,
                                  uint32_t kind, uint64_t now) noexcept nogil
cdef uint32_t hierarchy_access_bytes(Hierarchy* h, uint32_t hart, uint32_t pc, uint32_t addr,
                                     uint32_t width, uint32_t kind, uint64_t now) noexcept nogil
cdef void hierarchy_dma_write(Hierarchy* h, uint32_t addr, uint32_t length) noexcept nogil
    # A device wrote RAM [addr, addr + length) (dma.pxd): every cached copy of those lines
    # is dropped (an L1 copy through a Recall, dirty or not: RAM holds the newest data, so
    # nothing is written outwards), and LR reservations on them end.
cdef void hierarchy_reserve(Hierarchy* h, uint32_t hart, uint32_t addr) noexcept nogil
cdef bint hierarchy_reservation_held(Hierarchy* h, uint32_t hart, uint32_t addr) noexcept nogil
cdef void hierarchy_release(Hierarchy* h, uint32_t hart) noexcept nogil


cdef class HierarchyModel:
    # A Hierarchy owned by a Python object: the trace-driven mode, tests, and the
    # machine (whose cores time their accesses through &model.h).
    cdef Hierarchy h
    cdef bint built
    cdef int64_t last_cycle         # cycle of the latest access, -1 before the first
    cdef uint64_t errors_raised     # coherence.errors already raised as ProtocolError
    cdef readonly object config
    cdef readonly uint32_t harts
    cdef Profile profile_data       # what h.profile points at once a profile is attached ...
    cdef object profile_array       # ... and the numpy array holding its counters
    cdef Cache* _cache(self, str level, uint32_t hart) except NULL

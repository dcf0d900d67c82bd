"""One set-associative cache level: tags, MESI states, replacement, MSHRs, counters.

A Cache holds no data (data lives in the one flat PhysMem): per way it keeps the line
number it holds, the line's MESI state, when its fill arrives and whether a prefetch
brought it. What happens around it (asking the next level on a miss, writing victims
back, back-invalidation, coherence) is the hierarchy's business (hierarchy.pyx); this
module gives it the per-level operations, inline so the whole access path compiles
into one C function per caller.

Tags are written when the miss happens, not when its fill arrives, so the sequence of
hits and misses depends only on the order of accesses, never on timing (it is what
pycachesim and cachegrind count, and it makes the counts deterministic across timing
parameters). Timing lives beside it: each miss (and each prefetch) holds an MSHR until
its fill cycle and stamps the line's `ready` cycle; a later access that hits a line
whose fill has not arrived is a secondary miss: it merges into that MSHR (no new
request goes out) and completes with it, counted in hits and in `mshr_merges` (gem5
counts these as "MSHR hits" among its misses: demand misses = misses + mshr_merges).
A miss that finds every MSHR busy stalls until the earliest one frees. A hit on a
filled line proceeds, even while other misses are outstanding (hit under miss). A line
evicted before its fill arrived and missed again takes a new MSHR.

Line states are MESI. A single-core hierarchy uses M, E and I only: a fill for a load,
fetch or prefetch is E, a store or atomic makes the line M (a silent E -> M upgrade).
With several harts the L1s also use S, and coherence.pxd's protocol table decides
every L1 state change (its transient states live only for the length of one bus
transaction, never in a way). In the shared levels M and E mean dirty and clean with
respect to the next level. The dirty bit is the M state: MESI has no dirty shared
state, so a separate bit could only disagree with it. A line is dirty exactly when it
is M and is written back when it leaves.

Two per-way words serve coherence: `version`, the data version the copy holds (each
write makes a new one; fills and writebacks carry it between levels, so tests can
check the data-value invariant), and `written`, the bytes the hart wrote to its L1D
copy since the line was last clean (the false-sharing report's raw material).
"""

from libc.stdint cimport int32_t, uint8_t, uint32_t, uint64_t

from emu._core.access cimport ACCESS_KINDS
from emu._core.prefetch cimport Prefetcher
from emu._core.repl_lru cimport lru_insert, lru_touch, lru_victim
from emu._core.repl_plru cimport plru_insert, plru_touch, plru_victim
from emu._core.repl_random cimport random_insert, random_touch, random_victim
from emu._core.repl_srrip cimport srrip_insert, srrip_touch, srrip_victim

cdef extern from *:
    """
    #define EMU_CACHE_NO_LINE 0xFFFFFFFFu
    """
    # The tag of an invalid way: larger than any line number (line_size >= 4).
    const uint32_t NO_LINE "EMU_CACHE_NO_LINE"


cdef enum MesiState:
    MESI_I = 0              # invalid: the way holds no line (its tag is NO_LINE)
    MESI_S = 1              # shared: clean, other L1s may hold it too (multi-core)
    MESI_E = 2              # exclusive: clean, the only copy among the L1s
    MESI_M = 3              # modified: dirty, the only copy; written back when it leaves


cdef enum ReplacementKind:
    REPL_LRU = 0            # repl_lru.pxd
    REPL_PLRU = 1           # repl_plru.pxd: tree pseudo-LRU
    REPL_RANDOM = 2         # repl_random.pxd: seeded xorshift
    REPL_SRRIP = 3          # repl_srrip.pxd: 2-bit RRPV


cdef struct CacheParams:
    uint32_t size           # bytes = sets * ways * line_size; sets a power of two
    uint32_t ways           # >= 1 (REPL_PLRU: a power of two, <= 64)
    uint32_t line_size      # bytes, a power of two >= 4
    uint32_t hit_latency    # cycles from an access to its data when the line is there
    uint32_t mshrs          # outstanding misses (primary) before a miss stalls, >= 1
    uint32_t replacement    # ReplacementKind
    uint32_t prefetcher     # PrefetcherKind (prefetch.pxd)
    uint32_t prefetch_degree  # lines per prefetch trigger, 1..PREFETCH_DEGREE_MAX
    uint64_t seed           # REPL_RANDOM's generator seed (hierarchy_init derives it per cache)


cdef struct Mshr:           # one outstanding miss (a primary miss or a prefetch)
    uint32_t line           # the line being filled
    uint64_t fill           # cycle its data arrives; the entry is free from then on


cdef struct CacheStats:
    uint64_t hits[ACCESS_KINDS]     # lookups that found the line, by AccessKind of the request
    uint64_t misses[ACCESS_KINDS]   # lookups that did not: each took an MSHR and a way
    uint64_t mshr_merges            # hits on a line whose fill had not arrived yet
    uint64_t mshr_stalls            # misses that found every MSHR busy
    uint64_t mshr_stall_cycles      # cycles those misses waited for one
    uint64_t evictions              # valid lines replaced to make room
    uint64_t writebacks             # dirty lines sent outwards (evicted or back-invalidated)
    uint64_t writeback_hits         # dirty lines from an inner level that found their line here
    uint64_t writeback_misses       # ... that did not and were allocated (no fetch: a whole line)
    uint64_t back_invalidations     # lines removed because an inclusive outer level evicted them
    uint64_t prefetches_issued      # prefetch fills sent out by this level's prefetcher
    uint64_t prefetches_useful      # prefetched lines hit by a demand access before leaving
    uint64_t prefetches_unused      # prefetched lines evicted before any demand access
    uint64_t prefetches_dropped     # candidates not issued because every MSHR was busy


cdef struct Cache:
    CacheParams params
    uint32_t sets
    uint32_t set_mask       # sets - 1: a line lives in set line & set_mask
    uint32_t line_bits      # log2(line_size): line = address >> line_bits
    uint32_t ways
    uint32_t hit_latency
    # Per way, indexed set * ways + way (a way's "index" below):
    uint32_t* tags          # the line number held, NO_LINE when invalid
    uint8_t* state          # MesiState
    uint8_t* prefetched     # 1 while a line a prefetch brought in has not been demanded
    uint64_t* ready         # cycle the line's fill arrives (arrived when <= now)
    uint64_t* repl_line     # the replacement policy's per-way word (repl_lru.pxd)
    uint64_t* repl_set      # ... its per-set word
    uint64_t repl_word      # ... its per-cache word
    Mshr* mshrs             # params.mshrs entries, a min-heap on fill: mshrs[0] frees first
    Prefetcher prefetcher
    CacheStats stats
    uint64_t* version       # per way: the data version it holds (0: as loaded from DRAM)
    uint64_t* written       # per way: written_mask bits (coherence.pxd) of the bytes its hart
                            # wrote since the line was last clean (kept by the L1 code only)
    uint32_t hart           # the hart an L1 belongs to (0 for the shared levels)
    uint32_t* set_valid     # per set: valid ways (a full set skips the search for an invalid one)
    uint64_t* set_hits      # per set: lookups that hit (any kind)
    uint64_t* set_misses    # per set: lookups that missed


cdef int cache_init(Cache* c, CacheParams params) except -1
cdef void cache_free(Cache* c) noexcept nogil
cdef void cache_reset(Cache* c) noexcept nogil


cdef inline int32_t cache_find(Cache* c, uint32_t line) noexcept nogil:
    """The index of the way holding `line`, or -1."""
    cdef uint32_t base = (line & c.set_mask) * c.ways
    cdef uint32_t w
    for w in range(c.ways):
        if c.tags[base + w] == line:
            return <int32_t>(base + w)
    return -1


cdef inline void cache_count(Cache* c, uint32_t line, uint32_t kind, bint hit) noexcept nogil:
    """Count one lookup of `line` by a request of AccessKind `kind`."""
    if hit:
        c.stats.hits[kind] += 1
        c.set_hits[line & c.set_mask] += 1
    else:
        c.stats.misses[kind] += 1
        c.set_misses[line & c.set_mask] += 1


cdef inline void cache_touch(Cache* c, uint32_t index) noexcept nogil:
    """Tell the replacement policy about a demand hit on way `index`."""
    cdef uint32_t s = index // c.ways
    cdef uint64_t* lines = &c.repl_line[s * c.ways]
    cdef uint32_t way = index - s * c.ways
    if c.params.replacement == REPL_LRU:
        lru_touch(lines, &c.repl_set[s], c.ways, way, &c.repl_word)
    elif c.params.replacement == REPL_PLRU:
        plru_touch(lines, &c.repl_set[s], c.ways, way, &c.repl_word)
    elif c.params.replacement == REPL_RANDOM:
        random_touch(lines, &c.repl_set[s], c.ways, way, &c.repl_word)
    else:
        srrip_touch(lines, &c.repl_set[s], c.ways, way, &c.repl_word)


cdef inline uint32_t cache_victim(Cache* c, uint32_t line) noexcept nogil:
    """The index of the way `line` will replace: the set's lowest invalid way, else the
    replacement policy's choice (the caller evicts what is there)."""
    cdef uint32_t s = line & c.set_mask
    cdef uint32_t base = s * c.ways
    cdef uint64_t* lines = &c.repl_line[base]
    cdef uint32_t w
    if c.set_valid[s] < c.ways:
        for w in range(c.ways):
            if c.tags[base + w] == NO_LINE:
                return base + w
    if c.params.replacement == REPL_LRU:
        return base + lru_victim(lines, &c.repl_set[s], c.ways, &c.repl_word)
    elif c.params.replacement == REPL_PLRU:
        return base + plru_victim(lines, &c.repl_set[s], c.ways, &c.repl_word)
    elif c.params.replacement == REPL_RANDOM:
        return base + random_victim(lines, &c.repl_set[s], c.ways, &c.repl_word)
    return base + srrip_victim(lines, &c.repl_set[s], c.ways, &c.repl_word)


cdef inline void cache_fill(Cache* c, uint32_t index, uint32_t line, uint8_t state,
                            uint64_t ready, bint prefetched, uint64_t version) noexcept nogil:
    """Put `line`, holding data `version`, into the invalid (or just evicted) way `index`."""
    cdef uint32_t s = index // c.ways
    cdef uint32_t way = index - s * c.ways
    cdef uint64_t* lines = &c.repl_line[s * c.ways]
    c.set_valid[s] += 1
    c.tags[index] = line
    c.state[index] = state
    c.ready[index] = ready
    c.prefetched[index] = prefetched
    c.version[index] = version
    if c.params.replacement == REPL_LRU:
        lru_insert(lines, &c.repl_set[s], c.ways, way, &c.repl_word)
    elif c.params.replacement == REPL_PLRU:
        plru_insert(lines, &c.repl_set[s], c.ways, way, &c.repl_word)
    elif c.params.replacement == REPL_RANDOM:
        random_insert(lines, &c.repl_set[s], c.ways, way, &c.repl_word)
    else:
        srrip_insert(lines, &c.repl_set[s], c.ways, way, &c.repl_word)


cdef inline void cache_invalidate(Cache* c, uint32_t index) noexcept nogil:
    """Empty the valid way `index`."""
    c.set_valid[index // c.ways] -= 1
    c.tags[index] = NO_LINE
    c.state[index] = MESI_I
    c.prefetched[index] = 0


cdef inline uint64_t mshr_start(Cache* c, uint64_t t) noexcept nogil:
    """The cycle a miss known at cycle t gets its MSHR: t when one is free, else the
    cycle the first busy one frees (the miss stalls until then). The MSHR is the one
    that frees first; `mshr_hold` gives it to the miss once its fill cycle is known."""
    cdef uint64_t free_at = c.mshrs[0].fill
    if free_at <= t:
        return t
    c.stats.mshr_stalls += 1
    c.stats.mshr_stall_cycles += free_at - t
    return free_at


cdef inline void mshr_hold(Cache* c, uint32_t line, uint64_t fill) noexcept nogil:
    """Hold the MSHR that frees first (mshrs[0], the one mshr_start chose) for `line`
    until `fill`; one sift-down keeps the heap."""
    cdef uint32_t i = 0, child, n = c.params.mshrs
    while True:
        child = 2 * i + 1
        if child >= n:
            break
        if child + 1 < n and c.mshrs[child + 1].fill < c.mshrs[child].fill:
            child += 1
        if c.mshrs[child].fill >= fill:
            break
        c.mshrs[i] = c.mshrs[child]
        i = child
    c.mshrs[i].line = line
    c.mshrs[i].fill = fill


cdef inline uint32_t mshrs_busy(Cache* c, uint64_t t) noexcept nogil:
    """MSHRs whose fill has not arrived at cycle t."""
    cdef uint32_t e, n = 0
    for e in range(c.params.mshrs):
        if c.mshrs[e].fill > t:
            n += 1
    return n

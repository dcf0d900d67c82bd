"""The cache hierarchy (hierarchy.pxd): the access path through the levels, victims,
back-invalidation and prefetch issue; HierarchyModel, its Python face (the trace-driven
mode's engine and the tests' handle)."""

import numpy as np

cimport numpy as cnp
from libc.stdint cimport int32_t, int64_t
from libc.stdlib cimport calloc, free
from libc.string cimport memset

from emu._core.access cimport (ACCESS_ATOMIC, ACCESS_FETCH, ACCESS_LOAD, ACCESS_PREFETCH,
                               ACCESS_STORE)
from emu._core.cache cimport (MESI_E, MESI_I, MESI_M, MESI_S, NO_LINE, REPL_LRU, REPL_PLRU,
                              REPL_RANDOM, REPL_SRRIP, cache_count, cache_fill, cache_find,
                              cache_free, cache_init, cache_invalidate, cache_reset,
                              cache_touch, cache_victim, mshr_hold, mshr_start, mshrs_busy)
from emu._core.dram cimport dram_clear, dram_read, dram_write
from emu._core.prefetch cimport (PF_NEXT_LINE, PF_NONE, PF_STRIDE, PREFETCH_DEGREE_MAX,
                                 prefetch_candidates)

cnp.import_array()

#: Names of the levels, innermost first, as HierarchyModel and emu.cache use them.
LEVEL_NAMES = ("l1i", "l1d", "l2", "l3")
#: AccessKind values by name (the trace-driven mode's `kinds` use these numbers).
ACCESS_KIND_NUMBERS = {"load": ACCESS_LOAD, "store": ACCESS_STORE, "atomic": ACCESS_ATOMIC,
                       "fetch": ACCESS_FETCH, "prefetch": ACCESS_PREFETCH}
ACCESS_KIND_NAMES = tuple(sorted(ACCESS_KIND_NUMBERS, key=ACCESS_KIND_NUMBERS.get))
MESI_NAMES = {MESI_I: "I", MESI_S: "S", MESI_E: "E", MESI_M: "M"}

_REPLACEMENT_KINDS = {"lru": REPL_LRU, "plru": REPL_PLRU, "random": REPL_RANDOM, "srrip": REPL_SRRIP}
_PREFETCHER_KINDS = {"none": PF_NONE, "next_line": PF_NEXT_LINE, "stride": PF_STRIDE}


# ---- construction -------------------------------------------------------------------

cdef int _cache_params(CacheParams* p, object config, uint64_t seed) except -1:
    p.size = config.size
    p.ways = config.ways
    p.line_size = config.line_size
    p.hit_latency = config.hit_latency
    p.mshrs = config.mshrs
    p.replacement = _REPLACEMENT_KINDS[config.replacement]
    p.prefetcher = _PREFETCHER_KINDS[config.prefetcher]
    p.prefetch_degree = config.prefetch_degree
    p.seed = seed
    return 0


cdef inline uint64_t cache_seed(uint64_t seed, uint32_t level, uint32_t hart,
                                bint data) noexcept nogil:
    """The seed of one cache from the machine seed: distinct per level, hart and L1I/L1D,
    so no two random caches draw the same victims."""
    return seed ^ (((<uint64_t>level << 32) | (hart << 1) | data) * 0x9E3779B97F4A7C15ULL)


cdef int hierarchy_params(HierarchyParams* p, object config, uint32_t harts) except -1:
    """Fill `p` from an emu.config.MemoryHierarchyConfig for `harts` harts."""
    memset(p, 0, sizeof(HierarchyParams))
    p.harts = harts
    _cache_params(&p.l1i, config.l1i, config.seed)
    _cache_params(&p.l1d, config.l1d, config.seed)
    outer = [config.l2] if config.l3 is None else [config.l2, config.l3]
    p.outer_levels = len(outer)
    for level, cache_config in enumerate(outer, start=1):
        _cache_params(&p.outer[level - 1], cache_config, config.seed)
    p.inclusive = config.inclusive
    p.dram_latency = config.dram_latency
    p.dram_transfer_cycles = -(-outer[len(outer) - 1].line_size // config.dram_bytes_per_cycle)
    return 0


cdef int hierarchy_init(Hierarchy* h, HierarchyParams* params) except -1:
    """Allocate an empty hierarchy (ValueError for impossible params). `*h` may be
    uninitialised memory; on failure nothing stays allocated."""
    cdef uint32_t hart, level
    cdef CacheParams one
    cdef uint32_t level_line
    if params.harts < 1:
        raise ValueError(f"a hierarchy needs at least one hart, not {params.harts}")
    if params.outer_levels < 1 or params.outer_levels > MAX_OUTER_LEVELS:
        raise ValueError(f"outer_levels must be 1..{MAX_OUTER_LEVELS}, not {params.outer_levels}")
    level_line = max(params.l1i.line_size, params.l1d.line_size)
    for level in range(params.outer_levels):     # back-invalidation and writebacks rely on it
        if params.outer[level].line_size < level_line:
            raise ValueError("line sizes must not shrink outwards")
        level_line = params.outer[level].line_size
    if params.dram_transfer_cycles == 0:
        raise ValueError("dram_transfer_cycles must be at least 1")
    memset(h, 0, sizeof(Hierarchy))
    h.params = params[0]
    h.dram.latency = params.dram_latency
    h.dram.transfer_cycles = params.dram_transfer_cycles
    h.l1i = <Cache*>calloc(params.harts, sizeof(Cache))
    h.l1d = <Cache*>calloc(params.harts, sizeof(Cache))
    try:
        if h.l1i == NULL or h.l1d == NULL:
            raise MemoryError()
        for hart in range(params.harts):
            one = params.l1i
            one.seed = cache_seed(params.l1i.seed, 0, hart, False)
            cache_init(&h.l1i[hart], one)
            one = params.l1d
            one.seed = cache_seed(params.l1d.seed, 0, hart, True)
            cache_init(&h.l1d[hart], one)
        for level in range(params.outer_levels):
            one = params.outer[level]
            one.seed = cache_seed(params.outer[level].seed, level + 1, 0, False)
            cache_init(&h.outer[level], one)
    except BaseException:
        hierarchy_free(h)
        raise
    return 0


cdef void hierarchy_free(Hierarchy* h) noexcept nogil:
    """Free everything hierarchy_init allocated (safe on a partly built or zeroed one)."""
    cdef uint32_t hart, level
    if h.l1i != NULL:
        for hart in range(h.params.harts):
            cache_free(&h.l1i[hart])
        free(h.l1i)
        h.l1i = NULL
    if h.l1d != NULL:
        for hart in range(h.params.harts):
            cache_free(&h.l1d[hart])
        free(h.l1d)
        h.l1d = NULL
    for level in range(MAX_OUTER_LEVELS):
        cache_free(&h.outer[level])


cdef void hierarchy_reset(Hierarchy* h) noexcept nogil:
    """Empty caches, idle DRAM, zero counters."""
    cdef uint32_t hart, level
    for hart in range(h.params.harts):
        cache_reset(&h.l1i[hart])
        cache_reset(&h.l1d[hart])
    for level in range(h.params.outer_levels):
        cache_reset(&h.outer[level])
    dram_clear(&h.dram)
    memset(h.accesses, 0, sizeof(h.accesses))
    memset(h.latency_sum, 0, sizeof(h.latency_sum))


# ---- the access path ----------------------------------------------------------------

cdef uint64_t fetch_line(Hierarchy* h, uint32_t level, uint32_t addr, uint32_t pc,
                         uint32_t kind, uint64_t t) noexcept nogil:
    """The cycle the line holding `addr` arrives from `level` (>= 1), asked at cycle t."""
    if level > h.params.outer_levels:
        return dram_read(&h.dram, t)
    return level_access(h, &h.outer[level - 1], level, addr, pc, kind, t)


cdef uint64_t level_access(Hierarchy* h, Cache* c, uint32_t level, uint32_t addr, uint32_t pc,
                           uint32_t kind, uint64_t t) noexcept nogil:
    """A request of AccessKind `kind` for `addr` reaching cache `c` (at `level`) at cycle
    t: look it up, on a miss fetch the line from outside and install it, then let the
    prefetcher act. Returns the cycle the data is available to the requester."""
    cdef uint32_t line = addr >> c.line_bits
    cdef int32_t found = cache_find(c, line)
    cdef uint32_t index
    cdef uint64_t ready
    cdef bint demand = kind != ACCESS_PREFETCH
    cdef bint writes = level == 0 and (kind == ACCESS_STORE or kind == ACCESS_ATOMIC)
    cdef bint trigger = True
    cache_count(c, line, kind, found >= 0)
    if found >= 0:
        index = <uint32_t>found
        cache_touch(c, index)
        ready = t + c.hit_latency
        if c.ready[index] > t:              # its fill is still on the way: wait with it
            c.stats.mshr_merges += 1
            if c.ready[index] > ready:
                ready = c.ready[index]
        trigger = demand and c.prefetched[index]
        if trigger:
            c.prefetched[index] = 0
            c.stats.prefetches_useful += 1
        if writes:
            c.state[index] = MESI_M
    else:
        ready = fetch_line(h, level + 1, addr, pc, kind, mshr_start(c, t + c.hit_latency))
        mshr_hold(c, line, ready)
        cache_fill(c, make_room(h, c, level, line, t), line, MESI_M if writes else MESI_E,
                   ready, False)
    if demand and c.prefetcher.kind != PF_NONE:
        prefetch(h, c, level, addr, pc, trigger, t)
    return ready


cdef uint32_t make_room(Hierarchy* h, Cache* c, uint32_t level, uint32_t line,
                        uint64_t t) noexcept nogil:
    """The way `line` goes into in `c`, after evicting whatever it held."""
    cdef uint32_t index = cache_victim(c, line)
    if c.tags[index] != NO_LINE:
        evict(h, c, level, index, t)
    return index


cdef void evict(Hierarchy* h, Cache* c, uint32_t level, uint32_t index, uint64_t t) noexcept nogil:
    """Remove the valid line in way `index` of `c` at cycle t: first from every inner
    level when inclusive, then write it outwards if it (or an inner copy) was dirty."""
    cdef uint32_t addr = c.tags[index] << c.line_bits
    cdef bint dirty = c.state[index] == MESI_M
    c.stats.evictions += 1
    if c.prefetched[index]:
        c.stats.prefetches_unused += 1
    if level > 0 and h.params.inclusive:
        if back_invalidate(h, level, addr, 1U << c.line_bits):
            dirty = True
    cache_invalidate(c, index)
    if dirty:
        c.stats.writebacks += 1
        writeback(h, level + 1, addr, t)


cdef bint back_invalidate(Hierarchy* h, uint32_t level, uint32_t addr, uint32_t size) noexcept nogil:
    """Remove the bytes [addr, addr + size) from every cache inside `level`; True when a
    removed copy was dirty (its data goes out with the outer line)."""
    cdef bint dirty = False
    cdef uint32_t inner, hart
    for inner in range(1, level):
        if drop_lines(&h.outer[inner - 1], addr, size):
            dirty = True
    for hart in range(h.params.harts):
        if drop_lines(&h.l1i[hart], addr, size):
            dirty = True
        if drop_lines(&h.l1d[hart], addr, size):
            dirty = True
    return dirty


cdef bint drop_lines(Cache* c, uint32_t addr, uint32_t size) noexcept nogil:
    """Invalidate c's lines within [addr, addr + size) (an outer line may span several of
    c's); True when one was dirty."""
    cdef bint dirty = False
    cdef uint32_t line = addr >> c.line_bits
    cdef uint32_t count = size >> c.line_bits
    cdef int32_t found
    while count > 0:
        found = cache_find(c, line)
        if found >= 0:
            c.stats.back_invalidations += 1
            if c.prefetched[found]:
                c.stats.prefetches_unused += 1
            if c.state[found] == MESI_M:
                c.stats.writebacks += 1
                dirty = True
            cache_invalidate(c, <uint32_t>found)
        line += 1
        count -= 1
    return dirty


cdef void writeback(Hierarchy* h, uint32_t level, uint32_t addr, uint64_t t) noexcept nogil:
    """A dirty line from the level inside reaches `level` at cycle t. It is a whole line,
    so a miss allocates it without fetching anything; a hit makes the line dirty without
    counting as a use for replacement (ChampSim and pycachesim do the same)."""
    cdef Cache* c
    cdef uint32_t line
    cdef int32_t found
    if level > h.params.outer_levels:
        dram_write(&h.dram, t)
        return
    c = &h.outer[level - 1]
    line = addr >> c.line_bits
    found = cache_find(c, line)
    if found >= 0:
        c.stats.writeback_hits += 1
        c.state[found] = MESI_M
        return
    c.stats.writeback_misses += 1
    cache_fill(c, make_room(h, c, level, line, t), line, MESI_M, t, False)


cdef void prefetch(Hierarchy* h, Cache* c, uint32_t level, uint32_t addr, uint32_t pc,
                   bint trigger, uint64_t t) noexcept nogil:
    """Issue c's prefetcher's candidates after a demand access at cycle t: each line not
    present yet is fetched like a miss, but only into a free MSHR (a prefetch never
    stalls; without one it is dropped) and marked prefetched."""
    cdef uint32_t lines[PREFETCH_DEGREE_MAX]
    cdef uint32_t n = prefetch_candidates(&c.prefetcher, pc, addr, c.line_bits, trigger, lines)
    cdef uint32_t k, line
    cdef uint64_t issue = t + c.hit_latency, ready
    for k in range(n):
        line = lines[k]
        if cache_find(c, line) >= 0:
            continue
        if c.mshrs[0].fill > issue:         # the MSHR that frees first is busy: all are
            c.stats.prefetches_dropped += 1
            continue
        c.stats.prefetches_issued += 1
        ready = fetch_line(h, level + 1, line << c.line_bits, pc, ACCESS_PREFETCH, issue)
        mshr_hold(c, line, ready)
        cache_fill(c, make_room(h, c, level, line, t), line, MESI_E, ready, True)


cdef uint32_t hierarchy_access_pc(Hierarchy* h, uint32_t hart, uint32_t pc, uint32_t addr,
                                  uint32_t kind, uint64_t now) noexcept nogil:
    """hierarchy_access for a caller that knows the pc of the instruction (the stride
    prefetchers key on it)."""
    cdef Cache* l1 = &h.l1i[hart] if kind == ACCESS_FETCH else &h.l1d[hart]
    cdef uint64_t latency = level_access(h, l1, 0, addr, pc, kind, now) - now
    h.accesses[kind] += 1
    h.latency_sum[kind] += latency
    return <uint32_t>latency if latency < 0xFFFFFFFFU else 0xFFFFFFFFU


cdef void hierarchy_run(Hierarchy* h, size_t n, const uint32_t* addrs, const uint8_t* kinds,
                        const uint64_t* cycles, uint64_t first_cycle, const uint32_t* harts,
                        const uint32_t* pcs, uint32_t* latencies) noexcept nogil:
    """The trace-driven mode: access i is (addrs[i], kinds[i]) at cycle cycles[i] (or
    first_cycle + i when cycles is NULL) from hart harts[i] (0 when NULL) at pc pcs[i]
    (0 when NULL); its latency goes to latencies[i] unless that is NULL."""
    cdef size_t i
    cdef uint32_t latency
    for i in range(n):
        latency = hierarchy_access_pc(h, harts[i] if harts != NULL else 0,
                                      pcs[i] if pcs != NULL else 0, addrs[i], kinds[i],
                                      cycles[i] if cycles != NULL else first_cycle + i)
        if latencies != NULL:
            latencies[i] = latency


# ---- the Python face ----------------------------------------------------------------

def _kind_number(kind):
    if isinstance(kind, str):
        if kind not in ACCESS_KIND_NUMBERS or kind == "prefetch":
            raise ValueError(f"unknown access kind {kind!r}")
        return ACCESS_KIND_NUMBERS[kind]
    if kind not in (ACCESS_LOAD, ACCESS_STORE, ACCESS_ATOMIC, ACCESS_FETCH):
        raise ValueError(f"access kind must be 0 (load), 1 (store), 2 (atomic) or 3 (fetch), "
                         f"not {kind!r}")
    return kind


def _array(values, dtype, n, name):
    if values is None:
        return None
    array = np.ascontiguousarray(values, dtype=dtype)
    if array.shape != (n,):
        raise ValueError(f"{name} must be a 1-d array of {n} values, not shape {array.shape}")
    return array


cdef class HierarchyModel:
    """A cache hierarchy (an emu.config.MemoryHierarchyConfig for `harts` harts) in C.

    `access` times one access; `run` a whole trace in one nogil loop. The inspection
    methods (`stats`, `state`, `set_lines`, `mshrs_busy`) are the slow path, for tests
    and reports. Levels are named "l1i", "l1d" (with a `hart`), "l2" and "l3"."""

    def __cinit__(self, config, harts=1):
        cdef HierarchyParams params
        hierarchy_params(&params, config, harts)
        hierarchy_init(&self.h, &params)
        self.built = True
        self.last_cycle = -1
        self.config = config
        self.harts = harts

    def __dealloc__(self):
        if self.built:
            hierarchy_free(&self.h)

    @property
    def levels(self):
        """The level names this hierarchy has, innermost first."""
        return LEVEL_NAMES[:2 + self.h.params.outer_levels]

    @property
    def cycle(self):
        """The cycle an access without an explicit cycle happens at (one after the last)."""
        return self.last_cycle + 1

    cdef Cache* _cache(self, str level, uint32_t hart) except NULL:
        if level in ("l1i", "l1d"):
            if hart >= self.harts:
                raise ValueError(f"hart {hart} out of range (harts={self.harts})")
            return &self.h.l1i[hart] if level == "l1i" else &self.h.l1d[hart]
        if level in self.levels:
            return &self.h.outer[LEVEL_NAMES.index(level) - 2]
        raise ValueError(f"no level {level!r}; levels are {', '.join(self.levels)}")

    def access(self, uint32_t addr, kind="load", cycle=None, uint32_t hart=0, uint32_t pc=0):
        """Latency in cycles of one access at `cycle` (default: one after the last)."""
        cdef uint64_t now = self.last_cycle + 1 if cycle is None else cycle
        cdef uint32_t k = _kind_number(kind)
        if hart >= self.harts:
            raise ValueError(f"hart {hart} out of range (harts={self.harts})")
        if cycle is not None and cycle < self.last_cycle:
            raise ValueError(f"cycle {cycle} is before the last access ({self.last_cycle})")
        self.last_cycle = now
        return hierarchy_access_pc(&self.h, hart, pc, addr, k, now)

    def run(self, addresses, kinds, cycles=None, harts=None, pcs=None, bint latencies=False):
        """Run a trace: uint32 addresses, uint8 kinds (0 load, 1 store, 2 atomic, 3 fetch),
        optional non-decreasing uint64 cycles (default: one access per cycle from `cycle`),
        uint32 harts and pcs. Returns the uint32 latencies when asked, else None."""
        addr_array = np.asarray(addresses)
        if addr_array.dtype != np.uint32 and addr_array.size and (
                addr_array.min() < 0 or addr_array.max() > 0xFFFFFFFF):
            raise ValueError("addresses must fit in 32 bits")
        addr_array = np.ascontiguousarray(addr_array, np.uint32)
        cdef size_t n = addr_array.shape[0] if addr_array.ndim == 1 else 0
        if addr_array.ndim != 1:
            raise ValueError(f"addresses must be a 1-d array, not shape {addr_array.shape}")
        kind_array = _array(kinds, np.uint8, n, "kinds")
        cycle_array = _array(cycles, np.uint64, n, "cycles")
        hart_array = _array(harts, np.uint32, n, "harts")
        pc_array = _array(pcs, np.uint32, n, "pcs")
        out = np.zeros(n, np.uint32) if latencies else None
        if n == 0:
            return out
        if kind_array.max() > ACCESS_FETCH:
            raise ValueError("kinds must be 0 (load), 1 (store), 2 (atomic) or 3 (fetch)")
        if hart_array is not None and hart_array.max() >= self.harts:
            raise ValueError(f"harts must be below {self.harts}")
        if cycle_array is not None and (int(cycle_array[0]) < self.last_cycle
                                        or np.any(cycle_array[1:] < cycle_array[:n - 1])):
            raise ValueError("cycles must not decrease (nor go back before earlier accesses)")
        cdef const uint32_t[::1] addr_view = addr_array
        cdef const uint8_t[::1] kind_view = kind_array
        cdef const uint64_t[::1] cycle_view
        cdef const uint32_t[::1] hart_view
        cdef const uint32_t[::1] pc_view
        cdef uint32_t[::1] out_view
        cdef const uint64_t* cycle_p = NULL
        cdef const uint32_t* hart_p = NULL
        cdef const uint32_t* pc_p = NULL
        cdef uint32_t* out_p = NULL
        cdef uint64_t first = self.last_cycle + 1
        if cycle_array is not None:
            cycle_view = cycle_array
            cycle_p = &cycle_view[0]
        if hart_array is not None:
            hart_view = hart_array
            hart_p = &hart_view[0]
        if pc_array is not None:
            pc_view = pc_array
            pc_p = &pc_view[0]
        if out is not None:
            out_view = out
            out_p = &out_view[0]
        with nogil:
            hierarchy_run(&self.h, n, &addr_view[0], &kind_view[0], cycle_p, first, hart_p,
                          pc_p, out_p)
        self.last_cycle = int(cycle_array[n - 1]) if cycle_array is not None else first + n - 1
        return out

    def reset(self):
        """Empty every cache, idle the DRAM, zero every counter and the clock."""
        hierarchy_reset(&self.h)
        self.last_cycle = -1

    def stats(self, str level, uint32_t hart=0):
        """One cache's counters: a dict of ints, per-kind arrays (`hits`, `misses`,
        indexed by AccessKind) and per-set arrays (`set_hits`, `set_misses`)."""
        cdef Cache* c = self._cache(level, hart)
        cdef uint32_t k
        s = c.stats
        return {
            "hits": np.array([s.hits[k] for k in range(ACCESS_KINDS)], np.uint64),
            "misses": np.array([s.misses[k] for k in range(ACCESS_KINDS)], np.uint64),
            "mshr_merges": s.mshr_merges, "mshr_stalls": s.mshr_stalls,
            "mshr_stall_cycles": s.mshr_stall_cycles, "evictions": s.evictions,
            "writebacks": s.writebacks, "writeback_hits": s.writeback_hits,
            "writeback_misses": s.writeback_misses, "back_invalidations": s.back_invalidations,
            "prefetches_issued": s.prefetches_issued, "prefetches_useful": s.prefetches_useful,
            "prefetches_unused": s.prefetches_unused, "prefetches_dropped": s.prefetches_dropped,
            "set_hits": np.array(<uint64_t[:c.sets]>c.set_hits, np.uint64),
            "set_misses": np.array(<uint64_t[:c.sets]>c.set_misses, np.uint64),
        }

    def dram_stats(self):
        d = self.h.dram
        return {"reads": d.reads, "writes": d.writes, "read_queue_cycles": d.read_queue_cycles,
                "busy_cycles": d.busy_cycles, "transfer_cycles": d.transfer_cycles}

    def demand_stats(self):
        """(accesses, latency_sum) per AccessKind, as uint64 arrays."""
        cdef uint32_t k
        return (np.array([self.h.accesses[k] for k in range(ACCESS_KINDS)], np.uint64),
                np.array([self.h.latency_sum[k] for k in range(ACCESS_KINDS)], np.uint64))

    def geometry(self, str level, uint32_t hart=0):
        """(sets, ways, line_size) of a level."""
        cdef Cache* c = self._cache(level, hart)
        return c.sets, c.ways, c.params.line_size

    def state(self, str level, uint32_t addr, uint32_t hart=0):
        """The MESI state ("M", "E", "S" or "I") of the line holding `addr` in a level."""
        cdef Cache* c = self._cache(level, hart)
        cdef int32_t found = cache_find(c, addr >> c.line_bits)
        return "I" if found < 0 else MESI_NAMES[c.state[found]]

    def set_lines(self, str level, uint32_t set_index, uint32_t hart=0):
        """The line addresses in each way of a set (None for an invalid way)."""
        cdef Cache* c = self._cache(level, hart)
        cdef uint32_t w, tag
        if set_index >= c.sets:
            raise ValueError(f"set {set_index} out of range ({c.sets} sets)")
        lines = []
        for w in range(c.ways):
            tag = c.tags[set_index * c.ways + w]
            lines.append(None if tag == NO_LINE else tag << c.line_bits)
        return lines

    def mshrs_busy(self, str level, uint64_t cycle, uint32_t hart=0):
        """How many of a level's MSHRs hold a fill that has not arrived at `cycle`."""
        return mshrs_busy(self._cache(level, hart), cycle)


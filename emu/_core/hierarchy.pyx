"""The cache hierarchy (hierarchy.pxd): the access path through the levels, the
coherent L1s (bus transactions, snoops, reservations; the protocol itself is
coherence.pxd's table), victims, back-invalidation and prefetch issue; counting a
profile's per-pc events; HierarchyModel, its Python face (the trace-driven mode's engine,
the tests' handle and the profiles' source)."""

from collections import namedtuple

import numpy as np

cimport numpy as cnp
from libc.stdint cimport int32_t, int64_t, uint16_t
from libc.stdlib cimport calloc, free
from libc.string cimport memset

from emu._core.access cimport (ACCESS_ATOMIC, ACCESS_FETCH, ACCESS_LOAD, ACCESS_PREFETCH,
                               ACCESS_STORE)
from emu._core.cache cimport (MESI_E, MESI_I, MESI_M, MESI_S, NO_LINE, REPL_LRU, REPL_PLRU,
                              REPL_RANDOM, REPL_SRRIP, cache_count, cache_fill, cache_find,
                              cache_free, cache_init, cache_invalidate, cache_reset,
                              cache_touch, cache_victim, mshr_hold, mshr_start, mshrs_busy)
from emu._core.coherence cimport (ACT_BUS_RD, ACT_BUS_RDX, ACT_DOWNGRADE,
                                   ACT_FLUSH, ACT_INVALIDATE, ACT_REQUEST, ACT_SHARED,
                                   ACT_SILENT_UPGRADE, ACT_UPGRADE_MISS, ACT_WRITE,
                                   ACT_WRITEBACK, BUS_RD, BUS_RDX, BUS_REQUESTS, BUS_UPGR,
                                   COHERENCE_MAX_HARTS, EV_ACK, EV_BUS_RD, EV_DATA,
                                   EV_DATA_SHARED, EV_LOAD, EV_RECALL, EV_REPLACEMENT,
                                   CoherenceStats, SharingTable, Transition, access_event,
                                   bus_grant, coherence_free, coherence_init, coherence_reset,
                                   protocol_step, sharing_add_written, sharing_find,
                                   sharing_record, written_mask)
from emu._core.dram cimport dram_clear, dram_read, dram_write
from emu._core.prefetch cimport (PF_NEXT_LINE, PF_NONE, PF_STRIDE, PREFETCH_DEGREE_MAX,
                                 prefetch_candidates)
from emu._core.profile cimport (PROF_ACCESSES, PROF_CLASSES, PROF_CYCLES, PROF_LEVELS,
                                PROF_MISSES, PROFILE_COUNTERS, profile_class, profile_row)

from emu._core.coherence import BUS_REQUEST_NAMES, protocol_error

cnp.import_array()

#: Names of the levels, innermost first, as HierarchyModel and emu.cache use them.
LEVEL_NAMES = ("l1i", "l1d", "l2", "l3")
#: AccessKind values by name (the trace-driven mode's `kinds` use these numbers).
ACCESS_KIND_NUMBERS = {"load": ACCESS_LOAD, "store": ACCESS_STORE, "atomic": ACCESS_ATOMIC,
                       "fetch": ACCESS_FETCH, "prefetch": ACCESS_PREFETCH}
ACCESS_KIND_NAMES = tuple(sorted(ACCESS_KIND_NUMBERS, key=ACCESS_KIND_NUMBERS.get))
MESI_NAMES = {MESI_I: "I", MESI_S: "S", MESI_E: "E", MESI_M: "M"}
#: One line of the sharing table: its address, the harts that took part, those that
#: wrote it (and `masks`: {hart: written bytes, a bit per byte of lines up to 64 bytes,
#: else per line_size / 64 bytes}), copies invalidated and dirty copies supplied.
SharedLine = namedtuple("SharedLine", "line harts writers masks invalidations interventions")
#: A falsely shared line: written by several harts (`harts`), at disjoint `masks`.
FalseSharing = namedtuple("FalseSharing", "line harts masks")
#: Per-hart coherence counters (CoherenceStats in coherence.pxd) by name.
COHERENCE_COUNTERS = ("invalidations_sent", "invalidations_received", "interventions",
                      "downgrades", "upgrade_misses", "silent_upgrades", "bus_wait_cycles",
                      "reservations_broken")
#: The columns of HierarchyModel.profile_counts (profile.pxd's counters, in order):
#: accesses per class, misses per class in L1, L2 and L3, cycles per class.
PROFILE_COUNTER_NAMES = ("Ir", "Dr", "Dw", "I1mr", "D1mr", "D1mw", "I2mr", "D2mr", "D2mw",
                         "I3mr", "D3mr", "D3mw", "Icycles", "Drcycles", "Dwcycles")
assert len(PROFILE_COUNTER_NAMES) == PROFILE_COUNTERS and PROF_LEVELS == 1 + MAX_OUTER_LEVELS

#: Most memory attach_profile gives a profile's counters.
PROFILE_MAX_BYTES = 1 << 30

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
    """Fill `p` from an emu.config.MemoryHierarchyConfig for `harts` harts (the bus
    latency and the sharing table's capacity take their defaults)."""
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
    p.bus_latency = BUS_LATENCY_DEFAULT
    p.sharing_lines = SHARING_LINES_DEFAULT
    return 0


cdef int hierarchy_init(Hierarchy* h, HierarchyParams* params) except -1:
    """Allocate an empty hierarchy (ValueError for impossible params). `*h` may be
    uninitialised memory; on failure nothing stays allocated."""
    cdef uint32_t hart, level
    cdef CacheParams one
    cdef uint32_t level_line
    if params.harts < 1 or params.harts > COHERENCE_MAX_HARTS:
        raise ValueError(f"a hierarchy needs 1..{COHERENCE_MAX_HARTS} harts, not {params.harts}")
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
    h.reservation_line = <uint32_t*>calloc(params.harts, sizeof(uint32_t))
    h.reservation_valid = <uint8_t*>calloc(params.harts, sizeof(uint8_t))
    try:
        if (h.l1i == NULL or h.l1d == NULL or h.reservation_line == NULL
                or h.reservation_valid == NULL):
            raise MemoryError()
        for hart in range(params.harts):
            one = params.l1i
            one.seed = cache_seed(params.l1i.seed, 0, hart, False)
            cache_init(&h.l1i[hart], one)
            h.l1i[hart].hart = hart
            one = params.l1d
            one.seed = cache_seed(params.l1d.seed, 0, hart, True)
            cache_init(&h.l1d[hart], one)
            h.l1d[hart].hart = hart
        for level in range(params.outer_levels):
            one = params.outer[level]
            one.seed = cache_seed(params.outer[level].seed, level + 1, 0, False)
            cache_init(&h.outer[level], one)
        # one hart never transfers a line between harts: no sharing table
        coherence_init(&h.coherence, params.harts, params.bus_latency,
                       params.sharing_lines if params.harts > 1 else 0)
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
    coherence_free(&h.coherence)
    free(h.reservation_line)
    free(h.reservation_valid)
    h.reservation_line = NULL
    h.reservation_valid = NULL


cdef void hierarchy_reset(Hierarchy* h) noexcept nogil:
    """Empty caches, idle DRAM and bus, no reservations, zero counters."""
    cdef uint32_t hart, level
    for hart in range(h.params.harts):
        cache_reset(&h.l1i[hart])
        cache_reset(&h.l1d[hart])
    for level in range(h.params.outer_levels):
        cache_reset(&h.outer[level])
    dram_clear(&h.dram)
    coherence_reset(&h.coherence)
    memset(h.reservation_valid, 0, h.params.harts * sizeof(uint8_t))
    h.reservations = 0
    memset(h.accesses, 0, sizeof(h.accesses))
    memset(h.latency_sum, 0, sizeof(h.latency_sum))
    if h.profile != NULL:
        memset(h.profile.counts, 0, <size_t>h.profile.harts * (h.profile.slots + 1)
               * PROFILE_COUNTERS * sizeof(uint64_t))


# ---- the access path: outer levels --------------------------------------------------

cdef inline uint64_t fetch_line(Hierarchy* h, uint32_t level, uint32_t addr, uint32_t pc,
                                uint32_t kind, uint64_t t, uint64_t* version) noexcept nogil:
    """The cycle the line holding `addr` arrives from `level` (>= 1), asked at cycle t;
    its data version goes to *version (DRAM keeps none: 0)."""
    if level > h.params.outer_levels:
        version[0] = 0
        return dram_read(&h.dram, t)
    return level_access(h, &h.outer[level - 1], level, addr, pc, kind, t, version)


cdef inline uint64_t hit(Cache* c, uint32_t index, uint64_t t, bint demand, bint* trigger) noexcept nogil:
    """A hit on way `index` at cycle t: the cycle its data is there (a fill still on
    the way makes the access wait with it), and whether it triggers the prefetcher (the
    first demand use of a prefetched line)."""
    cdef uint64_t ready = t + c.hit_latency
    cache_touch(c, index)
    if c.ready[index] > t:
        c.stats.mshr_merges += 1
        if c.ready[index] > ready:
            ready = c.ready[index]
    trigger[0] = demand and c.prefetched[index]
    if trigger[0]:
        c.prefetched[index] = 0
        c.stats.prefetches_useful += 1
    return ready


cdef uint64_t level_access(Hierarchy* h, Cache* c, uint32_t level, uint32_t addr, uint32_t pc,
                           uint32_t kind, uint64_t t, uint64_t* version) noexcept nogil:
    """A request of AccessKind `kind` for `addr` reaching the shared cache `c` (at
    `level` >= 1) at cycle t: look it up, on a miss fetch the line from outside and
    install it, then let the prefetcher act. Returns the cycle the data is available
    to the requester; its version goes to *version."""
    cdef uint32_t line = addr >> c.line_bits
    cdef int32_t found = cache_find(c, line)
    cdef uint32_t index
    cdef uint64_t ready
    cdef bint demand = kind != ACCESS_PREFETCH
    cdef bint trigger = True
    cache_count(c, line, kind, found >= 0)
    if found >= 0:
        index = <uint32_t>found
        ready = hit(c, index, t, demand, &trigger)
        version[0] = c.version[index]
    else:
        ready = fetch_line(h, level + 1, addr, pc, kind, mshr_start(c, t + c.hit_latency), version)
        mshr_hold(c, line, ready)
        cache_fill(c, make_room(h, c, level, line, t), line, MESI_E, ready, False, version[0])
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
    """Remove the valid line in way `index` of `c` at cycle t (an L1's: a Replacement
    event; a shared level's: first from every inner level when inclusive), then write
    it outwards if it (or an inner copy) was dirty."""
    cdef uint32_t addr = c.tags[index] << c.line_bits
    cdef uint64_t version = c.version[index]
    cdef bint dirty
    c.stats.evictions += 1
    if level == 0:
        dirty = l1_remove(h, c, index, EV_REPLACEMENT)
    else:
        dirty = c.state[index] == MESI_M
        if c.prefetched[index]:
            c.stats.prefetches_unused += 1
        if h.params.inclusive and back_invalidate(h, level, addr, 1U << c.line_bits, &version):
            dirty = True
        cache_invalidate(c, index)
    if dirty:
        c.stats.writebacks += 1
        writeback(h, level + 1, addr, version, t)


cdef bint back_invalidate(Hierarchy* h, uint32_t level, uint32_t addr, uint32_t size,
                          uint64_t* version) noexcept nogil:
    """Remove the bytes [addr, addr + size) from every cache inside `level`; True when a
    removed copy was dirty (its data goes out with the outer line, and *version becomes
    the newest such copy's if that is newer)."""
    cdef bint dirty = False
    cdef uint32_t inner, hart
    for inner in range(1, level):
        if drop_lines(h, &h.outer[inner - 1], False, addr, size, version):
            dirty = True
    for hart in range(h.params.harts):
        if drop_lines(h, &h.l1i[hart], True, addr, size, version):
            dirty = True
        if drop_lines(h, &h.l1d[hart], True, addr, size, version):
            dirty = True
    return dirty


cdef bint drop_lines(Hierarchy* h, Cache* c, bint l1, uint32_t addr, uint32_t size,
                     uint64_t* version) noexcept nogil:
    """Invalidate c's lines within [addr, addr + size) (an outer line may span several of
    c's; an L1's copies meet a Recall event); True when one was dirty (*version: the
    newest dirty one's, if newer)."""
    cdef bint dirty = False, was_dirty
    cdef uint32_t line = addr >> c.line_bits
    cdef uint32_t count = size >> c.line_bits
    cdef uint64_t copy_version
    cdef int32_t found
    while count > 0:
        found = cache_find(c, line)
        if found >= 0:
            c.stats.back_invalidations += 1
            copy_version = c.version[found]
            if l1:
                was_dirty = l1_remove(h, c, <uint32_t>found, EV_RECALL)
            else:
                was_dirty = c.state[found] == MESI_M
                if c.prefetched[found]:
                    c.stats.prefetches_unused += 1
                cache_invalidate(c, <uint32_t>found)
            if was_dirty:
                c.stats.writebacks += 1
                dirty = True
                if copy_version > version[0]:
                    version[0] = copy_version
        line += 1
        count -= 1
    return dirty


cdef void writeback(Hierarchy* h, uint32_t level, uint32_t addr, uint64_t version,
                    uint64_t t) noexcept nogil:
    """A dirty line holding data `version` from the level inside reaches `level` at
    cycle t. It is a whole line, so a miss allocates it without fetching anything; a hit
    makes the line dirty without counting as a use for replacement (ChampSim and
    pycachesim do the same)."""
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
        if version > c.version[found]:      # an outer line may hold several inner ones
            c.version[found] = version
        return
    c.stats.writeback_misses += 1
    cache_fill(c, make_room(h, c, level, line, t), line, MESI_M, t, False, version)


cdef void prefetch(Hierarchy* h, Cache* c, uint32_t level, uint32_t addr, uint32_t pc,
                   bint trigger, uint64_t t) noexcept nogil:
    """Issue c's prefetcher's candidates after a demand access at cycle t: each line not
    present yet is fetched like a miss (in an L1: a load's miss, over the bus), but only
    into a free MSHR (a prefetch never stalls; without one it is dropped) and marked
    prefetched."""
    cdef uint32_t lines[PREFETCH_DEGREE_MAX]
    cdef uint32_t n = prefetch_candidates(&c.prefetcher, pc, addr, c.line_bits, trigger, lines)
    cdef uint32_t k, line, index
    cdef uint16_t actions = 0               # a read's fill does nothing more
    cdef uint64_t issue = t + c.hit_latency, ready, version
    for k in range(n):
        line = lines[k]
        if cache_find(c, line) >= 0:
            continue
        if c.mshrs[0].fill > issue:         # the MSHR that frees first is busy: all are
            c.stats.prefetches_dropped += 1
            continue
        c.stats.prefetches_issued += 1
        if level == 0:
            l1_miss(h, c, line << c.line_bits, pc, ACCESS_PREFETCH,
                    protocol_step(&h.coherence, MESI_I, EV_LOAD), issue, t, True, &index,
                    &actions)
        else:
            ready = fetch_line(h, level + 1, line << c.line_bits, pc, ACCESS_PREFETCH, issue,
                               &version)
            mshr_hold(c, line, ready)
            cache_fill(c, make_room(h, c, level, line, t), line, MESI_E, ready, True, version)


# ---- the access path: the coherent L1s ----------------------------------------------

cdef uint64_t l1_access(Hierarchy* h, Cache* c, uint32_t addr, uint32_t width, uint32_t pc,
                        uint32_t kind, uint64_t t) noexcept nogil:
    """An access of AccessKind `kind` (a write of `width` bytes) by c's hart to its L1
    `c` at cycle t: one protocol step for the access, a bus transaction and its
    response when the step asks for one, then the write. Returns the cycle the data is
    usable (a write: the line is held in M)."""
    cdef uint32_t line = addr >> c.line_bits
    cdef int32_t found = cache_find(c, line)
    cdef uint32_t index, response
    cdef Transition step = protocol_step(&h.coherence, c.state[found] if found >= 0 else MESI_I,
                                         access_event(kind))
    cdef uint16_t actions = step.actions
    cdef uint64_t ready, done, version
    cdef bint demand = kind != ACCESS_PREFETCH
    cdef bint trigger = True
    cache_count(c, line, kind, found >= 0)
    if found >= 0:
        index = <uint32_t>found
        ready = hit(c, index, t, demand, &trigger)
        if actions & ACT_REQUEST:           # a write to an S copy: BusUpgr, then its ack
            done = bus_transaction(h, c, addr, actions, pc, kind,
                                   mshr_start(c, t + c.hit_latency), &version, &response)
            mshr_hold(c, line, done)
            step = protocol_step(&h.coherence, step.next, response)
            actions |= step.actions
            if done > ready:
                ready = done
        c.state[index] = step.next
    else:
        ready = l1_miss(h, c, addr, pc, kind, step, mshr_start(c, t + c.hit_latency), t,
                        False, &index, &actions)
    if actions & ACT_UPGRADE_MISS:
        h.coherence.harts[c.hart].upgrade_misses += 1
    if actions & ACT_SILENT_UPGRADE:
        h.coherence.harts[c.hart].silent_upgrades += 1
    if actions & ACT_WRITE:
        l1_write(h, c, index, addr, width)
    if demand and c.prefetcher.kind != PF_NONE:
        prefetch(h, c, 0, addr, pc, trigger, t)
    return ready


cdef inline uint64_t l1_miss(Hierarchy* h, Cache* c, uint32_t addr, uint32_t pc,
                             uint32_t kind, Transition step, uint64_t issue, uint64_t t,
                             bint prefetched, uint32_t* index,
                             uint16_t* actions) noexcept nogil:
    """Bring the line of `addr` into L1 `c`, which misses it. `step` is the access's
    protocol step from I: the request it issues goes on the bus at cycle `issue`, and
    the response's step from the transient state it names gives the state the line is
    filled in (after evicting a victim at cycle t); the response's actions are added to
    *actions. Returns the fill cycle; *index is the way."""
    cdef uint32_t line = addr >> c.line_bits
    cdef uint32_t response
    cdef uint64_t version
    cdef uint64_t ready = bus_transaction(h, c, addr, step.actions, pc, kind, issue, &version,
                                          &response)
    step = protocol_step(&h.coherence, step.next, response)
    actions[0] |= step.actions
    mshr_hold(c, line, ready)
    index[0] = make_room(h, c, 0, line, t)
    cache_fill(c, index[0], line, step.next, ready, prefetched, version)
    c.written[index[0]] = 0
    return ready


cdef inline uint64_t bus_transaction(Hierarchy* h, Cache* c, uint32_t addr,
                                     uint16_t request_actions, uint32_t pc, uint32_t kind,
                                     uint64_t t, uint64_t* version,
                                     uint32_t* response) noexcept nogil:
    """The request `request_actions` asks for (ACT_BUS_RD, ACT_BUS_RDX or ACT_BUS_UPGR)
    for the line of `addr`, from L1 `c`, at cycle t: the other harts' L1s snoop it once
    the bus is granted and held, then the data comes from a dirty copy or from the L2 (a
    BusUpgr needs none). Writes the response event and the data's version; returns the
    cycle the response reaches `c`."""
    cdef uint32_t request = (BUS_RD if request_actions & ACT_BUS_RD else
                             BUS_RDX if request_actions & ACT_BUS_RDX else BUS_UPGR)
    cdef uint32_t size = 1U << c.line_bits
    cdef uint32_t base = addr & ~(size - 1)
    cdef uint32_t other
    cdef uint64_t done
    cdef Snoop s
    if h.params.harts == 1:             # nothing to snoop: no bus
        response[0] = EV_DATA
        return fetch_line(h, 1, addr, pc, kind, t, version)
    s.shared = False
    s.supplied = False
    s.version = 0
    done = bus_grant(&h.coherence.bus, request, t)
    h.coherence.harts[c.hart].requests[request] += 1
    h.coherence.harts[c.hart].bus_wait_cycles += done - t
    done += h.coherence.bus.latency
    for other in range(h.params.harts):
        if other != c.hart:
            snoop(h, &h.l1i[other], c.hart, request, base, size, done, &s)
            snoop(h, &h.l1d[other], c.hart, request, base, size, done, &s)
    version[0] = s.version
    if request == BUS_UPGR:
        response[0] = EV_ACK
        return done
    response[0] = EV_DATA_SHARED if s.shared else EV_DATA
    if s.supplied:
        return s.ready
    return fetch_line(h, 1, addr, pc, kind, done, version)


cdef void snoop(Hierarchy* h, Cache* c, uint32_t requester, uint32_t request, uint32_t addr,
                uint32_t size, uint64_t t, Snoop* s) noexcept nogil:
    """Another hart's L1 `c` sees BusRequest `request` from hart `requester` for the bytes
    [addr, addr + size) at cycle t (the end of the transaction's snoop phase): each copy
    of them it holds takes one protocol step."""
    cdef uint32_t line = addr >> c.line_bits
    cdef uint32_t count = size >> c.line_bits
    cdef int32_t found
    if count == 0:
        count = 1           # c's lines are larger: the one holding those bytes
    while count > 0:
        found = cache_find(c, line)
        if found >= 0:
            snooped(h, c, <uint32_t>found, requester,
                    protocol_step(&h.coherence, c.state[found], EV_BUS_RD + request), t, s)
        line += 1
        count -= 1


cdef void snooped(Hierarchy* h, Cache* c, uint32_t index, uint32_t requester, Transition step,
                  uint64_t t, Snoop* s) noexcept nogil:
    """Carry out a snooped protocol step on way `index` of another hart's L1 `c`."""
    cdef CoherenceStats* stats = &h.coherence.harts[c.hart]
    if step.actions & ACT_SHARED:
        s.shared = True
    if step.actions & ACT_FLUSH:        # its data, once its own fill is there, plus a read
        s.supplied = True
        s.ready = (t if t > c.ready[index] else c.ready[index]) + c.hit_latency
        s.version = c.version[index]
        stats.interventions += 1
    if step.actions & ACT_WRITEBACK:
        c.stats.writebacks += 1
        writeback(h, 1, c.tags[index] << c.line_bits, c.version[index], t)
    if step.actions & ACT_INVALIDATE:
        stats.invalidations_received += 1
        h.coherence.harts[requester].invalidations_sent += 1
    if step.actions & ACT_DOWNGRADE:
        stats.downgrades += 1
    if step.actions & (ACT_FLUSH | ACT_INVALIDATE):
        note_sharing(h, c, index, requester, step.actions)
    if step.next == MESI_I:
        if c.prefetched[index]:
            c.stats.prefetches_unused += 1
        cache_invalidate(c, index)
    else:
        c.state[index] = step.next
    c.written[index] = 0                    # clean or gone (its bytes went to the sharing table)


cdef inline uint32_t sharing_line(Hierarchy* h, Cache* c, uint32_t index) noexcept nogil:
    """The sharing table's line number (an L1D line) of way `index` of L1 `c`."""
    return (c.tags[index] << c.line_bits) >> h.l1d[0].line_bits


cdef void note_sharing(Hierarchy* h, Cache* c, uint32_t index, uint32_t requester,
                       uint16_t actions) noexcept nogil:
    """Another hart's request invalidated way `index` of L1 `c` or took its dirty data:
    record the line, both harts, the event and the bytes c's hart wrote to it."""
    cdef SharingTable* table = &h.coherence.sharing
    cdef int32_t slot = sharing_record(table, sharing_line(h, c, index))
    if slot < 0:
        return
    table.records[slot].harts |= (1ULL << requester) | (1ULL << c.hart)
    if actions & ACT_INVALIDATE:
        table.records[slot].invalidations += 1
    if actions & ACT_FLUSH:
        table.records[slot].interventions += 1
    sharing_add_written(table, <uint32_t>slot, c.hart, c.written[index])


cdef inline bint l1_remove(Hierarchy* h, Cache* c, uint32_t index, uint32_t event) noexcept nogil:
    """A Replacement or Recall `event` on the valid way `index` of L1 `c`: the bytes its
    hart wrote go to the line's sharing record if it has one, and the way empties. True
    when the protocol sends the dirty data outwards."""
    cdef Transition step = protocol_step(&h.coherence, c.state[index], event)
    cdef int32_t slot
    if c.written[index] != 0:
        slot = sharing_find(&h.coherence.sharing, sharing_line(h, c, index))
        if slot >= 0:
            sharing_add_written(&h.coherence.sharing, <uint32_t>slot, c.hart, c.written[index])
    if c.prefetched[index]:
        c.stats.prefetches_unused += 1
    cache_invalidate(c, index)
    c.written[index] = 0
    return (step.actions & ACT_WRITEBACK) != 0


cdef inline void l1_write(Hierarchy* h, Cache* c, uint32_t index, uint32_t addr,
                          uint32_t width) noexcept nogil:
    """The write of `width` bytes at addr to way `index` of L1D `c`, held in M: a new
    data version, the bytes noted, other harts' reservations on the line ended."""
    cdef uint32_t line, hart
    h.coherence.version_clock += 1
    c.version[index] = h.coherence.version_clock
    c.written[index] |= written_mask(c.line_bits, addr, width)
    if h.reservations == 0:
        return
    line = addr >> c.line_bits
    for hart in range(h.params.harts):
        if hart != c.hart and h.reservation_valid[hart] and h.reservation_line[hart] == line:
            h.reservation_valid[hart] = 0
            h.reservations -= 1
            h.coherence.harts[hart].reservations_broken += 1


cdef inline uint64_t demand_access(Hierarchy* h, Cache* l1, uint32_t pc, uint32_t addr,
                                   uint32_t width, uint32_t kind, uint64_t now) noexcept nogil:
    """One demand access through L1 `l1`, counted per kind: its latency in cycles."""
    cdef uint64_t latency = l1_access(h, l1, addr, width, pc, kind, now) - now
    h.accesses[kind] += 1
    h.latency_sum[kind] += latency
    return latency


cdef uint64_t profiled_access(Hierarchy* h, Cache* l1, uint32_t hart, uint32_t pc,
                              uint32_t addr, uint32_t width, uint32_t kind,
                              uint64_t now) noexcept nogil:
    """demand_access, also counted in the profile at pc's row. Each level looks a demand
    access up at most once, under its own kind (prefetches go by ACCESS_PREFETCH,
    writebacks are not lookups), so the growth of a level's misses[kind] across the
    access is whether the access missed there."""
    cdef uint64_t misses[PROF_LEVELS]
    cdef uint32_t level, levels = 1 + h.params.outer_levels
    cdef uint32_t cls = profile_class(kind)
    cdef uint64_t* row = profile_row(h.profile, hart, pc)
    cdef uint64_t latency
    misses[0] = l1.stats.misses[kind]
    for level in range(1, levels):
        misses[level] = h.outer[level - 1].stats.misses[kind]
    latency = demand_access(h, l1, pc, addr, width, kind, now)
    row[PROF_ACCESSES + cls] += 1
    row[PROF_CYCLES + cls] += latency
    row[PROF_MISSES + cls] += l1.stats.misses[kind] - misses[0]
    for level in range(1, levels):
        row[PROF_MISSES + PROF_CLASSES * level + cls] += (h.outer[level - 1].stats.misses[kind]
                                                          - misses[level])
    return latency


cdef uint32_t hierarchy_access_bytes(Hierarchy* h, uint32_t hart, uint32_t pc, uint32_t addr,
                                     uint32_t width, uint32_t kind, uint64_t now) noexcept nogil:
    """Cycles from issuing an access of AccessKind `kind` at cycle `now` until its data is
    usable (a store or atomic: until its line is held in M). A store or atomic writes
    `width` bytes at addr (the false-sharing report's byte offsets); loads and fetches
    ignore it. `pc` is the instruction's (the stride prefetchers key on it, a profile
    counts the access at it; 0: unknown)."""
    cdef Cache* l1 = &h.l1i[hart] if kind == ACCESS_FETCH else &h.l1d[hart]
    cdef uint64_t latency
    if h.profile == NULL:
        latency = demand_access(h, l1, pc, addr, width, kind, now)
    else:
        latency = profiled_access(h, l1, hart, pc, addr, width, kind, now)
    return <uint32_t>latency if latency < 0xFFFFFFFFU else 0xFFFFFFFFU


cdef uint32_t hierarchy_access_pc(Hierarchy* h, uint32_t hart, uint32_t pc, uint32_t addr,
                                  uint32_t kind, uint64_t now) noexcept nogil:
    """hierarchy_access_bytes for a word: RV32's sw, AMOs, LR and SC (loads and fetches
    have no width)."""
    return hierarchy_access_bytes(h, hart, pc, addr, 4, kind, now)


# ---- DMA -----------------------------------------------------------------------------

cdef void hierarchy_dma_write(Hierarchy* h, uint32_t addr, uint32_t length) noexcept nogil:
    cdef uint32_t outermost = h.params.outer_levels     # the last shared level, outer[-1]
    cdef uint32_t line_bits = h.outer[outermost - 1].line_bits
    cdef uint64_t first = <uint64_t>(addr >> line_bits) << line_bits
    cdef uint64_t end = <uint64_t>addr + length
    cdef uint64_t version = 0
    cdef uint32_t hart
    if length == 0:
        return
    end = ((end + (1U << line_bits) - 1) >> line_bits) << line_bits
    if end > (<uint64_t>1 << 32):
        end = <uint64_t>1 << 32
    # Everything inside DRAM, i.e. every level: no writeback, the device's data wins.
    back_invalidate(h, outermost + 1, <uint32_t>first, <uint32_t>(end - first), &version)
    for hart in range(h.params.harts):
        if h.reservation_valid[hart] and \
                first >> h.l1d[hart].line_bits <= h.reservation_line[hart] < end >> h.l1d[hart].line_bits:
            h.reservation_valid[hart] = 0
            h.reservations -= 1
            h.coherence.harts[hart].reservations_broken += 1


# ---- LR/SC reservations -------------------------------------------------------------

cdef void hierarchy_reserve(Hierarchy* h, uint32_t hart, uint32_t addr) noexcept nogil:
    """`hart`'s LR reserves the L1D line of addr (replacing the one it held)."""
    if not h.reservation_valid[hart]:
        h.reservations += 1
    h.reservation_valid[hart] = 1
    h.reservation_line[hart] = addr >> h.l1d[hart].line_bits


cdef bint hierarchy_reservation_held(Hierarchy* h, uint32_t hart, uint32_t addr) noexcept nogil:
    """True while `hart` holds a reservation on the L1D line of addr (no other hart has
    written the line since hierarchy_reserve)."""
    return (h.reservation_valid[hart] != 0
            and h.reservation_line[hart] == addr >> h.l1d[hart].line_bits)


cdef void hierarchy_release(Hierarchy* h, uint32_t hart) noexcept nogil:
    """`hart` gives up its reservation (an SC, successful or not, or a trap)."""
    if h.reservation_valid[hart]:
        h.reservation_valid[hart] = 0
        h.reservations -= 1


cdef void hierarchy_run(Hierarchy* h, size_t n, const uint32_t* addrs, const uint8_t* kinds,
                        const uint64_t* cycles, uint64_t first_cycle, const uint32_t* harts,
                        const uint32_t* pcs, const uint8_t* widths,
                        uint32_t* latencies) noexcept nogil:
    """The trace-driven mode: access i is (addrs[i], kinds[i]) at cycle cycles[i] (or
    first_cycle + i when cycles is NULL) from hart harts[i] (0 when NULL) at pc pcs[i]
    (0 when NULL), writing widths[i] bytes (4 when NULL); its latency goes to
    latencies[i] unless that is NULL."""
    cdef size_t i
    cdef uint32_t latency
    for i in range(n):
        latency = hierarchy_access_bytes(h, harts[i] if harts != NULL else 0,
                                         pcs[i] if pcs != NULL else 0, addrs[i],
                                         widths[i] if widths != NULL else 4, kinds[i],
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
    methods (`stats`, `set_counts`, `state`, `set_lines`, `mshrs_busy`, `coherence_stats`,
    `sharing`, `false_sharing`, `version`) are the slow path, for tests and reports;
    `attach_profile` makes every access also count at its pc (`profile_counts`). Levels are
    named "l1i", "l1d" (with a `hart`), "l2" and "l3". With several harts the L1s are
    kept coherent over a snooping bus that holds `bus_latency` cycles per transaction;
    the sharing table records up to `sharing_lines` lines. An impossible protocol step
    raises coherence.ProtocolError from the access (or run) that met it."""

    def __cinit__(self, config, harts=1, bus_latency=None, sharing_lines=None):
        cdef HierarchyParams params
        hierarchy_params(&params, config, harts)
        if bus_latency is not None:
            if not 0 <= bus_latency <= 100_000:
                raise ValueError(f"bus_latency must be 0..100000, not {bus_latency}")
            params.bus_latency = bus_latency
        if sharing_lines is not None:
            if sharing_lines < 0:
                raise ValueError(f"sharing_lines must not be negative, not {sharing_lines}")
            params.sharing_lines = sharing_lines
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

    def _raise_protocol_errors(self):
        if self.h.coherence.errors > self.errors_raised:
            self.errors_raised = self.h.coherence.errors
            raise protocol_error(self.h.coherence.error_state, self.h.coherence.error_event)

    def access(self, uint32_t addr, kind="load", cycle=None, uint32_t hart=0, uint32_t pc=0,
               uint32_t width=4):
        """Latency in cycles of one access at `cycle` (default: one after the last); a
        store or atomic writes `width` bytes."""
        cdef uint64_t now = self.last_cycle + 1 if cycle is None else cycle
        cdef uint32_t k = _kind_number(kind)
        if hart >= self.harts:
            raise ValueError(f"hart {hart} out of range (harts={self.harts})")
        if cycle is not None and cycle < self.last_cycle:
            raise ValueError(f"cycle {cycle} is before the last access ({self.last_cycle})")
        self.last_cycle = now
        latency = hierarchy_access_bytes(&self.h, hart, pc, addr, width, k, now)
        self._raise_protocol_errors()
        return latency

    def run(self, addresses, kinds, cycles=None, harts=None, pcs=None, widths=None,
            bint latencies=False):
        """Run a trace: uint32 addresses, uint8 kinds (0 load, 1 store, 2 atomic, 3 fetch),
        optional non-decreasing uint64 cycles (default: one access per cycle from `cycle`),
        uint32 harts and pcs, uint8 widths (bytes a store writes; default 4). Returns the
        uint32 latencies when asked, else None."""
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
        width_array = _array(widths, np.uint8, n, "widths")
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
        cdef const uint8_t[::1] width_view
        cdef uint32_t[::1] out_view
        cdef const uint64_t* cycle_p = NULL
        cdef const uint32_t* hart_p = NULL
        cdef const uint32_t* pc_p = NULL
        cdef const uint8_t* width_p = NULL
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
        if width_array is not None:
            width_view = width_array
            width_p = &width_view[0]
        if out is not None:
            out_view = out
            out_p = &out_view[0]
        with nogil:
            hierarchy_run(&self.h, n, &addr_view[0], &kind_view[0], cycle_p, first, hart_p,
                          pc_p, width_p, out_p)
        self.last_cycle = int(cycle_array[n - 1]) if cycle_array is not None else first + n - 1
        self._raise_protocol_errors()
        return out

    def reset(self):
        """Empty every cache, idle the DRAM and the bus, drop every reservation, zero every
        counter and the clock."""
        hierarchy_reset(&self.h)
        self.last_cycle = -1
        self.errors_raised = 0

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
            **dict(zip(("set_hits", "set_misses"), self.set_counts(level, hart))),
        }

    def set_counts(self, str level, uint32_t hart=0):
        """(hits, misses) of one cache, per set: two uint64 arrays (copies) of its
        number of sets."""
        cdef Cache* c = self._cache(level, hart)
        return (np.array(<uint64_t[:c.sets]>c.set_hits, np.uint64),
                np.array(<uint64_t[:c.sets]>c.set_misses, np.uint64))

    def dram_stats(self):
        d = self.h.dram
        return {"reads": d.reads, "writes": d.writes, "read_queue_cycles": d.read_queue_cycles,
                "busy_cycles": d.busy_cycles, "transfer_cycles": d.transfer_cycles}

    def demand_stats(self):
        """(accesses, latency_sum) per AccessKind, as uint64 arrays."""
        cdef uint32_t k
        return (np.array([self.h.accesses[k] for k in range(ACCESS_KINDS)], np.uint64),
                np.array([self.h.latency_sum[k] for k in range(ACCESS_KINDS)], np.uint64))

    # ---- profiling (profile.pxd) ----

    def attach_profile(self, uint32_t base, uint64_t size):
        """Count every demand access from now on at the instruction that made it: per
        hart, one row per 4-byte slot of the pcs [base, base + size), and one more row
        for every other pc. The counters start at zero (an earlier profile is dropped);
        `reset` zeroes them again."""
        if size == 0 or size > (1 << 32) - base:
            raise ValueError(f"the profiled range [{base:#x}, {base:#x} + {size:#x}) must be "
                             "non-empty and within the 32-bit address space")
        cdef uint64_t slots = (size + 3) // 4
        counters = self.harts * (slots + 1) * PROFILE_COUNTERS
        if counters * sizeof(uint64_t) > PROFILE_MAX_BYTES:
            raise ValueError(f"profiling {size:#x} bytes of code for {self.harts} harts needs "
                             f"{counters * sizeof(uint64_t) >> 20} MiB of counters (at most "
                             f"{PROFILE_MAX_BYTES >> 20}): profile a smaller range")
        array = np.zeros((self.harts, slots + 1, PROFILE_COUNTERS), np.uint64)
        cdef uint64_t[:, :, ::1] view = array
        self.h.profile = NULL
        self.profile_array = array
        self.profile_data.base = base
        self.profile_data.slots = <uint32_t>slots
        self.profile_data.harts = self.harts
        self.profile_data.counts = &view[0, 0, 0]
        self.h.profile = &self.profile_data

    def detach_profile(self):
        """Stop counting per instruction (the counters so far are dropped)."""
        self.h.profile = NULL
        self.profile_array = None

    @property
    def profile_range(self):
        """(base, slots) of the attached profile, or None without one."""
        if self.h.profile == NULL:
            return None
        return self.profile_data.base, self.profile_data.slots

    def profile_counts(self, hart=None):
        """The attached profile's counters (a copy): uint64, shape (slots + 1, columns
        PROFILE_COUNTER_NAMES). Row i counts the pc base + 4 * i, the last row every pc
        outside the range; summed over the harts, or `hart`'s only."""
        if self.h.profile == NULL:
            raise ValueError("no profile attached (attach_profile first)")
        if hart is None:
            return self.profile_array.sum(axis=0, dtype=np.uint64)
        if not 0 <= hart < self.harts:
            raise ValueError(f"hart {hart} out of range (harts={self.harts})")
        return self.profile_array[hart].copy()

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


    def version(self, str level, uint32_t addr, uint32_t hart=0):
        """The data version of a level's copy of the line holding `addr` (each write makes
        the next one; 0: never written, or refilled from DRAM, which keeps none), or None
        when the level does not hold it."""
        cdef Cache* c = self._cache(level, hart)
        cdef int32_t found = cache_find(c, addr >> c.line_bits)
        return None if found < 0 else c.version[found]

    # ---- coherence ----

    def coherence_stats(self):
        """Coherence counters: per hart (uint64 arrays indexed by hart) the names in
        COHERENCE_COUNTERS and `requests` (shape harts x 3: BusRd, BusRdX, BusUpgr issued);
        `bus`: transactions by request name, wait and busy cycles; `sharing_lines` (lines
        recorded) and `sharing_overflow` (events on lines the full table could not
        record)."""
        cdef uint32_t hart, r
        cdef CoherenceStats* s
        stats = {name: np.zeros(self.harts, np.uint64) for name in COHERENCE_COUNTERS}
        requests = np.zeros((self.harts, BUS_REQUESTS), np.uint64)
        for hart in range(self.harts):
            s = &self.h.coherence.harts[hart]
            for name, value in (("invalidations_sent", s.invalidations_sent),
                                ("invalidations_received", s.invalidations_received),
                                ("interventions", s.interventions),
                                ("downgrades", s.downgrades),
                                ("upgrade_misses", s.upgrade_misses),
                                ("silent_upgrades", s.silent_upgrades),
                                ("bus_wait_cycles", s.bus_wait_cycles),
                                ("reservations_broken", s.reservations_broken)):
                stats[name][hart] = value
            for r in range(BUS_REQUESTS):
                requests[hart, r] = s.requests[r]
        bus = self.h.coherence.bus
        stats["requests"] = requests
        stats["bus"] = {"transactions": {BUS_REQUEST_NAMES[r]: bus.transactions[r]
                                         for r in range(BUS_REQUESTS)},
                        "wait_cycles": bus.wait_cycles, "busy_cycles": bus.busy_cycles,
                        "latency": bus.latency}
        stats["sharing_lines"] = self.h.coherence.sharing.used
        stats["sharing_overflow"] = self.h.coherence.sharing.overflow
        return stats

    def sharing(self):
        """The sharing table: a SharedLine per line that moved between harts because of a
        write, by address. Each hart's mask also has the bytes its L1D copy holds
        written now (not yet folded into the table)."""
        cdef SharingTable* table = &self.h.coherence.sharing
        cdef uint32_t slot, hart, line_bits = self.h.l1d[0].line_bits
        cdef int32_t found
        cdef Cache* c
        lines = []
        for slot in range(table.slots):
            record = table.records[slot]
            if record.line == NO_LINE:
                continue
            masks = {}
            for hart in range(self.harts):
                mask = table.written[<uint64_t>slot * table.harts + hart]
                c = &self.h.l1d[hart]
                found = cache_find(c, record.line)
                if found >= 0:
                    mask |= c.written[found]
                if mask:
                    masks[hart] = mask
            lines.append(SharedLine(
                line=record.line << line_bits,
                harts=tuple(hart for hart in range(self.harts) if record.harts >> hart & 1),
                writers=tuple(masks), masks=masks, invalidations=record.invalidations,
                interventions=record.interventions))
        return sorted(lines)

    def false_sharing(self):
        """The falsely shared lines: written by at least two harts at pairwise disjoint
        bytes, as FalseSharing(line address, writer harts, {hart: byte mask})."""
        found = []
        for record in self.sharing():
            masks = list(record.masks.values())
            union = 0
            disjoint = True
            for mask in masks:
                disjoint = disjoint and not union & mask
                union |= mask
            if len(masks) >= 2 and disjoint:
                found.append(FalseSharing(record.line, record.writers, record.masks))
        return found

    # ---- LR/SC reservations (what the cores call through hierarchy_reserve & co.) ----

    def dma_write(self, uint32_t addr, uint32_t length):
        """A device wrote [addr, addr + length): drop every cached copy of those lines."""
        hierarchy_dma_write(&self.h, addr, length)

    def reserve(self, uint32_t hart, uint32_t addr):
        self._cache("l1d", hart)
        hierarchy_reserve(&self.h, hart, addr)

    def reservation_held(self, uint32_t hart, uint32_t addr):
        self._cache("l1d", hart)
        return hierarchy_reservation_held(&self.h, hart, addr)

    def release(self, uint32_t hart):
        self._cache("l1d", hart)
        hierarchy_release(&self.h, hart)

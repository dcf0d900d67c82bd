"""One cache level (cache.pxd): construction, teardown and reset. The per-access
operations are inline in cache.pxd."""

from libc.stdlib cimport calloc, free
from libc.string cimport memset

from emu._core.prefetch cimport (PF_STRIDE, PREFETCH_DEGREE_MAX, prefetcher_alloc,
                                 prefetcher_clear, prefetcher_free)
from emu._core.repl_random cimport random_seed


cdef bint _power_of_two(uint32_t value) noexcept nogil:
    return value != 0 and (value & (value - 1)) == 0


cdef int cache_init(Cache* c, CacheParams params) except -1:
    """Validate `params` (ValueError) and allocate an empty cache. `*c` may be
    uninitialised memory; on failure nothing stays allocated."""
    cdef uint32_t lines
    if not _power_of_two(params.line_size) or params.line_size < 4:
        raise ValueError(f"line_size must be a power of two >= 4, not {params.line_size}")
    if params.ways == 0 or params.size % (params.ways * params.line_size):
        raise ValueError(f"size {params.size} is not a multiple of ways * line_size "
                         f"({params.ways} * {params.line_size})")
    if not _power_of_two(params.size // (params.ways * params.line_size)):
        raise ValueError(f"the number of sets (size / (ways * line_size)) must be a power "
                         f"of two, not {params.size // (params.ways * params.line_size)}")
    if params.replacement > REPL_SRRIP:
        raise ValueError(f"unknown replacement policy {params.replacement}")
    if params.replacement == REPL_PLRU and (not _power_of_two(params.ways) or params.ways > 64):
        raise ValueError(f"tree PLRU needs a power-of-two number of ways <= 64, not {params.ways}")
    if params.mshrs == 0:
        raise ValueError("a cache needs at least one MSHR")
    if params.hit_latency == 0:
        raise ValueError("hit_latency must be at least 1")
    if params.prefetcher > PF_STRIDE:
        raise ValueError(f"unknown prefetcher {params.prefetcher}")
    if params.prefetch_degree == 0 or params.prefetch_degree > PREFETCH_DEGREE_MAX:
        raise ValueError(f"prefetch_degree must be 1..{PREFETCH_DEGREE_MAX}, "
                         f"not {params.prefetch_degree}")
    memset(c, 0, sizeof(Cache))
    c.params = params
    c.ways = params.ways
    c.sets = params.size // (params.ways * params.line_size)
    c.set_mask = c.sets - 1
    while (1U << c.line_bits) < params.line_size:
        c.line_bits += 1
    c.hit_latency = params.hit_latency
    lines = c.sets * c.ways
    c.tags = <uint32_t*>calloc(lines, sizeof(uint32_t))
    c.state = <uint8_t*>calloc(lines, sizeof(uint8_t))
    c.prefetched = <uint8_t*>calloc(lines, sizeof(uint8_t))
    c.ready = <uint64_t*>calloc(lines, sizeof(uint64_t))
    c.version = <uint64_t*>calloc(lines, sizeof(uint64_t))
    c.written = <uint64_t*>calloc(lines, sizeof(uint64_t))
    c.repl_line = <uint64_t*>calloc(lines, sizeof(uint64_t))
    c.repl_set = <uint64_t*>calloc(c.sets, sizeof(uint64_t))
    c.mshrs = <Mshr*>calloc(params.mshrs, sizeof(Mshr))
    c.set_valid = <uint32_t*>calloc(c.sets, sizeof(uint32_t))
    c.set_hits = <uint64_t*>calloc(c.sets, sizeof(uint64_t))
    c.set_misses = <uint64_t*>calloc(c.sets, sizeof(uint64_t))
    if (not prefetcher_alloc(&c.prefetcher, params.prefetcher, params.prefetch_degree)
            or c.tags == NULL or c.state == NULL or c.prefetched == NULL or c.ready == NULL
            or c.version == NULL or c.written == NULL
            or c.repl_line == NULL or c.repl_set == NULL or c.mshrs == NULL
            or c.set_valid == NULL or c.set_hits == NULL or c.set_misses == NULL):
        cache_free(c)
        raise MemoryError()
    cache_reset(c)
    return 0


cdef void cache_free(Cache* c) noexcept nogil:
    prefetcher_free(&c.prefetcher)
    free(c.tags)
    free(c.state)
    free(c.prefetched)
    free(c.ready)
    free(c.version)
    free(c.written)
    free(c.repl_line)
    free(c.repl_set)
    free(c.mshrs)
    free(c.set_valid)
    free(c.set_hits)
    free(c.set_misses)
    c.tags = NULL
    c.state = NULL
    c.prefetched = NULL
    c.ready = NULL
    c.version = NULL
    c.written = NULL
    c.repl_line = NULL
    c.repl_set = NULL
    c.mshrs = NULL
    c.set_valid = NULL
    c.set_hits = NULL
    c.set_misses = NULL


cdef void cache_reset(Cache* c) noexcept nogil:
    """Empty, idle and with zero counters: the state right after cache_init."""
    cdef uint32_t i, lines = c.sets * c.ways
    for i in range(lines):
        c.tags[i] = NO_LINE
    memset(c.state, MESI_I, lines * sizeof(uint8_t))
    memset(c.prefetched, 0, lines * sizeof(uint8_t))
    memset(c.ready, 0, lines * sizeof(uint64_t))
    memset(c.version, 0, lines * sizeof(uint64_t))
    memset(c.written, 0, lines * sizeof(uint64_t))
    memset(c.repl_line, 0, lines * sizeof(uint64_t))
    memset(c.repl_set, 0, c.sets * sizeof(uint64_t))
    c.repl_word = random_seed(c.params.seed) if c.params.replacement == REPL_RANDOM else 0
    memset(c.mshrs, 0, c.params.mshrs * sizeof(Mshr))
    prefetcher_clear(&c.prefetcher)
    memset(&c.stats, 0, sizeof(CacheStats))
    memset(c.set_valid, 0, c.sets * sizeof(uint32_t))
    memset(c.set_hits, 0, c.sets * sizeof(uint64_t))
    memset(c.set_misses, 0, c.sets * sizeof(uint64_t))

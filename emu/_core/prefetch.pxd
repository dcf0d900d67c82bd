"""Hardware prefetchers of one cache level: none, next-line, and a per-pc stride table.

A cache with a prefetcher calls `prefetch_candidates` after every demand access
(loads, stores, atomics, fetches; a prefetch request from an inner level trains
nothing) and issues a fill for each candidate line it does not hold yet (cache side:
hierarchy.pyx). Candidates are line numbers (address >> line_bits); none wraps past the
top of the 32-bit address space.

- PF_NEXT_LINE is Smith's tagged prefetch: a demand miss, or the first demand hit on a
  line a prefetch brought in (`trigger`), asks for the next `degree` lines. A sequential
  stream therefore misses once and then always finds its next line prefetched.
- PF_STRIDE is a reference prediction table (Chen & Baer) of STRIDE_ENTRIES entries,
  direct-mapped by pc and tagged with it. Each demand access of a pc compares its
  address with the last one: the same non-zero distance twice raises the confidence,
  another lowers it (and at zero replaces the stride). From STRIDE_CONFIDENT on, the
  lines of addr + k * stride for k = 1..degree are candidates (lines other than the
  accessed one, each once). Callers that know no pc pass 0: one entry then watches the
  whole access stream, which is a global stride detector.
"""

from libc.stdint cimport int32_t, int64_t, uint8_t, uint32_t
from libc.stdlib cimport calloc, free
from libc.string cimport memset


cdef enum PrefetcherKind:
    PF_NONE = 0
    PF_NEXT_LINE = 1
    PF_STRIDE = 2

cdef enum:
    STRIDE_ENTRIES = 64         # reference prediction table entries (a power of two)
    STRIDE_CONFIDENT = 2        # confidence from which a stride is prefetched
    STRIDE_CONFIDENCE_MAX = 3   # 2-bit saturating confidence
    PREFETCH_DEGREE_MAX = 16    # lines one access may ask for (config.py checks the degree)


cdef struct StrideEntry:
    uint32_t pc             # the instruction this entry follows
    uint32_t last_addr      # its previous access address
    int32_t stride          # the distance it predicts (bytes, signed)
    uint8_t confidence      # 0..STRIDE_CONFIDENCE_MAX
    uint8_t valid


cdef struct Prefetcher:
    uint32_t kind           # PrefetcherKind
    uint32_t degree         # candidate lines per trigger, 1..PREFETCH_DEGREE_MAX
    StrideEntry* table      # PF_STRIDE: STRIDE_ENTRIES entries; NULL otherwise


cdef inline bint prefetcher_alloc(Prefetcher* p, uint32_t kind, uint32_t degree) noexcept nogil:
    """Set up a cleared prefetcher; False when out of memory."""
    p.kind = kind
    p.degree = degree
    p.table = NULL
    if kind == PF_STRIDE:
        p.table = <StrideEntry*>calloc(STRIDE_ENTRIES, sizeof(StrideEntry))
        return p.table != NULL
    return True


cdef inline void prefetcher_free(Prefetcher* p) noexcept nogil:
    free(p.table)
    p.table = NULL


cdef inline void prefetcher_clear(Prefetcher* p) noexcept nogil:
    if p.table != NULL:
        memset(p.table, 0, STRIDE_ENTRIES * sizeof(StrideEntry))


cdef inline bint stride_train(Prefetcher* p, uint32_t pc, uint32_t addr) noexcept nogil:
    """Update pc's entry with this access; True when its stride is confident."""
    cdef StrideEntry* e = &p.table[(pc >> 2) & (STRIDE_ENTRIES - 1)]
    cdef int32_t distance
    if not e.valid or e.pc != pc:
        e.valid = 1
        e.pc = pc
        e.last_addr = addr
        e.stride = 0
        e.confidence = 0
        return False
    distance = <int32_t>(addr - e.last_addr)
    e.last_addr = addr
    if distance == e.stride and distance != 0:
        if e.confidence < STRIDE_CONFIDENCE_MAX:
            e.confidence += 1
    elif e.confidence > 0:
        e.confidence -= 1
    else:
        e.stride = distance
    return e.confidence >= STRIDE_CONFIDENT


cdef inline uint32_t prefetch_candidates(Prefetcher* p, uint32_t pc, uint32_t addr,
                                         uint32_t line_bits, bint trigger,
                                         uint32_t* lines) noexcept nogil:
    """Write the lines to prefetch after a demand access to `addr` into `lines` (room for
    PREFETCH_DEGREE_MAX) and return how many. `trigger`: the access missed or was the
    first demand hit on a prefetched line."""
    cdef uint32_t line = addr >> line_bits
    cdef uint32_t last_line = 0xFFFFFFFFU >> line_bits
    cdef uint32_t k, n = 0, candidate
    cdef int64_t target
    if p.kind == PF_NEXT_LINE:
        if trigger:
            for k in range(1, p.degree + 1):
                if line > last_line - k:
                    break
                lines[n] = line + k
                n += 1
    elif p.kind == PF_STRIDE:
        if stride_train(p, pc, addr):
            for k in range(1, p.degree + 1):
                target = <int64_t>addr + <int64_t>k * p.table[(pc >> 2) & (STRIDE_ENTRIES - 1)].stride
                if target < 0 or target > 0xFFFFFFFFLL:
                    break
                candidate = <uint32_t>target >> line_bits
                if candidate != line and (n == 0 or candidate != lines[n - 1]):
                    lines[n] = candidate
                    n += 1
    return n

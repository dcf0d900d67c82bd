"""SRRIP replacement (Jaleel et al., "High performance cache replacement using
re-reference interval prediction", ISCA 2010), with 2-bit re-reference prediction
values (RRPV) and hit priority.

A line's word is its RRPV: 0 means re-referenced soon, SRRIP_DISTANT far in the future.
A fill inserts at SRRIP_DISTANT - 1 ("long"), so a line used once (a scan) leaves
before lines that were hit; a hit sets 0. The victim is the lowest way whose RRPV is
SRRIP_DISTANT; when none is, every line of the set ages by the amount that makes the
oldest one distant (the paper's repeat-increment loop in one step). The set and policy
words are unused. See repl_lru.pxd for the shared interface.
"""

from libc.stdint cimport uint32_t, uint64_t

cdef enum:
    SRRIP_DISTANT = 3       # the largest 2-bit RRPV


cdef inline void srrip_touch(uint64_t* lines, uint64_t* set_word, uint32_t ways, uint32_t way,
                             uint64_t* policy) noexcept nogil:
    lines[way] = 0


cdef inline void srrip_insert(uint64_t* lines, uint64_t* set_word, uint32_t ways, uint32_t way,
                              uint64_t* policy) noexcept nogil:
    lines[way] = SRRIP_DISTANT - 1


cdef inline uint32_t srrip_victim(uint64_t* lines, uint64_t* set_word, uint32_t ways,
                                  uint64_t* policy) noexcept nogil:
    cdef uint32_t w, oldest = 0
    cdef uint64_t age
    for w in range(1, ways):
        if lines[w] > lines[oldest]:
            oldest = w
    age = SRRIP_DISTANT - lines[oldest]
    if age:
        for w in range(ways):
            lines[w] += age
    return oldest

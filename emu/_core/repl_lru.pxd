"""LRU replacement: the victim is the line whose last use is the oldest.

Every replacement policy (repl_lru, repl_plru, repl_random, repl_srrip) has the same
three functions over the same state, so cache.pxd can switch between them per access
without a Python call:

- `lines`: the set's per-way words (Cache.repl_line[set * ways:][:ways]),
- `set_word`: one word per set (Cache.repl_set[set]),
- `policy`: one word per cache (Cache.repl_word),

`*_touch` runs on a demand hit, `*_insert` when a line is filled into a way, and
`*_victim` picks the way to replace when every way of the set is valid (the cache
itself fills invalid ways first, lowest way first).

Here a line's word is the stamp of its last use, taken from a per-cache counter in
`policy`; a 64-bit counter does not wrap in any simulation. A hit is one store, a
victim search a scan of the set for the smallest stamp.
"""

from libc.stdint cimport uint32_t, uint64_t


cdef inline void lru_touch(uint64_t* lines, uint64_t* set_word, uint32_t ways, uint32_t way,
                           uint64_t* policy) noexcept nogil:
    policy[0] += 1
    lines[way] = policy[0]


cdef inline void lru_insert(uint64_t* lines, uint64_t* set_word, uint32_t ways, uint32_t way,
                            uint64_t* policy) noexcept nogil:
    lru_touch(lines, set_word, ways, way, policy)


cdef inline uint32_t lru_victim(uint64_t* lines, uint64_t* set_word, uint32_t ways,
                                uint64_t* policy) noexcept nogil:
    cdef uint32_t w, oldest = 0
    for w in range(1, ways):
        if lines[w] < lines[oldest]:
            oldest = w
    return oldest

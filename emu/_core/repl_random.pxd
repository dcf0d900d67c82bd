"""Random replacement, deterministic: the victim is drawn from a seeded xorshift64*.

The generator's state is the cache's policy word, seeded from the machine seed (mixed
with the level and hart by the hierarchy, so no two caches draw the same sequence), so
the same seed and trace give the same victims. Hits and fills change nothing. See
repl_lru.pxd for the shared interface.
"""

from libc.stdint cimport uint32_t, uint64_t


cdef inline uint64_t random_seed(uint64_t seed) noexcept nogil:
    """A non-zero xorshift state from any seed (one splitmix64 step)."""
    cdef uint64_t z = seed + 0x9E3779B97F4A7C15ULL
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL
    z = z ^ (z >> 31)
    return z if z != 0 else 1


cdef inline uint64_t random_next(uint64_t* state) noexcept nogil:
    """xorshift64* (Vigna): the next 64 pseudo-random bits."""
    cdef uint64_t x = state[0]
    x ^= x >> 12
    x ^= x << 25
    x ^= x >> 27
    state[0] = x
    return x * 0x2545F4914F6CDD1DULL


cdef inline void random_touch(uint64_t* lines, uint64_t* set_word, uint32_t ways, uint32_t way,
                              uint64_t* policy) noexcept nogil:
    pass


cdef inline void random_insert(uint64_t* lines, uint64_t* set_word, uint32_t ways, uint32_t way,
                               uint64_t* policy) noexcept nogil:
    pass


cdef inline uint32_t random_victim(uint64_t* lines, uint64_t* set_word, uint32_t ways,
                                   uint64_t* policy) noexcept nogil:
    return <uint32_t>((random_next(policy) >> 32) % ways)

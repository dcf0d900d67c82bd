"""Tree pseudo-LRU replacement (the binary-tree PLRU of many real L1s).

The set's ways are the leaves of a complete binary tree whose ways - 1 inner nodes are
one bit each, kept in the set's word: node 1 is the root, node n has children 2n and
2n + 1, and bit n of `set_word` is node n. A node's bit says on which side the next
victim is (0: left, lower ways; 1: right). A use of a way flips every node on its path
to point away from it; the victim is found by following the bits from the root. Needs
a power-of-two number of ways, at most 64 (config.py checks). The per-line words and
the policy word are unused. See repl_lru.pxd for the shared interface.
"""

from libc.stdint cimport uint32_t, uint64_t


cdef inline uint32_t plru_levels(uint32_t ways) noexcept nogil:
    """log2(ways): the depth of the tree."""
    cdef uint32_t levels = 0
    while (1U << levels) < ways:
        levels += 1
    return levels


cdef inline void plru_touch(uint64_t* lines, uint64_t* set_word, uint32_t ways, uint32_t way,
                            uint64_t* policy) noexcept nogil:
    cdef uint32_t level = plru_levels(ways)
    cdef uint32_t node = 1, right
    cdef uint64_t bits = set_word[0]
    while level > 0:
        level -= 1
        right = (way >> level) & 1
        if right:
            bits &= ~(1ULL << node)     # used the right half: the victim is on the left
        else:
            bits |= 1ULL << node
        node = 2 * node + right
    set_word[0] = bits


cdef inline void plru_insert(uint64_t* lines, uint64_t* set_word, uint32_t ways, uint32_t way,
                             uint64_t* policy) noexcept nogil:
    plru_touch(lines, set_word, ways, way, policy)


cdef inline uint32_t plru_victim(uint64_t* lines, uint64_t* set_word, uint32_t ways,
                                 uint64_t* policy) noexcept nogil:
    cdef uint32_t level = plru_levels(ways)
    cdef uint32_t node = 1, way = 0, right
    while level > 0:
        level -= 1
        right = (set_word[0] >> node) & 1
        way = 2 * way + right
        node = 2 * node + right
    return way

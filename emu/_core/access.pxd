"""What a memory access is for: the kinds the cores and the cache hierarchy share.

memlat.pxd (the timing interface the cores call) and hierarchy.pxd (the caches behind
it) both cimport this, so neither has to cimport the other's module for the enum.
"""


cdef enum AccessKind:
    ACCESS_LOAD = 0
    ACCESS_STORE = 1
    ACCESS_ATOMIC = 2       # AMO, LR, SC: need the line exclusively
    ACCESS_FETCH = 3        # instruction fetch: served by the hart's L1I
    ACCESS_PREFETCH = 4     # a prefetcher's request to an outer level (never from a core)

cdef enum:
    ACCESS_KINDS = 5        # AccessKind values, for per-kind counter arrays

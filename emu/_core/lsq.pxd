"""The load and store queues, and the memory-dependence predictor.

Both queues hold memory instructions in program order from rename to commit.
A store writes memory only when it commits; until then younger loads see its data
by forwarding from the store queue. A load may issue before older stores whose
address is still unknown; when such a store later computes an address that a
younger, already executed load read past, that is a memory-order violation: the
load and everything after it are squashed and refetched, and the load's pc gets a
wait bit, so next time it waits for older store addresses (the simplest
memory-dependence predictor, as in the Alpha 21264).

Addresses in both queues are physical (after Sv32 translation), so forwarding and
violation checks compare what memory compares: two virtual aliases of one word
forward and conflict, two address spaces' equal virtual addresses do not. An MMIO
load never reads from the queue or memory at execute (`executed` stays 0): it is
performed at the ROB head, after every older store has committed.
"""

from libc.stdint cimport uint8_t, uint32_t, uint64_t


cdef enum Forward:
    FORWARD_NONE = 0        # no older store overlaps: read memory
    FORWARD_FULL = 1        # an older store holds every byte: its data is the value
    FORWARD_BLOCKED = 2     # partial overlap, or (when asked to wait) an unknown older address


cdef struct LoadEntry:
    uint64_t seq
    uint32_t rob_slot
    uint32_t addr           # physical
    uint8_t width
    uint8_t executed        # has read its value (from memory or a store)
    uint64_t source_seq     # seq of the store it forwarded from, 0 for memory


cdef struct StoreEntry:
    uint64_t seq
    uint32_t rob_slot
    uint32_t addr           # physical
    uint32_t data
    uint8_t width
    uint8_t known           # address and data computed


cdef struct LoadStoreQueue:
    LoadEntry* loads
    uint32_t lq_size
    uint32_t lq_head
    uint32_t lq_count
    StoreEntry* stores
    uint32_t sq_size
    uint32_t sq_head
    uint32_t sq_count
    uint8_t* wait_bits      # per hashed load pc: wait for older store addresses
    uint32_t wait_mask


cdef int lsq_init(LoadStoreQueue* q, uint32_t lq_size, uint32_t sq_size, uint32_t wait_bits) except -1
cdef void lsq_free(LoadStoreQueue* q) noexcept nogil
cdef void lsq_reset(LoadStoreQueue* q) noexcept nogil
cdef int lsq_forward(LoadStoreQueue* q, uint64_t load_seq, uint32_t addr, uint32_t width,
                     bint wait_for_unknown, uint32_t* value, uint64_t* source_seq) noexcept nogil
cdef uint64_t lsq_violation(LoadStoreQueue* q, uint64_t store_seq, uint32_t addr,
                            uint32_t width) noexcept nogil
cdef bint lsq_older_stores_known(LoadStoreQueue* q, uint64_t load_seq) noexcept nogil


cdef inline uint32_t lq_slot(LoadStoreQueue* q, uint32_t age) noexcept nogil:
    cdef uint32_t slot = q.lq_head + age
    return slot - q.lq_size if slot >= q.lq_size else slot


cdef inline uint32_t sq_slot(LoadStoreQueue* q, uint32_t age) noexcept nogil:
    cdef uint32_t slot = q.sq_head + age
    return slot - q.sq_size if slot >= q.sq_size else slot


cdef inline uint32_t wait_index(LoadStoreQueue* q, uint32_t pc) noexcept nogil:
    return (pc >> 2) & q.wait_mask

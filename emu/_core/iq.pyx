"""Select support for the issue queue (iq.pxd)."""

from libc.stdlib cimport calloc, free
from libc.string cimport memset

from emu._core.rob cimport rob_age, rob_slot


cdef int iq_init(IssueQueue* iq, uint32_t capacity, uint32_t rob_size) except -1:
    iq.words = (rob_size + 63) // 64
    iq.ready_bits = <uint64_t*>calloc(iq.words, sizeof(uint64_t))
    if iq.ready_bits == NULL:
        raise MemoryError()
    iq.capacity = capacity
    iq.count = 0
    return 0


cdef void iq_free(IssueQueue* iq) noexcept nogil:
    free(iq.ready_bits)
    iq.ready_bits = NULL


cdef void iq_reset(IssueQueue* iq) noexcept nogil:
    memset(iq.ready_bits, 0, iq.words * sizeof(uint64_t))
    iq.count = 0


cdef extern from *:
    int __builtin_ctzll(unsigned long long) nogil   # index of the lowest set bit (gcc, clang)


cdef int iq_oldest_ready(IssueQueue* iq, Rob* rob, uint32_t from_age) noexcept nogil:
    """Age of the oldest ready instruction at `from_age` or younger, or -1 if none."""
    cdef uint32_t age = from_age
    cdef uint32_t slot, bit, run
    cdef uint64_t bits
    while age < rob.count:
        slot = rob_slot(rob, age)
        bit = slot & 63
        bits = iq.ready_bits[slot >> 6] >> bit
        # Slots from here to the end of this word, without passing the ring's end.
        run = 64 - bit
        if slot + run > rob.size:
            run = rob.size - slot
        if run < 64:
            bits &= ((<uint64_t>1) << run) - 1
        if bits:
            age += <uint32_t>__builtin_ctzll(bits)
            return <int>age if age < rob.count else -1
        age += run
    return -1

"""The issue queue: renamed instructions waiting for operands and a functional unit.

An instruction in the queue is identified by its ROB slot. The queue keeps one bit
per ROB slot for "in the queue with every operand ready", so select finds the oldest
ready instructions by walking set bits in age order from the ROB head, without
looking at the ones still waiting; `count` enforces the queue's capacity.
"""

from libc.stdint cimport uint32_t, uint64_t

from emu._core.rob cimport Rob


cdef struct IssueQueue:
    uint64_t* ready_bits    # bit per ROB slot: waiting in the queue with operands ready
    uint32_t words          # 64-bit words in ready_bits
    uint32_t count          # instructions in the queue, ready or not
    uint32_t capacity


cdef int iq_init(IssueQueue* iq, uint32_t capacity, uint32_t rob_size) except -1
cdef void iq_free(IssueQueue* iq) noexcept nogil
cdef void iq_reset(IssueQueue* iq) noexcept nogil
cdef int iq_oldest_ready(IssueQueue* iq, Rob* rob, uint32_t from_age) noexcept nogil


cdef inline void iq_set_ready(IssueQueue* iq, uint32_t slot) noexcept nogil:
    iq.ready_bits[slot >> 6] |= (<uint64_t>1) << (slot & 63)


cdef inline void iq_clear_ready(IssueQueue* iq, uint32_t slot) noexcept nogil:
    iq.ready_bits[slot >> 6] &= ~((<uint64_t>1) << (slot & 63))

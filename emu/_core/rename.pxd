"""Register renaming: the map table, the free list and the physical register file.

Physical registers 0..31 start as the architectural state (register 0 stays the
constant zero: the map of x0 never changes). A renamed destination takes a register
from the free list; the register it replaces is freed when the instruction commits,
or the new one is given back when it is squashed. Each physical register keeps a
short list of the ROB slots waiting for it, so write-back wakes exactly its
consumers instead of searching the issue queue; entries carry the consumer's seq, so
a list never needs cleaning after a squash (stale ones are skipped).
"""

from libc.stdint cimport uint8_t, uint16_t, uint32_t, uint64_t

cdef enum:
    MAX_WAITERS = 6         # consumers listed per register; beyond that, wake-up scans the ROB


cdef struct RenameState:
    uint16_t rat[32]        # architectural register -> physical register
    uint16_t* free_list     # stack of free physical registers
    uint32_t free_count
    uint32_t nphys
    uint32_t* value         # physical register values
    uint8_t* ready          # 1 once the value is written back
    uint32_t* waiter_slot   # [nphys * MAX_WAITERS] ROB slots waiting for each register
    uint64_t* waiter_seq    # ... and their seq
    uint8_t* waiter_count   # per register; MAX_WAITERS + 1 means the list overflowed


cdef int rename_init(RenameState* rn, uint32_t nphys) except -1
cdef void rename_free(RenameState* rn) noexcept nogil
cdef void rename_reset(RenameState* rn, uint32_t* arch_values) noexcept nogil


cdef inline uint16_t rename_allocate(RenameState* rn) noexcept nogil:
    """A free physical register, not ready, with no waiters (the caller checked free_count)."""
    cdef uint16_t preg
    rn.free_count -= 1
    preg = rn.free_list[rn.free_count]
    rn.ready[preg] = 0
    rn.waiter_count[preg] = 0
    return preg


cdef inline void rename_release(RenameState* rn, uint16_t preg) noexcept nogil:
    rn.free_list[rn.free_count] = preg
    rn.free_count += 1


cdef inline void rename_add_waiter(RenameState* rn, uint16_t preg, uint32_t slot, uint64_t seq) noexcept nogil:
    cdef uint32_t n = rn.waiter_count[preg]
    if n < MAX_WAITERS:
        rn.waiter_slot[preg * MAX_WAITERS + n] = slot
        rn.waiter_seq[preg * MAX_WAITERS + n] = seq
        rn.waiter_count[preg] = n + 1
    else:
        rn.waiter_count[preg] = MAX_WAITERS + 1

"""Allocation and reset of the rename state (rename.pxd)."""

from libc.stdlib cimport calloc, free


cdef int rename_init(RenameState* rn, uint32_t nphys) except -1:
    rn.nphys = nphys
    rn.free_list = <uint16_t*>calloc(nphys, sizeof(uint16_t))
    rn.value = <uint32_t*>calloc(nphys, sizeof(uint32_t))
    rn.ready = <uint8_t*>calloc(nphys, sizeof(uint8_t))
    rn.waiter_slot = <uint32_t*>calloc(nphys * MAX_WAITERS, sizeof(uint32_t))
    rn.waiter_seq = <uint64_t*>calloc(nphys * MAX_WAITERS, sizeof(uint64_t))
    rn.waiter_count = <uint8_t*>calloc(nphys, sizeof(uint8_t))
    if (rn.free_list == NULL or rn.value == NULL or rn.ready == NULL or rn.waiter_slot == NULL
            or rn.waiter_seq == NULL or rn.waiter_count == NULL):
        rename_free(rn)
        raise MemoryError()
    return 0


cdef void rename_free(RenameState* rn) noexcept nogil:
    free(rn.free_list)
    free(rn.value)
    free(rn.ready)
    free(rn.waiter_slot)
    free(rn.waiter_seq)
    free(rn.waiter_count)
    rn.free_list = NULL
    rn.value = NULL
    rn.ready = NULL
    rn.waiter_slot = NULL
    rn.waiter_seq = NULL
    rn.waiter_count = NULL


cdef void rename_reset(RenameState* rn, uint32_t* arch_values) noexcept nogil:
    """Map x_i to physical register i holding arch_values[i]; free all the others."""
    cdef uint32_t i
    for i in range(32):
        rn.rat[i] = <uint16_t>i
        rn.value[i] = arch_values[i]
        rn.ready[i] = 1
        rn.waiter_count[i] = 0
    rn.value[0] = 0
    rn.free_count = 0
    # Pushed highest first, so registers are handed out in increasing order.
    i = rn.nphys
    while i > 32:
        i -= 1
        rn.free_list[rn.free_count] = <uint16_t>i
        rn.free_count += 1

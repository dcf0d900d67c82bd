"""Allocation of the reorder buffer (rob.pxd)."""

from libc.stdlib cimport calloc, free


cdef int rob_init(Rob* rob, uint32_t size) except -1:
    rob.entries = <RobEntry*>calloc(size, sizeof(RobEntry))
    if rob.entries == NULL:
        raise MemoryError()
    rob.size = size
    rob.head = 0
    rob.count = 0
    return 0


cdef void rob_free(Rob* rob) noexcept nogil:
    free(rob.entries)
    rob.entries = NULL

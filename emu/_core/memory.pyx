"""Decode-cache page management for PhysMem (memory.pxd)."""

from libc.stdlib cimport calloc, free

from emu._core.decode cimport Decoded


cdef Decoded* allocate_code_page(Decoded** code_pages, uint32_t page) noexcept nogil:
    cdef Decoded* slots = <Decoded*>calloc(SLOTS_PER_PAGE, sizeof(Decoded))
    code_pages[page] = slots
    return slots


cdef void free_code_pages(PhysMem* m) noexcept nogil:
    cdef uint32_t i
    if m.code_pages == NULL:
        return
    for i in range(m.npages):
        free(m.code_pages[i])
        m.code_pages[i] = NULL

"""DMA coherence for the cores (ports.pxd)."""

from libc.stdint cimport uint32_t, uint64_t

from emu._core.dma cimport DmaPort
from emu._core.hierarchy cimport hierarchy_dma_write


cdef void _end_reservations(PhysMem mem, uint32_t addr, uint64_t length) noexcept nogil:
    cdef uint32_t i
    for i in range(mem.nharts):
        if mem.harts[i].reserved and addr <= mem.harts[i].reservation < addr + length:
            mem.harts[i].reserved = 0


cdef void ports_sync_dma(HartPorts* ports, PhysMem mem) noexcept nogil:
    cdef DmaPort* log = &ports.bus.dma
    cdef uint32_t i
    if log.log_overflow:        # writes were lost from the log: all of RAM counts as written
        _end_reservations(mem, mem.base, mem.size)
        if ports.caches != NULL:
            hierarchy_dma_write(ports.caches, mem.base, mem.size)
    else:
        for i in range(log.log_count):
            _end_reservations(mem, log.log_addr[i], log.log_len[i])
            if ports.caches != NULL:
                hierarchy_dma_write(ports.caches, log.log_addr[i], log.log_len[i])
    log.log_count = 0
    log.log_overflow = 0

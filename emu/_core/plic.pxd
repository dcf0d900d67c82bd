"""The PLIC: routes device interrupt lines to harts (register map in isa/README.md,
"Devices"; the layout is the SiFive PLIC's, with one context per hart).

Sources 1..PLIC_SOURCES-1 (0 means "none") each have a priority 0..7; 0 never
interrupts. Every hart has an enable bit per source and a threshold. A source's line
(its level, set by the bus from the device) goes through a level-triggered gateway:
while the line is high and the source is not being serviced, its pending bit is set.
A hart's external interrupt (MEIP) is pending while some pending source it enables
has a priority above its threshold. Reading the hart's claim register returns the
highest-priority such source (lowest id on ties, 0 if none), clears its pending bit
and marks it in service; writing that id to the same register completes it, after
which a line still high makes it pending again.
"""

from libc.stdint cimport uint8_t, uint32_t

cpdef enum:
    PLIC_SOURCES = 32           # source ids 0..31; 0 is reserved for "no interrupt"
    PLIC_MAX_HARTS = 32
    PLIC_MAX_PRIORITY = 7
    PLIC_SIZE = 0x4000000       # bytes of register space
    PLIC_WIDTHS = 1 << 4        # allowed access widths (bit w: w bytes): words only

    # register offsets
    PLIC_PRIORITY = 0x0         # + 4 * source
    PLIC_PENDING = 0x1000       # bit per source (read only)
    PLIC_ENABLE = 0x2000        # + 0x80 * hart: bit per source
    PLIC_CONTEXT = 0x200000     # + 0x1000 * hart: threshold, then claim/complete at + 4
    PLIC_ENABLE_STRIDE = 0x80
    PLIC_CONTEXT_STRIDE = 0x1000


cdef struct Plic:
    uint32_t harts                      # contexts, one per hart (1..PLIC_MAX_HARTS)
    uint8_t priority[PLIC_SOURCES]      # 0..PLIC_MAX_PRIORITY; priority[0] stays 0
    uint32_t level                      # bit per source: the device's line is high
    uint32_t pending                    # bit per source: waiting to be claimed
    uint32_t in_service                 # bit per source: claimed, not yet completed
    uint32_t enable[PLIC_MAX_HARTS]     # per hart: bit per source
    uint8_t threshold[PLIC_MAX_HARTS]   # per hart: only priorities above it interrupt


cdef class PlicModel:
    cdef Plic dev


cdef int plic_init(Plic* p, uint32_t harts) except -1
cdef void plic_set_level(Plic* p, uint32_t source, bint level) noexcept nogil
cdef uint32_t plic_best(Plic* p, uint32_t hart) noexcept nogil
cdef bint plic_load(Plic* p, uint32_t offset, uint32_t* value) noexcept nogil
cdef bint plic_store(Plic* p, uint32_t offset, uint32_t value) noexcept nogil

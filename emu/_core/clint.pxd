"""The CLINT: the machine timer `mtime`, per-hart `mtimecmp`, and per-hart software
interrupts `msip` (register map in isa/README.md, "Devices").

`mtime` is not stored: it is the bus cycle divided by `divider` (cycles per timer tick,
the machine's clock_hz / timebase_hz), so it always equals the harts' `time` CSR and
costs nothing to keep. It is read-only (writes are ignored). A hart's timer interrupt
is pending exactly while mtime >= its mtimecmp, i.e. from cycle mtimecmp * divider on;
`clint_next_event` tells the bus that cycle so it can wake the cores then.
"""

from libc.stdint cimport uint8_t, uint32_t, uint64_t

cpdef enum:
    CLINT_MAX_HARTS = 32
    CLINT_SIZE = 0x10000    # bytes of register space
    CLINT_WIDTHS = 1 << 4   # allowed access widths (bit w: w bytes): words only

    # register offsets
    CLINT_MSIP = 0x0        # + 4 * hart: bit 0 is the hart's software interrupt
    CLINT_MTIMECMP = 0x4000  # + 8 * hart: low word, then high word
    CLINT_MTIME = 0xBFF8    # low word, then high word at 0xBFFC


cdef struct Clint:
    uint32_t harts          # harts with an msip and an mtimecmp (1..CLINT_MAX_HARTS)
    uint32_t divider        # bus cycles per mtime tick (>= 1)
    uint64_t mtimecmp[CLINT_MAX_HARTS]  # all ones at reset: no timer interrupt
    uint8_t msip[CLINT_MAX_HARTS]       # 0 or 1


cdef class ClintModel:
    cdef Clint dev


cdef inline uint64_t clint_mtime(Clint* c, uint64_t now) noexcept nogil:
    return now // c.divider


cdef inline bint clint_timer_pending(Clint* c, uint32_t hart, uint64_t now) noexcept nogil:
    return clint_mtime(c, now) >= c.mtimecmp[hart]


cdef int clint_init(Clint* c, uint32_t harts, uint32_t divider) except -1
cdef bint clint_load(Clint* c, uint32_t offset, uint32_t* value, uint64_t now) noexcept nogil
cdef bint clint_store(Clint* c, uint32_t offset, uint32_t value) noexcept nogil
cdef uint64_t clint_next_event(Clint* c, uint64_t now) noexcept nogil

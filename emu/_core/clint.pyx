"""The CLINT's registers (clint.pxd) and ClintModel, its Python face."""

from libc.stdint cimport UINT64_MAX
from libc.string cimport memset


cdef int clint_init(Clint* c, uint32_t harts, uint32_t divider) except -1:
    cdef uint32_t i
    if not 1 <= harts <= CLINT_MAX_HARTS:
        raise ValueError(f"the CLINT serves 1 to {CLINT_MAX_HARTS} harts, not {harts}")
    if divider == 0:
        raise ValueError("the timer divider must be at least 1")
    memset(c, 0, sizeof(Clint))
    c.harts = harts
    c.divider = divider
    for i in range(<uint32_t>CLINT_MAX_HARTS):
        c.mtimecmp[i] = UINT64_MAX
    return 0


cdef inline uint32_t _word(uint64_t value, uint32_t offset) noexcept nogil:
    """The low (offset & 4 == 0) or high word of a 64-bit register."""
    return <uint32_t>(value >> 32) if offset & 4 else <uint32_t>value


cdef bint clint_load(Clint* c, uint32_t offset, uint32_t* value, uint64_t now) noexcept nogil:
    if offset < CLINT_MTIMECMP:
        if offset // 4 >= c.harts:
            return False
        value[0] = c.msip[offset // 4]
    elif offset < CLINT_MTIME:
        if (offset - CLINT_MTIMECMP) // 8 >= c.harts:
            return False
        value[0] = _word(c.mtimecmp[(offset - CLINT_MTIMECMP) // 8], offset)
    elif offset < CLINT_MTIME + 8:
        value[0] = _word(clint_mtime(c, now), offset)
    else:
        return False
    return True


cdef bint clint_store(Clint* c, uint32_t offset, uint32_t value) noexcept nogil:
    cdef uint32_t hart
    if offset < CLINT_MTIMECMP:
        if offset // 4 >= c.harts:
            return False
        c.msip[offset // 4] = value & 1
    elif offset < CLINT_MTIME:
        hart = (offset - CLINT_MTIMECMP) // 8
        if hart >= c.harts:
            return False
        if offset & 4:
            c.mtimecmp[hart] = (c.mtimecmp[hart] & 0xFFFFFFFFU) | (<uint64_t>value << 32)
        else:
            c.mtimecmp[hart] = (c.mtimecmp[hart] & 0xFFFFFFFF00000000U) | value
    elif offset >= CLINT_MTIME + 8:
        return False
    # mtime is read-only: writes to it are ignored
    return True


cdef uint64_t clint_next_event(Clint* c, uint64_t now) noexcept nogil:
    """The first cycle after `now` at which some hart's timer interrupt becomes pending
    (UINT64_MAX if none will)."""
    cdef uint64_t next_event = UINT64_MAX
    cdef uint64_t mtime = clint_mtime(c, now)
    cdef uint64_t cmp
    cdef uint32_t i
    for i in range(c.harts):
        cmp = c.mtimecmp[i]
        if cmp > mtime and cmp <= UINT64_MAX // c.divider and cmp * c.divider < next_event:
            next_event = cmp * c.divider
    return next_event


cdef class ClintModel:
    """A CLINT for `harts` harts whose mtime ticks once every `divider` bus cycles.
    Attach it to a bus (bus.BusModel) to give the guest its registers."""

    def __cinit__(self, uint32_t harts=1, uint32_t divider=1):
        clint_init(&self.dev, harts, divider)

    @property
    def harts(self):
        return self.dev.harts

    @property
    def divider(self):
        return self.dev.divider

    def mtime(self, uint64_t now):
        """mtime at bus cycle `now`."""
        return clint_mtime(&self.dev, now)

    def timer_pending(self, uint32_t hart, uint64_t now):
        """Whether hart's timer interrupt is pending at cycle `now`."""
        if hart >= self.dev.harts:
            raise ValueError(f"hart {hart} out of range (harts={self.dev.harts})")
        return bool(clint_timer_pending(&self.dev, hart, now))

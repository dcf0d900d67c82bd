"""The PLIC's gateway, arbitration and registers (plic.pxd) and PlicModel, its
Python face."""

from libc.string cimport memset


cdef int plic_init(Plic* p, uint32_t harts) except -1:
    if not 1 <= harts <= PLIC_MAX_HARTS:
        raise ValueError(f"the PLIC serves 1 to {PLIC_MAX_HARTS} harts, not {harts}")
    memset(p, 0, sizeof(Plic))
    p.harts = harts
    return 0


cdef void plic_set_level(Plic* p, uint32_t source, bint level) noexcept nogil:
    """Drive source's line (1 <= source < PLIC_SOURCES) high or low."""
    cdef uint32_t bit = 1U << source
    if level:
        p.level |= bit
        if not p.in_service & bit:
            p.pending |= bit
    else:
        p.level &= ~bit


cdef uint32_t plic_best(Plic* p, uint32_t hart) noexcept nogil:
    """The source hart would claim now: the highest priority above its threshold among
    the pending sources it enables (lowest id on ties), or 0."""
    cdef uint32_t candidates = p.pending & p.enable[hart]
    cdef uint32_t best = 0
    cdef uint32_t best_priority = p.threshold[hart]
    cdef uint32_t source
    for source in range(1, <uint32_t>PLIC_SOURCES):
        if candidates >> source & 1 and p.priority[source] > best_priority:
            best = source
            best_priority = p.priority[source]
    return best


cdef bint plic_load(Plic* p, uint32_t offset, uint32_t* value) noexcept nogil:
    cdef uint32_t hart, source
    if offset < PLIC_SOURCES * 4:
        value[0] = p.priority[offset // 4]
    elif offset == PLIC_PENDING:
        value[0] = p.pending
    elif PLIC_ENABLE <= offset < PLIC_ENABLE + PLIC_ENABLE_STRIDE * p.harts:
        if offset % PLIC_ENABLE_STRIDE:
            return False
        value[0] = p.enable[(offset - PLIC_ENABLE) // PLIC_ENABLE_STRIDE]
    elif PLIC_CONTEXT <= offset < PLIC_CONTEXT + PLIC_CONTEXT_STRIDE * p.harts:
        hart = (offset - PLIC_CONTEXT) // PLIC_CONTEXT_STRIDE
        if offset % PLIC_CONTEXT_STRIDE == 0:
            value[0] = p.threshold[hart]
        elif offset % PLIC_CONTEXT_STRIDE == 4:
            source = plic_best(p, hart)
            if source:
                p.pending &= ~(1U << source)
                p.in_service |= 1U << source
            value[0] = source
        else:
            return False
    else:
        return False
    return True


cdef bint plic_store(Plic* p, uint32_t offset, uint32_t value) noexcept nogil:
    cdef uint32_t hart, bit
    if offset < PLIC_SOURCES * 4:
        if offset:      # source 0 does not exist: its priority stays 0
            p.priority[offset // 4] = value & PLIC_MAX_PRIORITY
    elif offset == PLIC_PENDING:
        pass            # read only
    elif PLIC_ENABLE <= offset < PLIC_ENABLE + PLIC_ENABLE_STRIDE * p.harts:
        if offset % PLIC_ENABLE_STRIDE:
            return False
        p.enable[(offset - PLIC_ENABLE) // PLIC_ENABLE_STRIDE] = value & ~1U
    elif PLIC_CONTEXT <= offset < PLIC_CONTEXT + PLIC_CONTEXT_STRIDE * p.harts:
        hart = (offset - PLIC_CONTEXT) // PLIC_CONTEXT_STRIDE
        if offset % PLIC_CONTEXT_STRIDE == 0:
            p.threshold[hart] = value & PLIC_MAX_PRIORITY
        elif offset % PLIC_CONTEXT_STRIDE == 4:
            # complete: ignored unless the source is in service and enabled for this hart
            if 0 < value < PLIC_SOURCES:
                bit = 1U << value
                if p.in_service & bit and p.enable[hart] & bit:
                    p.in_service &= ~bit
                    if p.level & bit:
                        p.pending |= bit
        else:
            return False
    else:
        return False
    return True


cdef class PlicModel:
    """A PLIC with one context per hart. Attach it to a bus (bus.BusModel), which drives
    its source lines from the attached devices and gives the guest its registers."""

    def __cinit__(self, uint32_t harts=1):
        plic_init(&self.dev, harts)

    @property
    def harts(self):
        return self.dev.harts

    @property
    def pending(self):
        """Bit per source: waiting to be claimed."""
        return self.dev.pending

    @property
    def in_service(self):
        """Bit per source: claimed and not yet completed."""
        return self.dev.in_service

    def set_level(self, uint32_t source, bint level):
        """Drive a source line from the host (for sources no attached device drives: the
        bus re-drives its devices' lines on every tick)."""
        if not 0 < source < PLIC_SOURCES:
            raise ValueError(f"PLIC sources are 1..{PLIC_SOURCES - 1}, not {source}")
        plic_set_level(&self.dev, source, level)

    def external_pending(self, uint32_t hart):
        """Whether hart's external interrupt (MEIP) is pending."""
        if hart >= self.dev.harts:
            raise ValueError(f"hart {hart} out of range (harts={self.dev.harts})")
        return plic_best(&self.dev, hart) != 0

"""Store-to-load forwarding and violation detection (lsq.pxd)."""

from libc.stdlib cimport calloc, free
from libc.string cimport memset


cdef int lsq_init(LoadStoreQueue* q, uint32_t lq_size, uint32_t sq_size, uint32_t wait_bits) except -1:
    q.loads = <LoadEntry*>calloc(lq_size, sizeof(LoadEntry))
    q.stores = <StoreEntry*>calloc(sq_size, sizeof(StoreEntry))
    q.wait_bits = <uint8_t*>calloc(1U << wait_bits, sizeof(uint8_t))
    if q.loads == NULL or q.stores == NULL or q.wait_bits == NULL:
        lsq_free(q)
        raise MemoryError()
    q.lq_size = lq_size
    q.sq_size = sq_size
    q.wait_mask = (1U << wait_bits) - 1
    lsq_reset(q)
    return 0


cdef void lsq_free(LoadStoreQueue* q) noexcept nogil:
    free(q.loads)
    free(q.stores)
    free(q.wait_bits)
    q.loads = NULL
    q.stores = NULL
    q.wait_bits = NULL


cdef void lsq_reset(LoadStoreQueue* q) noexcept nogil:
    """Empty both queues (the learned wait bits stay)."""
    q.lq_head = 0
    q.lq_count = 0
    q.sq_head = 0
    q.sq_count = 0


cdef inline bint _overlap(uint32_t a, uint32_t wa, uint32_t b, uint32_t wb) noexcept nogil:
    return a < b + wb and b < a + wa


cdef int lsq_forward(LoadStoreQueue* q, uint64_t load_seq, uint32_t addr, uint32_t width,
                     bint wait_for_unknown, uint32_t* value, uint64_t* source_seq) noexcept nogil:
    """Where a load of [addr, addr+width) gets its bytes: the youngest older store that
    overlaps decides. Sets *value (zero-extended) and *source_seq on FORWARD_FULL."""
    cdef uint32_t age = q.sq_count
    cdef StoreEntry* s
    cdef uint32_t shift
    while age > 0:
        age -= 1
        s = &q.stores[sq_slot(q, age)]
        if s.seq > load_seq:
            continue
        if not s.known:
            if wait_for_unknown:
                return FORWARD_BLOCKED
            continue
        if not _overlap(s.addr, s.width, addr, width):
            continue
        if s.addr <= addr and addr + width <= s.addr + s.width:
            shift = (addr - s.addr) * 8
            value[0] = s.data >> shift
            if width < 4:
                value[0] &= (1U << (width * 8)) - 1
            source_seq[0] = s.seq
            return FORWARD_FULL
        return FORWARD_BLOCKED
    return FORWARD_NONE


cdef bint lsq_older_stores_known(LoadStoreQueue* q, uint64_t load_seq) noexcept nogil:
    cdef uint32_t age
    cdef StoreEntry* s
    for age in range(q.sq_count):
        s = &q.stores[sq_slot(q, age)]
        if s.seq > load_seq:
            break
        if not s.known:
            return False
    return True


cdef uint64_t lsq_violation(LoadStoreQueue* q, uint64_t store_seq, uint32_t addr,
                            uint32_t width) noexcept nogil:
    """Seq of the oldest younger load that already read [addr, addr+width) from an older
    source than this store (it must re-execute), or 0 when there is none."""
    cdef uint32_t age
    cdef LoadEntry* ld
    for age in range(q.lq_count):
        ld = &q.loads[lq_slot(q, age)]
        if ld.seq < store_seq or not ld.executed:
            continue
        if ld.source_seq < store_seq and _overlap(ld.addr, ld.width, addr, width):
            return ld.seq
    return 0

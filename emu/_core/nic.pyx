"""The NIC's registers, transmit and receive engines (nic.pxd) and NicModel, its Python
face."""

from libc.string cimport memcpy, memset

from emu._core.dma cimport dma_note_write, dma_ram
from emu._core.link cimport LINK_MTU, link_next_arrival, link_peek, link_pop, link_send


cdef inline uint8_t* _descriptor(DmaPort* dma, uint32_t base, uint32_t index) noexcept nogil:
    """Host pointer to descriptor `index` of the ring at `base`, NULL if outside RAM."""
    return dma_ram(dma, base + index * NIC_DESC_SIZE, NIC_DESC_SIZE)


cdef inline void _complete(DmaPort* dma, uint8_t* desc, uint32_t desc_addr,
                           uint16_t length, uint16_t flags) noexcept nogil:
    """Write a descriptor's length and flags back, handing it to the driver."""
    (<uint16_t*>(desc + 4))[0] = length
    (<uint16_t*>(desc + 6))[0] = flags
    dma_note_write(dma, desc_addr + 4, 4)


cdef bint nic_load(Nic* n, uint32_t offset, uint32_t* value) noexcept nogil:
    if offset == NIC_TX_BASE:
        value[0] = n.tx_base
    elif offset == NIC_TX_SIZE:
        value[0] = n.tx_size
    elif offset == NIC_TX_HEAD:
        value[0] = n.tx_head
    elif offset == NIC_TX_TAIL:
        value[0] = n.tx_tail
    elif offset == NIC_RX_BASE:
        value[0] = n.rx_base
    elif offset == NIC_RX_SIZE:
        value[0] = n.rx_size
    elif offset == NIC_RX_HEAD:
        value[0] = n.rx_head
    elif offset == NIC_RX_TAIL:
        value[0] = n.rx_tail
    elif offset == NIC_DOORBELL:
        value[0] = 0
    elif offset == NIC_ISR:
        value[0] = n.isr
    elif offset == NIC_IER:
        value[0] = n.ier
    elif offset == NIC_RX_DROPPED:
        value[0] = <uint32_t>n.rx_dropped
    else:
        return False
    return True


cdef void _tx_advance(Nic* n, DmaPort* dma, uint64_t now) noexcept nogil:
    """Complete the frame in progress if its time has come, and start the next ready
    descriptor at that cycle; repeat until one finishes after `now` or none is ready."""
    cdef uint64_t t = now
    cdef uint8_t* desc
    cdef uint8_t* buffer
    cdef uint32_t desc_addr, length
    while True:
        if n.tx_busy:
            if n.tx_done > now:
                return
            t = n.tx_done
            desc_addr = n.tx_base + n.tx_head * NIC_DESC_SIZE
            desc = dma_ram(dma, desc_addr, NIC_DESC_SIZE)
            if desc != NULL:    # it was in RAM when the frame started; RAM does not move
                _complete(dma, desc, desc_addr, (<uint16_t*>(desc + 4))[0], n.tx_flags)
            n.tx_head = (n.tx_head + 1) % n.tx_size
            n.isr |= NIC_INT_TX
            n.tx_busy = 0
        if not n.tx_running or n.tx_size == 0 or n.tx_head == n.tx_tail:
            n.tx_running = 0
            return
        desc = _descriptor(dma, n.tx_base, n.tx_head)
        if desc == NULL:
            n.isr |= NIC_INT_RING
            n.tx_running = 0
            return
        if not (<uint16_t*>(desc + 6))[0] & NIC_DESC_OWN:
            n.tx_running = 0        # the driver has not handed this one over yet
            return
        length = (<uint16_t*>(desc + 4))[0]
        buffer = dma_ram(dma, (<uint32_t*>desc)[0], length) if length <= LINK_MTU else NULL
        n.tx_busy = 1
        if buffer == NULL:
            n.tx_flags = NIC_DESC_ERR
            n.tx_done = t
            n.tx_errors += 1
        else:
            dma.bytes_read += length
            n.tx_flags = 0
            n.tx_done = link_send(n.link, n.tx_direction, buffer, length, t)
            n.tx_frames += 1


cdef void _rx_deliver(Nic* n, DmaPort* dma, uint64_t now) noexcept nogil:
    """Deliver every frame that has arrived by `now`, oldest first."""
    cdef uint32_t length, capacity, desc_addr
    cdef uint8_t* frame
    cdef uint8_t* desc
    cdef uint8_t* buffer
    while True:
        frame = link_peek(n.link, n.rx_direction, now, &length)
        if frame == NULL:
            return
        desc = NULL
        if n.rx_size != 0 and n.rx_head != n.rx_tail:
            desc_addr = n.rx_base + n.rx_head * NIC_DESC_SIZE
            desc = dma_ram(dma, desc_addr, NIC_DESC_SIZE)
            if desc == NULL:
                n.isr |= NIC_INT_RING
        if desc == NULL or not (<uint16_t*>(desc + 6))[0] & NIC_DESC_OWN:
            n.rx_dropped += 1
        else:
            capacity = (<uint16_t*>(desc + 4))[0]
            buffer = dma_ram(dma, (<uint32_t*>desc)[0], length) if length <= capacity else NULL
            if buffer == NULL:
                _complete(dma, desc, desc_addr, <uint16_t>length, NIC_DESC_ERR)
                n.rx_errors += 1
            else:
                memcpy(buffer, frame, length)
                dma_note_write(dma, (<uint32_t*>desc)[0], length)
                _complete(dma, desc, desc_addr, <uint16_t>length, 0)
                n.rx_frames += 1
            n.rx_head = (n.rx_head + 1) % n.rx_size
            n.isr |= NIC_INT_RX
        link_pop(n.link, n.rx_direction)


cdef bint nic_store(Nic* n, DmaPort* dma, uint32_t offset, uint32_t value, uint64_t now) noexcept nogil:
    if offset == NIC_TX_BASE or offset == NIC_TX_SIZE:
        if not n.tx_busy and (offset == NIC_TX_BASE or value <= NIC_MAX_RING):
            if offset == NIC_TX_BASE:
                n.tx_base = value & ~7U
            else:
                n.tx_size = value
            n.tx_head = 0
            n.tx_tail = 0
    elif offset == NIC_RX_BASE or offset == NIC_RX_SIZE:
        if offset == NIC_RX_BASE or value <= NIC_MAX_RING:
            if offset == NIC_RX_BASE:
                n.rx_base = value & ~7U
            else:
                n.rx_size = value
            n.rx_head = 0
            n.rx_tail = 0
    elif offset == NIC_TX_TAIL:
        if value < n.tx_size:
            n.tx_tail = value
    elif offset == NIC_RX_TAIL:
        if value < n.rx_size:
            n.rx_tail = value
    elif offset == NIC_DOORBELL:
        if value & 1:
            n.tx_running = 1
            _tx_advance(n, dma, now)
    elif offset == NIC_ISR:
        n.isr &= ~value
    elif offset == NIC_IER:
        n.ier = value & (NIC_INT_RX | NIC_INT_TX | NIC_INT_RING)
    elif offset != NIC_TX_HEAD and offset != NIC_RX_HEAD and offset != NIC_RX_DROPPED:
        return False        # (the read-only registers ignore writes)
    return True


cdef uint64_t nic_tick(Nic* n, DmaPort* dma, uint64_t now) noexcept nogil:
    """Bring the NIC to cycle `now`; returns the next cycle it has something to do."""
    cdef uint64_t next_event
    _tx_advance(n, dma, now)
    _rx_deliver(n, dma, now)
    next_event = link_next_arrival(n.link, n.rx_direction)
    if n.tx_busy and n.tx_done < next_event:
        next_event = n.tx_done
    return next_event


cdef bint nic_irq(Nic* n) noexcept nogil:
    return (n.isr & n.ier) != 0


cdef class NicModel:
    """A NIC on end `end` (0 or 1) of a LinkModel (end 0 of a loopback link). Attach it
    to a bus (bus.BusModel) to give the guest its registers and RAM."""

    def __cinit__(self, LinkModel link not None, uint32_t end=0):
        if end > (0 if link.link.loopback else 1):
            raise ValueError(f"a {'loopback ' if link.link.loopback else ''}link has no end {end}")
        if end in link.ends_taken:
            raise ValueError(f"end {end} of this link already has a NIC")
        link.ends_taken.append(end)
        memset(&self.dev, 0, sizeof(Nic))
        self.link = link
        self.dev.link = &link.link
        self.dev.tx_direction = end
        self.dev.rx_direction = end if link.link.loopback else 1 - end

    @property
    def irq(self):
        """The interrupt line's level."""
        return bool(nic_irq(&self.dev))

    def stats(self):
        return {"tx_frames": self.dev.tx_frames, "tx_errors": self.dev.tx_errors,
                "rx_frames": self.dev.rx_frames, "rx_errors": self.dev.rx_errors,
                "rx_dropped": self.dev.rx_dropped}

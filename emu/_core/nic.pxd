"""The NIC: sends and receives frames on a Link through descriptor rings in guest RAM
(register map and descriptor format in isa/README.md, "Devices").

A ring is `size` 8-byte descriptors at `base` (buffer address u32, length u16,
flags u16). The driver owns the descriptors from TAIL up to HEAD and gives them to
the NIC by setting their OWN flag and advancing TAIL; the NIC works from HEAD
towards TAIL and hands each one back by clearing OWN (ERR set if it failed) and
advancing HEAD. Every RAM access goes through the bus's DmaPort, so a descriptor or
buffer outside RAM is an error, never a stray access.

Sending starts when the driver rings DOORBELL and goes on while HEAD != TAIL and the
descriptor at HEAD has OWN. One frame is on the wire at a time: the NIC reads it from
RAM when its turn comes, the link says when its last byte has left, and at that cycle
the descriptor completes (ISR.TX) and the next one starts. Received frames are
delivered at their arrival cycle into the descriptor at RX HEAD (its length field is
the buffer's capacity on the way in, the frame's length on the way out, ISR.RX); with
no descriptor available the frame is dropped and counted in RX_DROPPED. The interrupt
line is high while ISR & IER is non-zero.
"""

from libc.stdint cimport uint8_t, uint16_t, uint32_t, uint64_t

from emu._core.dma cimport DmaPort
from emu._core.link cimport Link, LinkModel

cpdef enum:
    NIC_SIZE = 0x30         # bytes of register space
    NIC_WIDTHS = 1 << 4     # allowed access widths (bit w: w bytes): words only
    NIC_MAX_RING = 4096     # descriptors per ring

    # register offsets
    NIC_TX_BASE = 0x00      # ring address (low 3 bits ignored); writing it or the size
    NIC_TX_SIZE = 0x04      #   resets HEAD and TAIL to 0 (ignored while a frame is on the wire)
    NIC_TX_HEAD = 0x08      # read only
    NIC_TX_TAIL = 0x0C
    NIC_RX_BASE = 0x10
    NIC_RX_SIZE = 0x14
    NIC_RX_HEAD = 0x18      # read only
    NIC_RX_TAIL = 0x1C
    NIC_DOORBELL = 0x20     # write bit 0: start sending (reads 0)
    NIC_ISR = 0x24          # interrupt status; write 1s to clear
    NIC_IER = 0x28          # interrupt enable
    NIC_RX_DROPPED = 0x2C   # frames dropped for want of a descriptor (read only)

    NIC_DESC_SIZE = 8       # descriptor: +0 buffer address, +4 length (u16), +6 flags (u16)
    NIC_DESC_OWN = 0x1      # flags: the NIC owns the descriptor
    NIC_DESC_ERR = 0x2      # flags: the NIC could not use it (bad buffer, frame too long)

    NIC_INT_RX = 0x1        # ISR/IER: a receive descriptor completed
    NIC_INT_TX = 0x2        # ISR/IER: a transmit descriptor completed
    NIC_INT_RING = 0x4      # ISR/IER: a ring lies outside RAM (that ring stopped)


cdef struct Nic:
    Link* link              # the link (owned by its LinkModel, which NicModel keeps alive)
    uint32_t tx_direction   # link direction frames are sent on
    uint32_t rx_direction   # link direction frames are received from
    uint32_t tx_base        # registers
    uint32_t tx_size
    uint32_t tx_head
    uint32_t tx_tail
    uint32_t rx_base
    uint32_t rx_size
    uint32_t rx_head
    uint32_t rx_tail
    uint32_t isr
    uint32_t ier
    uint8_t tx_running      # doorbell rung: keep sending ready descriptors
    uint8_t tx_busy         # the descriptor at tx_head is in progress
    uint16_t tx_flags       # flags it completes with
    uint64_t tx_done        # cycle it completes
    uint64_t tx_frames      # statistics: frames sent, transmit descriptors in error,
    uint64_t tx_errors
    uint64_t rx_frames      # frames received, receive descriptors in error,
    uint64_t rx_errors
    uint64_t rx_dropped     # and frames dropped for want of a descriptor


cdef class NicModel:
    cdef Nic dev
    cdef readonly LinkModel link


cdef bint nic_load(Nic* n, uint32_t offset, uint32_t* value) noexcept nogil
cdef bint nic_store(Nic* n, DmaPort* dma, uint32_t offset, uint32_t value, uint64_t now) noexcept nogil
cdef uint64_t nic_tick(Nic* n, DmaPort* dma, uint64_t now) noexcept nogil
cdef bint nic_irq(Nic* n) noexcept nogil

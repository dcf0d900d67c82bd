"""A simulated network link: two directions, each a wire with a bandwidth and a latency,
optional loss, and a queue of frames in flight.

Direction d carries frames sent from end d to the other end; a loopback link has one
end and direction 0 carries its frames back to it. A frame of n bytes sent at cycle t
occupies the sender's wire from max(t, when the wire is free) for
ceil(n * bw_cycles / bw_bytes) cycles, and arrives `latency` cycles after its last byte
left. A frame is lost (it still used the wire) when the direction's PRNG (splitmix64,
seeded from the link's seed, one stream per direction so each direction's losses depend
only on its own traffic) draws a value whose top 32 bits are below loss_threshold.
Arrival times in one direction never decrease, so each direction is a FIFO ring.

Two machines (two buses) share a link in one process: the sender's device pushes
frames, the receiver's device pops those whose arrival cycle it has reached. Both count
the same cycles; a driver that runs the machines in turns must keep each turn no longer
than the link latency, so no frame arrives in a receiver's past.
"""

from libc.stdint cimport uint8_t, uint16_t, uint32_t, uint64_t

cpdef enum:
    LINK_MTU = 2048         # largest frame, bytes


cdef struct Link:
    uint64_t latency        # cycles from a frame's last byte leaving to its arrival
    uint32_t bw_bytes       # bandwidth: bw_bytes every bw_cycles cycles
    uint32_t bw_cycles
    uint64_t loss_threshold # 0 (no loss) .. 2**32 (every frame lost)
    uint8_t loopback        # one end; direction 0 returns to it
    uint32_t capacity       # frames in flight per direction
    uint64_t* arrival       # [2 * capacity]: arrival cycle of each queued frame
    uint16_t* length        # [2 * capacity]: its length
    uint8_t* frames         # [2 * capacity * LINK_MTU]: its bytes
    uint32_t head[2]        # per direction: ring slot of the oldest frame in flight
    uint32_t count[2]       # frames in flight
    uint64_t wire_free[2]   # cycle the sender's wire is next free
    uint64_t rng[2]         # loss PRNG state
    uint64_t sent[2]        # statistics per direction: frames put on the wire,
    uint64_t lost[2]        # lost by the loss model,
    uint64_t overflowed[2]  # dropped because `capacity` frames were already in flight,
    uint64_t delivered[2]   # taken by the receiver


cdef class LinkModel:
    cdef Link link
    cdef readonly object ends_taken     # list: which ends a NIC uses


cdef int link_init(Link* l, uint64_t latency, uint32_t bw_bytes, uint32_t bw_cycles,
                   uint64_t loss_threshold, uint64_t seed, bint loopback,
                   uint32_t capacity) except -1
cdef void link_free(Link* l) noexcept nogil
cdef uint64_t link_send(Link* l, uint32_t direction, const uint8_t* data, uint32_t length,
                        uint64_t now) noexcept nogil
cdef uint64_t link_next_arrival(Link* l, uint32_t direction) noexcept nogil
cdef uint8_t* link_peek(Link* l, uint32_t direction, uint64_t now, uint32_t* length) noexcept nogil
cdef void link_pop(Link* l, uint32_t direction) noexcept nogil

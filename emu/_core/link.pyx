"""The link's wire timing, loss model and frame queues (link.pxd) and LinkModel, its
Python face."""

from libc.stdint cimport UINT64_MAX
from libc.stdlib cimport calloc, free
from libc.string cimport memcpy, memset

from emu._core.dma cimport transfer_cycles


cdef inline uint64_t _splitmix64(uint64_t* state) noexcept nogil:
    cdef uint64_t z
    state[0] += 0x9E3779B97F4A7C15U
    z = state[0]
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9U
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBU
    return z ^ (z >> 31)


cdef int link_init(Link* l, uint64_t latency, uint32_t bw_bytes, uint32_t bw_cycles,
                   uint64_t loss_threshold, uint64_t seed, bint loopback,
                   uint32_t capacity) except -1:
    if bw_bytes == 0 or bw_cycles == 0:
        raise ValueError("the link's bandwidth must be positive")
    if loss_threshold > (<uint64_t>1 << 32):
        raise ValueError("loss_threshold must be at most 2**32")
    if capacity == 0:
        raise ValueError("a link must hold at least one frame in flight")
    memset(l, 0, sizeof(Link))
    l.arrival = <uint64_t*>calloc(2 * capacity, sizeof(uint64_t))
    l.length = <uint16_t*>calloc(2 * capacity, sizeof(uint16_t))
    l.frames = <uint8_t*>calloc(2 * <size_t>capacity, LINK_MTU)
    if l.arrival == NULL or l.length == NULL or l.frames == NULL:
        link_free(l)
        raise MemoryError()
    l.latency = latency
    l.bw_bytes = bw_bytes
    l.bw_cycles = bw_cycles
    l.loss_threshold = loss_threshold
    l.loopback = loopback
    l.capacity = capacity
    l.rng[0] = seed
    l.rng[1] = seed + 0xD1B54A32D192ED03U    # any constant: direction 1's stream differs
    return 0


cdef void link_free(Link* l) noexcept nogil:
    free(l.arrival)
    free(l.length)
    free(l.frames)
    l.arrival = NULL
    l.length = NULL
    l.frames = NULL


cdef uint64_t link_send(Link* l, uint32_t direction, const uint8_t* data, uint32_t length,
                        uint64_t now) noexcept nogil:
    """Put a frame (1 <= length <= LINK_MTU) on direction's wire at cycle `now`; returns
    the cycle its last byte has left (when the sender is done with it)."""
    cdef uint64_t start = now if now > l.wire_free[direction] else l.wire_free[direction]
    cdef uint64_t done = start + transfer_cycles(length, l.bw_bytes, l.bw_cycles)
    cdef uint32_t slot
    l.wire_free[direction] = done
    l.sent[direction] += 1
    if l.loss_threshold and (_splitmix64(&l.rng[direction]) >> 32) < l.loss_threshold:
        l.lost[direction] += 1
    elif l.count[direction] == l.capacity:
        l.overflowed[direction] += 1
    else:
        slot = direction * l.capacity + (l.head[direction] + l.count[direction]) % l.capacity
        l.arrival[slot] = done + l.latency
        l.length[slot] = <uint16_t>length
        memcpy(l.frames + <size_t>slot * LINK_MTU, data, length)
        l.count[direction] += 1
    return done


cdef uint64_t link_next_arrival(Link* l, uint32_t direction) noexcept nogil:
    """Arrival cycle of the oldest frame in flight on direction, UINT64_MAX if none."""
    if l.count[direction] == 0:
        return UINT64_MAX
    return l.arrival[direction * l.capacity + l.head[direction]]


cdef uint8_t* link_peek(Link* l, uint32_t direction, uint64_t now, uint32_t* length) noexcept nogil:
    """The oldest frame on direction if it has arrived by `now` (its length in *length),
    else NULL. It stays queued until link_pop."""
    cdef uint32_t slot = direction * l.capacity + l.head[direction]
    if l.count[direction] == 0 or l.arrival[slot] > now:
        return NULL
    length[0] = l.length[slot]
    return l.frames + <size_t>slot * LINK_MTU


cdef void link_pop(Link* l, uint32_t direction) noexcept nogil:
    """Remove the oldest frame on direction (which link_peek returned)."""
    l.head[direction] = (l.head[direction] + 1) % l.capacity
    l.count[direction] -= 1
    l.delivered[direction] += 1


cdef class LinkModel:
    """A link in C: `latency` cycles, bandwidth `bw_bytes` per `bw_cycles` cycles, frames
    lost with probability loss_threshold / 2**32 drawn from a PRNG seeded with `seed`,
    up to `capacity` frames in flight per direction. NicModels connect to its ends."""

    def __cinit__(self, uint64_t latency, uint32_t bw_bytes=1, uint32_t bw_cycles=1,
                  uint64_t loss_threshold=0, uint64_t seed=0, bint loopback=False,
                  uint32_t capacity=256):
        link_init(&self.link, latency, bw_bytes, bw_cycles, loss_threshold, seed, loopback,
                  capacity)
        self.ends_taken = []

    def __dealloc__(self):
        link_free(&self.link)

    @property
    def loopback(self):
        return bool(self.link.loopback)

    def wire_cycles(self, uint32_t length):
        """Cycles a frame of `length` bytes occupies the wire."""
        return transfer_cycles(length, self.link.bw_bytes, self.link.bw_cycles)

    def stats(self, uint32_t direction):
        """Frame counters of one direction (0: sent from end 0; 1: sent from end 1)."""
        if direction > (0 if self.link.loopback else 1):
            raise ValueError(f"no direction {direction} on this link")
        return {"sent": self.link.sent[direction], "lost": self.link.lost[direction],
                "overflowed": self.link.overflowed[direction],
                "delivered": self.link.delivered[direction],
                "in_flight": self.link.count[direction]}

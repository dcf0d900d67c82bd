"""MESI coherence among the harts' L1s: the protocol table, the snooping bus, the
coherence counters and the sharing table behind the false-sharing report.

The protocol is data: `Transition` entries indexed by (state, event), filled at import
from the readable table in coherence.pyx (PROTOCOL), which is also what the Python
accessors, the tests and the docs show. hierarchy.pyx runs it: every L1 state change,
local or snooped, is one `protocol_step`, and the hierarchy carries out the returned
action bits (issue a bus request, flush, write back, invalidate, count). A pair the
protocol says cannot happen is counted as an error (`Coherence.errors`) and changes
nothing; HierarchyModel raises coherence.ProtocolError for it.

States: MesiState (cache.pxd) plus the transient states a requester passes through
while its bus transaction is in flight. The bus is atomic in the protocol's sense
(Sorin, Hill and Wood's "atomic requests, atomic transactions"): a transaction's snoops
and response are decided before the next one is granted, so a line is transient only
inside its own transaction and no snoop ever meets a transient state (those pairs are
errors). Timing still overlaps: the bus is held for `latency` cycles per transaction,
the data arrives later, and a dirty copy whose own fill is still on the way supplies
its data when that fill arrives.

The bus: one transaction at a time, granted in the order requests reach it (FIFO; the
cores ask in cycle order, so it is FIFO by request cycle, ties going to the hart that
asked first). A one-hart hierarchy has nothing to snoop and no bus: its L1 misses go
straight to the L2 (single-core timing and counts are exactly those of a bus-less
hierarchy).

The sharing table records lines that moved between harts because of a write: a
transaction that invalidated another hart's copy or took a dirty one from it. Per line
it keeps which harts took part, the invalidations and interventions, and per hart the
bytes it wrote (`written_mask` bits), folded in from a copy's `written` word (cache.pxd)
whenever that copy is snooped clean, invalidated, evicted or recalled. It has a fixed
capacity and evicts nothing: once full, further lines are not recorded and each event
on one counts in `overflow`.
"""

from libc.stdint cimport int32_t, uint8_t, uint16_t, uint32_t, uint64_t

from emu._core.access cimport ACCESS_ATOMIC, ACCESS_STORE
from emu._core.cache cimport NO_LINE


cdef enum TransientState:   # continues MesiState (cache.pxd: I 0, S 1, E 2, M 3)
    IS_D = 4                # was I, BusRd on the bus: waiting for data (-> S or E)
    IM_D = 5                # was I, BusRdX on the bus: waiting for data (-> M)
    SM_D = 6                # was S, BusUpgr on the bus: waiting for the ack (-> M)

cdef enum:
    PROTOCOL_STATES = 7
    COHERENCE_MAX_HARTS = 64    # harts fit one uint64_t bit mask


cdef enum CoherenceEvent:
    EV_LOAD = 0             # the hart reads: load, instruction fetch, L1 prefetch
    EV_STORE = 1            # the hart writes
    EV_ATOMIC = 2           # AMO, LR or SC: needs the line in M like a store
    EV_REPLACEMENT = 3      # the line is its cache's victim
    EV_RECALL = 4           # an inclusive outer level evicts the line (back-invalidation)
    EV_BUS_RD = 5           # another hart's BusRd for the line (snooped)
    EV_BUS_RDX = 6          # another hart's BusRdX (it wants to write, has no copy)
    EV_BUS_UPGR = 7         # another hart's BusUpgr (it wants to write its S copy)
    EV_DATA = 8             # the requested data arrives, shared signal low
    EV_DATA_SHARED = 9      # ... shared signal high: another cache keeps a copy
    EV_ACK = 10             # the BusUpgr completed: every other copy is gone

cdef enum:
    PROTOCOL_EVENTS = 11


cdef enum CoherenceAction:  # bits of Transition.actions; the hierarchy does them in this order
    ACT_BUS_RD = 1 << 0             # issue a BusRd
    ACT_BUS_RDX = 1 << 1            # issue a BusRdX
    ACT_BUS_UPGR = 1 << 2           # issue a BusUpgr
    ACT_SHARED = 1 << 3             # assert the shared signal (the requester's fill is S)
    ACT_FLUSH = 1 << 4              # supply the dirty line to the requester (an intervention)
    ACT_WRITEBACK = 1 << 5          # send the dirty line to the next level
    ACT_INVALIDATE = 1 << 6         # count: a copy dropped for another hart's write
    ACT_DOWNGRADE = 1 << 7          # count: an E or M copy became S for another hart's read
    ACT_UPGRADE_MISS = 1 << 8       # count: a write found its line S
    ACT_SILENT_UPGRADE = 1 << 9     # count: a write found its line E (E -> M, no bus)
    ACT_WRITE = 1 << 10             # the write happens: new data version, written bytes,
                                    # other harts' reservations on the line broken

cdef enum:
    ACT_REQUEST = ACT_BUS_RD | ACT_BUS_RDX | ACT_BUS_UPGR


cdef struct Transition:     # one (state, event) entry of the protocol table
    uint8_t next            # the state after the event
    uint8_t valid           # 0: the pair cannot happen (a ProtocolError): next = state, no actions
    uint16_t actions        # CoherenceAction bits


cdef enum BusRequest:       # what a transaction asks for; EV_BUS_RD + request is its snooped event
    BUS_RD = 0
    BUS_RDX = 1
    BUS_UPGR = 2

cdef enum:
    BUS_REQUESTS = 3


cdef struct Bus:
    uint32_t latency                    # cycles one transaction holds the bus (request to response)
    uint64_t free_at                    # first cycle the bus is free
    uint64_t transactions[BUS_REQUESTS] # transactions granted, by BusRequest
    uint64_t wait_cycles                # cycles requests waited for a grant
    uint64_t busy_cycles                # cycles the bus was held


cdef struct CoherenceStats:             # one hart's share of the coherence traffic
    uint64_t requests[BUS_REQUESTS]     # bus transactions its L1s issued, by BusRequest
    uint64_t bus_wait_cycles            # cycles they waited for the bus
    uint64_t invalidations_sent         # other harts' copies its writes invalidated
    uint64_t invalidations_received     # its copies (L1I or L1D) other harts' writes invalidated
    uint64_t interventions              # dirty lines it supplied to another hart (cache to cache)
    uint64_t downgrades                 # its E or M copies made S by another hart's read
    uint64_t upgrade_misses             # its writes that found the line S (a BusUpgr)
    uint64_t silent_upgrades            # its writes that found the line E (E -> M without the bus)
    uint64_t reservations_broken        # its LR reservations ended by another hart's write


cdef struct SharingRecord:  # one line that moved between harts because of a write
    uint32_t line           # L1D line number (address >> L1D line bits); NO_LINE: free slot
    uint32_t invalidations  # copies of it invalidated by another hart's write
    uint32_t interventions  # times a dirty copy of it was supplied to another hart
    uint64_t harts          # bit per hart whose copy or request took part
    uint64_t writers        # bit per hart with written bytes recorded in `written`


cdef struct SharingTable:   # open addressing, linear probing, never evicts
    SharingRecord* records  # `slots` entries
    uint64_t* written       # per slot, per hart: written_mask bits (written[slot * harts + hart])
    uint32_t slots          # a power of two >= 2 * capacity (so probes stay short), or 0
    uint32_t capacity       # lines it records at most (0: recording off)
    uint32_t used           # lines recorded
    uint32_t harts          # masks per slot (also the length of Coherence.harts)
    uint64_t overflow       # events on lines it had no room for


cdef struct Coherence:
    const Transition* protocol      # protocol[state * PROTOCOL_EVENTS + event] (coherence.pyx)
    Bus bus
    CoherenceStats* harts           # per hart
    SharingTable sharing
    uint64_t version_clock          # writes so far: each write's data gets the next version
    uint64_t errors                 # impossible (state, event) pairs met
    uint8_t error_state             # ... the last one
    uint8_t error_event


cdef const Transition* coherence_protocol() noexcept nogil
cdef int coherence_init(Coherence* c, uint32_t harts, uint32_t bus_latency,
                        uint32_t sharing_lines) except -1
cdef void coherence_free(Coherence* c) noexcept nogil
cdef void coherence_reset(Coherence* c) noexcept nogil


cdef inline uint32_t access_event(uint32_t kind) noexcept nogil:
    """The protocol event of a core's access of AccessKind `kind` (fetches and prefetches read)."""
    if kind == ACCESS_STORE:
        return EV_STORE
    if kind == ACCESS_ATOMIC:
        return EV_ATOMIC
    return EV_LOAD


cdef inline Transition protocol_step(Coherence* c, uint32_t state, uint32_t event) noexcept nogil:
    """The table's entry for a line in `state` meeting `event`; an impossible pair is
    counted as an error (its entry keeps the state and does nothing)."""
    cdef Transition t = c.protocol[state * PROTOCOL_EVENTS + event]
    if not t.valid:
        c.errors += 1
        c.error_state = <uint8_t>state
        c.error_event = <uint8_t>event
    return t


cdef inline uint64_t bus_grant(Bus* b, uint32_t request, uint64_t t) noexcept nogil:
    """Grant a transaction of BusRequest `request` asked for at cycle t: the cycle it gets
    the bus (t, or when the transaction before it frees the bus)."""
    cdef uint64_t grant = t if t > b.free_at else b.free_at
    b.free_at = grant + b.latency
    b.transactions[request] += 1
    b.wait_cycles += grant - t
    b.busy_cycles += b.latency
    return grant


cdef inline uint64_t written_mask(uint32_t line_bits, uint32_t addr, uint32_t width) noexcept nogil:
    """The bits of a write of `width` bytes at addr within its line: bit i stands for
    bytes [i * g, (i + 1) * g) with g = max(1, line_size / 64), so 64 bits cover a line.
    A write past the end of its line is cut at the end."""
    cdef uint32_t granule_bits = line_bits - 6 if line_bits > 6 else 0
    cdef uint32_t offset = addr & ((1U << line_bits) - 1)
    cdef uint32_t last = offset + (width if width > 0 else 1) - 1
    cdef uint32_t first_bit, count
    if last >= (1U << line_bits):
        last = (1U << line_bits) - 1
    first_bit = offset >> granule_bits
    count = (last >> granule_bits) - first_bit + 1
    return (0xFFFFFFFFFFFFFFFFULL >> (64 - count)) << first_bit


cdef inline uint32_t sharing_home(SharingTable* t, uint32_t line) noexcept nogil:
    """The slot a line's probe sequence starts at (Fibonacci hashing)."""
    return <uint32_t>((line * 0x9E3779B97F4A7C15ULL) >> 32) & (t.slots - 1)


cdef inline int32_t sharing_find(SharingTable* t, uint32_t line) noexcept nogil:
    """The slot recording `line`, or -1."""
    cdef uint32_t slot
    if t.used == 0:
        return -1
    slot = sharing_home(t, line)
    while t.records[slot].line != NO_LINE:
        if t.records[slot].line == line:
            return <int32_t>slot
        slot = (slot + 1) & (t.slots - 1)
    return -1


cdef inline int32_t sharing_record(SharingTable* t, uint32_t line) noexcept nogil:
    """The slot recording `line`, taking a free one for a new line; -1 (and one more
    overflow) when the table is full or off."""
    cdef uint32_t slot
    if t.capacity == 0:
        t.overflow += 1
        return -1
    slot = sharing_home(t, line)
    while t.records[slot].line != NO_LINE:
        if t.records[slot].line == line:
            return <int32_t>slot
        slot = (slot + 1) & (t.slots - 1)
    if t.used == t.capacity:
        t.overflow += 1
        return -1
    t.used += 1
    t.records[slot].line = line
    return <int32_t>slot


cdef inline void sharing_add_written(SharingTable* t, uint32_t slot, uint32_t hart,
                                     uint64_t mask) noexcept nogil:
    """Record that `hart` wrote the written_mask bits `mask` of the line in `slot`."""
    if mask != 0:
        t.written[<uint64_t>slot * t.harts + hart] |= mask
        t.records[slot].writers |= 1ULL << hart

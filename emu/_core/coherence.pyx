"""The MESI protocol table (coherence.pxd): its one readable definition, PROTOCOL and
PROTOCOL_ERRORS, the C array filled from it at import, the Python accessors the docs
and tests read it through, and the coherence state's allocation.

Every (state, event) pair is either a row of PROTOCOL or covered by exactly one named
error of PROTOCOL_ERRORS; the module checks that when it is imported.
"""

from collections import namedtuple

from libc.stdlib cimport calloc, free
from libc.string cimport memset

from emu._core.cache cimport MESI_E, MESI_I, MESI_M, MESI_S

#: State names by number: MesiState (cache.pxd), then the transient states.
STATE_NUMBERS = {"I": MESI_I, "S": MESI_S, "E": MESI_E, "M": MESI_M,
                 "IS_D": IS_D, "IM_D": IM_D, "SM_D": SM_D}
STATES = tuple(sorted(STATE_NUMBERS, key=STATE_NUMBERS.get))
EVENT_NUMBERS = {"Load": EV_LOAD, "Store": EV_STORE, "Atomic": EV_ATOMIC,
                 "Replacement": EV_REPLACEMENT, "Recall": EV_RECALL, "BusRd": EV_BUS_RD,
                 "BusRdX": EV_BUS_RDX, "BusUpgr": EV_BUS_UPGR, "Data": EV_DATA,
                 "DataShared": EV_DATA_SHARED, "Ack": EV_ACK}
EVENTS = tuple(sorted(EVENT_NUMBERS, key=EVENT_NUMBERS.get))
ACTION_BITS = {"BusRd": ACT_BUS_RD, "BusRdX": ACT_BUS_RDX, "BusUpgr": ACT_BUS_UPGR,
               "Shared": ACT_SHARED, "Flush": ACT_FLUSH, "Writeback": ACT_WRITEBACK,
               "Invalidate": ACT_INVALIDATE, "Downgrade": ACT_DOWNGRADE,
               "UpgradeMiss": ACT_UPGRADE_MISS, "SilentUpgrade": ACT_SILENT_UPGRADE,
               "Write": ACT_WRITE}
ACTIONS = tuple(sorted(ACTION_BITS, key=ACTION_BITS.get))
BUS_REQUEST_NAMES = ("BusRd", "BusRdX", "BusUpgr")

LOCAL_EVENTS = ("Load", "Store", "Atomic", "Replacement", "Recall")
SNOOPED_EVENTS = ("BusRd", "BusRdX", "BusUpgr")
RESPONSES = ("Data", "DataShared", "Ack")
STABLE_STATES = ("I", "S", "E", "M")
TRANSIENT_STATES = ("IS_D", "IM_D", "SM_D")

Row = namedtuple("Row", "state event next actions")

#: The protocol: (state, event) -> (next state, actions, done in ACTIONS order).
PROTOCOL = tuple(Row(state, event, next_, tuple(actions.split()))
                 for state, event, next_, actions in (
    # state  event          next    actions
    ("I",    "Load",        "IS_D", "BusRd"),
    ("I",    "Store",       "IM_D", "BusRdX"),
    ("I",    "Atomic",      "IM_D", "BusRdX"),
    ("I",    "BusRd",       "I",    ""),
    ("I",    "BusRdX",      "I",    ""),
    ("I",    "BusUpgr",     "I",    ""),
    ("S",    "Load",        "S",    ""),
    ("S",    "Store",       "SM_D", "BusUpgr UpgradeMiss"),
    ("S",    "Atomic",      "SM_D", "BusUpgr UpgradeMiss"),
    ("S",    "Replacement", "I",    ""),
    ("S",    "Recall",      "I",    ""),
    ("S",    "BusRd",       "S",    "Shared"),
    ("S",    "BusRdX",      "I",    "Invalidate"),
    ("S",    "BusUpgr",     "I",    "Invalidate"),
    ("E",    "Load",        "E",    ""),
    ("E",    "Store",       "M",    "SilentUpgrade Write"),
    ("E",    "Atomic",      "M",    "SilentUpgrade Write"),
    ("E",    "Replacement", "I",    ""),
    ("E",    "Recall",      "I",    ""),
    ("E",    "BusRd",       "S",    "Shared Downgrade"),
    ("E",    "BusRdX",      "I",    "Invalidate"),
    ("M",    "Load",        "M",    ""),
    ("M",    "Store",       "M",    "Write"),
    ("M",    "Atomic",      "M",    "Write"),
    ("M",    "Replacement", "I",    "Writeback"),
    ("M",    "Recall",      "I",    "Writeback"),
    ("M",    "BusRd",       "S",    "Shared Flush Writeback Downgrade"),
    ("M",    "BusRdX",      "I",    "Flush Invalidate"),
    ("IS_D", "Data",        "E",    ""),
    ("IS_D", "DataShared",  "S",    ""),
    ("IM_D", "Data",        "M",    "Write"),
    ("SM_D", "Ack",         "M",    "Write"),
))

ProtocolErrorKind = namedtuple("ProtocolErrorKind", "name states events reason")

#: The pairs that cannot happen, by name.
PROTOCOL_ERRORS = (
    ProtocolErrorKind("NoLine", ("I",), ("Replacement", "Recall"),
                      "only a line that is there can be evicted"),
    ProtocolErrorKind("SecondWriter", ("E", "M"), ("BusUpgr",),
                      "a BusUpgr comes from an S copy, so no other copy can be E or M"),
    ProtocolErrorKind("NoRequest", STABLE_STATES, RESPONSES,
                      "a response arrives only for a request in flight"),
    ProtocolErrorKind("AckForData", ("IS_D", "IM_D"), ("Ack",),
                      "a BusRd or BusRdX is answered with data"),
    ProtocolErrorKind("DataForUpgrade", ("SM_D",), ("Data", "DataShared"),
                      "a BusUpgr is answered with an ack (the requester has the data)"),
    ProtocolErrorKind("SharedAfterRdX", ("IM_D",), ("DataShared",),
                      "a BusRdX invalidates every other copy, so its data is never shared"),
    ProtocolErrorKind("AtomicBus", TRANSIENT_STATES, LOCAL_EVENTS + SNOOPED_EVENTS,
                      "the bus is atomic: nothing else happens to a line during its own "
                      "transaction"),
)


class ProtocolError(Exception):
    """A (state, event) pair the protocol says cannot happen."""

    def __init__(self, state, event, kind):
        super().__init__(f"{kind.name}: {event} in state {state}: {kind.reason}")
        self.state = state
        self.event = event
        self.kind = kind


def _error_kinds():
    """{(state, event): ProtocolErrorKind}, checking that no pair is named twice."""
    kinds = {}
    for kind in PROTOCOL_ERRORS:
        for state in kind.states:
            for event in kind.events:
                if (state, event) in kinds:
                    raise AssertionError(f"{state} + {event} is both {kinds[state, event].name} "
                                         f"and {kind.name}")
                kinds[state, event] = kind
    return kinds


_ERROR_KINDS = _error_kinds()

cdef Transition _table[PROTOCOL_STATES * PROTOCOL_EVENTS]


def _fill_table():
    """Fill the C table from PROTOCOL; every pair must be a row or an error, not both."""
    cdef Transition* entry
    rows = {}
    for row in PROTOCOL:
        if (row.state, row.event) in rows or (row.state, row.event) in _ERROR_KINDS:
            raise AssertionError(f"{row.state} + {row.event} is defined twice")
        rows[row.state, row.event] = row
    for state in STATES:
        for event in EVENTS:
            entry = &_table[STATE_NUMBERS[state] * PROTOCOL_EVENTS + EVENT_NUMBERS[event]]
            row = rows.get((state, event))
            if row is None:
                if (state, event) not in _ERROR_KINDS:
                    raise AssertionError(f"{state} + {event} is neither a row nor an error")
                entry.next, entry.valid, entry.actions = STATE_NUMBERS[state], 0, 0
            else:
                entry.next, entry.valid = STATE_NUMBERS[row.next], 1
                entry.actions = sum(ACTION_BITS[action] for action in row.actions)
                if list(row.actions) != sorted(row.actions, key=ACTION_BITS.get):
                    raise AssertionError(f"{state} + {event}: actions out of order")


_fill_table()


cdef const Transition* coherence_protocol() noexcept nogil:
    return &_table[0]


def transition(str state, str event):
    """(next state, actions) of the C table's entry for (state, event); ProtocolError
    for a pair that cannot happen."""
    if state not in STATE_NUMBERS or event not in EVENT_NUMBERS:
        raise ValueError(f"no state {state!r} or no event {event!r}")
    cdef Transition entry = _table[STATE_NUMBERS[state] * PROTOCOL_EVENTS + EVENT_NUMBERS[event]]
    if not entry.valid:
        raise ProtocolError(state, event, _ERROR_KINDS[state, event])
    return STATES[entry.next], tuple(a for a in ACTIONS if entry.actions & ACTION_BITS[a])


def protocol():
    """The protocol's rows, as a list of Row(state, event, next, actions)."""
    return list(PROTOCOL)


def protocol_error(state, event):
    """The ProtocolError an impossible pair (by number or name) raises."""
    state = STATES[state] if isinstance(state, int) else state
    event = EVENTS[event] if isinstance(event, int) else event
    return ProtocolError(state, event, _ERROR_KINDS[state, event])


def protocol_markdown():
    """The table as Markdown: a state-by-event matrix of `next: actions` (a dash for a
    pair that cannot happen), then the named errors."""
    cells = {(row.state, row.event): row.next + (": " + ", ".join(row.actions) if row.actions
                                                 else "")
             for row in PROTOCOL}
    lines = ["| state | " + " | ".join(EVENTS) + " |", "|---" * (len(EVENTS) + 1) + "|"]
    for state in STATES:
        lines.append(f"| {state} | " + " | ".join(cells.get((state, event), "—")
                                                  for event in EVENTS) + " |")
    lines += ["", "| error | pairs | why impossible |", "|---|---|---|"]
    for kind in PROTOCOL_ERRORS:
        lines.append(f"| {kind.name} | {'/'.join(kind.states)} × {'/'.join(kind.events)} "
                     f"| {kind.reason} |")
    return "\n".join(lines)


# ---- allocation ---------------------------------------------------------------------

cdef int coherence_init(Coherence* c, uint32_t harts, uint32_t bus_latency,
                        uint32_t sharing_lines) except -1:
    """An idle bus, zero counters and an empty sharing table recording up to
    `sharing_lines` lines (0: none). `*c` may be uninitialised; on failure nothing stays
    allocated."""
    cdef uint32_t slots = 0
    if harts < 1 or harts > COHERENCE_MAX_HARTS:
        raise ValueError(f"coherence needs 1..{COHERENCE_MAX_HARTS} harts, not {harts}")
    if sharing_lines > (1U << 28):
        raise ValueError(f"sharing_lines must be at most {1 << 28}, not {sharing_lines}")
    memset(c, 0, sizeof(Coherence))
    c.protocol = coherence_protocol()
    c.bus.latency = bus_latency
    c.sharing.capacity = sharing_lines
    c.sharing.harts = harts
    if sharing_lines:
        slots = 1
        while slots < 2 * sharing_lines:
            slots *= 2
    c.sharing.slots = slots
    c.harts = <CoherenceStats*>calloc(harts, sizeof(CoherenceStats))
    c.sharing.records = <SharingRecord*>calloc(slots, sizeof(SharingRecord))
    c.sharing.written = <uint64_t*>calloc(<size_t>slots * harts, sizeof(uint64_t))
    if c.harts == NULL or (slots and (c.sharing.records == NULL or c.sharing.written == NULL)):
        coherence_free(c)
        raise MemoryError()
    coherence_reset(c)
    return 0


cdef void coherence_free(Coherence* c) noexcept nogil:
    free(c.harts)
    free(c.sharing.records)
    free(c.sharing.written)
    c.harts = NULL
    c.sharing.records = NULL
    c.sharing.written = NULL


cdef void coherence_reset(Coherence* c) noexcept nogil:
    """Idle bus, zero counters and versions, empty sharing table; parameters stay."""
    cdef uint32_t slot
    c.bus.free_at = 0
    memset(c.bus.transactions, 0, sizeof(c.bus.transactions))
    c.bus.wait_cycles = 0
    c.bus.busy_cycles = 0
    memset(c.harts, 0, c.sharing.harts * sizeof(CoherenceStats))
    for slot in range(c.sharing.slots):
        memset(&c.sharing.records[slot], 0, sizeof(SharingRecord))
        c.sharing.records[slot].line = NO_LINE
    memset(c.sharing.written, 0, <size_t>c.sharing.slots * c.sharing.harts * sizeof(uint64_t))
    c.sharing.used = 0
    c.sharing.overflow = 0
    c.version_clock = 0
    c.errors = 0
    c.error_state = 0
    c.error_event = 0

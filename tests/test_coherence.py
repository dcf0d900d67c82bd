"""MESI coherence among the harts' L1s (emu/_core/coherence, hierarchy): the protocol
table, transactions with hand-derived outcomes, bus arbitration, LR/SC reservations,
the false-sharing report, and a hypothesis state machine that checks the
single-writer/multiple-reader and data-value invariants after every step.

Most tests use test_cache.SMALL's hierarchy (L1D hit 3 cycles, L2 10, DRAM 100,
64-byte lines everywhere) with a bus that holds B = 5 cycles per transaction. An L1
miss of a hart therefore takes L1 + B + L2 (+ DRAM when cold), a dirty line from
another hart's L1 L1 + B + L1, an upgrade L1 + B. Accesses meant to be independent
are WAIT cycles apart.
"""

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from emu._core import coherence
from emu._core.coherence import ProtocolError, protocol, protocol_markdown, transition
from emu._core.hierarchy import FalseSharing, HierarchyModel
from emu.cache import simulate
from emu.config import CacheConfig
from tests.test_cache import DRAM, L1, L2, SET_STRIDE, SMALL, WAIT

B = 5
X = 0x4000      # a line
Y = 0x8000      # another


def model(harts, config=SMALL, **kwargs):
    return HierarchyModel(config, harts, bus_latency=kwargs.pop("bus_latency", B), **kwargs)


def states(m, addr, level="l1d"):
    return [m.state(level, addr, hart) for hart in range(m.harts)]


def transactions(m):
    return m.coherence_stats()["bus"]["transactions"]


# ---- the protocol table -------------------------------------------------------------

def test_every_pair_is_a_row_or_a_named_error():
    rows = {(row.state, row.event) for row in protocol()}
    errors = 0
    for state in coherence.STATES:
        for event in coherence.EVENTS:
            try:
                transition(state, event)
            except ProtocolError as error:
                assert (state, event) not in rows
                assert error.kind in coherence.PROTOCOL_ERRORS
                errors += 1
            else:
                assert (state, event) in rows
    assert len(rows) == len(protocol()) and errors + len(rows) == 7 * 11


def test_the_c_table_holds_the_rows():
    for row in protocol():
        assert transition(row.state, row.event) == (row.next, row.actions)


@pytest.mark.parametrize("state, event, name", [
    ("E", "BusUpgr", "SecondWriter"), ("M", "BusUpgr", "SecondWriter"),
    ("IS_D", "BusRd", "AtomicBus"), ("SM_D", "Store", "AtomicBus"),
    ("I", "Replacement", "NoLine"), ("M", "Data", "NoRequest"),
    ("IM_D", "DataShared", "SharedAfterRdX"), ("SM_D", "Data", "DataForUpgrade"),
    ("IS_D", "Ack", "AckForData"),
])
def test_impossible_pairs_are_named_errors(state, event, name):
    with pytest.raises(ProtocolError, match=name) as error:
        transition(state, event)
    assert (error.value.state, error.value.event, error.value.kind.name) == (state, event, name)


def test_the_docs_show_the_table():
    docs = (Path(__file__).parent.parent / "docs" / "architecture.md").read_text()
    assert protocol_markdown() in docs


# ---- transactions, by hand ----------------------------------------------------------

def test_one_hart_has_no_bus():
    m = model(1, bus_latency=50)
    assert m.access(X, cycle=0) == L1 + L2 + DRAM
    assert m.access(X, "store", cycle=WAIT) == L1
    assert sum(transactions(m).values()) == 0


def test_two_readers_share_and_a_writer_invalidates_both():
    m = model(3)
    assert m.access(X, cycle=0, hart=0) == L1 + B + L2 + DRAM
    assert states(m, X) == ["E", "I", "I"]
    assert m.access(X, cycle=WAIT, hart=1) == L1 + B + L2
    assert states(m, X) == ["S", "S", "I"]
    assert m.access(X, "store", cycle=2 * WAIT, hart=2) == L1 + B + L2
    assert states(m, X) == ["I", "I", "M"]
    stats = m.coherence_stats()
    assert stats["invalidations_sent"].tolist() == [0, 0, 2]
    assert stats["invalidations_received"].tolist() == [1, 1, 0]
    assert stats["downgrades"].tolist() == [1, 0, 0]           # hart 0's E became S
    assert transactions(m) == {"BusRd": 2, "BusRdX": 1, "BusUpgr": 0}


def test_a_read_of_a_modified_line_is_an_intervention():
    """The owner supplies the line (its hit latency after the snoop), writes it back to
    the L2 and keeps an S copy; the L2 is not looked up."""
    m = model(2)
    m.access(X, "store", cycle=0, hart=0)
    l2_lookups = m.stats("l2")["hits"].sum() + m.stats("l2")["misses"].sum()
    assert m.access(X, cycle=WAIT, hart=1) == L1 + B + L1
    assert states(m, X) == ["S", "S"]
    stats = m.coherence_stats()
    assert stats["interventions"].tolist() == [1, 0]
    assert m.stats("l1d", 0)["writebacks"] == 1
    assert m.stats("l2")["writeback_hits"] == 1 and m.state("l2", X) == "M"
    assert m.stats("l2")["hits"].sum() + m.stats("l2")["misses"].sum() == l2_lookups
    assert m.version("l1d", X, 1) == m.version("l1d", X, 0) == m.version("l2", X) == 1


def test_a_write_of_a_modified_line_moves_it():
    m = model(2)
    m.access(X, "store", cycle=0, hart=0)
    assert m.access(X, "atomic", cycle=WAIT, hart=1) == L1 + B + L1
    assert states(m, X) == ["I", "M"]
    stats = m.coherence_stats()
    assert stats["interventions"].tolist() == [1, 0]
    assert stats["invalidations_sent"].tolist() == [0, 1]
    assert m.stats("l1d", 0)["writebacks"] == 0                # the dirty data moved on
    assert m.version("l1d", X, 1) == 2


def test_exclusive_to_modified_is_silent():
    m = model(2)
    m.access(X, cycle=0, hart=0)
    before = transactions(m)
    assert m.access(X, "store", cycle=WAIT, hart=0) == L1
    assert transactions(m) == before and states(m, X) == ["M", "I"]
    assert m.coherence_stats()["silent_upgrades"].tolist() == [1, 0]


def test_a_write_to_a_shared_line_is_an_upgrade_miss():
    m = model(2)
    m.access(X, cycle=0, hart=0)
    m.access(X, cycle=WAIT, hart=1)
    assert m.access(X, "store", cycle=2 * WAIT, hart=0) == L1 + B
    assert states(m, X) == ["M", "I"]
    stats = m.coherence_stats()
    assert stats["upgrade_misses"].tolist() == [1, 0]
    assert stats["requests"][0].tolist() == [1, 0, 1]          # BusRd, then BusUpgr
    assert stats["invalidations_received"].tolist() == [0, 1]
    assert m.stats("l1d", 0)["hits"].sum() == 1                 # the tags hit


def test_an_intervention_waits_for_the_owners_own_fill():
    """Hart 0's cold store holds the line M from cycle 0, its data arriving at
    L1 + B + L2 + DRAM; hart 1's read, granted the bus once hart 0's transaction freed
    it, gets the data L1 cycles after that fill."""
    m = model(2)
    fill = m.access(X, "store", cycle=0, hart=0)
    assert m.access(X, cycle=1, hart=1) == fill + L1 - 1
    assert m.coherence_stats()["bus_wait_cycles"].tolist() == [0, L1 + B - (1 + L1)]


def test_instruction_copies_take_part():
    """A hart's L1I copy makes another hart's fill S, and another hart's write removes it;
    the hart's own writes leave it (instruction fetch sees them after fence.i)."""
    m = model(2)
    m.access(X, "fetch", cycle=0, hart=0)
    m.access(X, cycle=WAIT, hart=1)
    assert (m.state("l1i", X, 0), m.state("l1d", X, 1)) == ("S", "S")
    m.access(X, "store", cycle=2 * WAIT, hart=1)
    assert m.state("l1i", X, 0) == "I"
    assert m.coherence_stats()["invalidations_received"].tolist() == [1, 0]
    m.access(Y, "fetch", cycle=3 * WAIT, hart=0)
    m.access(Y, "store", cycle=4 * WAIT, hart=0)
    assert (m.state("l1i", Y, 0), m.state("l1d", Y, 0)) == ("E", "M")


def test_an_inclusive_l2_recalls_every_harts_copies():
    tiny_l2 = CacheConfig(size=128, ways=2, line_size=64, hit_latency=L2)    # one set, 2 ways
    m = model(2, SMALL.replace(l2=tiny_l2))
    m.access(0, cycle=0, hart=0)
    m.access(0, "store", cycle=WAIT, hart=1)                    # M in hart 1 only
    m.access(64, cycle=2 * WAIT, hart=0)
    m.access(128, cycle=3 * WAIT, hart=0)                       # the L2 evicts line 0
    assert states(m, 0) == ["I", "I"] and m.state("l2", 0) == "I"
    assert m.stats("l1d", 1)["back_invalidations"] == 1
    assert m.dram_stats()["writes"] == 1                        # hart 1's dirty copy


def test_l1_prefetches_are_coherent_reads():
    m = model(2, SMALL.replace(l1d=SMALL.l1d.replace(prefetcher="next_line")))
    m.access(X + 64, "store", cycle=0, hart=1)
    m.access(X, cycle=WAIT, hart=0)                             # prefetches X + 64
    assert states(m, X + 64) == ["S", "S"]
    assert m.coherence_stats()["interventions"].tolist() == [0, 1]


# ---- the bus ------------------------------------------------------------------------

def test_the_bus_grants_in_request_order():
    """Three cold misses to different lines in one cycle, asked by harts 2, 0, 1: one
    transaction at a time, in that order, each B cycles after the one before."""
    def run():
        m = model(3)
        latencies = [m.access(line * SET_STRIDE, cycle=0, hart=hart)
                     for line, hart in ((1, 2), (2, 0), (3, 1))]
        return latencies, m.coherence_stats()
    latencies, stats = run()
    assert latencies == [L1 + B + L2 + DRAM + k * B for k in range(3)]
    assert stats["bus_wait_cycles"].tolist() == [B, 2 * B, 0]
    assert stats["bus"]["wait_cycles"] == 3 * B and stats["bus"]["busy_cycles"] == 3 * B
    again, _ = run()
    assert again == latencies


def test_a_request_after_the_bus_freed_does_not_wait():
    m = model(2)
    m.access(X, cycle=0, hart=0)
    m.access(Y, cycle=B, hart=1)                               # asks at B + L1: free again
    assert m.coherence_stats()["bus"]["wait_cycles"] == 0


# ---- LR/SC reservations ------------------------------------------------------------

def test_a_remote_store_breaks_a_reservation_and_a_local_one_does_not():
    m = model(2)
    m.access(X, "atomic", cycle=0, hart=0)
    m.reserve(0, X)
    m.access(X + 4, "store", cycle=WAIT, hart=0)
    assert m.reservation_held(0, X) and not m.reservation_held(0, Y)
    m.access(Y, "store", cycle=2 * WAIT, hart=1)               # another line
    assert m.reservation_held(0, X)
    m.access(X + 32, "store", cycle=3 * WAIT, hart=1)          # same line, other bytes
    assert not m.reservation_held(0, X)
    assert m.coherence_stats()["reservations_broken"].tolist() == [1, 0]


def test_a_reservation_on_an_evicted_line_still_breaks():
    """Hart 0 lost the line (four more lines in its L1D set), so no invalidation reaches
    it, and hart 1 even writes it silently (E -> M): the reservation must end anyway."""
    m = model(2)
    m.access(X, "atomic", cycle=0, hart=0)
    m.reserve(0, X)
    for k in range(1, 5):
        m.access(X + k * SET_STRIDE, cycle=k * WAIT, hart=0)
    assert m.state("l1d", X, 0) == "I"
    m.access(X, cycle=6 * WAIT, hart=1)
    m.access(X, "store", cycle=7 * WAIT, hart=1)
    assert m.coherence_stats()["silent_upgrades"].tolist() == [0, 1]
    assert not m.reservation_held(0, X)


def test_release_ends_a_reservation():
    m = model(2)
    m.reserve(1, X)
    m.release(1)
    assert not m.reservation_held(1, X)


def test_a_dma_write_drops_every_cached_copy_and_reservations_on_it():
    """Data lives in RAM, so a device write makes every cached copy stale, even a dirty
    one (its bytes are already in RAM, now overwritten): all levels lose the lines, a
    dirty L1 copy through a Recall (counted as its writeback), and nothing refills."""
    m = model(2)
    m.access(X, "store", cycle=0, hart=0)                      # dirty in hart 0's L1D
    m.access(Y, cycle=WAIT, hart=1)
    m.reserve(1, Y)
    assert m.state("l1d", X, 0) == "M" and m.state("l2", X) != "I"
    m.dma_write(X + 3, 2)                                      # any byte of the line
    m.dma_write(Y, 4)
    for addr in (X, Y):
        assert m.state("l1d", addr, 0) == m.state("l1d", addr, 1) == m.state("l2", addr) == "I"
    assert not m.reservation_held(1, Y)
    m.dma_write(X + 4096, 0)                                   # nothing written: nothing dropped
    m.access(X, cycle=3 * WAIT, hart=0)
    assert m.state("l1d", X, 0) == "E"


# ---- sharing and false sharing ------------------------------------------------------

def ping_pong(m, offsets, rounds=4, width=4):
    """Harts 0, 1, 0, 1, ... store `width` bytes at X + offsets[hart]."""
    for k in range(2 * rounds):
        hart = k % 2
        m.access(X + offsets[hart], "store", cycle=k * WAIT, hart=hart, width=width)


def test_false_sharing_is_reported_with_its_line():
    m = model(2)
    ping_pong(m, (0, 8))
    assert m.false_sharing() == [FalseSharing(X, (0, 1), {0: 0xF, 1: 0xF00})]
    line, = m.sharing()
    assert (line.invalidations, line.interventions) == (7, 7)


def test_true_sharing_is_not_false_sharing():
    m = model(2)
    ping_pong(m, (0, 0))
    assert m.false_sharing() == []
    line, = m.sharing()
    assert line.writers == (0, 1) and line.masks == {0: 0xF, 1: 0xF}


def test_private_lines_and_read_sharing_are_not_recorded():
    m = model(2)
    m.access(X, "store", cycle=0, hart=0)
    m.access(Y, "store", cycle=WAIT, hart=1)
    m.access(X + 64, cycle=2 * WAIT, hart=0)
    m.access(X + 64, cycle=3 * WAIT, hart=1)
    assert m.sharing() == [] and m.coherence_stats()["sharing_lines"] == 0


def test_written_bytes_follow_the_width_and_survive_eviction():
    """A byte store at offset 5 is bit 5; hart 1's half-word at 10 is bits 10-11 once
    its copy leaves (evicted by four more lines in its set) after the line was shared."""
    m = model(2)
    m.access(X + 5, "store", cycle=0, hart=0, width=1)
    m.access(X + 10, "store", cycle=WAIT, hart=1, width=2)
    for k in range(1, 5):
        m.access(X + k * SET_STRIDE, cycle=(1 + k) * WAIT, hart=1)
    assert m.state("l1d", X, 1) == "I"
    assert m.false_sharing() == [FalseSharing(X, (0, 1), {0: 1 << 5, 1: 0b11 << 10})]


def test_lines_over_64_bytes_are_recorded_in_granules():
    config = SMALL.replace(l1d=SMALL.l1d.replace(line_size=128, size=2048),
                           l2=SMALL.l2.replace(line_size=128))
    m = model(2, config)
    m.access(X + 8, "store", cycle=0, hart=0)                  # bytes 8-11: granules 4-5
    m.access(X + 126, "store", cycle=WAIT, hart=1, width=2)    # bytes 126-127: granule 63
    assert m.false_sharing() == [FalseSharing(X, (0, 1), {0: 0b11 << 4, 1: 1 << 63})]


def test_the_sharing_table_is_bounded():
    m = model(2, sharing_lines=2)
    for k in range(5):
        m.access(X + k * 64, "store", cycle=2 * k * WAIT, hart=0)
        m.access(X + k * 64 + 8, "store", cycle=(2 * k + 1) * WAIT, hart=1)
    stats = m.coherence_stats()
    assert (stats["sharing_lines"], stats["sharing_overflow"]) == (2, 3)
    assert [line.line for line in m.false_sharing()] == [X, X + 64]


def test_simulate_reports_coherence():
    addresses = np.array([X, X + 8] * 3, np.uint32)
    stats = simulate(SMALL, addresses, np.ones(6, np.uint8), harts=[0, 1] * 3,
                     cycles=np.arange(6, dtype=np.uint64) * WAIT, bus_latency=B)
    assert stats.coherence.false_sharing[0].line == X
    assert int(stats.coherence.invalidations_sent.sum()) == 5
    assert f"false sharing: line {X:#x}" in str(stats)
    single = simulate(SMALL, addresses, np.ones(6, np.uint8))
    assert "coherence" not in str(single)


# ---- invariants under random multi-hart streams -------------------------------------

LINES = 6                       # lines the harts use: 0, 2, 4 in L1D set 0, 1, 3, 5 in set 1
PREFETCHED = LINES + 1          # a next-line prefetcher may also bring in the one after
BASE = 0x10000
# 2 sets x 2 ways of 64-byte lines: replacements all the time; the 16 KiB L2 keeps every line
RANDOM_L1D = CacheConfig(size=256, ways=2, line_size=64, hit_latency=2, mshrs=2)


def line_addr(line):
    return BASE + 64 * line


class CoherenceMachine(RuleBasedStateMachine):
    """Random loads, stores, atomics and fetches by 2-4 harts to a handful of lines, at
    random (non-decreasing) cycles, so fills and transactions overlap. A Python shadow
    keeps each line's latest write version and each hart's reservation."""

    @initialize(harts=st.integers(2, 4), inclusive=st.booleans(), bus=st.integers(0, 8),
                prefetcher=st.sampled_from(["none", "next_line"]))
    def build(self, harts, inclusive, bus, prefetcher):
        config = SMALL.replace(inclusive=inclusive,
                               l1d=RANDOM_L1D.replace(prefetcher=prefetcher),
                               l1i=RANDOM_L1D)
        self.m = HierarchyModel(config, harts, bus_latency=bus)
        self.latest = [0] * (PREFETCHED + 1)    # version of each line's newest write
        self.reserved = [None] * harts          # the line each hart reserved
        self.cycle = 0

    def advance(self, gap):
        self.cycle += gap
        return self.cycle

    @rule(data=st.data(), line=st.integers(0, LINES - 1), word=st.integers(0, 15),
          kind=st.sampled_from(["load", "store", "atomic", "fetch"]), gap=st.integers(0, 30))
    def access(self, data, line, word, kind, gap):
        hart = data.draw(st.integers(0, self.m.harts - 1))
        addr = line_addr(line) + 4 * word
        self.m.access(addr, kind, cycle=self.advance(gap), hart=hart)
        if kind in ("store", "atomic"):
            version = self.m.version("l1d", addr, hart)
            assert version > max(self.latest)
            self.latest[line] = version
            for other, reserved in enumerate(self.reserved):
                if other != hart and reserved == line:
                    self.reserved[other] = None
        elif kind == "load":
            assert self.m.version("l1d", addr, hart) == self.latest[line]

    @rule(data=st.data(), line=st.integers(0, LINES - 1))
    def reserve(self, data, line):
        hart = data.draw(st.integers(0, self.m.harts - 1))
        self.m.reserve(hart, line_addr(line))
        self.reserved[hart] = line

    @rule(data=st.data())
    def release(self, data):
        hart = data.draw(st.integers(0, self.m.harts - 1))
        self.m.release(hart)
        self.reserved[hart] = None

    @invariant()
    def single_writer_multiple_readers(self):
        """Per line: at most one M or E copy among the L1Ds, and none beside any other
        hart's copy (L1I or L1D)."""
        for line in range(PREFETCHED + 1):
            addr = line_addr(line)
            data = [self.m.state("l1d", addr, h) for h in range(self.m.harts)]
            code = [self.m.state("l1i", addr, h) for h in range(self.m.harts)]
            owners = [h for h, state in enumerate(data) if state in "ME"]
            assert len(owners) <= 1, (line, data)
            for owner in owners:
                others = [s for h, s in enumerate(data + code) if h % self.m.harts != owner]
                assert set(others) <= {"I"}, (line, data, code)
            assert set(code) <= {"I", "S", "E"}

    @invariant()
    def data_value(self):
        """Every valid L1D copy holds the newest write (a stale copy would be read)."""
        for line in range(PREFETCHED + 1):
            for hart in range(self.m.harts):
                version = self.m.version("l1d", line_addr(line), hart)
                assert version is None or version == self.latest[line], (line, hart)
        assert self.m.stats("l2")["evictions"] == 0     # DRAM keeps no versions

    @invariant()
    def reservations(self):
        """A hart holds exactly the reservation it took, unless another hart wrote the line."""
        for hart, reserved in enumerate(self.reserved):
            for line in range(LINES):
                assert self.m.reservation_held(hart, line_addr(line)) == (line == reserved)

    @invariant()
    def counters_balance(self):
        stats = self.m.coherence_stats()
        assert stats["invalidations_sent"].sum() == stats["invalidations_received"].sum()
        assert stats["requests"].sum() == sum(stats["bus"]["transactions"].values())


CoherenceMachine.TestCase.settings = settings(max_examples=150, stateful_step_count=60,
                                              deadline=None)
test_coherence_invariants = CoherenceMachine.TestCase


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 3), st.integers(0, LINES - 1), st.integers(0, 15),
                          st.sampled_from([0, 1, 2])), min_size=1, max_size=300))
def test_reported_bytes_were_written_by_those_harts(accesses):
    """Soundness of the sharing table: every byte it attributes to a hart, that hart
    wrote to that line."""
    m = HierarchyModel(SMALL.replace(l1d=RANDOM_L1D), 4, bus_latency=B)
    wrote = {}
    for k, (hart, line, word, kind) in enumerate(accesses):
        m.access(line_addr(line) + 4 * word, ("load", "store", "atomic")[kind], cycle=k,
                 hart=hart)
        if kind:
            wrote[hart, line_addr(line)] = wrote.get((hart, line_addr(line)), 0) | 0xF << 4 * word
    for record in m.sharing():
        for hart, mask in record.masks.items():
            assert mask & ~wrote[hart, record.line] == 0

"""The trace-driven cache mode: run an address trace through a cache hierarchy in C.

For users who want cache behaviour without running a program. `simulate(config,
addresses, kinds)` runs numpy arrays of addresses and access kinds through the same
hierarchy the cores are timed with (emu/_core/hierarchy.pyx) in one nogil loop and
returns a CacheStats: per-level hits and misses (by access kind, and per set as numpy
arrays), writebacks, MSHR and prefetch counters, DRAM traffic, the average memory
access time (AMAT) and, with several harts, the coherence traffic among their L1s and
the false-sharing report (CoherenceStats). This module owns that summary and its text
form.

Counting follows cachegrind and pycachesim: hits and misses are the tag arrays'
answers in access order, independent of timing. An access to a line whose fill is
still on the way is a hit that also counts as an MSHR merge (gem5 would count it as an
"MSHR hit", among its misses).
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from emu._core.hierarchy import (ACCESS_KIND_NAMES, COHERENCE_COUNTERS, FalseSharing,
                                 HierarchyModel, SharedLine)
from emu.config import ConfigError, MemoryHierarchyConfig

LOAD, STORE, ATOMIC, FETCH = 0, 1, 2, 3
#: Kinds a core or a trace issues (prefetch requests only travel between levels).
DEMAND_KINDS = (LOAD, STORE, ATOMIC, FETCH)


@dataclass(frozen=True)
class LevelStats:
    """The counters of one level (the L1s of all harts summed). `hits`, `misses` are
    indexed by access kind (load, store, atomic, fetch, prefetch: a prefetch request
    from an inner level); `set_hits`, `set_misses` by set."""

    name: str
    hits: np.ndarray
    misses: np.ndarray
    set_hits: np.ndarray
    set_misses: np.ndarray
    mshr_merges: int
    mshr_stalls: int
    mshr_stall_cycles: int
    evictions: int
    writebacks: int
    writeback_hits: int
    writeback_misses: int
    back_invalidations: int
    prefetches_issued: int
    prefetches_useful: int
    prefetches_unused: int
    prefetches_dropped: int

    @property
    def accesses(self) -> int:
        """Lookups of any kind (writebacks from inner levels are not lookups)."""
        return int(self.hits.sum() + self.misses.sum())

    @property
    def miss_rate(self) -> float:
        return int(self.misses.sum()) / self.accesses if self.accesses else 0.0

    @property
    def set_miss_rate(self) -> np.ndarray:
        """Misses / lookups per set (0 where a set was never looked up)."""
        lookups = self.set_hits + self.set_misses
        return np.divide(self.set_misses, lookups, out=np.zeros(len(lookups)), where=lookups > 0)

    @classmethod
    def summed(cls, name: str, counters: list[dict]) -> "LevelStats":
        """One level's stats from HierarchyModel.stats() dicts (one per hart for an L1)."""
        return cls(name=name, **{f.name: sum(c[f.name] for c in counters)
                                 for f in fields(cls) if f.name != "name"})


@dataclass(frozen=True)
class DramStats:
    reads: int              # lines read into the last cache level
    writes: int             # dirty lines written back from it
    read_queue_cycles: int  # cycles reads waited for the busy channel
    busy_cycles: int        # cycles the channel was transferring


@dataclass(frozen=True)
class CoherenceStats:
    """The coherence traffic among the harts' L1s. Per hart (numpy arrays indexed by
    hart): the bus requests its L1s issued (`requests`, harts x 3: BusRd, BusRdX,
    BusUpgr) and the counters of COHERENCE_COUNTERS; the bus's transactions by request
    and its busy and wait cycles; the lines that moved between harts because of writes
    (`shared_lines`, from the sharing table, which had no room for `sharing_overflow`
    events) and those of them that are falsely shared."""

    harts: int
    requests: np.ndarray
    invalidations_sent: np.ndarray
    invalidations_received: np.ndarray
    interventions: np.ndarray
    downgrades: np.ndarray
    upgrade_misses: np.ndarray
    silent_upgrades: np.ndarray
    bus_wait_cycles: np.ndarray
    reservations_broken: np.ndarray
    bus_transactions: dict[str, int]
    bus_busy_cycles: int
    shared_lines: tuple[SharedLine, ...]
    false_sharing: tuple[FalseSharing, ...]
    sharing_overflow: int

    @classmethod
    def from_model(cls, model: HierarchyModel) -> "CoherenceStats":
        stats = model.coherence_stats()
        return cls(harts=model.harts, requests=stats["requests"],
                   **{name: stats[name] for name in COHERENCE_COUNTERS},
                   bus_transactions=stats["bus"]["transactions"],
                   bus_busy_cycles=stats["bus"]["busy_cycles"],
                   shared_lines=tuple(model.sharing()),
                   false_sharing=tuple(model.false_sharing()),
                   sharing_overflow=stats["sharing_overflow"])

    def __str__(self) -> str:
        requests = ", ".join(f"{count} {name}" for name, count in self.bus_transactions.items())
        lines = [f"coherence: {requests} on the bus ({self.bus_busy_cycles} cycles busy, "
                 f"{int(self.bus_wait_cycles.sum())} waited); "
                 f"{int(self.invalidations_sent.sum())} invalidations, "
                 f"{int(self.interventions.sum())} interventions, "
                 f"{int(self.upgrade_misses.sum())} upgrade misses"]
        for line in self.false_sharing:
            lines.append(f"false sharing: line {line.line:#x} written by harts "
                         f"{', '.join(map(str, line.harts))} at disjoint bytes")
        if self.sharing_overflow:
            lines.append(f"sharing table full: {self.sharing_overflow} events not recorded")
        return "\n".join(lines)


@dataclass(frozen=True)
class CacheStats:
    """What a trace did to a hierarchy: `levels` by name ("l1i", "l1d", "l2", "l3"),
    the DRAM, the accesses and their summed latencies per access kind, and the
    coherence traffic (which is all zero with one hart)."""

    levels: dict[str, LevelStats]
    dram: DramStats
    accesses: np.ndarray
    latency_sum: np.ndarray
    coherence: CoherenceStats

    @classmethod
    def from_model(cls, model: HierarchyModel) -> "CacheStats":
        levels = {}
        for name in model.levels:
            harts = range(model.harts) if name in ("l1i", "l1d") else range(1)
            levels[name] = LevelStats.summed(name, [model.stats(name, hart) for hart in harts])
        dram = model.dram_stats()
        accesses, latency_sum = model.demand_stats()
        return cls(levels=levels, dram=DramStats(**{f.name: dram[f.name] for f in fields(DramStats)}),
                   accesses=accesses, latency_sum=latency_sum,
                   coherence=CoherenceStats.from_model(model))

    def __getitem__(self, level: str) -> LevelStats:
        return self.levels[level]

    def as_stats(self) -> dict:
        """The counters under gem5-like names, as plain numbers (for `emu run --stats`)."""
        out: dict = {}
        for name, level in self.levels.items():
            hits, misses = int(level.hits.sum()), int(level.misses.sum())
            out[name] = {"overallHits": hits, "overallMisses": misses,
                         "overallMissRate": level.miss_rate, "mshrMerges": level.mshr_merges,
                         "mshrStallCycles": level.mshr_stall_cycles,
                         "writebacks": level.writebacks,
                         "prefetchesIssued": level.prefetches_issued,
                         "prefetchesUseful": level.prefetches_useful}
        out["dram"] = {"reads": self.dram.reads, "writes": self.dram.writes,
                       "readQueueCycles": self.dram.read_queue_cycles}
        out["amat"] = self.amat
        if self.coherence is not None and self.coherence.harts > 1:
            c = self.coherence
            out["coherence"] = {
                "invalidationsSent": int(c.invalidations_sent.sum()),
                "invalidationsReceived": int(c.invalidations_received.sum()),
                "interventions": int(c.interventions.sum()),
                "upgradeMisses": int(c.upgrade_misses.sum()),
                "reservationsBroken": int(c.reservations_broken.sum()),
                "falselySharedLines": [f"{entry.line:#010x}" for entry in c.false_sharing],
            }
        return out

    @property
    def amat(self) -> float:
        """Average memory access time in cycles over every access of the trace."""
        total = int(self.accesses.sum())
        return int(self.latency_sum.sum()) / total if total else 0.0

    def __str__(self) -> str:
        lines = [f"{'level':<6}{'accesses':>12}{'hits':>12}{'misses':>12}{'miss rate':>11}"
                 f"{'merges':>10}{'writebacks':>12}"]
        for s in self.levels.values():
            lines.append(f"{s.name:<6}{s.accesses:>12}{int(s.hits.sum()):>12}"
                         f"{int(s.misses.sum()):>12}{s.miss_rate:>10.2%} {s.mshr_merges:>10}"
                         f"{s.writebacks:>12}")
        for s in self.levels.values():
            if s.prefetches_issued or s.prefetches_dropped:
                lines.append(f"{s.name} prefetches: {s.prefetches_issued} issued, "
                             f"{s.prefetches_useful} useful, {s.prefetches_unused} unused, "
                             f"{s.prefetches_dropped} dropped")
        lines.append(f"dram: {self.dram.reads} reads, {self.dram.writes} writes, "
                     f"{self.dram.read_queue_cycles} cycles queued")
        by_kind = ", ".join(f"{int(self.accesses[k])} {ACCESS_KIND_NAMES[k]}"
                            for k in DEMAND_KINDS if self.accesses[k])
        lines.append(f"AMAT: {self.amat:.2f} cycles over {int(self.accesses.sum())} accesses"
                     + (f" ({by_kind})" if by_kind else ""))
        if self.coherence.harts > 1:
            lines.append(str(self.coherence))
        return "\n".join(lines)


def simulate(config: MemoryHierarchyConfig, addresses, kinds, *, harts=None, cycles=None,
             pcs=None, widths=None, bus_latency=None, sharing_lines=None) -> CacheStats:
    """Run a trace through a fresh hierarchy and summarise it.

    `addresses`: uint32 byte addresses; `kinds`: uint8, 0 load, 1 store, 2 atomic,
    3 fetch (fetches go to the L1I). Optional, one per access: `cycles` (uint64,
    non-decreasing; default one access per cycle), `harts` (which hart's L1s; the
    hierarchy gets max + 1 harts, whose L1s are kept coherent over a snooping bus),
    `pcs` (the instruction's pc, for the stride prefetcher; default 0, which makes it a
    global stride detector), `widths` (uint8, bytes a store or atomic writes, default
    4: the false-sharing report's byte offsets). `bus_latency` (cycles per bus
    transaction) and `sharing_lines` (the sharing table's capacity) default to the
    hierarchy's defaults. Accesses issue at their cycles whatever earlier ones cost,
    like independent requests: a trace that misses faster than the DRAM channel
    transfers lines queues ever longer (and AMAT grows with it); pace it with `cycles`.
    """
    if not isinstance(config, MemoryHierarchyConfig):
        raise ConfigError(f"config must be a MemoryHierarchyConfig, not {type(config).__name__}")
    hart_count = 1
    if harts is not None:
        harts = np.ascontiguousarray(harts, np.uint32)
        hart_count = int(harts.max()) + 1 if len(harts) else 1
    model = HierarchyModel(config, hart_count, bus_latency=bus_latency, sharing_lines=sharing_lines)
    model.run(addresses, kinds, cycles=cycles, harts=harts, pcs=pcs, widths=widths)
    return CacheStats.from_model(model)

"""The trace-driven cache mode (emu.cache) against pycachesim, hit for hit.

pycachesim (RRZE-HPC, the `cachesim` module) simulates a single-core LRU write-back
write-allocate hierarchy in C. The equivalent emu hierarchy and how a trace is fed to
it:

- **Non-inclusive.** pycachesim fills every level a load missed in but never removes a
  line from an inner level when an outer one evicts it (its "inclusive" is only by
  convention). That is emu's `inclusive=False`; emu's inclusive mode (back-invalidation)
  has no pycachesim counterpart and is tested by hand in test_cache.py.
- **Stores.** emu counts a store as a lookup: a hit (making the line M and the most
  recently used) or a write-allocate miss that fetches the line like a load. A
  pycachesim store that hits counts no hit and does not touch the LRU order, and one
  that misses counts as a load miss of the line. So each emu store is fed to
  pycachesim as a load (the lookup: counted, LRU updated, line fetched on a miss)
  followed by a store to the same byte (which then always finds the line and marks it
  dirty): `loadstore([((addr,), (addr,))])`.
- **Writebacks.** A dirty victim goes to the next level's `store_to`. The outer levels
  are built with write_allocate=False, so a writeback that finds its line marks it dirty
  without counting a hit or touching the LRU order, and one that misses inserts the line
  dirty (most recently used) without fetching it or counting a miss: a whole line
  needs no fetch. That is what emu's writeback path does; with write_allocate=True
  pycachesim would count each such writeback miss as a load miss and fetch the line
  from further out.
- **Instruction fetches** go to a separate L1I cache whose load_from/store_to are the
  shared L2; loads and stores go to the L1D. Runs of consecutive accesses to the same L1
  are fed in one batched `loadstore` call.
- **Counts compared**, per level: pycachesim HIT_count/MISS_count = emu's hits/misses
  summed over access kinds (emu counts an access to a line whose fill is still pending
  as a hit, and a merge; pycachesim has no time); EVICT_count (dirty evictions) = emu's
  writebacks; STORE_count of an outer level = the writebacks it received; memory's
  loads and stores = DRAM reads and writes. No prefetcher (pycachesim has none).
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from emu.cache import FETCH, LOAD, STORE, simulate
from emu.config import CacheConfig, MemoryHierarchyConfig

cachesim = pytest.importorskip("cachesim")


def pycachesim_hierarchy(config: MemoryHierarchyConfig):
    """pycachesim caches {name: Cache} equivalent to `config` (LRU, non-inclusive)."""
    caches = {}
    outer = None
    for name in reversed(config.levels[2:]):        # l3 (if any), then l2
        c = getattr(config, name)
        caches[name] = outer = cachesim.Cache(
            name, c.sets, c.ways, c.line_size, "LRU", write_back=True, write_allocate=False,
            load_from=outer, store_to=outer)
    for name in ("l1i", "l1d"):
        c = getattr(config, name)
        caches[name] = cachesim.Cache(name, c.sets, c.ways, c.line_size, "LRU", write_back=True,
                                      write_allocate=True, load_from=outer, store_to=outer)
    return caches


def pycachesim_batches(addresses, kinds):
    """The trace as pycachesim `loadstore` batches, one per run of accesses to the same
    L1: [(l1 name, [(loads, stores), ...]), ...] (see the module docstring)."""
    batches = []
    for addr, kind in zip(np.asarray(addresses).tolist(), np.asarray(kinds).tolist()):
        name = "l1i" if kind == FETCH else "l1d"
        if not batches or batches[-1][0] != name:
            batches.append((name, []))
        batches[-1][1].append(((addr,), (addr,) if kind == STORE else None))
    return batches


def feed(caches, batches):
    for name, batch in batches:
        caches[name].loadstore(batch)


def mismatches(config, ours, caches):
    """Where emu's CacheStats `ours` and the pycachesim `caches` disagree: a list of
    (what, emu's count, pycachesim's count), empty when every count is the same."""
    found = []

    def compare(what, mine, theirs):
        if mine != theirs:
            found.append((what, mine, theirs))

    for name in config.levels:
        level, theirs = ours[name], caches[name]
        compare(f"{name} hits", int(level.hits.sum()), theirs.HIT_count)
        compare(f"{name} misses", int(level.misses.sum()), theirs.MISS_count)
        compare(f"{name} writebacks", level.writebacks, theirs.EVICT_count)
        if name not in ("l1i", "l1d"):
            compare(f"{name} writebacks received", level.writeback_hits + level.writeback_misses,
                    theirs.STORE_count)
    last = caches[config.levels[-1]]
    compare("dram reads", ours.dram.reads, last.MISS_count)
    compare("dram writes", ours.dram.writes, last.EVICT_count)
    return found


def assert_same_counts(config, addresses, kinds, cycles=None):
    addresses = np.asarray(addresses, np.uint32)
    kinds = np.asarray(kinds, np.uint8)
    ours = simulate(config, addresses, kinds, cycles=cycles)
    caches = pycachesim_hierarchy(config)
    feed(caches, pycachesim_batches(addresses, kinds))
    assert mismatches(config, ours, caches) == []
    return ours


def lru(config: MemoryHierarchyConfig) -> MemoryHierarchyConfig:
    return config.replace(inclusive=False, l1i=config.l1i.replace(replacement="lru"),
                          l1d=config.l1d.replace(replacement="lru"),
                          l2=config.l2.replace(replacement="lru"),
                          l3=None if config.l3 is None else config.l3.replace(replacement="lru"))


SMALL = MemoryHierarchyConfig(
    l1i=CacheConfig(size=1024, ways=2, line_size=64, mshrs=4),
    l1d=CacheConfig(size=2048, ways=4, line_size=64, mshrs=4),
    l2=CacheConfig(size=16384, ways=8, line_size=64, mshrs=8),
    inclusive=False)
WITH_L3 = SMALL.replace(l2=CacheConfig(size=8192, ways=4, line_size=64, mshrs=8),
                        l3=CacheConfig(size=65536, ways=16, line_size=128, mshrs=16))


def structured_traces(n=20_000, seed=7):
    """Sequential, strided, random and reuse traces over a few times the L2's size."""
    rng = np.random.default_rng(seed)
    span = 1 << 17
    data = {
        "sequential": np.arange(n, dtype=np.uint32) * 4 % span,
        "strided": np.arange(n, dtype=np.uint32) * 320 % span,
        "random": rng.integers(0, span, n).astype(np.uint32),
        # a hot 4 KiB working set with occasional far accesses
        "reuse": np.where(rng.random(n) < 0.9, rng.integers(0, 4096, n),
                          rng.integers(0, span, n)).astype(np.uint32),
    }
    for name, addresses in data.items():
        kinds = rng.choice([LOAD, LOAD, STORE, FETCH], n).astype(np.uint8)
        yield name, addresses, kinds


@pytest.mark.parametrize("config", [SMALL, WITH_L3], ids=["l1+l2", "l1+l2+l3"])
@pytest.mark.parametrize("name,addresses,kinds", list(structured_traces()),
                         ids=lambda v: v if isinstance(v, str) else "")
def test_structured_traces_match_pycachesim(config, name, addresses, kinds):
    stats = assert_same_counts(config, addresses, kinds)
    assert stats["l1d"].misses.sum() > 0


def test_default_hierarchy_matches_pycachesim():
    """The default sizes, made non-inclusive, on a trace that overflows the 1 MiB L2."""
    rng = np.random.default_rng(3)
    n = 50_000
    addresses = (rng.integers(0, 4 << 20, n) & ~3).astype(np.uint32)
    kinds = rng.choice([LOAD, STORE, FETCH], n).astype(np.uint8)
    stats = assert_same_counts(lru(MemoryHierarchyConfig()), addresses, kinds)
    assert stats["l2"].writebacks > 0


@st.composite
def hierarchies(draw):
    """Small LRU hierarchies: line sizes 16..64 growing outwards, 1..8 ways, up to an L3."""
    line = draw(st.sampled_from([16, 32, 64]))

    def cache(line_size, max_sets_log2):
        ways = draw(st.sampled_from([1, 2, 3, 4, 8]))
        sets = 1 << draw(st.integers(0, max_sets_log2))
        return CacheConfig(size=sets * ways * line_size, ways=ways, line_size=line_size,
                           mshrs=draw(st.integers(1, 4)))

    l2_line = line * draw(st.sampled_from([1, 1, 2]))
    l3 = None
    if draw(st.booleans()):
        l3 = cache(l2_line * draw(st.sampled_from([1, 2])), 5)
    return MemoryHierarchyConfig(l1i=cache(line, 2), l1d=cache(line, 3), l2=cache(l2_line, 4),
                                 l3=l3, inclusive=False)


@st.composite
def traces(draw):
    """Accesses in a small window of lines so that sets conflict and lines come back."""
    window = draw(st.sampled_from([512, 2048, 1 << 14]))
    base = draw(st.integers(0, (1 << 32) - window - 1))
    items = draw(st.lists(st.tuples(st.integers(0, window - 1),
                                    st.sampled_from([LOAD, STORE, FETCH])),
                          min_size=1, max_size=300))
    addresses = np.array([base + offset for offset, _ in items], np.uint32)
    kinds = np.array([kind for _, kind in items], np.uint8)
    return addresses, kinds


@given(hierarchies(), traces(), st.sampled_from([1, 3, 200]))
def test_random_traces_match_pycachesim(config, trace, spacing):
    """Any timing (accesses `spacing` cycles apart) gives pycachesim's counts."""
    addresses, kinds = trace
    assert_same_counts(config, addresses, kinds,
                       cycles=np.arange(len(addresses), dtype=np.uint64) * spacing)

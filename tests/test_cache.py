"""The cache hierarchy (emu/_core/cache, hierarchy, dram, prefetch, repl_*) and the
trace-driven mode (emu.cache), property by property, with hand-derived expectations.

Most tests use SMALL: a 4-set 4-way L1D (set = line >> 6 & 3, so addresses 256 bytes
apart share a set), a 32-set 8-way L2 and a DRAM whose channel is busy one cycle per
line, with latencies L1D 3, L2 10, DRAM 100: a cold load takes 3 + 10 + 100 = 113
cycles. Accesses meant to be independent are spaced WAIT cycles apart so that every
fill has arrived.
"""

import collections

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from emu._core.hierarchy import HierarchyModel
from emu.cache import FETCH, LOAD, STORE, CacheStats, simulate
from emu.config import CacheConfig, ConfigError, MemoryHierarchyConfig

L1, L2, DRAM = 3, 10, 100
WAIT = 1000
SET_STRIDE = 256    # SMALL's L1D: 4 sets of 64-byte lines
SMALL = MemoryHierarchyConfig(
    l1i=CacheConfig(size=512, ways=2, line_size=64, hit_latency=2, mshrs=4),
    l1d=CacheConfig(size=1024, ways=4, line_size=64, hit_latency=L1, mshrs=4),
    l2=CacheConfig(size=16384, ways=8, line_size=64, hit_latency=L2, mshrs=16),
    dram_latency=DRAM, dram_bytes_per_cycle=64)


def with_l1d(config=SMALL, **changes):
    return config.replace(l1d=config.l1d.replace(**changes))


def spaced(n):
    return np.arange(n, dtype=np.uint64) * WAIT


def load_all(model, addresses, kind="load"):
    """Access each address WAIT cycles after the previous one; their latencies."""
    return [model.access(a, kind, cycle=model.cycle + WAIT) for a in addresses]


# ---- configuration ----------------------------------------------------------------

@pytest.mark.parametrize("changes", [
    dict(line_size=48), dict(line_size=2), dict(ways=0), dict(size=3000),
    dict(size=3 * 64 * 8), dict(hit_latency=0), dict(mshrs=0), dict(replacement="fifo"),
    dict(prefetcher="markov"), dict(prefetch_degree=0), dict(prefetch_degree=17),
    dict(ways=3, size=3 * 64 * 4, replacement="plru"), dict(size=1.5),
])
def test_impossible_caches_are_rejected(changes):
    with pytest.raises(ConfigError):
        CacheConfig(**changes)


def test_twelve_way_caches_are_possible():
    """Only the set count must be a power of two: 48 KiB 12-way has 64 sets."""
    assert CacheConfig(size=48 << 10, ways=12).sets == 64


@pytest.mark.parametrize("changes", [
    dict(l2=CacheConfig(line_size=32)),                              # l1 lines larger than l2's
    dict(l3=CacheConfig(size=1 << 20, line_size=32, ways=16)),       # l2 lines larger than l3's
    dict(dram_latency=0), dict(dram_bytes_per_cycle=0), dict(seed=-1), dict(inclusive=1),
    dict(l1d=None), dict(l3="big"),
])
def test_impossible_hierarchies_are_rejected(changes):
    with pytest.raises(ConfigError):
        MemoryHierarchyConfig(**changes)


def test_default_hierarchy():
    config = MemoryHierarchyConfig()
    assert config.levels == ("l1i", "l1d", "l2")
    assert (config.l1d.size, config.l1d.ways) == (32 << 10, 8)
    assert (config.l2.size, config.l2.ways) == (1 << 20, 16)
    model = HierarchyModel(config)
    assert model.geometry("l1d") == (64, 8, 64)
    assert model.geometry("l2") == (1024, 16, 64)
    cold = config.l1d.hit_latency + config.l2.hit_latency + config.dram_latency
    assert model.access(0x1000) == cold


# ---- latency ----------------------------------------------------------------------

@given(st.integers(1, 20), st.integers(1, 50), st.integers(1, 400), st.integers(0, 1 << 20))
def test_latency_of_a_hit_in_each_level(l1, l2, dram, line):
    """Cold: every level's latency; again: the L1's; after the L1 lost it: L1 + L2."""
    config = SMALL.replace(l1d=SMALL.l1d.replace(hit_latency=l1),
                           l2=SMALL.l2.replace(hit_latency=l2), dram_latency=dram)
    model = HierarchyModel(config)
    addr = line * 64
    assert model.access(addr, cycle=0) == l1 + l2 + dram
    assert model.access(addr + 8, cycle=WAIT) == l1
    assert model.access(addr, "store", cycle=2 * WAIT) == l1
    for k in range(1, 5):                       # four more lines in its L1 set evict it
        model.access(addr + k * SET_STRIDE, cycle=(2 + k) * WAIT)
    assert model.state("l1d", addr) == "I"
    assert model.access(addr, cycle=10 * WAIT) == l1 + l2


def test_instruction_fetches_use_the_l1i():
    model = HierarchyModel(SMALL)
    assert model.access(0x4000, "fetch", cycle=0) == 2 + L2 + DRAM
    assert model.access(0x4000, "fetch", cycle=WAIT) == 2
    assert model.state("l1i", 0x4000) == "E" and model.state("l1d", 0x4000) == "I"
    assert model.access(0x4000, "load", cycle=2 * WAIT) == L1 + L2    # the L2 has it


def test_amat_is_the_mean_latency():
    model = HierarchyModel(SMALL)
    rng = np.random.default_rng(5)
    addresses = rng.integers(0, 1 << 14, 500).astype(np.uint32)
    kinds = rng.choice([LOAD, STORE, FETCH], 500).astype(np.uint8)
    latencies = model.run(addresses, kinds, cycles=np.arange(500, dtype=np.uint64) * 7,
                          latencies=True)
    stats = CacheStats.from_model(model)
    assert stats.amat == pytest.approx(latencies.mean())
    assert int(stats.accesses.sum()) == 500
    assert "AMAT" in str(stats) and "l1d" in str(stats)


# ---- MSHRs ------------------------------------------------------------------------

def test_secondary_miss_merges_into_the_primary_one():
    """Two loads to one line a cycle apart: one fill, and the second completes with it."""
    model = HierarchyModel(SMALL)
    first = model.access(0x1000, cycle=0)
    second = model.access(0x1010, cycle=1)
    assert (first, second) == (L1 + L2 + DRAM, L1 + L2 + DRAM - 1)
    l1d, l2 = model.stats("l1d"), model.stats("l2")
    assert (l1d["misses"].sum(), l1d["hits"].sum(), l1d["mshr_merges"]) == (1, 1, 1)
    assert l2["hits"].sum() + l2["misses"].sum() == 1
    assert model.dram_stats()["reads"] == 1
    assert model.access(0x1020, cycle=WAIT) == L1        # after the fill: a plain hit
    assert model.stats("l1d")["mshr_merges"] == 1


def test_full_mshr_file_stalls_a_miss_and_hits_still_proceed():
    """Two MSHRs. Cold misses A and B at cycle WAIT take both (B's DRAM read waits one
    cycle for the channel A holds); C finds both busy and waits until A's fill; a hit
    on D in between is not held up."""
    model = HierarchyModel(with_l1d(mshrs=2))
    d = 0x9000
    model.access(d, cycle=0)
    t = WAIT
    a = model.access(0x1000, cycle=t)
    b = model.access(0x2000, cycle=t)
    c = model.access(0x3000, cycle=t)
    hit = model.access(d, cycle=t + 1)
    a_fill = t + L1 + L2 + DRAM
    assert (a, b) == (L1 + L2 + DRAM, L1 + L2 + DRAM + 1)
    assert c == a_fill + L2 + DRAM - t
    assert hit == L1
    stats = model.stats("l1d")
    assert (stats["mshr_stalls"], stats["mshr_stall_cycles"]) == (1, a_fill - (t + L1))
    assert model.mshrs_busy("l1d", a_fill - 1) == 2      # A and B
    assert model.mshrs_busy("l1d", a_fill) == 2          # B, and C in A's entry
    assert model.mshrs_busy("l1d", t + b) == 1           # C
    assert model.mshrs_busy("l1d", t + c) == 0


@given(st.integers(1, 8), st.integers(1, 30))
def test_mshrs_bound_the_misses_in_flight(mshrs, misses):
    """n cold misses to distinct lines at once: the first `mshrs` overlap, each later
    one waits for an earlier one's fill, so the last completes after
    ceil(n / mshrs) round trips."""
    model = HierarchyModel(SMALL.replace(l1d=SMALL.l1d.replace(mshrs=mshrs),
                                         l2=SMALL.l2.replace(mshrs=64),
                                         dram_bytes_per_cycle=4096))
    latencies = model.run(np.arange(misses, dtype=np.uint32) * 64,
                          np.zeros(misses, np.uint8), cycles=np.zeros(misses, np.uint64),
                          latencies=True)
    stats = model.stats("l1d")
    assert stats["mshr_stalls"] == max(0, misses - mshrs)
    rounds = -(-misses // mshrs)
    # every round trip after the first is L2 + DRAM (the L1 lookup overlapped), plus
    # one cycle per read queued behind another in the same cycle on the DRAM channel
    assert latencies.max() >= L1 + rounds * (L2 + DRAM)
    assert latencies.max() <= L1 + rounds * (L2 + DRAM) + misses


# ---- replacement ------------------------------------------------------------------

def fill_set(model, lines):
    for a in lines:
        model.access(a, cycle=model.cycle + WAIT)


A, B, C, D, E, F, G = (k * SET_STRIDE for k in range(7))     # all in L1D set 0


def test_lru_victim_order():
    model = HierarchyModel(SMALL)
    fill_set(model, [A, B, C, D])
    assert model.set_lines("l1d", 0) == [A, B, C, D]
    fill_set(model, [A, C, E])      # B is the least recently used
    assert model.set_lines("l1d", 0) == [A, E, C, D]
    fill_set(model, [F])            # then D
    assert model.set_lines("l1d", 0) == [A, E, C, F]
    fill_set(model, [G])            # then A (used before C)
    assert model.set_lines("l1d", 0) == [G, E, C, F]


def test_plru_victim_on_a_hand_worked_tree():
    """4 ways, tree bits: root (ways 0-1 | 2-3), then one bit per pair. Filling
    A B C D leaves every bit pointing left; hitting A flips the root to the right half
    and the left pair's bit to B; E then follows root -> right, right pair's bit ->
    left: way 2, C. (LRU would evict B.)"""
    model = HierarchyModel(with_l1d(replacement="plru"))
    fill_set(model, [A, B, C, D, A, E])
    assert model.set_lines("l1d", 0) == [A, B, E, D]
    fill_set(model, [F])            # E's use pointed root left, left pair -> B
    assert model.set_lines("l1d", 0) == [A, F, E, D]


def test_srrip_victim_on_a_hand_worked_example():
    """2-bit RRPVs, fills insert 2, hits set 0. A B C D: [2 2 2 2]; hits on A, B:
    [0 0 2 2]; E: none is 3, age by 1 -> [1 1 3 3], evict C, E at 2: [1 1 2 3];
    F evicts D: [1 1 2 2]; G: age -> [2 2 3 3], evicts E. LRU would evict A for G."""
    model = HierarchyModel(with_l1d(replacement="srrip"))
    fill_set(model, [A, B, C, D, A, B, E])
    assert model.set_lines("l1d", 0) == [A, B, E, D]
    fill_set(model, [F])
    assert model.set_lines("l1d", 0) == [A, B, E, F]
    fill_set(model, [G])
    assert model.set_lines("l1d", 0) == [A, B, G, F]


def lru_reference(addresses, sets, ways, line_size):
    """Hits of a plain LRU cache: per set, an OrderedDict from line to None, oldest first."""
    contents = collections.defaultdict(collections.OrderedDict)
    hits = 0
    for a in addresses:
        line = a // line_size
        s = contents[line % sets]
        if line in s:
            hits += 1
            s.move_to_end(line)
        else:
            if len(s) == ways:
                s.popitem(last=False)
            s[line] = None
    return hits, contents


@given(st.lists(st.integers(0, 63), max_size=200), st.sampled_from([1, 2, 4]))
def test_lru_l1_matches_a_reference_model(lines, ways):
    """Loads over 64 lines into a 4-set L1D (the L2 holds them all, so no back-invalidation)."""
    config = with_l1d(size=4 * ways * 64, ways=ways)
    addresses = [line * 64 for line in lines]
    model = HierarchyModel(config)
    model.run(np.array(addresses, np.uint32), np.zeros(len(addresses), np.uint8),
              cycles=spaced(len(addresses)))
    hits, contents = lru_reference(addresses, 4, ways, 64)
    assert model.stats("l1d")["hits"].sum() == hits
    for s in range(4):
        held = {a // 64 for a in model.set_lines("l1d", s) if a is not None}
        assert held == set(contents[s])


def conflict_trace(n=3000, seed=11):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 64, n).astype(np.uint32) * SET_STRIDE


def test_random_replacement_is_deterministic_per_seed():
    addresses = conflict_trace()
    kinds = np.zeros(len(addresses), np.uint8)

    def run(seed):
        stats = simulate(with_l1d(SMALL.replace(seed=seed), replacement="random"), addresses, kinds)
        return int(stats["l1d"].hits.sum()), stats["l1d"].evictions

    assert run(1) == run(1)
    assert len({run(seed) for seed in range(6)}) > 1


def test_random_replacement_draws_every_way():
    model = HierarchyModel(with_l1d(replacement="random"))
    fill_set(model, [A, B, C, D])
    seen = set()
    for k in range(40):
        before = model.set_lines("l1d", 0)
        fill_set(model, [(8 + k) * SET_STRIDE])
        seen |= {w for w, (x, y) in enumerate(zip(before, model.set_lines("l1d", 0))) if x != y}
    assert seen == {0, 1, 2, 3}


@pytest.mark.parametrize("policy", ["lru", "plru", "random", "srrip"])
def test_every_policy_keeps_the_counts_consistent(policy):
    addresses = conflict_trace(2000)
    stats = simulate(with_l1d(replacement=policy), addresses, np.zeros(len(addresses), np.uint8))
    l1d = stats["l1d"]
    assert l1d.accesses == 2000 == l1d.set_hits.sum() + l1d.set_misses.sum()
    assert l1d.set_hits[1:].sum() == 0          # every address is in set 0
    assert l1d.evictions == l1d.misses.sum() - 4


# ---- write-back -------------------------------------------------------------------

def test_dirty_lines_are_written_back_and_clean_ones_are_not():
    model = HierarchyModel(SMALL.replace(inclusive=False))
    fill_set(model, [A])
    model.access(A, "store", cycle=model.cycle + WAIT)
    assert model.state("l1d", A) == "M" and model.state("l2", A) == "E"
    fill_set(model, [B, C, D, E])               # E evicts A, dirty
    l1d, l2 = model.stats("l1d"), model.stats("l2")
    assert (l1d["evictions"], l1d["writebacks"]) == (1, 1)
    assert (l2["writeback_hits"], l2["writeback_misses"]) == (1, 0)
    assert model.state("l2", A) == "M"
    fill_set(model, [F, G])                     # evict B and C: clean, nothing written
    assert (model.stats("l1d")["evictions"], model.stats("l1d")["writebacks"]) == (3, 1)
    assert model.dram_stats()["writes"] == 0


def test_dirty_l2_lines_go_to_dram():
    """A direct-mapped 2-line L2: A (dirty after the L1 wrote it back) and a line 128
    bytes further evict each other."""
    config = SMALL.replace(inclusive=False,
                           l2=CacheConfig(size=128, ways=1, line_size=64, hit_latency=L2))
    model = HierarchyModel(config)
    model.access(0, "store", cycle=0)
    fill_set(model, [SET_STRIDE * k for k in range(1, 5)])   # L1 evicts line 0: L2 copy dirty
    assert model.state("l2", 0) == "M"
    fill_set(model, [128])                      # the L2 evicts line 0: one DRAM write
    assert model.stats("l2")["writebacks"] == 1
    assert model.dram_stats()["writes"] == 1


@given(st.lists(st.tuples(st.integers(0, 31), st.sampled_from([LOAD, STORE, FETCH])),
                min_size=1, max_size=200), st.booleans())
def test_states_stay_single_core_mesi(accesses, inclusive):
    """M, E and I only; the L1I is never M; a line is M in the L1D exactly when the
    trace stored to it since it was last filled."""
    model = HierarchyModel(SMALL.replace(inclusive=inclusive))
    stored = set()
    for line, kind in accesses:
        addr = line * SET_STRIDE // 2
        was_there = model.state("l1d", addr) != "I"
        model.access(addr, ("load", "store", "atomic", "fetch")[kind], cycle=model.cycle + WAIT)
        if kind == STORE:
            stored.add(addr)
        elif kind == LOAD and not was_there:
            stored.discard(addr)
        for a in range(0, 32 * SET_STRIDE // 2, SET_STRIDE // 2):
            assert model.state("l1i", a) in "EI"
            assert model.state("l2", a) in "MEI"
            if model.state("l1d", a) == "I":
                stored.discard(a)
            assert (model.state("l1d", a) == "M") == (a in stored)


# ---- inclusion --------------------------------------------------------------------

TINY_L2 = CacheConfig(size=128, ways=2, line_size=64, hit_latency=L2)      # one set, two ways


def test_inclusive_l2_eviction_back_invalidates_the_l1():
    """Store to X, load Y, load Z: the 2-way L2 evicts X (its LRU) and, being inclusive,
    takes it from the L1D, whose dirty data goes out with it to DRAM."""
    x, y, z = 0, 64, 128                        # three different L1D sets
    model = HierarchyModel(SMALL.replace(l2=TINY_L2))
    model.access(x, "store", cycle=0)
    fill_set(model, [y, z])
    assert [model.state(level, x) for level in ("l1d", "l2")] == ["I", "I"]
    l1d, l2 = model.stats("l1d"), model.stats("l2")
    assert (l1d["back_invalidations"], l1d["writebacks"]) == (1, 1)
    assert (l2["evictions"], l2["writebacks"]) == (1, 1)
    assert model.dram_stats()["writes"] == 1
    assert model.access(x, cycle=model.cycle + WAIT) == L1 + L2 + DRAM


def test_non_inclusive_l2_eviction_leaves_the_l1_alone():
    x, y, z = 0, 64, 128
    model = HierarchyModel(SMALL.replace(l2=TINY_L2, inclusive=False))
    model.access(x, "store", cycle=0)
    fill_set(model, [y, z])
    assert [model.state(level, x) for level in ("l1d", "l2")] == ["M", "I"]
    assert model.stats("l1d")["back_invalidations"] == 0
    assert model.dram_stats()["writes"] == 0
    assert model.access(x, cycle=model.cycle + WAIT) == L1


@given(st.lists(st.tuples(st.integers(0, 1 << 12), st.sampled_from([LOAD, STORE, FETCH])),
                min_size=1, max_size=300), st.booleans())
def test_inclusive_levels_hold_everything_inside_them(accesses, with_l3):
    l3 = CacheConfig(size=512, ways=2, line_size=128, hit_latency=20) if with_l3 else None
    config = SMALL.replace(l2=CacheConfig(size=512, ways=2, line_size=64, hit_latency=L2), l3=l3)
    model = HierarchyModel(config)
    model.run(np.array([a * 4 for a, _ in accesses], np.uint32),
              np.array([k for _, k in accesses], np.uint8))
    for inner, outer in [("l1i", "l2"), ("l1d", "l2")] + ([("l2", "l3")] if with_l3 else []):
        sets = model.geometry(inner)[0]
        for s in range(sets):
            for line in model.set_lines(inner, s):
                if line is not None:
                    assert model.state(outer, line) != "I", (inner, hex(line))


# ---- prefetchers ------------------------------------------------------------------

def sequential(lines, step=4):
    return np.arange(0, lines * 64, step, dtype=np.uint32) + 0x10000


@pytest.mark.parametrize("lines", [8, 100])
def test_next_line_prefetch_turns_a_stream_s_misses_into_hits(lines):
    """16 words per line: without a prefetcher every line's first word misses (`lines`
    misses); tagged next-line misses only on the first line, and each first touch of a
    prefetched line fetches the next: hit rate up by (lines - 1) / (16 * lines)."""
    addresses = sequential(lines)
    kinds = np.zeros(len(addresses), np.uint8)
    plain = simulate(SMALL, addresses, kinds, cycles=spaced(len(addresses)))["l1d"]
    config = with_l1d(prefetcher="next_line")
    prefetched = simulate(config, addresses, kinds, cycles=spaced(len(addresses)))["l1d"]
    assert plain.misses.sum() == lines
    assert prefetched.misses.sum() == 1
    gain = (prefetched.hits.sum() - plain.hits.sum()) / len(addresses)
    assert gain == pytest.approx((lines - 1) / (16 * lines))
    assert (prefetched.prefetches_issued, prefetched.prefetches_useful) == (lines, lines - 1)
    assert prefetched.mshr_merges == 0             # every prefetch arrived in time


def test_next_line_degree_runs_ahead():
    """Degree 4: the miss on line 0 asks for 1..4; each first touch of a prefetched
    line asks for the 4 after it, of which only the last is new."""
    addresses = sequential(40, step=64)
    stats = simulate(with_l1d(prefetcher="next_line", prefetch_degree=4), addresses,
                     np.zeros(40, np.uint8), cycles=spaced(40))["l1d"]
    assert stats.misses.sum() == 1
    assert stats.prefetches_issued == 40 + 3


def test_late_prefetches_merge():
    """Back-to-back accesses: the prefetched lines are tag hits whose data is still on
    the way, so they count as MSHR merges and still wait."""
    addresses = sequential(20)
    model = HierarchyModel(with_l1d(prefetcher="next_line", mshrs=16))
    latencies = model.run(addresses, np.zeros(len(addresses), np.uint8), latencies=True)
    stats = model.stats("l1d")
    assert stats["misses"].sum() == 1 and stats["mshr_merges"] > 0
    assert latencies.max() > L1 and latencies.mean() < L1 + L2 + DRAM


@pytest.mark.parametrize("stride", [256, -192, 4096])
def test_stride_prefetcher_on_a_strided_stream(stride):
    """One pc striding: accesses 0..3 miss while the table learns (allocate, stride,
    confidence 1, confidence 2: prefetch), then every access hits its prefetch."""
    n = 50
    addresses = (0x100000 + stride * np.arange(n)).astype(np.uint32)
    kinds = np.zeros(n, np.uint8)
    pcs = np.full(n, 0x10040, np.uint32)
    plain = simulate(SMALL, addresses, kinds, cycles=spaced(n), pcs=pcs)["l1d"]
    config = with_l1d(prefetcher="stride")
    stats = simulate(config, addresses, kinds, cycles=spaced(n), pcs=pcs)["l1d"]
    assert plain.misses.sum() == n
    assert stats.misses.sum() == 4
    assert stats.prefetches_useful == n - 4
    next_line = simulate(with_l1d(prefetcher="next_line"), addresses, kinds, cycles=spaced(n))["l1d"]
    assert next_line.misses.sum() == n          # the next line is never the one wanted


def test_stride_table_is_per_pc():
    """Two interleaved streams with different strides: per-pc entries learn both
    (4 misses each); without pcs one entry sees the alternation and learns neither."""
    n = 60
    a = 0x100000 + 256 * np.arange(n // 2)
    b = 0x800000 + 640 * np.arange(n // 2)
    addresses = np.stack([a, b], axis=1).reshape(-1).astype(np.uint32)
    pcs = np.tile(np.array([0x2000, 0x2004], np.uint32), n // 2)
    config = with_l1d(prefetcher="stride")
    kinds = np.zeros(n, np.uint8)
    per_pc = simulate(config, addresses, kinds, cycles=spaced(n), pcs=pcs)["l1d"]
    global_ = simulate(config, addresses, kinds, cycles=spaced(n))["l1d"]
    assert per_pc.misses.sum() == 8
    assert global_.misses.sum() == n


def test_prefetches_without_a_free_mshr_are_dropped():
    model = HierarchyModel(with_l1d(prefetcher="next_line", prefetch_degree=4, mshrs=2))
    model.access(0x10000, cycle=0)
    stats = model.stats("l1d")
    assert (stats["prefetches_issued"], stats["prefetches_dropped"]) == (1, 3)


def test_an_l2_prefetcher_trains_on_l1_misses():
    config = SMALL.replace(l2=SMALL.l2.replace(prefetcher="next_line"))
    addresses = sequential(30, step=64)
    stats = simulate(config, addresses, np.zeros(30, np.uint8), cycles=spaced(30))
    assert stats["l1d"].misses.sum() == 30
    assert stats["l2"].misses.sum() == 1
    assert stats["l2"].prefetches_useful == 29


# ---- DRAM ----------------------------------------------------------------------

@given(st.integers(1, 24), st.sampled_from([1, 4, 8, 16, 64]))
def test_dram_bandwidth_makes_a_burst_queue(misses, bytes_per_cycle):
    """n misses to distinct lines in one cycle, with MSHRs to spare: the k-th waits k
    transfers of 64 / bytes_per_cycle cycles for the channel."""
    config = SMALL.replace(l1d=SMALL.l1d.replace(mshrs=32), l2=SMALL.l2.replace(mshrs=32),
                           dram_bytes_per_cycle=bytes_per_cycle)
    model = HierarchyModel(config)
    latencies = model.run(np.arange(misses, dtype=np.uint32) * 64, np.zeros(misses, np.uint8),
                          cycles=np.zeros(misses, np.uint64), latencies=True)
    transfer = -(-64 // bytes_per_cycle)
    assert latencies.tolist() == [L1 + L2 + DRAM + k * transfer for k in range(misses)]
    dram = model.dram_stats()
    assert dram["read_queue_cycles"] == transfer * misses * (misses - 1) // 2
    assert dram["busy_cycles"] == transfer * misses


# ---- the trace-driven mode --------------------------------------------------------

def test_per_set_counters():
    """Loads to set 2 of the L1D only, every count lands there: 6 lines twice round
    thrash a 4-way LRU set (12 misses); then 4 of them twice (4 misses, 4 hits)."""
    lines = 2 * 64 + SET_STRIDE * np.array(list(range(6)) * 2 + [0, 1, 2, 3] * 2)
    stats = simulate(SMALL, lines.astype(np.uint32), np.zeros(len(lines), np.uint8))["l1d"]
    assert stats.set_misses.tolist() == [0, 0, 16, 0]
    assert stats.set_hits.tolist() == [0, 0, 4, 0]
    assert stats.set_miss_rate.tolist() == [0, 0, 0.8, 0]


@given(st.lists(st.tuples(st.integers(0, 1 << 16), st.sampled_from([LOAD, STORE, FETCH])),
                min_size=2, max_size=200), st.data())
def test_a_trace_in_chunks_equals_the_whole(accesses, data):
    addresses = np.array([a * 4 for a, _ in accesses], np.uint32)
    kinds = np.array([k for _, k in accesses], np.uint8)
    cut = data.draw(st.integers(1, len(accesses) - 1))
    whole = HierarchyModel(SMALL)
    whole.run(addresses, kinds)
    chunked = HierarchyModel(SMALL)
    chunked.run(addresses[:cut], kinds[:cut])
    chunked.run(addresses[cut:], kinds[cut:])
    assert str(CacheStats.from_model(whole)) == str(CacheStats.from_model(chunked))


def test_harts_have_their_own_l1s_and_share_the_l2():
    addresses = np.array([0x1000, 0x1000, 0x1000], np.uint32)
    stats = simulate(SMALL, addresses, np.zeros(3, np.uint8), harts=[0, 1, 1], cycles=spaced(3))
    assert (stats["l1d"].misses.sum(), stats["l1d"].hits.sum()) == (2, 1)
    assert (stats["l2"].misses.sum(), stats["l2"].hits.sum()) == (1, 1)


def test_with_an_l3():
    config = SMALL.replace(l3=CacheConfig(size=1 << 16, ways=8, line_size=64, hit_latency=30))
    model = HierarchyModel(config)
    assert model.levels == ("l1i", "l1d", "l2", "l3")
    assert model.access(0x1000, cycle=0) == L1 + L2 + 30 + DRAM


@pytest.mark.parametrize("bad", [
    dict(kinds=[4]), dict(kinds=[0, 0]), dict(addresses=[-1]), dict(addresses=[1 << 32]),
    dict(cycles=[5, 4], addresses=[0, 0], kinds=[0, 0]), dict(harts=[0], pcs=[0, 0]),
])
def test_bad_traces_are_rejected(bad):
    trace = dict(addresses=[0], kinds=[0]) | bad
    with pytest.raises(ValueError):
        simulate(SMALL, **trace)


def test_reset_empties_everything():
    model = HierarchyModel(SMALL)
    model.run(sequential(10), np.ones(160, np.uint8))
    model.reset()
    assert model.cycle == 0 and model.state("l1d", 0x10000) == "I"
    assert str(CacheStats.from_model(model)) == str(CacheStats.from_model(HierarchyModel(SMALL)))

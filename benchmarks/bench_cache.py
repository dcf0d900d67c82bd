"""The trace-driven cache mode (emu.cache.simulate) against pycachesim's batched
`loadstore`, on the same traces, with the same counts.

    python benchmarks/bench_cache.py            # 3 million accesses per trace
    python benchmarks/bench_cache.py --quick    # 200 thousand

Each trace (sequential, strided, a hot working set with far accesses, uniform random
over 16 MiB; two loads per store) runs through the default hierarchy made
non-inclusive (32 KiB 8-way L1D, 1 MiB 16-way L2, LRU), then through the equivalent
pycachesim hierarchy built and fed as tests/test_cache_pycachesim.py does (its module
docstring has the mapping). Both run best of 3 on fresh caches; each side is timed
from its native input: numpy arrays for emu (the call includes building the
hierarchy), the Python list of (loads, stores) tuples `loadstore` takes for
pycachesim (building that list is not timed). Every hit, miss, writeback and DRAM
count is compared; a difference is printed and makes the script exit 1.

`compare(n)` runs and prints the whole comparison and returns its rows;
bench_multicore.py calls it for its part 4.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from emu.cache import LOAD, STORE, simulate  # noqa: E402
from emu.config import MemoryHierarchyConfig  # noqa: E402

try:
    import cachesim  # noqa: F401
except ImportError:
    cachesim = None
    MISSING = "pycachesim is not installed: pip install pycachesim (or pip install -e '.[test]')"
else:
    MISSING = ""
    from tests.test_cache_pycachesim import (feed, mismatches, pycachesim_batches,  # noqa: E402
                                             pycachesim_hierarchy)

CONFIG = MemoryHierarchyConfig(inclusive=False)
REPEATS = 3


def traces(n: int, seed: int = 1):
    rng = np.random.default_rng(seed)
    kinds = rng.choice([LOAD, LOAD, STORE], n).astype(np.uint8)
    yield "sequential", np.arange(n, dtype=np.uint32) * 4, kinds
    yield "strided (320 B)", (np.arange(n, dtype=np.uint64) * 320 % (64 << 20)).astype(np.uint32), kinds
    hot = rng.integers(0, 48 << 10, n)
    far = rng.integers(0, 64 << 20, n)
    yield "working set + 10% far", (np.where(rng.random(n) < 0.9, hot, far) & ~3).astype(np.uint32), kinds
    yield "random (16 MiB)", (rng.integers(0, 16 << 20, n) & ~3).astype(np.uint32), kinds


def best_of(run):
    best = float("inf")
    for _ in range(REPEATS):
        start = time.perf_counter()
        result = run()
        best = min(best, time.perf_counter() - start)
    return best, result


def run_pycachesim(batches):
    caches = pycachesim_hierarchy(CONFIG)
    feed(caches, batches)
    return caches


@dataclass(frozen=True)
class TraceResult:
    """One trace through both simulators: accesses per host second, and where the counts
    differ (empty: identical)."""

    name: str
    emu_rate: float
    pycachesim_rate: float
    diff: list


def compare(n: int) -> list[TraceResult]:
    """Run every trace of `n` accesses through emu and pycachesim (best of REPEATS each),
    print the table row by row, and return the rows. Needs pycachesim (MISSING is empty)."""
    print(f"{n:,} accesses per trace (2 loads : 1 store), default hierarchy non-inclusive, "
          f"best of {REPEATS}")
    print(f"{'trace':<24}{'L1D miss':>9}{'L2 miss':>9}{'emu M/s':>10}{'pycachesim M/s':>16}"
          f"{'ratio':>8}  counts")
    print("-" * 88)
    results = []
    for name, addresses, kinds in traces(n):
        emu_time, ours = best_of(lambda: simulate(CONFIG, addresses, kinds))
        batches = pycachesim_batches(addresses, kinds)
        their_time, caches = best_of(lambda: run_pycachesim(batches))
        del batches
        diff = mismatches(CONFIG, ours, caches)
        results.append(TraceResult(name, n / emu_time / 1e6, n / their_time / 1e6, diff))
        print(f"{name:<24}{ours['l1d'].miss_rate:>9.1%}{ours['l2'].miss_rate:>9.1%}"
              f"{n / emu_time / 1e6:>10.1f}{n / their_time / 1e6:>16.1f}"
              f"{their_time / emu_time:>7.1f}x  {'identical' if not diff else diff}", flush=True)
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="200k accesses per trace")
    args = parser.parse_args()
    if MISSING:
        sys.exit(MISSING)
    results = compare(200_000 if args.quick else 3_000_000)
    return 1 if any(result.diff for result in results) else 0


if __name__ == "__main__":
    sys.exit(main())

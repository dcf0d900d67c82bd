"""What Sv32 translation costs: the functional and out-of-order cores with satp off and on.

    python benchmarks/bench_mmu.py           # full run, about a minute
    python benchmarks/bench_mmu.py --quick   # smoke run, seconds

Issue 5's goal: translation costs the functional core under 25%, so it stays above 200
MIPS with translation on. Three workloads, each run bare (satp off) and translated
(all of RAM identity-mapped in 4 KiB pages by emu.testing.identity_paging, so the
program is unchanged and its output is checked equal):

1. programs/bench.s, the compute-heavy mix the other benchmarks use;
2. `stream`: a load/store loop copying and summing a 256 KiB buffer (64 pages, so the
   32-entry dTLB is refilled on every pass, but most accesses hit);
3. `thrash`: loads striding one page apart over 8 MiB (2048 pages, more than the L1
   and L2 TLBs hold): nearly every load misses every TLB and walks the tables, which
   shows the walk cost in the TLB stats and, in the out-of-order core, in cycles.

The out-of-order core runs the same workloads (smaller) with the default L1/L2 caches,
so its page-table walks go through them.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from common import Table, build_workloads, goal_text, host_description, agreement

import emu
from emu.config import MachineConfig, MemoryHierarchyConfig
from emu.testing import identity_paging

STREAM = """
    .globl _start
_start:
    li s0, {passes}
1:  la t0, src
    la t1, dst
    li t2, {words}
    li a0, 0
2:  lw t3, 0(t0)
    lw t4, 4(t0)
    add a0, a0, t3
    add a0, a0, t4
    sw t3, 0(t1)
    sw t4, 4(t1)
    addi t0, t0, 8
    addi t1, t1, 8
    addi t2, t2, -2
    bnez t2, 2b
    addi s0, s0, -1
    bnez s0, 1b
    li a7, 93
    ecall
    .data
    .balign 4096
src: .space {bytes}
dst: .space {bytes}
"""

THRASH = """
    .globl _start
_start:
    li s0, {passes}
1:  la t0, buffer
    li t2, {pages}
    li a0, 0
2:  lw t3, 0(t0)
    add a0, a0, t3
    li t4, 4096
    add t0, t0, t4
    addi t2, t2, -1
    bnez t2, 2b
    addi s0, s0, -1
    bnez s0, 1b
    li a7, 93
    ecall
    .data
    .balign 4096
buffer: .space {bytes}
"""


class MmuTable(Table):
    COLUMNS = (("workload", 34), ("core", 22), ("satp", 6), ("host s", 8), ("MIPS", 8),
               ("cost", 7), ("walks", 10), ("walk cycles", 12), ("cycles", 13), ("", 0))
    RULE = 150

    def row(self, workload: str, core: str, satp: str, seconds: float, instructions: int,
            cost: str, walks: str, walk_cycles: str, cycles: int, note: str) -> None:
        self.print_cells((workload, core, satp, f"{seconds:.3f}",
                          f"{instructions / seconds / 1e6:.1f}", cost, walks, walk_cycles,
                          f"{cycles:,}", note))


def timed_run(config: MachineConfig, elf: bytes, argv: tuple[str, ...], paged: bool,
              runs: int) -> tuple[float, emu.RunResult, emu.Machine]:
    """Best of `runs` fresh runs; the page tables are written before the clock starts."""
    best = None
    for _ in range(runs):
        machine = emu.Machine(config)
        machine.load(elf, argv=argv)
        if paged:
            identity_paging(machine)
        started = time.perf_counter()
        result = machine.run()
        seconds = time.perf_counter() - started
        if best is None or seconds < best[0]:
            best = (seconds, result, machine)
    return best


def measure(table: MmuTable, name: str, config: MachineConfig, elf: bytes,
            argv: tuple[str, ...], runs: int, goal: bool) -> None:
    core = config.cpu + (" + L1/L2" if config.caches is not None else "")
    bare_s, bare, bare_machine = timed_run(config, elf, argv, False, runs)
    table.row(name, core, "off", bare_s, bare.instructions, "", "", "", bare.cycles, "")
    paged_s, paged, machine = timed_run(config, elf, argv, True, runs)
    tlb = machine.tlb_stats()
    walk_cycles = tlb["walk_cycles"] if config.cpu == "ooo" or config.caches else None
    cost = 1 - (paged.instructions / paged_s) / (bare.instructions / bare_s)
    mips = paged.instructions / paged_s / 1e6
    same = (machine.stdout, paged.exit_code, paged.instructions) == (
        bare_machine.stdout, bare.exit_code, bare.instructions)
    notes = [agreement(same, "output+exit+count vs satp off:")]
    if goal:
        notes.append(goal_text(cost < 0.25 and mips > 200, "cost < 25% and > 200 MIPS"))
    table.row(name, core, "Sv32", paged_s, paged.instructions, f"{cost:.0%}", f"{tlb['walks']:,}",
              "" if walk_cycles is None else f"{walk_cycles:,}", paged.cycles, "; ".join(notes))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small workloads, one run each")
    args = parser.parse_args()
    runs = 1 if args.quick else 3
    print("emu MMU benchmark" + (" (--quick)" if args.quick else ""))
    print(f"host: {host_description()}")
    functional = MachineConfig(memory_size=32 << 20)
    ooo = functional.replace(cpu="ooo", caches=MemoryHierarchyConfig())
    with tempfile.TemporaryDirectory() as tmp:
        workloads = build_workloads(20 if args.quick else None, 1560, Path(tmp))
    bench = workloads.asm or workloads.c
    scale = 1 if args.quick else 20
    stream = emu.assemble(STREAM.format(passes=8 * scale, words=65536 // 4, bytes=256 << 10))
    thrash = emu.assemble(THRASH.format(passes=40 * scale, pages=2048, bytes=8 << 20))
    print(f"workloads: {bench.description}; stream 256 KiB x {8 * scale}; "
          f"thrash 2048 pages x {40 * scale}")
    print(f"TLBs: {functional.mmu}")
    table = MmuTable()
    table.section("1. functional core: satp off vs Sv32 (identity-mapped 4 KiB pages)")
    measure(table, "bench.s", functional, bench.elf, bench.argv, runs, goal=True)
    measure(table, "stream (load/store heavy)", functional, stream, ("stream",), runs, goal=True)
    measure(table, "thrash (a TLB miss per load)", functional, thrash, ("thrash",), runs, goal=False)
    table.section("2. out-of-order core with L1/L2: walks read PTEs through the caches")
    small_bench = build_small_bench(args.quick)
    measure(table, "bench.s (REPEAT=20)", ooo, small_bench.elf, small_bench.argv, 1, goal=False)
    thrash_small = emu.assemble(THRASH.format(passes=2 * scale, pages=2048, bytes=8 << 20))
    measure(table, f"thrash x {2 * scale}", ooo, thrash_small, ("thrash",), 1, goal=False)


def build_small_bench(quick: bool):
    with tempfile.TemporaryDirectory() as tmp:
        workloads = build_workloads(20 if not quick else 5, 20, Path(tmp))
    return workloads.asm or workloads.c


if __name__ == "__main__":
    main()

"""Speed benchmark of emu's cycle-level out-of-order core, beside the functional core and Unicorn.

    python benchmarks/bench_ooo.py           # full run, about a minute and a half
    python benchmarks/bench_ooo.py --quick   # smoke run, seconds

This script owns the measurements of the detailed core (cpu="ooo") and the table they
are printed in; see benchmarks/README.md for what is compared and why. The workloads
are bench_functional.py's (common.py builds them): programs/bench.s through
isa.assembler, and benchmarks/workload.c for rv32ima when riscv64-unknown-elf-gcc is
present. One table, four parts:

1. The out-of-order core with the default CoreConfig (4-wide, gshare, fixed-latency
   memory) on each workload: simulated MIPS (committed instructions per host second),
   simulated cycles per host second, IPC and branch mispredict rate, best of a few runs.
2. On the same workloads: the functional core's MIPS, and Unicorn with a per-instruction
   Python hook (what a Python user would otherwise write) for a bounded count.
3. A sweep of width (1, 2, 4, 8) by direction predictor on a shorter run of the workload.
4. The speeds other detailed simulators publish, for scale (not measured here).

Every run is checked against another (output, exit code and instruction count against
the functional core; registers and pc of Unicorn against the out-of-order core) and
the check is printed beside the number; a mismatch does not stop the run.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from common import (EmuRun, build_workloads, Table, Workload, agreement, assembly_workload, compile_riscv,
                    goal_text, host_description, loaded_machine, run_emu, run_hooked_unicorn,
                    unicorn_version)

import emu  # noqa: E402  (common put the repository root on sys.path)
from emu.config import PREDICTORS, CoreConfig  # noqa: E402

GOAL_MIPS = 5
#: The detailed core as shipped: CoreConfig's defaults, fixed-latency memory.
OOO = emu.MachineConfig(cpu="ooo")
FUNCTIONAL = OOO.replace(cpu="functional")
SWEEP_WIDTHS = (1, 2, 4, 8)
#: What other detailed simulators report of their own speed, as the issue quotes them.
PUBLISHED_PEERS = (("gem5 O3CPU", "~0.2"), ("SimpleScalar sim-outorder", "~0.5"),
                   ("ChampSim", "~0.05"))


@dataclass(frozen=True)
class Scale:
    """How much work each part does."""

    repeat: int             # workload rounds (about 128,000 instructions each)
    ooo_runs: int           # best of this many out-of-order runs
    functional_runs: int    # best of this many functional runs
    hook_count: int         # instructions run under Unicorn's per-instruction Python hook
    sweep_repeat: int       # rounds of each sweep point (one run each)


FULL = Scale(repeat=1560, ooo_runs=3, functional_runs=3, hook_count=3_000_000, sweep_repeat=200)
QUICK = Scale(repeat=20, ooo_runs=1, functional_runs=1, hook_count=200_000, sweep_repeat=4)


class OoOTable(Table):
    """Rows of (measurement, host s, MIPS, simulated Mcycles per host s, IPC, mispredict
    rate, comparison, goal, check)."""

    COLUMNS = (("measurement", 54), ("host s", 8), ("MIPS", 7), ("Mcyc/s", 7), ("IPC", 5),
               ("mispred", 7), ("compared", 19), ("goal", 16), ("check", 0))
    RULE = 180

    def row(self, measurement: str, seconds: float | None = None, mips: float | None = None,
            ooo: EmuRun | None = None, compared: str = "", goal: str = "",
            check: str = "") -> None:
        """`ooo`, an out-of-order run, fills the cycle, IPC and mispredict columns."""
        self.print_cells((
            measurement,
            "" if seconds is None else f"{seconds:8.3f}",
            "" if mips is None else f"{mips:7.2f}",
            "" if ooo is None else f"{ooo.cycles / ooo.seconds / 1e6:7.2f}",
            "" if ooo is None else f"{ooo.instructions / ooo.cycles:5.2f}",
            "" if ooo is None else f"{100 * ooo.stats['cpu']['branchPred.mispredictRate']:6.2f}%",
            compared, goal, check))


def same_run(run: EmuRun, reference: EmuRun) -> bool:
    """The same program behaviour: output, exit code and retired instructions."""
    return (run.stdout, run.exit_code, run.instructions) == \
        (reference.stdout, reference.exit_code, reference.instructions)


def width_config(width: int, predictor: str) -> emu.MachineConfig:
    """The default core with every stage `width` wide and the given direction predictor."""
    return OOO.replace(core=dataclasses.replace(
        OOO.core, fetch_width=width, rename_width=width, issue_width=width,
        commit_width=width, predictor=predictor))


def core_description(core: CoreConfig) -> str:
    return (f"{core.fetch_width}-wide fetch/rename/issue/commit, ROB {core.rob_entries}, "
            f"IQ {core.iq_entries}, LQ/SQ {core.lq_entries}/{core.sq_entries}, "
            f"{core.phys_regs} physical registers, {core.predictor} "
            f"({core.predictor_table_bits} table bits), fixed {core.memory_latency}-cycle "
            f"memory")


# ---- the parts of the table ----------------------------------------------------------

def ooo_part(table: OoOTable, workloads: list[tuple[str, Workload]],
             functional: dict[str, EmuRun], scale: Scale) -> dict[str, EmuRun]:
    table.section("1. out-of-order core, default CoreConfig")
    runs = {}
    for name, workload in workloads:
        run = runs[name] = run_emu(OOO, workload, scale.ooo_runs)
        table.row(f"{name}: {run.instructions / 1e6:.1f}M instructions, best of {scale.ooo_runs}",
                  run.seconds, run.mips, run, "",
                  goal_text(run.mips >= GOAL_MIPS, f">= {GOAL_MIPS} MIPS"),
                  agreement(same_run(run, functional[name]), "output+exit+count vs functional:"))
    return runs


def peers_part(table: OoOTable, workloads: list[tuple[str, Workload]],
               functional: dict[str, EmuRun], ooo: dict[str, EmuRun], scale: Scale) -> None:
    table.section("2. the same workloads: functional core, and Unicorn with a per-instruction "
                  "Python hook")
    for name, workload in workloads:
        run = functional[name]
        table.row(f"{name}: functional core, best of {scale.functional_runs}", run.seconds,
                  run.mips, None, f"functional/ooo {run.mips / ooo[name].mips:.0f}x", "",
                  f"exit {run.exit_code}")
        if unicorn_version() is None:
            table.row(f"{name}: unicorn + UC_HOOK_CODE skipped, unicorn is not installed")
            continue
        # The reference is an out-of-order machine: Unicorn checks the detailed core.
        hooked = run_hooked_unicorn(loaded_machine(OOO, workload), scale.hook_count,
                                    run.instructions)
        check = agreement(hooked.same, f"regs+pc vs ooo after {hooked.instructions:,}:")
        table.row(f"{name}: unicorn + UC_HOOK_CODE, {hooked.instructions / 1e6:.1f}M instructions",
                  hooked.seconds, hooked.mips, None,
                  f"ooo/hooked {ooo[name].mips / hooked.mips:.1f}x", "",
                  check + (f" ({hooked.failure})" if hooked.failure else ""))


def sweep_part(table: OoOTable, workload: Workload) -> None:
    reference = run_emu(FUNCTIONAL, workload, 1)
    table.section(f"3. sweep, one run each: {workload.description}, "
                  f"{reference.instructions / 1e6:.1f}M instructions; other parameters default")
    for width in SWEEP_WIDTHS:
        for predictor in PREDICTORS:
            run = run_emu(width_config(width, predictor), workload, 1)
            table.row(f"width {width}, {predictor}", run.seconds, run.mips, run, "", "",
                      agreement(same_run(run, reference), "output+exit+count vs functional:"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="shrink everything for a smoke run")
    args = parser.parse_args(argv)
    scale = QUICK if args.quick else FULL

    with tempfile.TemporaryDirectory(prefix="emu-bench-ooo-") as tmp:
        workdir = Path(tmp)
        built = build_workloads(scale.repeat if args.quick else None, scale.repeat, workdir)
        asm, asm_reason, c_workload, c_reason = built.asm, built.asm_reason, built.c, built.c_reason
        workloads = [(name, w) for name, w in (("bench.s", asm), ("workload.c", c_workload))
                     if w is not None]
        if not workloads:
            print(f"no workload to run: {asm_reason}; {c_reason}", file=sys.stderr)
            return 1
        sweep_workload = (assembly_workload(scale.sweep_repeat, workdir)[0] if asm is not None
                          else compile_riscv(scale.sweep_repeat, workdir)[0])

        print(f"emu out-of-order core benchmark{' (--quick)' if args.quick else ''}")
        print(f"host: {host_description()}")
        print(f"core: {core_description(OOO.core)}")
        for _, workload in workloads:
            print(f"workload: {workload.description}")
        if asm is None:
            print(f"  (not programs/bench.s: {asm_reason})")
        if c_workload is None:
            print(f"  (no C workload: {c_reason})")
        print("MIPS = committed instructions per host second; Mcyc/s = simulated cycles per "
              "host second")
        table = OoOTable()
        functional = {name: run_emu(FUNCTIONAL, workload, scale.functional_runs)
                      for name, workload in workloads}
        ooo = ooo_part(table, workloads, functional, scale)
        peers_part(table, workloads, functional, ooo, scale)
        sweep_part(table, sweep_workload)
        table.section("4. for scale, published, not measured here: "
                      + ", ".join(f"{peer} {mips} MIPS" for peer, mips in PUBLISHED_PEERS))
    return 0


if __name__ == "__main__":
    sys.exit(main())

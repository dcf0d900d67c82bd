"""Speed benchmark of emu's functional core, against Unicorn and native code.

    python benchmarks/bench_functional.py           # full run, about a minute
    python benchmarks/bench_functional.py --quick   # smoke run, seconds

This script owns the measurements and the table they are printed in (see
benchmarks/README.md for what is compared and why). The workload is programs/bench.s
assembled by isa.assembler when that works, else benchmarks/workload.c (the same
computation) built for rv32ima with riscv64-unknown-elf-gcc. One table, five parts:

1. emu's functional core on the workload: MIPS, best of a few runs.
2. The same ELF under Unicorn (QEMU's JIT) with no hook but the ecall one, started
   from exactly the state emu's loader built (segments, stack, registers).
3. Unicorn with a trivial per-instruction Python hook, for a bounded count.
4. workload.c compiled natively (-O2) against the same C in emu: the slowdown.
5. Peak RSS of a fresh process running the workload in 256 MiB of guest RAM, and the
   time to create a Machine.

Every emulator's result is checked against another's (output, exit code, registers)
and the check is printed beside the number; a mismatch does not stop the run. The
workloads, the timed runs and the Unicorn guest come from common.py, which
bench_ooo.py shares.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from common import (ROOT, build_workloads, WORKLOAD_C, EmuRun, GuestImage, Table, UnicornGuest, Workload, agreement,
                    goal_text, host_description,
                    loaded_machine, run_emu, run_hooked_unicorn, unicorn_version)

import emu  # noqa: E402  (common put the repository root on sys.path)

RAM_BYTES = 256 << 20
#: Every part runs this machine: the functional core with 256 MiB of guest RAM.
CONFIG = emu.MachineConfig(memory_size=RAM_BYTES)
GOAL_MIPS = 300
GOAL_RSS_MIB = 400
GOAL_CREATE_S = 1.0
#: Below this many seconds a native run is start-up noise (as in --quick): no slowdown.
NATIVE_RESOLUTION = 1e-3


@dataclass(frozen=True)
class Scale:
    """How much work each part does."""

    repeat: int         # workload rounds (about 128,000 instructions each)
    runs: int           # best of this many emu / Unicorn runs
    hook_count: int     # instructions run under the per-instruction Python hook
    native_runs: int    # best of this many native runs
    samples: int        # Machine creations timed for the median


FULL = Scale(repeat=1560, runs=3, hook_count=3_000_000, native_runs=30, samples=7)
QUICK = Scale(repeat=20, runs=1, hook_count=200_000, native_runs=3, samples=5)


class FunctionalTable(Table):
    """Rows of (measurement, host seconds, MIPS, comparison, goal, check)."""

    COLUMNS = (("measurement", 56), ("host s", 9), ("MIPS", 8), ("compared", 17),
               ("goal", 19), ("check", 0))

    def row(self, measurement: str, seconds: float | None = None, mips: float | None = None,
            compared: str = "", goal: str = "", check: str = "") -> None:
        self.print_cells((measurement, "" if seconds is None else f"{seconds:9.4f}",
                          "" if mips is None else f"{mips:8.1f}", compared, goal, check))


# ---- native -------------------------------------------------------------------------

def compile_native(workdir: Path) -> Path | None:
    """benchmarks/workload.c for the host, or None without a C compiler."""
    compiler = shutil.which("cc") or shutil.which("gcc")
    if compiler is None:
        return None
    output = workdir / "workload.native"
    subprocess.run([compiler, "-O2", "-o", str(output), str(WORKLOAD_C)], check=True)
    return output


def run_native(executable: Path, repeat: int, runs: int) -> tuple[float, bytes]:
    """Best wall time of `runs` runs minus the best of an empty run (process start-up)."""
    def best(rounds: int) -> tuple[float, bytes]:
        times, output = [], b""
        for _ in range(runs):
            started = time.perf_counter()
            output = subprocess.run([str(executable), str(rounds)], check=True,
                                    capture_output=True).stdout
            times.append(time.perf_counter() - started)
        return min(times), output

    startup, _ = best(0)
    seconds, output = best(repeat)
    return max(seconds - startup, 0.0), output


# ---- memory -------------------------------------------------------------------------

#: Run in a fresh interpreter: what one machine with 256 MiB of RAM costs the host. The
#: peak is the process's VmHWM, not getrusage's ru_maxrss: Linux carries ru_maxrss over
#: exec from the forked copy of the parent, so in a child of this (large) process it
#: would report the parent's size. ru_maxrss remains the fallback without /proc.
RSS_CHILD = """
import re, resource, sys
import emu
machine = emu.Machine(emu.MachineConfig(memory_size={ram}))
machine.load(sys.argv[1], argv=sys.argv[2:])
result = machine.run()
assert result.reason == "exit", result
try:
    with open("/proc/self/status") as status:
        print(re.search(r"VmHWM:\\s*(\\d+) kB", status.read()).group(1))
except OSError:
    print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def peak_rss_mib(workload: Workload, workdir: Path) -> float:
    elf = workdir / "rss_workload.elf"
    elf.write_bytes(workload.elf)
    output = subprocess.run([sys.executable, "-c", RSS_CHILD.format(ram=RAM_BYTES), str(elf),
                             *workload.argv], cwd=ROOT, check=True, capture_output=True, text=True)
    return int(output.stdout.split()[-1]) / 1024      # both are in KiB


def median_seconds(action: Callable[[], object], samples: int) -> float:
    """Median host time of `action`; what it returns is freed outside the timing."""
    times = []
    for _ in range(samples):
        started = time.perf_counter()
        result = action()
        times.append(time.perf_counter() - started)
        del result
    return statistics.median(times)


# ---- the parts of the table ----------------------------------------------------------

def emu_part(table: FunctionalTable, workload: Workload, scale: Scale,
             native_output: bytes | None) -> EmuRun:
    table.section("1. emu functional core")
    run = run_emu(CONFIG, workload, scale.runs)
    mips = run.instructions / run.seconds / 1e6
    if native_output is not None:
        check = agreement(run.stdout == native_output and run.exit_code == 0, "output vs native C:")
    else:
        check = f"exit {run.exit_code}, output not checked"
    table.row(f"emu, {run.instructions / 1e6:.1f}M instructions, best of {scale.runs}",
              run.seconds, mips, "", goal_text(mips >= GOAL_MIPS, f">= {GOAL_MIPS} MIPS"), check)
    return run


def unicorn_parts(table: FunctionalTable, workload: Workload, emu_run: EmuRun, scale: Scale) -> None:
    """Parts 2 and 3: the same ELF from the same initial state under Unicorn."""
    table.section("2. Unicorn (JIT), only the ecall hook")
    if unicorn_version() is None:
        table.row("skipped: unicorn is not installed")
        table.section("3. Unicorn with a per-instruction Python hook")
        table.row("skipped: unicorn is not installed")
        return
    emu_mips = emu_run.instructions / emu_run.seconds / 1e6
    image = GuestImage.of(loaded_machine(CONFIG, workload))

    best, guest = None, None
    for _ in range(scale.runs):
        candidate = UnicornGuest(image)
        seconds = candidate.run()
        if best is None or seconds < best:
            best, guest = seconds, candidate
    mips = emu_run.instructions / best / 1e6
    same = (guest.failure is None and guest.stdout == emu_run.stdout
            and guest.exit_code == emu_run.exit_code)
    table.row(f"unicorn, emu's instruction count, best of {scale.runs}", best, mips,
              f"emu/unicorn {emu_mips / mips:.2f}", "",
              agreement(same, "output+exit vs emu:") + (f" ({guest.failure})" if guest.failure else ""))

    table.section("3. Unicorn with a per-instruction Python hook")
    hooked = run_hooked_unicorn(loaded_machine(CONFIG, workload), scale.hook_count,
                                emu_run.instructions)
    table.row(f"unicorn + UC_HOOK_CODE, {hooked.instructions / 1e6:.1f}M instructions",
              hooked.seconds, hooked.mips, f"emu/hooked {emu_mips / hooked.mips:.0f}", "",
              agreement(hooked.same, f"regs+pc vs emu after {hooked.instructions:,}:"))


def native_part(table: FunctionalTable, c_workload: Workload | None, c_reason: str, emu_run: EmuRun,
                workload: Workload, native: tuple[float, bytes] | None, repeat: int,
                scale: Scale) -> None:
    table.section("4. C workload: native -O2 vs emu")
    if native is None:
        table.row("native: skipped, no host C compiler (cc/gcc)")
    else:
        table.row(f"native, repeat {repeat}, best of {scale.native_runs}, less start-up", native[0])
    if c_workload is None:
        table.row(f"emu: skipped, {c_reason}")
        return
    run = emu_run if workload is c_workload else run_emu(CONFIG, c_workload, scale.runs)
    if native is None:
        check, compared = f"exit {run.exit_code}, output not checked", ""
    else:
        check = agreement(run.stdout == native[1] and run.exit_code == 0, "output vs native:")
        compared = (f"slowdown {run.seconds / native[0]:.0f}x" if native[0] >= NATIVE_RESOLUTION
                    else "native too short")
    table.row(f"emu, {run.instructions / 1e6:.1f}M instructions, best of {scale.runs}",
              run.seconds, run.instructions / run.seconds / 1e6, compared, "", check)


def memory_part(table: FunctionalTable, workload: Workload, workdir: Path, scale: Scale) -> None:
    table.section(f"5. memory and start-up, {RAM_BYTES >> 20} MiB of guest RAM")
    rss = peak_rss_mib(workload, workdir)
    table.row(f"peak RSS, fresh process running the workload: {rss:.0f} MiB",
              goal=goal_text(rss < GOAL_RSS_MIB, f"< {GOAL_RSS_MIB} MiB"))
    create = median_seconds(lambda: emu.Machine(CONFIG), scale.samples)
    table.row(f"Machine() creation, median of {scale.samples}", create,
              goal=goal_text(create < GOAL_CREATE_S, f"< {GOAL_CREATE_S:.0f} s"))

    load = median_seconds(lambda: loaded_machine(CONFIG, workload), scale.samples)
    table.row(f"Machine() + load of the workload, median of {scale.samples}", load)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="shrink everything for a smoke run")
    args = parser.parse_args(argv)
    scale = QUICK if args.quick else FULL

    with tempfile.TemporaryDirectory(prefix="emu-bench-") as tmp:
        workdir = Path(tmp)
        built = build_workloads(scale.repeat if args.quick else None, scale.repeat, workdir)
        asm, asm_reason, c_workload, c_reason, repeat = (built.asm, built.asm_reason, built.c,
                                                         built.c_reason, built.repeat)
        workload = asm or c_workload
        if workload is None:
            print(f"no workload to run: {asm_reason}; {c_reason}", file=sys.stderr)
            return 1
        native_executable = compile_native(workdir)
        native = (run_native(native_executable, repeat, scale.native_runs)
                  if native_executable is not None else None)

        print(f"emu functional-core benchmark{' (--quick)' if args.quick else ''}")
        print(f"host: {host_description()}")
        print(f"workload: {workload.description}")
        if asm is None:
            print(f"  (not programs/bench.s: {asm_reason})")
        table = FunctionalTable()
        emu_run = emu_part(table, workload, scale, native[1] if native else None)
        unicorn_parts(table, workload, emu_run, scale)
        native_part(table, c_workload, c_reason, emu_run, workload, native, repeat, scale)
        memory_part(table, workload, workdir, scale)
    return 0


if __name__ == "__main__":
    sys.exit(main())

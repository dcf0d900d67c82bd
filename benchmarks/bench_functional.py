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
and the check is printed beside the number; a mismatch does not stop the run.
"""

from __future__ import annotations

import argparse
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import emu  # noqa: E402  (after the repository root is on sys.path)

BENCH_S = ROOT / "programs" / "bench.s"
WORKLOAD_C = ROOT / "benchmarks" / "workload.c"
C_RUNTIME = ROOT / "programs" / "c"            # crt0.s, syscalls.c/.h of the C programs
RISCV_GCC = "riscv64-unknown-elf-gcc"
RISCV_CFLAGS = ["-march=rv32ima", "-mabi=ilp32", "-static", "-nostdlib", "-nostartfiles",
                "-ffreestanding", "-O2"]
#: The `.equ REPEAT, n` line of bench.s, which sets its number of rounds.
REPEAT_LINE = re.compile(r"^(\s*\.equ\s+REPEAT\s*,\s*)(\d+)", re.MULTILINE)

RAM_BYTES = 256 << 20
GOAL_MIPS = 300
GOAL_RSS_MIB = 400
GOAL_CREATE_S = 1.0
#: Below this many seconds a native run is start-up noise (as in --quick): no slowdown.
NATIVE_RESOLUTION = 1e-3

SYS_WRITE, SYS_EXIT, SYS_EXIT_GROUP = 64, 93, 94
ECALL_FROM_U = 8


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


@dataclass(frozen=True)
class Workload:
    description: str
    elf: bytes
    argv: tuple[str, ...]
    rounds: int         # REPEAT of bench.s, or the repeat argument of workload.c


@dataclass(frozen=True)
class EmuRun:
    seconds: float      # best host time of `Machine.run`
    instructions: int
    stdout: bytes
    exit_code: int | None


class Table:
    """Rows of (measurement, host seconds, MIPS, comparison, goal, check), printed as they come."""

    COLUMNS = (("measurement", 56), ("host s", 9), ("MIPS", 8), ("compared", 17),
               ("goal", 19), ("check", 0))

    def __init__(self) -> None:
        print("  ".join(f"{name:<{width}}" for name, width in self.COLUMNS).rstrip())
        print("-" * 150)

    def row(self, measurement: str, seconds: float | None = None, mips: float | None = None,
            compared: str = "", goal: str = "", check: str = "") -> None:
        cells = (measurement, "" if seconds is None else f"{seconds:9.4f}",
                 "" if mips is None else f"{mips:8.1f}", compared, goal, check)
        print("  ".join(f"{cell:<{width}}" for cell, (_, width) in zip(cells, self.COLUMNS)).rstrip(),
              flush=True)

    def section(self, title: str) -> None:
        print(title, flush=True)


def goal_text(met: bool, goal: str) -> str:
    return f"{goal} {'met' if met else 'MISSED'}"


def agreement(same: bool, what: str) -> str:
    return f"{what} {'match' if same else 'MISMATCH'}"


# ---- building the workloads ---------------------------------------------------------

def assembly_workload(repeat: int | None, workdir: Path) -> tuple[Workload | None, str]:
    """programs/bench.s through isa.assembler (REPEAT set to `repeat` unless None), or why not."""
    if not BENCH_S.exists():
        return None, f"{BENCH_S.relative_to(ROOT)} does not exist"
    source = BENCH_S.read_text()
    match = REPEAT_LINE.search(source)
    if match is None:
        return None, "bench.s has no `.equ REPEAT, n` line"
    path = BENCH_S
    if repeat is not None and repeat != int(match.group(2)):
        # The copy sits in a directory of its own beside a copy of lib/, so its
        # `.include "lib/print.s"` resolves whichever directory the assembler searches.
        shutil.copytree(BENCH_S.parent / "lib", workdir / "lib", dirs_exist_ok=True)
        path = workdir / BENCH_S.name
        path.write_text(REPEAT_LINE.sub(lambda m: f"{m.group(1)}{repeat}", source, count=1))
    try:
        from isa.assembler import assemble_file
        elf = assemble_file(str(path))
    except Exception as err:  # any failure of the assembler means: use the C workload
        detail = f": {err}" if str(err) else ""
        return None, f"isa.assembler cannot assemble it ({type(err).__name__}{detail})"
    rounds = int(match.group(2)) if path is BENCH_S else repeat
    return Workload(f"programs/bench.s via isa.assembler, REPEAT={rounds}", elf, ("bench",),
                    rounds), ""


def compile_riscv(repeat: int, workdir: Path) -> tuple[Workload | None, str]:
    """benchmarks/workload.c for rv32ima, or why not."""
    if shutil.which(RISCV_GCC) is None:
        return None, f"{RISCV_GCC} not found"
    output = workdir / "workload.rv32.elf"
    subprocess.run([RISCV_GCC, *RISCV_CFLAGS, f"-I{C_RUNTIME}", str(C_RUNTIME / "crt0.s"),
                    str(C_RUNTIME / "syscalls.c"), str(WORKLOAD_C), "-lgcc", "-o", str(output)],
                   check=True)
    return Workload(f"benchmarks/workload.c (rv32ima -O2), repeat {repeat}",
                    output.read_bytes(), ("workload", str(repeat)), repeat), ""


def compile_native(workdir: Path) -> Path | None:
    """benchmarks/workload.c for the host, or None without a C compiler."""
    compiler = shutil.which("cc") or shutil.which("gcc")
    if compiler is None:
        return None
    output = workdir / "workload.native"
    subprocess.run([compiler, "-O2", "-o", str(output), str(WORKLOAD_C)], check=True)
    return output


# ---- emu ----------------------------------------------------------------------------

def new_machine() -> emu.Machine:
    return emu.Machine(emu.MachineConfig(memory_size=RAM_BYTES))


def run_emu(workload: Workload, runs: int) -> EmuRun:
    """Best of `runs` runs, each on a freshly created and loaded machine (cold decode cache)."""
    best = None
    for _ in range(runs):
        machine = new_machine()
        machine.load(workload.elf, argv=workload.argv)
        started = time.perf_counter()
        result = machine.run()
        seconds = time.perf_counter() - started
        if best is None or seconds < best.seconds:
            best = EmuRun(seconds, result.instructions, machine.stdout, result.exit_code)
        del machine
    return best


# ---- Unicorn ------------------------------------------------------------------------

@dataclass(frozen=True)
class GuestImage:
    """The state emu's loader left: mapped ranges with their bytes, registers, pc."""

    ranges: list[tuple[int, bytes]]     # page-aligned (address, contents)
    regs: list[int]                     # x0..x31
    pc: int

    @classmethod
    def of(cls, machine: emu.Machine) -> "GuestImage":
        """The program's segments (page-rounded) and the stack region, as emu set them up."""
        page = 4096
        config = machine.config
        spans = [(s.vaddr & -page, (s.vaddr + s.memsz + page - 1) & -page)
                 for s in machine.program.segments]
        spans.append((config.ram_end - config.stack_size, config.ram_end))
        merged: list[list[int]] = []
        for start, end in sorted(spans):
            if merged and start <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], end)
            else:
                merged.append([start, end])
        return cls([(start, machine.read_memory(start, end - start)) for start, end in merged],
                   [int(r) for r in machine.regs], machine.pc)


class UnicornGuest:
    """One Unicorn RV32 CPU started from a GuestImage; ecalls for write and exit are served."""

    def __init__(self, image: GuestImage, per_instruction_hook: bool = False):
        from unicorn import UC_ARCH_RISCV, UC_HOOK_CODE, UC_HOOK_INTR, UC_MODE_RISCV32, Uc
        from unicorn import riscv_const as rc

        self._rc = rc
        self.uc = Uc(UC_ARCH_RISCV, UC_MODE_RISCV32)
        for address, contents in image.ranges:
            self.uc.mem_map(address, len(contents))
            self.uc.mem_write(address, contents)
        for number in range(1, 32):
            self.uc.reg_write(rc.UC_RISCV_REG_X0 + number, image.regs[number])
        self.entry = image.pc
        self.output: dict[int, bytearray] = {}
        self.exit_code: int | None = None
        self.failure: str | None = None
        self.uc.hook_add(UC_HOOK_INTR, self._interrupt)
        if per_instruction_hook:
            self.uc.hook_add(UC_HOOK_CODE, on_instruction)

    def _interrupt(self, uc, intno: int, _user_data) -> None:
        rc = self._rc
        number = uc.reg_read(rc.UC_RISCV_REG_A7)
        if intno == ECALL_FROM_U and number == SYS_WRITE:
            fd, buf, count = (uc.reg_read(r) for r in (rc.UC_RISCV_REG_A0, rc.UC_RISCV_REG_A1,
                                                      rc.UC_RISCV_REG_A2))
            self.output.setdefault(fd, bytearray()).extend(uc.mem_read(buf, count))
            uc.reg_write(rc.UC_RISCV_REG_A0, count)    # Unicorn resumes after the ecall
            return
        if intno == ECALL_FROM_U and number in (SYS_EXIT, SYS_EXIT_GROUP):
            status = uc.reg_read(rc.UC_RISCV_REG_A0)
            self.exit_code = status - (1 << 32) if status & (1 << 31) else status
        else:
            self.failure = (f"exception {intno} (a7={number}) at "
                            f"{uc.reg_read(rc.UC_RISCV_REG_PC):#x}")
        uc.emu_stop()

    def run(self, count: int = 0) -> float:
        """Run from the entry (at most `count` instructions unless 0); the host seconds taken."""
        started = time.perf_counter()
        self.uc.emu_start(self.entry, 0xFFFFFFFF, count=count)
        return time.perf_counter() - started

    @property
    def stdout(self) -> bytes:
        return bytes(self.output.get(1, b""))

    def registers(self) -> tuple[list[int], int]:
        rc = self._rc
        return ([self.uc.reg_read(rc.UC_RISCV_REG_X0 + n) for n in range(32)],
                self.uc.reg_read(rc.UC_RISCV_REG_PC))


def on_instruction(uc, address, size, user_data) -> None:
    """The per-instruction hook a Python user would write: it does nothing."""


def unicorn_version() -> str | None:
    try:
        import unicorn
    except ImportError:
        return None
    return unicorn.__version__


# ---- native -------------------------------------------------------------------------

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

def host_description() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, Python {platform.python_version()}, unicorn {unicorn_version() or 'absent'}"


def emu_part(table: Table, workload: Workload, scale: Scale,
             native_output: bytes | None) -> EmuRun:
    table.section("1. emu functional core")
    run = run_emu(workload, scale.runs)
    mips = run.instructions / run.seconds / 1e6
    if native_output is not None:
        check = agreement(run.stdout == native_output and run.exit_code == 0, "output vs native C:")
    else:
        check = f"exit {run.exit_code}, output not checked"
    table.row(f"emu, {run.instructions / 1e6:.1f}M instructions, best of {scale.runs}",
              run.seconds, mips, "", goal_text(mips >= GOAL_MIPS, f">= {GOAL_MIPS} MIPS"), check)
    return run


def unicorn_parts(table: Table, workload: Workload, emu_run: EmuRun, scale: Scale) -> None:
    """Parts 2 and 3: the same ELF from the same initial state under Unicorn."""
    table.section("2. Unicorn (JIT), only the ecall hook")
    if unicorn_version() is None:
        table.row("skipped: unicorn is not installed")
        table.section("3. Unicorn with a per-instruction Python hook")
        table.row("skipped: unicorn is not installed")
        return
    emu_mips = emu_run.instructions / emu_run.seconds / 1e6
    machine = new_machine()
    machine.load(workload.elf, argv=workload.argv)
    image = GuestImage.of(machine)

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
    # Stop well before the end, so the count is exact and no exit intervenes.
    count = min(scale.hook_count, emu_run.instructions // 2)
    hooked = UnicornGuest(image, per_instruction_hook=True)
    seconds = hooked.run(count)
    machine.run(max_instructions=count)
    regs, pc = hooked.registers()
    same = hooked.failure is None and regs == [int(r) for r in machine.regs] and pc == machine.pc
    hook_mips = count / seconds / 1e6
    table.row(f"unicorn + UC_HOOK_CODE, {count / 1e6:.1f}M instructions", seconds, hook_mips,
              f"emu/hooked {emu_mips / hook_mips:.0f}", "",
              agreement(same, f"regs+pc vs emu after {count:,}:"))


def native_part(table: Table, c_workload: Workload | None, c_reason: str, emu_run: EmuRun,
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
    run = emu_run if workload is c_workload else run_emu(c_workload, scale.runs)
    if native is None:
        check, compared = f"exit {run.exit_code}, output not checked", ""
    else:
        check = agreement(run.stdout == native[1] and run.exit_code == 0, "output vs native:")
        compared = (f"slowdown {run.seconds / native[0]:.0f}x" if native[0] >= NATIVE_RESOLUTION
                    else "native too short")
    table.row(f"emu, {run.instructions / 1e6:.1f}M instructions, best of {scale.runs}",
              run.seconds, run.instructions / run.seconds / 1e6, compared, "", check)


def memory_part(table: Table, workload: Workload, workdir: Path, scale: Scale) -> None:
    table.section(f"5. memory and start-up, {RAM_BYTES >> 20} MiB of guest RAM")
    rss = peak_rss_mib(workload, workdir)
    table.row(f"peak RSS, fresh process running the workload: {rss:.0f} MiB",
              goal=goal_text(rss < GOAL_RSS_MIB, f"< {GOAL_RSS_MIB} MiB"))
    create = median_seconds(new_machine, scale.samples)
    table.row(f"Machine() creation, median of {scale.samples}", create,
              goal=goal_text(create < GOAL_CREATE_S, f"< {GOAL_CREATE_S:.0f} s"))

    def create_and_load() -> emu.Machine:
        machine = new_machine()
        machine.load(workload.elf, argv=workload.argv)
        return machine

    load = median_seconds(create_and_load, scale.samples)
    table.row(f"Machine() + load of the workload, median of {scale.samples}", load)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="shrink everything for a smoke run")
    args = parser.parse_args(argv)
    scale = QUICK if args.quick else FULL

    with tempfile.TemporaryDirectory(prefix="emu-bench-") as tmp:
        workdir = Path(tmp)
        # The full run keeps bench.s's own REPEAT, and the C workload repeats as often.
        asm, asm_reason = assembly_workload(scale.repeat if args.quick else None, workdir)
        repeat = asm.rounds if asm is not None else scale.repeat
        c_workload, c_reason = compile_riscv(repeat, workdir)
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
        table = Table()
        emu_run = emu_part(table, workload, scale, native[1] if native else None)
        unicorn_parts(table, workload, emu_run, scale)
        native_part(table, c_workload, c_reason, emu_run, workload, native, repeat, scale)
        memory_part(table, workload, workdir, scale)
    return 0


if __name__ == "__main__":
    sys.exit(main())

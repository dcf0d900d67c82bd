"""What emu's benchmark scripts share: the workloads, timed runs, Unicorn, the table.

bench_functional.py, bench_ooo.py and bench_multicore.py import this module (it sits
beside them, so running any of them by its path finds it). It owns building the
workload ELFs (programs/bench.s through isa.assembler, benchmarks/workload.c through
riscv64-unknown-elf-gcc), the best-of-n timing of `Machine.run`, running the same
ELF under Unicorn from the state emu's loader built, and the printing of a table
whose rows appear as they are measured. What each script measures, and its columns,
stay in the script.
"""

from __future__ import annotations

import platform
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

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

SYS_WRITE, SYS_EXIT, SYS_EXIT_GROUP = 64, 93, 94
ECALL_FROM_U = 8


# ---- the table ------------------------------------------------------------------------

class Table:
    """Columns of fixed width, printed row by row as measurements come in.

    A script subclasses it with its COLUMNS ((name, width) pairs; width 0 for the
    last, free-width column) and a `row` method that formats its cells.
    """

    COLUMNS: tuple[tuple[str, int], ...] = ()
    RULE = 150          # length of the line under the header

    def __init__(self) -> None:
        print("  ".join(f"{name:<{width}}" for name, width in self.COLUMNS).rstrip())
        print("-" * self.RULE)

    def print_cells(self, cells: tuple[str, ...]) -> None:
        print("  ".join(f"{cell:<{width}}" for cell, (_, width) in zip(cells, self.COLUMNS)).rstrip(),
              flush=True)

    def section(self, title: str) -> None:
        print(title, flush=True)


def goal_text(met: bool, goal: str) -> str:
    return f"{goal} {'met' if met else 'MISSED'}"


def agreement(same: bool, what: str) -> str:
    return f"{what} {'match' if same else 'MISMATCH'}"


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


# ---- building the workloads ---------------------------------------------------------

@dataclass(frozen=True)
class Workload:
    description: str
    elf: bytes
    argv: tuple[str, ...]
    rounds: int         # REPEAT of bench.s, or the repeat argument of workload.c


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


@dataclass(frozen=True)
class Workloads:
    """The assembly and C workloads of one benchmark run (either may be missing)."""

    asm: Workload | None
    asm_reason: str
    c: Workload | None
    c_reason: str
    repeat: int             # rounds both run


def build_workloads(quick_repeat: int | None, default_repeat: int, workdir: Path) -> Workloads:
    """programs/bench.s (its own REPEAT unless `quick_repeat`), and workload.c repeated
    as often."""
    asm, asm_reason = assembly_workload(quick_repeat, workdir)
    repeat = asm.rounds if asm is not None else default_repeat
    c_workload, c_reason = compile_riscv(repeat, workdir)
    return Workloads(asm, asm_reason, c_workload, c_reason, repeat)


# ---- timed runs of emu -----------------------------------------------------------------

@dataclass(frozen=True)
class EmuRun:
    seconds: float      # best host time of `Machine.run`
    instructions: int
    cycles: int
    stdout: bytes
    exit_code: int | None
    stats: dict         # machine.stats after the best run
    inspected: Any = None   # what run_emu's `inspect` returned for the best run

    @property
    def mips(self) -> float:
        return self.instructions / self.seconds / 1e6


def loaded_machine(config: emu.MachineConfig, workload: Workload) -> emu.Machine:
    machine = emu.Machine(config)
    machine.load(workload.elf, argv=workload.argv)
    return machine


def run_emu(config: emu.MachineConfig, workload: Workload, runs: int,
            prepare: Callable[[emu.Machine], None] | None = None,
            inspect: Callable[[emu.Machine], Any] | None = None) -> EmuRun:
    """Best of `runs` runs, each on a freshly created and loaded machine (cold decode cache).

    `prepare(machine)` runs after loading, untimed (to start more harts, say);
    `inspect(machine)` after each run, its result kept as the best run's `inspected`.
    """
    best = None
    for _ in range(runs):
        machine = loaded_machine(config, workload)
        if prepare is not None:
            prepare(machine)
        started = time.perf_counter()
        result = machine.run()
        seconds = time.perf_counter() - started
        if best is None or seconds < best.seconds:
            best = EmuRun(seconds, result.instructions, result.cycles, machine.stdout,
                          result.exit_code, machine.stats,
                          inspect(machine) if inspect is not None else None)
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


@dataclass(frozen=True)
class HookedRun:
    """`instructions` run under Unicorn with the per-instruction Python hook."""

    seconds: float
    instructions: int
    same: bool              # registers and pc equal emu's after as many instructions
    failure: str | None     # an exception Unicorn stopped at, if any

    @property
    def mips(self) -> float:
        return self.instructions / self.seconds / 1e6


def run_hooked_unicorn(reference: emu.Machine, limit: int, program_instructions: int) -> HookedRun:
    """Unicorn with `on_instruction` hooked, from the state of `reference` (a loaded emu
    machine, not yet run), which then runs as many instructions itself.

    It runs `limit` instructions, or half the program when that is shorter: well before
    the end, so the count is exact and no exit intervenes.
    """
    count = min(limit, program_instructions // 2)
    hooked = UnicornGuest(GuestImage.of(reference), per_instruction_hook=True)
    seconds = hooked.run(count)
    reference.run(max_instructions=count)
    regs, pc = hooked.registers()
    same = (hooked.failure is None and regs == [int(r) for r in reference.regs]
            and pc == reference.pc)
    return HookedRun(seconds, count, same, hooked.failure)

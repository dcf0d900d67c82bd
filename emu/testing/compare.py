"""Running a program to its final architectural state, and comparing two such states.

This module owns what "the same result" means when a program runs on two machines
(two configurations of emu, or emu and another emulator): the 32 registers, the pc,
the bytes of the program's data region (between the symbols `data_region` and
`data_region_end`, when it has them), how the run ended, the exit code and stdout.
Counters (cycle, time, instret) and timing are deliberately not part of it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Callable

from emu.config import MachineConfig
from emu.machine import Machine, RunResult
from emu.paging import MEGAPAGE, PAGE, PageTables
from emu.testing.strategies import DATA_END_SYMBOL, DATA_SYMBOL, GeneratedProgram
from isa import assemble
from isa.table import REGISTER_NAMES

#: Instruction budget of run_program for programs that do not state their own bound.
DEFAULT_MAX_INSTRUCTIONS = 100_000_000
#: Differences listed per category before the rest are summarised.
MAX_LISTED_DIFFERENCES = 16

ProgramLike = GeneratedProgram | str | bytes | os.PathLike


@dataclass(frozen=True)
class ArchState:
    """The architectural state a run ends in."""

    reason: str                     # RunResult.reason, or how another emulator stopped
    exit_code: int | None
    pc: int
    registers: tuple[int, ...]      # x0..x31 as unsigned 32-bit values
    data: bytes                     # the data region; b"" for programs without one
    stdout: bytes = b""

    def differences(self, other: "ArchState", names: tuple[str, str] = ("a", "b")) -> list[str]:
        """One readable line per difference between self (names[0]) and other (names[1])."""
        a, b = names
        lines = []
        for label in ("reason", "exit_code"):
            mine, theirs = getattr(self, label), getattr(other, label)
            if mine != theirs:
                lines.append(f"{label}: {mine!r} ({a}) != {theirs!r} ({b})")
        if self.pc != other.pc:
            lines.append(f"pc: {self.pc:#010x} ({a}) != {other.pc:#010x} ({b})")
        registers = [f"x{i}/{REGISTER_NAMES[i]}: {x:#010x} ({a}) != {y:#010x} ({b})"
                     for i, (x, y) in enumerate(zip(self.registers, other.registers)) if x != y]
        lines += _summarised(registers)
        if len(self.data) != len(other.data):
            lines.append(f"data region size: {len(self.data)} ({a}) != {len(other.data)} ({b})")
        else:
            words = [f"data+{offset:#05x}: {self.data[offset:offset + 4].hex(' ')} ({a}) "
                     f"!= {other.data[offset:offset + 4].hex(' ')} ({b})"
                     for offset in range(0, len(self.data), 4)
                     if self.data[offset:offset + 4] != other.data[offset:offset + 4]]
            lines += _summarised(words)
        if self.stdout != other.stdout:
            lines.append(f"stdout: {self.stdout[:200]!r} ({a}) != {other.stdout[:200]!r} ({b})")
        return lines


def _summarised(lines: list[str]) -> list[str]:
    if len(lines) <= MAX_LISTED_DIFFERENCES:
        return lines
    rest = len(lines) - MAX_LISTED_DIFFERENCES
    return lines[:MAX_LISTED_DIFFERENCES] + [f"... and {rest} more like these"]


def data_region(machine: Machine) -> tuple[int, int] | None:
    """(address, size) of the loaded program's data region, or None if it has none."""
    symbols = machine.program.symbols if machine.program else {}
    if DATA_SYMBOL in symbols and DATA_END_SYMBOL in symbols:
        start = symbols[DATA_SYMBOL]
        return start, symbols[DATA_END_SYMBOL] - start
    return None


def capture_state(machine: Machine, result: RunResult) -> ArchState:
    """The state `machine` is in after `result`."""
    region = data_region(machine)
    return ArchState(
        reason=result.reason,
        exit_code=result.exit_code,
        pc=machine.pc,
        registers=tuple(int(x) for x in machine.regs),
        data=machine.read_memory(*region) if region else b"",
        stdout=machine.stdout,
    )


def executable(program: ProgramLike) -> bytes:
    """The ELF bytes of a program given as GeneratedProgram, source text, ELF bytes or
    a path to an ELF file."""
    if isinstance(program, GeneratedProgram):
        return assemble(program.source)
    if isinstance(program, str):
        return assemble(program)
    if isinstance(program, (bytes, bytearray)):
        return bytes(program)
    with open(program, "rb") as f:
        return f.read()


def identity_paging(machine: Machine, *, asid: int = 1, megapages: bool = False) -> PageTables:
    """Turn Sv32 translation on for every hart with all of RAM mapped to itself (user,
    rwx; A/D clear, so the walker has work), the tables in the pages just below the
    stack area (the root, one table per 4 MiB of RAM, and 8 spare for more mappings the
    caller adds with the returned PageTables). With `megapages`, RAM is
    covered by 4 MiB leaves instead (the ones overlapping RAM). A `prepare` for
    run_program: a program must then run exactly as with translation off."""
    config = machine.config
    pool_end = config.ram_end - config.stack_size
    pool_pages = 10 + config.ram_end // MEGAPAGE - config.ram_base // MEGAPAGE
    tables = PageTables(machine, (pool_end - pool_pages * PAGE, pool_end))
    if megapages:
        first = config.ram_base // MEGAPAGE * MEGAPAGE
        last = -(-config.ram_end // MEGAPAGE) * MEGAPAGE
        tables.map(first, first, last - first, "rwx", megapages=True)
    else:
        tables.map(config.ram_base, config.ram_base, config.memory_size, "rwx")
    for hart in range(config.harts):
        machine.set_satp(hart, 1, asid, tables.root_ppn)
    return tables


def load_program(program: ProgramLike, config: MachineConfig | None = None, *,
                 stdin: bytes = b"", argv: tuple[str, ...] = ("prog",),
                 prepare: Callable[[Machine], object] | None = None) -> Machine:
    """A machine with `program` loaded, its output captured, then `prepare(machine)`
    called (e.g. identity_paging)."""
    machine = Machine(config if config is not None else MachineConfig(), stdin=stdin)
    machine.load(executable(program), argv=argv)
    if prepare is not None:
        prepare(machine)
    return machine


def run_program(program: ProgramLike, config: MachineConfig | None = None, *,
                max_instructions: int | None = None, stdin: bytes = b"",
                argv: tuple[str, ...] = ("prog",),
                prepare: Callable[[Machine], object] | None = None) -> ArchState:
    """Run `program` on a machine built from `config` (default MachineConfig()) and
    return its final state. The budget defaults to a GeneratedProgram's own bound, or
    DEFAULT_MAX_INSTRUCTIONS; a run that exhausts it ends with reason "limit"."""
    if max_instructions is None:
        max_instructions = (program.max_instructions if isinstance(program, GeneratedProgram)
                            else DEFAULT_MAX_INSTRUCTIONS)
    machine = load_program(program, config, stdin=stdin, argv=argv, prepare=prepare)
    return capture_state(machine, machine.run(max_instructions=max_instructions))


def assert_same_state(program: ProgramLike, config_a: MachineConfig | None,
                      config_b: MachineConfig | None, *,
                      max_instructions: int | None = None,
                      prepare_a: Callable[[Machine], object] | None = None,
                      prepare_b: Callable[[Machine], object] | None = None) -> ArchState:
    """Run `program` under both configurations (each machine given to its `prepare`
    after loading) and raise AssertionError listing every difference in architectural
    state; return the (common) state."""
    elf = executable(program)
    if max_instructions is None and isinstance(program, GeneratedProgram):
        max_instructions = program.max_instructions
    a = run_program(elf, config_a, max_instructions=max_instructions, prepare=prepare_a)
    b = run_program(elf, config_b, max_instructions=max_instructions, prepare=prepare_b)
    differences = a.differences(b, names=("A", "B"))
    if differences:
        raise AssertionError(
            "architectural state differs between\n"
            f"  A = {config_a!r}\n  B = {config_b!r}\n  " + "\n  ".join(differences))
    return a

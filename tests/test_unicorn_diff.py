"""Differential test of emu against Unicorn (QEMU's RISC-V core as a library).

A hypothesis-generated program (emu.testing strategies: straight-line; with loops and
forward branches; with calls to leaf functions too) is assembled and loaded into an
emu Machine. Its initial state (all of RAM, the 31 registers, the pc) is copied into a
Unicorn RV32 machine at the same addresses. emu is stepped until the pc reaches the
program's final exit ecall, taking N instructions; Unicorn then runs from the same
entry with emu_start(entry, exit, count=N).
Both must stop at the exit ecall with the same 32 registers and the same data region.

Unicorn quirks found on the way (unicorn 2.1):
- ecall raises UC_HOOK_INTR (intno 8) with the pc already past the ecall, and with no
  hook the run stops with an error; the programs are compared before their only ecall.
- It runs in machine mode with the counters live, so cycle/time/instret differ from
  emu's; the generated programs never read them.
- Misaligned loads and stores succeed in QEMU's core (misaligned AMOs do trap) but
  trap on emu; generated accesses are always naturally aligned.
- sc.w is a compare-and-swap against the value lr.w loaded (a reservation address plus
  value, not a reservation flag), so a store between lr.w and sc.w that changes the
  word makes sc.w fail where a flag-based implementation may succeed; generated
  programs never store between the two.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings

import emu
from emu.testing import (ArchState, GeneratedProgram, looping_programs, programs,
                         straight_line_programs)
from emu.testing.compare import data_region
from emu.testing.strategies import EXIT_SYMBOL
from isa.table import REGISTER_NUMBERS

unicorn = pytest.importorskip("unicorn")
from unicorn import riscv_const  # noqa: E402  (only importable when unicorn is)

CONFIG = emu.MachineConfig(memory_size=1 << 20, stack_size=64 << 10)
UC_REGISTERS = [getattr(riscv_const, f"UC_RISCV_REG_X{i}") for i in range(32)]

#: Hand-written: the M-extension edge cases and an LR/SC pair that succeeds and fails.
EDGE_CASES = GeneratedProgram("""
        .text
        .globl  _start
_start:
        la      s11, data_region
        li      t0, -2147483648
        li      t1, -1
        div     a0, t0, t1          # INT_MIN / -1 = INT_MIN
        rem     a1, t0, t1          # 0
        div     a2, t0, zero        # x / 0 = -1
        divu    a3, t0, zero        # 0xffffffff
        rem     a4, t0, zero        # x % 0 = x
        remu    a5, t1, zero        # x
        mulh    a6, t0, t0          # 0x40000000
        mulhsu  t2, t1, t1          # -1
        mulhu   s0, t1, t1          # 0xfffffffe
        sra     s1, t0, t1          # shift by 31
        lr.w    s2, (s11)
        sc.w    s3, t1, (s11)       # succeeds: s3 = 0
        sc.w    s4, t0, (s11)       # no reservation left: s4 = 1
        amominu.w s5, t0, (s11)     # old 0xffffffff, stores 0x80000000
        lh      s6, 2(s11)
        lbu     s7, 3(s11)
        li      a7, 93
exit_ecall:
        ecall
        .data
data_region:
        .word   0x12345678, 0
data_region_end:
""", max_instructions=100)


def run_emu_to_exit(machine: emu.Machine, program: GeneratedProgram) -> tuple[int, ArchState]:
    """Step until the pc is at the exit ecall; the instruction count and the state."""
    exit_address = machine.program.symbols[EXIT_SYMBOL]
    executed = 0
    while machine.pc != exit_address:
        assert executed < program.max_instructions, "emu ran past the program's instruction bound"
        result = machine.step()
        assert result.reason == "limit", f"emu stopped early: {result}"
        executed += 1
    return executed, state_of(machine, machine.pc, machine.regs)


def state_of(machine: emu.Machine, pc: int, registers, data: bytes | None = None) -> ArchState:
    address, size = data_region(machine)
    return ArchState(reason="stopped at exit", exit_code=None, pc=pc,
                     registers=tuple(int(r) for r in registers),
                     data=machine.read_memory(address, size) if data is None else data)


def run_unicorn(machine: emu.Machine, memory: bytes, registers: np.ndarray, count: int) -> ArchState:
    """Run `count` instructions from the entry on Unicorn, starting from the given RAM
    image and registers (emu's state right after load)."""
    uc = unicorn.Uc(unicorn.UC_ARCH_RISCV, unicorn.UC_MODE_RISCV32)
    uc.mem_map(CONFIG.ram_base, CONFIG.memory_size, unicorn.UC_PROT_ALL)
    uc.mem_write(CONFIG.ram_base, memory)
    for number in range(1, 32):
        uc.reg_write(UC_REGISTERS[number], int(registers[number]))
    entry, exit_address = machine.program.entry, machine.program.symbols[EXIT_SYMBOL]
    if count:
        uc.emu_start(entry, exit_address, count=count)
    pc = uc.reg_read(riscv_const.UC_RISCV_REG_PC) if count else entry
    address, size = data_region(machine)
    return state_of(machine, pc, [uc.reg_read(r) for r in UC_REGISTERS],
                    bytes(uc.mem_read(address, size)))


def check_against_unicorn(program: GeneratedProgram) -> ArchState:
    """Assert emu and Unicorn agree on `program` up to its exit; emu's final state."""
    machine = emu.Machine(CONFIG)
    machine.load(emu.assemble(program.source))
    initial_memory, initial_registers = machine.memory.tobytes(), machine.regs.copy()
    count, emu_state = run_emu_to_exit(machine, program)
    unicorn_state = run_unicorn(machine, initial_memory, initial_registers, count)
    differences = emu_state.differences(unicorn_state, names=("emu", "unicorn"))
    assert not differences, (f"after {count} instructions:\n  " + "\n  ".join(differences)
                             + "\n" + program.source)
    return emu_state


def test_edge_cases_match_unicorn_and_the_spec():
    state = check_against_unicorn(EDGE_CASES)
    expected = {
        "a0": 0x80000000, "a1": 0, "a2": 0xFFFFFFFF, "a3": 0xFFFFFFFF, "a4": 0x80000000,
        "a5": 0xFFFFFFFF, "a6": 0x40000000, "t2": 0xFFFFFFFF, "s0": 0xFFFFFFFE,
        "s1": 0xFFFFFFFF, "s2": 0x12345678, "s3": 0, "s4": 1, "s5": 0xFFFFFFFF,
        "s6": 0xFFFF8000, "s7": 0x80,
    }
    assert {name: state.registers[REGISTER_NUMBERS[name]] for name in expected} == expected
    assert state.data == bytes.fromhex("00000080 00000000")


@pytest.mark.slow
@pytest.mark.parametrize("strategy", [straight_line_programs(), looping_programs(), programs()],
                         ids=["straight_line", "looping", "with_calls"])
def test_generated_programs_match_unicorn(strategy):
    @settings(max_examples=40)
    @given(strategy)
    def check(program):
        check_against_unicorn(program)

    check()

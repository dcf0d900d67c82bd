"""Hart contexts, the kernel's side of threads: save, restore, and a preemptive
round-robin scheduler in a few lines of Python, driven by the CLINT's timer."""

import pickle
import struct

import pytest

import emu
from emu._core.bus import MIP_MTIP
from emu.devices import CLINT_BASE
from emu._core import clint
from emu.machine import HartContext
from emu.testing import identity_paging

MTIMECMP0 = CLINT_BASE + clint.CLINT_MTIMECMP
ROUNDS = 3000

# Thread `a0` adds 1 to counts[a0] ROUNDS times, then stops at an ebreak.
THREADS = f"""
    .globl _start, worker
_start:
    li a0, 0
worker:
    la t0, counts
    slli t1, a0, 2
    add t0, t0, t1
    li t2, {ROUNDS}
1:  lw t3, 0(t0)
    addi t3, t3, 1
    sw t3, 0(t0)
    addi t2, t2, -1
    bnez t2, 1b
    ebreak
    .data
counts: .word 0, 0
"""


def set_timer(machine, ticks_from_now):
    mtime = CLINT_BASE + clint.CLINT_MTIME
    now = machine.devices.load(mtime) | machine.devices.load(mtime + 4) << 32
    when = now + ticks_from_now
    machine.devices.store(MTIMECMP0, 0xFFFFFFFF)
    machine.devices.store(MTIMECMP0 + 4, when >> 32)
    machine.devices.store(MTIMECMP0, when & 0xFFFFFFFF)


@pytest.mark.parametrize("cpu", ["functional", "ooo"])
@pytest.mark.parametrize("paged", [False, True])
def test_a_timer_tick_switches_two_threads_on_one_hart(cpu, paged):
    config = emu.MachineConfig(cpu=cpu, memory_size=1 << 20, stack_size=64 << 10,
                               clock_hz=10**9, timebase_hz=10**8)
    machine = emu.Machine(config)
    program = machine.load(emu.assemble(THREADS))
    if paged:
        identity_paging(machine)
    machine.enable_interrupts(0, MIP_MTIP)
    first = machine.save_context(0)
    second = HartContext(tuple(r if i != 10 else 1 for i, r in enumerate(first.regs)),
                         program.symbols["worker"], first.satp, first.interrupts)
    ready = [second]
    switches = []

    def tick(trap):                     # the scheduler: round robin, 2000-cycle slices
        ready.append(machine.save_context(0))
        machine.restore_context(0, ready.pop(0))
        machine.charge(0, 50)           # what the switch costs the kernel
        switches.append(machine.stats["sim_cycles"])
        set_timer(machine, 200)         # 200 ticks of 10 cycles
        return None

    machine.kernel.interrupt_handlers[7] = tick
    set_timer(machine, 200)
    finished = 0
    while finished < 2:
        result = machine.run(max_instructions=1_000_000)
        assert result.reason == "breakpoint", result
        finished += 1
        if ready:                       # this thread is done: run the other one
            machine.restore_context(0, ready.pop(0))
    counts = struct.unpack("<2I", machine.read_memory(program.symbols["counts"], 8))
    assert counts == (ROUNDS, ROUNDS)
    assert len(switches) >= 4           # both threads were preempted, repeatedly
    assert all(b - a >= 2000 for a, b in zip(switches, switches[1:]))


def test_contexts_pickle_and_restore_exactly():
    machine = emu.Machine(emu.MachineConfig(memory_size=1 << 20, stack_size=64 << 10))
    machine.load(emu.assemble(THREADS))
    machine.run(max_instructions=100)
    context = pickle.loads(pickle.dumps(machine.save_context(0)))
    other = emu.Machine(emu.MachineConfig(memory_size=1 << 20, stack_size=64 << 10))
    other.load(emu.assemble(THREADS))
    other.write_memory(other.program.symbols["counts"],
                       machine.read_memory(machine.program.symbols["counts"], 8))
    other.restore_context(0, context)
    assert other.save_context(0) == context
    assert other.run().reason == machine.run().reason == "breakpoint"
    assert other.read_memory(other.program.symbols["counts"], 8) == \
        machine.read_memory(machine.program.symbols["counts"], 8)
    with pytest.raises(ValueError):
        other.restore_context(0, HartContext((0,) * 31, 0, 0, 0))

"""Several harts in one machine, in one global cycle loop: atomics, locks, LR/SC."""

import struct

import pytest

import emu
from emu.config import CoreConfig

ITERATIONS = 300

# Every hart runs `worker` with a0 = its number; each has its own stack.
SOURCE = """
    .globl _start
_start:
    li a0, 0
worker:
    li s0, {iterations}
    la s1, counter
    la s2, lock
    la s3, plain
1:  li t0, 1
    amoadd.w zero, t0, (s1)         # the atomic counter
2:  li t1, 1                        # the spinlock: amoswap.aq to take it ...
    amoswap.w.aq t1, t1, (s2)
    bnez t1, 2b
    lw t2, 0(s3)                    # ... a plain read-modify-write inside it ...
    addi t2, t2, 1
    sw t2, 0(s3)
    amoswap.w.rl zero, zero, (s2)   # ... and release
3:  lr.w t3, (s4)                   # an LR/SC counter
    addi t3, t3, 1
    sc.w t4, t3, (s4)
    bnez t4, 3b
    addi s0, s0, -1
    bnez s0, 1b
    li a0, 0
    li a7, 93                       # exit: this hart stops
    ecall
    .data
counter: .word 0
lock:    .word 0
plain:   .word 0
llsc:    .word 0
"""


def run(harts, cpu, **config_fields):
    config = emu.MachineConfig(memory_size=1 << 20, harts=harts, cpu=cpu,
                               core=CoreConfig(check_invariants=cpu == "ooo"), **config_fields)
    m = emu.Machine(config)
    program = m.load(emu.assemble(SOURCE.format(iterations=ITERATIONS)))
    llsc = program.symbols["llsc"]
    m.regs[20] = llsc                                   # s4 for hart 0
    for hart in range(1, harts):
        m.start_hart(hart, program.symbols["worker"], sp=m.regs[2] - 4096 * hart, args=[hart])
        m.hart_regs(hart)[20] = llsc
    result = m.run()
    words = {name: struct.unpack("<I", m.read_memory(program.symbols[name], 4))[0]
             for name in ("counter", "lock", "plain", "llsc")}
    return result, words


@pytest.mark.parametrize("cpu", ["functional", "ooo"])
@pytest.mark.parametrize("harts", [1, 2, 4])
def test_atomics_locks_and_lr_sc_count_exactly(harts, cpu):
    result, words = run(harts, cpu)
    assert (result.reason, result.exit_code) == ("exit", 0)
    total = harts * ITERATIONS
    assert words == {"counter": total, "lock": 0, "plain": total, "llsc": total}


@pytest.mark.parametrize("quantum", [3, 64, 5000])
def test_functional_harts_in_quanta_count_exactly_and_keep_one_clock(quantum):
    result, words = run(4, "functional", quantum=quantum)
    assert (result.reason, result.exit_code) == ("exit", 0)
    total = 4 * ITERATIONS
    assert words == {"counter": total, "lock": 0, "plain": total, "llsc": total}
    assert result.cycles < result.instructions      # they ran side by side


@pytest.mark.parametrize("models", [("ooo", "functional"),
                                    ("functional", "ooo", "ooo", "functional")])
def test_harts_on_different_core_models_count_exactly(models):
    config = emu.MachineConfig(memory_size=1 << 20, harts=len(models),
                               core=CoreConfig(check_invariants=True))
    m = emu.Machine(config)
    program = m.load(emu.assemble(SOURCE.format(iterations=ITERATIONS)))
    for hart, model in enumerate(models):
        m.set_hart_cpu(hart, model)
    m.regs[20] = program.symbols["llsc"]
    for hart in range(1, len(models)):
        m.start_hart(hart, program.symbols["worker"], sp=m.regs[2] - 4096 * hart, args=[hart])
        m.hart_regs(hart)[20] = program.symbols["llsc"]
    result = m.run()
    assert (result.reason, result.exit_code) == ("exit", 0)
    words = struct.unpack("<4I", m.read_memory(program.symbols["counter"], 16))
    total = len(models) * ITERATIONS
    assert words == (total, 0, total, total)
    if models[0] == "ooo":
        assert m.stats["cpu"]["committedInsts"] > 0     # hart 0 ran on the pipeline
    assert [m.hart_cpu(h) for h in range(len(models))] == list(models)
    with pytest.raises(ValueError):
        m.set_hart_cpu(0, "fast")


def test_harts_share_one_clock():
    result, _ = run(4, "ooo")
    # Four harts over one global loop: far fewer cycles than instructions.
    assert result.cycles < result.instructions


def test_start_hart_checks_its_arguments():
    m = emu.Machine(emu.MachineConfig(memory_size=1 << 20, harts=2))
    with pytest.raises(IndexError):
        m.start_hart(2, 0x1000, 0x2000)
    with pytest.raises(ValueError):
        m.start_hart(1, 0x1000, 0x2000, args=range(9))


# ---- with coherent caches ----------------------------------------------------------------

from emu.config import MemoryHierarchyConfig  # noqa: E402


@pytest.mark.parametrize("harts", [2, 4])
def test_atomics_stay_exact_with_coherent_caches(harts):
    config = emu.MachineConfig(memory_size=1 << 20, harts=harts, cpu="ooo",
                               caches=MemoryHierarchyConfig(),
                               core=CoreConfig(check_invariants=True))
    m = emu.Machine(config)
    program = m.load(emu.assemble(SOURCE.format(iterations=100)))
    m.regs[20] = program.symbols["llsc"]
    for hart in range(1, harts):
        m.start_hart(hart, program.symbols["worker"], sp=m.regs[2] - 4096 * hart, args=[hart])
        m.hart_regs(hart)[20] = program.symbols["llsc"]
    assert m.run().reason == "exit"
    for name in ("counter", "plain", "llsc"):
        assert struct.unpack("<I", m.read_memory(program.symbols[name], 4))[0] == harts * 100
    coherence = m.stats["caches"].coherence
    assert coherence.invalidations_sent.sum() > 0


FALSE_SHARING = """
    .globl _start
_start:
    la a1, slots
worker:                             # a0 = hart, a1 = slots
    slli t0, a0, {shift}
    add t0, t0, a1                  # this hart's own counter
    li t1, 2000
1:  lw t2, 0(t0)
    addi t2, t2, 1
    sw t2, 0(t0)
    addi t1, t1, -1
    bnez t1, 1b
    li a0, 0
    li a7, 93
    ecall
    .data
    .balign 64
slots: .space 256
"""


def contended_cycles(shift):
    m = emu.Machine(emu.MachineConfig(memory_size=1 << 20, harts=2, cpu="ooo",
                                      caches=MemoryHierarchyConfig()))
    program = m.load(emu.assemble(FALSE_SHARING.format(shift=shift)))
    m.start_hart(1, program.symbols["worker"], sp=m.regs[2] - 4096, args=[1, program.symbols["slots"]])
    result = m.run()
    assert result.reason == "exit"
    return result.cycles, m.stats["caches"].coherence, program.symbols["slots"]


def test_false_sharing_is_slower_than_its_padded_twin_and_reported():
    shared_cycles, shared, slots = contended_cycles(2)      # counters 4 bytes apart
    padded_cycles, padded, _ = contended_cycles(6)          # a 64-byte line each
    assert shared_cycles > 1.5 * padded_cycles
    assert [entry.line for entry in shared.false_sharing] == [slots]
    assert not padded.false_sharing

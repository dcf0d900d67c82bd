"""The Cython functional core against the plain-Python reference (tests/reference.py).

Random instruction words (valid rows with random operands, and raw random words)
run on random register values; the core must agree with the reference on every
register, the pc, memory, and on whether and how it traps. The core is driven
through emu._core.system.System directly, below the kernel, so ecall and faults
come back as traps instead of being served.
"""

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from emu._core.system import STOP_REASON_BUDGET, STOP_REASON_TRAP, System
from isa.table import IMM_RANGES, encode, instructions, lookup
from tests.reference import State, TrapRaised, step

RAM_BASE = 0x1000
RAM_SIZE = 1 << 16
RAM_END = RAM_BASE + RAM_SIZE
TIME_DIVIDER = 100

INTERESTING = [0, 1, 2, 3, 4, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF, 0xFFFFFFFE, 31, 32, 33]

register_values = st.one_of(
    st.sampled_from(INTERESTING),
    st.integers(RAM_BASE - 8, RAM_END + 8),     # near and across the RAM edges
    st.integers(0, 0xFFFFFFFF),
)


@st.composite
def valid_words(draw, row=None):
    row = row or draw(st.sampled_from(instructions()))
    fields = {}
    for name in row.fields:
        if name in IMM_RANGES:
            lo, hi, align = IMM_RANGES[name]
            fields[name] = draw(st.integers(lo // align, hi // align)) * align
        elif name in ("pred", "succ"):
            fields[name] = draw(st.integers(0, 15))
        else:
            fields[name] = draw(st.integers(0, 31))
    if row.has_aqrl:
        fields["aqrl"] = draw(st.integers(0, 3))
    return encode(row, **fields)


words = st.one_of(valid_words(), st.integers(0, 0xFFFFFFFF))


def _fresh(regs, pc, program, data):
    system = System(RAM_BASE, RAM_SIZE, 1, TIME_DIVIDER)
    system.ram[:] = data
    view = system.regs(0)
    view[:] = regs
    view[0] = 0
    system.set_pc(0, pc)
    for i, word in enumerate(program):
        off = pc - RAM_BASE + 4 * i
        system.ram[off:off + 4] = np.frombuffer(int(word).to_bytes(4, "little"), np.uint8)
    state = State(regs=[0] + list(regs[1:]), pc=pc, ram=(RAM_BASE, RAM_END),
                  memory={RAM_BASE + int(i): int(system.ram[i]) for i in np.flatnonzero(system.ram)})
    return system, state


def _run_both(system, state, count):
    """Run `count` single steps in both; return after the first trap."""
    for _ in range(count):
        word = int.from_bytes(bytes(system.ram[state.pc - RAM_BASE:state.pc - RAM_BASE + 4]), "little") \
            if RAM_BASE <= state.pc <= RAM_END - 4 else None
        pc_before = state.pc
        try:
            if word is None:
                raise TrapRaised(1, state.pc) if state.pc % 4 == 0 else TrapRaised(0, state.pc)
            step(state, word, TIME_DIVIDER)
            expected = None
        except TrapRaised as trap:
            expected = (trap.cause, trap.tval)
        stop = system.run(0, 1)
        if expected is None:
            assert stop == STOP_REASON_BUDGET, f"core trapped {system.trap(0)} on {word:#010x}"
        else:
            assert stop == STOP_REASON_TRAP, f"core did not trap on {word:#010x}, expected {expected}"
            assert system.trap(0) == expected
            assert system.get_pc(0) == pc_before, "trap must leave pc at the faulting instruction"
        assert list(system.regs(0)) == [v & 0xFFFFFFFF for v in state.regs], f"word {word:#010x}"
        assert system.get_pc(0) == state.pc
        if expected is not None:
            return
    mem = {RAM_BASE + int(i): int(system.ram[i]) for i in np.flatnonzero(system.ram)}
    assert mem == {a: b for a, b in state.memory.items() if b}


def _ram_with(data: bytes, offset: int) -> np.ndarray:
    ram = np.zeros(RAM_SIZE, np.uint8)
    ram[offset:offset + len(data)] = np.frombuffer(data, np.uint8)
    return ram


@pytest.mark.parametrize("row", instructions(), ids=lambda row: row.name)
@settings(max_examples=40)
@given(data=st.data(), regs=st.lists(register_values, min_size=32, max_size=32),
       pc_slot=st.integers(0, RAM_SIZE // 4 - 1), memory=st.binary(min_size=64, max_size=64))
def test_each_instruction_matches_reference(row, data, regs, pc_slot, memory):
    """Every row, with random operands, registers, pc and data around the RAM edges."""
    word = data.draw(valid_words(row))
    pc = RAM_BASE + 4 * pc_slot
    # Point some registers at the random data so loads, stores and AMOs hit it.
    data_offset = data.draw(st.sampled_from([0, RAM_SIZE // 2, RAM_SIZE - 64]))
    for reg in data.draw(st.lists(st.integers(1, 31), max_size=4)):
        regs[reg] = RAM_BASE + data_offset + data.draw(st.integers(-4, 67))
    system, state = _fresh(regs, pc, [word], _ram_with(memory, data_offset))
    _run_both(system, state, 1)


@given(word=st.integers(0, 0xFFFFFFFF), regs=st.lists(register_values, min_size=32, max_size=32))
def test_random_words_match_reference(word, regs):
    system, state = _fresh(regs, RAM_BASE + 0x800, [word], np.zeros(RAM_SIZE, np.uint8))
    _run_both(system, state, 1)


@settings(max_examples=200)
@given(program=st.lists(words, min_size=1, max_size=12),
       regs=st.lists(st.one_of(st.sampled_from([RAM_BASE + 0x100, RAM_BASE + 0x104]), register_values),
                     min_size=32, max_size=32))
def test_instruction_sequences_match_reference(program, regs):
    """Sequences exercise state carried between instructions: LR/SC reservations,
    stores read back by loads, stores that rewrite the code about to run."""
    system, state = _fresh(regs, RAM_BASE + 0x100, program, np.zeros(RAM_SIZE, np.uint8))
    _run_both(system, state, len(program))


@given(st.integers(0, 0xFFFFFFFF))
def test_words_outside_the_table_are_illegal_instructions(word):
    assume(lookup(word) is None)
    system, _ = _fresh([0] * 32, RAM_BASE, [word], np.zeros(RAM_SIZE, np.uint8))
    assert system.run(0, 1) == STOP_REASON_TRAP
    assert system.trap(0) == (2, word)


def _run_words(program, regs=None, budget=100):
    system, _ = _fresh(regs or [0] * 32, RAM_BASE, program, np.zeros(RAM_SIZE, np.uint8))
    stop = system.run(0, budget)
    return system, stop


def _w(name, **fields):
    from isa.table import by_name
    return encode(by_name()[name], **fields)


def test_division_edge_cases():
    int_min, minus_one = 0x80000000, 0xFFFFFFFF
    regs = [0] * 32
    regs[5], regs[6], regs[7] = int_min, minus_one, 0
    program = [
        _w("div", rd=10, rs1=5, rs2=6), _w("rem", rd=11, rs1=5, rs2=6),     # INT_MIN / -1
        _w("div", rd=12, rs1=5, rs2=7), _w("rem", rd=13, rs1=5, rs2=7),     # x / 0
        _w("divu", rd=14, rs1=5, rs2=7), _w("remu", rd=15, rs1=5, rs2=7),
    ]
    system, stop = _run_words(program, regs, budget=len(program))
    assert stop == STOP_REASON_BUDGET
    assert list(system.regs(0)[10:16]) == [int_min, 0, minus_one, int_min, minus_one, int_min]


def test_store_to_code_is_seen_by_the_next_fetch():
    """Self-modifying code: the decode cache never runs a stale word."""
    target = RAM_BASE + 8
    regs = [0] * 32
    regs[5] = target
    regs[6] = _w("addi", rd=10, rs1=0, imm12=42)
    program = [_w("sw", rs1=5, rs2=6, imm12=0), _w("fence.i"), _w("addi", rd=10, rs1=0, imm12=1)]
    system, stop = _run_words(program, regs, budget=3)
    assert stop == STOP_REASON_BUDGET and system.regs(0)[10] == 42


def test_counters_count_retired_instructions():
    program = [_w("addi", rd=0, rs1=0, imm12=0)] * 5 + [
        _w("csrrs", rd=10, csr=0xC02, rs1=0), _w("csrrs", rd=11, csr=0xC00, rs1=0),
        _w("csrrs", rd=12, csr=0xC82, rs1=0)]
    system, _ = _run_words(program, budget=len(program))
    assert list(system.regs(0)[10:13]) == [5, 6, 0]
    assert system.counters(0) == (8, 8)


def test_writing_a_counter_is_illegal():
    word = _w("csrrw", rd=10, csr=0xC00, rs1=5)
    system, stop = _run_words([word])
    assert stop == STOP_REASON_TRAP and system.trap(0) == (2, word)


@pytest.mark.parametrize("pc", [RAM_BASE - 4, RAM_END, 0, 0xFFFFFFFC])
def test_fetch_outside_ram_is_an_access_fault(pc):
    system = System(RAM_BASE, RAM_SIZE, 1, TIME_DIVIDER)
    system.set_pc(0, pc)
    assert system.run(0, 10) == STOP_REASON_TRAP
    assert system.trap(0) == (1, pc)


def test_budget_is_exact():
    loop = [_w("addi", rd=5, rs1=5, imm12=1), _w("jal", rd=0, jtarget=-4)]
    system, stop = _run_words(loop, budget=1001)
    assert stop == STOP_REASON_BUDGET
    assert system.counters(0)[0] == 1001 and system.regs(0)[5] == 501


def test_machines_are_independent():
    a, _ = _run_words([_w("addi", rd=10, rs1=0, imm12=7)], budget=1)
    b, _ = _run_words([_w("addi", rd=10, rs1=0, imm12=9)], budget=1)
    assert (a.regs(0)[10], b.regs(0)[10]) == (7, 9)

"""emu.testing: the program strategies produce valid, terminating programs; the
comparison helpers pass equal states and report different ones readably."""

from __future__ import annotations

import dataclasses
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import emu
from emu.testing import (ArchState, assert_same_state, looping_programs, machine_configs,
                         programs, run_program, straight_line_programs)
from emu.testing.compare import MAX_LISTED_DIFFERENCES
from emu.testing.strategies import DATA_SIZE, instruction_classes
from isa import table

SMALL = emu.MachineConfig(memory_size=1 << 20, stack_size=64 << 10)
STRATEGIES = {"straight_line": straight_line_programs(), "looping": looping_programs(),
              "programs": programs()}


@pytest.mark.slow
@pytest.mark.parametrize("kind", STRATEGIES)
def test_generated_programs_exit_within_their_bound(kind):
    @settings(max_examples=30, suppress_health_check=[HealthCheck.too_slow])
    @given(STRATEGIES[kind])
    def check(program):
        state = run_program(program, SMALL)
        assert (state.reason, state.exit_code) == ("exit", state.registers[10] & 0xFF), program.source
        assert len(state.data) == DATA_SIZE

    check()


@pytest.mark.slow
@settings(max_examples=30, suppress_health_check=[HealthCheck.too_slow])
@given(programs(), machine_configs(memory_size=SMALL.memory_size))
def test_config_fields_other_than_memory_size_leave_the_state_alone(program, config):
    assert_same_state(program, SMALL, config)


def test_every_instruction_outside_csr_and_ebreak_is_generated():
    """The strategies take their instructions from the table by unit and format; this
    notices a table row that none of the classes picks up (calls and the exit ecall
    supply jal, jalr and ecall)."""
    generated = {row.name for rows in instruction_classes().values() for row in rows}
    generated |= {"lr.w", "sc.w", "jal", "jalr", "ecall"}
    expected = {row.name for row in table.instructions() if row.unit != "csr"} - {"ebreak"}
    assert generated == expected


def test_programs_cover_every_kind_of_item():
    seen: set[str] = set()

    @settings(max_examples=200, database=None)
    @given(programs())
    def collect(program):
        seen.update(program.features)

    collect()
    assert seen >= {"alu", "mul", "div", "div_edge", "load", "store", "amo", "lrsc", "sc_fail",
                    "fence", "branch", "loop", "call"}


def test_machine_configs_honour_fixed_fields_and_reject_unknown_ones():
    @settings(max_examples=20)
    @given(machine_configs(memory_size=4 << 20, seed=st.just(7)))
    def check(config):
        assert (config.memory_size, config.seed) == (4 << 20, 7)
        assert config.stack_size <= config.memory_size // 4

    check()
    with pytest.raises(TypeError, match="no field.*colour"):
        machine_configs(colour="red")


def test_different_memory_sizes_are_reported_as_a_different_stack_pointer():
    program = "_start:\n  li a7, 93\n  ecall\n"
    bigger = dataclasses.replace(SMALL, memory_size=2 << 20)
    with pytest.raises(AssertionError) as failure:
        assert_same_state(program, SMALL, bigger)
    message = str(failure.value)
    assert re.search(r"\n  x2/sp: 0x0010[0-9a-f]{4} \(A\) != 0x0020[0-9a-f]{4} \(B\)$", message)
    assert message.count("\n  ") == 3  # the two configs and the one differing register


def test_state_differences_are_listed_one_per_line():
    a = ArchState("exit", 0, 0x10000, (0,) * 32, bytes(8), b"hi")
    b = ArchState("exit", 1, 0x10004, (0, 5) + (0,) * 30, bytes(4) + b"\x01\x00\x00\x00", b"ho")
    assert a.differences(b, names=("left", "right")) == [
        "exit_code: 0 (left) != 1 (right)",
        "pc: 0x00010000 (left) != 0x00010004 (right)",
        "x1/ra: 0x00000000 (left) != 0x00000005 (right)",
        "data+0x004: 00 00 00 00 (left) != 01 00 00 00 (right)",
        "stdout: b'hi' (left) != b'ho' (right)",
    ]
    assert a.differences(a) == []


def test_many_differences_are_summarised():
    a = ArchState("exit", 0, 0, (0,) * 32, b"")
    b = ArchState("exit", 0, 0, tuple(range(32)), b"")
    lines = a.differences(b)
    assert len(lines) == MAX_LISTED_DIFFERENCES + 1
    assert lines[-1] == f"... and {31 - MAX_LISTED_DIFFERENCES} more like these"

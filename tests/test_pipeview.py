"""Pipeline pictures (emu.pipeview) and the `emu run` options of the out-of-order core.

Kanata logs are read back by a small parser that enforces the format of Konata's
docs/kanata-log-format.md (header, C=/C time, I/L/S/E/R commands) and the shape every
instruction must have: stages F, Rn, X, Cm in that order, back to back, ended by its
retire or flush.
"""

import dataclasses
import io
from dataclasses import dataclass, field

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import emu
from emu.cli import _format_stats, _machine_config
from emu.config import CoreConfig, MachineConfig
from emu.pipeview import text_diagram, write_kanata
from emu.testing import core_configs, programs
from isa import disassemble_word
from tests.test_cli import HELLO, ROOT, emu_cli

STAGE_ORDER = ("F", "Rn", "X", "Cm")

#: A loop whose forward branch depends on a multiply: the static predictor (forward not
#: taken) mispredicts every even iteration, late enough that wrong-path work is renamed.
#: 2 + 8 * 6 - 4 + 1 = 47 instructions commit before the exit ecall.
MISPREDICTING_LOOP = """
    li   t0, 0
    li   t1, 8
loop:
    andi t2, t0, 1
    mul  t2, t2, t1
    beqz t2, skip
    addi a0, a0, 1
skip:
    addi t0, t0, 1
    blt  t0, t1, loop
    li   a7, 93
    ecall
"""
LOOP_COMMITS = 47


def machine(source, **core):
    m = emu.Machine(MachineConfig(memory_size=1 << 20, cpu="ooo", core=CoreConfig(**core)))
    m.load(emu.assemble(".globl _start\n_start:\n" + source))
    return m


def traced(source, start, count, **core):
    """(machine after the run, its pipeline trace of commits start..start+count)."""
    m = machine(source, **core)
    m.trace_pipeline(start, count)
    assert m.run().reason == "exit"
    return m, m.pipeline_trace()


def kanata(records):
    out = io.StringIO()
    write_kanata(records, out)
    return out.getvalue()


# ---- a Kanata reader ----------------------------------------------------------------


@dataclass
class KanataOp:
    sim_id: int
    thread: int
    labels: dict = field(default_factory=dict)      # type -> text
    stages: list = field(default_factory=list)      # [name, start, end]
    retire: tuple | None = None                     # (retire id, type, cycle)


def parse_kanata(text):
    """The instructions of a Kanata 0004 log, checking the syntax and the rules as it goes."""
    lines = text.split("\n")
    assert lines[0] == "Kanata\t0004" and lines[-1] == ""
    ops, cycle = [], None
    for number, line in enumerate(lines[1:-1], start=2):
        where = f"line {number}: {line!r}"
        command, *args = line.split("\t")
        if command == "C=":
            assert cycle is None and len(args) == 1, where
            cycle = int(args[0])
            continue
        assert cycle is not None, f"{where}: C= must come first"
        if command == "C":
            assert len(args) == 1 and int(args[0]) > 0, where   # time only moves forward
            cycle += int(args[0])
            continue
        assert len(args) == 3, where
        ident = int(args[0])
        if command == "I":
            assert ident == len(ops), f"{where}: file ids are sequential"
            ops.append(KanataOp(int(args[1]), int(args[2])))
            continue
        op = ops[ident]
        assert op.retire is None, f"{where}: command after R"
        if command == "L":
            op.labels[int(args[1])] = op.labels.get(int(args[1]), "") + args[2]
        elif command == "S":
            assert args[1] == "0", where
            assert not op.stages or op.stages[-1][2] is not None, f"{where}: previous stage open"
            op.stages.append([args[2], cycle, None])
        elif command == "E":
            assert args[1] == "0" and op.stages, where
            assert op.stages[-1][0] == args[2] and op.stages[-1][2] is None, f"{where}: no such S"
            op.stages[-1][2] = cycle
        elif command == "R":
            assert op.stages and op.stages[-1][2] is not None, f"{where}: stage still open"
            assert args[2] in ("0", "1"), where
            op.retire = (int(args[1]), int(args[2]), cycle)
        else:
            raise AssertionError(f"{where}: unknown command")
    assert all(op.retire is not None for op in ops), "an instruction without R"
    return ops


def check_stages(op):
    """F and Rn, then X and Cm when reached, in order, back to back, up to the R."""
    names = [name for name, _, _ in op.stages]
    assert names[:2] == ["F", "Rn"]
    assert names == sorted(names, key=STAGE_ORDER.index) and len(set(names)) == len(names)
    for (_, start, end), (_, next_start, _) in zip(op.stages, op.stages[1:]):
        assert start <= end == next_start
    assert op.stages[-1][1] <= op.stages[-1][2] == op.retire[2]


def retires(ops, kind):
    return [op for op in ops if op.retire[1] == kind]


# ---- Kanata ---------------------------------------------------------------------------


@pytest.mark.slow
@settings(max_examples=30, deadline=None)
@given(program=programs(), core=core_configs(), start=st.integers(0, 60), count=st.integers(1, 80))
def test_kanata_log_of_random_programs_reads_back_as_the_trace(program, core, start, count):
    m = emu.Machine(MachineConfig(memory_size=1 << 20, cpu="ooo", core=core))
    m.load(emu.assemble(program.source))
    m.trace_pipeline(start, count)
    m.run()
    records = m.pipeline_trace()
    ops = parse_kanata(kanata(records))
    committed = m.stats["cpu"]["committedInsts"]
    assert len(retires(ops, 0)) == min(count, max(0, committed - start))
    assert [op.retire[0] for op in retires(ops, 0)] == list(range(len(retires(ops, 0))))
    by_seq = {int(r["seq"]): r for r in records}
    assert len(ops) == len(records) == len(by_seq)
    for op in ops:
        check_stages(op)
        record = by_seq[op.sim_id]
        pc, word = int(record["pc"]), int(record["word"])
        assert op.labels[0].split(" ", 1) == [f"{pc:08x}", disassemble_word(word, pc).expandtabs(8)]
        assert op.stages[0][1:] == [int(record["fetch"]), int(record["rename"])]
        assert op.retire[1:] == (int(record["flushed"]), int(record["end"]))


def test_mispredicted_branches_leave_flushed_instructions_and_the_window_its_commits():
    m, records = traced(MISPREDICTING_LOOP, 5, 20, predictor="static")
    assert m.stats["cpu"]["committedInsts"] == LOOP_COMMITS
    ops = parse_kanata(kanata(records))
    for op in ops:
        check_stages(op)
    assert len(retires(ops, 0)) == 20
    flushed = retires(ops, 1)
    assert flushed
    # A flushed instruction carries the retire id of the next commit after it.
    for op in flushed:
        later = [other.retire[0] for other in retires(ops, 0) if other.sim_id > op.sim_id]
        assert op.retire[0] == (min(later) if later else len(retires(ops, 0)))


def test_a_window_past_the_end_writes_only_the_header():
    _, records = traced(MISPREDICTING_LOOP, LOOP_COMMITS + 1, 10)   # past the exit ecall too
    assert len(records) == 0
    assert kanata(records) == "Kanata\t0004\n"
    assert "no instructions" in text_diagram(records)


# ---- the text diagram ------------------------------------------------------------------


@pytest.mark.parametrize("depth, latency", [(1, 1), (5, 1), (3, 4)])
def test_an_independent_add_is_fetched_renamed_issued_executed_and_committed(depth, latency):
    """Fetched at cycle 0; renamed frontend_depth cycles later (one cycle in the issue
    queue, as issue runs before rename in a cycle); executes alu_latency cycles; written
    back, it commits the next cycle (commit runs first in a cycle)."""
    _, records = traced("addi a0, zero, 1\n li a7, 93\n ecall\n", 0, 1,
                        frontend_depth=depth, alu_latency=latency)
    numbers, ruler, row, legend = text_diagram(records).splitlines()
    assert numbers.split() == ["0"]
    assert ruler.split() == ["pc", "instruction", "|" + "." * (depth + latency + 2)]
    assert row.split() == ["00010000", "addi", "a0,zero,1", "f" * depth + "r" + "x" * latency + "cC"]
    assert "flushed" in legend


def test_diagram_rows_show_each_instruction_and_how_it_left():
    _, records = traced(MISPREDICTING_LOOP, 0, LOOP_COMMITS, predictor="static")
    rows = text_diagram(records, max_instructions=len(records)).splitlines()[2:-1]
    assert len(rows) == len(records)
    assert sum(row.endswith("*") for row in rows) == int(records["flushed"].sum()) > 0
    assert sum(row.endswith("C") for row in rows) == LOOP_COMMITS
    assert all(set(row.split()[-1]) <= set("frxcC*") for row in rows)
    for record in records:
        pc = int(record["pc"])
        text = disassemble_word(int(record["word"]), pc).expandtabs(8)
        assert any(row.startswith(f"{pc:08x}  {text}") for row in rows)
    shown = text_diagram(records, max_instructions=6).splitlines()
    assert len(shown) == 2 + 6 + 2 and f"{len(records) - 6} more" in shown[-2]


# ---- the command line -------------------------------------------------------------------


def test_run_writes_a_kanata_file_with_the_programs_output(tmp_path):
    out = tmp_path / "out.kanata"
    result = emu_cli("run", "--cpu", "ooo", "--stats", "--pipeview", str(out), "--window", "0:50",
                     str(HELLO))
    assert result.returncode == 0
    assert result.stdout == (ROOT / "programs" / "hello.expected").read_bytes()
    stats = dict(line.split() for line in result.stderr.decode().splitlines())
    ops = parse_kanata(out.read_text())
    assert len(retires(ops, 0)) == min(50, int(stats["cpu.committedInsts"]))


def test_run_draws_the_diagram_on_stderr():
    result = emu_cli("run", "--cpu", "ooo", "-c", "core.frontend_depth=2", "--pipeview", "-",
                     str(HELLO))
    assert result.returncode == 0
    assert result.stdout == (ROOT / "programs" / "hello.expected").read_bytes()
    err = result.stderr.decode()
    assert "addi    a0,zero,1" in err and "ffrxcC" in err and "* flushed" in err


def test_config_cpu_ooo_is_enough_for_pipeview():
    assert emu_cli("run", "-c", "cpu=ooo", "--pipeview", "-", str(HELLO)).returncode == 0


def test_core_fields_on_the_command_line_are_used():
    result = emu_cli("run", "--cpu", "ooo", "-c", "core.rob_entries=16", "-c", "core.predictor=static",
                     str(HELLO))
    assert result.returncode == 0
    assert result.stdout == (ROOT / "programs" / "hello.expected").read_bytes()


@pytest.mark.parametrize("args, message", [
    (["--cpu", "ooo", "--pipeview", "-", "--window", "3"], "START:COUNT"),
    (["--cpu", "ooo", "--pipeview", "-", "--window=-1:3"], "START:COUNT"),
    (["--cpu", "ooo", "--pipeview", "-", "--window", "0:0"], "START:COUNT"),
    (["--cpu", "ooo", "--pipeview", "-", "--window", "a:b"], "START:COUNT"),
    (["--cpu", "ooo", "--pipeview", "-", "--window", "0:99999999999"], "START:COUNT"),
    (["--window", "0:5"], "--window needs --pipeview"),
    (["--pipeview", "-"], "--cpu ooo"),
    (["--cpu", "functional", "-c", "cpu=ooo", "--pipeview", "-"], "--cpu ooo"),
    (["--cpu", "ooo", "--pipeview", "/nonexistent/dir/out.kanata"], "cannot write"),
    (["-c", "core.nonsense=1"], "unknown field 'core.nonsense' (see `emu run --help`)"),
    (["-c", "nonsense=1"], "unknown field 'nonsense'"),
    (["-c", "core.rob_entries=0"], "rob_entries must be between 1 and 4096"),
    (["-c", "core.rob_entries=many"], "rob_entries must be an integer"),
    (["-c", "core.check_invariants=maybe"], "core.check_invariants must be true or false"),
    (["-c", "memory_size"], "expected NAME=VALUE"),
])
def test_bad_options_are_one_line_without_traceback(args, message):
    result = emu_cli("run", *args, str(HELLO))
    err = result.stderr.decode()
    assert result.returncode == 1 and result.stdout == b""
    assert err.count("\n") == 1 and message in err and "Traceback" not in err
    assert "fetch_width" not in err     # the bad name only, no list of fields


def test_help_lists_the_core_fields():
    out = emu_cli("run", "--help").stdout.decode()
    for name, _, help in emu.config.describe(CoreConfig):
        assert f"core.{name}" in out and help.split()[0] in out
    assert "--pipeview" in out and "--window" in out and "--cpu" in out


@given(core=core_configs(), cpu=st.sampled_from(["functional", "ooo"]))
def test_every_core_field_round_trips_through_config_items(core, cpu):
    items = [f"core.{f.name}={getattr(core, f.name)}" for f in dataclasses.fields(core)]
    assert _machine_config(["cpu=functional", *items], cpu) == MachineConfig(cpu=cpu, core=core)


def test_stats_print_nested_and_numpy_values_one_per_line():
    lines = _format_stats({"a": {"b": np.uint64(3), "c": np.float64(0.5)}, "v": np.array([1, 2])})
    assert [line.split() for line in lines] == [["a.b", "3"], ["a.c", "0.500000"],
                                                ["v.0", "1"], ["v.1", "2"]]
    assert len({line.index(line.split()[1]) for line in lines}) == 1   # one value column

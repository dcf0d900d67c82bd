"""Cache profiles: the hierarchy's per-pc counters (profile.pxd), emu.profile's tables,
callgrind file and heatmap, Machine.enable_profile/profile, and `emu profile`."""

import collections
import io
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given

import emu
from emu._core.hierarchy import PROFILE_COUNTER_NAMES, HierarchyModel
from emu.config import CacheConfig, MemoryHierarchyConfig
from emu.profile import COUNTERS, EVENTS, OUTSIDE_PC, CacheProfile, ProfileError
from emu.testing import programs

ROOT = Path(__file__).resolve().parent.parent
LOAD, STORE, ATOMIC, FETCH = 0, 1, 2, 3
COLUMN = {name: i for i, name in enumerate(PROFILE_COUNTER_NAMES)}
LINES = 24          # array lines the loop program reads, each once
CACHES = MemoryHierarchyConfig()


def profiled_config(**fields) -> emu.MachineConfig:
    return emu.MachineConfig(memory_size=1 << 20, stack_size=64 << 10, caches=CACHES, **fields)


# A loop that reads one word of each of LINES cold 64-byte lines, once, then exits 3.
ARRAY_LOOP = f"""
        .text
        .globl  _start
_start: la      t0, array
        li      t1, {LINES}
loop:   lw      t2, 0(t0)
        addi    t0, t0, 64
        addi    t1, t1, -1
        bnez    t1, loop
        .globl  finish
finish: li      a0, 3
        li      a7, 93
        ecall
        .data
        .balign 64
array:  .space  {LINES * 64}
"""

# Every hart reads 16 lines of its own 4 KiB block, then exits with the word `harts`.
WORKERS = """
        .text
        .globl  _start
_start: li      a0, 0
        .globl  worker
worker: slli    t0, a0, 12
        la      t1, blocks
        add     t0, t0, t1
        li      t1, 16
1:      lw      t2, 0(t0)
        addi    t0, t0, 64
        addi    t1, t1, -1
        bnez    t1, 1b
        la      t0, harts
        lw      a0, 0(t0)
        li      a7, 93
        ecall
        .data
        .globl  harts
harts:  .word   1
        .balign 4096
blocks: .space  4 * 4096
"""


def executed_pcs(elf: bytes) -> collections.Counter:
    """How often each pc ran on the plain (untimed) functional core, one step at a time."""
    machine = emu.Machine(emu.MachineConfig(memory_size=1 << 20, stack_size=64 << 10))
    machine.load(elf)
    counts = collections.Counter()
    while True:
        counts[machine.pc] += 1
        if machine.step().reason != "limit":
            return counts


def profiled_run(elf: bytes, **fields) -> tuple[emu.Machine, emu.RunResult]:
    machine = emu.Machine(profiled_config(**fields))
    machine.load(elf)
    machine.enable_profile()
    return machine, machine.run(max_instructions=100_000)


# ---- the counters in C, through the trace-driven mode ---------------------------------

def test_trace_counts_each_access_at_its_pc_by_class_and_level():
    model = HierarchyModel(CACHES)
    model.attach_profile(0x1000, 16)                 # pcs 0x1000 .. 0x100c
    lines = np.arange(8, dtype=np.uint32) * 64 + 0x80000
    model.run(lines, np.full(8, LOAD, np.uint8), pcs=np.full(8, 0x1004, np.uint32))
    model.run(lines, np.full(8, LOAD, np.uint8), pcs=np.full(8, 0x1008, np.uint32))
    model.run([0x1000] * 3, [FETCH] * 3, pcs=[0x1000] * 3)
    model.run([0x80000, 0x90000], [STORE, ATOMIC], pcs=[0x100c, 0x100c])
    model.run([0x80000, 0x90040], [LOAD, LOAD], pcs=[0, 0x1010])    # both outside
    counts = model.profile_counts()
    assert counts.shape == (5, len(PROFILE_COUNTER_NAMES)) and counts.dtype == np.uint64

    def row(index, **expected):
        got = {name: int(counts[index, COLUMN[name]]) for name in expected}
        assert got == expected

    row(0, Ir=3, I1mr=1, I2mr=1, Dr=0, Dw=0)          # one cold fetch, two hits
    row(1, Dr=8, D1mr=8, D2mr=8, Ir=0)                # cold lines: L1 and L2 (LL) misses
    row(2, Dr=8, D1mr=0, D2mr=0)                      # the same lines again: hits
    row(3, Dw=2, D1mw=1, D2mw=1)                      # the store hits L1; the AMO misses all
    row(4, Dr=2, D1mr=1, D2mr=1)                      # pc 0 and pc 0x1010 share the outside row
    assert counts[:, COLUMN["I3mr"]:COLUMN["D3mw"] + 1].sum() == 0     # no L3
    accesses, latency = model.demand_stats()
    assert counts[:, COLUMN["Ir"]].sum() == accesses[FETCH]
    assert counts[:, COLUMN["Dr"]].sum() == accesses[LOAD]
    assert counts[:, COLUMN["Dw"]].sum() == accesses[STORE] + accesses[ATOMIC]
    assert counts[:, COLUMN["Icycles"]:].sum() == latency.sum()
    model.reset()
    assert model.profile_counts().sum() == 0 and model.profile_range == (0x1000, 4)


def test_an_l3_is_a_third_level_and_the_last():
    config = MemoryHierarchyConfig(l3=CacheConfig(size=4 << 20, ways=16, hit_latency=30))
    model = HierarchyModel(config, harts=2)
    model.attach_profile(0, 4)
    model.run([0x4000, 0x4000], [LOAD, LOAD], harts=[0, 1], pcs=[0, 0])
    both, hart1 = model.profile_counts(), model.profile_counts(hart=1)
    assert [int(both[0, COLUMN[n]]) for n in ("D1mr", "D2mr", "D3mr")] == [2, 1, 1]
    assert [int(hart1[0, COLUMN[n]]) for n in ("Dr", "D1mr", "D2mr")] == [1, 1, 0]
    profile = CacheProfile.from_model(model)
    assert profile.totals()["DLmr"] == 1              # the L3's misses are the LL's


def test_attach_profile_checks_its_range_and_detach_stops_counting():
    model = HierarchyModel(CACHES)
    with pytest.raises(ValueError, match="no profile"):
        model.profile_counts()
    for base, size in ((0x1000, 0), (0xFFFFFFF0, 32)):
        with pytest.raises(ValueError, match="within the 32-bit"):
            model.attach_profile(base, size)
    with pytest.raises(ValueError, match="MiB of counters"):
        model.attach_profile(0, 1 << 31)
    model.attach_profile(0xFFFFFFF0, 16)             # up to the top of the address space
    model.run([0x100], [FETCH], pcs=[0xFFFFFFFC])
    assert model.profile_counts()[3, COLUMN["Ir"]] == 1
    model.detach_profile()
    model.run([0x100], [FETCH], pcs=[0xFFFFFFFC])
    assert model.profile_range is None


def test_set_counts_are_the_per_set_counters():
    model = HierarchyModel(CACHES)
    model.run(np.arange(0, 1 << 16, 64, dtype=np.uint32), np.zeros(1024, np.uint8))
    hits, misses = model.set_counts("l1d")
    stats = model.stats("l1d")
    assert int(hits.sum()) == int(stats["hits"].sum()) and int(misses.sum()) == 1024
    assert np.array_equal(misses, stats["set_misses"])


# ---- a machine's profile -----------------------------------------------------------------

def test_loop_over_an_array_misses_once_per_line_at_its_load():
    elf = emu.assemble(ARRAY_LOOP)
    machine, result = profiled_run(elf)
    assert (result.reason, result.exit_code) == ("exit", 3)
    profile = machine.profile
    table = profile.table()
    by_pc = {int(row["pc"]): row for row in table}
    load = machine.program.symbols["loop"]
    assert by_pc[load]["Dr"] == LINES and by_pc[load]["D1mr"] == LINES
    assert by_pc[load]["DLmr"] == LINES
    assert by_pc[load]["Dcycles"] / LINES > CACHES.dram_latency > by_pc[load]["amat"]
    assert table["Dw"].sum() == 0 and OUTSIDE_PC not in by_pc
    # Ir per pc is how often the plain functional core ran it, the exit ecall included
    ran = executed_pcs(elf)
    assert {int(row["pc"]): int(row["Ir"]) for row in table} == dict(ran)
    assert profile.totals()["Ir"] == result.instructions + 1     # the exit never retires
    symbols = {str(row["symbol"]): row for row in profile.by_symbol()}
    assert set(symbols) == {"_start", "loop", "finish"}
    assert symbols["loop"]["Ir"] == 4 * LINES and symbols["loop"]["DLmr"] == LINES


def test_each_hart_counts_its_own_accesses():
    machine = emu.Machine(profiled_config(harts=2))
    program = machine.load(emu.assemble(WORKERS))
    machine.start_hart(1, program.symbols["worker"], sp=program.stack_pointer - 4096, args=[1])
    machine.enable_profile()
    result = machine.run(max_instructions=10_000)
    assert result.reason == "exit"
    profile = machine.profile
    for hart in range(2):
        table = profile.table(hart)
        assert table["D1mr"].sum() == 16 + 1        # its 16 lines and the word `harts`
        assert table["Ir"].sum() == 6 + 4 * 16 + 5 - (1 if hart else 0)   # no li a0, 0
    assert profile.totals() == {name: sum(profile.totals(h)[name] for h in range(2))
                                for name in COUNTERS} | {"amat": profile.totals()["amat"]}


@given(programs())
def test_profile_sums_agree_with_the_hierarchy_and_the_plain_core(program):
    elf = emu.assemble(program.source)
    machine, result = profiled_run(elf)
    profile = machine.profile
    totals = profile.totals()
    accesses, latency = machine._system.caches.demand_stats()
    assert (totals["Ir"], totals["Dr"], totals["Dw"]) == (
        accesses[FETCH], accesses[LOAD], accesses[STORE] + accesses[ATOMIC])
    assert (totals["Icycles"], totals["Dcycles"]) == (
        latency[FETCH], latency[LOAD] + latency[STORE] + latency[ATOMIC])
    assert totals["amat"] == pytest.approx(profile.amat)
    ran = executed_pcs(elf)
    assert {int(pc): int(ir) for pc, ir in zip(profile.table()["pc"], profile.table()["Ir"])
            if ir} == dict(ran)
    symbols = profile.by_symbol()
    for name in COUNTERS:
        assert int(symbols[name].sum()) == totals[name]
    for level, (hits, misses) in profile.levels.items():
        harts = [0] if level not in ("l1i", "l1d") else range(profile.harts)
        assert sum(int(profile.set_counts(level, h)[0].sum()) for h in harts) == hits
        assert sum(int(profile.set_counts(level, h)[1].sum()) for h in harts) == misses


def test_enable_profile_needs_caches_and_a_program():
    plain = emu.Machine(emu.MachineConfig(memory_size=1 << 20))
    with pytest.raises(ProfileError, match="needs caches"):
        plain.enable_profile()
    cached = emu.Machine(profiled_config())
    with pytest.raises(ProfileError, match="load a program"):
        cached.enable_profile()
    cached.load(emu.assemble(ARRAY_LOOP))
    with pytest.raises(ProfileError, match="no profile attached"):
        cached.profile


# ---- callgrind files -----------------------------------------------------------------

def parse_callgrind(text: str) -> tuple[list[str], dict[str, list[int]], list[int]]:
    """(events, summed costs per fn=, totals) of a callgrind file, positions instr line."""
    lines = text.splitlines()
    events = next(line for line in lines if line.startswith("events:")).split()[1:]
    per_function: dict[str, list[int]] = collections.defaultdict(lambda: [0] * len(events))
    function = None
    for line in lines:
        if line.startswith("fn="):
            function = line[3:]
        elif line.startswith("0x"):
            costs = [int(word) for word in line.split()[2:]]
            per_function[function] = [a + b for a, b in zip(per_function[function], costs)]
    totals = [int(word) for word in lines[-1].removeprefix("totals:").split()]
    return events, dict(per_function), totals


def test_callgrind_file_sums_to_the_totals_per_symbol():
    machine, _ = profiled_run(emu.assemble(ARRAY_LOOP))
    profile = CacheProfile.from_machine(machine, object_name="loop.elf", command="loop.elf")
    out = io.StringIO()
    profile.write_callgrind(out)
    text = out.getvalue()
    assert text.startswith("# callgrind format\nversion: 1\n")
    assert "positions: instr line" in text and "ob=loop.elf" in text and "fl=???" in text
    events, per_function, totals = parse_callgrind(text)
    assert events == list(EVENTS)
    expected = profile.totals()
    assert totals == [expected[event] for event in EVENTS]
    for row in profile.by_symbol():
        assert per_function[str(row["symbol"])] == [int(row[event]) for event in EVENTS]
    with pytest.raises(ProfileError, match="events must be"):
        profile.write_callgrind(io.StringIO(), events=("Ir", "Bc"))


@pytest.mark.skipif(shutil.which("callgrind_annotate") is None,
                    reason="callgrind_annotate (valgrind) not installed")
def test_callgrind_annotate_reads_the_file(tmp_path):
    machine, _ = profiled_run(emu.assemble(ARRAY_LOOP))
    path = tmp_path / "callgrind.out"
    machine.profile.write_callgrind(path)
    shown = subprocess.run(["callgrind_annotate", str(path)], capture_output=True, text=True,
                           timeout=60, check=True)
    assert "WARNING" not in shown.stderr and "uninitialized" not in shown.stderr
    totals = next(line for line in shown.stdout.splitlines() if "PROGRAM TOTALS" in line)
    numbers = [int(word.replace(",", "")) for word in totals.split()
               if word.replace(",", "").isdigit()]
    expected = machine.profile.totals()
    assert numbers == [expected[event] for event in EVENTS]
    assert "???:loop" in shown.stdout


# ---- heatmap ---------------------------------------------------------------------------

def test_heatmap_is_a_png_where_matplotlib_is_installed(tmp_path):
    pytest.importorskip("matplotlib")
    model = HierarchyModel(CACHES, harts=2)
    model.attach_profile(0, 4)
    model.run(np.arange(0, 1 << 15, 64, dtype=np.uint32), np.zeros(512, np.uint8))
    path = tmp_path / "sets.png"
    CacheProfile.from_model(model).heatmap(path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_heatmap_without_matplotlib_says_how_to_get_it(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "matplotlib", None)    # import matplotlib fails
    model = HierarchyModel(CACHES)
    model.attach_profile(0, 4)
    with pytest.raises(ProfileError, match=r"pip install 'emu\[plot\]'"):
        CacheProfile.from_model(model).heatmap(tmp_path / "sets.png")


# ---- emu profile -------------------------------------------------------------------------

def emu_cli(*args, cwd=ROOT):
    return subprocess.run([sys.executable, "-m", "emu", *args], capture_output=True, cwd=cwd,
                          timeout=120)


def test_cli_profiles_with_caches_and_exits_with_the_guest_status(tmp_path):
    source = tmp_path / "loop.s"
    source.write_text(ARRAY_LOOP)
    out = tmp_path / "loop.cg"
    result = emu_cli("profile", str(source), "--cache", "-o", str(out), "--top", "2")
    assert result.returncode == 3
    report = result.stderr.decode()
    assert "AMAT" in report and "LL misses" in report and "(1 more symbol)" in report
    events, per_function, totals = parse_callgrind(out.read_text())
    assert events == list(EVENTS) and per_function["loop"][EVENTS.index("DLmr")] == LINES
    plain = emu_cli("profile", str(source), "-o", str(out))
    assert plain.returncode == 3 and "LL misses" not in plain.stderr.decode()
    assert parse_callgrind(out.read_text())[0] == ["Ir"]


def test_cli_starts_the_other_harts_at_worker(tmp_path):
    source = tmp_path / "workers.s"
    source.write_text(WORKERS)
    result = emu_cli("profile", str(source), "--cores", "3", "--cache", "-o",
                     str(tmp_path / "w.cg"))
    assert result.returncode == 3, result.stderr      # every hart exits with `harts`
    _, per_function, _ = parse_callgrind((tmp_path / "w.cg").read_text())
    assert per_function["worker"][EVENTS.index("D1mr")] == 3 * (16 + 1)


@pytest.mark.parametrize("args, message", [
    (["/nonexistent/prog.s"], "cannot read"),
    (["--cores", "0", "PROG"], "--cores must be at least 1"),
    (["--cores", "2", "--hart-entry", "nowhere", "PROG"], "no symbol 'nowhere'"),
    (["-c", "cpu=ooo", "PROG"], "runs the functional core"),
    (["-o", "/nonexistent/dir/out", "PROG"], "cannot write"),
])
def test_cli_errors_are_one_line(args, message, tmp_path):
    source = tmp_path / "loop.s"
    source.write_text(ARRAY_LOOP)
    result = emu_cli("profile", *[str(source) if a == "PROG" else a for a in args])
    err = result.stderr.decode()
    assert result.returncode == 1, err
    assert message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


# ---- source lines from DWARF -------------------------------------------------------------

GCC = "riscv64-unknown-elf-gcc"
C_SOURCE = """\
#define LINES 16
static int array[LINES * 16];               /* 16 words: one 64-byte line */

__attribute__((noinline)) int sum(const int *a)
{
    int total = 0;
    for (int i = 0; i < LINES * 16; i += 16)
        total += a[i];                      /* line 8: one load per line */
    return total;
}

int main(void)
{
    return sum(array);
}
"""


@pytest.mark.skipif(shutil.which(GCC) is None, reason=f"{GCC} not installed")
def test_c_program_built_with_g_gets_source_lines(tmp_path):
    source, exe = tmp_path / "lines.c", tmp_path / "lines"
    source.write_text(C_SOURCE)
    subprocess.run([GCC, "-march=rv32ima", "-mabi=ilp32", "-static", "-nostdlib",
                    "-nostartfiles", "-O1", "-g", str(ROOT / "programs" / "c" / "crt0.s"),
                    str(source), "-o", str(exe)], check=True, capture_output=True)
    elf = exe.read_bytes()
    machine, result = profiled_run(elf)
    assert (result.reason, result.exit_code) == ("exit", 0)
    profile = CacheProfile.from_machine(machine, elf=elf, object_name=str(exe))
    table = profile.table()
    files, lines = profile.lines.lookup(table["pc"])
    load = int(np.argmax(table["D1mr"]))             # crt0's read of argc misses once too
    assert table["D1mr"][load] == 16
    assert (Path(files[load]).name, lines[load]) == ("lines.c", 8)
    out = io.StringIO()
    profile.write_callgrind(out)
    assert f"fl={files[load]}\nfn=sum\n" in out.getvalue()
    assert f"{int(table['pc'][load]):#x} 8 " in out.getvalue()

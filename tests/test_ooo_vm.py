"""The out-of-order core with Sv32 translation, MMIO and interrupts, against its golden
model, the functional core.

Paged runs identity-map all of RAM in 4 KiB user pages (A and D clear, so the walker
sets them) from a page-table pool just below the stack; states are compared with the
pool left out, since a speculative walk may set A on a page the functional core never
touched (the spec allows that; D is exact, and is checked separately).
"""

from __future__ import annotations

import re
import struct
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import emu
from emu._core.bus import MIP_MTIP
from emu.config import CoreConfig, MemoryHierarchyConfig, MmuConfig
from emu.paging import PAGE, PTE_A, PTE_D, PageTables
from emu.testing import core_configs, programs
from emu.testing.compare import executable

PROGRAMS_DIR = Path(__file__).resolve().parent.parent / "programs"
EXAMPLES = sorted(p for p in PROGRAMS_DIR.glob("*.s") if p.with_suffix(".expected").exists())
MEMORY = 1 << 20
POOL_SIZE = 64 << 10
UART = 0xF000_0000
CLINT_MTIMECMP = 0xF200_0000 + 0x4000
CAUSE_INTERRUPT = 1 << 31
CORES = ("functional", "ooo")


def pool_of(config: emu.MachineConfig) -> tuple[int, int]:
    top = config.ram_end - config.stack_size
    return top - POOL_SIZE, top


def machine(cpu="ooo", *, memory=MEMORY, caches=None, core=None, mmu=None, **fields):
    return emu.Machine(emu.MachineConfig(memory_size=memory, cpu=cpu, caches=caches,
                                         core=core or CoreConfig(), mmu=mmu or MmuConfig(),
                                         **fields))


def page_in(m: emu.Machine, maps=()) -> PageTables:
    """Identity-map RAM (plus `maps`: (vaddr, paddr, size, perms)) and turn Sv32 on
    for every hart."""
    tables = PageTables(m, pool_of(m.config))
    tables.map(m.config.ram_base, m.config.ram_base, m.config.memory_size, "rwx")
    for vaddr, paddr, size, perms in maps:
        tables.map(vaddr, paddr, size, perms)
    for hart in range(m.config.harts):
        m.set_satp(hart, 1, asid=1, root_ppn=tables.root_ppn)
    return tables


def loaded(source_or_elf, cpu="ooo", *, paged=False, maps=(), stdin=b"", **kwargs):
    m = machine(cpu, **kwargs)
    m._stdin = stdin
    elf = source_or_elf if isinstance(source_or_elf, bytes) else emu.assemble(source_or_elf)
    program = m.load(elf)
    tables = page_in(m, maps) if paged else None
    return m, program, tables


def state(m: emu.Machine, result: emu.RunResult) -> tuple:
    """Everything architectural a run ends in: how, registers, pc, output, and all of
    RAM but the page-table pool."""
    ram = m.memory.copy()
    low, high = (a - m.config.ram_base for a in pool_of(m.config))
    ram[low:high] = 0
    trap = (result.trap.cause, result.trap.pc, result.trap.tval) if result.trap else None
    return (result.reason, result.exit_code, trap, m.pc, tuple(int(x) for x in m.regs),
            m.stdout, ram.tobytes())


def run_state(elf, cpu, *, paged, stdin=b"", max_instructions=None, **kwargs):
    m, _, _ = loaded(elf, cpu, paged=paged, stdin=stdin, **kwargs)
    return state(m, m.run(max_instructions=max_instructions))


def program_source(path: Path) -> str:
    text = path.read_text()
    if path.stem == "bench":    # one round, not 1560
        text = re.sub(r"^(\s*\.equ\s+REPEAT\s*,\s*)\d+", r"\g<1>1", text, count=1, flags=re.M)
    return text


# ---- the example programs, and random programs -----------------------------------------

@pytest.mark.parametrize("source", EXAMPLES, ids=lambda p: p.stem)
def test_example_programs_match_the_functional_core_bare_and_paged(source):
    elf = emu.assemble(program_source(source), str(source), include_dirs=[PROGRAMS_DIR])
    stdin = source.with_suffix(".stdin").read_bytes() if source.with_suffix(".stdin").exists() else b""
    kwargs = dict(memory=4 << 20, stdin=stdin)
    expected = run_state(elf, "functional", paged=False, **kwargs)
    assert expected[0] == "exit" and expected[1] == 0
    assert run_state(elf, "functional", paged=True, **kwargs) == expected
    for caches in (None, MemoryHierarchyConfig()):
        for paged in (False, True):
            assert run_state(elf, "ooo", paged=paged, caches=caches, **kwargs) == expected, \
                (paged, caches is not None)


def test_several_harts_paged_sum_like_one():
    source = PROGRAMS_DIR / "parallel_sum.s"
    elf = emu.assemble(source.read_text(), str(source), include_dirs=[PROGRAMS_DIR])
    outputs = []
    for cpu, harts in (("functional", 2), ("ooo", 2)):
        m, program, _ = loaded(elf, cpu, memory=4 << 20, harts=harts,
                               caches=MemoryHierarchyConfig())
        m.write_memory(program.symbols["harts"], struct.pack("<I", harts))
        for h in range(1, harts):
            m.start_hart(h, program.symbols["worker"], sp=int(m.regs[2]) - 4096 * h, args=[h])
        page_in(m)
        result = m.run()
        assert (result.reason, result.exit_code) == ("exit", 0)
        outputs.append(m.stdout)
        if cpu == "ooo":
            assert m.stats["mmu"]["walks"] > 0
    assert outputs[0] == outputs[1]


@settings(max_examples=60, deadline=None)
@given(program=programs(), core=core_configs(check_invariants=True), paged=st.booleans())
def test_random_programs_paged_end_in_the_functional_cores_state(program, core, paged):
    elf = executable(program)
    expected = run_state(elf, "functional", paged=paged, max_instructions=program.max_instructions)
    assert run_state(elf, "ooo", paged=paged, core=core,
                     max_instructions=program.max_instructions) == expected


@pytest.mark.slow
@settings(max_examples=100, deadline=None)
@given(program=programs(), core=core_configs(check_invariants=True),
       tlb=st.sampled_from([(1, 1, 0), (2, 2, 0), (4, 1, 8), (32, 32, 512)]))
def test_random_programs_with_caches_and_tiny_tlbs_match(program, core, tlb):
    entries, ways, l2 = tlb
    mmu = MmuConfig(itlb_entries=entries, itlb_ways=ways, dtlb_entries=entries, dtlb_ways=ways,
                    l2tlb_entries=l2, l2tlb_ways=min(l2, 4) or 4)
    elf = executable(program)
    expected = run_state(elf, "functional", paged=True, mmu=mmu,
                         max_instructions=program.max_instructions)
    assert run_state(elf, "ooo", paged=True, core=core, mmu=mmu, caches=MemoryHierarchyConfig(),
                     max_instructions=program.max_instructions) == expected


WIDTHS = {"sb": 1, "sh": 2, "sw": 4, "lb": 1, "lbu": 1, "lh": 2, "lhu": 2, "lw": 4}
ALIAS = 0x0080_0000     # a second virtual page mapping `buf`'s physical page


@st.composite
def aliased_programs(draw):
    """Loads and stores of every width on one buffer through two virtual aliases (s0,
    s3) of its page, some through a base a divide makes late: forwarding and
    memory-order violations must compare physical addresses."""
    lines = ["la s0, buf", "li s1, 1", f"li s3, {ALIAS}", "mv s2, s0", "mv s4, s3"]  # buf: page-aligned
    for i in range(draw(st.integers(1, 30))):
        op = draw(st.sampled_from(sorted(WIDTHS)))
        width = WIDTHS[op]
        offset = draw(st.integers(0, 8 // width - 1)) * width
        base = draw(st.sampled_from(["s0", "s2", "s3", "s4"]))
        if draw(st.booleans()):
            lines.append(f"div {'s2, s0' if base in ('s0', 's2') else 's4, s3'}, s1")
        if op.startswith("s"):
            lines.append(f"li t{i % 3}, {draw(st.integers(0, 0xFFFFFFFF))}")
            lines.append(f"{op} t{i % 3}, {offset}({base})")
        else:
            lines.append(f"{op} a{i % 6}, {offset}({base})")
            lines.append(f"add a7, a7, a{i % 6}")
    lines += ["lw t0, 0(s0)", "lw t1, 4(s0)", "li a7, 93", "ecall",
              ".data", ".p2align 12", f"buf: .word {draw(st.integers(0, 0xFFFFFFFF))}, 0"]
    return ".globl _start\n_start:\n" + "\n".join(lines) + "\n"


@settings(max_examples=80, deadline=None)
@given(source=aliased_programs(), core=core_configs(check_invariants=True))
def test_virtual_aliases_forward_and_conflict_by_physical_address(source, core):
    elf = emu.assemble(source)
    states = []
    for cpu in CORES:
        m, program, _ = loaded(elf, cpu, core=core)
        page = program.symbols["buf"] & ~(PAGE - 1)
        page_in(m, maps=[(ALIAS, page, PAGE, "rw")])
        states.append(state(m, m.run()))
    assert states[0] == states[1]


# ---- precise page faults, and wrong paths that must not fault -----------------------------

FAULTING = """
    .globl _start
_start:
    la s0, buf
    li t0, 7
    li t1, 100
    div t2, t1, t0          # still executing when younger work is done
    sw t1, 0(s1)            # older than the fault (s1: another page): done
    {access}                # faults
    li t3, 99               # younger: must not be visible
    sw t3, 8(s0)
    sw t3, 4(s1)
    li a7, 93
    ecall
    .data
    .p2align 12
buf: .word 0x11111111, 0x22222222, 0x33333333
    .p2align 12
other: .word 0, 0
"""


@pytest.mark.parametrize("access, perms, cause, offset", [
    ("lw a0, 0(s0)", None, 13, 0),          # load from an unmapped page
    ("sw t0, 8(s0)", "r", 15, 8),           # store to a read-only page
    ("lbu a0, 1(s0)", "x", 13, 1),          # load from an execute-only page
    ("amoadd.w a0, t0, (s0)", "r", 15, 0),  # AMO to a read-only page
    ("lr.w a0, (s0)", None, 13, 0),         # LR from an unmapped page
])
@pytest.mark.parametrize("cpu", CORES)
def test_page_faults_are_precise(cpu, access, perms, cause, offset):
    m, program, tables = loaded(FAULTING.format(access=access), cpu, paged=True)
    buf, other = program.symbols["buf"], program.symbols["other"]
    m.regs[9] = other                                       # s1
    if perms is None:
        tables.unmap(buf)
    else:
        tables.map(buf, buf, PAGE, perms)
    before = m.read_memory(buf, 12)
    result = m.run()
    fault_pc = program.symbols["_start"] + 4 * (2 + 4)      # la is two instructions
    assert result.reason == "fault"
    assert (result.trap.cause, result.trap.tval, result.trap.pc) == (cause, buf + offset, fault_pc)
    assert m.regs[7] == 14 and m.regs[28] == 0              # t2 (older) done, t3 (younger) not
    assert m.read_memory(buf, 12) == before                 # neither the access nor younger stores
    assert m.read_memory(other, 8) == struct.pack("<II", 100, 0)


def test_a_fetch_from_an_unmapped_page_faults_precisely():
    source = """
    .globl _start
_start:
    li t0, 5
    la t1, away
    jr t1
    .p2align 12
away:
    li t0, 6
    """
    states = []
    for cpu in CORES:
        m, program, tables = loaded(source, cpu, paged=True)
        tables.unmap(program.symbols["away"])
        result = m.run()
        assert (result.reason, result.trap.cause) == ("fault", 12)
        assert result.trap.pc == result.trap.tval == program.symbols["away"] == m.pc
        states.append(state(m, result))
    assert states[0] == states[1]


WRONG_PATH = """
    .globl _start
_start:
    li s0, 40
    li s1, 1
    li a1, {address}
1:  li t1, 1000
    div t1, t1, s1          # slow: the branch below resolves late
    bnez t1, 2f             # always taken; the cold predictor falls through at first
    {access}                # wrong path only
    li a0, 1                # wrong path: exit status 1
2:  addi s0, s0, -1
    bnez s0, 1b
    li a0, 0
    li a7, 93
    ecall
    .data
    .p2align 12
clean: .word 0
"""


@pytest.mark.parametrize("paged", [False, True])
@pytest.mark.parametrize("access", ["lw a2, 0(a1)", "sw s0, 0(a1)", "lbu a2, 3(a1)"])
def test_wrong_path_accesses_to_unmapped_pages_do_not_trap(paged, access):
    m, program, _ = loaded(WRONG_PATH.format(address=0x10, access=access), paged=paged,
                           core=CoreConfig(predictor="static"))
    m.trace_pipeline(0, 1000)
    result = m.run()
    assert (result.reason, result.exit_code) == ("exit", 0)
    trace = m.pipeline_trace()
    wrong = trace[trace["pc"] == program.symbols["_start"] + 4 * 6]
    assert len(wrong) and np.all(wrong["flushed"] == 1) and np.any(wrong["issue"] > 0)
    if paged:
        assert m.tlb_stats()["faults"] > 0      # it was translated, and faulted, speculatively


def test_a_wrong_path_store_leaves_the_dirty_bit_clear():
    m, program, tables = loaded(WRONG_PATH.format(address=0, access="sw s0, 0(a3)"), paged=True,
                                core=CoreConfig(predictor="static"))
    clean = program.symbols["clean"]
    m.regs[13] = clean                              # a3
    result = m.run()
    assert (result.reason, result.exit_code) == ("exit", 0)
    assert m.read_memory(clean, 4) == bytes(4)
    pte = tables.pte(clean)
    assert pte & PTE_A and not pte & PTE_D          # A may be set speculatively; D never
    # ... while a committed store sets it, on both cores.
    for cpu in CORES:
        m, program, tables = loaded(".globl _start\n_start:\n la a3, clean\n sw a3, 0(a3)\n"
                                    " li a7, 93\n ecall\n .data\n .p2align 12\nclean: .word 0\n",
                                    cpu, paged=True)
        assert m.run().reason == "exit"
        assert tables.pte(program.symbols["clean"]) & PTE_D


def test_wrong_path_fetch_into_an_unmapped_page_does_not_trap():
    # The always-taken branch is the last word of its page; the fall-through the
    # static predictor fetches lies in an unmapped page.
    source = """
    .globl _start
_start:
    li s0, 30
    li s1, 1
    j 1f
    .p2align 12
done:
    li a0, 0
    li a7, 93
    ecall
    .skip 4096 - 12 - 20
1:  addi s0, s0, -1
    beqz s0, done
    li t1, 1000
    div t1, t1, s1
    bnez t1, 1b             # the page's last word
unmapped:
    li a0, 1
    li a7, 93
    ecall
    """
    m, program, tables = loaded(source, paged=True, core=CoreConfig(predictor="static"))
    assert program.symbols["unmapped"] % PAGE == 0
    tables.unmap(program.symbols["unmapped"])
    result = m.run()
    assert (result.reason, result.exit_code) == ("exit", 0)
    assert m.tlb_stats()["faults"] >= 30        # every iteration fetched into it, speculatively
    assert m.stats["cpu"]["squashedInsts"] > 0


@pytest.mark.parametrize("cpu", CORES)
def test_without_hardware_ad_a_store_to_a_clean_page_faults(cpu):
    source = """
    .globl _start
_start:
    la s0, buf
    lw a0, 0(s0)            # A is set: fine
    sw a0, 4(s0)            # D is clear: a store page fault
    li a7, 93
    ecall
    .data
    .p2align 12
buf: .word 42, 0
    """
    m, program, tables = loaded(source, cpu, paged=False,
                                mmu=MmuConfig(hardware_ad=False))
    tables = PageTables(m, pool_of(m.config))
    tables.map(m.config.ram_base, m.config.ram_base, m.config.memory_size, "rwx",
               accessed=True, dirty=True)
    buf = program.symbols["buf"]
    tables.map(buf, buf, PAGE, "rw", accessed=True)
    m.set_satp(0, 1, asid=1, root_ppn=tables.root_ppn)
    result = m.run()
    assert (result.reason, result.trap.cause, result.trap.tval) == ("fault", 15, buf + 4)
    assert m.regs[10] == 42 and m.read_memory(buf + 4, 4) == bytes(4)


# ---- TLB reach: walks and their cycles -----------------------------------------------------

STRIDE = """
    .globl _start
_start:
    li s2, {rounds}
1:  la s0, pages
    li s1, {pages}
2:  lw t0, 0(s0)
    add s0, s0, t0          # (t0 is 0) the next address waits for this load
    li t1, 4096
    add s0, s0, t1
    addi s1, s1, -1
    bnez s1, 2b
    addi s2, s2, -1
    bnez s2, 1b
    li a7, 93
    ecall
    .bss
    .p2align 12
pages: .space {pages} * 4096
"""


def stride_run(cpu, mmu, caches=None, pages=64, rounds=4):
    m, _, _ = loaded(STRIDE.format(pages=pages, rounds=rounds), cpu, paged=True, mmu=mmu,
                     caches=caches, memory=2 << 20)
    result = m.run()
    assert result.reason == "exit"
    return m, result


def test_a_tlb_thrashing_loop_walks_for_every_page_it_touches():
    pages, rounds = 64, 4
    tiny = MmuConfig(dtlb_entries=4, dtlb_ways=4, l2tlb_entries=0)
    big = MmuConfig(dtlb_entries=128, dtlb_ways=128, l2tlb_entries=0)
    fixed = CoreConfig().memory_latency
    m, thrash = stride_run("ooo", tiny)
    cpu = m.stats["mmu"]
    data_walks = cpu["walks"]
    # Every access misses the 4-entry LRU dTLB: one walk per page per round (plus a few
    # for code, stack, and loads that ran ahead past the loop's end).
    assert pages * rounds <= data_walks <= pages * rounds + 16
    assert m.tlb_stats()["dtlb"]["misses"] >= pages * rounds
    # Two PTE reads each, at the fixed memory latency.
    assert cpu["walkCycles"] >= 2 * fixed * pages * rounds
    # The functional core walks as often (its TLBs are the same).
    f, _ = stride_run("functional", tiny)
    assert abs(f.tlb_stats()["walks"] - data_walks) <= 16
    # With a TLB that holds every page, only the first touch walks, and it is faster.
    m, roomy = stride_run("ooo", big)
    assert m.stats["mmu"]["walks"] <= pages + 16
    assert roomy.cycles < thrash.cycles
    # An L2 TLB in front of the walker: the L1 still misses, the walks do not recur.
    m, _ = stride_run("ooo", tiny.replace(l2tlb_entries=128, l2tlb_ways=4))
    assert m.stats["mmu"]["walks"] <= pages + 16
    assert m.tlb_stats()["l2tlb"]["hits"] >= pages * (rounds - 1)


def test_walks_go_through_the_caches():
    tiny = MmuConfig(dtlb_entries=4, dtlb_ways=4, l2tlb_entries=0)
    m, _ = stride_run("ooo", tiny, caches=MemoryHierarchyConfig())
    mmu = m.stats["mmu"]
    assert mmu["walks"] >= 64 * 4
    # The PTE reads are L1D loads: at least the hit latency each.
    assert mmu["walkCycles"] >= 2 * MemoryHierarchyConfig().l1d.hit_latency * mmu["walks"]


# ---- MMIO -------------------------------------------------------------------------------

UART_PROGRAM = """
    .globl _start
_start:
    li s0, 0xf0000000
    la s1, text
1:  lbu t0, 0(s1)
    beqz t0, 2f
    sb t0, 0(s0)            # THR
    addi s1, s1, 1
    j 1b
2:  lbu s2, 5(s0)           # LSR
    li a0, 1                # then one system call write ...
    la a1, middle
    li a2, 1
    li a7, 64
    ecall
    li t0, 0x21             # ... and one more byte through the UART
    sb t0, 0(s0)
    li a0, 0
    li a7, 93
    ecall
    .data
text: .asciz "Hello, UART!"
middle: .ascii "|"
"""


@pytest.mark.parametrize("paged", [False, True])
def test_uart_output_from_both_cores_is_the_same_and_in_order(paged):
    maps = [(UART, UART, PAGE, "rw")]
    states = []
    for cpu in CORES:
        m, _, _ = loaded(UART_PROGRAM, cpu, paged=paged, maps=maps)
        result = m.run()
        assert (result.reason, result.exit_code) == ("exit", 0)
        assert m.stdout == b"Hello, UART!|!"
        assert m.regs[18] == 0x60                   # LSR: THRE | TEMT
        states.append(state(m, result))
        if cpu == "ooo":
            assert m.stats["cpu"]["lsq.mmioStores"] == len("Hello, UART!!")
            assert m.stats["cpu"]["lsq.mmioLoads"] == 1
    assert states[0] == states[1]


@settings(max_examples=30, deadline=None)
@given(core=core_configs(check_invariants=True), paged=st.booleans())
def test_uart_output_on_any_core_shape(core, paged):
    m, _, _ = loaded(UART_PROGRAM, paged=paged, maps=[(UART, UART, PAGE, "rw")], core=core)
    result = m.run()
    assert (result.reason, result.exit_code, m.stdout) == ("exit", 0, b"Hello, UART!|!")


@pytest.mark.parametrize("access, cause, address", [
    ("lw a0, 0x100(s0)", 5, UART + 0x100),      # no device there
    ("lw a0, 4(s0)", 5, UART + 4),              # the UART takes bytes only
    ("sh a0, 2(s0)", 7, UART + 2),
    ("lbu a0, 0(s3)", 5, 0xE000_0000),          # neither RAM nor a device
])
@pytest.mark.parametrize("paged", [False, True])
@pytest.mark.parametrize("cpu", CORES)
def test_bad_mmio_accesses_are_precise_access_faults(cpu, paged, access, cause, address):
    source = f"""
    .globl _start
_start:
    li s0, 0xf0000000
    li s3, 0xe0000000
    li t0, 0x41
    sb t0, 0(s0)            # older: sent
    {access}
    sb t0, 0(s0)            # younger: not sent
    li a7, 93
    ecall
    """
    maps = [(UART, UART, PAGE, "rw"), (0xE000_0000, 0xE000_0000, PAGE, "rw")]
    m, program, _ = loaded(source, cpu, paged=paged, maps=maps)
    result = m.run()
    assert (result.reason, result.trap.cause, result.trap.tval) == ("fault", cause, address)
    assert result.trap.pc == program.symbols["_start"] + 4 * 4
    assert m.stdout == b"A"


def test_mmio_without_a_bus_is_an_access_fault():
    m, program, _ = loaded(".globl _start\n_start:\n li s0, 0xf0000000\n li t0, 65\n"
                           " sb t0, 0(s0)\n", devices=None)
    result = m.run()
    assert (result.reason, result.trap.cause, result.trap.tval) == ("fault", 7, UART)


# ---- interrupts ---------------------------------------------------------------------------

LOOP = """
    .globl _start
_start:
    li s0, 30000
    li a0, 0
1:  addi a0, a0, 3
    mul t0, a0, a0
    add a1, a1, t0
    addi s0, s0, -1
    bnez s0, 1b
    andi a0, a1, 0x7f
    li a7, 93
    ecall
"""
TIMER_TICKS = 400       # mtime ticks: with the default clock, 100 cycles each


@pytest.mark.parametrize("paged", [False, True])
@pytest.mark.parametrize("cpu", CORES)
def test_a_timer_interrupt_is_taken_precisely_and_the_program_resumes(cpu, paged):
    reference, program, _ = loaded(LOOP, "functional")
    expected = state(reference, reference.run())
    m, program, _ = loaded(LOOP, cpu, paged=paged)
    m.devices.store(CLINT_MTIMECMP, TIMER_TICKS)
    m.devices.store(CLINT_MTIMECMP + 4, 0)
    m.enable_interrupts(0, MIP_MTIP)
    result = m.run()
    due = TIMER_TICKS * m.config.time_divider
    assert result.reason == "interrupt"
    assert result.trap.cause == CAUSE_INTERRUPT | 7 and result.trap.tval == 0
    assert due <= m.stats["sim_cycles"] <= due + 200
    text = program.symbols["_start"]
    assert result.trap.pc == m.pc and text <= m.pc < text + 4 * 13 and m.pc % 4 == 0
    assert 0 < result.instructions < reference.stats["sim_insts"]
    # The registers are those of the program stopped before pc: a0 counts the
    # iterations done, s0 those left.
    done = 30000 - int(m.regs[8]) + (1 if m.pc > program.symbols["_start"] + 16 else 0)
    assert int(m.regs[10]) in (3 * done, 3 * (done - 1))
    m.enable_interrupts(0, 0)
    resumed = m.run()
    assert (resumed.reason, resumed.exit_code) == ("exit", expected[1])
    assert state(m, resumed)[1:] == expected[1:]
    assert m.stats["sim_insts"] == reference.stats["sim_insts"]
    if cpu == "ooo":
        assert m.stats["cpu"]["commit.interrupts"] == 1


@pytest.mark.parametrize("cpu", CORES)
def test_an_interrupt_enabled_while_pending_is_taken_at_once(cpu):
    m, program, _ = loaded(LOOP, cpu)
    m.devices.store(CLINT_MTIMECMP, 0)
    m.devices.store(CLINT_MTIMECMP + 4, 0)
    m.enable_interrupts(0, MIP_MTIP)
    result = m.run()
    assert (result.reason, result.instructions, m.pc) == ("interrupt", 0, program.symbols["_start"])
    m.enable_interrupts(0, 0)
    assert m.run().reason == "exit"

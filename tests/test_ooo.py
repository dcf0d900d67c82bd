"""The out-of-order core against its golden model, the functional core, and timing
expectations derived by hand from the configuration."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import emu
from emu.config import CoreConfig
from emu.machine import PipelineError
from emu.testing import assert_same_state, core_configs, programs
from emu.testing.compare import executable

MEMORY = 1 << 20


def machine(source, cpu="ooo", **core):
    m = emu.Machine(emu.MachineConfig(memory_size=MEMORY, cpu=cpu, core=CoreConfig(**core)))
    m.load(emu.assemble(".globl _start\n_start:\n" + source))
    return m


@pytest.mark.slow
@settings(max_examples=60, deadline=None)
@given(program=programs(), core=core_configs(check_invariants=True))
def test_random_programs_end_in_the_functional_cores_state(program, core):
    """Registers, pc, memory and exit code, across widths, queue sizes, predictors and
    memory-dependence policies, with every pipeline invariant checked each cycle."""
    functional = emu.MachineConfig(memory_size=MEMORY)
    assert_same_state(program, functional, functional.replace(cpu="ooo", core=core))


WIDTHS = {"sb": 1, "sh": 2, "sw": 4, "lb": 1, "lbu": 1, "lh": 2, "lhu": 2, "lw": 4}


@st.composite
def memory_programs(draw):
    """Dense stores and loads of every width on one 8-byte buffer, some through a base
    register that a divide makes late (so loads speculate past unknown store addresses),
    some with a value still being computed: forwarding, partial overlaps, violations."""
    lines = ["la s0, buf", "li s1, 1", "mv s2, s0"]
    for i in range(draw(st.integers(1, 40))):
        op = draw(st.sampled_from(sorted(WIDTHS)))
        width = WIDTHS[op]
        offset = draw(st.integers(0, 8 // width - 1)) * width
        base = draw(st.sampled_from(["s0", "s2"]))
        if draw(st.booleans()):
            lines.append("div s2, s0, s1")          # s2 == s0, known only after the divide
        if op.startswith("s"):
            value = draw(st.integers(0, 0xFFFFFFFF))
            lines.append(f"li t{i % 3}, {value}")
            lines.append(f"{op} t{i % 3}, {offset}({base})")
        else:
            lines.append(f"{op} a{i % 6}, {offset}({base})")
            lines.append(f"add a7, a7, a{i % 6}")
    lines += ["lw t0, 0(s0)", "lw t1, 4(s0)", "li a7, 93", "ecall",
              ".data", f"buf: .word {draw(st.integers(0, 0xFFFFFFFF))}, {draw(st.integers(0, 0xFFFFFFFF))}",
              "data_region: .word 0", "data_region_end:"]
    return ".globl _start\n_start:\n" + "\n".join(lines) + "\n"


@settings(max_examples=100, deadline=None)
@given(source=memory_programs(), core=core_configs(check_invariants=True))
def test_loads_and_stores_of_every_width_match_the_functional_core(source, core):
    functional = emu.MachineConfig(memory_size=MEMORY)
    assert_same_state(source, functional, functional.replace(cpu="ooo", core=core))


def committed_pcs_functional(elf, count):
    m = emu.Machine(emu.MachineConfig(memory_size=MEMORY))
    m.load(elf)
    pcs = []
    while len(pcs) < count:
        pcs.append(m.pc)
        if m.step().reason != "limit":
            break
    return pcs


@settings(max_examples=25, deadline=None)
@given(program=programs(), core=core_configs())
def test_committed_instruction_stream_matches_the_functional_core(program, core):
    elf = executable(program)
    m = emu.Machine(emu.MachineConfig(memory_size=MEMORY, cpu="ooo", core=core))
    m.load(elf)
    m.trace_pipeline(0, 2000)
    m.run(max_instructions=2000)
    trace = m.pipeline_trace()
    committed = [int(pc) for pc in trace["pc"][trace["flushed"] == 0]]
    assert committed == committed_pcs_functional(elf, len(committed))[:len(committed)]
    # Records leave the pipeline in time order, and stages happen in order.
    assert np.all(np.diff(trace["end"].astype(np.int64)) >= 0)
    done = trace[trace["flushed"] == 0]
    assert np.all(done["fetch"] < done["rename"]) and np.all(done["rename"] <= done["end"])


def test_traps_are_precise():
    source = """
        li t0, 7
        li t1, 100
        div t2, t1, t0          # still executing when younger work is done
        lw a0, 0(zero)          # faults
        li t3, 99               # younger: must not be visible
        addi t0, t0, 1
    """
    results = []
    for cpu in ("functional", "ooo"):
        m = machine(source, cpu)
        r = m.run()
        results.append((r.reason, r.trap.cause, r.trap.pc, list(m.regs)))
    assert results[0] == results[1]
    assert results[1][3][28] == 0 and results[1][3][7] == 14


def test_switching_models_mid_run_carries_state_exactly():
    elf = emu.assemble_file("programs/sieve.s")
    whole = emu.Machine(emu.MachineConfig(memory_size=MEMORY))
    whole.load(elf)
    expected = whole.run()
    m = emu.Machine(emu.MachineConfig(memory_size=MEMORY))
    m.load(elf)
    m.run(max_instructions=3000)
    m.cpu = "ooo"
    m.run(max_instructions=5000)
    m.cpu = "functional"
    result = m.run()
    assert (result.reason, result.exit_code) == (expected.reason, expected.exit_code)
    assert m.stdout == whole.stdout and list(m.regs) == list(whole.regs)
    assert m.stats["sim_insts"] == whole.stats["sim_insts"]
    # The ecalls among the 5000 were completed by the kernel, not committed by the core.
    assert 4500 < m.stats["cpu"]["committedInsts"] <= 5000


# ---- timing with hand-derived expectations ----------------------------------------------

def cycles_of(source, **core):
    m = machine(source + "\n li a7, 93\n ecall\n", **core)
    r = m.run()
    assert r.reason == "exit"
    return r.cycles, r.instructions, m.stats["cpu"]


@pytest.mark.parametrize("width", [1, 2, 4])
def test_independent_alu_ops_reach_the_issue_width(width):
    n = 2000
    body = "\n".join(f" addi t{i % 6}, zero, {i % 100}" for i in range(n))
    cycles, insts, _ = cycles_of(body, fetch_width=width, rename_width=width, issue_width=width,
                                 commit_width=width, alu_units=width)
    # Steady state: `width` per cycle; plus filling the front end.
    assert n / width <= cycles <= n / width * 1.05 + 30


def test_l1i_hits_cost_no_fetch_bubbles():
    """The L1I hit latency is part of the front end's depth: once the loop's four lines
    are cached, fetch streams across line boundaries at full width as with fixed memory;
    only the cold misses (four lines, through L2 to DRAM) add cycles."""
    iterations = 200
    body = "\n".join(f" addi t{i % 6}, zero, {i % 100}" for i in range(60))
    source = f" li s0, {iterations}\n1:\n{body}\n addi s0, s0, -1\n bnez s0, 1b"
    fixed, insts, _ = cycles_of(source)
    m = emu.Machine(emu.MachineConfig(memory_size=MEMORY, cpu="ooo",
                                      caches=emu.config.MemoryHierarchyConfig()))
    m.load(emu.assemble(".globl _start\n_start:\n" + source + "\n li a7, 93\n ecall\n"))
    cached = m.run()
    assert cached.instructions == insts
    dram = m.config.caches.dram_latency
    assert fixed <= cached.cycles <= fixed + 8 * dram     # a bubble per line would be +800


def test_dependent_chain_takes_one_cycle_per_add():
    n = 2000
    cycles, _, _ = cycles_of("\n".join(" addi t0, t0, 1" for _ in range(n)))
    assert n <= cycles <= n + 30


@pytest.mark.parametrize("latency", [5, 20])
def test_divide_chain_takes_the_divide_latency_each(latency):
    n = 100
    cycles, _, _ = cycles_of(" li t0, 1000000\n li t1, 1\n" + "\n".join(" div t0, t0, t1" for _ in range(n)),
                             div_latency=latency)
    assert n * latency <= cycles <= n * latency + 40


LOOP = """
    li t0, 0
    li t1, {n}
1:  addi t0, t0, 1
    {body}
    blt t0, t1, 1b
"""


@pytest.mark.parametrize("predictor", ["bimodal", "gshare", "tage"])
def test_always_taken_loop_is_predicted_after_warm_up(predictor):
    mispredicts = []
    for n in (1000, 3000):
        _, _, cpu = cycles_of(LOOP.format(n=n, body=""), predictor=predictor)
        assert cpu["branchPred.committed"]["conditional"] == n
        mispredicts.append(cpu["branchPred.mispredicted"]["conditional"])
    # Warm-up and the loop exit only: three times the iterations, no more mispredictions.
    # (gshare and TAGE warm up one counter per history pattern: up to the history length.)
    assert mispredicts[0] == mispredicts[1] <= CoreConfig().predictor_history_bits + 6


def test_random_branches_cost_the_mispredict_penalty():
    # An LCG's top bit decides a branch: unpredictable, about half taken.
    body = """
    li t3, 1103515245
    mul t2, t2, t3
    addi t2, t2, 1234
    bltz t2, 2f
    addi a1, a1, 1
2:  """
    predictable = body.replace("bltz t2, 2f", "bltz zero, 2f")
    depth = 6
    random_cycles, _, cpu = cycles_of(" li t2, 1\n" + LOOP.format(n=2000, body=body),
                                      frontend_depth=depth)
    steady_cycles, _, _ = cycles_of(" li t2, 1\n" + LOOP.format(n=2000, body=predictable),
                                    frontend_depth=depth)
    mispredicts = cpu["branchPred.mispredicted"]["conditional"]
    assert 600 <= mispredicts <= 1400
    penalty = (random_cycles - steady_cycles) / mispredicts
    # Refetching after a branch resolves costs at least the front-end depth.
    assert depth <= penalty <= depth + 12


def test_store_to_load_forwarding_and_partial_overlap():
    source = """
        la s0, buf
        li t0, 0x11223344
        sw t0, 0(s0)
        lw a0, 0(s0)            # forwarded whole
        lbu a1, 2(s0)           # forwarded from part of the store
        sb t0, 5(s0)
        lw a2, 4(s0)            # overlaps the byte store only partly: waits for commit
        li a7, 93
        ecall
    .data
    buf: .word 0, 0x55555555
    """
    m = emu.Machine(emu.MachineConfig(memory_size=MEMORY, cpu="ooo"))
    m.load(emu.assemble(".globl _start\n_start:\n" + source))
    m.run()
    assert list(m.regs[10:13]) == [0x11223344, 0x22, 0x55554455]
    assert m.stats["cpu"]["lsq.forwardedLoads"] >= 2


def test_memory_order_violations_are_replayed_and_learned():
    # The store's address comes late (after a divide); the load behind it speculates.
    source = """
        la s0, buf
        li t1, 1
        li t2, 5
    1:  div t3, s0, t1          # slow: the store address is unknown for a while
        sw t2, 0(t3)
        lw a0, 0(s0)            # same address: must see 5, not the old value
        add a1, a1, a0
        addi t2, t2, 1
        li t4, 25
        blt t2, t4, 1b
        li a7, 93
        ecall
    .data
    buf: .word 0
    """
    m = emu.Machine(emu.MachineConfig(memory_size=MEMORY, cpu="ooo"))
    m.load(emu.assemble(".globl _start\n_start:\n" + source))
    m.run()
    assert m.regs[11] == sum(range(5, 25))
    violations = m.stats["cpu"]["lsq.memOrderViolations"]
    assert 1 <= violations <= 3     # the wait bit stops them after the first


def test_no_progress_is_reported_with_a_pipeline_dump():
    m = machine(" li t0, 1\n div t1, t0, t0\n", div_latency=1000, deadlock_cycles=100)
    with pytest.raises(PipelineError, match="no instruction committed.*\n.*rob"):
        m.run()


# ---- with the cache hierarchy timing memory ----------------------------------------------

from emu.config import CacheConfig, MemoryHierarchyConfig  # noqa: E402

TINY_CACHES = MemoryHierarchyConfig(
    l1i=CacheConfig(size=1024, ways=2, line_size=32, hit_latency=1, mshrs=2),
    l1d=CacheConfig(size=1024, ways=2, line_size=32, hit_latency=2, mshrs=2),
    l2=CacheConfig(size=4096, ways=4, line_size=32, hit_latency=8, mshrs=4),
    dram_latency=60)


@settings(max_examples=40, deadline=None)
@given(program=programs(), core=core_configs(check_invariants=True))
def test_caches_change_timing_but_never_results(program, core):
    functional = emu.MachineConfig(memory_size=MEMORY)
    assert_same_state(program, functional,
                      functional.replace(cpu="ooo", core=core, caches=TINY_CACHES))


def test_a_working_set_beyond_the_l1_costs_cycles():
    def run(span):
        source = f"""
            la s0, buf
            li s1, 20
        2:  li t0, 0
        1:  add t1, s0, t0
            lw t2, 0(t1)
            addi t0, t0, 32
            li t3, {span}
            blt t0, t3, 1b
            addi s1, s1, -1
            bnez s1, 2b
            li a7, 93
            ecall
        .data
        buf: .space 16384
        """
        m = emu.Machine(emu.MachineConfig(memory_size=MEMORY, cpu="ooo", caches=TINY_CACHES))
        m.load(emu.assemble(".globl _start\n_start:\n" + source))
        r = m.run()
        return r.cycles / r.instructions, m.stats["caches"]

    fits, fits_stats = run(512)         # half the L1D: misses only on the first pass
    spills, spills_stats = run(8192)    # twice the L2: every pass misses to DRAM
    assert fits_stats["l1d"].misses.sum() == 512 // 32
    assert spills_stats["l2"].misses.sum() >= 20 * 8192 // 32 * 0.9
    assert spills > 2 * fits

"""Sv32 translation in the functional core, through the Machine API (satp, sfence,
TLB stats) and emu.paging: programs run the same translated, faults are precise,
and nothing changes on a faulting access."""

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import emu
from emu.config import MachineConfig, MemoryHierarchyConfig, MmuConfig
from emu.paging import PAGE, PTE_A, PTE_D, PageTables
from emu.testing import assert_same_state, identity_paging, programs, run_program
from emu.testing.compare import load_program
from tests.test_ooo_vm import STRIDE

PROGRAMS_DIR = Path(__file__).resolve().parent.parent / "programs"
SMALL = MachineConfig(memory_size=1 << 20, stack_size=64 << 10)
CAUSE_LOAD_PAGE_FAULT, CAUSE_STORE_PAGE_FAULT, CAUSE_FETCH_PAGE_FAULT = 13, 15, 12


def program_elf(name: str) -> bytes:
    source = PROGRAMS_DIR / f"{name}.s"
    return emu.assemble(source.read_text(), str(source), include_dirs=[PROGRAMS_DIR])


@pytest.mark.parametrize("name", ["hello", "sort", "sieve", "matmul", "strings", "fibonacci"])
@pytest.mark.parametrize("megapages", [False, True])
@pytest.mark.parametrize("caches", [None, MemoryHierarchyConfig()])
def test_programs_run_the_same_translated(name, megapages, caches):
    config = SMALL.replace(caches=caches)
    state = assert_same_state(program_elf(name), SMALL, config,
                              prepare_b=lambda m: identity_paging(m, megapages=megapages))
    assert state.reason == "exit"


@settings(max_examples=40)
@given(programs(),
       st.builds(MmuConfig, itlb_entries=st.sampled_from([1, 2, 4, 32]),
                 itlb_ways=st.just(1), dtlb_entries=st.sampled_from([1, 2, 8]),
                 dtlb_ways=st.just(1), l2tlb_entries=st.sampled_from([0, 4, 64]),
                 l2tlb_ways=st.just(2), tlb_replacement=st.sampled_from(["lru", "random"]),
                 hardware_ad=st.just(True)),
       st.sampled_from([None, MemoryHierarchyConfig()]))
def test_generated_programs_run_the_same_translated(program, mmu, caches):
    """Tiny TLBs force refills, evictions and fast-slot clears all the time; timing by
    the caches changes no architectural state."""
    assert_same_state(program, SMALL, SMALL.replace(mmu=mmu, caches=caches),
                      prepare_b=identity_paging)


def test_translated_run_counts_walks_and_sets_accessed_and_dirty():
    machine = load_program(program_elf("sort"), SMALL)
    tables = identity_paging(machine)
    result = machine.run()
    assert result.reason == "exit"
    stats = machine.tlb_stats()
    assert stats["walks"] >= 2 and stats["faults"] == 0
    assert stats["itlb"]["misses"] >= 1 and stats["dtlb"]["misses"] >= 1
    assert machine.stats["mmu"]["walks"] == stats["walks"]
    assert machine.stats["mmu"]["dtlb.misses"] == stats["dtlb"]["misses"]
    assert "mmu" not in run_program_machine_stats()
    code_pte = tables.pte(machine.program.entry)
    assert code_pte & PTE_A and not code_pte & PTE_D    # fetched, never written
    stack_pte = tables.pte(machine.regs[2])
    assert stack_pte & PTE_A and stack_pte & PTE_D


def run_program_machine_stats():
    machine = load_program(program_elf("sort"), SMALL)
    machine.run()
    return machine.stats


ALIAS_SOURCE = """
    .globl _start
_start:
    li t0, {alias}
    li t1, 0x1234abcd
    sw t1, 8(t0)            # store through the alias ...
    la t2, target
    lw a0, 8(t2)            # ... read through the program's own address
    li t3, {unmapped}
faulting:
    lw a1, 0(t3)            # faults: nothing mapped there
    li a7, 93
    ecall
    .data
    .balign 4096
target: .space 4096
"""


def alias_machine(config=SMALL, alias=0x4000_0000, unmapped=0x5000_0000):
    elf = emu.assemble(ALIAS_SOURCE.format(alias=alias, unmapped=unmapped))
    machine = load_program(elf, config)
    tables = identity_paging(machine)
    tables.map(alias, machine.program.symbols["target"], PAGE, "rw")
    return machine, tables


@pytest.mark.parametrize("caches", [None, MemoryHierarchyConfig()])
def test_alias_mapping_and_a_precise_load_page_fault(caches):
    machine, _ = alias_machine(SMALL.replace(caches=caches))
    result = machine.run()
    assert result.reason == "fault" and result.signal == 11
    trap = result.trap
    assert (trap.cause, trap.tval) == (CAUSE_LOAD_PAGE_FAULT, 0x5000_0000)
    assert trap.pc == machine.program.symbols["faulting"]
    assert machine.regs[10] == 0x1234abcd          # the load before it ran ...
    assert machine.regs[11] == 0                   # ... the faulting one did not


def test_store_to_read_only_page_faults_and_changes_nothing():
    machine, tables = alias_machine()
    target = machine.program.symbols["target"]
    tables.map(0x4000_0000, target, PAGE, "r")      # the alias is now read-only
    before = machine.read_memory(target, PAGE)
    result = machine.run()
    assert (result.trap.cause, result.trap.tval) == (CAUSE_STORE_PAGE_FAULT, 0x4000_0008)
    assert machine.read_memory(target, PAGE) == before
    assert not tables.pte(0x4000_0000) & PTE_D


def test_fetch_from_an_unmapped_page_is_an_instruction_page_fault():
    machine = load_program(emu.assemble("_start: jr a0\n"), SMALL)
    identity_paging(machine)
    machine.regs[10] = 0x6000_0000
    result = machine.run()
    assert (result.trap.cause, result.trap.pc, result.trap.tval) == (
        CAUSE_FETCH_PAGE_FAULT, 0x6000_0000, 0x6000_0000)


def test_sfence_makes_a_changed_mapping_visible():
    """Without sfence.vma a hart may keep using an old translation (the spec allows
    it, and this one does); after it, the new one."""
    machine, tables = alias_machine()
    machine.run(max_instructions=5)                  # the alias store went through
    tables.unmap(0x4000_0000)
    machine.sfence(vaddr=0x4000_0000)
    machine.pc = machine.program.entry
    result = machine.run()
    assert (result.trap.cause, result.trap.tval) == (CAUSE_STORE_PAGE_FAULT, 0x4000_0008)


def test_fault_on_clear_accessed_bit_when_hardware_does_not_set_it():
    config = SMALL.replace(mmu=MmuConfig(hardware_ad=False))
    machine = load_program(program_elf("hello"), config)
    identity_paging(machine)
    result = machine.run()
    assert result.reason == "fault"
    assert (result.trap.cause, result.trap.tval) == (CAUSE_FETCH_PAGE_FAULT, machine.program.entry)


def test_satp_round_trips_and_rejects_bad_values():
    machine = emu.Machine(SMALL)
    machine.set_satp(0, 1, asid=5, root_ppn=0x123)
    assert machine.satp() == (1 << 31) | (5 << 22) | 0x123
    with pytest.raises(ValueError):
        machine.set_satp(0, 2)
    with pytest.raises(ValueError):
        machine.set_satp(0, 1, asid=512)
    with pytest.raises(ValueError):
        machine.sfence(asid=600)
    machine.set_satp(0, 0)
    assert machine.satp() == 0


def test_page_tables_reject_bad_mappings():
    machine = emu.Machine(SMALL)
    tables = PageTables(machine, (0x8_0000, 0x8_2000))
    with pytest.raises(ValueError):
        tables.map(0x1001, 0x1000, PAGE)
    with pytest.raises(ValueError):
        tables.map(0x1000, 0x1000, PAGE, "w")
    tables.map(0x40_0000, 0x40_0000, 4 << 20, "r", megapages=True)
    with pytest.raises(ValueError):
        tables.map(0x40_1000, 0x1000, PAGE)         # inside the megapage
    with pytest.raises(MemoryError):
        for i in range(4):
            tables.map(i << 22 | 0x8000_0000, 0x1000, PAGE)


def test_translation_survives_switching_models_and_reruns():
    machine = load_program(program_elf("sieve"), SMALL)
    identity_paging(machine)
    expected = run_program(program_elf("sieve"), SMALL)
    result = machine.run(max_instructions=1000)
    assert result.reason == "limit"
    result = machine.run()
    assert result.reason == "exit" and machine.stdout == expected.stdout




def test_timed_functional_core_pays_for_page_walks():
    """With the caches timing it, the functional core waits for each walk's two PTE
    reads (at least an L1D hit each); a one-entry dTLB makes every load walk."""
    caches = MemoryHierarchyConfig()
    config = SMALL.replace(caches=caches, mmu=MmuConfig(dtlb_entries=1, dtlb_ways=1,
                                                         l2tlb_entries=0))
    elf = emu.assemble(STRIDE.format(pages=64, rounds=4))
    bare = load_program(elf, config).run()
    machine = load_program(elf, config)
    identity_paging(machine)
    paged = machine.run()
    walks = machine.tlb_stats()["walks"]
    assert (bare.reason, paged.reason) == ("exit", "exit")
    assert paged.instructions == bare.instructions and walks >= 4 * 64
    assert paged.cycles - bare.cycles >= machine.tlb_stats()["walk_cycles"]
    assert machine.tlb_stats()["walk_cycles"] >= walks * 2 * caches.l1d.hit_latency


CLEAN_STORES = """
    .globl _start
_start:
    la t0, pages
    li t1, 32
1:  sw t1, 0(t0)
    li t3, 4096
    add t0, t0, t3
    addi t1, t1, -1
    bnez t1, 1b
    li a7, 93
    ecall
    .data
    .balign 4096
pages: .space 32 * 4096
"""


def test_out_of_order_store_to_a_clean_page_waits_for_the_walk_that_sets_d():
    """A store translated speculatively leaves D clear; at the ROB head it walks again,
    non-speculatively, and commits only after that walk's two PTE reads."""
    config = SMALL.replace(cpu="ooo")
    elf = emu.assemble(CLEAN_STORES)

    def run(dirty):
        machine = load_program(elf, config)
        tables = identity_paging(machine)
        pages = machine.program.symbols["pages"]
        tables.map(pages, pages, 32 * PAGE, "rw", accessed=True, dirty=dirty)
        result = machine.run()
        assert result.reason == "exit"
        return result.cycles, machine, tables

    dirty_cycles, _, _ = run(True)
    clean_cycles, machine, tables = run(False)
    pages = machine.program.symbols["pages"]
    assert all(tables.pte(pages + i * PAGE) & PTE_D for i in range(32))
    # Each commit-time walk is two PTE reads at the fixed latency; younger work runs
    # meanwhile (the next iterations' own walks), so part of it stays hidden.
    walk = 2 * config.core.memory_latency
    assert dirty_cycles + 32 * walk // 3 <= clean_cycles <= dirty_cycles + 32 * walk

"""Sv32 translation: the walker (emu/_core/ptw.pyx) and the TLBs/MMU (emu/_core/tlb.pyx)
against the plain-Python reference walker (tests/sv32_reference.py).

Random page tables live in a small numpy RAM image; the C side and the reference each
get their own copy, so "the same result and nothing else changed" is an equality of
results and of the two images after every access (hardware A/D updates included).
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, initialize, multiple, rule

from emu._core.ptw import walk
from emu._core.tlb import MmuModel
from emu.config import ConfigError, MmuConfig
from tests import sv32_reference as ref
from tests.sv32_reference import A, D, G, R, U, V, W, X

RAM_BASE = 0x1000
RAM_PAGES = 40
BASE_PPN = RAM_BASE >> 12
KINDS = ("fetch", "load", "store")


def new_ram():
    return np.zeros(RAM_PAGES << 12, np.uint8)


def write_pte(ram, addr, pte):
    ram[addr - RAM_BASE:addr - RAM_BASE + 4] = np.frombuffer(pte.to_bytes(4, "little"), np.uint8)


def read_pte(ram, addr):
    return int.from_bytes(ram[addr - RAM_BASE:addr - RAM_BASE + 4].tobytes(), "little")


def pte(ppn, bits):
    return (ppn << 10) | bits


def ram_ppn(page):
    """PPN of the page-th page of RAM."""
    return BASE_PPN + page


def reference(ram, root_ppn, vaddr, kind, *, hardware_ad=True, speculative=False):
    return ref.translate(ref.Ram(ram, RAM_BASE), root_ppn, vaddr, kind,
                         hardware_ad=hardware_ad, speculative=speculative)


# ---- strategies -----------------------------------------------------------------------

@st.composite
def leaf_bits(draw):
    """Leaf PTE bits: mostly usable user pages, also every permission mix (W without R
    is reserved), U, A or D clear, and sometimes any byte at all."""
    # (hypothesis favours small integers, so the rare choices are the large ones)
    if draw(st.integers(0, 19)) == 19:
        return draw(st.integers(0, 255))
    bits = V | draw(st.sampled_from([R | W | X] * 4 + [R, R | W, X, R | X, W, W | X]))
    for bit, chance in ((U, 19), (A, 16), (D, 12), (G, 4)):
        if draw(st.integers(0, 19)) < chance:
            bits |= bit
    return bits


@st.composite
def pointer_bits(draw):
    """Pointer PTE bits: V (and maybe G), sometimes reserved A/D/U set or V clear."""
    return draw(st.sampled_from([V] * 4 + [V | G] * 3 + [V | A, V | D | U, 0]))


#: Leaf targets: RAM pages, page 0 (below RAM), just past RAM, beyond 4 GiB, anything.
page_ppns = st.one_of(st.integers(BASE_PPN, BASE_PPN + RAM_PAGES - 1),
                      st.sampled_from([0, BASE_PPN + RAM_PAGES, 1 << 20, (1 << 22) - 1]),
                      st.integers(0, (1 << 22) - 1))
#: Megapage targets: mostly aligned (0, which covers this RAM, twice as often), or any PPN.
megapage_ppns = st.one_of(st.sampled_from([0, 0x400, 0x3FFC00]),
                          st.integers(0, (1 << 12) - 1).map(lambda n: n << 10),
                          st.sampled_from([0, 0x400]),
                          st.integers(0, (1 << 22) - 1))


@st.composite
def page_tables(draw):
    """(ram, root_ppn, vaddrs): random Sv32 tables and addresses that reach into them."""
    ram = new_ram()
    pages = draw(st.permutations(range(RAM_PAGES)))
    root, tables = pages[0], pages[1:4]
    root_addr = RAM_BASE + (root << 12)
    vaddrs = []
    for vpn1 in draw(st.lists(st.integers(0, 1023), min_size=1, max_size=5, unique=True)):
        entry = draw(st.sampled_from(["table"] * 4 + ["megapage"] * 2 + ["raw", "far_table"]))
        if entry == "table":
            table = draw(st.sampled_from(tables))
            write_pte(ram, root_addr + 4 * vpn1, pte(ram_ppn(table), draw(pointer_bits())))
            for vpn0 in draw(st.lists(st.integers(0, 1023), min_size=1, max_size=4, unique=True)):
                if draw(st.integers(0, 7)) == 0:
                    bits = draw(pointer_bits())         # a pointer at the last level
                else:
                    bits = draw(leaf_bits())
                write_pte(ram, RAM_BASE + (table << 12) + 4 * vpn0, pte(draw(page_ppns), bits))
                vaddrs.append((vpn1 << 22) | (vpn0 << 12))
        elif entry == "megapage":
            write_pte(ram, root_addr + 4 * vpn1, pte(draw(megapage_ppns), draw(leaf_bits())))
            vaddrs.append((vpn1 << 22) | (draw(st.integers(0, 1023)) << 12))
        elif entry == "raw":
            write_pte(ram, root_addr + 4 * vpn1, draw(st.integers(0, (1 << 32) - 1)))
            vaddrs.append(vpn1 << 22)
        else:                                           # the next level is outside RAM
            far = draw(st.sampled_from([0, BASE_PPN + RAM_PAGES, (1 << 22) - 1,
                                        (1 << 20) + BASE_PPN]))   # the last wraps into RAM in 32 bits
            write_pte(ram, root_addr + 4 * vpn1, pte(far, V))
            vaddrs.append(vpn1 << 22)
    return ram, ram_ppn(root), vaddrs


@st.composite
def accesses(draw, vaddrs, size=30):
    """(vaddr, kind, speculative): mostly inside the drawn mappings, some anywhere."""
    mapped = st.tuples(st.sampled_from(vaddrs), st.integers(0, 0xFFF)).map(lambda t: t[0] | t[1])
    anywhere = st.integers(0, (1 << 32) - 1)
    vaddr = st.sampled_from([mapped] * 4 + [anywhere]).flatmap(lambda s: s)   # 4 : 1
    return draw(st.lists(st.tuples(vaddr, st.sampled_from(KINDS), st.booleans()),
                         min_size=1, max_size=size))


@st.composite
def mmu_configs(draw):
    """Small TLBs, so replacement and eviction happen within a few accesses."""
    def shape(max_entries):
        entries = draw(st.sampled_from([e for e in (1, 2, 4, 8, 16) if e <= max_entries]))
        ways = draw(st.sampled_from([w for w in (1, 2, 4, 8, 16) if w <= entries]))
        return entries, ways
    itlb, dtlb = shape(8), shape(8)
    l2 = shape(16) if draw(st.booleans()) else (0, 4)
    return MmuConfig(itlb_entries=itlb[0], itlb_ways=itlb[1], dtlb_entries=dtlb[0],
                     dtlb_ways=dtlb[1], l2tlb_entries=l2[0], l2tlb_ways=l2[1],
                     tlb_replacement=draw(st.sampled_from(["lru", "random"])),
                     hardware_ad=draw(st.booleans()))


# ---- the walker against the reference ---------------------------------------------------

@given(st.data(), page_tables(), st.booleans())
def test_walker_matches_reference(data, tables, hardware_ad):
    ram, root_ppn, vaddrs = tables
    c_ram, ref_ram = ram.copy(), ram.copy()
    for vaddr, kind, speculative in data.draw(accesses(vaddrs)):
        before = c_ram.copy()
        got = walk(c_ram, RAM_BASE, root_ppn, vaddr, kind, hardware_ad=hardware_ad,
                   speculative=speculative)
        want = reference(ref_ram, root_ppn, vaddr, kind, hardware_ad=hardware_ad,
                         speculative=speculative)
        assert got.cause == want.cause
        assert got.pte_addrs == want.pte_addrs
        assert np.array_equal(c_ram, ref_ram)
        assert got.written == (not np.array_equal(before, c_ram))
        if want.cause is None:
            assert (got.paddr, got.pte, got.level, got.is_global) == \
                (want.pa, want.pte, want.level, want.is_global)
            assert got.dirty_pending == (kind == "store" and speculative and not want.pte & D)
            if got.written:
                assert read_pte(c_ram, got.pte_addrs[-1]) == got.pte


# ---- TLBs: access streams agree with walking every time -----------------------------------

@given(st.data(), page_tables(), mmu_configs(), st.integers(0, 2**64 - 1))
def test_tlb_stream_matches_walking(data, tables, config, seed):
    ram, root_ppn, vaddrs = tables
    ref_ram = ram.copy()
    mmu = MmuModel(ram, RAM_BASE, config, seed=seed)
    mmu.set_satp(1, 5, root_ppn)
    faults = 0
    for vaddr, kind, speculative in data.draw(accesses(vaddrs, size=60)):
        fast = data.draw(st.booleans())
        got = mmu.translate(vaddr, kind, speculative=speculative, fast=fast)
        want = reference(ref_ram, root_ppn, vaddr, kind, hardware_ad=config.hardware_ad,
                         speculative=speculative)
        assert got == ref.access_result(ref.Ram(ref_ram, RAM_BASE), want, kind)
        assert np.array_equal(ram, ref_ram)
        faults += got[1] is not None
    assert mmu.stats()["faults"] == faults


# ---- after any (correct) sfence the TLBs never return a stale translation ----------------

ASIDS = (1, 2)
PRIVATE_VPN1S = (0, 1)      # per-ASID root entries and tables
SHARED_VPN1 = 2             # the same root entry and table in both address spaces
VPN0S = range(3)            # few pages, so accesses, changes and sfences meet often


class SfenceMachine(RuleBasedStateMachine):
    """A kernel editing two address spaces' page tables, each change followed by an
    sfence.vma the spec says suffices; every translation must equal a fresh walk.

    RAM pages: 0, 1 the roots of ASIDs 1, 2; 2..5 their private tables (vpn1 0, 1);
    6 the shared table (vpn1 2); the rest are data pages. Global mappings appear only
    under the shared root entry, which both address spaces hold identically, so every
    global mapping exists in all address spaces, as the spec requires of software."""

    @initialize(config=mmu_configs(), seed=st.integers(0, 2**64 - 1), data=st.data())
    def build(self, config, seed, data):
        self.config = config
        self.ram = new_ram()
        self.ref_ram = new_ram()
        self.root = {asid: ram_ppn(i) for i, asid in enumerate(ASIDS)}
        self.table = {(asid, vpn1): ram_ppn(2 + 2 * i + vpn1)
                      for i, asid in enumerate(ASIDS) for vpn1 in PRIVATE_VPN1S}
        self.shared_table = ram_ppn(6)
        for asid in ASIDS:
            for vpn1 in PRIVATE_VPN1S:
                self.write(self.root[asid] << 12 | vpn1 * 4, pte(self.table[asid, vpn1], V))
                for vpn0 in VPN0S:
                    self.write(self.table[asid, vpn1] << 12 | vpn0 * 4,
                               pte(data.draw(page_ppns), data.draw(leaf_bits()) & ~G))
            self.write(self.root[asid] << 12 | SHARED_VPN1 * 4, pte(self.shared_table, V))
        for vpn0 in VPN0S:
            self.write(self.shared_table << 12 | vpn0 * 4,
                       pte(data.draw(page_ppns), data.draw(leaf_bits())))
        self.mmu = MmuModel(self.ram, RAM_BASE, config, seed=seed)
        self.asid = ASIDS[0]
        self.mmu.set_satp(1, self.asid, self.root[self.asid])

    def write(self, addr, value):
        write_pte(self.ram, addr, value)
        write_pte(self.ref_ram, addr, value)

    def sfence(self, data, scopes):
        vaddr, asid = data.draw(st.sampled_from(scopes))
        self.mmu.sfence(vaddr=vaddr, asid=asid)

    touched = Bundle("touched")     # (asid, vpn1, vpn0) of pages translated so far

    def map_page(self, data, asid, vpn1, vpn0, ppn, bits):
        """Change a second-level leaf, then an sfence that covers it: a private leaf (never
        global) by its address or its ASID, a shared one (global or not) in all ASIDs."""
        vaddr = vpn1 << 22 | vpn0 << 12 | data.draw(st.integers(0, 0xFFF))
        if vpn1 == SHARED_VPN1:
            self.write(self.shared_table << 12 | vpn0 * 4, pte(ppn, bits))
            self.sfence(data, [(vaddr, None), (None, None)])
        else:
            self.write(self.table[asid, vpn1] << 12 | vpn0 * 4, pte(ppn, bits & ~G))
            self.sfence(data, [(vaddr, asid), (vaddr, None), (None, asid), (None, None)])

    @rule(data=st.data(), asid=st.sampled_from(ASIDS),
          vpn1=st.sampled_from(PRIVATE_VPN1S + (SHARED_VPN1,)), vpn0=st.sampled_from(VPN0S),
          ppn=page_ppns, bits=leaf_bits())
    def map_any_page(self, data, asid, vpn1, vpn0, ppn, bits):
        self.map_page(data, asid, vpn1, vpn0, ppn, bits)

    @rule(data=st.data(), page=touched, ppn=page_ppns, bits=leaf_bits())
    def map_touched_page(self, data, page, ppn, bits):
        """The interesting case: the TLBs (and fast slots) may hold the old translation."""
        self.map_page(data, *page, ppn, bits)

    def root_entry_is_leaf(self, asid, vpn1):
        return bool(read_pte(self.ram, self.root[asid] << 12 | vpn1 * 4) & (R | X))

    @rule(data=st.data(), asid=st.sampled_from(ASIDS), vpn1=st.sampled_from(PRIVATE_VPN1S),
          entry=st.sampled_from(["table", "megapage", "invalid"]), ppn=megapage_ppns,
          bits=leaf_bits())
    def change_private_root(self, data, asid, vpn1, entry, ppn, bits):
        """Switch a private root entry between its table, a megapage and nothing. A change
        that replaces or installs a pointer needs rs1 = x0; one megapage leaf replacing
        another is a leaf change: an address inside it will do. (The megapage is a leaf,
        never a pointer into RAM that could reach the shared table's global leaves.)"""
        leaf = (bits & ~G) | (0 if bits & (R | X) else R)
        value = {"table": pte(self.table[asid, vpn1], V), "invalid": 0,
                 "megapage": pte(ppn, leaf)}[entry]
        scopes = [(None, asid), (None, None)]
        if entry == "megapage" and self.root_entry_is_leaf(asid, vpn1):
            vaddr = vpn1 << 22 | data.draw(st.integers(0, (1 << 22) - 1))
            scopes += [(vaddr, asid), (vaddr, None)]
        self.write(self.root[asid] << 12 | vpn1 * 4, value)
        self.sfence(data, scopes)

    @rule(data=st.data(), entry=st.sampled_from(["table", "global_table", "megapage"]),
          ppn=megapage_ppns, bits=leaf_bits())
    def change_shared_root(self, data, entry, ppn, bits):
        """Change the shared root entry in both roots (a G pointer makes its leaves global)."""
        value = {"table": pte(self.shared_table, V), "global_table": pte(self.shared_table, V | G),
                 "megapage": pte(ppn, bits | R)}[entry]
        scopes = [(None, None)]
        if entry == "megapage" and self.root_entry_is_leaf(ASIDS[0], SHARED_VPN1):
            scopes.append((SHARED_VPN1 << 22 | data.draw(st.integers(0, (1 << 22) - 1)), None))
        for asid in ASIDS:
            self.write(self.root[asid] << 12 | SHARED_VPN1 * 4, value)
        self.sfence(data, scopes)

    @rule(asid=st.sampled_from(ASIDS))
    def switch_address_space(self, asid):
        self.asid = asid
        self.mmu.set_satp(1, asid, self.root[asid])

    def check(self, vaddr, kind, fast, speculative):
        got = self.mmu.translate(vaddr, kind, fast=fast, speculative=speculative)
        want = reference(self.ref_ram, self.root[self.asid], vaddr, kind,
                         hardware_ad=self.config.hardware_ad, speculative=speculative)
        assert got == ref.access_result(ref.Ram(self.ref_ram, RAM_BASE), want, kind)
        assert np.array_equal(self.ram, self.ref_ram)

    @rule(target=touched,
          accesses=st.lists(st.tuples(st.sampled_from(PRIVATE_VPN1S + (SHARED_VPN1,)),
                                      st.sampled_from(VPN0S), st.integers(0, 0xFFF),
                                      st.sampled_from(KINDS), st.booleans(), st.booleans()),
                            min_size=1, max_size=6))
    def translate(self, accesses):
        for vpn1, vpn0, offset, kind, fast, speculative in accesses:
            self.check(vpn1 << 22 | vpn0 << 12 | offset, kind, fast, speculative)
        return multiple(*{(self.asid, vpn1, vpn0) for vpn1, vpn0, *_ in accesses})

    @rule(page=touched, offset=st.integers(0, 0xFFF))
    def translate_touched_page(self, page, offset):
        """Every kind, through the fast path, in the current address space."""
        _, vpn1, vpn0 = page
        for kind in KINDS:
            self.check(vpn1 << 22 | vpn0 << 12 | offset, kind, True, False)


TestSfence = SfenceMachine.TestCase
TestSfence.settings = settings(max_examples=40, stateful_step_count=40, deadline=None)


# ---- hand-derived cases ----------------------------------------------------------------

ROOT = ram_ppn(1)           # root table at physical 0x2000
TABLE = ram_ppn(2)          # a second-level table at 0x3000
DATA = ram_ppn(3)           # a data page at 0x4000
USER_RWX = V | R | W | X | U


def mapped_ram(entries):
    """RAM with the root at ROOT, root[1] -> TABLE, and `entries` {addr: pte} written."""
    ram = new_ram()
    write_pte(ram, (ROOT << 12) + 4 * 1, pte(TABLE, V))
    for addr, value in entries.items():
        write_pte(ram, addr, value)
    return ram


def test_megapage_translation():
    # root[2] is a 4 MiB leaf for physical 0x01000000: va 0x00812345 = vpn1 2, vpn0 0x012
    ram = mapped_ram({(ROOT << 12) + 4 * 2: pte(0x1000, USER_RWX | A | D)})
    mmu = MmuModel(ram, RAM_BASE)
    mmu.set_satp(1, 1, ROOT)
    assert mmu.translate(0x00812345, "load") == (0x01012345, None)
    assert mmu.last["pte_addrs"] == (0x2008,)          # one read: the root entry is the leaf
    assert mmu.translate(0x00BFFFFC, "fetch") == (0x013FFFFC, None)
    assert mmu.translate(0x00812345 + (1 << 22), "load") == (None, 13)  # root[3] is empty
    # the same leaf one page off alignment (PPN[0] = 1) is a misaligned megapage
    write_pte(ram, (ROOT << 12) + 4 * 2, pte(0x1001, USER_RWX | A | D))
    mmu.sfence()
    assert mmu.translate(0x00812345, "load") == (None, 13)


def test_store_to_read_only_page_faults_and_changes_nothing():
    leaf = (TABLE << 12) + 4 * 7                         # va 0x00407xxx
    ram = mapped_ram({leaf: pte(DATA, V | R | U)})
    before = ram.copy()
    mmu = MmuModel(ram, RAM_BASE)
    mmu.set_satp(1, 1, ROOT)
    assert mmu.translate(0x00407ABC, "store") == (None, 15)
    assert np.array_equal(ram, before)                  # no A bit set by a faulting walk
    assert mmu.stats()["faults"] == 1
    assert mmu.translate(0x00407ABC, "load") == ((DATA << 12) | 0xABC, None)
    assert read_pte(ram, leaf) == pte(DATA, V | R | U | A)
    # now cached: the store faults from the dTLB entry, without a walk or a write
    walks = mmu.stats()["walks"]
    assert mmu.translate(0x00407ABC, "store", fast=True) == (None, 15)
    assert mmu.stats()["walks"] == walks
    assert read_pte(ram, leaf) == pte(DATA, V | R | U | A)


def test_walk_reports_pte_reads_and_ad_write_back():
    leaf = (TABLE << 12) + 4 * 5
    ram = mapped_ram({leaf: pte(DATA, USER_RWX)})
    mmu = MmuModel(ram, RAM_BASE)
    mmu.set_satp(1, 1, ROOT)
    assert mmu.translate(0x00405010, "store") == ((DATA << 12) | 0x010, None)
    assert mmu.last == {"source": "walk", "pte_addrs": (0x2004, 0x3014), "pte_written": True,
                        "dirty_pending": False}
    assert read_pte(ram, leaf) == pte(DATA, USER_RWX | A | D)
    assert mmu.translate(0x00405020, "store") == ((DATA << 12) | 0x020, None)
    assert mmu.last["source"] == "l1" and mmu.last["pte_addrs"] == ()
    assert mmu.stats()["walk_reads"] == 2 and mmu.stats()["walk_writes"] == 1


def test_pte_outside_ram_is_an_access_fault():
    # root[1] points to a table past the end of RAM; root[2] to one at 4 GiB + 0x2000,
    # which would be the root table, whose entry 0 is a leaf, if cut to 32 bits
    ram = new_ram()
    write_pte(ram, (ROOT << 12) + 4 * 1, pte(BASE_PPN + RAM_PAGES, V))
    write_pte(ram, (ROOT << 12) + 4 * 2, pte((1 << 20) + ROOT, V))
    write_pte(ram, (ROOT << 12) + 4 * 0, pte(DATA, USER_RWX | A | D))
    mmu = MmuModel(ram, RAM_BASE)
    mmu.set_satp(1, 1, ROOT)
    for vaddr in (0x00400000, 0x00800000):
        assert [mmu.translate(vaddr, kind)[1] for kind in KINDS] == [1, 5, 7]
    assert mmu.last["pte_addrs"] == (0x2008,)           # the root read happened, the next did not


def test_fetches_use_the_itlb():
    ram = mapped_ram({(TABLE << 12) + 4 * 3: pte(DATA, USER_RWX | A | D)})
    mmu = MmuModel(ram, RAM_BASE)
    mmu.set_satp(1, 1, ROOT)
    mmu.translate(0x00403000, "fetch")
    mmu.translate(0x00403004, "load")
    assert mmu.last["source"] == "l2"                   # the fetch's walk filled the L2 TLB
    stats = mmu.stats()
    assert stats["itlb"] == stats["dtlb"] == {"hits": 0, "misses": 1}
    assert stats["l2tlb"] == {"hits": 1, "misses": 1} and stats["walks"] == 1


def test_lru_victim_in_a_two_way_tlb():
    vpn0s = {"a": 1, "b": 2, "c": 3}
    ram = mapped_ram({(TABLE << 12) + 4 * vpn0: pte(DATA, USER_RWX | A | D)
                      for vpn0 in vpn0s.values()})
    config = MmuConfig(dtlb_entries=2, dtlb_ways=2, l2tlb_entries=0)
    mmu = MmuModel(ram, RAM_BASE, config)
    mmu.set_satp(1, 1, ROOT)
    va = {name: 0x00400000 | vpn0 << 12 for name, vpn0 in vpn0s.items()}

    def source(name):
        mmu.translate(va[name], "load")
        return mmu.last["source"]

    assert [source(n) for n in "abac"] == ["walk", "walk", "l1", "walk"]   # c evicts b, the LRU
    assert source("a") == "l1"
    assert source("b") == "walk"                        # b evicts c (a was used since)
    assert source("a") == "l1"
    assert mmu.stats()["dtlb"] == {"hits": 3, "misses": 4}


@pytest.mark.parametrize("replacement", ["lru", "random"])
def test_empty_ways_fill_before_any_eviction(replacement):
    ram = mapped_ram({(TABLE << 12) + 4 * vpn0: pte(DATA, USER_RWX | A | D) for vpn0 in range(8)})
    config = MmuConfig(dtlb_entries=8, dtlb_ways=8, l2tlb_entries=0, tlb_replacement=replacement)
    mmu = MmuModel(ram, RAM_BASE, config, seed=3)
    mmu.set_satp(1, 1, ROOT)
    for _ in range(2):
        for vpn0 in range(8):
            mmu.translate(0x00400000 | vpn0 << 12, "load")
    assert mmu.stats()["dtlb"] == {"hits": 8, "misses": 8}


def test_asid_separation_and_global_pages():
    root2, table2 = ram_ppn(5), ram_ppn(6)
    private, shared = 0x00403000, 0x00409000
    ram = mapped_ram({(TABLE << 12) + 4 * 3: pte(DATA, USER_RWX | A | D),
                      (TABLE << 12) + 4 * 9: pte(ram_ppn(8), USER_RWX | A | D | G),
                      (root2 << 12) + 4 * 1: pte(table2, V),
                      (table2 << 12) + 4 * 3: pte(ram_ppn(7), USER_RWX | A | D)})
    mmu = MmuModel(ram, RAM_BASE)
    mmu.set_satp(1, 1, ROOT)
    assert mmu.translate(private, "load") == (DATA << 12, None)
    assert mmu.translate(shared, "load") == (ram_ppn(8) << 12, None)
    mmu.set_satp(1, 2, root2)
    assert mmu.translate(private, "load") == (ram_ppn(7) << 12, None)
    assert mmu.last["source"] == "walk"                 # ASID 1's entry does not match
    # the global entry matches in ASID 2, although ASID 2's tables do not map it
    assert mmu.translate(shared, "load") == (ram_ppn(8) << 12, None)
    assert mmu.last["source"] == "l1"
    mmu.set_satp(1, 1, ROOT)
    assert mmu.translate(private, "load") == (DATA << 12, None)
    assert mmu.last["source"] == "l1"                   # survived the satp switches
    mmu.sfence(asid=1)                                  # ASID 1's non-global entries only
    assert mmu.translate(shared, "load") == (ram_ppn(8) << 12, None)
    assert mmu.last["source"] == "l1"
    assert mmu.translate(private, "load") == (DATA << 12, None)
    assert mmu.last["source"] == "walk"
    mmu.sfence(vaddr=shared, asid=1)                    # keeps global entries too
    mmu.set_satp(1, 2, root2)
    assert mmu.translate(shared, "load")[0] == ram_ppn(8) << 12
    mmu.sfence(vaddr=shared)                            # by address: global ones go
    assert mmu.translate(shared, "load") == (None, 13)


def test_global_pointer_makes_its_leaves_global():
    # root[3] is a G pointer to a table whose leaf has no G: the mapping is still global
    table3, root2 = ram_ppn(4), ram_ppn(5)
    ram = mapped_ram({(ROOT << 12) + 4 * 3: pte(table3, V | G),
                      (table3 << 12) + 4 * 1: pte(DATA, USER_RWX | A | D)})
    assert walk(ram, RAM_BASE, ROOT, 0x00C01000, "load").is_global
    mmu = MmuModel(ram, RAM_BASE)
    mmu.set_satp(1, 1, ROOT)
    assert mmu.translate(0x00C01000, "load") == (DATA << 12, None)
    mmu.set_satp(1, 2, root2)                           # ASID 2 maps nothing
    mmu.sfence(asid=2)
    assert mmu.translate(0x00C01000, "load") == (DATA << 12, None)
    assert mmu.last["source"] == "l1"


def test_shared_l2_tlb_is_asid_tagged():
    ram = mapped_ram({(TABLE << 12) + 4 * 3: pte(DATA, USER_RWX | A | D)})
    hart0 = MmuModel(ram, RAM_BASE)
    hart1 = MmuModel(ram, RAM_BASE, share_l2_with=hart0)
    hart0.set_satp(1, 1, ROOT)
    hart0.translate(0x00403000, "load")
    hart1.set_satp(1, 2, ROOT)
    hart1.translate(0x00403000, "load")
    assert hart1.last["source"] == "walk"               # another ASID's entry
    hart1.set_satp(1, 1, ROOT)
    hart1.translate(0x00403000, "load")
    assert hart1.last["source"] == "l2"                 # hart 0's walk, through the shared L2
    assert hart0.stats()["l2tlb"] == hart1.stats()["l2tlb"] == {"hits": 1, "misses": 2}


def test_speculative_store_leaves_d_for_commit():
    leaf = (TABLE << 12) + 4 * 4
    ram = mapped_ram({leaf: pte(DATA, USER_RWX | A)})
    mmu = MmuModel(ram, RAM_BASE)
    mmu.set_satp(1, 1, ROOT)
    assert mmu.translate(0x00404008, "store", speculative=True) == ((DATA << 12) | 8, None)
    assert mmu.last["dirty_pending"] and read_pte(ram, leaf) == pte(DATA, USER_RWX | A)
    assert mmu.translate(0x00404008, "store", fast=True) == ((DATA << 12) | 8, None)
    assert mmu.last == {"source": "walk", "pte_addrs": (0x2004, 0x3010), "pte_written": True,
                        "dirty_pending": False}         # the fast path had no store slot yet
    assert read_pte(ram, leaf) == pte(DATA, USER_RWX | A | D)


def test_fault_policy_needs_software_to_set_a_and_d():
    leaf = (TABLE << 12) + 4 * 6
    ram = mapped_ram({leaf: pte(DATA, USER_RWX)})
    mmu = MmuModel(ram, RAM_BASE, MmuConfig(hardware_ad=False))
    mmu.set_satp(1, 1, ROOT)
    assert mmu.translate(0x00406000, "load") == (None, 13)
    write_pte(ram, leaf, pte(DATA, USER_RWX | A))
    mmu.sfence(vaddr=0x00406000, asid=1)
    assert mmu.translate(0x00406000, "load") == (DATA << 12, None)
    assert mmu.translate(0x00406000, "store") == (None, 15)
    assert read_pte(ram, leaf) == pte(DATA, USER_RWX | A)


def test_fast_slots_follow_the_tlb():
    """A fast hit is an L1 hit: once the L1 entry is evicted, the fast path misses."""
    pages = [(TABLE << 12) + 4 * vpn0 for vpn0 in (1, 2)]
    ram = mapped_ram({addr: pte(DATA, USER_RWX | A | D) for addr in pages})
    mmu = MmuModel(ram, RAM_BASE, MmuConfig(dtlb_entries=1, dtlb_ways=1, l2tlb_entries=0))
    mmu.set_satp(1, 1, ROOT)
    mmu.translate(0x00401000, "load", fast=True)
    mmu.translate(0x00401000, "load", fast=True)
    assert mmu.stats()["dtlb"] == {"hits": 0, "misses": 1}  # the second one was a fast hit
    mmu.translate(0x00402000, "load", fast=True)           # evicts the first page's entry
    mmu.translate(0x00401000, "load", fast=True)
    assert mmu.stats()["dtlb"] == {"hits": 0, "misses": 3}


def test_bare_mode_is_physical():
    mmu = MmuModel(new_ram(), RAM_BASE)
    assert mmu.translate(0xDEADBEEF, "store") == (0xDEADBEEF, None)
    assert mmu.last["source"] == "bare" and mmu.stats()["walks"] == 0
    mmu.set_satp(1, 0x1FF, 0x3FFFFF)
    assert mmu.satp == 0xFFFFFFFF


@pytest.mark.parametrize("changes", [dict(itlb_ways=3), dict(dtlb_entries=24, dtlb_ways=1),
                                     dict(l2tlb_entries=-1), dict(tlb_replacement="fifo"),
                                     dict(hardware_ad=1), dict(dtlb_ways=64)])
def test_mmu_config_rejects_impossible_tlbs(changes):
    with pytest.raises(ConfigError):
        MmuConfig(**changes)


def test_mmu_config_without_l2():
    mmu = MmuModel(new_ram(), RAM_BASE, MmuConfig(l2tlb_entries=0, l2tlb_ways=0))
    assert mmu.stats()["l2tlb"] is None

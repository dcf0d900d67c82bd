"""TLBs and the per-hart MMU (tlb.pxd), and MmuModel, their Python face for tests and tools."""

from libc.stdint cimport uint8_t, uint16_t, uint32_t, uint64_t
from libc.stdlib cimport calloc, free

from emu._core.memory cimport ACCESS_OK, PhysMem, ram_offset
from emu._core.ptw cimport phys_mem_of, sv32_walk
from emu._core.sv32 cimport (MEGAPAGE_VPN_MASK, PAGE_VPN_MASK, PHYS_PAGE_LIMIT_SHIFT, PTE_A,
                             PTE_D, PTE_G, SATP_ASID_MASK, SATP_ASID_SHIFT, SATP_MODE_BARE,
                             SATP_MODE_SHIFT, SATP_MODE_SV32, SATP_PPN_MASK, SV32_PAGE_MASK,
                             SV32_PAGE_SHIFT, SV32_PTE_PPN_SHIFT, SV32_VPN_BITS, WALK_HARDWARE_AD,
                             WALK_SPECULATIVE, XLATE_BARE, XLATE_FETCH, XLATE_KINDS, XLATE_L1,
                             XLATE_L2, XLATE_LOAD, XLATE_STORE, XLATE_WALK, Translation,
                             page_fault_cause, access_fault_cause, user_may)

from emu._core.ptw import kind_number

#: TlbReplacement numbers by name (MmuConfig.tlb_replacement).
REPLACEMENT_NUMBERS = {"lru": TLB_LRU, "random": TLB_RANDOM}
#: XlateSource names, for MmuModel.last.
SOURCE_NAMES = {XLATE_BARE: "bare", XLATE_L1: "l1", XLATE_L2: "l2", XLATE_WALK: "walk"}


# ---- one TLB ------------------------------------------------------------------------

cdef uint64_t _splitmix(uint64_t seed) noexcept nogil:
    """A non-zero xorshift state from any seed (one splitmix64 step)."""
    cdef uint64_t z = seed + 0x9E3779B97F4A7C15ULL
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL
    z = z ^ (z >> 31)
    return z if z != 0 else 1


cdef uint32_t _random_way(Tlb* t) noexcept nogil:
    """xorshift64* (Vigna): a way drawn from the TLB's generator."""
    cdef uint64_t x = t.rng
    x ^= x >> 12
    x ^= x << 25
    x ^= x >> 27
    t.rng = x
    return <uint32_t>(((x * 0x2545F4914F6CDD1DULL) >> 32) % t.ways)


cdef int tlb_init(Tlb* t, uint32_t entries, uint32_t ways, uint32_t replacement,
                  uint64_t seed) except -1:
    cdef uint32_t i
    if entries == 0 or ways == 0 or entries % ways or (entries // ways) & (entries // ways - 1):
        raise ValueError(f"a TLB needs entries ({entries}) = a power of two times ways ({ways})")
    if replacement not in (TLB_LRU, TLB_RANDOM):
        raise ValueError(f"unknown TLB replacement {replacement}")
    t.entries = <TlbEntry*>calloc(entries, sizeof(TlbEntry))
    t.stamps = <uint64_t*>calloc(entries, sizeof(uint64_t))
    if t.entries == NULL or t.stamps == NULL:
        tlb_free(t)
        raise MemoryError()
    for i in range(entries):
        t.entries[i].vpn = TLB_NO_VPN
    t.sets = entries // ways
    t.ways = ways
    t.replacement = replacement
    t.clock = 0
    t.rng = _splitmix(seed)
    t.hits = 0
    t.misses = 0
    return 0


cdef void tlb_free(Tlb* t) noexcept nogil:
    free(t.entries)
    free(t.stamps)
    t.entries = NULL
    t.stamps = NULL


cdef inline bint _maps(TlbEntry* e, uint32_t vpn, uint32_t asid) noexcept nogil:
    return (vpn & e.vpn_mask) == e.vpn and ((e.pte & PTE_G) or e.asid == asid)


cdef inline uint32_t _set_of(Tlb* t, uint32_t vpn, uint32_t level) noexcept nogil:
    """The set a `level` entry for vpn lives in: megapages are placed by VPN[1]."""
    return (vpn >> (level * SV32_VPN_BITS)) & (t.sets - 1)


cdef TlbEntry* _probe(Tlb* t, uint32_t set_index, uint32_t vpn, uint32_t asid) noexcept nogil:
    cdef TlbEntry* ways = &t.entries[set_index * t.ways]
    cdef uint32_t w
    for w in range(t.ways):
        if _maps(&ways[w], vpn, asid):
            return &ways[w]
    return NULL


cdef TlbEntry* tlb_lookup(Tlb* t, uint32_t vpn, uint32_t asid) noexcept nogil:
    cdef uint32_t page_set = _set_of(t, vpn, 0), mega_set = _set_of(t, vpn, 1)
    cdef TlbEntry* e = _probe(t, page_set, vpn, asid)
    if e == NULL and mega_set != page_set:
        e = _probe(t, mega_set, vpn, asid)
    if e == NULL:
        t.misses += 1
        return NULL
    t.hits += 1
    t.clock += 1
    t.stamps[e - t.entries] = t.clock
    return e


cdef uint32_t _lru_way(uint64_t* stamps, uint32_t ways) noexcept nogil:
    """The way used longest ago (a running minimum the compiler keeps branch-free)."""
    cdef uint32_t w, oldest = 0
    cdef uint64_t oldest_stamp = stamps[0]
    for w in range(1, ways):
        oldest = w if stamps[w] < oldest_stamp else oldest
        oldest_stamp = stamps[w] if stamps[w] < oldest_stamp else oldest_stamp
    return oldest


cdef TlbEntry* tlb_fill(Tlb* t, TlbEntry entry, TlbEntry* evicted) noexcept nogil:
    cdef uint32_t first = _set_of(t, entry.vpn, entry.level) * t.ways
    cdef TlbEntry* ways = &t.entries[first]
    cdef uint32_t w, way = t.ways, empty = t.ways
    evicted.vpn = TLB_NO_VPN
    for w in range(t.ways):
        if _maps(&ways[w], entry.vpn, entry.asid):
            way = w                         # the same lookup would find it: refresh it
            if (ways[w].vpn != entry.vpn or ways[w].vpn_mask != entry.vpn_mask
                    or ways[w].ppn != entry.ppn or (ways[w].pte ^ entry.pte) & ~(PTE_A | PTE_D)):
                evicted[0] = ways[w]        # a different mapping (the tables changed): it leaves
            break
        if ways[w].vpn == TLB_NO_VPN and empty == t.ways:
            empty = w                       # else the lowest empty way
    if way == t.ways:
        if empty != t.ways:
            way = empty
        else:                               # else the victim
            way = _random_way(t) if t.replacement == TLB_RANDOM else _lru_way(&t.stamps[first], t.ways)
            evicted[0] = ways[way]
    ways[way] = entry
    t.clock += 1
    t.stamps[first + way] = t.clock
    return &ways[way]


cdef void tlb_flush(Tlb* t, uint32_t vaddr, uint32_t asid, uint32_t scope) noexcept nogil:
    cdef uint32_t i, vpn = vaddr >> SV32_PAGE_SHIFT
    cdef TlbEntry* e
    for i in range(t.sets * t.ways):
        e = &t.entries[i]
        if e.vpn == TLB_NO_VPN:
            continue
        if scope & SFENCE_BY_ADDR and (vpn & e.vpn_mask) != e.vpn:
            continue
        if scope & SFENCE_BY_ASID and (e.pte & PTE_G or e.asid != asid):
            continue
        e.vpn = TLB_NO_VPN


# ---- the MMU ------------------------------------------------------------------------

cdef int mmu_init(Mmu* mmu, MmuParams params, Tlb* l2) except -1:
    mmu.itlb.entries = NULL
    mmu.itlb.stamps = NULL
    mmu.dtlb.entries = NULL
    mmu.dtlb.stamps = NULL
    try:
        tlb_init(&mmu.itlb, params.itlb_entries, params.itlb_ways, params.replacement,
                 params.seed ^ 0x1)
        tlb_init(&mmu.dtlb, params.dtlb_entries, params.dtlb_ways, params.replacement,
                 params.seed ^ 0x2)
    except BaseException:
        mmu_free(mmu)
        raise
    mmu.l2 = l2
    mmu.walk_flags = WALK_HARDWARE_AD if params.hardware_ad else 0
    mmu.stats.walks = 0
    mmu.stats.walk_reads = 0
    mmu.stats.walk_writes = 0
    mmu.stats.faults = 0
    mmu_set_satp(mmu, SATP_MODE_BARE, 0, 0)
    return 0


cdef void mmu_free(Mmu* mmu) noexcept nogil:
    tlb_free(&mmu.itlb)
    tlb_free(&mmu.dtlb)


cdef void _clear_fast(Mmu* mmu) noexcept nogil:
    cdef uint32_t i
    for i in range(<uint32_t>(XLATE_KINDS * FAST_SLOTS)):
        mmu.fast[i].vpn = TLB_NO_VPN


cdef void mmu_set_satp(Mmu* mmu, uint32_t mode, uint32_t asid, uint32_t root_ppn) noexcept nogil:
    mmu.mode = mode
    mmu.asid = asid & SATP_ASID_MASK
    mmu.root_ppn = root_ppn & SATP_PPN_MASK
    _clear_fast(mmu)


cdef void mmu_sfence(Mmu* mmu, uint32_t vaddr, uint32_t asid, uint32_t scope) noexcept nogil:
    tlb_flush(&mmu.itlb, vaddr, asid, scope)
    tlb_flush(&mmu.dtlb, vaddr, asid, scope)
    if mmu.l2 != NULL:
        tlb_flush(mmu.l2, vaddr, asid, scope)
    _clear_fast(mmu)        # a flushed megapage can back any number of slots


cdef void _forget_fast(Mmu* mmu, TlbEntry* gone, uint32_t first_kind, uint32_t last_kind) noexcept nogil:
    """Clear the fast slots of kinds first_kind..last_kind that `gone` (left an L1) backs."""
    cdef uint32_t kind, i
    cdef FastSlot* slot
    for kind in range(first_kind, last_kind + 1):
        if gone.level == 0:
            slot = &mmu.fast[kind * FAST_SLOTS + (gone.vpn & (FAST_SLOTS - 1))]
            if slot.vpn == gone.vpn:
                slot.vpn = TLB_NO_VPN
        else:
            for i in range(kind * FAST_SLOTS, (kind + 1) * FAST_SLOTS):
                if (mmu.fast[i].vpn & gone.vpn_mask) == gone.vpn:
                    mmu.fast[i].vpn = TLB_NO_VPN


cdef TlbEntry* _fill_l1(Mmu* mmu, uint32_t kind, TlbEntry entry) noexcept nogil:
    """Put entry in the L1 TLB that serves `kind`, keeping the fast slots inside it."""
    cdef TlbEntry evicted
    cdef TlbEntry* e
    if kind == XLATE_FETCH:
        e = tlb_fill(&mmu.itlb, entry, &evicted)
        if evicted.vpn != TLB_NO_VPN:
            _forget_fast(mmu, &evicted, XLATE_FETCH, XLATE_FETCH)
    else:
        e = tlb_fill(&mmu.dtlb, entry, &evicted)
        if evicted.vpn != TLB_NO_VPN:
            _forget_fast(mmu, &evicted, XLATE_LOAD, XLATE_STORE)
    return e


cdef int _finish(Mmu* mmu, PhysMem m, TlbEntry* e, uint32_t vaddr, uint32_t kind,
                 Translation* out) noexcept nogil:
    """The physical address from an L1 entry that permits the access; refill the fast slot."""
    cdef uint32_t vpn = vaddr >> SV32_PAGE_SHIFT
    cdef uint32_t ppn = e.ppn | (vpn & ~e.vpn_mask)
    cdef uint32_t page, offset
    cdef FastSlot* slot
    if ppn >> PHYS_PAGE_LIMIT_SHIFT:        # beyond 4 GiB: no such physical address
        mmu.stats.faults += 1
        return access_fault_cause(kind)
    page = ppn << SV32_PAGE_SHIFT
    out.paddr = page | (vaddr & SV32_PAGE_MASK)
    if (kind != XLATE_STORE or e.pte & PTE_D) and ram_offset(m, page, 1 << SV32_PAGE_SHIFT, &offset):
        slot = &mmu.fast[kind * FAST_SLOTS + (vpn & (FAST_SLOTS - 1))]
        slot.vpn = vpn
        slot.delta = offset - (vaddr & ~(<uint32_t>SV32_PAGE_MASK))
    return ACCESS_OK


cdef int mmu_translate(Mmu* mmu, PhysMem m, uint32_t vaddr, uint32_t kind, bint speculative,
                       Translation* out) noexcept nogil:
    cdef uint32_t vpn = vaddr >> SV32_PAGE_SHIFT
    cdef TlbEntry* e
    cdef TlbEntry fresh, evicted
    cdef int cause
    out.walk.reads = 0
    out.walk.written = 0
    out.walk.dirty_pending = 0
    if mmu.mode == SATP_MODE_BARE:
        out.paddr = vaddr
        out.source = XLATE_BARE
        return ACCESS_OK
    out.source = XLATE_L1
    e = tlb_lookup(&mmu.itlb if kind == XLATE_FETCH else &mmu.dtlb, vpn, mmu.asid)
    if e == NULL and mmu.l2 != NULL:
        e = tlb_lookup(mmu.l2, vpn, mmu.asid)
        if e != NULL:
            out.source = XLATE_L2
            e = _fill_l1(mmu, kind, e[0])
    if e != NULL:
        if not user_may(e.pte, kind):
            mmu.stats.faults += 1
            return page_fault_cause(kind)
        if kind != XLATE_STORE or e.pte & PTE_D:
            return _finish(mmu, m, e, vaddr, kind, out)
        # a store to a clean page: walk, so D is set in memory (or the walk faults)
    out.source = XLATE_WALK
    mmu.stats.walks += 1
    cause = sv32_walk(m, mmu.root_ppn, vaddr, kind,
                      mmu.walk_flags | (WALK_SPECULATIVE if speculative else 0), &out.walk)
    mmu.stats.walk_reads += out.walk.reads
    mmu.stats.walk_writes += out.walk.written
    if cause != ACCESS_OK:
        mmu.stats.faults += 1
        return cause
    fresh.level = out.walk.level
    fresh.vpn_mask = MEGAPAGE_VPN_MASK if fresh.level else PAGE_VPN_MASK
    fresh.vpn = vpn & fresh.vpn_mask
    fresh.ppn = out.walk.pte >> SV32_PTE_PPN_SHIFT
    fresh.asid = <uint16_t>mmu.asid
    fresh.pte = <uint8_t>((out.walk.pte & 0xFF) | (PTE_G if out.walk.is_global else 0))
    if mmu.l2 != NULL:
        tlb_fill(mmu.l2, fresh, &evicted)
    return _finish(mmu, m, _fill_l1(mmu, kind, fresh), vaddr, kind, out)


# ---- the Python face ----------------------------------------------------------------

cdef object _tlb_stats(Tlb* t):
    return {"hits": t.hits, "misses": t.misses}


cdef int mmu_params_of(object config, uint64_t seed, MmuParams* params) except -1:
    params.itlb_entries = config.itlb_entries
    params.itlb_ways = config.itlb_ways
    params.dtlb_entries = config.dtlb_entries
    params.dtlb_ways = config.dtlb_ways
    params.replacement = REPLACEMENT_NUMBERS[config.tlb_replacement]
    params.hardware_ad = config.hardware_ad
    params.seed = seed
    return 0


cdef int mmu_write_satp(Mmu* mmu, uint32_t mode, uint32_t asid, uint32_t ppn) except -1:
    if mode not in (SATP_MODE_BARE, SATP_MODE_SV32):
        raise ValueError(f"satp mode must be 0 (bare) or 1 (Sv32), not {mode}")
    if asid > SATP_ASID_MASK or ppn > SATP_PPN_MASK:
        raise ValueError(f"asid ({asid}) must fit in 9 bits and ppn ({ppn:#x}) in 22")
    mmu_set_satp(mmu, mode, asid, ppn)
    return 0


cdef uint32_t mmu_satp(Mmu* mmu) noexcept:
    return (mmu.mode << SATP_MODE_SHIFT) | (mmu.asid << SATP_ASID_SHIFT) | mmu.root_ppn


cdef int mmu_sfence_vma(Mmu* mmu, object vaddr, object asid) except -1:
    cdef uint32_t scope = ((SFENCE_BY_ADDR if vaddr is not None else 0)
                           | (SFENCE_BY_ASID if asid is not None else 0))
    if asid is not None and not 0 <= asid <= SATP_ASID_MASK:
        raise ValueError(f"asid must fit in 9 bits, not {asid}")
    if vaddr is not None and not 0 <= vaddr <= 0xFFFFFFFF:
        raise ValueError(f"vaddr must be a 32-bit address, not {vaddr}")
    mmu_sfence(mmu, vaddr or 0, asid or 0, scope)
    return 0


cdef object mmu_stats_of(Mmu* mmu):
    return {"itlb": _tlb_stats(&mmu.itlb), "dtlb": _tlb_stats(&mmu.dtlb),
            "l2tlb": _tlb_stats(mmu.l2) if mmu.l2 != NULL else None,
            "walks": mmu.stats.walks, "walk_reads": mmu.stats.walk_reads,
            "walk_writes": mmu.stats.walk_writes, "faults": mmu.stats.faults,
            "walk_cycles": mmu.stats.walk_cycles}


cdef class MmuModel:
    """One hart's MMU over a numpy RAM image, driven from Python.

    `ram` is a writable uint8 numpy array holding physical [ram_base, ram_base + len);
    the walker reads page tables from it and sets A/D bits in it. `config` is an
    emu.config.MmuConfig (default: its defaults). `share_l2_with` makes this MMU use
    another MmuModel's L2 TLB, as harts of one machine do. Kinds are "fetch", "load"
    and "store" (stores, SC and AMOs)."""

    cdef Mmu mmu
    cdef Tlb own_l2
    cdef bint built
    cdef PhysMem mem
    cdef Translation last_translation
    cdef readonly object ram
    cdef readonly object config
    cdef object l2_owner            # the MmuModel whose L2 TLB this one uses (kept alive)

    def __cinit__(self, ram, uint32_t ram_base, config=None, uint64_t seed=0,
                  MmuModel share_l2_with=None):
        cdef MmuParams params
        cdef Tlb* l2 = NULL
        self.own_l2.entries = NULL
        self.own_l2.stamps = NULL
        if config is None:
            from emu.config import MmuConfig
            config = MmuConfig()
        phys_mem_of(ram, ram_base, &self.mem)
        self.ram = ram
        self.config = config
        mmu_params_of(config, seed, &params)
        if share_l2_with is not None:
            if share_l2_with.mmu.l2 == NULL:
                raise ValueError("share_l2_with has no L2 TLB")
            l2 = share_l2_with.mmu.l2
            self.l2_owner = share_l2_with
        elif config.l2tlb_entries:
            tlb_init(&self.own_l2, config.l2tlb_entries, config.l2tlb_ways, params.replacement,
                     seed ^ 0x3)
            l2 = &self.own_l2
        mmu_init(&self.mmu, params, l2)        # on failure __dealloc__ frees own_l2
        self.built = True
        self.last_translation.source = XLATE_BARE
        self.last_translation.walk.reads = 0

    def __dealloc__(self):
        if self.built:
            mmu_free(&self.mmu)
        tlb_free(&self.own_l2)

    def set_satp(self, uint32_t mode, uint32_t asid, uint32_t ppn):
        """Write satp: mode 0 (bare) or 1 (Sv32), a 9-bit ASID, the root table's PPN."""
        mmu_write_satp(&self.mmu, mode, asid, ppn)

    @property
    def satp(self):
        """The satp CSR value."""
        return mmu_satp(&self.mmu)

    def translate(self, uint32_t vaddr, kind, *, bint speculative=False, bint fast=False):
        """(paddr, None) or (None, cause). `fast` tries the functional core's inline slot
        first (a hit leaves `last` as it was); `speculative` is mmu_translate's flag."""
        cdef uint32_t k = kind_number(kind)
        cdef uint32_t offset
        cdef int cause
        if fast and mmu_fast(&self.mmu, vaddr, k, &offset):
            return self.mem.base + offset, None
        cause = mmu_translate(&self.mmu, self.mem, vaddr, k, speculative, &self.last_translation)
        if cause != ACCESS_OK:
            return None, cause
        return self.last_translation.paddr, None

    @property
    def last(self):
        """What the last slow-path translation did: source ("bare", "l1", "l2", "walk"),
        the PTE addresses its walk read, whether it wrote a PTE, and dirty_pending."""
        cdef Translation* t = &self.last_translation
        return {"source": SOURCE_NAMES[t.source],
                "pte_addrs": tuple(t.walk.pte_addr[i] for i in range(t.walk.reads)),
                "pte_written": bool(t.walk.written),
                "dirty_pending": bool(t.walk.dirty_pending)}

    def sfence(self, vaddr=None, asid=None):
        """sfence.vma: vaddr None is rs1 = x0, asid None is rs2 = x0."""
        mmu_sfence_vma(&self.mmu, vaddr, asid)

    def stats(self):
        """Counters: per TLB hits and misses ("l2tlb" None without one), and the walks."""
        return mmu_stats_of(&self.mmu)

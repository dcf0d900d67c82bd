"""TLBs and the per-hart MMU: translation caches in front of the Sv32 walker (ptw.pxd).

A Tlb is set-associative, ASID-tagged, and holds 4 KiB and 4 MiB entries side by side:
a 4 KiB entry lives in the set its vpn selects, a megapage entry in the set its VPN[1]
selects, and a lookup probes both (one probe when the TLB has one set, i.e. is fully
associative). An entry matches a vpn when `vpn & vpn_mask == entry.vpn` and its ASID
is the current one or it is global. Empty entries have vpn TLB_NO_VPN, which no vpn
(20 bits) matches, so a probe is one AND, one compare and the ASID test per way.
Replacement is LRU (a 64-bit use stamp per entry) or random (a seeded xorshift64* per
TLB); empty ways are filled first.

An Mmu is one hart's translation state: iTLB, dTLB, an optional shared L2 TLB (owned by
the machine, so harts share it), satp and the walk counters. Two ways in:

- `mmu_translate` is the full path: L1, then L2, then a walk; it fills the TLBs, counts
  everything and reports where the answer came from and which PTEs the walk read
  (Translation, sv32.pxd), so the out-of-order core can charge an L2 TLB hit or time
  each PTE read through its caches. Cost: a hit scans the ways of one or two sets
  (fully associative 32-entry: up to 32 compares); a miss adds the L2 probe and a walk
  (two RAM reads, sometimes a write).
- `mmu_fast` is the functional core's inline hit path (TinyEMU's software TLB): per
  access kind a direct-mapped array of FAST_SLOTS slots indexed by the low vpn bits,
  each holding a vpn tag and the distance from the virtual page to its RAM offset. A
  slot exists only for a page the access kind may use (a store slot only once D is set)
  and only for pages inside RAM, so a hit is the whole permission and bounds check:
  a shift, an AND, a load and compare, a load and an add. A miss calls mmu_translate,
  which refills the slot.

The fast slots are kept a subset of the iTLB/dTLB: a slot is filled only from an L1
entry, and an L1 eviction clears the slots of the evicted page (all of that kind's
slots for a megapage), satp writes and sfence clear them all. So a fast hit is always
an L1 hit and the TLB miss and walk counts of a functional run are the modelled TLBs'
(exact with random replacement; with LRU a fast hit does not refresh the entry's stamp).
Fast hits are not counted: a core that wants L1 hits adds its accesses minus the
slow-path L1 lookups (Tlb.hits + Tlb.misses).

TLB entries cache leaf PTEs as they were when walked. A cached entry that denies an
access raises the page fault without a walk (as hardware does); a store to an entry
whose D is clear walks again, so the walker sets D in memory (or faults). With the
sfence.vma the spec requires after a page-table change, translations always equal a
fresh walk; without it an old translation may be used, as the spec allows.
"""

from libc.stdint cimport uint8_t, uint16_t, uint32_t, uint64_t

from emu._core.memory cimport PhysMem
from emu._core.sv32 cimport XLATE_KINDS, SV32_PAGE_SHIFT, Translation

cdef extern from *:
    """
    #define EMU_TLB_NO_VPN 0xFFFFFFFFu
    """
    # The tag of an empty TLB entry or fast slot: no 20-bit vpn equals it, even masked.
    const uint32_t TLB_NO_VPN "EMU_TLB_NO_VPN"


cdef enum TlbReplacement:
    TLB_LRU = 0             # evict the entry used longest ago
    TLB_RANDOM = 1          # evict a pseudo-random way (seeded, deterministic)


cdef enum SfenceScope:
    # sfence.vma operands as flags: none = everything; BY_ADDR = rs1 != x0 (the entries
    # mapping that address, global ones too); BY_ASID = rs2 != x0 (that ASID's non-global
    # entries); both = that address in that ASID, global entries kept.
    SFENCE_BY_ADDR = 1
    SFENCE_BY_ASID = 2


cdef enum:
    FAST_SLOTS = 256        # per access kind, direct-mapped on the low vpn bits


cdef struct TlbEntry:
    uint32_t vpn            # first vpn it maps (a megapage's is 1024-aligned); TLB_NO_VPN: empty
    uint32_t vpn_mask       # PAGE_VPN_MASK or MEGAPAGE_VPN_MASK (sv32.pxd): maps v when v & vpn_mask == vpn
    uint32_t ppn            # the leaf's PPN: physical page of `vpn` (22 bits; megapage 1024-aligned)
    uint16_t asid           # address space it was walked in (any matches when global)
    uint8_t pte             # leaf PTE bits D A G U X W R V when walked; G also when inherited
    uint8_t level           # 1: megapage, 0: 4 KiB page


cdef struct Tlb:
    TlbEntry* entries       # sets * ways; set s is entries[s * ways : (s + 1) * ways]
    uint64_t* stamps        # TLB_LRU: per entry, `clock` at its last use
    uint32_t sets           # a power of two
    uint32_t ways
    uint32_t replacement    # TlbReplacement
    uint64_t clock          # TLB_LRU: uses so far
    uint64_t rng            # TLB_RANDOM: xorshift64* state, never 0
    uint64_t hits           # lookups that found a matching entry
    uint64_t misses         # lookups that did not


cdef struct FastSlot:
    uint32_t vpn            # the virtual page it translates, TLB_NO_VPN when empty
    uint32_t delta          # the page's RAM offset minus its virtual address (mod 2**32):
                            # an address in the page is at data[vaddr + delta]


cdef struct MmuParams:
    uint32_t itlb_entries   # each TLB: entries / ways sets, a power of two
    uint32_t itlb_ways
    uint32_t dtlb_entries
    uint32_t dtlb_ways
    uint32_t replacement    # TlbReplacement, for both L1 TLBs
    uint32_t hardware_ad    # 1: the walker sets A/D; 0: a clear A (or D on a store) faults
    uint64_t seed           # TLB_RANDOM: mixed per TLB; give each hart its own


cdef struct MmuStats:
    uint64_t walks          # page-table walks (TLB misses, and stores to clean pages)
    uint64_t walk_reads     # PTEs the walks read
    uint64_t walk_writes    # PTEs the walks wrote back (hardware A/D)
    uint64_t faults         # translations that ended in a page fault or an access fault
    uint64_t walk_cycles    # cycles a timed core spent on walks' PTE reads (the out-of-order
                            # core; the functional core when the caches time it)


cdef struct Mmu:
    Tlb itlb                # fetches
    Tlb dtlb                # loads, stores, AMOs
    Tlb* l2                 # second-level TLB shared by the harts (owned elsewhere), or NULL
    uint32_t mode           # SATP_MODE_BARE or SATP_MODE_SV32
    uint32_t asid           # satp.ASID
    uint32_t root_ppn       # satp.PPN
    uint32_t walk_flags     # WALK_HARDWARE_AD or 0
    MmuStats stats
    FastSlot fast[XLATE_KINDS * FAST_SLOTS]   # kind k's slots at [k * FAST_SLOTS, ...)


cdef int tlb_init(Tlb* t, uint32_t entries, uint32_t ways, uint32_t replacement,
                  uint64_t seed) except -1
    # Allocate an empty TLB (raises MemoryError / ValueError on a bad shape).
cdef void tlb_free(Tlb* t) noexcept nogil
cdef TlbEntry* tlb_lookup(Tlb* t, uint32_t vpn, uint32_t asid) noexcept nogil
    # The entry translating vpn in address space asid, or NULL; counts a hit or a miss
    # and refreshes the entry's LRU stamp.
cdef TlbEntry* tlb_fill(Tlb* t, TlbEntry entry, TlbEntry* evicted) noexcept nogil
    # Put `entry` in its set: over an entry the same lookup would find, else in the lowest
    # empty way, else over the replacement victim. *evicted receives the victim, or the
    # overwritten entry when it mapped something else (the tables changed), else has vpn
    # TLB_NO_VPN. Returns where entry went.
cdef void tlb_flush(Tlb* t, uint32_t vaddr, uint32_t asid, uint32_t scope) noexcept nogil
    # sfence.vma on this TLB: scope is SfenceScope flags (0: everything).

cdef int mmu_init(Mmu* mmu, MmuParams params, Tlb* l2) except -1
    # Build an MMU with satp off (bare); l2 (may be NULL) must outlive it.
cdef void mmu_free(Mmu* mmu) noexcept nogil
cdef void mmu_set_satp(Mmu* mmu, uint32_t mode, uint32_t asid, uint32_t root_ppn) noexcept nogil
    # A satp write. TLB entries stay (they are ASID-tagged); the fast slots are cleared.
cdef void mmu_sfence(Mmu* mmu, uint32_t vaddr, uint32_t asid, uint32_t scope) noexcept nogil
    # sfence.vma on this hart: its iTLB, dTLB and fast slots, and the shared L2 TLB.
# The Python faces' side (MmuModel here, the System's per-hart MMUs): validated satp
# writes and sfence.vma (raise ValueError), config conversion, counters as a dict.
cdef int mmu_params_of(object config, uint64_t seed, MmuParams* params) except -1
    # MmuParams from an emu.config.MmuConfig.
cdef int mmu_write_satp(Mmu* mmu, uint32_t mode, uint32_t asid, uint32_t ppn) except -1
cdef uint32_t mmu_satp(Mmu* mmu) noexcept
cdef int mmu_sfence_vma(Mmu* mmu, object vaddr, object asid) except -1
    # vaddr None is rs1 = x0, asid None is rs2 = x0.
cdef object mmu_stats_of(Mmu* mmu)

cdef int mmu_translate(Mmu* mmu, PhysMem m, uint32_t vaddr, uint32_t kind, bint speculative,
                       Translation* out) noexcept nogil
    # Translate vaddr for an XlateKind access: ACCESS_OK with out.paddr, or the trap cause
    # (page fault, or access fault for a PTE or a page outside 32 bits; tval = vaddr).
    # `speculative` (the out-of-order core's not-yet-committed accesses): never set D;
    # see Sv32Walk.dirty_pending. Fills the TLBs and the fast slot of `kind`.


cdef inline bint mmu_fast(Mmu* mmu, uint32_t vaddr, uint32_t kind, uint32_t* offset) noexcept nogil:
    """The inline hit path: set *offset to vaddr's index in RAM and return True when the
    fast slot of `kind` (a constant at the call site) holds vaddr's page; False means
    call mmu_translate. A hit implies the access is permitted and inside RAM; alignment
    is the caller's check (an aligned access never crosses its page)."""
    return fast_slot_hit(&mmu.fast[kind * FAST_SLOTS], vaddr, offset)


cdef inline bint fast_slot_hit(FastSlot* slots, uint32_t vaddr, uint32_t* offset) noexcept nogil:
    """mmu_fast on one kind's slots (&mmu.fast[kind * FAST_SLOTS]), for a core that keeps
    that pointer in a register across its loop."""
    cdef FastSlot* slot = &slots[(vaddr >> SV32_PAGE_SHIFT) & (FAST_SLOTS - 1)]
    if slot.vpn != vaddr >> SV32_PAGE_SHIFT:
        return False
    offset[0] = vaddr + slot.delta
    return True

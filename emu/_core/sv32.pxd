"""Sv32 virtual memory: the PTE and satp formats, translation kinds, and what a
translation reports.

This module owns the numbers of the RISC-V Sv32 scheme (privileged spec, "Sv32:
Page-Based 32-bit Virtual-Memory Systems") that the walker (ptw.pxd), the TLBs and
the per-hart MMU (tlb.pxd) and the cores share:

    virtual address   | VPN[1] 31:22 | VPN[0] 21:12 | offset 11:0 |
    PTE               | PPN[1] 31:20 | PPN[0] 19:10 | RSW 9:8 | D A G U X W R V |
    satp              | MODE 31 | ASID 30:22 | PPN 21:0 |

A PPN is 22 bits, so a PTE can name a physical address up to 2**34; this machine's
physical addresses are 32 bits, and anything at or above 4 GiB is outside RAM (an
access fault). Guest code runs in U-mode only, so the permission check is the user
one (U must be set; MXR and SUM are not modelled).
"""

from libc.stdint cimport uint32_t

from emu._core.traps cimport (CAUSE_FETCH_ACCESS, CAUSE_FETCH_PAGE_FAULT, CAUSE_LOAD_ACCESS,
                              CAUSE_LOAD_PAGE_FAULT, CAUSE_STORE_ACCESS, CAUSE_STORE_PAGE_FAULT)

cdef extern from *:
    """
    #define EMU_SV32_MEGAPAGE_VPN_MASK 0xFFFFFC00u
    #define EMU_SV32_PAGE_VPN_MASK 0xFFFFFFFFu
    """
    # vpn & mask is the first vpn of the page holding it (TlbEntry.vpn_mask, tlb.pxd)
    const uint32_t MEGAPAGE_VPN_MASK "EMU_SV32_MEGAPAGE_VPN_MASK"
    const uint32_t PAGE_VPN_MASK "EMU_SV32_PAGE_VPN_MASK"


cdef enum PteBit:
    PTE_V = 0x01            # valid
    PTE_R = 0x02            # readable (W without R is reserved: a page fault)
    PTE_W = 0x04            # writable
    PTE_X = 0x08            # executable; a PTE with R or X set is a leaf, else it points to a table
    PTE_U = 0x10            # user-accessible (required for every access here)
    PTE_G = 0x20            # global: in every address space (on a pointer: for all below it)
    PTE_A = 0x40            # accessed
    PTE_D = 0x80            # dirty


cdef enum:
    SV32_PAGE_SHIFT = 12            # 4 KiB pages
    SV32_MEGAPAGE_SHIFT = 22        # 4 MiB megapages (a leaf in the root table)
    SV32_VPN_BITS = 10              # per level; a table is 1024 four-byte PTEs = one page
    SV32_VPN_MASK = 0x3FF
    SV32_LEVELS = 2
    SV32_PTE_SIZE = 4
    SV32_PTE_PPN_SHIFT = 10         # PTE bits 31:10 are the PPN
    SV32_PPN_BITS = 22
    SV32_PAGE_MASK = 0xFFF          # the page offset of an address
    PHYS_PAGE_LIMIT_SHIFT = 20      # a physical page number >= 2**20 lies beyond 4 GiB

    SATP_MODE_SHIFT = 31
    SATP_ASID_SHIFT = 22
    SATP_ASID_MASK = 0x1FF          # 9-bit ASID
    SATP_PPN_MASK = 0x3FFFFF        # root table's physical page number

    SATP_MODE_BARE = 0              # no translation: virtual = physical
    SATP_MODE_SV32 = 1


cdef enum XlateKind:
    # What an access needs from its page; indexes per-kind arrays (Mmu.fast).
    XLATE_FETCH = 0         # instruction fetch: needs X
    XLATE_LOAD = 1          # load, LR: needs R
    XLATE_STORE = 2         # store, SC, AMO: needs W (and D)

cdef enum:
    XLATE_KINDS = 3


cdef enum WalkFlag:
    WALK_HARDWARE_AD = 1    # set A (and D for a store) in memory instead of faulting
    WALK_SPECULATIVE = 2    # a speculative access: never set D (see Sv32Walk.dirty_pending)


cdef enum XlateSource:
    # Where a translation came from (Translation.source), for the caller's timing.
    XLATE_BARE = 0          # satp is off: the address is physical
    XLATE_L1 = 1            # the iTLB or dTLB
    XLATE_L2 = 2            # the shared L2 TLB (and now the L1 too)
    XLATE_WALK = 3          # the page-table walker, whose reads are in Translation.walk


cdef struct Sv32Walk:
    # What one walk (ptw.pxd sv32_walk) did, whether it succeeded or faulted.
    uint32_t pte            # the leaf PTE as memory holds it after the walk (A/D included)
    uint32_t level          # the leaf's level: 1 = a megapage in the root table, 0 = a 4 KiB page
    uint32_t is_global      # 1 when G is set on the leaf or on the root-level PTE above it
    uint32_t reads          # PTEs read, 0..2 (a PTE outside RAM is an access fault, not a read)
    uint32_t pte_addr[2]    # their physical addresses, root level first: the caller times them
    uint32_t written        # 1 when the walker wrote the leaf back (hardware A/D) at pte_addr[reads - 1]
    uint32_t dirty_pending  # a WALK_SPECULATIVE store found D clear and left it: the store must
                            # be translated again without the flag (at commit) before it writes


cdef struct Translation:
    # The answer of mmu_translate (tlb.pxd) beyond its return value (ACCESS_OK or a cause).
    uint32_t paddr          # physical address, when the translation succeeded
    uint32_t source         # XlateSource
    Sv32Walk walk           # reads/written/dirty_pending are 0 unless source is XLATE_WALK


cdef inline uint32_t permission_bit(uint32_t kind) noexcept nogil:
    """The PTE bit an access of `kind` needs (constant when kind is)."""
    if kind == XLATE_FETCH:
        return PTE_X
    if kind == XLATE_LOAD:
        return PTE_R
    return PTE_W


cdef inline bint user_may(uint32_t pte, uint32_t kind) noexcept nogil:
    """Whether a leaf's U R W X bits let U-mode make an access of `kind` (step 5)."""
    return (pte & PTE_U) != 0 and (pte & permission_bit(kind)) != 0


cdef inline int page_fault_cause(uint32_t kind) noexcept nogil:
    if kind == XLATE_FETCH:
        return CAUSE_FETCH_PAGE_FAULT
    if kind == XLATE_LOAD:
        return CAUSE_LOAD_PAGE_FAULT
    return CAUSE_STORE_PAGE_FAULT


cdef inline int access_fault_cause(uint32_t kind) noexcept nogil:
    if kind == XLATE_FETCH:
        return CAUSE_FETCH_ACCESS
    if kind == XLATE_LOAD:
        return CAUSE_LOAD_ACCESS
    return CAUSE_STORE_ACCESS


cdef inline uint32_t leaf_page_ppn(uint32_t pte, uint32_t level, uint32_t vaddr) noexcept nogil:
    """The physical page number (22 bits) of the 4 KiB page holding vaddr under a leaf
    PTE at `level` (step 8: a megapage takes PPN[0] from VPN[0])."""
    cdef uint32_t ppn = pte >> SV32_PTE_PPN_SHIFT
    if level:
        ppn |= (vaddr >> SV32_PAGE_SHIFT) & SV32_VPN_MASK
    return ppn

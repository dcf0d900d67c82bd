"""The front end: fetch along the predicted path into the fetch queue.

Each cycle fetch reads up to `width` instructions from the decode cache, asks the
branch predictor (bpred.pxd) for every control-transfer instruction's next pc, and
stops the group at a predicted-taken transfer. Entries become visible to rename
`depth` cycles after fetch (the decode/rename pipeline stages in between), which is
where the mispredict penalty comes from. With a cache hierarchy, fetching from a new
instruction-cache line asks the L1I, and fetch waits until the line is there. A fetch outside RAM enqueues one entry that
carries the fault and stops fetch until the back end redirects it; so does an ecall or
ebreak, which always traps.

With Sv32 on (`mmu` set for the run), fetch translates the pc each time it enters a
virtual page (and after every redirect): the iTLB's fast slot, else mmu_translate,
speculatively; fetch waits for what the translation costs (an L2 TLB hit, a walk's PTE
reads: memlat.pxd translation_latency) and then reads the decode cache and the L1I at
the physical address. A translation fault becomes a fault entry like a fetch outside
RAM (cause 12, or 1 for a PTE outside RAM), raised only if it reaches commit.
"""

from libc.stdint cimport int32_t, uint8_t, uint32_t, uint64_t

from emu._core.bpred cimport BPredCheckpoint, BranchPredictor
from emu._core.decode cimport Decoded
from emu._core.memlat cimport MemoryTiming
from emu._core.memory cimport PhysMem
from emu._core.tlb cimport Mmu


cdef struct FetchEntry:
    uint32_t pc
    uint32_t pred_next      # predicted next pc
    Decoded d
    uint8_t bclass          # BranchClass
    int32_t fault           # CAUSE_FETCH_ACCESS / _MISALIGNED / _PAGE_FAULT, or -1
    uint64_t fetch_cycle
    uint64_t ready_cycle    # first cycle rename may take it
    BPredCheckpoint cp


cdef struct FrontEnd:
    FetchEntry* entries     # the fetch queue, a ring
    uint32_t size
    uint32_t head
    uint32_t count
    uint32_t width          # instructions fetched per cycle
    uint32_t depth          # cycles from fetch to rename
    uint32_t pc             # next fetch address
    uint8_t stopped         # after a fetch fault, ecall or ebreak, until redirect()
    uint32_t line_bits      # log2 of the L1I line size (set with the memory timing)
    uint32_t line_hit       # the L1I hit latency: pipelined in the front end's depth, so
                            # fetch waits only for what a line takes beyond it
    uint32_t line           # instruction-cache line last fetched from (+1; 0: none)
    uint64_t line_ready     # cycle that line's bytes arrive (fetch waits until then)
    Mmu* mmu                # Sv32 on for this run: translate fetches; NULL: pc is physical
    uint32_t l2tlb_latency  # cycles an L2 TLB hit adds (CoreParams)
    uint32_t vpage          # virtual page last translated (+1; 0: none, translate next fetch)
    uint32_t delta          # its physical minus virtual address
    uint64_t xlate_ready    # cycle that translation is done (fetch waits until then)
    BranchPredictor bp


cdef int frontend_init(FrontEnd* fe, uint32_t queue_size, uint32_t width, uint32_t depth) except -1
cdef void frontend_free(FrontEnd* fe) noexcept nogil
cdef void frontend_redirect(FrontEnd* fe, uint32_t pc) noexcept nogil
cdef uint32_t fetch_stage(FrontEnd* fe, PhysMem mem, MemoryTiming* timing, uint32_t hart,
                          uint64_t now) noexcept nogil


cdef inline FetchEntry* frontend_peek(FrontEnd* fe) noexcept nogil:
    return &fe.entries[fe.head]


cdef inline void frontend_pop(FrontEnd* fe) noexcept nogil:
    fe.head = fe.head + 1 if fe.head + 1 < fe.size else 0
    fe.count -= 1

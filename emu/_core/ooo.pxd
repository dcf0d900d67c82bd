"""The cycle-level out-of-order core: its parameters, statistics, trace and state.

The structures it is built from each have their own file pair: fetch (front end and
branch prediction), rename (map table, free list, physical registers), rob, iq,
lsq. ooo.pyx holds the stages and the cycle that runs them commit-first,
fetch-last, so nothing is used in the cycle it is produced (write-back wakes
consumers before issue in the same cycle: that is the bypass network).

What a hart is connected to besides RAM (its MMU, the system bus) comes from the
System's HartPorts (ports.pxd), which the System points `ports` at after ooo_init;
each run reads it at ooo_begin (satp and the bus only change between runs).
"""

from libc.stdint cimport uint8_t, uint32_t, uint64_t

from emu._core.bpred cimport BRANCH_CLASS_COUNT, BPredParams
from emu._core.bus cimport Bus
from emu._core.fetch cimport FrontEnd
from emu._core.hart cimport Hart
from emu._core.iq cimport IssueQueue
from emu._core.lsq cimport LoadStoreQueue
from emu._core.memlat cimport MemoryTiming
from emu._core.memory cimport PhysMem
from emu._core.ports cimport HartPorts
from emu._core.rename cimport RenameState
from emu._core.rob cimport Rob
from emu._core.tlb cimport Mmu

cdef enum:
    NUM_UNITS = 9           # Unit classes in opcodes.pxd

cdef enum MemoryDependence:
    MDP_WAIT = 0            # speculate; a load that once violated waits (wait bit)
    MDP_SPECULATE = 1       # always speculate
    MDP_CONSERVATIVE = 2    # never issue a load before older store addresses are known


cdef struct CoreParams:
    uint32_t fetch_width
    uint32_t rename_width
    uint32_t issue_width
    uint32_t commit_width
    uint32_t fetch_queue
    uint32_t frontend_depth
    uint32_t rob_entries
    uint32_t iq_entries
    uint32_t lq_entries
    uint32_t sq_entries
    uint32_t phys_regs
    uint32_t units[NUM_UNITS]       # functional units per class (issue slots per cycle)
    uint32_t latency[NUM_UNITS]     # execute latency per class (loads: address generation)
    MemoryTiming memory             # how long loads and atomics take (memlat.pxd)
    uint32_t serial_latency         # cycles of an instruction executed at the ROB head
    uint32_t l2tlb_latency          # cycles an L2 TLB hit adds to a translation
    uint32_t memory_dependence      # MemoryDependence
    uint32_t wait_table_bits
    uint64_t deadlock_cycles
    uint8_t check_invariants
    BPredParams bp


cdef struct PipelineStats:
    uint64_t cycles
    uint64_t committed
    uint64_t fetched
    uint64_t renamed
    uint64_t issued
    uint64_t squashed                       # renamed, then thrown away
    uint64_t branches[BRANCH_CLASS_COUNT]   # committed, by BranchClass
    uint64_t mispredicts[BRANCH_CLASS_COUNT]
    uint64_t stall_rob_full                 # rename cycles lost to each missing resource
    uint64_t stall_iq_full
    uint64_t stall_lq_full
    uint64_t stall_sq_full
    uint64_t stall_no_regs
    uint64_t fetch_starved                  # rename found nothing ready to take
    uint64_t unit_issued[NUM_UNITS]         # instructions issued per unit class
    uint64_t mem_order_violations
    uint64_t loads_forwarded
    uint64_t load_replays                   # loads that tried to issue and had to wait
    uint64_t serial_executed
    uint64_t mmio_loads                     # loads and stores performed on the bus
    uint64_t mmio_stores
    uint64_t interrupts                     # interrupts taken


cdef struct TraceRecord:
    uint64_t seq
    uint32_t pc
    uint32_t word
    uint64_t fetch_cycle
    uint64_t rename_cycle
    uint64_t issue_cycle                    # 0 when never issued (cycles are the hart's clock)
    uint64_t complete_cycle                 # 0 when never completed
    uint64_t end_cycle                      # commit or flush
    uint8_t flushed


cdef struct PipelineTrace:
    TraceRecord* records                    # NULL when not tracing
    uint32_t capacity
    uint32_t count
    uint64_t start                          # record from this committed instruction on ...
    uint64_t limit                          # ... until this many are committed in all


cdef struct OoOCore:
    CoreParams p
    FrontEnd fe
    Rob rob
    RenameState rn
    IssueQueue iq
    LoadStoreQueue lsq
    uint32_t* inflight          # ROB slots executing, waiting for their done_cycle
    uint32_t inflight_count
    uint32_t barriers           # fences, AMOs and LR/SC in the ROB (loads wait for them)
    uint64_t* div_free_at       # per divider: first cycle it accepts a new divide
    uint32_t hart               # the hart this core runs (for the memory hierarchy)
    HartPorts* ports            # the hart's MMU and bus (set by the System; NULL: neither)
    Mmu* mmu                    # this run: the MMU when satp translates, else NULL
    Bus* bus                    # this run: the system bus, or NULL (no MMIO, no interrupts)
    uint64_t bus_accesses       # the bus's MMIO count and time when interrupts were last
    uint64_t bus_now            # looked at (any hart's access or device tick changes them)
    uint8_t irq_check           # the devices may have changed since: look again
    uint64_t now                # the current cycle, on the hart's clock
    uint64_t start_cycle        # the cycle the current run started at
    uint64_t next_seq
    uint64_t last_commit_cycle
    uint64_t retired_total      # committed instructions over all runs (for trace windows)
    PipelineStats stats
    PipelineTrace trace


cdef int ooo_init(OoOCore* c, CoreParams p) except -1
cdef void ooo_free(OoOCore* c) noexcept nogil
cdef void ooo_begin(OoOCore* c, Hart* h) noexcept nogil
cdef int ooo_cycle(OoOCore* c, Hart* h, PhysMem mem, uint64_t remaining) noexcept nogil
cdef void ooo_end(OoOCore* c, Hart* h) noexcept nogil
cdef int run_ooo(OoOCore* c, Hart* h, PhysMem* m, uint64_t budget) noexcept nogil
cdef bint ooo_invariants_hold(OoOCore* c) noexcept nogil

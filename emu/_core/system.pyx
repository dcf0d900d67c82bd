"""The Python face of the core: one machine's RAM and harts, and running them.

A System owns what the C cores work on: guest RAM (a numpy array, so the API can
hand out views of it), the harts' architectural state (also inside a numpy array,
so register views keep it alive), and the decode cache. `run` enters a core with
the GIL released and comes back on a trap or when the budget ends; everything else
here is slow-path bookkeeping for the Machine API (emu/machine.py) and the kernel.
"""

import numpy as np

cimport numpy as cnp
from libc.stdint cimport uint8_t, uint32_t, uint64_t
from libc.stdlib cimport calloc, free
from libc.string cimport memset

from emu._core.decode cimport Decoded
from emu._core.functional cimport run_functional
from emu._core.hart cimport Hart
from emu._core.cluster cimport ClusterStop, run_cluster
from emu._core.bpred cimport BRANCH_CLASS_COUNT, PRED_BIMODAL, PRED_GSHARE, PRED_STATIC, PRED_TAGE
from emu._core.bus cimport BusModel
from emu._core.hierarchy cimport HierarchyModel
from emu._core.memlat cimport MEM_CACHES, MEM_FIXED
from emu._core.memory cimport PAGE_SHIFT, PhysMem, free_code_pages
from emu._core.ooo cimport (MDP_CONSERVATIVE, MDP_SPECULATE, MDP_WAIT, NUM_UNITS, CoreParams,
                            OoOCore, TraceRecord, ooo_free, ooo_init, run_ooo)
from emu._core.opcodes cimport (UNIT_ALU, UNIT_AMO, UNIT_BRANCH, UNIT_CSR, UNIT_DIV, UNIT_LOAD,
                                UNIT_MUL, UNIT_STORE, UNIT_SYSTEM)
from emu._core.ports cimport HartPorts
from emu._core.tlb cimport (Mmu, MmuParams, Tlb, mmu_free, mmu_init, mmu_params_of, mmu_satp,
                            mmu_sfence_vma, mmu_stats_of, mmu_write_satp, tlb_free, tlb_init)
from emu._core.tlb import REPLACEMENT_NUMBERS
from emu._core.traps cimport STOP_BUDGET, STOP_DEADLOCK, STOP_INVARIANT, STOP_TRAP

cnp.import_array()

STOP_REASON_BUDGET = STOP_BUDGET
STOP_REASON_TRAP = STOP_TRAP
STOP_REASON_DEADLOCK = STOP_DEADLOCK
STOP_REASON_INVARIANT = STOP_INVARIANT

#: Names of the functional-unit classes (opcodes.pxd Unit) and branch classes
#: (bpred.pxd BranchClass), indexing the per-class statistics arrays.
UNIT_NAMES = ("alu", "branch", "load", "store", "mul", "div", "amo", "csr", "system")
BRANCH_CLASS_NAMES = ("none", "conditional", "jump", "call", "return", "indirect", "indirect_call")

#: dtype of the pipeline-trace records (ooo.pxd TraceRecord), one per instruction.
TRACE_DTYPE = np.dtype([("seq", np.uint64), ("pc", np.uint32), ("word", np.uint32),
                        ("fetch", np.uint64), ("rename", np.uint64), ("issue", np.uint64),
                        ("complete", np.uint64), ("end", np.uint64), ("flushed", np.uint8)],
                       align=True)

_PREDICTOR_KINDS = {"static": PRED_STATIC, "bimodal": PRED_BIMODAL, "gshare": PRED_GSHARE,
                    "tage": PRED_TAGE}
_MEMORY_DEPENDENCE = {"wait": MDP_WAIT, "speculate": MDP_SPECULATE,
                      "conservative": MDP_CONSERVATIVE}


cdef CoreParams core_params(object config) except *:
    """The C parameters of a CoreConfig (emu/config.py), converted once."""
    cdef CoreParams p
    memset(&p, 0, sizeof(p))
    p.fetch_width = config.fetch_width
    p.rename_width = config.rename_width
    p.issue_width = config.issue_width
    p.commit_width = config.commit_width
    p.fetch_queue = config.fetch_queue
    p.frontend_depth = config.frontend_depth
    p.rob_entries = config.rob_entries
    p.iq_entries = config.iq_entries
    p.lq_entries = config.lq_entries
    p.sq_entries = config.sq_entries
    p.phys_regs = config.phys_regs
    for unit, count, latency in (
            (UNIT_ALU, config.alu_units, config.alu_latency),
            (UNIT_BRANCH, config.branch_units, config.branch_latency),
            (UNIT_LOAD, config.load_ports, 1),
            (UNIT_STORE, config.store_ports, 1),
            (UNIT_MUL, config.mul_units, config.mul_latency),
            (UNIT_DIV, config.div_units, config.div_latency),
            (UNIT_AMO, 1, config.serial_latency),
            (UNIT_CSR, 1, config.serial_latency),
            (UNIT_SYSTEM, 1, config.serial_latency)):
        p.units[unit] = count
        p.latency[unit] = latency
    p.memory.model = MEM_FIXED
    p.memory.fixed_latency = config.memory_latency
    p.serial_latency = config.serial_latency
    p.l2tlb_latency = config.l2tlb_latency
    p.memory_dependence = _MEMORY_DEPENDENCE[config.memory_dependence]
    p.wait_table_bits = config.wait_table_bits
    p.deadlock_cycles = config.deadlock_cycles
    p.check_invariants = config.check_invariants
    p.bp.kind = _PREDICTOR_KINDS[config.predictor]
    p.bp.table_bits = config.predictor_table_bits
    p.bp.history_bits = config.predictor_history_bits
    p.bp.btb_entries = config.btb_entries
    p.bp.btb_ways = config.btb_ways
    p.bp.ras_entries = config.ras_entries
    return p

#: Bytes of the register file that the `regs` view shows: x0..x31.
_REGS_BYTES = 32 * 4


cdef class System:
    """RAM at `ram_base` of `ram_size` bytes and `harts` harts, each with its state."""

    cdef PhysMem mem
    cdef Hart* harts
    cdef readonly int nharts
    cdef readonly object ram            # numpy uint8 array: the guest RAM
    cdef object _hart_bytes             # numpy uint8 array holding the Hart structs
    cdef OoOCore* cores                 # per hart: the out-of-order core, once configured
    cdef Mmu* mmus                      # per hart: satp and the TLBs
    cdef Tlb l2tlb                      # the L2 TLB the harts share (entries NULL: none)
    cdef int mmus_built                 # mmus[0 : mmus_built] are initialised
    cdef HartPorts* ports               # per hart: what its core is connected to
    cdef readonly object caches         # the HierarchyModel timing the cores, or None
    cdef readonly object bus            # the BusModel of the devices, or None
    cdef readonly object running        # numpy uint8 per hart: takes part in run_all
    cdef readonly object detailed       # numpy uint8 per hart: runs the out-of-order core

    def __cinit__(self, uint32_t ram_base, uint32_t ram_size, int harts, uint32_t time_divider):
        cdef int i
        cdef uint8_t[::1] hart_view
        if ram_size < (1 << PAGE_SHIFT) or ram_size % (1 << PAGE_SHIFT):
            raise ValueError("ram_size must be a positive multiple of 4096")
        if <uint64_t>ram_base + ram_size > (<uint64_t>1 << 32):
            raise ValueError("RAM must end at or below 4 GiB")
        if harts < 1:
            raise ValueError("a machine needs at least one hart")
        if time_divider < 1:
            raise ValueError("time_divider must be at least 1")
        # np.zeros maps untouched pages lazily: host memory follows what the guest uses.
        self.ram = np.zeros(ram_size, dtype=np.uint8)
        self.mem.data = <uint8_t*>cnp.PyArray_DATA(self.ram)
        self.mem.base = ram_base
        self.mem.size = ram_size
        self.mem.npages = ram_size >> PAGE_SHIFT
        self.mem.code_pages = <Decoded**>calloc(self.mem.npages, sizeof(Decoded*))
        if self.mem.code_pages == NULL:
            raise MemoryError()
        self._hart_bytes = np.zeros(harts * sizeof(Hart), dtype=np.uint8)
        hart_view = self._hart_bytes
        self.harts = <Hart*>&hart_view[0]
        self.nharts = harts
        for i in range(harts):
            self.harts[i].hart_id = i
            self.harts[i].time_divider = time_divider
        self.mem.harts = self.harts
        self.mem.nharts = harts
        self.running = np.zeros(harts, np.uint8)
        self.running[0] = 1
        self.detailed = np.zeros(harts, np.uint8)
        self.ports = <HartPorts*>calloc(harts, sizeof(HartPorts))
        self.mmus = <Mmu*>calloc(harts, sizeof(Mmu))
        if self.ports == NULL or self.mmus == NULL:
            raise MemoryError()
        from emu.config import MmuConfig
        self.configure_mmu(MmuConfig(), 0)

    def __dealloc__(self):
        cdef int i
        self._free_mmus()
        free(self.mmus)
        free(self.ports)
        if self.cores != NULL:
            for i in range(self.nharts):
                ooo_free(&self.cores[i])
            free(self.cores)
        free_code_pages(&self.mem)
        free(self.mem.code_pages)

    cdef void _free_mmus(self) noexcept:
        cdef int i
        for i in range(self.mmus_built):
            mmu_free(&self.mmus[i])
        self.mmus_built = 0
        tlb_free(&self.l2tlb)

    def configure_mmu(self, config, uint64_t seed):
        """Build every hart's MMU from an MmuConfig (satp off, TLBs empty); the harts
        share one L2 TLB when the config has one. TLB seeds derive from `seed`."""
        cdef MmuParams params
        cdef Tlb* l2 = NULL
        cdef uint64_t golden = 0x9E3779B97F4A7C15ULL   # spreads the harts' seeds apart
        cdef int i
        self._free_mmus()
        if config.l2tlb_entries:
            tlb_init(&self.l2tlb, config.l2tlb_entries, config.l2tlb_ways,
                     REPLACEMENT_NUMBERS[config.tlb_replacement], seed ^ 0x3)
            l2 = &self.l2tlb
        for i in range(self.nharts):
            mmu_params_of(config, seed * golden + <uint64_t>i, &params)
            mmu_init(&self.mmus[i], params, l2)
            self.mmus_built = i + 1
            self.ports[i].mmu = &self.mmus[i]

    def attach_bus(self, BusModel bus):
        """Connect the harts to a bus (its RAM must be this System's `ram`): accesses
        outside RAM become MMIO, devices advance with the harts, interrupts arrive."""
        cdef int i
        if bus is not None and bus.ram is not self.ram:
            raise ValueError("the bus must be built over this System's ram")
        self.bus = bus
        for i in range(self.nharts):
            self.ports[i].bus = &bus.bus if bus is not None else NULL

    def time_functional(self, bint timed):
        """Time the functional core with the cache hierarchy (configure_ooo's caches)."""
        cdef HierarchyModel model = self.caches
        cdef int i
        if timed and model is None:
            raise ValueError("timing the functional core needs a cache hierarchy")
        for i in range(self.nharts):
            self.ports[i].timed = timed

    def set_satp(self, int hart, uint32_t mode, uint32_t asid, uint32_t ppn):
        self._hart(hart)
        mmu_write_satp(&self.mmus[hart], mode, asid, ppn)

    def satp(self, int hart):
        self._hart(hart)
        return mmu_satp(&self.mmus[hart])

    def sfence(self, int hart, vaddr=None, asid=None):
        self._hart(hart)
        mmu_sfence_vma(&self.mmus[hart], vaddr, asid)

    def mmu_stats(self, int hart):
        self._hart(hart)
        return mmu_stats_of(&self.mmus[hart])

    def get_mie(self, int hart):
        return self._hart(hart).mie

    def set_mie(self, int hart, uint32_t mie):
        self._hart(hart).mie = mie

    def configure_ooo(self, config, caches=None):
        """Build every hart's out-of-order core from a CoreConfig (learned state starts
        cold), timing memory with a fixed latency, or with a cache hierarchy built from
        the MemoryHierarchyConfig `caches`."""
        cdef CoreParams p = core_params(config)
        cdef HierarchyModel model
        cdef int i
        if self.cores == NULL:
            self.cores = <OoOCore*>calloc(self.nharts, sizeof(OoOCore))
            if self.cores == NULL:
                raise MemoryError()
        else:
            for i in range(self.nharts):
                ooo_free(&self.cores[i])
        self.caches = None
        self.time_functional(False)
        if caches is not None:
            model = HierarchyModel(caches, self.nharts)
            self.caches = model
            p.memory.model = MEM_CACHES
            p.memory.hierarchy = &model.h
        for i in range(self.nharts):
            self.ports[i].caches = &model.h if caches is not None else NULL
        for i in range(self.nharts):
            ooo_init(&self.cores[i], p)
            self.cores[i].hart = i
            self.cores[i].ports = &self.ports[i]    # its MMU and bus, read at each run's start
            if caches is not None:
                self.cores[i].fe.line_bits = (caches.l1i.line_size - 1).bit_length()
                self.cores[i].fe.line_hit = caches.l1i.hit_latency

    cdef OoOCore* _core(self, int hart) except NULL:
        self._hart(hart)
        if self.cores == NULL:
            raise RuntimeError("the out-of-order core is not configured (configure_ooo)")
        return &self.cores[hart]

    cdef Hart* _hart(self, int hart) except NULL:
        if not 0 <= hart < self.nharts:
            raise IndexError(f"hart {hart} does not exist (this machine has {self.nharts})")
        return &self.harts[hart]

    @property
    def ram_base(self):
        return self.mem.base

    @property
    def ram_size(self):
        return self.mem.size

    @property
    def code_pages(self):
        """Pages the decode cache holds decoded instructions for."""
        cdef uint32_t i
        return sum(1 for i in range(self.mem.npages) if self.mem.code_pages[i] != NULL)

    def run(self, int hart, uint64_t budget, bint detailed=False):
        """Run `hart` for at most `budget` instructions on the functional core, or on the
        out-of-order core when `detailed`; returns STOP_REASON_*."""
        cdef Hart* h = self._hart(hart)
        cdef OoOCore* core = self._core(hart) if detailed else NULL
        cdef int stop
        with nogil:
            if core != NULL:
                stop = run_ooo(core, h, &self.mem, budget)
            else:
                stop = run_functional(h, &self.mem, &self.ports[hart], budget)
        return stop

    def run_all(self, uint64_t budget, uint32_t quantum=1):
        """Run every hart marked in `running` in one global cycle loop (`detailed` ones on
        the out-of-order core, the others `quantum` instructions per turn) until one traps
        or `budget` instructions (summed) retire; returns (STOP_REASON_*, the hart that
        stopped it)."""
        cdef uint8_t[::1] running = self.running
        cdef uint8_t[::1] detailed = self.detailed
        cdef ClusterStop result
        if self.cores == NULL and np.any(self.detailed):
            raise RuntimeError("the out-of-order core is not configured (configure_ooo)")
        with nogil:
            result = run_cluster(self.harts, self.cores, self.ports, &running[0], &detailed[0],
                                 self.nharts, &self.mem, budget, max(quantum, 1))
        return result.stop, result.hart

    def pipeline_stats(self, int hart):
        """The out-of-order core's counters: numbers, and numpy arrays per unit/branch class."""
        cdef OoOCore* c = self._core(hart)
        s = c.stats
        return {
            "cycles": s.cycles, "committed": s.committed, "fetched": s.fetched,
            "renamed": s.renamed, "issued": s.issued, "squashed": s.squashed,
            "branches": np.array([s.branches[i] for i in range(BRANCH_CLASS_COUNT)], np.uint64),
            "mispredicts": np.array([s.mispredicts[i] for i in range(BRANCH_CLASS_COUNT)], np.uint64),
            "stall_rob_full": s.stall_rob_full, "stall_iq_full": s.stall_iq_full,
            "stall_lq_full": s.stall_lq_full, "stall_sq_full": s.stall_sq_full,
            "stall_no_regs": s.stall_no_regs, "fetch_starved": s.fetch_starved,
            "unit_issued": np.array([s.unit_issued[i] for i in range(NUM_UNITS)], np.uint64),
            "mem_order_violations": s.mem_order_violations,
            "loads_forwarded": s.loads_forwarded, "load_replays": s.load_replays,
            "serial_executed": s.serial_executed,
            "mmio_loads": s.mmio_loads, "mmio_stores": s.mmio_stores,
            "interrupts": s.interrupts,
        }

    def pipeline_dump(self, int hart):
        """A text picture of the out-of-order core's state (for deadlock reports)."""
        cdef OoOCore* c = self._core(hart)
        cdef uint32_t age, slot
        lines = [f"cycle {c.now}: rob {c.rob.count}/{c.rob.size}, iq {c.iq.count}/{c.iq.capacity}, "
                 f"lq {c.lsq.lq_count}, sq {c.lsq.sq_count}, fetch queue {c.fe.count}, "
                 f"free regs {c.rn.free_count}, executing {c.inflight_count}, fetch pc {c.fe.pc:#x}"
                 f"{' (stopped)' if c.fe.stopped else ''}"]
        for age in range(min(c.rob.count, 16)):
            slot = (c.rob.head + age) % c.rob.size
            e = c.rob.entries[slot]
            lines.append(f"  rob[{slot}] seq {e.seq} pc {e.pc:#010x} word {e.d.word:#010x} "
                         f"state {e.state} pending {e.pending} psrc {e.psrc1},{e.psrc2} "
                         f"pdst {e.pdst} exception {e.exception}")
        return "\n".join(lines)

    def start_trace(self, int hart, uint64_t start, uint64_t count):
        """Record a pipeline trace of the instructions from the start-th commit (counted over
        the core's life) for `count` commits, flushed wrong-path work included."""
        cdef OoOCore* c = self._core(hart)
        cdef uint64_t capacity = count * 8 + 1024
        free(c.trace.records)
        c.trace.records = <TraceRecord*>calloc(capacity, sizeof(TraceRecord))
        if c.trace.records == NULL:
            raise MemoryError()
        c.trace.capacity = <uint32_t>capacity
        c.trace.count = 0
        c.trace.start = c.retired_total + start
        c.trace.limit = c.retired_total + start + count

    def trace_records(self, int hart):
        """The recorded trace as a numpy structured array (TRACE_DTYPE), oldest end first."""
        cdef OoOCore* c = self._core(hart)
        if c.trace.records == NULL:
            return np.zeros(0, TRACE_DTYPE)
        assert TRACE_DTYPE.itemsize == sizeof(TraceRecord)
        data = bytes((<char*>c.trace.records)[:c.trace.count * sizeof(TraceRecord)])
        return np.frombuffer(data, TRACE_DTYPE).copy()

    def regs(self, int hart):
        """Writable numpy uint32 view of x0..x31 (a write to x0 is ignored by the core)."""
        self._hart(hart)
        start = hart * sizeof(Hart)
        return self._hart_bytes[start:start + _REGS_BYTES].view(np.uint32)

    def get_pc(self, int hart):
        return self._hart(hart).pc

    def set_pc(self, int hart, uint32_t pc):
        self._hart(hart).pc = pc

    def trap(self, int hart):
        """(cause, value) of the hart's last trap."""
        cdef Hart* h = self._hart(hart)
        return h.trap_cause, h.trap_value

    def counters(self, int hart):
        """(instret, cycle) of the hart."""
        cdef Hart* h = self._hart(hart)
        return h.instret, h.cycle

    def retire(self, int hart, uint64_t instructions, uint64_t cycles):
        """Count work done outside the core (the kernel completing an ecall)."""
        cdef Hart* h = self._hart(hart)
        h.instret += instructions
        h.cycle += cycles

    def reservation(self, int hart):
        """The LR reservation address, or None."""
        cdef Hart* h = self._hart(hart)
        return h.reservation if h.reserved else None

    def clear_reservation(self, int hart):
        self._hart(hart).reserved = 0

    def reset_hart(self, int hart):
        """Zero the hart's registers, pc, counters and reservation."""
        cdef Hart* h = self._hart(hart)
        cdef uint32_t divider = h.time_divider
        memset(h, 0, sizeof(Hart))
        h.hart_id = hart
        h.time_divider = divider

"""The out-of-order core's stages and its cycle (ooo.pxd).

    cycle:  commit → writeback → issue → rename → fetch

Commit retires finished instructions in order (stores write memory here; AMOs, LR/SC,
CSR reads and fences execute here, at the ROB head, non-speculatively, and so do MMIO
loads and stores; exceptions and interrupts become precise traps). Writeback completes executing instructions, wakes their
consumers and resolves branches (a misprediction squashes everything younger).
Issue selects the oldest ready instructions for free functional units and executes
them with the shared semantics (execute.pxd): values really flow through the physical
registers, and wrong-path instructions execute until squashed. Rename maps registers
and dispatches into the ROB, the issue queue and the load/store queues. Fetch follows
the branch predictor.

A run starts from the hart's architectural state with an empty pipeline and ends
(budget, trap) by writing committed state back to the hart and discarding the rest:
the Hart struct is all the two cores share, so switching models is exact.

Virtual memory (Sv32, when the hart's satp translates; HartPorts.mmu): fetch
translates each page it enters (fetch.pyx); loads and stores translate at execute,
speculatively (the dTLB's fast slot, else mmu_translate: the walker may set A but
never D), and the load/store queue holds physical addresses. A translation fault is
the instruction's exception, raised only if it commits. A store whose page has D
clear translates again at commit, non-speculatively, which sets D (or faults) before
it writes. AMOs and LR/SC translate non-speculatively as they perform at the head;
reservations hold physical addresses. An L2 TLB hit costs l2tlb_latency cycles and a
walk its PTE reads through the memory timing (memlat.pxd translation_latency).

Devices (HartPorts.bus): a load or store whose physical address is outside RAM is
MMIO. It does nothing at execute but translate and is performed at the ROB head,
when everything older has committed: the head waits for the bus (the access starts
at max(now, bus.done) and takes bus.latency), then the access happens in the cycle the
instruction commits (so a run that ends first leaves no trace of it in a device), and
everything younger is squashed and refetched, so no younger load has read memory a
device may just have written. Each cycle the bus is advanced, and an interrupt that
is pending and enabled (Hart.mie) is taken before the next commit: STOP_TRAP with
trap_cause CAUSE_INTERRUPT | code and pc the next instruction to commit.
"""

from libc.stdint cimport int16_t, uint8_t, uint16_t, uint32_t, uint64_t
from libc.stdlib cimport calloc, free
from libc.string cimport memset

from emu._core.bpred cimport (BR_NONE, bp_free, bp_init, bp_repair, bp_restore, bp_train)
from emu._core.bus cimport (Bus, bus_load, bus_pending_interrupt, bus_store, bus_wants_host,
                            device_tick, interrupt_code)
from emu._core.decode cimport RD_SINK, Decoded
from emu._core.execute cimport access_width, branch_taken, int_result, load_result
from emu._core.fetch cimport (FetchEntry, fetch_stage, frontend_free, frontend_init,
                              frontend_peek, frontend_pop, frontend_redirect)
from emu._core.hart cimport CSR_CYCLE, CSR_CYCLEH, CSR_INSTRET, CSR_INSTRETH, CSR_TIME, CSR_TIMEH
from emu._core.iq cimport iq_clear_ready, iq_free, iq_init, iq_oldest_ready, iq_reset, iq_set_ready
from emu._core.lsq cimport (FORWARD_BLOCKED, FORWARD_FULL, LoadEntry, StoreEntry,
                            lq_slot, lsq_forward, lsq_free, lsq_init, lsq_older_stores_known,
                            lsq_reset, lsq_violation, sq_slot, wait_index)
from emu._core.memlat cimport (ACCESS_ATOMIC, ACCESS_LOAD, access_latency, release, reservation_held,
                              translation_latency,
                              reserve, store_latency)
from emu._core.memory cimport ACCESS_OK, load, ram_offset, ram_read, store
from emu._core.opcodes cimport *
from emu._core.ports cimport dma_pending, ports_sync_dma
from emu._core.rename cimport (MAX_WAITERS, rename_add_waiter, rename_allocate, rename_free,
                               rename_init, rename_release, rename_reset)
from emu._core.rob cimport (HEAD_DIRTY_WALKING, HEAD_MMIO, HEAD_MMIO_STARTED, HEAD_SET_DIRTY,
                            NO_PREG, ROB_DONE, ROB_EXECUTING, ROB_WAITING, RobEntry, rob_age,
                            rob_free, rob_init, rob_slot)
from emu._core.semantics cimport sem_amo, sem_csr_writes
from emu._core.sv32 cimport SATP_MODE_BARE, XLATE_LOAD, XLATE_STORE, Translation
from emu._core.tlb cimport mmu_fast, mmu_translate
from emu._core.traps cimport *

cdef enum:
    NO_EXCEPTION = -1


# ---- set-up ---------------------------------------------------------------------------

cdef int ooo_init(OoOCore* c, CoreParams p) except -1:
    memset(c, 0, sizeof(OoOCore))
    c.p = p
    try:
        frontend_init(&c.fe, p.fetch_queue, p.fetch_width, p.frontend_depth)
        bp_init(&c.fe.bp, p.bp)
        rob_init(&c.rob, p.rob_entries)
        rename_init(&c.rn, p.phys_regs)
        iq_init(&c.iq, p.iq_entries, p.rob_entries)
        lsq_init(&c.lsq, p.lq_entries, p.sq_entries, p.wait_table_bits)
        c.inflight = <uint32_t*>calloc(p.rob_entries, sizeof(uint32_t))
        c.div_free_at = <uint64_t*>calloc(p.units[UNIT_DIV], sizeof(uint64_t))
        if c.inflight == NULL or c.div_free_at == NULL:
            raise MemoryError()
    except BaseException:
        ooo_free(c)
        raise
    return 0


cdef void ooo_free(OoOCore* c) noexcept nogil:
    frontend_free(&c.fe)
    bp_free(&c.fe.bp)
    rob_free(&c.rob)
    rename_free(&c.rn)
    iq_free(&c.iq)
    lsq_free(&c.lsq)
    free(c.inflight)
    free(c.div_free_at)
    free(c.trace.records)
    c.inflight = NULL
    c.div_free_at = NULL
    c.trace.records = NULL


cdef void start_run(OoOCore* c, Hart* h) noexcept nogil:
    """An empty pipeline over the hart's architectural state."""
    cdef uint32_t i
    rename_reset(&c.rn, h.x)
    c.rob.head = 0
    c.rob.count = 0
    iq_reset(&c.iq)
    lsq_reset(&c.lsq)
    c.inflight_count = 0
    c.barriers = 0
    for i in range(c.p.units[UNIT_DIV]):
        c.div_free_at[i] = 0
    # What the hart is connected to, for this run (satp and the bus change only between runs).
    c.mmu = NULL
    c.bus = NULL
    if c.ports != NULL:
        if c.ports.mmu != NULL and c.ports.mmu.mode != SATP_MODE_BARE:
            c.mmu = c.ports.mmu
        c.bus = c.ports.bus
    c.fe.mmu = c.mmu
    c.fe.l2tlb_latency = c.p.l2tlb_latency
    c.irq_check = 1         # the host may have changed the devices between runs
    frontend_redirect(&c.fe, h.pc)
    c.now = h.cycle
    c.start_cycle = h.cycle
    c.last_commit_cycle = h.cycle


# ---- the pipeline trace ------------------------------------------------------------------

cdef inline bint tracing(OoOCore* c) noexcept nogil:
    return (c.trace.records != NULL and c.trace.count < c.trace.capacity
            and c.trace.start <= c.retired_total < c.trace.limit)


cdef void trace_end(OoOCore* c, RobEntry* e, bint flushed) noexcept nogil:
    cdef TraceRecord* r = &c.trace.records[c.trace.count]
    c.trace.count += 1
    r.seq = e.seq
    r.pc = e.pc
    r.word = e.d.word
    r.fetch_cycle = e.fetch_cycle
    r.rename_cycle = e.rename_cycle
    r.issue_cycle = e.issue_cycle
    r.complete_cycle = e.done_cycle if e.state == ROB_DONE else 0
    r.end_cycle = c.now
    r.flushed = flushed


# ---- squash ------------------------------------------------------------------------------

cdef void squash_younger(OoOCore* c, uint32_t keep) noexcept nogil:
    """Throw away every ROB entry younger than the first `keep` ones, undoing renames."""
    cdef RobEntry* e
    cdef uint32_t i, slot
    while c.rob.count > keep:
        c.rob.count -= 1
        slot = rob_slot(&c.rob, c.rob.count)
        e = &c.rob.entries[slot]
        if e.pdst != NO_PREG:
            c.rn.rat[e.d.rd] = e.old_pdst
            rename_release(&c.rn, e.pdst)
        if e.state == ROB_WAITING and not e.serial:
            c.iq.count -= 1
            iq_clear_ready(&c.iq, slot)
        if e.unit == UNIT_LOAD and e.lsq >= 0:
            c.lsq.lq_count -= 1
        elif e.unit == UNIT_STORE and e.lsq >= 0:
            c.lsq.sq_count -= 1
        if is_barrier(e.d.op):
            c.barriers -= 1
        if tracing(c):
            trace_end(c, e, True)
        c.stats.squashed += 1
    # Drop squashed instructions still executing.
    i = 0
    while i < c.inflight_count:
        if rob_age(&c.rob, c.inflight[i]) >= c.rob.count:
            c.inflight_count -= 1
            c.inflight[i] = c.inflight[c.inflight_count]
        else:
            i += 1


cdef void restart_at(OoOCore* c, uint32_t keep, uint32_t pc) noexcept nogil:
    """Squash all but the `keep` oldest entries and fetch again from pc."""
    squash_younger(c, keep)
    frontend_redirect(&c.fe, pc)


cdef void flush_all(OoOCore* c, uint32_t pc) noexcept nogil:
    """Squash everything in flight (the oldest entry is the next to commit, at pc) and
    fetch again from pc, with the predictor as it was before the oldest squashed fetch."""
    if c.rob.count:
        bp_restore(&c.fe.bp, &c.rob.entries[c.rob.head].cp)
    elif c.fe.count:
        bp_restore(&c.fe.bp, &frontend_peek(&c.fe).cp)
    restart_at(c, 0, pc)


# ---- address translation -----------------------------------------------------------------

cdef inline int translate_data(OoOCore* c, PhysMem mem, uint32_t vaddr, uint32_t kind,
                               bint speculative, uint32_t* paddr, uint32_t* latency,
                               bint* dirty_pending) noexcept nogil:
    """Translate an aligned data access (c.mmu is set): ACCESS_OK with *paddr, or the
    fault's cause; *latency is what the translation adds, *dirty_pending whether a
    speculative store left D clear (sv32.pxd Sv32Walk.dirty_pending)."""
    cdef uint32_t offset
    cdef Translation t
    cdef int cause
    if mmu_fast(c.mmu, vaddr, kind, &offset):  # a dTLB hit that permits the access: no time
        c.mmu.dtlb.hits += 1    # (the slow path counts its own lookups)
        paddr[0] = offset + mem.base
        latency[0] = 0
        dirty_pending[0] = False
        return ACCESS_OK
    cause = mmu_translate(c.mmu, mem, vaddr, kind, speculative, &t)
    latency[0] = translation_latency(&c.p.memory, c.hart, &t, c.p.l2tlb_latency, c.now,
                                     &c.mmu.stats.walk_cycles)
    paddr[0] = t.paddr
    dirty_pending[0] = t.walk.dirty_pending != 0
    return cause


# ---- commit ------------------------------------------------------------------------------

cdef inline uint64_t counter(OoOCore* c, Hart* h, uint32_t csr) noexcept nogil:
    cdef uint32_t base = csr & ~0x80U
    if base == CSR_CYCLE:
        return c.now
    if base == CSR_TIME:
        return c.now // h.time_divider
    return h.instret


cdef void start_serial(OoOCore* c, Hart* h, PhysMem mem, RobEntry* e) noexcept nogil:
    """An AMO, LR/SC or CSR read reached the ROB head: it occupies the head for its
    latency; perform_serial then does all of it, atomically, as it commits."""
    cdef uint32_t addr = h.x[e.d.rs1]
    cdef uint32_t xlate = 0
    cdef bint translated = True
    cdef bint dirty_pending
    e.state = ROB_EXECUTING
    e.issue_cycle = c.now
    e.done_cycle = c.now + c.p.serial_latency
    if op_unit(e.d.op) == UNIT_AMO and c.mmu != NULL and not addr & 3:
        # Translated here for the time it takes (speculatively: D waits for the commit).
        translated = translate_data(c, mem, addr, XLATE_LOAD if e.d.op == OP_LR_W else XLATE_STORE,
                                    True, &addr, &xlate, &dirty_pending) == ACCESS_OK
        e.done_cycle += xlate
    if not translated:
        pass    # the fault is raised by perform_serial
    # An SC touches the caches only when it succeeds (in perform_serial): a failing SC
    # that took the line anyway would break the other hart's reservation, and two harts
    # retrying LR/SC would then break each other's forever.
    elif e.d.op == OP_LR_W:
        e.done_cycle += access_latency(&c.p.memory, c.hart, e.pc, addr, ACCESS_LOAD,
                                       c.now + xlate)
    elif op_unit(e.d.op) == UNIT_AMO and e.d.op != OP_SC_W:
        e.done_cycle += access_latency(&c.p.memory, c.hart, e.pc, addr, ACCESS_ATOMIC,
                                       c.now + xlate)
    c.stats.serial_executed += 1


cdef void perform_serial(OoOCore* c, Hart* h, PhysMem mem, RobEntry* e) noexcept nogil:
    """Execute a serial instruction on committed state, in the cycle it commits: no other
    hart runs between its read and its write, and a run that ends before its commit
    leaves no trace of it in memory."""
    cdef uint8_t op = e.d.op
    cdef uint32_t vaddr = h.x[e.d.rs1]
    cdef uint32_t addr = vaddr      # physical
    cdef uint32_t value = 0
    cdef uint32_t csr = <uint32_t>e.d.imm
    cdef uint32_t xlate
    cdef int cause = ACCESS_OK
    cdef uint64_t younger_load
    cdef bint wrote_memory = False
    cdef bint dirty_pending
    if op_unit(op) == UNIT_AMO and c.mmu != NULL:
        # Now, non-speculatively: an SC or AMO to a clean page sets D here (or faults).
        if vaddr & 3:
            cause = CAUSE_LOAD_MISALIGNED if op == OP_LR_W else CAUSE_STORE_MISALIGNED
        else:
            cause = translate_data(c, mem, vaddr, XLATE_LOAD if op == OP_LR_W else XLATE_STORE,
                                   False, &addr, &xlate, &dirty_pending)
    if cause != ACCESS_OK:
        pass
    elif op == OP_LR_W:
        cause = load(mem, addr, 4, &value, CAUSE_LOAD_MISALIGNED, CAUSE_LOAD_ACCESS)
        if cause == ACCESS_OK:
            h.reservation = addr
            h.reserved = 1
            reserve(&c.p.memory, c.hart, addr)
            e.result = value
    elif op == OP_SC_W:
        cause = load(mem, addr, 4, &value, CAUSE_STORE_MISALIGNED, CAUSE_STORE_ACCESS)
        if cause == ACCESS_OK:
            if h.reserved and h.reservation == addr and reservation_held(&c.p.memory, c.hart, addr):
                access_latency(&c.p.memory, c.hart, e.pc, addr, ACCESS_ATOMIC, c.now)
                store(mem, addr, 4, h.x[e.d.rs2], c.hart)
                wrote_memory = True
                e.result = 0
            else:
                e.result = 1
            h.reserved = 0
            release(&c.p.memory, c.hart)
    elif op_unit(op) == UNIT_AMO:
        cause = load(mem, addr, 4, &value, CAUSE_STORE_MISALIGNED, CAUSE_STORE_ACCESS)
        if cause == ACCESS_OK:
            store(mem, addr, 4, sem_amo(op, value, h.x[e.d.rs2]), c.hart)
            wrote_memory = True
            e.result = value
    elif op_unit(op) == UNIT_CSR:
        if sem_csr_writes(op == OP_CSRRW or op == OP_CSRRWI, e.d.rs1) or not (
                0xc00U <= (csr & ~0x80U) <= 0xc02U):
            e.exception = CAUSE_ILLEGAL_INSTRUCTION
            e.tval = e.d.word
        else:
            e.result = <uint32_t>(counter(c, h, csr) >> 32) if csr & 0x80U else <uint32_t>counter(c, h, csr)
    if cause != ACCESS_OK:
        e.exception = cause
        e.tval = vaddr
    e.next_pc = e.pc + 4
    e.state = ROB_DONE
    if e.exception == NO_EXCEPTION and e.pdst != NO_PREG:
        c.rn.value[e.pdst] = e.result
        c.rn.ready[e.pdst] = 1
        wake(c, e.pdst)
    if wrote_memory:
        # Younger loads that already read this word must see the new value.
        younger_load = lsq_violation(&c.lsq, e.seq, addr, 4)
        if younger_load:
            squash_from_seq(c, younger_load)


cdef void squash_from_seq(OoOCore* c, uint64_t seq) noexcept nogil:
    """Squash the instruction numbered seq and everything younger, and refetch it."""
    cdef uint32_t age
    cdef RobEntry* e
    for age in range(c.rob.count):
        e = &c.rob.entries[rob_slot(&c.rob, age)]
        if e.seq == seq:
            bp_restore(&c.fe.bp, &e.cp)
            restart_at(c, age, e.pc)
            return


cdef int stage_commit(OoOCore* c, Hart* h, PhysMem mem, uint64_t remaining) noexcept nogil:
    """Retire up to commit_width instructions, stopping after `remaining`; returns a
    Stop, or -1 to keep going."""
    cdef uint32_t n = 0
    cdef RobEntry* e
    cdef StoreEntry* s
    while n < c.p.commit_width and c.rob.count > 0:
        e = &c.rob.entries[c.rob.head]
        if e.state != ROB_DONE:
            if not e.serial:
                break
            if e.state == ROB_WAITING:
                start_serial(c, h, mem, e)
                break
            if e.done_cycle > c.now:
                break
            perform_serial(c, h, mem, e)
        elif e.head_work and e.exception == NO_EXCEPTION:
            if not finish_at_head(c, mem, e):
                break
        if e.exception != NO_EXCEPTION:
            h.trap_cause = <uint32_t>e.exception
            h.trap_value = e.tval
            h.pc = e.pc
            h.reserved = 0
            release(&c.p.memory, c.hart)
            return STOP_TRAP
        if e.unit == UNIT_STORE:
            s = &c.lsq.stores[c.lsq.sq_head]
            if not e.head_work & HEAD_MMIO:     # (an MMIO store went to the bus)
                store(mem, s.addr, s.width, s.data, c.hart)
                # The store buffer hides its latency; the access still moves the caches.
                store_latency(&c.p.memory, c.hart, e.pc, s.addr, s.width, c.now)
            c.lsq.sq_head = sq_slot(&c.lsq, 1)
            c.lsq.sq_count -= 1
        elif e.unit == UNIT_LOAD:
            c.lsq.lq_head = lq_slot(&c.lsq, 1)
            c.lsq.lq_count -= 1
        if e.pdst != NO_PREG:
            h.x[e.d.rd] = e.result
            rename_release(&c.rn, e.old_pdst)
        if e.bclass != BR_NONE:
            bp_train(&c.fe.bp, e.pc, e.bclass, &e.cp, e.next_pc != e.pc + 4, e.next_pc)
            c.stats.branches[e.bclass] += 1
            c.stats.mispredicts[e.bclass] += e.mispredicted
        if is_barrier(e.d.op):
            c.barriers -= 1
        if tracing(c):
            trace_end(c, e, False)
        h.pc = e.next_pc
        h.instret += 1
        c.rob.head = rob_slot(&c.rob, 1)
        c.rob.count -= 1
        c.stats.committed += 1
        c.retired_total += 1
        c.last_commit_cycle = c.now
        n += 1
        remaining -= 1
        if remaining == 0:
            return STOP_BUDGET
        if e.head_work & HEAD_MMIO:
            # A device access may have changed memory (DMA) or raised an interrupt: what
            # ran ahead of it starts again, and commit continues next cycle.
            flush_all(c, h.pc)
            break
    return -1


cdef bint finish_at_head(OoOCore* c, PhysMem mem, RobEntry* e) noexcept nogil:
    """The head load or store's remaining work (e.head_work): set D (waiting for the walk),
    wait for the bus, perform an MMIO access. Returns False while the head must wait;
    True when it may commit (with e.exception set if the work faulted)."""
    cdef Translation t
    cdef uint32_t value = 0
    cdef uint64_t start
    cdef int cause = ACCESS_OK
    cdef LoadEntry* ld
    cdef StoreEntry* s
    if e.head_work & HEAD_SET_DIRTY:
        if not e.head_work & HEAD_DIRTY_WALKING:
            # The store is no longer speculative: the walker sets D now (e.tval is its
            # vaddr), and the store waits for the walk's PTE reads.
            cause = mmu_translate(c.mmu, mem, e.tval, XLATE_STORE, False, &t)
            e.done_cycle = c.now + translation_latency(&c.p.memory, c.hart, &t,
                                                       c.p.l2tlb_latency, c.now,
                                                       &c.mmu.stats.walk_cycles)
            if cause != ACCESS_OK:
                e.exception = cause
                return True
            e.head_work |= HEAD_DIRTY_WALKING
        if e.done_cycle > c.now:
            return False
    if e.head_work & HEAD_MMIO:
        if not e.head_work & HEAD_MMIO_STARTED:     # the bus serves one access at a time
            e.head_work |= HEAD_MMIO_STARTED
            start = c.now if c.now > c.bus.done else c.bus.done
            e.done_cycle = start + c.bus.latency
            return False
        if e.done_cycle > c.now:
            return False
    if e.head_work & HEAD_MMIO:
        start = e.done_cycle - c.bus.latency
        if e.unit == UNIT_LOAD:
            ld = &c.lsq.loads[e.lsq]
            cause = bus_load(c.bus, ld.addr, ld.width, &value, start)
            if cause == ACCESS_OK:
                c.stats.mmio_loads += 1
                e.result = load_result(e.d.op, value)
                if e.pdst != NO_PREG:
                    c.rn.value[e.pdst] = e.result
                    c.rn.ready[e.pdst] = 1
                    wake(c, e.pdst)
        else:
            s = &c.lsq.stores[e.lsq]
            cause = bus_store(c.bus, s.addr, s.width, s.data, start)
            if cause == ACCESS_OK:
                c.stats.mmio_stores += 1
        if cause != ACCESS_OK:
            e.exception = cause     # e.tval holds the virtual address
    return True


cdef int devices_cycle(OoOCore* c, Hart* h, PhysMem mem) noexcept nogil:
    """Bring the devices to now and drop what DMA wrote from the caches (ports.pxd);
    STOP_TRAP with the interrupt to take before the next commit when one is pending and
    enabled, else -1.

    Pending interrupts change only when the devices tick (a due event: the bus's time
    moves) or serve an MMIO access (its counts move), whichever hart caused it, and
    Hart.mie only between runs; so the pending bits are read again only after one of
    those (bus_advance's check is inlined here)."""
    cdef uint32_t pending
    cdef Bus* bus = c.bus
    cdef uint64_t accesses
    if c.now >= bus.next_event:
        device_tick(bus, c.now)
        c.irq_check = 1
    if dma_pending(bus):
        ports_sync_dma(c.ports, mem)
    if h.mie == 0:
        return -1
    accesses = bus.loads + bus.stores + bus.faults
    if not c.irq_check and accesses == c.bus_accesses and bus.now == c.bus_now:
        return -1
    c.irq_check = 0
    c.bus_accesses = accesses
    c.bus_now = bus.now
    pending = bus_pending_interrupt(bus, c.hart, c.now) & h.mie
    if pending == 0:
        return -1
    # h.pc is the next instruction to commit; nothing younger is architectural.
    h.trap_cause = CAUSE_INTERRUPT | interrupt_code(pending)
    h.trap_value = 0
    h.reserved = 0
    release(&c.p.memory, c.hart)
    c.stats.interrupts += 1
    return STOP_TRAP


# ---- writeback ---------------------------------------------------------------------------

cdef void wake(OoOCore* c, uint16_t preg) noexcept nogil:
    """Recount the pending operands of every instruction waiting for preg."""
    cdef uint32_t k, n, slot, age
    cdef RobEntry* e
    n = c.rn.waiter_count[preg]
    if n <= MAX_WAITERS:
        for k in range(n):
            slot = c.rn.waiter_slot[preg * MAX_WAITERS + k]
            e = &c.rob.entries[slot]
            if e.seq == c.rn.waiter_seq[preg * MAX_WAITERS + k] and rob_age(&c.rob, slot) < c.rob.count:
                recount(c, e, slot)
    else:
        for age in range(c.rob.count):
            slot = rob_slot(&c.rob, age)
            e = &c.rob.entries[slot]
            if e.psrc1 == preg or e.psrc2 == preg:
                recount(c, e, slot)
    c.rn.waiter_count[preg] = 0


cdef inline void recount(OoOCore* c, RobEntry* e, uint32_t slot) noexcept nogil:
    if e.state != ROB_WAITING:
        return
    e.pending = (not c.rn.ready[e.psrc1]) + (not c.rn.ready[e.psrc2])
    if e.pending == 0 and not e.serial:
        iq_set_ready(&c.iq, slot)


cdef void stage_writeback(OoOCore* c) noexcept nogil:
    cdef uint32_t i = 0
    cdef uint32_t slot
    cdef RobEntry* e
    while i < c.inflight_count:
        slot = c.inflight[i]
        e = &c.rob.entries[slot]
        if e.done_cycle > c.now:
            i += 1
            continue
        c.inflight_count -= 1
        c.inflight[i] = c.inflight[c.inflight_count]
        e.state = ROB_DONE
        if e.exception != NO_EXCEPTION or e.head_work & HEAD_MMIO:
            continue    # (an MMIO load's value comes at the ROB head)
        if e.pdst != NO_PREG:
            c.rn.value[e.pdst] = e.result
            c.rn.ready[e.pdst] = 1
            wake(c, e.pdst)
        if e.bclass != BR_NONE and e.next_pc != e.pred_next:
            e.mispredicted = 1
            bp_repair(&c.fe.bp, e.bclass, &e.cp, e.next_pc != e.pc + 4, e.pc)
            restart_at(c, rob_age(&c.rob, slot) + 1, e.next_pc)
            i = 0   # the squash reordered the in-flight list


# ---- issue and execute -------------------------------------------------------------------

cdef int execute_load(OoOCore* c, PhysMem mem, RobEntry* e, uint32_t vaddr,
                      uint32_t* xlate, uint32_t* paddr_out) noexcept nogil:
    """Translate a load and read its value from an older store or memory: 0 when it read
    RAM (or forwarded) at *paddr_out; 1 when it accesses nothing now (an exception, or
    MMIO, left for the ROB head); -1 if it must wait (replay). *xlate: translation cycles."""
    cdef uint32_t width = access_width(e.d.op)
    cdef uint32_t value = 0
    cdef uint32_t off
    cdef uint32_t paddr = vaddr
    cdef uint64_t source = 0
    cdef LoadEntry* ld = &c.lsq.loads[e.lsq]
    cdef int forward, cause
    cdef bint dirty_pending
    e.tval = vaddr
    if vaddr & (width - 1):
        e.exception = CAUSE_LOAD_MISALIGNED
        return 1
    if c.mmu != NULL:
        cause = translate_data(c, mem, vaddr, XLATE_LOAD, True, &paddr, xlate, &dirty_pending)
        if cause != ACCESS_OK:
            e.exception = cause
            return 1
    if not ram_offset(mem, paddr, width, &off):
        if c.bus == NULL:
            e.exception = CAUSE_LOAD_ACCESS
            return 1
        ld.addr = paddr         # MMIO: performed at the ROB head (never forwarded)
        ld.width = <uint8_t>width
        e.head_work = HEAD_MMIO
        return 1
    forward = lsq_forward(&c.lsq, e.seq, paddr, width, False, &value, &source)
    if forward == FORWARD_BLOCKED:
        return -1
    if forward == FORWARD_FULL:
        c.stats.loads_forwarded += 1
    else:
        value = ram_read(mem, off, width)
    ld.addr = paddr
    ld.width = <uint8_t>width
    ld.executed = 1
    ld.source_seq = source
    e.result = load_result(e.d.op, value)
    paddr_out[0] = paddr
    return 0


cdef uint64_t execute_store(OoOCore* c, PhysMem mem, RobEntry* e, uint32_t vaddr, uint32_t data,
                            uint32_t* xlate) noexcept nogil:
    """Translate a store and record its physical address and data; returns the seq of a
    younger load that read past it too early (a memory-order violation), or 0."""
    cdef uint32_t width = access_width(e.d.op)
    cdef uint32_t off
    cdef uint32_t paddr = vaddr
    cdef StoreEntry* s = &c.lsq.stores[e.lsq]
    cdef int cause
    cdef bint dirty_pending
    e.tval = vaddr
    if vaddr & (width - 1):
        e.exception = CAUSE_STORE_MISALIGNED
    else:
        if c.mmu != NULL:
            cause = translate_data(c, mem, vaddr, XLATE_STORE, True, &paddr, xlate, &dirty_pending)
            if cause != ACCESS_OK:
                e.exception = cause
            elif dirty_pending:
                e.head_work = HEAD_SET_DIRTY
        if e.exception == NO_EXCEPTION and not ram_offset(mem, paddr, width, &off):
            if c.bus == NULL:
                e.exception = CAUSE_STORE_ACCESS
            else:
                e.head_work |= HEAD_MMIO    # performed at the ROB head, on the bus
    s.addr = paddr
    s.data = data
    s.width = <uint8_t>width
    s.known = 1
    if e.exception != NO_EXCEPTION or e.head_work & HEAD_MMIO:
        return 0
    return lsq_violation(&c.lsq, e.seq, paddr, width)


cdef int execute(OoOCore* c, PhysMem mem, RobEntry* e, uint64_t* violation) noexcept nogil:
    """Compute an issued instruction's result, next pc or exception; returns its
    latency, or -1 when it cannot execute this cycle."""
    cdef uint8_t op = e.d.op
    cdef uint32_t a = c.rn.value[e.psrc1]
    cdef uint32_t b = c.rn.value[e.psrc2]
    cdef uint32_t imm = <uint32_t>e.d.imm
    cdef uint32_t xlate = 0
    cdef uint32_t paddr = 0
    cdef uint64_t seq
    cdef int accessed
    e.next_pc = e.pc + 4
    if e.unit == UNIT_LOAD:
        accessed = execute_load(c, mem, e, a + imm, &xlate, &paddr)
        if accessed < 0:
            return -1
        if accessed > 0:
            return c.p.latency[UNIT_LOAD] + xlate
        return (c.p.latency[UNIT_LOAD] - 1 + xlate
                + access_latency(&c.p.memory, c.hart, e.pc, paddr, ACCESS_LOAD, c.now + xlate))
    if e.unit == UNIT_STORE:
        seq = execute_store(c, mem, e, a + imm, b, &xlate)
        if seq and (violation[0] == 0 or seq < violation[0]):
            violation[0] = seq
        return c.p.latency[UNIT_STORE] + xlate
    if e.unit == UNIT_BRANCH:
        if op == OP_JAL:
            e.next_pc = e.pc + imm
        elif op == OP_JALR:
            e.next_pc = (a + imm) & ~1U
        elif branch_taken(op, a, b):
            e.next_pc = e.pc + imm
        if e.next_pc & 3:
            e.exception = CAUSE_FETCH_MISALIGNED
            e.tval = e.next_pc
        e.result = e.pc + 4
        return c.p.latency[UNIT_BRANCH]
    e.result = int_result(op, a, b, imm, e.pc)
    return c.p.latency[e.unit]


cdef bint older_barrier(OoOCore* c, RobEntry* load) noexcept nogil:
    """Whether a fence, AMO or LR/SC older than `load` is still in the ROB: loads do not
    pass them (they order memory for the other harts; aq/rl are treated as fences)."""
    cdef uint32_t age
    cdef RobEntry* e
    if c.barriers == 0:
        return False
    for age in range(c.rob.count):
        e = &c.rob.entries[rob_slot(&c.rob, age)]
        if e.seq >= load.seq:
            return False
        if is_barrier(e.d.op):
            return True
    return False


cdef inline bint is_barrier(uint8_t op) noexcept nogil:
    return op_unit(op) == UNIT_AMO or op == OP_FENCE or op == OP_FENCE_TSO


cdef bint load_may_issue(OoOCore* c, RobEntry* e) noexcept nogil:
    if older_barrier(c, e):
        return False
    if c.p.memory_dependence == MDP_SPECULATE:
        return True
    if c.p.memory_dependence == MDP_WAIT and not c.lsq.wait_bits[wait_index(&c.lsq, e.pc)]:
        return True
    return lsq_older_stores_known(&c.lsq, e.seq)


cdef void stage_issue(OoOCore* c, PhysMem mem) noexcept nogil:
    cdef uint32_t used[NUM_UNITS]
    cdef uint32_t issued = 0
    cdef uint32_t age = 0
    cdef uint32_t slot, k
    cdef int found, latency, divider
    cdef uint64_t violation = 0
    cdef RobEntry* e
    memset(used, 0, sizeof(used))
    while issued < c.p.issue_width:
        found = iq_oldest_ready(&c.iq, &c.rob, age)
        if found < 0:
            break
        age = <uint32_t>found + 1
        slot = rob_slot(&c.rob, <uint32_t>found)
        e = &c.rob.entries[slot]
        if used[e.unit] >= c.p.units[e.unit]:
            continue
        divider = -1
        if e.unit == UNIT_DIV:
            for k in range(c.p.units[UNIT_DIV]):
                if c.div_free_at[k] <= c.now:
                    divider = <int>k
                    break
            if divider < 0:
                continue
        if e.unit == UNIT_LOAD and not load_may_issue(c, e):
            c.stats.load_replays += 1
            continue
        latency = execute(c, mem, e, &violation)
        if latency < 0:
            c.stats.load_replays += 1
            continue
        if divider >= 0:
            c.div_free_at[divider] = c.now + <uint64_t>latency
        used[e.unit] += 1
        issued += 1
        iq_clear_ready(&c.iq, slot)
        c.iq.count -= 1
        e.state = ROB_EXECUTING
        e.issue_cycle = c.now
        e.done_cycle = c.now + <uint64_t>latency
        c.inflight[c.inflight_count] = slot
        c.inflight_count += 1
        c.stats.unit_issued[e.unit] += 1
    c.stats.issued += issued
    if violation:
        c.stats.mem_order_violations += 1
        for age in range(c.rob.count):
            e = &c.rob.entries[rob_slot(&c.rob, age)]
            if e.seq == violation:
                c.lsq.wait_bits[wait_index(&c.lsq, e.pc)] = 1
                break
        squash_from_seq(c, violation)


# ---- rename and dispatch -----------------------------------------------------------------

cdef inline bint reads_rs1(uint8_t fmt) noexcept nogil:
    return fmt != FMT_U and fmt != FMT_J


cdef inline bint reads_rs2(uint8_t fmt) noexcept nogil:
    return fmt == FMT_R or fmt == FMT_S or fmt == FMT_B


cdef void stage_rename(OoOCore* c) noexcept nogil:
    cdef uint32_t n = 0
    cdef uint32_t slot
    cdef FetchEntry* f
    cdef RobEntry* e
    cdef uint8_t unit, fmt
    cdef bint serial, has_dest
    cdef LoadEntry* ld
    cdef StoreEntry* st
    while n < c.p.rename_width:
        if c.fe.count == 0 or frontend_peek(&c.fe).ready_cycle > c.now:
            if n == 0:
                c.stats.fetch_starved += 1
            break
        f = frontend_peek(&c.fe)
        unit = op_unit(f.d.op) if f.fault < 0 else UNIT_SYSTEM
        serial = (unit == UNIT_AMO or unit == UNIT_CSR or unit == UNIT_SYSTEM
                  or f.d.op == OP_ILLEGAL or f.fault >= 0)
        has_dest = f.fault < 0 and f.d.rd != RD_SINK
        if c.rob.count == c.rob.size:
            c.stats.stall_rob_full += 1
            break
        if not serial and c.iq.count == c.iq.capacity:
            c.stats.stall_iq_full += 1
            break
        if unit == UNIT_LOAD and c.lsq.lq_count == c.lsq.lq_size:
            c.stats.stall_lq_full += 1
            break
        if unit == UNIT_STORE and c.lsq.sq_count == c.lsq.sq_size:
            c.stats.stall_sq_full += 1
            break
        if has_dest and c.rn.free_count == 0:
            c.stats.stall_no_regs += 1
            break
        slot = rob_slot(&c.rob, c.rob.count)
        c.rob.count += 1
        e = &c.rob.entries[slot]
        c.next_seq += 1
        e.seq = c.next_seq
        e.pc = f.pc
        e.pred_next = f.pred_next
        e.next_pc = f.pc + 4
        e.d = f.d
        e.unit = unit
        e.bclass = f.bclass
        e.serial = serial
        e.mispredicted = 0
        e.head_work = 0
        e.lsq = -1
        e.exception = NO_EXCEPTION
        e.tval = 0
        e.result = 0
        e.cp = f.cp
        e.fetch_cycle = f.fetch_cycle
        e.rename_cycle = c.now
        e.issue_cycle = 0
        e.done_cycle = 0
        e.state = ROB_WAITING
        fmt = op_format(f.d.op)
        e.psrc1 = c.rn.rat[f.d.rs1] if not serial and reads_rs1(fmt) else 0
        e.psrc2 = c.rn.rat[f.d.rs2] if not serial and reads_rs2(fmt) else 0
        e.pending = (not c.rn.ready[e.psrc1]) + (not c.rn.ready[e.psrc2])
        if not c.rn.ready[e.psrc1]:
            rename_add_waiter(&c.rn, e.psrc1, slot, e.seq)
        if e.psrc2 != e.psrc1 and not c.rn.ready[e.psrc2]:
            rename_add_waiter(&c.rn, e.psrc2, slot, e.seq)
        e.pdst = NO_PREG
        e.old_pdst = NO_PREG
        if has_dest:
            e.old_pdst = c.rn.rat[f.d.rd]
            e.pdst = rename_allocate(&c.rn)
            c.rn.rat[f.d.rd] = e.pdst
        if f.fault >= 0 or f.d.op == OP_ILLEGAL or f.d.op == OP_ECALL or f.d.op == OP_EBREAK \
                or f.d.op == OP_FENCE or f.d.op == OP_FENCE_TSO or f.d.op == OP_FENCE_I:
            e.done_cycle = c.now    # complete at rename: nothing to execute
        if f.fault >= 0:
            e.exception = f.fault
            e.tval = f.pc
            e.state = ROB_DONE
        elif f.d.op == OP_ILLEGAL:
            e.exception = CAUSE_ILLEGAL_INSTRUCTION
            e.tval = f.d.word
            e.state = ROB_DONE
        elif f.d.op == OP_ECALL:
            e.exception = CAUSE_ECALL_U
            e.state = ROB_DONE
        elif f.d.op == OP_EBREAK:
            e.exception = CAUSE_BREAKPOINT
            e.tval = f.pc
            e.state = ROB_DONE
        elif f.d.op == OP_FENCE or f.d.op == OP_FENCE_TSO or f.d.op == OP_FENCE_I:
            e.state = ROB_DONE      # in-order commit already orders them for one hart
        elif not serial:
            c.iq.count += 1
            if e.pending == 0:
                iq_set_ready(&c.iq, slot)
        if unit == UNIT_LOAD:
            e.lsq = <int16_t>lq_slot(&c.lsq, c.lsq.lq_count)
            c.lsq.lq_count += 1
            ld = &c.lsq.loads[e.lsq]
            ld.seq = e.seq
            ld.rob_slot = slot
            ld.executed = 0
            ld.source_seq = 0
        elif unit == UNIT_STORE:
            e.lsq = <int16_t>sq_slot(&c.lsq, c.lsq.sq_count)
            c.lsq.sq_count += 1
            st = &c.lsq.stores[e.lsq]
            st.seq = e.seq
            st.rob_slot = slot
            st.known = 0
        if is_barrier(f.d.op):     # (a fetch fault's op is OP_UNDECODED)
            c.barriers += 1
        frontend_pop(&c.fe)
        n += 1
    c.stats.renamed += n


# ---- invariants --------------------------------------------------------------------------

cdef bint ooo_invariants_hold(OoOCore* c) noexcept nogil:
    """ROB order, free-list conservation, queue bounds and IQ accounting."""
    cdef uint32_t age, i, dests = 0, waiting = 0
    cdef uint64_t previous = 0
    cdef RobEntry* e
    cdef uint8_t* seen
    cdef bint ok = True
    if (c.rob.count > c.rob.size or c.iq.count > c.iq.capacity or c.lsq.lq_count > c.lsq.lq_size
            or c.lsq.sq_count > c.lsq.sq_size or c.fe.count > c.fe.size):
        return False
    for age in range(c.rob.count):
        e = &c.rob.entries[rob_slot(&c.rob, age)]
        if e.seq <= previous:
            return False
        previous = e.seq
        if e.pdst != NO_PREG:
            dests += 1
        if e.state == ROB_WAITING and not e.serial:
            waiting += 1
    if waiting != c.iq.count:
        return False
    if c.rn.free_count + 32 + dests != c.rn.nphys:
        return False
    # No physical register is both free and mapped, or free twice.
    seen = <uint8_t*>calloc(c.rn.nphys, 1)
    if seen == NULL:
        return True
    for i in range(32):
        seen[c.rn.rat[i]] += 1
    for i in range(c.rn.free_count):
        seen[c.rn.free_list[i]] += 1
    for i in range(c.rn.nphys):
        if seen[i] > 1:
            ok = False
    free(seen)
    return ok


# ---- the cycle ---------------------------------------------------------------------------

cdef void ooo_begin(OoOCore* c, Hart* h) noexcept nogil:
    """Start a run: an empty pipeline over the hart's architectural state."""
    h.x[0] = 0
    start_run(c, h)


cdef int ooo_cycle(OoOCore* c, Hart* h, PhysMem mem, uint64_t remaining) noexcept nogil:
    """One cycle, stages commit-first; returns a Stop, or -1 to keep going (`remaining`:
    instructions still to commit before STOP_BUDGET)."""
    cdef int stop
    if c.bus != NULL:
        stop = devices_cycle(c, h, mem)
        if stop >= 0:
            return stop
    stop = stage_commit(c, h, mem, remaining)
    if stop >= 0:
        return stop
    stage_writeback(c)
    stage_issue(c, mem)
    stage_rename(c)
    c.stats.fetched += fetch_stage(&c.fe, mem, &c.p.memory, c.hart, c.now)
    if c.p.check_invariants and not ooo_invariants_hold(c):
        return STOP_INVARIANT
    c.now += 1
    if c.now - c.last_commit_cycle > c.p.deadlock_cycles:
        return STOP_DEADLOCK
    return -1


cdef void ooo_end(OoOCore* c, Hart* h) noexcept nogil:
    """End a run: only committed state stays; in-flight work is discarded."""
    cdef uint32_t age
    # What the run leaves in flight (a trapping instruction included: the kernel, not
    # the pipeline, finishes it) leaves the trace as flushed.
    for age in range(c.rob.count):
        if tracing(c):
            trace_end(c, &c.rob.entries[rob_slot(&c.rob, age)], True)
    c.now += 1
    c.stats.cycles += c.now - c.start_cycle
    h.cycle = c.now
    # Wrong-path work leaves no trace in the predictor's speculative state.
    if c.rob.count:
        bp_restore(&c.fe.bp, &c.rob.entries[c.rob.head].cp)
    elif c.fe.count:
        bp_restore(&c.fe.bp, &frontend_peek(&c.fe).cp)


cdef int run_ooo(OoOCore* c, Hart* h, PhysMem* m, uint64_t budget) noexcept nogil:
    """Run until `budget` instructions commit or one traps; returns a Stop."""
    cdef PhysMem mem = m[0]
    cdef uint64_t committed_before = c.stats.committed
    cdef uint64_t mmio = c.bus.loads + c.bus.stores if c.bus != NULL else 0
    cdef int stop = STOP_BUDGET
    if budget == 0:
        return STOP_BUDGET
    ooo_begin(c, h)
    while True:
        stop = ooo_cycle(c, h, mem, budget - (c.stats.committed - committed_before))
        if stop >= 0:
            break
        if c.bus != NULL and c.bus.loads + c.bus.stores != mmio:   # the UART may want us
            mmio = c.bus.loads + c.bus.stores
            if bus_wants_host(c.bus):
                break       # STOP_BUDGET: Python drains it and comes back
    ooo_end(c, h)
    return stop

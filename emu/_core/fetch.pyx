"""The fetch stage (fetch.pxd)."""

from libc.stdlib cimport calloc, free

from emu._core.bpred cimport BR_NONE, bp_checkpoint, bp_predict, branch_class
from emu._core.decode cimport Decoded
from emu._core.memlat cimport ACCESS_FETCH, MEM_CACHES, access_latency
from emu._core.memory cimport fetch_decoded
from emu._core.opcodes cimport FMT_B, FMT_J, OP_EBREAK, OP_ECALL, op_format
from emu._core.traps cimport CAUSE_FETCH_ACCESS, CAUSE_FETCH_MISALIGNED

cdef int frontend_init(FrontEnd* fe, uint32_t queue_size, uint32_t width, uint32_t depth) except -1:
    fe.entries = <FetchEntry*>calloc(queue_size, sizeof(FetchEntry))
    if fe.entries == NULL:
        raise MemoryError()
    fe.size = queue_size
    fe.width = width
    fe.depth = depth
    fe.line_bits = 6
    frontend_redirect(fe, 0)
    return 0


cdef void frontend_free(FrontEnd* fe) noexcept nogil:
    free(fe.entries)
    fe.entries = NULL


cdef void frontend_redirect(FrontEnd* fe, uint32_t pc) noexcept nogil:
    """Drop everything fetched and continue at pc (predictor state is the caller's)."""
    fe.head = 0
    fe.count = 0
    fe.pc = pc
    fe.stopped = 0
    fe.line = 0


cdef uint32_t fetch_stage(FrontEnd* fe, PhysMem mem, MemoryTiming* timing, uint32_t hart,
                          uint64_t now) noexcept nogil:
    """Fetch up to `width` instructions; returns how many entered the queue."""
    cdef uint32_t fetched = 0
    cdef uint32_t pc, direct_target, line
    cdef FetchEntry* e
    cdef Decoded* d
    cdef uint8_t fmt
    while fetched < fe.width and fe.count < fe.size and not fe.stopped:
        pc = fe.pc
        if timing.model == MEM_CACHES:
            line = (pc >> fe.line_bits) + 1
            if line != fe.line:
                fe.line = line
                fe.line_ready = now + access_latency(timing, hart, pc, ACCESS_FETCH, now)
            if fe.line_ready > now + 1:     # an L1I hit arrives in time for the next stage
                break
        e = &fe.entries[fe.head + fe.count - (fe.size if fe.head + fe.count >= fe.size else 0)]
        fe.count += 1
        fetched += 1
        e.pc = pc
        e.fetch_cycle = now
        e.ready_cycle = now + fe.depth
        e.fault = -1
        e.bclass = BR_NONE
        bp_checkpoint(&fe.bp, &e.cp)   # every entry can be a point to restart from
        if pc & 3:
            e.fault = CAUSE_FETCH_MISALIGNED
        else:
            d = fetch_decoded(mem, pc)
            if d == NULL:
                e.fault = CAUSE_FETCH_ACCESS
            else:
                e.d = d[0]
        if e.fault >= 0:
            e.d.op = 0
            e.d.word = 0
            e.pred_next = pc
            fe.stopped = 1
            break
        if e.d.op == OP_ECALL or e.d.op == OP_EBREAK:
            # Always traps: fetching on would only run ahead into code the trap
            # discards (and scribble on the return-address stack).
            e.pred_next = pc + 4
            fe.stopped = 1
            break
        e.bclass = branch_class(e.d.op, e.d.rd, e.d.rs1)
        if e.bclass == BR_NONE:
            e.pred_next = pc + 4
        else:
            fmt = op_format(e.d.op)
            direct_target = pc + <uint32_t>e.d.imm if fmt == FMT_B or fmt == FMT_J else 0
            e.pred_next = bp_predict(&fe.bp, pc, e.bclass, pc + 4, direct_target, &e.cp)
        fe.pc = e.pred_next
        if e.pred_next != pc + 4:
            break
    return fetched

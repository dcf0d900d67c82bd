"""The fetch stage (fetch.pxd)."""

from libc.stdlib cimport calloc, free

from emu._core.bpred cimport BR_NONE, bp_checkpoint, bp_predict, branch_class
from emu._core.decode cimport Decoded
from emu._core.memlat cimport ACCESS_FETCH, MEM_CACHES, access_latency, translation_latency
from emu._core.memory cimport ACCESS_OK, fetch_decoded
from emu._core.opcodes cimport FMT_B, FMT_J, OP_EBREAK, OP_ECALL, op_format
from emu._core.sv32 cimport SV32_PAGE_MASK, SV32_PAGE_SHIFT, XLATE_FETCH, Translation
from emu._core.tlb cimport mmu_fast, mmu_translate
from emu._core.traps cimport CAUSE_FETCH_ACCESS, CAUSE_FETCH_MISALIGNED

cdef int frontend_init(FrontEnd* fe, uint32_t queue_size, uint32_t width, uint32_t depth) except -1:
    fe.entries = <FetchEntry*>calloc(queue_size, sizeof(FetchEntry))
    if fe.entries == NULL:
        raise MemoryError()
    fe.size = queue_size
    fe.width = width
    fe.depth = depth
    fe.line_bits = 6
    fe.line_hit = 1
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
    fe.vpage = 0


cdef int translate_fetch(FrontEnd* fe, PhysMem mem, MemoryTiming* timing, uint32_t hart,
                         uint32_t pc, uint64_t now) noexcept nogil:
    """Translate the page of pc (4-aligned) for fetch: ACCESS_OK, with vpage, delta and
    xlate_ready set, or the fault's cause (then the next fetch asks again)."""
    cdef uint32_t offset
    cdef Translation t
    cdef int cause
    if mmu_fast(fe.mmu, pc, XLATE_FETCH, &offset):     # an iTLB hit: no time
        fe.mmu.itlb.hits += 1       # (the slow path counts its own lookups)
        fe.delta = offset + mem.base - pc
        fe.xlate_ready = now
    else:
        cause = mmu_translate(fe.mmu, mem, pc, XLATE_FETCH, True, &t)
        if cause != ACCESS_OK:
            translation_latency(timing, hart, &t, fe.l2tlb_latency, now,
                                &fe.mmu.stats.walk_cycles)
            return cause
        fe.delta = t.paddr - pc
        fe.xlate_ready = now + translation_latency(timing, hart, &t, fe.l2tlb_latency, now,
                                                   &fe.mmu.stats.walk_cycles)
    fe.vpage = (pc >> SV32_PAGE_SHIFT) + 1
    return ACCESS_OK


cdef uint32_t fetch_stage(FrontEnd* fe, PhysMem mem, MemoryTiming* timing, uint32_t hart,
                          uint64_t now) noexcept nogil:
    """Fetch up to `width` instructions; returns how many entered the queue."""
    cdef uint32_t fetched = 0
    cdef uint32_t pc, ppc, direct_target, line
    cdef int xlate_fault
    cdef FetchEntry* e
    cdef Decoded* d
    cdef uint8_t fmt
    while fetched < fe.width and fe.count < fe.size and not fe.stopped:
        pc = fe.pc
        ppc = pc
        xlate_fault = -1
        if fe.mmu != NULL and not pc & 3:
            if (pc >> SV32_PAGE_SHIFT) + 1 != fe.vpage:
                xlate_fault = translate_fetch(fe, mem, timing, hart, pc, now)
            if xlate_fault < 0:
                if fe.xlate_ready > now:
                    break
                ppc = pc + fe.delta
        if timing.model == MEM_CACHES and xlate_fault < 0:
            line = (ppc >> fe.line_bits) + 1
            if line != fe.line:
                fe.line = line
                fe.line_ready = now + access_latency(timing, hart, pc, ppc, ACCESS_FETCH, now)
            if fe.line_ready > now + fe.line_hit:   # a hit is part of the front-end pipeline
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
        elif xlate_fault >= 0:
            e.fault = xlate_fault
        else:
            d = fetch_decoded(mem, ppc)
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

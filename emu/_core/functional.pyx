"""The functional core: the fast mode, and the golden model for the detailed core.

`run_functional` executes up to `budget` instructions on one hart, with no Python
object in sight, and returns STOP_BUDGET or, on an exception or an interrupt,
STOP_TRAP with trap_cause/trap_value set and the hart's pc at the instruction that
trapped (nothing of it executed) or, for an interrupt, the next one to execute.
What each instruction computes comes from semantics.pxd, shared with the
out-of-order core; this file only sequences it.

Each case of the dispatch switch either completes its instruction or sets `cause`
(and `addr` or `tval`) without touching architectural state; one check after the
switch, together with the alignment of the next pc, sends every trap down one path.

One loop, four machines. `run_loop` is written once over two fused parameters that
the C compiler specialises away (so the fast case pays nothing for the others):

- Addressing: `Bare` (satp off: addresses are physical) or `Paged` (Sv32: fetches go
  through a one-page translation cached in locals, data through the MMU's inline fast
  slots, tlb.pxd mmu_fast, and on a miss the TLBs and the walker).
- Timing: `Untimed` (one cycle per instruction) or `Timed` (HartPorts.timed: the cache
  hierarchy sees every fetch, load, store and atomic, like cachegrind, and the
  hart is an in-order, blocking core: an instruction costs one cycle plus whatever its
  fetch and its load or atomic take beyond an L1 hit; stores retire into a write
  buffer and cost nothing more; a page-table walk costs its PTE reads through the
  caches; an MMIO access costs its bus time).

The bus (HartPorts.bus) is a runtime check outside the per-instruction path: an access
outside RAM becomes an MMIO access, and the loop runs in chunks that end at the bus's
next device event (and after every MMIO access), where devices tick, what they wrote
by DMA leaves the caches (ports.pxd), and an enabled pending interrupt (Hart.mie)
stops the hart with cause CAUSE_INTERRUPT | code.
"""

from libc.stdint cimport uint8_t, uint32_t, uint64_t

from emu._core.access cimport ACCESS_ATOMIC, ACCESS_FETCH, ACCESS_LOAD, ACCESS_STORE
from emu._core.bus cimport (Bus, bus_advance, bus_load, bus_pending_interrupt, bus_store,
                            bus_wants_host, interrupt_code)
from emu._core.decode cimport Decoded
from emu._core.hart cimport Hart, counter_value
from emu._core.hierarchy cimport Hierarchy, hierarchy_access_bytes, hierarchy_access_pc
from emu._core.memory cimport (ACCESS_OK, PhysMem, code_page, decoded_slot, load, ram_read,
                               ram_write, store)
from emu._core.opcodes cimport *
from emu._core.ports cimport HartPorts, dma_pending, ports_sync_dma
from emu._core.semantics cimport *
from emu._core.sv32 cimport (SATP_MODE_BARE, SV32_PAGE_MASK, XLATE_FETCH, XLATE_LOAD,
                             XLATE_STORE, XLATE_WALK, Translation)
from emu._core.tlb cimport FAST_SLOTS, FastSlot, Mmu, fast_slot_hit, mmu_fast, mmu_translate
from emu._core.traps cimport *


cdef struct Bare:       # fused-type tags: empty in meaning, never dereferenced
    char unused
cdef struct Paged:
    char unused
cdef struct Untimed:
    char unused
cdef struct Timed:
    char unused

ctypedef fused Addressing:
    Bare
    Paged

ctypedef fused Timing:
    Untimed
    Timed


cdef inline bint is_counter(uint32_t csr) noexcept nogil:
    """cycle, time, instret (0xc00-0xc02) and their high halves (0xc80-0xc82)."""
    return 0xc00U <= (csr & ~0x80U) <= 0xc02U


cdef inline int translate(Addressing* addressing, Timing* timing, Hart* h, HartPorts* ports,
                          PhysMem mem, uint32_t vaddr, uint32_t width, uint32_t kind,
                          int misaligned, uint32_t* paddr, uint64_t n) noexcept nogil:
    """The physical address of an access: ACCESS_OK with *paddr, or the trap cause
    (misaligned before translation, then the page or access fault). Timed: a walk's
    PTE reads go through the caches one after the other, and the hart waits for them."""
    cdef uint32_t offset, i, latency
    cdef Translation t
    cdef int cause
    if Addressing is Bare:
        paddr[0] = vaddr
        return ACCESS_OK
    else:
        if vaddr & (width - 1):
            return misaligned
        if mmu_fast(ports.mmu, vaddr, kind, &offset):
            paddr[0] = offset + mem.base
            return ACCESS_OK
        cause = mmu_translate(ports.mmu, mem, vaddr, kind, False, &t)
        if Timing is Timed:
            if t.source == XLATE_WALK:
                for i in range(t.walk.reads):
                    latency = hierarchy_access_pc(ports.caches, h.hart_id, 0, t.walk.pte_addr[i],
                                                  ACCESS_LOAD, h.cycle + n)
                    h.cycle += latency
                    ports.mmu.stats.walk_cycles += latency
        paddr[0] = t.paddr
        return cause


cdef inline void charge(Timing* timing, Hart* h, Hierarchy* caches, uint32_t pc, uint32_t paddr,
                        uint32_t width, uint32_t kind, uint64_t n) noexcept nogil:
    """Timed: put the access through the caches at the hart's cycle (`n` instructions into
    this run); a fetch, load or atomic stalls the hart for what it takes beyond an L1 hit."""
    cdef uint32_t latency, hit
    cdef uint64_t now
    if Timing is Timed:
        now = h.cycle + n
        if kind == ACCESS_STORE:
            hierarchy_access_bytes(caches, h.hart_id, pc, paddr, width, kind, now)
            return
        latency = hierarchy_access_pc(caches, h.hart_id, pc, paddr, kind, now)
        hit = (caches.params.l1i.hit_latency if kind == ACCESS_FETCH
               else caches.params.l1d.hit_latency)
        if latency > hit:
            h.cycle += latency - hit


cdef inline int mmio(Timing* timing, Hart* h, Bus* bus, uint32_t paddr, uint32_t width,
                     uint32_t* value, bint is_store, uint64_t* chunk_end,
                     uint64_t n) noexcept nogil:
    """An access outside RAM goes to the bus (MMIO), at the hart's cycle (`n`
    instructions into this run). It ends the chunk after this instruction, so devices
    and interrupts are looked at again."""
    cdef uint64_t now = h.cycle + n
    cdef int cause
    if is_store:
        cause = bus_store(bus, paddr, width, value[0], now)
    else:
        cause = bus_load(bus, paddr, width, value, now)
    if Timing is Timed:
        if bus.done > now:
            h.cycle += bus.done - now
    chunk_end[0] = n + 1
    return cause


cdef inline int data_load(Addressing* addressing, Timing* timing, Hart* h, PhysMem mem,
                          HartPorts* ports, FastSlot* slots, uint32_t pc, uint32_t vaddr,
                          uint32_t width, uint32_t* value, uint64_t* chunk_end,
                          uint64_t n) noexcept nogil:
    """A load (lb..lw): ACCESS_OK with the zero-extended value, or the trap cause. The
    common case stays small enough to inline: a RAM hit (Paged: a fast-slot hit, which
    has checked permission and bounds); everything else is load_slow's."""
    cdef uint32_t offset
    if Addressing is Paged:
        if vaddr & (width - 1) == 0 and fast_slot_hit(slots, vaddr, &offset):
            value[0] = ram_read(mem, offset, width)
            charge(timing, h, ports.caches, pc, offset + mem.base, width, ACCESS_LOAD, n)
            return ACCESS_OK
    else:
        if load(mem, vaddr, width, value, CAUSE_LOAD_MISALIGNED, CAUSE_LOAD_ACCESS) == ACCESS_OK:
            charge(timing, h, ports.caches, pc, vaddr, width, ACCESS_LOAD, n)
            return ACCESS_OK
    return load_slow(addressing, timing, h, mem, ports, pc, vaddr, width, value, chunk_end, n)


cdef int load_slow(Addressing* addressing, Timing* timing, Hart* h, PhysMem mem,
                   HartPorts* ports, uint32_t pc, uint32_t vaddr, uint32_t width,
                   uint32_t* value, uint64_t* chunk_end, uint64_t n) noexcept nogil:
    """data_load's rare cases: a TLB miss, MMIO, a fault."""
    cdef uint32_t paddr
    cdef int cause = translate(addressing, timing, h, ports, mem, vaddr, width, XLATE_LOAD,
                               CAUSE_LOAD_MISALIGNED, &paddr, n)
    if cause != ACCESS_OK:
        return cause
    cause = load(mem, paddr, width, value, CAUSE_LOAD_MISALIGNED, CAUSE_LOAD_ACCESS)
    if cause == ACCESS_OK:
        charge(timing, h, ports.caches, pc, paddr, width, ACCESS_LOAD, n)
    elif cause == CAUSE_LOAD_ACCESS and ports.bus != NULL:
        cause = mmio(timing, h, ports.bus, paddr, width, value, False, chunk_end, n)
    return cause


cdef inline int data_store(Addressing* addressing, Timing* timing, Hart* h, PhysMem mem,
                           HartPorts* ports, FastSlot* slots, uint32_t pc, uint32_t vaddr,
                           uint32_t width, uint32_t value, uint64_t* chunk_end,
                           uint64_t n) noexcept nogil:
    """A store (sb..sw): ACCESS_OK, or the trap cause; small like data_load."""
    cdef uint32_t offset
    if Addressing is Paged:
        if vaddr & (width - 1) == 0 and fast_slot_hit(slots, vaddr, &offset):
            ram_write(mem, offset, width, value, h.hart_id)
            charge(timing, h, ports.caches, pc, offset + mem.base, width, ACCESS_STORE, n)
            return ACCESS_OK
    else:
        if store(mem, vaddr, width, value, h.hart_id) == ACCESS_OK:
            charge(timing, h, ports.caches, pc, vaddr, width, ACCESS_STORE, n)
            return ACCESS_OK
    return store_slow(addressing, timing, h, mem, ports, pc, vaddr, width, value, chunk_end, n)


cdef int store_slow(Addressing* addressing, Timing* timing, Hart* h, PhysMem mem,
                    HartPorts* ports, uint32_t pc, uint32_t vaddr, uint32_t width,
                    uint32_t value, uint64_t* chunk_end, uint64_t n) noexcept nogil:
    """data_store's rare cases: a TLB miss (or D still clear), MMIO, a fault."""
    cdef uint32_t paddr
    cdef int cause = translate(addressing, timing, h, ports, mem, vaddr, width, XLATE_STORE,
                               CAUSE_STORE_MISALIGNED, &paddr, n)
    if cause != ACCESS_OK:
        return cause
    cause = store(mem, paddr, width, value, h.hart_id)
    if cause == ACCESS_OK:
        charge(timing, h, ports.caches, pc, paddr, width, ACCESS_STORE, n)
    elif cause == CAUSE_STORE_ACCESS and ports.bus != NULL:
        cause = mmio(timing, h, ports.bus, paddr, width, &value, True, chunk_end, n)
    return cause


cdef inline int atomic_read(Addressing* addressing, Timing* timing, Hart* h, PhysMem mem,
                            HartPorts* ports, uint32_t pc, uint32_t vaddr, uint32_t kind,
                            uint32_t* paddr, uint32_t* value, uint64_t n) noexcept nogil:
    """The read half of LR (kind XLATE_LOAD), SC and the AMOs (XLATE_STORE): the word at
    vaddr and its physical address. Atomics are RAM-only: MMIO gives an access fault."""
    cdef int misaligned = CAUSE_LOAD_MISALIGNED if kind == XLATE_LOAD else CAUSE_STORE_MISALIGNED
    cdef int cause = translate(addressing, timing, h, ports, mem, vaddr, 4, kind, misaligned,
                               paddr, n)
    if cause != ACCESS_OK:
        return cause
    cause = load(mem, paddr[0], 4, value, misaligned,
                 CAUSE_LOAD_ACCESS if kind == XLATE_LOAD else CAUSE_STORE_ACCESS)
    if cause == ACCESS_OK:
        charge(timing, h, ports.caches, pc, paddr[0], 4,
               ACCESS_LOAD if kind == XLATE_LOAD else ACCESS_ATOMIC, n)
    return cause


cdef enum:
    BOUNDARY_GO = -1        # chunk_boundary: run the next chunk
    BOUNDARY_HOST = -2      # return to Python (STOP_BUDGET, early); any other value is
                            # the cause of the interrupt to take


cdef int chunk_boundary(Hart* h, HartPorts* ports, PhysMem* m, uint64_t n, uint64_t budget,
                        uint64_t* chunk_end) noexcept nogil:
    """Between two chunks of run_loop, `n` instructions into the run: bring the devices to
    the hart's cycle, let DMA writes leave the caches, and see whether the host is needed
    or an enabled interrupt is pending; else set *chunk_end to where the next chunk ends
    (the next device event). Out of line on purpose: in the loop, this code costs the
    fast path its registers."""
    cdef Bus* bus = ports.bus
    cdef uint64_t now = h.cycle + n
    cdef uint32_t pending
    bus_advance(bus, now)
    if dma_pending(bus):
        ports_sync_dma(ports, m[0])
    if n and bus_wants_host(bus):
        return BOUNDARY_HOST    # the UART's buffer is full: Python drains it and comes back
    if h.mie:
        pending = bus_pending_interrupt(bus, h.hart_id, now) & h.mie
        if pending:
            return <int>(CAUSE_INTERRUPT | interrupt_code(pending))
    chunk_end[0] = budget
    if bus.next_event > now and bus.next_event - now < budget - n:
        chunk_end[0] = n + (bus.next_event - now)
    elif bus.next_event <= now:
        chunk_end[0] = n + 1
    return BOUNDARY_GO


cdef int run_functional(Hart* h, PhysMem* m, HartPorts* ports, uint64_t budget) noexcept nogil:
    cdef bint paged = ports.mmu.mode != SATP_MODE_BARE
    if not ports.timed:
        if paged:
            return run_loop(h, m, ports, budget, <Paged*>NULL, <Untimed*>NULL)
        return run_loop(h, m, ports, budget, <Bare*>NULL, <Untimed*>NULL)
    if paged:
        return run_loop(h, m, ports, budget, <Paged*>NULL, <Timed*>NULL)
    return run_loop(h, m, ports, budget, <Bare*>NULL, <Timed*>NULL)


cdef int run_loop(Hart* h, PhysMem* m, HartPorts* ports, uint64_t budget,
                  Addressing* addressing, Timing* timing) noexcept nogil:
    cdef uint32_t* x = h.x
    cdef uint32_t pc = h.pc
    cdef uint32_t next_pc
    cdef uint64_t n = 0
    cdef uint64_t chunk_end = budget
    cdef uint64_t counter
    cdef Decoded* d
    cdef uint8_t op
    cdef uint32_t imm, addr = 0, value = 0, tval = 0, paddr
    cdef uint32_t code_vpage = 1    # the page code runs from: its virtual address (1: none),
    cdef uint32_t code_ppage = 0    # its physical address,
    cdef Decoded* code_slots = NULL # its decoded instructions and its words (memory.pxd
    cdef uint32_t* code_words = NULL    # code_page): fetch translates once per page crossing
    cdef int cause = ACCESS_OK, boundary
    cdef PhysMem mem = m[0]     # by value: see memory.pxd
    cdef uint32_t hart = h.hart_id
    cdef Bus* bus = ports.bus
    # Paged: each kind's fast slots, in registers rather than behind ports and the Mmu
    cdef FastSlot* load_slots = &ports.mmu.fast[XLATE_LOAD * FAST_SLOTS]
    cdef FastSlot* store_slots = &ports.mmu.fast[XLATE_STORE * FAST_SLOTS]
    x[0] = 0
    if pc & 3:
        budget = 0
        cause = CAUSE_FETCH_MISALIGNED
        tval = pc
    while n < budget:
        if bus != NULL:     # a chunk boundary: devices, interrupts, the next chunk's end
            boundary = chunk_boundary(h, ports, m, n, budget, &chunk_end)
            if boundary == BOUNDARY_HOST:
                break
            if boundary != BOUNDARY_GO:
                cause = boundary
                tval = 0
                break
        while n < chunk_end:
            if (pc & ~SV32_PAGE_MASK) != code_vpage:
                cause = translate(addressing, timing, h, ports, mem, pc, 4, XLATE_FETCH,
                                  CAUSE_FETCH_MISALIGNED, &paddr, n)
                if cause == ACCESS_OK and not code_page(mem, paddr, &code_slots, &code_words):
                    cause = CAUSE_FETCH_ACCESS
                if cause != ACCESS_OK:
                    tval = pc
                    break
                code_vpage = pc & ~SV32_PAGE_MASK
                code_ppage = paddr & ~SV32_PAGE_MASK
            d = decoded_slot(code_slots, code_words, pc)
            if Timing is Timed:
                charge(timing, h, ports.caches, pc, code_ppage | (pc & SV32_PAGE_MASK), 4,
                       ACCESS_FETCH, n)
            op = d.op
            imm = <uint32_t>d.imm
            next_pc = pc + 4
            if op == OP_LUI:
                x[d.rd] = imm
            elif op == OP_AUIPC:
                x[d.rd] = pc + imm
            elif op == OP_ADDI:
                x[d.rd] = sem_add(x[d.rs1], imm)
            elif op == OP_SLTI:
                x[d.rd] = sem_slt(x[d.rs1], imm)
            elif op == OP_SLTIU:
                x[d.rd] = sem_sltu(x[d.rs1], imm)
            elif op == OP_XORI:
                x[d.rd] = sem_xor(x[d.rs1], imm)
            elif op == OP_ORI:
                x[d.rd] = sem_or(x[d.rs1], imm)
            elif op == OP_ANDI:
                x[d.rd] = sem_and(x[d.rs1], imm)
            elif op == OP_SLLI:
                x[d.rd] = sem_sll(x[d.rs1], imm)
            elif op == OP_SRLI:
                x[d.rd] = sem_srl(x[d.rs1], imm)
            elif op == OP_SRAI:
                x[d.rd] = sem_sra(x[d.rs1], imm)
            elif op == OP_ADD:
                x[d.rd] = sem_add(x[d.rs1], x[d.rs2])
            elif op == OP_SUB:
                x[d.rd] = sem_sub(x[d.rs1], x[d.rs2])
            elif op == OP_SLL:
                x[d.rd] = sem_sll(x[d.rs1], x[d.rs2])
            elif op == OP_SLT:
                x[d.rd] = sem_slt(x[d.rs1], x[d.rs2])
            elif op == OP_SLTU:
                x[d.rd] = sem_sltu(x[d.rs1], x[d.rs2])
            elif op == OP_XOR:
                x[d.rd] = sem_xor(x[d.rs1], x[d.rs2])
            elif op == OP_SRL:
                x[d.rd] = sem_srl(x[d.rs1], x[d.rs2])
            elif op == OP_SRA:
                x[d.rd] = sem_sra(x[d.rs1], x[d.rs2])
            elif op == OP_OR:
                x[d.rd] = sem_or(x[d.rs1], x[d.rs2])
            elif op == OP_AND:
                x[d.rd] = sem_and(x[d.rs1], x[d.rs2])
            elif op == OP_MUL:
                x[d.rd] = sem_mul(x[d.rs1], x[d.rs2])
            elif op == OP_MULH:
                x[d.rd] = sem_mulh(x[d.rs1], x[d.rs2])
            elif op == OP_MULHSU:
                x[d.rd] = sem_mulhsu(x[d.rs1], x[d.rs2])
            elif op == OP_MULHU:
                x[d.rd] = sem_mulhu(x[d.rs1], x[d.rs2])
            elif op == OP_DIV:
                x[d.rd] = sem_div(x[d.rs1], x[d.rs2])
            elif op == OP_DIVU:
                x[d.rd] = sem_divu(x[d.rs1], x[d.rs2])
            elif op == OP_REM:
                x[d.rd] = sem_rem(x[d.rs1], x[d.rs2])
            elif op == OP_REMU:
                x[d.rd] = sem_remu(x[d.rs1], x[d.rs2])
            elif op == OP_LB:
                addr = x[d.rs1] + imm
                cause = data_load(addressing, timing, h, mem, ports, load_slots, pc, addr, 1,
                                  &value, &chunk_end, n)
                if cause == ACCESS_OK:
                    x[d.rd] = sem_lb(value)
            elif op == OP_LH:
                addr = x[d.rs1] + imm
                cause = data_load(addressing, timing, h, mem, ports, load_slots, pc, addr, 2,
                                  &value, &chunk_end, n)
                if cause == ACCESS_OK:
                    x[d.rd] = sem_lh(value)
            elif op == OP_LW:
                addr = x[d.rs1] + imm
                cause = data_load(addressing, timing, h, mem, ports, load_slots, pc, addr, 4,
                                  &value, &chunk_end, n)
                if cause == ACCESS_OK:
                    x[d.rd] = sem_lw(value)
            elif op == OP_LBU:
                addr = x[d.rs1] + imm
                cause = data_load(addressing, timing, h, mem, ports, load_slots, pc, addr, 1,
                                  &value, &chunk_end, n)
                if cause == ACCESS_OK:
                    x[d.rd] = sem_lbu(value)
            elif op == OP_LHU:
                addr = x[d.rs1] + imm
                cause = data_load(addressing, timing, h, mem, ports, load_slots, pc, addr, 2,
                                  &value, &chunk_end, n)
                if cause == ACCESS_OK:
                    x[d.rd] = sem_lhu(value)
            elif op == OP_SB:
                addr = x[d.rs1] + imm
                cause = data_store(addressing, timing, h, mem, ports, store_slots, pc, addr, 1,
                                   x[d.rs2], &chunk_end, n)
            elif op == OP_SH:
                addr = x[d.rs1] + imm
                cause = data_store(addressing, timing, h, mem, ports, store_slots, pc, addr, 2,
                                   x[d.rs2], &chunk_end, n)
            elif op == OP_SW:
                addr = x[d.rs1] + imm
                cause = data_store(addressing, timing, h, mem, ports, store_slots, pc, addr, 4,
                                   x[d.rs2], &chunk_end, n)
            elif op == OP_BEQ:
                if sem_beq(x[d.rs1], x[d.rs2]):
                    next_pc = pc + imm
            elif op == OP_BNE:
                if sem_bne(x[d.rs1], x[d.rs2]):
                    next_pc = pc + imm
            elif op == OP_BLT:
                if sem_blt(x[d.rs1], x[d.rs2]):
                    next_pc = pc + imm
            elif op == OP_BGE:
                if sem_bge(x[d.rs1], x[d.rs2]):
                    next_pc = pc + imm
            elif op == OP_BLTU:
                if sem_bltu(x[d.rs1], x[d.rs2]):
                    next_pc = pc + imm
            elif op == OP_BGEU:
                if sem_bgeu(x[d.rs1], x[d.rs2]):
                    next_pc = pc + imm
            elif op == OP_JAL or op == OP_JALR:
                next_pc = pc + imm if op == OP_JAL else (x[d.rs1] + imm) & ~1U
                if next_pc & 3 == 0:    # rd is written only when the jump does not trap
                    x[d.rd] = pc + 4
            elif op == OP_LR_W:
                addr = x[d.rs1]
                cause = atomic_read(addressing, timing, h, mem, ports, pc, addr, XLATE_LOAD,
                                    &paddr, &value, n)
                if cause == ACCESS_OK:
                    h.reservation = paddr
                    h.reserved = 1
                    x[d.rd] = value
            elif op == OP_SC_W:
                addr = x[d.rs1]
                cause = atomic_read(addressing, timing, h, mem, ports, pc, addr, XLATE_STORE,
                                    &paddr, &value, n)
                if cause == ACCESS_OK:
                    if h.reserved and h.reservation == paddr:
                        store(mem, paddr, 4, x[d.rs2], hart)
                        x[d.rd] = 0
                    else:
                        x[d.rd] = 1
                    h.reserved = 0
            elif (op == OP_AMOSWAP_W or op == OP_AMOADD_W or op == OP_AMOXOR_W or op == OP_AMOAND_W
                  or op == OP_AMOOR_W or op == OP_AMOMIN_W or op == OP_AMOMAX_W
                  or op == OP_AMOMINU_W or op == OP_AMOMAXU_W):
                addr = x[d.rs1]
                cause = atomic_read(addressing, timing, h, mem, ports, pc, addr, XLATE_STORE,
                                    &paddr, &value, n)
                if cause == ACCESS_OK:
                    store(mem, paddr, 4, sem_amo(op, value, x[d.rs2]), hart)
                    x[d.rd] = value
            elif (op == OP_CSRRW or op == OP_CSRRS or op == OP_CSRRC
                  or op == OP_CSRRWI or op == OP_CSRRSI or op == OP_CSRRCI):
                if sem_csr_writes(op == OP_CSRRW or op == OP_CSRRWI, d.rs1) or not is_counter(imm):
                    cause = CAUSE_ILLEGAL_INSTRUCTION
                    tval = d.word
                else:
                    counter = counter_value(h, imm, n)
                    x[d.rd] = <uint32_t>(counter >> 32) if imm & 0x80U else <uint32_t>counter
            elif op == OP_FENCE or op == OP_FENCE_TSO or op == OP_FENCE_I:
                pass  # one hart, in order, and fetch re-checks every decoded word: nothing to order
            elif op == OP_ECALL:
                cause = CAUSE_ECALL_U
                tval = 0
            elif op == OP_EBREAK:
                cause = CAUSE_BREAKPOINT
                tval = pc
            else:  # OP_ILLEGAL
                cause = CAUSE_ILLEGAL_INSTRUCTION
                tval = d.word
            if cause != ACCESS_OK or next_pc & 3:
                if cause == ACCESS_OK:
                    cause = CAUSE_FETCH_MISALIGNED
                    tval = next_pc
                elif (cause != CAUSE_ILLEGAL_INSTRUCTION and cause != CAUSE_ECALL_U
                      and cause != CAUSE_BREAKPOINT):
                    tval = addr     # a load, store or AMO fault: the address it accessed
                break
            pc = next_pc
            n += 1
            if Timing is Timed:     # stalls move the clock faster than n
                if bus != NULL and h.cycle + n >= bus.next_event:
                    break
        if cause != ACCESS_OK:
            break
    h.pc = pc
    h.instret += n
    h.cycle += n
    if cause == ACCESS_OK:
        return STOP_BUDGET
    h.trap_cause = <uint32_t>cause
    h.trap_value = tval
    h.reserved = 0
    return STOP_TRAP

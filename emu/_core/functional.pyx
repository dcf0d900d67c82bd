"""The functional core: the fast mode, and the golden model for the detailed core.

`run_functional` executes up to `budget` instructions on one hart, one instruction
per cycle, with no Python object in sight, and returns STOP_BUDGET or, on an
exception, STOP_TRAP with the hart's pc at the faulting instruction (nothing of it
executed) and trap_cause/trap_value set. What each instruction computes comes from
semantics.pxd, shared with the out-of-order core; this file only sequences it.

Each case of the dispatch switch either completes its instruction or sets `cause`
(and `addr` or `tval`) without touching architectural state; one check after the
switch, together with the alignment of the next pc, sends every trap down one path.
"""

from libc.stdint cimport uint8_t, uint32_t, uint64_t

from emu._core.decode cimport Decoded
from emu._core.hart cimport Hart, counter_value
from emu._core.memory cimport ACCESS_OK, PhysMem, fetch_decoded, load, store
from emu._core.opcodes cimport *
from emu._core.semantics cimport *
from emu._core.traps cimport *


cdef inline bint is_counter(uint32_t csr) noexcept nogil:
    """cycle, time, instret (0xc00-0xc02) and their high halves (0xc80-0xc82)."""
    return 0xc00U <= (csr & ~0x80U) <= 0xc02U


cdef int run_functional(Hart* h, PhysMem* m, uint64_t budget) noexcept nogil:
    cdef uint32_t* x = h.x
    cdef uint32_t pc = h.pc
    cdef uint32_t next_pc
    cdef uint64_t n = 0
    cdef uint64_t counter
    cdef Decoded* d
    cdef uint8_t op
    cdef uint32_t imm, addr = 0, value = 0, tval = 0
    cdef int cause = ACCESS_OK
    cdef PhysMem mem = m[0]     # by value: see memory.pxd
    cdef uint32_t hart = h.hart_id
    x[0] = 0
    if pc & 3:
        budget = 0
        cause = CAUSE_FETCH_MISALIGNED
        tval = pc
    while n < budget:
        d = fetch_decoded(mem, pc)
        if d == NULL:
            cause = CAUSE_FETCH_ACCESS
            tval = pc
            break
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
            cause = load(mem, addr, 1, &value, CAUSE_LOAD_MISALIGNED, CAUSE_LOAD_ACCESS)
            if cause == ACCESS_OK:
                x[d.rd] = sem_lb(value)
        elif op == OP_LH:
            addr = x[d.rs1] + imm
            cause = load(mem, addr, 2, &value, CAUSE_LOAD_MISALIGNED, CAUSE_LOAD_ACCESS)
            if cause == ACCESS_OK:
                x[d.rd] = sem_lh(value)
        elif op == OP_LW:
            addr = x[d.rs1] + imm
            cause = load(mem, addr, 4, &value, CAUSE_LOAD_MISALIGNED, CAUSE_LOAD_ACCESS)
            if cause == ACCESS_OK:
                x[d.rd] = sem_lw(value)
        elif op == OP_LBU:
            addr = x[d.rs1] + imm
            cause = load(mem, addr, 1, &value, CAUSE_LOAD_MISALIGNED, CAUSE_LOAD_ACCESS)
            if cause == ACCESS_OK:
                x[d.rd] = sem_lbu(value)
        elif op == OP_LHU:
            addr = x[d.rs1] + imm
            cause = load(mem, addr, 2, &value, CAUSE_LOAD_MISALIGNED, CAUSE_LOAD_ACCESS)
            if cause == ACCESS_OK:
                x[d.rd] = sem_lhu(value)
        elif op == OP_SB:
            addr = x[d.rs1] + imm
            cause = store(mem, addr, 1, x[d.rs2], hart)
        elif op == OP_SH:
            addr = x[d.rs1] + imm
            cause = store(mem, addr, 2, x[d.rs2], hart)
        elif op == OP_SW:
            addr = x[d.rs1] + imm
            cause = store(mem, addr, 4, x[d.rs2], hart)
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
            cause = load(mem, addr, 4, &value, CAUSE_LOAD_MISALIGNED, CAUSE_LOAD_ACCESS)
            if cause == ACCESS_OK:
                h.reservation = addr
                h.reserved = 1
                x[d.rd] = value
        elif op == OP_SC_W:
            addr = x[d.rs1]
            cause = load(mem, addr, 4, &value, CAUSE_STORE_MISALIGNED, CAUSE_STORE_ACCESS)
            if cause == ACCESS_OK:
                if h.reserved and h.reservation == addr:
                    store(mem, addr, 4, x[d.rs2], hart)
                    x[d.rd] = 0
                else:
                    x[d.rd] = 1
                h.reserved = 0
        elif (op == OP_AMOSWAP_W or op == OP_AMOADD_W or op == OP_AMOXOR_W or op == OP_AMOAND_W
              or op == OP_AMOOR_W or op == OP_AMOMIN_W or op == OP_AMOMAX_W
              or op == OP_AMOMINU_W or op == OP_AMOMAXU_W):
            addr = x[d.rs1]
            cause = load(mem, addr, 4, &value, CAUSE_STORE_MISALIGNED, CAUSE_STORE_ACCESS)
            if cause == ACCESS_OK:
                store(mem, addr, 4, sem_amo(op, value, x[d.rs2]), hart)
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
            elif cause != CAUSE_ILLEGAL_INSTRUCTION and cause != CAUSE_ECALL_U and cause != CAUSE_BREAKPOINT:
                tval = addr     # a load, store or AMO fault: the address it accessed
            break
        pc = next_pc
        n += 1
    h.pc = pc
    h.instret += n
    h.cycle += n
    if cause == ACCESS_OK:
        return STOP_BUDGET
    h.trap_cause = <uint32_t>cause
    h.trap_value = tval
    h.reserved = 0
    return STOP_TRAP

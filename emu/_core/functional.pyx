"""The functional core: the fast mode, and the golden model for the detailed core.

`run_functional` executes up to `budget` instructions on one hart, one instruction
per cycle, with no Python object in sight, and returns STOP_BUDGET or, on an
exception, STOP_TRAP with the hart's pc at the faulting instruction (nothing of it
executed) and trap_cause/trap_value set. What each instruction computes comes from
semantics.pxd, shared with the out-of-order core; this file only sequences it.
"""

from libc.stdint cimport uint8_t, uint32_t, uint64_t

from emu._core.decode cimport Decoded
from emu._core.hart cimport Hart, counter_value
from emu._core.memory cimport ACCESS_OK, PhysMem, fetch_decoded, load, store
from emu._core.opcodes cimport *
from emu._core.semantics cimport *
from emu._core.traps cimport *


cdef inline bint is_counter(uint32_t csr) noexcept nogil:
    return (csr & ~0x80U) <= 0xc02U and (csr & ~0x80U) >= 0xc00U


cdef int run_functional(Hart* h, PhysMem* m, uint64_t budget) noexcept nogil:
    cdef uint32_t* x = h.x
    cdef uint32_t pc = h.pc
    cdef uint64_t n = 0
    cdef uint64_t counter
    cdef Decoded* d
    cdef uint8_t op
    cdef uint32_t addr, target, value, tval = 0
    cdef int cause = ACCESS_OK
    cdef PhysMem mem = m[0]     # by value: see memory.pxd
    x[0] = 0
    if pc & 3:
        cause = CAUSE_FETCH_MISALIGNED
        tval = pc
        budget = 0
    while n < budget:
        d = fetch_decoded(mem, pc)
        if d == NULL:
            cause = CAUSE_FETCH_ACCESS
            tval = pc
            break
        op = d.op
        if op == OP_ADD:
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
        elif op == OP_ADDI:
            x[d.rd] = sem_add(x[d.rs1], <uint32_t>d.imm)
        elif op == OP_SLTI:
            x[d.rd] = sem_slt(x[d.rs1], <uint32_t>d.imm)
        elif op == OP_SLTIU:
            x[d.rd] = sem_sltu(x[d.rs1], <uint32_t>d.imm)
        elif op == OP_XORI:
            x[d.rd] = sem_xor(x[d.rs1], <uint32_t>d.imm)
        elif op == OP_ORI:
            x[d.rd] = sem_or(x[d.rs1], <uint32_t>d.imm)
        elif op == OP_ANDI:
            x[d.rd] = sem_and(x[d.rs1], <uint32_t>d.imm)
        elif op == OP_SLLI:
            x[d.rd] = sem_sll(x[d.rs1], <uint32_t>d.imm)
        elif op == OP_SRLI:
            x[d.rd] = sem_srl(x[d.rs1], <uint32_t>d.imm)
        elif op == OP_SRAI:
            x[d.rd] = sem_sra(x[d.rs1], <uint32_t>d.imm)
        elif op == OP_LUI:
            x[d.rd] = <uint32_t>d.imm
        elif op == OP_AUIPC:
            x[d.rd] = pc + <uint32_t>d.imm
        elif op == OP_LB:
            cause = load(mem, x[d.rs1] + <uint32_t>d.imm, 1, &value, CAUSE_LOAD_MISALIGNED, CAUSE_LOAD_ACCESS)
            if cause != ACCESS_OK:
                tval = x[d.rs1] + <uint32_t>d.imm
                break
            x[d.rd] = sem_lb(value)
        elif op == OP_LH:
            cause = load(mem, x[d.rs1] + <uint32_t>d.imm, 2, &value, CAUSE_LOAD_MISALIGNED, CAUSE_LOAD_ACCESS)
            if cause != ACCESS_OK:
                tval = x[d.rs1] + <uint32_t>d.imm
                break
            x[d.rd] = sem_lh(value)
        elif op == OP_LW:
            cause = load(mem, x[d.rs1] + <uint32_t>d.imm, 4, &value, CAUSE_LOAD_MISALIGNED, CAUSE_LOAD_ACCESS)
            if cause != ACCESS_OK:
                tval = x[d.rs1] + <uint32_t>d.imm
                break
            x[d.rd] = sem_lw(value)
        elif op == OP_LBU:
            cause = load(mem, x[d.rs1] + <uint32_t>d.imm, 1, &value, CAUSE_LOAD_MISALIGNED, CAUSE_LOAD_ACCESS)
            if cause != ACCESS_OK:
                tval = x[d.rs1] + <uint32_t>d.imm
                break
            x[d.rd] = sem_lbu(value)
        elif op == OP_LHU:
            cause = load(mem, x[d.rs1] + <uint32_t>d.imm, 2, &value, CAUSE_LOAD_MISALIGNED, CAUSE_LOAD_ACCESS)
            if cause != ACCESS_OK:
                tval = x[d.rs1] + <uint32_t>d.imm
                break
            x[d.rd] = sem_lhu(value)
        elif op == OP_SB:
            cause = store(mem, x[d.rs1] + <uint32_t>d.imm, 1, x[d.rs2])
            if cause != ACCESS_OK:
                tval = x[d.rs1] + <uint32_t>d.imm
                break
        elif op == OP_SH:
            cause = store(mem, x[d.rs1] + <uint32_t>d.imm, 2, x[d.rs2])
            if cause != ACCESS_OK:
                tval = x[d.rs1] + <uint32_t>d.imm
                break
        elif op == OP_SW:
            cause = store(mem, x[d.rs1] + <uint32_t>d.imm, 4, x[d.rs2])
            if cause != ACCESS_OK:
                tval = x[d.rs1] + <uint32_t>d.imm
                break
        elif op == OP_BEQ:
            if sem_beq(x[d.rs1], x[d.rs2]):
                target = pc + <uint32_t>d.imm
                if target & 3:
                    cause = CAUSE_FETCH_MISALIGNED
                    tval = target
                    break
                pc = target
                n += 1
                continue
        elif op == OP_BNE:
            if sem_bne(x[d.rs1], x[d.rs2]):
                target = pc + <uint32_t>d.imm
                if target & 3:
                    cause = CAUSE_FETCH_MISALIGNED
                    tval = target
                    break
                pc = target
                n += 1
                continue
        elif op == OP_BLT:
            if sem_blt(x[d.rs1], x[d.rs2]):
                target = pc + <uint32_t>d.imm
                if target & 3:
                    cause = CAUSE_FETCH_MISALIGNED
                    tval = target
                    break
                pc = target
                n += 1
                continue
        elif op == OP_BGE:
            if sem_bge(x[d.rs1], x[d.rs2]):
                target = pc + <uint32_t>d.imm
                if target & 3:
                    cause = CAUSE_FETCH_MISALIGNED
                    tval = target
                    break
                pc = target
                n += 1
                continue
        elif op == OP_BLTU:
            if sem_bltu(x[d.rs1], x[d.rs2]):
                target = pc + <uint32_t>d.imm
                if target & 3:
                    cause = CAUSE_FETCH_MISALIGNED
                    tval = target
                    break
                pc = target
                n += 1
                continue
        elif op == OP_BGEU:
            if sem_bgeu(x[d.rs1], x[d.rs2]):
                target = pc + <uint32_t>d.imm
                if target & 3:
                    cause = CAUSE_FETCH_MISALIGNED
                    tval = target
                    break
                pc = target
                n += 1
                continue
        elif op == OP_JAL:
            target = pc + <uint32_t>d.imm
            if target & 3:
                cause = CAUSE_FETCH_MISALIGNED
                tval = target
                break
            x[d.rd] = pc + 4
            pc = target
            n += 1
            continue
        elif op == OP_JALR:
            target = (x[d.rs1] + <uint32_t>d.imm) & ~1U
            if target & 3:
                cause = CAUSE_FETCH_MISALIGNED
                tval = target
                break
            x[d.rd] = pc + 4
            pc = target
            n += 1
            continue
        elif op == OP_LR_W:
            addr = x[d.rs1]
            cause = load(mem, addr, 4, &value, CAUSE_LOAD_MISALIGNED, CAUSE_LOAD_ACCESS)
            if cause != ACCESS_OK:
                tval = addr
                break
            h.reservation = addr
            h.reserved = 1
            x[d.rd] = value
        elif op == OP_SC_W:
            addr = x[d.rs1]
            cause = load(mem, addr, 4, &value, CAUSE_STORE_MISALIGNED, CAUSE_STORE_ACCESS)
            if cause != ACCESS_OK:
                tval = addr
                break
            if h.reserved and h.reservation == addr:
                store(mem, addr, 4, x[d.rs2])
                x[d.rd] = 0
            else:
                x[d.rd] = 1
            h.reserved = 0
        elif op == OP_AMOSWAP_W:
            addr = x[d.rs1]
            cause = load(mem, addr, 4, &value, CAUSE_STORE_MISALIGNED, CAUSE_STORE_ACCESS)
            if cause != ACCESS_OK:
                tval = addr
                break
            store(mem, addr, 4, sem_amoswap(value, x[d.rs2]))
            x[d.rd] = value
        elif op == OP_AMOADD_W:
            addr = x[d.rs1]
            cause = load(mem, addr, 4, &value, CAUSE_STORE_MISALIGNED, CAUSE_STORE_ACCESS)
            if cause != ACCESS_OK:
                tval = addr
                break
            store(mem, addr, 4, sem_amoadd(value, x[d.rs2]))
            x[d.rd] = value
        elif op == OP_AMOXOR_W:
            addr = x[d.rs1]
            cause = load(mem, addr, 4, &value, CAUSE_STORE_MISALIGNED, CAUSE_STORE_ACCESS)
            if cause != ACCESS_OK:
                tval = addr
                break
            store(mem, addr, 4, sem_amoxor(value, x[d.rs2]))
            x[d.rd] = value
        elif op == OP_AMOAND_W:
            addr = x[d.rs1]
            cause = load(mem, addr, 4, &value, CAUSE_STORE_MISALIGNED, CAUSE_STORE_ACCESS)
            if cause != ACCESS_OK:
                tval = addr
                break
            store(mem, addr, 4, sem_amoand(value, x[d.rs2]))
            x[d.rd] = value
        elif op == OP_AMOOR_W:
            addr = x[d.rs1]
            cause = load(mem, addr, 4, &value, CAUSE_STORE_MISALIGNED, CAUSE_STORE_ACCESS)
            if cause != ACCESS_OK:
                tval = addr
                break
            store(mem, addr, 4, sem_amoor(value, x[d.rs2]))
            x[d.rd] = value
        elif op == OP_AMOMIN_W:
            addr = x[d.rs1]
            cause = load(mem, addr, 4, &value, CAUSE_STORE_MISALIGNED, CAUSE_STORE_ACCESS)
            if cause != ACCESS_OK:
                tval = addr
                break
            store(mem, addr, 4, sem_amomin(value, x[d.rs2]))
            x[d.rd] = value
        elif op == OP_AMOMAX_W:
            addr = x[d.rs1]
            cause = load(mem, addr, 4, &value, CAUSE_STORE_MISALIGNED, CAUSE_STORE_ACCESS)
            if cause != ACCESS_OK:
                tval = addr
                break
            store(mem, addr, 4, sem_amomax(value, x[d.rs2]))
            x[d.rd] = value
        elif op == OP_AMOMINU_W:
            addr = x[d.rs1]
            cause = load(mem, addr, 4, &value, CAUSE_STORE_MISALIGNED, CAUSE_STORE_ACCESS)
            if cause != ACCESS_OK:
                tval = addr
                break
            store(mem, addr, 4, sem_amominu(value, x[d.rs2]))
            x[d.rd] = value
        elif op == OP_AMOMAXU_W:
            addr = x[d.rs1]
            cause = load(mem, addr, 4, &value, CAUSE_STORE_MISALIGNED, CAUSE_STORE_ACCESS)
            if cause != ACCESS_OK:
                tval = addr
                break
            store(mem, addr, 4, sem_amomaxu(value, x[d.rs2]))
            x[d.rd] = value
        elif op == OP_CSRRW or op == OP_CSRRS or op == OP_CSRRC or op == OP_CSRRWI or op == OP_CSRRSI or op == OP_CSRRCI:
            if sem_csr_writes(op == OP_CSRRW or op == OP_CSRRWI, d.rs1) or not is_counter(<uint32_t>d.imm):
                cause = CAUSE_ILLEGAL_INSTRUCTION
                tval = d.word
                break
            counter = counter_value(h, <uint32_t>d.imm, n)
            x[d.rd] = <uint32_t>(counter >> 32) if d.imm & 0x80 else <uint32_t>counter
        elif op == OP_FENCE or op == OP_FENCE_TSO or op == OP_FENCE_I:
            pass  # one hart, in order, and fetch re-checks every decoded word: nothing to order
        elif op == OP_ECALL:
            cause = CAUSE_ECALL_U
            tval = 0
            break
        elif op == OP_EBREAK:
            cause = CAUSE_BREAKPOINT
            tval = pc
            break
        else:  # OP_ILLEGAL
            cause = CAUSE_ILLEGAL_INSTRUCTION
            tval = d.word
            break
        pc += 4
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

"""The execute stage's view of semantics.pxd: results for a run-time opcode.

The functional core calls the per-operation functions with a constant opcode per
case; the out-of-order core holds the opcode in a ROB entry, so it dispatches here.
"""

from libc.stdint cimport uint8_t, uint32_t

from emu._core.opcodes cimport *
from emu._core.semantics cimport *


cdef inline uint32_t int_result(uint8_t op, uint32_t a, uint32_t b, uint32_t imm, uint32_t pc) noexcept nogil:
    """Result of an ALU, multiply or divide instruction (a = rs1, b = rs2)."""
    if op == OP_ADD:
        return sem_add(a, b)
    if op == OP_ADDI:
        return sem_add(a, imm)
    if op == OP_SUB:
        return sem_sub(a, b)
    if op == OP_SLL:
        return sem_sll(a, b)
    if op == OP_SLLI:
        return sem_sll(a, imm)
    if op == OP_SRL:
        return sem_srl(a, b)
    if op == OP_SRLI:
        return sem_srl(a, imm)
    if op == OP_SRA:
        return sem_sra(a, b)
    if op == OP_SRAI:
        return sem_sra(a, imm)
    if op == OP_SLT:
        return sem_slt(a, b)
    if op == OP_SLTI:
        return sem_slt(a, imm)
    if op == OP_SLTU:
        return sem_sltu(a, b)
    if op == OP_SLTIU:
        return sem_sltu(a, imm)
    if op == OP_XOR:
        return sem_xor(a, b)
    if op == OP_XORI:
        return sem_xor(a, imm)
    if op == OP_OR:
        return sem_or(a, b)
    if op == OP_ORI:
        return sem_or(a, imm)
    if op == OP_AND:
        return sem_and(a, b)
    if op == OP_ANDI:
        return sem_and(a, imm)
    if op == OP_LUI:
        return imm
    if op == OP_AUIPC:
        return pc + imm
    if op == OP_MUL:
        return sem_mul(a, b)
    if op == OP_MULH:
        return sem_mulh(a, b)
    if op == OP_MULHSU:
        return sem_mulhsu(a, b)
    if op == OP_MULHU:
        return sem_mulhu(a, b)
    if op == OP_DIV:
        return sem_div(a, b)
    if op == OP_DIVU:
        return sem_divu(a, b)
    if op == OP_REM:
        return sem_rem(a, b)
    return sem_remu(a, b)


cdef inline bint branch_taken(uint8_t op, uint32_t a, uint32_t b) noexcept nogil:
    if op == OP_BEQ:
        return sem_beq(a, b)
    if op == OP_BNE:
        return sem_bne(a, b)
    if op == OP_BLT:
        return sem_blt(a, b)
    if op == OP_BGE:
        return sem_bge(a, b)
    if op == OP_BLTU:
        return sem_bltu(a, b)
    return sem_bgeu(a, b)


cdef inline uint32_t load_result(uint8_t op, uint32_t raw) noexcept nogil:
    if op == OP_LB:
        return sem_lb(raw)
    if op == OP_LH:
        return sem_lh(raw)
    if op == OP_LBU:
        return sem_lbu(raw)
    if op == OP_LHU:
        return sem_lhu(raw)
    return sem_lw(raw)


cdef inline uint32_t access_width(uint8_t op) noexcept nogil:
    if op == OP_LB or op == OP_LBU or op == OP_SB:
        return 1
    if op == OP_LH or op == OP_LHU or op == OP_SH:
        return 2
    return 4

"""What each instruction computes, apart from when (Spike's insns/*.h, in Cython).

One inline function per kind of instruction, switching on the opcode. The functional
core calls them with a constant opcode in each case of its dispatch switch, so the C
compiler folds each call down to the one operation; the out-of-order core's execute
stage calls the same functions with the opcode it holds. Nothing here touches
memory or machine state: operands in, result out. The exact rules are in isa/README.md.
"""

from libc.stdint cimport int8_t, int16_t, int32_t, int64_t, uint8_t, uint16_t, uint32_t, uint64_t

from emu._core.opcodes cimport *


cdef inline uint32_t alu(uint8_t op, uint32_t a, uint32_t b) noexcept nogil:
    """Integer, multiply and divide result of `op` on a (rs1) and b (rs2 or immediate)."""
    if op == OP_ADD or op == OP_ADDI:
        return a + b
    if op == OP_SUB:
        return a - b
    if op == OP_SLL or op == OP_SLLI:
        return a << (b & 31)
    if op == OP_SRL or op == OP_SRLI:
        return a >> (b & 31)
    if op == OP_SRA or op == OP_SRAI:
        return <uint32_t>((<int32_t>a) >> (b & 31))
    if op == OP_SLT or op == OP_SLTI:
        return (<int32_t>a) < (<int32_t>b)
    if op == OP_SLTU or op == OP_SLTIU:
        return a < b
    if op == OP_XOR or op == OP_XORI:
        return a ^ b
    if op == OP_OR or op == OP_ORI:
        return a | b
    if op == OP_AND or op == OP_ANDI:
        return a & b
    if op == OP_MUL:
        return a * b
    if op == OP_MULH:
        return <uint32_t>(<uint64_t>(<int64_t>(<int32_t>a) * <int64_t>(<int32_t>b)) >> 32)
    if op == OP_MULHSU:
        return <uint32_t>(<uint64_t>(<int64_t>(<int32_t>a) * <int64_t>b) >> 32)
    if op == OP_MULHU:
        return <uint32_t>((<uint64_t>a * <uint64_t>b) >> 32)
    if op == OP_DIV:
        if b == 0:
            return 0xffffffffU
        if a == 0x80000000U and b == 0xffffffffU:
            return 0x80000000U  # overflow: INT_MIN / -1 = INT_MIN
        return <uint32_t>((<int32_t>a) / (<int32_t>b))
    if op == OP_DIVU:
        if b == 0:
            return 0xffffffffU
        return a / b
    if op == OP_REM:
        if b == 0:
            return a
        if a == 0x80000000U and b == 0xffffffffU:
            return 0
        return <uint32_t>((<int32_t>a) % (<int32_t>b))
    if op == OP_REMU:
        if b == 0:
            return a
        return a % b
    return 0


cdef inline bint branch_taken(uint8_t op, uint32_t a, uint32_t b) noexcept nogil:
    """Whether the conditional branch `op` on a (rs1), b (rs2) is taken."""
    if op == OP_BEQ:
        return a == b
    if op == OP_BNE:
        return a != b
    if op == OP_BLT:
        return (<int32_t>a) < (<int32_t>b)
    if op == OP_BGE:
        return (<int32_t>a) >= (<int32_t>b)
    if op == OP_BLTU:
        return a < b
    return a >= b  # OP_BGEU


cdef inline uint32_t access_width(uint8_t op) noexcept nogil:
    """Bytes a load, store or AMO accesses."""
    if op == OP_LB or op == OP_LBU or op == OP_SB:
        return 1
    if op == OP_LH or op == OP_LHU or op == OP_SH:
        return 2
    return 4


cdef inline uint32_t load_extend(uint8_t op, uint32_t raw) noexcept nogil:
    """The register value of a load that read `raw` (zero-extended little-endian bytes)."""
    if op == OP_LB:
        return <uint32_t>(<int32_t>(<int8_t>raw))
    if op == OP_LH:
        return <uint32_t>(<int32_t>(<int16_t>raw))
    if op == OP_LBU:
        return raw & 0xffU
    if op == OP_LHU:
        return raw & 0xffffU
    return raw


cdef inline uint32_t amo_result(uint8_t op, uint32_t old, uint32_t src) noexcept nogil:
    """The value an AMO stores, from the word in memory (old) and rs2 (src)."""
    if op == OP_AMOSWAP_W:
        return src
    if op == OP_AMOADD_W:
        return old + src
    if op == OP_AMOXOR_W:
        return old ^ src
    if op == OP_AMOAND_W:
        return old & src
    if op == OP_AMOOR_W:
        return old | src
    if op == OP_AMOMIN_W:
        return old if (<int32_t>old) < (<int32_t>src) else src
    if op == OP_AMOMAX_W:
        return old if (<int32_t>old) > (<int32_t>src) else src
    if op == OP_AMOMINU_W:
        return old if old < src else src
    return old if old > src else src  # OP_AMOMAXU_W


cdef inline bint csr_writes(uint8_t op, uint8_t rs1) noexcept nogil:
    """Whether a CSR instruction writes its CSR (csrrs/csrrc with x0 and the *i forms
    with zimm 0 only read it)."""
    if op == OP_CSRRW or op == OP_CSRRWI:
        return True
    return rs1 != 0

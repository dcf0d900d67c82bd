"""What each instruction computes, apart from when (Spike's insns/*.h, in Cython).

One small inline function per operation: operands in, result out, nothing else
touched. The functional core calls them from its dispatch switch (register-immediate
forms share the register-register function: addi is add with b = imm); the
out-of-order core's execute stage (execute.pxd) calls the same functions. They are small on
purpose, so the C compiler inlines every one. The exact rules are in isa/README.md.
"""

from libc.stdint cimport int8_t, int16_t, int32_t, int64_t, uint8_t, uint32_t, uint64_t

from emu._core.opcodes cimport *


# ---- integer (RV32I) ----------------------------------------------------------------

cdef inline uint32_t sem_add(uint32_t a, uint32_t b) noexcept nogil:
    return a + b

cdef inline uint32_t sem_sub(uint32_t a, uint32_t b) noexcept nogil:
    return a - b

cdef inline uint32_t sem_sll(uint32_t a, uint32_t b) noexcept nogil:
    return a << (b & 31)

cdef inline uint32_t sem_srl(uint32_t a, uint32_t b) noexcept nogil:
    return a >> (b & 31)

cdef inline uint32_t sem_sra(uint32_t a, uint32_t b) noexcept nogil:
    return <uint32_t>((<int32_t>a) >> (b & 31))

cdef inline uint32_t sem_slt(uint32_t a, uint32_t b) noexcept nogil:
    return (<int32_t>a) < (<int32_t>b)

cdef inline uint32_t sem_sltu(uint32_t a, uint32_t b) noexcept nogil:
    return a < b

cdef inline uint32_t sem_xor(uint32_t a, uint32_t b) noexcept nogil:
    return a ^ b

cdef inline uint32_t sem_or(uint32_t a, uint32_t b) noexcept nogil:
    return a | b

cdef inline uint32_t sem_and(uint32_t a, uint32_t b) noexcept nogil:
    return a & b


# ---- multiply and divide (M) ----------------------------------------------------------

cdef inline uint32_t sem_mul(uint32_t a, uint32_t b) noexcept nogil:
    return a * b

cdef inline uint32_t sem_mulh(uint32_t a, uint32_t b) noexcept nogil:
    return <uint32_t>(<uint64_t>(<int64_t>(<int32_t>a) * <int64_t>(<int32_t>b)) >> 32)

cdef inline uint32_t sem_mulhsu(uint32_t a, uint32_t b) noexcept nogil:
    return <uint32_t>(<uint64_t>(<int64_t>(<int32_t>a) * <int64_t>b) >> 32)

cdef inline uint32_t sem_mulhu(uint32_t a, uint32_t b) noexcept nogil:
    return <uint32_t>((<uint64_t>a * <uint64_t>b) >> 32)

# The two cases C leaves undefined are decided first: x / 0 and INT_MIN / -1
# (cdivision is on, so `//` below is C's truncating division).

cdef inline uint32_t sem_div(uint32_t a, uint32_t b) noexcept nogil:
    if b == 0:
        return 0xffffffffU
    if a == 0x80000000U and b == 0xffffffffU:
        return 0x80000000U
    return <uint32_t>((<int32_t>a) // (<int32_t>b))

cdef inline uint32_t sem_divu(uint32_t a, uint32_t b) noexcept nogil:
    if b == 0:
        return 0xffffffffU
    return a // b

cdef inline uint32_t sem_rem(uint32_t a, uint32_t b) noexcept nogil:
    if b == 0:
        return a
    if a == 0x80000000U and b == 0xffffffffU:
        return 0
    return <uint32_t>((<int32_t>a) % (<int32_t>b))

cdef inline uint32_t sem_remu(uint32_t a, uint32_t b) noexcept nogil:
    if b == 0:
        return a
    return a % b


# ---- branch conditions -------------------------------------------------------------------

cdef inline bint sem_beq(uint32_t a, uint32_t b) noexcept nogil:
    return a == b

cdef inline bint sem_bne(uint32_t a, uint32_t b) noexcept nogil:
    return a != b

cdef inline bint sem_blt(uint32_t a, uint32_t b) noexcept nogil:
    return (<int32_t>a) < (<int32_t>b)

cdef inline bint sem_bge(uint32_t a, uint32_t b) noexcept nogil:
    return (<int32_t>a) >= (<int32_t>b)

cdef inline bint sem_bltu(uint32_t a, uint32_t b) noexcept nogil:
    return a < b

cdef inline bint sem_bgeu(uint32_t a, uint32_t b) noexcept nogil:
    return a >= b


# ---- load extension: the register value from the zero-extended bytes read -------------

cdef inline uint32_t sem_lb(uint32_t raw) noexcept nogil:
    return <uint32_t>(<int32_t>(<int8_t>raw))

cdef inline uint32_t sem_lh(uint32_t raw) noexcept nogil:
    return <uint32_t>(<int32_t>(<int16_t>raw))

cdef inline uint32_t sem_lw(uint32_t raw) noexcept nogil:
    return raw

cdef inline uint32_t sem_lbu(uint32_t raw) noexcept nogil:
    return raw & 0xffU

cdef inline uint32_t sem_lhu(uint32_t raw) noexcept nogil:
    return raw & 0xffffU


# ---- AMOs: the value stored, from the old memory word and rs2 ----------------------------

cdef inline uint32_t sem_amoswap(uint32_t old, uint32_t src) noexcept nogil:
    return src

cdef inline uint32_t sem_amoadd(uint32_t old, uint32_t src) noexcept nogil:
    return old + src

cdef inline uint32_t sem_amoxor(uint32_t old, uint32_t src) noexcept nogil:
    return old ^ src

cdef inline uint32_t sem_amoand(uint32_t old, uint32_t src) noexcept nogil:
    return old & src

cdef inline uint32_t sem_amoor(uint32_t old, uint32_t src) noexcept nogil:
    return old | src

cdef inline uint32_t sem_amomin(uint32_t old, uint32_t src) noexcept nogil:
    return old if (<int32_t>old) < (<int32_t>src) else src

cdef inline uint32_t sem_amomax(uint32_t old, uint32_t src) noexcept nogil:
    return old if (<int32_t>old) > (<int32_t>src) else src

cdef inline uint32_t sem_amominu(uint32_t old, uint32_t src) noexcept nogil:
    return old if old < src else src

cdef inline uint32_t sem_amomaxu(uint32_t old, uint32_t src) noexcept nogil:
    return old if old > src else src


cdef inline uint32_t sem_amo(uint8_t op, uint32_t old, uint32_t src) noexcept nogil:
    """The value any AMO `op` stores (AMOs are rare: one switch serves them all)."""
    if op == OP_AMOSWAP_W:
        return sem_amoswap(old, src)
    if op == OP_AMOADD_W:
        return sem_amoadd(old, src)
    if op == OP_AMOXOR_W:
        return sem_amoxor(old, src)
    if op == OP_AMOAND_W:
        return sem_amoand(old, src)
    if op == OP_AMOOR_W:
        return sem_amoor(old, src)
    if op == OP_AMOMIN_W:
        return sem_amomin(old, src)
    if op == OP_AMOMAX_W:
        return sem_amomax(old, src)
    if op == OP_AMOMINU_W:
        return sem_amominu(old, src)
    return sem_amomaxu(old, src)


# ---- CSRs ----------------------------------------------------------------------------------

cdef inline bint sem_csr_writes(bint always_writes, uint8_t source) noexcept nogil:
    """Whether a CSR instruction writes its CSR: csrrw/csrrwi always do; csrrs/csrrc
    (and the *i forms) only with a source register other than x0 (or zimm != 0)."""
    return always_writes or source != 0

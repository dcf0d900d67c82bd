"""Decoding an instruction word into a Decoded entry (decode.pxd)."""

from libc.stdint cimport int32_t, uint8_t, uint32_t

from emu._core.opcodes cimport (FMT_B, FMT_I, FMT_J, FMT_S, FMT_U, UNIT_CSR, match_op,
                                op_format, op_unit)


cdef inline int32_t _sext(uint32_t value, int bits) noexcept nogil:
    cdef int shift = 32 - bits
    return (<int32_t>(value << shift)) >> shift


cdef void decode(uint32_t w, Decoded* d) noexcept nogil:
    """Fill `d` from the instruction word `w` (never fails: unknown words are OP_ILLEGAL)."""
    cdef uint8_t fmt
    d.word = w
    d.op = match_op(w)
    d.rd = (w >> 7) & 31
    d.rs1 = (w >> 15) & 31
    d.rs2 = (w >> 20) & 31
    d.aqrl = (w >> 25) & 3
    d.imm = 0
    fmt = op_format(d.op)
    if fmt == FMT_I:
        d.imm = _sext(w >> 20, 12)
    elif fmt == FMT_S:
        d.imm = _sext(((w >> 25) << 5) | ((w >> 7) & 31), 12)
        d.rd = RD_SINK
    elif fmt == FMT_B:
        d.imm = _sext(((w >> 31) << 12) | (((w >> 7) & 1) << 11)
                      | (((w >> 25) & 63) << 5) | (((w >> 8) & 15) << 1), 13)
        d.rd = RD_SINK
    elif fmt == FMT_U:
        d.imm = <int32_t>(w & 0xfffff000U)
    elif fmt == FMT_J:
        d.imm = _sext(((w >> 31) << 20) | (((w >> 12) & 255) << 12)
                      | (((w >> 20) & 1) << 11) | (((w >> 21) & 1023) << 1), 21)
    if op_unit(d.op) == UNIT_CSR:
        d.imm = <int32_t>(w >> 20)
    if d.rd == 0:
        d.rd = RD_SINK

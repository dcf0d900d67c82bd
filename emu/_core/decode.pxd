"""The decoded form of an instruction word, shared by the functional and detailed cores.

A Decoded entry is what the decode cache (memory.pxd) keeps per instruction slot:
the opcode (opcodes.pxd), register numbers and the immediate, so an instruction is
decoded once however often it runs. `word` is the raw word the entry was decoded
from; fetch compares it with memory on every use, so code written by a store, the
kernel, a device or the API is never executed stale.
"""

from libc.stdint cimport int32_t, uint8_t, uint32_t


#: Register index that stands for "no destination": writes to x0 land in this sink
#: slot of the register file, so x0 stays 0 without a branch per instruction.
cdef enum:
    RD_SINK = 32


cdef struct Decoded:
    uint32_t word   # raw instruction word this entry was decoded from
    int32_t imm     # sign-extended immediate (U: already shifted; csr: the CSR number)
    uint8_t op      # Op from opcodes.pxd (OP_UNDECODED for an empty slot)
    uint8_t rd      # destination register, RD_SINK when it is x0 or there is none
    uint8_t rs1     # first source register (csr*i: the 5-bit zimm)
    uint8_t rs2     # second source register
    uint8_t aqrl    # aq (bit 1) and rl (bit 0) of an AMO; 0 otherwise


cdef void decode(uint32_t w, Decoded* d) noexcept nogil

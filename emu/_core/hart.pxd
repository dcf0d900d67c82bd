"""A hart's architectural state.

This is what the kernel saves and restores on a context switch and what both the
functional and the out-of-order core commit to. After a core stops with STOP_TRAP
(traps.pxd) the trap_* fields say what happened, with `pc` left at the trapping
instruction (precise: it has not executed).
"""

from libc.stdint cimport uint32_t, uint64_t

from emu._core.opcodes cimport OP_COUNT
from emu._core.traps cimport Cause, Stop


cdef enum CSR:
    CSR_CYCLE = 0xc00
    CSR_TIME = 0xc01
    CSR_INSTRET = 0xc02
    CSR_CYCLEH = 0xc80
    CSR_TIMEH = 0xc81
    CSR_INSTRETH = 0xc82


cdef struct Hart:
    uint32_t x[33]          # x0..x31; x[32] is the sink written for rd = x0 (decode.pxd)
    uint32_t pc
    uint64_t instret        # instructions retired
    uint64_t cycle          # cycles elapsed (the functional core: one per instruction)
    uint32_t time_divider   # `time` CSR = cycle / time_divider (clock / timebase)
    uint32_t reservation    # word address held by lr.w ...
    uint32_t reserved       # ... when nonzero; cleared by sc.w, traps and remote stores
    uint32_t trap_cause     # Cause of the last STOP_TRAP
    uint32_t trap_value     # faulting address or instruction word (mtval)
    uint32_t hart_id
    uint32_t mie            # interrupts the kernel lets in (mip bits, bus.pxd); 0: none
    uint64_t op_counts[OP_COUNT]   # instructions executed per opcode (the instruction mix)


cdef inline uint64_t counter_value(Hart* h, uint32_t csr, uint64_t retired_now) noexcept nogil:
    """Value of a counter CSR's 64-bit counter; the caller picks the half."""
    if csr == CSR_CYCLE or csr == CSR_CYCLEH:
        return h.cycle + retired_now
    if csr == CSR_TIME or csr == CSR_TIMEH:
        return (h.cycle + retired_now) / h.time_divider
    return h.instret + retired_now

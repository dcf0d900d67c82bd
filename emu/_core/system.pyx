"""The Python face of the core: one machine's RAM and harts, and running them.

A System owns what the C cores work on: guest RAM (a numpy array, so the API can
hand out views of it), the harts' architectural state (also inside a numpy array,
so register views keep it alive), and the decode cache. `run` enters a core with
the GIL released and comes back on a trap or when the budget ends; everything else
here is slow-path bookkeeping for the Machine API (emu/machine.py) and the kernel.
"""

import numpy as np

cimport numpy as cnp
from libc.stdint cimport uint8_t, uint32_t, uint64_t
from libc.stdlib cimport calloc, free
from libc.string cimport memset

from emu._core.decode cimport Decoded
from emu._core.functional cimport run_functional
from emu._core.hart cimport Hart
from emu._core.memory cimport PAGE_SHIFT, PhysMem, free_code_pages
from emu._core.traps cimport STOP_BUDGET, STOP_TRAP

cnp.import_array()

STOP_REASON_BUDGET = STOP_BUDGET
STOP_REASON_TRAP = STOP_TRAP

#: Bytes of the register file that the `regs` view shows: x0..x31.
_REGS_BYTES = 32 * 4


cdef class System:
    """RAM at `ram_base` of `ram_size` bytes and `harts` harts, each with its state."""

    cdef PhysMem mem
    cdef Hart* harts
    cdef readonly int nharts
    cdef readonly object ram            # numpy uint8 array: the guest RAM
    cdef object _hart_bytes             # numpy uint8 array holding the Hart structs

    def __cinit__(self, uint32_t ram_base, uint32_t ram_size, int harts, uint32_t time_divider):
        cdef int i
        cdef uint8_t[::1] hart_view
        if ram_size < (1 << PAGE_SHIFT) or ram_size % (1 << PAGE_SHIFT):
            raise ValueError("ram_size must be a positive multiple of 4096")
        if <uint64_t>ram_base + ram_size > (<uint64_t>1 << 32):
            raise ValueError("RAM must end at or below 4 GiB")
        if harts < 1:
            raise ValueError("a machine needs at least one hart")
        if time_divider < 1:
            raise ValueError("time_divider must be at least 1")
        # np.zeros maps untouched pages lazily: host memory follows what the guest uses.
        self.ram = np.zeros(ram_size, dtype=np.uint8)
        self.mem.data = <uint8_t*>cnp.PyArray_DATA(self.ram)
        self.mem.base = ram_base
        self.mem.size = ram_size
        self.mem.npages = ram_size >> PAGE_SHIFT
        self.mem.code_pages = <Decoded**>calloc(self.mem.npages, sizeof(Decoded*))
        if self.mem.code_pages == NULL:
            raise MemoryError()
        self._hart_bytes = np.zeros(harts * sizeof(Hart), dtype=np.uint8)
        hart_view = self._hart_bytes
        self.harts = <Hart*>&hart_view[0]
        self.nharts = harts
        for i in range(harts):
            self.harts[i].hart_id = i
            self.harts[i].time_divider = time_divider

    def __dealloc__(self):
        free_code_pages(&self.mem)
        free(self.mem.code_pages)

    cdef Hart* _hart(self, int hart) except NULL:
        if not 0 <= hart < self.nharts:
            raise IndexError(f"hart {hart} does not exist (this machine has {self.nharts})")
        return &self.harts[hart]

    @property
    def ram_base(self):
        return self.mem.base

    @property
    def ram_size(self):
        return self.mem.size

    @property
    def code_pages(self):
        """Pages the decode cache holds decoded instructions for."""
        cdef uint32_t i
        return sum(1 for i in range(self.mem.npages) if self.mem.code_pages[i] != NULL)

    def run(self, int hart, uint64_t budget):
        """Run `hart` for at most `budget` instructions; returns STOP_REASON_*."""
        cdef Hart* h = self._hart(hart)
        cdef int stop
        with nogil:
            stop = run_functional(h, &self.mem, budget)
        return stop

    def regs(self, int hart):
        """Writable numpy uint32 view of x0..x31 (a write to x0 is ignored by the core)."""
        self._hart(hart)
        start = hart * sizeof(Hart)
        return self._hart_bytes[start:start + _REGS_BYTES].view(np.uint32)

    def get_pc(self, int hart):
        return self._hart(hart).pc

    def set_pc(self, int hart, uint32_t pc):
        self._hart(hart).pc = pc

    def trap(self, int hart):
        """(cause, value) of the hart's last trap."""
        cdef Hart* h = self._hart(hart)
        return h.trap_cause, h.trap_value

    def counters(self, int hart):
        """(instret, cycle) of the hart."""
        cdef Hart* h = self._hart(hart)
        return h.instret, h.cycle

    def retire(self, int hart, uint64_t instructions, uint64_t cycles):
        """Count work done outside the core (the kernel completing an ecall)."""
        cdef Hart* h = self._hart(hart)
        h.instret += instructions
        h.cycle += cycles

    def reservation(self, int hart):
        """The LR reservation address, or None."""
        cdef Hart* h = self._hart(hart)
        return h.reservation if h.reserved else None

    def clear_reservation(self, int hart):
        self._hart(hart).reserved = 0

    def reset_hart(self, int hart):
        """Zero the hart's registers, pc, counters and reservation."""
        cdef Hart* h = self._hart(hart)
        cdef uint32_t divider = h.time_divider
        memset(h, 0, sizeof(Hart))
        h.hart_id = hart
        h.time_divider = divider

"""The functional core: executes instructions one after another, one per cycle."""

from libc.stdint cimport uint64_t

from emu._core.hart cimport Hart
from emu._core.memory cimport PhysMem


cdef int run_functional(Hart* h, PhysMem* m, uint64_t budget) noexcept nogil

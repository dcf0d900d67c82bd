"""The functional core: executes instructions one after another, one per cycle, or
timed by the caches of its HartPorts (ports.pxd)."""

from libc.stdint cimport uint64_t

from emu._core.hart cimport Hart
from emu._core.memory cimport PhysMem
from emu._core.ports cimport HartPorts


cdef int run_functional(Hart* h, PhysMem* m, HartPorts* ports, uint64_t budget) noexcept nogil

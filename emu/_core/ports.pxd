"""What a hart's core is connected to besides its registers and RAM.

One HartPorts per hart, owned by the System (system.pyx), which fills it when the
machine is built: both cores take it on every entry, so adding a connection never
changes a core's signature again.

- `mmu`: the hart's Sv32 MMU (tlb.pxd): satp, iTLB, dTLB, the shared L2 TLB and the
  walk counters. Always present; with satp off (bare) addresses are physical and the
  cores skip it entirely.
- `bus`: the machine's system bus (bus.pxd) with its devices, or NULL. An access that
  misses RAM goes to the bus as MMIO; device time and interrupts come from it.
- `caches`: the cache hierarchy (hierarchy.pxd) timing the *functional* core, or NULL
  for one cycle per instruction. (The out-of-order core has its own MemoryTiming in
  CoreParams, which points at the same hierarchy.)
"""

from emu._core.bus cimport Bus
from emu._core.hierarchy cimport Hierarchy
from emu._core.tlb cimport Mmu


cdef struct HartPorts:
    Mmu* mmu                # this hart's MMU (never NULL once the System is built)
    Bus* bus                # the system bus, or NULL: no devices, no interrupts
    Hierarchy* caches       # times the functional core's accesses, or NULL: untimed

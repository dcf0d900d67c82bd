"""What a hart's core is connected to besides its registers and RAM.

One HartPorts per hart, owned by the System (system.pyx), which fills it when the
machine is built: both cores take it on every entry, so adding a connection never
changes a core's signature again.

- `mmu`: the hart's Sv32 MMU (tlb.pxd): satp, iTLB, dTLB, the shared L2 TLB and the
  walk counters. Always present; with satp off (bare) addresses are physical and the
  cores skip it entirely.
- `bus`: the machine's system bus (bus.pxd) with its devices, or NULL. An access that
  misses RAM goes to the bus as MMIO; device time and interrupts come from it.
- `caches`: the machine's cache hierarchy (hierarchy.pxd), or NULL. The out-of-order
  core times its accesses through its own MemoryTiming (CoreParams), which points at
  the same hierarchy; the functional core uses it only when `timed`.

DMA coherence: devices only log what they write (dma.pxd); a core that ticks the bus
calls `ports_sync_dma` (through the inline check `dma_pending`) before its next access,
which drops the cached copies of those lines and ends the LR reservations on them.
"""

from libc.stdint cimport uint8_t

from emu._core.bus cimport Bus
from emu._core.hierarchy cimport Hierarchy
from emu._core.memory cimport PhysMem
from emu._core.tlb cimport Mmu


cdef struct HartPorts:
    Mmu* mmu                # this hart's MMU (never NULL once the System is built)
    Bus* bus                # the system bus, or NULL: no devices, no interrupts
    Hierarchy* caches       # the cache hierarchy, or NULL
    uint8_t timed           # 1: the functional core runs timed by `caches`


cdef void ports_sync_dma(HartPorts* ports, PhysMem mem) noexcept nogil
    # Consume the bus's DMA-write log: invalidate the written lines in the caches and end
    # every hart's LR reservation on a written word (everything, if the log overflowed).


cdef inline bint dma_pending(Bus* bus) noexcept nogil:
    """Whether devices wrote RAM since the log was last consumed."""
    return bus.dma.log_count != 0 or bus.dma.log_overflow != 0

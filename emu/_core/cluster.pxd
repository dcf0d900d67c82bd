"""Several harts advanced together in one global cycle loop.

Each cycle every running hart takes one step: an out-of-order hart one pipeline cycle,
a functional hart its turn of `quantum` instructions (MachineConfig.quantum; 1, the
default, interleaves instructions one by one), after which it waits until the global
clock reaches its own cycle count (a functional hart timed by the caches also waits
out its stalls). When every hart is waiting, the clock jumps to the earliest one. All
harts share the global clock (their cycle counters are set to it when a run starts),
so the shared cache levels and DRAM see one consistent time; so do the devices: each
hart brings the bus to its cycle as it steps (ooo.pyx devices_cycle, or inside
run_functional), and every out-of-order hart notices another hart's device tick or
MMIO access, so an interrupt reaches the hart it is for at that hart's cycle. The loop
returns to Python when any hart traps or the instruction budget (summed over the
harts) ends; every out-of-order hart then drops its in-flight work, leaving exact
architectural state for the kernel.
"""

from libc.stdint cimport uint8_t, uint32_t, uint64_t

from emu._core.hart cimport Hart
from emu._core.memory cimport PhysMem
from emu._core.ooo cimport OoOCore
from emu._core.ports cimport HartPorts


cdef struct ClusterStop:
    int stop                # a Stop (traps.pxd)
    uint32_t hart           # the hart that stopped it (STOP_BUDGET: 0)


cdef ClusterStop run_cluster(Hart* harts, OoOCore* cores, HartPorts* ports, uint8_t* running,
                             uint8_t* detailed, uint32_t nharts, PhysMem* m, uint64_t budget,
                             uint32_t quantum) noexcept nogil
    # `quantum` (>= 1): instructions a functional hart runs per turn; it then waits until
    # the global clock reaches its own, so harts stay within a quantum of each other.

"""The global cycle loop over all running harts (cluster.pxd)."""

from libc.stdint cimport UINT64_MAX

from emu._core.bus cimport bus_wants_host
from emu._core.functional cimport run_functional
from emu._core.ooo cimport ooo_begin, ooo_cycle, ooo_end
from emu._core.traps cimport STOP_BUDGET


cdef ClusterStop run_cluster(Hart* harts, OoOCore* cores, HartPorts* ports, uint8_t* running,
                             uint8_t* detailed, uint32_t nharts, PhysMem* m, uint64_t budget,
                             uint32_t quantum) noexcept nogil:
    cdef ClusterStop result
    cdef PhysMem mem = m[0]
    cdef uint64_t now = 0
    cdef uint64_t retired = 0
    cdef uint64_t before, earliest, mmio
    cdef uint32_t i
    cdef bint stepped
    cdef int stop
    result.stop = STOP_BUDGET
    result.hart = 0
    stop = STOP_BUDGET
    for i in range(nharts):
        if running[i]:
            stop = -1
    if stop == STOP_BUDGET:     # nothing to run
        return result
    for i in range(nharts):
        if running[i] and harts[i].cycle > now:
            now = harts[i].cycle
    for i in range(nharts):
        if running[i]:
            harts[i].cycle = now
            if detailed[i]:
                ooo_begin(&cores[i], &harts[i])
    if budget == 0:
        stop = STOP_BUDGET
    while stop < 0:
        stepped = False
        for i in range(nharts):
            if not running[i]:
                continue
            before = harts[i].instret
            if not detailed[i] and harts[i].cycle > now:
                continue            # ahead of the others: its quantum, or a memory stall
            mmio = ports[i].bus.loads + ports[i].bus.stores if ports[i].bus != NULL else 0
            if detailed[i]:
                stop = ooo_cycle(&cores[i], &harts[i], mem, budget - retired)
            else:
                stop = run_functional(&harts[i], m, &ports[i],
                                      min(<uint64_t>quantum, budget - retired))
                if stop == STOP_BUDGET:
                    stop = -1       # its turn is over
            if (stop < 0 and ports[i].bus != NULL
                    and ports[i].bus.loads + ports[i].bus.stores != mmio
                    and bus_wants_host(ports[i].bus)):
                stop = STOP_BUDGET  # MMIO left the UART waiting for Python: go back to it
            stepped = True
            retired += harts[i].instret - before
            if stop < 0 and retired >= budget:
                stop = STOP_BUDGET
            if stop >= 0:
                result.stop = stop
                result.hart = i
                break
        if stepped:
            now += 1
        else:                       # every hart is ahead: skip to the first one's cycle
            earliest = UINT64_MAX
            for i in range(nharts):
                if running[i] and harts[i].cycle < earliest:
                    earliest = harts[i].cycle
            now = earliest
    for i in range(nharts):
        if running[i] and detailed[i]:
            ooo_end(&cores[i], &harts[i])
    return result

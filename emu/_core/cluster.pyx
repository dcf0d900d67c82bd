"""The global cycle loop over all running harts (cluster.pxd)."""

from emu._core.functional cimport run_functional
from emu._core.ooo cimport ooo_begin, ooo_cycle, ooo_end
from emu._core.traps cimport STOP_BUDGET


cdef ClusterStop run_cluster(Hart* harts, OoOCore* cores, HartPorts* ports, uint8_t* running,
                             uint8_t* detailed, uint32_t nharts, PhysMem* m,
                             uint64_t budget) noexcept nogil:
    cdef ClusterStop result
    cdef PhysMem mem = m[0]
    cdef uint64_t now = 0
    cdef uint64_t retired = 0
    cdef uint64_t before
    cdef uint32_t i
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
        for i in range(nharts):
            if not running[i]:
                continue
            before = harts[i].instret
            if detailed[i]:
                stop = ooo_cycle(&cores[i], &harts[i], mem, budget - retired)
            elif harts[i].cycle > now:
                continue            # a timed functional hart still stalled on memory
            else:
                stop = run_functional(&harts[i], m, &ports[i], 1)
                if stop == STOP_BUDGET:
                    stop = -1       # its one instruction for this cycle
            retired += harts[i].instret - before
            if stop < 0 and retired >= budget:
                stop = STOP_BUDGET
            if stop >= 0:
                result.stop = stop
                result.hart = i
                break
        now += 1
    for i in range(nharts):
        if running[i] and detailed[i]:
            ooo_end(&cores[i], &harts[i])
    return result

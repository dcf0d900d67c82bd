"""The system bus: the physical memory map (RAM plus MMIO regions), device time, and the
interrupt lines (memory map and registers in isa/README.md, "Devices").

Interface for the cores (all nogil, no Python):

- `bus_load(bus, addr, width, &value, now)` / `bus_store(bus, addr, width, value, now)`
  for an access outside RAM (RAM is the cores' own path, memory.pxd; the bus only
  lends it to DMA devices, so a RAM address faults here like any unmapped one).
  They return ACCESS_OK (memory.pxd) or the trap cause: 5 (load) or 7 (store/AMO)
  access fault for an unmapped address, a width the device does not allow, a
  misaligned MMIO access or a hole in a device's registers. MMIO has side effects
  (reading RBR pops a byte, reading a PLIC claim register claims), so a core must make
  MMIO accesses non-speculatively, in program order (at the ROB head). The bus
  serves them in call order, one at a time: an access at cycle `now` starts at
  max(now, bus.done), and bus.done becomes start + bus.latency; the core charges
  bus.done - now cycles.
- `device_tick(bus, now)` brings every device to cycle `now` (completes block requests,
  transmit descriptors and link deliveries that are due), drives the PLIC's source
  lines from the devices' interrupt lines, and sets bus.next_event: the first cycle at
  which anything will happen by itself (a completion, a frame arrival, a timer
  reaching mtimecmp). Between device_ticks, nothing changes but through MMIO accesses,
  which tick before and after themselves. So a core calls `bus_advance(bus, now)` (an
  inline compare) between instructions, and reads `bus_pending_interrupt(bus, hart,
  now)`, the hart's pending interrupt bits in mip layout (MIP_MSIP, MIP_MTIP,
  MIP_MEIP), after each device_tick and each MMIO access. Cycles never go back: an
  earlier `now` counts as bus.now.
- Host-side changes (Python filling the UART's receive ring, a frame sent by another
  machine on a shared link) are seen at the next device_tick: a Machine calls
  device_tick(bus, now) whenever it enters a core.

The bus points at device structs that their Python wrappers own (BusModel keeps the
wrappers alive); devices never point back at the bus: the DMA port is passed to them
on every call that can move data.
"""

from libc.stdint cimport uint8_t, uint32_t, uint64_t

from emu._core.clint cimport Clint
from emu._core.dma cimport DmaPort
from emu._core.memory cimport PhysMem
from emu._core.plic cimport Plic

cdef enum DeviceKind:
    DEV_UART = 1
    DEV_CLINT = 2
    DEV_PLIC = 3
    DEV_BLOCK = 4
    DEV_NIC = 5

cpdef enum:
    BUS_MAX_REGIONS = 16
    MIP_MSIP = 1 << 3       # machine software interrupt (CLINT msip): interrupt cause 3
    MIP_MTIP = 1 << 7       # machine timer interrupt (mtime >= mtimecmp): cause 7
    MIP_MEIP = 1 << 11      # machine external interrupt (the PLIC): cause 11


cdef struct Bus:
    DmaPort dma                         # guest RAM, lent to DMA devices, and the DMA-write log
    uint32_t nregions                   # MMIO regions in use, in attach order:
    uint8_t kind[BUS_MAX_REGIONS]       #   DeviceKind
    uint32_t base[BUS_MAX_REGIONS]      #   first address
    uint32_t size[BUS_MAX_REGIONS]      #   bytes
    uint8_t widths[BUS_MAX_REGIONS]     #   bit w set: w-byte accesses allowed
    uint8_t irq[BUS_MAX_REGIONS]        #   PLIC source the device drives, 0 for none
    void* device[BUS_MAX_REGIONS]       #   the device struct (Uart*, Clint*, ...)
    Clint* clint                        # the CLINT, NULL if none: timer and software interrupts
    Plic* plic                          # the PLIC, NULL if none: external interrupts
    uint32_t latency                    # cycles one MMIO access occupies the bus
    uint64_t now                        # the latest cycle the devices have been brought to
    uint64_t next_event                 # first cycle at which device_tick has something to do
    uint64_t done                       # cycle the latest MMIO access completes
    uint64_t loads                      # statistics: MMIO loads, MMIO stores,
    uint64_t stores
    uint64_t faults                     # accesses answered with an access fault


cdef class BusModel:
    cdef Bus bus
    cdef readonly object ram            # the uint8 array guest RAM lives in
    cdef list devices                   # attached device wrappers (the bus points into them)


cdef int bus_init(Bus* bus, PhysMem ram, uint32_t latency) except -1
cdef int bus_attach(Bus* bus, DeviceKind kind, void* device, uint32_t base, uint32_t size,
                    uint8_t widths, uint32_t irq) except -1
cdef int bus_load(Bus* bus, uint32_t addr, uint32_t width, uint32_t* value, uint64_t now) noexcept nogil
cdef int bus_store(Bus* bus, uint32_t addr, uint32_t width, uint32_t value, uint64_t now) noexcept nogil
cdef void device_tick(Bus* bus, uint64_t now) noexcept nogil
cdef uint32_t bus_pending_interrupt(Bus* bus, uint32_t hart, uint64_t now) noexcept nogil
cdef bint bus_wants_host(Bus* bus) noexcept nogil
    # A device waits for the host: a UART's transmit buffer is full until Python drains
    # it, or its receiver is starved (uart.pxd) until Python queues input. A core checks
    # this after MMIO accesses and returns (STOP_BUDGET, early), so the Machine serves
    # the UART and goes on: a polling guest never spins on it.


cdef inline uint32_t interrupt_code(uint32_t pending) noexcept nogil:
    """The interrupt taken first among pending mip bits (non-zero): external, software,
    timer, as the privileged spec orders them; the cause is CAUSE_INTERRUPT | code."""
    if pending & MIP_MEIP:
        return 11
    if pending & MIP_MSIP:
        return 3
    return 7


cdef inline void bus_advance(Bus* bus, uint64_t now) noexcept nogil:
    """device_tick when something is due by `now` (the per-instruction check)."""
    if now >= bus.next_event:
        device_tick(bus, now)

"""The bus's address decoding, device time and interrupt routing (bus.pxd), and
BusModel, its Python face: attach device models, make MMIO accesses, tick, read the
pending interrupts and the DMA log (emu/devices.py builds whole machines' buses)."""

import numpy as np

from libc.stdint cimport UINT64_MAX
from libc.string cimport memset

from emu._core.blockdev cimport (BLK_SIZE, BLK_WIDTHS, BlockDev, BlockDevModel, blockdev_irq,
                                 blockdev_load, blockdev_store, blockdev_tick)
from emu._core.clint cimport (CLINT_SIZE, CLINT_WIDTHS, ClintModel, clint_load,
                              clint_next_event, clint_store, clint_timer_pending)
from emu._core.memory cimport ACCESS_OK
from emu._core.nic cimport NIC_SIZE, NIC_WIDTHS, Nic, NicModel, nic_irq, nic_load, nic_store, nic_tick
from emu._core.plic cimport (PLIC_SIZE, PLIC_SOURCES, PLIC_WIDTHS, PlicModel, plic_best, plic_load,
                             plic_set_level, plic_store)
from emu._core.traps cimport CAUSE_LOAD_ACCESS, CAUSE_STORE_ACCESS
from emu._core.uart cimport UART_SIZE, UART_WIDTHS, Uart, UartModel, uart_irq, uart_load, uart_store

_KIND_NAMES = {DEV_UART: "uart", DEV_CLINT: "clint", DEV_PLIC: "plic", DEV_BLOCK: "block",
               DEV_NIC: "nic"}


class AccessFault(Exception):
    """An access the bus answered with an access fault (`cause` 5 for a load, 7 for a
    store)."""

    def __init__(self, cause, address):
        super().__init__(f"access fault (cause {cause}) at {address:#010x}")
        self.cause = cause
        self.address = address


cdef int bus_init(Bus* bus, PhysMem ram, uint32_t latency) except -1:
    memset(bus, 0, sizeof(Bus))
    bus.dma.ram = ram
    bus.latency = latency
    bus.next_event = UINT64_MAX
    return 0


cdef bint _overlaps(uint64_t a, uint64_t a_size, uint64_t b, uint64_t b_size) noexcept:
    return a < b + b_size and b < a + a_size


cdef int bus_attach(Bus* bus, DeviceKind kind, void* device, uint32_t base, uint32_t size,
                    uint8_t widths, uint32_t irq) except -1:
    """Map a device's `size` bytes of registers at `base`, its interrupt line (if it has
    one) to PLIC source `irq` (0: not connected)."""
    cdef uint32_t i
    if bus.nregions == BUS_MAX_REGIONS:
        raise ValueError(f"a bus has room for {BUS_MAX_REGIONS} devices")
    if base % 8 or <uint64_t>base + size > (<uint64_t>1 << 32):
        raise ValueError(f"a device must start at a multiple of 8 and end by 4 GiB, "
                         f"not at {base:#x}")
    if _overlaps(base, size, bus.dma.ram.base, bus.dma.ram.size):
        raise ValueError(f"[{base:#x}, {<uint64_t>base + size:#x}) overlaps RAM")
    for i in range(bus.nregions):
        if _overlaps(base, size, bus.base[i], bus.size[i]):
            raise ValueError(f"[{base:#x}, {<uint64_t>base + size:#x}) overlaps the "
                             f"{_KIND_NAMES[bus.kind[i]]} at {bus.base[i]:#x}")
        if irq and bus.irq[i] == irq:
            raise ValueError(f"PLIC source {irq} is already used by the "
                             f"{_KIND_NAMES[bus.kind[i]]} at {bus.base[i]:#x}")
    if irq and (kind == DEV_CLINT or kind == DEV_PLIC):
        raise ValueError(f"the {_KIND_NAMES[kind]} has no line to the PLIC")
    if irq >= PLIC_SOURCES:
        raise ValueError(f"PLIC sources are 1..{PLIC_SOURCES - 1}, not {irq}")
    if kind == DEV_CLINT:
        if bus.clint != NULL:
            raise ValueError("the bus already has a CLINT")
        bus.clint = <Clint*>device
    if kind == DEV_PLIC:
        if bus.plic != NULL:
            raise ValueError("the bus already has a PLIC")
        bus.plic = <Plic*>device
    i = bus.nregions
    bus.kind[i] = kind
    bus.base[i] = base
    bus.size[i] = size
    bus.widths[i] = widths
    bus.irq[i] = irq
    bus.device[i] = device
    bus.nregions += 1
    return 0


cdef int _region(Bus* bus, uint32_t addr, uint32_t width) noexcept nogil:
    """The region an MMIO access falls in, or -1 when it must fault (unmapped, a width
    the device does not allow, misaligned)."""
    cdef uint32_t i
    if width > 4 or addr & (width - 1):
        return -1
    for i in range(bus.nregions):
        if addr - bus.base[i] < bus.size[i]:
            return i if bus.widths[i] >> width & 1 else -1
    return -1


cdef void _route_irqs(Bus* bus) noexcept nogil:
    """Drive the PLIC's source lines from the devices' interrupt lines."""
    cdef uint32_t i
    cdef bint level
    if bus.plic == NULL:
        return
    for i in range(bus.nregions):
        if bus.irq[i] == 0:
            continue
        if bus.kind[i] == DEV_UART:
            level = uart_irq(<Uart*>bus.device[i])
        elif bus.kind[i] == DEV_BLOCK:
            level = blockdev_irq(<BlockDev*>bus.device[i])
        else:
            level = nic_irq(<Nic*>bus.device[i])
        plic_set_level(bus.plic, bus.irq[i], level)


cdef void device_tick(Bus* bus, uint64_t now) noexcept nogil:
    cdef uint64_t next_event = UINT64_MAX
    cdef uint64_t t
    cdef uint32_t i
    if now < bus.now:
        now = bus.now
    bus.now = now
    for i in range(bus.nregions):
        if bus.kind[i] == DEV_BLOCK:
            t = blockdev_tick(<BlockDev*>bus.device[i], &bus.dma, now)
        elif bus.kind[i] == DEV_NIC:
            t = nic_tick(<Nic*>bus.device[i], &bus.dma, now)
        elif bus.kind[i] == DEV_CLINT:
            t = clint_next_event(<Clint*>bus.device[i], now)
        else:
            continue
        if t < next_event:
            next_event = t
    _route_irqs(bus)
    bus.next_event = next_event


cdef inline void _occupy(Bus* bus, uint64_t now) noexcept nogil:
    """Charge one MMIO access on the bus (accesses are served one at a time)."""
    bus.done = (now if now > bus.done else bus.done) + bus.latency


cdef int bus_load(Bus* bus, uint32_t addr, uint32_t width, uint32_t* value, uint64_t now) noexcept nogil:
    cdef uint32_t off
    cdef int r = _region(bus, addr, width)
    cdef bint ok
    if r < 0:
        bus.faults += 1
        return CAUSE_LOAD_ACCESS
    if now < bus.now:
        now = bus.now
    bus_advance(bus, now)
    off = addr - bus.base[r]
    if bus.kind[r] == DEV_UART:
        ok = uart_load(<Uart*>bus.device[r], off, value)
    elif bus.kind[r] == DEV_CLINT:
        ok = clint_load(<Clint*>bus.device[r], off, value, now)
    elif bus.kind[r] == DEV_PLIC:
        ok = plic_load(bus.plic, off, value)
    elif bus.kind[r] == DEV_BLOCK:
        ok = blockdev_load(<BlockDev*>bus.device[r], off, value)
    else:
        ok = nic_load(<Nic*>bus.device[r], off, value)
    device_tick(bus, now)   # a read can lower a line (RBR, claim): route it, re-plan
    if not ok:
        bus.faults += 1
        return CAUSE_LOAD_ACCESS
    bus.loads += 1
    _occupy(bus, now)
    return ACCESS_OK


cdef int bus_store(Bus* bus, uint32_t addr, uint32_t width, uint32_t value, uint64_t now) noexcept nogil:
    cdef uint32_t off
    cdef int r = _region(bus, addr, width)
    cdef bint ok
    if r < 0:
        bus.faults += 1
        return CAUSE_STORE_ACCESS
    if now < bus.now:
        now = bus.now
    bus_advance(bus, now)
    off = addr - bus.base[r]
    if bus.kind[r] == DEV_UART:
        ok = uart_store(<Uart*>bus.device[r], off, value)
    elif bus.kind[r] == DEV_CLINT:
        ok = clint_store(<Clint*>bus.device[r], off, value)
    elif bus.kind[r] == DEV_PLIC:
        ok = plic_store(bus.plic, off, value)
    elif bus.kind[r] == DEV_BLOCK:
        ok = blockdev_store(<BlockDev*>bus.device[r], &bus.dma, off, value, now)
    else:
        ok = nic_store(<Nic*>bus.device[r], &bus.dma, off, value, now)
    device_tick(bus, now)   # a write can start work or move a line: route it, re-plan
    if not ok:
        bus.faults += 1
        return CAUSE_STORE_ACCESS
    bus.stores += 1
    _occupy(bus, now)
    return ACCESS_OK


cdef bint bus_wants_host(Bus* bus) noexcept nogil:
    cdef uint32_t i
    cdef Uart* u
    for i in range(bus.nregions):
        if bus.kind[i] == DEV_UART:
            u = <Uart*>bus.device[i]
            if u.tx_count == u.tx_capacity or u.rx_starved:
                return True
    return False


cdef uint32_t bus_pending_interrupt(Bus* bus, uint32_t hart, uint64_t now) noexcept nogil:
    cdef uint32_t mip = 0
    if now < bus.now:
        now = bus.now
    if bus.clint != NULL and hart < bus.clint.harts:
        if bus.clint.msip[hart]:
            mip |= MIP_MSIP
        if clint_timer_pending(bus.clint, hart, now):
            mip |= MIP_MTIP
    if bus.plic != NULL and hart < bus.plic.harts and plic_best(bus.plic, hart):
        mip |= MIP_MEIP
    return mip


cdef class BusModel:
    """A bus over guest RAM (`ram`, a writable contiguous uint8 array, at `ram_base`)
    with MMIO accesses taking `latency` cycles. `attach` maps device models; `load` and
    `store` are MMIO accesses at a cycle, raising AccessFault; `tick` brings the devices
    to a cycle. Times default to the bus's current cycle (`now`)."""

    def __cinit__(self, ram, uint32_t ram_base, uint32_t latency=1):
        cdef PhysMem mem
        cdef uint8_t[::1] view
        if not (isinstance(ram, np.ndarray) and ram.dtype == np.uint8 and ram.ndim == 1
                and ram.flags.c_contiguous and ram.flags.writeable and ram.size > 0):
            raise ValueError("ram must be a writable, contiguous, non-empty 1-d uint8 array")
        if ram_base + ram.size > (1 << 32):
            raise ValueError("RAM must end by 4 GiB")
        view = ram
        memset(&mem, 0, sizeof(PhysMem))
        mem.data = &view[0]
        mem.base = ram_base
        mem.size = ram.size
        bus_init(&self.bus, mem, latency)
        self.ram = ram
        self.devices = []

    def attach(self, device, uint32_t base, uint32_t irq=0):
        """Map a UartModel, ClintModel, PlicModel, BlockDevModel or NicModel at `base`,
        its interrupt line to PLIC source `irq` (0: none). A device belongs to one bus."""
        if any(device is d for d in self.devices):
            raise ValueError("this device is already attached")
        if isinstance(device, UartModel):
            bus_attach(&self.bus, DEV_UART, &(<UartModel>device).dev, base, UART_SIZE,
                       UART_WIDTHS, irq)
        elif isinstance(device, ClintModel):
            bus_attach(&self.bus, DEV_CLINT, &(<ClintModel>device).dev, base, CLINT_SIZE,
                       CLINT_WIDTHS, irq)
        elif isinstance(device, PlicModel):
            bus_attach(&self.bus, DEV_PLIC, &(<PlicModel>device).dev, base, PLIC_SIZE,
                       PLIC_WIDTHS, irq)
        elif isinstance(device, BlockDevModel):
            bus_attach(&self.bus, DEV_BLOCK, &(<BlockDevModel>device).dev, base, BLK_SIZE,
                       BLK_WIDTHS, irq)
        elif isinstance(device, NicModel):
            bus_attach(&self.bus, DEV_NIC, &(<NicModel>device).dev, base, NIC_SIZE,
                       NIC_WIDTHS, irq)
        else:
            raise TypeError(f"not a device model: {type(device).__name__}")
        self.devices.append(device)
        device_tick(&self.bus, self.bus.now)

    def _cycle(self, now):
        return self.bus.now if now is None else now

    def load(self, uint32_t addr, uint32_t width=4, now=None):
        """The value a `width`-byte load at addr reads at cycle `now`."""
        cdef uint32_t value = 0
        cdef int cause = bus_load(&self.bus, addr, width, &value, self._cycle(now))
        if cause != ACCESS_OK:
            raise AccessFault(cause, addr)
        return value

    def store(self, uint32_t addr, uint32_t value, uint32_t width=4, now=None):
        """A `width`-byte store of value's low bytes at addr at cycle `now`."""
        cdef int cause = bus_store(&self.bus, addr, width, value, self._cycle(now))
        if cause != ACCESS_OK:
            raise AccessFault(cause, addr)

    def tick(self, uint64_t now):
        """Bring every device to cycle `now` (device_tick)."""
        device_tick(&self.bus, now)

    def pending_interrupts(self, uint32_t hart=0, now=None):
        """hart's pending interrupts in mip layout (MIP_MSIP | MIP_MTIP | MIP_MEIP)."""
        return bus_pending_interrupt(&self.bus, hart, self._cycle(now))

    @property
    def now(self):
        """The latest cycle the devices have been brought to."""
        return self.bus.now

    @property
    def next_event(self):
        """The first cycle at which a device has something to do by itself (None: never)."""
        return None if self.bus.next_event == UINT64_MAX else self.bus.next_event

    @property
    def done(self):
        """The cycle the latest MMIO access completes."""
        return self.bus.done

    @property
    def latency(self):
        return self.bus.latency

    def regions(self):
        """(kind, base, size, irq) of every MMIO region, in attach order."""
        return [(_KIND_NAMES[self.bus.kind[i]], self.bus.base[i], self.bus.size[i],
                 self.bus.irq[i]) for i in range(self.bus.nregions)]

    def take_dma_log(self):
        """The RAM ranges devices wrote since the last call, as ([(address, length)...],
        overflowed), and empty the log (what the cache model will do in C)."""
        log = [(self.bus.dma.log_addr[i], self.bus.dma.log_len[i])
               for i in range(self.bus.dma.log_count)]
        overflowed = bool(self.bus.dma.log_overflow)
        self.bus.dma.log_count = 0
        self.bus.dma.log_overflow = 0
        return log, overflowed

    def stats(self):
        return {"loads": self.bus.loads, "stores": self.bus.stores, "faults": self.bus.faults,
                "dma_bytes_read": self.bus.dma.bytes_read,
                "dma_bytes_written": self.bus.dma.bytes_written}

"""The devices of a machine, for tests, the kernel and the Machine: a SystemBus with its
CLINT and PLIC and attach helpers, and friendly wrappers around the C device models of
emu/_core (Uart, BlockDevice, Link, Nic).

This module owns the memory map (where each device sits and which PLIC source it
drives, documented in isa/README.md, "Devices"), the conversion of configs
(emu.config.DeviceConfig, LinkConfig) into device models, and the host-side ends of
the devices: the UART's host output, the block device's image file. Register offsets
and bits are constants of the C modules (uart.UART_LSR, nic.NIC_DESC_OWN, ...),
re-exported here as the modules `uart`, `clint`, `plic`, `blockdev`, `nic`, `bus`.

Everything a guest does goes through `SystemBus.load`/`store` (MMIO, raising
AccessFault) at a bus cycle; `tick(now)` advances device time; nothing here runs in
the per-access path of a core.
"""

from __future__ import annotations

import os
from typing import BinaryIO

import numpy as np

from emu._core import blockdev, bus, clint, nic, plic, uart
from emu._core.blockdev import BlockDevModel
from emu._core.bus import AccessFault, BusModel
from emu._core.clint import ClintModel
from emu._core.link import LinkModel
from emu._core.nic import NicModel
from emu._core.plic import PlicModel
from emu._core.uart import UartModel
from emu.config import DeviceConfig, LinkConfig, rate_fraction

__all__ = ["AccessFault", "BlockDevice", "Link", "Nic", "SystemBus", "Uart",
           "blockdev", "bus", "clint", "nic", "plic", "uart"]

# The memory map: device bases, and the PLIC source each device drives.
UART_BASE = 0xF000_0000
BLOCK_BASE = 0xF000_1000
NIC_BASE = 0xF000_2000
CLINT_BASE = 0xF200_0000
PLIC_BASE = 0xFC00_0000
UART_IRQ = 1
BLOCK_IRQ = 2
NIC_IRQ = 3


def _ratio(bandwidth: float) -> tuple[int, int]:
    """(bytes, cycles) of a bandwidth in bytes per cycle, as the C models take it."""
    rate = rate_fraction(bandwidth)
    return rate.numerator, rate.denominator


class Uart:
    """A UART. `write_rx` queues bytes for the guest; `read_tx` drains what the guest
    sent, copying it to `output` (a binary file or a file descriptor) when given."""

    def __init__(self, output: BinaryIO | int | None = None, rx_capacity: int = 4096,
                 tx_capacity: int = 65536):
        self.model = UartModel(rx_capacity, tx_capacity)
        self.output = output

    def write_rx(self, data: bytes) -> int:
        """Queue bytes for the guest to read; returns how many fit."""
        return self.model.write_rx(data)

    def read_tx(self) -> bytes:
        """The bytes the guest has transmitted since the last call."""
        data = self.model.read_tx()
        if data and self.output is not None:
            if isinstance(self.output, int):
                os.write(self.output, data)
            else:
                self.output.write(data)
                self.output.flush()
        return data

    @property
    def rx_waiting(self) -> int:
        return self.model.rx_waiting

    @property
    def irq(self) -> bool:
        return self.model.irq


class BlockDevice:
    """A block device over the image file at `image_path` (its size a positive multiple
    of 512). Requests take `latency` cycles plus their bytes at `bandwidth` bytes per
    cycle. The guest's writes reach the file only when it sends FLUSH; `close` (or
    leaving a `with` block) also syncs the flushed pages to the disk."""

    def __init__(self, image_path: str | os.PathLike, latency: int = 50_000,
                 bandwidth: float = 2.0):
        self.path = os.fspath(image_path)
        self._image = np.memmap(self.path, dtype=np.uint8, mode="r+")
        self.model = BlockDevModel(self._image, latency, *_ratio(bandwidth))

    @classmethod
    def from_config(cls, config: DeviceConfig) -> "BlockDevice":
        return cls(config.block_image, config.block_latency, config.block_bandwidth)

    @property
    def sectors(self) -> int:
        return self.model.sectors

    @property
    def dirty_sectors(self) -> int:
        """Sectors the guest wrote that are not flushed to the file yet."""
        return self.model.dirty_sectors

    def request_cycles(self, nbytes: int) -> int:
        """Cycles from a request moving nbytes to its completion interrupt."""
        return self.model.request_cycles(nbytes)

    def close(self) -> None:
        """Sync what the guest has flushed to the disk (the mapping stays while the
        device model lives)."""
        self._image.flush()

    def __enter__(self) -> "BlockDevice":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class Link:
    """A simulated link: `latency` cycles after a frame's last byte leaves it arrives;
    the wire carries `bandwidth` bytes per cycle; frames are lost with probability
    `loss`, drawn from a PRNG seeded with `seed`. Two Nics connect to ends 0 and 1; a
    loopback link has one end whose frames come back to it."""

    def __init__(self, latency: int, bandwidth: float = 1.0, loss: float = 0.0, seed: int = 0,
                 loopback: bool = False, capacity: int = 256):
        LinkConfig(latency=latency, bandwidth=bandwidth, loss=loss, seed=seed,
                   capacity=capacity)       # validates
        self.model = LinkModel(latency, *_ratio(bandwidth),
                               loss_threshold=round(loss * 2**32), seed=seed,
                               loopback=loopback, capacity=capacity)

    @classmethod
    def from_config(cls, config: LinkConfig, loopback: bool = False) -> "Link":
        return cls(config.latency, config.bandwidth, config.loss, config.seed, loopback,
                   config.capacity)

    def wire_cycles(self, length: int) -> int:
        """Cycles a frame of `length` bytes occupies the wire."""
        return self.model.wire_cycles(length)

    def stats(self, direction: int = 0) -> dict[str, int]:
        """Frames sent, lost, overflowed, delivered and in flight from end `direction`."""
        return self.model.stats(direction)


class Nic:
    """A NIC on end `end` of `link`."""

    def __init__(self, link: Link, end: int = 0):
        self.link = link
        self.model = NicModel(link.model, end)

    @property
    def irq(self) -> bool:
        return self.model.irq

    def stats(self) -> dict[str, int]:
        return self.model.stats()


class SystemBus:
    """A machine's bus: `ram_size` bytes of RAM at `ram_base` (or the given `ram`
    array), a CLINT and a PLIC for `harts` harts (mtime ticks every `timer_divider`
    cycles), MMIO accesses taking `latency` cycles. Attach a UART, a block device and a
    NIC with the attach_* helpers, or build everything from a DeviceConfig."""

    def __init__(self, ram_size: int = 1 << 20, ram_base: int = 0x1000, harts: int = 1,
                 latency: int = 20, timer_divider: int = 1, ram: np.ndarray | None = None):
        self.ram = np.zeros(ram_size, dtype=np.uint8) if ram is None else ram
        self.ram_base = ram_base
        self.model = BusModel(self.ram, ram_base, latency)
        self.clint = ClintModel(harts, timer_divider)
        self.plic = PlicModel(harts)
        self.model.attach(self.clint, CLINT_BASE)
        self.model.attach(self.plic, PLIC_BASE)
        self.uart: Uart | None = None
        self.block: BlockDevice | None = None
        self.nic: Nic | None = None

    @classmethod
    def from_config(cls, config: DeviceConfig, ram_size: int, ram_base: int = 0x1000,
                    harts: int = 1, timer_divider: int = 1, ram: np.ndarray | None = None,
                    link: Link | None = None, link_end: int = 0) -> "SystemBus":
        """The bus `config` describes. Its NIC goes on `link` (end `link_end`) when
        given, else on a loopback link built from config.link. A `link` without a NIC
        (config.nic False) is an error, not silently left unconnected."""
        if link is not None and not config.nic:
            raise ValueError("a link needs a NIC: config.nic is False")
        system_bus = cls(ram_size, ram_base, harts, config.bus_latency, timer_divider, ram)
        if config.uart:
            system_bus.attach_uart(Uart())
        if config.block_image is not None:
            system_bus.attach_block(BlockDevice.from_config(config))
        if config.nic:
            if link is None:
                link = Link.from_config(config.link, loopback=True)
            system_bus.attach_nic(Nic(link, link_end))
        return system_bus

    def attach_uart(self, device: Uart, base: int = UART_BASE, irq: int = UART_IRQ) -> Uart:
        self.model.attach(device.model, base, irq)
        self.uart = device
        return device

    def attach_block(self, device: BlockDevice, base: int = BLOCK_BASE,
                     irq: int = BLOCK_IRQ) -> BlockDevice:
        self.model.attach(device.model, base, irq)
        self.block = device
        return device

    def attach_nic(self, device: Nic, base: int = NIC_BASE, irq: int = NIC_IRQ) -> Nic:
        self.model.attach(device.model, base, irq)
        self.nic = device
        return device

    # guest accesses and time
    def load(self, addr: int, width: int = 4, now: int | None = None) -> int:
        """What a `width`-byte load at addr reads at cycle `now` (default: the bus's
        current cycle); raises AccessFault."""
        return self.model.load(addr, width, now)

    def store(self, addr: int, value: int, width: int = 4, now: int | None = None) -> None:
        """A `width`-byte store at addr at cycle `now`; raises AccessFault."""
        self.model.store(addr, value, width, now)

    def tick(self, now: int) -> None:
        """Bring every device to cycle `now`."""
        self.model.tick(now)

    def pending_interrupts(self, hart: int = 0, now: int | None = None) -> int:
        """hart's pending interrupt bits in mip layout (bus.MIP_MSIP, MIP_MTIP, MIP_MEIP)."""
        return self.model.pending_interrupts(hart, now)

    @property
    def now(self) -> int:
        return self.model.now

    @property
    def next_event(self) -> int | None:
        """The first cycle at which a device has something to do by itself (None: never)."""
        return self.model.next_event

    def take_dma_log(self) -> tuple[list[tuple[int, int]], bool]:
        """RAM ranges written by DMA since the last call, and whether the log overflowed."""
        return self.model.take_dma_log()

    # RAM, for test drivers and the kernel
    def write_ram(self, addr: int, data: bytes) -> None:
        offset = self._ram_offset(addr, len(data))
        self.ram[offset:offset + len(data)] = np.frombuffer(data, dtype=np.uint8)

    def read_ram(self, addr: int, length: int) -> bytes:
        offset = self._ram_offset(addr, length)
        return self.ram[offset:offset + length].tobytes()

    def _ram_offset(self, addr: int, length: int) -> int:
        offset = addr - self.ram_base
        if offset < 0 or offset + length > self.ram.size:
            raise ValueError(f"[{addr:#x}, {addr + length:#x}) is not in RAM")
        return offset

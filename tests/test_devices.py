"""The system bus and its devices through MMIO loads and stores (emu/devices.py over
emu/_core/bus.pyx and the device modules): UART, CLINT timer, PLIC, block device with
DMA and flush, NICs on a simulated link; random MMIO never crashes, DMA never leaves RAM."""

import io
import pickle
import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from emu.config import ConfigError, DeviceConfig, LinkConfig
from emu.devices import (BLOCK_BASE, BLOCK_IRQ, CLINT_BASE, NIC_BASE, NIC_IRQ, PLIC_BASE, UART_BASE,
                         UART_IRQ, AccessFault, BlockDevice, Link, Nic, SystemBus, Uart, blockdev,
                         bus, clint, nic, plic, uart)

RAM_BASE = 0x1000
RAM_SIZE = 64 << 10
RAM_END = RAM_BASE + RAM_SIZE
SECTOR = blockdev.BLK_SECTOR_SIZE


def plic_route(sb, source, priority=1, hart=0, threshold=0):
    """Let `source` interrupt `hart`: give it a priority and enable it."""
    sb.store(PLIC_BASE + plic.PLIC_PRIORITY + 4 * source, priority)
    enable = PLIC_BASE + plic.PLIC_ENABLE + plic.PLIC_ENABLE_STRIDE * hart
    sb.store(enable, sb.load(enable) | 1 << source)
    sb.store(PLIC_BASE + plic.PLIC_CONTEXT + plic.PLIC_CONTEXT_STRIDE * hart, threshold)


def claim_register(hart=0):
    return PLIC_BASE + plic.PLIC_CONTEXT + plic.PLIC_CONTEXT_STRIDE * hart + 4


# ---------------------------------------------------------------- bus and map


def test_memory_map_and_bus_timing():
    sb = SystemBus(ram_size=RAM_SIZE, latency=7)
    sb.attach_uart(Uart())
    assert [(kind, base, irq) for kind, base, _size, irq in sb.model.regions()] == [
        ("clint", CLINT_BASE, 0), ("plic", PLIC_BASE, 0), ("uart", UART_BASE, UART_IRQ)]
    # accesses are served one at a time, each holding the bus for `latency` cycles
    sb.load(UART_BASE + uart.UART_LSR, 1, now=100)
    assert sb.model.done == 107
    sb.load(UART_BASE + uart.UART_LSR, 1, now=100)
    assert sb.model.done == 114
    sb.load(UART_BASE + uart.UART_LSR, 1, now=200)
    assert sb.model.done == 207
    with pytest.raises(ValueError, match="overlaps"):
        sb.attach_uart(Uart(), base=UART_BASE, irq=9)
    with pytest.raises(ValueError, match="already used"):
        sb.attach_uart(Uart(), base=0xF0008000, irq=UART_IRQ)


@pytest.mark.parametrize("addr, width, cause", [
    (0x0, 4, 5),                        # page 0 is unmapped
    (RAM_END, 4, 5),                    # just past RAM
    (RAM_BASE, 4, 5),                   # RAM is the cores' path, not the bus's
    (UART_BASE + 8, 1, 5),              # past the UART's registers
    (UART_BASE, 4, 5),                  # the UART is byte-wide
    (CLINT_BASE + 2, 2, 5),             # the CLINT is word-wide
    (CLINT_BASE + 0xBFF9, 4, 5),        # misaligned MMIO
    (CLINT_BASE + 4, 4, 5),             # msip of a hart that does not exist
    (CLINT_BASE + 0xC000, 4, 5),        # past mtime
    (PLIC_BASE + 0x1004, 4, 5),         # a hole in the PLIC
    (UART_BASE, 3, 5),                  # no such width
    (0xEFFFFFFC, 4, 5),                 # between RAM and the devices
])
def test_access_faults(addr, width, cause):
    sb = SystemBus(ram_size=RAM_SIZE)
    sb.attach_uart(Uart())
    with pytest.raises(AccessFault) as load_fault:
        sb.load(addr, width)
    assert load_fault.value.cause == cause and load_fault.value.address == addr
    with pytest.raises(AccessFault) as store_fault:
        sb.store(addr, 0, width)
    assert store_fault.value.cause == cause + 2


# ---------------------------------------------------------------- UART


def test_uart_round_trip_and_status_bits():
    out = io.BytesIO()
    sb = SystemBus(ram_size=RAM_SIZE)
    u = sb.attach_uart(Uart(output=out))
    for byte in b"hello\n":
        sb.store(UART_BASE + uart.UART_RBR_THR, byte, 1)
    assert u.read_tx() == b"hello\n" and out.getvalue() == b"hello\n"
    assert u.read_tx() == b""
    lsr = UART_BASE + uart.UART_LSR
    assert sb.load(lsr, 1) == uart.UART_LSR_THRE | uart.UART_LSR_TEMT     # nothing to read
    assert u.write_rx(b"ok!") == 3
    assert sb.load(lsr, 1) & uart.UART_LSR_DR
    received = bytes(sb.load(UART_BASE + uart.UART_RBR_THR, 1) for _ in range(3))
    assert received == b"ok!"
    assert not sb.load(lsr, 1) & uart.UART_LSR_DR
    assert sb.load(UART_BASE + uart.UART_RBR_THR, 1) == 0               # empty reads 0


def test_uart_transmit_buffer_full_clears_thre():
    sb = SystemBus(ram_size=RAM_SIZE)
    u = sb.attach_uart(Uart(tx_capacity=2))
    for byte in b"abc":
        sb.store(UART_BASE + uart.UART_RBR_THR, byte, 1)
    assert not sb.load(UART_BASE + uart.UART_LSR, 1) & uart.UART_LSR_THRE
    assert u.read_tx() == b"ab" and u.model.stats()["tx_dropped"] == 1
    assert sb.load(UART_BASE + uart.UART_LSR, 1) & uart.UART_LSR_THRE


def test_uart_divisor_latch_and_scratch():
    sb = SystemBus(ram_size=RAM_SIZE)
    u = sb.attach_uart(Uart())
    sb.store(UART_BASE + uart.UART_LCR, uart.UART_LCR_DLAB | 3, 1)
    sb.store(UART_BASE + uart.UART_RBR_THR, 0x12, 1)                    # DLL, not THR
    sb.store(UART_BASE + uart.UART_IER, 0x34, 1)                        # DLM, not IER
    assert u.read_tx() == b""
    assert sb.load(UART_BASE + uart.UART_RBR_THR, 1) == 0x12
    sb.store(UART_BASE + uart.UART_LCR, 3, 1)
    assert sb.load(UART_BASE + uart.UART_IER, 1) == 0
    sb.store(UART_BASE + uart.UART_SCR, 0x5A, 1)
    assert sb.load(UART_BASE + uart.UART_SCR, 1) == 0x5A


def test_uart_rx_interrupt_raised_and_cleared():
    sb = SystemBus(ram_size=RAM_SIZE)
    u = sb.attach_uart(Uart())
    plic_route(sb, UART_IRQ)
    u.write_rx(b"x")
    sb.tick(10)
    assert sb.pending_interrupts() == 0                                 # IER is 0
    iir = UART_BASE + uart.UART_IIR_FCR
    assert sb.load(iir, 1) == uart.UART_IIR_FIFOS | uart.UART_IIR_NONE
    sb.store(UART_BASE + uart.UART_IER, uart.UART_IER_ERBFI, 1)
    assert u.irq and sb.pending_interrupts() == bus.MIP_MEIP
    assert sb.load(iir, 1) == uart.UART_IIR_FIFOS | uart.UART_IIR_RDA
    assert sb.load(claim_register(), 4) == UART_IRQ
    assert sb.pending_interrupts() == 0                                 # claimed
    assert sb.load(UART_BASE + uart.UART_RBR_THR, 1) == ord("x")
    assert not u.irq
    sb.store(claim_register(), UART_IRQ)                                # complete
    assert sb.pending_interrupts() == 0
    u.write_rx(b"y")
    sb.tick(20)
    assert sb.pending_interrupts() == bus.MIP_MEIP


def test_uart_thre_interrupt_cleared_by_reading_iir():
    sb = SystemBus(ram_size=RAM_SIZE)
    u = sb.attach_uart(Uart())
    sb.store(UART_BASE + uart.UART_IER, uart.UART_IER_ETBEI, 1)
    assert u.irq
    assert sb.load(UART_BASE + uart.UART_IIR_FCR, 1) == uart.UART_IIR_FIFOS | uart.UART_IIR_THRE
    assert not u.irq
    sb.store(UART_BASE + uart.UART_RBR_THR, ord("a"), 1)                # THR empties again
    assert u.irq


@given(rx=st.binary(max_size=64), tx=st.binary(max_size=64))
def test_uart_bytes_round_trip(rx, tx):
    sb = SystemBus(ram_size=RAM_SIZE)
    u = sb.attach_uart(Uart())
    u.write_rx(rx)
    got = bytearray()
    while sb.load(UART_BASE + uart.UART_LSR, 1) & uart.UART_LSR_DR:
        got.append(sb.load(UART_BASE + uart.UART_RBR_THR, 1))
    assert bytes(got) == rx
    for byte in tx:
        sb.store(UART_BASE + uart.UART_RBR_THR, byte, 1)
    assert u.read_tx() == tx


# ---------------------------------------------------------------- CLINT


@given(divider=st.integers(1, 16), start=st.integers(0, 10**6), ticks=st.integers(1, 5000))
def test_timer_interrupt_exactly_when_mtime_reaches_mtimecmp(divider, start, ticks):
    sb = SystemBus(ram_size=RAM_SIZE, timer_divider=divider)
    sb.tick(start)
    mtime = sb.load(CLINT_BASE + clint.CLINT_MTIME) | sb.load(CLINT_BASE + clint.CLINT_MTIME + 4) << 32
    assert mtime == start // divider
    cmp = mtime + ticks
    sb.store(CLINT_BASE + clint.CLINT_MTIMECMP + 4, cmp >> 32)
    sb.store(CLINT_BASE + clint.CLINT_MTIMECMP, cmp & 0xFFFFFFFF)
    due = cmp * divider
    assert sb.next_event == due
    sb.tick(due - 1)
    assert sb.pending_interrupts() == 0
    sb.tick(due)
    assert sb.pending_interrupts() == bus.MIP_MTIP
    assert sb.next_event is None
    sb.store(CLINT_BASE + clint.CLINT_MTIMECMP, 0xFFFFFFFF)             # re-arm far away
    sb.store(CLINT_BASE + clint.CLINT_MTIMECMP + 4, 0xFFFFFFFF)
    assert sb.pending_interrupts() == 0


def test_clint_software_interrupts_and_read_only_mtime():
    sb = SystemBus(ram_size=RAM_SIZE, harts=2, timer_divider=10)
    sb.store(CLINT_BASE + clint.CLINT_MSIP + 4, 1, now=500)
    assert sb.pending_interrupts(1) == bus.MIP_MSIP and sb.pending_interrupts(0) == 0
    assert sb.load(CLINT_BASE + clint.CLINT_MSIP + 4) == 1
    sb.store(CLINT_BASE + clint.CLINT_MSIP + 4, 0)
    assert sb.pending_interrupts(1) == 0
    sb.store(CLINT_BASE + clint.CLINT_MTIME, 0)                         # ignored
    assert sb.load(CLINT_BASE + clint.CLINT_MTIME) == 50
    assert sb.load(CLINT_BASE + clint.CLINT_MTIMECMP + 12) == 0xFFFFFFFF  # reset: never
    with pytest.raises(AccessFault):
        sb.load(CLINT_BASE + clint.CLINT_MSIP + 8)                      # no hart 2


# ---------------------------------------------------------------- PLIC


class PlicReference:
    """The PLIC's rules in plain Python (plic.pxd's docstring)."""

    def __init__(self, priority, enable, threshold):
        self.priority, self.enable, self.threshold = priority, enable, threshold
        self.pending = 0
        self.in_service = 0
        self.level = 0

    def set_level(self, source, level):
        if level:
            self.level |= 1 << source
            if not self.in_service >> source & 1:
                self.pending |= 1 << source
        else:
            self.level &= ~(1 << source)

    def claim(self):
        best, best_priority = 0, self.threshold
        for source in range(1, 32):
            if (self.pending & self.enable) >> source & 1 and self.priority[source] > best_priority:
                best, best_priority = source, self.priority[source]
        if best:
            self.pending &= ~(1 << best)
            self.in_service |= 1 << best
        return best

    def external_pending(self):
        return any((self.pending & self.enable) >> s & 1 and self.priority[s] > self.threshold
                   for s in range(1, 32))

    def complete(self, source):
        if self.in_service >> source & 1 and self.enable >> source & 1:
            self.in_service &= ~(1 << source)
            if self.level >> source & 1:
                self.pending |= 1 << source


@given(priority=st.lists(st.integers(0, 9), min_size=32, max_size=32),
       enable=st.integers(0, 2**32 - 1), threshold=st.integers(0, 7),
       ops=st.lists(st.tuples(st.sampled_from(["raise", "lower", "claim", "complete"]),
                              st.integers(1, 31)), max_size=40))
def test_plic_matches_reference(priority, enable, threshold, ops):
    sb = SystemBus(ram_size=RAM_SIZE)
    for source in range(1, 32):
        sb.store(PLIC_BASE + 4 * source, priority[source])
    sb.store(PLIC_BASE + plic.PLIC_ENABLE, enable)
    sb.store(PLIC_BASE + plic.PLIC_CONTEXT, threshold)
    ref = PlicReference([0] + [p & 7 for p in priority[1:]], enable & ~1, threshold)
    assert sb.load(PLIC_BASE + plic.PLIC_ENABLE) == enable & ~1         # source 0 does not exist
    for op, source in ops:
        if op in ("raise", "lower"):
            sb.plic.set_level(source, op == "raise")
            ref.set_level(source, op == "raise")
        elif op == "claim":
            assert sb.load(claim_register()) == ref.claim()
        else:
            sb.store(claim_register(), source)
            ref.complete(source)
        assert sb.load(PLIC_BASE + plic.PLIC_PENDING) == ref.pending
        assert bool(sb.pending_interrupts() & bus.MIP_MEIP) == ref.external_pending()


def test_plic_priority_threshold_claim_complete_by_hand():
    sb = SystemBus(ram_size=RAM_SIZE, harts=2)
    for source, priority in ((5, 2), (6, 6), (7, 6)):
        plic_route(sb, source, priority, hart=0, threshold=2)
        sb.plic.set_level(source, True)
    assert sb.load(claim_register(0)) == 6      # highest priority, lowest id among equals
    assert sb.load(claim_register(0)) == 7
    assert sb.load(claim_register(0)) == 0      # 5's priority 2 is not above the threshold
    assert sb.pending_interrupts(0) == 0 and sb.pending_interrupts(1) == 0   # hart 1 enables none
    sb.store(PLIC_BASE + plic.PLIC_CONTEXT, 1)  # lower hart 0's threshold
    assert sb.pending_interrupts(0) == bus.MIP_MEIP
    sb.store(claim_register(0), 6)              # complete with the line still high: pends again
    assert sb.load(PLIC_BASE + plic.PLIC_PENDING) == 1 << 5 | 1 << 6
    sb.plic.set_level(7, False)
    sb.store(claim_register(0), 7)              # complete with the line low: stays quiet
    assert sb.load(PLIC_BASE + plic.PLIC_PENDING) == 1 << 5 | 1 << 6
    assert sb.load(claim_register(0)) == 6
    sb.store(claim_register(1), 6)              # hart 1 cannot complete what it does not enable
    assert sb.plic.in_service == 1 << 6


# ---------------------------------------------------------------- block device


def make_image(directory):
    """A 64-sector image file of known bytes."""
    path = directory / "disk.img"
    path.write_bytes(bytes((i * 7 + i // SECTOR) & 0xFF for i in range(64 * SECTOR)))
    return path


@pytest.fixture
def image(tmp_path):
    return make_image(tmp_path)


@pytest.fixture(scope="module")
def read_only_image(tmp_path_factory):
    """An image the tests using it only read (shared by a property's examples)."""
    return make_image(tmp_path_factory.mktemp("ro"))


@pytest.fixture(scope="module")
def scratch_image(tmp_path_factory):
    """An image random MMIO may scribble on."""
    return make_image(tmp_path_factory.mktemp("scratch"))


def block_bus(image, latency=1000, bandwidth=4.0):
    sb = SystemBus(ram_size=RAM_SIZE)
    sb.attach_block(BlockDevice(image, latency=latency, bandwidth=bandwidth))
    plic_route(sb, BLOCK_IRQ)
    return sb


def block_request(sb, command, sector=0, count=0, buffer=0, now=None):
    base = BLOCK_BASE
    sb.store(base + blockdev.BLK_SECTOR, sector, now=now)
    sb.store(base + blockdev.BLK_COUNT, count, now=now)
    sb.store(base + blockdev.BLK_BUFFER, buffer, now=now)
    sb.store(base + blockdev.BLK_COMMAND, command, now=now)


def block_status(sb):
    return sb.load(BLOCK_BASE + blockdev.BLK_STATUS)


@pytest.mark.parametrize("bandwidth, transfer", [(4.0, 512), (0.75, 2731), (1024, 2)])
def test_block_read_timing_data_and_interrupt(image, bandwidth, transfer):
    sb = block_bus(image, latency=1000, bandwidth=bandwidth)
    assert sb.load(BLOCK_BASE + blockdev.BLK_ID) == blockdev.BLK_MAGIC
    assert sb.load(BLOCK_BASE + blockdev.BLK_CAPACITY) == 64
    buffer = RAM_BASE + 0x2000
    block_request(sb, blockdev.BLK_CMD_READ, sector=3, count=4, buffer=buffer, now=100)
    done = 100 + 1000 + transfer                # latency + 2048 bytes / bandwidth, rounded up
    assert sb.next_event == done
    sb.tick(done - 1)
    assert block_status(sb) == blockdev.BLK_STATUS_BUSY
    assert sb.read_ram(buffer, 4 * SECTOR) == bytes(4 * SECTOR)
    assert sb.pending_interrupts() == 0
    sb.tick(done)
    assert block_status(sb) == blockdev.BLK_STATUS_OK
    assert sb.read_ram(buffer, 4 * SECTOR) == image.read_bytes()[3 * SECTOR:7 * SECTOR]
    assert sb.pending_interrupts() == bus.MIP_MEIP
    assert sb.take_dma_log() == ([(buffer, 4 * SECTOR)], False)
    assert sb.load(claim_register()) == BLOCK_IRQ
    sb.store(BLOCK_BASE + blockdev.BLK_ISR, 1)  # acknowledge, then complete
    sb.store(claim_register(), BLOCK_IRQ)
    assert sb.pending_interrupts() == 0


def test_block_write_reaches_the_file_only_on_flush(image):
    sb = block_bus(image, latency=100, bandwidth=8.0)
    original = image.read_bytes()
    data = bytes(range(256)) * 6                # three sectors
    buffer = RAM_BASE + 0x4000
    sb.write_ram(buffer, data)
    block_request(sb, blockdev.BLK_CMD_WRITE, sector=10, count=3, buffer=buffer, now=0)
    sb.tick(100 + 3 * SECTOR // 8)
    assert block_status(sb) == blockdev.BLK_STATUS_OK
    assert sb.block.dirty_sectors == 3
    assert image.read_bytes() == original       # not in the file yet
    # reads see the unflushed data
    readback = RAM_BASE + 0x8000
    block_request(sb, blockdev.BLK_CMD_READ, sector=9, count=5, buffer=readback)
    sb.tick(sb.next_event)
    expected = original[9 * SECTOR:10 * SECTOR] + data + original[13 * SECTOR:14 * SECTOR]
    assert sb.read_ram(readback, 5 * SECTOR) == expected
    assert image.read_bytes() == original
    start = sb.now
    block_request(sb, blockdev.BLK_CMD_FLUSH)
    assert sb.next_event == start + 100 + 3 * SECTOR // 8    # latency + dirty bytes / bandwidth
    sb.tick(sb.next_event)
    assert block_status(sb) == blockdev.BLK_STATUS_OK and sb.block.dirty_sectors == 0
    flushed = image.read_bytes()
    assert flushed == original[:10 * SECTOR] + data + original[13 * SECTOR:]
    sb.block.close()
    assert image.read_bytes() == flushed


@settings(max_examples=25)
@given(ops=st.lists(st.one_of(
    st.tuples(st.just("write"), st.integers(0, 63), st.integers(1, 4), st.integers(0, 255)),
    st.tuples(st.just("flush"))), max_size=8))
def test_block_file_holds_exactly_what_was_flushed(tmp_path_factory, ops):
    path = tmp_path_factory.mktemp("blk") / "disk.img"
    path.write_bytes(bytes(16 * SECTOR))
    sb = block_bus(path, latency=10, bandwidth=64.0)
    current = bytearray(16 * SECTOR)            # what the guest sees
    flushed = bytes(current)                    # what the file must hold
    for op in ops:
        if op[0] == "write":
            _, sector, count, fill = op
            sector %= 16
            sb.write_ram(RAM_BASE, bytes([fill]) * count * SECTOR)
            block_request(sb, blockdev.BLK_CMD_WRITE, sector, count, RAM_BASE)
            if sector + count <= 16:
                current[sector * SECTOR:(sector + count) * SECTOR] = bytes([fill]) * count * SECTOR
        else:
            block_request(sb, blockdev.BLK_CMD_FLUSH)
            flushed = bytes(current)
        if sb.next_event is not None:
            sb.tick(sb.next_event)
        assert block_status(sb) in (blockdev.BLK_STATUS_OK, blockdev.BLK_STATUS_ERR_RANGE)
        assert path.read_bytes() == flushed
    block_request(sb, blockdev.BLK_CMD_READ, 0, 16, RAM_BASE + 0x4000)
    sb.tick(sb.next_event)
    assert sb.read_ram(RAM_BASE + 0x4000, 16 * SECTOR) == bytes(current)


def test_block_argument_errors_complete_at_once(image):
    sb = block_bus(image)
    ram_before = sb.ram.copy()
    for args, status in (
            ((blockdev.BLK_CMD_READ, 0, 2, RAM_END - SECTOR), blockdev.BLK_STATUS_ERR_DMA),
            ((blockdev.BLK_CMD_READ, 0, 1, 0xF0000000), blockdev.BLK_STATUS_ERR_DMA),
            ((blockdev.BLK_CMD_READ, 63, 2, RAM_BASE), blockdev.BLK_STATUS_ERR_RANGE),
            ((blockdev.BLK_CMD_WRITE, 0, 0, RAM_BASE), blockdev.BLK_STATUS_ERR_RANGE),
            ((blockdev.BLK_CMD_READ, 0xFFFFFFFF, 2, RAM_BASE), blockdev.BLK_STATUS_ERR_RANGE),
            ((9, 0, 1, RAM_BASE), blockdev.BLK_STATUS_ERR_COMMAND)):
        block_request(sb, *args)
        assert block_status(sb) == status
        assert sb.load(BLOCK_BASE + blockdev.BLK_ISR) == 1 and sb.pending_interrupts()
        sb.store(BLOCK_BASE + blockdev.BLK_ISR, 1)
    assert (sb.ram == ram_before).all()
    assert sb.take_dma_log() == ([], False)


def test_block_command_while_busy_is_ignored(image):
    sb = block_bus(image, latency=500)
    block_request(sb, blockdev.BLK_CMD_READ, 0, 1, RAM_BASE, now=0)
    block_request(sb, blockdev.BLK_CMD_READ, 5, 1, RAM_BASE + SECTOR, now=10)
    assert sb.block.model.stats()["rejected"] == 1
    sb.store(BLOCK_BASE + blockdev.BLK_BUFFER, 0xF0000000)  # the request latched its buffer
    sb.tick(sb.next_event)
    assert sb.read_ram(RAM_BASE, SECTOR) == image.read_bytes()[:SECTOR]
    assert sb.read_ram(RAM_BASE + SECTOR, SECTOR) == bytes(SECTOR)


@given(buffer=st.one_of(st.integers(0, 2**32 - 1),
                        st.integers(RAM_END - 4 * SECTOR, RAM_END + 16),
                        st.integers(RAM_BASE - 16, RAM_BASE + 16)),
       count=st.integers(1, 4))
def test_block_dma_never_writes_outside_ram(read_only_image, buffer, count):
    image = read_only_image
    sb = block_bus(image, latency=1)
    sb.ram[:] = 0xEE
    block_request(sb, blockdev.BLK_CMD_READ, 0, count, buffer)
    if sb.next_event is not None:
        sb.tick(sb.next_event)
    inside = RAM_BASE <= buffer and buffer + count * SECTOR <= RAM_END
    if inside:
        assert block_status(sb) == blockdev.BLK_STATUS_OK
        assert sb.read_ram(buffer, count * SECTOR) == image.read_bytes()[:count * SECTOR]
        assert sb.take_dma_log() == ([(buffer, count * SECTOR)], False)
    else:
        assert block_status(sb) == blockdev.BLK_STATUS_ERR_DMA
        assert (sb.ram == 0xEE).all()


# ---------------------------------------------------------------- NIC and link

DESC = struct.Struct("<IHH")


class NicDriver:
    """A minimal driver for the tests: TX and RX rings in RAM, frames by DMA."""

    def __init__(self, sb, tx_size=4, rx_size=4, rx_buffer_size=256, now=0):
        self.sb, self.tx_size, self.rx_size = sb, tx_size, rx_size
        self.tx_ring, self.rx_ring = RAM_BASE + 0x1000, RAM_BASE + 0x2000
        self.tx_buffers = RAM_BASE + 0x3000
        self.rx_buffers = RAM_BASE + 0x8000
        self.rx_buffer_size = rx_buffer_size
        self.tx_tail = 0
        self.rx_next = 0
        reg = self.reg
        sb.store(reg(nic.NIC_TX_BASE), self.tx_ring, now=now)
        sb.store(reg(nic.NIC_TX_SIZE), tx_size, now=now)
        sb.store(reg(nic.NIC_RX_BASE), self.rx_ring, now=now)
        sb.store(reg(nic.NIC_RX_SIZE), rx_size, now=now)
        sb.store(reg(nic.NIC_IER), nic.NIC_INT_RX, now=now)
        for i in range(rx_size):    # every RX descriptor but one goes to the NIC
            self.give_rx(i)
        sb.store(reg(nic.NIC_RX_TAIL), rx_size - 1, now=now)

    @staticmethod
    def reg(offset):
        return NIC_BASE + offset

    def give_rx(self, i):
        self.sb.write_ram(self.rx_ring + 8 * i, DESC.pack(
            self.rx_buffers + i * self.rx_buffer_size, self.rx_buffer_size, nic.NIC_DESC_OWN))

    def send(self, frame, now=None):
        i = self.tx_tail
        buffer = self.tx_buffers + i * 2048
        self.sb.write_ram(buffer, frame)
        self.sb.write_ram(self.tx_ring + 8 * i, DESC.pack(buffer, len(frame), nic.NIC_DESC_OWN))
        self.tx_tail = (i + 1) % self.tx_size
        self.sb.store(self.reg(nic.NIC_TX_TAIL), self.tx_tail, now=now)
        self.sb.store(self.reg(nic.NIC_DOORBELL), 1, now=now)

    def tx_descriptor(self, i):
        return DESC.unpack(self.sb.read_ram(self.tx_ring + 8 * i, 8))

    def receive(self):
        """The frames delivered since the last call, handing their descriptors back."""
        frames = []
        head = self.sb.load(self.reg(nic.NIC_RX_HEAD))
        while self.rx_next != head:
            buffer, length, flags = DESC.unpack(self.sb.read_ram(self.rx_ring + 8 * self.rx_next, 8))
            assert not flags & nic.NIC_DESC_OWN
            frames.append(None if flags & nic.NIC_DESC_ERR else self.sb.read_ram(buffer, length))
            # recycle: the descriptor the NIC filled becomes the driver's spare, the
            # spare at TAIL goes to the NIC
            tail = self.sb.load(self.reg(nic.NIC_RX_TAIL))
            self.give_rx(tail)
            self.sb.store(self.reg(nic.NIC_RX_TAIL), (tail + 1) % self.rx_size)
            self.rx_next = (self.rx_next + 1) % self.rx_size
        self.sb.store(self.reg(nic.NIC_ISR), nic.NIC_INT_RX)
        return frames


def two_machines(latency=500, bandwidth=2.0, loss=0.0, seed=0, **driver):
    link = Link(latency=latency, bandwidth=bandwidth, loss=loss, seed=seed)
    machines = []
    for end in (0, 1):
        sb = SystemBus(ram_size=RAM_SIZE)
        sb.attach_nic(Nic(link, end))
        plic_route(sb, NIC_IRQ)
        machines.append((sb, NicDriver(sb, **driver)))
    return link, machines


def test_frame_arrives_exactly_after_wire_time_plus_latency():
    link, ((a, da), (b, db)) = two_machines(latency=500, bandwidth=2.0)
    frame = bytes(range(100))
    da.send(frame, now=1000)
    sent = 1000 + 100 // 2                      # the last byte leaves after 50 cycles
    arrival = sent + 500
    assert a.next_event == sent
    a.tick(sent - 1)
    assert da.tx_descriptor(0)[2] == nic.NIC_DESC_OWN
    a.tick(sent)
    assert da.tx_descriptor(0) == (RAM_BASE + 0x3000, 100, 0) and a.load(NIC_BASE + nic.NIC_TX_HEAD) == 1
    b.tick(arrival - 1)                         # the receiver learns of the frame at a tick
    assert b.next_event == arrival
    assert db.receive() == [] and b.pending_interrupts() == 0
    b.tick(arrival)
    assert b.pending_interrupts() == bus.MIP_MEIP
    assert db.receive() == [frame]
    assert b.take_dma_log()[0][0] == (RAM_BASE + 0x8000, 100)
    assert link.stats(0) == {"sent": 1, "lost": 0, "overflowed": 0, "delivered": 1, "in_flight": 0}


def test_back_to_back_frames_share_the_wire():
    link, ((a, da), (b, db)) = two_machines(latency=10, bandwidth=1.0, tx_size=8)
    da.send(b"a" * 40, now=0)
    da.send(b"b" * 60, now=5)                   # queued behind the first on the wire
    a.tick(40)
    a.tick(100)
    b.tick(59)
    assert db.receive() == [b"a" * 40]          # 40 + 10
    b.tick(109)
    assert db.receive() == []
    b.tick(110)                                 # 40 + 60 + 10
    assert db.receive() == [b"b" * 60]


def test_ring_wrap_around_in_both_directions():
    link, ((a, da), (b, db)) = two_machines(latency=3, bandwidth=16.0, tx_size=4, rx_size=3)
    sent, received = [], []
    now = 0
    for i in range(11):
        frame = bytes([i]) * (10 + 7 * i)
        da.send(frame, now=now)
        sent.append(frame)
        now += 50
        a.tick(now)
        b.tick(now)
        received += db.receive()
    assert received == sent
    assert a.load(NIC_BASE + nic.NIC_TX_HEAD) == 11 % 4
    assert b.load(NIC_BASE + nic.NIC_RX_HEAD) == 11 % 3


def splitmix64_losses(seed, frames):
    """Which of `frames` frames the loss model drops at loss 1/2 (link.pxd's rule)."""
    state, lost = seed, []
    for _ in range(frames):
        state = (state + 0x9E3779B97F4A7C15) % 2**64
        z = state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) % 2**64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) % 2**64
        z ^= z >> 31
        lost.append((z >> 32) < 2**31)
    return lost


@settings(max_examples=10)
@given(seed=st.integers(0, 2**64 - 1))
def test_loss_is_deterministic_per_seed(seed):
    link, ((a, da), (b, db)) = two_machines(latency=5, bandwidth=64.0, loss=0.5, seed=seed,
                                            tx_size=8, rx_size=8)
    delivered = 0
    for i, lost in enumerate(splitmix64_losses(seed, 24)):
        frame = i.to_bytes(2, "little") * 8
        da.send(frame, now=100 * i)
        a.tick(100 * i + 50)
        b.tick(100 * i + 50)
        assert db.receive() == ([] if lost else [frame])
        delivered += not lost
    assert link.stats(0)["lost"] == 24 - delivered


def test_no_loss_and_total_loss():
    for loss, delivered in ((0.0, 5), (1.0, 0)):
        link, ((a, da), (b, db)) = two_machines(latency=5, bandwidth=64.0, loss=loss, seed=1)
        for i in range(5):
            da.send(b"frame", now=100 * i)
            a.tick(100 * i + 50)
            b.tick(100 * i + 50)
            db.receive()
        assert link.stats(0)["delivered"] == delivered


def test_loopback_and_frames_without_a_descriptor_are_dropped():
    link = Link(latency=20, bandwidth=4.0, loopback=True)
    sb = SystemBus(ram_size=RAM_SIZE)
    sb.attach_nic(Nic(link))
    driver = NicDriver(sb, tx_size=8, rx_size=2)    # one descriptor for the NIC
    driver.send(b"one", now=0)
    driver.send(b"two", now=0)
    sb.tick(1000)
    assert driver.receive() == [b"one"]
    assert sb.load(NIC_BASE + nic.NIC_RX_DROPPED) == 1
    with pytest.raises(ValueError):
        Nic(link, 1)                            # a loopback link has one end


def test_transmit_descriptor_with_a_bad_buffer_completes_in_error():
    link = Link(latency=1, bandwidth=4.0, loopback=True)
    sb = SystemBus(ram_size=RAM_SIZE)
    sb.attach_nic(Nic(link))
    driver = NicDriver(sb)
    for buffer, length in ((RAM_END - 8, 16), (RAM_BASE, 0), (RAM_BASE, 2049)):
        sb.write_ram(driver.tx_ring + 8 * driver.tx_tail, DESC.pack(buffer, length, nic.NIC_DESC_OWN))
        index = driver.tx_tail
        driver.tx_tail = (index + 1) % driver.tx_size
        sb.store(NIC_BASE + nic.NIC_TX_TAIL, driver.tx_tail)
        sb.store(NIC_BASE + nic.NIC_DOORBELL, 1)
        assert driver.tx_descriptor(index) == (buffer, length, nic.NIC_DESC_ERR)
    assert sb.load(NIC_BASE + nic.NIC_ISR) & nic.NIC_INT_TX
    assert sb.nic.stats()["tx_errors"] == 3 and link.stats(0)["sent"] == 0


@given(buffer=st.one_of(st.integers(0, 2**32 - 1), st.integers(RAM_END - 64, RAM_END)),
       ring=st.one_of(st.just(RAM_BASE + 0x2000), st.integers(0, RAM_BASE - 1),
                      st.integers(RAM_END - 8, 2**32 - 1)))
def test_nic_dma_never_writes_outside_ram(buffer, ring):
    link = Link(latency=1, bandwidth=64.0, loopback=True)
    sb = SystemBus(ram_size=RAM_SIZE)
    sb.attach_nic(Nic(link))
    driver = NicDriver(sb, tx_size=4, rx_size=4)
    sb.store(NIC_BASE + nic.NIC_RX_BASE, ring)
    sb.store(NIC_BASE + nic.NIC_RX_SIZE, 4)
    ring &= ~7
    ring_in_ram = RAM_BASE <= ring and ring + 8 <= RAM_END
    if ring_in_ram:
        sb.write_ram(ring, DESC.pack(buffer, 64, nic.NIC_DESC_OWN))
    sb.store(NIC_BASE + nic.NIC_RX_TAIL, 1)
    frame = bytes(range(48))
    driver.send(frame)
    before = sb.ram.copy()
    sb.tick(1000)
    changed = (sb.ram != before).nonzero()[0] + RAM_BASE
    buffer_ok = RAM_BASE <= buffer and buffer + len(frame) <= RAM_END
    allowed = set()
    if ring_in_ram:
        allowed |= set(range(ring + 4, ring + 8))                       # length and flags
        if buffer_ok:
            allowed |= set(range(buffer, buffer + len(frame)))
    allowed |= set(range(driver.tx_ring + 4, driver.tx_ring + 8))       # TX write-back
    assert set(changed.tolist()) <= allowed
    isr = sb.load(NIC_BASE + nic.NIC_ISR)
    if not ring_in_ram:
        assert isr & nic.NIC_INT_RING
    elif not buffer_ok:
        assert DESC.unpack(sb.read_ram(ring, 8))[2] == nic.NIC_DESC_ERR


# ---------------------------------------------------------------- random MMIO


REGION_BASES = [UART_BASE, BLOCK_BASE, NIC_BASE, CLINT_BASE, CLINT_BASE + 0xBFF8, PLIC_BASE,
                PLIC_BASE + 0x1000, PLIC_BASE + 0x2000, PLIC_BASE + 0x200000, RAM_BASE, RAM_END]

addresses = st.one_of(
    st.integers(0, 2**32 - 1),
    st.builds(lambda base, delta: (base + delta) % 2**32, st.sampled_from(REGION_BASES),
              st.integers(-16, 64)))


@settings(max_examples=150)
@given(accesses=st.lists(st.tuples(addresses, st.sampled_from([0, 1, 2, 3, 4, 8]),
                                   st.booleans(), st.integers(0, 2**32 - 1)), max_size=30))
def test_random_mmio_never_crashes(scratch_image, accesses):
    sb = SystemBus(ram_size=RAM_SIZE, harts=2)
    sb.attach_uart(Uart())
    sb.attach_block(BlockDevice(scratch_image, latency=10))
    sb.attach_nic(Nic(Link(latency=5, loopback=True)))
    regions = [(base, size) for _kind, base, size, _irq in sb.model.regions()]
    now = 0
    for addr, width, is_store, value in accesses:
        now += 7
        mapped = any(base <= addr < base + size for base, size in regions)
        try:
            if is_store:
                sb.store(addr, value, width, now=now)
            else:
                assert 0 <= sb.load(addr, width, now=now) < 2**32
        except AccessFault as fault:
            assert fault.cause == (7 if is_store else 5)
        else:
            assert mapped and width in (1, 2, 4) and addr % width == 0
        sb.tick(now)
        sb.pending_interrupts(0)
        sb.pending_interrupts(1)


# ---------------------------------------------------------------- config


def test_device_config_validation_and_from_config(image):
    with pytest.raises(ConfigError):
        LinkConfig(loss=1.5)
    with pytest.raises(ConfigError):
        LinkConfig(bandwidth=0)
    with pytest.raises(ConfigError):
        LinkConfig(bandwidth=1e-9)              # rounds to zero bytes per cycle
    with pytest.raises(ConfigError):
        DeviceConfig(bus_latency=0)
    with pytest.raises(ConfigError):
        DeviceConfig(block_image="")
    with pytest.raises(ConfigError):
        DeviceConfig(uart=1)
    config = DeviceConfig(block_image=str(image), block_latency=10, nic=True,
                          link=LinkConfig(latency=50, bandwidth=0.5, loss=0.25, seed=3))
    assert pickle.loads(pickle.dumps(config)) == config
    sb = SystemBus.from_config(config, ram_size=RAM_SIZE, harts=2, timer_divider=4)
    assert [kind for kind, *_ in sb.model.regions()] == ["clint", "plic", "uart", "block", "nic"]
    assert sb.nic.link.wire_cycles(100) == 200
    assert sb.block.request_cycles(SECTOR) == 10 + SECTOR // 2
    sb.uart.write_rx(b"z")
    assert sb.load(UART_BASE + uart.UART_RBR_THR, 1) == ord("z")

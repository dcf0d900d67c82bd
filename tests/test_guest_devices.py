"""Devices driven by guest programs through MMIO (programs/devices/*.s on emu.Machine)
and from the host through `machine.devices`: the UART polled and by receive interrupt,
the timer interrupt at its programmed cycle, as a periodic tick and per hart, block-device
DMA with write-back and FLUSH, two machines exchanging a frame over a Link (and a
loopback NIC), random MMIO from the guest, and DMA coherence (a buffer the caches hold
is invalidated and re-read; an LR reservation on DMA'd memory ends).

Every test runs on both cores; where timing differs (how soon an interrupt is taken,
what an MMIO access costs) the bounds are per core (LATE, POLL_SLACK).
"""

import functools
import io
import pathlib
import struct

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import emu
from emu.config import DeviceConfig, LinkConfig, MachineConfig, MemoryHierarchyConfig
from emu.devices import (BLOCK_BASE, BLOCK_IRQ, CLINT_BASE, NIC_BASE, NIC_IRQ, PLIC_BASE,
                         UART_BASE, UART_IRQ, AccessFault, BlockDevice, Link, Nic, SystemBus, Uart,
                         blockdev, bus, clint, nic, plic, uart)

PROGRAMS = pathlib.Path(__file__).resolve().parent.parent / "programs" / "devices"
CPUS = ["functional", "ooo"]
#: Cycles after an event (a timer reaching mtimecmp, a request completing) by which the
#: guest must have seen it: the functional core checks at chunk boundaries that end at
#: the bus's next event, so it is exact to the instruction (polling loops add their own
#: few cycles); the out-of-order core takes an interrupt at a commit boundary and pays
#: the bus latency on every MMIO access.
LATE = {"functional": 0, "ooo": 100}
POLL_SLACK = {"functional": 20, "ooo": 200}
CAUSE_INTERRUPT = 1 << 31
SECTOR = blockdev.BLK_SECTOR_SIZE
CLAIM0 = PLIC_BASE + plic.PLIC_CONTEXT + 4          # hart 0's claim/complete register
MTIMECMP0 = CLINT_BASE + clint.CLINT_MTIMECMP


@functools.cache
def program(name: str) -> bytes:
    return emu.assemble_file(PROGRAMS / f"{name}.s")


def make_machine(cpu, name, link=None, link_end=0, **config):
    """A 1 MiB machine running programs/devices/`name`.s; returns (machine, program)."""
    config.setdefault("memory_size", 1 << 20)
    config.setdefault("stack_size", 64 << 10)
    machine = emu.Machine(MachineConfig(cpu=cpu, **config), link=link, link_end=link_end)
    return machine, machine.load(program(name))


def poke(machine, prog, symbol, *words):
    machine.write_memory(prog.symbols[symbol], struct.pack(f"<{len(words)}I", *words))


def peek(machine, prog, symbol, count=1):
    words = struct.unpack(f"<{count}I", machine.read_memory(prog.symbols[symbol], 4 * count))
    return words[0] if count == 1 else words


def cycles(machine) -> int:
    return machine.stats["sim_cycles"]


def mtimecmp(machine) -> int:
    return machine.devices.load(MTIMECMP0) | machine.devices.load(MTIMECMP0 + 4) << 32


def set_mtimecmp(machine, value):
    """From the host, the way a driver must (low word to all ones first)."""
    machine.devices.store(MTIMECMP0, 0xFFFFFFFF)
    machine.devices.store(MTIMECMP0 + 4, value >> 32 & 0xFFFFFFFF)
    machine.devices.store(MTIMECMP0, value & 0xFFFFFFFF)


def mtime(machine) -> int:
    return machine.devices.load(CLINT_BASE + clint.CLINT_MTIME)


def in_code(prog, label, pc, length):
    return prog.symbols[label] <= pc < prog.symbols[label] + length and pc % 4 == 0


def in_text(prog, pc):
    text = prog.segments[0]
    return text.vaddr <= pc < text.vaddr + text.memsz and pc % 4 == 0


# ---------------------------------------------------------------- UART


@pytest.mark.parametrize("cpu", CPUS)
def test_uart_polled_round_trip(cpu):
    m, p = make_machine(cpu, "uart_echo")
    m.devices.uart.write_rx(b"Hello, ")
    result = m.run(max_instructions=3000)
    assert result.reason == "limit"                     # waiting for the rest of the line
    assert m.stdout == b"HELLO, "
    assert in_code(p, "wait_rx", m.pc, 12)              # in the LSR.DR polling loop
    m.devices.uart.write_rx(b"world! 123\n")
    result = m.run(max_instructions=10_000)
    assert (result.reason, result.exit_code) == ("exit", 18)
    assert m.stdout == b"HELLO, WORLD! 123\n"
    assert m.devices.uart.rx_waiting == 0
    assert m.devices.uart.model.stats() == {"tx_bytes": 18, "tx_dropped": 0, "rx_bytes": 18}


@pytest.mark.parametrize("cpu", CPUS)
@pytest.mark.parametrize("as_file", [False, True])
def test_uart_receives_the_machine_stdin(cpu, as_file):
    """devices.uart_stdin: the UART reads stdin, more than its 4 KiB ring holds; a file is
    read only when the guest finds nothing to receive, and the guest never spins long."""
    line = b"abc" * 3000 + b"\n"
    stdin = io.BytesIO(line) if as_file else line
    machine = emu.Machine(MachineConfig(cpu=cpu, memory_size=1 << 20, stack_size=64 << 10,
                                        devices=DeviceConfig(uart_stdin=True)), stdin=stdin)
    machine.load(program("uart_echo"))
    result = machine.run(max_instructions=40 * len(line))
    assert (result.reason, result.exit_code) == ("exit", len(line) & 0xFF)
    assert machine.stdout == line.upper()


def test_uart_stdin_without_input_reads_nothing_and_needs_the_uart():
    machine = emu.Machine(MachineConfig(memory_size=1 << 20, stack_size=64 << 10,
                                        devices=DeviceConfig(uart_stdin=True)), stdin=b"")
    machine.load(program("uart_echo"))
    assert machine.run(max_instructions=5000).reason == "limit"   # polls an empty receiver
    with pytest.raises(emu.ConfigError):
        DeviceConfig(uart=False, uart_stdin=True)


def route_from_host(machine, source, priority=1, threshold=0):
    machine.devices.store(PLIC_BASE + plic.PLIC_PRIORITY + 4 * source, priority)
    enable = PLIC_BASE + plic.PLIC_ENABLE
    machine.devices.store(enable, machine.devices.load(enable) | 1 << source)
    machine.devices.store(PLIC_BASE + plic.PLIC_CONTEXT, threshold)


@pytest.mark.parametrize("plic_by", ["guest", "host"])
@pytest.mark.parametrize("cpu", CPUS)
def test_uart_receive_interrupt(cpu, plic_by):
    m, p = make_machine(cpu, "uart_irq")
    if plic_by == "host":
        poke(m, p, "plic_by_host", 1)
        route_from_host(m, UART_IRQ)
    m.enable_interrupts(0, bus.MIP_MEIP)
    result = m.run(max_instructions=300)
    assert result.reason == "limit"                     # IER is set, nothing received yet
    assert in_code(p, "spin", m.pc, 8)
    assert m.devices.load(UART_BASE + uart.UART_IER, 1) == uart.UART_IER_ERBFI
    assert m.devices.load(PLIC_BASE + plic.PLIC_ENABLE) == 1 << UART_IRQ

    m.devices.uart.write_rx(b"q")
    result = m.run(max_instructions=1000)               # no handler: the run stops
    assert result.reason == "interrupt"
    assert result.trap.cause == CAUSE_INTERRUPT | 11 == 0x8000000B
    assert result.trap.is_interrupt and result.trap.name == "external interrupt"
    assert result.instructions == 0                     # taken at the first instruction boundary
    assert in_code(p, "spin", result.trap.pc, 8) and result.trap.pc == m.pc
    assert m.devices.pending_interrupts(0) == bus.MIP_MEIP

    taken = []

    def on_external(trap):
        source = m.devices.load(CLAIM0)                 # claim
        byte = m.devices.load(UART_BASE + uart.UART_RBR_THR, 1)   # the line goes low
        poke(m, p, "mailbox", 0x100 | byte)
        m.devices.store(CLAIM0, source)                 # complete
        taken.append((trap, source))

    m.kernel.interrupt_handlers[11] = on_external
    result = m.run(max_instructions=1000)
    assert (result.reason, result.exit_code) == ("exit", 0)
    assert m.stdout == b"got q\n"
    assert [(t.cause, source) for t, source in taken] == [(0x8000000B, UART_IRQ)]
    assert m.devices.plic.pending == 0 and m.devices.plic.in_service == 0


FLOOD = r"""
        # send `count` bytes 'x' through the UART, polling LSR.THRE before each; exit 0
        .text
        .globl  _start
_start: li      t0, 0xf0000000
        li      t1, {count}
        li      t2, 'x'
1:      lbu     t3, 5(t0)               # LSR
        andi    t3, t3, 0x20            # THRE: room to send
        beqz    t3, 1b
        sb      t2, 0(t0)
        addi    t1, t1, -1
        bnez    t1, 1b
        li      a0, 0
        li      a7, 93
        ecall
"""


@pytest.mark.parametrize("cpu", ["functional", "ooo"])
def test_uart_output_longer_than_the_host_buffer(cpu):
    """A full transmit buffer sends the core back to Python, which drains it: nothing is
    lost and a polling guest does not spin."""
    count = 70_000                                      # more than Uart's tx_capacity (65536)
    m = emu.Machine(MachineConfig(memory_size=1 << 20, stack_size=64 << 10, cpu=cpu))
    m.load(emu.assemble(FLOOD.format(count=count)))
    result = m.run(max_instructions=10 * count)         # 6 instructions a byte, polling included
    assert (result.reason, result.exit_code) == ("exit", 0)
    assert m.stdout == b"x" * count


# ---------------------------------------------------------------- timer


def timer_config(divider):
    return {"clock_hz": 1_000_000_000, "timebase_hz": 1_000_000_000 // divider}


@functools.cache
def timer_reference(cpu, divider, rounds, caches=False):
    """The timer program run without interrupts: (output, instructions, cycles)."""
    extra = {"caches": MemoryHierarchyConfig()} if caches else {}
    m, p = make_machine(cpu, "timer", **timer_config(divider), **extra)
    poke(m, p, "rounds", rounds)
    result = m.run(max_instructions=10**6)
    assert (result.reason, result.exit_code) == ("exit", 0)
    return m.stdout, result.instructions, result.cycles


def assert_precise(trap, m, prog):
    """The hart stopped between two instructions: a machine that ran the same program
    for the same number of instructions without interrupts is at the same pc with the
    same registers and memory."""
    ref = emu.Machine(m.config)
    ref.load(program("timer"))
    for symbol in ("delta", "rounds"):
        poke(ref, prog, symbol, peek(m, prog, symbol))
    ref.run(max_instructions=m.stats["sim_insts"])
    assert trap.pc == ref.pc and trap.pc % 4 == 0
    assert (m.regs == ref.regs).all() and (m.memory == ref.memory).all()


@pytest.mark.parametrize("armed_by", ["guest", "host"])
@pytest.mark.parametrize("divider", [1, 100])
@pytest.mark.parametrize("cpu", CPUS)
def test_timer_interrupt_at_the_programmed_cycle(cpu, divider, armed_by):
    rounds = 20
    expected_output = timer_reference("functional", divider, rounds)[0]
    m, p = make_machine(cpu, "timer", **timer_config(divider))
    poke(m, p, "rounds", rounds)
    delta = 12_345 // divider                           # ticks
    if armed_by == "host":
        poke(m, p, "delta", 0)
        set_mtimecmp(m, delta)
    else:
        poke(m, p, "delta", delta)
    m.enable_interrupts(0, bus.MIP_MTIP)
    result = m.run(max_instructions=10**6)
    assert result.reason == "interrupt", m.stdout
    assert result.trap.cause == CAUSE_INTERRUPT | 7 == 0x80000007
    due = mtimecmp(m) * divider
    assert 0 <= due - delta * divider <= 100 + divider  # the guest read mtime early on
    assert due <= cycles(m) <= due + LATE[cpu]          # functional: exact to the instruction
    assert m.devices.pending_interrupts(0) == bus.MIP_MTIP
    assert_precise(result.trap, m, p)
    again = m.run(max_instructions=1000)                # still pending: taken again at once
    assert again.reason == "interrupt" and again.instructions == 0
    set_mtimecmp(m, 2**64 - 1)                          # quiet it (what a handler does)
    result = m.run(max_instructions=10**6)
    assert (result.reason, result.exit_code) == ("exit", 0)
    assert m.stdout == expected_output


@pytest.mark.parametrize("caches", [False, True])
@pytest.mark.parametrize("cpu", CPUS)
def test_timer_tick_rearmed_by_a_handler(cpu, caches):
    """A preemption tick: the handler moves mtimecmp `period` ticks past now, N times
    (with caches the functional core is the timed, blocking in-order core)."""
    divider, rounds, ticks = 100, 20, 6
    extra = {"caches": MemoryHierarchyConfig()} if caches else {}
    # an instruction that misses to DRAM may hold the interrupt back
    late = LATE[cpu] + (300 if caches else 0)
    expected_output, expected_instructions, total = timer_reference(cpu, divider, rounds, caches)
    period = total // (2 * ticks * divider)             # all ticks in the first half of the run
    m, p = make_machine(cpu, "timer", **timer_config(divider), **extra)
    poke(m, p, "rounds", rounds)
    poke(m, p, "delta", period)
    taken = []

    def on_timer(trap):
        now = mtime(m)
        taken.append((cycles(m), mtimecmp(m), now, trap.pc))
        set_mtimecmp(m, now + period if len(taken) < ticks else 2**64 - 1)

    m.kernel.interrupt_handlers[7] = on_timer
    m.enable_interrupts(0, bus.MIP_MTIP)
    result = m.run(max_instructions=10**6)
    assert (result.reason, result.exit_code) == ("exit", 0)
    assert m.stdout == expected_output
    assert result.instructions == expected_instructions     # interrupts retire nothing
    assert len(taken) == ticks
    for cycle, cmp, now, pc in taken:
        assert cmp * divider <= cycle <= cmp * divider + late
        assert now == cycle // divider and in_text(p, pc)
    assert [b[1] for b in taken[1:]] == [a[2] + period for a in taken[:-1]]
    if cpu == "functional" and not caches:
        assert [now for _, _, now, _ in taken] == [cmp for _, cmp, _, _ in taken]


RELOAD = r"""
        # spin `loops` times, then read mtime through the CLINT and the time CSR; exit 0
        .text
        .globl  _start
_start: li      s0, {loops}
1:      addi    s0, s0, -1
        bnez    s0, 1b
        li      t3, 0xf200bff8
        lw      a1, 0(t3)               # mtime, low word
        rdtime  a2                      # the time CSR, one cycle later
        li      a0, 0
        li      a7, 93
        ecall
"""


def test_mtime_equals_the_time_csr_after_loading_again():
    m = emu.Machine(MachineConfig(memory_size=1 << 20, stack_size=64 << 10, timebase_hz=10**9))
    for loops in (20_000, 100):                         # a long program, then a short one
        m.load(emu.assemble(RELOAD.format(loops=loops)))
        assert m.run().reason == "exit"
        assert int(m.regs[12]) - int(m.regs[11]) == 1, (int(m.regs[11]), int(m.regs[12]))


HARTS = r"""
        # every hart spins, then sends 'A' + its number on the UART and exits; hart 0
        # starts at _start, the others at `worker` with their number in a0
        .text
        .globl  _start, worker
_start: li      a0, 0
worker: li      s0, 15000
1:      addi    s0, s0, -1
        bnez    s0, 1b
        li      t0, 0xf0000000
        addi    t1, a0, 'A'
        sb      t1, 0(t0)
        li      a0, 0
        li      a7, 93
        ecall
"""


def hart_cycles(machine, hart):
    return machine._system.counters(hart)[1]     # (Machine has no per-hart cycle count)


@pytest.mark.parametrize("cpu", CPUS)
def test_timer_interrupts_reach_the_right_hart(cpu):
    """Each hart's mtimecmp interrupts that hart, at its cycle, while both run together."""
    m = emu.Machine(MachineConfig(cpu=cpu, harts=2, memory_size=1 << 20, stack_size=64 << 10,
                                  timebase_hz=10**9))
    p = m.load(emu.assemble(HARTS))
    m.start_hart(1, p.symbols["worker"], int(m.regs[2]) - 4096, args=[1])
    due = {0: 6_000, 1: 3_000}                          # well before either hart is done
    taken = []

    def on_timer(trap):
        taken.append((trap.hart, hart_cycles(m, trap.hart)))
        m.devices.store(MTIMECMP0 + 8 * trap.hart + 4, 0xFFFFFFFF)    # quiet it

    m.kernel.interrupt_handlers[7] = on_timer
    for hart, cycle in due.items():
        m.devices.store(MTIMECMP0 + 8 * hart + 4, 0)
        m.devices.store(MTIMECMP0 + 8 * hart, cycle)
        m.enable_interrupts(hart, bus.MIP_MTIP)
    result = m.run(max_instructions=10**6)
    assert (result.reason, result.exit_code) == ("exit", 0)
    assert sorted(m.stdout) == sorted(b"AB")
    assert [hart for hart, _ in taken] == [1, 0]
    for hart, cycle in taken:
        assert due[hart] <= cycle <= due[hart] + LATE[cpu]


# ---------------------------------------------------------------- block device


@pytest.fixture
def image(tmp_path):
    """A 16-sector image of known, sector-distinct bytes."""
    path = tmp_path / "disk.img"
    path.write_bytes(bytes((i * 13 + (i // SECTOR) * 7 + 1) & 0xFF for i in range(16 * SECTOR)))
    return path


def sector_of(data, k):
    return data[k * SECTOR:(k + 1) * SECTOR]


@pytest.mark.parametrize("wait", ["poll", "interrupt"])
@pytest.mark.parametrize("cpu", CPUS)
def test_block_device_read_write_flush(cpu, wait, image):
    latency, read_sector, write_sector = 3000, 3, 9
    devices = DeviceConfig(block_image=str(image), block_latency=latency, block_bandwidth=4.0)
    m, p = make_machine(cpu, "blockdev", devices=devices)
    poke(m, p, "read_sector", read_sector)
    poke(m, p, "write_sector", write_sector)
    completions = []
    if wait == "interrupt":
        poke(m, p, "use_irq", 1)

        def on_external(trap):
            source = m.devices.load(CLAIM0)
            completions.append((cycles(m), source))
            m.devices.store(BLOCK_BASE + blockdev.BLK_ISR, 1)   # the line goes low
            m.devices.store(CLAIM0, source)
            poke(m, p, "irq_done", 1)

        m.kernel.interrupt_handlers[11] = on_external
        m.enable_interrupts(0, bus.MIP_MEIP)
    original = image.read_bytes()

    result = m.run(max_instructions=200_000)
    assert result.reason == "breakpoint", (result, peek(m, p, "statuses", 3))
    assert result.trap.pc == p.symbols["written"]
    OK = blockdev.BLK_STATUS_OK
    assert peek(m, p, "statuses", 3) == (OK, OK, 0)
    data = sector_of(original, read_sector)
    assert m.read_memory(p.symbols["buffer"], SECTOR) == data       # byte for byte
    # the read took the configured time: latency + 512 bytes at 4 bytes per cycle
    request = m.devices.block.request_cycles(SECTOR)
    assert request == latency + SECTOR // 4
    assert request <= peek(m, p, "read_cycles") <= request + POLL_SLACK[cpu]
    if wait == "interrupt":
        started = int(m.regs[18])                       # s2: rdcycle just before COMMAND
        assert [source for _, source in completions] == [BLOCK_IRQ] * 2
        assert started + request < completions[0][0] <= started + request + 1 + LATE[cpu]
    # written, not flushed: the file has not changed
    assert image.read_bytes() == original
    assert m.devices.block.dirty_sectors == 1

    m.pc = result.trap.pc + 4                           # resume after the ebreak
    result = m.run(max_instructions=200_000)
    assert (result.reason, result.exit_code) == ("exit", 0)
    assert peek(m, p, "statuses", 3) == (OK, OK, OK)
    assert m.devices.block.dirty_sectors == 0
    m.devices.block.close()
    written = bytes(~b & 0xFF for b in reversed(data))
    expected = bytearray(original)
    expected[write_sector * SECTOR:(write_sector + 1) * SECTOR] = written
    assert image.read_bytes() == bytes(expected)
    if wait == "interrupt":
        assert len(completions) == 3 and all(s == BLOCK_IRQ for _, s in completions)


@pytest.mark.parametrize("cpu", CPUS)
def test_no_block_device_is_an_access_fault(cpu):
    m, p = make_machine(cpu, "blockdev")                # DeviceConfig(): a UART only
    result = m.run(max_instructions=1000)
    assert result.reason == "fault" and result.signal == 11
    assert (result.trap.cause, result.trap.pc, result.trap.tval) == \
        (5, p.symbols["read_id"], BLOCK_BASE + blockdev.BLK_ID)


# ---------------------------------------------------------------- NIC and link

FRAME = b"a frame over the link\n"


def run_in_turns(machines, slice_instructions, rounds=10_000):
    """Run the machines alternately, `slice_instructions` each turn, until all exit."""
    results = [None] * len(machines)
    for _ in range(rounds):
        for i, m in enumerate(machines):
            if results[i] is None:
                result = m.run(max_instructions=slice_instructions)
                if result.reason != "limit":
                    results[i] = result
        if all(results):
            return results
    raise AssertionError("the machines did not finish")


@pytest.mark.parametrize("wait", ["poll", "interrupt"])
@pytest.mark.parametrize("cpu", CPUS)
def test_two_machines_exchange_a_frame(cpu, wait):
    latency, bandwidth = 400, 2.0
    link = Link(latency=latency, bandwidth=bandwidth)
    devices = DeviceConfig(nic=True)
    a, pa = make_machine(cpu, "nic", link=link, link_end=0, devices=devices)
    b, pb = make_machine(cpu, "nic", link=link, link_end=1, devices=devices)
    poke(a, pa, "role", 1)                               # send
    poke(b, pb, "role", 2)                               # receive and print
    interrupts = []
    if wait == "interrupt":
        poke(b, pb, "use_irq", 1)

        def on_external(trap):
            source = b.devices.load(CLAIM0)
            interrupts.append((cycles(b), source))
            b.devices.store(NIC_BASE + nic.NIC_ISR, nic.NIC_INT_RX)    # the line goes low
            b.devices.store(CLAIM0, source)
            poke(b, pb, "irq_done", 1)

        b.kernel.interrupt_handlers[11] = on_external
        b.enable_interrupts(0, bus.MIP_MEIP)
    # each turn stays shorter than the link latency, so no frame lands in the past
    ra, rb = run_in_turns([a, b], slice_instructions=50)
    assert (ra.reason, ra.exit_code, rb.reason, rb.exit_code) == ("exit", 0, "exit", 0)
    assert b.stdout == FRAME and a.stdout == b""
    sent, received = peek(a, pa, "sent_at"), peek(b, pb, "received_at")
    earliest = sent + link.wire_cycles(len(FRAME)) + latency
    assert earliest <= received <= earliest + 50
    if wait == "interrupt":
        # the doorbell store comes 4 instructions after the rdcycle of sent_at
        arrival = sent + 4 + link.wire_cycles(len(FRAME)) + latency if cpu == "functional" \
            else earliest
        assert len(interrupts) == 1 and interrupts[0][1] == NIC_IRQ
        assert arrival <= interrupts[0][0] <= arrival + LATE[cpu]
    assert link.stats(0) == {"sent": 1, "lost": 0, "overflowed": 0, "delivered": 1, "in_flight": 0}
    assert link.stats(1)["sent"] == 0
    assert a.devices.nic.stats()["tx_frames"] == 1 and b.devices.nic.stats()["rx_frames"] == 1


@pytest.mark.parametrize("cpu", CPUS)
def test_loopback_nic_receives_its_own_frame(cpu):
    latency = 300
    devices = DeviceConfig(nic=True, link=LinkConfig(latency=latency, bandwidth=1.0))
    m, p = make_machine(cpu, "nic", devices=devices)     # role 3: send, then receive
    result = m.run(max_instructions=100_000)
    assert (result.reason, result.exit_code) == ("exit", 0)
    assert m.stdout == FRAME
    sent, received = peek(m, p, "sent_at"), peek(m, p, "received_at")
    earliest = sent + m.devices.nic.link.wire_cycles(len(FRAME)) + latency
    assert earliest <= received <= earliest + 50


def test_a_link_needs_a_nic():
    link = Link(latency=10)
    with pytest.raises(ValueError, match="needs a NIC"):
        emu.Machine(MachineConfig(memory_size=1 << 20, devices=DeviceConfig()), link=link)
    with pytest.raises(ValueError, match="needs a NIC"):
        emu.Machine(MachineConfig(memory_size=1 << 20, devices=None), link=link)
    assert link.model.ends_taken == []                  # nothing was connected


# ---------------------------------------------------------------- random MMIO

RAM_BASE, RAM_SIZE = 0x1000, 1 << 20
RAM_END = RAM_BASE + RAM_SIZE
LOADS = {"lb": (1, 5), "lbu": (1, 5), "lh": (2, 5), "lhu": (2, 5), "lw": (4, 5)}
STORES = {"sb": (1, 7), "sh": (2, 7), "sw": (4, 7)}
REGION_BASES = [0, UART_BASE, BLOCK_BASE, NIC_BASE, CLINT_BASE, CLINT_BASE + clint.CLINT_MTIMECMP,
                CLINT_BASE + clint.CLINT_MTIME, PLIC_BASE, PLIC_BASE + plic.PLIC_PENDING,
                PLIC_BASE + plic.PLIC_ENABLE, PLIC_BASE + plic.PLIC_CONTEXT, 0xFFFFFFF0]

mmio_addresses = st.one_of(
    st.integers(0xE000_0000, 0xFFFF_FFFF),
    st.integers(0, RAM_BASE - 1),                                     # page 0: unmapped
    st.builds(lambda base, delta: (base + delta) % 2**32, st.sampled_from(REGION_BASES),
              st.integers(-8, 0x48)))
# values that could point into RAM are moved out of it, so no device can be made to DMA
# over the program (what a random DMA does to RAM is test_devices.py's business)
mmio_values = st.integers(0, 2**32 - 1).map(
    lambda v: v ^ 0x8000_0000 if RAM_BASE <= v < RAM_END else v)
# (address, width) of every register hart 0 may access
REGISTERS = ([(UART_BASE + offset, 1) for offset in range(uart.UART_SIZE)]
             + [(BLOCK_BASE + offset, 4) for offset in range(0, blockdev.BLK_SIZE, 4)]
             + [(NIC_BASE + offset, 4) for offset in range(0, 0x30, 4)]
             + [(CLINT_BASE + offset, 4) for offset in (0, 0x4000, 0x4004, 0xBFF8, 0xBFFC)]
             + [(PLIC_BASE + offset, 4) for offset in (4 * UART_IRQ, 4 * BLOCK_IRQ, 4 * NIC_IRQ,
                                                       0x1000, 0x2000, 0x200000, 0x200004)])
OPS_BY_WIDTH = {1: ["lb", "lbu", "sb"], 4: ["lw", "sw"]}
register_access = st.sampled_from(REGISTERS).flatmap(lambda register: st.tuples(
    st.sampled_from(OPS_BY_WIDTH[register[1]]), st.just(register[0]), mmio_values))
random_access = st.tuples(st.sampled_from(sorted(LOADS) + sorted(STORES)), mmio_addresses,
                          mmio_values)


def _insert(valid, extra):
    return valid if extra is None else [*valid[:extra[0]], extra[1], *valid[extra[0]:]]


# mostly accesses to real registers (side effects, interrupts), and sometimes one random
# access among them, which usually faults
accesses = st.builds(_insert, st.lists(register_access, max_size=24),
                     st.one_of(st.none(), st.tuples(st.integers(0, 24), random_access)))


def fuzz_source(ops):
    lines = ["        .text", "        .globl _start", "_start:"]
    for i, (op, addr, value) in enumerate(ops):
        lines += [f"        li t0, {addr:#x}", f"        li t1, {value:#x}",
                  f"        .globl access_{i}", f"access_{i}:"]
        lines.append(f"        {op} t1, 0(t0)" if op in STORES else f"        {op} t2, 0(t0)")
    lines += ["        li a0, 0", "        li a7, 93", "        ecall"]
    return "\n".join(lines) + "\n"


def expected_fault(ops, image):
    """(index, cause) of the first access that must trap, from a bare SystemBus with the
    same map (faults depend only on address and width), or None."""
    reference = SystemBus(ram_size=RAM_SIZE, ram_base=RAM_BASE)
    reference.attach_uart(Uart())
    reference.attach_block(BlockDevice(image, latency=10))
    reference.attach_nic(Nic(Link(latency=5, loopback=True)))
    for i, (op, addr, _value) in enumerate(ops):
        width, access_cause = (LOADS | STORES)[op]
        if addr % width:
            return i, access_cause - 1      # the core checks alignment first: 4 or 6
        try:
            if op in STORES:
                reference.store(addr, 0, width)     # (no side effects that matter here)
            else:
                reference.load(addr, width)
        except AccessFault as fault:
            assert fault.cause == access_cause
            return i, access_cause
    return None


@pytest.fixture(scope="module")
def scratch_image(tmp_path_factory):
    path = tmp_path_factory.mktemp("fuzz") / "scratch.img"
    path.write_bytes(bytes(8 * SECTOR))
    return path


@pytest.mark.parametrize("cpu", CPUS)
@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=accesses, interrupts=st.booleans())
def test_random_guest_mmio_never_crashes(cpu, scratch_image, ops, interrupts):
    """Random loads and stores of every width to device registers and around them: the run
    ends with exit or with an access fault (or a misaligned fault) at the access that a
    plain SystemBus with the same map rejects first, with the right pc and address; with
    interrupts enabled, whatever the accesses raise is taken between instructions."""
    devices = DeviceConfig(block_image=str(scratch_image), block_latency=10, nic=True,
                           link=LinkConfig(latency=5))
    m = emu.Machine(MachineConfig(cpu=cpu, memory_size=RAM_SIZE, stack_size=64 << 10,
                                  devices=devices))
    p = m.load(emu.assemble(fuzz_source(ops)))
    taken = []
    if interrupts:      # whatever the accesses raise is taken once, then masked
        def on_interrupt(trap):
            taken.append(trap)
            m.enable_interrupts(0, 0)
        for code in (3, 7, 11):
            m.kernel.interrupt_handlers[code] = on_interrupt
        m.enable_interrupts(0, bus.MIP_MSIP | bus.MIP_MTIP | bus.MIP_MEIP)
    result = m.run(max_instructions=10 * len(ops) + 100)
    assert result.reason in ("exit", "fault")
    fault = expected_fault(ops, scratch_image)
    event(f"{result.reason}, cause {result.trap.cause if result.trap else None}")
    event(f"interrupts taken: {len(taken)}")
    if fault is None:
        assert (result.reason, result.exit_code) == ("exit", 0)
        assert m.devices.model.stats()["faults"] == 0
    else:
        index, cause = fault
        assert result.reason == "fault"
        assert (result.trap.cause, result.trap.pc, result.trap.tval) == \
            (cause, p.symbols[f"access_{index}"], ops[index][1])
        assert m.devices.model.stats()["faults"] == int(cause in (5, 7))   # not misaligned
    for trap in taken:      # between two instructions of the program
        assert trap.is_interrupt and trap.pc % 4 == 0 and p.symbols["_start"] <= trap.pc


# ---------------------------------------------------------------- DMA and the caches


def run_to_dma_done(cpu, image):
    """dma_reread.s with caches: (machine, program) stopped at the `dma_done` checkpoint,
    after checking that the buffer was cached before the DMA."""
    devices = DeviceConfig(block_image=str(image), block_latency=500, block_bandwidth=8.0)
    m, p = make_machine(cpu, "dma_reread", devices=devices, caches=MemoryHierarchyConfig())
    old = bytes(range(256)) * 2
    m.write_memory(p.symbols["buffer"], old)
    poke(m, p, "sector", 2)
    result = m.run(max_instructions=100_000)
    assert result.reason == "breakpoint" and result.trap.pc == p.symbols["cached"]
    assert peek(m, p, "sum_before") == sum(struct.unpack("<128I", old)) & 0xFFFFFFFF
    caches = m._system.caches       # the HierarchyModel (no public accessor on Machine)
    lines = buffer_lines(m, p)
    assert all(caches.state("l1d", line) != "I" for line in lines)      # cached
    m.pc = result.trap.pc + 4
    result = m.run(max_instructions=100_000)
    assert result.reason == "breakpoint" and result.trap.pc == p.symbols["dma_done"]
    return m, p


def buffer_lines(m, p):
    line = m.config.caches.l1d.line_size
    return range(p.symbols["buffer"], p.symbols["buffer"] + SECTOR, line)


@pytest.mark.parametrize("cpu", CPUS)
def test_dma_into_a_cached_buffer_is_seen_by_the_guest(cpu, image):
    m, p = run_to_dma_done(cpu, image)
    new = sector_of(image.read_bytes(), 2)
    assert m.read_memory(p.symbols["buffer"], SECTOR) == new
    m.pc += 4
    result = m.run(max_instructions=100_000)
    assert (result.reason, result.exit_code) == ("exit", 0)
    assert m.read_memory(p.symbols["copy"], SECTOR) == new      # the guest's loads saw it


@pytest.mark.parametrize("cpu", CPUS)
def test_dma_invalidates_the_cached_lines(cpu, image):
    """After the device wrote the buffer, no data cache level holds its lines valid."""
    m, p = run_to_dma_done(cpu, image)
    caches = m._system.caches
    for level in caches.levels:
        if level == "l1i":
            continue
        assert [caches.state(level, line) for line in buffer_lines(m, p)] == \
            ["I"] * len(buffer_lines(m, p)), level


@pytest.mark.parametrize("caches", [False, True])
@pytest.mark.parametrize("cpu", CPUS)
def test_dma_write_ends_an_lr_reservation(cpu, caches, image):
    extra = {"caches": MemoryHierarchyConfig()} if caches else {}
    devices = DeviceConfig(block_image=str(image), block_latency=200, block_bandwidth=8.0)
    m, p = make_machine(cpu, "dma_reservation", devices=devices, **extra)
    result = m.run(max_instructions=100_000)
    assert (result.reason, result.exit_code) == ("exit", 0)
    assert peek(m, p, "sc_results", 2) == (0, 1)        # untouched word: stored; DMA'd: failed
    assert m.read_memory(p.symbols["buffer"], SECTOR) == sector_of(image.read_bytes(), 0)

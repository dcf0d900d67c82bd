"""The Machine API: build a machine from a config, load a program, run it, look inside.

This module owns the run loop around the core: it enters the C core with an
instruction budget, hands every trap to the kernel (emu.kernel), and turns what
happened into a RunResult. Registers and RAM are numpy views of the core's own
memory, so reading and writing them costs no copy. Several machines can live in
one process; each owns its RAM and harts.
"""

from __future__ import annotations

import io
import os
import time
from dataclasses import dataclass
from typing import BinaryIO, Callable, Mapping, Sequence

import numpy as np

from emu import loader
from emu._core.system import (BRANCH_CLASS_NAMES, STOP_REASON_DEADLOCK, STOP_REASON_INVARIANT,
                              STOP_REASON_TRAP, UNIT_NAMES, System)
from emu.cache import CacheStats
from emu.config import CPU_MODELS, CoreConfig, MachineConfig
from emu.devices import Link, SystemBus
from emu.kernel import Kernel, Outcome, Trap

#: Instructions per entry into the core when no budget limits it: large enough that
#: the Python round trip is noise, small enough for live progress and Ctrl-C.
CHUNK = 1 << 25


class PipelineError(RuntimeError):
    """The out-of-order core stopped making progress or broke an invariant: a bug in
    emu, reported with a picture of the pipeline."""


@dataclass(frozen=True)
class RunResult:
    """Why `run` or `step` returned."""

    reason: str                 # "exit" | "limit" | "fault" | "breakpoint" | "interrupt" | "interrupted"
    exit_code: int | None       # guest status for "exit"; 128 + signal for "fault"
    instructions: int           # instructions retired by this call
    cycles: int                 # cycles elapsed in this call
    trap: Trap | None = None    # the trap that ended the run, if one did
    signal: int | None = None   # the fatal signal for "fault"


@dataclass(frozen=True)
class HartContext:
    """What a hart runs: everything a kernel saves and restores to switch threads or
    processes on it. Immutable and picklable (a snapshot of a thread)."""

    regs: tuple[int, ...]       # x0..x31
    pc: int
    satp: int                   # MODE 31, ASID 30:22, root PPN 21:0 (0: bare)
    interrupts: int             # the enabled interrupts (mip bits)


class Machine:
    """One emulated computer: RAM, harts, a kernel, and a loaded program.

    stdin is bytes or a binary file; stdout and stderr are binary files, or None to
    capture the guest's output in `machine.stdout` / `machine.stderr`. The UART is a
    second console: what the guest transmits goes to stdout too, and
    `machine.devices.uart.write_rx` feeds its receiver. With a NIC (config.devices.nic),
    `link` joins this machine to another at `link_end` (0 or 1) of an emu.devices.Link;
    without one the NIC loops back.
    """

    def __init__(self, config: MachineConfig | None = None, *,
                 stdin: bytes | BinaryIO | None = None,
                 stdout: BinaryIO | None = None, stderr: BinaryIO | None = None,
                 link: Link | None = None, link_end: int = 0):
        self.config = config if config is not None else MachineConfig()
        if not isinstance(self.config, MachineConfig):
            raise TypeError(f"config must be a MachineConfig, not {type(self.config).__name__}")
        cfg = self.config
        self._system = System(cfg.ram_base, cfg.memory_size, cfg.harts, cfg.time_divider)
        self._system.configure_ooo(cfg.core, cfg.caches)
        self._system.time_functional(cfg.caches is not None)
        self._system.configure_mmu(cfg.mmu, cfg.seed)
        self._hart_cpus: list[str] = [cfg.cpu] * cfg.harts   # the core model of each hart
        self._captured_out = io.BytesIO() if stdout is None else None
        self._captured_err = io.BytesIO() if stderr is None else None
        self._streams = {1: stdout or self._captured_out, 2: stderr or self._captured_err}
        #: The system bus and its devices (emu.devices.SystemBus), or None.
        self.devices: SystemBus | None = None
        if cfg.devices is not None:
            self.devices = SystemBus.from_config(
                cfg.devices, cfg.memory_size, cfg.ram_base, cfg.harts, cfg.time_divider,
                ram=self._system.ram, link=link, link_end=link_end)
            if self.devices.uart is not None:
                self.devices.uart.output = self._streams[1]
                self.devices.uart.model.host_has_more = cfg.devices.uart_stdin and stdin is not None
            self._system.attach_bus(self.devices.model)
        elif link is not None:
            raise ValueError("a link needs a NIC: config.devices is None")
        self._stdin = stdin
        self._stdin_offset = 0
        self.kernel = Kernel(self)
        self.program: loader.Program | None = None
        self._stop_requested = False
        self._traps = 0

    # ---- loading ---------------------------------------------------------------

    def load(self, executable: str | os.PathLike | bytes, argv: Sequence[str | bytes] = ("prog",),
             env: Mapping[str, str] | None = None) -> loader.Program:
        """Load a static ELF32 executable (path or bytes) and set up its process."""
        data = loader.read_executable(executable)
        cfg = self.config
        elf, program = loader.parse_elf(data, cfg.ram_base, cfg.ram_end)
        stack_limit = cfg.ram_end - cfg.stack_size
        if max(s.vaddr + s.memsz for s in program.segments) > stack_limit:
            raise loader.LoadError(
                f"program does not fit below the stack (stack_size {cfg.stack_size:#x} at the top "
                f"of {cfg.memory_size:#x} bytes of RAM)")
        if self.program is not None:
            self.memory[:] = 0      # a fresh machine's RAM is zero and untouched: keep it lazy
        for vaddr, payload, memsz in loader.segment_bytes(elf):
            self.write_memory(vaddr, payload)
        sp, stack = loader.build_stack(cfg.ram_end, list(argv), dict(env or {}), program,
                                       elf.num_segments(), cfg.seed)
        self.write_memory(sp, stack)
        program.stack_pointer = sp
        now = self.devices.now if self.devices is not None else 0
        for hart in range(cfg.harts):
            self._system.reset_hart(hart)
            self._system.retire(hart, 0, now)   # devices keep their time: so do the harts
            self.stop_hart(hart)
        self._system.running[0] = 1
        self.regs[2] = sp
        self.pc = program.entry
        self.kernel.start_process(program.brk_start, stack_limit)
        self.program = program
        return program

    # ---- running ----------------------------------------------------------------

    def run(self, max_instructions: int | None = None, *,
            progress: Callable[[int, float], None] | None = None) -> RunResult:
        """Run the started harts until the program exits, faults, breaks, or retires
        max_instructions (summed over the harts).

        One hart runs on the fast path; several run together in one global cycle loop.
        `progress(instructions, seconds)` is called between chunks of work, for live
        displays; `request_stop()` (e.g. from a signal handler) ends the run cleanly.
        """
        if max_instructions is not None and max_instructions < 0:
            raise ValueError("max_instructions must be non-negative")
        self._stop_requested = False
        start_instret, start_cycle = self._retired(), self._cycle()
        started = time.perf_counter()

        def result(reason: str, outcome: Outcome | None = None, trap: Trap | None = None) -> RunResult:
            return RunResult(reason, outcome.exit_code if outcome else None,
                             self._retired() - start_instret, self._cycle() - start_cycle, trap,
                             outcome.signal if outcome else None)

        while True:
            if not self._system.running.any():     # the program has ended: it stays ended
                status = self.kernel.exit_status
                return result("exit", Outcome("exit", exit_code=status if status is not None else 0))
            done = self._retired() - start_instret
            if max_instructions is not None and done >= max_instructions:
                return result("limit")
            if self._stop_requested:
                return result("interrupted")
            budget = CHUNK if max_instructions is None else min(CHUNK, max_instructions - done)
            stop, hart = self._run_chunk(budget)
            self._drain_uart()
            if stop in (STOP_REASON_DEADLOCK, STOP_REASON_INVARIANT):
                what = "no instruction committed for too long" if stop == STOP_REASON_DEADLOCK \
                    else "a pipeline invariant failed"
                raise PipelineError(f"out-of-order core of hart {hart}: {what}\n"
                                    f"{self._system.pipeline_dump(hart)}")
            if stop == STOP_REASON_TRAP:
                cause, tval = self._system.trap(hart)
                trap = Trap(cause=cause, pc=self._system.get_pc(hart), tval=tval, hart=hart)
                self._traps += 1
                outcome = self.kernel.handle_trap(trap)
                if outcome is not None:
                    return result(outcome.reason, outcome, trap)
            if progress is not None:
                progress(self._retired() - start_instret, time.perf_counter() - started)

    def _drain_uart(self) -> None:
        if self.devices is not None and self.devices.uart is not None:
            self.devices.uart.read_tx()

    def _feed_uart(self) -> None:
        """With devices.uart_stdin: queue stdin for the UART. Bytes are queued as room
        allows; a file is read only when the guest is starved for input (it looked and
        found none), so a terminal blocks only while the guest waits for it."""
        uart = self.devices.uart.model
        if not uart.host_has_more:
            return
        if isinstance(self._stdin, (bytes, bytearray)) or uart.starved:
            data = self.read_stdin(uart.rx_room)
            uart.write_rx(data)
            if not data or (isinstance(self._stdin, (bytes, bytearray))
                            and self._stdin_offset >= len(self._stdin)):
                uart.host_has_more = False      # end of input: LSR.DR stays clear

    def _run_chunk(self, budget: int) -> tuple[int, int]:
        if self.devices is not None:    # host-side changes (UART input, frames) become visible
            if self.config.devices.uart_stdin:
                self._feed_uart()
            self.devices.tick(self._cycle())
        running = self._system.running
        if running[0] and running.sum() == 1:
            return self._system.run(0, budget, self._hart_cpus[0] == "ooo"), 0
        self._system.detailed[:] = [model == "ooo" for model in self._hart_cpus]
        return self._system.run_all(budget, self.config.quantum)

    def _retired(self) -> int:
        return sum(self._system.counters(h)[0] for h in range(self.config.harts))

    def _cycle(self) -> int:
        return max(self._system.counters(h)[1] for h in range(self.config.harts))

    # ---- harts --------------------------------------------------------------------

    def start_hart(self, hart: int, pc: int, sp: int, args: Sequence[int] = ()) -> None:
        """Start `hart` at pc with stack pointer sp and a0.. = args; it runs with the
        others from the next `run` (a thread, before the kernel can make them)."""
        if not 0 <= hart < self.config.harts:
            raise IndexError(f"hart {hart} does not exist (this machine has {self.config.harts})")
        if len(args) > 8:
            raise ValueError("at most 8 arguments (a0..a7)")
        self._system.reset_hart(hart)
        regs = self._system.regs(hart)
        regs[2] = sp & 0xFFFFFFFF
        for i, value in enumerate(args):
            regs[10 + i] = value & 0xFFFFFFFF
        self._system.set_pc(hart, pc & 0xFFFFFFFF)
        self._system.running[hart] = 1

    def stop_hart(self, hart: int) -> None:
        """Take `hart` out of the run (its state stays readable)."""
        self._system.running[hart] = 0

    @property
    def running_harts(self) -> list[int]:
        return [int(h) for h in np.flatnonzero(self._system.running)]

    def step(self) -> RunResult:
        """Execute one instruction (a system call counts as one)."""
        return self.run(max_instructions=1)

    @property
    def cpu(self) -> str:
        """The core model running now; assign "functional" or "ooo" to switch every hart
        between runs (architectural state carries over exactly: fast-forward, then
        measure). With harts on different models (`set_hart_cpu`), hart 0's."""
        return self._hart_cpus[0]

    @cpu.setter
    def cpu(self, model: str) -> None:
        _check_cpu(model)
        self._hart_cpus = [model] * self.config.harts

    def hart_cpu(self, hart: int) -> str:
        return self._hart_cpus[hart]

    def set_hart_cpu(self, hart: int, model: str) -> None:
        """Run `hart` on core model `model` from the next run: harts on the out-of-order
        core and on the functional core share the one global cycle loop."""
        _check_cpu(model)
        if not 0 <= hart < self.config.harts:
            raise IndexError(f"hart {hart} does not exist (this machine has {self.config.harts})")
        self._hart_cpus[hart] = model

    def trace_pipeline(self, start: int = 0, count: int = 1000) -> None:
        """Record the out-of-order pipeline for `count` instructions from the start-th
        commit from now on; `pipeline_trace()` returns the records (emu.pipeview writes them)."""
        self._system.start_trace(0, start, count)

    def pipeline_trace(self) -> np.ndarray:
        return self._system.trace_records(0)

    def request_stop(self) -> None:
        """Ask a running `run` to return at its next chunk boundary (safe from signal handlers)."""
        self._stop_requested = True

    # ---- virtual memory and interrupts (the kernel's side) ------------------------

    def set_satp(self, hart: int, mode: int, asid: int = 0, root_ppn: int = 0) -> None:
        """Write `hart`'s satp: mode 0 (bare: addresses are physical) or 1 (Sv32, with the
        root page table at physical page root_ppn), a 9-bit ASID. TLB entries stay (they
        are ASID-tagged): after changing a table, `sfence`."""
        self._system.set_satp(hart, mode, asid, root_ppn)

    def satp(self, hart: int = 0) -> int:
        """`hart`'s satp CSR value (MODE 31, ASID 30:22, PPN 21:0)."""
        return self._system.satp(hart)

    def sfence(self, hart: int | None = None, vaddr: int | None = None,
               asid: int | None = None) -> None:
        """sfence.vma on `hart` (None: every hart): vaddr None flushes every address,
        asid None every address space, as rs1 = x0 / rs2 = x0 do."""
        harts = range(self.config.harts) if hart is None else (hart,)
        for h in harts:
            self._system.sfence(h, vaddr, asid)

    def tlb_stats(self, hart: int = 0) -> dict:
        """`hart`'s TLB counters: per TLB hits and misses, walks, PTE reads and writes,
        the cycles walks took (timed cores), faults. Misses and walks are exact for both cores; hits leave out the functional
        core's inline fast-path hits (tlb.pxd), which are not counted, to keep it fast."""
        return self._system.mmu_stats(hart)

    def enable_interrupts(self, hart: int, mask: int) -> None:
        """Let the interrupts in `mask` (mip bits: emu.devices.bus.MIP_MTIP, MIP_MEIP,
        MIP_MSIP) stop `hart` and reach the kernel; 0 disables them all."""
        self._system.set_mie(hart, mask)

    def enabled_interrupts(self, hart: int = 0) -> int:
        return self._system.get_mie(hart)

    # ---- state --------------------------------------------------------------------

    @property
    def regs(self) -> np.ndarray:
        """x0..x31 of hart 0 as a writable numpy uint32 view."""
        return self._system.regs(0)

    def hart_regs(self, hart: int) -> np.ndarray:
        return self._system.regs(hart)

    @property
    def pc(self) -> int:
        return self._system.get_pc(0)

    @pc.setter
    def pc(self, value: int) -> None:
        self._system.set_pc(0, value & 0xFFFFFFFF)

    @property
    def memory(self) -> np.ndarray:
        """All of RAM as a writable numpy uint8 view; index 0 is address `ram_base`."""
        return self._system.ram

    @property
    def ram_base(self) -> int:
        return self.config.ram_base

    def guest_bytes(self, addr: int, length: int) -> memoryview | None:
        """A view of [addr, addr+length) of RAM, or None when it is not all in RAM."""
        offset = addr - self.config.ram_base
        if addr < 0 or length < 0 or offset < 0 or offset + length > self.config.memory_size:
            return None
        return memoryview(self._system.ram)[offset:offset + length]

    def read_memory(self, addr: int, length: int) -> bytes:
        view = self.guest_bytes(addr, length)
        if view is None:
            raise IndexError(f"[{addr:#x}, {addr + length:#x}) is not in RAM")
        return bytes(view)

    def write_memory(self, addr: int, data: bytes) -> None:
        view = self.guest_bytes(addr, len(data))
        if view is None:
            raise IndexError(f"[{addr:#x}, {addr + len(data):#x}) is not in RAM")
        view[:] = data

    def hart_pc(self, hart: int) -> int:
        return self._system.get_pc(hart)

    def save_context(self, hart: int) -> HartContext:
        """`hart`'s context, to restore on it or on another hart later."""
        return HartContext(tuple(int(r) for r in self._system.regs(hart)),
                           self._system.get_pc(hart), self._system.satp(hart),
                           self._system.get_mie(hart))

    def restore_context(self, hart: int, context: HartContext) -> None:
        """Make `hart` run `context` from its next instruction: registers, pc, satp (its
        TLB entries stay, tagged by ASID: sfence if the tables changed) and enabled
        interrupts. A pending LR reservation ends, as on a real context switch."""
        if len(context.regs) != 32:
            raise ValueError(f"a context has 32 registers, not {len(context.regs)}")
        satp = context.satp
        self._system.set_satp(hart, satp >> 31, (satp >> 22) & 0x1FF, satp & 0x3FFFFF)
        self._system.regs(hart)[:] = np.array([r & 0xFFFFFFFF for r in context.regs], np.uint32)
        self._system.set_pc(hart, context.pc & 0xFFFFFFFF)
        self._system.set_mie(hart, context.interrupts)
        self._system.clear_reservation(hart)

    def charge(self, hart: int, cycles: int) -> None:
        """Count `cycles` of work the kernel did for `hart` (its clock moves on)."""
        if cycles < 0:
            raise ValueError("cycles must not be negative")
        self._system.retire(hart, 0, cycles)

    def complete_instruction(self, hart: int, next_pc: int) -> None:
        """Retire the trapping instruction the kernel just performed (an ecall)."""
        self._system.retire(hart, 1, 1)
        self._system.set_pc(hart, next_pc & 0xFFFFFFFF)

    # ---- guest I/O ------------------------------------------------------------------

    def output_stream(self, fd: int) -> BinaryIO | None:
        return self._streams.get(fd)

    def read_stdin(self, count: int) -> bytes:
        source = self._stdin
        if source is None:
            return b""
        if isinstance(source, (bytes, bytearray)):
            data = bytes(source[self._stdin_offset:self._stdin_offset + count])
            self._stdin_offset += len(data)
            return data
        read = getattr(source, "read1", None) or source.read
        return read(count)

    @property
    def stdout(self) -> bytes:
        """What the guest wrote to fd 1 (when captured)."""
        return self._captured_out.getvalue() if self._captured_out else b""

    @property
    def stderr(self) -> bytes:
        return self._captured_err.getvalue() if self._captured_err else b""

    # ---- stats ----------------------------------------------------------------------

    @property
    def stats(self) -> dict:
        """Counters of the run so far, under gem5-like names (summed over harts)."""
        instret, cycle = self._retired(), self._cycle()
        stats = {
            "sim_insts": instret,
            "sim_cycles": cycle,
            "ipc": instret / cycle if cycle else 0.0,
            "traps": self._traps,
            "syscalls": dict(sorted(self.kernel.syscall_counts.items())),
            "decode_cache_pages": self._system.code_pages,
        }
        pipeline = self._system.pipeline_stats(0)
        if pipeline["cycles"]:
            stats["cpu"] = _pipeline_stats(pipeline, self.config.core)
        if self._system.caches is not None:
            stats["caches"] = CacheStats.from_model(self._system.caches)
        tlbs = [self._system.mmu_stats(h) for h in range(self.config.harts)]
        if any(t["walks"] or t["faults"] for t in tlbs) or any(
                self._system.satp(h) for h in range(self.config.harts)):
            stats["mmu"] = _mmu_stats(tlbs)
        return stats

    # ---- cache profile (emu.profile) --------------------------------------------------

    def enable_profile(self) -> None:
        """Count every cache access per instruction of the loaded program, from zero, from
        now on (needs `caches`; exact with cpu="functional", which fetches once per
        instruction). `profile` reads the counts."""
        from emu.profile import attach

        attach(self)

    @property
    def profile(self):
        """The cache profile of the run so far (an emu.profile.CacheProfile)."""
        from emu.profile import CacheProfile

        return CacheProfile.from_machine(self)


def _check_cpu(model: str) -> None:
    if model not in CPU_MODELS:
        raise ValueError(f"cpu must be one of {', '.join(CPU_MODELS)}, not {model!r}")


def _mmu_stats(per_hart: list[dict]) -> dict:
    """The TLB counters of all harts, summed, under gem5-like names (the L2 TLB is
    shared: its counters are counted once)."""
    stats = {}
    for tlb in ("itlb", "dtlb"):
        for what in ("hits", "misses"):
            stats[f"{tlb}.{what}"] = sum(t[tlb][what] for t in per_hart)
    if per_hart[0]["l2tlb"] is not None:
        stats["l2tlb.hits"] = per_hart[0]["l2tlb"]["hits"]
        stats["l2tlb.misses"] = per_hart[0]["l2tlb"]["misses"]
    for name, key in (("walks", "walks"), ("walkReads", "walk_reads"),
                      ("walkWrites", "walk_writes"), ("walkCycles", "walk_cycles"),
                      ("faults", "faults")):
        stats[name] = sum(t[key] for t in per_hart)
    return stats


def _pipeline_stats(raw: dict, core: CoreConfig) -> dict:
    """The out-of-order core's counters under gem5-like names."""
    cycles, committed = raw["cycles"], raw["committed"]
    issued = raw["unit_issued"]
    stats = {
        "numCycles": cycles,
        "committedInsts": committed,
        "ipc": committed / cycles if cycles else 0.0,
        "fetch.insts": raw["fetched"],
        "rename.renamedInsts": raw["renamed"],
        "iq.issuedInsts": raw["issued"],
        "squashedInsts": raw["squashed"],
        "branchPred.committed": {name: int(n) for name, n in zip(BRANCH_CLASS_NAMES, raw["branches"]) if n},
        "branchPred.mispredicted": {name: int(n) for name, n in zip(BRANCH_CLASS_NAMES, raw["mispredicts"]) if n},
        "rename.ROBFullEvents": raw["stall_rob_full"],
        "rename.IQFullEvents": raw["stall_iq_full"],
        "rename.LQFullEvents": raw["stall_lq_full"],
        "rename.SQFullEvents": raw["stall_sq_full"],
        "rename.fullRegistersEvents": raw["stall_no_regs"],
        "rename.fetchStarvedCycles": raw["fetch_starved"],
        "iq.issuedByUnit": {name: int(n) for name, n in zip(UNIT_NAMES, issued) if n},
        "lsq.memOrderViolations": raw["mem_order_violations"],
        "lsq.forwardedLoads": raw["loads_forwarded"],
        "lsq.loadReplays": raw["load_replays"],
        "commit.serialInsts": raw["serial_executed"],
        "commit.interrupts": raw["interrupts"],
        "lsq.mmioLoads": raw["mmio_loads"],
        "lsq.mmioStores": raw["mmio_stores"],
    }
    units = {"alu": core.alu_units, "branch": core.branch_units, "load": core.load_ports,
             "store": core.store_ports, "mul": core.mul_units, "div": core.div_units}
    stats["iq.fuUtilisation"] = {name: int(n) / (cycles * units[name])
                                 for name, n in zip(UNIT_NAMES, issued) if name in units and cycles}
    branches = int(raw["branches"].sum())
    stats["branchPred.mispredictRate"] = int(raw["mispredicts"].sum()) / branches if branches else 0.0
    return stats

"""Trap dispatch: system calls, and faults turned into fatal signals.

This module owns the trap interface between the machine and the kernel: what a
Trap says, what the kernel answers (an Outcome that stops the run, or None to
resume the hart), and the one process's state (its program break and its open
files). Syscall handlers live in emu.kernel.syscalls.
"""

from __future__ import annotations

import signal
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

from emu.kernel import syscalls

if TYPE_CHECKING:
    from emu.machine import Machine

#: RISC-V exception causes (emu/_core/traps.pxd) by number.
CAUSE_NAMES = {
    0: "instruction address misaligned",
    1: "instruction access fault",
    2: "illegal instruction",
    3: "breakpoint",
    4: "load address misaligned",
    5: "load access fault",
    6: "store/AMO address misaligned",
    7: "store/AMO access fault",
    8: "environment call from U-mode",
    12: "instruction page fault",
    13: "load page fault",
    15: "store/AMO page fault",
}
#: The mcause bit of an interrupt (emu/_core/traps.pxd CAUSE_INTERRUPT), and the
#: interrupt codes (the mip bit numbers of emu/_core/bus.pxd).
CAUSE_INTERRUPT = 1 << 31
INTERRUPT_NAMES = {3: "software interrupt", 7: "timer interrupt", 11: "external interrupt"}
CAUSE_BREAKPOINT = 3
CAUSE_ECALL = 8

#: The signal Linux sends a process for each fault cause.
FAULT_SIGNALS = {
    0: signal.SIGBUS, 1: signal.SIGSEGV, 2: signal.SIGILL, 3: signal.SIGTRAP,
    4: signal.SIGBUS, 5: signal.SIGSEGV, 6: signal.SIGBUS, 7: signal.SIGSEGV,
    12: signal.SIGSEGV, 13: signal.SIGSEGV, 15: signal.SIGSEGV,
}


@dataclass(frozen=True)
class Trap:
    """An exception a hart took: `pc` is the instruction that raised it (not executed);
    or an interrupt (`cause` has CAUSE_INTERRUPT set): `pc` is the next instruction."""

    cause: int
    pc: int
    tval: int
    hart: int = 0

    @property
    def is_interrupt(self) -> bool:
        return bool(self.cause & CAUSE_INTERRUPT)

    @property
    def name(self) -> str:
        if self.is_interrupt:
            code = self.cause & ~CAUSE_INTERRUPT
            return INTERRUPT_NAMES.get(code, f"interrupt {code}")
        return CAUSE_NAMES.get(self.cause, f"cause {self.cause}")

    def __str__(self) -> str:
        return f"{self.name} at pc={self.pc:#010x} (tval={self.tval:#010x})"


@dataclass(frozen=True)
class Outcome:
    """Why the kernel stopped the run: the process exited or was killed by a signal,
    or hit a breakpoint or took an interrupt that the API user handles."""

    reason: str                   # "exit" | "fault" | "breakpoint" | "interrupt"
    exit_code: int | None = None  # as a shell sees it: status & 0xff, or 128 + signal
    signal: int | None = None


@dataclass
class Process:
    """The single process of this machine."""

    brk_start: int
    brk: int
    brk_limit: int


class Kernel:
    """Serves one process on a Machine."""

    def __init__(self, machine: "Machine"):
        self.machine = machine
        self.process: Process | None = None
        self.syscall_counts: dict[int, int] = {}
        self.exit_status: int | None = None     # hart 0's, once it exited
        self._current: Trap | None = None       # the trap being handled
        #: Interrupt code (7 timer, 11 external, 3 software) -> handler(trap) returning
        #: None to resume the hart or an Outcome to stop the run. An interrupt without a
        #: handler stops the run with reason "interrupt"; a handler must quiet the
        #: source (mtimecmp, a PLIC claim) or the interrupt is taken again at once.
        self.interrupt_handlers: dict[int, Callable[[Trap], Outcome | None]] = {}

    def start_process(self, brk_start: int, brk_limit: int) -> None:
        self.process = Process(brk_start=brk_start, brk=brk_start, brk_limit=brk_limit)
        self.exit_status = None

    def handle_trap(self, trap: Trap) -> Outcome | None:
        """Handle `trap`; None means the hart resumes at its (possibly updated) pc."""
        if trap.is_interrupt:
            handler = self.interrupt_handlers.get(trap.cause & ~CAUSE_INTERRUPT)
            return Outcome("interrupt") if handler is None else handler(trap)
        if trap.cause == CAUSE_ECALL:
            return self._syscall(trap)
        if trap.cause == CAUSE_BREAKPOINT:
            return Outcome("breakpoint")
        sig = FAULT_SIGNALS.get(trap.cause, signal.SIGSEGV)
        return Outcome("fault", exit_code=128 + sig, signal=sig)

    def exit_hart(self, status: int) -> Outcome | None:
        """The trapping hart exits; the process ends when no hart is left running."""
        machine = self.machine
        machine.stop_hart(self._current.hart)
        if self._current.hart == 0:
            self.exit_status = status & 0xFF
        if machine.running_harts:
            return None         # the others go on; this one stays stopped at its ecall
        return Outcome("exit", exit_code=self.exit_status if self.exit_status is not None
                       else status & 0xFF)

    def exit_process(self, status: int) -> Outcome:
        for hart in self.machine.running_harts:
            self.machine.stop_hart(hart)
        return Outcome("exit", exit_code=status & 0xFF)

    def _syscall(self, trap: Trap) -> Outcome | None:
        machine = self.machine
        self._current = trap
        regs = machine.hart_regs(trap.hart)
        number = int(regs[17])
        args = [int(v) for v in regs[10:16]]
        self.syscall_counts[number] = self.syscall_counts.get(number, 0) + 1
        handler = syscalls.TABLE.get(number, syscalls.sys_unimplemented)
        result = handler(self, *args)
        if result is None or isinstance(result, Outcome):
            return result       # the hart stopped, or the process ended
        regs[10] = result & 0xFFFFFFFF
        machine.complete_instruction(trap.hart, trap.pc + 4)
        return None

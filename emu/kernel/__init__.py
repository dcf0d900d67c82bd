"""The kernel: Python code entered when a hart traps.

The cores return to Python only on a trap (emu/_core/traps.pxd); the Machine hands
each one to `Kernel.handle_trap`, which is the one place the full kernel (processes,
threads, scheduling, IPC, sockets: ../shared/ROADMAP.md) plugs into. Today it
serves the system calls in emu.kernel.syscalls for a single process and turns
faults into the signal that would kill it on Linux.
"""

from emu.kernel.kernel import Kernel, Outcome, Trap

__all__ = ["Kernel", "Outcome", "Trap"]

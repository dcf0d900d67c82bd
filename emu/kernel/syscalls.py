"""System calls, by their riscv32 Linux numbers.

Each handler takes the kernel and the six argument registers (a0..a5, unsigned)
and returns the value for a0 (negative errno on failure), an Outcome that ends the
run, or None when the calling hart stopped (it exited while others run on). Guest pointers are checked against RAM before use: a bad pointer is
-EFAULT, never a host error.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable

from emu.kernel import errno

if TYPE_CHECKING:
    from emu.kernel.kernel import Kernel

SYS_READ = 63
SYS_WRITE = 64
SYS_EXIT = 93
SYS_EXIT_GROUP = 94
SYS_BRK = 214

#: Largest single read/write a call moves, as Linux caps at MAX_RW_COUNT.
MAX_RW_COUNT = 0x7FFFF000


def sys_write(kernel: "Kernel", fd: int, buf: int, count: int, *_: int) -> int:
    stream = kernel.machine.output_stream(fd)
    if stream is None:
        return -errno.EBADF
    count = min(count, MAX_RW_COUNT)
    if count == 0:
        return 0
    data = kernel.machine.guest_bytes(buf, count)
    if data is None:
        return -errno.EFAULT
    stream.write(data)
    return count


def sys_read(kernel: "Kernel", fd: int, buf: int, count: int, *_: int) -> int:
    if fd != 0:
        return -errno.EBADF
    count = min(count, MAX_RW_COUNT)
    if count == 0:
        return 0
    if kernel.machine.guest_bytes(buf, count) is None:
        return -errno.EFAULT
    data = kernel.machine.read_stdin(count)
    kernel.machine.write_memory(buf, data)
    return len(data)


def sys_exit(kernel: "Kernel", status: int, *_: int):
    """exit: the calling hart stops; the process ends with the last one."""
    return kernel.exit_hart(status)


def sys_exit_group(kernel: "Kernel", status: int, *_: int):
    """exit_group: every hart stops; the process ends."""
    return kernel.exit_process(status)


def sys_brk(kernel: "Kernel", addr: int, *_: int) -> int:
    process = kernel.process
    if process.brk_start <= addr <= process.brk_limit:
        if addr > process.brk:
            kernel.machine.write_memory(process.brk, bytes(addr - process.brk))
        process.brk = addr
    return process.brk


def sys_unimplemented(kernel: "Kernel", *_: int) -> int:
    return -errno.ENOSYS


TABLE: dict[int, Callable[..., object]] = {
    SYS_READ: sys_read,
    SYS_WRITE: sys_write,
    SYS_EXIT: sys_exit,
    SYS_EXIT_GROUP: sys_exit_group,
    SYS_BRK: sys_brk,
}

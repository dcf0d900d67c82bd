"""Linux errno values (asm-generic/errno-base.h, errno.h), as the RISC-V ABI returns them."""

EPERM = 1
ENOENT = 2
EIO = 5
EBADF = 9
EAGAIN = 11
ENOMEM = 12
EFAULT = 14
EINVAL = 22
ENOSYS = 38

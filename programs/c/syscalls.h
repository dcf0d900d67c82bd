/* syscalls: the Linux system calls the test programs use, and the memory and string
 * functions gcc may call on its own (memset, memcpy, memmove, memcmp, strlen). */
#ifndef SYSCALLS_H
#define SYSCALLS_H

#include <stddef.h>

long sys_read(int fd, void *buf, size_t count);
long sys_write(int fd, const void *buf, size_t count);
void *sys_brk(void *addr);
__attribute__((noreturn)) void sys_exit(int status);

void *memset(void *dst, int byte, size_t n);
void *memcpy(void *restrict dst, const void *restrict src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);

#endif

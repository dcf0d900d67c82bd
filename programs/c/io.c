/* io: formatted output to stdout on top of sys_write. */
#include "io.h"
#include "syscalls.h"

void put_bytes(const char *s, size_t n)
{
    while (n) {
        long written = sys_write(1, s, n);
        if (written <= 0)
            sys_exit(120);
        s += written;
        n -= (size_t)written;
    }
}

void put_str(const char *s) { put_bytes(s, strlen(s)); }

void put_char(char c) { put_bytes(&c, 1); }

int format_int(char *buf, long long value, unsigned base, int width, char pad)
{
    char digits[66];
    int n = 0;
    /* Negate in unsigned arithmetic so that the most negative value works. */
    unsigned long long magnitude = value < 0 ? -(unsigned long long)value : (unsigned long long)value;
    do {
        digits[n++] = "0123456789abcdef"[magnitude % base];
        magnitude /= base;
    } while (magnitude);
    int length = n + (value < 0);
    int out = 0;
    if (value < 0 && pad == '0')
        buf[out++] = '-';
    for (; length < width; length++)
        buf[out++] = pad;
    if (value < 0 && pad != '0')
        buf[out++] = '-';
    while (n)
        buf[out++] = digits[--n];
    buf[out] = '\0';
    return out;
}

void put_int(long long value)
{
    char buf[67];
    put_bytes(buf, (size_t)format_int(buf, value, 10, 0, ' '));
}

void put_uint(unsigned long long value)
{
    char buf[21];
    int n = sizeof buf;
    do {
        buf[--n] = (char)('0' + value % 10);
        value /= 10;
    } while (value);
    put_bytes(buf + n, sizeof buf - (size_t)n);
}

void put_hex(unsigned long value)
{
    char buf[10] = {'0', 'x'};
    for (int i = 0; i < 8; i++)
        buf[2 + i] = "0123456789abcdef"[(value >> (28 - 4 * i)) & 0xf];
    put_bytes(buf, sizeof buf);
}

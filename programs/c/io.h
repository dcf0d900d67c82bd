/* io: formatted output to stdout for the test programs (no stdio here). */
#ifndef IO_H
#define IO_H

#include <stddef.h>

void put_bytes(const char *s, size_t n);
void put_str(const char *s);
void put_char(char c);
void put_int(long long value);
void put_uint(unsigned long long value);
void put_hex(unsigned long value);

/* Write `value` in `base` (2..16) into buf, at least `width` characters wide, padded on
 * the left with `pad` (after the sign when pad is '0'); returns the length. buf must
 * hold max(width, 66) + 1 bytes; the result is NUL-terminated. */
int format_int(char *buf, long long value, unsigned base, int width, char pad);

#endif

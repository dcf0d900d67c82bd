/* workload: the benchmark workload in C, the same computation as programs/bench.s.
 *
 * Built twice by benchmarks/bench_functional.py: natively (-O2, for the slowdown of
 * emu against the host) and for rv32ima (freestanding, with programs/c/crt0.s and
 * programs/c/syscalls.c) to run in emu and Unicorn. Usage: workload REPEAT.
 *
 *   for r in 0 .. REPEAT-1:
 *       primes = number of primes below SIEVE_N             (byte flags)
 *       for i in 0 .. DIM*DIM-1:
 *           x = (i + r) * 0x9E3779B1 mod 2**32, as a signed word
 *           A[i] = x rem 21;  B[i] = x div 100000000          (signed, truncating)
 *       C = A * B                                            (wrapping 32-bit)
 *       h = 0; for i: h = h * 31 + C[i]                      (mod 2**32)
 *       checksum = rotl(checksum, 5) ^ h ^ primes
 *
 * It prints "checksum: 0x........" and "primes: 1028", like bench.s: with the same
 * REPEAT both print the same checksum. REPEAT comes from the command line, so the
 * native compiler cannot fold the work away, and the printed checksum depends on
 * every round.
 */
#include <stddef.h>
#include <stdint.h>

#ifdef __riscv
#include "syscalls.h"
#define write_fd(fd, buf, n) sys_write((fd), (buf), (n))
#else
#include <unistd.h>
#define write_fd(fd, buf, n) write((fd), (buf), (n))
#endif

enum { SIEVE_N = 8192, DIM = 16 };

static uint8_t flags[SIEVE_N];
static int32_t matrix_a[DIM * DIM], matrix_b[DIM * DIM];
static uint32_t matrix_c[DIM * DIM];

static uint32_t sieve(void)
{
    for (uint32_t i = 0; i < SIEVE_N; i++)
        flags[i] = 0;
    for (uint32_t p = 2; p * p < SIEVE_N; p++)
        if (!flags[p])
            for (uint32_t m = p * p; m < SIEVE_N; m += p)
                flags[m] = 1;
    uint32_t primes = 0;
    for (uint32_t i = 2; i < SIEVE_N; i++)
        primes += !flags[i];
    return primes;
}

static void fill_matrices(uint32_t round)
{
    for (uint32_t i = 0; i < DIM * DIM; i++) {
        int32_t x = (int32_t)((i + round) * 0x9E3779B1u);
        matrix_a[i] = x % 21;
        matrix_b[i] = x / 100000000;
    }
}

static void multiply(void)
{
    for (int i = 0; i < DIM; i++)
        for (int j = 0; j < DIM; j++) {
            uint32_t sum = 0;
            for (int k = 0; k < DIM; k++)
                sum += (uint32_t)matrix_a[i * DIM + k] * (uint32_t)matrix_b[k * DIM + j];
            matrix_c[i * DIM + j] = sum;
        }
}

static uint32_t hash_product(void)
{
    uint32_t h = 0;
    for (int i = 0; i < DIM * DIM; i++)
        h = h * 31 + matrix_c[i];
    return h;
}

static uint32_t parse_uint(const char *s)
{
    uint32_t value = 0;
    for (; *s >= '0' && *s <= '9'; s++)
        value = value * 10 + (uint32_t)(*s - '0');
    return value;
}

/* Writes "<label><value>\n", the value in hex (0x and 8 digits) or in decimal. */
static void print_line(const char *label, uint32_t value, int hex)
{
    char buf[32], digits[10];
    size_t n = 0;
    int count = 0;  /* digits[] holds the least significant digit first */
    uint32_t base = hex ? 16 : 10;
    for (; *label; label++)
        buf[n++] = *label;
    do {
        digits[count++] = "0123456789abcdef"[value % base];
        value /= base;
    } while (value || (hex && count < 8));
    if (hex) {
        buf[n++] = '0';
        buf[n++] = 'x';
    }
    while (count)
        buf[n++] = digits[--count];
    buf[n++] = '\n';
    write_fd(1, buf, n);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        static const char usage[] = "usage: workload REPEAT\n";
        write_fd(2, usage, sizeof usage - 1);
        return 2;
    }
    uint32_t repeat = parse_uint(argv[1]);
    uint32_t checksum = 0, primes = 0;
    for (uint32_t round = 0; round < repeat; round++) {
        primes = sieve();
        fill_matrices(round);
        multiply();
        uint32_t h = hash_product();
        checksum = ((checksum << 5) | (checksum >> 27)) ^ h ^ primes;
        /* The sieve is the same every round: keep the compiler from hoisting it. */
        __asm__ volatile("" ::: "memory");
    }
    print_line("checksum: ", checksum, 1);
    print_line("primes: ", primes, 0);
    return 0;
}

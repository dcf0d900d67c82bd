/* arith: number formatting and the M extension. Prints a table of signed and unsigned
 * division and remainder over operands with both signs (C truncates toward zero, as
 * div/rem do), the high words of 32x32 products (mulh, mulhu, mulhsu through 64-bit
 * products), 64-bit division through libgcc, the RISC-V results of the cases C leaves
 * undefined (division by zero, INT_MIN / -1) through inline asm, and numbers formatted
 * in bases 2, 8, 10 and 16 with widths and padding. */
#include "io.h"

#define INT_MIN_ (-2147483647 - 1)

static const int operands[] = {0, 1, -1, 7, -7, 3, -3, 100, -100, 2147483647, INT_MIN_};
#define OPERAND_COUNT (int)(sizeof operands / sizeof operands[0])

static void put_labeled(const char *label, long long value)
{
    put_str(label);
    put_int(value);
    put_char(' ');
}

/* The hardware's answers where C's are undefined. */
static int asm_div(int a, int b) { int r; asm("div %0, %1, %2" : "=r"(r) : "r"(a), "r"(b)); return r; }
static int asm_rem(int a, int b) { int r; asm("rem %0, %1, %2" : "=r"(r) : "r"(a), "r"(b)); return r; }
static unsigned asm_divu(unsigned a, unsigned b) { unsigned r; asm("divu %0, %1, %2" : "=r"(r) : "r"(a), "r"(b)); return r; }
static unsigned asm_remu(unsigned a, unsigned b) { unsigned r; asm("remu %0, %1, %2" : "=r"(r) : "r"(a), "r"(b)); return r; }

int main(void)
{
    unsigned hash = 0;
    for (int i = 0; i < OPERAND_COUNT; i++) {
        for (int j = 0; j < OPERAND_COUNT; j++) {
            int a = operands[i], b = operands[j];
            /* Through asm for every pair, so the table shows the defined-by-RISC-V cases. */
            int q = asm_div(a, b), r = asm_rem(a, b);
            unsigned qu = asm_divu((unsigned)a, (unsigned)b), ru = asm_remu((unsigned)a, (unsigned)b);
            int mh = (int)(((long long)a * b) >> 32);
            unsigned mhu = (unsigned)(((unsigned long long)(unsigned)a * (unsigned)b) >> 32);
            int mhsu = (int)(((long long)a * (long long)(unsigned)b) >> 32);
            hash = hash * 33u ^ (unsigned)q ^ (unsigned)r * 7u ^ qu * 11u ^ ru * 13u;
            hash = hash * 33u ^ (unsigned)mh ^ mhu * 3u ^ (unsigned)mhsu * 5u ^ (unsigned)(a * b);
            if (b != 0 && !(a == INT_MIN_ && b == -1) && (q != a / b || r != a % b))
                put_str("MISMATCH with C division\n");
            if (i % 2 == 0 && (j % 3 == 0 || b == -1)) {
                put_int(a);
                put_str(" ? ");
                put_int(b);
                put_str(": ");
                put_labeled("div=", q);
                put_labeled("rem=", r);
                put_labeled("divu=", qu);
                put_labeled("remu=", ru);
                put_labeled("mulh=", mh);
                put_labeled("mulhu=", mhu);
                put_labeled("mulhsu=", mhsu);
                put_char('\n');
            }
        }
    }
    put_str("hash ");
    put_hex(hash);
    put_char('\n');

    long long big = 0x123456789abcdefLL;
    put_labeled("big/7=", big / 7);
    put_labeled("big%7=", big % 7);
    put_labeled("-big/1000=", -big / 1000);
    put_labeled("-big%1000=", -big % 1000);
    put_char('\n');

    static const struct { long long value; unsigned base; int width; char pad; } formats[] = {
        {0, 10, 0, ' '}, {-1, 10, 5, ' '}, {-1, 10, 5, '0'}, {255, 16, 4, '0'},
        {255, 2, 12, '.'}, {-8, 8, 6, ' '}, {INT_MIN_, 10, 0, ' '}, {INT_MIN_, 16, 0, ' '},
        {2147483647, 2, 0, ' '}, {-9223372036854775807LL - 1, 10, 0, ' '},
        {1234567, 10, 3, '*'},
    };
    for (unsigned i = 0; i < sizeof formats / sizeof formats[0]; i++) {
        char buf[80];
        int n = format_int(buf, formats[i].value, formats[i].base, formats[i].width, formats[i].pad);
        put_char('[');
        put_bytes(buf, (unsigned)n);
        put_str("]\n");
    }
    return 0;
}

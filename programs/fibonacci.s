# fibonacci: print the first N Fibonacci numbers (F(0) = 0, F(1) = 1, ...) in decimal,
# one per line. With N = 48 the last one, F(47) = 2971215073, is the largest that fits
# in 32 bits (unsigned), so print_uint is exercised above INT_MAX.
        .include "lib/print.s"

        .equ    N, 48

        .text
        .globl  _start
_start:
        li      s0, 0               # F(i)
        li      s1, 1               # F(i + 1)
        li      s2, N               # numbers left to print
1:      mv      a0, s0
        call    print_uint
        call    print_newline
        add     t0, s0, s1
        mv      s0, s1
        mv      s1, t0
        addi    s2, s2, -1
        bnez    s2, 1b
        li      a0, 0
        call    exit

# sieve: print the primes below N with the sieve of Eratosthenes, ten per line, then
# their count. The byte array (one flag per number) is allocated with brk(214): brk(0)
# gives the current break, brk(break + N) extends it. Exit code 2 if brk fails.
        .include "lib/print.s"

        .equ    N, 500
        .equ    PER_LINE, 10

        .section .rodata
count_label:    .asciz  "count: "

        .text
        .globl  _start
_start:
        li      a0, 0
        li      a7, SYS_BRK
        ecall
        mv      s0, a0              # s0 = flags[0..N): nonzero = composite
        li      t0, N
        add     a0, s0, t0
        mv      s1, a0
        li      a7, SYS_BRK
        ecall
        bltu    a0, s1, brk_failed

        # flags[i] = 0 for all i
        mv      t0, s0
1:      sb      zero, 0(t0)
        addi    t0, t0, 1
        bltu    t0, s1, 1b

        # for p = 2; p * p < N; p++: if prime, mark p*p, p*p + p, ... composite
        li      t0, 2
        li      t3, 1
        li      t4, N
2:      mul     t1, t0, t0
        bgeu    t1, t4, 5f
        add     t2, s0, t0
        lbu     t2, 0(t2)
        bnez    t2, 4f
3:      add     t2, s0, t1
        sb      t3, 0(t2)
        add     t1, t1, t0
        bltu    t1, t4, 3b
4:      addi    t0, t0, 1
        j       2b

        # print the numbers still unmarked, from 2 up
5:      li      s2, 2               # candidate
        li      s3, 0               # primes printed
6:      add     t0, s0, s2
        lbu     t0, 0(t0)
        bnez    t0, 8f
        beqz    s3, 7f
        li      t0, PER_LINE
        remu    t0, s3, t0
        li      a0, ' '
        bnez    t0, 9f
        li      a0, '\n'
9:      call    print_char
7:      mv      a0, s2
        call    print_uint
        addi    s3, s3, 1
8:      addi    s2, s2, 1
        li      t0, N
        bltu    s2, t0, 6b
        call    print_newline

        la      a0, count_label
        mv      a1, s3
        call    print_labeled
        li      a0, 0
        call    exit

brk_failed:
        li      a0, 2
        call    exit

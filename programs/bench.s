# bench: the benchmark workload. Each of REPEAT rounds runs a sieve of Eratosthenes
# below SIEVE_N and a DIM x DIM integer matrix multiply whose inputs depend on the
# round, and folds both results into a checksum printed at the end:
#
#   for r in 0 .. REPEAT-1:
#       primes = number of primes below SIEVE_N              (byte flags, word-cleared)
#       for i in 0 .. DIM*DIM-1:
#           x = (i + r) * 0x9E3779B1 mod 2**32, as a signed word
#           A[i] = x rem 21;  B[i] = x div 100000000           (signed, truncating)
#       C = A * B                                             (wrapping 32-bit)
#       h = 0; for i: h = h * 31 + C[i]                       (mod 2**32)
#       checksum = rotl(checksum, 5) ^ h ^ primes
#
# Output: "checksum: 0x........" and "primes: 1028". With the default REPEAT = 1560 it
# retires about 200 million instructions (about 128,500 per round). To change the size
# edit REPEAT; the tests substitute a small value into this line:
        .equ    REPEAT, 1560
        .equ    SIEVE_N, 8192
        .equ    DIM, 16

        .include "lib/print.s"

        .bss
        .p2align 2
flags:          .space  SIEVE_N
matrix_a:       .space  DIM * DIM * 4
matrix_b:       .space  DIM * DIM * 4
matrix_c:       .space  DIM * DIM * 4

        .section .rodata
checksum_label: .asciz  "checksum: "
primes_label:   .asciz  "primes: "

        .text
        .globl  _start
_start:
        li      s0, 0               # round r
        li      s1, 0               # checksum
1:      call    sieve
        mv      s2, a0              # primes
        mv      a0, s0
        call    fill_matrices
        call    multiply
        call    hash_product
        slli    t0, s1, 5
        srli    t1, s1, 32 - 5
        or      s1, t0, t1
        xor     s1, s1, a0
        xor     s1, s1, s2
        addi    s0, s0, 1
        li      t0, REPEAT
        blt     s0, t0, 1b

        la      a0, checksum_label
        call    print_str
        mv      a0, s1
        call    print_hex
        call    print_newline
        la      a0, primes_label
        mv      a1, s2
        call    print_labeled
        li      a0, 0
        call    exit

# sieve() -> a0 = number of primes below SIEVE_N.
sieve:
        la      a1, flags
        li      a2, SIEVE_N
        add     a3, a1, a2          # end of flags
        mv      t0, a1
1:      sw      zero, 0(t0)         # clear four flags at a time
        addi    t0, t0, 4
        bltu    t0, a3, 1b
        li      t0, 2               # p
        li      t3, 1
2:      mul     t1, t0, t0
        bgeu    t1, a2, 5f
        add     t2, a1, t0
        lbu     t2, 0(t2)
        bnez    t2, 4f
        add     t1, a1, t1          # mark p*p, p*p + p, ... below SIEVE_N
3:      sb      t3, 0(t1)
        add     t1, t1, t0
        bltu    t1, a3, 3b
4:      addi    t0, t0, 1
        j       2b
5:      li      a0, 0
        addi    t0, a1, 2
6:      lbu     t2, 0(t0)
        seqz    t2, t2
        add     a0, a0, t2
        addi    t0, t0, 1
        bltu    t0, a3, 6b
        ret

# fill_matrices(a0 = round): A[i] = x rem 21, B[i] = x div 100000000 (see the top).
fill_matrices:
        la      a1, matrix_a
        la      a2, matrix_b
        li      a3, DIM * DIM
        li      a4, 0x9E3779B1
        li      a5, 21
        li      a6, 100000000
        li      t0, 0               # i
1:      add     t1, t0, a0
        mul     t1, t1, a4
        rem     t2, t1, a5
        sw      t2, 0(a1)
        div     t2, t1, a6
        sw      t2, 0(a2)
        addi    a1, a1, 4
        addi    a2, a2, 4
        addi    t0, t0, 1
        blt     t0, a3, 1b
        ret

# multiply(): matrix_c = matrix_a * matrix_b.
multiply:
        la      a0, matrix_a        # &A[i][0]
        la      a2, matrix_c        # &C[i][j]
        li      t5, DIM
        li      a4, 0               # i
1:      li      a5, 0               # j
2:      la      a1, matrix_b
        slli    t0, a5, 2
        add     a1, a1, t0          # &B[0][j]
        mv      t0, a0
        li      t6, 0               # sum
        li      a6, 0               # k
3:      lw      t1, 0(t0)
        lw      t2, 0(a1)
        mul     t1, t1, t2
        add     t6, t6, t1
        addi    t0, t0, 4
        addi    a1, a1, DIM * 4
        addi    a6, a6, 1
        blt     a6, t5, 3b
        sw      t6, 0(a2)
        addi    a2, a2, 4
        addi    a5, a5, 1
        blt     a5, t5, 2b
        addi    a0, a0, DIM * 4
        addi    a4, a4, 1
        blt     a4, t5, 1b
        ret

# hash_product() -> a0 = h over matrix_c (see the top).
hash_product:
        la      t0, matrix_c
        li      t1, DIM * DIM * 4
        add     t1, t0, t1
        li      t2, 31
        li      a0, 0
1:      lw      t3, 0(t0)
        mul     a0, a0, t2
        add     a0, a0, t3
        addi    t0, t0, 4
        bltu    t0, t1, 1b
        ret

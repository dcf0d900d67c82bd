# matmul: C = A * B for signed integer matrices (A is M x K, B is K x N, row-major
# words), print C row by row, then a checksum: the sum of C[i][j] * (i * N + j + 1).
        .include "lib/print.s"

        .equ    M, 3
        .equ    K, 4
        .equ    N, 5

        .data
        .p2align 2
matrix_a:
        .word    1,  -2,   3,   4
        .word   -5,   6,  -7,   8
        .word    9,  10, -11, -12
matrix_b:
        .word    2,   0,  -1,   3,  7
        .word   -4,   5,   6,  -8,  1
        .word   10, -12,  14,   0, -3
        .word    1,   1,  -1, 100, -2

        .bss
        .p2align 2
matrix_c:
        .space  M * N * 4

        .section .rodata
checksum_label: .asciz  "checksum: "

        .text
        .globl  _start
_start:
        # for i < M, j < N: C[i][j] = sum over k < K of A[i][k] * B[k][j]
        li      s0, 0               # i
        la      s3, matrix_c        # &C[i][j]
1:      li      s1, 0               # j
2:      li      s2, 0               # k
        li      t6, 0               # accumulator
        li      t0, K * 4
        mul     t0, s0, t0
        la      t1, matrix_a
        add     t1, t1, t0          # &A[i][0]
        slli    t0, s1, 2
        la      t2, matrix_b
        add     t2, t2, t0          # &B[0][j]
3:      lw      t3, 0(t1)
        lw      t4, 0(t2)
        mul     t3, t3, t4
        add     t6, t6, t3
        addi    t1, t1, 4
        addi    t2, t2, N * 4
        addi    s2, s2, 1
        li      t0, K
        blt     s2, t0, 3b
        sw      t6, 0(s3)
        addi    s3, s3, 4
        addi    s1, s1, 1
        li      t0, N
        blt     s1, t0, 2b
        addi    s0, s0, 1
        li      t0, M
        blt     s0, t0, 1b

        # print C, N numbers per line
        la      s3, matrix_c
        li      s0, 0               # index into C
        li      s4, 0               # checksum
4:      lw      a0, 0(s3)
        addi    t0, s0, 1
        mul     t0, a0, t0
        add     s4, s4, t0
        call    print_int
        addi    s0, s0, 1
        addi    s3, s3, 4
        li      t0, N
        rem     t0, s0, t0
        li      a0, ' '
        bnez    t0, 5f
        li      a0, '\n'
5:      call    print_char
        li      t0, M * N
        blt     s0, t0, 4b

        la      a0, checksum_label
        mv      a1, s4
        call    print_labeled
        li      a0, 0
        call    exit

# parallel_sum: every hart fills its own slice of an array and sums it, round after
# round; the partial sums meet in a shared total (amoadd.w) and the harts wait for each
# other at a barrier (an amoadd.w counter) at the end of every round. Hart 0 then
# prints the harts, the rounds and the total, and exits 0.
#
# Run as it is, one hart does all the work. A host that starts more harts (as
# benchmarks/bench_multicore.py does) sets the word `harts` before the run, and starts
# hart h at `worker` with a0 = h (hart 0 starts at _start); `rounds` may be set too.
# Work per hart is fixed (SLICE words a round), so more harts mean more work in all:
#
#   slice of hart h, round r:  a[i] = x ^ (x >> 15) ^ r   for i < SLICE,
#                              where x = (h * SLICE + i) * 0x9e3779b1 mod 2**32
#   total = the sum of every a[i] of every hart and round, modulo 2**32
#
# Each slice is 16 KiB of its own (it stays in a hart's L1D), 64-byte aligned, so the
# only lines the harts share are `total` and `arrived`, each alone in its line.
        .include "lib/print.s"

        .equ    SLICE, 4096         # words per hart
        .equ    MAX_HARTS, 16

        .data
        .balign 64
        .globl  harts
harts:  .word   1                   # harts taking part, numbered 0 .. harts-1
        .globl  rounds
rounds: .word   8                   # rounds every hart runs
        .balign 64
        .globl  total
total:  .word   0                   # shared: every round's partial sums are added here
        .balign 64
        .globl  arrived
arrived: .word  0                   # shared: barrier count, one per hart per round

        .section .rodata
harts_label:  .asciz "harts: "
rounds_label: .asciz "rounds: "
sum_label:    .asciz "sum: "

        .bss
        .balign 64
array:  .space  SLICE * 4 * MAX_HARTS

        .text
        .globl  _start
_start:
        li      a0, 0
        .globl  worker
worker:                             # a0 = this hart's number
        mv      s0, a0              # s0 = hart
        la      t0, harts
        lw      s1, 0(t0)           # s1 = harts taking part
        la      t0, rounds
        lw      s2, 0(t0)           # s2 = rounds
        li      t0, SLICE * 4
        mul     t1, s0, t0
        la      s3, array
        add     s3, s3, t1          # s3 = start of this hart's slice
        add     s10, s3, t0         # s10 = its end
        li      t0, SLICE
        mul     s4, s0, t0          # s4 = global index of its first element
        li      s5, 0               # s5 = round
        li      s6, 0x9e3779b1
        la      s7, total
        la      s8, arrived
        li      s9, 0               # s9 = what `arrived` reaches when this round's barrier opens
        beqz    s2, finish

round:  mv      t0, s3              # fill the slice
        mv      t1, s4
1:      mul     t3, t1, s6
        srli    t5, t3, 15
        xor     t3, t3, t5
        xor     t3, t3, s5
        sw      t3, 0(t0)
        addi    t1, t1, 1
        addi    t0, t0, 4
        bne     t0, s10, 1b
        mv      t0, s3              # sum it
        li      t4, 0
2:      lw      t3, 0(t0)
        add     t4, t4, t3
        addi    t0, t0, 4
        bne     t0, s10, 2b
        amoadd.w zero, t4, (s7)     # into the shared total
        add     s9, s9, s1          # barrier: count in, wait for the others
        li      t0, 1
        amoadd.w.aqrl zero, t0, (s8)
3:      lw      t0, 0(s8)
        bltu    t0, s9, 3b
        addi    s5, s5, 1
        bne     s5, s2, round

finish: bnez    s0, 4f              # every hart but 0 just stops
        la      a0, harts_label
        mv      a1, s1
        call    print_labeled
        la      a0, rounds_label
        mv      a1, s2
        call    print_labeled
        la      a0, sum_label
        call    print_str
        lw      a0, 0(s7)
        call    print_hex
        call    print_newline
        li      a0, 0
        call    exit
4:      li      a0, 0
        li      a7, SYS_EXIT
        ecall

# timer: arm the machine timer, then compute. The guest reads mtime (high, low, high
# again, so the two halves match), sets hart 0's mtimecmp to mtime + `delta` ticks
# (low word to all ones first, so the compare never passes by accident while the high
# word changes), then fills an array from a linear congruential generator and folds it
# `rounds` times into a checksum that it prints as 8 hex digits on the UART; exit 0.
# With MIP_MTIP enabled the timer interrupt stops the hart at cycle
# mtimecmp * (clock_hz / timebase_hz), somewhere in the computation; a kernel handler
# that moves mtimecmp on resumes it, and the output is the same as without interrupts.
# Driven by tests/test_guest_devices.py.

        .equ    UART, 0xf0000000
        .equ    CLINT, 0xf2000000
        .equ    MTIMECMP0, CLINT + 0x4000   # hart 0's mtimecmp: low word, high word at +4
        .equ    MTIME, CLINT + 0xbff8       # low word, high word at +4
        .equ    WORDS, 256
        .equ    SYS_EXIT, 93

        .data
        .globl  delta, rounds
delta:  .word   50              # timer ticks from now to the interrupt (0: do not arm)
rounds: .word   40              # passes over the array

        .bss
        .balign 4
array:  .space  4 * WORDS

        .text
        .globl  _start
_start:
        li      t3, MTIME
1:      lw      t1, 4(t3)           # high
        lw      t0, 0(t3)           # low
        lw      t2, 4(t3)           # high again: retry if the low word wrapped meanwhile
        bne     t1, t2, 1b
        la      t4, delta
        lw      t4, 0(t4)
        beqz    t4, compute
        add     t0, t0, t4          # mtime + delta, 64 bits: low ...
        sltu    t5, t0, t4          # ... its carry ...
        add     t1, t1, t5          # ... into the high word
        li      t3, MTIMECMP0
        li      t6, -1
        sw      t6, 0(t3)
        sw      t1, 4(t3)
        sw      t0, 0(t3)
        .globl  compute
compute:                            # a[i] = x; x = x * 1103515245 + 12345
        la      s1, array
        li      s2, WORDS
        li      t0, 1
        li      t1, 1103515245
        li      t2, 12345
        mv      t3, s1
2:      sw      t0, 0(t3)
        mul     t0, t0, t1
        add     t0, t0, t2
        addi    t3, t3, 4
        addi    s2, s2, -1
        bnez    s2, 2b
        la      t4, rounds          # each round: sum = sum * 31 + a[i]; a[i] ^= sum
        lw      s3, 0(t4)
        li      s4, 0
3:      mv      t3, s1
        li      s2, WORDS
4:      lw      t0, 0(t3)
        slli    t5, s4, 5
        sub     s4, t5, s4
        add     s4, s4, t0
        xor     t0, t0, s4
        sw      t0, 0(t3)
        addi    t3, t3, 4
        addi    s2, s2, -1
        bnez    s2, 4b
        addi    s3, s3, -1
        bnez    s3, 3b
        li      s0, UART            # print the sum: 8 hex digits, most significant first
        li      s2, 8
        li      t1, 10
5:      srli    t0, s4, 28
        slli    s4, s4, 4
        blt     t0, t1, 6f
        addi    t0, t0, 'a' - 10 - '0'
6:      addi    t0, t0, '0'
        sb      t0, 0(s0)
        addi    s2, s2, -1
        bnez    s2, 5b
        li      t0, '\n'
        sb      t0, 0(s0)
        li      a0, 0
        li      a7, SYS_EXIT
        ecall

# upcase: copy stdin to stdout with ASCII letters upper-cased, reading with read(63)
# in small chunks until end of file, then print the number of bytes copied.
# Exit code 3 if read fails. The tests feed it programs/upcase.stdin.
        .include "lib/print.s"

        .equ    CHUNK, 16

        .bss
buffer:
        .space  CHUNK

        .section .rodata
total_label:    .asciz  "bytes: "

        .text
        .globl  _start
_start:
        li      s0, 0               # bytes copied
1:      li      a0, STDIN
        la      a1, buffer
        li      a2, CHUNK
        li      a7, SYS_READ
        ecall
        bltz    a0, read_failed
        beqz    a0, 4f
        mv      s1, a0
        add     s0, s0, a0
        la      t0, buffer
        add     t1, t0, a0          # end of the bytes read
        li      t2, 'a'
        li      t3, 'z'
2:      lbu     t4, 0(t0)
        bltu    t4, t2, 3f
        bgtu    t4, t3, 3f
        addi    t4, t4, 'A' - 'a'
        sb      t4, 0(t0)
3:      addi    t0, t0, 1
        bltu    t0, t1, 2b
        la      a0, buffer
        mv      a1, s1
        call    print_buf
        j       1b
4:      la      a0, total_label
        mv      a1, s0
        call    print_labeled
        li      a0, 0
        call    exit

read_failed:
        li      a0, 3
        call    exit

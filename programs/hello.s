# hello: write a greeting with one write syscall and exit 0.
        .include "lib/print.s"

        .section .rodata
message:
        .ascii  "Hello, world!\n"
        .equ    MESSAGE_LENGTH, . - message

        .text
        .globl  _start
_start:
        li      a0, STDOUT
        la      a1, message
        li      a2, MESSAGE_LENGTH
        li      a7, SYS_WRITE
        ecall
        li      a0, 0
        call    exit

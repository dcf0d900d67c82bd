# Shared routines for the example programs: output of strings and numbers, exit.
#
# Included once by each program, at its top (so the constants are defined before use),
# with `.include "lib/print.s"`: isa.assemble looks next to the including file, GNU as
# needs `-I programs`. Every routine follows the ilp32 calling convention: arguments
# in a0/a1, result in a0, and only caller-saved registers (a*, t*) are clobbered.
# The routines use only the Linux syscalls write (64) and exit (93).

        .equ    SYS_READ, 63
        .equ    SYS_WRITE, 64
        .equ    SYS_EXIT, 93
        .equ    SYS_BRK, 214
        .equ    STDIN, 0
        .equ    STDOUT, 1

        .text

# strlen(a0 = NUL-terminated string) -> a0 = its length in bytes.
        .globl  strlen
strlen:
        mv      t0, a0
1:      lbu     t1, 0(t0)
        beqz    t1, 2f
        addi    t0, t0, 1
        j       1b
2:      sub     a0, t0, a0
        ret

# print_buf(a0 = address, a1 = length): write the bytes to stdout.
        .globl  print_buf
print_buf:
        mv      a2, a1
        mv      a1, a0
        li      a0, STDOUT
        li      a7, SYS_WRITE
        ecall
        ret

# print_str(a0 = NUL-terminated string): write it to stdout.
        .globl  print_str
print_str:
        addi    sp, sp, -16
        sw      ra, 12(sp)
        sw      a0, 8(sp)
        call    strlen
        mv      a1, a0
        lw      a0, 8(sp)
        call    print_buf
        lw      ra, 12(sp)
        addi    sp, sp, 16
        ret

# print_char(a0 = byte): write one byte to stdout.
        .globl  print_char
print_char:
        addi    sp, sp, -16
        sw      ra, 12(sp)
        sb      a0, 0(sp)
        mv      a0, sp
        li      a1, 1
        call    print_buf
        lw      ra, 12(sp)
        addi    sp, sp, 16
        ret

# print_newline(): write "\n".
        .globl  print_newline
print_newline:
        li      a0, '\n'
        j       print_char

# print_uint(a0 = unsigned value): write it in decimal.
        .globl  print_uint
print_uint:
        addi    sp, sp, -32
        sw      ra, 28(sp)
        addi    t0, sp, 24          # digits are stored backwards, ending at sp+24
        mv      t1, t0
        li      t2, 10
1:      remu    t3, a0, t2
        divu    a0, a0, t2
        addi    t3, t3, '0'
        addi    t1, t1, -1
        sb      t3, 0(t1)
        bnez    a0, 1b
        mv      a0, t1
        sub     a1, t0, t1
        call    print_buf
        lw      ra, 28(sp)
        addi    sp, sp, 32
        ret

# print_int(a0 = signed value): write it in decimal with a leading '-' if negative.
        .globl  print_int
print_int:
        bgez    a0, print_uint
        addi    sp, sp, -16
        sw      ra, 12(sp)
        sw      a0, 8(sp)
        li      a0, '-'
        call    print_char
        lw      a0, 8(sp)
        neg     a0, a0              # INT_MIN stays 0x80000000, printed unsigned: right
        lw      ra, 12(sp)
        addi    sp, sp, 16
        j       print_uint

# print_hex(a0 = value): write it as 0x followed by 8 hex digits.
        .globl  print_hex
print_hex:
        addi    sp, sp, -16
        sw      ra, 12(sp)
        li      t0, '0'
        sb      t0, 0(sp)
        li      t0, 'x'
        sb      t0, 1(sp)
        addi    t1, sp, 2
        li      t2, 28              # shift of the next nibble, most significant first
1:      srl     t3, a0, t2
        andi    t3, t3, 0xf
        li      t4, 10
        blt     t3, t4, 2f
        addi    t3, t3, 'a' - '0' - 10
2:      addi    t3, t3, '0'
        sb      t3, 0(t1)
        addi    t1, t1, 1
        addi    t2, t2, -4
        bgez    t2, 1b
        mv      a0, sp
        li      a1, 10
        call    print_buf
        lw      ra, 12(sp)
        addi    sp, sp, 16
        ret

# print_labeled(a0 = label string, a1 = signed value): write "<label><value>\n".
        .globl  print_labeled
print_labeled:
        addi    sp, sp, -16
        sw      ra, 12(sp)
        sw      a1, 8(sp)
        call    print_str
        lw      a0, 8(sp)
        call    print_int
        lw      ra, 12(sp)
        addi    sp, sp, 16
        j       print_newline

# exit(a0 = status): end the program.
        .globl  exit
exit:
        li      a7, SYS_EXIT
        ecall

# strings: for each string of a NUL-terminated table, print its length (strlen from
# lib/print.s) and the string reversed in place:  5 "hello" -> "olleh".
# The table of string addresses is a .data array of .word relocations, ended by 0.
        .include "lib/print.s"

        .data
s_hello:        .asciz  "hello"
s_empty:        .asciz  ""
s_one:          .asciz  "x"
s_even:         .asciz  "abcd"
s_sentence:     .asciz  "The quick brown fox jumps over the lazy dog."
s_palindrome:   .asciz  "A man, a plan, a canal: Panama"
        .p2align 2
string_table:
        .word   s_hello, s_empty, s_one, s_even, s_sentence, s_palindrome, 0

        .section .rodata
quote_open:     .asciz  " \""
arrow:          .asciz  "\" -> \""
quote_close:    .asciz  "\"\n"

        .text
        .globl  _start
_start:
        la      s0, string_table
1:      lw      s1, 0(s0)           # current string
        beqz    s1, 2f
        mv      a0, s1
        call    strlen
        mv      s2, a0
        call    print_uint
        la      a0, quote_open
        call    print_str
        mv      a0, s1
        call    print_str
        la      a0, arrow
        call    print_str
        mv      a0, s1
        mv      a1, s2
        call    reverse
        mv      a0, s1
        call    print_str
        la      a0, quote_close
        call    print_str
        addi    s0, s0, 4
        j       1b
2:      li      a0, 0
        call    exit

# reverse(a0 = address, a1 = length): reverse the bytes in place.
reverse:
        add     a1, a0, a1
        addi    a1, a1, -1          # last byte
1:      bgeu    a0, a1, 2f
        lbu     t0, 0(a0)
        lbu     t1, 0(a1)
        sb      t1, 0(a0)
        sb      t0, 0(a1)
        addi    a0, a0, 1
        addi    a1, a1, -1
        j       1b
2:      ret

# sort: sort a fixed array of signed words two ways and print it before and after.
# A copy is bubble-sorted in place (nested loops, adjacent loads and stores); the
# original is quicksorted (recursive calls, Lomuto partition). Both results are printed,
# followed by "sorted: yes" when the two agree and are in order.
        .include "lib/print.s"

        .equ    COUNT, 20

        .data
        .p2align 2
values:
        .word   503, -87, 512, 61, 908, -170, 897, 275, 653, 426
        .word   -154, 509, 612, 677, -765, 703, 0, 2147483647, -2147483648, 61
copy:
        .space  COUNT * 4

        .section .rodata
before_label:   .asciz  "before:    "
bubble_label:   .asciz  "bubble:    "
quick_label:    .asciz  "quicksort: "
sorted_yes:     .asciz  "sorted: yes\n"
sorted_no:      .asciz  "sorted: no\n"

        .text
        .globl  _start
_start:
        la      a0, before_label
        la      a1, values
        call    print_array

        # copy = values
        la      t0, values
        la      t1, copy
        li      t2, COUNT
1:      lw      t3, 0(t0)
        sw      t3, 0(t1)
        addi    t0, t0, 4
        addi    t1, t1, 4
        addi    t2, t2, -1
        bnez    t2, 1b

        la      a0, copy
        li      a1, COUNT
        call    bubble_sort
        la      a0, bubble_label
        la      a1, copy
        call    print_array

        la      a0, values
        la      a1, values + (COUNT - 1) * 4
        call    quicksort
        la      a0, quick_label
        la      a1, values
        call    print_array

        # The two sorts agree and every element is <= its successor.
        la      t0, values
        la      t1, copy
        li      t2, COUNT - 1
2:      lw      t3, 0(t0)
        lw      t4, 0(t1)
        bne     t3, t4, 3f
        lw      t4, 4(t0)
        bgt     t3, t4, 3f
        addi    t0, t0, 4
        addi    t1, t1, 4
        addi    t2, t2, -1
        bnez    t2, 2b
        la      a0, sorted_yes
        call    print_str
        li      a0, 0
        call    exit
3:      la      a0, sorted_no
        call    print_str
        li      a0, 1
        call    exit

# print_array(a0 = label, a1 = array of COUNT words): "<label>v0 v1 ...\n".
print_array:
        addi    sp, sp, -16
        sw      ra, 12(sp)
        sw      s0, 8(sp)
        sw      s1, 4(sp)
        mv      s0, a1
        li      s1, COUNT
        call    print_str
        j       2f
1:      li      a0, ' '
        call    print_char
2:      lw      a0, 0(s0)
        call    print_int
        addi    s0, s0, 4
        addi    s1, s1, -1
        bnez    s1, 1b
        call    print_newline
        lw      s1, 4(sp)
        lw      s0, 8(sp)
        lw      ra, 12(sp)
        addi    sp, sp, 16
        ret

# bubble_sort(a0 = array, a1 = count): ascending, in place; stops early once a pass
# makes no swap.
bubble_sort:
        addi    a1, a1, -1          # comparisons in the next pass
1:      blez    a1, 4f
        mv      t0, a0
        mv      t1, a1
        li      t4, 0               # swapped in this pass?
2:      lw      t2, 0(t0)
        lw      t3, 4(t0)
        ble     t2, t3, 3f
        sw      t3, 0(t0)
        sw      t2, 4(t0)
        li      t4, 1
3:      addi    t0, t0, 4
        addi    t1, t1, -1
        bnez    t1, 2b
        addi    a1, a1, -1
        bnez    t4, 1b
4:      ret

# quicksort(a0 = first element, a1 = last element): ascending, in place.
quicksort:
        bgeu    a0, a1, 3f          # zero or one element
        addi    sp, sp, -16
        sw      ra, 12(sp)
        sw      s0, 8(sp)
        sw      s1, 4(sp)
        sw      s2, 0(sp)
        mv      s0, a0
        mv      s1, a1
        # Lomuto partition around the last element: s2 = where the pivot ends up.
        lw      t0, 0(s1)           # pivot
        mv      s2, s0
        mv      t1, s0
1:      lw      t2, 0(t1)
        bge     t2, t0, 2f
        lw      t3, 0(s2)
        sw      t2, 0(s2)
        sw      t3, 0(t1)
        addi    s2, s2, 4
2:      addi    t1, t1, 4
        bltu    t1, s1, 1b
        lw      t3, 0(s2)
        sw      t0, 0(s2)
        sw      t3, 0(s1)
        mv      a0, s0
        addi    a1, s2, -4
        call    quicksort
        addi    a0, s2, 4
        mv      a1, s1
        call    quicksort
        lw      s2, 0(sp)
        lw      s1, 4(sp)
        lw      s0, 8(sp)
        lw      ra, 12(sp)
        addi    sp, sp, 16
3:      ret

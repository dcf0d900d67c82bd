# dma_reservation: a device's DMA write ends an LR reservation, like another hart's
# store. Twice, the guest takes a reservation with lr.w, has the block device read
# sector 0 into `buffer` by DMA (polling STATUS), and tries sc.w on the reserved word:
# first on a word of `other` (the DMA did not touch it: sc.w succeeds, 0), then on a
# word of `buffer` (the DMA wrote it: sc.w fails, 1). The two results go to
# `sc_results`; exit 0 (2: a read failed). Driven by tests/test_guest_devices.py.

        .equ    BLK, 0xf0001000
        .equ    BLK_SECTOR, 0x08
        .equ    BLK_COUNT, 0x0c
        .equ    BLK_BUFFER, 0x10
        .equ    BLK_COMMAND, 0x14
        .equ    BLK_STATUS, 0x18
        .equ    BLK_ISR, 0x1c
        .equ    CMD_READ, 1
        .equ    STATUS_BUSY, 1
        .equ    STATUS_OK, 2
        .equ    SYS_EXIT, 93

        .data
        .globl  sc_results
sc_results:     .word   -1, -1

        .bss
        .balign 512
        .globl  buffer, other
buffer: .space  512
other:  .space  64

        .text
        .globl  _start
_start:
        li      s0, BLK
        la      s1, sc_results
        la      a1, other + 8           # round 1: reserve a word the DMA does not write
        call    round
        sw      a0, 0(s1)
        la      a1, buffer + 8          # round 2: reserve a word the DMA writes
        call    round
        sw      a0, 4(s1)
        li      a0, 0
        j       finish
failed: li      a0, 2
finish: li      a7, SYS_EXIT
        ecall

# round(a1 = word to reserve): lr.w it, DMA sector 0 into `buffer`, sc.w it; a0 = the
# sc.w result (0 stored, 1 failed).
round:  lr.w    t2, (a1)
        sw      zero, BLK_SECTOR(s0)
        li      t0, 1
        sw      t0, BLK_COUNT(s0)
        la      t0, buffer
        sw      t0, BLK_BUFFER(s0)
        li      t0, CMD_READ
        sw      t0, BLK_COMMAND(s0)
        li      t1, STATUS_BUSY
1:      lw      t0, BLK_STATUS(s0)
        beq     t0, t1, 1b
        li      t1, STATUS_OK
        bne     t0, t1, failed
        li      t1, 1
        sw      t1, BLK_ISR(s0)
        sc.w    a0, t2, (a1)
        ret

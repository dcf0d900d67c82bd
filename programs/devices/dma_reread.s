# dma_reread: DMA into a buffer the caches hold. The guest sums the words of `buffer`
# (so its lines are cached), stops at the `cached` ebreak (a checkpoint for the host),
# has the block device read sector `sector` into that buffer, polls STATUS, stops at
# the `dma_done` ebreak, then copies the buffer word by word into `copy` (these loads
# must see what the device wrote, not stale cached lines) and exits 0 (2: the read
# failed). `sum_before` is the first sum. The host resumes each ebreak at the next
# instruction. Driven by tests/test_guest_devices.py (DMA coherence).

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
        .equ    SECTOR_SIZE, 512
        .equ    SYS_EXIT, 93

        .data
        .globl  sector, sum_before
sector:         .word   2
sum_before:     .word   0

        .bss
        .balign 512
        .globl  buffer, copy
buffer: .space  SECTOR_SIZE
copy:   .space  SECTOR_SIZE

        .text
        .globl  _start
_start:
        la      t0, buffer              # sum the buffer: its lines come into the caches
        addi    t1, t0, SECTOR_SIZE
        li      t2, 0
1:      lw      t3, 0(t0)
        add     t2, t2, t3
        addi    t0, t0, 4
        bltu    t0, t1, 1b
        la      t0, sum_before
        sw      t2, 0(t0)
        .globl  cached
cached: ebreak                          # checkpoint: the buffer is cached
        li      s0, BLK                 # DMA: sector -> buffer
        la      t0, sector
        lw      t0, 0(t0)
        sw      t0, BLK_SECTOR(s0)
        li      t0, 1
        sw      t0, BLK_COUNT(s0)
        la      t0, buffer
        sw      t0, BLK_BUFFER(s0)
        li      t0, CMD_READ
        sw      t0, BLK_COMMAND(s0)
        li      t1, STATUS_BUSY
2:      lw      a0, BLK_STATUS(s0)
        beq     a0, t1, 2b
        li      t0, 1
        sw      t0, BLK_ISR(s0)
        li      t1, STATUS_OK
        bne     a0, t1, failed
        .globl  dma_done
dma_done:
        ebreak                          # checkpoint: the device has written the buffer
        la      t0, buffer              # copy the buffer with word loads
        la      t1, copy
        addi    t2, t0, SECTOR_SIZE
3:      lw      t3, 0(t0)
        sw      t3, 0(t1)
        addi    t0, t0, 4
        addi    t1, t1, 4
        bltu    t0, t2, 3b
        li      a0, 0
        j       finish
failed: li      a0, 2
finish: li      a7, SYS_EXIT
        ecall

# blockdev: sector I/O by DMA. The guest checks the block device's ID, reads sector
# `read_sector` into `buffer`, writes its bytes reversed and inverted (out[i] =
# ~buffer[511 - i]) to sector `write_sector`, stops at `ebreak` (a checkpoint for the
# host: the data is in the device's write-back buffer, not yet in the image file),
# then sends FLUSH and exits 0 (1: a wrong ID; 2: a request failed; on a machine without
# a block device, reading the ID is an access fault). Each request is waited for by
# polling STATUS, or with `use_irq` by spinning until the kernel's external-interrupt
# handler (Python: claim, clear ISR, complete) sets `irq_done`.
# `read_cycles` is the read's time from COMMAND to seeing it done; `statuses` the
# three requests' STATUS. Driven by tests/test_guest_devices.py.

        .equ    BLK, 0xf0001000         # the block device's registers
        .equ    BLK_ID, 0x00
        .equ    BLK_SECTOR, 0x08
        .equ    BLK_COUNT, 0x0c
        .equ    BLK_BUFFER, 0x10
        .equ    BLK_COMMAND, 0x14
        .equ    BLK_STATUS, 0x18
        .equ    BLK_ISR, 0x1c           # bit 0: a request completed; write 1 to clear
        .equ    BLK_MAGIC, 0x4b4c4245   # "EBLK"
        .equ    CMD_READ, 1
        .equ    CMD_WRITE, 2
        .equ    CMD_FLUSH, 3
        .equ    STATUS_BUSY, 1
        .equ    STATUS_OK, 2
        .equ    BLK_IRQ, 2              # its PLIC source
        .equ    PLIC, 0xfc000000
        .equ    PLIC_ENABLE0, PLIC + 0x2000
        .equ    SECTOR_SIZE, 512
        .equ    SYS_EXIT, 93

        .data
        .globl  read_sector, write_sector, use_irq, irq_done, read_cycles, statuses
read_sector:    .word   3
write_sector:   .word   5
use_irq:        .word   0       # 0: poll STATUS; 1: wait for the interrupt handler
irq_done:       .word   0       # set by the handler, cleared by `wait`
read_cycles:    .word   0
statuses:       .word   0, 0, 0 # STATUS after the read, the write and the flush

        .bss
        .balign 512
        .globl  buffer, out
buffer: .space  SECTOR_SIZE
out:    .space  SECTOR_SIZE

        .text
        .globl  _start
_start:
        li      s0, BLK
        .globl  read_id
read_id:
        lw      t0, BLK_ID(s0)
        li      t1, BLK_MAGIC
        li      a0, 1
        bne     t0, t1, finish
        la      s1, statuses
        la      t0, use_irq
        lw      t0, 0(t0)
        beqz    t0, 1f
        li      t1, PLIC + 4 * BLK_IRQ  # route source 2 to hart 0: priority 1, enabled
        li      t0, 1
        sw      t0, 0(t1)
        li      t1, PLIC_ENABLE0
        li      t0, 1 << BLK_IRQ
        sw      t0, 0(t1)
1:      la      t0, read_sector         # read: sector -> buffer
        lw      t0, 0(t0)
        sw      t0, BLK_SECTOR(s0)
        li      t0, 1
        sw      t0, BLK_COUNT(s0)
        la      t0, buffer
        sw      t0, BLK_BUFFER(s0)
        li      t0, CMD_READ
        rdcycle s2
        sw      t0, BLK_COMMAND(s0)     # starts the request (at cycle s2 + 1)
        call    wait
        rdcycle t0
        sub     t0, t0, s2
        la      t1, read_cycles
        sw      t0, 0(t1)
        sw      a0, 0(s1)
        li      t1, STATUS_OK
        bne     a0, t1, failed
        la      t0, buffer              # out[i] = ~buffer[511 - i]
        la      t1, out
        addi    t2, t0, SECTOR_SIZE
2:      addi    t2, t2, -1
        lbu     t3, 0(t2)
        not     t3, t3
        sb      t3, 0(t1)
        addi    t1, t1, 1
        bne     t2, t0, 2b
        la      t0, write_sector        # write: out -> sector (COUNT is still 1)
        lw      t0, 0(t0)
        sw      t0, BLK_SECTOR(s0)
        la      t0, out
        sw      t0, BLK_BUFFER(s0)
        li      t0, CMD_WRITE
        sw      t0, BLK_COMMAND(s0)
        call    wait
        sw      a0, 4(s1)
        li      t1, STATUS_OK
        bne     a0, t1, failed
        .globl  written
written:
        ebreak                          # checkpoint: the host resumes at the next instruction
        li      t0, CMD_FLUSH           # flush: the write-back buffer -> the image file
        sw      t0, BLK_COMMAND(s0)
        call    wait
        sw      a0, 8(s1)
        li      t1, STATUS_OK
        bne     a0, t1, failed
        li      a0, 0
        j       finish
failed: li      a0, 2
finish: li      a7, SYS_EXIT
        ecall

# wait: wait for the request in progress to complete; a0 = its STATUS.
wait:   la      t0, use_irq
        lw      t0, 0(t0)
        beqz    t0, 2f
        la      t1, irq_done
1:      lw      t0, 0(t1)               # the handler has cleared ISR and completed
        beqz    t0, 1b
        sw      zero, 0(t1)
        lw      a0, BLK_STATUS(s0)
        ret
2:      lw      a0, BLK_STATUS(s0)      # poll
        li      t0, STATUS_BUSY
        beq     a0, t0, 2b
        li      t0, 1
        sw      t0, BLK_ISR(s0)         # acknowledge: the interrupt line goes low
        ret

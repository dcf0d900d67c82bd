# uart_irq: receive a byte by interrupt. The guest enables the UART's receive
# interrupt (IER.ERBFI) and, unless the host does it (`plic_by_host`), routes PLIC
# source 1 (the UART) to hart 0 with priority 1 and threshold 0. Then it spins on
# `mailbox` until the kernel's external-interrupt handler (Python: claim at the PLIC,
# read RBR, complete) stores 0x100 | byte there, prints "got <byte>\n" on the UART,
# and exits 0. The host enables MEIP (machine.enable_interrupts(0, MIP_MEIP)).
# Driven by tests/test_guest_devices.py.

        .equ    UART, 0xf0000000
        .equ    UART_THR, 0
        .equ    UART_IER, 1
        .equ    IER_ERBFI, 0x01         # interrupt while a received byte waits
        .equ    UART_IRQ, 1             # the UART's PLIC source
        .equ    PLIC, 0xfc000000
        .equ    PLIC_PRIORITY, PLIC     # + 4 * source
        .equ    PLIC_ENABLE0, PLIC + 0x2000     # hart 0's enable bits
        .equ    PLIC_THRESHOLD0, PLIC + 0x200000
        .equ    SYS_EXIT, 93

        .data
        .globl  plic_by_host, mailbox
plic_by_host:   .word   0       # non-zero: the host programs the PLIC itself
mailbox:        .word   0       # 0: nothing yet; 0x100 | byte: the handler's delivery
message:        .ascii  "got "

        .text
        .globl  _start
_start:
        li      s0, UART
        li      t0, IER_ERBFI
        sb      t0, UART_IER(s0)
        la      t0, plic_by_host
        lw      t0, 0(t0)
        bnez    t0, ready
        li      t1, PLIC_PRIORITY + 4 * UART_IRQ
        li      t0, 1
        sw      t0, 0(t1)               # priority[1] = 1
        li      t1, PLIC_ENABLE0
        li      t0, 1 << UART_IRQ
        sw      t0, 0(t1)               # hart 0 takes source 1
        li      t1, PLIC_THRESHOLD0
        sw      zero, 0(t1)             # threshold 0: every priority above it
        .globl  ready
ready:
        la      s1, mailbox
        .globl  spin
spin:                                   # the interrupt arrives somewhere in here
        lw      t0, 0(s1)
        beqz    t0, spin
        la      t1, message             # print "got ", the byte, a newline
        li      t2, 4
1:      lbu     t3, 0(t1)
        sb      t3, UART_THR(s0)
        addi    t1, t1, 1
        addi    t2, t2, -1
        bnez    t2, 1b
        sb      t0, UART_THR(s0)        # the low byte of 0x100 | byte
        li      t3, '\n'
        sb      t3, UART_THR(s0)
        li      a0, 0
        li      a7, SYS_EXIT
        ecall

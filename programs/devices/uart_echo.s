# uart_echo: a polled UART driver. Wait for received bytes (LSR.DR), upper-case
# ASCII letters, send each back through THR (after LSR.THRE says there is room),
# until a newline has been echoed; exit with the number of bytes echoed.
# The host feeds the receiver (machine.devices.uart.write_rx) and reads the output
# on the machine's stdout. Driven by tests/test_guest_devices.py.

        .equ    UART, 0xf0000000    # the UART's registers (isa/README.md, "Devices")
        .equ    UART_RBR, 0         # read: the next received byte
        .equ    UART_THR, 0         # write: a byte to send
        .equ    UART_LSR, 5         # line status
        .equ    LSR_DR, 0x01        #   a received byte waits
        .equ    LSR_THRE, 0x20      #   room to send
        .equ    SYS_EXIT, 93

        .text
        .globl  _start
_start:
        li      s0, UART
        li      s1, 0               # bytes echoed
        .globl  wait_rx
wait_rx:                            # poll until a byte has arrived
        lbu     t0, UART_LSR(s0)
        andi    t0, t0, LSR_DR
        beqz    t0, wait_rx
        lbu     a0, UART_RBR(s0)    # reading RBR takes the byte
        li      t1, 'a'
        li      t2, 'z'
        bltu    a0, t1, wait_tx
        bgtu    a0, t2, wait_tx
        addi    a0, a0, 'A' - 'a'
wait_tx:                            # poll until THR has room
        lbu     t0, UART_LSR(s0)
        andi    t0, t0, LSR_THRE
        beqz    t0, wait_tx
        sb      a0, UART_THR(s0)
        addi    s1, s1, 1
        li      t1, '\n'
        bne     a0, t1, wait_rx
        mv      a0, s1
        li      a7, SYS_EXIT
        ecall

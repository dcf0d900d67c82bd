# nic: send and receive one frame through the NIC's descriptor rings. `role` bit 1:
# set up a two-descriptor receive ring and give descriptor 0 (a 256-byte buffer) to
# the NIC; bit 0: put `frame` in descriptor 0 of a two-descriptor transmit ring, note
# the cycle (`sent_at`), ring the doorbell and wait until the NIC hands the descriptor
# back; bit 1 again: wait until the NIC fills the receive descriptor (RX_HEAD moves),
# note the cycle (`received_at`) and print the frame on the UART. Exit 0 (3: the
# receive descriptor came back in error). A loopback NIC (role 3) receives its own
# frame; two machines joined by a Link run role 1 and role 2. With `use_irq` the
# receiver enables the NIC's RX interrupt (IER, PLIC source 3) and, instead of polling
# RX_HEAD, spins until the kernel's external-interrupt handler (Python: claim, clear
# ISR, complete) sets `irq_done`.
# Descriptor: +0 buffer address, +4 length (u16), +6 flags (u16, bit 0 OWN, bit 1 ERR).
# Driven by tests/test_guest_devices.py.

        .equ    UART, 0xf0000000
        .equ    NIC, 0xf0002000         # the NIC's registers
        .equ    NIC_TX_BASE, 0x00
        .equ    NIC_TX_SIZE, 0x04
        .equ    NIC_TX_HEAD, 0x08
        .equ    NIC_TX_TAIL, 0x0c
        .equ    NIC_RX_BASE, 0x10
        .equ    NIC_RX_SIZE, 0x14
        .equ    NIC_RX_HEAD, 0x18
        .equ    NIC_RX_TAIL, 0x1c
        .equ    NIC_DOORBELL, 0x20
        .equ    DESC_OWN, 1
        .equ    DESC_ERR, 2
        .equ    NIC_ISR, 0x24
        .equ    NIC_IER, 0x28
        .equ    INT_RX, 1               # ISR/IER: a receive descriptor completed
        .equ    NIC_IRQ, 3              # the NIC's PLIC source
        .equ    PLIC, 0xfc000000
        .equ    PLIC_ENABLE0, PLIC + 0x2000
        .equ    RX_BUFFER_SIZE, 256
        .equ    SYS_EXIT, 93

        .data
        .globl  role, use_irq, irq_done, sent_at, received_at, frame
role:           .word   3       # bit 0: send; bit 1: receive
use_irq:        .word   0       # 1: wait for the receive interrupt, not by polling
irq_done:       .word   0       # set by the interrupt handler
sent_at:        .word   0       # rdcycle just before the doorbell
received_at:    .word   0       # rdcycle when RX_HEAD had moved
frame:          .ascii  "a frame over the link\n"
        .equ    FRAME_LENGTH, . - frame

        .bss
        .balign 8
tx_ring:        .space  2 * 8
rx_ring:        .space  2 * 8
rx_buffer:      .space  RX_BUFFER_SIZE

        .text
        .globl  _start
_start:
        li      s0, NIC
        la      t0, role
        lw      s1, 0(t0)
        andi    t0, s1, 2
        beqz    t0, send
        la      t0, rx_ring             # receive ring: 2 descriptors, HEAD = TAIL = 0
        sw      t0, NIC_RX_BASE(s0)
        li      t1, 2
        sw      t1, NIC_RX_SIZE(s0)
        la      t1, rx_buffer           # descriptor 0: the buffer, its capacity, OWN
        sw      t1, 0(t0)
        li      t1, RX_BUFFER_SIZE
        sh      t1, 4(t0)
        li      t1, DESC_OWN
        sh      t1, 6(t0)
        li      t1, 1
        sw      t1, NIC_RX_TAIL(s0)     # hand it to the NIC
        la      t0, use_irq
        lw      t0, 0(t0)
        beqz    t0, send
        li      t1, INT_RX              # interrupt when a frame has been received
        sw      t1, NIC_IER(s0)
        li      t1, PLIC + 4 * NIC_IRQ  # route source 3 to hart 0: priority 1, enabled
        li      t0, 1
        sw      t0, 0(t1)
        li      t1, PLIC_ENABLE0
        li      t0, 1 << NIC_IRQ
        sw      t0, 0(t1)
send:   andi    t0, s1, 1
        beqz    t0, receive
        la      t0, tx_ring             # transmit ring: 2 descriptors
        sw      t0, NIC_TX_BASE(s0)
        li      t1, 2
        sw      t1, NIC_TX_SIZE(s0)
        la      t1, frame               # descriptor 0: the frame, its length, OWN
        sw      t1, 0(t0)
        li      t1, FRAME_LENGTH
        sh      t1, 4(t0)
        li      t1, DESC_OWN
        sh      t1, 6(t0)
        li      t1, 1
        sw      t1, NIC_TX_TAIL(s0)
        rdcycle t2
        la      t3, sent_at
        sw      t2, 0(t3)
        sw      t1, NIC_DOORBELL(s0)    # start sending
1:      lw      t1, NIC_TX_HEAD(s0)     # wait until the NIC is done with it
        beqz    t1, 1b
receive:
        andi    t0, s1, 2
        beqz    t0, done
        la      t0, use_irq
        lw      t0, 0(t0)
        beqz    t0, 1f
        la      t1, irq_done
3:      lw      t0, 0(t1)               # wait for the handler
        beqz    t0, 3b
        j       4f
1:      lw      t1, NIC_RX_HEAD(s0)     # poll: wait for a frame
        beqz    t1, 1b
4:      rdcycle t2
        la      t3, received_at
        sw      t2, 0(t3)
        la      t0, rx_ring
        lhu     t1, 6(t0)               # flags: OWN is clear; ERR?
        li      a0, 3
        andi    t1, t1, DESC_ERR
        bnez    t1, finish
        lhu     t2, 4(t0)               # the frame's length
        la      t1, rx_buffer
        li      t3, UART
2:      beqz    t2, done                # print it on the UART
        lbu     t4, 0(t1)
        sb      t4, 0(t3)
        addi    t1, t1, 1
        addi    t2, t2, -1
        j       2b
done:   li      a0, 0
finish: li      a7, SYS_EXIT
        ecall

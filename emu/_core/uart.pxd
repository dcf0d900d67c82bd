"""The UART: a 16550-style subset with byte-wide registers (register map in isa/README.md,
"Devices").

Transmission is instantaneous: a byte written to THR lands in `tx`, a buffer the
Python side drains (UartModel.read_tx), so THR is always empty unless that buffer is
full. Reception reads from `rx`, a ring the Python side fills (UartModel.write_rx);
LSR.DR says a byte is waiting. When the host says it has more input than it queued
(`rx_host_more`, e.g. a terminal it only reads on demand), a guest that reads LSR or
RBR with nothing waiting marks the UART `rx_starved`: the core returns to Python
(bus_wants_host), which queues more and goes on. There is no baud rate: the divisor latch (DLL/DLM,
behind LCR.DLAB) is stored for drivers that program it and has no effect.

Interrupt line (to the PLIC): IER.ERBFI and a byte waiting, or IER.ETBEI and the
THR-empty condition pending (16550 rule: set when ETBEI is enabled or a byte is
written while THR is empty, cleared by reading IIR when it reports it).
"""

from libc.stdint cimport uint8_t, uint32_t, uint64_t

cpdef enum:
    UART_SIZE = 8           # bytes of register space
    UART_WIDTHS = 1 << 1    # allowed access widths (bit w: w bytes): byte only

    # register offsets
    UART_RBR_THR = 0        # read: receive buffer; write: transmit holding (DLL with DLAB)
    UART_IER = 1            # interrupt enable (DLM with DLAB)
    UART_IIR_FCR = 2        # read: interrupt identification; write: FIFO control
    UART_LCR = 3            # line control; bit 7 is DLAB
    UART_MCR = 4            # modem control (stored, no effect)
    UART_LSR = 5            # line status (read only)
    UART_MSR = 6            # modem status (read only)
    UART_SCR = 7            # scratch

    UART_IER_ERBFI = 0x01   # interrupt when received data is available
    UART_IER_ETBEI = 0x02   # interrupt when the transmit holding register is empty
    UART_IIR_NONE = 0x01    # IIR: no interrupt pending
    UART_IIR_THRE = 0x02    # IIR: THR empty
    UART_IIR_RDA = 0x04     # IIR: received data available (the higher priority)
    UART_IIR_FIFOS = 0xC0   # IIR bits 7:6: FIFOs enabled (always)
    UART_FCR_CLEAR_RX = 0x02  # FCR: discard received bytes not yet read
    UART_LCR_DLAB = 0x80    # LCR: offsets 0 and 1 are the divisor latch
    UART_LSR_DR = 0x01      # LSR: a received byte is waiting
    UART_LSR_THRE = 0x20    # LSR: THR empty (room in the transmit buffer)
    UART_LSR_TEMT = 0x40    # LSR: transmitter empty (same as THRE: sending is instant)
    UART_MSR_READY = 0xB0   # MSR: DCD, DSR and CTS asserted (the line is always ready)


cdef struct Uart:
    uint8_t* rx             # ring of received bytes not yet read by the guest
    uint32_t rx_capacity
    uint32_t rx_head        # ring index of the oldest byte
    uint32_t rx_count       # bytes waiting
    uint8_t* tx             # transmitted bytes not yet drained by the host, oldest first
    uint32_t tx_capacity
    uint32_t tx_count
    uint8_t ier             # registers (low 4 bits of IER are stored)
    uint8_t lcr
    uint8_t mcr
    uint8_t scr
    uint8_t dll             # divisor latch, stored only
    uint8_t dlm
    uint8_t thre_pending    # the THR-empty interrupt condition (see the module docstring)
    uint8_t rx_host_more    # the host has input it has not queued yet (set by Python)
    uint8_t rx_starved      # the guest looked for input while none was queued and the
                            # host had more: it waits for the host (cleared by write_rx)
    uint64_t tx_bytes       # bytes the guest transmitted
    uint64_t tx_dropped     # bytes written to THR while the transmit buffer was full
    uint64_t rx_bytes       # bytes the guest read from RBR


cdef class UartModel:
    cdef Uart dev


cdef int uart_init(Uart* u, uint32_t rx_capacity, uint32_t tx_capacity) except -1
cdef void uart_free(Uart* u) noexcept nogil
cdef bint uart_load(Uart* u, uint32_t offset, uint32_t* value) noexcept nogil
cdef bint uart_store(Uart* u, uint32_t offset, uint32_t value) noexcept nogil
cdef bint uart_irq(Uart* u) noexcept nogil

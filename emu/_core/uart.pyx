"""The UART's register behaviour (uart.pxd) and UartModel, its Python face: the host
side fills the receive ring and drains the transmit buffer; the guest side reaches
the registers only through a bus (bus.pyx)."""

from libc.stdlib cimport calloc, free
from libc.string cimport memset


cdef int uart_init(Uart* u, uint32_t rx_capacity, uint32_t tx_capacity) except -1:
    if rx_capacity == 0 or tx_capacity == 0:
        raise ValueError("the UART's buffers need at least one byte each")
    memset(u, 0, sizeof(Uart))
    u.rx = <uint8_t*>calloc(rx_capacity, 1)
    u.tx = <uint8_t*>calloc(tx_capacity, 1)
    if u.rx == NULL or u.tx == NULL:
        uart_free(u)
        raise MemoryError()
    u.rx_capacity = rx_capacity
    u.tx_capacity = tx_capacity
    return 0


cdef void uart_free(Uart* u) noexcept nogil:
    free(u.rx)
    free(u.tx)
    u.rx = NULL
    u.tx = NULL


cdef inline bint _thr_empty(Uart* u) noexcept nogil:
    return u.tx_count < u.tx_capacity


cdef bint uart_load(Uart* u, uint32_t offset, uint32_t* value) noexcept nogil:
    cdef uint8_t v = 0
    if offset == UART_RBR_THR:
        if u.lcr & UART_LCR_DLAB:
            v = u.dll
        elif u.rx_count:
            v = u.rx[u.rx_head]
            u.rx_head = (u.rx_head + 1) % u.rx_capacity
            u.rx_count -= 1
            u.rx_bytes += 1
        elif u.rx_host_more:
            u.rx_starved = 1
    elif offset == UART_IER:
        v = u.dlm if u.lcr & UART_LCR_DLAB else u.ier
    elif offset == UART_IIR_FCR:
        if u.ier & UART_IER_ERBFI and u.rx_count:
            v = UART_IIR_FIFOS | UART_IIR_RDA
        elif u.ier & UART_IER_ETBEI and u.thre_pending:
            v = UART_IIR_FIFOS | UART_IIR_THRE
            u.thre_pending = 0      # reading IIR acknowledges the THR-empty interrupt
        else:
            v = UART_IIR_FIFOS | UART_IIR_NONE
    elif offset == UART_LCR:
        v = u.lcr
    elif offset == UART_MCR:
        v = u.mcr
    elif offset == UART_LSR:
        if u.rx_count:
            v |= UART_LSR_DR
        elif u.rx_host_more:
            u.rx_starved = 1
        if _thr_empty(u):
            v |= UART_LSR_THRE | UART_LSR_TEMT
    elif offset == UART_MSR:
        v = UART_MSR_READY
    elif offset == UART_SCR:
        v = u.scr
    else:
        return False
    value[0] = v
    return True


cdef bint uart_store(Uart* u, uint32_t offset, uint32_t value) noexcept nogil:
    cdef uint8_t v = <uint8_t>value
    if offset == UART_RBR_THR:
        if u.lcr & UART_LCR_DLAB:
            u.dll = v
        elif _thr_empty(u):
            u.tx[u.tx_count] = v
            u.tx_count += 1
            u.tx_bytes += 1
            u.thre_pending = _thr_empty(u)  # sent at once: THR is empty again
        else:
            u.tx_dropped += 1
    elif offset == UART_IER:
        if u.lcr & UART_LCR_DLAB:
            u.dlm = v
        else:
            if v & UART_IER_ETBEI and not u.ier & UART_IER_ETBEI:
                u.thre_pending = _thr_empty(u)
            u.ier = v & 0x0F
    elif offset == UART_IIR_FCR:
        if v & UART_FCR_CLEAR_RX:
            u.rx_count = 0
    elif offset == UART_LCR:
        u.lcr = v
    elif offset == UART_MCR:
        u.mcr = v
    elif offset == UART_SCR:
        u.scr = v
    elif offset != UART_LSR and offset != UART_MSR:   # the status registers ignore writes
        return False
    return True


cdef bint uart_irq(Uart* u) noexcept nogil:
    return ((u.ier & UART_IER_ERBFI and u.rx_count != 0)
            or (u.ier & UART_IER_ETBEI and u.thre_pending))


cdef class UartModel:
    """A UART in C. `write_rx` queues bytes for the guest to receive; `read_tx` takes
    what the guest has transmitted. Attach it to a bus (bus.BusModel) to give the guest
    its registers."""

    def __cinit__(self, uint32_t rx_capacity=4096, uint32_t tx_capacity=65536):
        uart_init(&self.dev, rx_capacity, tx_capacity)

    def __dealloc__(self):
        uart_free(&self.dev)

    def write_rx(self, const uint8_t[:] data):
        """Queue bytes for the guest to read; returns how many fit in the receive ring."""
        cdef Uart* u = &self.dev
        cdef Py_ssize_t i
        cdef uint32_t n = min(<uint64_t>data.shape[0], u.rx_capacity - u.rx_count)
        for i in range(n):
            u.rx[(u.rx_head + u.rx_count) % u.rx_capacity] = data[i]
            u.rx_count += 1
        u.rx_starved = 0
        return n

    @property
    def rx_room(self):
        """Bytes write_rx would take now."""
        return self.dev.rx_capacity - self.dev.rx_count

    @property
    def host_has_more(self):
        """Whether the host has input it has not queued: then a guest looking for input
        with none queued sends its core back to the host (`starved`)."""
        return bool(self.dev.rx_host_more)

    @host_has_more.setter
    def host_has_more(self, bint more):
        self.dev.rx_host_more = more
        if not more:
            self.dev.rx_starved = 0

    @property
    def starved(self):
        """The guest looked for input, none was queued, and the host has more."""
        return bool(self.dev.rx_starved)

    def read_tx(self):
        """The bytes the guest has transmitted since the last call."""
        data = (<char*>self.dev.tx)[:self.dev.tx_count]
        self.dev.tx_count = 0
        return data

    @property
    def rx_waiting(self):
        """Received bytes the guest has not read yet."""
        return self.dev.rx_count

    @property
    def irq(self):
        """The interrupt line's level."""
        return bool(uart_irq(&self.dev))

    def stats(self):
        return {"tx_bytes": self.dev.tx_bytes, "tx_dropped": self.dev.tx_dropped,
                "rx_bytes": self.dev.rx_bytes}

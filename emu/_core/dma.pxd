"""What a DMA device may do to guest RAM, and the log of what it wrote.

The bus owns one DmaPort and lends it to its devices on every call that can move data
(bus.pyx); devices never hold it. `dma_ram` is the only way a device reaches RAM: it
checks that the whole range lies inside RAM, so a bad guest-programmed address can
never make a device read or write outside the buffer (the device reports an error
status instead).

DMA coherence: caches hold tags and states, the data lives in the one flat RAM, so a
device read always sees the newest data (dirty lines included). A device write must
invalidate cached copies; rather than calling into the cache model, every DMA write
is recorded here with `dma_note_write`, and the cache model consumes the log: it reads
log_addr/log_len[0:log_count] (oldest first), invalidates those lines (everything when
log_overflow is set), then sets log_count and log_overflow to 0. Until a cache model
consumes it, the log simply fills up and sets log_overflow. A DMA write is also a store
by no hart, so the consumer should break the harts' LR reservations in those ranges.

`transfer_cycles` is the bandwidth model the devices and the link share.
"""

from libc.stdint cimport uint8_t, uint32_t, uint64_t

from emu._core.memory cimport PhysMem

cdef enum:
    DMA_LOG_ENTRIES = 64    # DMA writes remembered before the log overflows


cdef struct DmaPort:
    PhysMem ram                         # guest RAM: data, base, size (the decode cache is not used)
    uint32_t log_addr[DMA_LOG_ENTRIES]  # guest physical start of each DMA write, oldest first
    uint32_t log_len[DMA_LOG_ENTRIES]   # its length in bytes
    uint32_t log_count                  # entries in use
    uint8_t log_overflow                # writes were lost from the log: treat all of RAM as written
    uint64_t bytes_read                 # RAM bytes devices read, for statistics
    uint64_t bytes_written              # RAM bytes devices wrote


cdef inline uint8_t* dma_ram(DmaPort* port, uint32_t addr, uint32_t length) noexcept nogil:
    """The host pointer to guest RAM [addr, addr + length), or NULL unless that whole
    range (length >= 1) lies inside RAM."""
    cdef uint32_t off = addr - port.ram.base
    if length == 0 or length > port.ram.size or off > port.ram.size - length:
        return NULL
    return port.ram.data + off


cdef inline void dma_note_write(DmaPort* port, uint32_t addr, uint32_t length) noexcept nogil:
    """Record that a device wrote guest RAM [addr, addr + length)."""
    port.bytes_written += length
    if port.log_count == DMA_LOG_ENTRIES:
        port.log_overflow = 1
        return
    port.log_addr[port.log_count] = addr
    port.log_len[port.log_count] = length
    port.log_count += 1


cdef inline uint64_t transfer_cycles(uint64_t nbytes, uint32_t bw_bytes, uint32_t bw_cycles) noexcept nogil:
    """Cycles to move nbytes at bw_bytes per bw_cycles cycles (both >= 1), rounded up.
    (Divides first, so it cannot overflow for any size below 2**64 / bw_cycles.)"""
    cdef uint64_t whole = nbytes // bw_bytes
    cdef uint64_t rest = nbytes % bw_bytes
    return whole * bw_cycles + (rest * bw_cycles + bw_bytes - 1) // bw_bytes

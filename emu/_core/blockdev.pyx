"""The block device's registers, requests and write-back buffer (blockdev.pxd) and
BlockDevModel, its Python face."""

import numpy as np

from libc.stdint cimport UINT32_MAX, UINT64_MAX
from libc.stdlib cimport calloc, free
from libc.string cimport memcpy, memset

from emu._core.dma cimport dma_note_write, dma_ram, transfer_cycles

cdef enum:
    _CHUNK_BYTES = BLK_CHUNK_SECTORS * BLK_SECTOR_SIZE


cdef int blockdev_init(BlockDev* b, uint8_t* image, uint64_t image_size, uint64_t latency,
                       uint32_t bw_bytes, uint32_t bw_cycles) except -1:
    if image_size == 0 or image_size % BLK_SECTOR_SIZE:
        raise ValueError(f"the image must be a positive multiple of {BLK_SECTOR_SIZE} bytes, "
                         f"not {image_size}")
    if image_size // BLK_SECTOR_SIZE > UINT32_MAX:
        raise ValueError("the image must hold fewer than 2**32 sectors")
    if bw_bytes == 0 or bw_cycles == 0:
        raise ValueError("the bandwidth must be positive")
    memset(b, 0, sizeof(BlockDev))
    b.image = image
    b.sectors = <uint32_t>(image_size // BLK_SECTOR_SIZE)
    b.nchunks = (b.sectors + BLK_CHUNK_SECTORS - 1) // BLK_CHUNK_SECTORS
    b.chunks = <uint8_t**>calloc(b.nchunks, sizeof(uint8_t*))
    b.chunk_dirty = <uint8_t*>calloc(b.nchunks, 1)
    if b.chunks == NULL or b.chunk_dirty == NULL:
        blockdev_free(b)
        raise MemoryError()
    b.latency = latency
    b.bw_bytes = bw_bytes
    b.bw_cycles = bw_cycles
    return 0


cdef void blockdev_free(BlockDev* b) noexcept nogil:
    cdef uint32_t i
    if b.chunks != NULL:
        for i in range(b.nchunks):
            free(b.chunks[i])
    free(b.chunks)
    free(b.chunk_dirty)
    b.chunks = NULL
    b.chunk_dirty = NULL


cdef bint blockdev_load(BlockDev* b, uint32_t offset, uint32_t* value) noexcept nogil:
    if offset == BLK_ID:
        value[0] = BLK_MAGIC
    elif offset == BLK_CAPACITY:
        value[0] = b.sectors
    elif offset == BLK_SECTOR:
        value[0] = b.sector
    elif offset == BLK_COUNT:
        value[0] = b.count
    elif offset == BLK_BUFFER:
        value[0] = b.buffer
    elif offset == BLK_COMMAND:
        value[0] = b.command
    elif offset == BLK_STATUS:
        value[0] = b.status
    elif offset == BLK_ISR:
        value[0] = b.isr
    else:
        return False
    return True


cdef void _finish(BlockDev* b, uint32_t status) noexcept nogil:
    b.status = status
    b.isr |= 1
    b.requests += 1


cdef void _start(BlockDev* b, DmaPort* dma, uint32_t command, uint64_t now) noexcept nogil:
    cdef uint64_t nbytes = <uint64_t>b.count * BLK_SECTOR_SIZE
    b.command = command
    if command == BLK_CMD_READ or command == BLK_CMD_WRITE:
        if b.count == 0 or <uint64_t>b.sector + b.count > b.sectors:
            _finish(b, BLK_STATUS_ERR_RANGE)
        elif nbytes > UINT32_MAX or dma_ram(dma, b.buffer, <uint32_t>nbytes) == NULL:
            _finish(b, BLK_STATUS_ERR_DMA)
        else:
            b.status = BLK_STATUS_BUSY
            b.req_sector = b.sector
            b.req_count = b.count
            b.req_buffer = b.buffer
            b.done = now + b.latency + transfer_cycles(nbytes, b.bw_bytes, b.bw_cycles)
    elif command == BLK_CMD_FLUSH:
        b.status = BLK_STATUS_BUSY
        b.done = now + b.latency + transfer_cycles(b.dirty_sectors * BLK_SECTOR_SIZE,
                                                   b.bw_bytes, b.bw_cycles)
    else:
        _finish(b, BLK_STATUS_ERR_COMMAND)


cdef bint blockdev_store(BlockDev* b, DmaPort* dma, uint32_t offset, uint32_t value,
                         uint64_t now) noexcept nogil:
    if offset == BLK_SECTOR:
        b.sector = value
    elif offset == BLK_COUNT:
        b.count = value
    elif offset == BLK_BUFFER:
        b.buffer = value
    elif offset == BLK_COMMAND:
        if b.status == BLK_STATUS_BUSY:
            b.rejected += 1
        else:
            _start(b, dma, value, now)
    elif offset == BLK_ISR:
        b.isr &= ~value
    elif offset != BLK_ID and offset != BLK_CAPACITY and offset != BLK_STATUS:
        return False        # (the read-only registers ignore writes)
    return True


cdef inline const uint8_t* _sector_bytes(BlockDev* b, uint32_t sector) noexcept nogil:
    """The current contents of a sector: its unflushed copy if any, else the image."""
    cdef uint32_t chunk = sector // BLK_CHUNK_SECTORS
    cdef uint32_t bit = sector % BLK_CHUNK_SECTORS
    if b.chunk_dirty[chunk] >> bit & 1:
        return b.chunks[chunk] + bit * BLK_SECTOR_SIZE
    return b.image + <size_t>sector * BLK_SECTOR_SIZE


cdef uint32_t _read(BlockDev* b, DmaPort* dma) noexcept nogil:
    cdef uint32_t nbytes = b.req_count * BLK_SECTOR_SIZE
    cdef uint8_t* ram = dma_ram(dma, b.req_buffer, nbytes)   # checked when the request began
    cdef uint32_t i
    for i in range(b.req_count):
        memcpy(ram + i * BLK_SECTOR_SIZE, _sector_bytes(b, b.req_sector + i), BLK_SECTOR_SIZE)
    dma_note_write(dma, b.req_buffer, nbytes)
    b.bytes_read += nbytes
    return BLK_STATUS_OK


cdef uint32_t _write(BlockDev* b, DmaPort* dma) noexcept nogil:
    cdef uint32_t nbytes = b.req_count * BLK_SECTOR_SIZE
    cdef const uint8_t* ram = dma_ram(dma, b.req_buffer, nbytes)  # checked when the request began
    cdef uint32_t i, sector, chunk, bit
    # allocate every chunk first, so running out of memory writes nothing
    for chunk in range(b.req_sector // BLK_CHUNK_SECTORS,
                       (b.req_sector + b.req_count - 1) // BLK_CHUNK_SECTORS + 1):
        if b.chunks[chunk] == NULL:
            b.chunks[chunk] = <uint8_t*>calloc(_CHUNK_BYTES, 1)
            if b.chunks[chunk] == NULL:
                return BLK_STATUS_ERR_NOMEM
    for i in range(b.req_count):
        sector = b.req_sector + i
        chunk = sector // BLK_CHUNK_SECTORS
        bit = sector % BLK_CHUNK_SECTORS
        memcpy(b.chunks[chunk] + bit * BLK_SECTOR_SIZE, ram + i * BLK_SECTOR_SIZE, BLK_SECTOR_SIZE)
        if not b.chunk_dirty[chunk] >> bit & 1:
            b.chunk_dirty[chunk] |= 1 << bit
            b.dirty_sectors += 1
    dma.bytes_read += nbytes
    b.bytes_written += nbytes
    return BLK_STATUS_OK


cdef uint32_t _flush(BlockDev* b) noexcept nogil:
    cdef uint32_t chunk, bit
    for chunk in range(b.nchunks):
        if b.chunks[chunk] == NULL:
            continue
        for bit in range(<uint32_t>BLK_CHUNK_SECTORS):
            if b.chunk_dirty[chunk] >> bit & 1:
                memcpy(b.image + (<size_t>chunk * BLK_CHUNK_SECTORS + bit) * BLK_SECTOR_SIZE,
                       b.chunks[chunk] + bit * BLK_SECTOR_SIZE, BLK_SECTOR_SIZE)
                b.bytes_flushed += BLK_SECTOR_SIZE
        free(b.chunks[chunk])
        b.chunks[chunk] = NULL
        b.chunk_dirty[chunk] = 0
    b.dirty_sectors = 0
    return BLK_STATUS_OK


cdef uint64_t blockdev_tick(BlockDev* b, DmaPort* dma, uint64_t now) noexcept nogil:
    """Complete the request in progress if its time has come; returns the cycle it will
    complete (UINT64_MAX when idle)."""
    if b.status != BLK_STATUS_BUSY:
        return UINT64_MAX
    if b.done > now:
        return b.done
    if b.command == BLK_CMD_READ:
        _finish(b, _read(b, dma))
    elif b.command == BLK_CMD_WRITE:
        _finish(b, _write(b, dma))
    else:
        _finish(b, _flush(b))
    return UINT64_MAX


cdef bint blockdev_irq(BlockDev* b) noexcept nogil:
    return b.isr != 0


cdef class BlockDevModel:
    """A block device over `image`, a writable C-contiguous uint8 array (normally a
    shared numpy memmap of the image file: the device writes it only on FLUSH). Requests
    take `latency` cycles plus their bytes at `bw_bytes` per `bw_cycles` cycles. Attach
    it to a bus (bus.BusModel) to give the guest its registers and RAM."""

    def __cinit__(self, image, uint64_t latency, uint32_t bw_bytes=1, uint32_t bw_cycles=1):
        if not (isinstance(image, np.ndarray) and image.dtype == np.uint8 and image.ndim == 1
                and image.flags.c_contiguous and image.flags.writeable):
            raise ValueError("image must be a writable, contiguous 1-d uint8 array")
        cdef uint8_t[::1] view = image
        blockdev_init(&self.dev, &view[0] if image.size else NULL, image.size, latency,
                      bw_bytes, bw_cycles)
        self.image = image

    def __dealloc__(self):
        blockdev_free(&self.dev)

    @property
    def sectors(self):
        return self.dev.sectors

    @property
    def dirty_sectors(self):
        """Sectors written by the guest and not yet flushed to the image."""
        return self.dev.dirty_sectors

    @property
    def status(self):
        return self.dev.status

    @property
    def irq(self):
        """The interrupt line's level."""
        return bool(blockdev_irq(&self.dev))

    def request_cycles(self, uint64_t nbytes):
        """Cycles a request moving nbytes takes, latency included."""
        return self.dev.latency + transfer_cycles(nbytes, self.dev.bw_bytes, self.dev.bw_cycles)

    def stats(self):
        return {"requests": self.dev.requests, "bytes_read": self.dev.bytes_read,
                "bytes_written": self.dev.bytes_written, "bytes_flushed": self.dev.bytes_flushed,
                "rejected": self.dev.rejected}

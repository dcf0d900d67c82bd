"""The block device: sector reads and writes between a host image file and guest RAM by
DMA, with a latency/bandwidth model, a completion interrupt and an explicit flush
(register map in isa/README.md, "Devices").

The guest sets SECTOR, COUNT and BUFFER and writes COMMAND; STATUS is BUSY until the
request completes at now + latency + ceil(bytes * bw_cycles / bw_bytes) (a flush
moves the unflushed bytes), when the data moves, STATUS takes its outcome and ISR bit
0 is set (the interrupt line) until the guest writes 1 to it. Argument errors (a
buffer not wholly in RAM, sectors past the end, an unknown command) complete at once
with an error status and nothing moved; a command written while BUSY is ignored.
SECTOR, COUNT and BUFFER are latched when COMMAND is written.

Where the bytes live (the split between C and Python): the Python side maps the image
file into memory (a shared numpy memmap, BlockDevModel), so `image` is the file's
page-cache pages and the C side moves data with memcpy at completion time, inside
device_tick, without returning to Python. Writes never touch `image`: they go to a
write-back buffer of 4 KiB chunks allocated on demand (`chunks`, with a dirty bit per
sector in `chunk_dirty`); reads see those bytes first. FLUSH copies the dirty sectors
into `image` and frees the chunks, so the file holds exactly what was flushed, and
because the mapping is shared, a crash of the emulator after a flush loses nothing
(the host kernel writes the pages back; BlockDevice.close also msyncs them).
"""

from libc.stdint cimport uint8_t, uint32_t, uint64_t

from emu._core.dma cimport DmaPort

cpdef enum:
    BLK_SECTOR_SIZE = 512
    BLK_CHUNK_SECTORS = 8   # sectors per write-back chunk (4 KiB)
    BLK_SIZE = 0x20         # bytes of register space
    BLK_WIDTHS = 1 << 4     # allowed access widths (bit w: w bytes): words only

    # register offsets
    BLK_ID = 0x00           # read only: BLK_MAGIC
    BLK_CAPACITY = 0x04     # read only: sectors in the image
    BLK_SECTOR = 0x08       # first sector of the request
    BLK_COUNT = 0x0C        # sectors in the request
    BLK_BUFFER = 0x10       # guest physical address of the request's buffer
    BLK_COMMAND = 0x14      # write: start a request (BLK_CMD_*); read: the last one started
    BLK_STATUS = 0x18       # read only: BLK_STATUS_*
    BLK_ISR = 0x1C          # bit 0: a request completed; write 1 to acknowledge

    BLK_MAGIC = 0x4B4C4245  # "EBLK" in little-endian bytes

cpdef enum:  # commands (BLK_COMMAND)
    BLK_CMD_READ = 1        # image sectors -> guest buffer
    BLK_CMD_WRITE = 2       # guest buffer -> write-back buffer
    BLK_CMD_FLUSH = 3       # write-back buffer -> image file (SECTOR, COUNT, BUFFER unused)

cpdef enum:  # statuses (BLK_STATUS)
    BLK_STATUS_IDLE = 0     # no request yet
    BLK_STATUS_BUSY = 1
    BLK_STATUS_OK = 2
    BLK_STATUS_ERR_DMA = 3      # the buffer is not wholly in RAM
    BLK_STATUS_ERR_RANGE = 4    # COUNT is 0 or the sectors run past the end of the image
    BLK_STATUS_ERR_COMMAND = 5  # unknown command
    BLK_STATUS_ERR_NOMEM = 6    # the host could not allocate write-back memory


cdef struct BlockDev:
    uint8_t* image          # the image file's bytes (mapped by BlockDevModel)
    uint32_t sectors        # capacity
    uint8_t** chunks        # write-back buffer: per chunk, its bytes or NULL when clean
    uint8_t* chunk_dirty    # per chunk: bit i set = sector i of the chunk is unflushed
    uint32_t nchunks
    uint64_t dirty_sectors  # sectors written and not yet flushed
    uint64_t latency        # cycles every request takes before its data moves
    uint32_t bw_bytes       # bandwidth: bw_bytes every bw_cycles cycles
    uint32_t bw_cycles
    uint32_t sector         # registers
    uint32_t count
    uint32_t buffer
    uint32_t command
    uint32_t status
    uint32_t isr
    uint32_t req_sector     # the BUSY request: SECTOR, COUNT and BUFFER latched when
    uint32_t req_count      #   COMMAND was written (the guest may change the registers
    uint32_t req_buffer     #   meanwhile; the request is not affected)
    uint64_t done           # cycle it completes
    uint64_t requests       # statistics: requests completed,
    uint64_t bytes_read     # bytes read from the image (or the write-back buffer),
    uint64_t bytes_written  # bytes written into the write-back buffer,
    uint64_t bytes_flushed  # bytes flushed to the image,
    uint64_t rejected       # commands written while BUSY


cdef class BlockDevModel:
    cdef BlockDev dev
    cdef readonly object image  # the writable uint8 array (a memmap) `dev.image` points into


cdef int blockdev_init(BlockDev* b, uint8_t* image, uint64_t image_size, uint64_t latency,
                       uint32_t bw_bytes, uint32_t bw_cycles) except -1
cdef void blockdev_free(BlockDev* b) noexcept nogil
cdef bint blockdev_load(BlockDev* b, uint32_t offset, uint32_t* value) noexcept nogil
cdef bint blockdev_store(BlockDev* b, DmaPort* dma, uint32_t offset, uint32_t value,
                         uint64_t now) noexcept nogil
cdef uint64_t blockdev_tick(BlockDev* b, DmaPort* dma, uint64_t now) noexcept nogil
cdef bint blockdev_irq(BlockDev* b) noexcept nogil

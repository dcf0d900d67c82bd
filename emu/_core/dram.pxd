"""The DRAM model behind the last cache level: a fixed latency and one channel.

Every line transfer, read or write, holds the channel for `transfer_cycles`
(line size / bytes per cycle, rounded up); a request that finds it busy waits, so a
burst of misses queues and each one's latency grows by one transfer time. A read
issued at cycle t with the channel free delivers its line at t + latency: `latency`
is the unloaded load-to-fill time and includes the line's own transfer. Writebacks
take the channel the same way, but nothing waits for them to finish.
"""

from libc.stdint cimport uint32_t, uint64_t


cdef struct Dram:
    uint32_t latency            # cycles from a read leaving the last cache to its line (idle channel)
    uint32_t transfer_cycles    # cycles the channel is busy per line (>= 1)
    uint64_t busy_until         # first cycle the channel is free
    uint64_t reads              # lines read (fills of the last level)
    uint64_t writes             # lines written (dirty evictions of the last level)
    uint64_t read_queue_cycles  # cycles reads waited for the channel
    uint64_t busy_cycles        # cycles the channel was transferring


cdef inline uint64_t dram_channel(Dram* d, uint64_t t) noexcept nogil:
    """Take the channel for one transfer asked for at cycle t; return when it starts."""
    cdef uint64_t start = t if t > d.busy_until else d.busy_until
    d.busy_until = start + d.transfer_cycles
    d.busy_cycles += d.transfer_cycles
    return start


cdef inline uint64_t dram_read(Dram* d, uint64_t t) noexcept nogil:
    """Read one line asked for at cycle t; the cycle it arrives."""
    cdef uint64_t start = dram_channel(d, t)
    d.reads += 1
    d.read_queue_cycles += start - t
    return start + d.latency


cdef inline void dram_write(Dram* d, uint64_t t) noexcept nogil:
    """Write one line back at cycle t (buffered: nobody waits for it)."""
    dram_channel(d, t)
    d.writes += 1


cdef inline void dram_clear(Dram* d) noexcept nogil:
    """Idle channel and zero counters; latency and transfer time stay."""
    d.busy_until = 0
    d.reads = 0
    d.writes = 0
    d.read_queue_cycles = 0
    d.busy_cycles = 0

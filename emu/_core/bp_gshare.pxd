"""Gshare direction predictor (McFarling 1993): 2-bit counters indexed by pc xor history.

The index is (pc >> 2) xor the newest `history_bits` outcomes of the global history,
folded to the index width when the history is longer than the table index. This module
also owns that folding (`fold_history`), which TAGE's index and tag hashes use too.
"""

from libc.stdint cimport uint32_t, uint64_t

from emu._core.bp_bimodal cimport CounterTable, counter_taken, counter_train


cdef struct Gshare:
    CounterTable table      # 2**table_bits 2-bit counters (bp_bimodal.pxd)
    uint32_t table_bits     # index width: the chunk size the history is folded to
    uint32_t history_bits   # how many of the newest global-history outcomes the index uses


cdef inline uint32_t fold_history(uint64_t history, uint32_t length, uint32_t bits) noexcept nogil:
    """XOR of the `bits`-wide chunks of the newest `length` (<= 64) outcomes of `history`
    (1 <= bits < 32): a `bits`-wide hash in which every one of those outcomes counts."""
    cdef uint32_t folded = 0
    cdef uint32_t mask = (1U << bits) - 1
    if length < 64:
        history &= ((<uint64_t>1) << length) - 1
    while history:
        folded ^= <uint32_t>history & mask
        history >>= bits
    return folded


cdef inline uint32_t gshare_index(Gshare* g, uint32_t pc, uint64_t history) noexcept nogil:
    return ((pc >> 2) ^ fold_history(history, g.history_bits, g.table_bits)) & g.table.mask


cdef inline bint gshare_predict(Gshare* g, uint32_t pc, uint64_t history) noexcept nogil:
    return counter_taken(g.table.counters[gshare_index(g, pc, history)])


cdef inline void gshare_update(Gshare* g, uint32_t pc, uint64_t history, bint taken) noexcept nogil:
    """Train the counter the prediction used: `history` is the one it was made with."""
    counter_train(&g.table.counters[gshare_index(g, pc, history)], taken)

"""Bimodal direction predictor: a table of 2-bit saturating counters indexed by the pc.

This module also owns the counter table itself (allocation, clearing, the 2-bit counter
rule), which gshare (bp_gshare.pxd) indexes differently and TAGE (bp_tage.pxd) uses as
its base predictor.

Counters start at 0, strongly not taken (calloc'd memory, so reset is a memset): a
branch that is always taken costs two mispredictions before it is predicted taken.
"""

from libc.stdint cimport uint8_t, uint32_t
from libc.stdlib cimport calloc, free
from libc.string cimport memset


cdef struct CounterTable:
    uint8_t* counters   # 2-bit saturating counters: 0, 1 predict not taken; 2, 3 taken
    uint32_t mask       # entries - 1 (entries = 2**table_bits)


cdef inline bint counter_table_alloc(CounterTable* t, uint32_t table_bits) noexcept nogil:
    """Allocate 2**table_bits counters, all 0; False when out of memory."""
    t.mask = (1U << table_bits) - 1
    t.counters = <uint8_t*>calloc(<size_t>t.mask + 1, sizeof(uint8_t))
    return t.counters != NULL


cdef inline void counter_table_free(CounterTable* t) noexcept nogil:
    free(t.counters)
    t.counters = NULL


cdef inline void counter_table_clear(CounterTable* t) noexcept nogil:
    if t.counters != NULL:
        memset(t.counters, 0, <size_t>t.mask + 1)


cdef inline bint counter_taken(uint8_t counter) noexcept nogil:
    return counter >= 2


cdef inline void counter_train(uint8_t* counter, bint taken) noexcept nogil:
    """Move a 2-bit counter one step towards the outcome, saturating at 0 and 3."""
    if taken:
        if counter[0] < 3:
            counter[0] += 1
    elif counter[0] > 0:
        counter[0] -= 1


cdef inline uint32_t bimodal_index(CounterTable* t, uint32_t pc) noexcept nogil:
    return (pc >> 2) & t.mask


cdef inline bint bimodal_predict(CounterTable* t, uint32_t pc) noexcept nogil:
    return counter_taken(t.counters[bimodal_index(t, pc)])


cdef inline void bimodal_update(CounterTable* t, uint32_t pc, bint taken) noexcept nogil:
    counter_train(&t.counters[bimodal_index(t, pc)], taken)

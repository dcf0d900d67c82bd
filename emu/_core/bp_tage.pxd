"""TAGE-lite direction predictor (after Seznec & Michaud, "A case for (partially) TAgged
GEometric history length branch predictors", JILP 2006), kept small.

A bimodal base table (bp_bimodal.pxd) plus TAGE_TABLES tagged tables of 2**10 entries,
indexed and tagged by hashes of the pc and of the newest 5, 12, 27 and 64 outcomes of
the global history. The hitting table with the longest history is the provider; the
next hitting one below it (or the base) gives the alternate prediction, which is used
instead while the provider entry is newly allocated and `use_alt_on_weak` says that
pays. A misprediction allocates one entry in a longer table whose entry is not useful
(or, when none is free, makes those entries less useful); every TAGE_AGING_PERIOD
trainings all usefulness counters are halved so stale entries become replaceable.

Training repeats the lookup with the history the prediction used, so nothing from
predict time needs to travel with the branch. All state is in the struct, including
the LFSR behind the one pseudo-random choice, so runs are deterministic.
"""

from libc.stdint cimport int8_t, uint8_t, uint16_t, uint32_t, uint64_t
from libc.stdlib cimport calloc, free
from libc.string cimport memset

from emu._core.bp_bimodal cimport (CounterTable, bimodal_predict, bimodal_update,
                                   counter_table_alloc, counter_table_clear,
                                   counter_table_free)
from emu._core.bp_gshare cimport fold_history

cdef enum:
    TAGE_TABLES = 4             # tagged tables
    TAGE_INDEX_BITS = 10        # log2 entries of each tagged table
    TAGE_TAG_BITS = 8
    TAGE_CTR_MIN = -4           # 3-bit signed direction counter; >= 0 predicts taken
    TAGE_CTR_MAX = 3
    TAGE_USEFUL_MAX = 3         # 2-bit usefulness counter
    TAGE_USE_ALT_MIN = -8       # 4-bit signed use_alt_on_weak
    TAGE_USE_ALT_MAX = 7
    TAGE_AGING_PERIOD = 65536   # trainings between halvings of every usefulness counter
    TAGE_LFSR_SEED = 0xACE1
    TAGE_LFSR_TAPS = 0xB400     # x^16 + x^14 + x^13 + x^11 + 1, maximal length


cdef struct TageEntry:
    uint8_t valid       # 1 once allocated
    uint8_t tag         # TAGE_TAG_BITS hash of (pc, history) of the branch that owns it
    int8_t ctr          # direction counter, TAGE_CTR_MIN..TAGE_CTR_MAX; >= 0 predicts taken
    uint8_t useful      # 0..TAGE_USEFUL_MAX: how often it was right where the alternate was wrong


cdef struct Tage:
    CounterTable base               # bimodal predictor used when no tagged entry hits
    TageEntry* tables[TAGE_TABLES]  # tagged tables, shortest history first
    int8_t use_alt_on_weak          # >= 0: a newly allocated provider defers to the alternate
    uint16_t lfsr                   # pseudo-random bits for the allocation choice
    uint32_t trainings              # trainings since reset, for the usefulness aging


cdef struct TageLookup:
    uint32_t index[TAGE_TABLES]     # entry each tagged table is read at
    uint8_t tag[TAGE_TABLES]        # tag each tagged table is compared with
    int provider                    # longest-history hitting table, -1 when only the base
    int alt                         # next hitting table below the provider, -1: the base
    bint provider_taken             # the provider's direction (the base's when provider < 0)
    bint alt_taken                  # the alternate's direction
    bint taken                      # the final prediction


cdef inline uint32_t tage_history_length(int table) noexcept nogil:
    """Newest outcomes table `table` hashes: roughly geometric (ratio ~2.2), the last
    one using all 64 bits of the global history."""
    if table == 0:
        return 5
    if table == 1:
        return 12
    if table == 2:
        return 27
    return 64


cdef inline bint tage_alloc(Tage* t, uint32_t base_bits) noexcept nogil:
    """Allocate the base (2**base_bits counters) and the tagged tables, all cleared;
    False when out of memory (the caller frees what was allocated)."""
    cdef int i
    if not counter_table_alloc(&t.base, base_bits):
        return False
    for i in range(TAGE_TABLES):
        t.tables[i] = <TageEntry*>calloc(1 << TAGE_INDEX_BITS, sizeof(TageEntry))
        if t.tables[i] == NULL:
            return False
    tage_clear(t)
    return True


cdef inline void tage_free(Tage* t) noexcept nogil:
    cdef int i
    counter_table_free(&t.base)
    for i in range(TAGE_TABLES):
        free(t.tables[i])
        t.tables[i] = NULL


cdef inline void tage_clear(Tage* t) noexcept nogil:
    cdef int i
    counter_table_clear(&t.base)
    for i in range(TAGE_TABLES):
        if t.tables[i] != NULL:
            memset(t.tables[i], 0, (1 << TAGE_INDEX_BITS) * sizeof(TageEntry))
    t.use_alt_on_weak = 0
    t.lfsr = TAGE_LFSR_SEED
    t.trainings = 0


cdef inline bint tage_newly_allocated(TageEntry* e) noexcept nogil:
    """Weak counter and not yet useful: the entry has not proved itself."""
    return e.useful == 0 and (e.ctr == 0 or e.ctr == -1)


cdef inline void tage_lookup(Tage* t, uint32_t pc, uint64_t history, TageLookup* r) noexcept nogil:
    cdef int i
    cdef uint32_t length
    cdef uint32_t pcbits = pc >> 2
    cdef TageEntry* e
    for i in range(TAGE_TABLES):
        length = tage_history_length(i)
        r.index[i] = ((pcbits ^ (pcbits >> TAGE_INDEX_BITS)
                       ^ fold_history(history, length, TAGE_INDEX_BITS))
                      & ((1U << TAGE_INDEX_BITS) - 1))
        # Two different foldings, so the tag does not repeat the index's hash of the history.
        r.tag[i] = <uint8_t>((pcbits ^ fold_history(history, length, TAGE_TAG_BITS)
                              ^ (fold_history(history, length, TAGE_TAG_BITS - 1) << 1))
                             & ((1U << TAGE_TAG_BITS) - 1))
    r.provider = -1
    r.alt = -1
    for i in range(TAGE_TABLES - 1, -1, -1):
        e = &t.tables[i][r.index[i]]
        if e.valid and e.tag == r.tag[i]:
            if r.provider < 0:
                r.provider = i
            else:
                r.alt = i
                break
    if r.alt >= 0:
        r.alt_taken = t.tables[r.alt][r.index[r.alt]].ctr >= 0
    else:
        r.alt_taken = bimodal_predict(&t.base, pc)
    if r.provider < 0:
        r.provider_taken = r.alt_taken
        r.taken = r.alt_taken
        return
    e = &t.tables[r.provider][r.index[r.provider]]
    r.provider_taken = e.ctr >= 0
    if tage_newly_allocated(e) and t.use_alt_on_weak >= 0:
        r.taken = r.alt_taken
    else:
        r.taken = r.provider_taken


cdef inline bint tage_predict(Tage* t, uint32_t pc, uint64_t history) noexcept nogil:
    cdef TageLookup r
    tage_lookup(t, pc, history, &r)
    return r.taken


cdef inline int8_t tage_counter_step(int8_t value, bint up, int8_t low, int8_t high) noexcept nogil:
    """Saturating step of a signed counter within [low, high]."""
    if up:
        return value + 1 if value < high else value
    return value - 1 if value > low else value


cdef inline bint tage_random_bit(Tage* t) noexcept nogil:
    """Next bit of a 16-bit Galois LFSR."""
    cdef bint bit = t.lfsr & 1
    t.lfsr >>= 1
    if bit:
        t.lfsr ^= TAGE_LFSR_TAPS
    return bit


cdef inline void tage_allocate(Tage* t, TageLookup* r, bint taken) noexcept nogil:
    """After a misprediction: take a not-useful entry in a table longer than the
    provider (the first such table, or the second with probability 1/2 when there are
    two, so branches spread over lengths); when none is free, age them all instead."""
    cdef int i
    cdef int first = -1
    cdef int second = -1
    cdef int chosen
    cdef TageEntry* e
    for i in range(r.provider + 1, TAGE_TABLES):
        if t.tables[i][r.index[i]].useful == 0:
            if first < 0:
                first = i
            elif second < 0:
                second = i
    if first < 0:
        for i in range(r.provider + 1, TAGE_TABLES):
            t.tables[i][r.index[i]].useful -= 1
        return
    chosen = second if second >= 0 and tage_random_bit(t) else first
    e = &t.tables[chosen][r.index[chosen]]
    e.valid = 1
    e.tag = r.tag[chosen]
    e.ctr = 0 if taken else -1
    e.useful = 0


cdef inline void tage_age(Tage* t) noexcept nogil:
    cdef int i, j
    for i in range(TAGE_TABLES):
        for j in range(1 << TAGE_INDEX_BITS):
            t.tables[i][j].useful >>= 1


cdef inline void tage_update(Tage* t, uint32_t pc, uint64_t history, bint taken) noexcept nogil:
    """Train with the outcome; `history` is the one the prediction was made with."""
    cdef TageLookup r
    cdef TageEntry* provider
    cdef TageEntry* alt
    tage_lookup(t, pc, history, &r)
    if r.provider >= 0:
        provider = &t.tables[r.provider][r.index[r.provider]]
        if tage_newly_allocated(provider) and r.provider_taken != r.alt_taken:
            t.use_alt_on_weak = tage_counter_step(t.use_alt_on_weak, r.alt_taken == taken,
                                                  TAGE_USE_ALT_MIN, TAGE_USE_ALT_MAX)
        if r.provider_taken != r.alt_taken:
            provider.useful = <uint8_t>tage_counter_step(
                <int8_t>provider.useful, r.provider_taken == taken, 0, TAGE_USEFUL_MAX)
        # While the provider has not proved useful, the alternate keeps learning too.
        if provider.useful == 0:
            if r.alt >= 0:
                alt = &t.tables[r.alt][r.index[r.alt]]
                alt.ctr = tage_counter_step(alt.ctr, taken, TAGE_CTR_MIN, TAGE_CTR_MAX)
            else:
                bimodal_update(&t.base, pc, taken)
        provider.ctr = tage_counter_step(provider.ctr, taken, TAGE_CTR_MIN, TAGE_CTR_MAX)
    else:
        bimodal_update(&t.base, pc, taken)
    if r.taken != taken and r.provider < TAGE_TABLES - 1:
        tage_allocate(t, &r, taken)
    t.trainings += 1
    if t.trainings % TAGE_AGING_PERIOD == 0:
        tage_age(t)

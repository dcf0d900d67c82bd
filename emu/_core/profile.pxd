"""Per-instruction cache event counters: the raw material of a cache profile.

A Profile is attached to a Hierarchy (hierarchy.pxd's `profile`; NULL: none, and the
access path costs one NULL test) by whoever owns both (HierarchyModel.attach_profile).
The hierarchy then adds every demand access to the row of the instruction that made it
(its virtual pc), per hart: one row per 4-byte instruction slot of
[base, base + 4 * slots), and row `slots` for every pc outside that range (accesses
made without a pc, pc 0, land there too unless the range covers 0).

Accesses fall into cachegrind's three classes by AccessKind: I (ACCESS_FETCH: Ir), Dr
(ACCESS_LOAD) and Dw (ACCESS_STORE and ACCESS_ATOMIC: an atomic asks for its line
exclusively, and cachegrind likewise counts a read-modify-write as a write). One
access is one count, so a profile's sums equal the hierarchy's own access counters.
Each row holds, as uint64:

- PROF_ACCESSES + class: the accesses (Ir, Dr, Dw);
- PROF_MISSES + PROF_CLASSES * (level - 1) + class: those that missed in cache level
  `level` (1: the hart's L1I or L1D, 2: the L2, 3: the L3; zero for a level the
  hierarchy lacks): I1mr D1mr D1mw, I2mr D2mr D2mw, I3mr D3mr D3mw. A miss in the last
  level is a DRAM read: cachegrind's ILmr, DLmr, DLmw;
- PROF_CYCLES + class: the cycles from issue to data those accesses took, summed (the
  average memory access time of a row is cycles / accesses).

The counters are laid out harts x (slots + 1) x PROFILE_COUNTERS in one array that the
attaching owner allocates and frees (a numpy array, so Python reads it without a copy).
"""

from libc.stdint cimport uint32_t, uint64_t

from emu._core.access cimport ACCESS_FETCH, ACCESS_LOAD


cdef enum ProfileClass:
    PROF_CLASS_I = 0        # instruction fetches
    PROF_CLASS_DR = 1       # loads
    PROF_CLASS_DW = 2       # stores and atomics

cdef enum:
    PROF_CLASSES = 3
    PROF_LEVELS = 3         # cache levels counted per row: L1, L2, L3
    PROF_ACCESSES = 0       # + class
    PROF_MISSES = 3         # + PROF_CLASSES * (level - 1) + class
    PROF_CYCLES = 12        # + class
    PROFILE_COUNTERS = 15   # uint64 counters per row


cdef struct Profile:
    uint32_t base           # pc of row 0
    uint32_t slots          # rows of instructions; row `slots` counts every other pc
    uint32_t harts          # row blocks, one per hart
    uint64_t* counts        # harts * (slots + 1) * PROFILE_COUNTERS counters, owned by the attacher


cdef inline uint64_t* profile_row(Profile* p, uint32_t hart, uint32_t pc) noexcept nogil:
    """The counters of `hart`'s row for `pc` (the outside row when pc is not in range;
    base + 4 * slots <= 2**32, so a pc below base wraps to an offset out of range)."""
    cdef uint32_t slot = (pc - p.base) >> 2
    if slot > p.slots:
        slot = p.slots
    return p.counts + (<uint64_t>hart * (p.slots + 1) + slot) * PROFILE_COUNTERS


cdef inline uint32_t profile_class(uint32_t kind) noexcept nogil:
    """The ProfileClass of a demand access of AccessKind `kind`."""
    if kind == ACCESS_FETCH:
        return PROF_CLASS_I
    if kind == ACCESS_LOAD:
        return PROF_CLASS_DR
    return PROF_CLASS_DW

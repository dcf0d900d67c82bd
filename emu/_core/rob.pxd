"""The reorder buffer: every in-flight instruction, oldest (head) to youngest (tail).

An entry lives from rename to commit or squash and carries everything the later
stages need: the decoded instruction, its physical registers, its state, its result
or exception, the branch prediction it was fetched under, and the cycle stamps the
pipeline trace shows. The ROB is a ring of `size` entries; slot indices are stable
for an entry's life, and `seq` (a per-run instruction number) orders entries and
tells a reused slot from the instruction that held it before.
"""

from libc.stdint cimport int8_t, int16_t, int32_t, uint8_t, uint16_t, uint32_t, uint64_t

from emu._core.bpred cimport BPredCheckpoint
from emu._core.decode cimport Decoded

cdef enum:
    NO_PREG = 0xffff        # no physical register (no destination)

cdef enum HeadWork:
    # Flags of what a load or store must still do at the ROB head before it commits.
    HEAD_MMIO = 1           # its physical address is a device's: the bus access happens here
    HEAD_MMIO_STARTED = 2   # ... the access occupies the head until done_cycle
    HEAD_SET_DIRTY = 4      # a store whose page has D clear: translate again, non-speculatively
    HEAD_DIRTY_WALKING = 8  # ... that walk is under way until done_cycle

cdef enum RobState:
    ROB_WAITING = 0         # renamed, waiting in the issue queue (or for the ROB head)
    ROB_EXECUTING = 1       # issued to a functional unit; result at done_cycle
    ROB_DONE = 2            # result written back (or exception recorded): may commit


cdef struct RobEntry:
    uint64_t seq            # instruction number in this run (0 is never used)
    uint32_t pc
    uint32_t pred_next      # next pc the front end fetched after this instruction
    uint32_t next_pc        # the real next pc (set at execute; pc + 4 for non-control)
    Decoded d               # the instruction (a copy: the decode cache slot may be reused)
    uint16_t pdst           # destination physical register, NO_PREG if none
    uint16_t old_pdst       # previous mapping of the architectural rd (freed at commit)
    uint16_t psrc1          # physical sources (0, the zero register, when unused)
    uint16_t psrc2
    uint8_t state           # RobState
    uint8_t unit            # functional-unit class (opcodes.pxd Unit)
    uint8_t bclass          # BranchClass (bpred.pxd), BR_NONE for non-control
    uint8_t pending         # source operands not yet ready
    uint8_t serial          # executes at the ROB head, after everything older committed
    uint8_t mispredicted    # resolved with next_pc != pred_next
    uint8_t head_work       # HeadWork flags (loads and stores), 0 for none
    int16_t lsq             # load or store queue slot, -1 if none
    int32_t exception       # trap cause raised when this commits, -1 for none
    uint32_t tval           # the trap's value; a load's or store's virtual address once executed
    uint32_t result         # value for pdst
    uint64_t done_cycle     # cycle the result is written back
    uint64_t fetch_cycle    # cycle stamps for statistics and the pipeline trace
    uint64_t rename_cycle
    uint64_t issue_cycle    # 0 until issued
    BPredCheckpoint cp      # predictor state before this instruction's prediction


cdef struct Rob:
    RobEntry* entries
    uint32_t size
    uint32_t head           # oldest entry's slot
    uint32_t count          # entries in use; the tail slot is (head + count) % size


cdef inline uint32_t rob_slot(Rob* rob, uint32_t age) noexcept nogil:
    """Slot of the entry `age` places after the head (age 0 is the head)."""
    cdef uint32_t slot = rob.head + age
    return slot - rob.size if slot >= rob.size else slot


cdef inline uint32_t rob_age(Rob* rob, uint32_t slot) noexcept nogil:
    """How many entries are older than the one in `slot`."""
    return slot - rob.head if slot >= rob.head else slot + rob.size - rob.head


cdef int rob_init(Rob* rob, uint32_t size) except -1
cdef void rob_free(Rob* rob) noexcept nogil

"""The branch-prediction unit (bpred.pxd): dispatch to the chosen direction predictor,
the BTB and the RAS; and PredictorModel, a Python face for tests (the slow path)."""

import numpy as np

from libc.stdlib cimport calloc, free
from libc.string cimport memset

from emu._core.bp_bimodal cimport (bimodal_predict, bimodal_update, counter_table_alloc,
                                   counter_table_clear, counter_table_free)
from emu._core.bp_gshare cimport gshare_predict, gshare_update
from emu._core.bp_static cimport static_predict
from emu._core.bp_tage cimport tage_alloc, tage_clear, tage_free, tage_predict, tage_update
from emu._core.decode cimport Decoded, decode


# ---- construction -------------------------------------------------------------------

cdef int bp_init(BranchPredictor* bp, BPredParams params) except -1:
    """Validate `params` (ValueError) and allocate a cleared predictor. `*bp` may be
    uninitialised memory; on failure nothing stays allocated."""
    cdef bint allocated
    if params.kind < PRED_STATIC or params.kind > PRED_TAGE:
        raise ValueError(f"unknown predictor kind {params.kind}")
    if params.table_bits < 1 or params.table_bits > 24:
        raise ValueError(f"table_bits must be 1..24, not {params.table_bits}")
    if params.history_bits > 32:
        raise ValueError(f"history_bits must be 0..32, not {params.history_bits}")
    if params.btb_entries == 0 or params.btb_entries & (params.btb_entries - 1):
        raise ValueError(f"btb_entries must be a power of two, not {params.btb_entries}")
    if params.btb_ways == 0 or params.btb_entries % params.btb_ways:
        raise ValueError(f"btb_ways must divide btb_entries ({params.btb_entries}), "
                         f"not {params.btb_ways}")
    if params.ras_entries == 0:
        raise ValueError("ras_entries must be at least 1")
    memset(bp, 0, sizeof(BranchPredictor))
    bp.params = params
    bp.btb_set_mask = params.btb_entries // params.btb_ways - 1
    bp.btb = <BtbEntry*>calloc(params.btb_entries, sizeof(BtbEntry))
    bp.ras = <uint32_t*>calloc(params.ras_entries, sizeof(uint32_t))
    allocated = bp.btb != NULL and bp.ras != NULL
    if params.kind == PRED_BIMODAL:
        allocated = counter_table_alloc(&bp.bimodal, params.table_bits) and allocated
    elif params.kind == PRED_GSHARE:
        bp.gshare.table_bits = params.table_bits
        bp.gshare.history_bits = params.history_bits
        allocated = counter_table_alloc(&bp.gshare.table, params.table_bits) and allocated
    elif params.kind == PRED_TAGE:
        allocated = tage_alloc(&bp.tage, params.table_bits) and allocated
    if not allocated:
        bp_free(bp)
        raise MemoryError()
    return 0


cdef void bp_free(BranchPredictor* bp) noexcept nogil:
    counter_table_free(&bp.bimodal)
    counter_table_free(&bp.gshare.table)
    tage_free(&bp.tage)
    free(bp.btb)
    bp.btb = NULL
    free(bp.ras)
    bp.ras = NULL


cdef void bp_reset(BranchPredictor* bp) noexcept nogil:
    """Forget everything learned and speculated: the state right after bp_init."""
    bp.history = 0
    counter_table_clear(&bp.bimodal)
    counter_table_clear(&bp.gshare.table)
    tage_clear(&bp.tage)
    memset(bp.btb, 0, bp.params.btb_entries * sizeof(BtbEntry))
    bp.btb_clock = 0
    memset(bp.ras, 0, bp.params.ras_entries * sizeof(uint32_t))
    bp.ras_top = 0


# ---- direction predictor dispatch ---------------------------------------------------

cdef inline bint direction_predict(BranchPredictor* bp, uint32_t pc) noexcept nogil:
    if bp.params.kind == PRED_BIMODAL:
        return bimodal_predict(&bp.bimodal, pc)
    if bp.params.kind == PRED_GSHARE:
        return gshare_predict(&bp.gshare, pc, bp.history)
    if bp.params.kind == PRED_TAGE:
        return tage_predict(&bp.tage, pc, bp.history)
    return static_predict()


cdef inline void direction_update(BranchPredictor* bp, uint32_t pc, uint64_t history,
                                  bint taken) noexcept nogil:
    if bp.params.kind == PRED_BIMODAL:
        bimodal_update(&bp.bimodal, pc, taken)
    elif bp.params.kind == PRED_GSHARE:
        gshare_update(&bp.gshare, pc, history, taken)
    elif bp.params.kind == PRED_TAGE:
        tage_update(&bp.tage, pc, history, taken)


# ---- BTB ------------------------------------------------------------------------------

cdef inline BtbEntry* btb_set(BranchPredictor* bp, uint32_t pc) noexcept nogil:
    return &bp.btb[((pc >> 2) & bp.btb_set_mask) * bp.params.btb_ways]


cdef inline uint32_t btb_target(BranchPredictor* bp, uint32_t pc, uint32_t miss) noexcept nogil:
    """The target the BTB holds for the jalr at pc, `miss` when it holds none."""
    cdef BtbEntry* ways = btb_set(bp, pc)
    cdef uint32_t w
    for w in range(bp.params.btb_ways):
        if ways[w].valid and ways[w].pc == pc:
            return ways[w].target
    return miss


cdef inline void btb_train(BranchPredictor* bp, uint32_t pc, uint32_t target) noexcept nogil:
    """Record pc's committed target, replacing the least recently trained way on a miss."""
    cdef BtbEntry* ways = btb_set(bp, pc)
    cdef BtbEntry* e = &ways[0]
    cdef uint32_t w
    for w in range(bp.params.btb_ways):
        if ways[w].valid and ways[w].pc == pc:
            e = &ways[w]
            break
        if not ways[w].valid:
            e = &ways[w]
            break
        if ways[w].last_use < e.last_use:
            e = &ways[w]
    bp.btb_clock += 1
    e.valid = 1
    e.pc = pc
    e.target = target
    e.last_use = bp.btb_clock


# ---- RAS ------------------------------------------------------------------------------

cdef inline uint32_t ras_slot(BranchPredictor* bp, uint32_t depth) noexcept nogil:
    """Slot holding the `depth`-th pushed address still on the stack (1 = the bottom)."""
    return (depth - 1) % bp.params.ras_entries


cdef inline void ras_push(BranchPredictor* bp, uint32_t address) noexcept nogil:
    bp.ras_top += 1
    bp.ras[ras_slot(bp, bp.ras_top)] = address


cdef inline uint32_t ras_pop(BranchPredictor* bp) noexcept nogil:
    """The top address, popped (the caller checks the stack is not empty)."""
    cdef uint32_t address = bp.ras[ras_slot(bp, bp.ras_top)]
    bp.ras_top -= 1
    return address


# ---- the interface --------------------------------------------------------------------

cdef void bp_checkpoint(BranchPredictor* bp, BPredCheckpoint* cp) noexcept nogil:
    """Fill *cp with the current speculative state (predicted_taken 0), changing nothing."""
    cp.history = bp.history
    cp.ras_top = bp.ras_top
    cp.ras_top_value = bp.ras[ras_slot(bp, bp.ras_top)] if bp.ras_top else 0
    cp.meta = 0
    cp.predicted_taken = 0


cdef uint32_t bp_predict(BranchPredictor* bp, uint32_t pc, uint8_t cls, uint32_t fallthrough,
                         uint32_t direct_target, BPredCheckpoint* cp) noexcept nogil:
    """The predicted next pc of the instruction at pc, of BranchClass `cls`.

    Fills *cp with the state before, then updates history (conditional branches) and
    RAS (calls push fallthrough, returns pop) speculatively. `direct_target` is pc + imm
    of a B/J-format instruction and is ignored for jalr, whose target comes from the
    RAS (returns) or the BTB (fallthrough on a miss)."""
    cdef bint taken
    bp_checkpoint(bp, cp)
    cp.predicted_taken = cls != BR_NONE
    if cls == BR_COND:
        taken = direction_predict(bp, pc)
        cp.predicted_taken = taken
        bp.history = (bp.history << 1) | taken
        return direct_target if taken else fallthrough
    if cls == BR_JUMP:
        return direct_target
    if cls == BR_CALL:
        ras_push(bp, fallthrough)
        return direct_target
    if cls == BR_CALL_INDIRECT:
        ras_push(bp, fallthrough)
        return btb_target(bp, pc, fallthrough)
    if cls == BR_RETURN:
        if bp.ras_top:
            return ras_pop(bp)
        return btb_target(bp, pc, fallthrough)
    if cls == BR_INDIRECT:
        return btb_target(bp, pc, fallthrough)
    return fallthrough


cdef void bp_restore(BranchPredictor* bp, BPredCheckpoint* cp) noexcept nogil:
    """Put history and RAS back to how they were before the prediction that filled *cp."""
    bp.history = cp.history
    bp.ras_top = cp.ras_top
    if cp.ras_top:
        bp.ras[ras_slot(bp, cp.ras_top)] = cp.ras_top_value


cdef void bp_repair(BranchPredictor* bp, uint8_t cls, BPredCheckpoint* cp, bint taken,
                    uint32_t pc) noexcept nogil:
    """Rewind to *cp and apply the real outcome of the instruction at pc: its history bit
    (conditional), its push (call) or pop (return), as a correct prediction would have."""
    bp_restore(bp, cp)
    if cls == BR_COND:
        bp.history = (bp.history << 1) | taken
    elif cls == BR_CALL or cls == BR_CALL_INDIRECT:
        ras_push(bp, pc + 4)
    elif cls == BR_RETURN and bp.ras_top:
        ras_pop(bp)


cdef void bp_train(BranchPredictor* bp, uint32_t pc, uint8_t cls, BPredCheckpoint* cp,
                   bint taken, uint32_t target) noexcept nogil:
    """Learn from a committed instruction (in program order): the direction tables from
    a conditional branch, with the history its prediction used; the BTB from a jalr."""
    if cls == BR_COND:
        direction_update(bp, pc, cp.history, taken)
    elif cls == BR_RETURN or cls == BR_INDIRECT or cls == BR_CALL_INDIRECT:
        btb_train(bp, pc, target)


# ---- Python face for tests --------------------------------------------------------------

#: PredictorModel's `kind` names.
KINDS = {"static": PRED_STATIC, "bimodal": PRED_BIMODAL, "gshare": PRED_GSHARE, "tage": PRED_TAGE}

#: BranchClass values by name, for building traces.
BRANCH_CLASSES = {
    "none": BR_NONE, "cond": BR_COND, "jump": BR_JUMP, "call": BR_CALL,
    "return": BR_RETURN, "indirect": BR_INDIRECT, "call_indirect": BR_CALL_INDIRECT,
}


def classify(uint32_t word):
    """The BranchClass of an instruction word, through decode() as the front end sees it."""
    cdef Decoded d
    decode(word, &d)
    return branch_class(d.op, d.rd, d.rs1)


cdef class Checkpoint:
    """A BPredCheckpoint returned by PredictorModel.predict_one."""

    cdef BPredCheckpoint cp

    @property
    def history(self):
        return self.cp.history

    @property
    def predicted_taken(self):
        return bool(self.cp.predicted_taken)


cdef class PredictorModel:
    """One BranchPredictor driven from Python: traces run as if each branch committed
    right after it resolved (predict, repair on a wrong next pc, train)."""

    cdef BranchPredictor bp

    def __init__(self, str kind, table_bits=12, history_bits=12, btb_entries=512,
                 btb_ways=4, ras_entries=16):
        cdef BPredParams params
        if kind not in KINDS:
            raise ValueError(f"unknown predictor kind {kind!r}; one of {', '.join(KINDS)}")
        for name, value in (("table_bits", table_bits), ("history_bits", history_bits),
                            ("btb_entries", btb_entries), ("btb_ways", btb_ways),
                            ("ras_entries", ras_entries)):
            if not 0 <= value < 2 ** 32:
                raise ValueError(f"{name} must be a non-negative 32-bit integer, not {value}")
        params.kind = KINDS[kind]
        params.table_bits = table_bits
        params.history_bits = history_bits
        params.btb_entries = btb_entries
        params.btb_ways = btb_ways
        params.ras_entries = ras_entries
        bp_free(&self.bp)           # a second __init__ must not leak
        bp_init(&self.bp, params)

    def __dealloc__(self):
        bp_free(&self.bp)

    @property
    def history(self):
        """The speculative global history, newest outcome in bit 0."""
        return self.bp.history

    @property
    def ras_top(self):
        return self.bp.ras_top

    @property
    def ras_top_value(self):
        """The address a return would be predicted to, or None when the RAS is empty."""
        return self.bp.ras[ras_slot(&self.bp, self.bp.ras_top)] if self.bp.ras_top else None

    def reset(self):
        bp_reset(&self.bp)

    def checkpoint(self):
        """A Checkpoint of the current state (as bp_checkpoint), to `restore` later."""
        cdef Checkpoint cp = Checkpoint()
        bp_checkpoint(&self.bp, &cp.cp)
        return cp

    def predict_one(self, uint32_t pc, uint8_t cls, uint32_t direct_target=0):
        """(predicted next pc, Checkpoint) for the instruction at pc."""
        cdef Checkpoint cp = Checkpoint()
        cdef uint32_t next_pc = bp_predict(&self.bp, pc, cls, pc + 4, direct_target, &cp.cp)
        return next_pc, cp

    def repair(self, uint8_t cls, Checkpoint cp, bint taken, uint32_t pc):
        bp_repair(&self.bp, cls, &cp.cp, taken, pc)

    def restore(self, Checkpoint cp):
        bp_restore(&self.bp, &cp.cp)

    def train_one(self, uint32_t pc, uint8_t cls, Checkpoint cp, bint taken, uint32_t target):
        bp_train(&self.bp, pc, cls, &cp.cp, taken, target)

    def run_trace(self, pcs, classes, taken, targets):
        """Mispredictions over a trace of control transfers, in order. `targets[i]` is
        the taken target (also the direct target given to the predictor); the real next
        pc is targets[i] when taken[i], else pcs[i] + 4."""
        cdef const uint32_t[::1] pc_v = np.ascontiguousarray(pcs, dtype=np.uint32)
        cdef const uint8_t[::1] cls_v = np.ascontiguousarray(classes, dtype=np.uint8)
        cdef const uint8_t[::1] taken_v = np.ascontiguousarray(taken, dtype=np.uint8)
        cdef const uint32_t[::1] target_v = np.ascontiguousarray(targets, dtype=np.uint32)
        cdef Py_ssize_t n = pc_v.shape[0]
        cdef Py_ssize_t i
        cdef uint64_t mispredictions = 0
        cdef uint32_t actual
        cdef BPredCheckpoint cp
        if not cls_v.shape[0] == taken_v.shape[0] == target_v.shape[0] == n:
            raise ValueError("pcs, classes, taken and targets must have the same length")
        with nogil:
            for i in range(n):
                actual = target_v[i] if taken_v[i] else pc_v[i] + 4
                if bp_predict(&self.bp, pc_v[i], cls_v[i], pc_v[i] + 4, target_v[i], &cp) != actual:
                    mispredictions += 1
                    bp_repair(&self.bp, cls_v[i], &cp, taken_v[i], pc_v[i])
                bp_train(&self.bp, pc_v[i], cls_v[i], &cp, taken_v[i], actual)
        return mispredictions

"""The branch-prediction unit of the out-of-order core's front end (ChampSim's branch/, in Cython).

It owns one interface over the direction predictors (bp_static, bp_bimodal, bp_gshare,
bp_tage; one is chosen at construction by `BPredParams.kind`), the speculative global
history, the branch target buffer (targets of jalr: direct targets are known at decode,
so B/J-format instructions never occupy it) and the return address stack.

Life of a branch: fetch calls `bp_predict`, which saves the state it read into a
checkpoint the instruction carries and updates history and RAS speculatively; when the
branch resolves as mispredicted, `bp_repair` rewinds to the checkpoint and applies the
real outcome; at commit, in program order, `bp_train` teaches the tables. A squash for
any other reason rewinds with `bp_restore` and the first squashed instruction's
checkpoint (`bp_checkpoint` takes one for any instruction, changing nothing).

The RAS is a circular buffer of `ras_entries` return addresses; `ras_top` counts pushes
minus pops (never below 0), so 0 means empty and (ras_top - 1) % ras_entries is the top
slot. Deeper than `ras_entries` calls overwrite the oldest addresses: those returns
mispredict, the others stay right. A checkpoint saves the top index and top address,
which repairs every wrong path except one that pops below the branch's top and then
pushes (the usual top-of-stack repair).
"""

from libc.stdint cimport uint8_t, uint16_t, uint32_t, uint64_t

from emu._core.bp_bimodal cimport CounterTable
from emu._core.bp_gshare cimport Gshare
from emu._core.bp_tage cimport Tage
from emu._core.opcodes cimport OP_BEQ, OP_BGE, OP_BGEU, OP_BLT, OP_BLTU, OP_BNE, OP_JAL, OP_JALR


cdef enum PredictorKind:
    PRED_STATIC = 0         # static not taken (plain fall-through, not backward-taken)
    PRED_BIMODAL = 1        # 2-bit counters indexed by pc (bp_bimodal.pxd)
    PRED_GSHARE = 2         # 2-bit counters indexed by pc xor global history (bp_gshare.pxd)
    PRED_TAGE = 3           # TAGE-lite: bimodal base + 4 tagged tables (bp_tage.pxd)


cdef enum BranchClass:
    BR_NONE = 0             # not a control-transfer instruction
    BR_COND = 1             # beq/bne/blt/bge/bltu/bgeu
    BR_JUMP = 2             # jal with rd not a link register (ra x1 or t0 x5)
    BR_CALL = 3             # jal with rd = ra or t0: target known at decode, pushes pc + 4
    BR_RETURN = 4           # jalr with rs1 = ra or t0 and rd not a link register: pops
    BR_INDIRECT = 5         # any other jalr (rd and rs1 not link registers): BTB target
    BR_CALL_INDIRECT = 6    # jalr with rd = ra or t0: BTB target, pushes pc + 4

cdef enum:
    BRANCH_CLASS_COUNT = 7  # BranchClass values, for per-class arrays


cdef struct BPredParams:
    int kind                # PredictorKind
    uint32_t table_bits     # log2 entries of the bimodal/gshare counter table (and the TAGE base), 1..24
    uint32_t history_bits   # global history outcomes gshare uses (0..32); TAGE uses up to 64
    uint32_t btb_entries    # power of two
    uint32_t btb_ways       # set associativity (1 = direct mapped), LRU within a set; divides btb_entries
    uint32_t ras_entries    # >= 1


cdef struct BPredCheckpoint:    # taken at predict time, kept with the instruction, used to repair and to train
    uint64_t history        # global history before this instruction's prediction
    uint32_t ras_top        # RAS top index before (BranchPredictor.ras_top)
    uint32_t ras_top_value  # the address in the top RAS slot before (0 when empty)
    uint32_t meta           # predictor-private training information; 0: no predictor needs any
    uint8_t predicted_taken # predicted direction (1 for jumps, calls, returns; 0 for BR_NONE)


cdef struct BtbEntry:
    uint32_t pc             # the jalr this entry predicts (whole pc: no aliasing)
    uint32_t target         # its target at its last commit
    uint64_t last_use       # BranchPredictor.btb_clock when last trained: the smallest in a set is evicted
    uint8_t valid


cdef struct BranchPredictor:
    BPredParams params
    uint64_t history        # speculative global history, newest outcome in bit 0 (conditional branches only)
    # Direction-predictor state: only the one params.kind selects is allocated.
    CounterTable bimodal    # PRED_BIMODAL
    Gshare gshare           # PRED_GSHARE
    Tage tage               # PRED_TAGE
    BtbEntry* btb           # btb_entries entries; set s is btb[s * btb_ways : (s + 1) * btb_ways]
    uint32_t btb_set_mask   # sets - 1; a jalr at pc lives in set (pc >> 2) & btb_set_mask
    uint64_t btb_clock      # counts BTB trainings; stamps BtbEntry.last_use
    uint32_t* ras           # ras_entries return addresses, a circular buffer
    uint32_t ras_top        # pushes minus pops since reset, never below 0 (see the module docstring)


cdef inline bint is_link_register(uint8_t r) noexcept nogil:
    return r == 1 or r == 5


cdef inline uint8_t branch_class(uint8_t op, uint8_t rd, uint8_t rs1) noexcept nogil:
    """The BranchClass of a Decoded's op and registers (rd is RD_SINK for x0), following
    the RISC-V hints for return-address prediction. A jalr whose rd and rs1 are both
    link registers counts as a call (the coroutine pop-then-push is not modelled)."""
    if op == OP_BEQ or op == OP_BNE or op == OP_BLT or op == OP_BGE or op == OP_BLTU or op == OP_BGEU:
        return BR_COND
    if op == OP_JAL:
        return BR_CALL if is_link_register(rd) else BR_JUMP
    if op == OP_JALR:
        if is_link_register(rd):
            return BR_CALL_INDIRECT
        if is_link_register(rs1):
            return BR_RETURN
        return BR_INDIRECT
    return BR_NONE


cdef int bp_init(BranchPredictor* bp, BPredParams params) except -1
cdef void bp_free(BranchPredictor* bp) noexcept nogil
cdef void bp_reset(BranchPredictor* bp) noexcept nogil
cdef void bp_checkpoint(BranchPredictor* bp, BPredCheckpoint* cp) noexcept nogil
cdef uint32_t bp_predict(BranchPredictor* bp, uint32_t pc, uint8_t cls, uint32_t fallthrough,
                         uint32_t direct_target, BPredCheckpoint* cp) noexcept nogil
cdef void bp_repair(BranchPredictor* bp, uint8_t cls, BPredCheckpoint* cp, bint taken,
                    uint32_t pc) noexcept nogil
cdef void bp_restore(BranchPredictor* bp, BPredCheckpoint* cp) noexcept nogil
cdef void bp_train(BranchPredictor* bp, uint32_t pc, uint8_t cls, BPredCheckpoint* cp,
                   bint taken, uint32_t target) noexcept nogil

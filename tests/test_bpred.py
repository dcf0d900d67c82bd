"""The branch-prediction unit (emu/_core/bpred.pyx and the bp_*.pxd predictors).

Driven through PredictorModel: `run_trace` predicts each branch, repairs on a wrong next
pc and trains as if it committed at once; `predict_one`/`repair`/`restore`/`train_one`
step the same C functions the out-of-order front end calls.
"""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from emu._core.bpred import BRANCH_CLASSES, PredictorModel, classify
from isa.table import REGISTER_NUMBERS, by_name, encode

NONE = BRANCH_CLASSES["none"]
COND = BRANCH_CLASSES["cond"]
JUMP = BRANCH_CLASSES["jump"]
CALL = BRANCH_CLASSES["call"]
RETURN = BRANCH_CLASSES["return"]
INDIRECT = BRANCH_CLASSES["indirect"]
CALL_INDIRECT = BRANCH_CLASSES["call_indirect"]

KINDS = ("static", "bimodal", "gshare", "tage")
HISTORY_MASK = (1 << 64) - 1

#: Word-aligned pcs from 0x1000 up to the MMIO region, so pc - 64 and pc + 0x1040 do not wrap.
pcs_st = st.integers(0x400, 0x3BFF_FFFF).map(lambda word: word * 4)


def cond_trace(pcs, outcomes):
    """Arrays for run_trace: conditional branches at `pcs` jumping 64 bytes back when taken."""
    pcs = np.asarray(pcs, dtype=np.uint32)
    return pcs, np.full(len(pcs), COND, np.uint8), np.asarray(outcomes, np.uint8), pcs - 64


def split_trace(trace, at):
    return tuple(a[:at] for a in trace), tuple(a[at:] for a in trace)


def mispredictions_after_warmup(kind, trace, warmup):
    """Mispredictions of a fresh predictor after the first `warmup` branches."""
    model = PredictorModel(kind)
    first, rest = split_trace(trace, warmup)
    model.run_trace(*first)
    return model.run_trace(*rest)


def loop_trace(iterations, trips):
    """A loop branch taken `trips - 1` times then falling out, inside an always-taken
    outer loop branch, `iterations` times."""
    pcs, outcomes = [], []
    for _ in range(iterations):
        for trip in range(trips):
            pcs.append(0x10100)
            outcomes.append(trip < trips - 1)
        pcs.append(0x10200)
        outcomes.append(True)
    return cond_trace(pcs, outcomes)


# ---- classification ---------------------------------------------------------------------

def _word(name, **regs):
    fields = {k: REGISTER_NUMBERS[v] if isinstance(v, str) else v for k, v in regs.items()}
    return encode(by_name()[name], **fields)


@pytest.mark.parametrize("word, expected", [
    (_word("beq", rs1="a0", rs2="a1", btarget=-8), COND),
    (_word("bgeu", rs1="ra", rs2="t0", btarget=16), COND),
    (_word("jal", rd="zero", jtarget=64), JUMP),
    (_word("jal", rd="a0", jtarget=64), JUMP),
    (_word("jal", rd="ra", jtarget=64), CALL),
    (_word("jal", rd="t0", jtarget=-64), CALL),
    (_word("jalr", rd="zero", rs1="ra"), RETURN),
    (_word("jalr", rd="zero", rs1="t0"), RETURN),
    (_word("jalr", rd="a0", rs1="ra"), RETURN),
    (_word("jalr", rd="ra", rs1="a5", imm12=8), CALL_INDIRECT),
    (_word("jalr", rd="t0", rs1="ra"), CALL_INDIRECT),
    (_word("jalr", rd="zero", rs1="a5"), INDIRECT),
    (_word("jalr", rd="a1", rs1="t1"), INDIRECT),
    (_word("addi", rd="ra", rs1="ra", imm12=4), NONE),
    (_word("lw", rd="ra", rs1="sp", imm12=4), NONE),
])
def test_branch_class_of_decoded_words(word, expected):
    assert classify(word) == expected


# ---- direction predictors ----------------------------------------------------------------

@given(st.lists(st.tuples(pcs_st, st.booleans()), min_size=1, max_size=200))
def test_static_never_predicts_taken(branches):
    pcs, outcomes = zip(*branches)
    model = PredictorModel("static")
    assert model.run_trace(*cond_trace(pcs, outcomes)) == sum(outcomes)
    for pc in pcs:
        next_pc, cp = model.predict_one(pc, COND, pc - 64)
        assert next_pc == pc + 4 and not cp.predicted_taken


def test_bimodal_counters_by_hand():
    # Counters start strongly not taken: two misses to learn an always-taken branch...
    assert PredictorModel("bimodal").run_trace(*cond_trace([0x10000] * 100, [1] * 100)) == 2
    # ...and, once strongly taken, one not-taken outcome (a miss) does not flip it:
    # T T T T N T T -> misses at the first two T and at the N.
    trace = cond_trace([0x10000] * 7, [1, 1, 1, 1, 0, 1, 1])
    assert PredictorModel("bimodal").run_trace(*trace) == 3


def test_bimodal_index_is_the_word_address():
    # table_bits=4: pcs 64 bytes apart share a counter, pcs 4 bytes apart do not.
    model = PredictorModel("bimodal", table_bits=4)
    model.run_trace(*cond_trace([0x10000] * 4, [1] * 4))
    assert model.predict_one(0x10040, COND, 0x10000)[0] == 0x10000
    assert model.predict_one(0x10004, COND, 0x10000)[0] == 0x10008


@given(pc=pcs_st, pattern=st.lists(st.booleans(), min_size=1, max_size=8))
def test_history_predictors_learn_short_periodic_patterns(pc, pattern):
    """A pattern of period p <= 8 is a function of the last p outcomes, which gshare's
    12 history bits and TAGE's 12-outcome table both see: perfect after warm-up."""
    trace = cond_trace([pc] * 600, np.resize(pattern, 600))
    for kind in ("gshare", "tage"):
        assert mispredictions_after_warmup(kind, trace, 200) == 0, kind


@pytest.mark.parametrize("pattern, bimodal_rate", [
    ([1, 0], 1 / 2),        # counter oscillates 0 <-> 1: every T missed
    ([1, 1, 0], 1 / 3),     # counter settles 2 -> 3 -> 3 -> 2: every N missed
    ([1, 0, 0], 1 / 3),     # counter 0 -> 1 -> 0: every T missed
])
def test_bimodal_cannot_learn_periodic_patterns(pattern, bimodal_rate):
    trace = cond_trace([0x10040] * 600, np.resize(pattern, 600))
    assert mispredictions_after_warmup("bimodal", trace, 300) == pytest.approx(300 * bimodal_rate, abs=1)


def test_loop_exit_is_learnt_from_history():
    """An 8-trip inner loop: bimodal misses every exit (hand-derived: the counter stays
    taken); the exit follows 8 taken outcomes (7 trips + the outer branch) preceded by a
    not-taken one, within gshare's 12 bits and TAGE's 12-outcome table."""
    trace = loop_trace(iterations=200, trips=8)
    half = len(trace[0]) // 2
    assert mispredictions_after_warmup("bimodal", trace, half) == 100
    assert mispredictions_after_warmup("gshare", trace, half) == 0
    assert mispredictions_after_warmup("tage", trace, half) == 0


def test_tage_longer_history_beats_gshare_on_a_long_loop():
    """A 20-trip loop needs more than gshare's 12 history bits; TAGE's 27-outcome table
    sees the previous exit."""
    trace = loop_trace(iterations=200, trips=20)
    half = len(trace[0]) // 2
    assert mispredictions_after_warmup("gshare", trace, half) == 100
    assert mispredictions_after_warmup("tage", trace, half) == 0


def test_tage_new_entries_defer_to_the_base_on_noisy_biased_branches():
    """64 branches each 90% biased: a misprediction (the noise) allocates tagged entries
    that are still weak; deferring to the alternate while they are new (use_alt_on_weak)
    keeps TAGE as good as bimodal (without it, it loses about 1.4 points here)."""
    rng = np.random.default_rng(3)
    n = 20000
    branch = rng.integers(0, 64, n)
    bias = rng.random(64) < 0.5
    outcomes = np.where(rng.random(n) < 0.9, bias[branch], ~bias[branch])
    trace = cond_trace(0x10000 + 4 * branch, outcomes)
    bimodal = PredictorModel("bimodal").run_trace(*trace) / n
    assert PredictorModel("tage").run_trace(*trace) / n < bimodal + 0.005


def test_random_outcomes_are_a_coin_toss_for_everyone():
    rng = np.random.default_rng(2024)
    n = 8000
    trace = cond_trace(0x10000 + 4 * rng.integers(0, 32, n), rng.integers(0, 2, n))
    for kind in KINDS:
        rate = PredictorModel(kind).run_trace(*trace) / n
        assert 0.46 < rate < 0.54, (kind, rate)


# ---- RAS ---------------------------------------------------------------------------------

def call_return_trace(events):
    """Arrays for run_trace from a well-nested sequence of ("call", site) / ("return",)
    events: a call at `site` jumps to a function whose return instruction goes back
    to site + 4."""
    pcs, classes, targets, stack = [], [], [], []
    for event in events:
        if event[0] == "call":
            site = event[1]
            function = site + 0x1000
            pcs.append(site)
            classes.append(CALL)
            targets.append(function)
            stack.append(site)
        else:
            site = stack.pop()
            pcs.append(site + 0x1000 + 0x40)     # the callee's return instruction
            classes.append(RETURN)
            targets.append(site + 4)
    n = len(pcs)
    return (np.array(pcs, np.uint32), np.array(classes, np.uint8), np.ones(n, np.uint8),
            np.array(targets, np.uint32))


@st.composite
def nested_calls(draw, max_depth):
    """A random walk of calls and returns never deeper than max_depth, ending at depth 0."""
    events, depth = [], 0
    for _ in range(draw(st.integers(1, 60))):
        if depth < max_depth and (depth == 0 or draw(st.booleans())):
            events.append(("call", draw(pcs_st)))
            depth += 1
        else:
            events.append(("return",))
            depth -= 1
    events += [("return",)] * depth
    return events


@given(kind=st.sampled_from(KINDS), events=nested_calls(max_depth=16))
def test_ras_predicts_nested_returns_exactly(kind, events):
    model = PredictorModel(kind, ras_entries=16)
    assert model.run_trace(*call_return_trace(events)) == 0
    assert model.ras_top == 0


@pytest.mark.parametrize("extra", [1, 3, 16])
def test_ras_overflow_loses_only_the_deepest_returns(extra):
    """Calls nested `extra` deeper than the RAS: the oldest addresses are overwritten,
    so exactly the `extra` outermost returns miss; the stack then works again."""
    depth = 8 + extra
    sites = [0x20000 + 0x100 * i for i in range(depth)]
    overflow = [("call", s) for s in sites] + [("return",)] * depth
    model = PredictorModel("gshare", ras_entries=8)
    assert model.run_trace(*call_return_trace(overflow)) == extra
    within = [("call", s) for s in sites[:8]] + [("return",)] * 8
    assert model.run_trace(*call_return_trace(within)) == 0


def test_indirect_call_pushes_and_return_without_call_uses_the_btb():
    model = PredictorModel("bimodal")
    # jalr ra: target unknown the first time (falls through), but the return is right.
    trace = (np.array([0x10000, 0x30040], np.uint32), np.array([CALL_INDIRECT, RETURN], np.uint8),
             np.ones(2, np.uint8), np.array([0x30000, 0x10004], np.uint32))
    assert model.run_trace(*trace) == 1
    assert model.run_trace(*trace) == 0
    # A return with an empty RAS (as after a longjmp) is predicted from the BTB.
    lone = (np.array([0x50000] * 3, np.uint32), np.full(3, RETURN, np.uint8),
            np.ones(3, np.uint8), np.full(3, 0x60000, np.uint32))
    assert model.run_trace(*lone) == 1


# ---- BTB ---------------------------------------------------------------------------------

def train_jump(model, pc, target):
    _, cp = model.predict_one(pc, INDIRECT)
    model.train_one(pc, INDIRECT, cp, True, target)


def btb_prediction(model, pc):
    """The BTB's target for an indirect jump at pc, None on a miss (prediction only)."""
    next_pc, _ = model.predict_one(pc, INDIRECT)
    return None if next_pc == pc + 4 else next_pc


@given(pc=pcs_st, first=pcs_st, second=pcs_st)
def test_btb_learns_a_stable_indirect_target(pc, first, second):
    model = PredictorModel("static")
    n = 50
    for target, misses in ((first, 1), (second, int(second != first))):
        trace = (np.full(n, pc, np.uint32), np.full(n, INDIRECT, np.uint8),
                 np.ones(n, np.uint8), np.full(n, target, np.uint32))
        assert model.run_trace(*trace) == misses


def test_btb_set_associative_lru_by_hand():
    # 8 entries, 2 ways: 4 sets by (pc >> 2) & 3. A, B, C are all in set 0; E in set 1.
    model = PredictorModel("static", btb_entries=8, btb_ways=2)
    a, b, c, e = 0x10000, 0x10010, 0x10020, 0x10004
    train_jump(model, a, 0xA000)
    train_jump(model, b, 0xB000)
    train_jump(model, e, 0xE000)
    assert [btb_prediction(model, pc) for pc in (a, b, e)] == [0xA000, 0xB000, 0xE000]
    train_jump(model, a, 0xA000)    # A trained more recently than B...
    train_jump(model, c, 0xC000)    # ...so C replaces B
    assert [btb_prediction(model, pc) for pc in (a, b, c, e)] == [0xA000, None, 0xC000, 0xE000]
    btb_prediction(model, a)        # lookups do not count as use: LRU follows training
    train_jump(model, b, 0xB000)    # A is now the least recently trained of A, C
    assert [btb_prediction(model, pc) for pc in (a, b, c)] == [None, 0xB000, 0xC000]


def test_btb_direct_mapped_conflict_by_hand():
    # 8 entries, 1 way: 0x10000 and 0x10020 both map to set (pc >> 2) & 7 == 0.
    model = PredictorModel("static", btb_entries=8, btb_ways=1)
    train_jump(model, 0x10000, 0xA000)
    train_jump(model, 0x10020, 0xB000)
    assert btb_prediction(model, 0x10000) is None
    assert btb_prediction(model, 0x10020) == 0xB000


def test_direct_branches_do_not_use_the_btb():
    # A 1-entry BTB: taken conditional branches, jumps and calls leave the jalr's entry alone.
    model = PredictorModel("bimodal", btb_entries=1, btb_ways=1)
    train_jump(model, 0x10000, 0xA000)
    pcs = np.array([0x20000, 0x20100, 0x20200], np.uint32)
    trace = (pcs, np.array([COND, JUMP, CALL], np.uint8), np.ones(3, np.uint8), pcs + 0x80)
    model.run_trace(*trace)
    assert btb_prediction(model, 0x10000) == 0xA000


# ---- speculation: repair and restore ------------------------------------------------------

class SequentialModel:
    """History and circular RAS as a predictor that never mispredicts would hold them."""

    def __init__(self, ras_entries):
        self.history = 0
        self.slots = [0] * ras_entries
        self.top = 0

    def apply(self, cls, taken, pc):
        if cls == COND:
            self.history = ((self.history << 1) | taken) & HISTORY_MASK
        elif cls in (CALL, CALL_INDIRECT):
            self.top += 1
            self.slots[(self.top - 1) % len(self.slots)] = pc + 4
        elif cls == RETURN and self.top:
            self.top -= 1

    @property
    def top_value(self):
        return self.slots[(self.top - 1) % len(self.slots)] if self.top else None


def run_speculatively(model, reference, steps):
    """Run (instruction, wrong path) steps: predict the instruction; when the prediction
    was wrong or a wrong path is given, predict the wrong path, then repair. Yields
    after each step, with `reference` advanced by the instruction's real outcome."""
    for (cls, taken, pc), wrong_path in steps:
        taken = taken if cls == COND else cls != NONE
        _, cp = model.predict_one(pc, cls, pc - 64)
        if wrong_path or (cls == COND and cp.predicted_taken != taken):
            for wrong_cls, _, wrong_pc in wrong_path:
                model.predict_one(wrong_pc, wrong_cls, wrong_pc - 64)
            model.repair(cls, cp, taken, pc)
        reference.apply(cls, taken, pc)
        yield


ALL_CLASSES = (NONE, COND, JUMP, CALL, RETURN, INDIRECT, CALL_INDIRECT)
NO_RETURNS = (NONE, COND, JUMP, CALL, INDIRECT, CALL_INDIRECT)


def instructions(classes):
    return st.tuples(st.sampled_from(classes), st.booleans(), pcs_st)


def speculative_steps(wrong_path_classes):
    return st.lists(st.tuples(instructions(ALL_CLASSES),
                              st.lists(instructions(wrong_path_classes), max_size=6)),
                    max_size=40)


@given(kind=st.sampled_from(KINDS), steps=speculative_steps(ALL_CLASSES))
def test_repair_gives_the_sequential_history_and_ras_pointer(kind, steps):
    """Whatever the wrong paths did (calls and returns included, on a small wrapping
    RAS), repair leaves the history and the RAS pointer a sequential run would have."""
    model = PredictorModel(kind, ras_entries=4)
    reference = SequentialModel(4)
    for _ in run_speculatively(model, reference, steps):
        assert model.history == reference.history
        assert model.ras_top == reference.top


@given(kind=st.sampled_from(KINDS), steps=speculative_steps(NO_RETURNS))
def test_repair_gives_the_sequential_return_address(kind, steps):
    """Wrong paths that push but never pop below the branch (the case top-of-stack
    checkpointing covers), on a RAS too large to wrap: the top address is exact too."""
    model = PredictorModel(kind, ras_entries=512)
    reference = SequentialModel(512)
    for _ in run_speculatively(model, reference, steps):
        assert model.ras_top_value == reference.top_value


def test_repair_undoes_a_wrong_path_pop_and_push():
    model = PredictorModel("static")
    model.predict_one(0x10000, CALL, 0x20000)          # pushes 0x10004
    _, cp = model.predict_one(0x20000, COND, 0x20100)  # predicted not taken, really taken
    model.predict_one(0x20004, RETURN)                 # wrong path: pops 0x10004 and
    model.predict_one(0x10004, CALL, 0x30000)          # pushes 0x10008 into its slot
    model.repair(COND, cp, True, 0x20000)
    assert (model.ras_top, model.ras_top_value) == (1, 0x10004)


@given(kind=st.sampled_from(KINDS),
       before=st.lists(instructions(ALL_CLASSES), max_size=20),
       wrong_path=st.lists(instructions(ALL_CLASSES), max_size=20))
def test_restore_returns_to_the_checkpoint(kind, before, wrong_path):
    model = PredictorModel(kind, ras_entries=4)
    for cls, _, pc in before:
        model.predict_one(pc, cls, pc - 64)
    state = (model.history, model.ras_top, model.ras_top_value)
    cp = model.checkpoint()
    for cls, _, pc in wrong_path:
        model.predict_one(pc, cls, pc - 64)
    model.restore(cp)
    assert (model.history, model.ras_top, model.ras_top_value) == state


def test_history_shifts_in_conditional_outcomes_only():
    model = PredictorModel("gshare")
    for cls in (COND, JUMP, CALL, RETURN, INDIRECT, NONE, COND):
        model.predict_one(0x10000, cls, 0x10040)     # gshare starts not taken
    assert model.history == 0
    _, cp = model.predict_one(0x10000, COND, 0x10040)
    model.repair(COND, cp, True, 0x10000)
    assert model.history == 0b1
    _, cp = model.predict_one(0x10000, COND, 0x10040)
    model.repair(COND, cp, False, 0x10000)
    assert model.history == 0b10


# ---- determinism and parameters --------------------------------------------------------------

def mixed_trace(seed, n=4000):
    """Random pcs, classes and outcomes (targets fixed per pc, as for real code)."""
    rng = np.random.default_rng(seed)
    pcs = (0x10000 + 4 * rng.integers(0, 256, n)).astype(np.uint32)
    classes = rng.choice(np.array([COND, COND, COND, JUMP, CALL, RETURN, INDIRECT], np.uint8), n)
    taken = np.where(classes == COND, rng.integers(0, 2, n), 1).astype(np.uint8)
    return pcs, classes, taken, pcs * 3 + 0x100


@pytest.mark.parametrize("kind", KINDS)
def test_same_trace_same_mispredictions(kind):
    trace = mixed_trace(7)
    first = PredictorModel(kind)
    counts = first.run_trace(*trace)
    assert PredictorModel(kind).run_trace(*trace) == counts
    first.reset()
    assert (first.history, first.ras_top) == (0, 0)
    assert first.run_trace(*trace) == counts


@pytest.mark.parametrize("kwargs, message", [
    (dict(table_bits=0), "table_bits must be 1..24, not 0"),
    (dict(table_bits=25), "table_bits must be 1..24, not 25"),
    (dict(history_bits=33), "history_bits must be 0..32, not 33"),
    (dict(btb_entries=0), "btb_entries must be a power of two, not 0"),
    (dict(btb_entries=384), "btb_entries must be a power of two, not 384"),
    (dict(btb_ways=0), "btb_ways must divide btb_entries (512), not 0"),
    (dict(btb_ways=3), "btb_ways must divide btb_entries (512), not 3"),
    (dict(btb_entries=4, btb_ways=8), "btb_ways must divide btb_entries (4), not 8"),
    (dict(ras_entries=0), "ras_entries must be at least 1"),
    (dict(table_bits=-1), "table_bits must be a non-negative 32-bit integer, not -1"),
])
@pytest.mark.parametrize("kind", KINDS)
def test_invalid_parameters(kind, kwargs, message):
    with pytest.raises(ValueError) as info:
        PredictorModel(kind, **kwargs)
    assert str(info.value) == message


def test_unknown_kind():
    with pytest.raises(ValueError, match="unknown predictor kind 'perceptron'; one of static, "
                                         "bimodal, gshare, tage"):
        PredictorModel("perceptron")

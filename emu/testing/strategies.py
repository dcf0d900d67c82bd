"""Hypothesis strategies for random valid programs and machine configurations.

This module owns the shape of generated test programs: which instructions they use
(read from isa.table by unit and format, never listed by hand), how registers are
seeded, how memory accesses stay inside a data region, and how loops and calls are
built so that every program terminates within a bound it reports.

Every generated program is GNU-as source text for isa.assemble with this layout::

    _start:       li  <reg>, <seed value>     for every free register
                  la  s11, data_region        the data base register
                  ...generated items...
                  li  a7, 93
    exit_ecall:   ecall                       exit(a0 & 0xff)
    func_N:       ...straight-line leaf...    (programs() only)
                  ret
    data_region:  .word ...                   DATA_SIZE bytes of seeded data
    data_region_end:

Reserved registers: zero, sp (the loader's stack pointer, never written), ra (only
calls and returns write it), s11 (the data base register) and s10/s9 (loop counters,
outer and inner). All other registers are seeded and freely written. Memory accesses
are naturally aligned and confined to the data region; on purpose they cluster on a
few hot words so that accesses of different widths overlap. Programs never read the
cycle/time/instret counters, so their final state is fully determined by the ISA and
can be compared between machines (see emu.testing.compare).

machine_configs() draws valid MachineConfigs, field by field from
CONFIG_FIELD_STRATEGIES, with any field fixable by the caller.
"""

from __future__ import annotations

import dataclasses
import typing
from dataclasses import dataclass, field
from functools import lru_cache

from hypothesis import strategies as st

from emu.config import CPU_MODELS, MEMORY_DEPENDENCE, PREDICTORS, CoreConfig, MachineConfig
from isa import table

DATA_SYMBOL = "data_region"
DATA_END_SYMBOL = "data_region_end"
EXIT_SYMBOL = "exit_ecall"
#: Bytes in the data region (a power of two, so `andi` masks an index into it).
DATA_SIZE = 256
SYS_EXIT = 93

BASE_REGISTER = "s11"
#: Loop counters by nesting depth; their number is the maximum loop nesting.
LOOP_COUNTERS = ("s10", "s9")
RESERVED_REGISTERS = frozenset({"zero", "sp", "ra", BASE_REGISTER, *LOOP_COUNTERS})
#: Registers generated code may write (and that are seeded at the start).
FREE_REGISTERS = tuple(r for r in table.REGISTER_NAMES if r not in RESERVED_REGISTERS)

INT_MIN = -(1 << 31)
INT_MAX = (1 << 31) - 1
#: Register and data seeds drawn often, besides arbitrary words.
INTERESTING_VALUES = (0, 1, -1, 2, 31, 32, INT_MIN, INT_MAX, INT_MIN + 1, 0x7FF, -0x800,
                      0x800, 0xFFFF, 0x10000, 0x55555555, -0x55555556, 0x12345678)
#: Byte offsets of the data region's hot words; most accesses land in one of them.
HOT_WORDS = (0, 4, 8, 60, 128, DATA_SIZE - 4)

_ACCESS_WIDTH = {"b": 1, "h": 2, "w": 4}


def _rows(predicate: typing.Callable[[table.Instruction], bool]) -> tuple[table.Instruction, ...]:
    return tuple(row for row in table.instructions() if predicate(row))


@lru_cache(maxsize=None)
def instruction_classes() -> dict[str, tuple[table.Instruction, ...]]:
    """The table's rows grouped the way the generator uses them."""
    lr, sc = table.by_name()["lr.w"], table.by_name()["sc.w"]
    return {
        "alu_register": _rows(lambda r: r.unit == "alu" and r.format == "R"),
        "alu_immediate": _rows(lambda r: r.unit == "alu" and "imm12" in r.operands),
        "shift_immediate": _rows(lambda r: r.unit == "alu" and "shamt" in r.operands),
        "upper": _rows(lambda r: r.unit == "alu" and r.format == "U"),
        "mul": _rows(lambda r: r.unit == "mul"),
        "div": _rows(lambda r: r.unit == "div"),
        "load": _rows(lambda r: r.unit == "load"),
        "store": _rows(lambda r: r.unit == "store"),
        "amo": _rows(lambda r: r.unit == "amo" and r not in (lr, sc)),
        "branch": _rows(lambda r: r.unit == "branch" and r.format == "B"),
        "fence": _rows(lambda r: r.unit == "system" and r.name.startswith("fence")),
    }


def access_width(row: table.Instruction) -> int:
    """Bytes a load or store row accesses: lb/lbu/sb 1, lh/lhu/sh 2, lw/sw 4."""
    return _ACCESS_WIDTH[row.name[1]]


@dataclass(frozen=True)
class GeneratedProgram:
    """A generated program: its source text and what the tests need to know about it."""

    source: str
    #: Upper bound on the instructions executed up to and including the exit ecall.
    max_instructions: int
    #: The kinds of items it contains ("alu", "load", "loop", "call", ...), for statistics.
    features: frozenset[str] = field(default_factory=frozenset)

    def __str__(self) -> str:
        return self.source


# ---- value strategies ----------------------------------------------------------------

def words() -> st.SearchStrategy[int]:
    """Signed 32-bit values, often one of INTERESTING_VALUES."""
    return st.one_of(st.sampled_from(INTERESTING_VALUES), st.integers(INT_MIN, INT_MAX))


def _immediates(field_name: str) -> st.SearchStrategy[int]:
    """Values for an immediate field: its extremes, 0 and 1 often, otherwise uniform."""
    lo, hi, _align = table.IMM_RANGES[field_name]
    return st.one_of(st.sampled_from(sorted({lo, hi, 0, 1})), st.integers(lo, hi))


_IMMEDIATES = {name: _immediates(name) for name in ("imm12", "imm20", "shamt")}
_SOURCES = st.sampled_from(table.REGISTER_NAMES)
#: Destinations: the free registers, and now and then x0 (the write must vanish).
_DESTINATIONS = st.sampled_from(FREE_REGISTERS + ("zero",))
_SCRATCH = st.sampled_from(FREE_REGISTERS)
_AQRL_SUFFIX = ("", ".aq", ".rl", ".aqrl")
#: How ALU operand fields are drawn, by field name (as isa.table names them).
_ALU_FIELDS = {"rd": _DESTINATIONS, "rs1": _SOURCES, "rs2": _SOURCES, **_IMMEDIATES}


def _render(row: table.Instruction, suffix: str = "", **values: object) -> str:
    """`row` in assembly syntax with its operand fields taken from `values`."""
    operands = []
    for operand in row.operands:
        if operand.endswith("(rs1)"):
            displacement = operand[: -len("(rs1)")]
            operands.append(f"{values[displacement] if displacement else ''}({values['rs1']})")
        elif operand == "imm20":
            operands.append(hex(values[operand]))  # type: ignore[arg-type]
        else:
            operands.append(str(values[operand]))
    return f"{row.name}{suffix} {', '.join(operands)}".rstrip()


# ---- program construction ------------------------------------------------------------

@dataclass
class _Code:
    """Lines of assembly with an upper bound on the instructions they execute."""

    lines: list[str] = field(default_factory=list)
    bound: int = 0
    features: set[str] = field(default_factory=set)

    def emit(self, line: str, instructions: int = 1) -> None:
        self.lines.append("        " + line)
        self.bound += instructions

    def label(self, name: str) -> None:
        self.lines.append(f"{name}:")

    def extend(self, other: "_Code", times: int = 1) -> None:
        self.lines += other.lines
        self.bound += other.bound * times
        self.features |= other.features


@dataclass(frozen=True)
class _Options:
    kinds: tuple[str, ...]      # item kinds: keys of _SIMPLE_ITEMS and _NESTING_ITEMS
    max_items: int
    max_loop_iterations: int = 8
    max_functions: int = 0


class _Context:
    """State of one program being drawn: unique label numbers and the leaf functions."""

    def __init__(self, draw: typing.Callable, options: _Options):
        self.draw = draw
        self.options = options
        self.labels = 0
        self.functions: list[_Code] = []

    def new_label(self, prefix: str) -> str:
        self.labels += 1
        return f"{prefix}_{self.labels}"


def _data_offset(draw: typing.Callable, width: int) -> int:
    """A width-aligned offset into the data region, usually inside a hot word."""
    hot = st.tuples(st.sampled_from(HOT_WORDS), st.integers(0, 4 // width - 1)).map(
        lambda t: t[0] + t[1] * width)
    anywhere = st.integers(0, DATA_SIZE // width - 1).map(lambda i: i * width)
    return draw(st.one_of(hot, hot, anywhere))


def _item_alu(ctx: _Context, code: _Code) -> None:
    classes = instruction_classes()
    kind = ctx.draw(st.sampled_from(("alu_register", "alu_immediate", "shift_immediate", "upper")))
    row = ctx.draw(st.sampled_from(classes[kind]))
    code.emit(_render(row, **{name: ctx.draw(_ALU_FIELDS[name]) for name in row.fields}))
    code.features.add("alu")


def _item_muldiv(ctx: _Context, code: _Code) -> None:
    """A mul/div/rem row; half the divisions get edge operands set up right before."""
    classes = instruction_classes()
    row = ctx.draw(st.sampled_from(classes["mul"] + classes["div"]))
    rd, rs1, rs2 = ctx.draw(_DESTINATIONS), ctx.draw(_SOURCES), ctx.draw(_SOURCES)
    if row.unit == "div" and ctx.draw(st.booleans()):
        dividend, divisor = ctx.draw(st.sampled_from(((INT_MIN, -1), (INT_MIN, 0), (1, 0),
                                                     (-1, 0), (0, 0), (INT_MIN, 1))))
        rs1 = ctx.draw(_SCRATCH)
        rs2 = ctx.draw(_SCRATCH.filter(lambda r: r != rs1))
        code.emit(f"li {rs1}, {dividend}", 2)
        code.emit(f"li {rs2}, {divisor}", 2)
        code.features.add("div_edge")
    code.emit(_render(row, rd=rd, rs1=rs1, rs2=rs2))
    code.features.add(row.unit)


def _item_load(ctx: _Context, code: _Code) -> None:
    row = ctx.draw(st.sampled_from(instruction_classes()["load"]))
    width = access_width(row)
    if ctx.draw(st.booleans()):
        offset = _data_offset(ctx.draw, width)
        code.emit(_render(row, rd=ctx.draw(_DESTINATIONS), imm12=offset, rs1=BASE_REGISTER))
    else:
        # Data-dependent address: the index is masked into the region, then loaded.
        rd, index = ctx.draw(_SCRATCH), ctx.draw(_SOURCES)
        code.emit(f"andi {rd}, {index}, {(DATA_SIZE - 1) & -width}")
        code.emit(f"add {rd}, {rd}, {BASE_REGISTER}")
        code.emit(_render(row, rd=rd, imm12=0, rs1=rd))
    code.features.add("load")


def _item_store(ctx: _Context, code: _Code) -> None:
    row = ctx.draw(st.sampled_from(instruction_classes()["store"]))
    width = access_width(row)
    value = ctx.draw(_SOURCES)
    if ctx.draw(st.booleans()):
        offset = _data_offset(ctx.draw, width)
        code.emit(_render(row, rs2=value, imm12=offset, rs1=BASE_REGISTER))
    else:
        address = ctx.draw(_SCRATCH.filter(lambda r: r != value))
        code.emit(f"andi {address}, {ctx.draw(_SOURCES)}, {(DATA_SIZE - 1) & -width}")
        code.emit(f"add {address}, {address}, {BASE_REGISTER}")
        code.emit(_render(row, rs2=value, imm12=0, rs1=address))
    code.features.add("store")


def _item_amo(ctx: _Context, code: _Code) -> None:
    row = ctx.draw(st.sampled_from(instruction_classes()["amo"]))
    address = ctx.draw(_SCRATCH)
    code.emit(f"addi {address}, {BASE_REGISTER}, {_data_offset(ctx.draw, 4)}")
    code.emit(_render(row, ctx.draw(st.sampled_from(_AQRL_SUFFIX)),
                      rd=ctx.draw(_DESTINATIONS), rs2=ctx.draw(_SOURCES), rs1=address))
    code.features.add("amo")


def _item_lrsc(ctx: _Context, code: _Code) -> None:
    """lr.w, maybe an ALU op on the loaded value, sc.w: to the reserved word (succeeds,
    rd = 0) or to another word (fails, rd = 1, nothing stored). No store comes between
    them, so every spec-conforming implementation gives the same result."""
    rows = table.by_name()
    address = ctx.draw(_SCRATCH)
    loaded = ctx.draw(_SCRATCH.filter(lambda r: r != address))
    offset = _data_offset(ctx.draw, 4)
    code.emit(f"addi {address}, {BASE_REGISTER}, {offset}")
    code.emit(_render(rows["lr.w"], ctx.draw(st.sampled_from(_AQRL_SUFFIX)), rd=loaded, rs1=address))
    if ctx.draw(st.booleans()):
        code.emit(f"addi {loaded}, {loaded}, {ctx.draw(_IMMEDIATES['imm12'])}")
    sc_address = address
    if ctx.draw(st.integers(0, 3)) == 0:
        sc_address = ctx.draw(_SCRATCH.filter(lambda r: r not in (address, loaded)))
        other = ctx.draw(st.sampled_from([o for o in range(0, DATA_SIZE, 4) if o != offset]))
        code.emit(f"addi {sc_address}, {BASE_REGISTER}, {other}")
        code.features.add("sc_fail")
    code.emit(_render(rows["sc.w"], ctx.draw(st.sampled_from(_AQRL_SUFFIX)),
                      rd=ctx.draw(_DESTINATIONS), rs2=ctx.draw(st.sampled_from((loaded, "zero"))),
                      rs1=sc_address))
    code.features.add("lrsc")


def _item_fence(ctx: _Context, code: _Code) -> None:
    row = ctx.draw(st.sampled_from(instruction_classes()["fence"]))
    sets = st.sets(st.sampled_from("iorw"), min_size=1).map(
        lambda s: "".join(c for c in "iorw" if c in s))
    code.emit(_render(row, pred=ctx.draw(sets), succ=ctx.draw(sets)))
    code.features.add("fence")


def _item_forward_branch(ctx: _Context, code: _Code, depth: int) -> None:
    """A conditional branch (or a `j`) over a few items: taken or not, depending on data."""
    target = ctx.new_label("skip")
    if ctx.draw(st.integers(0, 5)) == 0:
        code.emit(f"j {target}")
    else:
        row = ctx.draw(st.sampled_from(instruction_classes()["branch"]))
        code.emit(_render(row, rs1=ctx.draw(_SOURCES), rs2=ctx.draw(_SOURCES), btarget=target))
    code.extend(_draw_items(ctx, depth, max_items=4, nesting=()))
    code.label(target)
    code.features.add("branch")


def _item_loop(ctx: _Context, code: _Code, depth: int) -> None:
    """A counted loop on LOOP_COUNTERS[depth], closed by one of three backward branches."""
    counter = LOOP_COUNTERS[depth]
    iterations = ctx.draw(st.integers(1, ctx.options.max_loop_iterations))
    head = ctx.new_label("loop")
    code.emit(f"li {counter}, {iterations}")
    code.label(head)
    body = _draw_items(ctx, depth + 1, max_items=6, nesting=("branch", "loop", "call"))
    body.emit(f"addi {counter}, {counter}, -1")
    body.emit(ctx.draw(st.sampled_from((f"bnez {counter}, {head}", f"bgtz {counter}, {head}",
                                        f"bltu zero, {counter}, {head}"))))
    code.extend(body, times=iterations)
    code.features.add("loop")


def _item_call(ctx: _Context, code: _Code, depth: int) -> None:
    """A call to a new or an already generated leaf function, in one of four spellings."""
    functions = ctx.functions
    if not functions or (len(functions) < ctx.options.max_functions and ctx.draw(st.booleans())):
        body = _draw_items(ctx, depth, max_items=8, nesting=("branch",))
        name = f"func_{len(functions)}"
        function = _Code(features=body.features)
        function.label(name)
        function.extend(body)
        function.emit(ctx.draw(st.sampled_from(("ret", "jr ra", "jalr zero, 0(ra)"))))
        functions.append(function)
    index = ctx.draw(st.integers(0, len(functions) - 1))
    name = f"func_{index}"
    spelling = ctx.draw(st.integers(0, 3))
    if spelling == 0:
        code.emit(f"call {name}", 2)
    elif spelling == 1:
        code.emit(f"jal {name}")
    elif spelling == 2:
        code.emit(f"jal ra, {name}")
    else:
        target = ctx.draw(_SCRATCH)
        code.emit(f"la {target}, {name}", 2)
        code.emit(f"jalr ra, 0({target})")
    code.bound += functions[index].bound
    code.features |= functions[index].features | {"call"}


_SIMPLE_ITEMS = {
    "alu": _item_alu, "muldiv": _item_muldiv, "load": _item_load, "store": _item_store,
    "amo": _item_amo, "lrsc": _item_lrsc, "fence": _item_fence,
}
_NESTING_ITEMS = {"branch": _item_forward_branch, "loop": _item_loop, "call": _item_call}
#: Relative frequency of each item kind, when allowed.
_WEIGHTS = {"alu": 8, "muldiv": 3, "load": 3, "store": 3, "amo": 1, "lrsc": 1, "fence": 1,
            "branch": 2, "loop": 2, "call": 2}


def _draw_items(ctx: _Context, depth: int, max_items: int, nesting: tuple[str, ...],
                min_items: int = 1) -> _Code:
    """min_items to max_items items of the program's kinds; of the nesting kinds only
    those in `nesting` (and loops only while a loop counter is left)."""
    kinds = [k for k in ctx.options.kinds
             if k in _SIMPLE_ITEMS
             or (k in nesting and (k != "loop" or depth < len(LOOP_COUNTERS)))]
    weighted = [k for k in kinds for _ in range(_WEIGHTS[k])]
    code = _Code()
    for kind in ctx.draw(st.lists(st.sampled_from(weighted), min_size=min_items, max_size=max_items)):
        if kind in _SIMPLE_ITEMS:
            _SIMPLE_ITEMS[kind](ctx, code)
        else:
            _NESTING_ITEMS[kind](ctx, code, depth)
    return code


@st.composite
def _programs(draw: typing.Callable, options: _Options) -> GeneratedProgram:
    ctx = _Context(draw, options)
    code = _Code()
    code.lines += ["        .text", "        .globl  _start", "_start:"]
    for register in FREE_REGISTERS:
        code.emit(f"li {register}, {draw(words())}", 2)
    code.emit(f"la {BASE_REGISTER}, {DATA_SYMBOL}", 2)
    code.extend(_draw_items(ctx, 0, options.max_items, nesting=tuple(_NESTING_ITEMS),
                            min_items=max(1, options.max_items // 4)))
    code.emit(f"li a7, {SYS_EXIT}")
    code.label(EXIT_SYMBOL)
    code.emit("ecall")
    for function in ctx.functions:
        code.lines += function.lines
    data = draw(st.lists(words(), min_size=DATA_SIZE // 4, max_size=DATA_SIZE // 4))
    code.lines += ["", "        .data", "        .p2align 2", f"{DATA_SYMBOL}:"]
    for start in range(0, len(data), 8):
        code.lines.append("        .word   " + ", ".join(str(w) for w in data[start:start + 8]))
    code.lines.append(f"{DATA_END_SYMBOL}:")
    return GeneratedProgram("\n".join(code.lines) + "\n", code.bound, frozenset(code.features))


_STRAIGHT_LINE_KINDS = tuple(_SIMPLE_ITEMS)


def straight_line_programs(max_items: int = 40) -> st.SearchStrategy[GeneratedProgram]:
    """Programs without control flow: ALU (all shifts, slt, lui/auipc), mul/div/rem with
    edge operands, loads and stores of every width, AMOs, LR/SC and fences, then exit."""
    return _programs(_Options(_STRAIGHT_LINE_KINDS, max_items))


def looping_programs(max_items: int = 12,
                     max_loop_iterations: int = 8) -> st.SearchStrategy[GeneratedProgram]:
    """Straight-line items plus counted loops (nested up to two deep, each on a reserved
    counter register, so they always terminate) and forward branches, taken or not."""
    kinds = _STRAIGHT_LINE_KINDS + ("branch", "loop")
    return _programs(_Options(kinds, max_items, max_loop_iterations))


def programs(max_items: int = 16, max_loop_iterations: int = 6,
             max_functions: int = 3) -> st.SearchStrategy[GeneratedProgram]:
    """Everything: straight-line items, loops, forward branches and calls to generated
    leaf functions (call, jal, jal ra and an indirect jalr; ret, jr ra and jalr)."""
    kinds = _STRAIGHT_LINE_KINDS + ("branch", "loop", "call")
    return _programs(_Options(kinds, max_items, max_loop_iterations, max_functions))


# ---- machine configurations ------------------------------------------------------------

#: Strategies for MachineConfig fields; a field not listed keeps its default. The
#: memory_size moves the initial stack pointer (the stack starts at the top of RAM),
#: so pin it when comparing the state two configurations end in.
@st.composite
def core_configs(draw: typing.Callable, check_invariants: bool = False) -> CoreConfig:
    """Valid out-of-order core configurations: widths 1-8, tiny to large queues (tiny
    ones exercise every full-structure stall), every predictor and memory-dependence
    policy, short and long latencies."""
    width = st.integers(1, 8)
    queue = st.sampled_from((1, 2, 4, 8, 16, 64, 256))
    rob = draw(st.sampled_from((4, 8, 16, 32, 64, 128, 256)))
    return CoreConfig(
        fetch_width=draw(width), rename_width=draw(width), issue_width=draw(width),
        commit_width=draw(width), fetch_queue=draw(queue), frontend_depth=draw(st.integers(1, 8)),
        rob_entries=rob, iq_entries=draw(queue), lq_entries=draw(queue), sq_entries=draw(queue),
        phys_regs=draw(st.sampled_from((33, 34, 40, 64, 160, 300))),
        alu_units=draw(st.integers(1, 4)), alu_latency=draw(st.integers(1, 3)),
        branch_units=draw(st.integers(1, 2)), branch_latency=draw(st.integers(1, 3)),
        mul_units=draw(st.integers(1, 2)), mul_latency=draw(st.integers(1, 5)),
        div_units=draw(st.integers(1, 2)), div_latency=draw(st.integers(1, 40)),
        load_ports=draw(st.integers(1, 2)), store_ports=draw(st.integers(1, 2)),
        memory_latency=draw(st.integers(1, 10)), serial_latency=draw(st.integers(1, 4)),
        predictor=draw(st.sampled_from(PREDICTORS)),
        predictor_table_bits=draw(st.integers(1, 12)),
        predictor_history_bits=draw(st.integers(1, 16)),
        btb_entries=draw(st.sampled_from((1, 4, 64, 512))), btb_ways=1,
        ras_entries=draw(st.sampled_from((1, 2, 16))),
        memory_dependence=draw(st.sampled_from(MEMORY_DEPENDENCE)),
        check_invariants=check_invariants,
    )


CONFIG_FIELD_STRATEGIES: dict[str, st.SearchStrategy] = {
    "memory_size": st.sampled_from((1 << 20, 4 << 20, 16 << 20, 64 << 20)),
    "core": core_configs(),
    "cpu": st.sampled_from(CPU_MODELS),
    "seed": st.integers(0, (1 << 32) - 1),
    "timebase_hz": st.sampled_from((1_000_000, 10_000_000)),
    "clock_hz": st.sampled_from((100_000_000, 1_000_000_000, 3_000_000_000)),
}


def machine_configs(**fixed: object) -> st.SearchStrategy[MachineConfig]:
    """Valid MachineConfigs. Keyword arguments fix a field to a value or give a strategy
    for it: machine_configs(memory_size=1 << 20), machine_configs(seed=st.just(0)).

    Unless fixed, stack_size is drawn to fit the drawn memory_size."""
    names = {f.name for f in dataclasses.fields(MachineConfig)}
    unknown = set(fixed) - names
    if unknown:
        raise TypeError(f"MachineConfig has no field(s) {', '.join(sorted(unknown))}")
    strategies = {name: s for name, s in CONFIG_FIELD_STRATEGIES.items() if name in names}
    for name, value in fixed.items():
        strategies[name] = value if isinstance(value, st.SearchStrategy) else st.just(value)
    return _machine_configs(strategies)


@st.composite
def _machine_configs(draw: typing.Callable, strategies: dict[str, st.SearchStrategy]) -> MachineConfig:
    values = {name: draw(strategy) for name, strategy in strategies.items()}
    if "stack_size" not in values:
        memory_size = values.get("memory_size", MachineConfig().memory_size)
        sizes = [size for size in (64 << 10, 256 << 10) if size <= memory_size // 4]
        values["stack_size"] = draw(st.sampled_from(sizes + [memory_size // 4]))
    return MachineConfig(**values)

"""A plain-Python reference for one instruction, written from isa/README.md.

Deliberately independent of emu/_core: it reads the word through isa.table (the
table is the truth for encodings) but computes every result in Python integers,
so the Cython semantics are checked against a second, obvious implementation.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from isa.table import decode_fields, lookup

MASK = 0xFFFFFFFF


def s32(v: int) -> int:
    v &= MASK
    return v - (1 << 32) if v >> 31 else v


@dataclass
class State:
    regs: list[int]
    pc: int
    memory: dict[int, int] = field(default_factory=dict)   # byte address -> byte
    ram: tuple[int, int] = (0x1000, 0x1000 + (1 << 20))    # [start, end)
    instret: int = 0
    reservation: int | None = None

    def load(self, addr: int, width: int) -> int:
        return sum(self.memory.get(addr + i, 0) << (8 * i) for i in range(width))

    def store(self, addr: int, width: int, value: int) -> None:
        for i in range(width):
            self.memory[addr + i] = (value >> (8 * i)) & 0xFF


class TrapRaised(Exception):
    def __init__(self, cause: int, tval: int):
        super().__init__(cause, tval)
        self.cause, self.tval = cause, tval


ALU = {
    "add": lambda a, b: a + b, "sub": lambda a, b: a - b,
    "sll": lambda a, b: a << (b & 31), "srl": lambda a, b: a >> (b & 31),
    "sra": lambda a, b: s32(a) >> (b & 31),
    "slt": lambda a, b: int(s32(a) < s32(b)), "sltu": lambda a, b: int(a < b),
    "xor": lambda a, b: a ^ b, "or": lambda a, b: a | b, "and": lambda a, b: a & b,
    "mul": lambda a, b: a * b,
    "mulh": lambda a, b: (s32(a) * s32(b)) >> 32,
    "mulhsu": lambda a, b: (s32(a) * b) >> 32,
    "mulhu": lambda a, b: (a * b) >> 32,
    "div": lambda a, b: MASK if b == 0 else (
        0x80000000 if (a, b) == (0x80000000, MASK) else _tdiv(s32(a), s32(b))),
    "divu": lambda a, b: MASK if b == 0 else a // b,
    "rem": lambda a, b: a if b == 0 else (
        0 if (a, b) == (0x80000000, MASK) else s32(a) - s32(b) * _tdiv(s32(a), s32(b))),
    "remu": lambda a, b: a if b == 0 else a % b,
}
BRANCH = {
    "beq": lambda a, b: a == b, "bne": lambda a, b: a != b,
    "blt": lambda a, b: s32(a) < s32(b), "bge": lambda a, b: s32(a) >= s32(b),
    "bltu": lambda a, b: a < b, "bgeu": lambda a, b: a >= b,
}
LOADS = {"lb": (1, True), "lh": (2, True), "lw": (4, False), "lbu": (1, False), "lhu": (2, False)}
STORES = {"sb": 1, "sh": 2, "sw": 4}
AMO = {
    "amoswap.w": lambda o, s: s, "amoadd.w": lambda o, s: o + s, "amoxor.w": lambda o, s: o ^ s,
    "amoand.w": lambda o, s: o & s, "amoor.w": lambda o, s: o | s,
    "amomin.w": lambda o, s: o if s32(o) < s32(s) else s,
    "amomax.w": lambda o, s: o if s32(o) > s32(s) else s,
    "amominu.w": lambda o, s: min(o, s), "amomaxu.w": lambda o, s: max(o, s),
}
COUNTERS = {0xC00: "cycle", 0xC01: "time", 0xC02: "instret", 0xC80: "cycleh", 0xC81: "timeh",
            0xC82: "instreth"}


def _tdiv(a: int, b: int) -> int:
    """Division truncating toward zero, as C and RISC-V do."""
    q = abs(a) // abs(b)
    return q if (a < 0) == (b < 0) else -q


def _check(state: State, addr: int, width: int, misaligned: int, access: int) -> None:
    if addr % width:
        raise TrapRaised(misaligned, addr)
    if not (state.ram[0] <= addr and addr + width <= state.ram[1]):
        raise TrapRaised(access, addr)


def step(state: State, word: int, time_divider: int = 100) -> None:
    """Execute `word` at state.pc; raises TrapRaised (state unchanged) on an exception."""
    row = lookup(word)
    if row is None:
        raise TrapRaised(2, word)
    f = decode_fields(row, word)
    x = state.regs
    name, pc = row.name, state.pc
    rs1 = x[f.get("rs1", 0)]
    rs2 = x[f.get("rs2", 0)]
    result = None
    next_pc = pc + 4
    if name in ALU:
        result = ALU[name](rs1, rs2)
    elif name.endswith("i") and name[:-1] in ALU and row.format == "I":
        imm = f["imm12"] if "imm12" in f else f["shamt"]
        result = ALU[name[:-1]](rs1, imm & MASK)
    elif name == "sltiu":
        result = int(rs1 < (f["imm12"] & MASK))
    elif name == "lui":
        result = f["imm20"] << 12
    elif name == "auipc":
        result = pc + (f["imm20"] << 12)
    elif name == "jal":
        target = (pc + f["jtarget"]) & MASK
        if target % 4:
            raise TrapRaised(0, target)
        result, next_pc = pc + 4, target
    elif name == "jalr":
        target = (rs1 + f["imm12"]) & MASK & ~1
        if target % 4:
            raise TrapRaised(0, target)
        result, next_pc = pc + 4, target
    elif name in BRANCH:
        if BRANCH[name](rs1, rs2):
            target = (pc + f["btarget"]) & MASK
            if target % 4:
                raise TrapRaised(0, target)
            next_pc = target
    elif name in LOADS:
        width, signed = LOADS[name]
        addr = (rs1 + f["imm12"]) & MASK
        _check(state, addr, width, 4, 5)
        value = state.load(addr, width)
        if signed and value >> (8 * width - 1):
            value -= 1 << (8 * width)
        result = value
    elif name in STORES:
        width = STORES[name]
        addr = (rs1 + f["imm12"]) & MASK
        _check(state, addr, width, 6, 7)
        state.store(addr, width, rs2)
    elif name == "lr.w":
        _check(state, rs1, 4, 4, 5)
        result = state.load(rs1, 4)
        state.reservation = rs1
    elif name == "sc.w":
        _check(state, rs1, 4, 6, 7)
        if state.reservation == rs1:
            state.store(rs1, 4, rs2)
            result = 0
        else:
            result = 1
        state.reservation = None
    elif name in AMO:
        _check(state, rs1, 4, 6, 7)
        old = state.load(rs1, 4)
        state.store(rs1, 4, AMO[name](old, rs2) & MASK)
        result = old
    elif name.startswith("csrr"):
        csr = f["csr"]
        source = f.get("rs1", f.get("zimm", 0))
        writes = name in ("csrrw", "csrrwi") or source != 0
        if writes or csr not in COUNTERS:
            raise TrapRaised(2, word)
        counter = COUNTERS[csr]
        value = state.instret if counter.startswith(("cycle", "instret")) else state.instret // time_divider
        result = value >> 32 if counter.endswith("h") else value
    elif name == "ecall":
        raise TrapRaised(8, 0)
    elif name == "ebreak":
        raise TrapRaised(3, pc)
    # fence, fence.tso, fence.i: nothing architectural on one in-order hart
    if result is not None and f.get("rd", 0) != 0:
        x[f["rd"]] = result & MASK
    state.pc = next_pc & MASK
    state.instret += 1

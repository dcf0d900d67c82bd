"""The instruction table (isa/instructions.tab) as Python objects, and the bit fields.

This module owns: parsing the table, the operand bit-field layout of each format
(encode and extract), register and CSR names, and matching a word to its row.
The assembler, the disassembler, the decoder generator and the tests all read
the ISA through here, so the table file stays the single source of truth.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

TABLE_PATH = Path(__file__).with_name("instructions.tab")

FORMATS = ("R", "I", "S", "B", "U", "J")
UNITS = ("alu", "branch", "load", "store", "mul", "div", "amo", "csr", "system")

#: ABI register names, index = register number (objdump spells x8 "s0").
REGISTER_NAMES = (
    "zero", "ra", "sp", "gp", "tp", "t0", "t1", "t2",
    "s0", "s1", "a0", "a1", "a2", "a3", "a4", "a5",
    "a6", "a7", "s2", "s3", "s4", "s5", "s6", "s7",
    "s8", "s9", "s10", "s11", "t3", "t4", "t5", "t6",
)

#: Every spelling the assembler accepts for a register.
REGISTER_NUMBERS = {name: i for i, name in enumerate(REGISTER_NAMES)}
REGISTER_NUMBERS.update({f"x{i}": i for i in range(32)})
REGISTER_NUMBERS["fp"] = 8

#: The user-level counter CSRs this ISA implements (all read-only).
COUNTER_CSRS = {
    "cycle": 0xC00, "time": 0xC01, "instret": 0xC02,
    "cycleh": 0xC80, "timeh": 0xC81, "instreth": 0xC82,
}

#: CSR names printed by the disassembler and accepted by the assembler. Only the
#: counters are implemented; the other standard names are known so that words from
#: other tools print the way GNU objdump prints them (and then trap when executed).
CSR_NAMES = {
    **COUNTER_CSRS,
    **{f"hpmcounter{i}": 0xC00 + i for i in range(3, 32)},
    **{f"hpmcounter{i}h": 0xC80 + i for i in range(3, 32)},
    "fflags": 0x001, "frm": 0x002, "fcsr": 0x003,
    "sstatus": 0x100, "sie": 0x104, "stvec": 0x105, "scounteren": 0x106,
    "sscratch": 0x140, "sepc": 0x141, "scause": 0x142, "stval": 0x143, "sip": 0x144,
    "satp": 0x180,
    "mstatus": 0x300, "misa": 0x301, "medeleg": 0x302, "mideleg": 0x303,
    "mie": 0x304, "mtvec": 0x305, "mcounteren": 0x306,
    "mscratch": 0x340, "mepc": 0x341, "mcause": 0x342, "mtval": 0x343, "mip": 0x344,
    "mvendorid": 0xF11, "marchid": 0xF12, "mimpid": 0xF13, "mhartid": 0xF14,
    "mcycle": 0xB00, "minstret": 0xB02, "mcycleh": 0xB80, "minstreth": 0xB82,
    # The rest of GNU binutils 2.40's CSR list (privileged spec 1.12, its default),
    # so that objdump and this disassembler print every CSR number the same way.
    **{f"mhpmcounter{i}": 0xB00 + i for i in range(3, 32)},
    **{f"mhpmcounter{i}h": 0xB80 + i for i in range(3, 32)},
    **{f"mhpmevent{i}": 0x320 + i for i in range(3, 32)},
    **{f"mhpmevent{i}h": 0x720 + i for i in range(3, 32)},
    **{f"pmpcfg{i}": 0x3A0 + i for i in range(16)},
    **{f"pmpaddr{i}": 0x3B0 + i for i in range(64)},
    **{f"sstateen{i}": 0x10C + i for i in range(4)},
    **{f"mstateen{i}": 0x30C + i for i in range(4)},
    **{f"mstateen{i}h": 0x31C + i for i in range(4)},
    **{f"hstateen{i}": 0x60C + i for i in range(4)},
    **{f"hstateen{i}h": 0x61C + i for i in range(4)},
    "vstart": 0x008, "vxsat": 0x009, "vxrm": 0x00A, "vcsr": 0x00F, "seed": 0x015,
    "vl": 0xC20, "vtype": 0xC21, "vlenb": 0xC22,
    "senvcfg": 0x10A, "sieh": 0x114, "stimecmp": 0x14D, "siselect": 0x150,
    "sireg": 0x151, "siph": 0x154, "stopei": 0x15C, "stimecmph": 0x15D,
    "scontext": 0x5A8, "scountovf": 0xDA0, "stopi": 0xDB0,
    "vsstatus": 0x200, "vsie": 0x204, "vstvec": 0x205, "vsieh": 0x214,
    "vsscratch": 0x240, "vsepc": 0x241, "vscause": 0x242, "vstval": 0x243,
    "vsip": 0x244, "vstimecmp": 0x24D, "vsiselect": 0x250, "vsireg": 0x251,
    "vsiph": 0x254, "vstopei": 0x25C, "vstimecmph": 0x25D, "vsatp": 0x280,
    "vstopi": 0xEB0,
    "mvien": 0x308, "mvip": 0x309, "menvcfg": 0x30A, "mstatush": 0x310,
    "midelegh": 0x313, "mieh": 0x314, "mvienh": 0x318, "mviph": 0x319,
    "menvcfgh": 0x31A, "mcountinhibit": 0x320, "mtinst": 0x34A, "mtval2": 0x34B,
    "miselect": 0x350, "mireg": 0x351, "miph": 0x354, "mtopei": 0x35C,
    "mseccfg": 0x747, "mseccfgh": 0x757, "mconfigptr": 0xF15, "mtopi": 0xFB0,
    "hstatus": 0x600, "hedeleg": 0x602, "hideleg": 0x603, "hie": 0x604,
    "htimedelta": 0x605, "hcounteren": 0x606, "hgeie": 0x607, "hvien": 0x608,
    "hvictl": 0x609, "henvcfg": 0x60A, "hidelegh": 0x613, "htimedeltah": 0x615,
    "hvienh": 0x618, "henvcfgh": 0x61A, "htval": 0x643, "hip": 0x644, "hvip": 0x645,
    "hviprio1": 0x646, "hviprio2": 0x647, "htinst": 0x64A, "hviph": 0x655,
    "hviprio1h": 0x656, "hviprio2h": 0x657, "hgatp": 0x680, "hcontext": 0x6A8,
    "hgeip": 0xE12,
    "tselect": 0x7A0, "tdata1": 0x7A1, "tdata2": 0x7A2, "tdata3": 0x7A3,
    "tinfo": 0x7A4, "tcontrol": 0x7A5, "mcontext": 0x7A8, "mscontext": 0x7AA,
    "dcsr": 0x7B0, "dpc": 0x7B1, "dscratch0": 0x7B2, "dscratch1": 0x7B3,
}
CSR_BY_NUMBER = {number: name for name, number in CSR_NAMES.items()}

#: Operand fields and the (low bit, width) of the word they occupy, for fields that
#: sit in one contiguous slice. Immediates scattered over the word are handled by
#: encode_imm / decode_imm.
FIELD_BITS = {
    "rd": (7, 5), "rs1": (15, 5), "rs2": (20, 5),
    "shamt": (20, 5), "csr": (20, 12), "zimm": (15, 5),
    "pred": (24, 4), "succ": (20, 4), "aqrl": (25, 2),
}


@dataclass(frozen=True)
class Instruction:
    """One row of the table."""

    name: str
    format: str
    match: int
    mask: int
    operands: tuple[str, ...]  # e.g. ("rd", "imm12(rs1)")
    unit: str
    latency: int
    index: int  # row number: the opcode number in the Cython decoder

    @property
    def fields(self) -> tuple[str, ...]:
        """The bit fields the operands use, in syntax order: imm12(rs1) -> imm12, rs1."""
        out: list[str] = []
        for operand in self.operands:
            if operand.endswith("(rs1)"):
                if operand != "(rs1)":
                    out.append(operand[: -len("(rs1)")])
                out.append("rs1")
            else:
                out.append(operand)
        return tuple(out)

    @property
    def has_aqrl(self) -> bool:
        return self.unit == "amo"

    @property
    def enum_name(self) -> str:
        """Name of the opcode constant in the Cython decoder: OP_AMOADD_W."""
        return "OP_" + self.name.upper().replace(".", "_")

    def matches(self, word: int) -> bool:
        return word & self.mask == self.match


class TableError(ValueError):
    pass


def parse_table(text: str) -> tuple[Instruction, ...]:
    rows = []
    for lineno, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        cols = line.split()
        if len(cols) != 7:
            raise TableError(f"{TABLE_PATH.name}:{lineno}: expected 7 columns, got {len(cols)}")
        name, fmt, match, mask, operands, unit, latency = cols
        if fmt not in FORMATS:
            raise TableError(f"{TABLE_PATH.name}:{lineno}: unknown format {fmt!r}")
        if unit not in UNITS:
            raise TableError(f"{TABLE_PATH.name}:{lineno}: unknown unit {unit!r}")
        rows.append(
            Instruction(
                name=name, format=fmt, match=int(match, 16), mask=int(mask, 16),
                operands=() if operands == "-" else tuple(operands.split(",")),
                unit=unit, latency=int(latency), index=len(rows) + 1,
            )
        )
    return tuple(rows)


@lru_cache(maxsize=None)
def instructions() -> tuple[Instruction, ...]:
    """All rows, in table order. Opcode number 0 is reserved for 'illegal'."""
    return parse_table(TABLE_PATH.read_text())


@lru_cache(maxsize=None)
def by_name() -> dict[str, Instruction]:
    return {row.name: row for row in instructions()}


@lru_cache(maxsize=None)
def _by_major_opcode() -> dict[int, tuple[Instruction, ...]]:
    groups: dict[int, list[Instruction]] = {}
    for row in instructions():
        groups.setdefault(row.match & 0x7F, []).append(row)
    return {k: tuple(v) for k, v in groups.items()}


def lookup(word: int) -> Instruction | None:
    """The row that `word` encodes, or None when it is not a valid instruction."""
    for row in _by_major_opcode().get(word & 0x7F, ()):
        if row.matches(word):
            return row
    return None


# ---- immediates -------------------------------------------------------------------

#: Range of each immediate kind as (min, max, required alignment).
IMM_RANGES = {
    "imm12": (-2048, 2047, 1),
    "imm20": (0, 0xFFFFF, 1),
    "btarget": (-4096, 4094, 2),
    "jtarget": (-(1 << 20), (1 << 20) - 2, 2),
    "shamt": (0, 31, 1),
    "zimm": (0, 31, 1),
    "csr": (0, 0xFFF, 1),
}


def sign_extend(value: int, bits: int) -> int:
    value &= (1 << bits) - 1
    return value - (1 << bits) if value >> (bits - 1) else value


def _bits(value: int, hi: int, lo: int) -> int:
    return (value >> lo) & ((1 << (hi - lo + 1)) - 1)


def encode_imm(fmt: str, imm: int) -> int:
    """Scatter an (already range-checked) immediate into its format's bit positions."""
    imm &= 0xFFFFFFFF
    if fmt == "I":
        return _bits(imm, 11, 0) << 20
    if fmt == "S":
        return _bits(imm, 11, 5) << 25 | _bits(imm, 4, 0) << 7
    if fmt == "B":
        return (_bits(imm, 12, 12) << 31 | _bits(imm, 10, 5) << 25
                | _bits(imm, 4, 1) << 8 | _bits(imm, 11, 11) << 7)
    if fmt == "U":
        return _bits(imm, 19, 0) << 12
    if fmt == "J":
        return (_bits(imm, 20, 20) << 31 | _bits(imm, 10, 1) << 21
                | _bits(imm, 11, 11) << 20 | _bits(imm, 19, 12) << 12)
    raise ValueError(f"format {fmt} has no immediate")


def decode_imm(fmt: str, word: int) -> int:
    """The immediate of `word` in format `fmt`, sign-extended (U: the 20-bit field)."""
    if fmt == "I":
        return sign_extend(word >> 20, 12)
    if fmt == "S":
        return sign_extend(_bits(word, 31, 25) << 5 | _bits(word, 11, 7), 12)
    if fmt == "B":
        return sign_extend(_bits(word, 31, 31) << 12 | _bits(word, 7, 7) << 11
                           | _bits(word, 30, 25) << 5 | _bits(word, 11, 8) << 1, 13)
    if fmt == "U":
        return _bits(word, 31, 12)
    if fmt == "J":
        return sign_extend(_bits(word, 31, 31) << 20 | _bits(word, 19, 12) << 12
                           | _bits(word, 20, 20) << 11 | _bits(word, 30, 21) << 1, 21)
    raise ValueError(f"format {fmt} has no immediate")


IMMEDIATE_FIELDS = ("imm12", "imm20", "btarget", "jtarget")


def encode(row: Instruction, **fields: int) -> int:
    """Encode `row` with numeric field values (btarget/jtarget are pc-relative offsets).

    Raises ValueError when a value is out of range for its field.
    """
    word = row.match
    for field in row.fields:
        value = fields.get(field, 0)
        if field in IMM_RANGES:
            lo, hi, align = IMM_RANGES[field]
            if not lo <= value <= hi:
                raise ValueError(f"{field} value {value} out of range [{lo}, {hi}]")
            if value % align:
                raise ValueError(f"{field} value {value} is not a multiple of {align}")
        if field in IMMEDIATE_FIELDS:
            word |= encode_imm(row.format, value)
        else:
            low, width = FIELD_BITS[field]
            if not 0 <= value < (1 << width):
                raise ValueError(f"{field} value {value} out of range [0, {(1 << width) - 1}]")
            word |= value << low
    if row.has_aqrl:
        aqrl = fields.get("aqrl", 0)
        if not 0 <= aqrl <= 3:
            raise ValueError(f"aqrl value {aqrl} out of range [0, 3]")
        word |= aqrl << FIELD_BITS["aqrl"][0]
    return word


def decode_fields(row: Instruction, word: int) -> dict[str, int]:
    """Field values of `word` (which must match `row`); targets as pc-relative offsets."""
    out = {}
    for field in row.fields:
        if field in IMMEDIATE_FIELDS:
            out[field] = decode_imm(row.format, word)
        else:
            low, width = FIELD_BITS[field]
            out[field] = (word >> low) & ((1 << width) - 1)
    if row.has_aqrl:
        out["aqrl"] = (word >> FIELD_BITS["aqrl"][0]) & 3
    return out

"""Instruction syntax: operand kinds, the forms of every mnemonic, and encoding checks.

A mnemonic has one or more *forms*: the operand list the programmer writes and the
table rows it expands to. Each table row is a form of its own; the
pseudo-instructions are written below as a small table in assembly syntax, so their
expansions read exactly like the GNU as documentation (and match what GNU as emits
with relaxation off). `li` is the only form whose expansion depends on the value
(see load_immediate). When several forms have the same operand count, the first one
whose register operands are registers (and whose other operands are not) wins:
`add a0,a1,5` becomes addi, `csrw cycle,1` becomes csrrwi, as in GNU as.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Sequence, Union

from isa.asm.diagnostics import LocatedError
from isa.asm.expressions import (Expr, ExpressionParser, Num, Placeholder,
                                 TemplateHere)
from isa.asm.lexer import Token, tokenize
from isa.table import (CSR_NAMES, IMM_RANGES, REGISTER_NUMBERS, Instruction, by_name,
                       encode, instructions, sign_extend)

# Kinds of operand the programmer writes.
REG = "register"
EXPR = "expression"
CSR = "CSR"
FENCE = "fence set"
MEM = "memory operand offset(register)"
AMOADDR = "address (register)"

Operand = tuple[Sequence[Token], int]  # tokens of one comma-separated operand, column
FieldValue = Union[int, Expr]

AQRL_SUFFIXES = {"aq": 2, "rl": 1, "aqrl": 3}  # aq is bit 26, rl bit 25
FENCE_BITS = {"i": 8, "o": 4, "r": 2, "w": 1}


@dataclass(frozen=True)
class Form:
    mnemonic: str
    operands: tuple[tuple[str, tuple[str, ...]], ...]  # (kind, placeholder names)
    expansion: tuple[tuple[Instruction, dict[str, FieldValue]], ...]

    @property
    def syntax(self) -> str:
        return ", ".join(_operand_syntax(kind, names) for kind, names in self.operands)


def _operand_syntax(kind: str, names: tuple[str, ...]) -> str:
    if kind == MEM:
        return f"{names[0]}({names[1]})"
    if kind == AMOADDR:
        return f"({names[0]})"
    return names[0]


# ---- reading operands ----------------------------------------------------------------

class OperandReader:
    """Reads operands of each kind from tokens; `expressions` resolves symbols."""

    def __init__(self, expressions: ExpressionParser):
        self.expressions = expressions

    def read(self, kind: str, operand: Operand) -> tuple[FieldValue, ...]:
        tokens, column = operand
        if kind == REG:
            return (self.register(tokens, column),)
        if kind == EXPR:
            return (self.expression(tokens, column),)
        if kind == CSR:
            return (self.csr(tokens, column),)
        if kind == FENCE:
            return (self.fence(tokens, column),)
        offset, base = self.memory(tokens, column)
        if kind == MEM:
            return offset, base
        if not (isinstance(offset, Num) and offset.value == 0):
            raise LocatedError("this instruction takes no offset: expected (register)", column)
        return (base,)

    def register(self, tokens: Sequence[Token], column: int) -> FieldValue:
        if len(tokens) == 1 and tokens[0].kind == "ident":
            number = REGISTER_NUMBERS.get(tokens[0].text)
            if number is not None:
                return number
            raise LocatedError(f"invalid register '{tokens[0].text}'", tokens[0].column)
        raise LocatedError("expected a register", column)

    def expression(self, tokens: Sequence[Token], column: int) -> Expr:
        return self.expressions.parse(tokens, column)

    def csr(self, tokens: Sequence[Token], column: int) -> FieldValue:
        if len(tokens) == 1 and tokens[0].kind == "ident" and tokens[0].text in CSR_NAMES:
            return CSR_NAMES[tokens[0].text]
        return self.expression(tokens, column)

    def fence(self, tokens: Sequence[Token], column: int) -> FieldValue:
        if len(tokens) == 1:
            token = tokens[0]
            if token.kind == "num" and token.value == 0:
                return 0
            if token.kind == "ident" and set(token.text) <= set(FENCE_BITS) \
                    and len(set(token.text)) == len(token.text):
                return sum(FENCE_BITS[c] for c in token.text)
        raise LocatedError("expected a fence set: letters from 'iorw', or 0", column)

    def memory(self, tokens: Sequence[Token], column: int) -> tuple[Expr, FieldValue]:
        """offset(register) or (register): the offset expression and the base register."""
        if len(tokens) < 3 or tokens[-1].text != ")" or tokens[-3].text != "(" \
                or tokens[-1].kind != "op" or tokens[-3].kind != "op":
            raise LocatedError("expected a memory operand: offset(register)", column)
        base = self.register(tokens[-2:-1], tokens[-2].column)
        prefix = tokens[:-3]
        return (self.expression(prefix, column) if prefix else Num(0)), base


def read_operands(form: Form, reader: OperandReader,
                  operands: Sequence[Operand]) -> tuple[dict, dict]:
    """Placeholder values and their columns for the user's operands of `form`."""
    args: dict[str, FieldValue] = {}
    columns: dict[str, int] = {}
    for (kind, names), operand in zip(form.operands, operands):
        values = reader.read(kind, operand)
        for name, value in zip(names, values):
            args[name] = value
            columns[name] = operand[1]
    return args, columns


def _is_register(operand: Operand) -> bool:
    tokens = operand[0]
    return len(tokens) == 1 and tokens[0].kind == "ident" and tokens[0].text in REGISTER_NUMBERS


def choose_form(forms: Sequence[Form], operands: Sequence[Operand]) -> Form | None:
    """The form for these operands, or None when no form takes that many operands."""
    candidates = [form for form in forms if len(form.operands) == len(operands)]
    if len(candidates) == 1:
        return candidates[0]
    for form in candidates:
        if all((kind == REG) == _is_register(operand)
               for (kind, _), operand in zip(form.operands, operands)):
            return form
    return candidates[0] if candidates else None


def expected_counts(forms: Sequence[Form]) -> str:
    """What `forms` accept, for an error message: "3 operands (rd, rs1, imm12)"."""
    counts = sorted({len(form.operands) for form in forms})
    words = [str(c) for c in counts]
    text = words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]
    text += " operand" if counts[-1] == 1 else " operands"
    if len(forms) == 1 and forms[0].operands:
        text += f" ({forms[0].syntax})"
    return text


# ---- encoding ------------------------------------------------------------------------------

_FIELD_WORDS = {"imm12": "immediate", "imm20": "upper immediate", "shamt": "shift amount",
                "zimm": "CSR immediate", "csr": "CSR number",
                "btarget": "branch target", "jtarget": "jump target"}
_TARGETS = ("btarget", "jtarget")
_HEX_FIELDS = ("imm20", "csr")


def check_field(field: str, value: int, column: int) -> None:
    """Raise LocatedError when `value` does not fit `field` (targets: pc-relative)."""
    if field not in IMM_RANGES:
        return
    lo, hi, align = IMM_RANGES[field]
    word = _FIELD_WORDS[field]
    if field in _TARGETS:
        if not lo <= value <= hi:
            raise LocatedError(f"{word} out of range: offset {value} is not in "
                               f"[{lo}, {hi}]", column)
        if value % align:
            raise LocatedError(f"misaligned {word}: offset {value} is not a multiple "
                               f"of {align}", column)
    elif not lo <= value <= hi:
        if field in _HEX_FIELDS:
            raise LocatedError(f"{word} {value:#x} out of range [{lo:#x}, {hi:#x}]", column)
        raise LocatedError(f"{word} {value} out of range [{lo}, {hi}]", column)


@lru_cache(maxsize=None)
def row_fields(name: str) -> tuple[str, ...]:
    """Instruction.fields of the row `name`, computed once."""
    return by_name()[name].fields


def has_target(row: Instruction) -> bool:
    return any(field in _TARGETS for field in row_fields(row.name))


def encode_checked(row: Instruction, values: dict[str, int], columns: dict[str, int],
                   pc: int | None) -> int:
    """Encode with located range errors; target fields hold addresses (needs pc)."""
    for field in row_fields(row.name):
        value = values[field]
        if field in _TARGETS:
            value = values[field] = sign_extend((value - pc) & 0xFFFFFFFF, 32)
        check_field(field, value, columns.get(field, 0))
    return encode(row, **values)


# ---- li --------------------------------------------------------------------------------

def load_immediate(rd: int, value: int, size: int = 4) -> list[tuple[Instruction, dict]]:
    """GNU as's `li` for a 32-bit value: addi alone if it fits 12 bits, lui alone if
    the low 12 bits are zero, else lui + addi (upper part carry-adjusted). `size` 8
    forces the two-instruction form."""
    rows = by_name()
    value = sign_extend(value, 32)
    low = sign_extend(value, 12)
    upper = ((value - low) >> 12) & 0xFFFFF
    if size == 8 or (upper and low):
        return [(rows["lui"], {"rd": rd, "imm20": upper}),
                (rows["addi"], {"rd": rd, "rs1": rd, "imm12": low})]
    if upper:
        return [(rows["lui"], {"rd": rd, "imm20": upper})]
    return [(rows["addi"], {"rd": rd, "rs1": 0, "imm12": low})]


def check_li_value(value: int, column: int) -> None:
    if not -(1 << 31) <= value < (1 << 32):
        raise LocatedError(f"li value {value} is not a 32-bit integer", column)


# ---- the forms ---------------------------------------------------------------------------

#: Pseudo-instructions (and GNU as's operand-type aliases), in GNU as syntax.
#: Columns: mnemonic, operands ("-" for none), expansion (';' between instructions).
#: '.' in an expansion is the address of that instruction.
PSEUDO_INSTRUCTIONS = """
nop      -             addi zero,zero,0
mv       rd,rs         addi rd,rs,0
not      rd,rs         xori rd,rs,-1
neg      rd,rs         sub rd,zero,rs
seqz     rd,rs         sltiu rd,rs,1
snez     rd,rs         sltu rd,zero,rs
sltz     rd,rs         slt rd,rs,zero
sgtz     rd,rs         slt rd,zero,rs
sgt      rd,rs,rt      slt rd,rt,rs
sgtu     rd,rs,rt      sltu rd,rt,rs
sext.b   rd,rs         slli rd,rs,24 ; srai rd,rd,24
sext.h   rd,rs         slli rd,rs,16 ; srai rd,rd,16
zext.b   rd,rs         andi rd,rs,255
zext.h   rd,rs         slli rd,rs,16 ; srli rd,rd,16
beqz     rs,target     beq rs,zero,target
bnez     rs,target     bne rs,zero,target
blez     rs,target     bge zero,rs,target
bgez     rs,target     bge rs,zero,target
bltz     rs,target     blt rs,zero,target
bgtz     rs,target     blt zero,rs,target
bgt      rs,rt,target  blt rt,rs,target
ble      rs,rt,target  bge rt,rs,target
bgtu     rs,rt,target  bltu rt,rs,target
bleu     rs,rt,target  bgeu rt,rs,target
j        target        jal zero,target
jal      target        jal ra,target
jr       rs            jalr zero,0(rs)
jr       rs,offset     jalr zero,offset(rs)
jalr     rs            jalr ra,0(rs)
jalr     rd,rs,offset  jalr rd,offset(rs)
ret      -             jalr zero,0(ra)
call     target        auipc ra,%pcrel_hi(target) ; jalr ra,%pcrel_lo(.-4)(ra)
call     rd,target     auipc t1,%pcrel_hi(target) ; jalr rd,%pcrel_lo(.-4)(t1)
tail     target        auipc t1,%pcrel_hi(target) ; jalr zero,%pcrel_lo(.-4)(t1)
la       rd,symbol     auipc rd,%pcrel_hi(symbol) ; addi rd,rd,%pcrel_lo(.-4)
lla      rd,symbol     auipc rd,%pcrel_hi(symbol) ; addi rd,rd,%pcrel_lo(.-4)
fence    -             fence iorw,iorw
csrr     rd,csr        csrrs rd,csr,zero
csrw     csr,rs        csrrw zero,csr,rs
csrs     csr,rs        csrrs zero,csr,rs
csrc     csr,rs        csrrc zero,csr,rs
csrw     csr,imm       csrrwi zero,csr,imm
csrs     csr,imm       csrrsi zero,csr,imm
csrc     csr,imm       csrrci zero,csr,imm
csrwi    csr,imm       csrrwi zero,csr,imm
csrsi    csr,imm       csrrsi zero,csr,imm
csrci    csr,imm       csrrci zero,csr,imm
csrrw    rd,csr,imm    csrrwi rd,csr,imm
csrrs    rd,csr,imm    csrrsi rd,csr,imm
csrrc    rd,csr,imm    csrrci rd,csr,imm
rdcycle    rd          csrrs rd,cycle,zero
rdtime     rd          csrrs rd,time,zero
rdinstret  rd          csrrs rd,instret,zero
rdcycleh   rd          csrrs rd,cycleh,zero
rdtimeh    rd          csrrs rd,timeh,zero
rdinstreth rd          csrrs rd,instreth,zero
add      rd,rs,imm     addi rd,rs,imm
and      rd,rs,imm     andi rd,rs,imm
or       rd,rs,imm     ori rd,rs,imm
xor      rd,rs,imm     xori rd,rs,imm
slt      rd,rs,imm     slti rd,rs,imm
sltu     rd,rs,imm     sltiu rd,rs,imm
sll      rd,rs,imm     slli rd,rs,imm
srl      rd,rs,imm     srli rd,rs,imm
sra      rd,rs,imm     srai rd,rs,imm
"""

_SPEC_KINDS = {"rd": REG, "rs1": REG, "rs2": REG, "csr": CSR, "pred": FENCE,
               "succ": FENCE, "imm12(rs1)": MEM, "(rs1)": AMOADDR}


def _spec_kind(spec: str) -> str:
    return _SPEC_KINDS.get(spec, EXPR)


def _row_form(row: Instruction) -> Form:
    operands = []
    for spec in row.operands:
        kind = _spec_kind(spec)
        names = ("imm12", "rs1") if kind == MEM else ("rs1",) if kind == AMOADDR else (spec,)
        operands.append((kind, names))
    template = {field: Placeholder(field) for field in row.fields}
    return Form(row.name, tuple(operands), ((row, template),))


class _TemplateReader(OperandReader):
    """Reads expansion operands: placeholders stand for the pseudo's operands and
    their kind is learnt from where they are used."""

    def __init__(self, placeholders: Sequence[str]):
        self.kinds: dict[str, str] = {}
        self.placeholders = set(placeholders)
        super().__init__(ExpressionParser(self._resolve, TemplateHere))

    def _placeholder(self, tokens: Sequence[Token], kind: str) -> Placeholder | None:
        if len(tokens) == 1 and tokens[0].text in self.placeholders:
            self.kinds.setdefault(tokens[0].text, kind)
            return Placeholder(tokens[0].text)
        return None

    def _resolve(self, token: Token) -> Expr:
        if token.text not in self.placeholders:
            raise ValueError(f"unknown name {token.text!r} in a pseudo-instruction template")
        self.kinds.setdefault(token.text, EXPR)
        return Placeholder(token.text)

    def register(self, tokens, column):
        return self._placeholder(tokens, REG) or super().register(tokens, column)

    def csr(self, tokens, column):
        return self._placeholder(tokens, CSR) or super().csr(tokens, column)

    def fence(self, tokens, column):
        return self._placeholder(tokens, FENCE) or super().fence(tokens, column)


def split_operands(tokens: Sequence[Token], allow_empty: bool = False) -> list[Operand]:
    """Split at top-level commas into (tokens, column) operands.

    An empty operand (`a,,b`) raises LocatedError unless `allow_empty`, as directives
    such as `.p2align 4,,12` use them for omitted arguments.
    """
    operands: list[Operand] = []
    if not tokens:
        return operands
    depth = 0
    begin = 0
    column = tokens[0].column
    for i, token in enumerate(tokens):
        if token.kind != "op":
            continue
        if token.text == "(":
            depth += 1
        elif token.text == ")":
            depth -= 1
        elif token.text == "," and depth == 0:
            if i == begin and not allow_empty:
                raise LocatedError("missing operand", token.column)
            operands.append((tokens[begin:i], tokens[begin].column if i > begin else column))
            begin = i + 1
            column = token.column + 1
    if begin == len(tokens) and not allow_empty:
        raise LocatedError("missing operand after ','", column)
    operands.append((tokens[begin:], tokens[begin].column if begin < len(tokens) else column))
    return operands


def _pseudo_form(line: str) -> Form:
    mnemonic, operand_text, expansion_text = line.split(None, 2)
    names = () if operand_text == "-" else tuple(operand_text.split(","))
    reader = _TemplateReader(names)
    rows = by_name()
    expansion = []
    for instruction_text in expansion_text.split(";"):
        tokens, _ = tokenize(instruction_text, False)
        row = rows[tokens[0].text]
        operands = split_operands(tokens[1:])
        template: dict[str, FieldValue] = {}
        for (kind, fields), operand in zip(_row_form(row).operands, operands, strict=True):
            for field, value in zip(fields, reader.read(kind, operand)):
                template[field] = value.value if isinstance(value, Num) else value
        expansion.append((row, template))
    operands = tuple((reader.kinds[name], (name,)) for name in names)
    return Form(mnemonic, operands, tuple(expansion))


LI_FORM = Form("li", ((REG, ("rd",)), (EXPR, ("value",))), ())


@lru_cache(maxsize=None)
def forms() -> dict[str, tuple[Form, ...]]:
    """Every mnemonic's forms: its table row first, then pseudo forms in table order."""
    table: dict[str, list[Form]] = {}
    for row in instructions():
        table.setdefault(row.name, []).append(_row_form(row))
    for line in PSEUDO_INSTRUCTIONS.strip().splitlines():
        form = _pseudo_form(line)
        table.setdefault(form.mnemonic, []).append(form)
    table["li"] = [LI_FORM]
    return {name: tuple(group) for name, group in table.items()}


def lookup(mnemonic: str) -> tuple[tuple[Form, ...], int] | None:
    """The forms of `mnemonic` and its aq/rl bits (from an AMO suffix), or None."""
    table = forms()
    mnemonic = mnemonic.lower()
    found = table.get(mnemonic)
    if found is not None:
        return found, 0
    base, _, suffix = mnemonic.rpartition(".")
    found = table.get(base)
    if (found is not None and suffix in AQRL_SUFFIXES and found[0].expansion
            and found[0].expansion[0][0].has_aqrl):
        return found, AQRL_SUFFIXES[suffix]
    return None

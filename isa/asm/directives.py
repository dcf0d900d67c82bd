"""Assembler directives (.text, .word, .align, .equ, .include, ...), GNU as semantics.

Each handler gets the parser and the directive's statement. Alignment follows GNU as
on RISC-V: `.align n` and `.p2align n` align to 2**n bytes, `.balign n` to n bytes;
code sections are padded with nops unless a fill byte is given. `.type` and `.size`
fill the symbol table; `.file`, `.ident` and `.attribute` are accepted and ignored.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Callable, NamedTuple

from isa.asm.diagnostics import Location, LocatedError
from isa.asm.expressions import Num
from isa.asm.program import PAGE_SIZE, Align, Bytes, DataValue, Reserve, data_bytes
from isa.asm.syntax import Operand

if TYPE_CHECKING:
    from isa.asm.parser import Parser


class Directive(NamedTuple):
    name: str  # lower case, with the dot
    column: int
    operands: list[Operand]
    location: Location
    directory: Path  # where .include looks first


Handler = Callable[["Parser", Directive], None]
_HANDLERS: dict[str, Handler] = {}

MAX_SPACE = 1 << 26  # 64 MiB, the default RAM size: more is a mistake


def _directive(*names: str) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        for name in names:
            _HANDLERS[name] = handler
        return handler
    return register


def run(parser: "Parser", head, operands: list[Operand], location: Location,
        directory: Path) -> None:
    name = head.text.lower()
    handler = _HANDLERS.get(name)
    if handler is None:
        raise LocatedError(f"unknown directive '{head.text}'", head.column)
    handler(parser, Directive(name, head.column, operands, location, directory))


def _count(d: Directive, least: int, most: int | None = None) -> None:
    """Check the operand count: least..most, or at least `least` when most is None."""
    n = len(d.operands)
    if n >= least and (most is None or n <= most):
        return
    if most is None:
        expected = f"at least {least}"
    else:
        expected = str(least) if least == most else f"{least} to {most}"
    column = d.operands[most][1] if most is not None and n > most else d.column
    plural = "" if expected in ("1", "at least 1") else "s"
    raise LocatedError(f"{d.name} takes {expected} operand{plural}, got {n}", column)


def _present(d: Directive, index: int) -> bool:
    return index < len(d.operands) and bool(d.operands[index][0])


def _symbol_name(operand: Operand) -> str:
    tokens, column = operand
    if len(tokens) != 1 or tokens[0].kind != "ident" or tokens[0].text == ".":
        raise LocatedError("expected a symbol name", column)
    return tokens[0].text


def _string(operand: Operand) -> bytes:
    tokens, column = operand
    if len(tokens) != 1 or tokens[0].kind != "str":
        raise LocatedError("expected a string", column)
    return tokens[0].value


def _fill_byte(parser: "Parser", operand: Operand) -> int:
    value = parser.constant(operand)
    data_bytes(value, 1, operand[1])  # range check
    return value & 0xFF


def _no_bss(parser: "Parser", d: Directive) -> None:
    if parser.section.output == ".bss":
        raise LocatedError(f"{d.name} is not allowed in {parser.section.name}, which holds "
                           f"no data (use .space or .zero)", d.column)


# ---- sections and symbols -------------------------------------------------------------

def _switch_section(parser: "Parser", name: str, column: int) -> None:
    section = parser.program.section(name)
    if section is None:
        raise LocatedError(f"unsupported section '{name}' (use .text*, .rodata*, .srodata*, "
                           f".data*, .sdata*, .bss* or .sbss*)", column)
    parser.section = section


@_directive(".text", ".data", ".rodata", ".bss")
def _named_section(parser: "Parser", d: Directive) -> None:
    _count(d, 0, 0)
    _switch_section(parser, d.name, d.column)


@_directive(".section")
def _section(parser: "Parser", d: Directive) -> None:
    _count(d, 1, 4)  # name, then flags, type, entsize: accepted and not used
    tokens, column = d.operands[0]
    if len(tokens) == 1 and tokens[0].kind == "str":
        name = tokens[0].value.decode("utf-8", "surrogateescape")
    elif tokens and tokens[0].kind == "ident" and all(  # names like .note.GNU-stack
            a.column + len(a.text) == b.column and b.kind != "str"
            for a, b in zip(tokens, tokens[1:])):
        name = "".join(token.text for token in tokens)
    else:
        raise LocatedError("expected a section name", column)
    _switch_section(parser, name, column)


@_directive(".globl", ".global", ".local")
def _binding(parser: "Parser", d: Directive) -> None:
    _count(d, 1)
    for operand in d.operands:
        parser.program.is_global[_symbol_name(operand)] = d.name != ".local"


_SYMBOL_TYPES = {"function": "func", "stt_func": "func", "object": "object",
                 "stt_object": "object", "notype": "notype", "stt_notype": "notype"}


@_directive(".type")
def _type(parser: "Parser", d: Directive) -> None:
    _count(d, 2, 2)
    name = _symbol_name(d.operands[0])
    tokens, column = d.operands[1]
    if len(tokens) == 2 and tokens[0].text in ("@", "%") and tokens[0].kind == "op":
        text = tokens[1].text
    elif len(tokens) == 1 and tokens[0].kind in ("ident", "str"):
        text = tokens[0].text.strip('"')
    else:
        raise LocatedError("expected a symbol type such as @function", column)
    kind = _SYMBOL_TYPES.get(text.lower())
    if kind is None:
        raise LocatedError(f"unsupported symbol type '{text}'", column)
    parser.program.types[name] = kind


@_directive(".size")
def _size(parser: "Parser", d: Directive) -> None:
    _count(d, 2, 2)
    name = _symbol_name(d.operands[0])
    parser.program.sizes[name] = (parser.expression(d.operands[1]), d.location,
                                  d.operands[1][1])


@_directive(".equ", ".set")
def _equ(parser: "Parser", d: Directive) -> None:
    _count(d, 2, 2)
    _symbol_name(d.operands[0])
    tokens, column = d.operands[1]
    parser.define_equ(d.operands[0][0][0], tokens, d.location, column)


@_directive(".file", ".ident", ".attribute")
def _ignored(parser: "Parser", d: Directive) -> None:
    pass


# ---- data -------------------------------------------------------------------------------

_WIDTHS = {".byte": 1, ".half": 2, ".short": 2, ".2byte": 2, ".word": 4, ".long": 4,
           ".4byte": 4, ".dword": 8, ".quad": 8, ".8byte": 8}


@_directive(*_WIDTHS)
def _data(parser: "Parser", d: Directive) -> None:
    _no_bss(parser, d)
    width = _WIDTHS[d.name]
    for operand in d.operands:
        # One item per value, so that '.' in each is that value's own address.
        expr = parser.expression(operand)
        if isinstance(expr, Num):
            parser.add(Bytes(data_bytes(expr.value, width, operand[1])))
        else:
            parser.add(DataValue(width, expr, operand[1], d.location))


@_directive(".ascii", ".asciz", ".string")
def _strings(parser: "Parser", d: Directive) -> None:
    _no_bss(parser, d)
    _count(d, 1)
    terminator = b"" if d.name == ".ascii" else b"\0"
    parser.add(Bytes(b"".join(_string(operand) + terminator for operand in d.operands)))


@_directive(".space", ".skip", ".zero")
def _space(parser: "Parser", d: Directive) -> None:
    _count(d, 1, 1 if d.name == ".zero" else 2)
    size = parser.constant(d.operands[0])
    if not 0 <= size <= MAX_SPACE:
        raise LocatedError(f"size {size} out of range [0, {MAX_SPACE}]", d.operands[0][1])
    fill = _fill_byte(parser, d.operands[1]) if _present(d, 1) else 0
    if parser.section.output == ".bss":
        if fill:
            raise LocatedError(f"{parser.section.name} can only hold zeros", d.operands[1][1])
        parser.add(Reserve(size))
    else:
        parser.add(Bytes(bytes([fill]) * size))


@_directive(".align", ".p2align", ".balign")
def _align(parser: "Parser", d: Directive) -> None:
    _count(d, 1, 3)
    amount = parser.constant(d.operands[0])
    column = d.operands[0][1]
    if d.name == ".balign":
        if amount <= 0 or amount & (amount - 1):
            raise LocatedError(f"alignment {amount} is not a power of two", column)
        alignment = amount
    else:
        if not 0 <= amount <= 12:
            raise LocatedError(f"alignment exponent {amount} out of range [0, 12]", column)
        alignment = 1 << amount
    if alignment > PAGE_SIZE:
        raise LocatedError(f"alignment {alignment} is larger than a page ({PAGE_SIZE})",
                           column)
    fill = _fill_byte(parser, d.operands[1]) if _present(d, 1) else None
    max_skip = parser.constant(d.operands[2]) if _present(d, 2) else None
    section = parser.section
    if fill and section.output == ".bss":
        raise LocatedError(f"{section.name} can only hold zeros", d.operands[1][1])
    section.alignment = max(section.alignment, alignment)
    parser.add(Align(alignment, fill, max_skip, section.output == ".text"))


# ---- files and options -----------------------------------------------------------------------

@_directive(".include")
def _include(parser: "Parser", d: Directive) -> None:
    _count(d, 1, 1)
    name = _string(d.operands[0]).decode("utf-8", "surrogateescape")
    parser.include(name, d.directory, d.operands[0][1], d.location)


_IGNORED_OPTIONS = ("norvc", "relax", "norelax", "nopic")


@_directive(".option")
def _option(parser: "Parser", d: Directive) -> None:
    _count(d, 1, 1)
    tokens, column = d.operands[0]
    option = tokens[0].text if len(tokens) == 1 and tokens[0].kind == "ident" else ""
    if option == "rvc":
        raise LocatedError("the C extension (compressed instructions) is not supported",
                           column)
    if option == "pic":
        raise LocatedError("position-independent code is not supported", column)
    if option == "push":
        parser.option_depth += 1
    elif option == "pop":
        if parser.option_depth == 0:
            raise LocatedError(".option pop without .option push", column)
        parser.option_depth -= 1
    elif option not in _IGNORED_OPTIONS:
        raise LocatedError(f"unknown option '{' '.join(t.text for t in tokens)}'", column)

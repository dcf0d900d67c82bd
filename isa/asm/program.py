"""The assembled program: sections of items, symbols, layout and emission.

Owns the memory layout of the executable and the final value of every expression.
Each input section (.text, .text.startup, .sdata, ...) is a list of items; a label is
a Position (section, item index). Input sections are concatenated into the four
output sections by name prefix, in order of first appearance (.text, .data and .bss
come first, as in a GNU as object file), each aligned to its largest .align:
.text at text_base, then .rodata, then .data on the next page, then .bss.

`li` of a value that is not known when the line is read (a label, a forward .equ)
is sized 4 bytes first and grown to 8 if the laid-out value needs it; layout repeats
until no `li` grows, so it terminates. All other items have a size fixed when read.
"""

from __future__ import annotations

from typing import Iterator

from isa.asm.diagnostics import Location, LocatedError, Reporter
from isa.asm.expressions import Expr, Num, Position, Reloc, SuppressedError
from isa.asm.syntax import check_li_value, encode_checked, load_immediate
from isa.table import by_name, encode

PAGE_SIZE = 0x1000
ADDRESS_LIMIT = 1 << 32

#: Output sections in address order, and which input-section names go to each.
OUTPUT_SECTIONS = (".text", ".rodata", ".data", ".bss")
_PREFIXES = (
    (".text", ".text"), (".rodata", ".rodata"), (".srodata", ".rodata"),
    (".data", ".data"), (".sdata", ".data"), (".bss", ".bss"), (".sbss", ".bss"),
)
#: Non-allocated sections compilers emit; their contents are dropped.
_DISCARDED_PREFIXES = (".note", ".comment")

NOP_WORD = encode(by_name()["addi"])
_RVC_NOP = b"\x01\x00"


def output_section_for(name: str) -> str | None:
    """The output section an input section named `name` goes to; "" = discarded."""
    for prefix, output in _PREFIXES:
        if name == prefix or name.startswith(prefix + "."):
            return output
    if any(name == p or name.startswith(p + ".") for p in _DISCARDED_PREFIXES):
        return ""
    return None


def align_up(value: int, alignment: int) -> int:
    return (value + alignment - 1) & -alignment


# ---- items ------------------------------------------------------------------------

class Bytes:
    """Contents known when the line was read."""

    __slots__ = ("data", "size")

    def __init__(self, data: bytes):
        self.data = data
        self.size = len(data)

    def emit(self, ctx: "Emitter", length: int) -> bytes:
        return self.data


class Reserve:
    """Zero-filled space (.space in .bss)."""

    __slots__ = ("size",)

    def __init__(self, size: int):
        self.size = size

    def emit(self, ctx: "Emitter", length: int) -> bytes:
        return bytes(length)


class DataValue:
    """One .byte/.half/.word/.dword value whose expression needs the layout."""

    __slots__ = ("expr", "column", "location", "size")

    def __init__(self, width: int, expr: Expr, column: int, location: Location):
        self.size = width
        self.expr = expr
        self.column = column
        self.location = location

    def emit(self, ctx: "Emitter", length: int) -> bytes:
        return data_bytes(self.expr.evaluate(ctx), self.size, self.column)


def data_bytes(value: int, width: int, column: int) -> bytes:
    bits = 8 * width
    if not -(1 << (bits - 1)) <= value < (1 << bits):
        raise LocatedError(f"value {value} does not fit in {width} byte"
                           f"{'s' if width > 1 else ''}", column)
    return (value & ((1 << bits) - 1)).to_bytes(width, "little")


class InstructionItem:
    """An instruction with operands that need the layout (symbols, targets)."""

    __slots__ = ("row", "fields", "columns", "location", "size")

    def __init__(self, row, fields: dict, columns: dict, location: Location):
        self.row = row
        self.fields = fields
        self.columns = columns
        self.location = location
        self.size = 4

    def emit(self, ctx: "Emitter", length: int) -> bytes:
        values = {field: value if isinstance(value, int) else value.evaluate(ctx)
                  for field, value in self.fields.items()}
        return encode_checked(self.row, values, self.columns, ctx.pc).to_bytes(4, "little")


class LoadImmediate:
    """`li rd, expr` where expr needs the layout: 4 or 8 bytes."""

    __slots__ = ("rd", "expr", "column", "location", "size")

    def __init__(self, rd: int, expr: Expr, column: int, location: Location):
        self.rd = rd
        self.expr = expr
        self.column = column
        self.location = location
        self.size = 4

    def value(self, ctx: "Emitter") -> int:
        value = self.expr.evaluate(ctx)
        check_li_value(value, self.column)
        return value

    def emit(self, ctx: "Emitter", length: int) -> bytes:
        sequence = load_immediate(self.rd, self.value(ctx), length)
        return b"".join(encode(row, **fields).to_bytes(4, "little") for row, fields in sequence)


class Align:
    """.align/.p2align/.balign: padding up to a multiple of `alignment`."""

    __slots__ = ("alignment", "fill", "max_skip", "code")
    size = None  # depends on the offset

    def __init__(self, alignment: int, fill: int | None, max_skip: int | None, code: bool):
        self.alignment = alignment
        self.fill = fill
        self.max_skip = max_skip
        self.code = code

    def padding(self, offset: int) -> int:
        pad = -offset % self.alignment
        return 0 if self.max_skip is not None and pad > self.max_skip else pad

    def emit(self, ctx: "Emitter", length: int) -> bytes:
        if self.fill is not None or not self.code:
            return bytes([self.fill or 0]) * length
        # What GNU as writes in code: a zero byte to reach an even address, at most
        # one 2-byte c.nop, then 4-byte nops.
        head = b"\0" * (length % 2)
        if (length - len(head)) % 4 == 2:
            head += _RVC_NOP
        return head + NOP_WORD.to_bytes(4, "little") * ((length - len(head)) // 4)


# ---- sections and symbols -------------------------------------------------------------

class InputSection:
    def __init__(self, name: str, output: str):
        self.name = name
        self.output = output  # output section name, "" when discarded
        self.items: list = []
        self.alignment = 4 if output == ".text" else 1
        self.offsets: list[int] = [0]  # offset of each item, then the size
        self.address = 0
        self.data = b""

    @property
    def size(self) -> int:
        return self.offsets[-1]

    def place_items(self) -> None:
        offsets = []
        append = offsets.append
        offset = 0
        for item in self.items:
            append(offset)
            size = item.size
            offset += item.padding(offset) if size is None else size
        append(offset)
        self.offsets = offsets


class EquDef:
    """A .equ/.set definition; the symbol's later definitions get new objects."""

    def __init__(self, name: str, expr: Expr, location: Location, column: int):
        self.name = name
        self.expr = expr
        self.location = location
        self.column = column
        self.constant = expr.value if isinstance(expr, Num) else None
        self.generation = -1
        self.value = 0
        self.evaluating = False
        self.broken = False


class EquRef(Expr):
    """A use of a .equ symbol that was defined (with a non-constant value) before it."""

    __slots__ = ("definition",)

    def __init__(self, definition: EquDef):
        self.definition = definition

    def evaluate(self, ctx) -> int:
        return ctx.equ_value(self.definition)


class Program:
    def __init__(self, text_base: int):
        self.text_base = text_base
        self.sections: dict[str, InputSection] = {}
        for name in (".text", ".data", ".bss"):  # GNU as creates these first
            self.section(name)
        self.symbols: dict[str, Position | EquDef] = {}
        self.equs: list[EquDef] = []  # every definition, also those later redefined
        self.is_global: dict[str, bool] = {}
        self.types: dict[str, str] = {}
        self.sizes: dict[str, tuple[Expr, Location, int]] = {}  # expr, where, column
        self.bounds: dict[str, tuple[int, int]] = {}  # output section: start, end address

    def section(self, name: str) -> InputSection | None:
        """The input section `name`, created on first use; None for unknown names."""
        section = self.sections.get(name)
        if section is None:
            output = output_section_for(name)
            if output is None:
                return None
            section = self.sections[name] = InputSection(name, output)
        return section

    def output_sections(self, output: str) -> Iterator[InputSection]:
        return (s for s in self.sections.values() if s.output == output)

    def place(self) -> None:
        """Assign item offsets and section addresses."""
        address = self.text_base
        for output in OUTPUT_SECTIONS:
            if output == ".data":
                address = align_up(address, PAGE_SIZE)
            address = align_up(address, self.output_alignment(output))
            start = address
            for section in self.output_sections(output):
                section.place_items()
                address = align_up(address, section.alignment)
                section.address = address
                address += section.size
            self.bounds[output] = (start, address)
        for section in self.output_sections(""):
            section.place_items()

    def output_alignment(self, output: str) -> int:
        return max((s.alignment for s in self.output_sections(output)), default=1)


# ---- evaluation ----------------------------------------------------------------------------

class Emitter:
    """Lays the program out, then evaluates every deferred item: the expression
    Context of the final pass. Errors go to the reporter with their statement."""

    def __init__(self, program: Program, reporter: Reporter, location: Location):
        self.program = program
        self.reporter = reporter
        self.location = location  # where errors about the whole program are reported
        self.pc = 0
        self.generation = 0
        self._pcrel_hi: dict[int, Reloc] | None = None

    # -- Context ----------------------------------------------------------------
    def symbol_value(self, name: str, display: str, column: int) -> int:
        entry = self.program.symbols.get(name)
        if entry is None:
            if "\x02" in name:
                raise LocatedError(f"undefined local label '{display}'", column)
            raise LocatedError(f"undefined symbol '{display}'", column)
        if isinstance(entry, EquDef):
            return self.equ_value(entry)
        return entry.address

    def equ_value(self, definition: EquDef) -> int:
        if definition.broken:
            raise SuppressedError()
        if definition.generation != self.generation:
            if definition.evaluating:
                raise LocatedError(f"'{definition.name}' is defined in terms of itself",
                                   definition.column)
            definition.evaluating = True
            try:
                definition.value = definition.expr.evaluate(self)
            finally:
                definition.evaluating = False
            definition.generation = self.generation
        return definition.value

    def pcrel_hi_target(self, address: int, column: int) -> int:
        if self._pcrel_hi is None:
            self._pcrel_hi = self._find_pcrel_hi()
        reloc = self._pcrel_hi.get(address)
        if reloc is None:
            raise LocatedError(f"%pcrel_lo: no auipc with %pcrel_hi at address {address:#x}",
                               column)
        try:
            return reloc.pcrel_target(self)
        except LocatedError:
            raise SuppressedError() from None  # reported at the auipc

    def _find_pcrel_hi(self) -> dict[int, Reloc]:
        found = {}
        for section in self.program.sections.values():
            for index, item in enumerate(section.items):
                if type(item) is InstructionItem and item.row.name == "auipc":
                    reloc = item.fields["imm20"]
                    if isinstance(reloc, Reloc) and reloc.kind == "pcrel_hi":
                        found[section.address + section.offsets[index]] = reloc
        return found

    # -- layout -----------------------------------------------------------------
    def layout(self) -> None:
        """Place everything, growing `li`s whose laid-out value needs two instructions."""
        pending = [(section, index, item)
                   for section in self.program.sections.values()
                   for index, item in enumerate(section.items)
                   if type(item) is LoadImmediate]
        while True:
            self.program.place()
            self.generation += 1
            self._pcrel_hi = None
            grown = False
            for section, index, item in pending:
                if item.size == 8:
                    continue
                self.pc = section.address + section.offsets[index]
                try:
                    needed = 4 * len(load_immediate(item.rd, item.value(self)))
                except LocatedError:
                    continue  # reported by emit()
                if needed > item.size:
                    item.size = needed
                    grown = True
            if not grown:
                break
        end = self.program.bounds[OUTPUT_SECTIONS[-1]][1]
        if end > ADDRESS_LIMIT:
            self.reporter.error(self.location, 0, f"the program ends at {end:#x}, beyond "
                                                  f"the 32-bit address space")

    def emit(self) -> None:
        """Final pass: report broken .equs, then produce each section's bytes."""
        for definition in self.program.equs:
            if definition.constant is None:
                self.check_equ(definition)
        for section in self.program.sections.values():
            if section.output in (".bss", ""):
                continue
            out = bytearray()
            offsets = section.offsets
            for index, item in enumerate(section.items):
                if type(item) is Bytes:
                    out += item.data
                    continue
                start = offsets[index]
                length = offsets[index + 1] - start
                self.pc = section.address + start
                try:
                    out += item.emit(self, length)
                except LocatedError as error:
                    self.report(item.location, error)
                    out += bytes(length)
            section.data = bytes(out)

    def check_equ(self, definition: EquDef) -> None:
        try:
            self.equ_value(definition)
        except LocatedError as error:
            self.report(definition.location, error)
            definition.broken = True

    def report(self, location: Location, error: LocatedError) -> None:
        if not isinstance(error, SuppressedError):
            self.reporter.error(location, error.column, error.message)

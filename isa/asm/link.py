"""The last step: a laid-out, emitted Program into an executable file.

Owns what the executable says about the program: the four output sections, the
symbol table (every label except assembler-local ones, `.L*` and numeric labels, as
GNU as drops those; .equ symbols as absolute values; .globl ones as STB_GLOBAL, with
.type/.size applied) and the entry point (`_start` if defined, else the start of .text).
"""

from __future__ import annotations

from isa.asm.diagnostics import LocatedError, Reporter
from isa.asm.parser import LOCAL_LABEL_SEPARATOR
from isa.asm.program import OUTPUT_SECTIONS, EquDef, Emitter, Program
from isa.elf import Section, Symbol, write_executable

ENTRY_SYMBOL = "_start"


def output_sections(program: Program) -> list[Section]:
    sections = []
    for name in OUTPUT_SECTIONS:
        parts = list(program.output_sections(name))
        start, end = program.bounds[name]
        data = bytearray()
        if name != ".bss":
            for part in parts:
                data += bytes(part.address - start - len(data)) + part.data
        sections.append(Section(
            name=name, address=start, size=end - start, data=bytes(data),
            alignment=program.output_alignment(name), writable=name in (".data", ".bss"),
            executable=name == ".text", nobits=name == ".bss"))
    return sections


def _is_assembler_local(name: str) -> bool:
    return name.startswith(".L") or LOCAL_LABEL_SEPARATOR in name


def symbol_table(program: Program, emitter: Emitter) -> list[Symbol]:
    """The symbols of the executable; errors in .size go to the emitter's reporter."""
    symbols = []
    for name, entry in program.symbols.items():
        if _is_assembler_local(name):
            continue
        if isinstance(entry, EquDef):
            try:
                value, section = emitter.equ_value(entry), None
            except LocatedError:
                continue  # already reported
        else:
            value, section = entry.address, entry.section.output
        size = 0
        if name in program.sizes:
            size = _symbol_size(program, emitter, name)
        symbols.append(Symbol(name=name, value=value, section=section,
                              is_global=program.is_global.get(name, False),
                              kind=program.types.get(name, "notype"), size=size))
    return symbols


def _symbol_size(program: Program, emitter: Emitter, name: str) -> int:
    expr, location, column = program.sizes[name]
    try:
        size = expr.evaluate(emitter)
        if not 0 <= size <= 0xFFFFFFFF:
            raise LocatedError(f"symbol size {size} out of range [0, 0xffffffff]", column)
        return size
    except LocatedError as error:
        emitter.report(location, error)
        return 0


def entry_point(program: Program, emitter: Emitter) -> int:
    entry = program.symbols.get(ENTRY_SYMBOL)
    if entry is None:
        return program.text_base
    if isinstance(entry, EquDef):
        try:
            return emitter.equ_value(entry) & 0xFFFFFFFF
        except LocatedError:
            return program.text_base  # reported with the definition
    return entry.address


def link(program: Program, emitter: Emitter, reporter: Reporter) -> bytes:
    """The executable file; raises AssemblyError if anything was reported."""
    symbols = symbol_table(program, emitter)
    entry = entry_point(program, emitter)
    reporter.raise_if_any()
    return write_executable(output_sections(program), symbols, entry)

"""Writing static ELF32 little-endian RISC-V executables.

Owns the file format only: the caller decides section addresses and contents. The
file holds the ELF header, one PT_LOAD program header per group of sections
(read-only sections in an R-X segment, writable ones in an RW- segment; each group
must be contiguous in memory), the section contents at file offsets congruent to
their addresses modulo the page size (the first segment at offset 0x1000 or just
after), then .symtab, .strtab, .shstrtab and the section header table.
e_flags is 0: no compressed instructions, soft-float ABI.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Sequence

PAGE_SIZE = 0x1000
EM_RISCV = 243
ET_EXEC = 2
PT_LOAD = 1
PF_X, PF_W, PF_R = 1, 2, 4
SHT_PROGBITS, SHT_SYMTAB, SHT_STRTAB, SHT_NOBITS = 1, 2, 3, 8
SHF_WRITE, SHF_ALLOC, SHF_EXECINSTR = 1, 2, 4
SHN_ABS = 0xFFF1
STB_LOCAL, STB_GLOBAL = 0, 1
SYMBOL_TYPES = {"notype": 0, "object": 1, "func": 2}

_EHDR = struct.Struct("<16sHHIIIIIHHHHHH")
_PHDR = struct.Struct("<IIIIIIII")
_SHDR = struct.Struct("<IIIIIIIIII")
_SYM = struct.Struct("<IIIBBH")


@dataclass(frozen=True)
class Section:
    name: str
    address: int
    size: int  # in memory
    data: bytes  # file contents; empty for nobits
    alignment: int
    writable: bool = False
    executable: bool = False
    nobits: bool = False


@dataclass(frozen=True)
class Symbol:
    name: str
    value: int
    section: str | None  # name of one of the sections; None for an absolute value
    is_global: bool = False
    kind: str = "notype"  # notype, object, func
    size: int = 0


class _StringTable:
    def __init__(self) -> None:
        self.data = bytearray(b"\0")
        self._offsets: dict[str, int] = {"": 0}

    def add(self, text: str) -> int:
        offset = self._offsets.get(text)
        if offset is None:
            offset = self._offsets[text] = len(self.data)
            self.data += text.encode("utf-8", "surrogateescape") + b"\0"
        return offset


def _align(value: int, alignment: int) -> int:
    return (value + alignment - 1) // alignment * alignment


def write_executable(sections: Sequence[Section], symbols: Sequence[Symbol],
                     entry: int) -> bytes:
    """The executable file. `sections` are in address order."""
    groups = [[s for s in sections if not s.writable], [s for s in sections if s.writable]]
    segments = []  # (offset, vaddr, filesz, memsz, flags)
    offsets: dict[str, int] = {}
    file_end = PAGE_SIZE
    for group in groups:
        if not group:
            continue
        base = group[0].address
        offset = file_end + (base - file_end) % PAGE_SIZE
        filesz = memsz = 0
        for section in group:
            offsets[section.name] = offset + section.address - base
            memsz = section.address + section.size - base
            if not section.nobits:
                filesz = memsz
        if memsz:
            flags = PF_R | (PF_W if group[0].writable else 0) \
                | (PF_X if any(s.executable for s in group) else 0)
            segments.append((offset, base, filesz, memsz, flags))
        file_end = offset + filesz

    image = bytearray(file_end)
    for section in sections:
        start = offsets[section.name]
        image[start:start + len(section.data)] = section.data

    index = {section.name: i for i, section in enumerate(sections, 1)}
    strtab = _StringTable()
    ordered = sorted(symbols, key=lambda s: s.is_global)  # locals first (stable)
    symtab = bytearray(_SYM.size)
    for symbol in ordered:
        symtab += _SYM.pack(
            strtab.add(symbol.name), symbol.value & 0xFFFFFFFF, symbol.size,
            (STB_GLOBAL if symbol.is_global else STB_LOCAL) << 4 | SYMBOL_TYPES[symbol.kind],
            0, SHN_ABS if symbol.section is None else index[symbol.section])
    first_global = 1 + sum(1 for s in symbols if not s.is_global)

    shstrtab = _StringTable()
    headers = [bytes(_SHDR.size)]
    for section in sections:
        flags = SHF_ALLOC | (SHF_WRITE if section.writable else 0) \
            | (SHF_EXECINSTR if section.executable else 0)
        headers.append(_SHDR.pack(
            shstrtab.add(section.name), SHT_NOBITS if section.nobits else SHT_PROGBITS,
            flags, section.address, offsets[section.name], section.size, 0, 0,
            section.alignment, 0))

    symtab_index = len(sections) + 1
    tables = (
        (".symtab", SHT_SYMTAB, bytes(symtab), symtab_index + 1, first_global, 4, _SYM.size),
        (".strtab", SHT_STRTAB, bytes(strtab.data), 0, 0, 1, 0),
        (".shstrtab", SHT_STRTAB, None, 0, 0, 1, 0),
    )
    for name, kind, data, link, info, alignment, entsize in tables:
        name_offset = shstrtab.add(name)
        if data is None:  # .shstrtab holds its own name, so it is written last
            data = bytes(shstrtab.data)
        start = _align(len(image), alignment)
        image += bytes(start - len(image)) + data
        headers.append(_SHDR.pack(name_offset, kind, 0, 0, start, len(data), link, info,
                                  alignment, entsize))

    shoff = _align(len(image), 4)
    image += bytes(shoff - len(image))
    for header in headers:
        image += header

    ident = b"\x7fELF" + bytes([1, 1, 1, 0]) + bytes(8)  # ELF32, little-endian, v1, SYSV
    image[:_EHDR.size] = _EHDR.pack(
        ident, ET_EXEC, EM_RISCV, 1, entry, _EHDR.size if segments else 0, shoff, 0,
        _EHDR.size, _PHDR.size, len(segments), _SHDR.size, len(headers), len(headers) - 1)
    phoff = _EHDR.size
    for i, segment in enumerate(segments):
        offset, vaddr, filesz, memsz, flags = segment
        image[phoff + i * _PHDR.size:phoff + (i + 1) * _PHDR.size] = _PHDR.pack(
            PT_LOAD, offset, vaddr, vaddr, filesz, memsz, flags, PAGE_SIZE)
    return bytes(image)

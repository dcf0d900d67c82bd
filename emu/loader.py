"""Loading static ELF32 RISC-V executables and building the initial stack.

This module owns the program image a process starts from: which ELF files are
acceptable (checked with clear errors before anything is written to RAM), copying
the PT_LOAD segments into guest memory, the symbol table for profiles and
debugging, and the initial stack laid out the way Linux lays it out for a static
binary: argc, argv[], NULL, envp[], NULL, auxv pairs, AT_NULL, then the strings
and the AT_RANDOM bytes above them.
"""

from __future__ import annotations

import io
import os
import random
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Sequence

from elftools.common.exceptions import ELFError
from elftools.elf.elffile import ELFFile

EM_RISCV = 243
SHF_EXECINSTR = 0x4
EF_RISCV_RVC = 0x1
EF_RISCV_FLOAT_ABI = 0x6

# Auxiliary vector keys (linux/auxvec.h)
AT_NULL, AT_PHDR, AT_PHENT, AT_PHNUM, AT_PAGESZ, AT_BASE, AT_FLAGS, AT_ENTRY = 0, 3, 4, 5, 6, 7, 8, 9
AT_UID, AT_EUID, AT_GID, AT_EGID, AT_HWCAP, AT_CLKTCK, AT_SECURE, AT_RANDOM = 11, 12, 13, 14, 16, 17, 23, 25
AT_EXECFN = 31

PAGE_SIZE = 4096
#: AT_HWCAP bits for the letters I, M, A (bit = letter - 'a').
HWCAP_IMA = (1 << (ord("i") - ord("a"))) | (1 << (ord("m") - ord("a"))) | (1 << (ord("a") - ord("a")))


class LoadError(ValueError):
    """The file is not an executable this machine can run."""


@dataclass(frozen=True)
class Segment:
    vaddr: int
    memsz: int
    filesz: int
    flags: int  # PF_X 1, PF_W 2, PF_R 4


@dataclass(frozen=True)
class CodeSymbol:
    """A named symbol in an executable section (a function or a code label), for
    profiles: `size` 0 when the ELF gives none; `source` the file (STT_FILE) a local
    symbol belongs to, else None."""

    address: int
    size: int
    name: str
    is_global: bool
    source: str | None


@dataclass
class Program:
    """What was loaded: where it starts and what it occupies."""

    entry: int
    segments: list[Segment]
    symbols: dict[str, int] = field(default_factory=dict)
    code_symbols: list[CodeSymbol] = field(default_factory=list)  # in symbol-table order
    brk_start: int = 0          # first byte after the highest segment, page aligned
    stack_pointer: int = 0      # initial sp (argc is at this address)
    phdr_address: int = 0


def read_executable(source: str | os.PathLike | bytes) -> bytes:
    """The bytes of an executable given as a path or as bytes."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        return bytes(source)
    try:
        return Path(source).read_bytes()
    except OSError as err:
        raise LoadError(f"cannot read {source}: {err.strerror}") from None


def parse_elf(data: bytes, ram_base: int, ram_end: int) -> tuple[ELFFile, Program]:
    """Check `data` is a static ELF32 RV32 executable that fits in RAM."""
    try:
        elf = ELFFile(io.BytesIO(data))
        header = elf.header
    except (ELFError, struct.error) as err:
        raise LoadError(f"not an ELF file: {err}") from None
    if elf.elfclass != 32:
        raise LoadError("not a 32-bit ELF file (this machine runs RV32 executables)")
    if not elf.little_endian:
        raise LoadError("not a little-endian ELF file")
    if header["e_machine"] != "EM_RISCV":
        raise LoadError(f"not a RISC-V executable (machine {header['e_machine']})")
    if header["e_type"] != "ET_EXEC":
        raise LoadError(f"not a static executable (type {header['e_type']}); link with -static")
    if header["e_flags"] & EF_RISCV_RVC:
        raise LoadError("executable uses compressed instructions (RVC); build with -march=rv32ima")
    if header["e_flags"] & EF_RISCV_FLOAT_ABI:
        raise LoadError("executable uses a hardware floating-point ABI; build with -mabi=ilp32")
    segments = []
    try:
        for segment in elf.iter_segments():
            kind = segment["p_type"]
            if kind == "PT_INTERP":
                raise LoadError("dynamically linked executable; link with -static")
            if kind != "PT_LOAD" or segment["p_memsz"] == 0:
                continue
            seg = Segment(segment["p_vaddr"], segment["p_memsz"], segment["p_filesz"],
                          segment["p_flags"])
            if seg.filesz > seg.memsz:
                raise LoadError(f"segment at {seg.vaddr:#x} has filesz > memsz")
            if seg.vaddr < ram_base or seg.vaddr + seg.memsz > ram_end:
                raise LoadError(
                    f"segment [{seg.vaddr:#x}, {seg.vaddr + seg.memsz:#x}) lies outside RAM "
                    f"[{ram_base:#x}, {ram_end:#x})")
            segments.append(seg)
    except (ELFError, struct.error) as err:
        raise LoadError(f"malformed ELF program headers: {err}") from None
    if not segments:
        raise LoadError("executable has no loadable segment")
    entry = header["e_entry"]
    if not any(s.vaddr <= entry < s.vaddr + s.memsz and s.flags & 1 for s in segments):
        raise LoadError(f"entry point {entry:#x} is not in an executable segment")
    end = max(s.vaddr + s.memsz for s in segments)
    program = Program(entry=entry, segments=segments,
                      brk_start=(end + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1))
    try:
        symtab = elf.get_section_by_name(".symtab")
        code_sections = {index for index, section in enumerate(elf.iter_sections())
                         if section["sh_flags"] & SHF_EXECINSTR}
        source = None
        if symtab is not None:
            for sym in symtab.iter_symbols():
                kind = sym["st_info"]["type"]
                if kind == "STT_FILE":
                    source = sym.name or None
                if sym.name and kind in ("STT_FUNC", "STT_NOTYPE", "STT_OBJECT"):
                    program.symbols.setdefault(sym.name, sym["st_value"])
                if (sym.name and kind in ("STT_FUNC", "STT_NOTYPE")
                        and sym["st_shndx"] in code_sections):
                    is_global = sym["st_info"]["bind"] != "STB_LOCAL"
                    program.code_symbols.append(CodeSymbol(
                        sym["st_value"], sym["st_size"], sym.name, is_global,
                        None if is_global else source))
    except (ELFError, struct.error):
        pass  # a broken symbol table costs only symbol names, not the run
    for seg in elf.iter_segments():
        if seg["p_type"] == "PT_LOAD" and seg["p_offset"] <= header["e_phoff"] < seg["p_offset"] + seg["p_filesz"]:
            program.phdr_address = seg["p_vaddr"] + header["e_phoff"] - seg["p_offset"]
    return elf, program


def segment_bytes(elf: ELFFile) -> list[tuple[int, bytes, int]]:
    """(vaddr, file bytes, memsz) of each non-empty PT_LOAD segment."""
    return [(s["p_vaddr"], s.data(), s["p_memsz"]) for s in elf.iter_segments()
            if s["p_type"] == "PT_LOAD" and s["p_memsz"]]


def build_stack(stack_top: int, argv: Sequence[str | bytes], env: Mapping[str, str],
                program: Program, phnum: int, seed: int) -> tuple[int, bytes]:
    """The initial stack image: returns (sp, bytes to write at sp)."""
    def encode(s: str | bytes) -> bytes:
        return (s if isinstance(s, bytes) else s.encode()) + b"\0"

    strings = [encode(a) for a in argv] + [encode(f"{k}={v}") for k, v in env.items()]
    execfn = strings[0] if argv else b"\0"
    random_bytes = random.Random(seed).randbytes(16)
    # Strings and random bytes sit at the top; pointers below them.
    blob = b"".join(strings) + execfn + random_bytes
    blob_start = (stack_top - len(blob)) & ~15
    addresses = []
    cursor = blob_start
    for s in strings:
        addresses.append(cursor)
        cursor += len(s)
    execfn_address = cursor
    random_address = cursor + len(execfn)
    argv_ptrs = addresses[: len(argv)]
    env_ptrs = addresses[len(argv):]
    auxv = [
        (AT_PHDR, program.phdr_address), (AT_PHENT, 32), (AT_PHNUM, phnum),
        (AT_PAGESZ, PAGE_SIZE), (AT_BASE, 0), (AT_FLAGS, 0), (AT_ENTRY, program.entry),
        (AT_UID, 0), (AT_EUID, 0), (AT_GID, 0), (AT_EGID, 0), (AT_HWCAP, HWCAP_IMA),
        (AT_CLKTCK, 100), (AT_SECURE, 0), (AT_RANDOM, random_address),
        (AT_EXECFN, execfn_address), (AT_NULL, 0),
    ]
    words = [len(argv), *argv_ptrs, 0, *env_ptrs, 0]
    for key, value in auxv:
        words += [key, value]
    table = struct.pack(f"<{len(words)}I", *words)
    sp = (blob_start - len(table)) & ~15
    image = table + bytes(blob_start - sp - len(table)) + blob
    return sp, image

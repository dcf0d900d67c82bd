"""The disassembler: instruction words as text, and the `emu disasm` command.

This module owns the textual form of a 32-bit word, which is what GNU objdump 2.40
prints for it with `-d -M no-aliases` (for a file assembled with
-march=rv32ima_zicsr_zifencei), with two deliberate differences:

- a branch or jump target is printed as an absolute hex address with a 0x prefix
  (`beq\ta0,a1,0x1c`), without objdump's `<symbol>` annotation, so the text
  assembles back to the same word;
- every word that matches no row of the table prints as `.4byte\t0x...`, which is
  how objdump prints an illegal 32-bit instruction. objdump itself splits words
  whose low bits announce a 16-bit (compressed) or longer encoding into `.2byte` /
  `.byte` pieces, and decodes a few encodings this ISA leaves illegal (privileged
  instructions such as mret and wfi, RV64 shifts by 32..63); emu's instructions
  are all 32 bits long and these words trap, so they print as one illegal word.

Everything comes from isa.table: the row of a word, its operand syntax, and the
register and CSR names.
"""

from __future__ import annotations

import argparse
import io
import os
import sys
from dataclasses import dataclass

from elftools.common.exceptions import ELFError
from elftools.construct.core import ConstructError
from elftools.elf.constants import SH_FLAGS
from elftools.elf.elffile import ELFFile

from isa.table import CSR_BY_NUMBER, REGISTER_NAMES, decode_fields, lookup

WORD_MASK = 0xFFFFFFFF

#: Fields whose value is a pc-relative offset, printed as the absolute target.
TARGET_FIELDS = ("btarget", "jtarget")

#: The .aq/.rl suffix of an AMO mnemonic, indexed by the aqrl field (bit 26 = aq).
AQRL_SUFFIXES = ("", ".rl", ".aq", ".aqrl")

#: Fence ordering-set letters, most significant bit first.
FENCE_LETTERS = "iorw"


def _fence_set(bits: int) -> str:
    letters = "".join(
        letter for i, letter in enumerate(FENCE_LETTERS) if bits & (8 >> i)
    )
    return letters or "unknown"  # objdump's spelling of the empty set


#: How each non-target field prints, as objdump prints it.
FIELD_TEXT = {
    "rd": REGISTER_NAMES.__getitem__,
    "rs1": REGISTER_NAMES.__getitem__,
    "rs2": REGISTER_NAMES.__getitem__,
    "imm12": str,
    "zimm": str,
    "imm20": hex,
    "shamt": hex,
    "csr": lambda number: CSR_BY_NUMBER.get(number, hex(number)),
    "pred": _fence_set,
    "succ": _fence_set,
}


def _decode(word: int, pc: int) -> tuple[str, int | None]:
    """The text of `word` at `pc`, and its branch/jump target address if it has one."""
    if not 0 <= word <= WORD_MASK:
        raise ValueError(f"{word:#x} is not a 32-bit word")
    row = lookup(word)
    if row is None:
        return f".4byte\t{word:#x}", None
    fields = decode_fields(row, word)
    target = None

    def field_text(field: str) -> str:
        nonlocal target
        if field in TARGET_FIELDS:
            target = (pc + fields[field]) & WORD_MASK
            return f"{target:#x}"
        return FIELD_TEXT[field](fields[field])

    operands = []
    for operand in row.operands:
        if operand.endswith("(rs1)"):
            displacement = operand[: -len("(rs1)")]
            prefix = field_text(displacement) if displacement else ""
            operands.append(f"{prefix}({field_text('rs1')})")
        else:
            operands.append(field_text(operand))
    mnemonic = row.name + (AQRL_SUFFIXES[fields["aqrl"]] if row.has_aqrl else "")
    return (f"{mnemonic}\t{','.join(operands)}" if operands else mnemonic), target


def disassemble_word(word: int, pc: int = 0) -> str:
    """objdump's text for the 32-bit `word` at address `pc`, e.g. 'addi\\ta0,a0,-1'."""
    return _decode(word, pc)[0]


def _piece(piece: bytes, address: int) -> tuple[int, str, int | None]:
    """(value, text, target) of a word of code, or of a trailing piece shorter than a
    word, which prints as `.byte` like objdump prints stray bytes."""
    value = int.from_bytes(piece, "little")
    if len(piece) == 4:
        return (value, *_decode(value, address))
    return value, ".byte\t" + ", ".join(f"{byte:#04x}" for byte in piece), None


def disassemble(data: bytes, address: int = 0) -> list[tuple[int, int, str]]:
    """(address, word, text) for each little-endian word of the code blob `data`."""
    out = []
    for offset in range(0, len(data), 4):
        value, text, _ = _piece(data[offset : offset + 4], address + offset)
        out.append((address + offset, value, text))
    return out


# ---- the `emu disasm` command ----------------------------------------------------


class DisasmError(Exception):
    """A problem with the input file, reported as one line."""


@dataclass
class CodeSection:
    name: str
    address: int
    data: bytes
    labels: dict[int, str]  # address -> symbol name printed as `<name>:`


def _symbol_rank(symbol) -> tuple:
    """Sort key choosing which of several symbols at one address labels it."""
    return (
        symbol["st_info"]["bind"] != "STB_GLOBAL",
        symbol["st_info"]["type"] != "STT_FUNC",
        symbol.name,
    )


def _elf_code_sections(blob: bytes) -> list[CodeSection]:
    try:
        elf = ELFFile(io.BytesIO(blob))
        if elf.elfclass != 32 or not elf.little_endian or elf["e_machine"] != "EM_RISCV":
            raise DisasmError("not a 32-bit little-endian RISC-V ELF file")
        sections = []
        by_index = {}
        for index, section in enumerate(elf.iter_sections()):
            executable = section["sh_flags"] & SH_FLAGS.SHF_EXECINSTR
            if executable and section["sh_type"] == "SHT_PROGBITS":
                code = CodeSection(section.name, section["sh_addr"], section.data(), {})
                sections.append(code)
                by_index[index] = code
        symtab = elf.get_section_by_name(".symtab")
        symbols = [] if symtab is None else [
            s for s in symtab.iter_symbols()
            if s["st_shndx"] in by_index and s.name and not s.name.startswith("$")
            and s["st_info"]["type"] in ("STT_NOTYPE", "STT_FUNC", "STT_OBJECT")
        ]
        for symbol in sorted(symbols, key=_symbol_rank, reverse=True):
            by_index[symbol["st_shndx"]].labels[symbol["st_value"]] = symbol.name
    except (ELFError, ConstructError) as exc:
        raise DisasmError(f"not an ELF file: {exc} (use --raw for a raw binary)") from None
    for code in sections:
        code.labels.setdefault(code.address, code.name)
    return sections


def _address_column(end: int):
    """objdump's address column: 8 hex digits, minus the leading zeros that every
    address up to `end` shares (in groups of 4), then the remaining zeros as spaces."""
    zeros = len(f"{end:08x}") - len(f"{end:08x}".lstrip("0"))
    skip = (zeros - 1) & -4 if zeros else 0

    def column(address: int) -> str:
        digits = f"{address:08x}"[skip:]
        return (digits.lstrip("0") or "0").rjust(len(digits))

    return column


def _annotation(target: int, sections: list[CodeSection]) -> str:
    """objdump's ` <label+0x...>` for a target inside a listed section with labels."""
    for code in sections:
        bases = [a for a in code.labels if a <= target]
        if bases and target < code.address + len(code.data):
            base = max(bases)
            offset = target - base
            return f" <{code.labels[base]}{f'+{offset:#x}' if offset else ''}>"
    return ""


def _listing(sections: list[CodeSection], with_headers: bool) -> list[str]:
    lines = []
    for code in sections:
        if with_headers:
            lines += ["", f"Disassembly of section {code.name}:"]
        column = _address_column(code.address + len(code.data))
        for offset in range(0, len(code.data), 4):
            address = code.address + offset
            if address in code.labels:
                lines += ["", f"{address:08x} <{code.labels[address]}>:"]
            piece = code.data[offset : offset + 4]
            _, text, target = _piece(piece, address)
            if target is not None:
                text += _annotation(target, sections)
            lines.append(f"{column(address)}:\t{piece[::-1].hex():<18}\t{text}")
    return lines


def _address(text: str) -> int:
    try:
        value = int(text, 0)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0 <= value <= WORD_MASK:
        raise argparse.ArgumentTypeError(f"{text} is not a 32-bit address")
    return value


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="emu disasm",
        description="Disassemble an emu ELF executable (its code sections) or a raw binary.",
    )
    parser.add_argument("file", help="ELF file, or raw little-endian words with --raw")
    parser.add_argument("--raw", action="store_true", help="FILE is a raw binary, not an ELF")
    parser.add_argument(
        "--address", type=_address, default=None, metavar="ADDR",
        help="address of the first byte of a --raw binary (default 0)",
    )
    args = parser.parse_args(argv)
    if args.address is not None and not args.raw:
        parser.error("--address needs --raw (an ELF file has its own addresses)")
    return args


def main(argv: list[str] | None = None) -> int:
    args = _parse_args(argv)
    try:
        try:
            with open(args.file, "rb") as f:
                blob = f.read()
        except OSError as exc:
            raise DisasmError(exc.strerror or str(exc)) from None
        if args.raw:
            sections = [CodeSection("raw", args.address or 0, blob, {})]
        else:
            sections = _elf_code_sections(blob)
    except DisasmError as exc:
        print(f"emu disasm: error: {args.file}: {exc}", file=sys.stderr)
        return 1
    try:
        print("\n".join(_listing(sections, with_headers=not args.raw)), flush=True)
    except BrokenPipeError:  # the reader went away (`emu disasm prog | head`): not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # so exit's flush is quiet
    return 0


if __name__ == "__main__":
    sys.exit(main())

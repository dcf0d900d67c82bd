"""The emu assembler: GNU as syntax for the emu ISA in, a static ELF32 executable out.

This module is the public face (assemble, assemble_file, AssemblyError, Diagnostic and
the `emu asm` command); the work happens in the isa.asm package and isa.elf.
All errors in a source are reported together, each as `file:line:col: error: ...`
with the line and a caret; bad input never produces a Python traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path
from typing import Iterable, Sequence

from isa.asm.diagnostics import AssemblyError, Diagnostic, Location, Reporter, SourceFile
from isa.asm.link import link
from isa.asm.parser import Parser
from isa.asm.program import Emitter, Program

__all__ = ["AssemblyError", "Diagnostic", "assemble", "assemble_file", "main"]

DEFAULT_TEXT_BASE = 0x10000


def assemble(source: str, filename: str = "<input>", *,
             include_dirs: Iterable[str | os.PathLike] = (),
             text_base: int = DEFAULT_TEXT_BASE) -> bytes:
    """Assemble `source` into an executable; .include looks in the directory of
    `filename` first, then in `include_dirs`. Raises AssemblyError."""
    if not (0 <= text_base <= 0xFFFFFFFF and text_base % 4 == 0):
        raise ValueError(f"text_base {text_base:#x} must be a 4-aligned 32-bit address")
    reporter = Reporter()
    program = Program(text_base)
    parser = Parser(program, reporter, [Path(d) for d in include_dirs])
    path = Path(filename)
    if path.is_file():
        parser.includes.append(path.resolve())
    main_file = SourceFile(filename, source)
    parser.parse(main_file, path.parent)
    parser.finish()
    emitter = Emitter(program, reporter, Location(main_file, 1, 0))
    emitter.layout()
    emitter.emit()
    return link(program, emitter, reporter)


def assemble_file(path: str | os.PathLike, **kw) -> bytes:
    """Assemble the file at `path` (see assemble for the keywords)."""
    text = Path(path).read_text(encoding="utf-8", errors="surrogateescape")
    return assemble(text, str(path), **kw)


def main(argv: Sequence[str] | None = None) -> int:
    """`emu asm INPUT.s [-o OUTPUT] [-I DIR]...`; returns the exit status."""
    parser = argparse.ArgumentParser(
        prog="emu asm", description="Assemble a source file into an emu ELF executable.")
    parser.add_argument("input", help="assembly source file")
    parser.add_argument("-o", "--output", help="output file (default: INPUT with .elf suffix)")
    parser.add_argument("-I", dest="include_dirs", action="append", default=[],
                        metavar="DIR", help="also search DIR for .include files")
    args = parser.parse_args(argv)
    output = Path(args.output) if args.output else Path(args.input).with_suffix(".elf")
    try:
        image = assemble_file(args.input, include_dirs=args.include_dirs)
    except AssemblyError as error:
        print(error, file=sys.stderr)
        return 1
    except OSError as error:
        print(f"emu asm: error: cannot read {args.input}: {error.strerror}", file=sys.stderr)
        return 1
    try:
        _write_atomically(output, image)
    except OSError as error:
        print(f"emu asm: error: cannot write {output}: {error.strerror}", file=sys.stderr)
        return 1
    return 0


def _write_atomically(path: Path, data: bytes) -> None:
    """Write via a temporary file in the same directory, so no partial file is left."""
    fd, temporary = tempfile.mkstemp(dir=path.parent or ".", prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(temporary, 0o755)
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise


if __name__ == "__main__":
    sys.exit(main())

"""Differential test of emu against qemu-riscv32 on compiled C programs.

Each program in programs/c (linked with crt0.s, syscalls.c and io.c, freestanding,
as programs/README.md describes) is compiled with riscv64-unknown-elf-gcc and run
under qemu-riscv32 with compressed and floating-point extensions off, through the
Machine API, and through the `emu run` command line. All three must print the same
stdout and end with the same exit code. Skipped when gcc or qemu is not installed.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import emu

REPO = Path(__file__).resolve().parent.parent
C_DIR = REPO / "programs" / "c"
SUPPORT = ("crt0.s", "syscalls.c", "io.c")
PROGRAMS = sorted(p.stem for p in C_DIR.glob("*.c") if p.name not in SUPPORT)
GCC = "riscv64-unknown-elf-gcc"
QEMU = "qemu-riscv32"
CFLAGS = ("-march=rv32ima", "-mabi=ilp32", "-static", "-nostdlib", "-nostartfiles", "-O2", "-Wall")
QEMU_CPU = "rv32,c=false,f=false,d=false"

#: Arguments and stdin per program; the others run with none.
ARGUMENTS = {"args": ("first", "with space", "", "-x", "ünï")}
STDIN = {"args": b"line one\nline two\nno newline at the end"}

pytestmark = pytest.mark.skipif(shutil.which(GCC) is None or shutil.which(QEMU) is None,
                                reason=f"{GCC} or {QEMU} not installed")


@pytest.fixture(scope="module")
def executables(tmp_path_factory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("c-programs")
    built = {}
    for name in PROGRAMS:
        exe = out / name
        subprocess.run([GCC, *CFLAGS, *(str(C_DIR / s) for s in SUPPORT), str(C_DIR / f"{name}.c"),
                        "-lgcc", "-o", str(exe)], check=True, capture_output=True, text=True)
        built[name] = exe
    return built


def test_every_program_has_been_found():
    assert {"args", "arith", "atomics", "sort"} <= set(PROGRAMS)


@pytest.mark.parametrize("name", PROGRAMS)
def test_emu_matches_qemu(name, executables):
    exe, args, stdin = executables[name], ARGUMENTS.get(name, ()), STDIN.get(name, b"")
    qemu = subprocess.run([QEMU, "-cpu", QEMU_CPU, str(exe), *args], input=stdin,
                          capture_output=True, timeout=60)
    assert qemu.stdout, f"qemu printed nothing (stderr {qemu.stderr!r})"

    machine = emu.Machine(emu.MachineConfig(), stdin=stdin)
    machine.load(exe, argv=(str(exe), *args))
    result = machine.run(max_instructions=100_000_000)
    assert result.reason == "exit", result
    assert (machine.stdout.decode(), result.exit_code) == (qemu.stdout.decode(), qemu.returncode)

    cli = subprocess.run([sys.executable, "-m", "emu", "run", str(exe), "--", *args],
                         input=stdin, capture_output=True, timeout=120, cwd=REPO)
    assert (cli.stdout.decode(), cli.returncode) == (qemu.stdout.decode(), qemu.returncode), cli.stderr

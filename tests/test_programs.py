"""The example programs in programs/: their outputs on emu, and the oracle behind them.

Every programs/NAME.s with a NAME.expected file, assembled by isa.assemble and run on
emu.Machine (stdin from NAME.stdin when present), prints exactly NAME.expected and
exits 0. When the GNU tools and qemu-riscv32 are installed, the same sources built
by GNU as/ld print the same under qemu (which validates the .expected files), and so
does the ELF that isa.assemble wrote (which checks the assembler against a second
loader). bench.s is also checked at small sizes against a Python model of its checksum.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import emu

PROGRAMS_DIR = Path(__file__).resolve().parent.parent / "programs"
EXAMPLES = sorted(p for p in PROGRAMS_DIR.glob("*.s") if p.with_suffix(".expected").exists())
#: Programs whose size is part of their contract: (min, max) instructions retired.
INSTRUCTION_RANGES = {"bench": (190_000_000, 210_000_000)}
GNU_AS = "riscv64-unknown-elf-as"
GNU_LD = "riscv64-unknown-elf-ld"
QEMU = "qemu-riscv32"

needs_qemu = pytest.mark.skipif(shutil.which(QEMU) is None, reason="qemu-riscv32 not installed")
needs_gnu = pytest.mark.skipif(shutil.which(GNU_AS) is None or shutil.which(GNU_LD) is None,
                               reason="GNU riscv64-unknown-elf binutils not installed")
examples = pytest.mark.parametrize("source", EXAMPLES, ids=lambda p: p.stem)


def stdin_of(source: Path) -> bytes:
    path = source.with_suffix(".stdin")
    return path.read_bytes() if path.exists() else b""


def run_on_emu(text: str, filename: str, stdin: bytes = b"") -> tuple[emu.RunResult, bytes]:
    machine = emu.Machine(emu.MachineConfig(), stdin=stdin)
    machine.load(emu.assemble(text, filename, include_dirs=[PROGRAMS_DIR]))
    result = machine.run(max_instructions=1_000_000_000)
    return result, machine.stdout


def run_under_qemu(executable: Path, stdin: bytes) -> subprocess.CompletedProcess:
    return subprocess.run([QEMU, str(executable)], input=stdin, capture_output=True, timeout=60)


def gnu_build(source: Path, out_dir: Path) -> Path:
    """The GNU toolchain's executable for `source`: .text at 0x10000 like isa.assemble,
    without linker relaxation (the programs do not set gp)."""
    obj, exe = out_dir / f"{source.stem}.o", out_dir / source.stem
    subprocess.run([GNU_AS, "-march=rv32ima_zicsr_zifencei", "-mabi=ilp32", "-I", str(PROGRAMS_DIR),
                    "-o", str(obj), str(source)], check=True, capture_output=True)
    subprocess.run([GNU_LD, "-m", "elf32lriscv", "--no-relax", "-Ttext=0x10000", "-o", str(exe),
                    str(obj)], check=True, capture_output=True)
    return exe


@examples
def test_example_prints_expected_output_on_emu(source):
    result, stdout = run_on_emu(source.read_text(), str(source), stdin_of(source))
    assert (result.reason, result.exit_code) == ("exit", 0)
    assert stdout.decode() == source.with_suffix(".expected").read_text()
    low, high = INSTRUCTION_RANGES.get(source.stem, (1, float("inf")))
    assert low <= result.instructions <= high


@needs_gnu
@needs_qemu
@examples
def test_expected_output_is_what_qemu_prints(source, tmp_path):
    completed = run_under_qemu(gnu_build(source, tmp_path), stdin_of(source))
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout == source.with_suffix(".expected").read_bytes()


@needs_qemu
@examples
def test_isa_assembled_executable_behaves_the_same_under_qemu(source, tmp_path):
    executable = tmp_path / source.stem
    executable.write_bytes(emu.assemble(source.read_text(), str(source), include_dirs=[PROGRAMS_DIR]))
    executable.chmod(0o755)  # qemu-user refuses files without the execute bit
    completed = run_under_qemu(executable, stdin_of(source))
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout == source.with_suffix(".expected").read_bytes()


# ---- bench.s at other sizes -------------------------------------------------------------

BENCH = PROGRAMS_DIR / "bench.s"
REPEAT_LINE = re.compile(r"^(\s*\.equ\s+REPEAT,\s*)(\d+)", re.MULTILINE)
MASK = 0xFFFFFFFF


def bench_source(repeat: int) -> str:
    """bench.s with its REPEAT replaced."""
    text, count = REPEAT_LINE.subn(rf"\g<1>{repeat}", BENCH.read_text())
    assert count == 1, "bench.s must define REPEAT on exactly one `.equ REPEAT, N` line"
    return text


def bench_model(repeat: int, sieve_n: int = 8192, dim: int = 16) -> str:
    """What bench.s prints, computed in Python from the description at its top."""
    def signed(v: int) -> int:
        return v - (1 << 32) if v & 0x80000000 else v

    def truncating_divmod(a: int, b: int) -> tuple[int, int]:
        q = abs(a) // abs(b) * (1 if (a < 0) == (b < 0) else -1)
        return q, a - q * b

    composite = bytearray(sieve_n)
    for p in range(2, sieve_n):
        if p * p >= sieve_n:
            break
        if not composite[p]:
            for q in range(p * p, sieve_n, p):
                composite[q] = 1
    primes = sieve_n - 2 - sum(composite[2:])
    checksum = 0
    for r in range(repeat):
        xs = [signed((i + r) * 0x9E3779B1 & MASK) for i in range(dim * dim)]
        a = [truncating_divmod(x, 21)[1] for x in xs]
        b = [truncating_divmod(x, 100_000_000)[0] for x in xs]
        h = 0
        for i in range(dim):
            for j in range(dim):
                c = sum(a[i * dim + k] * b[k * dim + j] for k in range(dim))
                h = (h * 31 + c) & MASK
        checksum = ((checksum << 5 | checksum >> 27) & MASK) ^ h ^ primes
    return f"checksum: {checksum:#010x}\nprimes: {primes}\n"


def test_bench_model_reproduces_the_expected_file():
    repeat = int(REPEAT_LINE.search(BENCH.read_text()).group(2))
    assert bench_model(repeat) == BENCH.with_suffix(".expected").read_text()


@settings(max_examples=5)
@given(st.integers(1, 4))
def test_bench_with_small_repeat_matches_model(repeat):
    result, stdout = run_on_emu(bench_source(repeat), str(BENCH))
    assert (result.reason, result.exit_code) == ("exit", 0)
    assert stdout.decode() == bench_model(repeat)

"""The `emu` command: asm, disasm and run.

This module owns the command line: argument parsing, turning every expected
failure (bad file, bad config, assembly errors) into one clear message and exit
status 1 instead of a traceback, live progress while a long run goes on, and a
clean stop with the statistics so far on Ctrl-C.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time
from pathlib import Path

from emu.config import ConfigError, MachineConfig, describe
from emu.loader import LoadError

#: Seconds a run must last before live progress appears on a terminal.
PROGRESS_AFTER = 2.0


def _error(message: str) -> int:
    print(f"emu: error: {message}", file=sys.stderr)
    return 1


def _load_source(path: str) -> bytes:
    """The ELF to run: an .s file is assembled on the fly."""
    from isa.assembler import assemble_file

    if path.endswith((".s", ".S", ".asm")):
        return assemble_file(path)
    return Path(path).read_bytes()


def _format_stats(stats: dict, prefix: str = "") -> list[str]:
    lines = []
    for key, value in stats.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            lines += _format_stats({str(k): v for k, v in value.items()}, name + ".")
        elif isinstance(value, float):
            lines.append(f"{name:<40} {value:.6f}")
        else:
            lines.append(f"{name:<40} {value}")
    return lines


class _Progress:
    """Live instructions and simulated MIPS on stderr, once a run lasts a while."""

    def __init__(self) -> None:
        self.shown = False

    def __call__(self, instructions: int, seconds: float) -> None:
        if seconds < PROGRESS_AFTER:
            return
        self.shown = True
        mips = instructions / seconds / 1e6
        print(f"\r{instructions:>16,} instructions  {mips:8.1f} MIPS  {seconds:7.1f} s",
              end="", file=sys.stderr, flush=True)

    def finish(self) -> None:
        if self.shown:
            print(file=sys.stderr)


def cmd_run(args: argparse.Namespace) -> int:
    from emu.machine import Machine

    try:
        config = MachineConfig(**dict(args.config or []))
    except (ConfigError, TypeError) as err:
        return _error(f"bad configuration: {err}")
    from isa.assembler import AssemblyError

    try:
        elf = _load_source(args.file)
    except OSError as err:
        return _error(f"cannot read {args.file}: {err.strerror}")
    except AssemblyError as err:
        print(err, file=sys.stderr)
        return 1
    machine = Machine(config, stdin=sys.stdin.buffer, stdout=sys.stdout.buffer,
                      stderr=sys.stderr.buffer)
    try:
        machine.load(elf, argv=[args.file, *args.args])
    except LoadError as err:
        return _error(f"{args.file}: {err}")
    progress = _Progress() if sys.stderr.isatty() else None
    previous = signal.signal(signal.SIGINT, lambda *_: machine.request_stop())
    started = time.perf_counter()
    try:
        result = machine.run(args.max_insts, progress=progress)
    finally:
        signal.signal(signal.SIGINT, previous)
        if progress:
            progress.finish()
    elapsed = time.perf_counter() - started
    sys.stdout.flush()
    if result.reason == "fault":
        print(f"emu: guest killed by {signal.Signals(result.signal).name}: {result.trap}",
              file=sys.stderr)
    elif result.reason == "breakpoint":
        print(f"emu: guest stopped at a breakpoint (ebreak) at pc={result.trap.pc:#010x}",
              file=sys.stderr)
    elif result.reason == "interrupted":
        print("emu: interrupted", file=sys.stderr)
    elif result.reason == "limit":
        print(f"emu: stopped after {result.instructions} instructions (--max-insts)",
              file=sys.stderr)
    if args.stats:
        stats = {**machine.stats, "host_seconds": elapsed,
                 "host_mips": result.instructions / elapsed / 1e6 if elapsed else 0.0}
        print("\n".join(_format_stats(stats)), file=sys.stderr)
    if result.reason == "exit":
        return result.exit_code
    if result.reason == "fault":
        return result.exit_code
    if result.reason == "breakpoint":
        return 128 + signal.SIGTRAP
    if result.reason == "interrupted":
        return 128 + signal.SIGINT
    return 0


def _config_item(text: str) -> tuple[str, int | str]:
    key, sep, value = text.partition("=")
    if not sep:
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}")
    try:
        return key, int(value, 0)
    except ValueError:
        return key, value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="emu", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    sub.add_parser("asm", help="assemble a .s file into an ELF executable", add_help=False)
    sub.add_parser("disasm", help="disassemble an ELF executable or raw binary", add_help=False)
    run = sub.add_parser("run", help="run an ELF executable or .s file",
                         epilog="configuration fields (--config NAME=VALUE):\n" + "\n".join(
                             f"  {name:<14} {help} (default {default!r})"
                             for name, default, help in describe()),
                         formatter_class=argparse.RawDescriptionHelpFormatter)
    run.add_argument("file", help="program: an ELF executable, or assembly (.s) to assemble first")
    run.add_argument("args", nargs="*", help="arguments for the program (after --)")
    run.add_argument("--max-insts", type=int, default=None, metavar="N",
                     help="stop after N instructions")
    run.add_argument("--stats", action="store_true", help="print statistics on stderr at the end")
    run.add_argument("--config", "-c", action="append", type=_config_item, metavar="NAME=VALUE",
                     help="set a machine configuration field (repeatable)")
    run.set_defaults(func=cmd_run)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    # asm and disasm own their argument parsing.
    if argv and argv[0] in ("asm", "disasm"):
        from isa import assembler, disassembler

        return (assembler if argv[0] == "asm" else disassembler).main(argv[1:])
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except Exception as err:  # a bug in emu: still one line, the traceback on request
        if os.environ.get("EMU_TRACEBACK"):
            raise
        return _error(f"internal error: {type(err).__name__}: {err} "
                      "(set EMU_TRACEBACK=1 for the traceback, and please report it)")


if __name__ == "__main__":
    sys.exit(main())

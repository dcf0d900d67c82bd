"""The `emu` command: asm, disasm, run and profile.

This module owns the command line: argument parsing, turning every expected
failure (bad file, bad config, assembly errors) into one clear message and exit
status 1 instead of a traceback, live progress while a long run goes on, a clean
stop with the statistics so far on Ctrl-C, where a pipeline trace goes, and how a
profiled run starts its harts and where its profile goes.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import os
import signal
import sys
import time
from pathlib import Path
from typing import TextIO

from emu.config import (CPU_MODELS, ConfigError, CoreConfig, DeviceConfig, LinkConfig,
                        MachineConfig, MemoryHierarchyConfig, MmuConfig, describe)
from emu.loader import LoadError

#: Seconds a run must last before live progress appears on a terminal.
PROGRESS_AFTER = 2.0

#: --config names of the out-of-order core's fields start with this.
CORE_PREFIX = "core."
#: The sub-configurations --config reaches by a dotted prefix, and their classes: the
#: prefix names the field holding it in its parent (devices.link. is DeviceConfig.link).
SUB_CONFIGS = {"core.": CoreConfig, "mmu.": MmuConfig, "devices.": DeviceConfig,
               "devices.link.": LinkConfig}

#: --window when not given: a Kanata file, and a text diagram that fits a terminal.
DEFAULT_WINDOW = {"file": (0, 1000), "text": (0, 30)}

#: Most commits one trace records: the core reserves 8 records per commit for wrong-path
#: work, and Kanata takes ~300 bytes per instruction, so a million is already ~0.5 GB.
MAX_WINDOW = 1_000_000

_BOOLEANS = {"1": True, "true": True, "yes": True, "on": True,
             "0": False, "false": False, "no": False, "off": False}


class _OptionError(Exception):
    """A command-line option that cannot be used as given."""


def _error(message: str) -> int:
    print(f"emu: error: {message}", file=sys.stderr)
    return 1


def _load_source(path: str) -> bytes:
    """The ELF to run: an .s file is assembled on the fly."""
    from isa.assembler import assemble_file

    if path.endswith((".s", ".S", ".asm")):
        return assemble_file(path)
    return Path(path).read_bytes()


def _field_value(name: str, f: dataclasses.Field, text: str) -> object:
    """The value of config field `f` (--config `name`) from its text; the config
    validates it."""
    if f.type in ("bool", bool):
        if text.lower() not in _BOOLEANS:
            raise ConfigError(f"{name} must be true or false, not {text!r}")
        return _BOOLEANS[text.lower()]
    if f.type in ("int", int):
        try:
            return int(text, 0)
        except ValueError:
            return text
    return text


def _machine_config(items: list[str], cpu: str | None) -> MachineConfig:
    """The MachineConfig of the --config NAME=VALUE items and --cpu. A NAME is a
    MachineConfig field, or a field of a sub-configuration by its dotted path
    (core.rob_entries, mmu.dtlb_entries, devices.block_image, devices.link.latency)."""
    values: dict[str, dict[str, object]] = {prefix: {} for prefix in ("", *SUB_CONFIGS)}
    classes = {"": MachineConfig, **SUB_CONFIGS}
    for item in items:
        name, sep, text = item.partition("=")
        if not sep:
            raise ConfigError(f"expected NAME=VALUE, got {item!r}")
        prefix = max((p for p in SUB_CONFIGS if name.startswith(p)), key=len, default="")
        short = name.removeprefix(prefix)
        fields = {f.name: f for f in dataclasses.fields(classes[prefix])
                  if not dataclasses.is_dataclass(f.default)}
        if short not in fields:
            raise ConfigError(f"unknown field {name!r} (see `emu run --help`)")
        values[prefix][short] = _field_value(name, fields[short], text)
    if cpu is not None:
        values[""]["cpu"] = cpu

    def build(prefix: str, base: object) -> object:
        changes = dict(values[prefix])
        for sub in SUB_CONFIGS:     # the sub-configurations one level below this one
            if sub.startswith(prefix) and sub != prefix and sub.count(".") == prefix.count(".") + 1:
                field = sub[len(prefix):-1]
                current = getattr(base, field)
                if current is None:
                    if any(v for p, v in values.items() if p.startswith(sub)):
                        raise ConfigError(f"{sub}NAME needs {prefix}{field} (it is None)")
                    continue
                changes[field] = build(sub, current)
        try:
            return dataclasses.replace(base, **changes)
        except ConfigError as err:
            raise ConfigError(f"{prefix.rstrip('.')}: {err}" if prefix else str(err)) from None

    return build("", MachineConfig())


def _pipeline_window(args: argparse.Namespace, cpu: str) -> tuple[int, int] | None:
    """(start, count) of the commits to trace, or None without --pipeview."""
    if args.pipeview is None:
        if args.window is not None:
            raise _OptionError("--window needs --pipeview")
        return None
    if cpu != "ooo":
        raise _OptionError("--pipeview needs the out-of-order core: add --cpu ooo")
    if args.window is None:
        return DEFAULT_WINDOW["text" if args.pipeview == "-" else "file"]
    start, sep, count = args.window.partition(":")
    if sep and start.isdecimal() and count.isdecimal() and 1 <= int(count) <= MAX_WINDOW:
        return int(start), int(count)
    raise _OptionError(f"--window must be START:COUNT with START >= 0 and "
                       f"1 <= COUNT <= {MAX_WINDOW}, not {args.window!r}")


def _flat_stats(stats: dict, prefix: str = "") -> list[tuple[str, str]]:
    """(dotted name, text) of every number in nested dicts, lists and numpy values."""
    rows = []
    for key, value in stats.items():
        name = f"{prefix}{key}"
        if hasattr(value, "tolist"):        # numpy scalars and arrays
            value = value.tolist()
        if isinstance(value, list):
            value = dict(enumerate(value))
        if isinstance(value, dict):
            rows += _flat_stats(value, name + ".")
        else:
            rows.append((name, f"{value:.6f}" if isinstance(value, float) else str(value)))
    return rows


def _format_stats(stats: dict) -> list[str]:
    rows = _flat_stats(stats)
    width = max((len(name) for name, _ in rows), default=0)
    return [f"{name:<{width}}  {text}" for name, text in rows]


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


def _write_pipeview(machine, destination: TextIO | None, window: tuple[int, int]) -> None:
    """The recorded trace as a Kanata log into `destination`, or as a text diagram on
    stderr when it is None."""
    from emu.pipeview import text_diagram, write_kanata

    records = machine.pipeline_trace()
    if destination is None:
        print(text_diagram(records, max_instructions=len(records)), end="", file=sys.stderr)
        return
    write_kanata(records, destination)
    if len(records) == 0:
        print(f"emu: no instruction committed in the pipeline window {window[0]}:{window[1]}",
              file=sys.stderr)


def _loaded_machine(args: argparse.Namespace, config: MachineConfig):
    """(Machine, Program, ELF bytes): a Machine on the terminal's streams with args.file
    (an ELF, or assembly to assemble first) loaded with args.args; or the exit status
    after saying on stderr why not."""
    from emu.machine import Machine
    from isa.assembler import AssemblyError

    try:
        elf = _load_source(args.file)
    except OSError as err:
        return _error(f"cannot read {args.file}: {err.strerror}")
    except AssemblyError as err:
        print(err, file=sys.stderr)
        return 1
    try:
        machine = Machine(config, stdin=sys.stdin.buffer, stdout=sys.stdout.buffer,
                          stderr=sys.stderr.buffer)
    except OSError as err:      # a device's host file (the block image)
        return _error(f"cannot open {err.filename}: {err.strerror}")
    except ValueError as err:   # a host file a device cannot use (an image of odd size)
        return _error(f"cannot build the machine: {err}")
    try:
        return machine, machine.load(elf, argv=[args.file, *args.args]), elf
    except LoadError as err:
        return _error(f"{args.file}: {err}")


def cmd_run(args: argparse.Namespace) -> int:
    try:
        config = _machine_config(args.config or [], args.cpu)
        if args.caches:
            config = config.replace(caches=MemoryHierarchyConfig())
    except ConfigError as err:
        return _error(f"bad configuration: {err}")
    try:
        window = _pipeline_window(args, config.cpu)
    except _OptionError as err:
        return _error(str(err))
    loaded = _loaded_machine(args, config)
    if isinstance(loaded, int):
        return loaded
    machine, _, _ = loaded
    trace_file = None
    if window is not None and args.pipeview != "-":
        try:    # before the run, which may be long
            trace_file = open(args.pipeview, "w", encoding="utf-8")
        except OSError as err:
            return _error(f"cannot write {args.pipeview}: {err.strerror}")
    with trace_file or contextlib.nullcontext():
        if window is not None:
            machine.trace_pipeline(*window)
        result, elapsed = _run(machine, args.max_insts)
        sys.stdout.flush()
        if window is not None:
            _write_pipeview(machine, trace_file, window)
    _report_outcome(result)
    if args.stats:
        stats = {**machine.stats, "host_seconds": elapsed,
                 "host_mips": result.instructions / elapsed / 1e6 if elapsed else 0.0}
        if "caches" in stats:
            stats["caches"] = stats["caches"].as_stats()
        print("\n".join(_format_stats(stats)), file=sys.stderr)
    return _exit_status(result)


def _report_outcome(result) -> None:
    """Say on stderr why a run that did not exit ended."""
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


def _exit_status(result) -> int:
    """What `emu` exits with after a run: the guest's status (128 + signal for a fault,
    a breakpoint or Ctrl-C), 0 when an instruction limit stopped it."""
    if result.reason in ("exit", "fault"):
        return result.exit_code
    if result.reason == "breakpoint":
        return 128 + signal.SIGTRAP
    if result.reason == "interrupted":
        return 128 + signal.SIGINT
    return 0


def _start_harts(machine, program, cores: int, entry: str | None, stack_size: int) -> None:
    """Start harts 1..cores-1 at symbol `entry` (default: `worker` if the program has
    one, else its entry point) with a0 = the hart's number and a stack of their own:
    the stack area split evenly below hart 0's. A program with a `harts` symbol gets
    `cores` written there (programs/parallel_sum.s's protocol)."""
    if entry is not None and entry not in program.symbols:
        raise _OptionError(f"--hart-entry: the program has no symbol {entry!r}")
    name = entry or ("worker" if "worker" in program.symbols else None)
    pc = program.symbols[name] if name else program.entry
    stack = (stack_size // cores) & ~15
    for hart in range(1, cores):
        machine.start_hart(hart, pc, sp=program.stack_pointer - hart * stack, args=[hart])
    if cores > 1 and "harts" in program.symbols:
        machine.write_memory(program.symbols["harts"], cores.to_bytes(4, "little"))


def cmd_profile(args: argparse.Namespace) -> int:
    from emu.profile import EVENTS, CacheProfile, ProfileError, require_matplotlib

    for option, value in (("--cores", args.cores), ("--top", args.top)):
        if value < 1:
            return _error(f"{option} must be at least 1, not {value}")
    if args.max_insts is not None and args.max_insts < 0:
        return _error(f"--max-insts must not be negative, not {args.max_insts}")
    try:
        config = _machine_config(args.config or [], None)
        if config.cpu != "functional":
            return _error("emu profile runs the functional core (its fetches are the "
                          "instructions): drop cpu=")
        config = config.replace(harts=args.cores,
                                caches=config.caches or MemoryHierarchyConfig())
    except ConfigError as err:
        return _error(f"bad configuration: {err}")
    if args.heatmap is not None:
        try:    # before the run, which may be long
            require_matplotlib()
        except ProfileError as err:
            return _error(str(err))
    loaded = _loaded_machine(args, config)
    if isinstance(loaded, int):
        return loaded
    machine, program, elf = loaded
    try:
        _start_harts(machine, program, args.cores, args.hart_entry, config.stack_size)
    except _OptionError as err:
        return _error(str(err))
    try:    # before the run, which may be long
        out = open(args.output, "w", encoding="utf-8")
    except OSError as err:
        return _error(f"cannot write {args.output}: {err.strerror}")
    with out:
        machine.enable_profile()
        result, _ = _run(machine, args.max_insts)
        sys.stdout.flush()
        profile = CacheProfile.from_machine(machine, elf=elf, object_name=args.file,
                                            command=" ".join([args.file, *args.args]))
        profile.write_callgrind(out, EVENTS if args.cache else ("Ir",))
    _report_outcome(result)
    print(profile.summary(top=args.top, cache=args.cache), file=sys.stderr)
    print(f"emu: profile written to {args.output} (callgrind_annotate {args.output}, or open "
          "it in KCachegrind)", file=sys.stderr)
    if args.heatmap is not None:
        try:
            profile.heatmap(args.heatmap)
        except ProfileError as err:
            return _error(str(err))
        print(f"emu: miss rate per set drawn in {args.heatmap}", file=sys.stderr)
    return _exit_status(result)


def _run(machine, max_instructions: int | None):
    """Run with live progress on a terminal and Ctrl-C as a clean stop; (result, seconds)."""
    progress = _Progress() if sys.stderr.isatty() else None
    previous = signal.signal(signal.SIGINT, lambda *_: machine.request_stop())
    started = time.perf_counter()
    try:
        result = machine.run(max_instructions, progress=progress)
    finally:
        signal.signal(signal.SIGINT, previous)
        if progress:
            progress.finish()
    return result, time.perf_counter() - started


def _describe_fields(config_class: type, prefix: str = "") -> list[str]:
    rows = [(prefix + name, default, help) for name, default, help in describe(config_class)
            if not dataclasses.is_dataclass(default)]
    width = max(len(name) for name, _, _ in rows)
    return [f"  {name:<{width}}  {help} (default {default!r})" for name, default, help in rows]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="emu", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    sub.add_parser("asm", help="assemble a .s file into an ELF executable", add_help=False)
    sub.add_parser("disasm", help="disassemble an ELF executable or raw binary", add_help=False)
    epilog = "\n".join([
        "configuration fields (--config NAME=VALUE):", *_describe_fields(MachineConfig), "",
        f"out-of-order core fields (--config {CORE_PREFIX}NAME=VALUE, used with --cpu ooo):",
        *_describe_fields(CoreConfig, CORE_PREFIX), "",
        "MMU fields (--config mmu.NAME=VALUE; translation is on once the kernel sets satp):",
        *_describe_fields(MmuConfig, "mmu."), "",
        "device fields (--config devices.NAME=VALUE, devices.link.NAME=VALUE):",
        *_describe_fields(DeviceConfig, "devices."), *_describe_fields(LinkConfig, "devices.link.")])
    run = sub.add_parser("run", help="run an ELF executable or .s file", epilog=epilog,
                         formatter_class=argparse.RawDescriptionHelpFormatter)
    run.add_argument("file", help="program: an ELF executable, or assembly (.s) to assemble first")
    run.add_argument("args", nargs="*", help="arguments for the program (after --)")
    run.add_argument("--max-insts", type=int, default=None, metavar="N",
                     help="stop after N instructions")
    run.add_argument("--stats", action="store_true", help="print statistics on stderr at the end")
    run.add_argument("--caches", action="store_true",
                     help="time memory with the default cache hierarchy (L1I, L1D, L2, DRAM): "
                          "the out-of-order core's accesses, or the functional core's as an "
                          "in-order blocking core")
    run.add_argument("--config", "-c", action="append", metavar="NAME=VALUE",
                     help=f"set a configuration field: NAME, or {CORE_PREFIX}NAME, mmu.NAME, "
                          "devices.NAME for a part (repeatable; fields below)")
    run.add_argument("--cpu", choices=CPU_MODELS,
                     help="core model (overrides --config cpu=...): the fast functional core "
                          "or the cycle-level out-of-order core")
    run.add_argument("--pipeview", metavar="FILE",
                     help="record the out-of-order pipeline (needs --cpu ooo): write a Kanata "
                          "log for the Konata viewer to FILE, or with - draw a text diagram "
                          "on stderr")
    run.add_argument("--window", metavar="START:COUNT",
                     help="what --pipeview records: COUNT committed instructions from the "
                          "START-th the core commits (system calls not counted); default "
                          f"{':'.join(map(str, DEFAULT_WINDOW['file']))}, "
                          f"{':'.join(map(str, DEFAULT_WINDOW['text']))} with -")
    run.set_defaults(func=cmd_run)

    profile = sub.add_parser(
        "profile", help="run a program and profile it per instruction and function",
        description="Run a program on the functional core timed by the cache hierarchy "
                    "(the default MemoryHierarchyConfig) and count, "
                    "per instruction, what cachegrind counts. Without --cache the report and "
                    "the file hold instruction counts (Ir) only, like callgrind's default; "
                    "with --cache also reads, writes, L1 and last-level misses and the "
                    "average memory access time (AMAT), like callgrind --cache-sim=yes. "
                    "The report goes to stderr, the guest's output where `emu run` sends it, "
                    "and emu exits with the guest's status.")
    profile.add_argument("file", help="program: an ELF executable, or assembly (.s) to assemble first")
    profile.add_argument("args", nargs="*", help="arguments for the program (after --)")
    profile.add_argument("--cache", action="store_true",
                         help="report cache events and AMAT, not only instruction counts")
    profile.add_argument("--cores", type=int, default=1, metavar="N",
                         help="harts to run (default 1): harts 1..N-1 start at --hart-entry "
                              "with a0 = their number and stacks of their own; a program "
                              "with a `harts` word gets N written there")
    profile.add_argument("--hart-entry", metavar="SYMBOL",
                         help="where harts 1..N-1 start (default: `worker` if the program "
                              "has it, else its entry point)")
    profile.add_argument("-o", "--output", default="callgrind.out", metavar="FILE",
                         help="the callgrind-format profile (default callgrind.out)")
    profile.add_argument("--heatmap", metavar="PNG",
                         help="draw the miss rate of every cache set into PNG (needs matplotlib)")
    profile.add_argument("--top", type=int, default=20, metavar="K",
                         help="functions in the report (default 20)")
    profile.add_argument("--max-insts", type=int, default=None, metavar="N",
                         help="stop after N instructions (all harts together)")
    profile.add_argument("--config", "-c", action="append", metavar="NAME=VALUE",
                         help="set a configuration field (see `emu run --help`)")
    profile.set_defaults(func=cmd_profile)
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

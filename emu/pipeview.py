"""Pictures of the out-of-order pipeline: Kanata logs for Konata, text diagrams.

This module owns how the core's trace records (one per instruction that left the
pipeline, committed or flushed: `Machine.pipeline_trace()`, dtype
`emu._core.system.TRACE_DTYPE`) become pictures. Both pictures read the same stages
from a record (`stages`):

    F   fetch    -> rename    in the front end
    Rn  rename   -> issue     waiting in the issue queue (serial instructions: for the
                              ROB head)
    X   issue    -> complete  executing
    Cm  complete -> end       done, waiting to commit

and end with the commit or the flush. `write_kanata` writes a Kanata 0004 log, the
format of the Konata pipeline viewer (https://github.com/shioyadan/Konata,
docs/kanata-log-format.md); `text_diagram` draws one row per instruction with one
character per cycle, for a terminal.
"""

from __future__ import annotations

from bisect import bisect_left
from typing import Callable, TextIO

import numpy as np

from isa import disassemble_word

Disassembler = Callable[[int, int], str]

#: Kanata stage name and diagram letter of each stage, in pipeline order.
STAGE_LETTERS = {"F": "f", "Rn": "r", "X": "x", "Cm": "c"}

#: Kanata R command types.
RETIRE, FLUSH = 0, 1

#: Width of the instruction column of the text diagram.
TEXT_WIDTH = 30


def stages(record: np.void) -> list[tuple[str, int, int]]:
    """(stage, first cycle, cycle after its last) of each stage the instruction reached,
    in pipeline order; the last one ends at the commit or flush."""
    starts = [("F", int(record["fetch"])), ("Rn", int(record["rename"]))]
    # An instruction that never issued or completed has 0 there; one finished at rename
    # (ecall, fence, a fetch fault) has the run's first cycle there. Neither is a stage
    # it went through.
    for name, cycle in (("X", int(record["issue"])), ("Cm", int(record["complete"]))):
        if cycle >= starts[-1][1]:
            starts.append((name, cycle))
    ends = [cycle for _, cycle in starts[1:]] + [int(record["end"])]
    return [(name, start, end) for (name, start), end in zip(starts, ends)]


def _in_fetch_order(records: np.ndarray) -> np.ndarray:
    """The records as the instructions entered the pipeline (the core writes them as
    they leave it: commits in order, squashed ones youngest first)."""
    return records[np.lexsort((records["seq"], records["fetch"]))]


def _assembly(disassemble: Disassembler, record: np.void) -> str:
    # Kanata separates fields with tabs; objdump puts one after the mnemonic.
    return disassemble(int(record["word"]), int(record["pc"])).expandtabs(8).rstrip()


def write_kanata(records: np.ndarray, out: TextIO,
                 disassemble: Disassembler = disassemble_word) -> None:
    """Write `records` as a Kanata 0004 log to the text stream `out`.

    File ids number the instructions in fetch order; the simulator id is the core's
    sequence number; the thread is 0 (hart 0). Retire ids number the commits of the
    file from 0; a flushed instruction gets the id the next commit after it takes.
    """
    rows = _in_fetch_order(records)
    committed = np.sort(rows["seq"][rows["flushed"] == 0]).tolist()
    events: list[tuple[int, int, int, str]] = []    # (cycle, file id, order, line)
    for ident, record in enumerate(rows):
        seq = int(record["seq"])
        parts = stages(record)
        end, flushed = int(record["end"]), bool(record["flushed"])
        detail = " ".join(f"{name} {start}-{stop}" for name, start, stop in parts)
        lines = [(parts[0][1], f"I\t{ident}\t{seq}\t0"),
                 (parts[0][1], f"L\t{ident}\t0\t{int(record['pc']):08x} "
                               f"{_assembly(disassemble, record)}"),
                 (parts[0][1], f"L\t{ident}\t1\tseq {seq}: {detail}, "
                               f"{'flushed' if flushed else 'committed'} at {end}")]
        for name, start, stop in parts:
            lines += [(start, f"S\t{ident}\t0\t{name}"), (stop, f"E\t{ident}\t0\t{name}")]
        lines.append((end, f"R\t{ident}\t{bisect_left(committed, seq)}\t"
                           f"{FLUSH if flushed else RETIRE}"))
        events += [(cycle, ident, order, line) for order, (cycle, line) in enumerate(lines)]
    # Kanata time only moves forward: all instructions' events, merged in cycle order.
    events.sort()
    out.write("Kanata\t0004\n")
    if not events:
        return
    now = events[0][0]
    out.write(f"C=\t{now}\n")
    for cycle, _, _, line in events:
        if cycle != now:
            out.write(f"C\t{cycle - now}\n")
            now = cycle
        out.write(line + "\n")


def _ruler(first: int, width: int) -> tuple[str, str]:
    """A line of cycle numbers (the first cycle and every tenth) and a line of ticks."""
    numbers = [" "] * width
    free = 0
    for column in range(width):
        cycle = first + column
        label = str(cycle)
        if (column == 0 or cycle % 10 == 0) and column >= free:
            numbers[column:column + len(label)] = label
            free = column + len(label) + 1
    ticks = "".join("|" if (first + c) % 10 == 0 else "." for c in range(width))
    return "".join(numbers).rstrip(), ticks


def text_diagram(records: np.ndarray, max_instructions: int = 40,
                 disassemble: Disassembler = disassemble_word) -> str:
    """A plain-text pipeline diagram of the first `max_instructions` instructions
    fetched: pc, disassembly, then one character per cycle (f front end, r waiting to
    issue, x executing, c done, C commit, * flushed), under a cycle ruler."""
    rows = _in_fetch_order(records)
    shown = rows[:max_instructions]
    if len(shown) == 0:
        return "(no instructions in the pipeline trace)\n"
    first = int(shown["fetch"].min())
    width = int(shown["end"].max()) - first + 1
    numbers, ticks = _ruler(first, width)
    indent = " " * (8 + 2 + TEXT_WIDTH + 2)
    lines = [f"{indent}{numbers}",
             f"{'pc':<8}  {'instruction':<{TEXT_WIDTH}}  {ticks}"]
    for record in shown:
        timeline = [" "] * width
        for name, start, stop in stages(record):
            timeline[start - first:stop - first] = STAGE_LETTERS[name] * (stop - start)
        timeline[int(record["end"]) - first] = "*" if record["flushed"] else "C"
        text = _assembly(disassemble, record)[:TEXT_WIDTH]
        lines.append(f"{int(record['pc']):08x}  {text:<{TEXT_WIDTH}}  {''.join(timeline).rstrip()}")
    if len(rows) > len(shown):
        lines.append(f"({len(rows) - len(shown)} more instructions not shown)")
    lines.append("f front end  r waiting to issue  x executing  c done, waiting to commit  "
                 "C commit  * flushed")
    return "\n".join(lines) + "\n"

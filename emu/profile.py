"""Cache profiles: which instructions and functions of a program fetch, load, store,
miss and wait, counted the way cachegrind counts.

This module owns what a profiled run leaves behind and its forms: per-instruction and
per-function tables, a text summary, a callgrind-format file (for callgrind_annotate
and KCachegrind) and a heatmap of the miss rate per cache set. The counting itself is
C: with a profile attached (HierarchyModel.attach_profile, emu/_core/profile.pxd) the
hierarchy adds every demand access to the row of the instruction that made it. A
CacheProfile is a snapshot of those rows, of the hierarchy's per-level and per-set
counters (emu.cache.CacheStats) and of the ELF's code symbols (loader.CodeSymbol).

Events, per instruction, under cachegrind's names:

- Ir: instruction fetches. The timed functional core fetches once per executed
  instruction, so Ir counts how often each instruction ran (one that traps counts too:
  the exit ecall, which never retires, makes Ir one more than the instructions
  retired). The out-of-order core fetches once per L1I line and times its loads
  without a pc: profile the functional core.
- Dr: loads (LR too: the functional core reads it as a load). Dw: stores and the
  other atomics (an AMO or SC asks for its line exclusively, as a store does; cachegrind,
  too, counts a read-modify-write as one write, not a read and a write).
- I1mr, D1mr, D1mw: those accesses that missed in the hart's L1I or L1D.
- ILmr, DLmr, DLmw: those that missed in the last cache level (the L2, or the L3 when
  there is one), each of which read its line from DRAM.
- Icycles, Dcycles: the cycles from issue until the data was usable, summed over the
  instruction's fetches and over its data accesses. amat = (Icycles + Dcycles) /
  (Ir + Dr + Dw) is the average memory access time, the measure CacheStats.amat takes
  over the whole run; Dcycles / (Dr + Dw) is the data side's alone.

Accesses whose pc lies outside the program's executable segments (none, with the
functional core) are kept in one row, at pc OUTSIDE_PC.
"""

from __future__ import annotations

import io
import os
import struct
from dataclasses import dataclass
from typing import BinaryIO, TextIO

import numpy as np
from elftools.common.exceptions import DWARFError, ELFError
from elftools.elf.elffile import ELFFile

from emu._core.hierarchy import PROFILE_COUNTER_NAMES, HierarchyModel
from emu.cache import CacheStats
from emu.loader import CodeSymbol, Program

#: cachegrind's events, in cachegrind's order: what a callgrind file holds by default.
EVENTS = ("Ir", "Dr", "Dw", "I1mr", "D1mr", "D1mw", "ILmr", "DLmr", "DLmw")
#: The counters of a table row (and the events a callgrind file may hold).
COUNTERS = EVENTS + ("Icycles", "Dcycles")
#: The pc of the row counting accesses made outside the program's code.
OUTSIDE_PC = 0xFFFFFFFF
#: cachegrind's name for code no symbol covers.
UNKNOWN_SYMBOL = "???"
OUTSIDE_SYMBOL = "(outside the program's code)"

TABLE_DTYPE = np.dtype([("pc", np.uint32), *((name, np.uint64) for name in COUNTERS),
                        ("amat", np.float64)])

_RAW = {name: column for column, name in enumerate(PROFILE_COUNTER_NAMES)}


class ProfileError(ValueError):
    """A profile that cannot be made or written as asked."""


def code_range(program: Program) -> tuple[int, int]:
    """[start, end) spanning the program's executable segments, word aligned."""
    code = [s for s in program.segments if s.flags & 1]
    start = min(s.vaddr for s in code) & ~3
    end = (max(s.vaddr + s.memsz for s in code) + 3) & ~3
    return start, end


def attach(machine) -> None:
    """Start counting per instruction of `machine`'s loaded program (its executable
    segments), from zero: what Machine.enable_profile does."""
    model = machine._system.caches
    if model is None:
        raise ProfileError("a profile needs caches: MachineConfig(caches=MemoryHierarchyConfig())")
    if machine.program is None:
        raise ProfileError("load a program before enabling the profile")
    start, end = code_range(machine.program)
    model.attach_profile(start, end - start)


class _Symbols:
    """pc -> code symbol. A symbol covers [address, address + size), or without a size
    up to the next symbol (or the end of the code). At one address a global symbol wins
    over a local one, then the shortest name (an alias such as libgcc's
    __hidden___udivsi3 loses to __udivsi3), then the first in the symbol table; mapping
    symbols ($x, $d) and compiler-local labels (.L*) name nothing."""

    def __init__(self, symbols: tuple[CodeSymbol, ...], code_end: int):
        chosen: dict[int, CodeSymbol] = {}
        for symbol in symbols:
            if symbol.name.startswith(("$", ".L")):
                continue
            held = chosen.get(symbol.address)
            if held is None or ((not symbol.is_global, len(symbol.name))
                                < (not held.is_global, len(held.name))):
                chosen[symbol.address] = symbol
        self.symbols = [chosen[address] for address in sorted(chosen)]
        self.starts = np.array([s.address for s in self.symbols], np.int64)
        following = np.append(self.starts[1:], max(code_end, int(self.starts.max(initial=0))))
        self.ends = np.array([s.address + s.size if s.size else int(after)
                              for s, after in zip(self.symbols, following)], np.int64)

    def index(self, pcs: np.ndarray) -> np.ndarray:
        """The index of the symbol covering each pc, -1 for none."""
        pcs = pcs.astype(np.int64)
        if not self.symbols:
            return np.full(len(pcs), -1, np.int64)
        found = np.searchsorted(self.starts, pcs, side="right") - 1
        covered = (found >= 0) & (pcs < self.ends[np.maximum(found, 0)])
        return np.where(covered, found, -1)


@dataclass(frozen=True, eq=False)
class LineTable:
    """Source file and line of code addresses, from an ELF's DWARF line programs: row i
    covers [addresses[i], addresses[i + 1]); file -1 marks the end of a sequence."""

    addresses: np.ndarray
    file: np.ndarray
    line: np.ndarray
    files: tuple[str, ...]

    @classmethod
    def from_elf(cls, data: bytes) -> "LineTable | None":
        """The line table of an ELF image, None when it has none (or it is unreadable:
        a profile without lines is still a profile)."""
        try:
            elf = ELFFile(io.BytesIO(data))
            if not elf.has_dwarf_info():
                return None
            dwarf = elf.get_dwarf_info()
            files: dict[str, int] = {}
            rows = []
            for unit in dwarf.iter_CUs():
                program = dwarf.line_program_for_CU(unit)
                if program is None:
                    continue
                names = _dwarf_file_names(program)
                first = 0 if program.header["version"] >= 5 else 1   # DWARF 5 counts from 0
                for entry in program.get_entries():
                    state = entry.state
                    if state is None:
                        continue
                    if state.end_sequence or not 0 <= state.file - first < len(names):
                        rows.append((state.address, -1, 0))
                    else:
                        name = names[state.file - first]
                        rows.append((state.address, files.setdefault(name, len(files)),
                                     state.line))
        except (ELFError, DWARFError, struct.error, KeyError, ValueError, IndexError):
            return None
        if not rows:
            return None
        rows.sort(key=lambda row: row[0])
        table = np.array(rows, np.int64)
        return cls(addresses=table[:, 0], file=table[:, 1], line=table[:, 2],
                   files=tuple(files))

    def lookup(self, pcs: np.ndarray) -> tuple[list[str], list[int]]:
        """(file, line) of each pc: ("???", 0) where no row covers it."""
        found = np.searchsorted(self.addresses, pcs.astype(np.int64), side="right") - 1
        files, lines = [], []
        for row in found.tolist():
            if row < 0 or self.file[row] < 0:
                files.append(UNKNOWN_SYMBOL)
                lines.append(0)
            else:
                files.append(self.files[self.file[row]])
                lines.append(int(self.line[row]))
        return files, lines


def _dwarf_file_names(program) -> list[str]:
    """The file names of a DWARF line program, joined to their directories (DWARF 5
    numbers directories from 0, the compilation directory; earlier versions from 1,
    with 0 for the compilation directory, which the name is then relative to)."""
    header = program.header
    directories = [_text(d) for d in header["include_directory"]]
    version = header["version"]
    names = []
    for entry in header["file_entry"]:
        name, index = _text(entry.name), entry.dir_index
        directory = (directories[index] if version >= 5 and index < len(directories) else
                     directories[index - 1] if version < 5 and 0 < index <= len(directories)
                     else "")
        names.append(os.path.join(directory, name) if directory else name)
    return names


def _text(value: bytes | str) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else value


@dataclass(frozen=True, eq=False)
class CacheProfile:
    """A snapshot of a profiled run (see the module docstring for the events).

    `counts` holds the hierarchy's raw counters, shape (harts, rows, columns
    PROFILE_COUNTER_NAMES): row i for the pc base + 4 i, the last row for every other
    pc. `stats` is the hierarchy's own summary (per-level hits and misses, AMAT);
    `sets` maps (level, hart) to that cache's per-set (hits, misses).
    """

    base: int
    counts: np.ndarray
    outer_levels: int
    stats: CacheStats
    sets: dict[tuple[str, int], tuple[np.ndarray, np.ndarray]]
    geometry: dict[str, tuple[int, int, int]]
    symbols: tuple[CodeSymbol, ...] = ()
    code_end: int = 0
    object_name: str = "program"
    command: str = ""
    lines: LineTable | None = None

    @classmethod
    def from_model(cls, model: HierarchyModel, program: Program | None = None, *,
                   elf: bytes | None = None, object_name: str = "program",
                   command: str = "") -> "CacheProfile":
        """The profile `model` has counted so far; `program` names the code (its
        symbols), `elf` (the executable's bytes) gives source lines if it has DWARF
        line tables, `object_name` names the ELF file and `command` the command line,
        for callgrind files."""
        if model.profile_range is None:
            raise ProfileError("no profile attached: enable_profile (or attach_profile) "
                               "before the run")
        base, _ = model.profile_range
        counts = np.stack([model.profile_counts(hart) for hart in range(model.harts)])
        sets, geometry = {}, {}
        for level in model.levels:
            harts = range(model.harts) if level in ("l1i", "l1d") else range(1)
            for hart in harts:
                sets[level, hart] = model.set_counts(level, hart)
            geometry[level] = model.geometry(level)
        symbols, code_end = (), 0
        if program is not None:
            symbols = tuple(program.code_symbols)
            code_end = code_range(program)[1]
        return cls(base=base, counts=counts, outer_levels=len(model.levels) - 2,
                   stats=CacheStats.from_model(model), sets=sets, geometry=geometry,
                   symbols=symbols, code_end=code_end, object_name=object_name,
                   command=command, lines=None if elf is None else LineTable.from_elf(elf))

    @classmethod
    def from_machine(cls, machine, *, elf: bytes | None = None, object_name: str = "program",
                     command: str = "") -> "CacheProfile":
        """The profile of `machine`'s run so far (after Machine.enable_profile); the
        keywords as for from_model."""
        if machine._system.caches is None:
            raise ProfileError("a profile needs caches: MachineConfig(caches=MemoryHierarchyConfig())")
        return cls.from_model(machine._system.caches, machine.program, elf=elf,
                              object_name=object_name, command=command)

    # ---- tables -------------------------------------------------------------------

    @property
    def harts(self) -> int:
        return self.counts.shape[0]

    def _raw(self, hart: int | None) -> np.ndarray:
        if hart is None:
            return self.counts.sum(axis=0, dtype=np.uint64)
        if not 0 <= hart < self.harts:
            raise ProfileError(f"hart {hart} out of range (the profile has {self.harts})")
        return self.counts[hart]

    def table(self, hart: int | None = None) -> np.ndarray:
        """One row (TABLE_DTYPE) per instruction that accessed memory, by pc, summed
        over the harts or `hart`'s only; the accesses outside the code last, at
        OUTSIDE_PC."""
        raw = self._raw(hart)
        last = 1 + self.outer_levels            # the last cache level's number
        sources = {"Ir": ["Ir"], "Dr": ["Dr"], "Dw": ["Dw"], "I1mr": ["I1mr"],
                   "D1mr": ["D1mr"], "D1mw": ["D1mw"], "ILmr": [f"I{last}mr"],
                   "DLmr": [f"D{last}mr"], "DLmw": [f"D{last}mw"],
                   "Icycles": ["Icycles"], "Dcycles": ["Drcycles", "Dwcycles"]}
        columns = {name: raw[:, [_RAW[source] for source in names]].sum(axis=1, dtype=np.uint64)
                   for name, names in sources.items()}
        accesses = columns["Ir"] + columns["Dr"] + columns["Dw"]
        rows = np.flatnonzero(accesses)
        table = np.zeros(len(rows), TABLE_DTYPE)
        pcs = self.base + 4 * rows.astype(np.int64)
        table["pc"] = np.where(rows == raw.shape[0] - 1, OUTSIDE_PC, pcs)
        for name, column in columns.items():
            table[name] = column[rows]
        table["amat"] = (table["Icycles"] + table["Dcycles"]) / accesses[rows]
        return table

    def totals(self, hart: int | None = None) -> dict[str, float]:
        """Every counter summed over the run (or `hart`'s part), and the AMAT."""
        table = self.table(hart)
        totals: dict[str, float] = {name: int(table[name].sum()) for name in COUNTERS}
        accesses = totals["Ir"] + totals["Dr"] + totals["Dw"]
        cycles = totals["Icycles"] + totals["Dcycles"]
        totals["amat"] = cycles / accesses if accesses else 0.0
        return totals

    def by_symbol(self, hart: int | None = None) -> np.ndarray:
        """The table summed per function (code symbol): fields `symbol`, `file` (the
        source file a local symbol belongs to, else the ELF's name), the counters and
        `amat`; most instructions first. Code no symbol covers is UNKNOWN_SYMBOL, the
        outside row OUTSIDE_SYMBOL."""
        table = self.table(hart)
        lookup = _Symbols(self.symbols, self.code_end)
        index = lookup.index(table["pc"])
        outside = table["pc"] == OUTSIDE_PC
        index[outside] = len(lookup.symbols)                # one group past the symbols
        index[(index < 0)] = len(lookup.symbols) + 1        # and one for no symbol
        groups, group_of_row = np.unique(index, return_inverse=True)
        names = []
        for group in groups:
            if group < len(lookup.symbols):
                symbol = lookup.symbols[group]
                names.append((symbol.name, symbol.source or self.object_name))
            else:
                names.append((OUTSIDE_SYMBOL if group == len(lookup.symbols) else UNKNOWN_SYMBOL,
                              self.object_name))
        width = max([len(text) for pair in names for text in pair], default=1)
        dtype = np.dtype([("symbol", f"U{width}"), ("file", f"U{width}"),
                          *((name, np.uint64) for name in COUNTERS), ("amat", np.float64)])
        result = np.zeros(len(groups), dtype)
        result["symbol"] = [name for name, _ in names]
        result["file"] = [source for _, source in names]
        for name in COUNTERS:
            np.add.at(result[name], group_of_row, table[name])
        accesses = result["Ir"] + result["Dr"] + result["Dw"]
        result["amat"] = (result["Icycles"] + result["Dcycles"]) / np.maximum(accesses, 1)
        order = np.lexsort((result["symbol"], -result["Ir"].astype(np.float64)))
        return result[order]

    # ---- the hierarchy's side -----------------------------------------------------

    @property
    def amat(self) -> float:
        """Average memory access time in cycles over every access of the run."""
        return self.stats.amat

    @property
    def levels(self) -> dict[str, tuple[int, int]]:
        """(hits, misses) of each level (an L1's summed over the harts), innermost
        first; lookups of every kind, prefetch requests from inner levels included."""
        return {name: (int(level.hits.sum()), int(level.misses.sum()))
                for name, level in self.stats.levels.items()}

    def set_counts(self, level: str, hart: int = 0) -> tuple[np.ndarray, np.ndarray]:
        """(hits, misses) per set of one cache (hart 0 for the shared levels), uint64."""
        if (level, hart) not in self.sets:
            raise ProfileError(f"no cache {level!r} of hart {hart}; caches are "
                               + ", ".join(f"{name} (hart {h})" for name, h in self.sets))
        return self.sets[level, hart]

    def set_miss_rate(self, level: str, hart: int = 0) -> np.ndarray:
        """misses / lookups per set of one cache, NaN for sets never looked up."""
        hits, misses = self.set_counts(level, hart)
        lookups = hits + misses
        return np.divide(misses, lookups, out=np.full(len(lookups), np.nan), where=lookups > 0)

    # ---- output -------------------------------------------------------------------

    def summary(self, top: int = 20, cache: bool = True, hart: int | None = None) -> str:
        """A text report: the `top` functions by Ir and the totals (with `cache`, their
        D1 and LL misses and AMAT, then the hierarchy's per-level counters)."""
        rows = self.by_symbol(hart)
        totals = self.totals(hart)
        shown = rows[:top]

        def name(row) -> str:
            return str(row["symbol"]) if row["file"] == self.object_name \
                else f"{row['symbol']} ({row['file']})"

        if not cache:
            lines = [f"{'Ir':>14} {'Ir %':>7}  symbol"]
            for row in shown:
                share = int(row["Ir"]) / totals["Ir"] if totals["Ir"] else 0.0
                lines.append(f"{int(row['Ir']):>14,} {share:>7.2%}  {name(row)}")
            lines.append(f"{totals['Ir']:>14,} {1 if totals['Ir'] else 0:>7.2%}  total")
            return "\n".join(lines)

        def cells(values: dict | np.void) -> str:
            data = int(values["Dr"]) + int(values["Dw"])
            d1 = int(values["D1mr"]) + int(values["D1mw"])
            ll = int(values["ILmr"]) + int(values["DLmr"]) + int(values["DLmw"])
            rate = f"{d1 / data:.2%}" if data else "-"
            return (f"{int(values['Ir']):>14,} {int(values['Dr']):>12,} {int(values['Dw']):>12,} "
                    f"{d1:>11,} {rate:>8} {ll:>11,} {float(values['amat']):>7.2f}")

        lines = [f"{'Ir':>14} {'Dr':>12} {'Dw':>12} {'D1 misses':>11} {'D1 miss':>8} "
                 f"{'LL misses':>11} {'AMAT':>7}  symbol"]
        lines += [f"{cells(row)}  {name(row)}" for row in shown]
        if len(rows) > len(shown):
            hidden = len(rows) - len(shown)
            lines.append(f"{'':>14} ({hidden} more symbol{'s' if hidden > 1 else ''})")
        lines.append(f"{cells(totals)}  total")
        return "\n".join(lines) + "\n\n" + str(self.stats)

    def write_callgrind(self, path: str | os.PathLike | TextIO,
                        events: tuple[str, ...] = EVENTS, hart: int | None = None) -> None:
        """Write the profile (a path, or a text file open for writing) as a
        callgrind-format file that callgrind_annotate and KCachegrind read: `events`
        from COUNTERS, one cost line per instruction (`positions: instr line`), `ob=`
        the ELF's name, `fn=` the code symbol, `fl=` and the line the source file and
        line from the ELF's DWARF line table, or ??? and 0 where it has none (as
        callgrind writes code without debug information); all harts summed, or
        `hart`'s part."""
        unknown = [event for event in events if event not in COUNTERS]
        if unknown or not events:
            raise ProfileError(f"events must be some of {', '.join(COUNTERS)}, not "
                               f"{', '.join(unknown) or 'none'}")
        table = self.table(hart)
        lookup = _Symbols(self.symbols, self.code_end)
        index = lookup.index(table["pc"])
        costs = np.stack([table[event] for event in events], axis=1)
        lines = ["# callgrind format", "version: 1", f"creator: emu {_version()}",
                 f"cmd: {self.command or self.object_name}", "part: 1"]
        if hart is not None:
            lines.append(f"thread: {hart + 1}")
        for label, level in (("I1", "l1i"), ("D1", "l1d"),
                             ("LL", "l3" if self.outer_levels > 1 else "l2")):
            sets, ways, line_size = self.geometry[level]
            lines.append(f"desc: {label} cache: {sets * ways * line_size} B, {line_size} B, "
                         f"{ways}-way associative")
        total = costs.sum(axis=0, dtype=np.uint64)
        lines += ["positions: instr line", f"events: {' '.join(events)}",
                  f"summary: {' '.join(map(str, total.tolist()))}", "",
                  f"ob={self.object_name}"]
        if self.lines is not None:
            files, numbers = self.lines.lookup(table["pc"])
        else:
            files, numbers = [UNKNOWN_SYMBOL] * len(table), [0] * len(table)
        current = (None, None)
        for pc, symbol, file, number, cost in zip(table["pc"].tolist(), index.tolist(), files,
                                                  numbers, costs.tolist()):
            if not any(cost):
                continue
            name = (OUTSIDE_SYMBOL if pc == OUTSIDE_PC else
                    UNKNOWN_SYMBOL if symbol < 0 else lookup.symbols[symbol].name)
            if file != current[0]:
                lines.append(f"fl={file}")
            if (file, name) != current:
                lines.append(f"fn={name}")
                current = (file, name)
            lines.append(f"{pc:#x} {number} {' '.join(map(str, cost))}")
        lines.append(f"totals: {' '.join(map(str, total.tolist()))}")
        text = "\n".join(lines) + "\n"
        if hasattr(path, "write"):
            path.write(text)
            return
        try:
            with open(path, "w", encoding="utf-8") as out:
                out.write(text)
        except OSError as err:
            raise ProfileError(f"cannot write {os.fspath(path)}: {err.strerror}") from None

    def heatmap(self, path: str | os.PathLike | BinaryIO) -> None:
        """Write a PNG (to a path, or a binary file) of the miss rate of every set of
        every cache: one panel per level (a row per hart for the L1s), sets left to
        right, grey where a set was never looked up. Needs matplotlib
        (pip install 'emu[plot]'): ProfileError without it."""
        require_matplotlib()
        import matplotlib
        from matplotlib.figure import Figure

        levels = list(self.geometry)
        panels = [(level, [hart for name, hart in self.sets if name == level]) for level in levels]
        heights = [len(harts) for _, harts in panels]
        figure = Figure(figsize=(10, 1.2 + 0.5 * sum(heights) + 0.4 * len(panels)),
                        layout="constrained")
        axes = figure.subplots(len(panels), 1, squeeze=False,
                               gridspec_kw={"height_ratios": heights})[:, 0]
        colours = matplotlib.colormaps["viridis"].with_extremes(bad="lightgrey")
        image = None
        for ax, (level, harts) in zip(axes, panels):
            rates = np.stack([self.set_miss_rate(level, hart) for hart in harts])
            image = ax.imshow(np.ma.masked_invalid(rates), aspect="auto", cmap=colours,
                              vmin=0.0, vmax=1.0, interpolation="nearest")
            ax.set_yticks(range(len(harts)),
                          [f"{level} hart {hart}" if len(harts) > 1 or level in ("l1i", "l1d")
                           else level for hart in harts])
            ax.set_xlabel(f"{level} set ({rates.shape[1]} sets)")
        figure.colorbar(image, ax=list(axes), label="miss rate")
        figure.suptitle(f"Miss rate per cache set: {self.command or self.object_name}")
        try:
            figure.savefig(path, format="png", dpi=100)
        except OSError as err:
            raise ProfileError(f"cannot write {path}: {err.strerror}") from None


def require_matplotlib() -> None:
    """ProfileError unless matplotlib (the `plot` extra) can be imported."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise ProfileError("the heatmap needs matplotlib: pip install 'emu[plot]'") from None


def _version() -> str:
    from emu import __version__

    return __version__

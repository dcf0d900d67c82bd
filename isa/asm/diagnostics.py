"""Error reporting: located diagnostics, their GNU-style text, and the collector.

The assembler never stops at the first mistake: every error is recorded with its
file, line and column and the whole list is raised at the end as AssemblyError.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Diagnostic:
    filename: str
    line: int  # 1-based
    column: int  # 1-based
    message: str
    source_line: str

    def __str__(self) -> str:
        # The caret line copies the tabs of the source line so it lines up in a terminal.
        prefix = self.source_line[: self.column - 1]
        padding = "".join(c if c == "\t" else " " for c in prefix)
        padding += " " * (self.column - 1 - len(prefix))
        return (f"{self.filename}:{self.line}:{self.column}: error: {self.message}\n"
                f"{self.source_line}\n{padding}^")


class AssemblyError(Exception):
    """The source has errors; `.diagnostics` lists all of them in source order."""

    def __init__(self, diagnostics: list[Diagnostic]):
        self.diagnostics = list(diagnostics)
        super().__init__("\n".join(str(d) for d in self.diagnostics))


class SourceFile:
    """A file's name and lines, so diagnostics can quote the offending line."""

    def __init__(self, name: str, text: str):
        self.name = name
        self.lines = text.splitlines()


@dataclass(frozen=True)
class Location:
    """Where a statement came from. `order` sorts diagnostics in reading order
    across included files."""

    source: SourceFile
    line: int
    order: int


class LocatedError(Exception):
    """An error inside one statement; `column` is 0-based within the line."""

    def __init__(self, message: str, column: int):
        super().__init__(message)
        self.message = message
        self.column = column


class Reporter:
    def __init__(self) -> None:
        self._entries: list[tuple[int, int, Diagnostic]] = []

    def error(self, location: Location, column: int, message: str) -> None:
        """Record an error at 0-based `column` of the statement at `location`."""
        lines = location.source.lines
        text = lines[location.line - 1] if 0 < location.line <= len(lines) else ""
        self._entries.append((location.order, column, Diagnostic(
            location.source.name, location.line, column + 1, message, text)))

    def raise_if_any(self) -> None:
        if self._entries:
            self._entries.sort(key=lambda entry: (entry[0], entry[1]))
            raise AssemblyError([entry[2] for entry in self._entries])

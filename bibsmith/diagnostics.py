"""Positions and diagnostics: every problem bibsmith reports names a file, a line and what is wrong."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum


class Level(str, Enum):
    ERROR = "error"
    WARNING = "warning"
    NOTE = "note"


@dataclass(frozen=True, slots=True)  # slots: a large library holds one per record
class Position:
    """Where something came from: a source name (path or '<stdin>'), a 1-based line, optional column."""

    source: str
    line: int | None = None
    column: int | None = None

    def __str__(self) -> str:
        text = self.source
        if self.line is not None:
            text += f":{self.line}"
            if self.column is not None:
                text += f":{self.column}"
        return text


@dataclass(frozen=True)
class Diagnostic:
    """One problem: its level, a short stable code, the message and, where known, the position."""

    level: Level
    code: str
    message: str
    position: Position | None = None

    def __str__(self) -> str:
        prefix = f"{self.position}: " if self.position else "bibsmith: "
        return f"{prefix}{self.level.value}: {self.message}"


@dataclass
class Report:
    """An ordered collection of diagnostics, shared by readers, writers and the CLI."""

    items: list[Diagnostic] = field(default_factory=list)

    def error(self, code: str, message: str, position: Position | None = None) -> None:
        """Record an error."""
        self.items.append(Diagnostic(Level.ERROR, code, message, position))

    def warning(self, code: str, message: str, position: Position | None = None) -> None:
        """Record a warning."""
        self.items.append(Diagnostic(Level.WARNING, code, message, position))

    def note(self, code: str, message: str, position: Position | None = None) -> None:
        """Record a note (information that is neither wrong nor lost)."""
        self.items.append(Diagnostic(Level.NOTE, code, message, position))

    def extend(self, other: "Report | list[Diagnostic]") -> None:
        """Append every diagnostic of another report."""
        self.items.extend(other.items if isinstance(other, Report) else other)

    @property
    def errors(self) -> list[Diagnostic]:
        """The diagnostics of level error."""
        return [d for d in self.items if d.level is Level.ERROR]

    @property
    def has_errors(self) -> bool:
        """True when any diagnostic is an error."""
        return any(d.level is Level.ERROR for d in self.items)

    def __iter__(self):
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)


class BibsmithError(Exception):
    """Raised by the API when input or output cannot be handled; carries the full report."""

    def __init__(self, report: Report):
        self.report = report
        super().__init__("\n".join(str(d) for d in report.errors) or "bibsmith failed")


class UsageError(Exception):
    """A wrong call: unknown format, style or option value (exit code 2)."""

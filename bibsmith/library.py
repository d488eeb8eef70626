"""Library: the records read from one or more inputs, their origins, metadata and diagnostics."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .diagnostics import Position, Report


@dataclass(frozen=True)
class PreservedBlock:
    """Text of a .bib input that is not an entry (@string, @preamble, @comment, free text), as written.

    `next_key` is the key of the entry that follows it in its file (None at the end of the file), so a
    BibTeX writer can put it back in its place before that entry.
    """

    source: str
    line: int
    text: str
    next_key: str | None


@dataclass
class Library:
    """CSL-JSON records (the hub), where each came from, and what the inputs said about their owner.

    `positions[i]` is where `records[i]` starts in its input. `metadata` holds library-level facts
    such as the profile owner's name and counts (keys: owner, primary_category, h_index, papers,
    citations, novelty, ai_score, declared_papers).
    """

    records: list[dict[str, Any]] = field(default_factory=list)
    positions: list[Position | None] = field(default_factory=list)
    metadata: dict[str, Any] = field(default_factory=dict)
    report: Report = field(default_factory=Report)
    # What a reader computed about `records` where it built them, for the steps after reading (the
    # BibTeX reader's workers give "match_infos", merging's keys, and "valid", one flag per record
    # that record.problems() found nothing). Valid only for the records exactly as the reader
    # returned them; extend() does not carry it over.
    precomputed: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)
    # The blocks of .bib inputs that are not entries, in file order, for writing .bib back faithfully.
    preserved: list[PreservedBlock] = field(default_factory=list)
    # True once normalize() has passed every record through the hub's gate (no control characters,
    # surrogates or values of the wrong kind are left): writers need not look for them again.
    checked: bool = field(default=False, compare=False)

    def add(self, record: dict[str, Any], position: Position | None = None) -> None:
        """Append a record with its origin."""
        self.records.append(record)
        self.positions.append(position)
        self.checked = False

    def position_of(self, index: int) -> Position | None:
        """Where record `index` came from, if known."""
        return self.positions[index] if index < len(self.positions) else None

    def extend(self, other: "Library") -> None:
        """Merge another library into this one: records, positions, diagnostics; metadata fills gaps."""
        self.records.extend(other.records)
        self.positions.extend(other.positions or [None] * len(other.records))
        for key, value in other.metadata.items():
            self.metadata.setdefault(key, value)
        self.report.extend(other.report)
        self.preserved.extend(other.preserved)
        self.checked = False

    def __len__(self) -> int:
        return len(self.records)

    def __iter__(self):
        return iter(self.records)

"""Reader for CSL-JSON (Zotero, pandoc, citation-js): an array of items, or a single item."""

from __future__ import annotations

import json
import re
from typing import Any

from ..diagnostics import Position
from ..library import Library
from ..record import DATE_VARIABLES, NAME_VARIABLES, STANDARD_VARIABLES
from ..text.names import split_name

_DECODER = json.JSONDecoder()
_WHITESPACE = re.compile(r"[ \t\n\r]*")
_EDTF = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")


def _line_col(text: str, offset: int) -> tuple[int, int]:
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1


class _Lines:
    """Line and column of increasing offsets; each stretch of text is counted once (counting from the
    start for every item was quadratic: 15 s for 10,000 items)."""

    def __init__(self, text: str):
        self.text, self.offset, self.line = text, 0, 1

    def at(self, offset: int) -> tuple[int, int]:
        if offset < self.offset:
            self.offset, self.line = 0, 1
        self.line += self.text.count("\n", self.offset, offset)
        self.offset = offset
        return self.line, offset - (self.text.rfind("\n", 0, offset) + 1) + 1


def _items(text: str, source: str, library: Library) -> list[tuple[int, Any]]:
    """(offset, value) for each top-level item; the array is walked by hand to know where items start."""
    pos = _WHITESPACE.match(text, 0).end()
    try:
        if not text.startswith("[", pos):
            value, _ = _DECODER.raw_decode(text, pos)
            items = value.get("items") if isinstance(value, dict) and isinstance(value.get("items"), list) else None
            return [(pos, v) for v in items] if items is not None else [(pos, value)]
        result: list[tuple[int, Any]] = []
        pos = _WHITESPACE.match(text, pos + 1).end()
        if text.startswith("]", pos):
            return result
        while True:
            value, end = _DECODER.raw_decode(text, pos)
            result.append((pos, value))
            pos = _WHITESPACE.match(text, end).end()
            if text.startswith("]", pos):
                break
            if not text.startswith(",", pos):
                raise json.JSONDecodeError("Expecting ',' delimiter", text, pos)
            pos = _WHITESPACE.match(text, pos + 1).end()
        return result
    except json.JSONDecodeError as exc:
        line, col = _line_col(text, exc.pos)
        library.report.error("bad-json", f"not valid JSON: {exc.msg}", Position(source, line, col))
        return []


def to_record(item: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """A CSL record from an item as other tools write it, and notes on what was repaired.

    Repairs: EDTF date strings to date-parts, name strings to name objects, keyword lists to one
    string; keys CSL does not define move to custom.extra.
    """
    record: dict[str, Any] = {}
    notes: list[str] = []
    extra: dict[str, Any] = {}
    for key, value in item.items():
        if key in DATE_VARIABLES and isinstance(value, str):
            match = _EDTF.match(value.strip())
            if match:
                record[key] = {"date-parts": [[int(p) for p in match.groups() if p]]}
            else:
                record[key] = {"raw": value}
        elif key in NAME_VARIABLES and isinstance(value, list):
            record[key] = [split_name(v) if isinstance(v, str) else v for v in value]
        elif key == "keyword" and isinstance(value, list):
            record[key] = ", ".join(str(v) for v in value)
        elif key in STANDARD_VARIABLES:
            record[key] = value
        else:
            extra[key] = value
            notes.append(f"{key!r} is not a CSL variable; kept in custom.extra")
    if extra:
        custom = dict(record.get("custom") or {})
        custom["extra"] = {**custom.get("extra", {}), **extra}
        record["custom"] = custom
    if isinstance(record.get("id"), (int, float)):
        record["id"] = str(record["id"])
    return record, notes


def read(text: str, source: str) -> Library:
    """Records from CSL-JSON text; each item's position is where it starts."""
    library = Library()
    lines = _Lines(text)
    for offset, item in _items(text, source, library):
        line, col = lines.at(offset)
        here = Position(source, line, col)
        if not isinstance(item, dict):
            library.report.error("bad-item", f"expected a CSL-JSON object, found {type(item).__name__}", here)
            continue
        record, notes = to_record(item)
        for note in notes:
            library.report.warning("unknown-variable", note, here)
        library.add(record, here)
    return library

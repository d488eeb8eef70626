"""Writer for CSL-JSON: an array of items, keys in a stable order, UTF-8, two-space indent."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from ..diagnostics import Report
from ..library import Library

# Leading keys in this order; the rest follow alphabetically, with custom last.
KEY_ORDER = ["id", "type", "title", "author", "editor", "issued", "container-title", "publisher",
             "genre", "number", "volume", "issue", "page", "DOI", "URL", "keyword", "abstract"]
_RANK = {key: n for n, key in enumerate(KEY_ORDER)}


@dataclass(frozen=True)
class Options:
    pass


def ordered(record: dict[str, Any]) -> dict[str, Any]:
    """The record with its keys in the stable output order."""
    keys = sorted(record, key=lambda k: (k == "custom", _RANK.get(k, len(KEY_ORDER)), k))
    return {key: record[key] for key in keys}


def _compact(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def record_text(record: dict[str, Any]) -> str:
    """One item: a key per line, each value on its line (names and dates stay readable on one line)."""
    lines = [f"    {_compact(key)}: {_compact(value)}" for key, value in ordered(record).items()]
    return "  {\n" + ",\n".join(lines) + "\n  }"


def write(library: Library, options: Options, report: Report) -> str:
    """The library as a CSL-JSON array."""
    if not library.records:
        return "[]\n"
    return "[\n" + ",\n".join(record_text(r) for r in library.records) + "\n]\n"

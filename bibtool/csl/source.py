"""CSL-JSON records as citeproc-py references: data cleaned, rich text and TeX math turned into markers."""

from __future__ import annotations

import re
from typing import Any

from citeproc import NAMES, VARIABLES
from citeproc.source import Reference
from citeproc.source.json import CiteProcJSON

from bibtool.csl import marks, texmath

# CSL-JSON rich text (citeproc-js's set); everything else in a title is text and will be escaped.
_RICH = re.compile(r"<(/?)(i|b|sup|sub)>", re.I)
_KNOWN = set(VARIABLES)


class Source(CiteProcJSON):
    """Fix: CiteProcJSON lower-cases item ids (merging `Smith2020` and `smith2020`); we key items by
    position ("i0", "i1", ...) and keep the record's own id in `ids`. Also keeps `maths`, the TeX
    spans that the markers point to, and `truncated`, the keys of cut-short author lists."""

    def __init__(self, records: list[dict[str, Any]]):
        self.maths: list[str] = []
        self.ids: dict[str, str] = {}
        self.truncated: set[str] = set()
        self.records: dict[str, dict[str, Any]] = {}
        for n, record in enumerate(records):
            key = f"i{n}"
            self.ids[key] = str(record.get("id", key))
            self.records[key] = record
            if (record.get("custom") or {}).get("authors_truncated"):
                self.truncated.add(key)
            self.add(Reference(key, record.get("type", "document"), **self._fields(record)))

    def _fields(self, record: dict[str, Any]) -> dict[str, Any]:
        fields: dict[str, Any] = {}
        for name, value in record.items():
            field = name.replace("-", "_")
            if field not in _KNOWN or field == "year_suffix":
                continue
            if field in NAMES:
                fields[field] = self.parse_names([_clean_name(n) for n in value if isinstance(n, dict)])
            elif field in ("issued", "accessed", "container", "event_date", "original_date", "submitted"):
                date = self.parse_date(value) if isinstance(value, dict) else None
                if date is not None:
                    fields[field] = date
            elif field == "language":
                fields[field] = str(value)
            else:
                fields[field] = self.parse_string(self._rich(str(value)))
        return fields

    def _rich(self, text: str) -> str:
        """Data text with markers for CSL rich-text tags and for `$...$` math (kept out of text-case)."""
        text = _typographic(marks.clean(text))

        def math(match: re.Match[str]) -> str:
            self.maths.append(match.group(1))
            return f'<span class="nocase">{marks.MATH_OPEN}{len(self.maths) - 1}{marks.MATH_CLOSE}</span>'

        text = texmath.MATH.sub(math, text)

        def tag(match: re.Match[str]) -> str:
            return (marks.CLOSE if match.group(1) else marks.OPEN)[match.group(2).lower()]

        return _RICH.sub(tag, text)


def _clean_name(name: dict[str, Any]) -> dict[str, Any]:
    parts = {k: _typographic(marks.clean(str(v))) for k, v in name.items()
             if k in ("family", "given", "dropping-particle", "non-dropping-particle", "suffix", "literal") and v}
    return parts or {"literal": ""}


def _typographic(text: str) -> str:
    """Fix: a straight apostrophe prints as typed; citeproc-js (and typesetting) use ’ (O’Brien)."""
    return re.sub(r"(?<=\w)'|'(?=\w)", "\u2019", text)

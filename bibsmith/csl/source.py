"""CSL-JSON records as citeproc-py references: data cleaned, rich text and TeX math turned into markers."""

from __future__ import annotations

import re
from typing import Any

from citeproc import NAMES, VARIABLES
from citeproc.source import Reference
from citeproc.source.json import CiteProcJSON

from bibsmith.csl import marks, texmath

# CSL-JSON rich text (citeproc-js's set); everything else in a title is text and will be escaped.
_RICH = re.compile(r'<(/?)(i|b|sup|sub)>|<span style="font-variant:\s*small-caps;?">|<span class="nocase">|</span>', re.I)
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

        def math(match: re.Match[str]) -> str:
            self.maths.append(match.group(1))
            return f'<span class="nocase">{marks.MATH_OPEN}{len(self.maths) - 1}{marks.MATH_CLOSE}</span>'

        text = texmath.MATH.sub(math, marks.clean(text))
        spans: list[str] = []  # which kind of <span> each </span> closes
        out = []
        for n, piece in enumerate(_split(text)):
            if n % 2 == 0:
                out.append(_typographic(piece))
                continue
            match = _RICH.fullmatch(piece)
            token = piece.lower()
            if match.group(2):
                out.append((marks.CLOSE if match.group(1) else marks.OPEN)[match.group(2).lower()])
            elif token == "</span>":
                kind = spans.pop() if spans else "text"  # a stray closing tag is text
                out.append(marks.CLOSE["sc"] if kind == "sc" else piece)
            else:
                spans.append("nocase" if "nocase" in token else "sc")
                out.append(piece if "nocase" in token else marks.OPEN["sc"])
        return "".join(out)


def _split(text: str) -> list[str]:
    """Text and tags, alternating (text first), as re.split with the whole tag captured."""
    out, last = [], 0
    for match in _RICH.finditer(text):
        out += [text[last:match.start()], match.group(0)]
        last = match.end()
    return out + [text[last:]]


def _clean_name(name: dict[str, Any]) -> dict[str, Any]:
    parts = {k: _typographic(marks.clean(str(v))) for k, v in name.items()
             if k in ("family", "given", "dropping-particle", "non-dropping-particle", "suffix", "literal") and v}
    return parts or {"literal": ""}


_APOSTROPHE = re.compile(r"(?<=\w)'|'(?=\w)")
_OPENING = re.compile(r'(?:(?<=^)|(?<=[\s(\[]))"(?=\S)')
_CLOSING = re.compile(r'(?<=\S)"')


def _typographic(text: str) -> str:
    """Fix: straight quotes print as typed; citeproc-js (and typesetting) use ’ (O’Brien) and “…”."""
    if "'" in text:  # (most text has no quote at all: no regex then)
        text = _APOSTROPHE.sub("\u2019", text)
    if '"' in text:
        text = _CLOSING.sub("\u201d", _OPENING.sub("\u201c", text))
    return text

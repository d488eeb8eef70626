"""Reader for CSL-JSON (Zotero, pandoc, citation-js): an array of items, or a single item."""

from __future__ import annotations

import json
import re
from typing import Any

from ..diagnostics import Position
from ..library import Library
from ..record import CSL_TYPES, DATE_VARIABLES, MAX_DEPTH, MAX_DIGITS, NAME_VARIABLES, STANDARD_VARIABLES, show
from ..text.names import split_name

_WHITESPACE = re.compile(r"[ \t\n\r]*")
_EDTF = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")
_DIGIT_STRING = re.compile(r"-?[0-9]{1,%d}" % MAX_DIGITS)
_NOT_DIGITS = re.compile(r"[eE].*|[^0-9]")
# A JSON string, or one bracket: enough to measure nesting outside strings.
_BRACKETS = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]')
# Variables whose schema type is string only (the hub also takes numbers for section and version).
_STRING_ONLY = STANDARD_VARIABLES - NAME_VARIABLES - DATE_VARIABLES - frozenset(
    "id type categories custom chapter-number citation-number collection-number edition "
    "first-reference-note-number issue locator number number-of-pages number-of-volumes page page-first "
    "part printing supplement volume".split())


class _Refused(ValueError):
    """A JSON value bibsmith does not take: NaN, Infinity, a number of more than MAX_DIGITS digits."""

    def __init__(self, literal: str, message: str):
        super().__init__(message)
        self.literal, self.message = literal, message


def _too_long(literal: str, digits: int) -> _Refused:
    return _Refused(literal, f"a number of {digits} digits is too long (at most {MAX_DIGITS})")


def _parse_int(literal: str) -> int:
    digits = len(literal) - literal.startswith("-")
    if digits > MAX_DIGITS:  # before int(): Python refuses to read more than 4,300 digits
        raise _too_long(literal, digits)
    return int(literal)


def _parse_float(literal: str) -> float:
    digits = len(_NOT_DIGITS.sub("", literal))
    if digits > MAX_DIGITS or len(literal) > 2 * MAX_DIGITS:
        raise _too_long(literal, digits)
    value = float(literal)
    if value in (float("inf"), float("-inf")):
        raise _Refused(literal, f"the number {literal} is too large")
    return value


def _parse_constant(literal: str) -> Any:
    raise _Refused(literal, f"{literal} is not a number in JSON (write null, or leave the variable out)")


_DECODER = json.JSONDecoder(parse_int=_parse_int, parse_float=_parse_float, parse_constant=_parse_constant)


def _too_deep(text: str, start: int, end: int) -> int | None:
    """Where the value in text[start:end] goes deeper than MAX_DEPTH lists and objects, if it does."""
    if end - start <= MAX_DEPTH or text.count("[", start, end) + text.count("{", start, end) <= MAX_DEPTH:
        return None  # cheap: most values have far fewer brackets than that
    depth = 0
    for match in _BRACKETS.finditer(text, start, end):
        bracket = match.group()
        if bracket in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                return match.start()
        elif bracket in "]}":
            depth -= 1
    return None


def _decode(text: str, pos: int) -> tuple[Any, int]:
    """One JSON value at `pos`; a value nested too deep is a JSONDecodeError (json itself would recurse
    until Python stops it, near 1,000 levels)."""
    recursed = False
    try:
        value, end = _DECODER.raw_decode(text, pos)
    except RecursionError:
        value, end, recursed = None, len(text), True
    deep = _too_deep(text, pos, end)
    if deep is not None or recursed:
        raise json.JSONDecodeError(f"nested more than {MAX_DEPTH} lists and objects deep", text,
                                   pos if deep is None else deep)
    return value, end


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
            value, _ = _decode(text, pos)
            items = value.get("items") if isinstance(value, dict) and isinstance(value.get("items"), list) else None
            return [(pos, v) for v in items] if items is not None else [(pos, value)]
        result: list[tuple[int, Any]] = []
        pos = _WHITESPACE.match(text, pos + 1).end()
        if text.startswith("]", pos):
            return result
        while True:
            value, end = _decode(text, pos)
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
    except _Refused as exc:
        # json does not say where: the literal's first place from the item on (numbers are rarely in strings).
        at = text.find(exc.literal, pos)
        line, col = _line_col(text, at if at >= 0 else pos)
        library.report.error("bad-json", exc.message, Position(source, line, col))
        return []


def to_record(item: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """A CSL record from an item as other tools write it, and notes on what was repaired.

    Repairs: EDTF date strings to date-parts, digit strings in date-parts to numbers, name strings to
    name objects, citeproc-js's institution names (isInstitution) to literal names, keyword lists to
    one string, numbers in string variables to strings; keys CSL does not define move to custom.extra;
    a missing, empty or unknown type is 'document' (as Zotero reads it).
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
        elif key in DATE_VARIABLES and isinstance(value, dict) and isinstance(value.get("date-parts"), list):
            record[key] = {**value, "date-parts": [_date_part_numbers(p) for p in value["date-parts"]]}
        elif key in NAME_VARIABLES and isinstance(value, list):
            record[key] = [split_name(v) if isinstance(v, str) else _name(v) for v in value]
        elif key == "keyword" and isinstance(value, list):
            record[key] = ", ".join(str(v) for v in value)
        elif key in _STRING_ONLY and type(value) in (int, float):
            record[key] = str(value)
        elif key in STANDARD_VARIABLES:
            record[key] = value
        else:
            extra[key] = value
            notes.append(f"{show(key)} is not a CSL variable; kept in custom.extra")
    kind = record.get("type")
    if kind is None or isinstance(kind, str) and kind not in CSL_TYPES:
        ident = record.get("id")
        label = f"record {ident}: " if isinstance(ident, str) and ident.isprintable() and ident else ""
        notes.append(f"{label}type {show(kind)} is not a CSL type; read as 'document'" if kind
                     else f"{label}no type; read as 'document'")
        record["type"] = "document"
    if extra:
        custom = record.get("custom")
        custom = dict(custom) if isinstance(custom, dict) else {}
        known = custom.get("extra")
        custom["extra"] = {**(known if isinstance(known, dict) else {}), **extra}
        record["custom"] = custom
    if type(record.get("id")) in (int, float):
        record["id"] = str(record["id"])
    return record, notes


def _date_part_numbers(part: Any) -> Any:
    """A date-parts entry with its digit strings as numbers ([["2020", "5"]] from some tools)."""
    if not isinstance(part, list):
        return part
    return [int(x) if isinstance(x, str) and _DIGIT_STRING.fullmatch(x) else x for x in part]


def _name(name: Any) -> Any:
    """citeproc-js's institution name ({"family": "ACME", "isInstitution": "true"}) as a literal name."""
    if not isinstance(name, dict) or "isInstitution" not in name:
        return name
    name = dict(name)
    flag = name.pop("isInstitution")
    if flag in (True, 1, "true", "1") and isinstance(name.get("family"), str) and "literal" not in name:
        name["literal"] = name.pop("family")
    return name


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
            code = "unknown-type" if note.endswith("read as 'document'") else "unknown-variable"
            library.report.warning(code, note, here)
        library.add(record, here)
    return library

"""Writer for CSL-JSON: an array of items, keys in a stable order, UTF-8, two-space indent."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Iterator

from ..diagnostics import Report
from ..fastpaths import simple
from ..library import Library

try:  # bibsmith/_fastjson.c, when it could be built: the same text as _record_text_python, in C
    from .. import _fastjson
except ImportError:
    _fastjson = None

# Leading keys in this order; the rest follow alphabetically, with custom last.
KEY_ORDER = ["id", "type", "title", "author", "editor", "issued", "container-title", "publisher",
             "genre", "number", "volume", "issue", "page", "DOI", "URL", "keyword", "abstract"]
_RANK = {key: n for n, key in enumerate(KEY_ORDER)}


@dataclass(frozen=True)
class Options:
    pass


def _rank(key: str) -> tuple[bool, int, str]:
    return (key == "custom", _RANK.get(key, len(KEY_ORDER)), key)


def ordered(record: dict[str, Any]) -> dict[str, Any]:
    """The record with its keys in the stable output order."""
    return {key: record[key] for key in sorted(record, key=_rank)}


# One encoder for the whole run: json.dumps(value, ensure_ascii=False) builds a new JSONEncoder per
# call, which was most of the writer's time at 10k records; this one gives the same text.
_encode_string = json.encoder.py_encode_basestring if json.encoder.c_encode_basestring is None else json.encoder.c_encode_basestring


def _not_json(value: Any) -> Any:
    raise TypeError(f"Object of type {value.__class__.__name__} is not JSON serializable")


if json.encoder.c_make_encoder is not None:
    # The C encoder that JSONEncoder(ensure_ascii=False, allow_nan=False).encode builds on every call,
    # built once (records hold no cycles, so the cycle check is left out; the text is the same). NaN and
    # Infinity are not JSON: the reader refuses them and the hub's gate too, so _fastjson never meets them.
    _c_encode = json.encoder.c_make_encoder(None, _not_json, _encode_string, None, ": ", ", ", False, False, False)

    def _encode(value: Any) -> str:
        return "".join(_c_encode(value, 0))
else:
    _encode = json.JSONEncoder(ensure_ascii=False, allow_nan=False).encode


def _compact(value: Any) -> str:
    return _encode_string(value) if type(value) is str else _encode(value)  # what _encode does, without its checks


@lru_cache(maxsize=1024)
def _key(key: str) -> str:
    return f"    {_compact(key)}: "


@lru_cache(maxsize=4096)
def _order(keys: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(sorted(keys, key=_rank))  # records of a library share a few key sets


def _record_text_python(record: dict[str, Any]) -> str:
    """record_text in Python: the reference that bibsmith._fastjson is held to (tests/test_fastjson.py)."""
    lines = [_key(key) + _compact(record[key]) for key in _order(tuple(record))]
    return "  {\n" + ",\n".join(lines) + "\n  }"


if _fastjson is not None:
    # The C module takes each key set's order from _order, and leaves to _compact any value and to
    # _record_text_python any record that it does not write itself (other types than JSON's, subclasses).
    _fastjson.configure(_order, _compact, _record_text_python)


def record_text(record: dict[str, Any]) -> str:
    """One item: a key per line, each value on its line (names and dates stay readable on one line)."""
    if _fastjson is not None and not simple():
        return _fastjson.record_text(record)
    return _record_text_python(record)


def hub_only(record: dict[str, Any]) -> dict[str, Any]:
    """The record without the copy of its .bib entry as written (custom.bibtex_entry): that is for the
    BibTeX writer, and a CSL-JSON reader would take it for data."""
    custom = record.get("custom")
    if isinstance(custom, dict) and "bibtex_entry" in custom:
        custom = {k: v for k, v in custom.items() if k != "bibtex_entry"}
        return {**record, "custom": custom} if custom else {k: v for k, v in record.items() if k != "custom"}
    return record


def write(library: Library, options: Options, report: Report) -> str:
    """The library as a CSL-JSON array."""
    return "".join(write_stream(library, options))


def write_stream(library: Library, options: Options) -> Iterator[str]:
    """The CSL-JSON array in pieces, one record at a time (this writer reports nothing)."""
    if not library.records:
        yield "[]\n"
        return
    yield "[\n"
    records = [hub_only(record) for record in library.records]
    last = len(records) - 1
    # Pieces of a few hundred records: one write per record cost more than making its text.
    if _fastjson is not None and not simple():
        fast_text = _fastjson.record_text  # (record, tail): the separator is written in the same buffer
        for start in range(0, len(records), _PIECE):
            yield "".join([fast_text(record, ",\n" if i < last else "\n]\n")
                           for i, record in enumerate(records[start:start + _PIECE], start)])
        return
    for start in range(0, len(records), _PIECE):
        yield "".join([_record_text_python(record) + (",\n" if i < last else "\n]\n")
                       for i, record in enumerate(records[start:start + _PIECE], start)])


_PIECE = 256

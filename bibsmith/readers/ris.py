"""RIS reader: the 2001 and 2011 tag sets, lenient about layout, strict about reporting.

Hand-written rather than rispy: rispy gives no line numbers and skips stray lines silently
(DESIGN.md section 1), and it keeps only the first value of most repeated tags.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

from ..diagnostics import Position, Report
from ..library import Library
from ..text.dates import date_problem

# Two letters, one or more spaces, a hyphen, then the value. Zotero writes "XX  - ", some tools
# "XX - " or "XX  -  value"; all are read.
TAG_LINE = re.compile(r"^[ \t]*([A-Z][A-Z0-9])[ \t]+-(?:[ \t]+(.*?))?[ \t]*$")
LINE_BREAK = re.compile(r"\r\n|\r|\n")
# rispy writes a counter line ("1.", "2.", ...) before each record: format, not content.
COUNTER = re.compile(r"^\s*\d+\.\s*$")
# YYYY[/MM[/DD[/other]]] as in the 2001 spec; "-" separators as written by some exporters.
DATE = re.compile(r"^(\d{4})(?:[/-](\d{0,2})(?:[/-](\d{0,2})(?:/(.*))?)?)?/?$")
# A continuation line of these tags is a new value, not more text of the last one.
LIST_TAGS = {"KW", "UR", "L1", "L2", "L3", "L4"}


@cache
def tables() -> dict[str, Any]:
    """The RIS mapping tables (bibsmith/mappings/ris.toml)."""
    return tomllib.loads(resources.files("bibsmith.mappings").joinpath("ris.toml").read_text("utf-8"))


@dataclass
class RawRecord:
    """One record as tagged lines: (tag, value, line) in file order."""

    line: int
    fields: list[list[Any]] = field(default_factory=list)


def split_records(text: str, source: str, report: Report) -> list[RawRecord]:
    """Cut RIS text into records, reporting lines outside records and records without TY or ER."""
    records: list[RawRecord] = []
    current: RawRecord | None = None
    orphan = stray = False  # inside a run of tag lines / text lines that belong to no record
    for number, line in enumerate(LINE_BREAK.split(text.removeprefix("\ufeff")), 1):
        here = Position(source, number)
        match = TAG_LINE.match(line)
        if match is None:
            if not line.strip() or (current is None and COUNTER.match(line)):
                continue
            if current is not None and current.fields:
                _continue(current, line.strip(), number)
            elif not (orphan or stray):
                report.warning("ris-stray", f"text outside a record ignored: {_short(line)}", here)
            stray = current is None
            continue
        stray = False
        tag, value = match.group(1), " ".join((match.group(2) or "").split())
        if tag == "TY":
            if current is not None:
                report.error("ris-no-er", f"record has no ER: the next record starts at line {number}",
                             Position(source, current.line))
                records.append(current)
            current, orphan = RawRecord(number, [["TY", value, number]]), False
        elif tag == "ER":
            if current is not None:
                records.append(current)
            elif not orphan:
                report.error("ris-no-ty", "ER line outside a record (no TY before it)", here)
            current, orphan = None, False
        elif current is not None:
            current.fields.append([tag, value, number])
        elif not orphan:
            report.error("ris-no-ty", f"record has no TY: {tag} line outside a record", here)
            orphan = True
    if current is not None:
        report.error("ris-no-er", "record has no ER: the input ends first", Position(source, current.line))
        records.append(current)
    return records


def _continue(record: RawRecord, text: str, number: int) -> None:
    last = record.fields[-1]
    if last[0] in LIST_TAGS and last[1]:
        record.fields.append([last[0], text, number])
    else:  # the 2001 spec wraps long values after 70 characters; the break is not part of the value
        last[1] = " ".join(f"{last[1]} {text}".split())


def _short(text: str) -> str:
    text = text.strip()
    return repr(text if len(text) <= 40 else text[:37] + "...")


def read(text: str, source: str) -> Library:
    """Read RIS text into CSL-JSON records, with a position per record and every problem reported."""
    library = Library()
    report = Report()
    for raw in split_records(text, source, report):
        library.add(to_record(raw, source, report), Position(source, raw.line))
    # Records are cut first and read after, so put the diagnostics back in file order.
    library.report.extend(sorted(report, key=lambda d: d.position.line if d.position and d.position.line else 0))
    return library


def name(value: str) -> dict[str, str]:
    """A CSL name from 'Family, Given[, Suffix]' (particles split off); no comma means a literal name."""
    parts = [p.strip() for p in value.split(",")]
    if len(parts) == 1 or not parts[0]:
        return {"literal": value.strip()}
    result: dict[str, str] = {}
    words = parts[0].split()
    lead = 0
    while lead < len(words) - 1 and words[lead][:1].islower():
        lead += 1
    if lead:
        result["non-dropping-particle"] = " ".join(words[:lead])
    result["family"] = " ".join(words[lead:])
    given = parts[1].split()
    tail = len(given)
    while tail > 1 and given[tail - 1][:1].islower():  # "Koning, A. P. Jason de"
        tail -= 1
    if given:
        result["given"] = " ".join(given[:tail])
    if tail < len(given):
        result["dropping-particle"] = " ".join(given[tail:])
    if len(parts) > 2 and any(parts[2:]):
        result["suffix"] = ", ".join(p for p in parts[2:] if p)
    return result


def date(value: str) -> tuple[dict[str, Any] | None, str | None]:
    """A CSL date from 'YYYY[/MM[/DD[/other]]]', or (None, why not)."""
    match = DATE.match(value.strip())
    if match is None:
        return None, "cannot read it as YYYY/MM/DD"
    year = int(match.group(1))
    if year == 0:
        return None, "0000 is a placeholder, not a year"
    parts = [year]
    for group in (match.group(2), match.group(3)):
        if not group or int(group) == 0:
            break
        parts.append(int(group))
    problem = date_problem(*parts)
    if problem:
        return None, problem
    result: dict[str, Any] = {"date-parts": [parts]}
    if match.group(4) and match.group(4).strip():
        result["season"] = match.group(4).strip()
    return result, None


def meaning(ty: str, tag: str) -> str | None:
    """What a tag means in a record of type `ty`: a CSL variable or 'kind:...', None if unknown."""
    read_tables = tables()["read"]
    return (read_tables["by_type"].get(ty, {}).get(tag) or read_tables["kinds"].get(tag)
            or read_tables["tags"].get(tag))


def to_record(raw: RawRecord, source: str, report: Report) -> dict[str, Any]:
    """One CSL-JSON record from one RIS record."""
    ty_value, ty_line = raw.fields[0][1], raw.fields[0][2]
    ty = ty_value.upper()
    extra: dict[str, str] = {}
    custom: dict[str, Any] = {}
    record: dict[str, Any] = {}
    if not ty:
        report.error("ris-type", "TY has no type; expected a code such as JOUR", Position(source, ty_line))
        record["type"] = "document"
    elif ty in tables()["types"]["from_ris"]:
        record["type"] = tables()["types"]["from_ris"][ty]
    else:
        report.warning("ris-type", f"unknown RIS type {ty!r}; read as 'document'", Position(source, ty_line))
        record["type"] = "document"
        extra["TY"] = ty_value
    names: dict[str, list[dict[str, str]]] = {}
    candidates: dict[str, list[tuple[str, Any, int, str]]] = {}
    keywords: list[str] = []
    notes: list[str] = []
    pages: dict[str, str] = {}
    for tag, value, line in raw.fields[1:]:
        if not value:
            continue  # empty tags carry nothing (Zotero writes none and ignores them)
        kind = meaning(ty, tag)
        if kind is None:
            _keep(extra, tag, value)
        elif kind.startswith("name:"):
            names.setdefault(kind[5:], []).append(name(value))
        elif kind.startswith("date:"):
            parsed, problem = date(value)
            if parsed is None:
                report.warning("ris-date", f"{tag}: {value!r}: {problem}; kept in custom.extra", Position(source, line))
                _keep(extra, tag, value)
            else:
                candidates.setdefault(kind[5:], []).append((tag, parsed, line, value))
        elif kind == "keyword":
            keywords.extend(k.strip() for k in value.split(";") if k.strip())
        elif kind.startswith("page:"):
            if pages.setdefault(kind[5:], value) != value:
                report.warning("ris-repeat", f"{tag} gives a second page; kept in custom.extra", Position(source, line))
                _keep(extra, tag, value)
        elif kind == "note":
            label, _, rest = value.partition(": ")
            labelled = tables()["read"]["note_labels"].get(label)
            if labelled and rest:
                candidates.setdefault(labelled, []).append((tag, rest, line, value))
            elif not _custom_note(value, custom):
                notes.append(value)
        else:
            candidates.setdefault(kind, []).append((tag, value, line, value))
    record.update(names)
    for variable, found in candidates.items():
        _choose(record, variable, found, extra, source, report)
    for variable, source_variable in tables()["read"]["fallback"].items():
        if variable not in record and source_variable in record:
            record[variable] = record[source_variable]
    if pages:
        start, end = pages.get("start", ""), pages.get("end", "")
        record["page"] = f"{start}-{end}" if start and end and "-" not in start else (start or end)
    if keywords:
        record["keyword"] = ", ".join(dict.fromkeys(keywords))
    if notes:
        record["note"] = "\n".join(notes)
    _arxiv(record)
    if extra:
        custom["extra"] = extra
    if custom:
        record["custom"] = custom
    return record


def _choose(record: dict[str, Any], variable: str, found: list[tuple[str, Any, int, str]],
            extra: dict[str, str], source: str, report: Report) -> None:
    """Keep the value of the preferred tag; a different value from another tag goes to custom.extra."""
    order = tables()["read"]["precedence"].get(variable, [])
    found = sorted(found, key=lambda f: order.index(f[0]) if f[0] in order else len(order))
    chosen = record[variable] = found[0][1]
    for tag, value, line, text in found[1:]:
        if value == chosen or _agrees(value, chosen):
            continue
        _keep(extra, tag, text)
        report.warning("ris-repeat", f"{tag} gives a second {variable}; kept in custom.extra",
                       Position(source, line))


def _keep(extra: dict[str, str], tag: str, value: str) -> None:
    """Keep a value no CSL variable took, under its tag; repeated tags keep every value, one a line."""
    extra[tag] = f"{extra[tag]}\n{value}" if tag in extra else value


def _agrees(date_value: Any, chosen: Any) -> bool:
    """True when a date is the chosen date with less detail (PY 2021 beside DA 2021/10/12)."""
    if not (isinstance(date_value, dict) and isinstance(chosen, dict)):
        return False
    parts, full = date_value["date-parts"][0], chosen["date-parts"][0]
    return full[: len(parts)] == parts


def _custom_note(value: str, custom: dict[str, Any]) -> bool:
    """Turn an N1 line the writer made for a `custom` fact back into that fact."""
    lines = tables()["notes"]
    if value == lines["authors_truncated"]:
        custom["authors_truncated"] = True
    elif value.startswith(lines["organizations"]):
        custom["organizations"] = [o.strip() for o in value[len(lines["organizations"]):].split(";") if o.strip()]
    elif value.startswith(lines["arxiv_category"]):
        custom["arxiv_category"] = value[len(lines["arxiv_category"]):].strip()
    else:
        return False
    return True


def _arxiv(record: dict[str, Any]) -> None:
    """An accession number 'arXiv:ID' is the arXiv id (CSL number); the database name is then implied."""
    location = record.get("archive_location", "")
    if location.lower().startswith("arxiv:") and "number" not in record:
        record["number"] = "arXiv:" + record.pop("archive_location")[6:]
        if record.get("archive", "").lower() == "arxiv":
            del record["archive"]
    doi = record.get("DOI")
    if doi:
        record["DOI"] = re.sub(r"^(?:https?://(?:dx\.)?doi\.org/|doi:\s*)", "", doi, flags=re.I)

"""RIS writer: one `TY  - ` ... `ER  - ` block per record, CRLF line ends, UTF-8 without a BOM.

Hand-written rather than rispy.dumps: rispy writes LF only, numbers records with "1." lines and has
no per-type tag meanings (2011 spec); the format itself is a few lines of text per record.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Iterator

from ..diagnostics import Position, Report, UsageError
from ..library import Library
from ..readers.ris import tables
from ..record import removed_characters_message, without_bad_characters

# The spec asks for CR LF; Zotero, EndNote and Mendeley write it; every reader we know takes it.
EOL = "\r\n"
NAME_VARIABLES = ("author", "editor", "collection-editor", "translator", "container-author", "composer",
                  "director", "illustrator", "interviewer", "original-author", "recipient", "reviewed-author",
                  "chair", "compiler", "contributor", "curator", "editorial-director", "executive-producer",
                  "guest", "host", "narrator", "organizer", "performer", "producer", "script-writer",
                  "series-creator")
DATE_VARIABLES = ("accessed", "available-date", "event-date", "issued", "original-date", "submitted")
# Placed by the writer itself, not by the variable -> tag table.
HANDLED = {"type", "id", "issued", "accessed", "page", "keyword", "DOI", "URL", "note", "custom"}
RIS_TAG = re.compile(r"^[A-Z][A-Z0-9]$")


@dataclass(frozen=True)
class Options:
    """RIS writer options: the TY for preprints (CSL `article`); the tools disagree, so it is a choice."""

    ris_preprint_type: str = "UNPB"


def write(library: Library, options: Options, report: Report) -> str:
    """All records as RIS text; each record ends with `ER  - ` and a blank line (as Zotero writes)."""
    preprint = options.ris_preprint_type.strip().upper()
    if preprint not in tables()["types"]["from_ris"]:
        raise UsageError(f"--ris-preprint-type {options.ris_preprint_type!r} is not a RIS type; "
                         "use UNPB (default), GEN or JOUR")
    return "".join(
        entry_text(record, preprint, report, library.position_of(i), library.checked)
        for i, record in enumerate(library.records)
    )


def entry_text(record: dict[str, Any], preprint: str, report: Report, position: Position | None = None,
               checked: bool = False) -> str:
    """One record as an RIS block (`checked`: the record passed the hub's gate, see Library.checked)."""
    lines = entry_lines(record, preprint, report, position, checked)
    return "".join(f"{tag}  - {value}{EOL}" for tag, value in lines) + EOL


def ris_type(record: dict[str, Any], preprint: str, report: Report, position: Position | None) -> str:
    """The TY of a record; a CSL type RIS has no code for becomes GEN, with a warning."""
    kind = record.get("type", "document")
    if kind == "article":
        return preprint
    ty = tables()["types"]["to_ris"].get(kind)
    if ty is None:
        report.warning("ris-type", f"record {record.get('id', '?')}: CSL type {kind!r} has no RIS type; written as GEN",
                       position)
        return "GEN"
    return ty


def entry_lines(record: dict[str, Any], preprint: str, report: Report,
                position: Position | None = None, checked: bool = False) -> list[tuple[str, str]]:
    """(tag, value) pairs of one record, from TY to ER."""
    removed: dict[str, str] = {}
    if not checked:
        record = without_bad_characters(record, "", removed)
    for field, char in removed.items():
        report.warning("control-character", removed_characters_message(f"record {record.get('id', '?')}", field, char),
                       position)
    ty = ris_type(record, preprint, report, position)
    write_tables = tables()["write"]
    scalar_tags = {**write_tables["tags"], **write_tables["by_type"].get(ty, {})}
    lines: list[tuple[str, str]] = [("TY", ty)]
    notes: list[str] = []
    used: set[str] = set()

    def put(tag: str, value: Any, repeatable: bool = False) -> bool:
        text = clean(value)
        if not text:
            return True
        if tag in used and not repeatable:
            return False
        lines.append((tag, text))
        used.add(tag)
        return True

    put("ID", record.get("id"))
    for variable in NAME_VARIABLES:
        tag = write_tables["names"].get(variable)
        for person in record.get(variable, []):
            if "," in person.get("literal", ""):
                report.warning("ris-name", f"record {record.get('id', '?')}: {variable} {person['literal']!r} has a comma; "
                               "RIS readers will split it as 'Family, Given'", position)
            if tag is None:
                notes.append(f"{variable}: {person_text(person)}")
            else:
                put(tag, person_text(person), repeatable=True)
    for variable, tag in scalar_tags.items():
        if variable == "abstract":
            continue  # after the dates and pages, as the managers write it
        if variable == "number" and str(record.get("number", "")).lower().startswith("arxiv:"):
            continue  # the arXiv id goes to AN/DB below
        if variable in record and not put(tag, record[variable]):
            notes.append(f"{variable}: {clean(record[variable])}")
    issued = record.get("issued")
    if issued:
        year, full = date_texts(issued)
        if year:
            put("PY", year)
            if issued.get("season"):  # DA is YYYY/MM/DD/other, empty parts kept
                full = "/".join((full.split("/") + ["", ""])[:3] + [str(issued["season"])])
            put("DA", full)
            if len(issued.get("date-parts", [])) > 1:
                report.warning("ris-date", f"record {record.get('id', '?')}: issued is a date range; "
                               "RIS holds only its start", position)
        else:
            notes.append(f"issued: {clean(issued.get('literal') or issued.get('raw') or '')}")
    if record.get("accessed"):
        put("Y2", date_texts(record["accessed"])[1] or record["accessed"].get("literal", ""))
    _pages(record, put, notes)
    put("AB", record.get("abstract"))
    for keyword in split_keywords(record.get("keyword", "")):
        put("KW", keyword, repeatable=True)
    if record.get("DOI"):
        put("DO", re.sub(r"^https?://(?:dx\.)?doi\.org/", "", str(record["DOI"]), flags=re.I))
    put("UR", record.get("URL"))
    number = str(record.get("number", ""))
    if number.lower().startswith("arxiv:"):
        if not (put("AN", number) and put("DB", "arXiv")):
            notes.append(f"number: {number}")
    notes.extend(_leftovers(record, scalar_tags))
    notes.extend(_custom(record.get("custom") or {}, put))
    for line in str(record.get("note", "")).splitlines():
        notes.append(line)
    for note in notes:
        put("N1", note, repeatable=True)
    lines.append(("ER", ""))
    order = write_tables["order"]
    rank = {tag: i for i, tag in enumerate(order)}
    return sorted(lines, key=lambda line: rank.get(line[0], rank["N1"] - 0.5))  # stable: AU order kept


def _pages(record: dict[str, Any], put, notes: list[str]) -> None:
    page = clean(record.get("page"))
    if not page:
        return
    # 2001 style (as Zotero writes): the first page in SP, the last in EP.
    match = re.match(r"^(.+?)\s*[-\u2013]+\s*(.+)$", page)
    start, end = (match.group(1), match.group(2)) if match else (page, "")
    if not put("SP", start):
        notes.append(f"page: {page}")
    elif end:
        put("EP", end)


def _leftovers(record: dict[str, Any], scalar_tags: dict[str, str]) -> Iterator[str]:
    """CSL variables with no RIS tag: one N1 line each, so nothing is dropped."""
    for variable, value in record.items():
        if variable in HANDLED or variable in scalar_tags or variable in NAME_VARIABLES:
            continue
        if variable in DATE_VARIABLES:
            yield f"{variable}: {date_texts(value)[1] or clean(value.get('literal', ''))}"
        else:
            yield f"{variable}: {clean(value)}"


def _custom(custom: dict[str, Any], put) -> Iterator[str]:
    """N1 lines for `custom` facts (the reader turns them back); unmapped RIS tags go back as tags."""
    notes = tables()["notes"]
    if custom.get("authors_truncated"):
        yield notes["authors_truncated"]
    if custom.get("organizations"):
        yield notes["organizations"] + "; ".join(custom["organizations"])
    if custom.get("arxiv_category"):
        yield notes["arxiv_category"] + custom["arxiv_category"]
    for key, value in (custom.get("extra") or {}).items():
        if RIS_TAG.match(key) and key not in ("TY", "ER"):
            for part in str(value).split("\n"):
                if not put(key, part, repeatable=True):
                    yield f"{key}: {part}"
        else:
            yield f"{key}: {clean(value)}"
    for key, value in custom.items():
        if key not in ("authors_truncated", "organizations", "arxiv_category", "extra", "bibtex_entry", "bibtex_type"):
            yield f"{key}: {clean(value)}"


def person_text(person: dict[str, str]) -> str:
    """'particle Family, Given particle[, Suffix]', or the literal name."""
    if "literal" in person:
        return person["literal"]
    family = " ".join(p for p in (person.get("non-dropping-particle"), person.get("family")) if p)
    given = " ".join(p for p in (person.get("given"), person.get("dropping-particle")) if p)
    # A trailing comma keeps a one-part name personal: without a comma, readers take a literal name.
    return ", ".join([family, given] + ([person["suffix"]] if person.get("suffix") else []))


def date_texts(value: dict[str, Any]) -> tuple[str, str]:
    """(PY year, DA 'YYYY/MM/DD' with only the parts known) of a CSL date; empty when it has no parts."""
    parts = (value.get("date-parts") or [[]])[0]
    if not parts or not str(parts[0]).lstrip("-").isdigit():
        return "", ""
    year = f"{int(parts[0]):04d}"
    return year, "/".join([year] + [f"{int(p):02d}" for p in parts[1:3]])


def split_keywords(keyword: str) -> list[str]:
    """CSL keeps keywords as one comma-separated string; RIS wants one KW line each."""
    return [k.strip() for k in str(keyword).split(",") if k.strip()]


def clean(value: Any) -> str:
    """A value on one line: RIS has no way to mark a line break inside a value."""
    if value is None:
        return ""
    if isinstance(value, list):
        value = "; ".join(map(str, value))
    return " ".join(str(value).split())

"""The hub record: normalize() assigns keys and checks every record against the CSL-JSON rules we rely on.

The official schema is used by the tests (from ../shared); at run time these checks are our own code,
so the product needs no schema file.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Sequence

from .diagnostics import Report
from .library import Library

if TYPE_CHECKING:
    from .keyfile import KeyFile

CSL_TYPES = frozenset(
    """article article-journal article-magazine article-newspaper bill book broadcast chapter classic
    collection dataset document entry entry-dictionary entry-encyclopedia event figure graphic hearing
    interview legal_case legislation manuscript map motion_picture musical_score pamphlet
    paper-conference patent performance periodical personal_communication post post-weblog regulation
    report review review-book software song speech standard thesis treaty webpage""".split()
)

NAME_VARIABLES = frozenset(
    """author chair collection-editor compiler composer container-author contributor curator director
    editor editorial-director executive-producer guest host interviewer illustrator narrator organizer
    original-author performer producer recipient reviewed-author script-writer series-creator
    translator""".split()
)
DATE_VARIABLES = frozenset("accessed available-date event-date issued original-date submitted".split())
NAME_PARTS = frozenset("family given dropping-particle non-dropping-particle suffix comma-suffix static-ordering literal parse-names".split())
DATE_KEYS = frozenset("date-parts season circa literal raw".split())
ARRAY_VARIABLES = frozenset({"categories"})
OBJECT_VARIABLES = frozenset({"custom"})
STANDARD_VARIABLES = frozenset(
    """id type citation-key categories language journalAbbreviation shortTitle abstract annote archive
    archive_collection archive_location archive-place authority call-number chapter-number
    citation-number citation-label collection-number collection-title container-title
    container-title-short dimensions division DOI edition event event-title event-place
    first-reference-note-number genre ISBN ISSN issue jurisdiction keyword locator medium note number
    number-of-pages number-of-volumes original-publisher original-publisher-place original-title page
    page-first part part-title PMCID PMID printing publisher publisher-place references reviewed-genre
    reviewed-title scale section source status supplement title title-short URL version volume
    volume-title volume-title-short year-suffix custom""".split()
) | NAME_VARIABLES | DATE_VARIABLES
NUMBER_OR_STRING = frozenset(
    "id chapter-number citation-number collection-number edition first-reference-note-number issue locator number number-of-pages number-of-volumes page page-first part printing section supplement version volume".split()
)


# What each standard variable must hold, for problems().
_NAMES, _DATE, _ARRAY, _OBJECT, _NUMBER_OR_STRING, _STRING = range(6)
_KIND = {key: _STRING for key in STANDARD_VARIABLES}
_KIND.update({key: _NUMBER_OR_STRING for key in NUMBER_OR_STRING if key in STANDARD_VARIABLES})
_KIND.update({key: _OBJECT for key in OBJECT_VARIABLES if key in STANDARD_VARIABLES})
_KIND.update({key: _ARRAY for key in ARRAY_VARIABLES if key in STANDARD_VARIABLES})
_KIND.update({key: _DATE for key in DATE_VARIABLES})
_KIND.update({key: _NAMES for key in NAME_VARIABLES})


def problems(record: dict[str, Any]) -> list[str]:
    """What makes `record` invalid CSL-JSON (empty when it is valid)."""
    found: list[str] = []
    if record.get("type") not in CSL_TYPES:
        found.append(f"type {record.get('type')!r} is not a CSL type")
    if record.get("id") in (None, ""):
        found.append("record has no id")
    for key, value in record.items():
        kind = _KIND.get(key)
        if kind == _STRING:
            if not isinstance(value, str):
                found.append(f"{key} must be a string")
        elif kind is None:
            found.append(f"{key!r} is not a CSL variable (put it under 'custom')")
        elif kind == _NAMES:
            if not _names_ok(value):
                found.append(f"{key} must be a list of name objects")
        elif kind == _DATE:
            found.extend(_date_problems(key, value))
        elif kind == _ARRAY:
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                found.append(f"{key} must be a list of strings")
        elif kind == _OBJECT:
            if not isinstance(value, dict):
                found.append(f"{key} must be an object")
        elif not isinstance(value, (str, int, float)) or isinstance(value, bool):
            found.append(f"{key} must be a string or a number")
    return found


def _names_ok(value: Any) -> bool:
    if not isinstance(value, list):
        return False
    for name in value:
        if not isinstance(name, dict) or not name or not NAME_PARTS.issuperset(name):
            return False
    return True


def _date_problems(key: str, value: Any) -> list[str]:
    if not isinstance(value, dict) or not DATE_KEYS.issuperset(value):
        return [f"{key} must be a CSL date object"]
    parts = value.get("date-parts")
    if parts is None:
        return []
    if isinstance(parts, list) and 1 <= len(parts) <= 2:
        for part in parts:
            if not isinstance(part, list) or not 1 <= len(part) <= 3:
                break
            if not all(isinstance(x, (int, str)) and not isinstance(x, bool) for x in part):
                break
        else:
            return []
    return [f"{key} date-parts must be one or two lists of 1 to 3 numbers"]


def normalize(library: Library, keys: "KeyFile | None" = None, known_valid: Sequence[dict[str, Any]] = ()) -> Library:
    """Assign missing keys (those in the key file first), make every key unique, report invalid records.

    `known_valid`: records that problems() found valid already (a reader's workers check them); only
    their keys change here, to other non-empty strings, so they are not checked again.
    """
    from .keyfile import KeyFile

    keys = keys if keys is not None else KeyFile()
    keys.restore(library)
    _unique_ids(library)
    keys.assign(library)
    report: Report = library.report
    checked = {id(record) for record in known_valid}  # the records stay alive in known_valid: ids are theirs
    for index, record in enumerate(library.records):
        if id(record) in checked:
            continue
        for problem in problems(record):
            report.error("invalid-record", f"record {record.get('id', index + 1)}: {problem}", library.position_of(index))
    return library


def _unique_ids(library: Library) -> None:
    """Keys given by the inputs are kept; a key used twice gets a suffix on its later uses, with a warning."""
    seen: set[str] = set()
    for index, record in enumerate(library.records):
        key = record.get("id")
        if key in (None, ""):
            continue
        key = str(key)
        record["id"] = key
        if key in seen:
            n = 2
            while f"{key}-{n}" in seen:
                n += 1
            record["id"] = f"{key}-{n}"
            library.report.warning(
                "duplicate-key", f"key {key!r} is used by an earlier record; this one is now {record['id']!r}",
                library.position_of(index),
            )
        seen.add(record["id"])

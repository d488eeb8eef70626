"""The hub record: normalize() assigns keys and checks every record against the CSL-JSON rules we rely on.

The official schema is used by the tests (from ../shared); at run time these checks are our own code,
so the product needs no schema file.
"""

from __future__ import annotations

import json
import math
import re
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
_NAME_STRINGS = frozenset("family given dropping-particle non-dropping-particle suffix literal".split())

# Characters no output format can carry as they are: C0 controls but TAB, LF and CR; DEL; C1 controls;
# the non-characters U+FFFE and U+FFFF. Lone surrogates are not text at all (UTF-8 cannot encode them).
CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffe\uffff]")
SURROGATE = re.compile("[\ud800-\udfff]")
_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffe\uffff\ud800-\udfff]")  # either, in one search
MAX_DIGITS = 20  # longer numbers are refused: no bibliographic number is that long
MAX_DEPTH = 100  # nesting of lists and objects inside a value (custom), as the readers allow
_LIMIT = 10 ** MAX_DIGITS
# In json's text of a record (ensure_ascii=False): a raw DEL, C1, U+FFFE/U+FFFF or surrogate, or a run of
# more digits than any number may have. (json escapes the C0 controls: see _text_fine.)
_JSON_BAD = re.compile(r"[\x7f-\x9f\ufffe\uffff\ud800-\udfff]|\d{%d}" % (MAX_DIGITS + 1))
_DIGITS = re.compile(r"-?[0-9]{1,%d}" % MAX_DIGITS)
_DROP = object()
_BRACES = re.compile(r"\\[{}]|[{}]")  # escaped braces are no group


def show(value: Any) -> str:
    """A short repr of any value; never raises (Python refuses to print a 5,000-digit int)."""
    if type(value) is int and not -_LIMIT < value < _LIMIT:
        return f"a number of more than {MAX_DIGITS} digits"
    try:
        text = repr(value)
    except (ValueError, RecursionError):
        return f"a {type(value).__name__}"
    return text if len(text) <= 60 else text[:57] + "..."


def is_number(value: Any) -> bool:
    """A JSON number that every writer can print: not a bool, finite, at most MAX_DIGITS digits."""
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return -_LIMIT < value < _LIMIT
    return isinstance(value, float) and math.isfinite(value)


_ENCODE = json.JSONEncoder(ensure_ascii=False, allow_nan=False, check_circular=False).encode


def bad_character(text: str) -> tuple[int, str] | None:
    """(index, description) of the first control character or lone surrogate in `text`, or None."""
    match = _BAD.search(text)
    if match is None:
        return None
    char = match.group()
    kind = "a lone surrogate" if SURROGATE.match(char) else "the control character"
    return match.start(), f"{kind} U+{ord(char):04X}"


def clean_text(text: str) -> str:
    """`text` without control characters and lone surrogates."""
    return SURROGATE.sub("", CONTROL.sub("", text))


def without_bad_characters(value: Any, field: str = "", found: dict[str, str] | None = None) -> Any:
    """`value` (a record, or any value in one) without control characters and lone surrogates, for a
    writer whose format cannot hold them; `found` gets, per field, the first character removed."""
    if not field and isinstance(value, dict) and _characters_fine(value):
        return value  # nearly every record: one search of its json text instead of a copy of it
    if isinstance(value, str):
        match = _BAD.search(value)
        if match is None:
            return value
        if found is not None:
            found.setdefault(field, match.group())
        return clean_text(value)
    if isinstance(value, dict):
        return {without_bad_characters(k, field, found) if isinstance(k, str) else k:
                without_bad_characters(v, f"{field}.{k}" if field else str(k), found) for k, v in value.items()}
    if isinstance(value, list):
        return [without_bad_characters(v, field, found) for v in value]
    return value


def removed_characters_message(where: str, field: str, char: str) -> str:
    """The writers' warning for without_bad_characters."""
    kind = "a lone surrogate" if SURROGATE.match(char) else "control characters such as"
    return f"{where}: field {field} holds {kind} U+{ord(char):04X}, which this format cannot hold; removed"


def braces_too_deep(text: str) -> bool:
    """True when `text` nests braces more than MAX_DEPTH deep (TeX math in titles is read as LaTeX,
    by a parser that recurses per group)."""
    if text.count("{") <= MAX_DEPTH:
        return False
    depth = 0
    for brace in _BRACES.findall(text):
        depth += 1 if brace == "{" else -1 if brace == "}" else 0
        if depth > MAX_DEPTH:
            return True
    return False


def _text_problem(key: str, value: Any, depth: int = 0) -> str | None:
    """What is wrong with the characters of the strings in `value` (keys of objects too), if anything."""
    if isinstance(value, str):
        found = bad_character(value)
        if found is None and braces_too_deep(value):
            return f"{key} nests braces more than {MAX_DEPTH} deep"
        return None if found is None else f"{key} contains {found[1]} at character {found[0] + 1}"
    if depth > MAX_DEPTH:
        return f"{key} is nested more than {MAX_DEPTH} deep"
    if isinstance(value, dict):
        for inner_key, inner in value.items():
            found = _text_problem(key, inner_key, depth + 1) or _text_problem(key, inner, depth + 1)
            if found:
                return found
    elif isinstance(value, list):
        for inner in value:
            found = _text_problem(key, inner, depth + 1)
            if found:
                return found
    elif isinstance(value, float) and not math.isfinite(value) or type(value) is int and not is_number(value):
        return f"{key} holds {show(value)}, which is not a number any format can write"
    return None


def _cleaned(value: Any, depth: int = 0) -> Any:
    """`value` with clean_text applied to every string; what _text_problem refuses is left out."""
    if isinstance(value, str):
        return _DROP if braces_too_deep(value) else clean_text(value)
    if isinstance(value, (dict, list)):
        if depth >= MAX_DEPTH:
            return _DROP
        if isinstance(value, list):
            return [inner for inner in (_cleaned(v, depth + 1) for v in value) if inner is not _DROP]
        pairs = ((clean_text(k) if isinstance(k, str) else k, _cleaned(v, depth + 1)) for k, v in value.items())
        return {k: v for k, v in pairs if v is not _DROP}
    if isinstance(value, (int, float)) and not isinstance(value, bool) and not is_number(value):
        return _DROP
    return value


def text_is_clean(text: str, start: int = 0, end: int | None = None) -> bool:
    """True when `text[start:end]` holds no control character (but tab and line ends) or lone surrogate."""
    return _BAD.search(text, start, len(text) if end is None else end) is None


def _characters_fine(value: Any, depth: int = 0) -> bool:
    """True when no string in `value` (keys too) holds a control character or lone surrogate; a walk that
    only looks, so the common clean record is not copied. False is no verdict: look closer."""
    search = _BAD.search
    if type(value) is str:
        return search(value) is None
    if depth > MAX_DEPTH:
        return False
    if type(value) is dict:
        if any(type(key) is str and search(key) is not None for key in value):
            return False
        inners = value.values()
    elif type(value) is list:
        inners = value
    else:
        return True
    for inner in inners:
        if type(inner) is str:
            if search(inner) is not None:
                return False
        elif type(inner) in (dict, list) and not _characters_fine(inner, depth + 1):
            return False
    return True


def _text_fine(record: dict[str, Any]) -> bool:
    """True when no value of the record has what _text_problem looks for, found by one pass of json's C
    encoder and one search (walking every value in Python cost the gate most of its time). False is no
    verdict: the walk then decides."""
    try:
        text = _ENCODE(record)
    except (TypeError, ValueError, RecursionError):
        return False  # NaN, infinity, a number too long to write, a value JSON has no form for
    # An escaped control character is \b, \f or \u00XX (\t, \n, \r are fine); a LaTeX \bf or \frac looks
    # the same here, and such records are walked.
    if "\\u00" in text or "\\b" in text or "\\f" in text:
        return False
    return text.count("{") + text.count("[") <= MAX_DEPTH and _JSON_BAD.search(text) is None


def problems(record: dict[str, Any], text_fine: bool | None = None) -> list[str]:
    """What makes `record` invalid CSL-JSON (empty when it is valid). Never raises, whatever the values.
    `text_fine`: see findings()."""
    return [message for _, message, _ in findings(record, text_fine)]


def findings(record: dict[str, Any], text_fine: bool | None = None) -> list[tuple[str | None, str, Any]]:
    """(variable, problem, repair) for each problem of `record`; the repair is the value that replaces
    the variable's (_DROP: leave it out), or, for a missing id, None (keys are assigned elsewhere).

    `text_fine=True`: the caller knows that no string holds a control character, a lone surrogate or
    braces nested too deep, and no value a number too long or nesting too deep (a reader whose whole
    input text has none, and whose records cannot); the characters are then not looked at again.
    """
    found: list[tuple[str | None, str, Any]] = []
    kind = record.get("type")
    if not isinstance(kind, str) or kind not in CSL_TYPES:
        found.append(("type", f"type {show(kind)} is not a CSL type", "document"))
    ident = record.get("id")
    if ident is None or ident == "":
        found.append((None, "record has no id", None))
    if text_fine is None:
        text_fine = _text_fine(record)
    if text_fine and _plainly_valid(record):
        return []
    kinds = _KIND
    for key, value in record.items():
        if text_fine and type(value) is str and kinds.get(key) in _TEXT_KINDS:
            continue  # the common case, decided without a call
        if key == "type" and found and found[0][0] == "type":
            continue  # replaced as a whole
        if not isinstance(key, str):
            found.append((key, f"{show(key)} is not a CSL variable", _DROP))
            continue
        problem, repair = _value_problem(key, value)
        if problem is None and not text_fine:
            problem = _text_problem(key, value)
            if problem is not None:  # the repair only where something is wrong: most records are fine
                repair = _cleaned(value)
                if repair is not _DROP and _value_problem(key, repair)[0] is not None:
                    repair = _DROP  # e.g. a name that had only a value with control characters
        if problem is not None:
            found.append((key, problem, repair))
    return found


_TEXT_KINDS = (_STRING, _NUMBER_OR_STRING)


def _plainly_valid(record: dict[str, Any]) -> bool:
    """True for a record of the shapes readers make (strings, names of strings, dates of small ints or a
    literal, custom objects), whose characters are known to be fine: findings() has nothing to say of
    it. False is no verdict. Checking every variable by the general rules cost the readers' workers as
    much as reading the values."""
    kind = record.get("type")
    ident = record.get("id")
    if type(kind) is not str or kind not in CSL_TYPES or type(ident) is not str or not ident:
        return False
    kinds = _KIND
    for key, value in record.items():
        what = kinds.get(key)
        if type(value) is str:
            if what not in _TEXT_KINDS:
                return False
        elif what == _NAMES:
            if type(value) is not list:
                return False
            for name in value:
                if type(name) is not dict or not name or not NAME_PARTS.issuperset(name):
                    return False
                for part in name.values():
                    if type(part) is not str:
                        return False
        elif what == _DATE:
            if type(value) is not dict or len(value) != 1:
                return False
            parts = value.get("date-parts")
            if parts is None:
                if type(value.get("literal")) is not str:
                    return False
            elif type(parts) is not list or not 1 <= len(parts) <= 2:
                return False
            else:
                for part in parts:
                    if type(part) is not list or not 1 <= len(part) <= 3:
                        return False
                    for number in part:
                        if type(number) is not int or not -_LIMIT < number < _LIMIT:
                            return False
        elif what == _OBJECT:
            if type(value) is not dict:
                return False
        else:
            return False
    return True


def _value_problem(key: str, value: Any) -> tuple[str | None, Any]:
    kind = _KIND.get(key)
    if key == "type":
        return None, None  # checked above
    if kind == _STRING:
        if not isinstance(value, str):
            return f"{key} must be a string", _DROP
    elif kind is None:
        return f"{key!r} is not a CSL variable (put it under 'custom')", _DROP
    elif kind == _NAMES:
        if not _names_ok(value):
            kept = [_cleaned(name) for name in value if _name_ok(name)] if isinstance(value, list) else []
            return f"{key} must be a list of name objects", kept or _DROP
    elif kind == _DATE:
        problem = _date_problem(key, value)
        if problem:
            return problem, _DROP
    elif kind == _ARRAY:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            return f"{key} must be a list of strings", _DROP
    elif kind == _OBJECT:
        if not isinstance(value, dict):
            return f"{key} must be an object", _DROP
    elif isinstance(value, str):
        return None, None
    elif isinstance(value, float) and not math.isfinite(value) or type(value) is int and not is_number(value):
        return f"{key} holds {show(value)}, which is not a number any format can write", _DROP
    elif not isinstance(value, (int, float)) or isinstance(value, bool):
        return f"{key} must be a string or a number", _DROP
    return None, None


def _name_ok(name: Any) -> bool:
    if not isinstance(name, dict) or not name or not NAME_PARTS.issuperset(name):
        return False
    for part, text in name.items():
        if part in _NAME_STRINGS:
            if not isinstance(text, str):
                return False
        elif not isinstance(text, (str, bool)) and not is_number(text):
            return False
    return True


def _names_ok(value: Any) -> bool:
    return isinstance(value, list) and all(_name_ok(name) for name in value)


def date_part_ok(part: Any) -> bool:
    """A year, month or day as the writers take it: an int, or a string of digits."""
    if isinstance(part, str):
        return _DIGITS.fullmatch(part) is not None
    return type(part) is int and is_number(part)


def _date_problem(key: str, value: Any) -> str | None:
    if not isinstance(value, dict) or not DATE_KEYS.issuperset(value):
        return f"{key} must be a CSL date object"
    for name in ("literal", "raw"):
        if name in value and not isinstance(value[name], str):
            return f"{key} must be a CSL date object"
    if "season" in value and not isinstance(value["season"], str) and not is_number(value["season"]):
        return f"{key} must be a CSL date object"
    if "circa" in value and not isinstance(value["circa"], (str, bool)) and not is_number(value["circa"]):
        return f"{key} must be a CSL date object"
    if "date-parts" not in value:
        return None
    parts = value["date-parts"]
    if isinstance(parts, list) and 1 <= len(parts) <= 2:
        for part in parts:
            if not isinstance(part, list) or not 1 <= len(part) <= 3 or not all(date_part_ok(x) for x in part):
                break
        else:
            return None
    return f"{key} date-parts must be one or two lists of 1 to 3 numbers"


def normalize(library: Library, keys: "KeyFile | None" = None, known_valid: Sequence[dict[str, Any]] = (),
              keep_going: bool = False) -> Library:
    """Assign missing keys (those in the key file first), make every key unique, report invalid records.

    `known_valid`: records that problems() found valid already (a reader's workers check them); only
    their keys change here, to other non-empty strings, so they are not checked again.
    What is invalid is an error; with `keep_going` (write what can be written) it is a warning that
    says what became of the value. Either way it is left out or repaired, never passed on.
    """
    from .keyfile import KeyFile

    keys = keys if keys is not None else KeyFile()
    report: Report = library.report
    checked = {id(record) for record in known_valid}  # the records stay alive in known_valid: ids are theirs
    # The gate, before keys are made from the records: what is wrong is reported and repaired (left
    # out, or the type made 'document'), so that no writer meets it, with --keep-going either.
    for index, record in enumerate(library.records):
        if id(record) in checked:
            continue
        for key, problem, repair in findings(record):
            if key is None:
                continue  # no id yet: keys are assigned below
            if keep_going:
                done = "left out" if repair is _DROP else f"now {show(repair)}"
                report.warning("invalid-record", f"record {_name(record, index)}: {problem}; {done}",
                               library.position_of(index))
            else:
                report.error("invalid-record", f"record {_name(record, index)}: {problem}", library.position_of(index))
            if repair is _DROP:
                del record[key]
            else:
                record[key] = repair
    keys.restore(library)
    _unique_ids(library)
    keys.assign(library)
    for index, record in enumerate(library.records):
        if record.get("id") in (None, ""):
            report.error("invalid-record", f"record {index + 1}: record has no id", library.position_of(index))
    library.checked = True
    return library


def _name(record: dict[str, Any], index: int) -> str:
    """The record's id as given, for messages; its number when it has none that can be shown."""
    ident = record.get("id")
    if isinstance(ident, str) and ident and bad_character(ident) is None:
        return ident
    return show(ident) if is_number(ident) else str(index + 1)


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

"""ORCID 3.0 works feed: a bulk document of work:work elements, checked against ORCID's rules as it is built.

The writer does not need the XSD: it enforces the limits of `bulk-3.0.xsd`/`work-3.0.xsd` (title and
journal title 1-1000 characters, short description at most 5000, credit names at most 150, years
1900-2100, month 1-12, day 1-31) and the API's own rules (a `self` external id on every posted work,
at most 100 works per request) itself, and reports each violation with the record's source position.
"""

from __future__ import annotations

import datetime
import re
import tomllib
from collections import Counter
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from lxml import etree

from .. import registry
from ..diagnostics import Position, Report, UsageError
from ..library import Library
from ..record import without_bad_characters
from ..text.arxiv import arxiv_id, is_preprint
from ..text.names import display_name
from .bibtex import entry_text

NS = {
    "bulk": "http://www.orcid.org/ns/bulk",
    "work": "http://www.orcid.org/ns/work",
    "common": "http://www.orcid.org/ns/common",
}

MAX_WORKS_PER_REQUEST = 100
MAX_TITLE = 1000
MAX_DESCRIPTION = 5000
MAX_CREDIT_NAME = 150
ELLIPSIS = "\u2026"

# XML 1.0 forbids most control characters; lxml refuses them, so we remove them and say so.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_ORCID_ID = re.compile(r"\d{4}-\d{4}-\d{4}-\d{3}[\dX]")
_DOI_PREFIX = re.compile(r"^(?:doi:\s*|https?://(?:dx\.)?doi\.org/)", re.I)


@cache
def table() -> dict[str, Any]:
    """The ORCID mapping tables (mappings/orcid.toml), both directions."""
    with resources.files("bibsmith.mappings").joinpath("orcid.toml").open("rb") as handle:
        return tomllib.load(handle)


@dataclass(frozen=True)
class Options:
    """ORCID writer options: `batch_size` splits the feed into requests of at most that many works."""

    batch_size: int | None = None


@dataclass
class _Feed:
    """What the checks found across all records, for the summary diagnostics."""

    no_self: list[tuple[str, Position | None]] = field(default_factory=list)
    truncated: list[str] = field(default_factory=list)
    unheld: Counter = field(default_factory=Counter)


def _w(tag: str) -> str:
    return f"{{{NS['work']}}}{tag}"


def _c(tag: str) -> str:
    return f"{{{NS['common']}}}{tag}"


def _sub(parent: etree._Element, tag: str, text: str | None = None) -> etree._Element:
    element = etree.SubElement(parent, tag)
    if text is not None:
        element.text = text
    return element


def cut_description(text: str, limit: int = MAX_DESCRIPTION) -> str:
    """The abstract cut at a word boundary to at most `limit` characters, ending in an ellipsis."""
    if len(text) <= limit:
        return text
    head = text[: limit - len(ELLIPSIS) + 1]  # +1: a space right after the cut is a word boundary too
    space = max(head.rfind(" "), head.rfind("\n"), head.rfind("\t"))
    kept = head[:space] if space > 0 else head[: limit - len(ELLIPSIS)]
    return kept.rstrip(" ,;:\n\t") + ELLIPSIS


def work_type(record: dict[str, Any]) -> str:
    """The ORCID work type: preprint for arXiv papers, else through the table (other when unknown)."""
    if is_preprint(record):
        return "preprint"
    return table()["to_orcid"]["types"].get(record.get("type", ""), "other")


def _unversioned(identifier: str) -> str:
    return re.sub(r"v\d+$", "", identifier.strip().lower())


def external_ids(record: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """(type, value, url, relationship) of every id ORCID can hold, the work's own ids first."""
    ids: list[tuple[str, str, str, str]] = []
    rules = table()["to_orcid"]["external_ids"]
    arxiv = arxiv_id(record)
    if arxiv:
        rule = rules["arxiv"]
        ids.append((rule["type"], arxiv, rule["url"] + arxiv, rule["relationship"]))
    for variable, rule in rules.items():
        value = str(record.get(variable) or "").strip()
        if variable == "arxiv" or not value:
            continue
        if variable == "DOI":
            value = _DOI_PREFIX.sub("", value)
        relationship = rule["relationship"]
        if "part_of_unless" in rule and record.get("type") not in rule["part_of_unless"]:
            relationship = "part-of"
        ids.append((rule["type"], value, rule["url"] + value if rule["url"] else "", relationship))
    own = {_unversioned(value) for _, value, _, relationship in ids if relationship == "self"}
    for other in record.get("custom", {}).get("related", []):
        # the other version of this work (preprint <-> published), linked by the merge step
        for variable, value in (("arxiv", other.get("arxiv")), ("DOI", other.get("DOI"))):
            if value and _unversioned(value) not in own:
                rule = rules[variable]
                ids.append((rule["type"], value, rule["url"] + value, "version-of"))
    for name, value in sorted(record.get("custom", {}).get("extra", {}).items()):
        # ids the ORCID reader could not map come back as they were read
        parts = name.split(":")
        if parts[0] == "external-id" and len(parts) in (2, 3) and str(value).strip():
            ids.append((parts[1], str(value).strip(), "", parts[2] if len(parts) == 3 else "self"))
    return ids


def credit_names(record: dict[str, Any]) -> list[tuple[str, str]]:
    """(credit name, ORCID role) of every person the work can list, in the record's order per role."""
    people = []
    for variable, role in table()["to_orcid"]["roles"].items():
        for name in record.get(variable) or []:
            people.append((display_name(name).strip(), role))
    return people


def language_code(language: str) -> str | None:
    """ORCID's code for a CSL language (en-US -> en, he -> iw, zh-TW -> zh_TW), None when it has none."""
    renames = table()["languages"]
    for candidate in (language, language.split("-")[0].lower()):
        if candidate in renames:
            return renames[candidate]
    primary = language.split("-")[0]
    return primary if re.fullmatch(r"[a-z]{2}", primary) else None


class _Checker:
    """Cleans one record's text for XML and reports what ORCID would refuse or cannot hold."""

    def __init__(self, record: dict[str, Any], key: str, position: Position | None, report: Report):
        self.record, self.key, self.position, self.report = record, key, position, report

    def error(self, code: str, message: str) -> None:
        self.report.error(code, f"{self.key}: {message}", self.position)

    def warning(self, code: str, message: str) -> None:
        self.report.warning(code, f"{self.key}: {message}", self.position)

    def text(self, value: Any, what: str) -> str:
        """Text made safe for XML; removed control characters are reported."""
        text = str(value)
        cleaned = _NOT_XML.sub("", text)
        if cleaned != text:
            self.warning("orcid-control-characters", f"{what} has control characters XML cannot hold; removed")
        return cleaned

    def limited(self, variable: str, what: str, limit: int) -> str | None:
        """A 1..limit character text field, or None after reporting why it cannot be written."""
        value = self.record.get(variable)
        if value is None:
            return None
        text = self.text(value, what).strip()
        if not text:
            return None
        if len(text) > limit:
            self.error("orcid-too-long", f"{what} has {len(text)} characters; ORCID takes at most {limit}")
            return None
        return text

    def date(self) -> list[str] | None:
        """[year, month?, day?] as ORCID writes them, or None when missing or invalid (reported)."""
        issued = self.record.get("issued")
        if not issued:
            return None
        parts_list = issued.get("date-parts") or [[]]
        if not parts_list[0]:
            shown = issued.get("literal") or issued.get("raw")
            if shown:
                self.warning("orcid-date", f"date {shown!r} is not a year, month and day; left out")
            return None
        if len(parts_list) > 1:
            self.warning("orcid-date", "date range: ORCID takes one date; only the start is written")
        try:
            parts = [int(p) for p in parts_list[0]]
        except (TypeError, ValueError):
            self.error("orcid-date", f"date parts {parts_list[0]!r} are not numbers")
            return None
        year, month, day = (parts + [None, None])[:3]
        if not 1900 <= year <= 2100:
            self.error("orcid-date", f"year {year} is outside 1900-2100, which ORCID accepts")
            return None
        if month is not None and not 1 <= month <= 12:
            self.error("orcid-date", f"month {month} is not 1-12")
            return None
        if day is not None:
            try:
                datetime.date(year, month, day)
            except ValueError:
                self.error("orcid-date", f"day {day} does not exist in {year}-{month:02d}")
                return None
        return [f"{year:04d}"] + [f"{p:02d}" for p in (month, day) if p is not None]

    def url(self) -> str | None:
        """The record's URL (an arXiv paper's abstract page when it has none); an error unless absolute http(s)."""
        value = self.record.get("URL")
        if not value:
            arxiv = arxiv_id(self.record)
            return f"https://arxiv.org/abs/{arxiv}" if arxiv else None
        text = str(value).strip()
        parts = urlsplit(text)
        if parts.scheme not in ("http", "https") or not parts.netloc or re.search(r"\s", text):
            self.error("orcid-url", f"URL {text!r} is not an absolute http(s) URL without spaces")
            return None
        return text


def _citation(record: dict[str, Any], checker: _Checker) -> str | None:
    """The record as a BibTeX entry from our BibTeX writer; its errors become one warning here.

    ORCID stores the citation as Unicode text, so the entry is written in UTF-8 (no LaTeX escapes); the
    abstract is left out of it because short-description already holds it.
    """
    scratch = Report()
    cited = {k: v for k, v in record.items() if k != "abstract"}
    text = entry_text(cited, registry.writer_options("bibtex", unicode=True), scratch, checker.position)
    if scratch.has_errors:
        reasons = "; ".join(d.message.removeprefix(f"record {checker.key}: ") for d in scratch.errors)
        checker.warning("orcid-citation", f"BibTeX citation left out: {reasons}")
        return None
    return checker.text(text.strip(), "BibTeX citation") or None


@dataclass
class _Work:
    """One record's values, checked and cleaned, ready to become a work:work element."""

    title: str
    journal: str | None
    abstract: str
    type: str
    date: list[str] | None
    ids: list[tuple[str, str, str, str]]
    url: str | None
    people: list[tuple[str, str, str | None]]  # credit name, role, ORCID iD
    language: str | None
    citation: str | None = None


def _people(record: dict[str, Any], checker: _Checker) -> list[tuple[str, str, str | None]]:
    orcids = record.get("custom", {}).get("contributor_orcids", {})
    people = []
    for name, role in credit_names(record):
        name = checker.text(name, "contributor name")
        if not name:
            checker.warning("orcid-contributor", "a contributor has no name; left out")
        elif len(name) > MAX_CREDIT_NAME:
            checker.error("orcid-too-long", f"contributor name {name[:40]!r}... has {len(name)} characters; "
                          f"ORCID takes at most {MAX_CREDIT_NAME}")
        else:
            orcid = str(orcids.get(name, ""))
            people.append((name, role, orcid if _ORCID_ID.fullmatch(orcid) else None))
    return people


def _ids(record: dict[str, Any], checker: _Checker) -> list[tuple[str, str, str, str]]:
    ids = []
    for id_type, value, id_url, relationship in external_ids(record):
        if id_type == "doi" and not value.startswith("10."):
            checker.error("orcid-doi", f"DOI {value!r} does not start with '10.'")
        else:
            ids.append((id_type, checker.text(value, f"{id_type} id"), id_url, relationship))
    return ids


def check(record: dict[str, Any], checker: _Checker) -> _Work | None:
    """The record's work, checked against ORCID's rules; None when it breaks one (each reported)."""
    errors_before = len(checker.report.errors)
    title = checker.limited("title", "title", MAX_TITLE)
    if title is None and len(checker.report.errors) == errors_before:
        checker.error("orcid-no-title", "has no title; ORCID requires one")
    journal = None if is_preprint(record) else checker.limited("container-title", "journal title", MAX_TITLE)
    abstract = checker.text(record.get("abstract") or "", "abstract").strip()
    if len(abstract) > MAX_DESCRIPTION:
        checker.warning("orcid-abstract-cut", f"abstract has {len(abstract)} characters; ORCID takes at most "
                        f"{MAX_DESCRIPTION}, cut at a word boundary")
        abstract = cut_description(abstract)
    language = language_code(str(record["language"])) if record.get("language") else None
    if record.get("language") and language is None:
        checker.warning("orcid-language", f"language {record['language']!r} has no ORCID language code; left out")
    work = _Work(title or "", journal, abstract, work_type(record), checker.date(), _ids(record, checker),
                 checker.url(), _people(record, checker), language)
    if len(checker.report.errors) > errors_before:
        return None
    work.citation = _citation(record, checker)
    return work


def element(work: _Work) -> etree._Element:
    """The work:work element, children in the XSD's order."""
    root = etree.Element(_w("work"), nsmap={"work": NS["work"], "common": NS["common"]})
    _sub(_sub(root, _w("title")), _c("title"), work.title)
    if work.journal:
        _sub(root, _w("journal-title"), work.journal)
    if work.abstract:
        _sub(root, _w("short-description"), work.abstract)
    if work.citation:
        citation = _sub(root, _w("citation"))
        _sub(citation, _w("citation-type"), "bibtex")
        _sub(citation, _w("citation-value"), work.citation)
    _sub(root, _w("type"), work.type)
    if work.date:
        date = _sub(root, _c("publication-date"))
        for tag, value in zip(("year", "month", "day"), work.date):
            _sub(date, _c(tag), value)
    if work.ids:
        ids = _sub(root, _c("external-ids"))
        for id_type, value, id_url, relationship in work.ids:
            one = _sub(ids, _c("external-id"))
            _sub(one, _c("external-id-type"), id_type)
            _sub(one, _c("external-id-value"), value)
            if id_url:
                _sub(one, _c("external-id-url"), id_url)
            _sub(one, _c("external-id-relationship"), relationship)
    if work.url:
        _sub(root, _c("url"), work.url)
    if work.people:
        people = _sub(root, _w("contributors"))
        seen_roles: set[str] = set()
        for name, role, orcid in work.people:
            person = _sub(people, _w("contributor"))
            if orcid:
                orcid_element = _sub(person, _c("contributor-orcid"))
                _sub(orcid_element, _c("uri"), f"https://orcid.org/{orcid}")
                _sub(orcid_element, _c("path"), orcid)
                _sub(orcid_element, _c("host"), "orcid.org")
            _sub(person, _w("credit-name"), name)
            attributes = _sub(person, _w("contributor-attributes"))
            _sub(attributes, _w("contributor-sequence"), "additional" if role in seen_roles else "first")
            _sub(attributes, _w("contributor-role"), role)
            seen_roles.add(role)
    if work.language:
        _sub(root, _c("language-code"), work.language)
    return root


# Hub fields no ORCID work element holds (the BibTeX citation may still carry them).
_UNHELD = ("keyword", "volume", "issue", "page", "publisher-place", "note")
# bibtex_entry and bibtex_type only say how the record was written in a .bib: no fact of the work is lost.
_HELD_CUSTOM = ("extra", "authors_truncated", "contributor_orcids", "related", "bibtex_entry", "bibtex_type")


def _take_stock(record: dict[str, Any], work: _Work | None, key: str, position: Position | None, feed: _Feed) -> None:
    """Note what this record lacks or cannot put in a work, for the summary warnings."""
    if work is not None and not any(rel == "self" for *_, rel in work.ids):
        feed.no_self.append((key, position))
    if record.get("custom", {}).get("authors_truncated"):
        feed.truncated.append(key)
    unheld = [v for v in _UNHELD if record.get(v)]
    unheld += ["publisher"] if record.get("publisher") and not is_preprint(record) else []
    unheld += [f"custom.{name}" for name in record.get("custom", {}) if name not in _HELD_CUSTOM]
    unheld += [f"custom.extra.{name}" for name in record.get("custom", {}).get("extra", {})
               if not name.startswith("external-id:")]
    feed.unheld.update(unheld)


def _works(count: int) -> str:
    return f"{count} work" if count == 1 else f"{count} works"


def _summaries(feed: _Feed, total: int, report: Report) -> None:
    """Warnings shared by many works, each said once with its count."""
    if len(feed.no_self) == total > 1:
        report.warning(
            "orcid-no-self-id",
            f"none of the {total} works has an arXiv id or DOI (a 'self' external id): ORCID refuses to post a "
            "work without one; add each paper's arXiv id (number = arXiv:ID) or DOI before uploading",
        )
    else:
        for key, position in feed.no_self:
            report.warning("orcid-no-self-id", f"{key}: has no arXiv id or DOI (a 'self' external id); "
                           "ORCID refuses to post a work without one", position)
    if feed.truncated:
        report.warning(
            "orcid-authors-truncated",
            f"{len(feed.truncated)} of {_works(total)} list only their first authors (the source said 'et al.'); "
            "ORCID's contributor list cannot say so",
        )
    if feed.unheld:
        fields = ", ".join(f"{name} ({_works(count)})" for name, count in sorted(feed.unheld.items()))
        report.warning("orcid-unheld", f"ORCID works have no element for: {fields}; left out of the works")


def works(library: Library, report: Report) -> list[etree._Element]:
    """Check every record and build its work element; errors leave the record out (and are reported)."""
    feed = _Feed()
    built = []
    for index, record in enumerate(library.records):
        key, position = str(record.get("id") or f"record {index + 1}"), library.position_of(index)
        removed: dict[str, str] = {}
        if not library.checked:  # the hub's gate has removed them from a normalized library
            record = without_bad_characters(record, "", removed)  # names, ids and dates too, not only texts
        checker = _Checker(record, key, position, report)
        for name in removed:
            checker.warning("orcid-control-characters", f"{name} has control characters XML cannot hold; removed")
        work = check(record, checker)
        _take_stock(record, work, key, position, feed)
        if work is not None:
            built.append(element(work))
    _summaries(feed, len(library.records), report)
    return built


def document(elements: list[etree._Element]) -> str:
    """A bulk:bulk document holding the given work elements."""
    root = etree.Element(f"{{{NS['bulk']}}}bulk", nsmap={"bulk": NS["bulk"], "work": NS["work"], "common": NS["common"]})
    for element in elements:
        root.append(element)
    etree.cleanup_namespaces(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + etree.tostring(root, pretty_print=True, encoding="unicode")


def _check_batch_size(options: Options) -> None:
    if options.batch_size is not None and not 1 <= options.batch_size <= MAX_WORKS_PER_REQUEST:
        raise UsageError(f"--batch-size {options.batch_size}: ORCID takes 1 to {MAX_WORKS_PER_REQUEST} works per request")


def _warn_if_too_many(count: int, report: Report) -> None:
    if count > MAX_WORKS_PER_REQUEST:
        report.warning("orcid-batch-size", f"{count} works in one feed; ORCID takes at most {MAX_WORKS_PER_REQUEST} "
                       f"per request: split it with --batch-size {MAX_WORKS_PER_REQUEST} -o FILE")


def write(library: Library, options: Options, report: Report) -> str:
    """The whole feed as one bulk document (with --batch-size, only when it fits in one batch)."""
    _check_batch_size(options)
    if options.batch_size is not None and len(library.records) > options.batch_size:
        raise UsageError(f"--batch-size {options.batch_size} splits {len(library.records)} works into several files; "
                         "give an output path (-o works.xml writes works-001.xml, works-002.xml, ...)")
    built = works(library, report)
    _warn_if_too_many(len(built), report)
    return document(built)


def write_files(library: Library, options: Options, report: Report, path: str) -> list[tuple[str, str]]:
    """The feed as files: PATH itself, or with --batch-size N, STEM-001.xml, STEM-002.xml, ... of N works each."""
    _check_batch_size(options)
    if options.batch_size is None:
        return [(path, write(library, options, report))]
    built = works(library, report)
    target = Path(path)
    size = options.batch_size
    batches = [built[start:start + size] for start in range(0, len(built), size)] or [[]]
    return [
        (str(target.with_name(f"{target.stem}-{number:03d}{target.suffix or '.xml'}")), document(batch))
        for number, batch in enumerate(batches, start=1)
    ]

"""ORCID 3.0 works XML -> CSL-JSON: one work, a bulk document, or the works of a record export.

ORCID XML comes from outside, so it is parsed with entity expansion, DTD loading and network
access turned off, and any document that declares a DTD at all is refused: ORCID never sends one,
and a DTD is how external-entity and entity-expansion ("billion laughs") attacks arrive.
"""

from __future__ import annotations

import re
from typing import Any

from lxml import etree

from ..diagnostics import Position
from ..library import Library
from ..record import NAME_VARIABLES
from ..text.names import display_name, split_name
from ..writers.orcid import NS, table
from .bibtex import read as read_bibtex

_ACTIVITIES = "http://www.orcid.org/ns/activities"
_ERROR = "http://www.orcid.org/ns/error"
# A DOCTYPE can only stand in the prolog, after the declaration, comments and processing instructions.
_DOCTYPE = re.compile(r"\A\s*(?:<\?.*?\?>\s*|<!--.*?-->\s*)*<!DOCTYPE", re.S | re.I)
_LINE_SUFFIX = re.compile(r",? line \d+, column \d+$")
_BIBTEX_KEY = re.compile(r"\A\s*@\s*\w+\s*[{(]\s*([^,\s{}()]+)\s*,")


def _w(tag: str) -> str:
    return f"{{{NS['work']}}}{tag}"


def _parser() -> etree.XMLParser:
    """A parser that never expands entities, loads a DTD or touches the network."""
    return etree.XMLParser(
        resolve_entities=False, load_dtd=False, no_network=True, dtd_validation=False,
        huge_tree=False, remove_comments=True, remove_pis=True,
    )


def _text(element: etree._Element | None, path: str) -> str | None:
    """Stripped text at a path below element (None when missing or blank)."""
    if element is None:
        return None
    found = element.find(path, NS)
    if found is None or found.text is None:
        return None
    return found.text.strip() or None


def _works(root: etree._Element) -> list[etree._Element] | None:
    """The work or work-summary elements of any ORCID document we read, None for another document."""
    if root.tag in (_w("work"), _w("work-summary")):
        return [root]
    if root.tag == f"{{{NS['bulk']}}}bulk":
        return [child for child in root if child.tag in (_w("work"), f"{{{_ERROR}}}error")]
    works = root if root.tag == f"{{{_ACTIVITIES}}}works" else root.find(f".//{{{_ACTIVITIES}}}works")
    if works is None:
        return None
    # A group holds one work as told by several sources: one record per group, from its first summary.
    return [summary for group in works.iterfind(f"{{{_ACTIVITIES}}}group")
            if (summary := group.find(_w("work-summary"))) is not None]


def _date(work: etree._Element, library: Library, position: Position) -> dict[str, Any] | None:
    """The publication date as CSL date-parts; parts out of range end it there (with a warning)."""
    parts: list[int] = []
    for tag, low, high in (("year", 1, 9999), ("month", 1, 12), ("day", 1, 31)):
        value = _text(work, f"common:publication-date/common:{tag}")
        if value is None:
            break
        if not value.isdecimal() or len(value) > 4 or not low <= int(value) <= high:  # int() refuses '²
            library.report.warning("orcid-date", f"publication {tag} {value!r} is not a valid {tag}; ignored", position)
            break
        parts.append(int(value))
    return {"date-parts": [parts]} if parts else None


def _ids(work: etree._Element, record: dict[str, Any]) -> None:
    """External ids into DOI, number = arXiv:ID, PMID, ...; the rest into custom.extra."""
    variables = table()["from_orcid"]["external_ids"]
    for element in work.iterfind("common:external-ids/common:external-id", NS):
        id_type = (_text(element, "common:external-id-type") or "").lower()
        value = _text(element, "common:external-id-value")
        relationship = _text(element, "common:external-id-relationship") or "self"
        if not id_type or not value:
            continue
        variable = variables.get(id_type)
        if variable == "arxiv" and relationship == "self":
            record.setdefault("number", "arXiv:" + value.removeprefix("arXiv:").removeprefix("arxiv:"))
        elif variable and (relationship == "self" or variable in ("ISSN", "ISBN")):
            record.setdefault(variable, value)
        else:
            name = f"external-id:{id_type}" + ("" if relationship == "self" else f":{relationship}")
            _extra(record, name, value)


def _people(work: etree._Element, record: dict[str, Any]) -> None:
    """Contributors by role (CRediT roles and a missing role mean author); their ORCID iDs into custom."""
    roles = table()["from_orcid"]["roles"]
    for contributor in work.iterfind("work:contributors/work:contributor", NS):
        name = _text(contributor, "work:credit-name")
        if not name:
            continue
        role = _text(contributor, "work:contributor-attributes/work:contributor-role") or "author"
        record.setdefault(roles.get(role, "author"), []).append(split_name(name) or {"literal": name})
        orcid_id = _text(contributor, "common:contributor-orcid/common:path")
        if orcid_id:
            record.setdefault("custom", {}).setdefault("contributor_orcids", {})[name] = orcid_id


def _extra(record: dict[str, Any], name: str, value: str | None) -> None:
    if value:
        record.setdefault("custom", {}).setdefault("extra", {})[name] = value


def to_record(work: etree._Element, library: Library, position: Position) -> dict[str, Any] | None:
    """One work or work-summary as a CSL-JSON record; None (with an error) when it has no title."""
    title = _text(work, "work:title/common:title")
    if title is None:
        library.report.error("orcid-no-title", "work has no title (work:title/common:title)", position)
        return None
    subtitle = _text(work, "work:title/common:subtitle")
    record: dict[str, Any] = {"title": f"{title}: {subtitle}" if subtitle else title}
    orcid_type = _text(work, "work:type")
    csl_type = table()["from_orcid"]["types"].get(orcid_type or "")
    if csl_type is None:
        problem = f"unknown work type {orcid_type!r}" if orcid_type else "work has no type"
        library.report.warning("orcid-type", f"{problem}; read as 'document'", position)
        csl_type = "document"
    record["type"] = csl_type
    for path, variable in (("work:journal-title", "container-title"), ("work:short-description", "abstract"),
                           ("common:url", "URL")):
        value = _text(work, path)
        if value:
            record[variable] = value
    date = _date(work, library, position)
    if date:
        record["issued"] = date
    _ids(work, record)
    _people(work, record)
    if orcid_type == "preprint":
        record["genre"] = "Preprint"
        if "number" in record:
            record["publisher"] = "arXiv"
    language = _text(work, "common:language-code")
    if language:
        back = {code: csl for csl, code in reversed(table()["languages"].items())}
        record["language"] = back.get(language, language)
    _extra(record, "translated-title", _text(work, "work:title/common:translated-title"))
    _extra(record, "country", _text(work, "common:country"))
    if _text(work, "work:citation/work:citation-type") == "bibtex":
        _fill_from_bibtex(record, _text(work, "work:citation/work:citation-value") or "", library, position)
    return record


def _fill_from_bibtex(record: dict[str, Any], citation: str, library: Library, position: Position) -> None:
    """Take the citation key, and what the work's own elements lack (volume, pages, ...), from its BibTeX."""
    key = _BIBTEX_KEY.match(citation)
    if key:
        record["id"] = key[1]
    parsed = read_bibtex(citation, position.source, keep_source=False)
    if parsed.report.has_errors or len(parsed.records) != 1:
        reasons = "; ".join(d.message for d in parsed.report.errors) or "no single entry"
        library.report.warning("orcid-citation", f"BibTeX citation not read ({reasons}); the work's own fields are", position)
        return
    cited = parsed.records[0]
    for variable, value in cited.items():
        if variable in NAME_VARIABLES and variable in record:
            # Credit names lose the name's structure; the citation keeps it (particles, corporate names).
            if [display_name(n) for n in value] == [display_name(n) for n in record[variable]]:
                record[variable] = value
        elif variable not in ("id", "type", "custom"):
            record.setdefault(variable, value)
    for name, value in cited.get("custom", {}).items():
        if name == "extra":
            for field, text in value.items():
                record.setdefault("custom", {}).setdefault("extra", {}).setdefault(field, text)
        else:
            record.setdefault("custom", {}).setdefault(name, value)


def _refuse_dtd(library: Library, position: Position) -> None:
    library.report.error(
        "orcid-dtd",
        "the document declares a DTD (<!DOCTYPE ...>), which ORCID XML never has; refused, because DTD "
        "entities can read local files, fetch URLs or expand into gigabytes",
        position,
    )


def read(text: str, source: str) -> Library:
    """Read one ORCID work, a bulk document, or a record's works (activities summary) into records."""
    library = Library()
    doctype = _DOCTYPE.match(text)
    if doctype:
        _refuse_dtd(library, Position(source, text.count("\n", 0, doctype.end()) + 1))
        return library
    try:
        root = etree.fromstring(text.encode("utf-8"), _parser())
    except etree.XMLSyntaxError as exc:
        line, column = exc.position if exc.position else (None, None)
        message = _LINE_SUFFIX.sub("", exc.msg or str(exc))
        library.report.error("orcid-xml", f"not well-formed XML: {message}", Position(source, line, column))
        return library
    info = root.getroottree().docinfo
    if info.internalDTD is not None or info.system_url or info.public_id:  # a second guard; the check above sees it first
        _refuse_dtd(library, Position(source, 1))
        return library
    works = _works(root)
    if works is None:
        library.report.error(
            "orcid-root",
            f"not an ORCID works document: the root element is {root.tag!r}; expected work:work, bulk:bulk, "
            "activities:works, activities:activities-summary or record:record (ORCID 3.0 namespaces)",
            Position(source, root.sourceline),
        )
        return library
    for work in works:
        position = Position(source, work.sourceline)
        if work.tag == f"{{{_ERROR}}}error":
            message = (_text(work, f"{{{_ERROR}}}user-message") or _text(work, f"{{{_ERROR}}}developer-message")
                       or "no message")
            library.report.warning("orcid-error", f"ORCID refused a work here: {message}", position)
            continue
        record = to_record(work, library, position)
        if record is not None:
            library.add(record, position)
    return library

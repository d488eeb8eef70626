"""BibTeX and BibLaTeX reader: the file is split into blocks (bibtex_split for well-formed files, bibtexparser v2
for any other), the mapping table makes CSL-JSON records."""

from __future__ import annotations

import logging
import marshal
import os
import re
import sys
import tomllib
from collections import deque
from functools import lru_cache, partial
from importlib import resources
from typing import Any, Callable


from .. import progress
from ..fastpaths import simple as _simple
from ..diagnostics import Position, Report
from ..library import Library, PreservedBlock
from ..text.bibtexnames import closing_brace, names_from_bibtex
from ..text.arxiv import is_preprint
from ..text.latex import MAX_BRACE_DEPTH, to_unicode, too_deep, verbatim
from ..text.texsafety import find_unsafe_tex
from . import bibtex_split

try:  # the C twin of _entry_fields for plain entries (setup.py builds it where a C compiler is found)
    from .. import _fastfields
except ImportError:
    _fastfields = None

# bibtexparser logs each failed block to stderr; a reader prints nothing, and we report them ourselves.
logging.getLogger("bibtexparser.splitter").addHandler(logging.NullHandler())
logging.getLogger("bibtexparser.splitter").propagate = False

MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_MONTH_NUMBERS = {name: str(number) for number, name in enumerate(MONTHS, 1)}  # what evaluate() gives a month macro
ARXIV_ID = re.compile(r"(?:arXiv:)?\s*((?:\d{4}\.\d{4,5}|[a-z\-]+(?:\.[A-Z]{2})?/\d{7})(?:v\d+)?)", re.I)
ARXIV_VENUES = {"CoRR", "arXiv", "ArXiv", "arXiv e-prints"}
ARXIV_DOI = re.compile(r"^10\.48550/arXiv\.(.+)$", re.I)
ARXIV_JOURNAL = re.compile(r"^\s*(?:arXiv\s+preprint|preprint|e-?print)?\s*arXiv\s*:?\s*(\S+)", re.I)
# A month value as people write it: "mar", "March", "July 30th", "2 sep".
MONTH_DAY = re.compile(r"^(?:(\d{1,2})\s+([A-Za-z]{3,})\.?|([A-Za-z]{3,})\.?(?:\s+(\d{1,2})(?:st|nd|rd|th)?)?)$")
_PAGE_DASH = re.compile(r"\s*[-\u2013]+\s*")


@lru_cache(maxsize=1)
def mapping() -> dict[str, Any]:
    """The BibTeX <-> CSL table (mappings/bibtex.toml)."""
    text = resources.files("bibsmith.mappings").joinpath("bibtex.toml").read_text(encoding="utf-8")
    return tomllib.loads(text)


def default_entry_type(record: dict[str, Any], dialect: str) -> str:
    """The @type a record is written as in `dialect` when nothing says which BibTeX type it was."""
    return _default_types(is_preprint(record), record.get("type", ""), bool(record.get("container-title")),
                          "master" in str(record.get("genre", "")).lower())[dialect == "biblatex"]


@lru_cache(maxsize=256)
def _default_types(preprint: bool, csl_type: Any, container: bool, master: bool) -> tuple[str, str]:
    """(bibtex, biblatex) @types for what default_entry_type looks at (every record asks: cached)."""
    if preprint:
        return "misc", "online"
    written = []
    for dialect in ("bibtex", "biblatex"):
        table = mapping()["types"]["from_csl"][dialect]
        kind = table.get(csl_type, table["default"]) if isinstance(csl_type, str) else table["default"]
        if kind == "incollection" and not container:
            kind = "inbook"
        if dialect == "bibtex" and kind == "phdthesis" and master:
            kind = "mastersthesis"
        written.append(kind)
    return written[0], written[1]


class _Reading:
    """What to_record looks up for every field, taken from the table once."""

    def __init__(self, table: dict[str, Any]) -> None:
        fields = table["fields"]
        self.types = table["types"]["to_csl"]
        self.to_csl = fields["to_csl"]
        self.names = fields["names"]
        self.dates = fields["dates"]
        self.verbatim = frozenset(fields["verbatim"])
        self.handled = frozenset(fields["handled"]) | frozenset(fields["names"]) | frozenset(fields["dates"])
        self.order = {name: i for i, name in enumerate(fields["to_csl"])}
        self.number = table["number"]["to_csl"]
        self.genre = table["genre"]["to_csl"]


@lru_cache(maxsize=1)
def _reading() -> _Reading:
    return _Reading(mapping())


# ---------------------------------------------------------------- values: @string, #, macros
# bibtexparser v2 resolves a field that is a single @string name, but not `#` concatenation or
# strings built from other strings, so values are evaluated here from the raw field text.
_PIECE = re.compile(r'\s*(?:(\{)|(")|(\d+)|([^\s#{}",=]+))')


_BRACE_OR_QUOTE = re.compile(r'[{}"]')


def _quoted(text: str, start: int) -> int:
    depth = 0
    for match in _BRACE_OR_QUOTE.finditer(text, start + 1):
        char = match.group()
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
        elif depth == 0:
            return match.start()
    raise ValueError("unclosed quote")


def evaluate(raw: str, strings: dict[str, str]) -> tuple[str, list[str]]:
    """A raw field value (`{..}`, `".."`, number, macro, joined by `#`) as text, and undefined macros."""
    if raw[:1] == "{" and raw[-1:] == "}" and raw.find("{", 1) < 0 and raw.find("}", 1, -1) < 0:
        return raw[1:-1], []  # the common case, one group without inner braces
    out: list[str] = []
    unknown: list[str] = []
    pos = 0
    while pos < len(raw):
        match = _PIECE.match(raw, pos)
        if not match:
            break
        if match.group(1):
            end = closing_brace(raw, match.start(1))
            out.append(raw[match.start(1) + 1:end])
        elif match.group(2):
            end = _quoted(raw, match.start(2))
            out.append(raw[match.start(2) + 1:end])
        else:
            word = match.group(3) or match.group(4)
            end = match.end() - 1
            if match.group(3):
                out.append(word)
            elif word.lower() in strings:
                out.append(strings[word.lower()])
            elif word.lower() in MONTHS:
                out.append(str(MONTHS.index(word.lower()) + 1))
            else:
                unknown.append(word)  # BibTeX reads an undefined macro as empty (with a warning)
        pos = end + 1
        rest = raw[pos:].lstrip()
        if not rest.startswith("#"):
            break
        pos = len(raw) - len(rest) + 1
    return "".join(out), unknown


# ---------------------------------------------------------------- dates
def _month(value: str) -> tuple[int | None, int | None]:
    """(month, day) from `mar`, `March`, `3`, `July 30th`, `2 sep`."""
    value = value.strip()
    if value.isdecimal():  # not isdigit: int() refuses '²'; and at most 2 digits (int() refuses 4,300)
        return (int(value), None) if len(value) <= 2 and 1 <= int(value) <= 12 else (None, None)
    match = MONTH_DAY.match(value)
    if not match:
        return None, None
    word = (match.group(2) or match.group(3) or "").lower()[:3]
    if word not in MONTHS:
        return None, None
    day = match.group(1) or match.group(4)
    return MONTHS.index(word) + 1, int(day) if day and 1 <= int(day) <= 31 else None


def _iso_date(value: str) -> dict[str, Any] | None:
    """A BibLaTeX date (`YYYY`, `YYYY-MM`, `YYYY-MM-DD`, ranges with `/`) as a CSL date."""
    parts = []
    for side in value.strip().split("/"):
        match = re.fullmatch(r"(-?\d{1,4})(?:-(\d{1,2}))?(?:-(\d{1,2}))?", side.strip())
        if not match:
            return None
        parts.append([int(x) for x in match.groups() if x is not None])
    return {"date-parts": parts}


def _year_month_day(fields: dict[str, str]) -> tuple[dict[str, Any] | None, str | None]:
    year = fields.get("year", "").strip()
    if not year:
        return None, None
    if not re.fullmatch(r"\d{1,4}", year):
        return {"literal": to_unicode(year)}, None
    parts = [int(year)]
    month, day = _month(fields["month"]) if fields.get("month") else (None, None)
    if fields.get("month") and month is None:
        return {"date-parts": [parts]}, f"month {fields['month']!r} is not a month; only the year is kept"
    if month:
        parts.append(month)
        given_day = fields.get("day", "").strip()
        if given_day.isdecimal() and len(given_day) <= 2 and 1 <= int(given_day) <= 31:
            day = int(given_day)
        if day:
            parts.append(day)
    return {"date-parts": [parts]}, None


# ---------------------------------------------------------------- arXiv
def _arxiv(fields: dict[str, str]) -> tuple[str | None, str | None, bool]:
    """(arXiv id, category, is an arXiv record) from every spelling people and tools use."""
    prefix = (fields.get("archiveprefix") or fields.get("eprinttype") or "").strip().lower()
    category = (fields.get("primaryclass") or fields.get("eprintclass") or "").strip() or None
    eprint = fields.get("eprint", "").strip()
    found: str | None = None
    if eprint and (prefix == "arxiv" or eprint.lower().startswith("arxiv:") or ARXIV_ID.fullmatch(eprint)):
        match = ARXIV_ID.fullmatch(eprint)
        found = match.group(1) if match else None  # "AX123456" is not an arXiv id, whatever the prefix says
    journal = fields.get("journal") or fields.get("journaltitle") or ""
    journal_match = ARXIV_JOURNAL.match(to_unicode(journal)) if journal else None
    if not found and journal_match:
        found = journal_match.group(1).rstrip(",.")
    doi_match = ARXIV_DOI.match(verbatim(fields.get("doi", "")))
    if not found and doi_match:
        found = doi_match.group(1)
    is_arxiv = prefix == "arxiv" or bool(found) or (journal_match is not None)
    return found, category, is_arxiv


# ---------------------------------------------------------------- one entry
def to_record(entry_type: str, key: str, fields: dict[str, str], report: Report, position: Position) -> dict[str, Any]:
    """One BibTeX entry (evaluated field values, LaTeX as written) as a CSL-JSON record."""
    table = _reading()
    entry_type = entry_type.lower()
    record: dict[str, Any] = {"id": key}
    csl_type = table.types.get(entry_type)
    if csl_type is None:
        report.warning("unknown-type", f"entry {key}: type @{entry_type} is not known; read as a document", position)
        csl_type = "document"
    record["type"] = csl_type
    extra: dict[str, str] = {}
    verbatim_fields = table.verbatim
    handled = table.handled
    order = table.order
    last = len(order)
    # Fields are taken in table order, so that e.g. `publisher` wins over `organization` wherever it stands.
    for name, value in sorted(fields.items(), key=lambda item: order.get(item[0], last)):
        if name == "organizations":  # bibsmith's own field for custom.organizations (profile tags)
            record.setdefault("custom", {})["organizations"] = [o.strip() for o in to_unicode(value).split(",") if o.strip()]
            continue
        if name == "howpublished" and value.lstrip().startswith("\\url{") and "url" not in fields:
            record["URL"] = verbatim(value)
            continue
        if name in table.names:
            names, truncated = names_from_bibtex(value)
            if names:
                record[table.names[name]] = names
            if truncated:
                record.setdefault("custom", {})["authors_truncated"] = True
        elif name in table.to_csl:
            variable = table.to_csl[name]
            text = verbatim(value) if name in verbatim_fields else to_unicode(value)
            if name == "pages":
                text = _PAGE_DASH.sub("-", text)
            if variable in record or not text:
                extra[name] = value
            else:
                record[variable] = text
        elif name not in handled:
            extra[name] = value

    if "fjournal" in fields and "journal" in fields:
        # MathSciNet style: the full journal name in fjournal, the abbreviation in journal.
        extra.pop("journal", None)
        record["container-title-short"] = to_unicode(fields["journal"])
    if (fields.get("eprinttype") or "").lower() == "pubmed" and fields.get("eprint") and "PMID" not in record:
        record["PMID"] = fields["eprint"].strip()
    subtitle = fields.get("subtitle")
    if subtitle and record.get("title"):
        record["title"] = f"{record['title']}: {to_unicode(subtitle)}"
    booksubtitle = fields.get("booksubtitle")
    if booksubtitle and record.get("container-title"):
        record["container-title"] = f"{record['container-title']}: {to_unicode(booksubtitle)}"
    for name in ("titleaddon", "booktitleaddon", "ids", "crossref"):
        if name in fields:
            extra[name] = fields[name]

    number = fields.get("number") or fields.get("issue")
    if number:
        variable = table.number.get(entry_type, table.number["default"])
        if variable in record:
            extra["number"] = number
        else:
            record[variable] = to_unicode(number)
    if "genre" not in record and entry_type in table.genre:
        record["genre"] = table.genre[entry_type]

    for name, variable in table.dates.items():
        if name in fields:
            date = _iso_date(fields[name])
            if date is None:
                report.warning("bad-date", f"entry {key}: {name} {fields[name]!r} is not a YYYY-MM-DD date; kept as text", position)
                date = {"literal": to_unicode(fields[name])}
            record[variable] = date
    if "issued" not in record:
        issued, problem = _year_month_day(fields)
        if problem:
            report.warning("bad-date", f"entry {key}: {problem}", position)
        if issued:
            record["issued"] = issued

    arxiv_id, category, is_arxiv = _arxiv(fields)
    custom = record.setdefault("custom", {})
    if category:
        custom["arxiv_category"] = category
        keywords = [k.strip() for k in record.get("keyword", "").split(",") if k.strip()]
        if category not in keywords:
            record["keyword"] = ", ".join(keywords + [category])
    arxiv_journal = bool(ARXIV_JOURNAL.match(record.get("container-title", ""))) or (
        record.get("container-title") in ARXIV_VENUES)
    if is_arxiv and csl_type in ("document", "article-journal", "manuscript", "webpage", "report") and (
        csl_type != "article-journal" or arxiv_journal or (arxiv_id and not record.get("container-title"))
    ):
        # A preprint, in the hub's arXiv convention (DESIGN.md §2).
        record["type"] = "article"
        if arxiv_journal:
            # "arXiv preprint arXiv:…" or DBLP's "CoRR" (with volume "abs/…") name no journal: kept as written.
            extra.setdefault("journal", fields.get("journal") or fields.get("journaltitle", ""))
            del record["container-title"]
            if str(record.get("volume", "")).startswith("abs/"):
                extra["volume"] = record.pop("volume")
        if record.get("publisher") not in (None, "arXiv"):
            extra.setdefault("howpublished", fields.get("howpublished", record["publisher"]))
        elif "publisher" in fields:
            extra["publisher"] = fields["publisher"]  # DataCite's export says it; written back as it was
        record["publisher"] = "arXiv"
        record["genre"] = "Preprint"
        if arxiv_id:
            record["number"] = f"arXiv:{arxiv_id}"
        if record.get("status") == "prepublished":
            del record["status"]  # what every preprint is; the writer says it again
    elif arxiv_id or category:
        for name in ("eprint", "archiveprefix", "eprinttype", "primaryclass", "eprintclass"):
            if name in fields:
                extra[name] = fields[name]
    if extra:
        custom["extra"] = extra
    # CSL types are coarser than BibTeX's (@inbook, @manual, @conference): the type as written comes back.
    if entry_type not in _default_types(is_preprint(record), record["type"], bool(record.get("container-title")),
                                        "master" in str(record.get("genre", "")).lower()):
        custom["bibtex_type"] = entry_type
    if not custom:
        del record["custom"]
    return record


# ---------------------------------------------------------------- the file
def _block_kind(raw: str | None) -> str:
    match = re.match(r"\s*@\s*([A-Za-z]+)", raw or "")
    return f"@{match.group(1).lower()} entry" if match else "block"


# Files at least this long are read on every core (below it, starting the workers costs more than it saves).
PARALLEL_MIN_CHARS = 1_000_000
CHUNK_CHARS = 200_000
MAX_CHUNK_CHARS = 1_000_000


def read(text: str, source: str, keep_source: bool = True) -> Library:
    """Read a BibTeX/BibLaTeX file: every entry becomes a record; bad blocks are reported, not fatal.

    With `keep_source`, each record keeps its entry as written (`custom.bibtex_entry`) and the library
    the blocks between entries (`Library.preserved`), so that a BibTeX writer gives the file back as
    it was: the hub's CSL-JSON cannot hold macros, case protection or TeX commands exactly.
    """
    if not _simple() and len(text) >= PARALLEL_MIN_CHARS and _cores() > 1 and sys.platform.startswith("linux"):
        library = _read_in_parallel(text, source, keep_source)
        if library is not None:
            return library
    library = Library()
    blocks = None if _simple() else bibtex_split.split(text)
    if blocks is not None:
        spans = entry_spans(text, blocks) if keep_source else None
        pending = _read_blocks(blocks, text, source, library.report, {}, spans)
        if spans is not None:
            library.preserved = free_blocks(text, source, spans)
    else:
        pending = _read_with_bibtexparser(text, source, library.report, library.preserved if keep_source else None)
    _convert(pending, library)
    return library


# biblatex entry types that hold no work: @xdata holds fields other entries take in, @set names entries
# cited together. They are no records; a .bib output gives them back as written, between the entries.
NOT_WORKS = frozenset({"xdata", "set"})


def _convert(pending: list[tuple[str, str, dict[str, str], Position, str | None]], library: Library) -> None:
    """Records of the entries (crossref children filled in from their parents, xdata users from their
    @xdata entries), in order."""
    by_key = {key: (entry_type, fields) for entry_type, key, fields, _, _ in pending}
    for entry_type, key, fields, position, written in pending:
        if entry_type in NOT_WORKS:
            continue
        if fields.get("xdata"):
            for name in fields["xdata"].split(","):
                data = by_key.get(name.strip())
                if data is not None and data[0] == "xdata":
                    fields = {**{k: v for k, v in data[1].items() if k != "xdata"}, **fields}
        parent = by_key.get(fields["crossref"]) if fields.get("crossref") else None
        if parent is not None and parent[1] is not fields:
            fields = inherit(entry_type, fields, parent[1], parent[0])
        _add_entry(entry_type, key, fields, position, library, written)


# ---------------------------------------------------------------- the file as written
def entry_spans(text: str, blocks, end: int | None = None) -> list[tuple[int, int, str, str]]:
    """(start, end, key, type) of each entry's text, from its `@` to its closing brace."""
    return [(block.offset, _entry_end(text, block.offset), block.key, block.entry_type)
            for block in blocks if isinstance(block, bibtex_split.RawEntry)]


_DELIMITER = re.compile(r'\\[{}"]|[{}"]')


def _entry_end(text: str, start: int) -> int:
    """Where the entry starting at `start` ends, after its closing brace, by the splitter's grammar: a
    brace after a backslash does not count, and quotes count only outside braces (the splitter found
    the entry well-formed, but does not say where it ends)."""
    opening = text.index("{", start)
    depth, quoted = 0, False
    for match in _DELIMITER.finditer(text, opening):
        char = match.group()
        if len(char) == 2:
            continue
        if char == '"':
            if depth == 1:
                quoted = not quoted
        elif quoted:
            continue
        elif char == "{":
            depth += 1
        else:
            depth -= 1
            if depth == 0:
                return match.end()
    return len(text)


def free_blocks(text: str, source: str, spans: list[tuple[int, int, str, str]]) -> list[PreservedBlock]:
    """The text between entries that are records (@string, @preamble, @comment blocks, @xdata and @set
    entries, free text), as written."""
    found = []
    previous, line = 0, 1
    works = [span for span in spans if span[3] not in NOT_WORKS]
    for start, end, key, _ in [*works, (len(text), len(text), None, None)]:
        gap = text[previous:start]
        if gap.strip():
            lead = len(gap) - len(gap.lstrip())
            found.append(PreservedBlock(source, line + gap.count("\n", 0, lead), gap.strip(), key))
        line += text.count("\n", previous, end)
        previous = end
    return found


def _cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def _read_blocks(blocks, text: str, source: str, report: Report, strings: dict[str, str],
                 spans: list[tuple[int, int, str, str]] | None = None) -> list[tuple[str, str, dict[str, str], Position, str | None]]:
    """(type, key, evaluated fields, position, entry as written) of every entry the fast splitter found;
    `strings` are the @string values defined before the first block (and gain those defined among the
    blocks); the entry's text is kept when its `spans` are given."""
    pending = []
    written = iter(spans or ())
    for block in blocks:
        if isinstance(block, bibtex_split.RawString):
            _define_string(block.key, block.value, strings, report, Position(source, block.line + 1))
        else:
            span = next(written, None)
            as_written = text[span[0]:span[1]] if span is not None else None
            fields = _fastfields.evaluate(block.fields, strings, _MONTH_NUMBERS) if _fastfields else None
            if fields is not None:  # the plain values of an entry that gives no message, evaluated in C
                pending.append((block.entry_type, block.key, fields, Position(source, block.line + 1), as_written))
                continue
            pending.append(_entry_fields(block.entry_type, block.key, block.fields, block.line, strings, report, source,
                                         partial(block.field_line, text)) + (as_written,))
    return pending


# ---------------------------------------------------------------- on every core
# The workers are forked, so they see the text without it being copied or sent to them.
_SHARED: dict[str, str] = {}


def _read_in_parallel(text: str, source: str, keep_source: bool = True) -> Library | None:
    """The same Library as the one-process reading, from chunks of the file read on every core.

    Chunks are cut where a line starts a block. A block cannot run over such a line (the splitter
    refuses it), so reading the chunks one after the other is reading the file, provided each chunk
    starts with the @string values defined before it: those are found here and checked against the
    @string blocks the workers really met. None (read it in one process then) when a chunk cannot be
    read by the fast splitter, keys repeat or entries inherit from others with crossref: those need
    the whole file at once.
    """
    if "crossref" in text:  # the common spelling, found fast; the workers look for crossref fields in any case
        return None
    # Small chunks keep each worker's memory small; enough of them keep both cores busy to the end.
    bounds = _chunk_bounds(text, min(MAX_CHUNK_CHARS, max(CHUNK_CHARS, len(text) // (8 * _cores()) + 1)))
    if len(bounds) < 3:
        return None
    strings = _strings_before(text, bounds)
    if strings is None:
        return None
    lines = [0]
    for start, end in zip(bounds, bounds[1:-1]):
        lines.append(lines[-1] + text.count("\n", start, end))
    tasks = [(start, end, line, snapshot, keep_source)
             for start, end, line, snapshot in zip(bounds, bounds[1:], lines, strings)]

    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    from .. import merge, record  # the workers use them: imported once, before they are forked

    del merge, record

    library = Library()
    match_infos: list[bytes] = []
    valid: list[bool] = []
    later: list = []
    keys: set[str] = set()
    string_offsets: list[int] = []
    spans: list[tuple[int, int, str, str]] = []
    _SHARED.update(text=text, source=source)
    # concurrent.futures rather than multiprocessing.Pool: a pool ended while work is pending can
    # hang (seen with Pool.terminate), and a worker that dies raises BrokenProcessPool instead of
    # leaving the caller waiting for ever.
    executor = ProcessPoolExecutor(min(_cores(), len(tasks)), mp_context=multiprocessing.get_context("fork"))
    try:
        with progress.no_other_threads() as alone:
            if not alone:
                return None  # forking beside another thread could leave a child waiting on its locks
            pending = deque(executor.submit(_read_chunk, task) for task in tasks)  # the first submit forks
        while pending:
            result = pending.popleft().result()
            if result is None:
                return None
            records, infos, valid_flags, entry_keys, offsets, positions, field_problems, record_problems, chunk_spans = result
            del result
            spans.extend(chunk_spans)
            if not keys.isdisjoint(entry_keys):
                return None
            keys.update(entry_keys)
            string_offsets.extend(offsets)
            library.records.extend(marshal.loads(records))
            match_infos.append(infos)  # unpacked by merging, once the text is freed: smaller packed
            valid.extend(valid_flags)
            library.positions.extend(Position(source, line) for line in positions)
            library.report.items.extend(field_problems)
            later.extend(record_problems)
    except BrokenProcessPool:
        return None
    finally:
        executor.shutdown(wait=True, cancel_futures=True)  # pending chunks are dropped, running ones end
        _SHARED.clear()
    if string_offsets != [offset for offset, _, _ in _string_blocks(text)]:
        return None
    library.report.items.extend(later)  # the one-process order: all field problems, then all record problems
    if keep_source:
        library.preserved = free_blocks(text, source, spans)
    # Computed on the workers too: merging's keys, and which records are valid CSL-JSON.
    library.precomputed.update(match_infos=match_infos, valid=valid)
    return library


_LINE_BLOCK = re.compile(r"\n(?=@\w*[ \t]*[{(])")
_STRING_BLOCK = re.compile(r"@(string\w*)[ \t]*\{", re.I)


def _chunk_bounds(text: str, size: int) -> list[int]:
    """0, offsets of block starts at line starts about `size` apart, and the end of the text."""
    bounds = [0]
    while True:
        found = _LINE_BLOCK.search(text, bounds[-1] + size)
        if found is None:
            return bounds + [len(text)]
        bounds.append(found.end())


def _string_blocks(text: str) -> list[tuple[int, str, str]]:
    """(offset, key, raw value) of what looks like an @string block, in order."""
    found = []
    for match in _STRING_BLOCK.finditer(text):
        body = bibtex_split.STRING_BODY.match(text, match.end())
        if body is not None:
            found.append((match.start(), body.group(1).strip(), body.group(2).strip()))
    return found


def _strings_before(text: str, bounds: list[int]) -> list[dict[str, str]] | None:
    """The @string values defined before each chunk (the workers check they met the same blocks)."""
    blocks = _string_blocks(text)
    if len({key for _, key, _ in blocks}) != len(blocks):
        return None  # a repeated @string: bibtexparser reads it (and says what it ignores)
    snapshots = []
    strings: dict[str, str] = {}
    pending = iter(blocks)
    block = next(pending, None)
    for bound in bounds[:-1]:
        while block is not None and block[0] < bound:
            try:
                strings[block[1].lower()] = evaluate(block[2], strings)[0]
            except ValueError:
                pass  # not defined; the worker reports it
            block = next(pending, None)
        snapshots.append(dict(strings))
    return snapshots


def _read_chunk(task: tuple[int, int, int, dict[str, str]]):
    start, end, line, strings, keep_source = task
    text, source = _SHARED["text"], _SHARED["source"]
    blocks = bibtex_split.split(text, start, end, line)
    if blocks is None:
        return None
    keys = [block.key for block in blocks if isinstance(block, bibtex_split.RawEntry)]
    if len(set(keys)) != len(keys):
        return None
    string_offsets = [block.offset for block in blocks if isinstance(block, bibtex_split.RawString)]
    chunk = Library()
    field_problems = Report()
    spans = entry_spans(text, blocks, end) if keep_source else []
    pending = _read_blocks(blocks, text, source, field_problems, strings, spans if keep_source else None)
    if any("crossref" in fields for _, _, fields, _, _ in pending):
        return None  # a child needs its parent, which may be in another chunk: read the whole file at once
    _convert(pending, chunk)
    # marshal, not pickle: records are plain dicts, lists and strings, and marshal is twice as fast with them.
    positions = [position.line for position in chunk.positions]
    from .. import merge
    from ..record import problems, text_is_clean

    infos = marshal.dumps(merge.match_infos(chunk.records))
    # Records made from text without control characters or surrogates have none (deep braces are
    # refused by _add_entry), so only their types are checked here.
    clean = text_is_clean(text, start, end) or None
    valid = [not problems(record, clean) for record in chunk.records]
    return (marshal.dumps(chunk.records), infos, valid, keys, string_offsets, positions, field_problems.items,
            chunk.report.items, spans)


def _read_with_bibtexparser(text: str, source: str, report: Report,
                            preserved: list[PreservedBlock] | None = None) -> list[tuple[str, str, dict[str, str], Position, str | None]]:
    """The same as _read_blocks for any file, broken ones included, with bibtexparser's splitter; the
    blocks that are not entries go to `preserved` when it is given (entries then keep their text)."""
    import bibtexparser
    from bibtexparser import model

    parsed = bibtexparser.parse_string(text, parse_stack=[])
    strings: dict[str, str] = {}
    pending = []

    def entry_fields(entry: model.Entry):
        fields = [(f.key, str(f.value)) for f in entry.fields]
        lines = [f.start_line if f.start_line is not None else (entry.start_line or 0) for f in entry.fields]
        return _entry_fields(entry.entry_type.lower(), entry.key, fields, entry.start_line or 0, strings, report, source,
                             lines.__getitem__) + ((entry.raw.strip() if preserved is not None else None),)

    spans: list[tuple[int, int, str | None, str]] = []  # where entries (and broken blocks) stand in the text
    cursor = 0
    for block in parsed.blocks:
        if isinstance(block, model.ExplicitComment) and _COMMENT_TYPED.match(block.raw):
            block = _as_entry(block, model)  # @commentary, @commented: biblatex entries, not comments
        position = Position(source, (block.start_line or 0) + 1)  # bibtexparser counts lines from 0
        if preserved is not None and isinstance(block, (model.Entry, model.ParsingFailedBlock)):
            entry = getattr(block, "ignore_error_block", None) or block
            raw = (block.raw or "").strip()
            start = text.find(raw, cursor) if raw else -1
            if start >= 0:
                cursor = start + len(raw)
                kind = entry.entry_type.lower() if isinstance(entry, model.Entry) else "(unreadable)"
                spans.append((start, cursor, getattr(entry, "key", None), kind))
        if isinstance(block, model.String):
            _define_string(block.key, block.value, strings, report, position)
        elif isinstance(block, model.DuplicateBlockKeyBlock):
            report.error("duplicate-key", f"key {block.key!r} is used again (first at line "
                         f"{(block.previous_block.start_line or 0) + 1}); this entry is read under a new key", position)
            duplicate = block.ignore_error_block
            if isinstance(duplicate, model.Entry):
                pending.append(entry_fields(duplicate))
        elif isinstance(block, model.DuplicateFieldKeyBlock):
            # Reported by _entry_fields, at the line of the second field.
            pending.append(entry_fields(block.ignore_error_block))
        elif isinstance(block, model.ParsingFailedBlock):
            reason = (getattr(block.error, "abort_reason", None) or str(block.error) or "syntax error").strip()
            report.error("parse-error", f"{_block_kind(block.raw)} cannot be read: {reason}", position)
        elif isinstance(block, model.Entry):
            pending.append(entry_fields(block))
    if preserved is not None:
        # The text between entries, as the fast splitter's reading gives it (broken blocks left out).
        preserved.extend(free_blocks(text, source, spans))
    return pending


_COMMENT_TYPED = re.compile(r"\s*@\s*comment\w+\s*\{", re.I)


def _as_entry(block, model):
    """bibtexparser's comment block for an entry whose type starts with "comment", as the entry it is
    (the block unchanged when it is not one well-formed entry)."""
    found = bibtex_split._split_python(block.raw.strip())
    if not found or len(found) != 1 or not isinstance(found[0], bibtex_split.RawEntry) or found[0].fields is None:
        return block
    entry = found[0]
    line = block.start_line or 0
    fields = [model.Field(name, value, line + entry.field_line(block.raw.strip(), i)) for i, (name, value) in enumerate(entry.fields)]
    return model.Entry(entry.entry_type, entry.key, fields, start_line=line, raw=block.raw)


def _define_string(key: str, raw: str, strings: dict[str, str], report: Report, position: Position) -> None:
    try:
        value, unknown = evaluate(raw, strings)
    except ValueError as exc:
        report.error("parse-error", f"@string {key}: {exc}", position)
        return
    for word in unknown:
        report.warning("undefined-string", f"@string {key}: {word!r} is not a defined @string", position)
    strings[key.lower()] = value


def inherit(child_type: str, child: dict[str, str], parent: dict[str, str], parent_type: str) -> dict[str, str]:
    """A crossref child with its parent's fields filled in, renamed the way biblatex does."""
    merged = dict(child)
    contained = child_type in ("inbook", "incollection", "inproceedings", "inreference", "bookinbook", "suppbook")
    for name, value in parent.items():
        if name in ("crossref", "ids", "key"):
            continue
        target = name
        if name == "title" and (contained or parent_type == "periodical"):
            target = "journaltitle" if parent_type == "periodical" else "booktitle"
        elif name == "author" and child_type in ("inbook", "bookinbook", "suppbook"):
            target = "bookauthor"
        elif name in ("subtitle", "titleaddon") and (contained or parent_type == "periodical"):
            continue
        merged.setdefault(target, value)
    return merged


def _entry_fields(entry_type: str, key: str, raw_fields: list[tuple[str, str]], line: int,
                  strings: dict[str, str], report: Report, source: str, field_line: Callable[[int], int]):
    """(type, key, evaluated fields, position) of one entry; value problems are reported.

    A raw field is (name, value as written); `field_line(i)` is the 0-based line of field i.
    """
    position = Position(source, line + 1)
    fields: dict[str, str] = {}
    for index, (raw_name, raw_value) in enumerate(raw_fields):
        name = raw_name.lower()
        try:
            value, unknown = evaluate(raw_value, strings)
        except ValueError as exc:
            report.error("parse-error", f"entry {key}: field {name}: {exc}", Position(source, field_line(index) + 1))
            continue
        for word in unknown:
            report.warning("undefined-string", f"entry {key}: field {name}: {word!r} is not a defined @string; read as empty, as BibTeX does",
                           Position(source, field_line(index) + 1))
        if name in fields:
            report.warning("duplicate-field", f"entry {key}: field {name} appears twice; the first is kept",
                           Position(source, field_line(index) + 1))
            continue
        fields[name] = value.strip()
    return entry_type, key, fields, position


def _add_entry(entry_type: str, key: str, fields: dict[str, str], position: Position, library: Library,
               written: str | None = None) -> None:
    report = library.report
    for name in [name for name, value in fields.items() if value.count("{") > MAX_BRACE_DEPTH and too_deep(value)]:
        report.error("too-deep", f"entry {key}: field {name}: braces nested more than {MAX_BRACE_DEPTH} deep; "
                     "the field is not read", position)
        fields = {other: value for other, value in fields.items() if other != name}
    unsafe = [(name, found) for name, value in fields.items() if (found := find_unsafe_tex(value))]
    if unsafe:
        for name, found in unsafe:
            report.error("unsafe-tex", f"entry {key}: field {name} holds {', '.join(found)}, which can reach files "
                         "or the shell when compiled; the entry is not read", position)
        return
    record = to_record(entry_type, key, fields, report, position)
    if written is not None:
        record.setdefault("custom", {})["bibtex_entry"] = written
    library.add(record, position)

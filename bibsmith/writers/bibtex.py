"""BibTeX and BibLaTeX writer: one aligned field per line, pdfLaTeX-safe, arXiv's own preprint convention."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any, Callable, Iterator

from ..diagnostics import Position, Report
from ..fastpaths import simple
from ..library import Library
from ..readers.bibtex import MONTHS, default_entry_type, mapping
from ..text.arxiv import arxiv_id, is_preprint
from ..text.latex import NoLatexForm, latex_character, markup_to_placeholders, to_latex
from ..text.texsafety import find_unsafe_tex
from ..text.titlecase import protect as protect_title

# Characters BibTeX cannot have in a key (they end the key or break \cite). Every other character of a
# key the input gave, '/', ':', '.', '+' and non-ASCII included, is written as given.
BAD_KEY = re.compile(r"[\s,{}()\"#%'=\\]")
# Variables written by the code below, not through the field table.
STRUCTURAL = {"id", "type", "title", "issued", "accessed", "custom", "citation-key"}
CUSTOM_WRITTEN = {"arxiv_category", "authors_truncated", "extra", "organizations", "bibtex_type", "bibtex_entry", "aliases"}


@dataclass(frozen=True)
class Options:
    """How to write: `dialect` bibtex|biblatex, title `protect` smart|all|none, raw UTF-8 with `unicode`."""

    dialect: str = "bibtex"
    protect: str = "smart"
    unicode: bool = False
    ascii: bool = False  # BibLaTeX as LaTeX commands only, as the bibtex dialect is by default
    expand_strings: bool = False  # entries read from a .bib: macros expanded, no @string/@preamble written


class _Unwritable(Exception):
    def __init__(self, field: str, char: str, reason: str):
        self.field, self.char, self.reason = field, char, reason


def entry_type(record: dict[str, Any], dialect: str) -> str:
    """The @type an entry is written as: the type it was read as (custom.bibtex_type), or the default."""
    given = (record.get("custom") or {}).get("bibtex_type")
    return given if isinstance(given, str) and given else default_entry_type(record, dialect)


_SPACES = re.compile(r"\s+")
_AND_WORD = re.compile(r"(^|\s)and(\s|$)")
_PAGE_DASH = re.compile(r"\s*[-\u2013]\s*")
_BRACES = re.compile(r"[{}]")


def bad_key_character(key: str) -> str | None:
    """The first character BibTeX cannot hold in a key, if any."""
    found = BAD_KEY.search(key)
    return found.group() if found else None


def _ascii_only(options: Options) -> bool:
    return (options.dialect == "bibtex" and not options.unicode) or options.ascii


def _encoder(options: Options) -> Callable[[str], str]:
    ascii_only = _ascii_only(options)
    if simple():
        return lambda text: dotted_i(to_latex(text, ascii_only=ascii_only))
    return _to_latex_ascii if ascii_only else _to_latex_unicode


# pylatexenc writes í, ì, î, ï on a dotless i ({\'\i}). LaTeX sets {\'i} the same (OT1 and T1 both
# map it to the accented i), and biber reads {\'i} back as í but {\'\i} as a dotless ı and an accent.
_DOTLESS_I = re.compile(r"\{\\([`'^\"])\\i\}")


def dotted_i(latex: str) -> str:
    """LaTeX from the encoder with each accented dotless i ({\\'\\i}) written on a plain i ({\\'i})."""
    return _DOTLESS_I.sub(r"{\\\1i}", latex) if "\\i}" in latex else latex


# Title protection encodes word by word, and words, names and venues repeat across a library.
@lru_cache(maxsize=65536)
def _to_latex_ascii(text: str) -> str:
    return dotted_i(to_latex(text, ascii_only=True))


@lru_cache(maxsize=65536)
def _to_latex_unicode(text: str) -> str:
    return to_latex(text, ascii_only=False)


def _text(field: str, value: Any, encode: Callable[[str], str]) -> str:
    text = markup_to_placeholders(_SPACES.sub(" ", str(value)).strip())
    try:
        return encode(text)
    except NoLatexForm as exc:
        raise _Unwritable(field, exc.char, str(exc)) from None


def _needs_group(part: str) -> bool:
    # BibTeX would split these: a comma, the word "and", or a lower-case word read as a "von" part.
    return "," in part or bool(_AND_WORD.search(part)) or any(w[:1].islower() for w in part.split())


def name_text(name: dict[str, str], encode: Callable[[str], str], field: str = "author") -> str:
    """A CSL name as BibTeX: `von Last, Jr, First`; a literal (corporate) name braced as one group."""
    if "literal" in name:
        return "{" + _text(field, name["literal"], encode) + "}"
    family = _text(field, name.get("family", ""), encode)
    if _needs_group(name.get("family", "")):
        family = "{" + family + "}"
    particle = " ".join(p for p in (name.get("dropping-particle"), name.get("non-dropping-particle")) if p)
    last = f"{_text(field, particle, encode)} {family}" if particle else family
    given = _text(field, name.get("given", ""), encode)
    if "," in name.get("given", ""):
        given = "{" + given + "}"
    suffix = _text(field, name.get("suffix", ""), encode)
    if suffix:
        return f"{last}, {suffix}, {given}"
    return f"{last}, {given}" if given else last


def _names(record: dict[str, Any], options: Options, encode) -> Iterator[tuple[str, str]]:
    truncated = bool((record.get("custom") or {}).get("authors_truncated"))
    for variable, field in mapping()["names"]["from_csl"].items():
        names = record.get(variable) or []
        parts = [name_text(n, encode, field) for n in names]
        if variable == "author" and truncated:
            parts.append("others")
        if parts:
            yield field, " and ".join(parts)


def _iso(date_parts: list[list]) -> str:
    return "/".join("-".join(f"{int(p):02d}" if i else f"{int(p):04d}" for i, p in enumerate(d)) for d in date_parts)


def _date(record: dict[str, Any], options: Options, report: Report, where: str, position) -> Iterator[tuple[str, str]]:
    issued = record.get("issued") or {}
    parts = (issued.get("date-parts") or [[]])[0]
    if not parts:
        if "literal" in issued or "raw" in issued:
            yield ("year" if options.dialect == "bibtex" else "date"), str(issued.get("literal") or issued.get("raw"))
        return
    if len(issued.get("date-parts", [])) > 1 and options.dialect == "bibtex":
        report.warning("lost-field", f"{where}: BibTeX has no date ranges; only the start date is written", position)
    if options.dialect == "biblatex":
        yield "date", _iso(issued["date-parts"])
        return
    yield "year", str(parts[0])
    if len(parts) > 1:
        month = int(parts[1]) if str(parts[1]).isdigit() else 0
        if not 1 <= month <= 12:  # CSL months 21-24 are seasons; BibTeX has no field for them
            report.warning("lost-field", f"{where}: month {parts[1]} is not a calendar month; not written", position)
            return
        yield "month", MONTHS[month - 1]
    if len(parts) > 2:
        yield "day", str(parts[2])


def _arxiv_fields(record: dict[str, Any], options: Options) -> Iterator[tuple[str, str]]:
    identifier = arxiv_id(record)
    category = (record.get("custom") or {}).get("arxiv_category")
    if options.dialect == "bibtex":
        if identifier:
            yield "eprint", identifier
        yield "archiveprefix", "arXiv"
        if category:
            yield "primaryclass", category
    else:
        if identifier:
            yield "eprint", identifier
        yield "eprinttype", "arxiv"
        if category:
            yield "eprintclass", category
        yield "pubstate", "prepublished"


def _fields(record: dict[str, Any], options: Options, report: Report, where: str, position) -> list[tuple[str, str]]:
    table = mapping()
    dialect = options.dialect
    encode = _encoder(options)
    written_type = entry_type(record, dialect)
    preprint = is_preprint(record)
    fields: list[tuple[str, str]] = list(_names(record, options, encode))
    if record.get("title"):
        title = markup_to_placeholders(_SPACES.sub(" ", str(record["title"])).strip())
        try:
            fields.append(("title", protect_title(title, options.protect, encode)))
        except NoLatexForm as exc:
            raise _Unwritable("title", exc.char, str(exc)) from None
    skip = {"genre", "number", "status"} if preprint else set()
    if preprint and record.get("publisher") == "arXiv":
        skip.add("publisher")  # archivePrefix/eprinttype says it
    if record.get("genre") == mapping()["genre"]["to_csl"].get(written_type):
        skip.add("genre")  # @phdthesis already says "PhD thesis"
    used = set()
    for rule in table["fields"]["from_csl"]:
        variable, field = rule["csl"], rule[dialect]
        if variable in skip or record.get(variable) in (None, ""):
            continue
        if field == "@container":
            field = table["container"][dialect].get(written_type, table["container"][dialect]["default"])
        elif field == "@publisher":
            field = table["publisher"][dialect].get(written_type, table["publisher"][dialect]["default"])
        if field in used:
            report.warning("lost-field", f"{where}: {variable} has no field of its own in {dialect} ({field} is taken); not written", position)
            continue
        used.add(field)
        value = str(record[variable])
        if field in table["fields"]["verbatim"]:
            fields.append((field, value.strip()))
        elif field == "pages":
            fields.append((field, _PAGE_DASH.sub("--", _text(field, value, encode))))
        else:
            fields.append((field, _text(field, value, encode)))
    fields.extend(_date(record, options, report, where, position))
    if dialect == "biblatex":
        for variable, field in (("original-date", "origdate"), ("event-date", "eventdate")):
            if (record.get(variable) or {}).get("date-parts"):
                fields.append((field, _iso(record[variable]["date-parts"])))
    if record.get("accessed", {}).get("date-parts"):
        fields.append(("urldate", "-".join(f"{int(p):02d}" for p in record["accessed"]["date-parts"][0])))
    if preprint:
        fields.extend(_arxiv_fields(record, options))
        identifier = arxiv_id(record)
        if identifier and "url" not in used:
            fields.append(("url", f"https://arxiv.org/abs/{identifier}"))
    else:
        category = (record.get("custom") or {}).get("arxiv_category")
        extra = (record.get("custom") or {}).get("extra") or {}
        if category and not any(k in extra for k in ("primaryclass", "eprintclass")):
            fields.append(("primaryclass" if dialect == "bibtex" else "eprintclass", category))
    organizations = (record.get("custom") or {}).get("organizations")
    if organizations:
        # Not a standard field: styles ignore it, and reference managers keep it (Zotero in Extra).
        fields.append(("organizations", _text("organizations", ", ".join(organizations), encode)))
    names = {name for name, _ in fields}
    for name, value in ((record.get("custom") or {}).get("extra") or {}).items():
        if name in names or (preprint and name == "pubstate"):
            continue
        fields.append((name, _raw(name, str(value), encode)))
    if dialect == "biblatex":
        fields.extend(_links(record))  # links from the merge step
    order = {name: i for i, name in enumerate(table["layout"]["order"])}
    return sorted(fields, key=lambda f: order.get(f[0], len(order)))


def _raw(field: str, value: str, encode) -> str:
    # Values kept from a .bib are LaTeX already; only non-ASCII letters may still need commands.
    try:
        return "".join(c if ord(c) < 128 else encode(c) for c in value)
    except NoLatexForm as exc:
        raise _Unwritable(field, exc.char, str(exc)) from None


def _strings(record: dict[str, Any], path: str = "") -> Iterator[tuple[str, str]]:
    for key, value in record.items():
        where = f"{path}.{key}" if path else key
        if isinstance(value, str):
            yield where, value
        elif isinstance(value, dict):
            yield from _strings(value, where)
        elif isinstance(value, list):
            for item in value:
                if isinstance(item, dict):
                    yield from _strings(item, where)
                elif isinstance(item, str):
                    yield where, item


def _balanced(value: str) -> bool:
    # BibTeX counts every brace, even after a backslash.
    depth = 0
    for token in _BRACES.findall(value):
        depth += 1 if token == "{" else -1
        if depth < 0:
            return False
    return depth == 0


def _unwritten(record: dict[str, Any], dialect: str) -> list[str]:
    table = mapping()
    known = STRUCTURAL | {r["csl"] for r in table["fields"]["from_csl"]} | set(table["names"]["from_csl"])
    if dialect == "biblatex":
        known |= {"original-date", "event-date"}
    lost = [v for v in record if v not in known]
    written = CUSTOM_WRITTEN | ({"related"} if dialect == "biblatex" else set())
    lost += [f"custom.{k}" for k in (record.get("custom") or {}) if k not in written]
    return lost


# Private-use characters mean something only in one font, and our LaTeX encoding uses some as
# internal placeholders for rich text, so they are removed (and reported) before anything else.
PRIVATE_USE = re.compile("[\ue000-\uf8ff\U000f0000-\U000ffffd\U00100000-\U0010fffd]")


def _without_private_use(value: Any, field: str, found: dict[str, str]) -> Any:
    if isinstance(value, str):
        if PRIVATE_USE.search(value):
            found.setdefault(field, PRIVATE_USE.search(value).group(0))
            return PRIVATE_USE.sub("", value)
        return value
    if isinstance(value, dict):
        return {k: _without_private_use(v, f"{field}.{k}" if field else k, found) for k, v in value.items()}
    if isinstance(value, list):
        return [_without_private_use(v, field, found) for v in value]
    return value


def entry_text(record: dict[str, Any], options: Options, report: Report, position: Position | None = None,
               checked: bool = False) -> str:
    """One record as a BibTeX/BibLaTeX entry; errors (unsafe TeX, no LaTeX form) go to `report`, text is ''.
    `checked`: the record passed the hub's gate (Library.checked): no control characters to look for."""
    key = str(record.get("id") or "")
    where = f"record {key or '(no key)'}"
    from ..record import removed_characters_message, without_bad_characters

    private: dict[str, str] = {}
    controls: dict[str, str] = {}
    record = _without_private_use(record if checked else without_bad_characters(record, "", controls), "", private)
    for field, char in controls.items():
        report.warning("control-character", removed_characters_message(where, field, char), position)
    for field, char in private.items():
        report.warning("private-use", f"{where}: field {field} holds private-use characters such as U+{ord(char):04X}, "
                       "which mean nothing outside one font; removed", position)
    failed = False
    for field, value in _strings(record):
        found = find_unsafe_tex(value, latex_source=False)
        if found:
            report.error("unsafe-tex", f"{where}: field {field} holds {', '.join(found)}, which can reach files or the "
                         "shell when compiled; not written", position)
            failed = True
    if failed:
        return ""
    try:
        fields = _fields(record, options, report, where, position)
    except _Unwritable as exc:
        # One character without a LaTeX form costs the entry nothing: it is written as UTF-8.
        report.warning("no-latex-form", f"{where}: field {exc.field}: {exc.reason}; the entry is written as UTF-8 "
                       "(compile with biber, or an engine that reads UTF-8)", position)
        fields = _fields(record, replace(options, unicode=True, ascii=False), report, where, position)
    for field, value in fields:
        if not _balanced(value):
            report.error("unbalanced-braces", f"{where}: field {field} has unbalanced braces; not written", position)
            return ""
    width = max(len(name) for name, _ in fields) if fields else 0
    lines = [f"@{entry_type(record, options.dialect)}{{{key},"]
    for name, value in fields:
        body = value if name == "month" and options.dialect == "bibtex" else "{" + value + "}"
        lines.append(f"  {name.ljust(width)} = {body},")
    lines.append("}")
    return "\n".join(lines) + "\n"


_HEADER = re.compile(r"@\s*\w+\s*[{(]\s*([^,\s}]*)")


def written_key(entry: str) -> str:
    """The key of an entry as written (`@type{key,`)."""
    match = _HEADER.match(entry)
    return match.group(1) if match else ""


def as_written(record: dict[str, Any], entry: str, key: str, options: Options, report: Report,
               position: Position | None = None) -> str:
    """An entry read from a .bib, given back as it was written: only its key (when it had to change),
    `ids` for the keys merged into it (BibLaTeX) and the characters the output cannot hold change."""
    header = _HEADER.match(entry)
    if header is not None and header.group(1) != key:
        entry = entry[:header.start(1)] + key + entry[header.end(1):]
    if options.dialect == "biblatex":
        # Only the keys merged into it (asked for with --dedupe, or shared identifiers): a `related` link
        # would make biblatex's styles print the other entry after this one, which its author never asked.
        entry = _with_fields(entry, [(name, value) for name, value in _links(record) if name == "ids"])
    missing: list[str] = []
    entry = _characters(entry, options, missing)
    if missing:
        report.warning("no-latex-form", f"record {key}: {', '.join(f'U+{ord(c):04X}' for c in dict.fromkeys(missing))} "
                       "has no LaTeX form; written as UTF-8 (compile with biber, or an engine that reads UTF-8)", position)
    return entry + "\n"


def _characters(text: str, options: Options, missing: list[str]) -> str:
    """.bib text as written with the characters the output cannot hold as LaTeX commands; those
    without a LaTeX form stay as they are and go to `missing`."""
    if text.isascii():
        return text
    ascii_only = _ascii_only(options)
    out = []
    for char in text:
        if ord(char) < 128:
            out.append(char)
            continue
        try:
            out.append(dotted_i(latex_character(char, ascii_only)))
        except NoLatexForm:
            missing.append(char)
            out.append(char)
    return "".join(out)


def _links(record: dict[str, Any]) -> list[tuple[str, str]]:
    """BibLaTeX's `related` (preprint <-> published version, to entries in this output) and `ids` (the
    keys of records merged into this one)."""
    custom = record.get("custom") or {}
    related = [str(r["id"]) for r in custom.get("related") or [] if isinstance(r, dict) and r.get("listed", True)]
    aliases = [str(a) for a in custom.get("aliases") or []]
    return [(name, ",".join(keys)) for name, keys in (("related", related), ("ids", aliases)) if keys]


def _with_fields(entry: str, fields: list[tuple[str, str]]) -> str:
    """An entry as written with fields added before its closing brace (those it has already are left)."""
    for name, value in fields:
        if entry.endswith(("}", ")")) and not re.search(rf"[,\s]{name}\s*=", entry, re.I):
            body = entry[:-1].rstrip()
            entry = f"{body}{'' if body.endswith(',') else ','}\n  {name} = {{{value}}},\n{entry[-1]}"
    return entry


def _keys(library: Library, report: Report) -> list[str] | None:
    """The key of every record as given (unique already: normalize() saw to it); None when one holds a
    character BibTeX cannot have in a key, each such key an error."""
    keys: list[str] = []
    used: set[str] = set()
    bad = False
    for index, record in enumerate(library.records):
        given = key = str(record.get("id") or f"entry{index + 1}")
        char = bad_key_character(key)
        if char is not None:
            report.error("bad-key", f"record {key}: the key holds {char!r} (U+{ord(char):04X}), which a BibTeX key "
                         "cannot hold; nothing written", library.position_of(index))
            bad = True
        n = 2
        while key in used:  # only in a library built by hand: read() makes keys unique
            key, n = f"{given}-{n}", n + 1
        if key != given:
            report.warning("key-changed", f"record {given}: the key is used by an earlier record; written as {key!r}",
                           library.position_of(index))
        used.add(key)
        keys.append(key)
    return None if bad else keys


def write(library: Library, options: Options, report: Report) -> str:
    """The whole library as one .bib text; unwritable variables are reported once per variable.

    Entries read from a .bib (with their text kept) are written as they were, between the @string,
    @preamble and @comment blocks around them; other records are written from the hub.
    """
    records = library.records
    keys = _keys(library, report)
    if keys is None:
        return ""
    as_read = not options.expand_strings

    def part_text(indices: range) -> tuple[list[str], list, dict[str, list[str]]]:
        part_report = Report()
        entries: list[str] = []
        lost: dict[str, list[str]] = {}
        for index in indices:
            record = records[index]
            position = library.position_of(index)
            written = (record.get("custom") or {}).get("bibtex_entry") if as_read else None
            if isinstance(written, str):
                entries.append(as_written(record, written, keys[index], options, part_report, position))
                if options.dialect == "bibtex" and (record.get("custom") or {}).get("related"):
                    lost.setdefault("custom.related", []).append(str(record.get("id")))
                continue
            for variable in _unwritten(record, options.dialect):
                lost.setdefault(variable, []).append(str(record.get("id")))
            entries.append(entry_text({**record, "id": keys[index]}, options, part_report, position, library.checked))
        return entries, part_report.items, lost

    parts: list[range] = [range(len(records))]
    if len(records) >= 200:
        from ..csl import parallel  # entries are independent once keys are fixed: render them on every core

        parts = parallel.chunks(range(len(records)), parallel.workers(len(records)))
        results = parallel.run(part_text, parts)
    else:
        results = [part_text(parts[0])]
    entries: list[str] = []
    lost: dict[str, list[str]] = {}
    for part_entries, items, part_lost in results:
        entries.extend(part_entries)
        report.items.extend(items)
        for variable, ids in part_lost.items():
            lost.setdefault(variable, []).extend(ids)
    for variable, ids in lost.items():
        report.warning("lost-field", f"{options.dialect} has no field for {variable} ({len(ids)} records, first "
                       f"{ids[0]}); not written", None)
    if options.dialect == "bibtex":
        _report_aliases(library, report)
    if not as_read or not library.preserved:
        return "\n".join(e for e in entries if e)
    return "\n".join(e for e in _with_preserved(library, entries, options, report) if e)


def _report_aliases(library: Library, report: Report) -> None:
    for index, record in enumerate(library.records):
        aliases = [str(a) for a in (record.get("custom") or {}).get("aliases") or []]
        if aliases:
            cites = ", ".join(f"\\cite{{{a}}}" for a in aliases)
            report.warning("lost-alias", f"record {record.get('id')}: BibTeX has no key aliases: {cites} no longer "
                           f"resolve{'s' if len(aliases) == 1 else ''} (BibLaTeX keeps them in ids)", library.position_of(index))


def _with_preserved(library: Library, entries: list[str], options: Options, report: Report) -> list[str]:
    """The entries with the .bib blocks that are not entries put back before the entry they stood before,
    their characters written as the entries' are (@string values end up in entries)."""
    by_source: dict[str, list] = {}
    for block in library.preserved:
        missing: list[str] = []
        text = _characters(block.text, options, missing)
        if missing:
            report.warning("no-latex-form", f"text between entries: {', '.join(f'U+{ord(c):04X}' for c in dict.fromkeys(missing))} "
                           "has no LaTeX form; written as UTF-8 (compile with biber, or an engine that reads UTF-8)",
                           Position(block.source, block.line))
        by_source.setdefault(block.source, []).append(replace(block, text=text))
    last_before = {(source, block.next_key): i for source, blocks in by_source.items() for i, block in enumerate(blocks)}
    done = dict.fromkeys(by_source, 0)
    out: list[str] = []
    for index, entry in enumerate(entries):
        record = library.records[index]
        position = library.position_of(index)
        written = (record.get("custom") or {}).get("bibtex_entry")
        if position is not None and isinstance(written, str):
            upto = last_before.get((position.source, written_key(written)))
            if upto is not None and upto >= done[position.source]:
                out.extend(block.text + "\n" for block in by_source[position.source][done[position.source]:upto + 1])
                done[position.source] = upto + 1
        out.append(entry)
    for source, blocks in by_source.items():
        out.extend(block.text + "\n" for block in blocks[done[source]:])
    return out

"""Reader for a paper site's profile page (see DESIGN.md §3): owner header, then one block per paper.

No library reads this format, so it is parsed here: a header of labelled counts, then papers that
each start with a line like 'LGOct 12, 2022' (category code glued to the date).
"""

from __future__ import annotations

import re

from ..diagnostics import Position
from ..library import Library
from ..text.categories import arxiv_category
from ..text.dates import date_problem, month_number
from ..text.names import is_suffix, split_name

# A paper starts with upper-case category letters glued to a capitalized month word and "D, YYYY".
PAPER_START = re.compile(r"^(?P<code>[A-Z]+?)(?P<month>[A-Z][a-z]+)\.?\s*(?P<day>\d{1,2}),\s*(?P<year>\d{4})$")
PAPERS_COUNT = re.compile(r"^(?P<n>[\d,]+)\s+Papers$")
HEADER_FIELDS = {
    "h_index": re.compile(r"^h-index\s*(?P<n>[\d,]+)$", re.I),
    "papers": re.compile(r"^(?P<n>[\d,]+)\s*papers$"),
    "citations": re.compile(r"^(?P<n>[\d,]+)\s*citations$", re.I),
    "novelty": re.compile(r"^Novelty\s*(?P<n>[\d,]+)\s*%$", re.I),
    "ai_score": re.compile(r"^AI Score\s*(?P<n>[\d,]+)$", re.I),
}
CATEGORY_CODE = re.compile(r"^[A-Z]{2,3}$")
ET_AL = re.compile(r",?\s*et al\.?$")
ORG_SEPARATOR = " · "
# Words an author list may hold: capitalized or initial words, particles, hyphens, apostrophes.
NAME_WORD = re.compile(r"^(?:[^\W\d_][\w'’.\-]*|\(.+\))$")


def clean_lines(text: str) -> list[str]:
    """Lines with the BOM, CR line ends, non-breaking spaces and trailing blanks taken away."""
    text = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    return [line.replace("\u00a0", " ").replace("\u202f", " ").rstrip() for line in text.split("\n")]


def _number(text: str) -> int:
    return int(text.replace(",", ""))


def read(text: str, source: str) -> Library:
    """Records (one preprint per paper) and owner metadata from a profile page."""
    library = Library()
    lines = clean_lines(text)
    starts = [i for i, line in enumerate(lines) if PAPER_START.match(line.strip())]
    header_end = starts[0] if starts else len(lines)
    declared = _read_header(lines[:header_end], source, library)
    for n, start in enumerate(starts):
        end = starts[n + 1] if n + 1 < len(starts) else len(lines)
        _read_paper(lines, start, end, source, library)
    if declared is not None:
        count, line_no = declared
        if count != len(starts):
            library.report.warning(
                "paper-count",
                f"the profile says {count} papers but {len(starts)} were found",
                Position(source, line_no),
            )
    if not starts:
        library.report.warning("no-papers", "no papers found (a paper starts with a line like 'LGOct 12, 2022')", Position(source, 1))
    return library


def _read_header(lines: list[str], source: str, library: Library) -> tuple[int, int] | None:
    """Owner metadata into library.metadata; returns the declared paper count and its line."""
    meta = library.metadata
    declared = None
    for index, raw in enumerate(lines):
        line = raw.strip()
        if not line:
            continue
        if "owner" not in meta:
            meta["owner"] = line
            continue
        if match := PAPERS_COUNT.match(line):
            declared = (_number(match["n"]), index + 1)
            meta["declared_papers"] = declared[0]
            continue
        for key, pattern in HEADER_FIELDS.items():
            if match := pattern.match(line):
                meta[key] = _number(match["n"])
                break
        else:
            if CATEGORY_CODE.match(line) and "primary_category" not in meta:
                meta["primary_category"] = arxiv_category(line) or line
                meta["primary_category_code"] = line
            else:
                library.report.warning("header", f"unrecognized header line {line!r}", Position(source, index + 1))
    return declared


def _paragraphs(lines: list[str], start: int, end: int) -> list[tuple[int, str]]:
    """(1-based line, text) for each paragraph between start and end; lines of a paragraph are joined."""
    result: list[tuple[int, str]] = []
    current: list[str] = []
    first = 0
    for index in range(start, end):
        line = lines[index].strip()
        if line:
            if not current:
                first = index + 1
            current.append(line)
        elif current:
            result.append((first, " ".join(current)))
            current = []
    if current:
        result.append((first, " ".join(current)))
    return result


def looks_like_authors(text: str, strict: bool = False) -> bool:
    """True for 'Name, Name et al. · org': every comma-separated piece is a short run of name words.

    With strict, a single name is not enough (a short title looks like one): the line must also
    list several names, say "et al." or name organizations.
    """
    if strict and not ("," in text or ORG_SEPARATOR in text or ET_AL.search(text)):
        return False
    names = ET_AL.sub("", text.split(ORG_SEPARATOR)[0]).strip()
    if not names:
        return ORG_SEPARATOR in text or bool(ET_AL.search(text))
    pieces = [p.strip() for p in names.split(",")]
    return all(p and len(p.split()) <= 6 and all(NAME_WORD.match(w) for w in p.split()) for p in pieces)


def _read_paper(lines: list[str], start: int, end: int, source: str, library: Library) -> None:
    report = library.report
    here = Position(source, start + 1)
    match = PAPER_START.match(lines[start].strip())
    assert match is not None
    ok = True
    code = match["code"]
    year, day = int(match["year"]), int(match["day"])
    month = month_number(match["month"])
    if month is None:
        report.error("bad-date", f"unknown month {match['month']!r} in date {lines[start].strip()[len(code):]!r}", here)
        ok = False
    elif problem := date_problem(year, month, day):
        report.error("bad-date", f"invalid date {lines[start].strip()[len(code):]!r}: {problem}", here)
        ok = False
    category = arxiv_category(code)
    if category is None:
        report.warning("unknown-category", f"unknown category code {code!r}; no arXiv category is recorded", here)

    paragraphs = _paragraphs(lines, start + 1, end)
    if len(paragraphs) >= 2 and looks_like_authors(paragraphs[1][1]):
        (_, title), (author_line, authors), rest = paragraphs[0], paragraphs[1], paragraphs[2:]
    elif paragraphs and looks_like_authors(paragraphs[0][1], strict=True):
        report.error("missing-title", f"paper has no title line: its first line is the author line {paragraphs[0][1]!r}", here)
        return
    else:
        named = f" {paragraphs[0][1]!r}" if paragraphs else ""
        report.error("missing-authors", f"paper{named} has no author line (expected 'Name, Name et al. · org' after the title)", here)
        return
    if not ok:
        return

    record: dict = {"type": "article", "title": title}
    custom: dict = {}
    names_part, _, orgs = authors.partition(ORG_SEPARATOR)
    names_part = names_part.strip()
    if ET_AL.search(names_part):
        custom["authors_truncated"] = True
        names_part = ET_AL.sub("", names_part)
    record["author"] = [split_name(n) for n in _author_list(names_part)]
    record["issued"] = {"date-parts": [[year, month, day]]}
    if rest:
        record["abstract"] = "\n\n".join(text for _, text in rest)
    record["publisher"] = "arXiv"
    record["genre"] = "Preprint"
    if category:
        record["keyword"] = category
        custom["arxiv_category"] = category
    else:
        custom["extra"] = {"category": code}
    organizations = [o.strip() for o in orgs.split(",") if o.strip()]
    if organizations:
        custom["organizations"] = organizations
    if custom:
        record["custom"] = custom
    if not record["author"]:
        report.error("missing-authors", "paper's author line names nobody", Position(source, author_line))
        return
    library.add(record, here)


def _author_list(text: str) -> list[str]:
    """Comma-separated names; a suffix after a comma ('King, Jr.') belongs to the name before it."""
    names: list[str] = []
    for piece in (p.strip() for p in text.split(",")):
        if not piece:
            continue
        if names and is_suffix(piece):
            names[-1] = f"{names[-1]} {piece}"
        else:
            names.append(piece)
    return names

"""Merging sources: the same paper read twice becomes one record; a preprint and its published version are linked.

Duplicates are found by identifiers first (normalized DOI; arXiv id without its version, old and new
styles, also inside 10.48550/arXiv DOIs and arxiv.org URLs), then by normalized title + first
author's family name + a year within one. A preprint (arXiv) and a published record are never
merged: they are linked. The links live in the hub, on both records, as

    custom.related = [{"id": "<other key>", "relation": "published-version" | "preprint-version",
                       "listed": true | false, "DOI": "<other's DOI>", "arxiv": "<other's arXiv id>"}]

read as "<other key> is my published-version" (on the preprint) or "... my preprint-version" (on the
published record). "listed" says whether the other record is in this output (`--prefer` may hide it);
"DOI" and "arxiv" appear when the other record has them, so a writer can point at it without the
record (ORCID `version-of`). BibLaTeX `related` should name only listed ids.

What is merged is the caller's choice (`combine(..., merge=)`): everything found ("dedupe"), only
records that share an identifier ("identifiers": DOI, arXiv id, or the ISBN of a book), or nothing
("none"). Records found alike but not merged are reported as warnings ("looks like a duplicate of").
A merged record keeps its first key; the other keys it was read under are `custom.aliases`, in read order.

Use: `log = combine(library)` before keys are assigned, `finish(library, log, prefer)` after;
`merge(library, prefer)` does both (for records that already have keys, and for benchmarks).
"""

from __future__ import annotations

import copy
import json
import marshal
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any, Iterable, Sequence

from .diagnostics import Position
from .library import Library
from .text.keys import FoldTable, ascii_fold, key_word

PREFER = ("both", "published", "preprint")
MERGE = ("dedupe", "identifiers", "none")  # what combine() merges
_ARXIV = r"(\d{4}\.\d{4,5}|[a-z][a-z\-]*(?:\.[a-z]{2})?/\d{7})(?:v\d+)?"
ARXIV_ID = re.compile(rf"^(?:arxiv:\s*)?{_ARXIV}$", re.I)
ARXIV_DOI = re.compile(rf"^10\.48550/arxiv\.{_ARXIV}$", re.I)
ARXIV_URL = re.compile(rf"arxiv\.org/(?:abs|pdf)/{_ARXIV}", re.I)
DOI_PREFIX = re.compile(r"^(?:https?://(?:dx\.)?doi\.org/|doi:\s*)", re.I)
# Types that say nothing about what kind of work a record is, so they agree with any type.
GENERIC_TYPES = frozenset({"article", "document", "manuscript"})
# An ISBN names a whole book: the chapters of a collection share it, so it identifies only books.
ISBN_TYPES = frozenset({"book"})
# A published version usually appears within a few years of its preprint (and rarely a year before).
LINK_YEARS = range(-1, 4)


# ---------------------------------------------------------------- identifiers and matching keys
def normalize_doi(text: str) -> str | None:
    """'https://doi.org/10.1038/NATURE14539' -> '10.1038/nature14539' (DOIs ignore case); None if not a DOI."""
    doi = text.strip()
    if not doi.startswith("10."):  # every prefix starts with a letter
        doi = DOI_PREFIX.sub("", doi).strip()
    doi = doi.lower()
    return doi if doi.startswith("10.") and "/" in doi else None


def arxiv_id(text: str) -> str | None:
    """The arXiv id in 'arXiv:2210.06313v2', 'hep-th/9901001', a 10.48550 DOI or an arxiv.org URL, without version."""
    text = text.strip()
    match = ARXIV_ID.match(text)
    # The substring tests only skip regexes that cannot match (no letter of ".org/" has a non-ASCII
    # case-insensitive twin, unlike the i of "arxiv").
    if not match and "48550" in text:
        match = ARXIV_DOI.match(DOI_PREFIX.sub("", text))
    if not match and ".org/" in text.lower():
        match = ARXIV_URL.search(text)
    if not match:
        return None
    found = match.group(1)
    archive, slash, number = found.partition("/")
    # Old ids: the archive is lower case ('hep-th'), a subject class upper case ('math.AG').
    if slash:
        name, dot, subject = archive.partition(".")
        return f"{name.lower()}{dot}{subject.upper()}/{number}"
    return found


def _custom(record: dict[str, Any]) -> dict[str, Any]:
    """The record's custom object ({} when absent or malformed: merging runs before validation)."""
    custom = record.get("custom")
    return custom if isinstance(custom, dict) else {}


def _names(record: dict[str, Any], variable: str = "author") -> list[dict[str, Any]]:
    names = record.get(variable)
    return [n for n in names if isinstance(n, dict)] if isinstance(names, list) else []


_ID_FIELDS = ("number", "DOI", "URL", "eprint", "archive_location", "doi", "url")
_DOI_FIELDS = frozenset({"DOI", "doi"})


def identifiers(record: dict[str, Any]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(arXiv ids, DOIs) of a record, each sorted without repeats, in one pass: see arxiv_ids and dois."""
    custom = record.get("custom")
    extra = custom.get("extra") if isinstance(custom, dict) else None
    found_arxiv: list[str] = []
    found_dois: list[str] = []
    for source in (record, extra) if isinstance(extra, dict) and extra else (record,):
        for name in _ID_FIELDS:
            value = source.get(name)
            if value is None or not isinstance(value, (str, int)):
                continue
            text = str(value)
            found = arxiv_id(text)
            if found:
                found_arxiv.append(found)
            if name in _DOI_FIELDS:
                doi = normalize_doi(text)
                if doi and not ARXIV_DOI.match(doi):
                    found_dois.append(doi)
    return (tuple(sorted(set(found_arxiv))) if len(found_arxiv) > 1 else tuple(found_arxiv),
            tuple(sorted(set(found_dois))) if len(found_dois) > 1 else tuple(found_dois))


def arxiv_ids(record: dict[str, Any]) -> set[str]:
    """Every arXiv id a record names (number, DOI, URL, eprint, archive location)."""
    return set(identifiers(record)[0])


def dois(record: dict[str, Any]) -> set[str]:
    """The record's DOIs other than arXiv's own 10.48550 ones, normalized."""
    return set(identifiers(record)[1])


def is_preprint(record: dict[str, Any], ids: tuple[tuple[str, ...], tuple[str, ...]] | None = None) -> bool:
    """True for an arXiv preprint in the hub convention (or a record that can only be one).

    `ids` is the record's identifiers() when the caller has them already.
    """
    publisher = record.get("publisher")
    if publisher is not None and str(publisher).lower() == "arxiv":
        return True
    genre = record.get("genre")
    if genre is not None and "preprint" in str(genre).lower():
        return True
    container = str(record.get("container-title", ""))
    if container.lower().startswith(("arxiv", "corr")):
        return True
    if str(record.get("type")) not in GENERIC_TYPES or container:
        return False
    found_arxiv, found_dois = ids or identifiers(record)
    return not found_dois and bool(found_arxiv)


# TeX left in a title (the readers turn most of it into Unicode): accents keep their letter, special
# letters their ASCII spelling, other commands (\emph, \alpha) go, like the Unicode letters they stand
# for go in ascii_fold. Hand-written: pylatexenc takes ~3 ms a title, most of a 10k-record merge.
_TEX_ACCENT = re.compile(r"\\[`'^\"~=.]\s*\{?\s*([A-Za-z])(?:\s*\})?|\\[uvHckbdrt](?:\s*\{\s*|\s+)([A-Za-z])\}?")
_TEX_LETTERS = {"ss": "ss", "ae": "ae", "AE": "AE", "oe": "oe", "OE": "OE", "o": "o", "O": "O", "l": "l", "L": "L",
                "aa": "a", "AA": "A", "i": "i", "j": "j"}
_TEX_COMMAND = re.compile(r"\\([A-Za-z]+)\s*")


def _fold_tex(title: str) -> str:
    title = _TEX_ACCENT.sub(lambda m: m.group(1) or m.group(2), title)
    title = _TEX_COMMAND.sub(lambda m: _TEX_LETTERS.get(m.group(1), " "), title)
    return title.replace("{", "").replace("}", "")


_PUNCTUATION = re.compile(r"[^\w\s]")
_NON_ASCII = re.compile(r"[^\x00-\x7f]+")
# Punctuation becomes a space before accents are dropped, so "Schölkopf’s" and "Scholkopf's" agree.
_FINGERPRINT_FOLD = FoldTable(lambda c: ascii_fold(_PUNCTUATION.sub(" ", c)).casefold())
# ASCII letters and digits lower-cased, anything else a space: the words are what is left.
_ASCII_WORDS = str.maketrans({c: c.lower() if c.isalnum() else " " for c in map(chr, range(128))})


def _fold_non_ascii(match: re.Match) -> str:
    return match.group().translate(_FINGERPRINT_FOLD)


def title_fingerprint(title: str) -> str:
    """Title with case, accents, punctuation and LaTeX folded: 'Über {NP}-hard \\emph{Graphs}' -> 'uber np hard graphs'."""
    if "\\" in title or "{" in title:
        title = _fold_tex(title)
    title = title.replace("&", " and ")
    if not title.isascii():
        # NFC first: a letter and its combining accent become one character, which folds on its own.
        title = _NON_ASCII.sub(_fold_non_ascii, unicodedata.normalize("NFC", title))
    return " ".join(title.translate(_ASCII_WORDS).split())


def first_family(record: dict[str, Any]) -> str:
    """The last word of the first author's (or editor's) family name as a folded key word."""
    first = _first_name(record)
    if first is None:
        return ""
    # The last word only: sources disagree on particles ('Oord' with 'van den' apart, or 'van den Oord').
    words = str(first.get("family") or first.get("literal", "")).split()
    return key_word(words[-1]) if words else ""


def _first_name(record: dict[str, Any]) -> dict[str, Any] | None:
    """The first name object among the authors, else among the editors."""
    for variable in ("author", "editor"):
        names = record.get(variable)
        if isinstance(names, list):
            for name in names:
                if isinstance(name, dict):
                    return name
    return None


def year_of(record: dict[str, Any]) -> int | None:
    """The year issued, if the record has one."""
    issued = record.get("issued")
    try:
        return int(issued["date-parts"][0][0])
    except (IndexError, KeyError, TypeError, ValueError):
        return None


_ORDINALS = {w: str(n) for n, w in enumerate(
    "first second third fourth fifth sixth seventh eighth ninth tenth".split(), 1)}


def edition_of(record: dict[str, Any]) -> str | None:
    """'2', '2nd', 'Second', 'second edition' -> '2'; other text as folded words; None when absent."""
    if "edition" not in record:
        return None
    value = str(record["edition"]).strip().lower()
    digits = re.match(r"\d+", value)
    if digits:
        return str(int(digits.group(0)))
    word = value.split()[0] if value else ""
    return _ORDINALS.get(word, value or None)


def _isbn13(text: str) -> str:
    """An ISBN as 13 digits, so that the ISBN-10 and ISBN-13 of one book compare equal."""
    digits = re.sub(r"[^0-9x]", "", text.lower())
    if len(digits) != 10 or not digits[:9].isdigit():
        return digits
    core = "978" + digits[:9]
    check = (10 - sum(int(c) * (1 if n % 2 == 0 else 3) for n, c in enumerate(core)) % 10) % 10
    return core + str(check)


def _isbns(record: dict[str, Any]) -> set[str]:
    if "ISBN" not in record:
        return set()
    return {_isbn13(v) for v in re.split(r"[,;\s]+", str(record["ISBN"])) if v}


# What _conflict compares: arXiv ids, DOIs, edition, ISBNs, year, type (id and ISBN tuples sorted).
_Traits = tuple[tuple[str, ...], tuple[str, ...], "str | None", tuple[str, ...], "int | None", str]


class _Infos:
    """What matching needs from every record, computed once: one list per property, indexed like the records.

    Lists of strings, numbers and tuples rather than an object (and sets) per record: the garbage
    collector scans every container that lives on, and would scan the whole library again and again.
    """

    FIELDS = ("preprint", "arxiv", "dois", "title", "family", "year", "traits")

    def __init__(self, records: Sequence[dict[str, Any]] = ()) -> None:
        self.preprint: list[bool] = []
        self.arxiv: list[tuple[str, ...]] = []
        self.dois: list[tuple[str, ...]] = []
        self.title: list[str] = []
        self.family: list[str] = []
        self.year: list[int | None] = []
        self.traits: list[_Traits] = []
        for record in records:
            ids = identifiers(record)
            found_arxiv, found_dois = ids
            year = year_of(record)
            self.preprint.append(is_preprint(record, ids))
            self.arxiv.append(found_arxiv)
            self.dois.append(found_dois)
            self.title.append(title_fingerprint(str(record.get("title", ""))))
            self.family.append(first_family(record))
            self.year.append(year)
            self.traits.append((found_arxiv, found_dois, edition_of(record), tuple(sorted(_isbns(record))), year,
                                str(record.get("type", ""))))

    def __len__(self) -> int:
        return len(self.title)

    def parts(self) -> tuple[list, ...]:
        """The lists, in FIELDS order (plain data: what a worker process sends back)."""
        return tuple(getattr(self, name) for name in self.FIELDS)

    @classmethod
    def joined(cls, parts: Sequence[tuple[list, ...] | bytes]) -> "_Infos":
        """The infos of records read in pieces, from each piece's parts() (or their marshal dump), in order."""
        infos = cls()
        for piece in parts:
            for name, values in zip(cls.FIELDS, marshal.loads(piece) if isinstance(piece, bytes) else piece):
                getattr(infos, name).extend(values)
        return infos


def match_infos(records: Sequence[dict[str, Any]]) -> tuple[list, ...]:
    """What combine() needs to know of `records`, as plain data: a reader computes it where it builds the
    records (on its worker processes) and hands it to combine() with them."""
    return _Infos(records).parts()


def _disjoint(a: tuple[str, ...], b: tuple[str, ...]) -> bool:
    """True when both name something and nothing in common."""
    return bool(a) and bool(b) and not set(a).intersection(b)


def _conflict(a: _Traits, b: _Traits, by_title: bool) -> bool:
    """True when two records cannot be the same work whatever else they share."""
    arxiv_a, dois_a, edition_a, isbns_a, year_a, type_a = a
    arxiv_b, dois_b, edition_b, isbns_b, year_b, type_b = b
    if _disjoint(arxiv_a, arxiv_b) or _disjoint(dois_a, dois_b):
        return True
    if edition_a and edition_b and edition_a != edition_b:
        return True
    if _disjoint(isbns_a, isbns_b):
        return True
    if by_title:
        if year_a is None or year_b is None or abs(year_a - year_b) > 1:
            return True
        if type_a != type_b and type_a not in GENERIC_TYPES and type_b not in GENERIC_TYPES:
            return True
    return False


# ---------------------------------------------------------------- the log
@dataclass
class FieldChoice:
    """One field of a merged record whose value was filled in or chosen among different values."""

    field: str
    value: str
    source: Position | None
    reason: str
    others: list[tuple[Position | None, str]] = field(default_factory=list)


@dataclass
class MergeEntry:
    """One merged record: where its parts came from, how they matched, which values won and why."""

    record: dict[str, Any]
    sources: list[Position | None]
    matched: list[str]
    choices: list[FieldChoice]


@dataclass
class Link:
    """A preprint and its published version, linked and not merged."""

    preprint: dict[str, Any]
    published: dict[str, Any]
    reason: str


@dataclass
class MergeLog:
    """Everything merging did, for the --report file and the one-line summary."""

    records_in: int = 0
    merges: list[MergeEntry] = field(default_factory=list)
    links: list[Link] = field(default_factory=list)
    hidden: list[tuple[dict[str, Any], Position | None, str]] = field(default_factory=list)
    # Records that look like an earlier one but were not merged: (its position, the other's, what matched).
    unmerged: list[tuple[Position | None, Position | None, str]] = field(default_factory=list)

    def entry_for(self, record: dict[str, Any]) -> MergeEntry | None:
        """The merge that made `record`, if it was merged."""
        return next((m for m in self.merges if m.record is record), None)

    def summary(self) -> str:
        """'N records read, D duplicates merged into M, L preprint/published pairs linked, H hidden'."""
        duplicates = sum(len(m.sources) - 1 for m in self.merges)
        text = (f"{self.records_in} records read, {duplicates} duplicates merged into {len(self.merges)} records, "
                f"{len(self.links)} preprint/published pairs linked")
        if self.unmerged:
            text += f", {len(self.unmerged)} likely duplicates not merged"
        if self.hidden:
            text += f", {len(self.hidden)} hidden by --prefer"
        return text


# ---------------------------------------------------------------- clustering
def _book_isbns(traits: _Traits) -> list[tuple[str, str]]:
    return [("ISBN", value) for value in traits[3]] if traits[5] in ISBN_TYPES else []


def _clusters(infos: _Infos, by_titles: bool = True,
              inputs: Sequence[int] | None = None) -> tuple[list[Sequence[int]], list[str | None]]:
    """Groups of duplicate records (indices in input order) and, per record, how it joined its group.

    `by_titles`: also records that share only title, first author and year (within one). `inputs`:
    the input each record was read from; then no group holds two records of one input.
    """
    # A group is named by the record that started it. Only groups of two or more have a member list
    # and a list of their members' distinct traits: a record that fits one member with the same traits
    # fits them all, so checking a large group of copies costs as little as checking one record.
    members: dict[int, list[int]] = {}
    kinds: dict[int, list[_Traits]] = {}
    started: list[int] = []
    moved: dict[int, int] = {}  # a group joined into another one -> that group
    by_id: dict[tuple[bool, str, str], int] = {}
    by_title: dict[tuple[bool, str, str], tuple[int, ...]] = {}
    reasons: list[str | None] = [None] * len(infos)
    traits = infos.traits

    def find(group: int) -> int:
        while group in moved:
            group = moved[group]
        return group

    read_from: dict[int, set[int]] = {}  # group -> the inputs of its members, when `inputs` is given

    def open_to(index: int, group: int) -> bool:
        return inputs is None or inputs[index] not in read_from.get(group, {inputs[group]})

    def fits(own: _Traits, group: int, by_title: bool) -> bool:
        return not any(_conflict(own, other, by_title) for other in kinds.get(group) or (traits[group],))

    for index in range(len(infos)):
        preprint, title, family, own = infos.preprint[index], infos.title[index], infos.family[index], traits[index]
        target = None
        ids = [("DOI", value) for value in infos.dois[index]] + [("arXiv id", value) for value in infos.arxiv[index]]
        isbns = _book_isbns(own)
        for kind, value in ids:
            group = by_id.get((preprint, kind, value))
            if group is not None and open_to(index, find(group)) and fits(own, find(group), False):
                target, reasons[index] = find(group), f"same {kind} {value}"
                break
        title_key = (preprint, title, family)
        if target is None and title and family and by_titles:
            for group in by_title.get(title_key, ()):
                if open_to(index, find(group)) and fits(own, find(group), True):
                    target, reasons[index] = find(group), "same title, first author and year (within one)"
                    break
        for kind, value in isbns if target is None else ():  # after titles: the reason a title match gave stays
            group = by_id.get((preprint, kind, value))
            if group is not None and open_to(index, find(group)) and fits(own, find(group), False):
                target, reasons[index] = find(group), f"same {kind} {value}"
                break
        ids += isbns
        if target is None:
            target = index
            started.append(index)
        else:
            members.setdefault(target, [target]).append(index)
            if inputs is not None:
                read_from.setdefault(target, {inputs[target]}).add(inputs[index])
            known = kinds.setdefault(target, [traits[target]])
            if own not in known:
                known.append(own)
        for kind, value in ids:
            other = find(by_id.setdefault((preprint, kind, value), target))
            # This record shares an identifier with a second group: the two groups are one work.
            if (other != target and all(fits(t, target, False) for t in kinds.get(other) or (traits[other],))
                    and (inputs is None or read_from.get(target, {inputs[target]}).isdisjoint(
                        read_from.get(other, {inputs[other]})))):
                ours, theirs = members.get(target) or [target], members.pop(other, None) or [other]
                if inputs is not None:
                    read_from[target] = read_from.get(target, {inputs[target]}) | read_from.pop(other, {inputs[other]})
                for first in (ours[0], theirs[0]):
                    reasons[first] = reasons[first] or f"same {kind} {value} as a record read later"
                members[target] = sorted(ours + theirs)
                known = kinds.setdefault(target, [traits[target]])
                known += [t for t in kinds.pop(other, None) or (traits[other],) if t not in known]
                moved[other] = target
        if title and family:
            known_groups = by_title.get(title_key, ())
            if target not in known_groups:
                by_title[title_key] = known_groups + (target,)
    return [members.get(g) or (g,) for g in started if g not in moved], reasons


def _links(infos: _Infos, groups: list[Sequence[int]]) -> list[tuple[int, int, str]]:
    """(preprint group, published group, why) for every preprint/published pair."""
    preprints = [p for p, members in enumerate(groups) if infos.preprint[members[0]]]
    if not preprints:
        return []
    # Published records are indexed only under the identifiers and titles that some preprint has.
    wanted_ids: set[tuple[str, str]] = set()
    wanted_titles: set[tuple[str, str]] = set()
    for p in preprints:
        for i in groups[p]:
            wanted_ids.update(("arXiv id", value) for value in infos.arxiv[i])
            wanted_ids.update(("DOI", value) for value in infos.dois[i])
            wanted_titles.add((infos.title[i], infos.family[i]))
    published_by_id: dict[tuple[str, str], set[int]] = {}
    published_by_title: dict[tuple[str, str], set[int]] = {}
    for g, members in enumerate(groups):
        if infos.preprint[members[0]]:
            continue
        for i in members:
            for key in [("arXiv id", value) for value in infos.arxiv[i]] + [("DOI", value) for value in infos.dois[i]]:
                if key in wanted_ids:
                    published_by_id.setdefault(key, set()).add(g)
            title_key = (infos.title[i], infos.family[i])
            if title_key in wanted_titles and infos.title[i] and infos.family[i]:
                published_by_title.setdefault(title_key, set()).add(g)
    found: dict[tuple[int, int], str] = {}
    for p in preprints:
        for i in groups[p]:
            arxiv, year = infos.arxiv[i], infos.year[i]
            for kind, values in (("arXiv id", arxiv), ("DOI", infos.dois[i])):
                for value in values:
                    for q in sorted(published_by_id.get((kind, value), ())):
                        found.setdefault((p, q), f"same {kind} {value}")
            for q in sorted(published_by_title.get((infos.title[i], infos.family[i]), ())):
                if (p, q) in found or year is None:
                    continue
                ok = any(
                    infos.year[j] is not None and infos.year[j] - year in LINK_YEARS
                    and not _disjoint(arxiv, infos.arxiv[j])
                    for j in groups[q]
                )
                if ok:
                    found[(p, q)] = "same title and first author, published within three years of the preprint"
    return [(p, q, why) for (p, q), why in sorted(found.items())]


# ---------------------------------------------------------------- combining duplicates
def _show(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 70 else text[:67] + "..."


def _same(name: str, a: Any, b: Any) -> bool:
    """Equal values, also when written differently (DOI case, ISBN hyphens, '2nd' and 'Second' edition)."""
    if isinstance(a, str) and a == b:
        return True
    if name == "DOI" and isinstance(a, str) and isinstance(b, str):
        return normalize_doi(a) == normalize_doi(b)
    if name == "ISBN":
        return _isbns({"ISBN": a}) == _isbns({"ISBN": b})
    if name == "edition":
        return edition_of({"edition": a}) == edition_of({"edition": b})
    if isinstance(a, str) and isinstance(b, str):
        return " ".join(a.split()) == " ".join(b.split())
    return a == b


def _title_score(title: str) -> tuple:
    letters = [c for c in title if c.isalpha()]
    mixed = any(c.isupper() for c in letters) and any(c.islower() for c in letters)
    return (len(title_fingerprint(title)), mixed, sum(1 for c in letters if ord(c) > 127), -title.count("{") - title.count("\\"))


def _date_score(value: Any) -> int:
    try:
        return len(value["date-parts"][0])
    except (IndexError, KeyError, TypeError):
        return 0


def _choose(name: str, values: list[Any]) -> tuple[int, str]:
    """Index of the richer value and why it won (ties go to the earliest input)."""
    def best(score) -> tuple[int, bool]:
        scores = [score(v) for v in values]
        top = max(scores)
        return scores.index(top), scores.count(top) == len(scores)

    if name == "title" and all(isinstance(v, str) for v in values):
        winner, tie = best(_title_score)
        a = title_fingerprint(values[winner])
        reason = ("longer" if any(len(title_fingerprint(v)) < len(a) for v in values)
                  else "better capitalization, accents or fewer TeX braces")
    elif all(isinstance(v, dict) for v in values) and any("date-parts" in v for v in values):
        winner, tie = best(_date_score)
        reason = "more precise date"
    elif name == "type":
        winner, tie = best(lambda v: str(v) not in GENERIC_TYPES)
        reason = "more specific type"
    else:
        winner, tie = best(lambda v: len(str(v)))
        reason = "longer"
    return (0, "values differ; the first input's is kept") if tie else (winner, reason)


def _author_score(record: dict[str, Any], names: list[dict[str, Any]]) -> tuple:
    truncated = bool(_custom(record).get("authors_truncated"))
    return (len(names), not truncated, sum(len(str(n.get("given", ""))) for n in names))


def _union_keywords(values: list[str]) -> str:
    words: dict[str, str] = {}
    for value in values:
        for word in (w.strip() for w in str(value).split(",")):
            if word:
                words.setdefault(word.casefold(), word)
    return ", ".join(words.values())


_ATOMIC = frozenset({str, int, float, bool, type(None)})
_MISSING = object()


def _copy(value: Any, memo: dict[int, Any] | None = None) -> Any:
    """copy.deepcopy, done directly for what records hold (dicts, lists, strings, numbers): several times faster."""
    cls = value.__class__
    if cls in _ATOMIC:
        return value
    if memo is None:
        memo = {}
    done = memo.get(id(value), _MISSING)  # an object met twice is copied once, as deepcopy does
    if done is not _MISSING:
        return done
    if cls is dict:
        result = memo[id(value)] = {}
        for key, item in value.items():
            result[key if key.__class__ is str else _copy(key, memo)] = (
                item if item.__class__ in _ATOMIC else _copy(item, memo))
        return result
    if cls is list:
        result = memo[id(value)] = []
        for item in value:
            result.append(item if item.__class__ in _ATOMIC else _copy(item, memo))
        return result
    return copy.deepcopy(value, memo)


def _merge_custom(target: dict[str, Any], other: dict[str, Any]) -> None:
    """Fill `target` from `other`: objects merge, lists join without repeats, the first scalar stays."""
    for key, value in other.items():
        if key not in target:
            target[key] = _copy(value)
        elif isinstance(target[key], dict) and isinstance(value, dict):
            _merge_custom(target[key], value)
        elif isinstance(target[key], list) and isinstance(value, list):
            target[key] = target[key] + [v for v in value if v not in target[key]]


def combine_records(members: list[tuple[dict[str, Any], Position | None]]) -> tuple[dict[str, Any], list[FieldChoice]]:
    """One record from duplicates: the first input's record, each field replaced by a richer value found."""
    first = members[0][0]
    merged = _copy(first)
    choices: list[FieldChoice] = []
    names = list(dict.fromkeys(k for record, _ in members for k in record if k not in ("custom", "author")))
    for name in names:
        having = [(record[name], position) for record, position in members if record.get(name) not in (None, "", [])]
        if not having:
            continue
        values = [v for v, _ in having]
        # Most fields of duplicates are the same text: no need to compare them pair by pair.
        if len(values) == 1 or (isinstance(values[0], str) and values.count(values[0]) == len(values)):
            distinct = values[:1]
        else:
            distinct = [v for n, v in enumerate(values) if not any(_same(name, v, w) for w in values[:n])]
        if len(distinct) == 1:
            if name not in first or first[name] in (None, "", []):
                merged[name] = _copy(values[0])
                choices.append(FieldChoice(name, _show(values[0]), having[0][1], "only this source has it"))
            continue
        if name == "keyword":
            merged[name] = _union_keywords(values)
            choices.append(FieldChoice(name, _show(merged[name]), None, "keywords of all sources joined",
                                       [(p, _show(v)) for v, p in having if v != merged[name]]))
            continue
        if name == "id":
            winner, reason = 0, "the first key read; the others are its aliases"
        else:
            winner, reason = _choose(name, values)
        merged[name] = _copy(values[winner])
        choices.append(FieldChoice(name, _show(values[winner]), having[winner][1], reason,
                                   [(p, _show(v)) for v, p in having if not _same(name, v, values[winner])]))
    for record, _ in members[1:]:
        if _custom(record) and isinstance(merged.setdefault("custom", {}), dict):
            _merge_custom(merged["custom"], _custom(record))
    aliases = [key for key in keys_read(record for record, _ in members) if key != str(merged.get("id"))]
    if aliases and isinstance(merged.setdefault("custom", {}), dict):
        merged["custom"]["aliases"] = aliases
    _combine_authors(members, merged, choices)  # after custom: it decides custom.authors_truncated
    custom = merged.get("custom")
    if isinstance(custom, dict) and "bibtex_entry" in custom:
        # The first entry as written stands for the merged record only while every field is still its own.
        first_fields = {k: v for k, v in first.items() if k not in ("custom", "id")}
        if {k: v for k, v in merged.items() if k not in ("custom", "id")} != first_fields:
            del custom["bibtex_entry"]
            if not custom:
                del merged["custom"]
    return merged, choices


def keys_read(records: Iterable[dict[str, Any]]) -> list[str]:
    """Every key the records were read under (their ids, then their custom.aliases), in order, without repeats."""
    found: dict[str, None] = {}
    for record in records:
        aliases = _custom(record).get("aliases")
        for key in [record.get("id")] + (aliases if isinstance(aliases, list) else []):
            if isinstance(key, (str, int)) and not isinstance(key, bool) and str(key):
                found.setdefault(str(key))
    return list(found)


def settle_aliases(library: Library) -> None:
    """Once keys are assigned: no alias is a key of any record or an alias of an earlier one (a warning
    says which is dropped). Aliases are keys the input gave: written as given."""
    taken = {str(record.get("id")) for record in library.records}
    for index, record in enumerate(library.records):
        custom = _custom(record)
        aliases = custom.get("aliases")
        if not isinstance(aliases, list):
            continue
        kept: list[str] = []
        for alias in (str(a) for a in aliases):
            if alias == str(record.get("id")) or alias in kept:
                continue
            if alias in taken:
                library.report.warning("key-alias-taken", f"record {record.get('id')}: alias {alias!r} is dropped: "
                                       "another record has this key", library.position_of(index))
                continue
            kept.append(alias)
        taken.update(kept)
        if kept:
            custom["aliases"] = kept
        else:
            del custom["aliases"]
            if not custom:
                del record["custom"]


def _show_authors(record: dict[str, Any], names: list[dict[str, Any]]) -> str:
    """'Family, Given; Family, Given et al.' for the record's `names` (its _names)."""
    shown = []
    for name in names:
        parts = [str(p) for p in (name.get("family") or name.get("literal", ""), name.get("given", "")) if p]
        shown.append(", ".join(parts))
    return _show("; ".join(shown) + (" et al." if _custom(record).get("authors_truncated") else ""))


def _combine_authors(members: list[tuple[dict[str, Any], Position | None]], merged: dict[str, Any],
                     choices: list[FieldChoice]) -> None:
    """The richest author list: most names, then complete over cut short, then fullest given names."""
    listed = [(r, p, _names(r)) for r, p in members]
    having = [(r, p) for r, p, names in listed if names]
    if not having or not isinstance(merged.get("custom", {}), dict):
        return
    names_of = [names for _, _, names in listed if names]
    scores = [_author_score(r, names) for (r, _), names in zip(having, names_of)]
    winner = scores.index(max(scores))
    record, position = having[winner]
    merged["author"] = _copy(record["author"])
    custom = merged.setdefault("custom", {})
    if _custom(record).get("authors_truncated"):
        custom["authors_truncated"] = True
    else:
        custom.pop("authors_truncated", None)
    if not custom:
        del merged["custom"]
    shown = [_show_authors(r, names) for (r, _), names in zip(having, names_of)]
    if len(set(shown)) == 1 and record is members[0][0]:
        return
    top, low = scores[winner], min(scores)
    n = len(names_of[winner])
    if top[:2] == low[:2]:
        reason = "fuller given names" if top != low else "the first input's list is kept"
    else:
        reason = f"complete list of {n} names" if top[1] else f"longest list ({n} names)"
    choices.append(FieldChoice("author", shown[winner], position, reason,
                               [(p, shown[k]) for k, (_, p) in enumerate(having) if shown[k] != shown[winner]]))


# ---------------------------------------------------------------- the steps
def combine(library: Library, known: Sequence[tuple[list, ...] | bytes] | None = None,
            merge: str = "dedupe", inputs: Sequence[int] | None = None) -> MergeLog:
    """Merge duplicate records in place and find preprint/published pairs (recorded in the log).

    `known`: match_infos() of the records as they stand (or its marshal dump), in pieces that together
    cover them in order (computed where they were read); computed here when None. `merge`: what is
    merged (see MERGE); every other record that looks like a duplicate is a warning in library.report.
    `inputs`: the input each record was read from; "identifiers" then never merges two records of one
    input (a .bib's crossref children share their parent's DOI, and are not one work).
    """
    if merge not in MERGE:
        raise ValueError(f"merge must be one of {', '.join(MERGE)}, not {merge!r}")
    records = library.records
    positions = library.positions[:len(records)] + [None] * (len(records) - len(library.positions))
    log = MergeLog(records_in=len(records))
    infos = _Infos.joined(known) if known is not None else _Infos(records)
    if len(infos) != len(records):
        raise ValueError(f"match infos for {len(infos)} records, but there are {len(records)}")
    groups, reasons = _clusters(infos)
    if merge != "dedupe":
        alike = groups
        if merge == "none":
            groups, reasons = [(i,) for i in range(len(records))], [None] * len(records)
        else:
            groups, reasons = _clusters(infos, by_titles=False, inputs=inputs)
        _report_unmerged(library, log, infos, alike, groups, positions)
    new_records: list[dict[str, Any]] = []
    new_positions: list[Position | None] = []
    for members in groups:
        if len(members) == 1:
            new_records.append(records[members[0]])
        else:
            merged, choices = combine_records([(records[i], positions[i]) for i in members])
            log.merges.append(MergeEntry(merged, [positions[i] for i in members],
                                         [reasons[i] or "" for i in members[1:]], choices))
            new_records.append(merged)
        new_positions.append(positions[members[0]])
    for p, q, why in _links(infos, groups):
        log.links.append(Link(new_records[p], new_records[q], why))
    library.records[:] = new_records
    library.positions[:] = new_positions
    if log.merges or log.links or log.unmerged:  # metadata stays as the inputs gave it when nothing was found
        library.metadata["merge_log"] = log
    return log


def _match(infos: _Infos, i: int, j: int) -> str | None:
    """What records i and j share that makes them look like one work, if they do by themselves."""
    if infos.preprint[i] != infos.preprint[j] or _conflict(infos.traits[i], infos.traits[j], False):
        return None
    for kind, a, b in (("DOI", infos.dois[i], infos.dois[j]), ("arXiv id", infos.arxiv[i], infos.arxiv[j]),
                       ("ISBN", [v for _, v in _book_isbns(infos.traits[i])], [v for _, v in _book_isbns(infos.traits[j])])):
        shared = sorted(set(a).intersection(b))
        if shared:
            return f"same {kind} {shared[0]}"
    if (infos.title[i] and infos.family[i] and (infos.title[i], infos.family[i]) == (infos.title[j], infos.family[j])
            and not _conflict(infos.traits[i], infos.traits[j], True)):
        return "same title and first author"
    return None


def _report_unmerged(library: Library, log: MergeLog, infos: _Infos, alike: list[Sequence[int]],
                     merged: list[Sequence[int]], positions: list[Position | None]) -> None:
    """Warn about records that look like one work but were not merged: once for each pair that ties
    two separate records (or merged groups) of a cluster together, at the later record."""
    group_of = [0] * len(infos)
    for g, members in enumerate(merged):
        for i in members:
            group_of[i] = g
    found: list[tuple[int, int, str]] = []
    for members in alike:
        if len({group_of[i] for i in members}) < 2:
            continue
        # Parts: records tied together so far (by merging or by a warning), each a list in read order.
        parts: dict[int, list[int]] = {}
        part_of: dict[int, int] = {}
        for i in sorted(members):
            own = part_of.get(group_of[i])
            for part in list(parts):
                if part == own:
                    continue
                pair = next(((j, why) for j in parts[part] for why in (_match(infos, i, j),) if why), None)
                if pair is None:
                    continue
                found.append((i, *pair))
                if own is None:
                    own = part
                else:  # join the two parts
                    parts[own] += parts.pop(part)
                    parts[own].sort()
                    for g, p in part_of.items():
                        if p == part:
                            part_of[g] = own
            if own is None:
                own = i
                parts[own] = []
            part_of[group_of[i]] = own
            parts[own].append(i)
    for i, j, why in sorted(found):
        other = library.records[j]
        key = other.get("id") if isinstance(other.get("id"), (str, int)) and other.get("id") != "" else None
        name = str(key) if key is not None else f'"{_show(str(other.get("title", "")))}"'
        where = f" ({positions[j]})" if positions[j] is not None else ""
        library.report.warning("duplicate", f"looks like a duplicate of {name}{where}: {why}", positions[i])
        log.unmerged.append((positions[i], positions[j], why))


def _related(other: dict[str, Any], relation: str, listed: bool) -> dict[str, Any]:
    entry: dict[str, Any] = {"id": str(other.get("id", "")), "relation": relation, "listed": listed}
    if not entry["id"]:
        del entry["id"]
    doi = DOI_PREFIX.sub("", str(other.get("DOI", ""))).strip()
    if normalize_doi(doi) and not ARXIV_DOI.match(doi):
        entry["DOI"] = doi
    found_arxiv = sorted(arxiv_ids(other))
    if found_arxiv:
        entry["arxiv"] = found_arxiv[0]
    return entry


def finish(library: Library, log: MergeLog, prefer: str = "both") -> None:
    """Write the links into `custom.related` (keys must be assigned by now) and hide what `prefer` leaves out."""
    if prefer not in PREFER:
        raise ValueError(f"prefer must be one of {', '.join(PREFER)}, not {prefer!r}")
    hidden: set[int] = set()
    for link in log.links:
        if prefer == "published":
            hidden.add(id(link.preprint))
        elif prefer == "preprint":
            hidden.add(id(link.published))
    for link in log.links:
        pairs = ((link.preprint, link.published, "published-version"), (link.published, link.preprint, "preprint-version"))
        for record, other, relation in pairs:
            custom = record.setdefault("custom", {})
            related = custom.setdefault("related", []) if isinstance(custom, dict) else None
            if not isinstance(related, list):
                continue  # a malformed custom object is reported by validation, not repaired here
            entry = _related(other, relation, id(other) not in hidden)
            # An input may hold this link already (our own CSL-JSON read back): this run's entry replaces it.
            related[:] = [e for e in related if not (isinstance(e, dict) and e.get("relation") == relation
                                                     and e.get("id") == entry.get("id"))] + [entry]
    if not hidden:
        return  # every record stays listed
    kept_records, kept_positions = [], []
    for index, record in enumerate(library.records):
        if id(record) in hidden:
            why = "a published version is listed" if prefer == "published" else "its preprint is listed"
            log.hidden.append((record, library.position_of(index), why))
        else:
            kept_records.append(record)
            kept_positions.append(library.position_of(index))
    library.records[:] = kept_records
    library.positions[:] = kept_positions


def merge(library: Library, prefer: str = "both", merge: str = "dedupe") -> MergeLog:
    """Merge duplicates, link preprint/published pairs and apply `prefer`, in place; returns what was done."""
    log = combine(library, merge=merge)
    finish(library, log, prefer)
    return log

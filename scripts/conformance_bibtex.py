"""Score the BibTeX reader (and writer) against Zotero's and citation-js's cases in ../shared/conformance.

Per ../shared/conformance/README.md: each expected field is one point; the score is the share of
expected fields we match, and every miss is listed. Deliberate differences are listed apart, each with
its reason, and are not counted as misses. Run: `make conformance` or `python scripts/conformance_bibtex.py`.
"""

from __future__ import annotations

import json
import re
import sys
import unicodedata
from pathlib import Path

import bibtexparser

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bibsmith.diagnostics import Report  # noqa: E402
from bibsmith.library import Library  # noqa: E402
from bibsmith.readers.bibtex import _month, read  # noqa: E402
from bibsmith.text.latex import to_unicode  # noqa: E402
from bibsmith.writers import bibtex as writer  # noqa: E402
from zotero_csl import DATE_FIELDS, FIELDS, ROLES, TYPES  # noqa: E402

SHARED = REPO.parent / "shared" / "conformance"

# Zotero item fields -> CSL variables (README "How a harness uses them").
# The BibTeX cases are scored on the README's field list, plus Zotero's `rights`, and without the
# dates, which this scorer compares itself.
ZOTERO_FIELDS = {**{k: v for k, v in FIELDS.items() if k not in DATE_FIELDS}, "rights": "license"}
NOT_FIELDS = {"notes", "attachments", "seeAlso"}  # Zotero-only; counted as "carried or reported"

# Deliberate differences: (case id or "*", field) -> reason. Not counted as misses.
DELIBERATE = {
    ("*", "extra"): "Zotero's `extra` is its own catch-all; we keep unknown fields in custom.extra and write them back",
    ("*", "license"): "CSL 1.0.2 has no `license` variable; `copyright` stays in custom.extra and is written back",
    ("zotero-bibtex-023", "title"): "TeX math is kept as $...$ in the hub (DESIGN.md §2), not turned into Unicode look-alikes",
    ("citationjs-biblatex-input-with-math", "title"): "TeX math is kept as $...$ in the hub (DESIGN.md §2)",
    ("citationjs-biblatex-input-with-commands", "title"): "\\Phi kept as math; unknown commands are dropped, not kept as text; "
        "\\href and \\ElsevierGlyph are not decoded (pylatexenc's reading)",
    ("zotero-bibtex-008", "author"): "BibTeX's own name rule: a lower-case word before the last is a particle ('at Work'); "
        "Zotero splits at the last space",
    ("zotero-bibtex-018", "author"): "BibTeX's own name rule ('for Digital Scholarship' as particle + last), as bibtex itself reads it",
    ("zotero-bibtex-020", "author"): "Zotero rewrites initials ('KC' -> 'K. C.'); we keep names as written",
    ("zotero-bibtex-022", "author"): "Zotero inserts a space in D'aspremont; we keep the name as written",
    ("zotero-bibtex-014", "genre"): "Zotero writes \"Master's Thesis\"/\"PhD Thesis\", citation-js \"Master's thesis\"/\"PhD thesis\"; "
        "we follow citation-js (CSL's sentence-case convention)",
    ("citationjs-biblatex-mapping-026", "genre"): "citation-js's biblatex variant copies the raw type name (mathesis); "
        "its bibtex variant and we write \"Master's thesis\"",
    ("citationjs-biblatex-mapping-027", "genre"): "as mapping-026: raw type name vs \"PhD thesis\"",
    ("citationjs-biblatex-input-with-uppercase-and", "publisher-place"): "with both, `address` (the publisher's place) wins "
        "over `location` (the conference's), as Zotero's case zotero-bibtex-015 expects",
    ("citationjs-biblatex-input-with-uri", "URL"): "URLs are kept as written; citation-js percent-encodes them",
    ("citationjs-biblatex-input-with-different-delimiters", "*"): "`@book{b, ... )` mixes delimiters; we report it as a "
        "parse error with its line instead of guessing",
    ("citationjs-biblatex-input-with-escaped-and", "author"): "`A\\begin{center} and \\end{center}B` hides `and` in an "
        "environment; we split it as BibTeX does",
    ("zotero-bibtex-019", "*"): "deliberately broken escapes (`\\ı`, `\\\"e` outside braces) that Zotero keeps literally",
    ("zotero-bibtex-010", "title"): "a title of bare tab-escapes that Zotero keeps literally; pylatexenc reads it as empty",
    ("citationjs-biblatex-input-with-rich-text", "title"): "`\\it`/`\\bf` switches and `\\begin{it}` are not turned into "
        "<i>/<b> (only \\textit, \\emph, \\textbf, \\textsuperscript, \\textsubscript, \\textsc are); math stays math",
    ("zotero-bibtex-007", "container-title"): "TeX math is kept as $...$ in the hub (DESIGN.md §2)",
    ("citationjs-biblatex-input-with-nameparts", "author"): "an extended name with a bare `A=B` part; we keep it as given",
    ("citationjs-bibtex-mapping-005", "@type"): "a chapter with a booktitle is @incollection: BibTeX's @inbook has no booktitle",
    ("citationjs-biblatex-mapping-004", "@type"): "as bibtex-mapping-005",
    ("citationjs-biblatex-mapping-024", "@type"): "as bibtex-mapping-005",
    ("citationjs-bibtex-mapping-006", "organization"): "the CSL publisher is written as `publisher`, not duplicated as `organization`",
    ("citationjs-bibtex-mapping-009", "publisher"): "@misc has `howpublished`, not `publisher`; we write howpublished",
    ("citationjs-bibtex-mapping-008", "@type"): "genre \"Diploma Thesis\" does not say master's; written as @phdthesis with type = {Diploma Thesis}",
    ("citationjs-biblatex-mapping-013", "@type"): "@legislation is not a standard biblatex type; written as @misc",
    ("citationjs-biblatex-mapping-008", "maintitle"): "container-title of a book is written as booktitle",
    ("citationjs-biblatex-mapping-014", "note"): "citation-js's own \"[Online; accessed …]\" note; we write urldate",
    ("citationjs-biblatex-mapping-019", "entrysubtype"): "citation-js's own entrysubtype for genre; we write type",
    ("citationjs-biblatex-mapping-022", "eprint"): "PMID is written as `pmid`, not as eprint with eprinttype pubmed",
    ("citationjs-biblatex-mapping-022", "eprinttype"): "as eprint",
    ("citationjs-biblatex-mapping-025", "s2id"): "citation-js's Semantic Scholar field, kept by it in its own custom data",
    ("citationjs-biblatex-mapping-028", "*"): "citation-js writes a CSL `section` as pages + bookpagination; we have no field for it",
    ("citationjs-biblatex-mapping-021", "genre"): "citation-js reads the type name (techreport) as genre; we do not invent a genre",
    ("zotero-bibtex-006", "title"): "`\\~{}` is a tilde accent on nothing; Zotero reads it as the operator ∼",
    ("*", "citation-key"): "the key is CSL `id` in our hub (DESIGN.md §2); `citation-key` would duplicate it",
    ("*", "custom"): "citation-js's own `custom` payload (e.g. its unknown-field bag) is tool-specific",
    ("*", "_graph"): "citation-js provenance data",
}


def _norm(value) -> str:
    text = unicodedata.normalize("NFC", str(value))
    return re.sub(r"\s+", " ", text.replace("\u2013", "-").replace("\u00a0", " ")).strip()


def _zotero_name(creator: dict) -> str:
    if creator.get("fieldMode") == 1 or "name" in creator:
        return f"{_norm(creator.get('lastName') or creator.get('name'))} | "
    return f"{_norm(creator.get('lastName', ''))} | {_norm(creator.get('firstName', ''))}"


def _csl_name(name: dict) -> str:
    # A corporate name is `literal` for us and a lone `family` for citation-js: the same fact.
    if "literal" in name:
        return f"{_norm(name['literal'])} | "
    family = " ".join(p for p in (name.get("dropping-particle"), name.get("non-dropping-particle"), name.get("family")) if p)
    given = ", ".join(p for p in (name.get("given"), name.get("suffix")) if p)
    return f"{_norm(family)} | {_norm(given)}"


def _iso(date: dict | None) -> str:
    if not date:
        return ""
    if "date-parts" in date:
        return "/".join("-".join(f"{int(p):02d}" if i else str(p) for i, p in enumerate(d)) for d in date["date-parts"])
    return _norm(date.get("literal") or date.get("raw") or "")


def _zotero_date(value: str) -> str:
    match = re.match(r"^(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?", value.strip())
    if not match:
        return _norm(value)
    return "-".join(p for p in match.groups() if p)


class Score:
    """Counts matched, missed and deliberate fields; lists the misses."""

    def __init__(self, name: str):
        self.name, self.matched, self.total, self.misses, self.deliberate = name, 0, 0, [], []

    def check(self, case: str, index: int, field: str, expected, got) -> None:
        if expected == got:
            self.total += 1
            self.matched += 1
            return
        reason = DELIBERATE.get((case, field)) or DELIBERATE.get(("*", field)) or DELIBERATE.get((case, "*"))
        if reason:
            self.deliberate.append(f"{case} record {index + 1}: `{field}` ({reason})")
        else:
            self.total += 1
            self.misses.append(f"{case} record {index + 1}: `{field}` expected {expected!r}, got {got!r}")

    def report(self) -> float:
        share = 100.0 * self.matched / self.total if self.total else 0.0
        print(f"{self.name}: {self.matched}/{self.total} fields = {share:.1f}%")
        for miss in self.misses:
            print(f"  miss: {miss}")
        if self.deliberate:
            print(f"  deliberate differences, not counted: {len(self.deliberate)}")
            for item in self.deliberate:
                print(f"    {item}")
        return share


def _read(text: str, case: str) -> list[dict]:
    return read(text, case).records


def zotero(score: Score) -> None:
    """Zotero's BibTeX import cases: Zotero items translated to CSL, compared field by field."""
    for case in json.loads((SHARED / "zotero-bibtex.json").read_text(encoding="utf-8")):
        records = _read(case["input"], case["id"])
        for index, item in enumerate(case["expected"]):
            got = records[index] if index < len(records) else {}
            for field, value in item.items():
                if field in NOT_FIELDS:
                    continue
                if field == "itemType":
                    score.check(case["id"], index, "type", TYPES.get(value, value), got.get("type"))
                elif field == "itemID":
                    score.check(case["id"], index, "id", value, got.get("id"))
                elif field == "date":
                    score.check(case["id"], index, "issued", _zotero_date(value), _iso(got.get("issued")))
                elif field == "creators":
                    for role in sorted({c["creatorType"] for c in value}):
                        want = [_zotero_name(c) for c in value if c["creatorType"] == role]
                        have = [_csl_name(n) for n in got.get(ROLES.get(role, role), [])]
                        score.check(case["id"], index, role, want, have)
                elif field == "tags":
                    want = sorted(_norm(t["tag"] if isinstance(t, dict) else t) for t in value)
                    have = sorted(_norm(k) for k in got.get("keyword", "").split(",") if k.strip())
                    score.check(case["id"], index, "keyword", want, have)
                elif field in ZOTERO_FIELDS:
                    variable = ZOTERO_FIELDS[field]
                    score.check(case["id"], index, variable, _norm(value), _norm(got.get(variable, "")))
                else:
                    score.check(case["id"], index, field, _norm(value), "")


def _compare_csl(score: Score, case: str, index: int, expected: dict, got: dict) -> None:
    for field, value in expected.items():
        if field in ("id",) and "citation-key" in expected:
            value = expected["citation-key"]
        if isinstance(value, list) and value and isinstance(value[0], dict):
            score.check(case, index, field, [_csl_name(n) for n in value], [_csl_name(n) for n in got.get(field, [])])
        elif isinstance(value, dict) and field != "custom":
            score.check(case, index, field, _iso(value), _iso(got.get(field)))
        elif field == "keyword":
            split = lambda text: sorted(_norm(k) for k in str(text).split(",") if k.strip())
            score.check(case, index, field, split(value), split(got.get(field, "")))
        else:
            score.check(case, index, field, _norm(value) if not isinstance(value, dict) else value,
                        _norm(got.get(field, "")) if not isinstance(value, dict) else got.get(field))


def citationjs(score: Score, writer_score: Score) -> None:
    """citation-js's mapping and input cases (expected CSL-JSON), and its writer cases."""
    data = json.loads((SHARED / "citationjs-bibtex.json").read_text(encoding="utf-8"))
    for group in ("mapping", "input"):
        for case in data[group]:
            records = _read(case["input"], case["id"])
            for index, expected in enumerate(case["expected"]):
                _compare_csl(score, case["id"], index, expected, records[index] if index < len(records) else {})
    for case in data["mapping"]:
        item = dict(case["expected"][0])
        item.setdefault("id", item.get("citation-key"))
        library = Library()
        library.add(item)
        ours = writer.write(library, writer.Options(dialect=case["variant"]), Report())
        _compare_entries(writer_score, case["id"], ours, case["expected_output"])


def _entry_fields(text: str) -> tuple[str, dict[str, str]]:
    library = bibtexparser.parse_string(text)
    if not library.entries:
        return "", {}
    entry = library.entries[0]
    fields = {f.key.lower(): _norm(to_unicode(str(f.value))) for f in entry.fields}
    if "month" in fields:  # `feb`, `{2}` and `2` are the same month
        month, day = _month(fields["month"])
        fields["month"] = f"{month} {day}" if day else str(month)
    return entry.entry_type.lower(), fields


def _compare_entries(score: Score, case: str, ours: str, theirs: str) -> None:
    our_type, our_fields = _entry_fields(ours)
    their_type, their_fields = _entry_fields(theirs)
    score.check(case, 0, "@type", their_type, our_type)
    for field, value in their_fields.items():
        score.check(case, 0, field, value, our_fields.get(field, ""))


def main() -> int:
    if not SHARED.exists():
        print(f"{SHARED} is missing: put ../shared beside the clone", file=sys.stderr)
        return 1
    reader_zotero, reader_cjs, writer_cjs = Score("reader vs zotero-bibtex"), Score("reader vs citationjs-bibtex"), Score(
        "writer vs citationjs-bibtex mapping output")
    zotero(reader_zotero)
    citationjs(reader_cjs, writer_cjs)
    scores = [reader_zotero.report(), reader_cjs.report(), writer_cjs.report()]
    total = reader_zotero.total + reader_cjs.total
    matched = reader_zotero.matched + reader_cjs.matched
    print(f"reader overall: {matched}/{total} fields = {100.0 * matched / total:.1f}%")
    return 0 if scores else 1


if __name__ == "__main__":
    sys.exit(main())

"""Score bibsmith's RIS reader against Zotero's RIS import cases (../shared/conformance/zotero-ris.json).

Field by field, as ../shared/conformance/README.md says: each expected Zotero field is mapped to CSL
once (the tables below), compared with what `bibsmith.readers.ris` reads, and counted as a match or a
miss. Deliberate differences (Zotero's own choices, not the RIS specs') are listed with a reason and
left out of the score; Zotero fields with no CSL counterpart in that README are counted as not scored.

    python scripts/conformance_ris.py [--quiet]     # prints the score and every miss
"""

from __future__ import annotations

import json
import re
import sys
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(REPO))

from bibsmith.diagnostics import Report  # noqa: E402
from bibsmith.readers import ris  # noqa: E402
from zotero_csl import DATE_FIELDS, FIELDS, ROLES, TYPES  # noqa: E402

CASES = REPO.parent / "shared" / "conformance" / "zotero-ris.json"

# Zotero-only: README says count them as "carried through or reported", not as field matches.
ZOTERO_ONLY = {"itemType", "notes", "attachments", "seeAlso", "extra", "itemID"}


# TY values where bibsmith's CSL type differs from Zotero's item type on purpose.
DELIBERATE_TYPES = {
    "GEN": "GEN is 'generic' in both specs; Zotero imports it as journalArticle, bibsmith as CSL document",
    "UNPB": "Zotero's import map lacks UNPB (it lists UNPD), so it falls back to journalArticle; "
            "bibsmith reads UNPB as CSL article (preprints, unpublished work), the type it writes it for",
    "GRANT": "Zotero falls back to journalArticle; a grant is not a journal article, bibsmith reads CSL document",
    "INPR": "an in-press paper is an accepted journal article (citation-js agrees); Zotero says manuscript",
    "ANCIENT": "CSL 1.0.2 has `classic` for ancient and classic texts; Zotero has no such type",
    "CLSWK": "CSL 1.0.2 has `classic` for classical works; Zotero has no such type",
    "CTLG": "a catalog is a book-like publication, not a magazine article as Zotero reads it",
    "SER": "a serial (whole publication) is CSL periodical; Zotero has no such type and says book",
    "JFULL": "a whole journal issue is CSL periodical; Zotero has no such type",
    "FIGURE": "CSL 1.0.2 has `figure`; Zotero has no such type and says artwork",
    "LEGAL": "RIS LEGAL is a legal rule or regulation: CSL regulation; Zotero says case",
    "MUSIC": "RIS MUSIC is a music score (2001 spec): CSL musical_score; Zotero says audioRecording",
    "PAMP": "CSL 1.0.2 has `pamphlet`; Zotero has no such type and says manuscript",
    "STAND": "CSL 1.0.2 has `standard`; Zotero has no such type and says report",
    "UNBILL": "an unenacted bill is still CSL bill; Zotero says manuscript",
}
EDTF = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")


def name_key(person: dict) -> tuple[str, str]:
    """('particle family', 'given particle, suffix') of a CSL name; Zotero folds the parts this way."""
    if "literal" in person:
        return person["literal"], ""
    family = " ".join(p for p in (person.get("non-dropping-particle"), person.get("family")) if p)
    given = " ".join(p for p in (person.get("given"), person.get("dropping-particle")) if p)
    return family, ", ".join(p for p in (given, person.get("suffix")) if p)


def csl_date(value: dict | None) -> str:
    """A CSL date as YYYY[-MM[-DD]]."""
    parts = (value or {}).get("date-parts", [[]])[0]
    return "-".join(f"{int(p):0{4 if i == 0 else 2}d}" for i, p in enumerate(parts))


def keywords(text: str) -> set[str]:
    """CSL keeps one comma-separated keyword string; compare as a set of single keywords."""
    return {k.strip() for k in text.split(",") if k.strip()}


def score_item(where: str, ty: str, expected: dict, got: dict, tally: Counter, misses: list[str],
               deliberate: Counter, unscored: Counter) -> None:
    """Compare one Zotero item with one bibsmith record, field by field."""

    def check(field: str, want, have) -> None:
        if want == have:
            tally["match"] += 1
        else:
            tally["miss"] += 1
            misses.append(f"{where}: `{field}` expected {want!r}, got {have!r}")

    want_type = TYPES[expected["itemType"]]
    if want_type != got.get("type") and ty in DELIBERATE_TYPES:
        deliberate[f"type {ty}: {DELIBERATE_TYPES[ty]}"] += 1
    else:
        check("type", want_type, got.get("type"))
    have_names = Counter((f"name:{role}", name_key(p)) for role, value in got.items()
                         if isinstance(value, list) and value and isinstance(value[0], dict) for p in value)
    for i, creator in enumerate(expected.get("creators", [])):
        role = ROLES.get(creator["creatorType"])
        if role is None:
            unscored[f"creator type {creator['creatorType']}"] += 1
            continue
        key = (f"name:{role}", (creator.get("lastName", ""), creator.get("firstName", "")))
        if have_names[key] > 0:
            have_names[key] -= 1
            tally["match"] += 1
        else:
            tally["miss"] += 1
            misses.append(f"{where}: `creators[{i}]` expected {role} {key[1]!r}, not read")
    if expected.get("tags"):
        check("tags", keywords(", ".join(t["tag"] for t in expected["tags"])), keywords(got.get("keyword", "")))
    for field, want in expected.items():
        if field in ZOTERO_ONLY or field in ("creators", "tags"):
            continue
        variable = FIELDS.get(field)
        if variable is None:
            unscored[field] += 1
        elif field in DATE_FIELDS:
            if not EDTF.match(want):
                deliberate[f"{field}: Zotero's '0000 text' placeholder for a date that is not a date; "
                           "bibsmith reports it and keeps the text in custom.extra"] += 1
            else:
                check(field, want, csl_date(got.get(variable)))
        else:
            check(field, want, got.get(variable))


def main(argv: list[str]) -> int:
    """Print the score, the misses and the deliberate differences."""
    if not CASES.exists():
        print(f"{CASES} is missing (../shared beside the clone)", file=sys.stderr)
        return 1
    tally: Counter = Counter()
    deliberate: Counter = Counter()
    unscored: Counter = Counter()
    misses: list[str] = []
    for case in json.loads(CASES.read_text("utf-8")):
        report = Report()
        raws = ris.split_records(case["input"], case["id"], report)
        records = [ris.to_record(raw, case["id"], report) for raw in raws]
        if len(records) != len(case["expected"]):
            misses.append(f"{case['id']}: expected {len(case['expected'])} records, read {len(records)}")
            tally["miss"] += len(case["expected"])
            continue
        for index, (raw, expected, got) in enumerate(zip(raws, case["expected"], records), 1):
            where = f"{case['id']} record {index} ({raw.fields[0][1]})"
            score_item(where, raw.fields[0][1].upper(), expected, got, tally, misses, deliberate, unscored)
    total = tally["match"] + tally["miss"]
    print(f"RIS reader vs Zotero RIS.js import cases: {tally['match']}/{total} fields "
          f"= {100 * tally['match'] / total:.1f}%")
    print(f"deliberate differences (not scored): {sum(deliberate.values())}")
    for reason, count in sorted(deliberate.items()):
        print(f"  {count:3d} x {reason}")
    print(f"Zotero fields with no CSL counterpart in the README table (not scored): {sum(unscored.values())}")
    print("  " + ", ".join(f"{field} x{count}" for field, count in sorted(unscored.items())))
    if "--quiet" not in argv:
        print(f"misses: {len(misses)}")
        for miss in misses:
            print("  " + miss)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

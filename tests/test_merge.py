"""Merging sources: duplicates by identifier, then by title + first author + year; preprint/published linked."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import bibsmith
from bibsmith import keyfile, lossreport, merge
from bibsmith.diagnostics import Diagnostic, Level, Position
from bibsmith.library import Library
from conftest import REPO, require_shared, require_tool

FIXTURES = Path("tests/fixtures/merge")  # relative: positions in golden files do not name this machine
SOURCES = [str(FIXTURES / name) for name in ("profile.txt", "refs.bib", "zotero.ris")]
GOLDEN = REPO / "tests" / "golden" / "merge"


def read_fixture(prefer: str = "both", merge: str = "dedupe") -> Library:
    """The three sources, look-alikes merged too (--dedupe) unless `merge` says otherwise."""
    import os

    here = os.getcwd()
    os.chdir(REPO)
    try:
        return bibsmith.read(SOURCES, prefer=prefer, merge=merge)
    finally:
        os.chdir(here)


def by_id(library: Library) -> dict[str, dict]:
    return {r["id"]: r for r in library.records}


def rec(title: str, family: str, year: int, **extra) -> dict:
    return {"type": "article-journal", "title": title, "author": [{"family": family, "given": "A."}],
            "issued": {"date-parts": [[year]]}, **extra}


def merged(*records: dict, prefer: str = "both") -> tuple[Library, merge.MergeLog]:
    library = Library()
    for n, record in enumerate(records, 1):
        library.add(record, Position("in.json", n))
    return library, merge.merge(library, prefer)


# ---------------------------------------------------------------- identifiers
@pytest.mark.parametrize("text, expected", [
    ("arXiv:2210.06313v2", "2210.06313"),
    ("2210.06313", "2210.06313"),
    ("arxiv: 1501.00001v12", "1501.00001"),
    ("0704.0001", "0704.0001"),
    ("hep-th/9711200v3", "hep-th/9711200"),
    ("arXiv:hep-th/9711200", "hep-th/9711200"),
    ("math.ag/0309136", "math.AG/0309136"),
    ("10.48550/arXiv.2210.06313", "2210.06313"),
    ("https://doi.org/10.48550/ARXIV.hep-th/9711200", "hep-th/9711200"),
    ("https://arxiv.org/abs/2208.06825v1", "2208.06825"),
    ("http://arxiv.org/pdf/hep-th/9711200v2.pdf", "hep-th/9711200"),
    ("10.1038/nature14539", None),
    ("ISBN 978-0-262-03924-6", None),
], ids=lambda v: str(v))
def test_arxiv_id_spellings(text: str, expected: str | None) -> None:
    assert merge.arxiv_id(text) == expected


@pytest.mark.parametrize("text, expected", [
    ("10.1038/nature14539", "10.1038/nature14539"),
    ("https://doi.org/10.1038/NATURE14539", "10.1038/nature14539"),
    ("http://dx.doi.org/10.4310/ATMP.1998.v2.n2.a1", "10.4310/atmp.1998.v2.n2.a1"),
    ("doi: 10.1000/XYZ ", "10.1000/xyz"),
    ("nature14539", None),
])
def test_doi_normalization(text: str, expected: str | None) -> None:
    assert merge.normalize_doi(text) == expected


@pytest.mark.parametrize("title, expected", [
    ("Über {NP}-hard \\emph{Graphs}", "uber np hard graphs"),
    ("Deep learning", "deep learning"),
    ("Deep Learning.", "deep learning"),
    ("The Large {$N$} Limit of Superconformal Field Theories", "the large n limit of superconformal field theories"),
    ("Learning to Rank: Theory & Practice", "learning to rank theory and practice"),
    ("Sch\\\"{o}lkopf’s “Kernels”", "scholkopf s kernels"),
    ("Schölkopf's Kernels", "scholkopf s kernels"),
    ("\\v{S}ediv\\'y and {\\o}ksendal \\c c", "sedivy and oksendal c"),
    ("$\\alpha$-Divergence for \\textbf{Neural} Nets", "divergence for neural nets"),
    ("α-Divergence for Neural Nets", "divergence for neural nets"),
])
def test_title_fingerprint_folds_case_accents_punctuation_and_latex(title: str, expected: str) -> None:
    assert merge.title_fingerprint(title) == expected


# ---------------------------------------------------------------- what is a duplicate
def test_same_doi_written_differently_is_one_record() -> None:
    library, log = merged(rec("Deep Learning", "LeCun", 2015, DOI="10.1038/nature14539"),
                          rec("Deep learning", "LeCun", 2015, DOI="https://doi.org/10.1038/NATURE14539"))
    assert len(library) == 1
    assert log.merges[0].matched == ["same DOI 10.1038/nature14539"]
    assert library.records[0]["DOI"] == "10.1038/nature14539"
    assert [c.field for c in log.merges[0].choices] == ["title"]  # the DOIs agree, only the title's case differs


def test_arxiv_id_with_version_matches_arxiv_doi_and_old_style() -> None:
    a = {"type": "article", "title": "X", "publisher": "arXiv", "number": "arXiv:2210.06313v3"}
    b = {"type": "article", "title": "Y", "publisher": "arXiv", "DOI": "10.48550/arXiv.2210.06313"}
    c = {"type": "article", "title": "Old", "publisher": "arXiv", "number": "arXiv:hep-th/9711200v1"}
    d = {"type": "article", "title": "Old", "publisher": "arXiv", "URL": "https://arxiv.org/abs/hep-th/9711200"}
    library, log = merged(a, b, c, d)
    assert len(library) == 2
    assert [m.matched for m in log.merges] == [["same arXiv id 2210.06313"], ["same arXiv id hep-th/9711200"]]


def test_a_record_with_both_identifiers_joins_two_groups() -> None:
    a = rec("Deep Networks: A Study", "Hinton", 2006, DOI="10.1/dn", **{"container-title": "Science"})
    b = rec("Deep Networks", "Hinton", 2006, URL="https://arxiv.org/abs/0601.00001", **{"container-title": "Science"})
    c = rec("Deep networks", "Hinton", 2006, DOI="10.1/DN", number="arXiv:0601.00001v2")
    library, log = merged(a, b, c)
    assert len(library) == 1 and library.records[0]["title"] == "Deep Networks: A Study"
    assert log.merges[0].sources == [Position("in.json", 1), Position("in.json", 2), Position("in.json", 3)]
    assert log.merges[0].matched == ["same arXiv id 0601.00001 as a record read later", "same DOI 10.1/dn"]


@pytest.mark.parametrize("second, merges", [
    (rec("Deep Learning", "LeCun", 2016), True),                # year within one
    (rec("DEEP LEARNING!", "Lecun", 2014), True),               # case and punctuation folded
    (rec("Deep Learning", "LeCun", 2017), False),               # two years apart
    (rec("Deep Learning", "Goodfellow", 2015), False),          # another first author: another paper
    (rec("Deep Learning", "LeCun", 2015, DOI="10.1/other"), False),  # different DOIs: different works
    (rec("Deep Learning", "LeCun", 2015, type="book"), False),  # a book is not a journal article
    (rec("Deep Learning", "LeCun", 2015, type="article"), True),  # a generic type agrees with any
    ({"type": "article-journal", "title": "Deep Learning", "author": [{"family": "LeCun"}]}, False),  # no year
], ids=["year+1", "folded", "year+2", "other-author", "other-doi", "other-type", "generic-type", "no-year"])
def test_title_author_year_rule(second: dict, merges: bool) -> None:
    library, _ = merged(rec("Deep Learning", "LeCun", 2015, DOI="10.1038/nature14539"), second)
    assert len(library) == (1 if merges else 2)


def test_particles_written_apart_or_in_the_family_name_agree() -> None:
    a = {"type": "article", "title": "WaveNet", "issued": {"date-parts": [[2016]]},
         "author": [{"given": "Aäron", "non-dropping-particle": "van den", "family": "Oord"}]}
    b = {"type": "article", "title": "Wavenet", "issued": {"date-parts": [[2016]]},
         "author": [{"given": "Aaron", "family": "van den Oord"}]}
    library, _ = merged(a, b)
    assert len(library) == 1


def test_two_editions_are_never_merged_even_a_year_apart() -> None:
    first = rec("Reinforcement Learning", "Sutton", 2018, type="book", edition="1st")
    second = rec("Reinforcement Learning", "Sutton", 2019, type="book", edition="Second edition")
    again = rec("Reinforcement Learning", "Sutton", 2019, type="book", edition="2")
    library, log = merged(first, second, again)
    assert [r["edition"] for r in library.records] == ["1st", "Second edition"]
    assert log.merges[0].choices == []  # 'Second edition' and '2' are the same edition


def test_isbn_10_and_13_of_one_book_agree_and_different_isbns_do_not() -> None:
    same, _ = merged(rec("RL", "Sutton", 1998, type="book", ISBN="0262193981"),
                     rec("RL", "Sutton", 1998, type="book", ISBN="978-0-262-19398-6"))
    other, _ = merged(rec("RL", "Sutton", 1998, type="book", ISBN="0262193981"),
                      rec("RL", "Sutton", 1998, type="book", ISBN="9780262039246"))
    assert (len(same), len(other)) == (1, 2)


# ---------------------------------------------------------------- richer values, and why
def test_richer_value_per_field_and_the_log_says_why() -> None:
    profile = {"type": "article", "title": "Lazy Neurons", "publisher": "arXiv", "genre": "Preprint",
               "author": [{"family": "Li", "given": "Zonglin"}], "issued": {"date-parts": [[2022, 10, 12]]},
               "keyword": "cs.LG", "custom": {"authors_truncated": True, "organizations": ["deepmind"]}}
    bib = {"id": "li2022lazy", "type": "article", "title": "Lazy Neurons", "publisher": "arXiv",
           "author": [{"family": "Li", "given": "Zonglin"}, {"family": "You", "given": "Chong"}],
           "issued": {"date-parts": [[2022]]}, "keyword": "sparsity, CS.LG", "number": "arXiv:2210.06313",
           "custom": {"organizations": ["google"]}}
    library, log = merged(profile, bib)
    assert library.records == [{
        "type": "article", "title": "Lazy Neurons", "publisher": "arXiv", "genre": "Preprint",
        "author": [{"family": "Li", "given": "Zonglin"}, {"family": "You", "given": "Chong"}],
        "issued": {"date-parts": [[2022, 10, 12]]}, "keyword": "cs.LG, sparsity",
        "custom": {"organizations": ["deepmind", "google"]}, "id": "li2022lazy", "number": "arXiv:2210.06313",
    }]
    entry = log.merges[0]
    assert entry.sources == [Position("in.json", 1), Position("in.json", 2)]
    assert entry.matched == ["same title, first author and year (within one)"]
    assert [(c.field, c.value, c.source, c.reason, c.others) for c in entry.choices] == [
        ("issued", '{"date-parts": [[2022, 10, 12]]}', Position("in.json", 1), "more precise date",
         [(Position("in.json", 2), '{"date-parts": [[2022]]}')]),
        ("keyword", "cs.LG, sparsity", None, "keywords of all sources joined",
         [(Position("in.json", 1), "cs.LG"), (Position("in.json", 2), "sparsity, CS.LG")]),
        ("id", "li2022lazy", Position("in.json", 2), "only this source has it", []),
        ("number", "arXiv:2210.06313", Position("in.json", 2), "only this source has it", []),
        ("author", "Li, Zonglin; You, Chong", Position("in.json", 2), "complete list of 2 names",
         [(Position("in.json", 1), "Li, Zonglin et al.")]),
    ]


def test_longer_title_and_first_input_on_a_tie() -> None:
    library, log = merged(rec("Attention", "Vaswani", 2017, DOI="10.1/a", volume="30"),
                          rec("Attention: All You Need", "Vaswani", 2017, DOI="10.1/A", volume="31"))
    assert library.records[0]["title"] == "Attention: All You Need"
    assert library.records[0]["volume"] == "30"
    reasons = {c.field: c.reason for c in log.merges[0].choices}
    assert reasons == {"title": "longer", "volume": "values differ; the first input's is kept"}


# ---------------------------------------------------------------- preprint and published
def test_preprint_and_published_are_linked_not_merged() -> None:
    preprint = {"type": "article", "title": "Teacher Guided Training", "publisher": "arXiv", "genre": "Preprint",
                "author": [{"family": "Zaheer"}], "issued": {"date-parts": [[2022]]}, "number": "arXiv:2208.06825"}
    published = {"type": "paper-conference", "title": "Teacher guided training", "author": [{"family": "Zaheer"}],
                 "issued": {"date-parts": [[2024]]}, "container-title": "ICLR", "DOI": "10.5555/TGT"}
    library, log = merged(dict(preprint, id="p"), dict(published, id="q"))
    assert [r["id"] for r in library.records] == ["p", "q"]
    assert library.records[0]["custom"]["related"] == [
        {"id": "q", "relation": "published-version", "listed": True, "DOI": "10.5555/TGT"}]
    assert library.records[1]["custom"]["related"] == [
        {"id": "p", "relation": "preprint-version", "listed": True, "arxiv": "2208.06825"}]
    assert log.links[0].reason == "same title and first author, published within three years of the preprint"


def test_published_version_five_years_later_is_not_linked_by_title() -> None:
    library, log = merged({"type": "article", "title": "T", "publisher": "arXiv", "author": [{"family": "Z"}],
                           "issued": {"date-parts": [[2015]]}, "id": "p"},
                          dict(rec("T", "Z", 2020), id="q"))
    assert log.links == [] and "custom" not in library.records[0]


# ---------------------------------------------------------------- the three-source fixture
def test_fixture_merged_output_matches_golden() -> None:
    library = read_fixture()
    assert [str(d) for d in library.report] == []
    assert bibsmith.write(library, "csl-json") == (GOLDEN / "merged.csl.json").read_text(encoding="utf-8")


def test_fixture_same_paper_from_three_sources_field_by_field() -> None:
    lazy = by_id(read_fixture())["li2022lazy"]
    assert lazy["type"] == "article"
    assert lazy["title"] == "The Lazy Neuron Phenomenon: On Emergence of Activation Sparsity in Transformers"
    assert [a["family"] for a in lazy["author"]] == ["Li", "You", "Bhojanapalli", "Li", "Rawat", "Reddi", "Ye",
                                                     "Chern", "Yu", "Guo", "Kumar"]  # the bib's complete list
    assert lazy["issued"] == {"date-parts": [[2022, 10, 12]]}  # the profile's full date, not the bib's year
    assert lazy["DOI"] == "10.48550/arXiv.2210.06313"          # from the .bib
    assert lazy["number"] == "arXiv:2210.06313v2"              # from the .ris
    assert lazy["URL"] == "https://arxiv.org/abs/2210.06313v2"
    assert lazy["publisher"] == "arXiv" and lazy["genre"] == "Preprint"
    assert lazy["keyword"] == "cs.LG, sparsity"
    assert lazy["abstract"].startswith("This paper studies the curious phenomenon")  # only the profile has it
    assert "authors_truncated" not in lazy["custom"]  # the list is complete now
    assert (lazy["custom"]["arxiv_category"], lazy["custom"]["organizations"]) == ("cs.LG", ["deepmind"])


def test_fixture_pairs_same_titles_and_editions() -> None:
    records = by_id(read_fixture())
    assert sorted(records) == ["Maldacena:1997re", "goodfellow2016deep", "hep-th/9711200", "lecun2015deep",
                               "li2022lazy", "sutton1998reinforcement", "sutton2018reinforcement",
                               "zaheer2022teacher", "zaheer2023teacher", "zhou2023distillspec"]
    # Same title "Deep Learning", other authors: two papers; the Nature paper from two sources is one.
    assert records["lecun2015deep"]["issued"] == {"date-parts": [[2015, 5, 28]]}
    assert records["lecun2015deep"]["DOI"] == "10.1038/nature14539"
    assert records["goodfellow2016deep"]["type"] == "book"
    # Two editions stay two; the second edition from two sources is one.
    assert (records["sutton2018reinforcement"]["edition"], records["sutton1998reinforcement"]["edition"]) == ("Second", "1st")
    assert records["sutton2018reinforcement"]["publisher"] == "The MIT Press"
    # Preprint and published version: linked both ways, each with the other's identifiers.
    assert records["hep-th/9711200"]["custom"]["related"] == [{
        "id": "Maldacena:1997re", "relation": "published-version", "listed": True,
        "DOI": "10.4310/ATMP.1998.v2.n2.a1", "arxiv": "hep-th/9711200"}]
    assert records["Maldacena:1997re"]["custom"]["related"] == [{
        "id": "hep-th/9711200", "relation": "preprint-version", "listed": True, "arxiv": "hep-th/9711200"}]
    assert records["zaheer2023teacher"]["custom"]["related"] == [{
        "id": "zaheer2022teacher", "relation": "preprint-version", "listed": True, "arxiv": "2208.06825"}]


@pytest.mark.parametrize("prefer, missing", [
    ("both", []),
    ("published", ["hep-th/9711200", "zaheer2022teacher"]),
    ("preprint", ["Maldacena:1997re", "zaheer2023teacher"]),
])
def test_prefer_chooses_what_is_listed(prefer: str, missing: list[str]) -> None:
    library = read_fixture(prefer)
    everything = {"Maldacena:1997re", "goodfellow2016deep", "hep-th/9711200", "lecun2015deep", "li2022lazy",
                  "sutton1998reinforcement", "sutton2018reinforcement", "zaheer2022teacher", "zaheer2023teacher",
                  "zhou2023distillspec"}
    assert set(by_id(library)) == everything - set(missing)
    log = library.metadata["merge_log"]
    assert sorted(r["id"] for r, _, _ in log.hidden) == missing
    if prefer == "published":
        assert by_id(library)["zaheer2023teacher"]["custom"]["related"] == [{
            "id": "zaheer2022teacher", "relation": "preprint-version", "listed": False, "arxiv": "2208.06825"}]
    assert len(library.positions) == len(library.records)


def test_merged_records_validate_against_the_official_csl_schema() -> None:
    from jsonschema import Draft7Validator

    schema = json.loads(require_shared("schemas", "csl", "csl-data.json").read_text(encoding="utf-8"))
    records = read_fixture().records
    assert sorted(Draft7Validator(schema).iter_errors(records), key=str) == []


def test_report_file_and_one_line_summary_golden(tmp_path: Path) -> None:
    report = tmp_path / "report.txt"
    result = subprocess.run([sys.executable, "-m", "bibsmith", "convert", *SOURCES, "--to", "csl-json",
                             "--dedupe", "--report", str(report)], capture_output=True, text=True, cwd=REPO, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines() == [
        f"bibsmith: 15 records read, 5 duplicates merged into 4 records, 2 preprint/published pairs linked; "
        f"10 listed; 0 format warnings; report in {report}",
    ]
    assert report.read_text(encoding="utf-8") == (GOLDEN / "report.txt").read_text(encoding="utf-8")


def test_merging_the_output_with_its_sources_changes_nothing(tmp_path: Path) -> None:
    first = tmp_path / "first.json"
    first.write_text(bibsmith.write(read_fixture(), "csl-json"), encoding="utf-8")
    import os

    here = os.getcwd()
    os.chdir(REPO)
    try:
        again = bibsmith.read([str(first), *SOURCES], merge="dedupe")
    finally:
        os.chdir(here)
    assert [str(d) for d in again.report] == []
    assert bibsmith.write(again, "csl-json") == first.read_text(encoding="utf-8")
    assert again.metadata["merge_log"].summary() == (
        "25 records read, 15 duplicates merged into 10 records, 2 preprint/published pairs linked")


def test_cli_prefer_published_lists_only_published_versions() -> None:
    result = subprocess.run([sys.executable, "-m", "bibsmith", "convert", *SOURCES, "--to", "csl-json",
                             "--dedupe", "--prefer", "published"], capture_output=True, text=True, cwd=REPO, timeout=120)
    assert result.returncode == 0, result.stderr
    ids = [r["id"] for r in json.loads(result.stdout)]
    assert ids == ["li2022lazy", "zhou2023distillspec", "zaheer2023teacher", "Maldacena:1997re", "lecun2015deep",
                   "sutton2018reinforcement", "goodfellow2016deep", "sutton1998reinforcement"]
    assert result.stderr.splitlines()[-1] == (
        "bibsmith: 15 records read, 5 duplicates merged into 4 records, 2 preprint/published pairs linked, "
        "2 hidden by --prefer; 8 listed; 0 format warnings")


def test_cli_rejects_an_unknown_prefer_value() -> None:
    result = subprocess.run([sys.executable, "-m", "bibsmith", "convert", *SOURCES, "--to", "csl-json",
                             "--prefer", "newest"], capture_output=True, text=True, cwd=REPO, timeout=120)
    assert result.returncode == 2 and result.stdout == ""
    assert "'newest' is not one of 'both', 'published', 'preprint'" in result.stderr


def test_report_puts_format_losses_under_their_record() -> None:
    library = read_fixture()
    lazy = next(i for i, r in enumerate(library.records) if r["id"] == "li2022lazy")
    # A writer warns at the record's position; a reader warned inside a merged part (the .ris lines).
    sections = lossreport.Sections(
        read=[Diagnostic(Level.WARNING, "ris-tag", "guessed the month", Position("tests/fixtures/merge/zotero.ris", 20))],
        written=[("bibtex", [Diagnostic(Level.WARNING, "lost", "abstract dropped", library.position_of(lazy)),
                             Diagnostic(Level.WARNING, "lost", "no field for custom.organizations")])])
    text = lossreport.build(library, sections)
    block = text.split("\n\n")[1]
    assert block.startswith("li2022lazy: The Lazy Neuron Phenomenon")
    assert block.splitlines()[-2:] == [
        "  read: tests/fixtures/merge/zotero.ris:20: warning: guessed the month",
        "  bibtex: tests/fixtures/merge/profile.txt:12: warning: abstract dropped",
    ]
    assert "not about one record:\n  bibtex: bibsmith: warning: no field for custom.organizations\n" in text


def test_one_source_without_duplicates_is_left_alone(sample_path: Path) -> None:
    library = bibsmith.read(sample_path)
    assert "merge_log" not in library.metadata
    assert len(library) == 48 and not any("related" in r.get("custom", {}) for r in library.records)


# ---------------------------------------------------------------- robustness
# Values from a small pool too, so that generated records often share a DOI, title or author and merge.
_value = st.one_of(st.none(), st.booleans(), st.integers(-3, 3), st.text(max_size=5),
                   st.lists(st.text(max_size=3), max_size=2), st.dictionaries(st.text(max_size=3), st.text(max_size=3), max_size=2),
                   st.sampled_from(["10.1/a", "arXiv:2101.00001", "Deep Learning", "book", "article", "arXiv"]),
                   st.just([{"family": "Li", "given": "Z."}]), st.just({"date-parts": [[2020]]}),
                   st.just({"authors_truncated": True, "related": [{"id": "x"}]}))


@settings(max_examples=100, deadline=None)
@given(st.lists(st.dictionaries(st.sampled_from(["id", "type", "title", "author", "issued", "DOI", "number", "URL",
                                                  "custom", "keyword", "publisher", "edition", "ISBN"]), _value,
                                max_size=8), max_size=6))
def test_malformed_records_never_crash_and_nothing_is_lost(items: list[dict]) -> None:
    library = Library()
    for n, item in enumerate(items, 1):
        library.add(item, Position("x.json", n))
    for item in items:
        keyfile.identities(item)  # identities of any record, however malformed, without a crash
    log = merge.combine(library)
    merge.finish(library, log, "published")  # (keys are the normalizer's job; links then have no id)
    assert len(library.records) == len(library.positions)
    assert len(library) + len(log.hidden) + sum(len(m.sources) - 1 for m in log.merges) == len(items)


# ---------------------------------------------------------------- what is merged: nothing unless asked (issue 15)
def _bib(path: Path, *entries: str) -> Path:
    path.write_text("\n".join(entries), encoding="utf-8")
    return path


LECUN = "@article{%s,\n  title = {%s},\n  author = {LeCun, Yann and Bengio, Yoshua},\n  journal = {Nature},\n  year = {2015},%s\n}\n"


def _cli(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "bibsmith", *args], capture_output=True, text=True, cwd=cwd, timeout=120)


def test_xampl_keeps_all_36_entries_with_their_keys(tmp_path: Path) -> None:
    import bibtexparser

    found = subprocess.run([require_tool("kpsewhich"), "xampl.bib"], capture_output=True, text=True).stdout.strip()
    if not found:
        pytest.skip("xampl.bib is not installed")
    keys = [e.key for e in bibtexparser.parse_string(Path(found).read_text(encoding="utf-8")).entries]
    assert len(keys) == 36
    # --unicode: unpublished-*'s author holds a combining macron that has no LaTeX form.
    result = _cli("convert", found, "--to", "bibtex", "--unicode")
    assert result.returncode == 0, result.stderr
    assert [e.key for e in bibtexparser.parse_string(result.stdout).entries] == keys
    alike = [line.split(": warning: ")[1] for line in result.stderr.splitlines() if "looks like a duplicate" in line]
    assert alike[:3] == [
        f"looks like a duplicate of article-minimal ({found}:11): same title and first author",
        f"looks like a duplicate of incollection-minimal ({found}:144): same title and first author",
        f"looks like a duplicate of incollection-minimal ({found}:144): same title and first author",
    ]
    assert len(alike) == 8
    assert result.stderr.splitlines()[-1] == ("bibsmith: 36 records read, 0 duplicates merged into 0 records, "
                                              "0 preprint/published pairs linked, 8 likely duplicates not merged; "
                                              "36 listed; 0 format warnings")
    dedupe = _cli("convert", found, "--to", "csl-json", "--dedupe")
    records = {r["id"]: r for r in json.loads(dedupe.stdout)}
    assert len(records) == 28
    assert records["article-minimal"]["custom"]["aliases"] == ["article-full"]
    assert records["incollection-minimal"]["custom"]["aliases"] == ["incollection-full", "incollection-crossref"]


def test_iridia_tunability_2018_and_2019_both_survive_one_input() -> None:
    # articles.bib alone (its @string files not read): both read as journal articles, alike by title.
    path = require_shared("data", "iridia-references", "articles.bib")
    library = bibsmith.read(path)
    assert len(library) == 1509
    records = by_id(library)
    assert (records["ProBisBou2018tuna"]["issued"], records["ProBisBou2019tuna"]["issued"]) == (
        {"date-parts": [[2018]]}, {"date-parts": [[2019]]})
    assert records["ProBisBou2019tuna"]["volume"] == "20" and "volume" not in records["ProBisBou2018tuna"]
    assert f"{path}:16022: warning: looks like a duplicate of ProBisBou2018tuna ({path}:16011): " \
           "same title and first author" in [str(d) for d in library.report]
    assert library.metadata["merge_log"].merges == []
    dedupe = by_id(bibsmith.read(path, merge="dedupe"))
    assert "ProBisBou2019tuna" not in dedupe
    assert dedupe["ProBisBou2018tuna"]["custom"]["aliases"] == ["ProBisBou2019tuna"]
    assert dedupe["ProBisBou2018tuna"]["volume"] == "20"


def test_iridia_with_its_strings_links_the_tunability_preprint_and_never_merges_it(tmp_path: Path) -> None:
    folder = require_shared("data", "iridia-references")
    texts = [(folder / name).read_text(encoding="utf-8") for name in
             ("abbrev.bib", "journals.bib", "authors.bib", "crossref.bib", "biblio.bib", "articles.bib")]
    path = tmp_path / "iridia.bib"  # one input, the @string files first
    path.write_text("".join(t if t.endswith("\n") else t + "\n" for t in texts), encoding="utf-8")
    for merge_mode in ("auto", "dedupe"):
        library = bibsmith.read(path, merge=merge_mode)
        records = by_id(library)
        assert records["ProBisBou2018tuna"]["custom"]["related"] == [
            {"id": "ProBisBou2019tuna", "relation": "published-version", "listed": True}]
        assert records["ProBisBou2019tuna"]["custom"]["related"] == [
            {"id": "ProBisBou2018tuna", "relation": "preprint-version", "listed": True, "arxiv": "1802.09596"}]
        assert not any("ProBisBou" in str(d) for d in library.report)


def test_several_inputs_sharing_a_doi_merge_without_dedupe(tmp_path: Path) -> None:
    a = _bib(tmp_path / "a.bib", LECUN % ("lecun2015deep", "Deep Learning", "\n  doi = {10.1038/nature14539},"),
             LECUN % ("LeCun:2015", "Deep learning", "\n  pages = {436--444},"))
    b = _bib(tmp_path / "b.bib", LECUN % ("nature2015", "Deep learning", "\n  doi = {https://doi.org/10.1038/NATURE14539},"))
    library = bibsmith.read([a, b], keep_source=False)
    assert [r["id"] for r in library.records] == ["lecun2015deep", "LeCun:2015"]
    assert library.records[0]["custom"] == {"aliases": ["nature2015"]}
    assert [str(d) for d in library.report] == [
        f"{a}:9: warning: looks like a duplicate of lecun2015deep ({a}:1): same title and first author"]
    log = library.metadata["merge_log"]
    assert [m.matched for m in log.merges] == [["same DOI 10.1038/nature14539"]]
    assert log.summary() == ("3 records read, 1 duplicates merged into 1 records, 0 preprint/published pairs linked, "
                             "1 likely duplicates not merged")
    dedupe = bibsmith.read([a, b], merge="dedupe", keep_source=False)
    assert [r["id"] for r in dedupe.records] == ["lecun2015deep"]
    assert dedupe.records[0]["custom"] == {"aliases": ["LeCun:2015", "nature2015"]}


def test_no_merge_merges_nothing_and_reports_every_pair(tmp_path: Path) -> None:
    a = _bib(tmp_path / "a.bib", LECUN % ("lecun2015deep", "Deep Learning", "\n  doi = {10.1038/nature14539},"))
    b = _bib(tmp_path / "b.bib", LECUN % ("nature2015", "Deep learning", "\n  doi = {10.1038/NATURE14539},"))
    library = bibsmith.read([a, b], merge="none", keep_source=False)
    assert [r["id"] for r in library.records] == ["lecun2015deep", "nature2015"]
    assert not any("custom" in r for r in library.records)
    assert [str(d) for d in library.report] == [
        f"{b}:1: warning: looks like a duplicate of lecun2015deep ({a}:1): same DOI 10.1038/nature14539"]
    result = _cli("convert", str(a), str(b), "--to", "csl-json", "--no-merge")
    assert result.returncode == 0 and [r["id"] for r in json.loads(result.stdout)] == ["lecun2015deep", "nature2015"]


def test_one_input_sharing_a_doi_is_not_merged_and_several_inputs_merge_only_across_them(tmp_path: Path) -> None:
    # Crossref children carry their proceedings' DOI: in one input they are distinct works.
    a = _bib(tmp_path / "a.bib", LECUN % ("one", "Deep Learning", "\n  doi = {10.1/x},"),
             LECUN % ("two", "Shallow Learning", "\n  doi = {10.1/x},"))
    alone = bibsmith.read(a, keep_source=False)
    assert [r["id"] for r in alone.records] == ["one", "two"]
    assert [str(d) for d in alone.report] == [f"{a}:9: warning: looks like a duplicate of one ({a}:1): same DOI 10.1/x"]
    b = _bib(tmp_path / "b.bib", LECUN % ("three", "Deep Learning", "\n  doi = {10.1/X},"))
    both = bibsmith.read([a, b], keep_source=False)
    assert [(r["id"], r.get("custom")) for r in both.records] == [("one", {"aliases": ["three"]}), ("two", None)]
    assert [str(d) for d in both.report] == [f"{a}:9: warning: looks like a duplicate of one ({a}:1): same DOI 10.1/x"]


def test_fixture_without_dedupe_merges_only_shared_identifiers() -> None:
    library = read_fixture(merge="auto")
    log = library.metadata["merge_log"]
    assert [(m.record["id"], m.matched) for m in log.merges] == [
        ("li2022lazy", ["same arXiv id 2210.06313"]), ("lecun2015deep", ["same DOI 10.1038/nature14539"]),
        ("sutton2018reinforcement", ["same ISBN 9780262039246"])]
    assert [str(d) for d in library.report][:2] == [
        'tests/fixtures/merge/refs.bib:3: warning: looks like a duplicate of "The Lazy Neuron Phenomenon: On '
        'Emergence of Activation Sparsity in ..." (tests/fixtures/merge/profile.txt:12): same title and first author',
        'tests/fixtures/merge/zotero.ris:34: warning: looks like a duplicate of "Teacher Guided Training: An '
        'Efficient Framework for Knowledge Transfer" (tests/fixtures/merge/profile.txt:19): same title and first author',
    ]
    assert len(library) == 12


def test_cli_dedupe_and_no_merge_together_is_a_usage_error() -> None:
    result = _cli("convert", *SOURCES, "--to", "csl-json", "--dedupe", "--no-merge")
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == "bibsmith: error: --dedupe and --no-merge cannot be used together\n"


def test_api_rejects_an_unknown_merge_value() -> None:
    with pytest.raises(bibsmith.UsageError, match="merge must be one of auto, dedupe, none, not 'all'"):
        bibsmith.read(SOURCES, merge="all")


def test_check_reports_likely_duplicates(tmp_path: Path) -> None:
    a = _bib(tmp_path / "a.bib", LECUN % ("lecun2015deep", "Deep Learning", ""), LECUN % ("LeCun:2015", "Deep learning", ""))
    result = _cli("check", str(a))
    assert result.returncode == 0
    assert result.stderr.splitlines() == [
        f"{a}:8: warning: looks like a duplicate of lecun2015deep ({a}:1): same title and first author",
        "2 records, 0 errors, 1 warnings"]


def test_aliases_round_trip_and_an_alias_that_is_another_key_is_dropped(tmp_path: Path) -> None:
    a = _bib(tmp_path / "a.bib", LECUN % ("x", "Deep Learning", "\n  doi = {10.1/d},"))
    b = _bib(tmp_path / "b.bib", LECUN % ("y", "Deep Learning", "\n  doi = {10.1/d},"),
             LECUN % ("x", "Other Paper", ""))
    library = bibsmith.read([a, b], keep_source=False)
    # b's second entry had key x too: it is x-2 now, and y stays an alias of the merged x.
    assert [(r["id"], r.get("custom")) for r in library.records] == [("x", {"aliases": ["y"]}), ("x-2", None)]
    out = tmp_path / "out.json"
    out.write_text(bibsmith.write(library, "csl-json"), encoding="utf-8")
    again = bibsmith.read([out], keep_source=False)
    assert again.records[0]["custom"] == {"aliases": ["y"]}
    # An alias that another record has as its key cannot stay an alias.
    c = _bib(tmp_path / "c.bib", LECUN % ("y", "A Third Paper", ""))
    taken = bibsmith.read([a, b, c], keep_source=False)
    assert [(r["id"], r.get("custom")) for r in taken.records] == [("x", None), ("x-2", None), ("y", None)]
    assert [str(d) for d in taken.report][-1] == f"{a}:1: warning: record x: alias 'y' is dropped: another record has this key"


def test_key_file_keeps_aliases_reserved_and_the_record_its_key(tmp_path: Path) -> None:
    a = _bib(tmp_path / "a.bib", LECUN % ("lecun2015deep", "Deep Learning", "\n  doi = {10.1038/nature14539},"),
             LECUN % ("LeCun:2015", "Deep learning", ""))
    b = _bib(tmp_path / "b.bib", LECUN % ("nature2015", "Deep learning", "\n  doi = {10.1038/nature14539},"))
    keys = tmp_path / "bibsmith.keys"
    for _ in range(2):  # the second run finds every key recorded: nothing changes, nothing is added
        result = _cli("convert", str(a), str(b), "--to", "csl-json", "--key-file", str(keys))
        assert result.returncode == 0, result.stderr
        assert [r["id"] for r in json.loads(result.stdout)] == ["lecun2015deep", "LeCun:2015"]
        assert "key-" not in result.stderr and "is now" not in result.stderr
        # The alias line first: the last line for an identity is the key it gets back. The two look-alikes
        # share their title identity, which therefore names neither.
        assert keys.read_text(encoding="utf-8") == keyfile.HEADER + (
            "nature2015 doi:10.1038/nature14539\nlecun2015deep doi:10.1038/nature14539\n")
    # Read alone, the other file's record gets the work's recorded key, not its input key (now an alias line).
    result = _cli("convert", str(b), "--to", "csl-json", "--key-file", str(keys))
    assert [r["id"] for r in json.loads(result.stdout)] == ["lecun2015deep"]


def test_report_names_the_aliases_and_the_formats_that_cannot_hold_them(tmp_path: Path) -> None:
    a = _bib(tmp_path / "a.bib", LECUN % ("lecun2015deep", "Deep Learning", "\n  doi = {10.1038/nature14539},"))
    b = _bib(tmp_path / "b.bib", LECUN % ("nature2015", "Deep Learning", "\n  doi = {10.1038/nature14539},"))
    report = tmp_path / "report.txt"
    result = _cli("convert", "a.bib", "b.bib", "--to", "orcid", "--report", str(report), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    text = report.read_text(encoding="utf-8")
    assert text.split("\n\n")[1].splitlines()[:5] == [
        "lecun2015deep: Deep Learning",
        "  merged from: a.bib:1, b.bib:1",
        "    b.bib:1 matched: same DOI 10.1038/nature14539",
        "    id = 'lecun2015deep' from a.bib:1 (the first key read; the others are its aliases)",
        "      not 'nature2015' from b.bib:1",
    ]
    assert text.split("\n\n")[2].splitlines() == [
        "not about one record:",
        "  orcid: bibsmith: warning: ORCID works have no element for: custom.aliases (1 work); left out of the works"]

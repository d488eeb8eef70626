"""ORCID works feed writer: valid against ORCID's 3.0 XSD, checks before writing, batches, a real round trip."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

import bibsmith
from bibsmith import api
from bibsmith.diagnostics import BibsmithError, Position, Report, UsageError
from bibsmith.library import Library
from bibsmith.readers import orcid as reader
from bibsmith.text.names import display_name
from bibsmith.writers import orcid as writer
from conftest import REPO, require_shared

GOLDEN = REPO / "tests" / "golden" / "orcid"
HARD = REPO / "tests" / "fixtures" / "orcid" / "hard-cases.json"
W = "{http://www.orcid.org/ns/work}"
C = "{http://www.orcid.org/ns/common}"


@pytest.fixture(scope="module")
def bulk_xsd() -> etree.XMLSchema:
    path = require_shared("schemas", "orcid-3.0", "record_3.0", "bulk-3.0.xsd")
    return etree.XMLSchema(etree.parse(str(path)))


def assert_golden(name: str, text: str) -> None:
    """Compare with tests/golden/orcid/NAME; BIBSMITH_UPDATE_GOLDEN=1 rewrites it (then read the diff)."""
    path = GOLDEN / name
    if os.environ.get("BIBSMITH_UPDATE_GOLDEN") == "1":
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8")


def assert_valid(xsd: etree.XMLSchema, text: str) -> etree._Element:
    root = etree.fromstring(text.encode("utf-8"))
    xsd.assertValid(root)
    return root


def feed(library: Library, **options: Any) -> tuple[str, list[str]]:
    report = Report()
    text = writer.write(library, writer.Options(**options), report)
    return text, [str(d) for d in report]


# --- the sample -------------------------------------------------------------------------------------

def test_sample_feed_is_valid_and_says_what_orcid_will_refuse(sample_path: Path, bulk_xsd) -> None:
    library = bibsmith.read(sample_path)
    text, diagnostics = feed(library)
    root = assert_valid(bulk_xsd, text)
    works = root.findall(f"{W}work")
    assert len(works) == 48
    assert diagnostics == [
        "bibsmith: warning: none of the 48 works has an arXiv id or DOI (a 'self' external id): ORCID refuses to "
        "post a work without one; add each paper's arXiv id (number = arXiv:ID) or DOI before uploading",
        "bibsmith: warning: 40 of 48 works list only their first authors (the source said 'et al.'); "
        "ORCID's contributor list cannot say so",
        "bibsmith: warning: ORCID works have no element for: custom.arxiv_category (48 works), "
        "custom.organizations (5 works), keyword (48 works); left out of the works",
    ]


def test_sample_works_carry_each_record(sample_path: Path) -> None:
    library = bibsmith.read(sample_path)
    text, _ = feed(library)
    works = etree.fromstring(text.encode("utf-8")).findall(f"{W}work")
    for record, work in zip(library.records, works, strict=True):
        assert work.findtext(f"{W}title/{C}title") == record["title"]
        assert work.findtext(f"{W}type") == "preprint"
        assert work.findtext(f"{W}short-description") == record["abstract"]
        year, month, day = record["issued"]["date-parts"][0]
        assert [e.text for e in work.find(f"{C}publication-date")] == [str(year), f"{month:02d}", f"{day:02d}"]
        people = work.findall(f"{W}contributors/{W}contributor")
        assert [p.findtext(f"{W}credit-name") for p in people] == [display_name(n) for n in record["author"]]
        assert [p.findtext(f"{W}contributor-attributes/{W}contributor-sequence") for p in people] == (
            ["first"] + ["additional"] * (len(people) - 1))
        assert {p.findtext(f"{W}contributor-attributes/{W}contributor-role") for p in people} == {"author"}
        assert work.find(f"{C}external-ids") is None  # the sample has no arXiv ids yet


def test_sample_round_trips_through_orcid(sample_path: Path) -> None:
    library = bibsmith.read(sample_path)
    text, _ = feed(library)
    back = reader.read(text, "feed.xml")
    # organizations have no ORCID element; they travel in the work's BibTeX citation
    assert back.records == library.records
    assert list(back.report) == []


def test_arxiv_paper_gets_its_abstract_page_as_url() -> None:
    library = one(type="article", number="arXiv:1706.03762", DOI=DROP, publisher="arXiv")
    text, _ = feed(library)
    root = etree.fromstring(text.encode("utf-8"))[0]
    assert root.findtext(f"{C}url") == "https://arxiv.org/abs/1706.03762"
    assert [e.findtext(f"{C}external-id-value") for e in root.iterfind(f"{C}external-ids/{C}external-id")] == [
        "1706.03762"]


def test_sample_first_work_exactly(sample_path: Path) -> None:
    library = bibsmith.read(sample_path)
    library.records[:] = library.records[:1]
    library.records[0]["abstract"] = library.records[0]["abstract"][:60]
    text, _ = feed(library)
    assert_golden("sample-first.xml", text)


# --- hard cases ---------------------------------------------------------------------------------------

def test_hard_cases_validate_and_match_golden(bulk_xsd) -> None:
    library = bibsmith.read(HARD)
    assert not library.report.has_errors
    text, _ = feed(library)
    root = assert_valid(bulk_xsd, text)
    assert len(root) == 7
    assert_golden("hard-cases.xml", text)


def test_hard_cases_diagnostics() -> None:
    _, diagnostics = feed(bibsmith.read(HARD))
    assert [d.replace(str(HARD), "HARD") for d in diagnostics] == [
        "HARD:2:3: warning: oord2023sparse: abstract has 6919 characters; ORCID takes at most 5000, "
        "cut at a word boundary",
        "HARD:71:3: warning: smith2020sample: has no arXiv id or DOI (a 'self' external id); ORCID refuses to "
        "post a work without one",
        "HARD:369:3: warning: roe2018chapter: has no arXiv id or DOI (a 'self' external id); ORCID refuses to "
        "post a work without one",
        "HARD:389:3: warning: lee2024noids: has no arXiv id or DOI (a 'self' external id); ORCID refuses to "
        "post a work without one",
        "bibsmith: warning: 1 of 7 works list only their first authors (the source said 'et al.'); "
        "ORCID's contributor list cannot say so",
        "bibsmith: warning: ORCID works have no element for: custom.arxiv_category (1 work), keyword (1 work), "
        "page (1 work), publisher (1 work), volume (1 work); left out of the works",
    ]


def test_children_follow_the_xsd_order() -> None:
    text, _ = feed(bibsmith.read(HARD))
    first = etree.fromstring(text.encode("utf-8"))[0]
    order = [child.tag.split("}")[1] for child in first]
    expected = ["title", "short-description", "citation", "type", "publication-date", "external-ids", "url",
                "contributors"]
    assert order == [tag for tag in expected if tag in order]
    assert {"title", "type", "publication-date", "external-ids", "url", "contributors"} <= set(order)


def test_long_abstract_is_cut_at_a_word_boundary() -> None:
    library = bibsmith.read(HARD)
    original = library.records[0]["abstract"]
    text, _ = feed(library)
    cut = etree.fromstring(text.encode("utf-8"))[0].findtext(f"{W}short-description")
    assert len(original) == 6919
    assert len(cut) <= 5000 and cut.endswith("\u2026")
    kept = cut[:-1]
    assert original.startswith(kept) and original[len(kept)] == " "
    assert len(cut) == 4999 and kept.endswith("calibration across language")  # "and" would pass 5000


@settings(max_examples=100, deadline=None)
@given(st.lists(st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1, max_size=12),
                min_size=1, max_size=900).map(" ".join))
def test_cut_description_keeps_whole_words(text: str) -> None:
    cut = writer.cut_description(text)
    assert len(cut) <= writer.MAX_DESCRIPTION
    if len(text) <= writer.MAX_DESCRIPTION:
        assert cut == text
    else:
        kept = cut.removesuffix("\u2026")
        assert cut.endswith("\u2026") and text.startswith(kept)
        assert text[len(kept)] in " ,;:" or " " not in text[:writer.MAX_DESCRIPTION]


# --- checks before writing: a table of invalid inputs -------------------------------------------------

DROP = object()
BASE = {"type": "article-journal", "title": "A Title", "DOI": "10.1000/x1", "author": [{"given": "Ann", "family": "Lee"}],
        "issued": {"date-parts": [[2020, 5, 17]]}}


def one(**changes: Any) -> Library:
    record = {"id": "lee2020title", **BASE}
    for key, value in changes.items():
        if value is DROP:
            record.pop(key.replace("_", "-"), None)
        else:
            record[key.replace("_", "-")] = value
    library = Library()
    library.add(record, Position("cases.json", 7, 3))
    return library


AT = "cases.json:7:3"
INVALID = [
    ("no-title", dict(title=DROP), f"{AT}: error: lee2020title: has no title; ORCID requires one"),
    ("blank-title", dict(title=" \n\t "), f"{AT}: error: lee2020title: has no title; ORCID requires one"),
    ("title-1001", dict(title="x" * 1001), f"{AT}: error: lee2020title: title has 1001 characters; ORCID takes at most 1000"),
    ("journal-1001", dict(container_title="j" * 1001),
     f"{AT}: error: lee2020title: journal title has 1001 characters; ORCID takes at most 1000"),
    ("year-1899", dict(issued={"date-parts": [[1899]]}),
     f"{AT}: error: lee2020title: year 1899 is outside 1900-2100, which ORCID accepts"),
    ("year-2101", dict(issued={"date-parts": [[2101, 1]]}),
     f"{AT}: error: lee2020title: year 2101 is outside 1900-2100, which ORCID accepts"),
    ("month-13", dict(issued={"date-parts": [[2020, 13]]}), f"{AT}: error: lee2020title: month 13 is not 1-12"),
    ("february-30", dict(issued={"date-parts": [[2021, 2, 30]]}),
     f"{AT}: error: lee2020title: day 30 does not exist in 2021-02"),
    ("date-words", dict(issued={"date-parts": [["spring"]]}),
     f"{AT}: error: lee2020title: date parts ['spring'] are not numbers"),
    ("url-no-scheme", dict(URL="www.example.org/paper"),
     f"{AT}: error: lee2020title: URL 'www.example.org/paper' is not an absolute http(s) URL without spaces"),
    ("url-space", dict(URL="https://example.org/my paper"),
     f"{AT}: error: lee2020title: URL 'https://example.org/my paper' is not an absolute http(s) URL without spaces"),
    ("doi-not-a-doi", dict(DOI="doi.org/10.1000/x1"),
     f"{AT}: error: lee2020title: DOI 'doi.org/10.1000/x1' does not start with '10.'"),
    ("credit-name-151", dict(author=[{"literal": "N" * 151}]),
     f"{AT}: error: lee2020title: contributor name 'NNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNN'... has 151 characters; "
     "ORCID takes at most 150"),
]


@pytest.mark.parametrize("changes,message", [case[1:] for case in INVALID], ids=[case[0] for case in INVALID])
def test_invalid_input_is_an_error_and_nothing_is_written(changes: dict, message: str) -> None:
    library = one(**changes)
    _, diagnostics = feed(library)
    assert [d for d in diagnostics if ": error: " in d] == [message]
    with pytest.raises(BibsmithError):
        api.write(library, "orcid")


CANNOT_HOLD = [
    ("control-characters", dict(title="Bad\x0bTitle"),
     f"{AT}: warning: lee2020title: title has control characters XML cannot hold; removed"),
    ("literal-date", dict(issued={"literal": "Spring 2020"}),
     f"{AT}: warning: lee2020title: date 'Spring 2020' is not a year, month and day; left out"),
    ("date-range", dict(issued={"date-parts": [[2020, 1], [2020, 3]]}),
     f"{AT}: warning: lee2020title: date range: ORCID takes one date; only the start is written"),
    ("language", dict(language="tlh"),
     f"{AT}: warning: lee2020title: language 'tlh' has no ORCID language code; left out"),
    ("nameless-contributor", dict(author=[{"family": " "}, {"given": "Ann", "family": "Lee"}]),
     f"{AT}: warning: lee2020title: a contributor has no name; left out"),
    ("no-self-id", dict(DOI=DROP),
     f"{AT}: warning: lee2020title: has no arXiv id or DOI (a 'self' external id); ORCID refuses to post a work "
     "without one"),
    ("long-abstract", dict(abstract="word " * 1200),
     f"{AT}: warning: lee2020title: abstract has 5999 characters; ORCID takes at most 5000, cut at a word boundary"),
]


@pytest.mark.parametrize("changes,message", [case[1:] for case in CANNOT_HOLD], ids=[case[0] for case in CANNOT_HOLD])
def test_what_orcid_cannot_hold_is_a_warning_and_the_feed_stays_valid(changes: dict, message: str, bulk_xsd) -> None:
    text, diagnostics = feed(one(**changes))
    assert diagnostics == [message]
    assert len(assert_valid(bulk_xsd, text)) == 1


def test_every_bad_record_is_reported_in_one_run() -> None:
    library = one(title=DROP)
    library.add({"id": "b", "type": "book", "title": "B", "ISBN": "1", "issued": {"date-parts": [[1800]]}},
                Position("cases.json", 20))
    _, diagnostics = feed(library)
    assert diagnostics == [
        f"{AT}: error: lee2020title: has no title; ORCID requires one",
        "cases.json:20: error: b: year 1800 is outside 1900-2100, which ORCID accepts",
    ]


def test_types_and_languages() -> None:
    assert writer.work_type({"type": "article", "publisher": "arXiv"}) == "preprint"
    assert writer.work_type({"type": "article-journal", "genre": "Preprint"}) == "preprint"
    assert writer.work_type({"type": "article-journal", "DOI": "10.1/x"}) == "journal-article"
    assert writer.work_type({"type": "paper-conference"}) == "conference-paper"
    assert writer.work_type({"type": "thesis"}) == "dissertation-thesis"
    assert [writer.language_code(x) for x in ("en-US", "he", "zh-TW", "zh-Hant", "EN", "tlh")] == [
        "en", "iw", "zh_TW", "zh_TW", None, None]


def test_external_ids_and_relationships() -> None:
    record = {"type": "chapter", "number": "arXiv:2101.00001", "DOI": "https://doi.org/10.1/ABC", "ISBN": "9780262033848",
              "ISSN": "1234-5678", "PMID": "123", "custom": {"extra": {"external-id:wosuid:version-of": "WOS:1", "other": "x"}}}
    assert writer.external_ids(record) == [
        ("arxiv", "2101.00001", "https://arxiv.org/abs/2101.00001", "self"),
        ("doi", "10.1/ABC", "https://doi.org/10.1/ABC", "self"),
        ("pmid", "123", "https://pubmed.ncbi.nlm.nih.gov/123", "self"),
        ("isbn", "9780262033848", "", "part-of"),
        ("issn", "1234-5678", "", "part-of"),
        ("wosuid", "WOS:1", "", "version-of"),
    ]


def test_orcid_to_orcid_keeps_contributor_orcid_ids_and_roles(bulk_xsd) -> None:
    library = reader.read((REPO / "tests/fixtures/orcid/full-work.xml").read_text(encoding="utf-8"), "f.xml")
    text, diagnostics = feed(library)
    people = assert_valid(bulk_xsd, text)[0].findall(f"{W}contributors/{W}contributor")
    assert [(p.findtext(f"{C}contributor-orcid/{C}path"), p.findtext(f"{W}credit-name"),
             p.findtext(f"{W}contributor-attributes/{W}contributor-sequence"),
             p.findtext(f"{W}contributor-attributes/{W}contributor-role")) for p in people] == [
        ("0000-0002-1825-0097", "Noa Cohen", "first", "author"),
        (None, "Ludwig van Beethoven", "additional", "author"),
        (None, "OpenAI Research", "additional", "author"),
        (None, "Grace Hopper", "first", "editor"),
    ]
    assert diagnostics == ["bibsmith: warning: ORCID works have no element for: custom.extra.country (1 work); "
                           "left out of the works"]


# --- batches --------------------------------------------------------------------------------------------

def test_batches_are_files_of_at_most_n_works(sample_path: Path, tmp_path: Path, bulk_xsd) -> None:
    library = bibsmith.read(sample_path)
    files = api.outputs(library, "orcid", str(tmp_path / "works.xml"), batch_size=20)
    assert [Path(path).name for path, _ in files] == ["works-001.xml", "works-002.xml", "works-003.xml"]
    counts = [len(assert_valid(bulk_xsd, text)) for _, text in files]
    assert counts == [20, 20, 8]
    titles = [w.findtext(f"{W}title/{C}title") for _, text in files for w in etree.fromstring(text.encode())]
    assert titles == [r["title"] for r in library.records]


@pytest.mark.parametrize("size", [101, 0])
def test_batch_size_outside_1_to_100_is_a_usage_error(sample_path: Path, tmp_path: Path, size: int) -> None:
    library = bibsmith.read(sample_path)
    with pytest.raises(UsageError) as failure:
        api.outputs(library, "orcid", str(tmp_path / "works.xml"), batch_size=size)
    assert str(failure.value) == f"--batch-size {size}: ORCID takes 1 to 100 works per request"


def test_batches_need_an_output_file(sample_path: Path) -> None:
    with pytest.raises(UsageError) as failure:
        feed(bibsmith.read(sample_path), batch_size=10)
    assert str(failure.value) == ("--batch-size 10 splits 48 works into several files; give an output path "
                                  "(-o works.xml writes works-001.xml, works-002.xml, ...)")


def test_one_batch_needs_no_output_file(sample_path: Path, bulk_xsd) -> None:
    text, _ = feed(bibsmith.read(sample_path), batch_size=48)
    assert len(assert_valid(bulk_xsd, text)) == 48


def test_more_than_100_works_in_one_feed_is_a_warning() -> None:
    library = Library()
    for n in range(101):
        library.add({"id": f"k{n}", "type": "article-journal", "title": f"T{n}", "DOI": f"10.1/{n}"})
    _, diagnostics = feed(library)
    assert diagnostics == ["bibsmith: warning: 101 works in one feed; ORCID takes at most 100 per request: "
                           "split it with --batch-size 100 -o FILE"]


def test_cli_writes_batches(sample_path: Path, tmp_path: Path, bulk_xsd) -> None:
    out = tmp_path / "feed" / "orcid.xml"
    result = subprocess.run([sys.executable, "-m", "bibsmith", "convert", str(sample_path), "--to", "orcid",
                             "--batch-size", "25", "-o", str(out)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    assert sorted(p.name for p in out.parent.iterdir()) == ["orcid-001.xml", "orcid-002.xml"]
    assert [len(assert_valid(bulk_xsd, p.read_text(encoding="utf-8"))) for p in sorted(out.parent.iterdir())] == [25, 23]
    assert "none of the 48 works has an arXiv id or DOI" in result.stderr


def test_cli_refuses_a_batch_size_over_100(sample_path: Path, tmp_path: Path) -> None:
    out = tmp_path / "works.xml"
    result = subprocess.run([sys.executable, "-m", "bibsmith", "convert", str(sample_path), "--to", "orcid",
                             "--batch-size", "101", "-o", str(out)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert result.stderr.splitlines()[-1] == "bibsmith: error: --batch-size 101: ORCID takes 1 to 100 works per request"
    assert list(tmp_path.iterdir()) == []


def test_cli_writes_nothing_when_a_record_breaks_a_rule(tmp_path: Path) -> None:
    source = tmp_path / "bad.json"
    source.write_text('[{"id": "old", "type": "book", "title": "Old", "issued": {"date-parts": [[1850]]}}]',
                      encoding="utf-8")
    out = tmp_path / "works.xml"
    result = subprocess.run([sys.executable, "-m", "bibsmith", "convert", str(source), "--to", "orcid", "-o", str(out)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 1
    assert f"{source}:1:2: error: old: year 1850 is outside 1900-2100, which ORCID accepts" in result.stderr.splitlines()
    assert not out.exists()


# --- round trip CSL -> ORCID -> CSL --------------------------------------------------------------------

WORD = st.text(st.sampled_from("abcdefghijklmnopqrstuvwxyzäöüéñłßøçğ"), min_size=1, max_size=9)
CAP = WORD.map(str.capitalize)
NAME = st.builds(lambda g, f: {"given": g, "family": f}, st.lists(CAP, min_size=1, max_size=2).map(" ".join), CAP)
TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc", "Zl", "Zp")), min_size=1, max_size=200)
ABSTRACT = st.one_of(TEXT, st.lists(WORD, min_size=900, max_size=1400).map(" ".join))


@st.composite
def records(draw) -> dict[str, Any]:
    kind = draw(st.sampled_from(["preprint", "article-journal", "paper-conference", "book", "report", "thesis"]))
    record: dict[str, Any] = {"id": "k", "type": "article" if kind == "preprint" else kind,
                              "title": draw(TEXT.filter(lambda t: t.strip())).strip(),
                              "author": draw(st.lists(NAME, min_size=1, max_size=8))}
    year = draw(st.integers(1900, 2100))
    record["issued"] = {"date-parts": [draw(st.sampled_from([[year], [year, 7], [year, 2, 28]]))]}
    abstract = draw(st.none() | ABSTRACT)
    if abstract and abstract.strip():
        record["abstract"] = abstract.strip()
    if kind == "preprint":
        number = f"{draw(st.integers(1001, 2512))}.{draw(st.integers(10000, 99999))}"
        record.update(publisher="arXiv", genre="Preprint", number=f"arXiv:{number}",
                      URL=f"https://arxiv.org/abs/{number}")
    else:
        record["DOI"] = f"10.{draw(st.integers(1000, 99999))}/{draw(WORD)}"
    return record


@settings(max_examples=60, deadline=None)
@given(records())
def test_round_trip_keeps_title_authors_date_type_ids_and_abstract(record: dict[str, Any]) -> None:
    library = Library()
    library.add(record, Position("x.json", 1))
    text, _ = feed(library)
    (back,) = reader.read(text, "feed.xml").records
    assert back["title"] == record["title"]
    assert [display_name(n) for n in back["author"]] == [display_name(n) for n in record["author"]]
    assert back["issued"] == record["issued"]
    assert back["type"] == record["type"]
    assert writer.work_type(back) == writer.work_type(record)
    for variable in ("DOI", "number", "URL"):
        assert back.get(variable) == record.get(variable)
    if record.get("genre") == "Preprint":
        assert (back["genre"], back["publisher"]) == ("Preprint", "arXiv")
    assert back["id"] == "k"  # the key comes back from the BibTeX citation
    if "abstract" in record:
        assert back["abstract"] == writer.cut_description(record["abstract"])
        assert len(back["abstract"]) <= 5000
    else:
        assert "abstract" not in back


def test_linked_versions_carry_version_of_ids(bulk_xsd) -> None:
    import bibsmith

    library = bibsmith.read(sorted((REPO / "tests" / "fixtures" / "merge").iterdir()))
    by_id = {r["id"]: r for r in library.records}
    assert writer.external_ids(by_id["zaheer2023teacher"])[-1] == (
        "arxiv", "2208.06825", "https://arxiv.org/abs/2208.06825", "version-of")
    # the published paper's own arXiv id is the preprint's: it is not listed twice
    assert [i for i in writer.external_ids(by_id["hep-th/9711200"]) if i[3] == "version-of"] == [
        ("doi", "10.4310/ATMP.1998.v2.n2.a1", "https://doi.org/10.4310/ATMP.1998.v2.n2.a1", "version-of")]
    text = bibsmith.write(library, "orcid")
    assert text.count("<common:external-id-relationship>version-of</common:external-id-relationship>") == 3
    assert bulk_xsd.validate(etree.fromstring(text.encode("utf-8")))

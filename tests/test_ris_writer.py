"""RIS writer: exact output (golden), layout, preprint type option, round trips, and rispy agreeing."""

from __future__ import annotations

import json
import os
import string
from pathlib import Path

import pytest
import rispy
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

import bibsmith
from bibsmith.cli import app
from bibsmith.diagnostics import Position, Report, UsageError
from bibsmith.library import Library
from bibsmith.readers import ris as reader
from bibsmith.writers import ris as writer

HERE = Path(__file__).resolve().parent
FIXTURES = HERE / "fixtures" / "ris"
GOLDEN = HERE / "golden" / "ris"
# BIBSMITH_UPDATE_GOLDEN=1 rewrites the golden files; a person then reads the diff before committing.
REGEN = os.environ.get("BIBSMITH_UPDATE_GOLDEN") == "1"


def library_of(records: list[dict], source: str = "input.json") -> Library:
    library = Library()
    for index, record in enumerate(records, 1):
        library.add(record, Position(source, index))
    return library


def golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if REGEN:
        path.write_bytes(text.encode("utf-8"))
    assert text == path.read_bytes().decode("utf-8")


def test_golden_records_and_the_warning_for_a_type_ris_lacks() -> None:
    library = library_of(json.loads((FIXTURES / "writer-input.json").read_text("utf-8")), "writer-input.json")
    text = bibsmith.write(library, "ris")
    golden("writer-input.ris", text)
    assert [str(d) for d in library.report] == [
        "writer-input.json:5: warning: record talk2022: CSL type 'speech' has no RIS type; written as GEN"
    ]


def test_golden_sample(sample_path: Path) -> None:
    golden("sample.ris", bibsmith.write(bibsmith.read(sample_path), "ris"))


def test_layout_crlf_utf8_no_bom_ty_first_er_last(sample_path: Path) -> None:
    text = bibsmith.write(bibsmith.read(sample_path), "ris")
    assert not text.startswith("\ufeff")
    assert "\n" not in text.replace("\r\n", "")
    blocks = text.split("\r\n\r\n")
    assert blocks[-1] == ""
    assert len(blocks[:-1]) == 48
    for block in blocks[:-1]:
        lines = block.split("\r\n")
        assert lines[0] == "TY  - UNPB"
        assert lines[-1] == "ER  - "
        assert all(line[2:6] == "  - " and line[:2].isalnum() and line[:2].isupper() for line in lines)


def test_name_forms() -> None:
    assert writer.person_text({"family": "Berg", "given": "Jan", "non-dropping-particle": "van der"}) == "van der Berg, Jan"
    assert writer.person_text({"family": "Gaulle", "given": "Charles", "dropping-particle": "de"}) == "Gaulle, Charles de"
    assert writer.person_text({"family": "King", "given": "Martin Luther", "suffix": "Jr."}) == "King, Martin Luther, Jr."
    assert writer.person_text({"family": "Plato"}) == "Plato, "
    assert writer.person_text({"literal": "Google DeepMind"}) == "Google DeepMind"


def test_dates() -> None:
    assert writer.date_texts({"date-parts": [[2024, 1, 2]]}) == ("2024", "2024/01/02")
    assert writer.date_texts({"date-parts": [[2024, 11]]}) == ("2024", "2024/11")
    assert writer.date_texts({"date-parts": [[987]]}) == ("0987", "0987")
    assert writer.date_texts({"literal": "forthcoming"}) == ("", "")


def test_season_range_and_comma_names() -> None:
    record = {"id": "k", "type": "book", "title": "B", "author": [{"literal": "Acme, Inc."}],
              "issued": {"date-parts": [[2020], [2021]], "season": "Spring"}}
    report = Report()
    lines = writer.entry_lines(record, "UNPB", report, Position("in.json", 3))
    assert lines == [("TY", "BOOK"), ("ID", "k"), ("AU", "Acme, Inc."), ("TI", "B"), ("PY", "2020"),
                     ("DA", "2020///Spring"), ("ER", "")]
    assert [str(d) for d in report] == [
        "in.json:3: warning: record k: author 'Acme, Inc.' has a comma; RIS readers will split it as 'Family, Given'",
        "in.json:3: warning: record k: issued is a date range; RIS holds only its start",
    ]
    assert reader.date("2020///Spring") == ({"date-parts": [[2020]], "season": "Spring"}, None)


PREPRINT = {"id": "a2020b", "type": "article", "title": "T", "publisher": "arXiv", "genre": "Preprint"}


@pytest.mark.parametrize("choice, ty", [(None, "UNPB"), ("GEN", "GEN"), ("JOUR", "JOUR"), ("unpb", "UNPB")])
def test_preprint_type_option(choice: str | None, ty: str) -> None:
    text = bibsmith.write(library_of([PREPRINT]), "ris", ris_preprint_type=choice)
    assert text.startswith(f"TY  - {ty}\r\nID  - a2020b\r\n")


def test_preprint_type_must_be_a_ris_type() -> None:
    with pytest.raises(UsageError, match=r"^--ris-preprint-type 'PREPRINT' is not a RIS type; use UNPB \(default\), GEN or JOUR$"):
        bibsmith.write(library_of([PREPRINT]), "ris", ris_preprint_type="PREPRINT")


def test_cli_preprint_type_and_bad_value(sample_path: Path, tmp_path: Path) -> None:
    out = tmp_path / "papers.ris"
    result = CliRunner().invoke(app, ["convert", str(sample_path), "--to", "ris", "--ris-preprint-type", "GEN", "-o", str(out)])
    assert result.exit_code == 0, result.output
    data = out.read_bytes()
    assert data.startswith(b"TY  - GEN\r\nID  - li2022lazy\r\nAU  - Li, Zonglin\r\n")
    assert data.count(b"TY  - GEN\r\n") == 48
    bad = CliRunner().invoke(app, ["convert", str(sample_path), "--to", "ris", "--ris-preprint-type", "XX"])
    assert bad.exit_code == 2


def test_values_the_tags_cannot_hold_go_to_n1_not_lost() -> None:
    record = {"id": "k", "type": "book", "title": "B", "dimensions": "24 cm", "ISSN": "1234-5679", "ISBN": "978-0",
              "custom": {"extra": {"howpublished": "print", "XY": "kept tag"}, "reviewed": "yes"}}
    lines = writer.entry_lines(record, "UNPB", Report())
    assert lines == [("TY", "BOOK"), ("ID", "k"), ("TI", "B"), ("SN", "1234-5679"), ("XY", "kept tag"),
                     ("N1", "ISBN: 978-0"), ("N1", "dimensions: 24 cm"), ("N1", "howpublished: print"),
                     ("N1", "reviewed: yes"), ("ER", "")]


# ------------------------------------------------------------------------------------------ round trips

def test_sample_round_trip_is_exact(sample_path: Path, tmp_path: Path) -> None:
    library = bibsmith.read(sample_path)
    path = tmp_path / "sample.ris"
    path.write_bytes(bibsmith.write(library, "ris").encode("utf-8"))
    again = bibsmith.read(path)
    assert [str(d) for d in again.report] == []
    assert again.records == library.records


def test_rispy_agrees_on_the_sample(sample_path: Path) -> None:
    library = bibsmith.read(sample_path)
    text = bibsmith.write(library, "ris")
    ours = reader.read(text, "sample.ris").records
    theirs = rispy.loads(text)
    assert len(theirs) == len(ours) == 48
    for mine, other, original in zip(ours, theirs, library.records):
        assert other["title"] == mine["title"] == original["title"]
        assert other["authors"] == [writer.person_text(a) for a in mine["author"]]
        assert [reader.name(a) for a in other["authors"]] == original["author"]
        assert other["year"] == str(mine["issued"]["date-parts"][0][0])
        assert other["abstract"] == mine["abstract"] == original["abstract"]
        assert other["id"] == mine["id"]
        assert other["keywords"] == mine["keyword"].split(", ")


def test_we_read_what_rispy_writes() -> None:
    entries = [{"type_of_reference": "JOUR", "title": "One", "authors": ["Roe, Richard", "Doe, J."], "year": "2023",
                "abstract": "Text.", "doi": "10.1/x", "keywords": ["a", "b"]},
               {"type_of_reference": "BOOK", "title": "Two", "authors": ["Poe, E. A."], "year": "1845"}]
    library = reader.read(rispy.dumps(entries), "rispy.ris")
    assert [str(d) for d in library.report] == []
    assert library.records == [
        {"type": "article-journal", "title": "One", "author": [{"family": "Roe", "given": "Richard"},
         {"family": "Doe", "given": "J."}], "issued": {"date-parts": [[2023]]}, "abstract": "Text.",
         "DOI": "10.1/x", "keyword": "a, b"},
        {"type": "book", "title": "Two", "author": [{"family": "Poe", "given": "E. A."}],
         "issued": {"date-parts": [[1845]]}},
    ]


def one_line(text: str) -> str:
    return " ".join(text.split())


WORD = st.from_regex(r"[A-ZÄÉØŁ][a-zäéøłß'\-]{0,9}", fullmatch=True)
TEXT = st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=80).map(one_line).filter(bool)
ROUND_TRIP_TYPES = sorted(
    t for t, ty in reader.tables()["types"]["to_ris"].items() if reader.tables()["types"]["from_ris"][ty] == t
) + ["article"]


@st.composite
def people(draw) -> dict:
    if draw(st.integers(0, 9)) == 0:
        return {"literal": " ".join(draw(st.lists(WORD, min_size=1, max_size=3)))}
    person = {"family": draw(WORD), "given": " ".join(draw(st.lists(WORD, min_size=1, max_size=2)))}
    particle = draw(st.sampled_from([None, "van", "de", "von der", "da"]))
    if particle:
        person["non-dropping-particle"] = particle
    suffix = draw(st.sampled_from([None, None, "Jr.", "III"]))
    if suffix:
        person["suffix"] = suffix
    return person


@st.composite
def records(draw) -> dict:
    kind = draw(st.sampled_from(ROUND_TRIP_TYPES))
    record = {"id": draw(st.from_regex(r"[a-z]{1,8}[0-9]{4}[a-z]{1,8}", fullmatch=True)), "type": kind,
              "title": draw(TEXT), "author": draw(st.lists(people(), min_size=1, max_size=5))}
    year = draw(st.integers(1000, 2100))
    parts = [year] + draw(st.sampled_from([[], [draw(st.integers(1, 12))], [draw(st.integers(1, 12)), draw(st.integers(1, 28))]]))
    record["issued"] = {"date-parts": [parts]}
    if draw(st.booleans()):
        record["abstract"] = draw(TEXT)
    keywords = draw(st.lists(st.from_regex(r"[a-z][a-z.\-]{0,11}", fullmatch=True), max_size=4, unique=True))
    if keywords:
        record["keyword"] = ", ".join(keywords)
    if draw(st.booleans()):
        record["DOI"] = draw(st.from_regex(r"10\.[0-9]{4,5}/[a-z0-9.\-]{1,12}", fullmatch=True))
    if draw(st.booleans()):
        record["URL"] = "https://example.org/" + draw(st.text(string.ascii_lowercase + string.digits, min_size=1, max_size=12))
    if kind == "article":
        record.update(publisher="arXiv", genre="Preprint")
        if draw(st.booleans()):
            record["number"] = "arXiv:" + draw(st.from_regex(r"[0-9]{4}\.[0-9]{5}", fullmatch=True))
        custom = {}
        if draw(st.booleans()):
            custom["authors_truncated"] = True
        organizations = draw(st.lists(WORD, max_size=3))
        if organizations:
            custom["organizations"] = organizations
        if custom:
            record["custom"] = custom
    return record


@settings(max_examples=80, deadline=None)
@given(st.lists(records(), min_size=1, max_size=3))
def test_round_trip_keeps_title_authors_date_type_abstract_keywords_ids(generated: list[dict]) -> None:
    report = Report()
    text = writer.write(library_of(generated), writer.Options(), report)
    assert [str(d) for d in report] == []
    back = reader.read(text, "rt.ris")
    assert [str(d) for d in back.report] == []
    assert back.records == generated


@st.composite
def messy(draw, text: str) -> str:
    """Our own output re-laid as other tools and hands write RIS: LF or CRLF, BOM, blank lines,
    one or three spaces around '-', long values wrapped onto continuation lines."""
    out: list[str] = []
    for line in text.split("\r\n"):
        tag, value = line[:2], line[6:]
        if line and draw(st.booleans()):
            line = tag + draw(st.sampled_from([" - ", "   -  ", "  -   "])) + value
        words = value.split(" ")
        if tag not in ("KW", "UR", "TY", "ER", "") and len(words) > 2 and draw(st.booleans()):
            cut = draw(st.integers(1, len(words) - 1))
            rest = " ".join(words[cut:])
            if not reader.TAG_LINE.match(rest) and rest.strip():
                line = tag + "  - " + " ".join(words[:cut])
                out.append(line)
                line = rest
        out.append(line)
        if draw(st.integers(0, 5)) == 0:
            out.append("")
    eol = draw(st.sampled_from(["\n", "\r\n"]))
    return draw(st.sampled_from(["", "\ufeff"])) + eol.join(out)


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_messy_layouts_read_the_same(data: st.DataObject) -> None:
    generated = data.draw(st.lists(records(), min_size=1, max_size=3))
    text = writer.write(library_of(generated), writer.Options(), Report())
    back = reader.read(data.draw(messy(text)), "messy.ris")
    assert [str(d) for d in back.report] == []
    assert back.records == generated

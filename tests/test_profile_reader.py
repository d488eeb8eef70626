"""The profile reader: the sample's 48 records, messy variants of it, bad papers, and fuzzing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import bibsmith
from bibsmith.readers import profile

from conftest import REPO, require_shared

GOLDEN = REPO / "tests" / "golden" / "profile" / "sample.csl.json"
BAD = REPO / "tests" / "fixtures" / "profile" / "bad.txt"


def _csl_validator():
    from jsonschema import Draft7Validator

    schema = json.loads(require_shared("schemas", "csl", "csl-data.json").read_text())
    return Draft7Validator(schema)


def test_sample_matches_golden_csl_json(sample_path: Path) -> None:
    library = bibsmith.read(sample_path)
    assert not library.report.has_errors
    assert list(library.report) == []
    text = bibsmith.write(library, "csl-json")
    assert text == GOLDEN.read_text(encoding="utf-8")


def test_sample_has_48_records_valid_against_official_schema(sample_path: Path) -> None:
    records = bibsmith.read(sample_path).records
    assert len(records) == 48
    errors = sorted(_csl_validator().iter_errors(records), key=str)
    assert errors == []


def test_sample_header_is_library_metadata(sample_path: Path) -> None:
    assert bibsmith.read(sample_path).metadata == {
        "owner": "Ankit Singh Rawat",
        "primary_category": "cs.LG",
        "primary_category_code": "LG",
        "h_index": 117,
        "papers": 48,
        "citations": 6949,
        "novelty": 57,
        "ai_score": 48,
        "declared_papers": 48,
    }


def test_first_paper_fields_exact(sample_path: Path) -> None:
    library = bibsmith.read(sample_path)
    first = library.records[0]
    assert first == {
        "type": "article",
        "title": "The Lazy Neuron Phenomenon: On Emergence of Activation Sparsity in Transformers",
        "author": [
            {"given": "Zonglin", "family": "Li"},
            {"given": "Chong", "family": "You"},
            {"given": "Srinadh", "family": "Bhojanapalli"},
        ],
        "issued": {"date-parts": [[2022, 10, 12]]},
        "abstract": first["abstract"],
        "publisher": "arXiv",
        "genre": "Preprint",
        "keyword": "cs.LG",
        "custom": {"authors_truncated": True, "arxiv_category": "cs.LG", "organizations": ["deepmind"]},
        "id": "li2022lazy",
    }
    assert first["abstract"].startswith("This paper studies the curious phenomenon")
    assert first["abstract"].endswith("better calibration for their prediction confidence.")
    assert library.positions[0] == bibsmith.api.Position(str(sample_path), 12)


def test_math_and_categories_kept(sample_path: Path) -> None:
    by_id = {r["id"]: r for r in bibsmith.read(sample_path).records}
    assert by_id["yun2020connections"]["title"].startswith("$O(n)$ Connections are Expressive Enough")
    assert by_id["ji2024efficient"]["custom"]["arxiv_category"] == "cs.IR"
    assert by_id["gandikota2020reliable"]["keyword"] == "cs.DC"
    assert by_id["maity2018robust"]["keyword"] == "stat.ML"
    assert by_id["comanici2025gemini"]["custom"]["organizations"] == ["amazon-science", "baidu"]
    assert "authors_truncated" not in by_id["li2024fine"].get("custom", {})


def _messy(text: str) -> str:
    """The same profile as real pages deliver it: BOM, CRLF, non-breaking spaces, trailing blanks."""
    lines = text.split("\n")
    lines = [line.replace(" ", "\u00a0", 1) if n % 3 == 0 else line for n, line in enumerate(lines)]
    lines = [line + " \t " if n % 2 else line for n, line in enumerate(lines)]
    return "\ufeff" + "\r\n".join(lines)


def test_messy_profile_gives_identical_records(sample_path: Path) -> None:
    clean = profile.read(sample_path.read_text(encoding="utf-8"), "p.txt")
    messy = profile.read(_messy(sample_path.read_text(encoding="utf-8")), "p.txt")
    assert messy.records == clean.records
    assert messy.metadata == clean.metadata
    assert list(messy.report) == []


def test_messy_file_through_the_api(tmp_path: Path, sample_path: Path) -> None:
    messy = tmp_path / "messy.txt"
    messy.write_bytes(_messy(sample_path.read_text(encoding="utf-8")).encode("utf-8"))
    assert bibsmith.read(messy).records == bibsmith.read(sample_path).records


BAD_MESSAGES = [
    f"{BAD}:12: error: unknown month 'Foo' in date 'Foo 45, 2020'",
    f"{BAD}:19: error: invalid date 'Feb 30, 2019': Feb 2019 has no day 30",
    f"{BAD}:24: error: paper has no title line: its first line is the author line 'Jane Q. Researcher, John Smith et al.'",
    f"{BAD}:30: error: paper 'A Paper Without Authors' has no author line (expected 'Name, Name et al. · org' after the title)",
    f"{BAD}:35: warning: unknown category code 'XQ'; no arXiv category is recorded",
]


@pytest.mark.parametrize("expected", BAD_MESSAGES, ids=["bad-month", "feb-30", "no-title", "no-authors", "unknown-category"])
def test_bad_paper_messages(expected: str) -> None:
    library = bibsmith.read(str(BAD))
    assert expected in [str(d) for d in library.report]


def test_all_bad_papers_reported_in_one_run() -> None:
    library = bibsmith.read(str(BAD))
    assert [str(d) for d in library.report] == BAD_MESSAGES
    assert [r["title"] for r in library.records] == ["A Good Paper With an Unknown Category"]
    assert library.records[0]["custom"] == {"extra": {"category": "XQ"}}
    assert "keyword" not in library.records[0]


def test_paper_count_mismatch_is_a_warning() -> None:
    text = "Owner Name\n\nLG\n\n3 Papers\n\nLGOct 12, 2022\nA Title\n\nAnn Author, Bo Writer\n"
    library = profile.read(text, "p.txt")
    assert [str(d) for d in library.report] == ["p.txt:5: warning: the profile says 3 papers but 1 were found"]
    assert len(library.records) == 1
    assert "abstract" not in library.records[0]


def test_suffix_after_comma_joins_the_name() -> None:
    text = "Owner\n\n1 Papers\n\nLGJan 2, 2020\nA Title\n\nMartin Luther King, Jr., Aäron van den Oord\n"
    authors = profile.read(text, "p.txt").records[0]["author"]
    assert authors == [
        {"given": "Martin Luther", "family": "King", "suffix": "Jr."},
        {"given": "Aäron", "non-dropping-particle": "van den", "family": "Oord"},
    ]


PROFILE_LINES = [
    "Owner Name", "", "LG", "h-index12", "48papers", "1,234citations", "Novelty5%", "AI Score3", "2 Papers",
    "LGOct 12, 2022", "CLFeb 30, 2019", "XXFoo 1, 2000", "A Title: With $x^2$ Math", "Ann Author, Bo B. Writer et al. · org",
    "Ann Author", "An abstract sentence, with commas, and more.", "et al.", " · ", "MLDec 11, 2017", "\ufeff", "\r", "\u00a0",
]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(st.sampled_from(PROFILE_LINES), st.text(max_size=40)), max_size=40))
def test_random_profile_text_never_crashes(lines: list[str]) -> None:
    library = profile.read("\n".join(lines), "fuzz.txt")
    for diagnostic in library.report:
        assert str(diagnostic).startswith("fuzz.txt:")
    for record in library.records:
        assert record["type"] == "article" and record["title"] and record["author"]


@settings(max_examples=100, deadline=None)
@given(st.data())
def test_mutated_sample_never_crashes(sample_path: Path, data: st.DataObject) -> None:
    lines = sample_path.read_text(encoding="utf-8").split("\n")
    for _ in range(data.draw(st.integers(1, 6))):
        index = data.draw(st.integers(0, len(lines) - 1))
        action = data.draw(st.sampled_from(["drop", "dup", "garble", "blank"]))
        if action == "drop":
            del lines[index]
        elif action == "dup":
            lines.insert(index, lines[index])
        elif action == "garble":
            lines[index] = data.draw(st.text(max_size=30))
        else:
            lines[index] = ""
    library = bibsmith.loads("\n".join(lines), "profile", "m.txt")
    bibsmith.api.normalize(library)
    assert all(str(d).startswith("m.txt") for d in library.report)
    assert len({r["id"] for r in library.records}) == len(library.records)


def test_default_input_is_the_shared_sample_byte_for_byte(sample_path: Path) -> None:
    seeds = sorted(require_shared("seeds").glob("*"))
    assert [p.name for p in seeds] == [sample_path.name]
    assert sample_path.read_bytes() == seeds[0].read_bytes()

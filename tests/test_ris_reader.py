"""RIS reader: messy input, both tag sets, the type table, positioned errors, schema validity, conformance."""

from __future__ import annotations

import json
import runpy
from pathlib import Path

import jsonschema
import pytest
from typer.testing import CliRunner

import bibsmith
from bibsmith.cli import app
from bibsmith.readers import ris

from conftest import REPO, require_shared

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "ris"


def read(text: str) -> tuple[list[dict], list[str]]:
    library = ris.read(text, "t.ris")
    return library.records, [str(d) for d in library.report]


def test_messy_file() -> None:
    """BOM, CRLF, wrapped values, repeated tags, blank lines, stray text, odd spacing around '-'."""
    text = (FIXTURES / "messy.ris").read_bytes().decode("utf-8")
    library = ris.read(text, "messy.ris")
    assert library.records == [
        {"type": "article-journal",
         "author": [{"family": "Baldwin", "given": "S.A."}, {"family": "Fugaccia", "given": "I."},
                    {"family": "Brown", "given": "D. R.", "suffix": "Jr."}],
         "title": "Blood-brain barrier breach following cortical contusion in the rat",
         "container-title-short": "J. Neurosurg.", "container-title": "Journal of Neurosurgery",
         "issued": {"date-parts": [[1996, 7, 15]]}, "volume": "85",
         "abstract": "Adult rats were subjected to an impact.", "URL": "https://example.org/a", "page": "476-481",
         "keyword": "rat, head trauma, hippocampus, blood-brain barrier",
         "custom": {"extra": {"RP": "Not In File", "ZZ": "first\nsecond", "UR": "https://example.org/b"}}},
        {"type": "paper-conference",
         "author": [{"family": "Vaswani", "given": "Ashish"},
                    {"non-dropping-particle": "van der", "family": "Berg", "given": "Jan"},
                    {"literal": "Google Brain"}],
         "title": "Attention Is All You Need", "event-title": "NeurIPS 2017",
         "issued": {"date-parts": [[2017, 12, 4]]},
         "abstract": "The dominant sequence transduction models are based on recurrent networks.",
         "DOI": "10.5555/3295222.3295349", "page": "5998-6008", "custom": {"extra": {"TI": "A second title"}}},
    ]
    assert [str(p) for p in library.positions] == ["messy.ris:3", "messy.ris:28"]
    assert [str(d) for d in library.report] == [
        "messy.ris:1: warning: text outside a record ignored: 'Exported from a reference manager'",
        "messy.ris:25: warning: UR gives a second URL; kept in custom.extra",
        "messy.ris:40: warning: TI gives a second title; kept in custom.extra",
        "messy.ris:42: warning: text outside a record ignored: 'trailing words'",
    ]


RECORD_2001 = """TY  - JOUR
T1  - Deep Learning
A1  - LeCun, Yann
A1  - Bengio, Yoshua
Y1  - 2015/05/28/
N2  - Deep learning allows computational models to learn.
JF  - Nature
SP  - 436
EP  - 444
VL  - 521
IS  - 7553
ER  - 
"""
RECORD_2011 = """TY  - JOUR
TI  - Deep Learning
AU  - LeCun, Yann
AU  - Bengio, Yoshua
PY  - 2015
DA  - 2015/05/28
AB  - Deep learning allows computational models to learn.
T2  - Nature
SP  - 436-444
VL  - 521
IS  - 7553
ER  - 
"""


@pytest.mark.parametrize("text", [RECORD_2001, RECORD_2011, RECORD_2011.replace("\n", "\r\n"),
                                  "\ufeff" + RECORD_2001.replace("  - ", " - ")], ids=["2001", "2011", "crlf", "bom-one-space"])
def test_both_tag_sets_read_the_same(text: str) -> None:
    assert read(text) == ([{
        "type": "article-journal", "title": "Deep Learning",
        "author": [{"family": "LeCun", "given": "Yann"}, {"family": "Bengio", "given": "Yoshua"}],
        "issued": {"date-parts": [[2015, 5, 28]]}, "abstract": "Deep learning allows computational models to learn.",
        "container-title": "Nature", "page": "436-444", "volume": "521", "issue": "7553",
    }], [])


@pytest.mark.parametrize("ty, csl", [
    ("JOUR", "article-journal"), ("EJOUR", "article-journal"), ("INPR", "article-journal"), ("ABST", "article-journal"),
    ("CONF", "paper-conference"), ("CPAPER", "paper-conference"), ("UNPB", "article"), ("MANSCPT", "manuscript"),
    ("GEN", "document"), ("RPRT", "report"), ("THES", "thesis"), ("BOOK", "book"), ("EDBOOK", "book"),
    ("CHAP", "chapter"), ("ELEC", "webpage"), ("WEB", "webpage"), ("DATA", "dataset"), ("COMP", "software"),
    ("MGZN", "article-magazine"), ("NEWS", "article-newspaper"), ("PAT", "patent"), ("jour", "article-journal"),
])
def test_common_types(ty: str, csl: str) -> None:
    assert read(f"TY  - {ty}\nTI  - x\nER  - \n") == ([{"type": csl, "title": "x"}], [])


def test_every_type_in_both_tables_is_a_csl_type() -> None:
    schema = json.loads(require_shared("schemas", "csl", "csl-data.json").read_text("utf-8"))
    csl_types = set(schema["items"]["properties"]["type"]["enum"])
    types = ris.tables()["types"]
    assert set(types["from_ris"].values()) <= csl_types
    assert set(types["to_ris"]) <= csl_types
    assert set(types["to_ris"].values()) <= set(types["from_ris"])


# Every bad input: the whole list of diagnostics, each with its line.
BAD_INPUT = [
    ("no-ty", "AU  - Smith, J\nTI  - x\nER  - \n",
     ["t.ris:1: error: record has no TY: AU line outside a record"]),
    ("no-ty-then-good", "TI  - x\nER  - \nTY  - BOOK\nTI  - y\nER  - \n",
     ["t.ris:1: error: record has no TY: TI line outside a record"]),
    ("no-er-at-end", "TY  - JOUR\nTI  - x\n",
     ["t.ris:1: error: record has no ER: the input ends first"]),
    ("no-er-before-next", "TY  - JOUR\nTI  - a\nTY  - BOOK\nTI  - b\nER  - \n",
     ["t.ris:1: error: record has no ER: the next record starts at line 3"]),
    ("er-alone", "\nER  - \n",
     ["t.ris:2: error: ER line outside a record (no TY before it)"]),
    ("empty-ty", "TY  - \nTI  - x\nER  - \n",
     ["t.ris:1: error: TY has no type; expected a code such as JOUR"]),
    ("unknown-ty", "TY  - FOO\nTI  - x\nER  - \n",
     ["t.ris:1: warning: unknown RIS type 'FOO'; read as 'document'"]),
    ("stray-text", "hello\nworld\nTY  - JOUR\nTI  - x\nER  - \nbye\n",
     ["t.ris:1: warning: text outside a record ignored: 'hello'",
      "t.ris:6: warning: text outside a record ignored: 'bye'"]),
    ("bad-month", "TY  - JOUR\nTI  - x\nDA  - 2020/13/01\nER  - \n",
     ["t.ris:3: warning: DA: '2020/13/01': month 13 is not between 1 and 12; kept in custom.extra"]),
    ("bad-day", "TY  - JOUR\nTI  - x\nDA  - 2021/02/30\nER  - \n",
     ["t.ris:3: warning: DA: '2021/02/30': Feb 2021 has no day 30; kept in custom.extra"]),
    ("not-a-date", "TY  - JOUR\nTI  - x\nPY  - Spring 2020\nER  - \n",
     ["t.ris:3: warning: PY: 'Spring 2020': cannot read it as YYYY/MM/DD; kept in custom.extra"]),
    ("placeholder-year", "TY  - JOUR\nTI  - x\nPY  - 0000\nER  - \n",
     ["t.ris:3: warning: PY: '0000': 0000 is a placeholder, not a year; kept in custom.extra"]),
    ("years-disagree", "TY  - JOUR\nTI  - x\nPY  - 2019\nDA  - 2020/01/02\nER  - \n",
     ["t.ris:3: warning: PY gives a second issued; kept in custom.extra"]),
    ("second-title", "TY  - JOUR\nTI  - x\nT1  - y\nER  - \n",
     ["t.ris:3: warning: T1 gives a second title; kept in custom.extra"]),
    ("second-page", "TY  - JOUR\nTI  - x\nSP  - 1\nSP  - 5\nER  - \n",
     ["t.ris:4: warning: SP gives a second page; kept in custom.extra"]),
    ("er-twice", "TY  - JOUR\nTI  - x\nER  - \nER  - \n",
     ["t.ris:4: error: ER line outside a record (no TY before it)"]),
]


@pytest.mark.parametrize("text, expected", [(t, e) for _, t, e in BAD_INPUT], ids=[i for i, _, _ in BAD_INPUT])
def test_bad_input(text: str, expected: list[str]) -> None:
    assert read(text)[1] == expected


def test_bad_values_are_kept_not_dropped() -> None:
    records, _ = read("TY  - JOUR\nTI  - x\nPY  - 2019\nDA  - 2020/01/02\nT1  - y\nFOO\nER  - \n")
    assert records == [{"type": "article-journal", "title": "x", "issued": {"date-parts": [[2020, 1, 2]]},
                        "custom": {"extra": {"PY": "2019", "T1": "y FOO"}}}]


def test_records_without_er_are_still_read() -> None:
    records, _ = read("TY  - JOUR\nTI  - a\nTY  - BOOK\nTI  - b\n")
    assert records == [{"type": "article-journal", "title": "a"}, {"type": "book", "title": "b"}]


def test_check_command_exits_1_with_positions(tmp_path: Path) -> None:
    path = tmp_path / "bad.ris"
    path.write_text("TY  - JOUR\nTI  - x\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["check", str(path)])
    assert result.exit_code == 1
    assert f"{path}:1: error: record has no ER: the input ends first" in result.output


def test_names() -> None:
    assert ris.name("Koning, A. P. Jason de") == {"family": "Koning", "given": "A. P. Jason", "dropping-particle": "de"}
    assert ris.name("van der Berg, Jan, Jr.") == {"non-dropping-particle": "van der", "family": "Berg", "given": "Jan", "suffix": "Jr."}
    assert ris.name("Baldwin,S.A.") == {"family": "Baldwin", "given": "S.A."}
    assert ris.name("Plato,") == {"family": "Plato"}
    assert ris.name("World Health Organization") == {"literal": "World Health Organization"}


def test_read_by_suffix_and_by_content(tmp_path: Path) -> None:
    path = tmp_path / "refs.txt"
    path.write_text(RECORD_2011, encoding="utf-8")
    library = bibsmith.read(path)
    assert library.records[0]["id"] == "lecun2015deep"
    assert [str(d) for d in library.report] == []


def test_records_validate_against_the_csl_schema() -> None:
    schema = json.loads(require_shared("schemas", "csl", "csl-data.json").read_text("utf-8"))
    cases = json.loads(require_shared("conformance", "zotero-ris.json").read_text("utf-8"))
    texts = [(FIXTURES / "messy.ris").read_bytes().decode("utf-8")] + [case["input"] for case in cases]
    for number, text in enumerate(texts):
        records = ris.read(text, "x.ris").records
        for index, record in enumerate(records):
            record.setdefault("id", f"r{number}-{index}")
        jsonschema.validate(records, schema)


def test_conformance_score_stays_at_least_95_percent(capsys: pytest.CaptureFixture[str]) -> None:
    require_shared("conformance", "zotero-ris.json")
    scorer = runpy.run_path(str(REPO / "scripts" / "conformance_ris.py"))
    assert scorer["main"](["--quiet"]) == 0
    first = capsys.readouterr().out.splitlines()[0]
    matched, total = (int(n) for n in first.split(": ")[1].split(" ")[0].split("/"))
    assert matched / total >= 0.95, first

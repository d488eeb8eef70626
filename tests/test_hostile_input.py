"""Hostile values (issue 24): each is a positioned error, `check` finds it, `--keep-going` leaves it out or
repairs it so that no writer meets it, and no run ends in a traceback."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import bibsmith
from bibsmith.diagnostics import Position
from bibsmith.library import Library
from bibsmith.record import normalize, problems
from conftest import REPO, require_shared

WRITERS = ["csl-json", "bibtex", "biblatex", "ris", "orcid", "text", "cv"]


def run(*args: str, simple: bool = False) -> subprocess.CompletedProcess:
    env = {**os.environ, "BIBSMITH_SIMPLE": "1" if simple else "0"}
    return subprocess.run([sys.executable, "-m", "bibsmith", *args], capture_output=True, text=True, cwd=REPO,
                          timeout=120, env=env)


def csl_schema() -> dict:
    return json.loads(require_shared("schemas", "csl", "csl-data.json").read_text(encoding="utf-8"))


# One file per kind: (text, what `check` says after the path, what --keep-going writes as CSL-JSON or
# None when the whole file is refused).
CASES = {
    "type-is-a-list": ('[{"id": "a", "type": ["book"], "title": "T"}]',
                       [":1:2: error: record a: type ['book'] is not a CSL type"],
                       [{"id": "a", "type": "document", "title": "T"}]),
    "issued-is-true": ('[{"id": "a", "type": "book", "title": "T", "issued": true}]',
                       [":1:2: error: record a: issued must be a CSL date object"],
                       [{"id": "a", "type": "book", "title": "T"}]),
    "author-is-a-string": ('[{"id": "a", "type": "book", "title": "T", "author": "Doe, J"}]',
                           [":1:2: error: record a: author must be a list of name objects"],
                           [{"id": "a", "type": "book", "title": "T"}]),
    "word-in-date-parts": ('[{"id": "a", "type": "book", "title": "T", "issued": {"date-parts": [["2020", "May"]]}}]',
                           [":1:2: error: record a: issued date-parts must be one or two lists of 1 to 3 numbers"],
                           [{"id": "a", "type": "book", "title": "T"}]),
    "some-good-names": ('[{"id": "a", "type": "book", "title": "T", "author": [{"family": "Doe"}, {"family": 7}]}]',
                        [":1:2: error: record a: author must be a list of name objects"],
                        [{"id": "a", "type": "book", "title": "T", "author": [{"family": "Doe"}]}]),
    "lone-surrogate": ('[{"id": "a", "type": "book", "title": "T\\ud800"}]',
                       [":1:2: error: record a: title contains a lone surrogate U+D800 at character 2"],
                       [{"id": "a", "type": "book", "title": "T"}]),
    "control-characters": ('[{"id": "a", "type": "book", "title": "T\\u0001x", "DOI": "10.1/a\\u0000b"}]',
                           [":1:2: error: record a: title contains the control character U+0001 at character 2",
                            ":1:2: error: record a: DOI contains the control character U+0000 at character 7"],
                           [{"id": "a", "type": "book", "title": "Tx", "DOI": "10.1/ab"}]),
    "c1-control-in-a-name": ('[{"id": "a", "type": "book", "title": "T", "author": [{"family": "D\\u0085oe"}]}]',
                             [":1:2: error: record a: author contains the control character U+0085 at character 2"],
                             [{"id": "a", "type": "book", "title": "T", "author": [{"family": "Doe"}]}]),
    "braces-nested-deep-in-a-title": ('[{"id": "a", "type": "book", "title": "$' + "{" * 150 + "x" + "}" * 150 + '$"}]',
                                      [":1:2: error: record a: title nests braces more than 100 deep"],
                                      [{"id": "a", "type": "book"}]),
    "nan": ('[{"id": "a", "type": "book", "volume": NaN}]',
            [":1:40: error: NaN is not a number in JSON (write null, or leave the variable out)"], None),
    "infinity": ('[{"id": "a", "type": "book", "volume": -Infinity}]',
                 [":1:40: error: -Infinity is not a number in JSON (write null, or leave the variable out)"], None),
    "float-overflow": ('[{"id": "a", "type": "book", "volume": 1e999}]',
                       [":1:40: error: the number 1e999 is too large"], None),
    "5000-digits": ('[{"id": "a", "type": "book", "volume": ' + "9" * 5000 + "}]",
                    [":1:40: error: a number of 5000 digits is too long (at most 20)"], None),
    "21-digits": ('[{"id": "a", "type": "book", "volume": 123456789012345678901}]',
                  [":1:40: error: a number of 21 digits is too long (at most 20)"], None),
    "nested-980-deep": ("[" + "[" * 980 + "]" * 980 + "]",
                        [":1:102: error: not valid JSON: nested more than 100 lists and objects deep"], None),
    "nested-101-deep": ('[{"id": "a", "type": "book", "custom": ' + '{"a": ' * 100 + "1" + "}" * 100 + "}]",
                        [":1:634: error: not valid JSON: nested more than 100 lists and objects deep"], None),
}


# With --keep-going each finding is a warning that says what became of the value.
KEPT_AS = {
    "type-is-a-list": ["now 'document'"], "issued-is-true": ["left out"], "author-is-a-string": ["left out"],
    "word-in-date-parts": ["left out"], "some-good-names": ["now [{'family': 'Doe'}]"], "lone-surrogate": ["now 'T'"],
    "control-characters": ["now 'Tx'", "now '10.1/ab'"], "c1-control-in-a-name": ["now [{'family': 'Doe'}]"],
    "braces-nested-deep-in-a-title": ["left out"],
}


@pytest.mark.parametrize("name", CASES)
def test_check_reports_each_hostile_value_with_its_position(tmp_path: Path, name: str) -> None:
    text, messages, _ = CASES[name]
    path = tmp_path / f"{name}.json"
    path.write_text(text, encoding="utf-8")
    result = run("check", str(path))
    assert result.returncode == 1
    lines = result.stderr.splitlines()
    assert lines[:-1] == [f"{path}{message}" for message in messages]
    assert lines[-1].endswith(f" {len(messages)} errors, 0 warnings")


@pytest.mark.parametrize("name", CASES)
def test_without_keep_going_nothing_is_written(tmp_path: Path, name: str) -> None:
    path = tmp_path / f"{name}.json"
    path.write_text(CASES[name][0], encoding="utf-8")
    out = tmp_path / "out.bib"
    result = run("convert", str(path), "--to", "bibtex", "-o", str(out))
    assert (result.returncode, result.stdout, out.exists()) == (1, "", False)
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("name", [name for name, case in CASES.items() if case[2] is not None])
def test_keep_going_leaves_out_or_repairs_what_is_wrong(tmp_path: Path, name: str) -> None:
    text, messages, expected = CASES[name]
    path = tmp_path / f"{name}.json"
    path.write_text(text, encoding="utf-8")
    result = run("convert", str(path), "--to", "csl-json", "--keep-going")
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines() == [f"{path}{message.replace(': error: ', ': warning: ')}; {done}"
                                          for message, done in zip(messages, KEPT_AS[name], strict=True)]
    records = json.loads(result.stdout)
    assert records == expected
    from jsonschema import Draft7Validator

    assert list(Draft7Validator(csl_schema()).iter_errors(records)) == []


@pytest.mark.parametrize("name", [name for name, case in CASES.items() if case[2] is not None])
def test_keep_going_writes_every_format_without_a_traceback(name: str) -> None:
    library = bibsmith.loads(CASES[name][0], "csl-json", "in.json")
    normalize(library)
    for to in WRITERS:
        try:
            text = bibsmith.write(library, to)
        except bibsmith.BibsmithError:
            continue  # a refusal with messages (ORCID needs a title), not a traceback
        text.encode("utf-8")  # no lone surrogate left
        assert "\x00" not in text and "\x01" not in text and "\x85" not in text, to


@pytest.mark.parametrize("simple", [False, True], ids=["fast", "simple"])
def test_braces_nested_too_deep_in_a_bib_value_are_refused(tmp_path: Path, simple: bool) -> None:
    path = tmp_path / "deep.bib"
    path.write_text("@article{a,\n  author = {A B},\n  title = {" + "{" * 242 + "\\foo x" + "}" * 242 + "},\n"
                    "  year = 2020\n}\n", encoding="utf-8")
    message = f"{path}:1: error: entry a: field title: braces nested more than 100 deep; the field is not read"
    checked = run("check", str(path), simple=simple)
    assert (checked.returncode, checked.stderr) == (1, f"{message}\n1 records, 1 errors, 0 warnings\n")
    kept = run("convert", str(path), "--to", "csl-json", "--keep-going", simple=simple)
    assert (kept.returncode, kept.stderr) == (0, message + "\n")
    assert json.loads(kept.stdout) == [{"id": "a", "type": "article-journal", "author": [{"family": "B", "given": "A"}],
                                        "issued": {"date-parts": [[2020]]}}]


def test_braces_100_deep_are_read() -> None:
    library = bibsmith.loads("@misc{a, title = {" + "{" * 99 + "x" + "}" * 99 + "}}", "bibtex", "in.bib")
    assert [str(d) for d in library.report] == []
    assert library.records[0]["title"] == "x"


def test_json_100_deep_is_read() -> None:
    text = '[{"id": "a", "type": "book", "custom": ' + '{"a": ' * 99 + "1" + "}" * 99 + "}]"
    library = bibsmith.loads(text, "csl-json", "in.json")
    assert [str(d) for d in library.report] == []


# ---- Writers keep control characters out themselves (records that did not pass the hub's gate)

def _library(record: dict) -> Library:
    library = Library()
    library.add(record, Position("in.json", 3, 1))
    return library


@pytest.mark.parametrize("to,message", [
    ("bibtex", "in.json:3:1: warning: record a: field title holds control characters such as U+0001, which this "
               "format cannot hold; removed"),
    ("ris", "in.json:3:1: warning: record a: field title holds control characters such as U+0001, which this "
            "format cannot hold; removed"),
    ("orcid", "in.json:3:1: warning: a: title has control characters XML cannot hold; removed"),
])
def test_writers_remove_control_characters_with_a_warning(to: str, message: str) -> None:
    library = _library({"id": "a", "type": "book", "title": "T\x01x", "DOI": "10.1/a\x00b"})
    text = bibsmith.write(library, to)
    assert "\x00" not in text and "\x01" not in text
    assert "Tx" in text and "10.1/ab" in text
    assert message in [str(d) for d in library.report]
    field = {"orcid": "in.json:3:1: warning: a: DOI has", "bibtex": "field DOI holds", "ris": "field DOI holds"}[to]
    assert any(field in str(d) for d in library.report)


def test_csl_json_output_is_strict_json() -> None:
    for value in (math.nan, math.inf):
        with pytest.raises(ValueError, match="Out of range float values are not JSON compliant"):
            bibsmith.write(_library({"id": "a", "type": "book", "volume": value}), "csl-json")


# ---- problems() never raises

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.integers(min_value=10 ** 4400, max_value=10 ** 4500)
    | st.floats(allow_nan=True, allow_infinity=True) | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8) | st.sampled_from(
        ["family", "given", "literal", "date-parts", "raw", "season", "circa"]), inner, max_size=3),
    max_leaves=10)
keys = st.sampled_from(["id", "type", "title", "author", "issued", "volume", "custom", "categories", "page",
                        "editor", "accessed", "DOI", "x"]) | st.text(max_size=5)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(keys, json_values, max_size=6))
def test_problems_never_raises_and_normalize_leaves_a_valid_record(record: dict) -> None:
    problems(dict(record))
    library = Library()
    library.add(dict(record))
    normalize(library)
    assert problems(library.records[0]) == []


# ---- Digits that int() refuses (found by `make fuzz`): superscripts are str.isdigit(), not decimal

def test_a_superscript_or_5000_digit_month_is_not_a_month() -> None:
    for month in ("²", "9" * 5000):
        library = bibsmith.loads("@article{a, title={T}, year=2020, month={" + month + "}}", "bibtex", "in.bib")
        assert [str(d) for d in library.report] == [
            f"in.bib:1: warning: entry a: month {month!r} is not a month; only the year is kept"]
        assert library.records[0]["issued"] == {"date-parts": [[2020]]}


def test_a_superscript_orcid_year_is_ignored_with_a_warning() -> None:
    text = ('<work:work xmlns:work="http://www.orcid.org/ns/work" xmlns:common="http://www.orcid.org/ns/common">'
            "<work:title><common:title>T</common:title></work:title><work:type>book</work:type>"
            "<common:publication-date><common:year>0²</common:year></common:publication-date></work:work>")
    library = bibsmith.loads(text, "orcid", "in.xml")
    assert [str(d) for d in library.report] == ["in.xml:1: warning: publication year '0²' is not a valid year; ignored"]
    assert "issued" not in library.records[0]

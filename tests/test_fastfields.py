"""The C field evaluator (bibsmith/_fastfields.c) gives exactly what the Python reader gives.

Each input is read twice with the fast splitter: with the C module and with it switched off (the
Python `_entry_fields`). Records, positions and every message must be equal, and the C module must
take the plain entries (or the fast path would never be taken).
"""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bibsmith.diagnostics import Report
from bibsmith.readers import bibtex, bibtex_split
from conftest import REPO, bench_corpus, require_speedup

FAST = bibtex._fastfields


@pytest.fixture(autouse=True)
def _require_c_module():
    require_speedup(FAST, "_fastfields")


def _read(text: str, monkeypatch, with_c: bool):
    monkeypatch.delenv("BIBSMITH_SIMPLE", raising=False)
    monkeypatch.setattr(bibtex, "PARALLEL_MIN_CHARS", 10**12)
    monkeypatch.setattr(bibtex, "_fastfields", FAST if with_c else None)
    library = bibtex.read(text, "in.bib")
    return library.records, library.positions, [(str(item), item.code) for item in library.report]


def _same_with_and_without_c(text: str, monkeypatch) -> None:
    assert _read(text, monkeypatch, True) == _read(text, monkeypatch, False)



def _real_inputs() -> list[str]:
    texts = [path.read_text(encoding="utf-8") for path in sorted(REPO.glob("tests/fixtures/**/*.bib"))]
    return texts + [path.read_text(encoding="utf-8") for path in sorted(REPO.glob("examples/*/input.bib"))]


VALUES = [
    "{plain}", "{ spaced  }", "{A {B} c}", "{a} junk", "{a}b}", "{a} # {b}", "{unclosed", '"quoted"', '"a {"} b"',
    '"x" # "y"', '"}"', '"unclosed', "2001", "2001abc", "12 # 3", "١٢٣", "12١", "mar", "MAR", "Sep", "sept", "jn",
    "undefined", "j", "J", "jx # {y}", "", " {lead}", "{\u2003wide\u00a0}", "{é}", "é", "\\macro", "a(b)", "x" * 80,
    "{}", '""', "{\\}}", "{ {}}",
]


def _entry(rng: random.Random, key: str) -> str:
    names = ["title", "Title", "author", "year", "month", "journal", "note", "NOTE", "Ünï", "booktitle"]
    fields = [f"  {rng.choice(names)} = {rng.choice(VALUES)}" for _ in range(rng.randint(0, 5))]
    return "@article{" + key + ",\n" + ",\n".join(fields) + "\n}\n"


def test_values_of_every_form_read_the_same(monkeypatch):
    rng = random.Random(20261127)
    strings = "@string{j = { J. Foo }}\n@string{mar = {March}}\n"
    for round_ in range(300):
        text = (strings if round_ % 2 else "") + "".join(_entry(rng, f"k{i}") for i in range(8))
        if bibtex_split.split(text) is None:
            continue  # bibtexparser reads it; the C module is not involved
        _same_with_and_without_c(text, monkeypatch)


def test_each_value_alone(monkeypatch):
    for value in VALUES:
        for strings in ("", "@string{j = {J}}\n@string{sep = { Sept. }}\n"):
            text = strings + "@misc{a,\n  note = " + value + "\n}\n"
            if bibtex_split.split(text) is not None:
                _same_with_and_without_c(text, monkeypatch)


def test_the_c_module_evaluates_plain_entries_and_leaves_the_rest():
    months = bibtex._MONTH_NUMBERS
    assert FAST.evaluate([("Title", "{A {B}}"), ("year", "2001"), ("month", "mar"), ("journal", "j")],
                         {"j": " J. Foo "}, months) == {"title": "A {B}", "year": "2001", "month": "3", "journal": "J. Foo"}
    assert FAST.evaluate([("month", "mar")], {"mar": "March"}, months) == {"month": "March"}  # @string first
    for fields in ([("note", "{a} # {b}")], [("note", "undefined")], [("Ü", "{x}")], [("a", "{x}"), ("A", "{y}")],
                   [("note", "{unclosed")], [("year", "12١")]):
        assert FAST.evaluate(fields, {}, months) is None, fields


def test_real_inputs_read_the_same(monkeypatch, tmp_path):
    texts = _real_inputs() + [bench_corpus().write_corpus(tmp_path, 1000).read_text(encoding="utf-8")]
    for text in texts:
        _same_with_and_without_c(text, monkeypatch)


def test_most_corpus_entries_take_the_c_path(tmp_path):
    text = bench_corpus().write_corpus(tmp_path, 1000).read_text(encoding="utf-8")
    entries = [b for b in bibtex_split.split(text) if isinstance(b, bibtex_split.RawEntry)]
    taken = sum(FAST.evaluate(e.fields, {}, bibtex._MONTH_NUMBERS) is not None for e in entries)
    assert taken == len(entries) == 1000


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["title", "Note", "year", "month", "x"]),
                          st.text(alphabet='{}"#, =ab1٢\\é \t\u2003jmar', max_size=12)), max_size=4))
def test_any_fields_evaluate_as_python_does(fields):
    entry = bibtex_split.RawEntry("misc", "k", fields, 0, 0)
    report = Report()
    strings = {"j": "J.", "mar": " March "}
    expected = bibtex._entry_fields("misc", "k", fields, 0, dict(strings), report, "in.bib", lambda i: 0)[2]
    got = FAST.evaluate(entry.fields, dict(strings), bibtex._MONTH_NUMBERS)
    if got is not None:
        assert not report.items and got == expected

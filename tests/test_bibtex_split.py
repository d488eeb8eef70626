"""The fast .bib splitter reads every file it accepts exactly as bibtexparser's splitter does.

The reader is run twice on each input: with the fast splitter, and with BIBSMITH_SIMPLE=1 (bibtexparser
only). Records, positions and every message must be equal. The fast splitter must also accept the
real collections and the benchmark corpus, or the fast path would never be taken.
"""

from __future__ import annotations

import json
import random

import pytest

from bibsmith.readers import bibtex, bibtex_split
from conftest import REPO, require_shared


def _read(text: str, monkeypatch, simple: bool):
    if simple:
        monkeypatch.setenv("BIBSMITH_SIMPLE", "1")
    else:
        monkeypatch.delenv("BIBSMITH_SIMPLE", raising=False)
    library = bibtex.read(text, "in.bib")
    return library.records, library.positions, [str(item) for item in library.report]


def _same_both_ways(text: str, monkeypatch) -> None:
    assert _read(text, monkeypatch, False) == _read(text, monkeypatch, True)


def _real_inputs() -> list[str]:
    texts = [path.read_text(encoding="utf-8") for path in sorted(REPO.glob("tests/fixtures/**/*.bib"))]
    texts += [path.read_text(encoding="utf-8") for path in sorted(REPO.glob("examples/*/input.bib"))]
    return texts


def test_fixtures_and_examples_take_the_fast_path_and_read_the_same(monkeypatch):
    texts = _real_inputs()
    assert len(texts) >= 5
    for text in texts:
        assert bibtex_split.split(text) is not None
        _same_both_ways(text, monkeypatch)


def test_iridia_takes_the_fast_path_and_reads_the_same(monkeypatch):
    folder = require_shared("data", "iridia-references")
    files = sorted(folder.glob("*.bib"))
    assert files
    for path in files:
        text = path.read_text(encoding="utf-8")
        blocks = bibtex_split.split(text)
        assert blocks is not None, path
        _same_both_ways(text, monkeypatch)


def test_conformance_inputs_read_the_same(monkeypatch):
    folder = require_shared("conformance")
    cases = json.loads((folder / "zotero-bibtex.json").read_text(encoding="utf-8"))
    cases += json.loads((folder / "citationjs-bibtex.json").read_text(encoding="utf-8"))["mapping"]
    for case in cases:
        _same_both_ways(case["input"], monkeypatch)


HARD = [
    '@article{a, title = "Quoted {with} braces, and \\"o", year = 2001 # "a"}',
    "@article{a, title = {A \\{ brace}, note = {B \\} brace}, pages = 1\\,2}",
    "@string{j = {J. Foo}}\n@article{a, journal = j # { Letters}, month = mar}",
    "@article{a,\n  title = {x},\n}\n@comment{ignored {nested} }\n@preamble{ \"\\newcommand\" }\n@misc{b}",
    "@article{a, title = {one},\n title = {two}}",  # duplicate field: bibtexparser words the warning
    "@article{a, title = {x}}\n@article{a, title = {y}}",  # duplicate key
    "@article(a, title = {round})",
    "@article{a, title = {unclosed}\n@article{b, title = {next}}",
    '@article{a, title = "{"}"}',
    "@article{a, title = {line \\\nbreak}, year = {2000}}",
    "@article{a, title = {x}, dangling}",
    "@article{a, = {no name}}",
    "text before @article{a, title = {x}} text after @ and @misc {b, note={@misc{inner}}}",
    "@article{a, author = {A and B}, title = {{{{{{{{{{deep}}}}}}}}}}}",
]


@pytest.mark.parametrize("text", HARD)
def test_hard_cases_read_the_same(text, monkeypatch):
    _same_both_ways(text, monkeypatch)


def test_cases_the_fast_path_must_leave_to_bibtexparser():
    for text in (HARD[4], HARD[5], HARD[6], HARD[7], HARD[8], HARD[9], HARD[10], HARD[11], HARD[13]):
        assert bibtex_split.split(text) is None, text


def test_mutated_inputs_read_the_same(monkeypatch):
    # Random damage with the characters the grammar turns on; whatever the fast path accepts must
    # read exactly as bibtexparser reads it.
    rng = random.Random(20261127)
    texts = _real_inputs()
    pieces = ["{", "}", '"', ",", "=", "@", "\n", "\\", "(", ")", "#", " ", "a", "@misc{", "\n@article{x,", '{"}']
    accepted = 0
    for _ in range(400):
        text = list(rng.choice(texts)[:3000])
        for _ in range(rng.randint(1, 4)):
            at = rng.randrange(len(text))
            roll = rng.random()
            if roll < 0.4:
                del text[at]
            elif roll < 0.8:
                text.insert(at, rng.choice(pieces))
            else:
                text[at] = rng.choice(pieces)
        mutated = "".join(text)
        if bibtex_split.split(mutated) is not None:
            accepted += 1
            _same_both_ways(mutated, monkeypatch)
    assert accepted > 100  # the test must exercise the fast path, not only the fallback


def test_positions_of_fields_are_lines_of_their_equals_sign(monkeypatch):
    text = "% header\n\n@article{a,\n  title = {x},\n  year = 2001,\n  month = {notamonth},\n  note = undefinedmacro\n}\n"
    monkeypatch.delenv("BIBSMITH_SIMPLE", raising=False)
    library = bibtex.read(text, "in.bib")
    lines = sorted(item.position.line for item in library.report)
    assert lines == [3, 7]  # the bad month at the entry, the undefined macro at its field

"""The C splitter (bibsmith/_fastsplit.c) gives exactly what the regex splitter gives.

`bibtex_split._split_python` (the regular expressions) is the reference: on every real input, on a
generated corpus cut at the bounds the parallel reader uses, with and without the fields, on thousands
of randomly damaged inputs and on short texts made by hypothesis, the C module must return equal
blocks of the same classes, or None in the same cases. Without the built module these tests skip
(and fail under CI=true): `.venv/bin/python setup.py build_ext --inplace` builds it.
"""

from __future__ import annotations

import gc
import json
import random
import sys
import tracemalloc

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bibsmith.readers import bibtex, bibtex_split
from bibsmith.readers.bibtex_split import RawEntry, RawString, _split_python
from conftest import REPO, bench_corpus, require_shared, require_speedup

FAST = bibtex_split._fastsplit


@pytest.fixture(autouse=True)
def _require_c_module():
    require_speedup(FAST, "_fastsplit")


def _c_split(text, start=0, end=None, line=0, keep_fields=True):
    return FAST.split(text, start, end, line, keep_fields, RawEntry, RawString)


def _same(text: str, start: int = 0, end: int | None = None, line: int = 0, keep_fields: bool = True):
    """Both splitters give equal results (the C one taking these arguments itself); returns that result."""
    fast = _c_split(text, start, end, line, keep_fields)
    assert fast is not NotImplemented
    reference = _split_python(text, start, end, line, keep_fields)
    assert fast == reference, (text[:500], start, end, line, keep_fields)
    if reference is not None:
        assert [type(block) for block in fast] == [type(block) for block in reference]
        for block in fast:
            if isinstance(block, RawEntry):
                assert type(block.fields) is (list if keep_fields or block.fields == [] else type(None))
                assert all(type(pair) is tuple for pair in block.fields or ())
    return fast


def _real_inputs() -> list[str]:
    texts = [path.read_text(encoding="utf-8") for path in sorted(REPO.glob("tests/fixtures/**/*.bib"))]
    texts += [path.read_text(encoding="utf-8") for path in sorted(REPO.glob("examples/*/input.bib"))]
    return texts



@pytest.fixture(scope="module")
def corpus_1k() -> str:
    return bench_corpus().corpus(1000)


def test_split_uses_the_c_module(monkeypatch, corpus_1k):
    def python_split_called(*args, **kwargs):
        raise AssertionError("the Python splitter ran")

    monkeypatch.setattr(bibtex_split, "_split_python", python_split_called)
    for text in _real_inputs() + [corpus_1k]:
        assert bibtex_split.split(text) is not None
        bibtex_split.split(text, 0, None, 3, False)
    bounds = bibtex._chunk_bounds(corpus_1k, 50_000)
    assert bibtex_split.split(corpus_1k, bounds[1], bounds[2], 7) is not None


def test_fixtures_and_examples():
    texts = _real_inputs()
    assert len(texts) >= 5
    for text in texts:
        assert _same(text) is not None
        _same(text, keep_fields=False)
        _same(text, 0, None, 41)


def test_iridia():
    folder = require_shared("data", "iridia-references")
    files = sorted(folder.glob("*.bib"))
    assert files
    for path in files:
        text = path.read_text(encoding="utf-8")
        assert _same(text) is not None, path
        _same(text, keep_fields=False)


def test_conformance_inputs():
    folder = require_shared("conformance")
    cases = json.loads((folder / "zotero-bibtex.json").read_text(encoding="utf-8"))
    cases += json.loads((folder / "citationjs-bibtex.json").read_text(encoding="utf-8"))["mapping"]
    assert cases
    for case in cases:
        _same(case["input"])
        _same(case["input"], keep_fields=False)


def test_generated_corpus_whole_and_in_chunks(corpus_1k):
    text = corpus_1k
    blocks = _same(text)
    assert len(blocks) == 1000
    _same(text, keep_fields=False)
    for size in (1, 2_000, 50_000, 200_000):
        bounds = bibtex._chunk_bounds(text, size)
        line = 0
        for start, end in zip(bounds, bounds[1:]):
            for keep_fields in (True, False):
                assert _same(text, start, end, line, keep_fields) is not None
            line += text.count("\n", start, end)


def test_bounds_anywhere(corpus_1k):
    # start and end on and off block starts, lines of any sign: the C code takes them all.
    rng = random.Random(8)
    text = corpus_1k[:40_000]
    starts = [0, 1, len(text)] + [text.index("\n@", rng.randrange(len(text) - 2000)) + 1 for _ in range(20)]
    for start in starts:
        for end in {start, min(len(text), start + 1), min(len(text), start + 600), len(text), None}:
            _same(text, start, end, rng.randrange(-3, 10**12))
            _same(text, start, end, 0, False)
    for _ in range(200):
        start = rng.randrange(len(text) + 1)
        end = rng.randrange(start, min(len(text), start + 3000) + 1)
        _same(text, start, end, 5, rng.random() < 0.5)


HARD = [
    # the grammar's corners
    '@article{a, title = "Quoted {with} braces, and \\"o", year = 2001 # "a"}',
    "@article{a, title = {A \\{ brace}, note = {B \\} brace}, pages = 1\\,2}",
    "@string{j = {J. Foo}}\n@article{a, journal = j # { Letters}, month = mar}",
    "@article{a,\n  title = {x},\n}\n@comment{ignored {nested} }\n@preamble{ \"\\newcommand\" }\n@misc{b}",
    "text before @article{a, title = {x}} text after @ and @misc {b, note={@misc{inner}}}",
    "@misc{a, x = 1 # \"a\" # {b}}", '@misc{a, x = "a\\"b"}', "@misc{a, x = {a\\}b}}", "@misc{a, x = a\\,b}",
    "@misc{a\\, x = 1}", "@misc{a, x\\= 1}", "@misc{a, x = a=b}", "@misc{a, x = {\\", "@misc{a, x = \\",
    "@misc{a}", "@misc{a,}", "@misc{a, }", "@misc{a, x=1,}", "@misc{a, x=1 ,\n }", "@{a, x=1}", "@misc \t {a}",
    "@misc\n{a}", "@misc{a, x=1}@misc{b, y=2}", "@misc{a, x = {1}}\n  \n @misc{b, y = 2}",
    # None: duplicates, empty names, syntax errors, `(`, escapes bibtexparser reads otherwise
    "@article{a, title = {one},\n title = {two}}", "@article{a, title = {x}}\n@article{a, title = {y}}",
    "@misc{a, x = 1}@misc{ a , x = 1}", "@string{a = 1}@string{ a = 2}", "@string{a = 1}@string{A = 2}",
    "@article(a, title = {round})", "@article{a, title = {unclosed}\n@article{b, title = {next}}",
    '@article{a, title = "{"}"}', "@article{a, title = {line \\\nbreak}, year = {2000}}",
    "@article{a, title = {x}, dangling}", "@article{a, = {no name}}", "@misc{a, x=1,, y=2}",
    "@misc{a, x = {\n @misc{b, y = 2}}}", "@misc{a, x = {\n\u2028 @misc\t\t(b}}", "@misc{a, x = {\n @misc (b}}",
    "@misc{a, x = {1}", '@misc{a, x = "1}', "@misc{a, x = 1", "@misc", "@", "@misc{", '@string{a = "x}',
    '@string{a = x,y "z"}', "@string{a}", "@comment{x", "@comment(x)",
    # Unicode: \w, \s and str.strip() as Python has them, kinds lower-cased by str.lower()
    "@misc{\u2028a\x85, x\xa0 = \x1c1\u2028}", "@İnproceedings{a, x=1}", "@STRİNG{a = b}", "@strİng{a = b}",
    "@\u212aomment{x}", "@ſtring{a=b}", "@mi😀sc{a}", "@mi中sc{a, 中 = 😀}", "@中{a}", "@Ⅻ{a}", "@x²{a}",
    "@misc{a, x\u3000= 1}", "@misc{a, x = {1}}\n\u3000@misc{b, y = {2}}", "@misc{a, x = {\n\u3000@b{}}}",
    # kinds that begin alike (the C code keeps the lower-cased kinds it made)
    "@article{a}\n@art{b}\n@Article{c}\n@ARTICLEX{d}\n@ar{e}\n@{f}\n@ARt{g}",
]


@pytest.mark.parametrize("text", HARD)
def test_hard_cases(text):
    for start in range(min(len(text), 4)):
        for end in (None, len(text), len(text) - 1, len(text) - 2):
            if end is None or end >= start:
                _same(text, start, end, 0)
                _same(text, start, end, 2, False)


def test_nesting_limits_and_many_fields():
    texts = []
    for depth in range(6, 12):
        texts.append("@misc{a, t = " + "{" * depth + "x" + "}" * depth + "}")
        texts.append("@string{a = " + "{" * depth + "x" + "}" * depth + "}")
        texts.append("@comment" + "{" * depth + "x" + "}" * depth)
        texts.append('@misc{a, t = "' + "{" * depth + "x" + "}" * depth + '"}')
    many = ", ".join(f"f{i} = {{{i}}}" for i in range(300))
    texts += ["@misc{a, " + many + "}", "@misc{a, " + many + ", f7 = x}", "@misc{a, " + many + ", F7 = x}"]
    texts += ["@misc{a, " + "n" * 60 + " = 1, " + "n" * 60 + "= 2}", "@misc{a, " + "n" * 60 + " = 1, " + "n" * 59 + "m= 2}"]
    # more distinct field names than the C code shares, and more kinds than it keeps
    texts.append("".join(f"@k{i}{{e{i}, " + ", ".join(f"n{i}_{j} = {j}" for j in range(40)) + "}\n" for i in range(50)))
    for text in texts:
        _same(text)
        _same(text, keep_fields=False)
    assert _same(texts[3 * 4]) is not None and _same(texts[4 * 4]) is None  # 9 levels read, 10 not


def test_three_string_kinds(corpus_1k):
    # The same entries in 1-byte (ASCII and Latin-1), 2-byte and 4-byte strings.
    text = corpus_1k[:corpus_1k.index("\n@", 30_000)]
    variants = [text.encode("ascii", "replace").decode("ascii"), text.encode("latin-1", "replace").decode("latin-1"),
                text, text + "\n% \U0001f600\n", "\U0001f600" + text.replace("\u0151", "\U0001d50a")]
    assert [max(map(ord, variant)) > limit for variant, limit in zip(variants, (0, 127, 255, 65535, 65535))] == [True] * 5
    for variant in variants:
        assert _same(variant) is not None
        _same(variant, keep_fields=False)
        _same(variant, 1, None, 0)


def test_arguments_the_c_code_leaves_to_python(corpus_1k):
    class Text(str):
        pass

    text = corpus_1k[:5000]
    odd = [
        ((Text(text),), {}), ((text, -10), {}), ((text, 0, -1), {}), ((text, 0, 10**6), {}), ((text, 30, 20), {}),
        ((text, 0, None, 0.5), {}), ((text, 0, None, 2**70), {}), ((text, 0, None, 0, 0), {}),
        ((text, 0, None, 0, None), {}), ((text, True), {}),
    ]
    for args, kwargs in odd:
        assert _c_split(*args, **kwargs) is NotImplemented, args[1:]
        assert bibtex_split.split(*args, **kwargs) == _split_python(*args, **kwargs)


MUTATIONS = list('{}"\\,=@()#\n %') + ["é", "ß", "中", "😀", "\u2028", "\x85", "\xa0", "\x1c", "\u3000", "İ", "K",
                                       "a", "_", "@misc{", "\n@article{x,", "@string{", "@comment{", '{"}', "\\\n"]


def test_mutated_inputs(corpus_1k):
    # Random damage to real entries in random places: every result of the C code must be the
    # reference's, and enough of them must be lists for the comparison to mean something.
    rng = random.Random(20261204)
    sources = [text.split("\n@") for text in _real_inputs() + [corpus_1k[:300_000]]]
    lists = 0
    for _ in range(2500):
        source = rng.choice(sources)
        at = rng.randrange(len(source))
        text = list(("@" if at else "") + "\n@".join(source[at:at + rng.randint(1, 4)]))
        for _ in range(rng.randint(1, 6)):
            at = rng.randrange(len(text) + 1)
            roll = rng.random()
            if roll < 0.3 and at < len(text):
                del text[at]
            elif roll < 0.8 or at == len(text):
                text.insert(at, rng.choice(MUTATIONS))
            else:
                text[at] = rng.choice(MUTATIONS)
        mutated = "".join(text)
        blocks = _same(mutated)
        lists += blocks is not None and blocks != []
        _same(mutated, keep_fields=False)
        start = rng.randrange(len(mutated) + 1)
        _same(mutated, start, rng.randrange(start, len(mutated) + 1), rng.randrange(100), rng.random() < 0.5)
    assert lists > 700


PIECES = st.sampled_from(MUTATIONS + ["title", "x", " = ", "{x}", '"y"', "@Article{k,", "\n}", "\t", "1"])


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(PIECES, max_size=40).map("".join), st.data())
def test_short_texts(text, data):
    _same(text)
    _same(text, keep_fields=False)
    start = data.draw(st.integers(0, len(text)))
    end = data.draw(st.integers(start, len(text)))
    _same(text, start, end, data.draw(st.integers(-5, 5)), data.draw(st.booleans()))


def test_no_references_are_lost(corpus_1k):
    text = corpus_1k[:100_000]
    inputs = [text, text + "@misc{zz, x = {1}, x = 2}", text + "@string{a = 1}@string{a = 2}", text + "@misc{q, x = {",
              text + "@misc{q}\n@misc(", text + "@İx{zz, x = {1}}\n@string{b = {1}}", text + "\\\n"]
    before = sys.getrefcount(RawEntry), sys.getrefcount(RawString)
    for _ in range(3):
        for item in inputs:
            _c_split(item)
            _c_split(item, 0, None, 0, False)
    gc.collect()
    tracemalloc.start()
    try:
        first = tracemalloc.get_traced_memory()[0]
        for _ in range(10):
            for item in inputs:
                _c_split(item)
                _c_split(item, 0, None, 0, False)
        gc.collect()
        grown = tracemalloc.get_traced_memory()[0] - first
    finally:
        tracemalloc.stop()
    assert grown < 50_000, grown
    assert (sys.getrefcount(RawEntry), sys.getrefcount(RawString)) == before

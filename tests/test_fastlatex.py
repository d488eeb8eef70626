"""The C to_unicode (bibsmith/_fastlatex.c) gives exactly what the Python to_unicode gives, or None.

The reference is `latex._to_unicode_python`: to_unicode without the C module and without the cache.
Every input below goes to both; wherever the C module does not say "not mine" (None), the two texts
must be equal. The C module must also take the large majority of real values, or it would not be the
fast path it is meant to be. Without the built module (`python setup.py build_ext --inplace`) the
comparisons skip, and fail under CI=true, where the module must have been built.
"""

from __future__ import annotations

import json
import random
import sys
import tracemalloc
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bibsmith.diagnostics import Report
from bibsmith.readers import bibtex, bibtex_split
from bibsmith.text import bibtexnames, latex
from conftest import REPO, bench_corpus, require_shared, require_speedup


def _c_to_unicode():
    return require_speedup(latex._fastlatex, "_fastlatex").to_unicode


def _reaches_pylatexenc(value: str) -> bool:
    pieces = []
    original = latex._slow_decode
    latex._slow_decode = lambda piece: pieces.append(piece) or original(piece)
    try:
        latex._to_unicode_python(value)
    finally:
        latex._slow_decode = original
    return bool(pieces)


def _compare(values) -> tuple[int, int]:
    """(values compared, values the C module left to Python); fails on the first difference, and where
    the C module declines a value that the Python code decodes without pylatexenc."""
    fast = _c_to_unicode()
    compared = declined = 0
    for value in dict.fromkeys(values):
        text = fast(value)
        if text is None:
            assert "\x00" in value or _reaches_pylatexenc(value), value
            declined += 1
            continue
        assert type(text) is str
        assert text == latex._to_unicode_python(value), value
        compared += 1
    return compared, declined


def _field_values(text: str, raw: bool = True) -> list[str]:
    """Every field value of a .bib text as the reader evaluates it, and (raw) as written, with its
    braces, quotes and `#`."""
    report = Report()
    blocks = bibtex_split.split(text)
    values = []
    if blocks is not None:
        for block in blocks:
            if not raw:
                break
            if isinstance(block, bibtex_split.RawString):
                values.append(block.value)
            elif block.fields:
                values += [value for _, value in block.fields]
        pending = bibtex._read_blocks(blocks, text, "in.bib", report, {})
    else:
        pending = bibtex._read_with_bibtexparser(text, "in.bib", report)
    for _, _, fields, _, _ in pending:
        values += fields.values()
    return values


def _reading_calls(text: str, monkeypatch) -> list[str]:
    """The values to_unicode gets when the reader reads text (titles, journals, name parts...)."""
    calls: list[str] = []

    def record(value):
        calls.append(value)
        return latex.to_unicode(value)

    with monkeypatch.context() as patch:
        patch.delenv("BIBSMITH_SIMPLE", raising=False)
        patch.setattr(bibtex, "to_unicode", record)
        patch.setattr(bibtexnames, "to_unicode", record)
        bibtex.read(text, "in.bib")
    return calls


@pytest.fixture(autouse=True)
def _fast_paths_on(monkeypatch):
    # The reference must be the fast Python path that the C module replaces, not BIBSMITH_SIMPLE's pylatexenc.
    monkeypatch.delenv("BIBSMITH_SIMPLE", raising=False)


# ---------------------------------------------------------------- real inputs
def test_fixtures_and_examples(monkeypatch):
    paths = sorted(REPO.glob("tests/fixtures/**/*.bib")) + sorted(REPO.glob("examples/*/input.bib"))
    assert len(paths) >= 5
    values, calls = [], []
    for path in paths:
        text = path.read_text(encoding="utf-8")
        values += _field_values(text)
        calls += _reading_calls(text, monkeypatch)
    compared, declined = _compare(values + calls)
    assert compared > 10 * declined


def test_iridia():
    folder = require_shared("data", "iridia-references")
    paths = sorted(folder.glob("*.bib"))
    assert paths
    texts = [path.read_text(encoding="utf-8") for path in paths]
    _compare(value for text in texts for value in _field_values(text))
    # Values as read: what pylatexenc still gets is mostly `_` (in keys, file names) and \url, \cite.
    compared, declined = _compare(value for text in texts for value in _field_values(text, raw=False))
    assert compared > 20 * declined


def test_conformance_inputs():
    folder = require_shared("conformance")
    cases = json.loads((folder / "zotero-bibtex.json").read_text(encoding="utf-8"))
    cases += json.loads((folder / "citationjs-bibtex.json").read_text(encoding="utf-8"))["mapping"]
    values = [value for case in cases for value in _field_values(case["input"])]
    compared, _ = _compare(values)
    assert compared > 50



def test_generated_corpus_and_the_fast_path_is_taken(monkeypatch):
    text = bench_corpus().corpus(1000)
    _compare(_field_values(text))
    compared, declined = _compare(_field_values(text, raw=False))
    # Only whole author lists with stacked accents ({\~{\^e}}) need pylatexenc.
    assert declined < 0.03 * (compared + declined)
    calls = _reading_calls(text, monkeypatch)
    fast = _c_to_unicode()
    assert len(calls) > 1000  # fewer when earlier tests filled the name caches
    assert sum(fast(value) is None for value in calls) < 0.01 * len(calls)
    _compare(calls)


# ---------------------------------------------------------------- generated text
PIECES = [
    "\\'e", '\\"{o}', "{\\ss}", "\\ss", "\\ssx", "\\o ", "\\o", "\\o{}", "\\o{} ", "\\aa", "\\AA", "\\ae", "\\AE", "\\oe",
    "\\OE", "\\L", "\\l", "\\O", "--", "---", "-", "~", "{", "}", "$x$", "$", "\\$", "\\(", "\\)", "\\&", "&", "%", "\\%",
    "#", "\\#", "_", "\\_", "^", "\\{", "\\}", "\\emph{x}", "\\textbf{y}", "\\textit{a b}", "\\emph{}", "\\emph{a-b}",
    "\\emph", "\\c{c}", "\\c c", "\\H{o}", "\\v{s}", "\\d{x}", "\\b{q}", "\\k{a}", "\\r{u}", "\\u{g}", "\\i", "\\'\\i",
    "\\'\\i ", "\\^{\\i}", '\\"\\i\t\n', "\\'{\\i}", "\\=a", "\\.z", "\\~n", "\\^o", "\\`a", "\\'{E}", "\\'", '\\"', "''",
    "``", "`", "'", "!`", "?`", "!", "?", "\\", "\\\\", "\\\n", "\\ ", "\\,", "\\alpha", "\\TeX", "\\url{x}",
    " ", "  ", "\t", "\n", "\r", "\x0b", "\x1c", "\x1f", "\xa0", "\x85", "\u2028", "\u2029", "\u3000", "\u2000",
    "\u202f", "\u200b", "e\u0301", "\u0301", "\u0323", "é", "Å", "\u212b", "A\u030a", "\uf900", "中", "😀",
    "\u1100\u1161", "가", "\u0b47\u0b3e", "ﬁ", "\u2013", "\u201c", "5", "٣", "\x00", "@", "(", ")", "=", ".", '"',
    "x", "a", "i", "e", "E", "word", "The", "of Graphs",
]
# Characters one at a time: every corner of the math pattern, the tokens and the spaces.
ALPHABET = list("\\{}$()'`\"~-!?&.=^_%#ai eoscbdvHLlOAEtxmph \n\t5") + ["٣", "\u0301", "\xa0", "\u2000", "\x85", "\x1c", "é", "中", "😀"]


def test_random_pieces():
    rng = random.Random(20260811)
    texts = ["".join(rng.choice(PIECES) for _ in range(rng.randint(0, 14))) for _ in range(6000)]
    compared, _ = _compare(texts)
    assert compared > 1000


def test_random_pieces_of_the_decoded_subset():
    easy = [piece for piece in PIECES if latex._fast_decode(piece) is not None and "$" not in piece
            and "{" not in piece and "}" not in piece and piece not in ("\\o ", "\\o{} ")]
    rng = random.Random(8)
    texts = ["".join(rng.choice(easy) for _ in range(rng.randint(0, 14))) for _ in range(3000)]
    compared, _ = _compare(texts)
    assert compared > 2000


def test_random_characters():
    rng = random.Random(11)
    texts = ["".join(rng.choice(ALPHABET) for _ in range(rng.randint(0, 12))) for _ in range(10000)]
    compared, _ = _compare(texts)
    assert compared > 2500


@settings(max_examples=800, deadline=None)
@given(st.lists(st.sampled_from(PIECES) | st.text(alphabet=ALPHABET, max_size=3) | st.text(max_size=2), max_size=12))
def test_same_as_python(parts):
    _compare(["".join(parts)])


HARD = [
    "", " ", "\t\n", "\xa0x\xa0", "\x1cx\x1d", "x\u2000\u2001y", "\u2000", "a\x00b", "\\'e\x00", "plain words",
    "$x$", "$x$5", "$x$ 5", "$x$٣", "$ x$", "$x $", "$x", "$$", "$$x$$", "\\$x$", "$x\\$", "$x\\$y$", "a\\\\$b$",
    "$a\\\\$b$", "$\\\\$", "$a\\\n$", "$a\\$", "$\\alpha$ and \\'e", "\\(x\\)", "\\(x", "\\(\\)", "\\(a$b$\\)",
    "$a\\(b$\\)", "\\(\\(x\\)\\)", "costs $5 and $10", "{\\'e}$\\mu$\\'e", "$x$\\o $y$", "\\o$x$", "--$x$--",
    "\\'\\i\n\tx", "\\'\\ix", "\\'{\\i}", "\\^{\\i}", "\\c{c}a\\c c", "\\emph{a}\\textit{b}\\textbf{c}", "\\emph{a~b}",
    "\\textbf{}", "\\o{}x", "\\o{} x", "\\o\nx", "\\oé", "\\ss{}", "\\aae", "{}}{", "}{", "{{x}", "x}", "---- ---",
    "''x", "`x", "'`", "-'", "-`", "!-", "?`", "!`x", "\\'e\u0301", "e\\'{}", "A\\r{A}\\AA{}", "\\d{x}\\b{q}",
    "\\~{\\^e}", "Nguy{\\~{\\^e}}n", "\u212b\\'e", "\uf900\\'e", "\u1100\\~a\u1161", "😀\\\"o 中",
]


def test_hard_cases():
    _compare(HARD)
    fast = _c_to_unicode()
    assert fast("Caf{\\'e} -- na\\\"{\\i}ve $\\alpha$~x") == "Café – naïve $\\alpha$ x"
    assert fast("  A   title\n\twith\xa0spaces ") == "A title with spaces"
    for pylatexenc_only in ("\\alpha", "Nguy{\\~{\\^e}}n", "50%", "a^b", "x_1", "\\o y", "''quoted''"):
        assert fast(pylatexenc_only) is None, pylatexenc_only
    assert fast("a\x00b") is None  # _split_raw_math hides \$ as U+0000
    assert fast(b"bytes") is None and fast(None) is None


def test_all_string_kinds():
    fast = _c_to_unicode()
    for extra in ("", "é", "\u0142", "中", "😀"):  # 1-byte, 1-byte, 2-byte, 2-byte, 4-byte strings
        for value in ("T{\\\"u}bingen \\& Z\\'urich", "na\\\"\\i ve -- \\emph{x}", "  x  y  ", "$a$ \\o{}"):
            text = fast(value + extra)
            assert text is not None
            assert text == latex._to_unicode_python(value + extra)


def test_the_nfc_shortcut_holds_for_this_unicode():
    """The C module skips NFC for text whose characters all lie in a few ranges: each must be a starter
    that is NFC_Quick_Check=Yes (not changed by NFC, and not the second half of any composition)."""
    second_halves = set(range(0x1161, 0x1176)) | set(range(0x11A8, 0x11C3))  # Hangul vowels and trailing consonants
    for code in range(0x110000):
        decomposition = unicodedata.decomposition(chr(code)).split()
        if len(decomposition) == 2 and not decomposition[0].startswith("<") \
                and unicodedata.normalize("NFC", chr(code)) == chr(code):
            second_halves.add(int(decomposition[1], 16))
    for first, last in ((0, 0x2FF), (0x2010, 0x2027), (0x4E00, 0x9FFF)):
        for code in range(first, last + 1):
            char = chr(code)
            assert unicodedata.normalize("NFC", char) == char and unicodedata.combining(char) == 0, hex(code)
            assert code not in second_halves, hex(code)


# ---------------------------------------------------------------- wiring and memory
def test_to_unicode_takes_the_c_path_unless_simple(monkeypatch):
    seen = []

    def fake(value):
        seen.append(value)
        return None if value == "declined" else "from C"

    monkeypatch.setattr(latex, "_c_to_unicode", fake)
    assert latex.to_unicode.__wrapped__("taken") == "from C"
    assert latex.to_unicode.__wrapped__("declined") == "declined"  # the Python code decodes it
    monkeypatch.setenv("BIBSMITH_SIMPLE", "1")
    assert latex.to_unicode.__wrapped__("simple") == "simple"
    assert seen == ["taken", "declined"]


def test_no_leak():
    fast = _c_to_unicode()
    values = _field_values(bench_corpus().corpus(200)) + HARD + ["x" * 2000 + "\\'e", "é\u0301 " * 600 + "\\o"]
    values = [value.encode().decode() for value in values]  # own objects, so that their reference counts are ours
    counted = [value for value in values if len(value) > 1]  # not the shared "" and one-letter strings
    counts = [sys.getrefcount(value) for value in counted]
    tracemalloc.start()
    try:
        for _ in range(3):
            results = [fast(value) for value in values]
        del results
        before = tracemalloc.get_traced_memory()[0]
        for _ in range(20):
            results = [fast(value) for value in values]
        del results
        grown = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert grown < 10_000
    assert [sys.getrefcount(value) for value in counted] == counts

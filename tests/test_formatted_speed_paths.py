"""The formatted writer's fast paths (bibsmith.csl.speed, rendering on every core) give the same bytes
as the simple path (BIBSMITH_SIMPLE=1: citeproc-py's own code, one core) in six styles, text and HTML.

Inputs: the sample profile (also five times over), the benchmark's 1k generated corpus, and the first
400 entries of the IRIDIA bibliography in ../shared (real data; 400 is above the size that turns on
the second core).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO, bench_corpus, require_shared

STYLES = "apa,ieee,chicago-author-date,modern-language-association,nature,acm-sig-proceedings"

# Reads the inputs, keeps the first `limit` records, prints every style in text and HTML.
_FORMATTED = r"""
import sys
from bibsmith import api
from bibsmith.writers import formatted
styles, limit, repeat = sys.argv[1].split(","), int(sys.argv[2]), int(sys.argv[3])
library = api.read(sys.argv[4:])
records = library.records[:limit] * repeat
for style in styles:
    for to in ("text", "html"):
        sys.stdout.write(f"===== {style} {to}\n" + formatted.document(formatted.entries(records, style, output=to), to))
"""



def _start(inputs: list[Path], styles: str, limit: int, repeat: int, simple: bool, seed: str) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if k not in ("BIBSMITH_SIMPLE", "CI")}
    env["PYTHONHASHSEED"] = seed
    if simple:
        env["BIBSMITH_SIMPLE"] = "1"
    return subprocess.Popen([sys.executable, "-c", _FORMATTED, styles, str(limit), str(repeat), *map(str, inputs)], cwd=REPO,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _outputs(process: subprocess.Popen) -> dict[str, str]:
    stdout, stderr = process.communicate(timeout=900)
    assert process.returncode == 0, stderr[-2000:]
    return dict(part.split("\n", 1) for part in stdout.split("===== ")[1:])


def _same_on_both_paths(inputs: list[Path], styles: str, limit: int = 10**9, repeat: int = 1) -> dict[str, str]:
    fast, simple = _start(inputs, styles, limit, repeat, False, "1"), _start(inputs, styles, limit, repeat, True, "2")
    fast_out, simple_out = _outputs(fast), _outputs(simple)
    assert len(fast_out) == 2 * len(styles.split(","))
    for name in simple_out:
        assert fast_out[name] == simple_out[name], name
    return fast_out


def test_sample_is_the_same_on_fast_and_simple_paths(sample_path):
    out = _same_on_both_paths([sample_path], STYLES)
    assert out["apa text"].count("\n") == 48


def test_repeated_sample_is_the_same_on_fast_and_simple_paths(sample_path):
    # Every entry five times: ties on every sort key (speed.Sort renders later keys for ties only),
    # year suffixes, substitutes, and more entries than it takes to use a second core.
    # annales: a date with a form and its own date-parts (one core, every key, see speed.items_independent).
    out = _same_on_both_paths([sample_path], STYLES + ",annales", repeat=5)
    assert out["apa text"].count("\n") == 240


def test_1k_corpus_is_the_same_on_fast_and_simple_paths(tmp_path):
    corpus = bench_corpus().write_corpus(tmp_path, 1000)
    # MLA: subsequent-author-substitute crosses entries (and the cores' shares of them).
    out = _same_on_both_paths([corpus], "apa,modern-language-association")  # IEEE: tests/test_fastpaths.py
    assert out["apa text"].count("\n") == 1000
    assert "———" in out["modern-language-association text"]


def test_iridia_is_the_same_on_fast_and_simple_paths():
    folder = require_shared("data", "iridia-references")
    inputs = [folder / name for name in ("abbrev.bib", "journals.bib", "authors.bib", "crossref.bib", "biblio.bib",
                                         "articles.bib")]
    out = _same_on_both_paths(inputs, STYLES, limit=400)
    assert out["ieee text"].count("\n") == 400


@pytest.mark.parametrize("style", ["modern-language-association", "apa"])
def test_any_number_of_shares_gives_one_core_output(style, monkeypatch, sample_path):
    """Cut into many shares, each entry that repeats the names of the last entry of the share before
    is rendered again with them: the output equals one core's, whatever the number of shares."""
    from bibsmith import api
    from bibsmith.csl import engine, parallel

    items = api.read([sample_path]).records * 5  # repeated author lists on every side of every cut
    monkeypatch.setattr(parallel, "workers", lambda count: 1)
    one = engine._render(items, _style(style), "en-US")
    assert "———" in "".join(one[0]) or style != "modern-language-association"
    for shares in (3, 60):
        monkeypatch.setattr(parallel, "workers", lambda count, shares=shares: shares)
        assert engine._render(items, _style(style), "en-US") == one, shares


def test_chunks_are_in_order_and_cover_everything():
    from bibsmith.csl import parallel

    items = list(range(1003))
    for count in (1, 2, 3, 4, 7):
        parts = parallel.chunks(items, count)
        assert len(parts) == count
        assert [x for part in parts for x in part] == items
        assert max(map(len, parts)) - min(map(len, parts)) <= 1
    assert parallel.chunks([1, 2], 5) == [[1], [2]]
    assert parallel.chunks([], 3) == [[]]


def test_a_failing_child_is_recomputed_here():
    from bibsmith.csl import parallel

    parent = os.getpid()

    def work(part):
        if os.getpid() != parent and 5 in part:
            raise RuntimeError("child failure")
        return [x * 2 for x in part]

    assert parallel.run(work, parallel.chunks(list(range(10)), 3)) == [[0, 2, 4, 6], [8, 10, 12], [14, 16, 18]]


def _style(style: str) -> str:
    from bibsmith.writers.formatted import style_path

    return style_path(style)


def test_sort_text_equals_its_definition():
    """fixes.sort_text drops combining marks and punctuation through a cached translate table."""
    import random
    import unicodedata

    from bibsmith.csl import fixes

    def definition(text: str) -> str:
        decomposed = unicodedata.normalize("NFKD", text)
        kept = "".join(c for c in decomposed
                       if not unicodedata.combining(c) and not unicodedata.category(c).startswith("P"))
        return " ".join(kept.split())

    rng = random.Random(3)
    pool = "aäÅéß’'\".,;:!?-–— \t\n()[]{}“”«»¿¡ﬁ①ǅ\u0301\u00a0\u2009" + "".join(chr(rng.randrange(0x20, 0x3000))
                                                                          for _ in range(300))
    for _ in range(20000):
        text = "".join(rng.choice(pool) for _ in range(rng.randint(0, 15)))
        assert fixes.sort_text(text) == definition(text), repr(text)


def test_nested_quotes_equals_the_character_walk():
    """post.nested_quotes jumps between quote marks; the walk over every character is its definition."""
    import random

    from bibsmith.csl import post

    def walk(text, outer, inner):
        opens = {outer[0]: "outer", inner[0]: "inner"}
        closes = {outer[1], inner[1]}
        out, stack = [], []
        for n, char in enumerate(text):
            after = text[n + 1:n + 2]
            if char in opens and not (char in closes and stack):
                kind = "inner" if stack and stack[-1] == "outer" else "outer"
                stack.append(kind)
                out.append(outer[0] if kind == "outer" else inner[0])
            elif char in closes and stack and not (char == "\u2019" and after.isalpha()):
                kind = stack.pop()
                out.append(outer[1] if kind == "outer" else inner[1])
            else:
                out.append(char)
        return "".join(out) if not stack else text

    quotes = [(("\u201c", "\u201d"), ("\u2018", "\u2019")), (("«\u00a0", "\u00a0»"), ("“", "”")),
              (("«", "»"), ("“", "”")), (('"', '"'), ("'", "'")), (("", ""), ("‘", "’")), (("]", "^"), ("-", "\\"))]
    rng = random.Random(1)
    for _ in range(50000):
        text = "".join(rng.choice("ab \u201c\u201d\u2018\u2019\"'«» ]^-\\") for _ in range(rng.randint(0, 12)))
        pair = rng.choice(quotes)
        assert post.nested_quotes(text, *pair) == walk(text, *pair), (text, pair)


def test_one_core_for_small_inputs_simple_runs_and_threaded_callers(monkeypatch):
    import threading

    from bibsmith.csl import parallel

    monkeypatch.setattr(parallel.sys, "platform", "linux")
    monkeypatch.setattr(parallel.os, "sched_getaffinity", lambda pid: {0, 1}, raising=False)
    assert parallel.workers(parallel.MIN_ITEMS - 1) == 1
    assert parallel.workers(1000) == 2
    monkeypatch.setenv("BIBSMITH_SIMPLE", "1")
    assert parallel.workers(1000) == 1
    monkeypatch.delenv("BIBSMITH_SIMPLE")
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait)
    thread.start()
    try:
        assert parallel.workers(1000) == 1  # a fork would copy locks other threads may hold
    finally:
        stop.set()
        thread.join()
    monkeypatch.setattr(parallel.sys, "platform", "darwin")
    assert parallel.workers(1000) == 1


def test_a_failure_here_ends_the_children(tmp_path):
    import time

    from bibsmith.csl import parallel

    parent = os.getpid()

    def work(part):
        if os.getpid() == parent:
            while len(list(tmp_path.iterdir())) < 2:  # both children have started
                time.sleep(0.01)
            raise ValueError("failure in this process")
        (tmp_path / str(os.getpid())).write_text("started")
        time.sleep(3600)  # still at work: ended by the parent, not waited for
        return part

    with pytest.raises(ValueError):
        parallel.run(work, parallel.chunks(list(range(10)), 3))
    for child in tmp_path.iterdir():
        with pytest.raises(ProcessLookupError):  # ended and reaped
            os.kill(int(child.name), 0)

"""Fast paths give the same output, byte for byte, as the simple paths: on the sample and on a 1k generated corpus.

The simple paths are (a) reading every entry on its own, with nothing carried over from other entries
(what any caching, chunked or parallel reading must equal), and (b) a whole run with the fast paths
switched off by `BIBSMITH_SIMPLE=1` (the one switch every fast path must honour: caches, plain-text
bypasses, rendering once for several outputs, work on both cores) and with a different hash seed, so
that neither a fast path nor set or dict order can change a byte of any output.
"""

from __future__ import annotations

import json
import re
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import bench_corpus

from bibsmith import api

REPO = Path(__file__).resolve().parent.parent



@pytest.fixture(scope="module")
def corpus_1k(tmp_path_factory) -> Path:
    return bench_corpus().write_corpus(tmp_path_factory.mktemp("fastpaths"), 1000)


def test_generator_is_deterministic_and_nested():
    corpus = bench_corpus()
    first = list(corpus.entries(200))
    assert first == list(corpus.entries(200))
    assert list(corpus.entries(50)) == first[:50]  # 1k is a prefix of 10k, 10k of 100k
    text = "".join(first)
    # The variety the benchmark promises: LaTeX and UTF-8 accents, particles, suffixes, math, DOIs, eprints.
    for needle in ('{\\"u}', "ü", " van ", "Jr.", "$", "doi = {10.", "eprint = {", "archivePrefix = {arXiv}", "-"):
        assert needle in text, needle


def test_reading_whole_file_equals_reading_each_entry_alone(corpus_1k):
    text = corpus_1k.read_text(encoding="utf-8")
    whole = api.loads(text, "bibtex", "corpus.bib")
    assert len(whole.records) == 1000
    assert not whole.report.items
    chunks = ["@" + chunk for chunk in text.split("\n@")[1:]]
    alone = [record for chunk in chunks for record in api.loads(chunk, "bibtex", "entry.bib").records]
    assert alone == whole.records


# One process per mode reads the inputs once and writes every format; the script prints each output.
_ALL_OUTPUTS = r"""
import sys
from bibsmith import api
styles = sys.argv[1].split(",")
library = api.read(sys.argv[2:])
assert not library.report.has_errors, [str(d) for d in library.report]
for to in ("csl-json", "bibtex", "biblatex", "ris", "orcid", "text", "html"):
    for style in (styles if to in ("text", "html") else styles[:1]):
        sys.stdout.write(f"===== {to} {style}\n" + api.write(library, to, style=style))
"""


def _start(inputs: list[Path], simple: bool, seed: str, styles: str) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if k not in ("BIBSMITH_SIMPLE", "CI")}
    env["PYTHONHASHSEED"] = seed
    if simple:
        env["BIBSMITH_SIMPLE"] = "1"
    return subprocess.Popen([sys.executable, "-c", _ALL_OUTPUTS, styles, *map(str, inputs)], cwd=REPO, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _outputs(process: subprocess.Popen) -> dict[str, str]:
    stdout, stderr = process.communicate(timeout=600)
    assert process.returncode == 0, stderr[-2000:]
    return dict(part.split("\n", 1) for part in stdout.split("===== ")[1:])


def _fast_and_simple(inputs: list[Path], styles: str) -> tuple[dict[str, str], dict[str, str]]:
    """Both runs at once (they are independent processes), each with its own hash seed."""
    fast, simple = _start(inputs, False, "1", styles), _start(inputs, True, "2", styles)
    return _outputs(fast), _outputs(simple)


def test_sample_outputs_are_the_same_on_fast_and_simple_paths(sample_path):
    fast, simple = _fast_and_simple([sample_path], "apa,ieee")
    assert len(fast) == 9
    assert len(json.loads(fast["csl-json apa"])) == 48
    assert fast == simple


def test_1k_corpus_outputs_are_the_same_on_fast_and_simple_paths(corpus_1k):
    # IEEE alone keeps this test within seconds at 1k (APA costs three times as much); the sample has both.
    fast, simple = _fast_and_simple([corpus_1k], "ieee")
    assert len(json.loads(fast["csl-json ieee"])) == 1000
    assert fast["ris ieee"].count("ER  - ") == 1000
    assert fast["text ieee"].count("\n[") == 999
    assert fast == simple


def test_csljson_positions_equal_counting_from_the_start(corpus_1k):
    # The CSL-JSON reader counts lines incrementally (once per stretch of text, not from the start per item).
    text = api.write(api.read(corpus_1k), "csl-json")
    library = api.loads(text, "csl-json", "refs.json")
    starts = [m.start() + 2 for m in re.finditer(r"^  \{$", text, re.M)]
    assert len(starts) == len(library.records) == 1000
    expected = [(text.count("\n", 0, start) + 1, 3) for start in starts]
    assert [(p.line, p.column) for p in library.positions] == expected
    assert expected[:2] == [(2, 3), (expected[0][0] + len(library.records[0]) + 2, 3)]

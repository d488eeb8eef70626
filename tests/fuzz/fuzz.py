"""Fuzzing: hostile inputs for every reader and every writer, for a chosen time.

    python tests/fuzz/fuzz.py --minutes 10      (what `make fuzz MINUTES=10` runs)

Inputs are made by hypothesis: wrong JSON types, NaN and Infinity, huge numbers, control characters,
lone surrogates, deep nesting of JSON and of braces, broken markup; and real fixtures with such values
spliced in. Each input is read (`bibsmith.loads`), checked at the hub (`normalize`) and written in every
format of `bibsmith.registry.WRITERS` (formatted ones in two styles). Counted:

- tracebacks: any exception other than the library's own BibsmithError and UsageError;
- bad outputs: text a writer returned that cannot be saved as UTF-8, or CSL-JSON that is not strict JSON;
- mismatches: the fast paths against the simple ones (BIBSMITH_SIMPLE=1: records, messages and every
  output), and the C modules against their Python twins (_fastlatex, _fastjson).

tests/test_fuzz.py runs the same for a short time in the normal test run.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

import bibsmith  # noqa: E402
from bibsmith import registry  # noqa: E402
from bibsmith.diagnostics import BibsmithError, UsageError  # noqa: E402
from bibsmith.record import normalize  # noqa: E402
from bibsmith.text import latex  # noqa: E402
from bibsmith.writers import csljson  # noqa: E402

STYLES = ("apa", "ieee")
FORMATS = [name for name in registry.WRITERS if name != "cv"] + ["cv", "cv:markdown"]
CSL_KEYS = ["id", "type", "title", "author", "editor", "issued", "container-title", "volume", "issue", "page",
            "DOI", "URL", "note", "abstract", "keyword", "categories", "custom", "publisher", "number",
            "language", "event-date", "version", "section", "citation-key", "isbn"]

# ---------------------------------------------------------------- hostile values

ODD_CHARS = ["\x00", "\x01", "\x08", "\x0b", "\x0c", "\x1b", "\x7f", "\x85", "\x9f", "\ud800", "\udfff",
             "\ufffe", "\uffff", "\u2028", "\u00a0", "\u200b", "\U0001f600", "\ue000", "\\", "{", "}", "$", "%",
             "&", "#", "~", "^", "_", "\"", "'", "<", ">", "@", ",", "\n", "\t", "\r", " and ", "é", "²", "١", "5",
             "9" * 30, "9" * 5000]
texts = st.lists(st.sampled_from(ODD_CHARS) | st.characters(codec=None), max_size=30).map("".join)
# Text of a file is Unicode (bibsmith reads files as strict UTF-8): no lone surrogates in it; JSON can
# still hold them as \ud800 escapes, and records built in Python can too.
file_chars = [c for c in ODD_CHARS if not "\ud800" <= c <= "\udfff"]
file_texts = st.lists(st.sampled_from(file_chars) | st.characters(codec="utf-8"), max_size=30).map("".join)
numbers = (st.integers(-10 ** 30, 10 ** 30) | st.floats(allow_nan=True, allow_infinity=True)
           | st.sampled_from([0, -1, 2 ** 63, 10 ** 20, 10 ** 21, 1e308, -0.0]))
deep_braces = st.builds(lambda n, inner, math: math + "{" * n + inner + "}" * n + math,
                        st.integers(90, 400), st.sampled_from(["x", "\\foo y", "\\frac{a}{b}"]), st.sampled_from(["", "$"]))
leaves = (st.none() | st.booleans() | numbers | texts | deep_braces
          | st.sampled_from(["2020", "2020-05-01", "Doe, J", "", "book"]))
values = st.recursive(leaves, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
    st.sampled_from(["family", "given", "literal", "date-parts", "raw", "season", "isInstitution", "x"]) | texts,
    inner, max_size=3), max_leaves=8)
names = st.lists(st.fixed_dictionaries({}, optional={"family": values, "given": values, "literal": values,
                                                      "isInstitution": st.sampled_from(["true", True, 0])})
                 | values, max_size=3)
dates = st.fixed_dictionaries({}, optional={"date-parts": st.lists(st.lists(leaves, max_size=4), max_size=3) | values,
                                            "raw": values, "literal": values, "season": values, "circa": values})
records = st.dictionaries(st.sampled_from(CSL_KEYS) | texts, values, max_size=6).flatmap(
    lambda base: st.fixed_dictionaries({}, optional={"author": names, "issued": dates, "type": leaves | values})
    .map(lambda extra: {**base, **extra}))


def _deep(depth: int, open_: str, close: str, inner: str) -> str:
    return open_ * depth + inner + close * depth


@st.composite
def json_texts(draw) -> str:
    """CSL-JSON text: records of hostile values, then at times a raw literal spliced in."""
    items = draw(st.lists(records, max_size=3))
    text = json.dumps(items, allow_nan=True)  # lone surrogates as \\ud800 escapes
    splice = draw(st.sampled_from(["", "nan", "inf", "huge", "hugefloat", "deep", "deepobj", "cut"]))
    literal = {"nan": "NaN", "inf": "-Infinity", "huge": "9" * draw(st.integers(20, 5000)),
               "hugefloat": "1" + "0" * draw(st.integers(18, 400)) + ".5e" + str(draw(st.integers(-400, 400))),
               "deep": _deep(draw(st.integers(90, 1200)), "[", "]", "1"),
               "deepobj": _deep(draw(st.integers(90, 600)), '{"a":', "}", "1")}.get(splice)
    if literal is not None:
        text = f'[{{"id": "a", "type": "book", "volume": {literal}}}]' if not items else text.replace(
            "null", literal, 1) if "null" in text else text[:-1] + f', {{"volume": {literal}}}]'
    elif splice == "cut" and text:
        text = text[:draw(st.integers(0, len(text)))]
    return text


bib_values = st.lists(st.sampled_from(file_chars + ["\\emph{", "\\foo ", "\\'", "$x^2$", "--", "a", "B", "1", " "]),
                      max_size=25).map("".join)


@st.composite
def bib_texts(draw) -> str:
    entries = []
    for n in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["article", "book", "misc", "inproceedings", "unknown", "string", "comment"]))
        fields = draw(st.lists(st.tuples(st.sampled_from(["title", "author", "year", "month", "journal", "doi",
                                                          "pages", "volume", "note", "url", "editor", "crossref",
                                                          "day", "date", "number"]),
                                         bib_values), max_size=5))
        if draw(st.booleans()):
            depth = draw(st.integers(50, 400))
            fields.append(("title", _deep(depth, "{", "}", draw(st.sampled_from(["\\foo x", "x", "\\emph{y}"])))))
        body = ",\n".join(f"  {name} = {{{value}}}" for name, value in fields)
        entries.append(f"@{kind}{{k{n},\n{body}\n}}\n")
    return "".join(entries)


@st.composite
def ris_texts(draw) -> str:
    lines = ["TY  - " + draw(st.sampled_from(["JOUR", "BOOK", "XXXX", "", "CHAP"]))]
    for _ in range(draw(st.integers(0, 8))):
        tag = draw(st.sampled_from(["AU", "TI", "PY", "DA", "Y1", "DO", "SP", "EP", "VL", "KW", "N1", "UR", "ZZ", "T2"]))
        lines.append(f"{tag}  - {draw(file_texts)}")
    if draw(st.booleans()):
        lines.append("ER  - ")
    return "\n".join(lines) + "\n"


def _xml(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


@st.composite
def orcid_texts(draw) -> str:
    title, year, kind, doi = (_xml(draw(file_texts)) for _ in range(4))
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            '<work:work xmlns:work="http://www.orcid.org/ns/work" xmlns:common="http://www.orcid.org/ns/common">'
            f"<work:title><common:title>{title}</common:title></work:title><work:type>{kind}</work:type>"
            f"<common:publication-date><common:year>{year}</common:year></common:publication-date>"
            "<common:external-ids><common:external-id><common:external-id-type>doi</common:external-id-type>"
            f"<common:external-id-value>{doi}</common:external-id-value></common:external-id></common:external-ids>"
            "</work:work>\n")


@st.composite
def profile_texts(draw) -> str:
    papers = []
    for _ in range(draw(st.integers(1, 3))):
        papers.append(f"{draw(st.sampled_from(['LG', 'CL', 'XQ', '']))}{draw(st.sampled_from(['Oct 12, 2022', 'Feb 30, 2019', 'Foo 1, 99999999999999999999999', '']))}\n"
                      f"{draw(file_texts)}\n\n{draw(file_texts)} · {draw(file_texts)}\n\n{draw(file_texts)}\n")
    return "Jane Q. Researcher\n\nLG\nh-index" + str(draw(numbers)) + "\n\n3 Papers\n\n" + "\n".join(papers)


INPUTS: dict[str, Callable[[], st.SearchStrategy[str]]] = {
    "csl-json": json_texts, "bibtex": bib_texts, "ris": ris_texts, "orcid": orcid_texts, "profile": profile_texts,
}

# ---------------------------------------------------------------- one run


@dataclass
class Tally:
    runs: int = 0
    tracebacks: int = 0
    bad_outputs: int = 0
    mismatches: int = 0
    examples: list[str] = field(default_factory=list)

    def failed(self, kind: str, what: str, data: Any) -> None:
        setattr(self, kind, getattr(self, kind) + 1)
        if len(self.examples) < 20 and not any(example.startswith(f"{kind}: {what}\n") for example in self.examples):
            self.examples.append(f"{kind}: {what}\n    input: {data!r}"[:3000])

    @property
    def total(self) -> int:
        return self.tracebacks + self.bad_outputs + self.mismatches


def _traceback(exc: BaseException) -> str:
    return "".join(traceback.format_exception_only(type(exc), exc)).strip() + " at " + \
        " < ".join(f"{Path(f.filename).name}:{f.lineno}" for f in reversed(traceback.extract_tb(exc.__traceback__)[-4:]))


def _pipeline(make_library: Callable[[], Any], tally: Tally, data: Any) -> tuple | None:
    """Read (make_library), check at the hub, write every format: (records, messages, outputs)."""
    try:
        library = make_library()
        normalize(library)
    except (BibsmithError, UsageError):
        return None
    except Exception as exc:  # noqa: BLE001 - counting them is the point
        tally.failed("tracebacks", "reading: " + _traceback(exc), data)
        return None
    outputs: list[tuple[str, str]] = []
    for to in FORMATS:
        for style in STYLES if registry.writer_for(to.split(":")[0]).module.endswith(("formatted", "cv")) else STYLES[:1]:
            try:
                text = bibsmith.write(library, to, style=style)
            except (BibsmithError, UsageError):
                text = "<refused>"
            except Exception as exc:  # noqa: BLE001
                tally.failed("tracebacks", f"writing {to} ({style}): " + _traceback(exc), data)
                continue
            try:
                text.encode("utf-8")
                if to == "csl-json" and text != "<refused>":
                    json.loads(text, parse_constant=_no_constant)
            except (UnicodeError, ValueError) as exc:
                tally.failed("bad_outputs", f"{to}: {exc}", data)
            outputs.append((f"{to}/{style}", text))
    return library.records, [str(d) for d in library.report], outputs


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} in CSL-JSON output")


def _both_ways(make_library: Callable[[], Any], tally: Tally, data: Any) -> None:
    """The pipeline with the fast paths and with BIBSMITH_SIMPLE=1; both must give the same."""
    tally.runs += 1
    before = os.environ.pop("BIBSMITH_SIMPLE", None)
    try:
        fast = _pipeline(make_library, tally, data)
        os.environ["BIBSMITH_SIMPLE"] = "1"
        simple = _pipeline(make_library, tally, data)
    finally:
        os.environ.pop("BIBSMITH_SIMPLE", None)
        if before is not None:
            os.environ["BIBSMITH_SIMPLE"] = before
    if fast is not None and simple is not None and _comparable(fast) != _comparable(simple):
        tally.failed("mismatches", "BIBSMITH_SIMPLE=1 gives other records, messages or outputs", data)
    if fast is not None:
        _c_twins(fast[0], tally, data)


def _comparable(result: tuple) -> str:
    return json.dumps(result, default=repr, sort_keys=True)


def _outcome(function: Callable, *args: Any) -> tuple[str, Any]:
    try:
        return "text", function(*args)
    except Exception as exc:  # noqa: BLE001 - the type is what is compared
        return "raises", type(exc)


def _c_twins(records: list[dict], tally: Tally, data: Any) -> None:
    fast_json = csljson._fastjson
    for record in records:
        if fast_json is not None and _outcome(fast_json.record_text, record) != _outcome(csljson._record_text_python, record):
            tally.failed("mismatches", "_fastjson.record_text differs from _record_text_python", record)


def _latex_twin(value: str, tally: Tally) -> None:
    if latex._c_to_unicode is None or latex.too_deep(value):
        return  # the deep ones never reach either (the reader refuses them)
    fast = _outcome(latex._c_to_unicode, value)
    if fast == ("text", None):
        return  # the C module leaves this value to Python
    tally.runs += 1
    python = _outcome(latex._to_unicode_python, value)
    if python[0] == "raises" and python[1] not in (BibsmithError, UsageError):
        tally.failed("tracebacks", f"to_unicode raises {python[1].__name__}", value)
    elif fast != python:
        tally.failed("mismatches", "_fastlatex.to_unicode differs from _to_unicode_python", value)


# ---------------------------------------------------------------- the loop

_FUZZ_SETTINGS = dict(phases=[Phase.generate], database=None, deadline=None, derandomize=False,
                      suppress_health_check=list(HealthCheck))


def fuzz(seconds: float, tally: Tally | None = None, batch: int = 20) -> Tally:
    """Run every kind of input in turn until `seconds` have passed; what failed is in the tally."""
    tally = tally or Tally()
    end = time.monotonic() + seconds

    def for_format(name: str):
        @settings(max_examples=batch, **_FUZZ_SETTINGS)
        @given(INPUTS[name]())
        def run(text: str) -> None:
            _both_ways(lambda: bibsmith.loads(text, name, f"fuzz.{name}"), tally, text)
        return run

    @settings(max_examples=batch, **_FUZZ_SETTINGS)
    @given(st.lists(records, max_size=3))
    def hub_records(items: list) -> None:
        from bibsmith.library import Library

        def make() -> Library:
            library = Library()
            for item in items:
                library.add(dict(item))
            return library
        _both_ways(make, tally, items)

    @settings(max_examples=batch * 10, **_FUZZ_SETTINGS)
    @given(bib_values | texts)
    def latex_values(value: str) -> None:
        _latex_twin(value, tally)

    runners = [for_format(name) for name in INPUTS] + [hub_records, latex_values]
    while time.monotonic() < end:
        for runner in runners:
            runner()
            if time.monotonic() >= end:
                break
    return tally


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    args = parser.parse_args()
    started = time.monotonic()
    tally = fuzz(args.minutes * 60)
    for example in tally.examples:
        print(example, file=sys.stderr)
    print(f"{tally.runs} runs in {(time.monotonic() - started) / 60:.1f} min: {tally.tracebacks} tracebacks, "
          f"{tally.bad_outputs} bad outputs, {tally.mismatches} mismatches (C vs Python twins, fast vs simple)")
    return 1 if tally.total else 0


if __name__ == "__main__":
    sys.exit(main())

"""bibsmith._fastjson (C) writes every record exactly as csljson._record_text_python does, or raises the same.

The C module is optional (setup.py builds it when a compiler is there): without it the comparisons
skip, except under CI=true, where they fail, since CI must test both implementations.
"""

from __future__ import annotations

import gc
import math
import sys
import tracemalloc
from collections import OrderedDict
from contextlib import contextmanager
from pathlib import Path

import pytest

from conftest import REPO, bench_corpus, require_speedup
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bibsmith import api
from bibsmith.library import Library
from bibsmith.writers import csljson

INPUTS = sorted(REPO.glob("examples/*/input.*")) + sorted(
    path for ext in ("bib", "json", "ris") for path in (REPO / "tests" / "fixtures").rglob(f"*.{ext}"))


@pytest.fixture(scope="module")
def fast():
    """The C module; skip without it (fail under CI=true)."""
    return require_speedup(csljson._fastjson, "_fastjson")


def outcome(write, record, *args):
    """The text, or the type of the exception."""
    try:
        return "text", write(record, *args)
    except Exception as error:  # noqa: BLE001 - the type is what is compared
        return "raises", type(error)


def assert_same(fast, record) -> None:
    expected = outcome(csljson._record_text_python, record)
    assert outcome(fast.record_text, record) == expected
    if expected[0] == "text":
        assert outcome(fast.record_text, record, ",\n") == ("text", expected[1] + ",\n")



@pytest.fixture(scope="module")
def corpus_records(tmp_path_factory) -> list[dict]:
    path = bench_corpus().write_corpus(tmp_path_factory.mktemp("fastjson"), 1000)
    records = api.read(path).records
    assert len(records) == 1000
    return records


# ---- Real records ---------------------------------------------------------------------------------

def test_inputs_are_found() -> None:
    assert len(INPUTS) >= 10
    assert {path.suffix for path in INPUTS} >= {".bib", ".json", ".ris"}


@pytest.mark.parametrize("path", INPUTS, ids=[str(path.relative_to(REPO)) for path in INPUTS])
def test_examples_and_fixtures(fast, path: Path) -> None:
    records = api.read(path).records
    assert records
    for record in records:
        assert fast.record_text(record) == csljson._record_text_python(record)


def test_generated_corpus(fast, corpus_records) -> None:
    for record in corpus_records:
        assert fast.record_text(record) == csljson._record_text_python(record)


@contextmanager
def c_only(fast):
    """The C module with Python fallbacks that fail: what is written, is written in C."""
    def python(*args):
        raise AssertionError(f"the Python fallback ran for {args!r}")
    fast.configure(csljson._order, python, python)
    try:
        yield
    finally:
        fast.configure(csljson._order, csljson._compact, csljson._record_text_python)


def test_corpus_records_are_written_in_c(fast, corpus_records) -> None:
    """Nothing of the corpus goes back to Python (it would still be right, only slow)."""
    with c_only(fast):
        for record in corpus_records:
            assert fast.record_text(record) == csljson._record_text_python(record)


def test_writer_uses_c_unless_simple(fast, corpus_records, monkeypatch) -> None:
    library = Library(records=list(corpus_records[:200]))
    calls = []
    real = fast.record_text
    monkeypatch.setattr(csljson, "_fastjson", type("Spy", (), {
        "record_text": staticmethod(lambda *args: calls.append(1) or real(*args))}))
    monkeypatch.delenv("BIBSMITH_SIMPLE", raising=False)
    fast_text = "".join(csljson.write_stream(library, csljson.Options()))
    one = csljson.record_text(library.records[0])
    assert len(calls) == 201
    monkeypatch.setenv("BIBSMITH_SIMPLE", "1")
    simple_text = "".join(csljson.write_stream(library, csljson.Options()))
    assert csljson.record_text(library.records[0]) == one
    assert len(calls) == 201
    assert fast_text == simple_text
    assert simple_text.startswith("[\n  {\n") and simple_text.endswith("\n  }\n]\n")


def test_without_the_c_module(corpus_records, monkeypatch) -> None:
    """Where the module could not be built, the Python path writes the same (runs with or without it)."""
    library = Library(records=list(corpus_records[:50]))
    with_module = "".join(csljson.write_stream(library, csljson.Options()))
    monkeypatch.setattr(csljson, "_fastjson", None)
    assert "".join(csljson.write_stream(library, csljson.Options())) == with_module
    assert csljson.record_text(library.records[0]) == csljson._record_text_python(library.records[0])
    for records, text in (([], "[]\n"), ([{"id": "a"}], '[\n  {\n    "id": "a"\n  }\n]\n')):
        assert "".join(csljson.write_stream(Library(records=records), csljson.Options())) == text


def test_one_and_no_records(fast) -> None:
    for records, text in (([], "[]\n"), ([{"id": "a"}], '[\n  {\n    "id": "a"\n  }\n]\n'),
                          ([{"id": "a"}, {}], '[\n  {\n    "id": "a"\n  },\n  {\n\n  }\n]\n')):
        assert "".join(csljson.write_stream(Library(records=records), csljson.Options())) == text


# ---- Any JSON-like value -------------------------------------------------------------------------

class Str(str):
    pass


class Int(int):
    def __repr__(self) -> str:
        return "Int!"


class Float(float):
    def __repr__(self) -> str:
        return "Float!"


class List(list):
    pass


class Dict(dict):
    def items(self):
        return [("items", "overridden")]


SPECIAL = ['"', "\\", "/", "\n", "\r", "\t", "\b", "\f", "\x00", "\x01", "\x1f", " ", "\x7f", "\x80", "\xa0",
           "é", "ÿ", "Ł", "\u2028", "\u2029", "\ud800", "\udfff", "\ufeff", "\uffff", "😀", "\U0010ffff"]
texts = st.text(st.sampled_from(SPECIAL) | st.characters(min_codepoint=0, max_codepoint=0x10FFFF, exclude_categories=()))
ints = st.integers() | st.integers(min_value=-(2 ** 300), max_value=2 ** 300) | st.sampled_from(
    [0, -1, 2 ** 63 - 1, 2 ** 63, -(2 ** 63), -(2 ** 63) - 1, 2 ** 64, -(2 ** 64)])
floats = st.floats(allow_nan=True, allow_infinity=True) | st.sampled_from([0.0, -0.0, math.nan, math.inf, -math.inf, 1e300, 5e-324])
json_leaves = st.none() | st.booleans() | ints | floats | texts
json_values = st.recursive(
    json_leaves,
    lambda inner: (st.lists(inner, max_size=4) | st.lists(inner, max_size=3).map(tuple)
                   | st.dictionaries(texts, inner, max_size=4)),
    max_leaves=12)
# and what only Python writes: subclasses, other types, dict keys that are not str, other mappings
leaves = (json_leaves | texts.map(Str) | ints.map(Int) | floats.map(Float)
          | st.sampled_from([b"bytes", object, frozenset({1}), {1, 2}, 1j, Ellipsis]))
keys = (texts | texts.map(Str) | ints | floats | st.booleans() | st.none() | ints.map(Int) | floats.map(Float)
        | st.tuples(ints) | st.sampled_from([b"k", frozenset()]))
values = st.recursive(
    leaves,
    lambda inner: (st.lists(inner, max_size=4) | st.lists(inner, max_size=3).map(tuple)
                   | st.lists(inner, max_size=3).map(List)
                   | st.dictionaries(texts, inner, max_size=4)
                   | st.dictionaries(keys, inner, max_size=3)
                   | st.dictionaries(texts, inner, max_size=3).map(Dict)
                   | st.dictionaries(texts, inner, max_size=3).map(OrderedDict)),
    max_leaves=12)
record_keys = st.sampled_from(csljson.KEY_ORDER + ["custom", "note", "language", "zzz", ""]) | texts


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(record_keys, json_values, max_size=8))
def test_json_records_are_written_in_c(fast, record) -> None:
    with c_only(fast):
        assert_same(fast, record)


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(record_keys, values, max_size=8))
def test_any_record(fast, record) -> None:
    assert_same(fast, record)


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(record_keys | keys, values, max_size=6))
def test_records_with_keys_of_any_type(fast, record) -> None:
    assert_same(fast, record)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(record_keys, values), max_size=6))
def test_records_that_are_not_plain_dicts(fast, items) -> None:
    assert_same(fast, OrderedDict(items))
    assert_same(fast, Dict(items))


# ---- Edges ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("record", [
    {},
    {"id": ""},
    {"id": "x", "custom": {}, "title": [], "note": ()},
    {"id": "x", "issued": {"date-parts": [[2020, 1, 2]]}, "volume": 3, "page": -12, "x": 1.5, "y": True, "z": None},
    {"abstract": "\x00" * 10000},                                 # every character becomes 6
    {"abstract": "a" * 20000 + "😀" + "\n" * 5000},               # widened to 4 bytes on the heap
    {"title": "é" * 3000, "author": [{"family": "Ł" * 3000}], "abstract": "😀" * 3000},
    {"id": "x", "weird": {1: "a", 2.5: "b", False: "c", None: "d"}},  # keys converted by Python
    {"id": "x", "weird": {(1, 2): "a"}},                          # TypeError in both
    {"id": "x", "weird": [set()]},                                # TypeError in both
    {"id": "x", "big": 10 ** 5000},                               # ValueError (int_max_str_digits) in both
    {"id": "x", "weird": {"a": 1, 2: "b", "c": 3.5}},
    {"id": "x", "floats": [math.nan, math.inf, -math.inf, -0.0, 0.1, 1e16, 1e-7, Float(2.5)]},
    {"id": "x", "ints": [True, False, Int(7), 0, -0, 10 ** 30, -(10 ** 30)]},
    {f"key{i:03}": i for i in range(300)},                        # more keys than the stack arrays hold
    {1: "a", "id": "x"},                                          # non-str record key
    {1: "a", "zzz": "x"},                                         # non-str keys that do not sort: TypeError
    {"id": Str("a\nb"), Str("title"): "t"},
])
def test_edges(fast, record) -> None:
    assert_same(fast, record)


@pytest.mark.parametrize("depth", [50, 99, 100, 101, 150, 5000, 100_000])
def test_deep_nesting(fast, depth) -> None:
    for inner in ([], {}, ()):
        value = inner
        for i in range(depth):
            value = [value] if i % 3 == 0 else {"k": value} if i % 3 == 1 else (value,)
        assert_same(fast, {"id": "x", "deep": value})


def test_cycles_raise_recursion_error_in_both(fast) -> None:
    record = {"id": "x"}
    record["self"] = record
    loop = []
    loop.append(loop)
    assert outcome(csljson._record_text_python, record) == ("raises", RecursionError)
    assert_same(fast, record)
    assert_same(fast, {"id": "x", "loop": loop})


def test_not_a_dict(fast) -> None:
    for record in (None, 1, "id", [("id", "x")]):
        assert_same(fast, record)


def test_many_key_sets_and_equal_keys_that_are_other_objects(fast) -> None:
    for i in range(5000):  # more key sets than the C cache keeps
        record = {"id": str(i), f"k{i}": i, "type": "book"}
        assert fast.record_text(record) == csljson._record_text_python(record)
    assert 0 < fast.cache_size() <= 4096
    # equal keys built at run time (not the same objects) give the same order
    record = {"".join(["ti", "tle"]): "T", "".join(["i", "d"]): "x", "".join(["ty", "pe"]): "book"}
    assert fast.record_text(record) == csljson._record_text_python(record)
    assert fast.record_text(dict(reversed(record.items()))) == csljson._record_text_python(dict(reversed(record.items())))


def test_python_code_that_empties_the_cache_while_a_record_is_written(fast) -> None:
    """A value that only Python writes runs Python code: here it fills the key-set table until it
    is emptied, and changes the configuration; the record being written is not disturbed."""
    class Busy(dict):
        def items(self):
            for i in range(5000):
                fast.record_text({"id": "x", f"busy{i}": i})
            fast.configure(csljson._order, csljson._compact, csljson._record_text_python)
            return super().items()

    record = {"id": "x", "title": "T", "busy": Busy(a=1), "note": "n", "zz": [1, "é"]}
    expected = csljson._record_text_python(record)
    assert fast.record_text(record) == expected
    assert fast.record_text(record, "!") == expected + "!"


def test_arguments(fast) -> None:
    with pytest.raises(TypeError):
        fast.record_text()
    with pytest.raises(TypeError):
        fast.record_text({}, ",", 1)
    with pytest.raises(TypeError):
        fast.record_text({}, 1)
    with pytest.raises(TypeError):
        fast.configure(1, 2, 3)
    assert fast.record_text({"id": "x"}, "") == csljson._record_text_python({"id": "x"})


def test_no_leaks(fast, corpus_records) -> None:
    """Neither references nor buffers are kept: memory does not grow over rounds, errors included."""
    odd = [{"id": "x", "weird": {1: "a"}}, {"id": "x", "weird": [set()]}, {"id": "x", "f": [1.5, math.nan]},
           {"abstract": "😀\x00" * 5000}, {1: "a", "zzz": "x"}, OrderedDict(id="x"), {"id": "x", "big": 10 ** 5000}]
    deep = [[]]
    for _ in range(200):
        deep = [deep]
    odd.append({"id": "x", "deep": deep})
    records = corpus_records[:300] + odd

    def rounds(n):
        for _ in range(n):
            for record in records:
                try:
                    fast.record_text(record, ",\n")
                except (TypeError, ValueError, RecursionError):
                    pass

    rounds(3)
    gc.collect()
    tracemalloc.start()
    try:
        rounds(2)
        gc.collect()
        before = tracemalloc.get_traced_memory()[0]
        rounds(20)
        gc.collect()
        after = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert after - before < 64 * 1024, (before, after)
    assert sys.getrefcount(records[0]) < 10

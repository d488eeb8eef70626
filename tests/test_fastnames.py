"""The C names_from_bibtex (bibsmith/_fastnames.c) gives exactly what the Python code gives, or None.

Two references: `names_from_bibtex` with the C module switched off and its caches cleared (the Python
fast path, which tests/test_bibtexnames.py holds to bibtexparser), and `_reference_names`
(bibtexparser's splitter and name parser themselves). Wherever the C module does not say "not mine"
(None), its names and `others` flag must equal both, from a cold cache and from its caches. It must
also take nearly all real name lists, or it would not be the fast path it is meant to be. Without the
built module (`python setup.py build_ext --inplace`) the comparisons skip, and fail under CI=true,
where the module must have been built.
"""

from __future__ import annotations

import random
import sys
import tracemalloc

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bibsmith.text import bibtexnames
from conftest import REPO, bench_corpus, require_shared, require_speedup
from test_bibtexnames import HARD, _name_fields, conformance_name_fields, name_list


def _c():
    return require_speedup(bibtexnames._fastnames, "_fastnames")


@pytest.fixture(autouse=True)
def _fast_paths_on(monkeypatch):
    # The Python reference must be the fast path that the C module replaces, not BIBSMITH_SIMPLE's.
    monkeypatch.delenv("BIBSMITH_SIMPLE", raising=False)


def _outcome(function, raw: str):
    try:
        return function(raw)
    except Exception as exc:
        return type(exc).__name__, str(exc)


def _python_names(raw: str):
    """names_from_bibtex without the C module, from empty caches."""
    module, bibtexnames._fastnames = bibtexnames._fastnames, None
    try:
        bibtexnames._field.cache_clear()
        bibtexnames._person.cache_clear()
        return _outcome(bibtexnames.names_from_bibtex, raw)
    finally:
        bibtexnames._fastnames = module


def _same(raw: str, fast) -> bool:
    """False when C declines raw; fails on any difference."""
    found = fast.names(raw)
    if found is None:
        return False
    names, truncated = found
    assert type(names) is list and type(truncated) is bool, raw
    assert all(type(name) is dict for name in names), raw
    expected = _python_names(raw)
    assert found == expected, raw
    assert found == _outcome(bibtexnames._reference_names, raw), raw
    assert fast.names(raw) == expected, raw  # again, from the field cache
    return True


def _compare(values, fast=None) -> tuple[int, int]:
    """(name lists compared, name lists the C module left to Python), cold caches and warm."""
    fast = fast or _c()
    values = list(dict.fromkeys(values))
    fast.clear()
    taken = [_same(raw, fast) for raw in values]
    # Warm: every person and field read before (the lists share persons) gives the same names.
    for raw, was_taken in zip(values, taken):
        found = fast.names(raw)
        assert (found is not None) == was_taken, raw
        if found is not None:
            assert found == _python_names(raw), raw
    compared = sum(taken)
    return compared, len(values) - compared



@pytest.fixture(scope="module")
def corpus_fields() -> list[str]:
    return _name_fields(bench_corpus().corpus(1000))


# ---------------------------------------------------------------- real inputs
def test_corpus(corpus_fields):
    assert len(corpus_fields) > 1000
    compared, declined = _compare(corpus_fields)
    # The fast path must really be taken: at least 95% of the corpus's name fields.
    assert compared >= 0.95 * (compared + declined)


def test_corpus_persons_from_the_person_cache(corpus_fields):
    """Fields never seen, persons all seen: what the person cache gives equals Python's names."""
    fast = _c()
    fast.clear()
    for raw in corpus_fields:
        fast.names(raw)
    for raw in corpus_fields[:300]:
        # A new field (one more space after each ` and `) made of the same persons.
        variant = raw.replace(" and ", "  and ")
        found = fast.names(variant)
        assert found is None or found == _python_names(variant), variant


def test_fixtures_and_examples():
    paths = sorted(REPO.glob("tests/fixtures/**/*.bib")) + sorted(REPO.glob("examples/*/input.bib"))
    assert len(paths) >= 5
    fields = []
    for path in paths:
        try:
            fields += _name_fields(path.read_text(encoding="utf-8"))
        except Exception:  # a fixture bibtexparser cannot read at all (the reader's error tests)
            continue
    compared, declined = _compare(fields)
    assert compared > 10 and compared >= 0.9 * (compared + declined)


def test_iridia():
    folder = require_shared("data", "iridia-references")
    strings: dict[str, str] = {}
    fields = []
    for name in ("abbrev.bib", "journals.bib", "authors.bib", "crossref.bib", "biblio.bib", "articles.bib"):
        fields.extend(_name_fields((folder / name).read_text(encoding="utf-8"), strings))
    assert len(fields) > 3000
    compared, declined = _compare(fields)
    # What stays with Python: mostly publishers' @strings with `\&` after a space (bibtexparser's
    # splitter reads that pair its own way).
    assert compared >= 0.98 * (compared + declined)


def test_conformance_inputs():
    compared, _ = _compare(conformance_name_fields())
    assert compared > 50


@pytest.mark.parametrize("raw", HARD)
def test_hard_cases(raw):
    fast = _c()
    fast.clear()
    _same(raw, fast)


def test_common_shapes_are_taken():
    fast = _c()
    for raw in ["Donald Knuth", "Knuth, Donald E.", "van der Waals, Jr., J. D.", "Ludwig van Beethoven",
                "Jean-Pierre O'Brien and Zo{\\\"e} Rossi", "Donald~E.~Knuth", "Bj{\\\"o}rn Mar{\\'\\i}a Wei{\\ss}",
                "Łukasz Østergaard and Émile Weiß", "Smith, John and others", "{Google DeepMind} and Ann Lee",
                "M\\\"uller, Hans", "Smith and\nJones,\tAnn", "Nguy{\\~{\\^e}}n, Wei", "Smith AND Jones And Brown"]:
        fast.clear()
        assert _same(raw, fast), raw


@pytest.mark.parametrize("count", [1, 2, 20000])
def test_a_long_run_of_accents(count):
    """`\\x` and `count` unbraced accents (issue 24): one long word, alone and in a list, read as Python reads it."""
    fast = _c()
    fast.clear()
    assert _same("\\x" + "\\'e" * count, fast)
    assert _same("\\x" + "\\'e" * count + " and B. Brown", fast)


def test_declined_shapes():
    fast = _c()
    for raw in ["family=Doe, given=Jane", "Smith \\and Jones", "Chapman \\& Hall", "{a", "a}", "Smith\\",
                "Smith\u00a0and Jones", "Smith\x0bJones", "\\{Smith\\} and Jones", "{{{{{{deep}}}}}}",
                " ".join(["Word"] * 65)]:
        assert fast.names(raw) is None, raw


# ---------------------------------------------------------------- generated name lists
_GIVEN = ["John", "Mary", "J.", "J. R. R.", "Jean-Pierre", "Zo{\\\"e}", "Bj{\\\"o}rn", "Mar{\\'\\i}a", "\\'Emile",
          "{\\'E}mile", "Łukasz", "Ørjan", "Émile", "José", "Ann~Marie", "e.", "ann", "{\\AA}sa", "Hans-Peter"]
_FAMILY = ["Smith", "Wei{\\ss}", "Weiß", "M\\\"uller", "M{\\\"u}ller", "O'Brien", "Smith-Jones", "Nguy{\\~{\\^e}}n",
           "Erd{\\H{o}}s", "Østergaard", "d'Alembert", "{van Beethoven}", "{Cruz}", "smith", "3M", "X2",
           "Dvo{\\v{r}}{\\'a}k", "{\\O}stergaard", "Mu\\~noz", "{\\relax Ch}ristophe", "Łódź"]
_PARTICLES = ["van", "van der", "de", "de la", "von", "di", "du", "le", "{van}", "Van", "d'", "zu"]
_SUFFIXES = ["Jr.", "III", "Sr.", "jr"]
_LITERALS = ["{Big Company Inc.}", "{Barnes and Noble, Inc.}", "{The {LIGO} Scientific Collaboration}", "{ACM}"]
_ODD = ["\\\\", "\\", "{", "}", "\\&", "\\'e", "\\~n", "\\~{n}", "=", "\u00a0", "\\ ", "and", ",", "~", "others"]
_SPACES = [" ", " ", " ", " ", "  ", "\t", "\n", "~", " \n "]
_ANDS = [" and ", " and ", " and ", " AND ", " And ", "  and  ", "\nand ", " and\t", " and \n", " aNd "]


def _random_person(rng: random.Random) -> str:
    space = rng.choice(_SPACES) if rng.random() < 0.15 else " "
    given = space.join(rng.choice(_GIVEN) for _ in range(rng.choice([0, 1, 1, 1, 2])))
    particle = rng.choice(_PARTICLES) if rng.random() < 0.25 else ""
    family = rng.choice(_FAMILY)
    suffix = rng.choice(_SUFFIXES) if rng.random() < 0.1 else ""
    shape = rng.random()
    if shape < 0.05:
        person = rng.choice(_LITERALS)
    elif shape < 0.08:
        person = rng.choice(["others", "Others", "OTHERS"])
    elif shape < 0.45:
        person = space.join(word for word in (given, particle, family, suffix) if word)
    elif shape < 0.55 and suffix:
        person = f"{space.join(w for w in (particle, family) if w)}, {suffix}, {given}"
    else:
        person = space.join(w for w in (particle, family) if w) + (", " + given if given else ",")
    if rng.random() < 0.08:  # something odd somewhere
        at = rng.randrange(len(person) + 1)
        person = person[:at] + rng.choice(_ODD) + person[at:]
    if rng.random() < 0.03:
        person = rng.choice(_SPACES) + person + rng.choice(_SPACES)
    return person


def _random_list(rng: random.Random) -> str:
    persons = [_random_person(rng) for _ in range(rng.choice([1, 1, 2, 2, 3, 4, 6]))]
    text = persons[0]
    for person in persons[1:]:
        text += rng.choice(_ANDS) + person
    return text


def test_random_name_lists():
    rng = random.Random(20260811)
    values = [_random_list(rng) for _ in range(6000)]
    compared, declined = _compare(values)
    assert compared > 4000


_SOUP = ["a", "and", "AND", "an", "aN", " ", "  ", "\t", "\n", "{", "}", "\\", "\\'", "{\\'e}", "x", "X", "É", "ł",
         ",", "~", "others", "\\~n", "{a b}", "\\\\", "\\{", "van", "Smith", "e.", "\\&", "{\\relax Ch}", "-", "'",
         "3", "\\\"o", "{\\ss}", "ǅ", "\\i", "=", "\u00a0"]


def test_token_soup():
    """Pieces in any order: where bibtexparser's splitter and parser are at their oddest."""
    fast = _c()
    rng = random.Random(7)
    values = ["".join(rng.choice(_SOUP) for _ in range(rng.randrange(16))) for _ in range(20_000)]
    values += ["A AND\\& B", "A and\\& B", "A an\\& B", "A a\\& B", "A \\& B", "A\\& B", "\\&A and B"]
    compared, declined = _compare(values, fast)
    assert compared > 3000


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from(_SOUP), max_size=14).map("".join))
def test_generated_token_soup(raw):
    fast = _c()
    fast.clear()
    _same(raw, fast)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name_list())
def test_generated_name_lists(raw):
    fast = _c()
    fast.clear()
    _same(raw, fast)


@settings(max_examples=600, deadline=None)
@given(st.text(alphabet="aAnNdDxXoO {}\\,~.'\"é\t\n\r\xa0İŁ=-3", max_size=30))
def test_arbitrary_text(raw):
    fast = _c()
    fast.clear()
    _same(raw, fast)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=20))
def test_any_text_is_safe(raw):
    fast = _c()
    fast.clear()
    _same(raw, fast)


# ---------------------------------------------------------------- what callers get
def test_fresh_dicts_every_call():
    fast = _c()
    raw = "Knuth, Donald E. and {Google DeepMind} and others"
    for _ in range(2):  # from a cold cache, then from the field cache
        first, truncated = bibtexnames.names_from_bibtex(raw)
        assert truncated is True
        first[0]["family"] = "changed"
        first.append({"literal": "added"})
        again, _ = bibtexnames.names_from_bibtex(raw)
        assert again == [{"family": "Knuth", "given": "Donald E."}, {"literal": "Google DeepMind"}]
        assert again[0] is not first[0]
        fast.clear()
    # The person cache too: a new field of a known person.
    names, _ = fast.names("Knuth, Donald E.")
    names[0]["given"] = "changed"
    assert fast.names("Knuth, Donald E. and Ann Lee")[0][0] == {"family": "Knuth", "given": "Donald E."}


def test_names_from_bibtex_takes_the_c_path(monkeypatch):
    _c()
    monkeypatch.setattr(bibtexnames, "_field", lambda raw: pytest.fail(f"Python path for {raw!r}"))
    assert bibtexnames.names_from_bibtex("van der Berg, Jan and Zo{\\\"e} Rossi") == (
        [{"family": "Berg", "given": "Jan", "non-dropping-particle": "van der"},
         {"family": "Rossi", "given": "Zoë"}], False)


def test_not_a_str_is_declined():
    fast = _c()

    class Text(str):
        pass

    assert fast.names(Text("Smith, John")) is None
    with pytest.raises(TypeError):
        fast.configure(42)


def test_caches_are_bounded():
    fast = _c()
    fast.clear()
    for i in range(70_000):
        fast.names(f"Person{i} Smith and Other{i % 100} Jones")
    fields, persons = fast.cache_sizes()
    assert fields <= 8192 and persons <= 65536
    fast.clear()
    assert fast.cache_sizes() == (0, 0)


def test_no_leaks(corpus_fields):
    fast = _c()
    values = corpus_fields[:400] + HARD
    counted = values[:50]
    counts = [sys.getrefcount(value) for value in counted]
    tracemalloc.start()
    try:
        for _ in range(3):
            fast.clear()
            results = [fast.names(value) for value in values]
        del results
        fast.clear()
        before = tracemalloc.get_traced_memory()[0]
        for _ in range(20):
            fast.clear()
            results = [fast.names(value) for value in values]
            results = [fast.names(value) for value in values]
        del results
        fast.clear()
        grown = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert grown < 20_000
    assert [sys.getrefcount(value) for value in counted] == counts

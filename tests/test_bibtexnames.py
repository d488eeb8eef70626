"""names_from_bibtex (the fast, cached BibTeX name-list reader) gives exactly what bibtexparser gives.

The reference is the BibTeX reader's `_names` as it was before issue 8, kept here verbatim
(`reference_names`): bibtexparser's `split_multiple_persons_names` and `parse_single_name_into_parts`,
then `to_unicode`. Compared on real data (the IRIDIA library and the conformance cases in ../shared),
a hand table of hard cases, and generated names. The reader calls names_from_bibtex itself.
"""

from __future__ import annotations

import json
import re

import bibtexparser
import pytest
from bibtexparser import model
from bibtexparser.middlewares.names import parse_single_name_into_parts, split_multiple_persons_names
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bibsmith.text import bibtexnames
from bibsmith.text.bibtexnames import names_from_bibtex
from bibsmith.text.latex import to_unicode
from conftest import require_shared

# ---------------------------------------------------------------- the reference (the reader's code before issue 8)
EXTENDED_NAME = re.compile(r"^\s*(?:family|given|prefix|suffix|useprefix)\s*=", re.I)
UNBRACED_ACCENT = re.compile(r"\\([`'^\"~=.])([A-Za-z])")


def _braced(text: str, start: int) -> int:
    depth = 0
    for i in range(start, len(text)):
        if text[i] == "{":
            depth += 1
        elif text[i] == "}":
            depth -= 1
            if depth == 0:
                return i
    raise ValueError("unbalanced braces")


def split_top_level(text: str, separator: str) -> list[str]:
    parts, depth, start = [], 0, 0
    for i, char in enumerate(text):
        depth += char == "{"
        depth -= char == "}"
        if char == separator and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    return parts + [text[start:]]


def _extended_name(text: str) -> dict[str, str]:
    keys = {"family": "family", "given": "given", "prefix": "non-dropping-particle", "suffix": "suffix"}
    name: dict[str, str] = {}
    for part in split_top_level(text, ","):
        key, _, value = part.partition("=")
        if key.strip().lower() in keys:
            name[keys[key.strip().lower()]] = to_unicode(value.strip())
    return name


def reference_names(raw: str) -> tuple[list[dict[str, str]], bool]:
    names: list[dict[str, str]] = []
    truncated = False
    for person in split_multiple_persons_names(raw):
        if person.strip().lower() == "others":
            truncated = True
            continue
        stripped = person.strip()
        if stripped.startswith("{") and stripped.endswith("}") and _braced(stripped, 0) == len(stripped) - 1:
            names.append({"literal": to_unicode(stripped[1:-1])})
            continue
        if EXTENDED_NAME.match(stripped):
            names.append(_extended_name(stripped))
            continue
        # `~` separates name words for BibTeX, so `\~n` must be braced before splitting.
        person = UNBRACED_ACCENT.sub(r"{\\\1\2}", person)
        parts = parse_single_name_into_parts(person, strict=False)
        name = {
            "family": to_unicode(" ".join(parts.last)),
            "given": to_unicode(" ".join(parts.first)),
            "non-dropping-particle": to_unicode(" ".join(parts.von)),
            "suffix": to_unicode(" ".join(parts.jr)),
        }
        names.append({k: v for k, v in name.items() if v})
    return names, truncated


def _outcome(function, raw: str):
    try:
        return function(raw)
    except Exception as exc:  # the reference raises ValueError on "{{a}": the same must happen
        return type(exc).__name__, str(exc)


def assert_same(raw: str) -> None:
    expected = _outcome(reference_names, raw)
    assert _outcome(names_from_bibtex, raw) == expected, raw
    assert _outcome(names_from_bibtex, raw) == expected, raw  # again, from the caches
    # The hand-written pieces on their own, whatever the caches hold.
    persons = bibtexnames._split_persons(raw)
    assert persons == split_multiple_persons_names(raw), raw
    for person in persons:
        person = UNBRACED_ACCENT.sub(r"{\\\1\2}", person)
        parts = parse_single_name_into_parts(person, strict=False)
        assert bibtexnames._parts(person) == (parts.first, parts.von, parts.last, parts.jr), person


# ---------------------------------------------------------------- real data
NAME_FIELDS = ("author", "editor", "bookauthor", "translator")
_PIECE = re.compile(r'\s*(?:(\{)|(")|(\d+)|([^\s#{}",=]+))')


def _evaluate(raw: str, strings: dict[str, str]) -> str:
    """A raw field value (`{..}`, `".."`, number, macro, joined by `#`) as text (as the reader does)."""
    out, pos = [], 0
    while pos < len(raw):
        match = _PIECE.match(raw, pos)
        if not match:
            break
        if match.group(1) or match.group(2):
            start = match.start(1) if match.group(1) else match.start(2)
            depth, end = 0, None
            for i in range(start + (1 if match.group(2) else 0), len(raw)):
                char = raw[i]
                if char == "{":
                    depth += 1
                elif char == "}":
                    depth -= 1
                    if depth == 0 and match.group(1):
                        end = i
                        break
                elif char == '"' and depth == 0 and match.group(2):
                    end = i
                    break
            if end is None:
                raise ValueError("unbalanced")
            out.append(raw[start + 1:end])
        else:
            word = match.group(3) or match.group(4)
            end = match.end() - 1
            out.append(word if match.group(3) else strings.get(word.lower(), ""))
        pos = end + 1
        rest = raw[pos:].lstrip()
        if not rest.startswith("#"):
            break
        pos = len(raw) - len(rest) + 1
    return "".join(out)


def _name_fields(text: str, strings: dict[str, str] | None = None) -> list[str]:
    """Every name field (and every @string, which in authors.bib are names) of a .bib text, evaluated."""
    strings = {} if strings is None else strings
    values = []
    for block in bibtexparser.parse_string(text, parse_stack=[]).blocks:
        try:
            if isinstance(block, model.String):
                strings[block.key.lower()] = _evaluate(block.value, strings)
                values.append(strings[block.key.lower()])
            elif isinstance(block, model.Entry):
                values.extend(_evaluate(field.value, strings) for field in block.fields
                              if field.key.lower() in NAME_FIELDS)
        except ValueError:
            continue
    return values


@pytest.fixture(scope="module")
def iridia_fields() -> list[str]:
    folder = require_shared("data", "iridia-references")
    strings: dict[str, str] = {}
    fields = []
    for name in ("abbrev.bib", "journals.bib", "authors.bib", "crossref.bib", "biblio.bib", "articles.bib"):
        fields.extend(_name_fields((folder / name).read_text(encoding="utf-8"), strings))
    return fields


def test_every_name_field_of_the_iridia_library(iridia_fields):
    assert len(iridia_fields) > 3000
    assert sum(" and " in field for field in iridia_fields) > 1000
    for raw in iridia_fields:
        assert_same(raw)


def conformance_name_fields() -> list[str]:
    """Every name field of the peers' BibTeX cases in ../shared/conformance."""
    folder = require_shared("conformance")
    zotero = json.loads((folder / "zotero-bibtex.json").read_text(encoding="utf-8"))
    citationjs = json.loads((folder / "citationjs-bibtex.json").read_text(encoding="utf-8"))
    inputs = [case["input"] for case in zotero + citationjs["mapping"] + citationjs["input"] if case.get("input")]
    fields = [raw for text in inputs for raw in _name_fields(text)]
    assert len(fields) > 100
    return fields


def test_every_name_field_of_the_conformance_cases():
    for raw in conformance_name_fields():
        assert_same(raw)


# ---------------------------------------------------------------- hard cases by hand
HARD = [
    "Knuth, Donald E. and van der Berg, Jan and {Google DeepMind} and others",
    "Charles Louis Xavier Joseph de la Vallée Poussin",
    "de la Vallée Poussin, Charles Louis Xavier Joseph",
    "van der Waals, Jr., J. D.",
    "van der Waals, Jr., J. D., extra, more",
    "{\\'E}mile Zola",
    "{\\'{E}}mile Zola",
    "\\'Emile Zola and \\'emile zola",
    "Jean-Pierre Dupont and Dupont, Jean-Pierre",
    "Ludwig {van Beethoven}",
    "Ludwig van Beethoven",
    "{Barnes and Noble, Inc.}",
    "{Barnes and Noble, Inc.} and {ACM}",
    "{{ACM}}",
    "{ACM} {SIGPLAN}",
    "others",
    " Others ",
    "Smith, John and others",
    "family=Doe, given=Jane, prefix=van",
    "family=Doe, given={Jane, Jr.}, prefix=van, useprefix=true and Smith, John",
    "Donald~E.~Knuth",
    "Donald~E. Knuth and Leslie~Lamport",
    "Mu\\~noz, Juan and Ib{\\'a}\\~nez, Vicente",
    "Mu{\\~n}oz, Juan and Mu\\~{n}oz, Juan",
    "\\~Nu\\~nez",
    "M{\\\"u}ller, Hans and M\\\"uller, Hans and M\\\"{u}ller, Hans",
    "Erd{\\H{o}}s, Paul and Erd\\H{o}s, Paul and Erd\\H os, Paul",
    "{\\\"O}zt{\\\"u}rk, Ali",
    "{\\AA}sa Nguy{\\~{\\^e}}n and Mar{\\'\\i}a Jos{\\'e} M{\\\"u}ller and Hans-Peter Wei{\\ss}",
    "{\\v{C}}ech, Eduard and \\v{C}ech, Eduard and {\\v C}ech, Eduard",
    "Juan de la {Cruz}",
    "Juan de la Cruz",
    "juan de la cruz",
    "de la cruz, juan",
    "e. e. cummings",
    "Plato",
    "plato",
    "",
    "   ",
    "\t\n",
    "Smith, John and ",
    "Smith, John and",
    "and Smith",
    "Smith and and Jones",
    "Smith AND Jones and Brown And Green aNd Black",
    "Smith\tand\nJones",
    "Smith~and~Jones",
    "Smith and{Jones}",
    "Smith and {Jones}",
    "Smith and }Jones",
    "Smith and \\'Emile",
    "Smith \\and Jones",
    "Smith, and Jones",
    "Smith,",
    "Smith,,",
    ", John",
    "Smith, , John",
    ",",
    "Brinch Hansen, Per",
    "Beeblebrox, IV, Zaphod",
    "Ford, Jr., Henry and Ford Jr., Henry and Henry Ford Jr.",
    "von Neumann, John and John von Neumann and John {von Neumann}",
    "{van} Gogh, Vincent",
    "Vincent {van} Gogh",
    "Jean de {La Fontaine}",
    "{de Gaulle}, Charles",
    "A. {\\relax Ch}ristophe and {\\relax Th}omas Müller",
    "Łukasz di Weiß and Zo{\\\"e} Rossi",
    "Østergaard, Jr., María José and O'Brien, Bj{\\\"o}rn",
    "{{a}",
    "{a}}",
    "{a} and {b",
    "a}b and c",
    "Smith\\",
    "Smith \\\\ Jones and Brown",
    "\\{Smith\\} and Jones",
    "{Smith \\{ Jones} and Brown",
    "A \\ and B",
    "A\\ and B",
    "d'Alembert, Jean le Rond",
    "Jean le Rond d'Alembert",
    "123 Corp and 3M",
    "$\\alpha$ Centauri",
    "ǅemal Bijedić",
    "ß Smith von der",
    "Smith, von der, Jr",
    "{\\ss}Smith van der Berg",
    "\\ss Smith and \\o ystein and \\O ystein Ore",
    "{\\o}ystein Ore and {\\O}ystein Ore and {\\O ystein} Ore",
    "{\\'\\i}ñigo de {\\'\\I}talia",
    "{\\ }lower Upper last",
    "{\\~n}a Upper last and {\\ n}a Upper last",
    "{Foo \\Bar} van baz and {foo \\bar} Van Baz",
    "Upper {{\\'e}tienne} last",
    "Upper {x{\\'e}} {\\'{e}x} last",
    "Upper {\\'{e}} {\\'{E}} last",
    "Upper {\\c c}a {\\c C}a last",
    "Smith, John\u00a0and Jones, Ann",
    "Smith\u00a0and\u00a0Jones",
]


@pytest.mark.parametrize("raw", HARD)
def test_hard_cases(raw):
    assert_same(raw)


def test_a_few_answers_by_hand():
    assert names_from_bibtex("van der Waals, Jr., J. D.") == (
        [{"family": "Waals", "given": "J. D.", "non-dropping-particle": "van der", "suffix": "Jr."}], False)
    assert names_from_bibtex("Juan de la {Cruz} and {Barnes and Noble, Inc.} and others") == (
        [{"family": "Cruz", "given": "Juan", "non-dropping-particle": "de la"},
         {"literal": "Barnes and Noble, Inc."}], True)
    assert names_from_bibtex("family=Doe, given=Jane, prefix=van") == (
        [{"family": "Doe", "given": "Jane", "non-dropping-particle": "van"}], False)
    assert names_from_bibtex("") == ([], False)


def test_results_are_fresh_dicts():
    raw = "Knuth, Donald E. and {Google DeepMind}"
    first, _ = names_from_bibtex(raw)
    first[0]["family"] = "changed"
    first.append({"literal": "added"})
    again, _ = names_from_bibtex(raw)
    assert again == [{"family": "Knuth", "given": "Donald E."}, {"literal": "Google DeepMind"}]
    assert again[0] is not first[0]


def test_simple_switch_reads_with_bibtexparser(monkeypatch):
    monkeypatch.setenv("BIBSMITH_SIMPLE", "1")
    calls = []
    real = bibtexnames.parse_single_name_into_parts
    monkeypatch.setattr(bibtexnames, "parse_single_name_into_parts", lambda *a, **k: calls.append(a) or real(*a, **k))
    for raw in HARD:
        assert _outcome(names_from_bibtex, raw) == _outcome(reference_names, raw), raw
    assert calls  # no cache, no hand-written splitter


# ---------------------------------------------------------------- generated names
UPPER = st.sampled_from(["Knuth", "Donald", "E.", "Jean-Pierre", "O'Brien", "Müller", "Łukasz", "Weiß", "Jr.",
                         "III", "Ann", "Xi", "DeMarco", "McDonald", "A", "Émile", "Østergaard"])
LOWER = st.sampled_from(["van", "der", "de", "la", "von", "di", "du", "le", "d'", "van't", "zu", "y", "e.", "ibn"])
ACCENTED = st.sampled_from(["M{\\\"u}ller", "M\\\"uller", "{\\'E}mile", "\\'Emile", "{\\'e}mile", "Mu\\~noz",
                            "Mu{\\~n}oz", "Mu\\~{n}oz", "Erd\\H{o}s", "Erd{\\H{o}}s", "{\\AA}sa", "{\\ss}",
                            "Wei{\\ss}", "\\o{}ystein", "{\\o}ystein", "Nguy{\\~{\\^e}}n", "Mar{\\'\\i}a",
                            "{\\v{C}}ech", "\\v{c}ech", "{\\c c}a", "{\\relax Ch}ristophe", "{\\'{E}}cole"])
BRACED = st.sampled_from(["{van Beethoven}", "{Cruz}", "{ACM}", "{Barnes and Noble, Inc.}", "{de la}",
                          "{Google DeepMind}", "{and}", "{{IEEE}}", "{x}y", "a{B}c", "{}"])
OTHER = st.sampled_from(["and", "AND", "others", "{", "}", "\\", ",", "-", "~", "$x$", "\\\\", "\\{"])
WORD = st.one_of(UPPER, UPPER, UPPER, LOWER, LOWER, ACCENTED, BRACED, OTHER)
SPACE = st.sampled_from([" ", " ", " ", "~", "  ", "\t", "\n", ", ", ",", " , "])


@st.composite
def person(draw) -> str:
    words = draw(st.lists(WORD, min_size=0, max_size=6))
    if not words:
        return draw(st.sampled_from(["", " "]))
    spaces = draw(st.lists(SPACE, min_size=len(words) - 1, max_size=len(words) - 1))
    return "".join(word + space for word, space in zip(words, spaces)) + words[-1]


@st.composite
def name_list(draw) -> str:
    persons = draw(st.lists(st.one_of(person(), person(), st.sampled_from(["others", "family=Doe, given=Jane"])),
                            min_size=0, max_size=5))
    if not persons:
        return ""
    separators = draw(st.lists(st.sampled_from([" and ", " and ", " AND ", "  and\n", "\tand ", " and", "and "]),
                               min_size=len(persons) - 1, max_size=len(persons) - 1))
    return "".join(person + separator for person, separator in zip(persons, separators)) + persons[-1]


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name_list())
@example("Ludwig {van Beethoven} and de la Vallée Poussin, Charles")
def test_generated_name_lists(raw):
    assert_same(raw)


@settings(max_examples=1000, deadline=None)
@given(st.text(alphabet="aAnNdDxX {}\\,~.'\"é\t\n\r\xa0İ=", max_size=30))
def test_arbitrary_text(raw):
    assert_same(raw)


TOKENS = st.sampled_from(["a", "and", "AND", "an", " ", "  ", "\t", "\n", "{", "}", "\\", "\\'", "{\\'e}", "x", "X",
                          ",", "~", "others", "\\~n", "{a b}", "family=", "\\\\", "\\{"])


@settings(max_examples=1000, deadline=None)
@given(st.lists(TOKENS, max_size=14).map("".join))
def test_token_soup(raw):
    assert_same(raw)


# ---------------------------------------------------------------- what is read by hand, what falls back
def _without_bibtexparser(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError(f"fell back to bibtexparser on {args[0]!r}")
    monkeypatch.setattr(bibtexnames, "split_multiple_persons_names", refuse)
    monkeypatch.setattr(bibtexnames, "parse_single_name_into_parts", refuse)


TYPICAL = [
    "Knuth, Donald E. and van der Berg, Jan and {Google DeepMind} and others",
    "Østergaard, Jr., María José and O'Brien, Bj{\\\"o}rn and Jean-Pierre Tanaka and Mar{\\'\\i}a Jos{\\'e} "
    "M{\\\"u}ller and Hans-Peter Wei{\\ss} and others",
    "{\\AA}sa Nguy{\\~{\\^e}}n and Björn Rossi and O'Brien, J{\\\"o}rg",
    "Mu\\~noz, Juan and\n    M\\\"uller, Hans  and  de la Vall{\\'e}e Poussin, Charles",
    "Ludwig {van Beethoven} AND {Barnes and Noble, Inc.}",
]


@pytest.mark.parametrize("raw", TYPICAL)
def test_typical_lists_are_read_by_hand(raw, monkeypatch):
    expected = reference_names(raw)
    _without_bibtexparser(monkeypatch)
    for person in bibtexnames._split_persons(raw):
        bibtexnames._parts(UNBRACED_ACCENT.sub(r"{\\\1\2}", person))
    bibtexnames._person.cache_clear()
    bibtexnames._field.cache_clear()
    assert names_from_bibtex(raw) == expected


@pytest.mark.parametrize("raw, split, person", [
    ("Chapman \\& Hall and Smith", True, False),  # an escape right after white space
    ("A \\{B and C", True, True),  # an escaped brace
    ("{A and B", True, True),  # an unterminated brace
    ("Correia, Jo\\~{a}o", False, True),  # `\~` not braced beforehand: `~` separates words
])
def test_what_falls_back_to_bibtexparser(raw, split, person, monkeypatch):
    calls = []
    real_split, real_parts = split_multiple_persons_names, parse_single_name_into_parts
    monkeypatch.setattr(bibtexnames, "split_multiple_persons_names", lambda *a: calls.append("split") or real_split(*a))
    monkeypatch.setattr(bibtexnames, "parse_single_name_into_parts",
                        lambda *a, **k: calls.append("person") or real_parts(*a, **k))
    bibtexnames._person.cache_clear()
    bibtexnames._field.cache_clear()
    assert _outcome(names_from_bibtex, raw) == _outcome(reference_names, raw)
    assert ("split" in calls, "person" in calls) == (split, person)

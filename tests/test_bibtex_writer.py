"""The BibTeX/BibLaTeX writer: exact entries, protection, escaping, safety, golden files and round trips.

Golden files: run with BIBSMITH_UPDATE_GOLDEN=1 to rewrite tests/golden/bibtex/, then read the diff.
"""

from __future__ import annotations

import json
import os
import string
from pathlib import Path

import bibtexparser
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import bibsmith
from bibsmith.diagnostics import BibsmithError, Report
from bibsmith.library import Library
from bibsmith.readers.bibtex import _month, evaluate, read
from bibsmith.text.bibtexnames import names_from_bibtex
from bibsmith.text.latex import to_latex, to_unicode
from bibsmith.text.titlecase import protect
from bibsmith.writers.bibtex import Options, entry_text
from conftest import REPO

FIXTURES = REPO / "tests" / "fixtures" / "bibtex"
GOLDEN = REPO / "tests" / "golden" / "bibtex"
UPDATE = os.environ.get("BIBSMITH_UPDATE_GOLDEN") == "1"


def library_of(*records: dict) -> Library:
    library = Library()
    for record in records:
        library.add(record)
    return library


def check_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8")


# ---------------------------------------------------------------- exact entries
PREPRINT = {
    "id": "li2022lazy", "type": "article", "title": "The Lazy Neuron Phenomenon: On Emergence of Activation Sparsity in Transformers",
    "author": [{"given": "Zonglin", "family": "Li"}, {"given": "Chong", "family": "You"}],
    "issued": {"date-parts": [[2022, 10, 12]]}, "publisher": "arXiv", "genre": "Preprint", "number": "arXiv:2210.06313",
    "DOI": "10.48550/arXiv.2210.06313", "abstract": "Sparse 3.0% maps & more.", "keyword": "cs.LG",
    "custom": {"arxiv_category": "cs.LG", "authors_truncated": True},
}


def test_preprint_in_arxiv_convention() -> None:
    report = Report()
    assert entry_text(PREPRINT, Options(), report) == """@misc{li2022lazy,
  author        = {Li, Zonglin and You, Chong and others},
  title         = {The Lazy Neuron Phenomenon: On Emergence of Activation Sparsity in {Transformers}},
  year          = {2022},
  month         = oct,
  day           = {12},
  eprint        = {2210.06313},
  archiveprefix = {arXiv},
  primaryclass  = {cs.LG},
  doi           = {10.48550/arXiv.2210.06313},
  url           = {https://arxiv.org/abs/2210.06313},
  keywords      = {cs.LG},
  abstract      = {Sparse 3.0\\% maps \\& more.},
}
"""
    assert report.items == []


def test_preprint_in_biblatex() -> None:
    assert entry_text(PREPRINT, Options(dialect="biblatex"), Report()) == """@online{li2022lazy,
  author      = {Li, Zonglin and You, Chong and others},
  title       = {The Lazy Neuron Phenomenon: On Emergence of Activation Sparsity in {Transformers}},
  date        = {2022-10-12},
  eprint      = {2210.06313},
  eprinttype  = {arxiv},
  eprintclass = {cs.LG},
  pubstate    = {prepublished},
  doi         = {10.48550/arXiv.2210.06313},
  url         = {https://arxiv.org/abs/2210.06313},
  keywords    = {cs.LG},
  abstract    = {Sparse 3.0\\% maps \\& more.},
}
"""


def test_preprint_without_id_keeps_its_category() -> None:
    record = {k: v for k, v in PREPRINT.items() if k not in ("number", "DOI")}
    text = entry_text(record, Options(), Report())
    assert "  archiveprefix = {arXiv},\n  primaryclass  = {cs.LG},\n" in text
    assert "eprint " not in text


# ---------------------------------------------------------------- title protection
@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("BERT and LLMs for ReLU networks", "{BERT} and {LLM}s for {ReLU} networks"),
        ("DistillSpec: Improving Speculative Decoding via Knowledge Distillation",
         "{DistillSpec}: Improving Speculative Decoding via Knowledge Distillation"),
        ("Gemini 2.5: Pushing the Frontier", "{Gemini} 2.5: Pushing the Frontier"),
        ("Modifying Memories in Transformer Models", "Modifying Memories in {Transformer} Models"),
        ("Why distillation helps: a statistical perspective from Paris", "Why distillation helps: a statistical perspective from {Paris}"),
        ("Fine-grained Analysis of In-context Linear Estimation", "Fine-grained Analysis of In-context Linear Estimation"),
        ("$O(n)$ Connections are Expressive Enough", "{$O(n)$} Connections are Expressive Enough"),
        ("A Little Help Goes a Long Way: Small LMs", "A Little Help Goes a Long Way: Small {LM}s"),
    ],
    ids=["acronyms", "inner-capital", "proper-noun", "transformer", "sentence-case-name", "title-case", "math", "plural"],
)
def test_smart_protection(title: str, expected: str) -> None:
    assert protect(title, "smart", to_latex) == expected


def test_protection_modes_all_and_none() -> None:
    title = "BERT on Schrödinger $x_1$"
    assert protect(title, "all", to_latex) == '{BERT on Schr{\\"o}dinger $x_1$}'
    assert protect(title, "none", to_latex) == 'BERT on Schr{\\"o}dinger $x_1$'


# ---------------------------------------------------------------- escaping and names
def test_specials_are_escaped_outside_math_only() -> None:
    assert to_latex("50% of R&D: #1 a_b {c} ~ ^ \\ $x_1^{2}$ costs $5") == (
        "50\\% of R\\&D: \\#1 a\\_b \\textbraceleft{}c\\textbraceright{} \\textasciitilde{} \\textasciicircum{} \\textbackslash{} $x_1^{2}$ costs \\$5")


@pytest.mark.parametrize(
    ("text", "latex"),
    [("Müller", 'M{\\"u}ller'), ("Čapek", "{\\v{C}}apek"), ("Søren", "S{\\o}ren"), ("Straße", "Stra{\\ss}e"),
     ("Nguyễn", "Nguy{\\~{\\^{e}}}n"), ("Đặng", "{\\DJ}{\\u{\\d{a}}}ng"), ("Łódź", "{\\L}{\\'o}d{\\'z}")],
    ids=["umlaut", "caron", "slashed-o", "eszett", "stacked", "stacked-dot-below", "polish"],
)
def test_non_ascii_letters_become_latex_and_come_back(text: str, latex: str) -> None:
    assert to_latex(text) == latex
    assert to_unicode(latex) == text


def test_csl_rich_text_becomes_latex_commands() -> None:
    record = {"id": "k", "type": "book", "title": 'Nerve fibres of <i>Xenopus laevis</i>: CO<sub>2</sub> in <span class="nocase">iPhone</span> & a < b'}
    text = entry_text(record, Options(), Report())
    assert "  title = {Nerve fibres of \\textit{{Xenopus} laevis}: {CO}\\textsubscript{2} in {{iPhone}} \\& a \\textless{} b},\n" in text


def test_names_von_last_jr_first_corporate_and_others() -> None:
    record = {"id": "k", "type": "book", "title": "T", "custom": {"authors_truncated": True}, "author": [
        {"family": "Humboldt", "given": "Alexander", "non-dropping-particle": "von", "suffix": "Jr."},
        {"family": "la Fontaine", "given": "Jean", "non-dropping-particle": "de"},
        {"literal": "Google Research & Friends"},
    ]}
    text = entry_text(record, Options(), Report())
    assert "  author = {von Humboldt, Jr., Alexander and de {la Fontaine}, Jean and {Google Research \\& Friends} and others},\n" in text


def test_character_without_latex_form_is_written_as_utf8_with_a_warning_naming_record_and_character() -> None:
    library = library_of({"id": "zh2020", "type": "book", "title": "中文 title"}, {"id": "other", "type": "book", "title": "Ü"})
    text = bibsmith.write(library, "bibtex")
    assert "@book{zh2020,\n  title = {中文 title},\n}\n" in text  # the rest of the run goes on
    assert "@book{other,\n  title = {{{\\\"U}}},\n}\n" in text
    assert [str(d) for d in library.report] == [
        "bibsmith: warning: record zh2020: field title: '中' (U+4E2D CJK UNIFIED IDEOGRAPH-4E2D) has no LaTeX form; "
        "the entry is written as UTF-8 (compile with biber, or an engine that reads UTF-8)",
    ]
    assert "title = {中文 title}" in bibsmith.write(library_of({"id": "zh2020", "type": "book", "title": "中文 title"}),
                                                   "bibtex", unicode=True)
    assert "title = {中文 title}" in bibsmith.write(library_of({"id": "zh2020", "type": "book", "title": "中文 title"}), "biblatex")


@pytest.mark.parametrize("key", ["DBLP:conf/nips/VaswaniSPUJGKP17", "DBLP:journals/corr/abs-1706-03762", "averroes/bland",
                                 "Müller2020+x.y", "a-b_c~d!e", "hep-th/9711200"])
def test_keys_the_input_gave_are_written_byte_for_byte(key: str) -> None:
    for dialect in ("bibtex", "biblatex"):
        library = library_of({"id": key, "type": "book", "title": "T"})
        assert bibsmith.write(library, dialect).startswith(f"@book{{{key},\n")
        assert library.report.items == []


@pytest.mark.parametrize("key, char", [("a b", " "), ("a,b", ","), ("a{b", "{"), ("a}b", "}"), ("a(b", "("), ("a)b", ")"),
                                       ('a"b', '"'), ("a#b", "#"), ("a%b", "%"), ("a'b", "'"), ("a=b", "="), ("a\\b", "\\")])
def test_a_key_bibtex_cannot_hold_is_an_error_and_nothing_is_written(key: str, char: str) -> None:
    library = library_of({"id": "Smith2020", "type": "book", "title": "T"}, {"id": key, "type": "book", "title": "U"})
    with pytest.raises(BibsmithError):
        bibsmith.write(library, "bibtex")
    assert [str(d) for d in library.report] == [
        f"bibsmith: error: record {key}: the key holds {char!r} (U+{ord(char):04X}), which a BibTeX key cannot hold; "
        "nothing written"]


def test_unwritable_variables_are_reported_not_dropped_silently() -> None:
    library = library_of({"id": "k", "type": "book", "title": "T", "original-date": {"date-parts": [[1900]]},
                          "custom": {"organizations": ["deepmind"], "reviewed": True}})
    bibsmith.write(library, "bibtex")
    assert [str(d) for d in library.report] == [
        "bibsmith: warning: bibtex has no field for original-date (1 records, first k); not written",
        "bibsmith: warning: bibtex has no field for custom.reviewed (1 records, first k); not written",
    ]


# ---------------------------------------------------------------- safety
UNSAFE = ["\\write18{rm -rf ~}", "\\input{/etc/passwd}", "\\include{x}", "\\openout5=x", "\\read16 to\\x", "\\catcode`\\@=11"]


@pytest.mark.parametrize("payload", UNSAFE, ids=["write18", "input", "include", "openout", "read", "catcode"])
@pytest.mark.parametrize("where", ["title", "abstract", "author"])
@pytest.mark.parametrize("dialect", ["bibtex", "biblatex"])
def test_unsafe_tex_is_reported_and_not_written(payload: str, where: str, dialect: str) -> None:
    record = {"id": "evil", "type": "article-journal", "title": "Fine", "author": [{"family": "Doe", "given": "J"}]}
    if where == "author":
        record["author"] = [{"family": f"Doe {payload}", "given": "J"}]
        field = "author.family"
    else:
        record[where] = f"Math ${payload}$ and text {payload}"
        field = where
    library = library_of({"id": "ok", "type": "book", "title": "Safe"}, record)
    with pytest.raises(BibsmithError):
        bibsmith.write(library, dialect)
    command = payload.split("{")[0].split("5")[0].split("1")[0].split("`")[0]
    (error,) = library.report.errors
    assert str(error).startswith(f"bibsmith: error: record evil: field {field} holds {command}")
    assert str(error).endswith("which can reach files or the shell when compiled; not written")


# ---------------------------------------------------------------- golden files
def _sample() -> Library:
    (path,) = sorted((REPO / "data").glob("*.txt"))
    return bibsmith.read(path)


def _hard_cases() -> Library:
    return library_of(*json.loads((FIXTURES / "hard-cases.json").read_text(encoding="utf-8")))


@pytest.mark.parametrize("dialect", ["bibtex", "biblatex"])
@pytest.mark.parametrize(("name", "load"), [("sample", _sample), ("hard-cases", _hard_cases)], ids=["sample", "hard-cases"])
def test_golden_output(name: str, load, dialect: str) -> None:
    text = bibsmith.write(load(), dialect)
    check_golden(f"{name}.{dialect}.bib", text)
    assert bibsmith.write(load(), dialect) == text  # same input, same output


REAL_WORLD = sorted(FIXTURES.glob("*.bib"))


def _raw_entries(text: str) -> list[tuple[str, dict[str, str]]]:
    """(key, {field: evaluated value}) as written in a .bib, @string and # resolved."""
    parsed = bibtexparser.parse_string(text, parse_stack=[])
    strings: dict[str, str] = {}
    for block in parsed.strings:
        strings[block.key.lower()] = evaluate(block.value, strings)[0]
    return [(e.key, {f.key.lower(): evaluate(str(f.value), strings)[0] for f in e.fields}) for e in parsed.entries]


# The same fact under each dialect's own name (README: BibTeX conventions); the value must survive.
SYNONYMS = {"numpages": "pagetotal", "langid": "language"}
DIALECT_NAMES = {
    "bibtex": {"eprinttype": "archiveprefix", "eprintclass": "primaryclass", "journaltitle": "journal", **SYNONYMS},
    "biblatex": {"archiveprefix": "eprinttype", "primaryclass": "eprintclass", "journal": "journaltitle", **SYNONYMS},
}


@pytest.mark.parametrize("path", REAL_WORLD, ids=[p.stem for p in REAL_WORLD])
def test_real_world_bib_round_trip_keeps_every_field(path: Path) -> None:
    dialect = "biblatex" if path.stem.startswith("biblatex") else "bibtex"
    source = path.read_text(encoding="utf-8")
    library = read(source, path.name)
    assert library.report.errors == []
    text = bibsmith.write(library, dialect)
    check_golden(f"{path.stem}.roundtrip.bib", text)
    written = dict(_raw_entries(text))
    for key, fields in _raw_entries(source):
        mine = written[key]
        for name, value in fields.items():
            if name not in mine and name in DIALECT_NAMES[dialect]:
                renamed = DIALECT_NAMES[dialect][name]
                assert mine[renamed].lower() == value.lower(), (key, name)  # "arXiv" and "arxiv" alike
                continue
            assert name in mine, (key, name)
            if name in ("author", "editor"):
                assert names_from_bibtex(mine[name]) == names_from_bibtex(value), (key, name)
            elif name == "pages":
                assert to_unicode(mine[name]).replace("\u2013", "-") == to_unicode(value).replace("\u2013", "-")
            elif name == "month":
                assert _month(mine[name]) == _month(value), key
            else:
                assert to_unicode(mine[name]) == to_unicode(value), (key, name)


# ---------------------------------------------------------------- hypothesis round trip
WORDS = st.text(alphabet=string.ascii_letters + "äöüéèçñøłßčšžđ", min_size=1, max_size=10)
TITLE_CHARS = string.ascii_letters + string.digits + " &%#_{}~^-:,.?!'()" + "äöüéñøßčĐễệ"
TITLES = st.text(alphabet=TITLE_CHARS, min_size=1, max_size=60).map(lambda t: " ".join(t.split())).filter(bool)
MATH = st.sampled_from(["$x_1$", "$O(n^2)$", "$\\alpha + \\beta$", "$\\mathcal{L}$"])
FAMILIES = st.builds(lambda a, b: (a[:1].upper() + a[1:]) + ("-" + b.capitalize() if b else ""), WORDS, st.one_of(st.just(""), WORDS))
NAMES = st.one_of(
    st.builds(lambda f, g: {"family": f, "given": g.capitalize()}, FAMILIES, WORDS),
    st.builds(lambda f, g, p: {"family": f, "given": g.capitalize(), "non-dropping-particle": p}, FAMILIES, WORDS,
              st.sampled_from(["von", "van der", "de", "de la", "di"])),
    st.builds(lambda f, g, s: {"family": f, "given": g.capitalize(), "suffix": s}, FAMILIES, WORDS, st.sampled_from(["Jr.", "III"])),
    st.builds(lambda w: {"literal": f"{w.capitalize()} Research Lab"}, WORDS),
)
DATES = st.one_of(
    st.tuples(st.integers(1900, 2030)),
    st.tuples(st.integers(1900, 2030), st.integers(1, 12)),
    st.tuples(st.integers(1900, 2030), st.integers(1, 12), st.integers(1, 28)),
)
TYPES = st.sampled_from(["article-journal", "book", "chapter", "paper-conference", "report", "thesis", "manuscript", "document", "preprint"])
IDS = st.fixed_dictionaries({}, optional={
    "DOI": st.from_regex(r"10\.[0-9]{4,5}/[a-z0-9.\-]{3,12}", fullmatch=True),
    "URL": st.from_regex(r"https://example\.org/[a-z0-9\-]{1,12}", fullmatch=True),
    "ISBN": st.from_regex(r"978-[0-9]{10}", fullmatch=True),
    "PMID": st.from_regex(r"[1-9][0-9]{5,7}", fullmatch=True),
})


@st.composite
def records(draw) -> dict:
    kind = draw(TYPES)
    title = draw(TITLES)
    if draw(st.booleans()):
        title = f"{title} {draw(MATH)}"
    record = {"id": "k" + draw(st.from_regex(r"[a-z0-9]{1,8}", fullmatch=True)), "title": title,
              "author": draw(st.lists(NAMES, min_size=1, max_size=4)),
              "issued": {"date-parts": [list(draw(DATES))]}, **draw(IDS)}
    if kind == "preprint":
        arxiv = draw(st.from_regex(r"2[0-9]{3}\.[0-9]{5}", fullmatch=True))
        record.update(type="article", publisher="arXiv", genre="Preprint", number=f"arXiv:{arxiv}")
    else:
        record["type"] = kind
        if kind in ("article-journal", "chapter", "paper-conference"):
            record["container-title"] = draw(TITLES)
    return record


def _kept(record: dict) -> dict:
    keys = ("id", "type", "title", "author", "issued", "DOI", "URL", "ISBN", "PMID", "number")
    return {k: record[k] for k in keys if k in record}


@pytest.mark.parametrize("dialect", ["bibtex", "biblatex"])
@settings(max_examples=60, deadline=None)
@given(record=records())
def test_csl_to_bib_to_csl_keeps_title_authors_date_type_and_ids(dialect: str, record: dict) -> None:
    report = Report()
    text = entry_text(record, Options(dialect=dialect), report)
    assert report.errors == []
    library = read(text, "roundtrip.bib")
    assert [str(d) for d in library.report] == []
    (back,) = library.records
    expected = _kept(record)
    if expected["type"] == "article" and "URL" not in record:
        expected["URL"] = "https://arxiv.org/abs/" + record["number"].removeprefix("arXiv:")
    assert _kept(back) == expected


# ---------------------------------------------------------------- the command line
def test_cli_to_bibtex_is_the_golden_file_and_protect_none_removes_braces() -> None:
    from typer.testing import CliRunner

    from bibsmith.cli import app

    (sample,) = sorted((REPO / "data").glob("*.txt"))
    runner = CliRunner()
    result = runner.invoke(app, ["convert", str(sample), "--to", "bibtex"])
    assert result.exit_code == 0
    assert result.stdout == (GOLDEN / "sample.bibtex.bib").read_text(encoding="utf-8")
    plain = runner.invoke(app, ["convert", str(sample), "--to", "bibtex", "--protect", "none"])
    assert "  title         = {The Lazy Neuron Phenomenon: On Emergence of Activation Sparsity in Transformers},\n" in plain.stdout
    assert "{DistillSpec}" not in plain.stdout


def test_hat_escapes_are_unsafe_only_inside_math_of_hub_text() -> None:
    # Outside math the writer escapes ^, so "^^0" is plain text; inside math TeX would decode ^^5c to a backslash.
    plain, math = Report(), Report()
    text = entry_text({"id": "k", "type": "book", "title": "^^0 and x^2"}, Options(), plain)
    assert plain.items == [] and r"\textasciicircum{}\textasciicircum{}0" in text
    assert entry_text({"id": "k", "type": "book", "title": "$^^5cinput x$"}, Options(), math) == ""
    assert [d.message for d in math] == ["record k: field title holds ^^5c, which can reach files or the shell when compiled; not written"]


def test_month_that_is_not_a_calendar_month_is_reported_not_a_crash() -> None:
    report = Report()
    text = entry_text({"id": "k", "type": "book", "title": "T", "issued": {"date-parts": [[2020, 13, 2]]}}, Options(), report)
    assert "year  = {2020}" in text and "month" not in text
    assert [d.message for d in report] == ["record k: month 13 is not a calendar month; not written"]


MERGE_FIXTURES = sorted((Path(__file__).parent / "fixtures" / "merge").iterdir())


def test_biblatex_links_preprint_and_published_versions_with_related() -> None:
    # Entries written from the hub (keep_source=False: the .bib entries too) carry the links.
    library = bibsmith.read(MERGE_FIXTURES, merge="dedupe", keep_source=False)  # the look-alikes merged, as the keys below say
    entries = {e.key: e for e in bibtexparser.parse_string(bibsmith.write(library, "biblatex")).entries}
    assert entries["zaheer2022teacher"]["related"] == "zaheer2023teacher"
    assert entries["zaheer2023teacher"]["related"] == "zaheer2022teacher"
    assert entries["Maldacena:1997re"]["related"] == "hep-th/9711200"
    assert entries["hep-th/9711200"]["related"] == "Maldacena:1997re"
    assert sum("related" in e.fields_dict for e in entries.values()) == 4


def test_entries_kept_as_written_get_no_related_field() -> None:
    # biblatex's styles print a related entry after the one naming it: a .bib entry given back as written
    # does not change what its document prints; the records from the RIS and the profile are linked.
    library = bibsmith.read(MERGE_FIXTURES, merge="dedupe")
    entries = {e.key: e for e in bibtexparser.parse_string(bibsmith.write(library, "biblatex")).entries}
    assert {key for key, e in entries.items() if "related" in e.fields_dict} == {"zaheer2022teacher", "hep-th/9711200"}


def test_bibtex_reports_the_version_links_it_cannot_hold() -> None:
    library = bibsmith.read(MERGE_FIXTURES, merge="dedupe")  # the look-alikes merged, as the keys below say
    text = bibsmith.write(library, "bibtex")
    assert "related" not in text
    assert "bibtex has no field for custom.related (4 records, first zaheer2022teacher); not written" in [
        d.message for d in library.report]


def test_private_use_characters_are_removed_and_reported() -> None:
    report = Report()
    text = entry_text({"id": "k", "type": "book", "title": "A\ue000B <i>x</i>"}, Options(dialect="biblatex"), report)
    assert "title = {{AB} \\textit{x}}," in text
    assert [d.message for d in report] == [
        "record k: field title holds private-use characters such as U+E000, which mean nothing outside one font; removed"]


def test_double_hyphens_in_text_stay_two_hyphens() -> None:
    # TeX joins -- into an en dash; a hub text with "--" means two hyphens, and reads back so.
    library = bibsmith.read(sorted((Path(__file__).parent.parent / "data").glob("*.txt")))
    for dialect in ("bibtex", "biblatex"):
        back = bibsmith.loads(bibsmith.write(library, dialect), "bibtex", "x.bib")
        before = {r["id"]: r["abstract"] for r in library.records if "--" in r.get("abstract", "")}
        after = {r["id"]: r["abstract"] for r in back.records if r["id"] in before}
        assert len(before) == 3 and after == before


def test_sample_round_trips_through_biblatex_exactly() -> None:
    # Everything the profile gives, organizations included, comes back from our own BibLaTeX.
    library = bibsmith.read(sorted((Path(__file__).parent.parent / "data").glob("*.txt")))
    back = bibsmith.loads(bibsmith.write(library, "biblatex"), "bibtex", "x.bib", keep_source=False)
    assert back.records == library.records
    assert not any("organizations" in d.message for d in library.report)


def test_writing_on_every_core_gives_the_same_text_and_messages_in_order(monkeypatch) -> None:
    # 600 records (enough for the workers): bad and repeated keys, fields BibTeX cannot hold, private-use
    # characters, unsafe TeX and letters without a LaTeX form, spread over every worker's share.
    from bibsmith.writers import bibtex as writer

    records = []
    for i in range(600):
        record = {"id": f"key:{i % 250}/x" if i % 7 == 0 else f"k{i % 400}", "type": "article-journal",
                  "title": f"Title {i} with BERT", "author": [{"family": f"Family{i % 13}", "given": "Ann"}],
                  "issued": {"date-parts": [[2000 + i % 20]]}, "container-title": "Journal"}
        if i % 11 == 0:
            record["dimensions"] = "12 cm"
            record["custom"] = {"notes_of_mine": "x"}
        if i % 17 == 0:
            record["title"] += " \ue123 private"
        if i % 29 == 0:
            record["note"] = "see \\input{secret}"
        if i % 31 == 0:
            record["title"] += " \u1ea3nh"  # a with hook above: no pdfLaTeX form in bibtex mode
        records.append(record)
    library = Library(records=records, positions=[None] * len(records))

    def written(simple: bool, dialect: str):
        from bibsmith.csl import parallel

        if simple:
            monkeypatch.setenv("BIBSMITH_SIMPLE", "1")
            monkeypatch.setattr(parallel, "workers", lambda items: 1)
        else:
            monkeypatch.delenv("BIBSMITH_SIMPLE", raising=False)
            monkeypatch.setattr(parallel, "workers", lambda items: 3)  # two forked shares, whatever the cores
        report = Report()
        text = writer.write(library, Options(dialect=dialect), report)
        return text, [(d.level, d.code, d.message) for d in report]

    for dialect in ("bibtex", "biblatex"):
        fast, simple = written(False, dialect), written(True, dialect)
        assert fast == simple
        codes = {code for _, code, _ in fast[1]}
        assert {"key-changed", "private-use", "unsafe-tex", "lost-field"} <= codes
    assert "no-latex-form" in {code for _, code, _ in written(False, "bibtex")[1]}

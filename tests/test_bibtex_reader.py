"""The BibTeX/BibLaTeX reader: what a user's .bib becomes in the hub, and how bad input is reported."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from bibsmith.cli import app
from bibsmith.readers.bibtex import read
from conftest import REPO, require_shared

FIXTURES = REPO / "tests" / "fixtures" / "bibtex"


def one(text: str) -> dict:
    library = read(text, "t.bib")
    assert [str(d) for d in library.report] == []
    (record,) = library.records
    return record


def messages(text: str) -> list[str]:
    return [str(d) for d in read(text, "t.bib").report]


# ---------------------------------------------------------------- syntax
def test_strings_concatenation_comments_preamble_and_delimiters() -> None:
    text = """@string{ml = "Machine Learning"}
@string(jmlr = {Journal of } # ml # " Research")
@comment{this is ignored}
@preamble{"\\newcommand{\\noop}[1]{}"}
@article{a,
  title = "Quoted " # {and braced},
  journal = jmlr,
  year = 2020, month = mar,
}
"""
    record = one(text)
    assert record["title"] == "Quoted and braced"
    assert record["container-title"] == "Journal of Machine Learning Research"
    assert record["issued"] == {"date-parts": [[2020, 3]]}


def test_latex_becomes_unicode_and_math_is_kept() -> None:
    record = one(r"""@article{a, title = {Schr{\"o}dinger's {\L}{\'o}d{\'z} \& {Nguy{\~{\^e}}n} on $\mathcal{O}(n^2)$ \textit{fast}},
  author = {M{\"u}ller, J{\"o}rg and {\v{C}}apek, Karel and Stra{\ss}e, Hans}}""")
    assert record["title"] == "Schrödinger's Łódź & Nguyễn on $\\mathcal{O}(n^2)$ <i>fast</i>"
    assert record["author"] == [
        {"family": "Müller", "given": "Jörg"}, {"family": "Čapek", "given": "Karel"}, {"family": "Straße", "given": "Hans"},
    ]


def test_text_commands_become_csl_rich_text() -> None:
    record = one(r"@article{a, title = {\emph{Xenopus} CO\textsubscript{2} x\textsuperscript{3} \textbf{b} \textsc{sc}}}")
    assert record["title"] == '<i>Xenopus</i> CO<sub>2</sub> x<sup>3</sup> <b>b</b> <span style="font-variant:small-caps;">sc</span>'


@pytest.mark.parametrize(
    ("fields", "issued"),
    [
        ("year = 2021", [[2021]]),
        ("year = 2021, month = dec", [[2021, 12]]),
        ("year = 2021, month = {December}", [[2021, 12]]),
        ("year = 2021, month = 7, day = 14", [[2021, 7, 14]]),
        ("year = 2021, month = {July 30th}", [[2021, 7, 30]]),
        ("date = {2021-03-05}, year = 1999", [[2021, 3, 5]]),
        ("date = {2018-12-03/2018-12-06}", [[2018, 12, 3], [2018, 12, 6]]),
    ],
    ids=["year", "macro", "name", "day-field", "month-with-day", "date-wins", "range"],
)
def test_dates(fields: str, issued: list) -> None:
    assert one(f"@misc{{a, title = {{T}}, {fields}}}")["issued"] == {"date-parts": issued}


def test_names_particles_suffixes_corporate_and_others() -> None:
    record = one("""@book{a, title = {T},
  author = {von Humboldt, Jr., Alexander and Ludwig van Beethoven and {Google DeepMind} and others},
  editor = {given=Anne, family=Smith, prefix=de}}""")
    assert record["author"] == [
        {"family": "Humboldt", "given": "Alexander", "non-dropping-particle": "von", "suffix": "Jr."},
        {"family": "Beethoven", "given": "Ludwig", "non-dropping-particle": "van"},
        {"literal": "Google DeepMind"},
    ]
    assert record["custom"]["authors_truncated"] is True
    assert record["editor"] == [{"given": "Anne", "family": "Smith", "non-dropping-particle": "de"}]


# ---------------------------------------------------------------- arXiv
PREPRINT = {"type": "article", "publisher": "arXiv", "genre": "Preprint", "number": "arXiv:2210.06313"}


@pytest.mark.parametrize(
    "fields",
    [
        "eprint = {2210.06313}, archivePrefix = {arXiv}, primaryClass = {cs.LG}",
        "eprint = {arXiv:2210.06313}, eprinttype = {arxiv}, eprintclass = {cs.LG}",
        "eprint = {2210.06313}, archiveprefix = {arXiv}, primaryclass = {cs.LG}",
    ],
    ids=["arxiv-export", "biblatex", "lower-case"],
)
def test_every_arxiv_spelling_with_category(fields: str) -> None:
    record = one(f"@misc{{a, title = {{T}}, {fields}}}")
    assert {k: record[k] for k in PREPRINT} == PREPRINT
    assert record["custom"]["arxiv_category"] == "cs.LG"
    assert record["keyword"] == "cs.LG"


@pytest.mark.parametrize(
    "fields",
    [
        "journal = {arXiv preprint arXiv:2210.06313}",
        "doi = {10.48550/arXiv.2210.06313}",
        "journal = {CoRR}, volume = {abs/2210.06313}, eprinttype = {arXiv}, eprint = {2210.06313}",
    ],
    ids=["google-scholar", "datacite-doi", "dblp"],
)
def test_arxiv_without_category(fields: str) -> None:
    record = one(f"@article{{a, title = {{T}}, {fields}}}")
    assert {k: record[k] for k in PREPRINT} == PREPRINT
    assert "container-title" not in record


def test_a_journal_article_with_an_eprint_stays_an_article() -> None:
    record = one("@article{a, title = {T}, journal = {Nature}, eprint = {2101.00001}, archivePrefix = {arXiv}}")
    assert record["type"] == "article-journal"
    assert record["custom"]["extra"] == {"eprint": "2101.00001", "archiveprefix": "arXiv"}


def test_unknown_fields_are_kept_in_custom_extra() -> None:
    record = one("@article{a, title = {T}, mrnumber = {3077863}, file = {:a\\_b.pdf:pdf}, timestamp = {2020}}")
    assert record["custom"]["extra"] == {"mrnumber": "3077863", "file": ":a\\_b.pdf:pdf", "timestamp": "2020"}


def test_crossref_fields_are_inherited() -> None:
    library = read("""@inproceedings{child, title = {Paper}, author = {A, B}, crossref = {conf}}
@proceedings{conf, title = {Conference}, year = 2020, publisher = {P}}""", "t.bib")
    child = library.records[0]
    assert (child["container-title"], child["issued"], child["publisher"]) == ("Conference", {"date-parts": [[2020]]}, "P")


# ---------------------------------------------------------------- bad input
def test_failed_block_is_reported_with_its_line_and_the_rest_is_read() -> None:
    text = "@article{good1, title = {One}}\n\n@article{bad,\n  title = {unclosed,\n  year = 2020\n\n@book{good2, title = {Two}}\n"
    library = read(text, "refs.bib")
    assert [r["id"] for r in library.records] == ["good1", "good2"]
    assert [str(d) for d in library.report] == [
        "refs.bib:3: error: @article entry cannot be read: Unexpected block start: `@book`. "
        "Was still looking for field-value closing `}`",
    ]


def test_unclosed_entry_at_end_of_file() -> None:
    assert messages("@misc{ok, title = {T}}\n@misc{x, title = {T}\n") == [
        "t.bib:2: error: @misc entry cannot be read: Unexpectedly reached end of file.",
    ]


def test_duplicate_key_is_reported_and_both_are_read() -> None:
    library = read("@misc{k, title = {One}}\n\n@misc{k, title = {Two}}\n", "refs.bib")
    assert [r["title"] for r in library.records] == ["One", "Two"]
    assert [str(d) for d in library.report] == [
        "refs.bib:3: error: key 'k' is used again (first at line 1); this entry is read under a new key",
    ]


def test_duplicate_field_and_undefined_string_are_warnings() -> None:
    text = "@misc{k,\n  title = {One},\n  title = {Two},\n  journal = nosuch,\n}\n"
    assert read(text, "t.bib").records[0]["title"] == "One"
    assert messages(text) == [
        "t.bib:3: warning: entry k: field title appears twice; the first is kept",
        "t.bib:4: warning: entry k: field journal: 'nosuch' is not a defined @string; read as empty, as BibTeX does",
    ]


def test_unsafe_tex_is_an_error_naming_entry_and_field() -> None:
    library = read("@misc{ok, title = {Fine}}\n@misc{evil,\n  title = {A \\input{/etc/passwd} B}}\n", "t.bib")
    assert [r["id"] for r in library.records] == ["ok"]
    assert [str(d) for d in library.report] == [
        "t.bib:2: error: entry evil: field title holds \\input, which can reach files or the shell when compiled; "
        "the entry is not read",
    ]


def test_cli_exit_code_is_1_on_reader_errors_unless_keep_going(tmp_path: Path) -> None:
    bib = tmp_path / "bad.bib"
    bib.write_text("@misc{good, title = {One}, year = 2020}\n@misc{bad, title = {unclosed\n", encoding="utf-8")
    runner = CliRunner()
    failed = runner.invoke(app, ["convert", str(bib), "--to", "csl-json"])
    assert failed.exit_code == 1
    assert f"{bib}:2: error: @misc entry cannot be read: Unexpectedly reached end of file." in failed.output
    kept = runner.invoke(app, ["convert", str(bib), "--to", "csl-json", "--keep-going"])
    assert kept.exit_code == 0
    assert [r["id"] for r in json.loads(kept.stdout)] == ["good"]


# ---------------------------------------------------------------- real files
def test_records_validate_against_the_csl_schema() -> None:
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads(require_shared("schemas", "csl", "csl-data.json").read_text(encoding="utf-8"))
    records = []
    for path in sorted(FIXTURES.glob("*.bib")):
        library = read(path.read_text(encoding="utf-8"), path.name)
        assert library.report.errors == []
        records.extend(library.records)
    jsonschema.validate(records, schema)


def test_iridia_collection_reads_without_a_problem() -> None:
    folder = require_shared("data", "iridia-references")
    # The macro files first, as the collection's README says; crossref.bib holds 429 real entries.
    text = "\n".join((folder / name).read_text(encoding="utf-8") for name in
                     ("abbrev.bib", "journals.bib", "authors.bib", "crossref.bib"))
    library = read(text, "iridia")
    assert len(library) == 429
    assert [str(d) for d in library.report] == []
    assert all(r.get("title") and "\\" not in r["title"].replace("$", "") or "$" in r["title"] for r in library.records)


@pytest.mark.parametrize(
    "latex,text",
    [
        (r"The {\TeX}book", "The TeXbook"),
        (r"The \TeX{}book", "The TeXbook"),
        (r"{\LaTeX} Companion", "LaTeX Companion"),
        (r"\BibTeX\ styles", "BibTeX styles"),
        (r"\mbox{AB} c", "AB c"),
        (r"\texttt{x\_y} and \textsf{z}", "x_y and z"),
    ],
)
def test_logos_and_box_commands_keep_their_text(latex: str, text: str) -> None:
    from bibsmith.text.latex import to_unicode

    assert to_unicode(latex) == text


LATEX_PIECES = ["Caf\\'e", "na\\\"{\\i}ve", "{\\o}", "\\ss", "--", "---", "~", "{", "}", "\\&", "\\%", "\\_", "\\c{c}",
                "\\v{s}", "\\H{o}", "\\aa", "\\L", "ab", " ", "-", "'", "`", "?", "!", "x{y}z", "\\={a}", "\\.z", "-{}-",
                "\\'\\i", "{\\\"\\i}", "\\'{\\i}", "\\emph{in vivo}", "\\textit{a priori}", "\\textbf{Z}", "\\emph{}"]


@settings(max_examples=600, deadline=None)
@given(st.lists(st.sampled_from(LATEX_PIECES), max_size=12))
def test_hand_decoder_agrees_with_pylatexenc(pieces: list[str]) -> None:
    import unicodedata

    from bibsmith.text import latex

    piece = "".join(pieces)
    fast = latex._fast_decode(piece)
    if fast is not None:  # to_unicode composes (NFC) whatever the decoder gives
        assert unicodedata.normalize("NFC", fast) == unicodedata.normalize("NFC", latex._slow_decode(piece))


def test_broken_string_definition_is_an_error_not_a_crash() -> None:
    # Found by fuzzing: an @string with an unclosed quote raised ValueError out of the reader.
    from bibsmith.readers import bibtex as reader

    library = reader.read('@string{j = "Journal of X}\n@article{a, title={T}, year=2000}\n', "s.bib")
    assert [str(d) for d in library.report] == ["s.bib:1: error: @string j: unclosed quote"]
    assert [r["title"] for r in library.records] == ["T"]


def test_entry_with_an_empty_key_is_not_taken_for_a_crossref_parent() -> None:
    # Found by fuzzing: an entry keyed "" was looked up as the parent of every entry without crossref.
    from bibsmith.readers import bibtex as reader

    library = reader.read("@book{, title={Parent}}\n@article{a, title={Child}, year=2000}\n", "e.bib")
    assert sorted(r["title"] for r in library.records) == ["Child", "Parent"]

"""Issue 15, as biber reads it: what scripts/roundtrip.py found and bibsmith now writes, and the
script's own comparison (reasons, table) held to exact values."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

import bibsmith
from bibsmith.diagnostics import Report
from bibsmith.writers.bibtex import Options, entry_text
from conftest import REPO, require_tool


def _script():
    spec = importlib.util.spec_from_file_location("roundtrip", REPO / "scripts" / "roundtrip.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("roundtrip", module)  # dataclasses look their module up by name
    spec.loader.exec_module(sys.modules["roundtrip"])
    return sys.modules["roundtrip"]


def _convert(tmp_path: Path, text: str, dialect: str) -> tuple[str, list[str]]:
    path = tmp_path / "in.bib"
    path.write_text(text, encoding="utf-8")
    library = bibsmith.read([path])
    written = bibsmith.write(library, dialect)
    return written, [str(item).replace(str(tmp_path) + "/", "") for item in library.report.items]


# ---------------------------------------------------------------- accented i
@pytest.mark.parametrize("simple", ["0", "1"], ids=["fast", "simple"])
def test_accented_i_is_written_on_a_plain_i(simple: str, monkeypatch) -> None:
    # {\'\i} is read by biber as a dotless ı and an accent; {\'i} as í, and LaTeX sets both alike.
    monkeypatch.setenv("BIBSMITH_SIMPLE", simple)
    record = {"id": "k", "type": "book", "title": "Naïve ìî",
              "author": [{"family": "Rodríguez", "given": "Íñigo"}]}
    assert entry_text(record, Options(), Report()) == (
        "@book{k,\n"
        "  author = {Rodr{\\'i}guez, {\\'I}{\\~n}igo},\n"
        "  title  = {Na{\\\"i}ve {\\`i}{\\^i}},\n"
        "}\n")


def test_an_entry_as_written_gets_accented_i_on_a_plain_i_and_reads_back(tmp_path: Path) -> None:
    text = "@article{k,\n  author = {Rodríguez, Luis},\n  title = {Naïve},\n  year = 2020,\n}\n"
    written, _ = _convert(tmp_path, text, "bibtex")
    assert written == "@article{k,\n  author = {Rodr{\\'i}guez, Luis},\n  title = {Na{\\\"i}ve},\n  year = 2020,\n}\n"
    again, _ = _convert(tmp_path, written, "csl-json")
    assert '"family": "Rodríguez"' in again and '"title": "Naïve"' in again


def test_an_accented_dotless_i_the_input_wrote_stays_as_written(tmp_path: Path) -> None:
    text = "@article{k,\n  author = {Rodr{\\'\\i}guez, Luis},\n  year = 2020,\n}\n"
    assert _convert(tmp_path, text, "bibtex")[0] == text


# ---------------------------------------------------------------- @string and @preamble blocks
STRINGS = ('% Łódź\n@string{pub = "Łódź University Press"}\n@preamble{"\\def\\ö{oe}"}\n\n'
           "@book{k,\n  title = {T},\n  publisher = pub,\n  year = 2020,\n}\n")


def test_bibtex_dialect_writes_string_and_preamble_blocks_in_ascii_too(tmp_path: Path) -> None:
    written, messages = _convert(tmp_path, STRINGS, "bibtex")
    assert written == ('% {\\L}{\\\'o}d{\\\'z}\n@string{pub = "{\\L}{\\\'o}d{\\\'z} University Press"}\n'
                       '@preamble{"\\def\\{\\"o}{oe}"}\n\n'
                       "@book{k,\n  title = {T},\n  publisher = pub,\n  year = 2020,\n}\n")
    assert written.isascii()
    assert messages == []


def test_biblatex_dialect_keeps_the_blocks_utf8(tmp_path: Path) -> None:
    assert _convert(tmp_path, STRINGS, "biblatex")[0] == STRINGS


def test_a_block_character_without_latex_form_stays_utf8_with_a_warning(tmp_path: Path) -> None:
    text = "@string{j = \"日本 Journal\"}\n\n@article{k,\n  journal = j,\n  year = 2020,\n}\n"
    written, messages = _convert(tmp_path, text, "bibtex")
    assert written == text
    assert messages == ["in.bib:1: warning: text between entries: U+65E5, U+672C has no LaTeX form; written as "
                        "UTF-8 (compile with biber, or an engine that reads UTF-8)"]


# ---------------------------------------------------------------- the script's reasons
@pytest.mark.parametrize(
    ("dialect", "field", "before", "after", "reason", "detail"),
    [
        ("biblatex", "related", None, "b", "link added", ""),
        ("biblatex", "title", "x ≈ y", "x {\\ensuremath{\\approx}} y", "pdfLaTeX", "≈ as {\\ensuremath{\\approx}}"),
        ("bibtex", "title", "Łagów", "{Ł}agów", "braced letter", "{Ł}"),
        ("bibtex", "title", "Łagów ≈", "{Ł}agów {\\ensuremath{\\approx}}", "braced letter + bibtex dialect",
         "{Ł}, ≈ as {\\ensuremath{\\approx}}"),
        ("bibtex", "publisher", "Å\x81Ã³dÅº", "{Ł}ódź", "biber @string + braced letter", "{Ł}"),
        ("bibtex", "title", "Gnats", "Gnus", "", ""),
        ("bibtex", "title", "Łagów", None, "", ""),
        ("biblatex", "title", "ASCII", "ÄSCII", "", ""),
    ],
    ids=["link", "pdflatex", "braced", "braced-and-command", "biber-latin1", "changed-text", "lost", "added-non-ascii"],
)
def test_each_difference_gets_its_reason_or_none(dialect, field, before, after, reason, detail) -> None:
    script = _script()
    assert script.reason(script.Difference("k", field, before, after), dialect) == (reason, detail)


def test_table() -> None:
    script = _script()
    kept = script.Comparison(entries=4, keys_kept=4, types_kept=4, fields=200, fields_identical=199)
    lost = script.Comparison(entries=4, keys_kept=3, types_kept=2, fields=200, fields_identical=150)
    assert script.table([("x.bib", {"biblatex": kept, "bibtex": lost})]) == [
        "| input | entries | biblatex keys kept | biblatex types kept | biblatex fields identical | bibtex keys kept | bibtex types kept | bibtex fields identical |",
        "| ----- | ------- | ------------------ | ------------------- | ------------------------- | ---------------- | ----------------- | ----------------------- |",
        "| x.bib | 4       | 100.0%             | 100.0%              | 99.50%                    | 75.0%            | 66.6%             | 75.00%                  |",
    ]


# ---------------------------------------------------------------- through biber
def test_biber_reads_both_outputs_as_the_input_but_for_the_listed_reasons(tmp_path: Path, monkeypatch) -> None:
    require_tool("biber")
    script = _script()
    monkeypatch.setattr(script, "SCRATCH", tmp_path / "scratch")
    source = tmp_path / "in.bib"
    source.write_text("@string{pub = {Addison-Wesley}}\n\n"
                      "@book{a,\n  author = {Rodríguez, José and Øster, Søren},\n  title = {Łagów, naïve ≈ $x$},\n"
                      "  publisher = pub,\n  date = {2020-05},\n}\n\n"
                      "@article{b,\n  author = {M{\\\"u}ller, J.},\n  title = {Plain},\n  journal = {J},\n  year = 1999,\n}\n",
                      encoding="utf-8")
    results = script.run_input("in.bib", [source])
    found = {dialect: [(d.key, d.field, d.reason, d.detail) for d in result.differences]
             for dialect, result in results.items()}
    assert found == {
        "biblatex": [("a", "title", "pdfLaTeX", "≈ as {\\ensuremath{\\approx}}")],
        "bibtex": [("a", "author", "braced letter", "{Ø}, {ø}"),
                   ("a", "title", "braced letter + bibtex dialect", "{Ł}, ≈ as {\\ensuremath{\\approx}}")],
    }
    assert [(r.entries, r.keys_kept, r.types_kept, r.fields, r.fields_identical) for r in results.values()] == [
        (2, 2, 2, 8, 7), (2, 2, 2, 8, 6)]


def test_a_difference_without_a_reason_fails_the_run_and_shows_both_values(tmp_path: Path, monkeypatch, capsys) -> None:
    require_tool("biber")
    script = _script()
    monkeypatch.setattr(script, "SCRATCH", tmp_path / "scratch")
    source = tmp_path / "in.bib"
    source.write_text("@book{a,\n  title = {Gnats},\n  year = 2000,\n}\n", encoding="utf-8")
    monkeypatch.setattr(script, "bibsmith", lambda src, dialect, target: target.write_text(
        src.read_text(encoding="utf-8").replace("Gnats", "Gnus"), encoding="utf-8"))
    assert script.main([str(source)]) == 1
    out = capsys.readouterr().out
    assert ("== in.bib -> bibtex: 1 differences\n  1 x UNEXPLAINED\n      a title\n"
            "        input:  Gnats\n        output: Gnus\n") in out
    assert "| in.bib | 1       | 100.0%             | 100.0%              | 50.00%  " in out

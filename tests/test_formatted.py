"""Formatted reference lists: golden files for the sample in six styles, outputs, styles, locales, safety."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import bibsmith
from bibsmith.csl import engine
from bibsmith.diagnostics import Report, UsageError
from bibsmith.library import Library
from bibsmith.text.texsafety import find_unsafe_tex
from bibsmith.writers import formatted

from conftest import REPO, require_tool

GOLDEN = REPO / "tests" / "golden" / "formatted"
UPDATE = os.environ.get("BIBSMITH_UPDATE_GOLDEN") == "1"
STYLES = ["apa", "ieee", "chicago-author-date", "modern-language-association", "nature",
          "association-for-computing-machinery"]
SUFFIX = {"text": "txt", "html": "html"}


@pytest.fixture(scope="module")
def sample(sample_path) -> Library:
    return bibsmith.read(str(sample_path))


def _library(*records: dict) -> Library:
    library = Library()
    for record in records:
        library.add(record)
    return library


def _one(record: dict, style: str = "apa", output: str = "text") -> str:
    (entry,) = formatted.entries([record], style=style, output=output)
    return entry


ARTICLE = {"id": "x", "type": "article-journal", "author": [{"family": "Smith", "given": "Ann"}],
           "issued": {"date-parts": [[2020]]}, "container-title": "Journal of Tests", "volume": "3"}


@pytest.mark.parametrize("output", ["text", "html"])
@pytest.mark.parametrize("style", STYLES)
def test_sample_golden(sample, style, output):
    text = bibsmith.write(sample, output, style=style)
    path = GOLDEN / f"{style}.{SUFFIX[output]}"
    if UPDATE:
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8")


def test_every_sample_entry_is_rendered_once(sample):
    for style in STYLES:
        lines = bibsmith.write(sample, "text", style=style).splitlines()
        assert len(lines) == 48
        assert len(set(lines)) == 48


def test_apa_sorts_by_author_ieee_keeps_input_order(sample):
    apa = bibsmith.write(sample, "text", style="apa").splitlines()
    assert apa[0].startswith("Awasthi, P., Jain, H., Rawat, A. S., et al. (2020).")
    assert [line.split(",")[0] for line in apa] == sorted((line.split(",")[0] for line in apa), key=str.lower)
    ieee = bibsmith.write(sample, "text", style="ieee").splitlines()
    assert ieee[0].startswith("[1] Z. Li, C. You, S. Bhojanapalli, et al., “The Lazy Neuron Phenomenon")
    assert ieee[47].startswith("[48] ")


@pytest.mark.parametrize("style, cut, full", [
    ("apa", "Li, Z., You, C., et al. (2022). The Lazy Neuron Phenomenon. arXiv.",
     "Li, Z., & You, C. (2022). The Lazy Neuron Phenomenon. arXiv."),
    ("ieee", "[1] Z. Li, C. You, et al., “The Lazy Neuron Phenomenon,” Oct. 12, 2022, arXiv.",
     "[1] Z. Li and C. You, “The Lazy Neuron Phenomenon,” Oct. 12, 2022, arXiv."),
    ("chicago-author-date", "Li, Zonglin, Chong You, et al. 2022. “The Lazy Neuron Phenomenon.” Preprint, arXiv, October 12.",
     "Li, Zonglin, and Chong You. 2022. “The Lazy Neuron Phenomenon.” Preprint, arXiv, October 12."),
    ("modern-language-association", "Li, Zonglin, Chong You, et al. “The Lazy Neuron Phenomenon.” arXiv, 12 Oct. 2022.",
     "Li, Zonglin, and Chong You. “The Lazy Neuron Phenomenon.” arXiv, 12 Oct. 2022."),
    ("nature", "1. Li, Z., You, C., et al. The Lazy Neuron Phenomenon. Preprint at (2022).",
     "1. Li, Z. & You, C. The Lazy Neuron Phenomenon. Preprint at (2022)."),
    ("association-for-computing-machinery", "[1] Zonglin Li, Chong You, et al. 2022. The Lazy Neuron Phenomenon.",
     "[1] Zonglin Li and Chong You. 2022. The Lazy Neuron Phenomenon."),
])
def test_cut_short_author_list_reads_as_cut_short_in_every_style(style, cut, full):
    record = {"id": "lazy", "type": "article", "title": "The Lazy Neuron Phenomenon", "publisher": "arXiv",
              "author": [{"family": "Li", "given": "Zonglin"}, {"family": "You", "given": "Chong"}],
              "issued": {"date-parts": [[2022, 10, 12]]}, "custom": {"authors_truncated": True}}
    assert _one(record, style) == cut
    assert _one({**record, "custom": {}}, style) == full


def test_outputs_markdown_and_latex():
    record = {**ARTICLE, "title": "Costs & benefits of 100% {braces} under $x_1$"}
    assert _one(record, "apa", "markdown") == (
        "Smith, A. (2020). Costs & benefits of 100% {braces} under *x*1. *Journal of Tests*, *3*.")
    assert _one(record, "apa", "latex") == (
        "Smith, A. (2020). Costs \\& benefits of 100\\% \\{braces\\} under $x_1$. \\emph{Journal of Tests}, \\emph{3}.")
    assert _one(record, "apa", "html") == (
        "Smith, A. (2020). Costs &amp; benefits of 100% {braces} under <i>x</i>1. <i>Journal of Tests</i>, <i>3</i>.")


@pytest.mark.parametrize("output, expected", [
    ("text", "O(n) Connections are Expressive Enough"),
    ("html", "<i>O</i>(<i>n</i>) Connections are Expressive Enough"),
    ("latex", "$O(n)$ Connections are Expressive Enough"),
    ("markdown", "*O*(*n*) Connections are Expressive Enough"),
])
def test_tex_math_in_titles_renders_per_output(output, expected):
    record = {**ARTICLE, "type": "article", "title": "$O(n)$ Connections are Expressive Enough"}
    entry = _one(record, "ieee", output)
    assert expected in entry
    if output in ("text", "html"):
        assert "$" not in entry and "\\" not in entry


def test_unsafe_math_is_typeset_as_text_in_latex():
    record = {**ARTICLE, "title": "Bad $\\input{/etc/passwd}$ math"}
    entry = _one(record, "apa", "latex")
    assert find_unsafe_tex(entry) == []
    assert "Bad \\$\\textbackslash{}input\\{/etc/passwd\\}\\$ math" in entry


HOSTILE = [
    "<script>alert(1)</script> Title",
    '<img src=x onerror="alert(1)"> Title',
    '<a href="javascript:alert(1)">click</a>',
    "</div><div onclick=alert(1)>",
    "<span style=\"background:url(x)\">s</span>",
    "\ue000forged marker\ue001",
]


@pytest.mark.parametrize("title", HOSTILE)
def test_html_escapes_every_character_of_data(title):
    record = {**ARTICLE, "title": title, "author": [{"family": "<b onmouseover=x>Evil", "given": "Eve"}]}
    html = bibsmith.write(_library(record), "html", style="apa")
    tags = re.findall(r"<[^>]*>", html)
    allowed = {"<i>", "</i>", "<b>", "</b>", "<sup>", "</sup>", "<sub>", "</sub>", "</div>", "</span>",
               '<div class="csl-bib-body">', '<div class="csl-entry">', '<span class="nocase">'}
    assert set(tags) <= allowed, tags
    assert "<img" not in html and "<script" not in html and "<a " not in html
    assert "\ue000" not in html


def test_html_keeps_csl_rich_text_tags_from_data():
    record = {**ARTICLE, "title": "On <i>in vivo</i> H<sub>2</sub>O and x<sup>2</sup>"}
    assert "On <i>in vivo</i> H<sub>2</sub>O and x<sup>2</sup>" in _one(record, "apa", "html")


@pytest.mark.parametrize("title", [
    "\\input{/etc/passwd}", "\\write18{rm -rf /}", "\\immediate\\write18{id}", "^^5cinput{x}",
    "\\catcode`\\@=0 @input x", "\\def\\x{y}\\x", "{unbalanced", "100% $\\write18{x}$",
])
def test_latex_title_cannot_run_commands(title):
    record = {**ARTICLE, "title": title}
    latex = bibsmith.write(_library(record), "latex", style="apa")
    assert find_unsafe_tex(latex) == []
    assert latex.count("{") - latex.count("\\{") == latex.count("}") - latex.count("\\}")


def test_latex_output_compiles(tmp_path):
    pdflatex = require_tool("pdflatex")
    records = [{**ARTICLE, "id": f"r{n}", "title": title} for n, title in enumerate(
        ["\\input{/etc/passwd} & 50% #1 $_x^y$ ~ {}", "Café über naïve 𝒩 μ — “quotes”", "$O(n \\log n)$ sorting"])]
    body = bibsmith.write(_library(*records), "latex", style="ieee")
    document = ("\\documentclass{article}\n\\usepackage[utf8]{inputenc}\n\\usepackage[T1]{fontenc}\n"
                "\\usepackage{textcomp}\n\\begin{document}\n" + body + "\\end{document}\n")
    (tmp_path / "refs.tex").write_text(document, encoding="utf-8")
    done = subprocess.run([pdflatex, "-interaction=nonstopmode", "-halt-on-error", "-no-shell-escape", "refs.tex"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout[-2000:]
    assert (tmp_path / "refs.pdf").exists()


def test_style_by_id_path_and_our_folder(tmp_path):
    path = formatted.style_path("apa")
    assert path.endswith("apa.csl")
    copy = tmp_path / "mine.csl"
    copy.write_text(Path(path).read_text(encoding="utf-8"), encoding="utf-8")
    assert _one(ARTICLE, str(copy)) == _one(ARTICLE, "apa") == "Smith, A. (2020). Journal of Tests, 3."



def test_style_in_our_styles_folder_comes_first(tmp_path, monkeypatch):
    (tmp_path / "apa.csl").write_text(Path(formatted.style_path("ieee")).read_text(encoding="utf-8"), encoding="utf-8")
    monkeypatch.setattr(formatted, "OUR_STYLES", tmp_path)
    assert formatted.style_path("apa") == str(tmp_path / "apa.csl")
    assert _one(ARTICLE, "apa").startswith("[1] A. Smith")


def test_unknown_style_and_locale_are_usage_errors(tmp_path):
    with pytest.raises(UsageError, match="unknown style 'no-such-style'; `bibsmith styles WORD` searches"):
        formatted.entries([ARTICLE], style="no-such-style")
    with pytest.raises(UsageError, match="style file 'missing.csl' does not exist"):
        formatted.entries([ARTICLE], style="missing.csl")
    broken = tmp_path / "broken.csl"
    broken.write_text("<style><bibliography>", encoding="utf-8")
    with pytest.raises(UsageError, match=f"style {broken} is not readable CSL: "):
        formatted.entries([ARTICLE], style=str(broken))
    with pytest.raises(UsageError, match="unknown locale 'xx-YY'"):
        formatted.entries([ARTICLE], style="apa", locale="xx-YY")


def test_locale_changes_terms():
    record = {**ARTICLE, "author": [{"family": "Smith", "given": "Ann"}, {"family": "Doe", "given": "Jo"}]}
    assert _one(record, "chicago-author-date", "text").startswith("Smith, Ann, and Jo Doe.")
    assert _one(record, "chicago-author-date", "text") != formatted.entries([record], "chicago-author-date", "de-DE")[0]
    assert formatted.entries([record], "chicago-author-date", "de-DE")[0].startswith("Smith, Ann, und Jo Doe.")


def test_each_style_is_parsed_once_per_process():
    engine.load_style.cache_clear()
    for n in range(3):
        formatted.entries([{**ARTICLE, "title": f"Title {n}"}], style="apa")
    info = engine.load_style.cache_info()
    assert (info.misses, info.hits) == (1, 2)


def test_the_same_bibliography_is_rendered_once_for_every_output():
    engine._RENDERED.clear()
    engine.load_style.cache_clear()
    first = formatted.entries([ARTICLE], style="apa", output="text")
    html = formatted.entries([ARTICLE], style="apa", output="html")
    assert engine.load_style.cache_info().misses == 1 and len(engine._RENDERED) == 1
    assert formatted.entries([ARTICLE], style="apa", output="text") == first and html != first
    formatted.entries([{**ARTICLE, "title": "Another"}], style="apa")
    assert len(engine._RENDERED) == 2


def test_list_styles_finds_ids_and_titles():
    found = dict(formatted.list_styles("chicago author-date"))
    assert found["chicago-author-date"] == "Chicago Manual of Style 18th edition (author-date)"
    assert formatted.list_styles("no such style anywhere") == []
    assert len(formatted.list_styles()) > 2000


def test_cli_styles_and_convert(sample_path):
    bibsmith_cli = [sys.executable, "-m", "bibsmith"]
    listed = subprocess.run([*bibsmith_cli, "styles", "nature"], capture_output=True, text=True, cwd=REPO)
    assert listed.returncode == 0
    assert "nature\tNature\n" in listed.stdout
    none = subprocess.run([*bibsmith_cli, "styles", "zzzz-no-style"], capture_output=True, text=True, cwd=REPO)
    assert (none.returncode, none.stderr) == (1, "bibsmith: no style matches 'zzzz-no-style'\n")
    done = subprocess.run([*bibsmith_cli, "convert", str(sample_path), "--to", "text", "--style", "ieee"],
                          capture_output=True, text=True, cwd=REPO)
    assert done.returncode == 0
    assert done.stdout == (GOLDEN / "ieee.txt").read_text(encoding="utf-8")
    bad = subprocess.run([*bibsmith_cli, "convert", str(sample_path), "--to", "text", "--style", "nope"],
                         capture_output=True, text=True, cwd=REPO)
    assert bad.returncode == 2
    assert bad.stderr.endswith("bibsmith: error: unknown style 'nope'; `bibsmith styles WORD` searches the available styles\n")


def test_records_without_title_or_author_are_reported():
    library = _library({"id": "empty", "type": "book", "issued": {"date-parts": [[2001]]}})
    report = Report()
    formatted.write(library, formatted.Options(style="apa"), report)
    assert [str(d) for d in report] == ["bibsmith: warning: record empty has neither title nor author"]


from hypothesis import given, settings, strategies as st  # noqa: E402

_TITLE_TEXT = st.text(st.characters(blacklist_categories=("Cs", "Cc", "Co"), blacklist_characters="$"), min_size=1,
                      max_size=40).filter(
    # Quotes become typographic, rich-text tags are markup, doubled punctuation is merged: not plain text.
    lambda t: t.strip() and not re.search(r"['\"<>]|[.,;:!?]\s*[.,;:!?]", t))


@settings(max_examples=60, deadline=None)
@given(title=_TITLE_TEXT)
def test_any_title_comes_back_as_its_text_from_html_and_never_runs_in_latex(title):
    from lxml import html as lxml_html

    record = {"id": "x", "type": "book", "title": title, "author": [{"family": "Smith", "given": "Ann"}],
              "issued": {"date-parts": [[2020]]}}
    page = bibsmith.write(_library(record), "html", style="ieee")
    shown = lxml_html.fromstring(page).text_content()
    assert " ".join(title.split()) in " ".join(shown.split())
    latex = bibsmith.write(_library(record), "latex", style="ieee")
    assert find_unsafe_tex(latex) == []

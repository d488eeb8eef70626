"""The CV: golden pages for the sample, the owner in bold everywhere, grouping, numbering, safety,
a real pdflatex compile and a real headless-Chromium load."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest
from lxml import html as lxml_html

import bibsmith
from bibsmith.diagnostics import Report
from bibsmith.library import Library
from bibsmith.text.texsafety import find_unsafe_tex
from bibsmith.writers import cv

from conftest import REPO, require_tool

GOLDEN = REPO / "tests" / "golden" / "cv"
UPDATE = os.environ.get("BIBSMITH_UPDATE_GOLDEN") == "1"
SUFFIX = {"html": "html", "markdown": "md", "latex": "tex", "text": "txt"}


@pytest.fixture(scope="module")
def sample(sample_path) -> Library:
    return bibsmith.read(str(sample_path))


def _cv(library: Library, **options) -> str:
    return bibsmith.write(library, "cv", **options)


def _library(records: list[dict], owner: str | None = "Ankit Singh Rawat") -> Library:
    library = Library()
    for record in records:
        library.add(record)
    if owner:
        library.metadata["owner"] = owner
    return library


def _paper(n: int, authors: list[tuple[str, str]], year: int = 2020, **extra) -> dict:
    return {"id": f"p{n}", "type": "article-journal", "title": f"Paper number {n}", "container-title": "J",
            "author": [{"given": g, "family": f} for g, f in authors], "issued": {"date-parts": [[year]]}, **extra}


@pytest.mark.parametrize("output", ["html", "markdown", "latex", "text"])
def test_sample_cv_golden(sample, output):
    text = _cv(sample, output=output)
    path = GOLDEN / f"cv.{SUFFIX[output]}"
    if UPDATE:
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8")


def _html_entries(page: str) -> list:
    return lxml_html.fromstring(page).xpath('//li[@class="entry"]')


def test_owner_is_bold_in_all_48_entries(sample):
    page = _cv(sample, output="html")
    entries = _html_entries(page)
    assert len(entries) == 48
    for entry in entries:
        bold = [b.text_content() for b in entry.xpath(".//b")]
        assert bold and all(re.fullmatch(r"Rawat, A\. S\.|A\. S\. Rawat", b) for b in bold), entry.text_content()
    markdown = _cv(sample, output="markdown")
    items = [line for line in markdown.splitlines() if re.match(r"\d+\. ", line)]
    assert len(items) == 48 and all("**Rawat, A. S.**" in i or "(incl. **A. S. Rawat**)" in i for i in items)
    latex = _cv(sample, output="latex")
    items = [line for line in latex.splitlines() if line.startswith("  \\item ")]
    assert len(items) == 48 and all("\\textbf{" in i for i in items)


def test_owner_hidden_in_et_al_is_still_named(sample):
    page = _cv(sample, output="html")
    (lazy,) = [e for e in _html_entries(page) if "Lazy Neuron" in e.text_content()]
    assert lazy.text_content().startswith("Li, Z., You, C., Bhojanapalli, S., et al. (incl. A. S. Rawat) (2022).")
    assert "(incl. <b>A. S. Rawat</b>)" in lxml_html.tostring(lazy, encoding="unicode")
    text = _cv(sample, output="text")
    assert "Li, Z., You, C., Bhojanapalli, S., et al. (incl. A. S. Rawat) (2022). The Lazy Neuron" in text


@pytest.mark.parametrize("given, family, bold", [
    ("Ankit Singh", "Rawat", True), ("A. S.", "Rawat", True), ("A.S.", "Rawat", True), ("Ankit", "Rawat", True),
    ("A.", "Rawat", True), ("Bharat", "Rawat", False), ("Ankit Singh", "Rawatson", False),
])
def test_name_variants_and_initials_match(given, family, bold):
    library = _library([_paper(1, [("Jane", "Doe"), (given, family)])], owner=None)
    page = _cv(library, output="html", style="chicago-author-date", highlight=("Ankit Singh Rawat",))
    (entry,) = _html_entries(page)
    assert bool(entry.xpath(".//b")) is bold
    apa = _cv(library, output="markdown", highlight=("Ankit Singh Rawat",))
    assert ("**" in apa) is bold


def test_highlight_adds_aliases(sample):
    page = _cv(sample, output="html", highlight=("Manzil Zaheer",))
    bold = {b.text_content() for e in _html_entries(page) for b in e.xpath(".//b")}
    assert bold == {"Rawat, A. S.", "A. S. Rawat", "Zaheer, M."}


def test_years_newest_first_numbering_continuous_or_restarting(sample):
    page = lxml_html.fromstring(_cv(sample, output="html"))
    years = [h.text for h in page.xpath("//h2")]
    assert years == ["2025", "2024", "2023", "2022", "2021", "2020", "2019", "2018", "2017", "2016"]
    numbers = [int(li.get("value")) for li in page.xpath('//li[@class="entry"]')]
    assert numbers == list(range(1, 49))
    restarted = lxml_html.fromstring(_cv(sample, output="html", restart_numbering=True))
    firsts = [int(s.xpath('.//li[@class="entry"]')[0].get("value")) for s in restarted.xpath('//section')]
    assert firsts == [1] * 10
    assert [int(ol.get("start")) for ol in restarted.xpath("//ol")] == [1] * 10


def test_group_by_type_and_none():
    library = _library([
        _paper(1, [("Ankit Singh", "Rawat")], 2019),
        _paper(2, [("Ankit Singh", "Rawat")], 2021, type="paper-conference"),
        _paper(3, [("Ankit Singh", "Rawat")], 2020, type="article", publisher="arXiv", genre="Preprint"),
    ])
    text = _cv(library, output="text", group_by="type")
    assert re.findall(r"^(\w[\w ]+)\n-+$", text, re.M) == ["Journal articles", "Conference papers", "Preprints"]
    flat = _cv(library, output="markdown", group_by="none")
    assert "## " not in flat
    assert re.findall(r"^(\d+)\. ", flat, re.M) == ["1", "2", "3"]
    assert flat.index("Paper number 2") < flat.index("Paper number 3") < flat.index("Paper number 1")


def test_abstracts_hidden_by_default_and_clickable_when_asked(sample):
    assert "<details" not in _cv(sample, output="html")
    page = lxml_html.fromstring(_cv(sample, output="html", abstracts=True))
    details = page.xpath("//details")
    with_abstract = sum(1 for r in sample.records if r.get("abstract"))
    assert len(details) == with_abstract > 40
    assert all(d.get("open") is None and d.xpath("./summary")[0].text == "Abstract" for d in details)
    assert "$" not in "".join(d.text_content() for d in details)


def test_html_stays_safe_with_markup_in_titles_and_names():
    library = _library([_paper(1, [("Ankit Singh", "Rawat"), ("<img src=x onerror=alert(1)>", "Evil")],
                               title="<script>alert(1)</script><img src=x onerror=alert(2)>",
                               abstract="<iframe src=javascript:alert(3)>")],
                       owner="Ankit <b>Singh</b> Rawat")
    page = _cv(library, output="html", abstracts=True)
    tree = lxml_html.fromstring(page)
    assert tree.xpath("//script | //img | //iframe | //*[@onerror]") == []
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_latex_cannot_run_commands_from_data():
    library = _library([_paper(1, [("Ankit Singh", "Rawat")], title="\\input{/etc/passwd} \\write18{x}",
                               abstract="\\immediate\\write18{rm}")], owner="Ankit Singh Rawat")
    latex = _cv(library, output="latex", abstracts=True)
    assert find_unsafe_tex(latex) == []


def test_latex_cv_compiles_with_pdflatex(sample, tmp_path):
    pdflatex = require_tool("pdflatex")
    (tmp_path / "cv.tex").write_text(_cv(sample, output="latex", abstracts=True), encoding="utf-8")
    (tmp_path / "main.tex").write_text(
        "\\documentclass{article}\n\\usepackage[utf8]{inputenc}\n\\begin{document}\n\\input{cv.tex}\n\\end{document}\n",
        encoding="utf-8")
    done = subprocess.run([pdflatex, "-interaction=nonstopmode", "-halt-on-error", "-no-shell-escape", "main.tex"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stdout[-3000:]
    assert "Output written on main.pdf" in done.stdout


def _chromium(url: str, tmp_path) -> tuple[str, list[str]]:
    """The DOM after loading, and the console messages, from headless Chromium."""
    chromium = require_tool("chromium")
    done = subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--enable-logging=stderr",
                           "--v=0", f"--user-data-dir={tmp_path / 'profile'}", "--dump-dom", url],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout, [line for line in done.stderr.splitlines() if ":CONSOLE" in line]


def test_console_check_sees_errors(tmp_path):
    bad = tmp_path / "bad.html"
    bad.write_text('<!DOCTYPE html><p>x</p><script>console.error("boom"); nope();</script>', encoding="utf-8")
    _, console = _chromium(bad.as_uri(), tmp_path)
    assert len(console) == 2 and '"boom"' in console[0] and "ReferenceError" in console[1]


def test_html_cv_opens_in_chromium_without_console_errors(sample, tmp_path):
    page = tmp_path / "cv.html"
    page.write_text(_cv(sample, output="html", abstracts=True), encoding="utf-8")
    dom, console = _chromium(page.as_uri(), tmp_path)
    assert console == []
    tree = lxml_html.fromstring(dom)
    assert len(tree.xpath('//li[@class="entry"]')) == 48
    assert len(tree.xpath("//h2")) == 10
    assert tree.xpath("//h1")[0].text == "Ankit Singh Rawat"
    assert [s.text for s in tree.xpath('//p[@class="counts"]/span')] == [
        "48 papers", "6,949 citations", "h-index 117", "novelty 57%", "AI score 48", "primary category cs.LG"]
    assert len(tree.xpath("//li//b")) == 48


def test_any_style_works_and_numbers_are_ours(sample):
    text = _cv(sample, output="text", style="ieee")
    first = next(line for line in text.splitlines() if line.startswith("1. "))
    assert first.startswith("1. V. Vakilian, Z. Wang, A. S. Rawat, et al., “Short-Context Dominance")
    assert "[1]" not in text


def test_no_owner_is_reported_not_guessed():
    library = _library([_paper(1, [("Jane", "Doe")])], owner=None)
    report = Report()
    out = cv.write(library, cv.Options(output="text"), report)
    assert out.startswith("Publications\n============\n")
    assert [str(d) for d in report] == [
        "bibsmith: warning: no owner name in the input (a profile names one); use --highlight NAME to bold it"]


def test_cli_cv_and_export(sample_path, tmp_path):
    run = [sys.executable, "-m", "bibsmith"]
    done = subprocess.run([*run, "cv", str(sample_path), "--to", "markdown"], capture_output=True, text=True, cwd=REPO)
    assert done.returncode == 0, done.stderr
    assert done.stdout == (GOLDEN / "cv.md").read_text(encoding="utf-8")
    out = tmp_path / "out"
    done = subprocess.run([*run, "export", str(sample_path), "--dir", str(out)], capture_output=True, text=True, cwd=REPO)
    assert done.returncode == 0, done.stderr
    assert (out / "cv.html").read_text(encoding="utf-8") == (GOLDEN / "cv.html").read_text(encoding="utf-8")
    assert (out / "cv.md").read_text(encoding="utf-8") == (GOLDEN / "cv.md").read_text(encoding="utf-8")


def _particle_paper(n: int, authors: list[dict], **extra) -> dict:
    return {"id": f"v{n}", "type": "article-journal", "title": f"Paper number {n}", "container-title": "J",
            "author": authors, "issued": {"date-parts": [[2020]]}, **extra}


_OORD = {"given": "Aäron", "non-dropping-particle": "van den", "family": "Oord"}
_DOE = {"given": "Jane", "family": "Doe"}


@pytest.mark.parametrize("style, first, later", [
    ("apa", "van den Oord, A.", "van den Oord, A."),      # family first, particle in front
    ("ieee", "A. van den Oord", "A. van den Oord"),       # given first
    ("chicago-author-date", "Oord, Aäron van den", "Aäron van den Oord"),  # particle demoted after the given name
    ("modern-language-association", "van den Oord, Aäron", "Aäron van den Oord"),
])
def test_owner_with_particle_is_bold_as_printed(style, first, later):
    library = _library([_particle_paper(1, [_OORD, _DOE]), _particle_paper(2, [_DOE, _OORD])], owner="Aäron van den Oord")
    page = _cv(library, output="html", style=style)
    bold = {e.text_content(): [b.text_content() for b in e.xpath(".//b")] for e in _html_entries(page)}
    assert sorted(bold.values()) == sorted([[first], [later]]), bold
    markdown = _cv(library, output="markdown", style=style)
    assert f"**{first}**" in markdown and f"**{later}**" in markdown and "den **" not in markdown
    latex = _cv(library, output="latex", style=style)
    assert "\\textbf{" + cv.escape(first, "latex") + "}" in latex and "\\textbf{" + cv.escape(later, "latex") + "}" in latex


def test_particle_owner_hidden_in_et_al_is_named_with_particle():
    record = _particle_paper(1, [_DOE, {"given": "Max", "family": "Muster"}], custom={"authors_truncated": True})
    library = _library([record], owner="Aäron van den Oord")
    text = _cv(library, output="text", style="apa")
    assert "et al. (incl. A. van den Oord) (2020)." in text
    # A style that sets "et al." in italics: the note follows it, outside the italics.
    markdown = _cv(library, output="markdown", style="nature")
    assert "*et al.* (incl. **A. van den Oord**)" in markdown


def test_particle_in_highlight_alias_and_capitalized_at_entry_start():
    assert cv.initials("Aäron", "Oord", "van den") == "A. van den Oord"
    pattern = re.compile(cv.name_pattern("Aäron", "Oord", "van den"))
    assert pattern.search("Van den Oord, A., Doe, J.").group(0) == "Van den Oord, A."
    assert pattern.search("Doe, J., & Oord, A. (2020)").group(0) == "Oord, A."  # a source that drops the particle
    library = _library([_particle_paper(1, [_OORD, _DOE])], owner=None)
    assert "**van den Oord, A.**" in _cv(library, output="markdown", highlight=("Oord, Aäron van den",))

"""Real TeX runs: our .bib must compile with pdflatex + bibtex (plain, IEEEtran) and biblatex + biber,
with zero errors, zero warnings and every entry printed."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

import bibsmith
from bibsmith.library import Library
from conftest import REPO, require_tex_file, require_tool

FIXTURES = REPO / "tests" / "fixtures" / "bibtex"

BIBTEX_DOC = r"""\documentclass{article}
\usepackage[T1]{fontenc}
\usepackage{url}
\begin{document}
\nocite{*}
\bibliographystyle{%s}
\bibliography{refs}
\end{document}
"""

BIBLATEX_DOC = r"""\documentclass{article}
\usepackage[T1]{fontenc}
\usepackage[backend=biber]{biblatex}
\addbibresource{refs.bib}
\begin{document}
\nocite{*}
\printbibliography
\end{document}
"""


def _run(args: list[str], cwd: Path) -> None:
    # Exit codes are not trusted alone: the logs are read below, where the messages are.
    subprocess.run(args, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=300, check=False)


def _latex_problems(log: str) -> list[str]:
    lines = log.splitlines()
    return [line for line in lines if line.startswith("!") or re.search(r"\bWarning\b", line)
            and "infwarerr" not in line]


def compile_bibtex(directory: Path, bib: str, style: str, doc: str | None = None) -> tuple[str, str, str]:
    """pdflatex, bibtex, pdflatex x2; returns the .bbl, .blg and final .log texts."""
    require_tool("pdflatex")
    require_tool("bibtex")
    for package in ("article.cls", "t1enc.def", "url.sty", f"{style}.bst"):
        require_tex_file(package)
    (directory / "refs.bib").write_text(bib, encoding="utf-8")
    (directory / "doc.tex").write_text(doc or BIBTEX_DOC % style, encoding="utf-8")
    latex = ["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "doc.tex"]
    _run(latex, directory)
    _run(["bibtex", "doc"], directory)
    _run(latex, directory)
    _run(latex, directory)
    read = lambda name: (directory / name).read_text(encoding="latin-1")
    return read("doc.bbl"), read("doc.blg"), read("doc.log")


def compile_biblatex(directory: Path, bib: str, doc: str | None = None, safechars: bool = True) -> tuple[str, str, str]:
    """pdflatex, biber, pdflatex x2; returns the .bbl, .blg and final .log texts."""
    require_tool("pdflatex")
    require_tool("biber")
    for package in ("article.cls", "t1enc.def", "biblatex.sty"):
        require_tex_file(package)
    (directory / "refs.bib").write_text(bib, encoding="utf-8")
    (directory / "doc.tex").write_text(doc or BIBLATEX_DOC, encoding="utf-8")
    latex = ["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "doc.tex"]
    _run(latex, directory)
    # biblatex output is UTF-8; pdfLaTeX's T1 fonts lack Vietnamese letters such as "ị", so biber
    # writes them as accent macros, as a pdfLaTeX user would ask it to (README: BibLaTeX).
    _run(["biber", *(["--output-safechars"] if safechars else []), "doc"], directory)
    _run(latex, directory)
    _run(latex, directory)
    read = lambda name: (directory / name).read_text(encoding="utf-8")
    return read("doc.bbl"), read("doc.blg"), read("doc.log")


def _sample() -> Library:
    (path,) = sorted((REPO / "data").glob("*.txt"))
    return bibsmith.read(path)


def _hard_cases() -> Library:
    library = Library()
    for record in json.loads((FIXTURES / "hard-cases.json").read_text(encoding="utf-8")):
        library.add(record)
    return library


LIBRARIES = {"sample": _sample, "hard-cases": _hard_cases}


@pytest.mark.parametrize("style", ["plain", "IEEEtran"])
@pytest.mark.parametrize("which", list(LIBRARIES))
def test_bibtex_output_compiles_cleanly(tmp_path: Path, which: str, style: str) -> None:
    library = LIBRARIES[which]()
    bib = bibsmith.write(library, "bibtex")
    assert bib.isascii()
    bbl, blg, log = compile_bibtex(tmp_path, bib, style)
    assert re.findall(r"\\bibitem(?:\[[^\]]*\])?\{([^}]*)\}", bbl) and sorted(
        re.findall(r"\\bibitem(?:\[[^\]]*\])?\{([^}]*)\}", bbl)) == sorted(r["id"] for r in library.records)
    assert "Warning--" not in blg and "error message" not in blg, blg
    assert re.search(r"\(There (were|was) \d+ (error|warning)", blg) is None, blg
    assert _latex_problems(log) == []
    assert (tmp_path / "doc.pdf").exists()


@pytest.mark.parametrize("which", list(LIBRARIES))
def test_biblatex_output_compiles_cleanly_with_biber(tmp_path: Path, which: str) -> None:
    library = LIBRARIES[which]()
    bbl, blg, log = compile_biblatex(tmp_path, bibsmith.write(library, "biblatex"))
    assert sorted(re.findall(r"\\entry\{([^}]*)\}", bbl)) == sorted(r["id"] for r in library.records)
    assert re.findall(r"^.*\b(WARN|ERROR)\b.*$", blg, re.M) == []
    assert _latex_problems(log) == []
    assert (tmp_path / "doc.pdf").exists()


def test_hard_cases_print_their_letters(tmp_path: Path) -> None:
    # The stacked accents reach the .bbl as the commands we wrote, inside one brace group each.
    bbl, _, _ = compile_bibtex(tmp_path, bibsmith.write(_hard_cases(), "bibtex"), "plain")
    assert r"Nguy{\~{\^{e}}}n" in bbl
    assert r"Vi{\^{\d{e}}}t" in bbl
    assert r"\$5 and 50\% more" not in bbl  # plain prints no abstracts
    assert r"{$O(n \log n)$}" in bbl

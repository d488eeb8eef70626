"""The one visible list of formats: name -> reader or writer module, file suffixes, content sniffing.

Adding a format is one module plus one line here. Modules are imported only when used, so that
`bibsmith --help` starts fast.
"""

from __future__ import annotations

import dataclasses
import importlib
import re
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any, Callable

from .diagnostics import UsageError


@dataclass(frozen=True)
class Reader:
    name: str
    module: str
    suffixes: tuple[str, ...]
    sniff: Callable[[str], bool]
    description: str


@dataclass(frozen=True)
class Writer:
    name: str
    module: str
    suffix: str
    description: str
    fixed: dict[str, Any] = field(default_factory=dict)  # options this name implies (e.g. dialect)


def _looks_like_profile(text: str) -> bool:
    return bool(re.search(r"^\s*\d[\d,]*\s+Papers\s*$", text, re.M)) or bool(
        re.search(r"^[A-Z]{2,3}[A-Z][a-z]{2,8}\.?\s*\d{1,2},\s*\d{4}\s*$", text, re.M)
    )


def _looks_like_bibtex(text: str) -> bool:
    return bool(re.search(r"^\s*@\s*[A-Za-z]+\s*[{(]", text, re.M))


def _looks_like_ris(text: str) -> bool:
    return bool(re.search(r"^\s*TY\s{1,2}-", text, re.M))


def _looks_like_csljson(text: str) -> bool:
    return text.lstrip().startswith(("[", "{"))


def _looks_like_orcid(text: str) -> bool:
    head = text.lstrip()[:2000]
    return head.startswith("<") and "orcid.org/ns" in head


READERS: dict[str, Reader] = {
    r.name: r
    for r in [
        Reader("profile", "bibsmith.readers.profile", (".txt",), _looks_like_profile, "paper-site profile page (text)"),
        Reader("bibtex", "bibsmith.readers.bibtex", (".bib", ".bibtex", ".biblatex"), _looks_like_bibtex, "BibTeX or BibLaTeX"),
        Reader("ris", "bibsmith.readers.ris", (".ris",), _looks_like_ris, "RIS (2001 and 2011 tag sets)"),
        Reader("csl-json", "bibsmith.readers.csljson", (".json", ".csljson"), _looks_like_csljson, "CSL-JSON (Zotero, pandoc)"),
        Reader("orcid", "bibsmith.readers.orcid", (".xml",), _looks_like_orcid, "ORCID 3.0 works XML"),
    ]
}

# Sniffing order: the most specific formats first.
_SNIFF_ORDER = ["orcid", "csl-json", "ris", "bibtex", "profile"]

WRITERS: dict[str, Writer] = {
    w.name: w
    for w in [
        Writer("csl-json", "bibsmith.writers.csljson", ".json", "CSL-JSON"),
        Writer("bibtex", "bibsmith.writers.bibtex", ".bib", "BibTeX (ASCII, pdfLaTeX-safe)", {"dialect": "bibtex"}),
        Writer("biblatex", "bibsmith.writers.bibtex", ".bib", "BibLaTeX (UTF-8, for biber)", {"dialect": "biblatex"}),
        Writer("ris", "bibsmith.writers.ris", ".ris", "RIS"),
        Writer("orcid", "bibsmith.writers.orcid", ".xml", "ORCID 3.0 bulk works XML"),
        Writer("text", "bibsmith.writers.formatted", ".txt", "formatted reference list, plain text", {"output": "text"}),
        Writer("html", "bibsmith.writers.formatted", ".html", "formatted reference list, HTML", {"output": "html"}),
        Writer("markdown", "bibsmith.writers.formatted", ".md", "formatted reference list, Markdown", {"output": "markdown"}),
        Writer("latex", "bibsmith.writers.formatted", ".tex", "formatted reference list, LaTeX", {"output": "latex"}),
        Writer("cv", "bibsmith.writers.cv", ".html", "publication-list CV (html, markdown, latex, text)"),
    ]
}


def reader_for(name: str) -> Reader:
    """The reader registered under `name`; a UsageError names the choices otherwise."""
    try:
        return READERS[name]
    except KeyError:
        raise UsageError(f"unknown input format {name!r}; choose one of: {', '.join(READERS)}") from None


def writer_for(name: str) -> Writer:
    """The writer registered under `name`; a UsageError names the choices otherwise."""
    try:
        return WRITERS[name]
    except KeyError:
        raise UsageError(f"unknown output format {name!r}; choose one of: {', '.join(WRITERS)}") from None


def detect(path: str, text: str) -> str | None:
    """The input format of a file: by suffix first, then by content; None when nothing fits."""
    lowered = path.lower()
    for reader in READERS.values():
        if lowered.endswith(reader.suffixes) and reader.sniff(text):
            return reader.name
    for name in _SNIFF_ORDER:
        if READERS[name].sniff(text):
            return name
    return None


def load(module: str) -> ModuleType:
    """Import a reader or writer module on first use."""
    return importlib.import_module(module)


def writer_options(name: str, **values: Any) -> Any:
    """Build the writer's own frozen Options dataclass from a bag of option values.

    Values the writer does not know are ignored, so the CLI and the API can pass every option they
    have; values of None mean "the writer's default".
    """
    writer = writer_for(name)
    options_class = load(writer.module).Options
    known = {f.name for f in dataclasses.fields(options_class)}
    given = {k: v for k, v in {**values, **writer.fixed}.items() if k in known and v is not None}
    return options_class(**given)


# What `bibsmith export` writes: (writer, file name); "{style}" is filled in once per requested style.
EXPORTS: list[tuple[str, str]] = [
    ("csl-json", "references.json"),
    ("bibtex", "references.bib"),
    ("biblatex", "references-biblatex.bib"),
    ("ris", "references.ris"),
    ("orcid", "orcid-works.xml"),
    ("text", "references-{style}.txt"),
    ("html", "references-{style}.html"),
    ("markdown", "references-{style}.md"),
    ("latex", "references-{style}.tex"),
    ("cv", "cv.html"),
    ("cv:markdown", "cv.md"),
]

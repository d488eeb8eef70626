"""Load CSL styles once per process and render bibliographies with citeproc-py, plus our fixes.

citeproc-py builds its element classes from `CitationStylesElement.__subclasses__()` by tag name; we
parse styles with the same lookup but with our subclasses (bibtool.csl.fixes) in place of the
faulty ones, so citeproc-py itself is left untouched for anyone else in the process.
"""

from __future__ import annotations

import threading
from functools import lru_cache
from typing import Any

from citeproc import CitationStylesBibliography, model
from citeproc.frontend import CitationStylesXML
from citeproc.source import Citation, CitationItem
from lxml import etree

from bibtool.csl import fixes, marks, source

_LOCK = threading.Lock()  # a parsed style holds per-render state (formatter, repressed variables)


class _Formatter:
    """citeproc-py formatter that writes our private-use markers instead of HTML tags."""

    @staticmethod
    def preformat(text: str) -> str:
        return text

    Italic = Oblique = staticmethod(lambda text: marks.wrap("i", text))
    Bold = staticmethod(lambda text: marks.wrap("b", text))
    Light = staticmethod(lambda text: text)
    Underline = staticmethod(lambda text: marks.wrap("u", text))
    Superscript = staticmethod(lambda text: marks.wrap("sup", text))
    Subscript = staticmethod(lambda text: marks.wrap("sub", text))
    SmallCaps = staticmethod(lambda text: marks.wrap("sc", text))


def _lookup() -> etree.ElementNamespaceClassLookup:
    lookup = etree.ElementNamespaceClassLookup()
    namespace = lookup.get_namespace("http://purl.org/net/xbiblio/csl")
    namespace[None] = model.CitationStylesElement
    classes = {cls.__name__.replace("_", "-").lower(): cls for cls in model.CitationStylesElement.__subclasses__()}
    classes.update(fixes.ELEMENTS)
    namespace.update(classes)
    return lookup


class _Style(CitationStylesXML):
    """A parsed style with our element classes (validation off: styles in the wild often fail it)."""

    def __init__(self, path: str, locale: str):
        parser = etree.XMLParser(remove_comments=True, encoding="UTF-8", no_network=True)
        parser.set_element_class_lookup(_lookup())
        self.xml = etree.parse(path, parser)
        self.root = self.xml.getroot()
        try:
            self.root.set_locale_list(locale, validate=False)
        except ValueError as exc:
            from bibtool.diagnostics import UsageError

            raise UsageError(f"unknown locale {locale!r}") from exc


@lru_cache(maxsize=32)
def load_style(path: str, locale: str) -> _Style:
    """Parse a style once per process (parsing APA takes longer than rendering 100 entries)."""
    return _Style(path, locale)


class _Bibliography(CitationStylesBibliography):
    """Fix: register() and CitationItem.number are quadratic (list lookups); we index once."""

    def __init__(self, style: _Style, refs: source.Source):
        self.style = style
        self.source = refs
        self.formatter = style.root.formatter = _Formatter
        self.items = []
        for key in refs:
            item = CitationItem(key)
            Citation([item]).bibliography = self
            self.items.append(item)
        self.keys = [item.key for item in self.items]
        self.numbers = {key: n for n, key in enumerate(self.keys, 1)}


def render_bibliography(items: list[dict[str, Any]], path: str, locale: str) -> list[str]:
    """The entries (in marker text, see bibtool.csl.marks), in the style's order."""
    refs = source.Source(items)
    style = load_style(path, locale)
    with _LOCK:
        bibliography = _Bibliography(style, refs)
        if style.root.bibliography is None:
            from bibtool.diagnostics import UsageError

            raise UsageError(f"style {path} has no bibliography layout")
        bibliography.sort()
        bibliography.numbers = {key: n for n, key in enumerate(bibliography.keys, 1)}
        rendered = fixes.render_entries(style, bibliography)
    return rendered

"""Load CSL styles once per process and render bibliographies with citeproc-py, plus our fixes.

citeproc-py builds its element classes from `CitationStylesElement.__subclasses__()` by tag name; we
parse styles with the same lookup but with our subclasses (bibsmith.csl.fixes) in place of the
faulty ones, so citeproc-py itself is left untouched for anyone else in the process.
"""

from __future__ import annotations

import threading
from collections import Counter
from functools import lru_cache
from typing import Any

import json
import os

from citeproc import LOCALES_PATH, PRIMARY_DIALECTS, CitationStylesBibliography, model
from citeproc.frontend import CitationStylesStyle
from citeproc.source import Citation, CitationItem, VariableError
from citeproc.string import join
from lxml import etree

from bibsmith.csl import fixes, marks, parallel, post, source, speed
from bibsmith.diagnostics import UsageError

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


class _Fast:
    """Speed: macros, locale terms and XPath answers were looked up on every use (a third of the run
    time); they are cached on the elements, which the style keeps alive (lxml forgets the Python
    attributes of an element proxy nobody holds)."""

    def xpath_search(self, expression):
        # Styles do not change once parsed, so an element's XPath answers do not either.
        cache = self.__dict__.setdefault("xpath_cache", {})
        if expression not in cache:
            cache[expression] = super().xpath_search(expression)
        return cache[expression]

    def get_macro(self, name):
        cache = self.get_root().__dict__.setdefault("macro_cache", {})
        if name not in cache:
            cache[name] = super().get_macro(name)
        return cache[name]


class _Locale(_Fast, model.Locale):
    def get_term(self, name, form=None, zero_padded=False):
        cache = self.__dict__.setdefault("term_cache", {})
        key = (name, form, zero_padded)
        if key not in cache:
            try:
                cache[key] = super().get_term(name, form, zero_padded)
            except IndexError:
                cache[key] = None
        if cache[key] is None:
            raise IndexError(name)
        return cache[key]


@lru_cache(maxsize=1)
def _lookup() -> etree.ElementNamespaceClassLookup:
    lookup = etree.ElementNamespaceClassLookup()
    namespace = lookup.get_namespace("http://purl.org/net/xbiblio/csl")
    classes = {cls.__name__.replace("_", "-").lower(): cls for cls in model.CitationStylesElement.__subclasses__()
               if cls.__module__ == model.__name__}
    classes.update(fixes.ELEMENTS)
    fast = {} if speed.simple() else speed.MIXINS
    namespace.update({tag: type(cls.__name__, _bases(fast.get(tag)) + (cls,), {}) for tag, cls in classes.items()})
    namespace[None] = type("Element", _bases(None) + (model.CitationStylesElement,), {})
    namespace["locale"] = _Locale
    return lookup


def _bases(mixin: type | None) -> tuple[type, ...]:
    if speed.simple():
        return (_Fast,)
    return (mixin, speed.Element, _Fast) if mixin else (speed.Element, _Fast)


def _parse(path: str):
    parser = etree.XMLParser(remove_comments=True, encoding="UTF-8", no_network=True)
    parser.set_element_class_lookup(_lookup())
    return etree.parse(path, parser)


def _locale_file(locale: str) -> str:
    path = os.path.join(LOCALES_PATH, f"locales-{locale}.xml")
    if not os.path.exists(path):
        raise UsageError(f"unknown locale {locale!r}; e.g. en-US, en-GB, de-DE, fr-FR")
    return path


class _Style(CitationStylesStyle):
    """A parsed style with our element classes (validation off: styles in the wild often fail it)."""

    def __init__(self, path: str, locale: str):
        try:
            self.xml = _parse(path)
        except etree.XMLSyntaxError as exc:
            raise UsageError(f"style {path} is not readable CSL: {exc}") from None
        self.root = self.xml.getroot()
        self._set_locales(locale)
        # Fix: citeproc-py gives a <names> without <name> a default element of its own class, which
        # misses our name fixes; we add ours up front (those inside <substitute> inherit, see fixes).
        ns = "{http://purl.org/net/xbiblio/csl}"
        for names in self.root.iter(f"{ns}names"):
            if names.find(f"{ns}name") is None and names.getparent().tag != f"{ns}substitute" \
                    and not names.xpath_search("./ancestor::cs:substitute"):
                names.insert(0, names.makeelement(f"{ns}name"))
        self.elements = list(self.root.iter()) + [e for loc in self.root.locales for e in loc.iter()]

    def _set_locales(self, locale: str) -> None:
        """Fix: citeproc-py parses locale files with its own classes, so our fixes (date ranges) never
        reached the locale's date formats; we parse them with ours. Order as in CSL 1.0.2 §locale."""
        root = self.root
        language = locale.split("-")[0]
        root.locales = []
        for lang in (locale, language, None):
            expr = f'./cs:locale[@xml:lang="{lang}"]' if lang else "./cs:locale[not(@xml:lang)]"
            root.locales.extend(root.xpath_search(expr))
        files = [_locale_file(locale)]
        if language in PRIMARY_DIALECTS:
            files.append(_locale_file(PRIMARY_DIALECTS[language]))
        files.append(_locale_file("en-US"))
        for file in dict.fromkeys(files):
            root.locales.append(_parse(file).getroot())
        for element in root.locales:
            element.style = root


@lru_cache(maxsize=32)
def load_style(path: str, locale: str) -> _Style:
    """Parse a style once per process (parsing APA takes longer than rendering 100 entries)."""
    return _Style(path, locale)


class _Item(CitationItem):
    """Fix: CitationItem.number searches the key list for every entry (quadratic). Speed: the
    reference and bibliography, looked up through three properties a hundred times per entry, are kept,
    and the key is read without the two calls of CustomDict's attribute lookup."""

    @property
    def key(self) -> str:
        return dict.__getitem__(self, "key")

    @property
    def number(self) -> int:
        return dict.__getitem__(self, "_bibliography").numbers[self.key]

    @property
    def bibliography(self):
        return dict.__getitem__(self, "_bibliography")

    @property
    def reference(self):
        return dict.__getitem__(self, "_reference")


class _Bibliography(CitationStylesBibliography):
    """Fix: register() and CitationItem.number are quadratic (list lookups); we index once."""

    def __init__(self, style: _Style, refs: source.Source):
        self.style = style
        self.source = refs
        self.formatter = style.root.formatter = _Formatter
        self.items = []
        for key in refs:
            item = _Item(key)
            Citation([item]).bibliography = self
            dict.__setitem__(item, "_bibliography", self)
            dict.__setitem__(item, "_reference", refs[key])
            self.items.append(item)
        self.keys = [item.key for item in self.items]
        self.numbers = {key: n for n, key in enumerate(self.keys, 1)}
        self.names_shown: dict[str, int] = {}


_RENDERED: dict[tuple[str, str, str], tuple[list[str], list[str], list[int]]] = {}


def render_bibliography(items: list[dict[str, Any]], path: str, locale: str) -> tuple[list[str], list[str], list[int]]:
    """The entries (in marker text, see bibsmith.csl.marks) in the style's order, the math they point
    to, and for each entry the index of its item.

    The main job renders one bibliography for text, HTML, Markdown, LaTeX and the CV: the last few
    renderings are kept, keyed by the items' content, style and locale.
    """
    key = (json.dumps(items, sort_keys=True, ensure_ascii=False, default=str), path, locale)
    if key not in _RENDERED:
        if len(_RENDERED) >= 4:
            _RENDERED.pop(next(iter(_RENDERED)))
        _RENDERED[key] = _render(items, path, locale)
    rendered, maths, order = _RENDERED[key]
    return list(rendered), list(maths), list(order)


def _render(items: list[dict[str, Any]], path: str, locale: str) -> tuple[list[str], list[str], list[int]]:
    refs = source.Source(items)
    style = load_style(path, locale)
    with _LOCK:
        bibliography = _Bibliography(style, refs)
        if style.root.bibliography is None:
            raise UsageError(f"style {path} has no bibliography layout")
        fixes.reset()
        # Items rendered apart (on several cores) must not see what was rendered before them.
        workers = parallel.workers(len(bibliography.items)) if speed.items_independent(style.root) else 1
        try:
            citations = _before_sorting(style, bibliography, workers) if workers > 1 else None
            bibliography.sort()
        finally:  # kept sort keys belong to these items only
            for key in style.root.iter("{http://purl.org/net/xbiblio/csl}key"):
                if hasattr(type(key), "forget_sort_keys"):
                    key.forget_sort_keys()
        bibliography.numbers = {key: n for n, key in enumerate(bibliography.keys, 1)}
        _add_year_suffixes(style, bibliography, citations)
        bibliography.names_shown = _names_to_show(style, bibliography)
        rendered = _render_entries(style, bibliography, workers)
        order = [int(item.key[1:]) for item in bibliography.items]
    return rendered, refs.maths, order


def _before_sorting(style: _Style, bibliography: _Bibliography, workers: int) -> dict[str, str | None] | None:
    """Speed: what each item needs before the order is known, on every core: its first sort key (kept
    on the cs:key for the sort to take; later keys are needed for ties only, see speed.Sort) and, where
    year suffixes are added, its citation text (returned; None where the citation cannot be known
    before numbering, see _add_year_suffixes)."""
    root = style.root
    layout = root.bibliography.layout
    sort = root.bibliography.find("cs:sort", root.nsmap)  # as model.Layout.sort_bibliography
    keys = list(sort.findall("cs:key", root.nsmap))[:1] if sort is not None else []
    # A citation that may print citation-number needs the order first: its text is made after the sort.
    citations = _wants_year_suffixes(style) and not root.xpath_search('//@*[contains(., "citation-number")]')
    if not keys and not citations:
        return None

    candidates = {item.key for item in _suffix_candidates(style, bibliography.items)} if citations else set()

    def work(items):
        items = list(items)
        sort_keys = {item.key: value for key in keys for item, value in zip(items, key.sort_keys(items, layout))}
        texts = _citation_texts(style, [item for item in items if item.key in candidates]) if citations else None
        return sort_keys, texts

    results = parallel.run(work, parallel.chunks(bibliography.items, workers))
    for key in keys:
        key.keep_sort_keys({k: v for sort_keys, _ in results for k, v in sort_keys.items()})
    return {k: v for _, texts in results for k, v in texts.items()} if citations else None


def _wants_year_suffixes(style: _Style) -> bool:
    citation = style.root.citation
    return citation is not None and citation.get("disambiguate-add-year-suffix", "false").lower() == "true"


def _citation_texts(style: _Style, items) -> dict[str, str | None]:
    """Each item's citation as compared for year suffixes, None where it cannot be rendered."""
    fixes.reset()
    layout = style.root.citation.layout  # held: lxml forgets Python attributes of a proxy nobody holds
    texts: dict[str, str | None] = {}
    for item in items:
        layout.repressed = {}
        try:
            # Compared as text without punctuation: citeproc-js tells “Title” (a quoted article) and an
            # italic Title apart no better than we do.
            texts[item.key] = fixes.sort_text(marks.plain(str(layout.render_children(item) or "")))
        except Exception:  # a style whose citation needs a locator or position: nothing to disambiguate
            texts[item.key] = None
    return texts


def _add_year_suffixes(style: _Style, bibliography: _Bibliography, texts: dict[str, str | None] | None = None) -> None:
    """Fix: citeproc-py has no year-suffix disambiguation (Smith 2022a, 2022b).

    Items whose citations render alike get a, b, c... in bibliography order, unless the names that
    disambiguate-add-names / add-givenname would add already tell them apart (as citeproc-js does).
    `texts`: the citations, if made already (_before_sorting).
    """
    if not _wants_year_suffixes(style):
        return
    names_key = _added_names(style)
    if texts is None:
        texts = _citation_texts(style, _suffix_candidates(style, bibliography.items))
    groups: dict[tuple, list] = {}
    for item in bibliography.items:
        text = texts.get(item.key)
        if text is None:
            continue
        groups.setdefault((text, *names_key(item)), []).append(item)
    for items in groups.values():
        if len(items) > 1:
            for n, item in enumerate(items):
                item.reference["year_suffix"] = _suffix(n)


def _added_names(style: _Style):
    """The function giving, for an item, what disambiguate-add-names and add-givenname would add to
    its citation: (family names, given names), each () when the style does not add it."""
    citation = style.root.citation
    add_names = citation.get("disambiguate-add-names", "false").lower() == "true"
    add_given = citation.get("disambiguate-add-givenname", "false").lower() == "true"
    et_al_min = int(citation.get("et-al-min", style.root.get("et-al-min", "0")))
    use_first = int(citation.get("et-al-use-first", style.root.get("et-al-use-first", "1")))
    # "...-with-initials" rules add initials only: C. G. and Charles G. Broyden stay ambiguous.
    initials_only = citation.get("givenname-disambiguation-rule", "by-cite").endswith("with-initials")

    def names_key(item) -> tuple[tuple, tuple]:
        names = item.reference.get("author") or item.reference.get("editor") or []
        # Added names tell items apart if any name differs; added given names only for the names shown.
        shown = len(names) if add_names or not et_al_min or len(names) < et_al_min else use_first
        family = tuple(str(n.get("family", n.get("literal", ""))) for n in names) if add_names else ()
        given = tuple(_given_key(str(n.get("given", "")), initials_only) for n in names[:shown]) if add_given else ()
        return family, given

    return names_key


def _suffix_candidates(style: _Style, items: list) -> list:
    """Speed: the items whose citation text can matter. An item whose added names (_added_names) no
    other item shares is alone in its group whatever its citation says: its citation is not rendered."""
    if speed.simple() or not speed.items_independent(style.root):
        return items
    names_key = _added_names(style)
    keys = [names_key(item) for item in items]
    shared = Counter(keys)
    return [item for item, key in zip(items, keys) if shared[key] > 1]


def _given_key(given: str, initials_only: bool) -> str:
    return fixes.initialize(given, ".", hyphen=True) if initials_only else given


def _names_to_show(style: _Style, bibliography: _Bibliography) -> dict[str, int]:
    """Fix: disambiguate-add-names reaches the bibliography when its et-al settings are the citation's
    (MLA: "Rawat, Ankit Singh, Jiecao Chen, et al."), as citeproc-js does; citeproc-py never adds names.

    Each item whose short citation names collide with another's shows as many names as it takes to
    tell it apart from every one of them.
    """
    citation, bib = style.root.citation, style.root.bibliography
    if citation is None or citation.get("disambiguate-add-names", "false").lower() != "true":
        return {}
    settings = ("et-al-min", "et-al-use-first")
    if any(citation.get(k) != bib.get(k) or citation.get(k) is None for k in settings):
        return {}
    use_first, et_al_min = int(bib.get("et-al-use-first")), int(bib.get("et-al-min"))
    # With add-givenname, names that differ in the given name already tell two people apart.
    given = citation.get("disambiguate-add-givenname", "false").lower() == "true"

    def visible(names: tuple, n: int) -> tuple:
        """The names a citation shows with n names allowed ("et al." counts: Smith differs from Smith et al.)."""
        return names[:n] + ("et al.",) if len(names) >= et_al_min and n < len(names) else names

    families = {}
    for item in bibliography.items:
        names = item.reference.get("author") or []
        families[item.key] = tuple((str(n.get("family", n.get("literal", ""))), str(n.get("given", "")) if given else "")
                                   for n in names)
    shown: dict[str, int] = {}
    for key, names in families.items():
        # An item with a twin (the same full list) cannot be told apart by names; citeproc-js then
        # leaves its names alone, and so do we.
        others = [o for k, o in families.items()
                  if k != key and o != names and visible(o, use_first) == visible(names, use_first)]
        if not others:
            continue
        n = use_first
        while n < len(names) and any(visible(o, n) == visible(names, n) for o in others):
            n += 1
        if n > use_first:
            shown[key] = n
    return shown


def _suffix(n: int) -> str:
    letters = "abcdefghijklmnopqrstuvwxyz"
    return letters[n] if n < 26 else letters[n // 26 - 1] + letters[n % 26]


def _render_entries(style: _Style, bibliography: _Bibliography, workers: int = 1) -> list[str]:
    """Each sorted item through the bibliography layout, then our post-fixes; on `workers` cores.

    Fix: with second-field-align, citeproc-py runs the first field into the rest ("[1]Z. Li"); we
    render the first field apart (as citeproc-js's csl-left-margin) and set a space after it.
    """
    layout = style.root.bibliography.layout
    align = style.root.bibliography.get("second-field-align")
    inside = (style.root.get_locale_option("punctuation-in-quote") or "false").lower() == "true"
    root = style.root
    quotes = ((str(root.get_single_term("open-quote")), str(root.get_single_term("close-quote"))),
              (str(root.get_single_term("open-inner-quote")), str(root.get_single_term("close-inner-quote"))))
    layout.substitute = style.root.bibliography.get("subsequent-author-substitute")
    prints_suffix = bool(style.root.xpath_search('//cs:text[@variable="year-suffix"]'))

    def entry(item) -> str:
        layout.repressed = {}
        fixes.Date_Part.pending_suffix = None if prints_suffix else item.reference.get("year_suffix")
        if align:
            fields = []
            for child in layout.iterchildren():
                try:
                    text = child.render(item)
                except VariableError:
                    continue
                if text is not None:
                    fields.append(text)
            left = str(fields[0]) if fields else ""
            rest = layout.format(layout.wrap(join(fields[1:], layout.get("delimiter", "")))) if fields[1:] else ""
            text = marks.wrap("left", left) + " " + marks.wrap("right", post.tidy(str(rest), inside, quotes))
        else:
            rendered = layout.render_children(item)
            text = str(layout.format(layout.wrap(rendered))) if rendered is not None else ""
        layout.previous_names = layout.first_names.get(item.key)
        return post.tidy(text, inside, quotes)

    def run(items) -> tuple[list[str], dict[str, str]]:
        """The entries of a run of items, and the names each begins with (subsequent-author-substitute)."""
        layout.first_names, layout.previous_names = {}, None
        fixes.reset()
        return [entry(item) for item in items], layout.first_names

    try:
        parts = parallel.chunks(bibliography.items, workers)
        results = parallel.run(run, parts)
        out = [text for texts, _ in results for text in texts]
        # A run after the first began without the previous entry's names: its first entry, if it repeats
        # them, is rendered again with them (the substitute depends on the entry before).
        first_names = {key: names for _, names in results for key, names in names.items()}
        start = 0
        for part in parts[:-1]:
            start += len(part)
            previous = first_names.get(bibliography.items[start - 1].key)
            item = bibliography.items[start]
            if layout.substitute is not None and previous is not None and first_names.get(item.key) == previous:
                layout.first_names, layout.previous_names = {}, previous
                fixes.reset()
                out[start] = entry(item)
        return out
    finally:
        fixes.Date_Part.pending_suffix = None
        layout.first_names = None

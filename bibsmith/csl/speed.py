"""Speed: hand-written versions of citeproc-py's hottest generic paths, mixed into our element classes.

Each replaces library code that recomputed, for every element of every entry, answers fixed by the
parsed style: the root, the children, the formatter, the formatting and affix attributes, the terms,
name options and initials, `cs:if` tests. The results are the same objects or equal values, so the
output cannot change. Sort renders a key only where citeproc-py's comparison reads it (see Sort).
With BIBSMITH_SIMPLE=1 none of this is mixed in (engine._lookup) and citeproc-py's own code runs.

Attributes that citeproc-py changes while rendering are never cached: a locale's cs:date-part takes
the style's attributes on every use (model.Date_Part.process), and fixes.Names narrows `variable`.
"""

from __future__ import annotations

from functools import lru_cache

from citeproc import model
from citeproc.source import VariableError
from citeproc.string import MixedString, String, join

from bibsmith import fastpaths
from bibsmith.csl import fixes


simple = fastpaths.simple  # BIBSMITH_SIMPLE=1: every fast path off (tests compare both paths)


# Formatted.format's five steps: (attribute, value that does nothing, formatter method per value).
_FORMAT_STEPS = (
    ("font-style", "normal", {"italic": "Italic", "oblique": "Oblique"}),
    ("font-variant", "normal", {"small-caps": "SmallCaps"}),
    ("font-weight", "normal", {"bold": "Bold", "light": "Light"}),
    ("text-decoration", "none", {"underline": "Underline"}),
    ("vertical-align", "baseline", {"sup": "Superscript", "sub": "Subscript"}),
)
_UNKNOWN = object()


class Element:
    """Mixed into every element class (before citeproc-py's)."""

    mutable_attributes = False  # True where citeproc-py rewrites the element's attributes while rendering
    mutable_children = False  # True where citeproc-py may insert a child (a cs:name into cs:names)

    def get_root(self):
        cache = self.__dict__
        root = cache.get("root_cache")
        if root is None:
            root = cache["root_cache"] = super().get_root()
        return root

    def children(self):
        """The child elements, kept (checked against the element's length where citeproc-py may
        insert a child)."""
        children = self.__dict__.get("children_cache")
        if children is None or (self.mutable_children and len(children) != len(self)):
            children = self.__dict__["children_cache"] = tuple(super().iterchildren())
        return children

    def iterchildren(self, *args, **kwargs):
        if args or kwargs:
            return super().iterchildren(*args, **kwargs)
        return iter(self.children())

    def getchildren(self):
        return list(self.children())

    def render_children(self, item, delimiter="", **kwargs):
        # model.Parent.render_children over the kept children.
        output = []
        for child in self.children():
            try:
                if isinstance(child, model.Choose):
                    text = child.render(item, delimiter=delimiter, **kwargs)
                else:
                    text = child.render(item, **kwargs)
                if text is not None:
                    output.append(text)
            except VariableError:
                pass
        if output:
            return join(output, delimiter)
        return None

    def get_formatter(self):
        root = self.get_root()
        return root.style.formatter if isinstance(root, model.Locale) else root.formatter

    def _format_steps(self):
        """The formatter methods format() applies, or None where citeproc-py's own code must run
        (an attribute value it does not know: it fails, and so must we)."""
        steps = []
        for attribute, nothing, methods in _FORMAT_STEPS:
            value = self.get(attribute, nothing)
            if value != nothing:
                if value not in methods:
                    return None
                steps.append(methods[value])
        return tuple(steps)

    def format(self, string):
        steps = self.__dict__.get("format_steps", _UNKNOWN)
        if steps is _UNKNOWN:
            steps = self._format_steps()
            if not self.mutable_attributes:
                self.__dict__["format_steps"] = steps
        if steps is None:
            return super().format(string)
        if isinstance(string, (int, float)):
            string = str(string)
        if steps:
            formatter = self.get_formatter()
            for method in steps:
                string = getattr(formatter, method)(string)
        return string

    def wrap(self, string):
        # Without prefix and suffix citeproc-py's wrap returns str, String and MixedString unchanged
        # ('' + x and x + '' give x back, see citeproc.string); anything else takes its own path.
        affixed = self.__dict__.get("affixed")
        if affixed is None:
            affixed = bool(self.get("prefix", "") or self.get("suffix", ""))
            if not self.mutable_attributes:
                self.__dict__["affixed"] = affixed
        if not affixed and isinstance(string, (str, MixedString)):
            return string
        return super().wrap(string)

    def quote(self, string):
        # citeproc-py looks up punctuation-in-quote in every locale and never uses it.
        if self.get("quotes", "false").lower() == "true":
            return super().quote(string)
        return string

    def get_term(self, name, form=None, fallback_locale=True, zero_padded=False):
        cache = self.get_root().__dict__.setdefault("any_term_cache", {})
        key = (name, form, fallback_locale, zero_padded)
        if key not in cache:
            cache[key] = super().get_term(name, form, fallback_locale, zero_padded)
        return cache[key]


class Choose:
    """cs:choose: the branches' tests are evaluated here (citeproc-py raises an exception for every
    branch that fails, most of them); a branch whose tests If cannot read takes citeproc-py's path."""

    def render(self, item, context=None, delimiter="", **kwargs):
        for child in self.children():
            tests = child.tests() if isinstance(child, If) else None
            try:
                if tests is None:
                    return child.render(item, context=context, delimiter=delimiter, **kwargs)
                if child.passes(item, tests):
                    return child.render_children(item, context=context, delimiter=delimiter, **kwargs)
            except model.ConditionFailed:
                continue
        return None


class Term:
    """A term's text, made once (terms do not change)."""

    @property
    def single(self):
        cache = self.__dict__
        if "single_text" not in cache:
            cache["single_text"] = super().single
        return cache["single_text"]

    @property
    def multiple(self):
        cache = self.__dict__
        if "multiple_text" not in cache:
            cache["multiple_text"] = super().multiple
        return cache["multiple_text"]


class DatePart:
    mutable_attributes = True


class Names:
    mutable_children = True


class If:
    """cs:if and cs:else-if testing only type and variable (nearly all): the tests read once. The
    tests have no side effects, so stopping at the first deciding one gives citeproc-py's answer."""

    def tests(self):
        tests = self.__dict__.get("tests_cache", _UNKNOWN)
        if tests is _UNKNOWN:
            tests = self.__dict__["tests_cache"] = self._tests()
        return tests

    def _tests(self):
        """A function of the item giving citeproc-py's answer (its list of results, then any/all/none)."""
        if not set(self.attrib) - {"match"} <= {"type", "variable"}:
            return None
        types = [t.lower() for t in self.get("type", "").split()]
        kinds = frozenset(types)
        variables = [v.replace("-", "_") for v in self.get("variable", "").split()]
        on_item = [v for v in variables if v == "locator"]  # locator is the cite's, not the reference's
        on_reference = [v for v in variables if v != "locator"]
        match = self.get("match")

        def any_true(item):
            reference = item.reference
            return ((bool(types) and reference["type"] in kinds) or any(v in reference for v in on_reference)
                    or any(v in item for v in on_item))

        if match == "any":
            return any_true
        if match == "none":
            return lambda item: not any_true(item)

        def all_true(item):
            reference = item.reference
            return ((not types or (len(kinds) == 1 and reference["type"] in kinds))
                    and all(v in reference for v in on_reference) and all(v in item for v in on_item))

        return all_true

    @staticmethod
    def passes(item, tests):
        return tests(item)

    def render(self, item, context=None, delimiter="", **kwargs):
        tests = self.tests()
        if tests is None:
            return super().render(item, context=context, delimiter=delimiter, **kwargs)
        if not self.passes(item, tests):
            raise model.ConditionFailed
        return self.render_children(item, context=context, delimiter=delimiter, **kwargs)


@lru_cache(maxsize=65536)
def _initialize(given: str, mark: str, hyphen: bool, everything: bool) -> str:
    return fixes.initialize(given, mark, hyphen, everything)


class Name:
    """Name options (citeproc-py searches the enclosing citation or bibliography for each of a dozen
    options per name list) are read once per context; sort options still come first. Initials of a
    given name are made once (the same names recur in every pass and across entries)."""

    def initialize(self, given, mark, context):
        # fixes.Name.initialize, through a cache of the pure function it calls.
        everything = self.get("initialize", "true").lower() != "false"
        return _initialize(str(given), mark, self.get_option("initialize-with-hyphen", context), everything)

    def get_option(self, name, context=None, sort_options=None):
        if sort_options is not None and name in sort_options:
            return super().get_option(name, context, sort_options)
        cache = self.__dict__.setdefault("option_cache", {})
        key = (name, context)
        if key not in cache:
            cache[key] = super().get_option(name, context, None)
        return cache[key]


class Text:
    """model.Text.process without the exception it raises, for every text element, to find that the
    item has no language: the item's language is looked up once."""

    def _process_text(self, item, context=None, **kwargs):
        attrib = self.attrib
        if "macro" in attrib and kwargs.get("sort_options") is not None:
            return super()._process_text(item, context=context, **kwargs)
        if context is None:
            context = self
        language = dict.get(item, "_language")
        if language is None:
            try:
                language = item.reference.language[:2]
            except VariableError:
                language = self.get_root().get("default-locale", "en")[:2]
            dict.__setitem__(item, "_language", language)
        if "variable" in attrib:
            text = self._variable(item, context)
        elif "macro" in attrib:
            text = self.get_macro(self.get("macro")).render(item, context)
        elif "term" in attrib:
            text = self._term(item)
        elif "value" in attrib:
            text = String(self.preformat(self.get("value")))
        else:
            return super()._process_text(item, context=context, **kwargs)
        return text, language


def items_independent(root) -> bool:
    """Whether each item renders the same whatever was rendered before it (so items may be rendered
    apart, in any order, or not at all). Not so where a style date with a form has its own date-parts:
    citeproc-py's Date_Part.process copies their attributes into the locale's date-parts for good."""
    cache = root.__dict__
    if "items_independent" not in cache:
        cache["items_independent"] = not root.xpath_search("//cs:date[@form][cs:date-part][not(ancestor::cs:locale)]")
    return cache["items_independent"]


class Key:
    """Sort key values made elsewhere (engine._before_sorting, Sort below), given to citeproc-py's sort."""

    def keep_sort_keys(self, values: dict) -> None:
        self.__dict__["kept_sort_keys"] = values

    def forget_sort_keys(self) -> None:
        self.__dict__.pop("kept_sort_keys", None)

    def sort_keys(self, items, context):
        kept = self.__dict__.get("kept_sort_keys")
        if kept is not None and all(item.key in kept for item in items):
            return [kept[item.key] for item in items]
        return super().sort_keys(items, context)


def _tie(value):
    """What citeproc-py's sort comparison sees of a key value: two values it finds equal (or both
    missing) have the same _tie (it compares lower-cased text, as integers when both read as one)."""
    if value is None:
        return None
    try:
        value = str(value.lower())
    except AttributeError:
        pass
    try:
        return 1, int(str(value))
    except ValueError:
        return 2, value


class Sort:
    """Hand-written: citeproc-py renders every key of every item, but its comparison reads a key only
    for items tied on every key before it. Here each key is rendered for such items only (the later
    keys of most styles, a title or a container, are the costly ones), and citeproc-py's sort runs
    on the result: the keys it reads are the same, so is the order."""

    def sort(self, items, context):
        keys = self.findall("cs:key", self.nsmap)
        if len(items) < 2 or not items_independent(self.get_root()):
            return super().sort(items, context)
        try:
            groups = [list(items)]
            for key in keys:
                needed = [item for group in groups for item in group]
                values = dict(zip((item.key for item in needed), key.sort_keys(needed, context)))
                key.keep_sort_keys({**dict.fromkeys((item.key for item in items)), **values})
                try:
                    groups = [tied for group in groups for tied in _split(group, values) if len(tied) > 1]
                except TypeError:  # a value that cannot be hashed: the group stays whole
                    pass
            return super().sort(items, context)
        finally:
            for key in keys:
                key.forget_sort_keys()


def _split(group, values):
    tied: dict = {}
    for item in group:
        tied.setdefault(_tie(values[item.key]), []).append(item)
    return tied.values()


MIXINS: dict[str, type] = {"sort": Sort, "key": Key, "choose": Choose, "if": If, "else-if": If, "names": Names,
                           "name": Name, "text": Text, "term": Term, "date-part": DatePart}

"""Our fixes to citeproc-py 0.11.1: element subclasses (by CSL tag) and post-processing of entries.

Each fix is named here ("Fix: ...") and pinned by a test in tests/test_formatted_fixes.py.
"""

from __future__ import annotations

import re
import unicodedata

from citeproc import DATES, NUMBERS, model
from citeproc.model import VariableError
from citeproc.string import MixedString, String, join

from bibsmith.csl import marks
from bibsmith.csl.textcase import CaseFix

EN_DASH = "\u2013"


class PageRange:
    """Fix: page-range-format="minimal-two" cut a short last page to one digit (1-20 -> "1–0"), and
    chicago-16 kept Chicago 15's four-digit rule (1297–1317 is "1297–317" in the 16th edition).
    Fix: a range whose ends are not page numbers ("3:1-3:29") was rewritten; citeproc-js leaves it."""

    def _process(self, value, variable):
        parts = re.split(r"\s*[-\u2013]+\s*", str(value))
        if variable.startswith("page") and len(parts) > 1 and \
                not all(re.fullmatch(r"[A-Za-z]*\d+[A-Za-z]*", p) for p in parts if p):
            return String(str(value))
        return super()._process(value, variable)

    def _format_last_page(self, first, last):
        """The last page per page-range-format (CSL 1.0.2 appendix), as citeproc-js applies it."""
        fmt = self.get_root().get_option("page-range-format")
        if not (first.isdigit() and last.isdigit()):
            return last
        if len(last) < len(first):  # "321-28" means 328
            last = first[:len(first) - len(last)] + last
        if fmt in ("chicago", "chicago-15", "chicago-16"):
            number = int(first)
            if number < 100 or number % 100 == 0:
                fmt = "expanded"
            elif fmt != "chicago-16" and len(first) == 4 and _common(first, last) < 2:
                fmt = "expanded"  # Chicago 15: four digits with three changing are given in full
            else:
                fmt = "minimal" if number % 100 < 10 else "minimal-two"
        common = _common(first, last)
        if fmt == "minimal":
            return last[min(common, len(last) - 1):]
        if fmt == "minimal-two":
            return last[min(common, max(len(last) - 2, 0)):]
        return last


def _common(first: str, last: str) -> int:
    """Leading digits two numbers of the same length share."""
    if len(first) != len(last):
        return 0
    count = 0
    for a, b in zip(first, last):
        if a != b:
            break
        count += 1
    return count


class _Count:
    """Variables called and rendered so far, and the variables a substitute already printed per item
    (engine resets `suppressed` before each pass; rendering holds engine._LOCK)."""

    called = 0
    rendered = 0
    sorting = False
    printed: list[str] = []
    suppressed: dict[str, set[str]] = {}


def _counted(method):
    """Count a variable-calling element's evaluation and whether it printed something; an element
    whose variables a cs:substitute already printed for this item prints nothing."""

    def wrapper(self, item, *args, **kwargs):
        variables = (self.get("variable") or "").split()
        done = _Count.suppressed.get(item.key)
        if done and variables and all(v in done for v in variables):
            raise VariableError
        _Count.called += 1
        result = method(self, item, *args, **kwargs)
        text = result[0] if isinstance(result, tuple) else result
        if text is not None and str(text) != "":
            _Count.rendered += 1
            _Count.printed.extend(variables)
        return result

    return wrapper


def reset() -> None:
    """Forget what substitutes printed: called before each pass over the items."""
    _Count.printed = []
    _Count.suppressed = {}


class Group(model.Group):
    """Fix: a group is suppressed when the variables it actually called are all empty (CSL 1.0.2
    §group), a non-empty nested group counting as a non-empty variable. citeproc-py decides from every
    branch of a nested cs:choose, so APA printed a lone "(Publication)" for a thesis without a number."""

    def process(self, item, context=None, **kwargs):
        called, rendered = _Count.called, _Count.rendered
        output = []
        delimiter = self.get("delimiter", "")
        for child in self.iterchildren():
            try:
                if isinstance(child, model.Choose):
                    text = child.render(item, context=context, delimiter=delimiter, **kwargs)
                else:
                    text = child.render(item, context=context, **kwargs)
            except VariableError:
                continue
            if text is not None:
                output.append(text)
        if not output or (_Count.called > called and _Count.rendered == rendered):
            raise VariableError
        # A non-empty nested group counts as a non-empty variable for the enclosing group (CSL 1.0.2).
        _Count.called += 1
        _Count.rendered += 1
        return self.join(output)


class Text(PageRange, CaseFix, model.Text):
    """Fix: number variables (issue, volume, ...) keep a hyphen in ranges; CSL wants an en dash.
    Fix: `<text macro>` drops the sort options, so sort keys lost name-as-sort-order="all" and works
    by the same first author were not ordered by the later authors."""

    def process(self, item, context=None, **kwargs):
        if "variable" in self.attrib and self.get("variable") not in self.generated_variables:
            return _counted_text(self, item, context=context, **kwargs)
        return self._process_text(item, context=context, **kwargs)

    def _process_text(self, item, context=None, **kwargs):
        if "macro" in self.attrib and kwargs.get("sort_options") is not None:
            try:
                language = item.reference.language[:2]
            except VariableError:
                language = self.get_root().get("default-locale", "en")[:2]
            macro = self.get_macro(self.get("macro"))
            return macro.render(item, context, sort_options=kwargs["sort_options"]), language
        return super().process(item, context=context, **kwargs)

    def markup(self, text, language):
        """Fix: strip-periods ran before text-case, so "scikit-learn.org" became "Scikit-Learnorg"."""
        if text:
            cased = self.case(text, language)
            stripped = self.strip_periods(cased) if self.get("strip-periods", "false").lower() == "true" else cased
            return self.wrap(self.quote(self.format(stripped)))
        return None

    def _variable(self, item, context):
        text = super()._variable(item, context)
        if self.get("variable") in ("issue", "volume", "number", "collection-number") and text \
                and re.fullmatch(r"[\d\s,&-]+", str(text)):
            # As citeproc-js: the locale's page-range-delimiter if the style sets one, else an en dash.
            delimiter = str(self.get_single_term(name="page-range-delimiter") or EN_DASH)
            return re.sub(r"(?<=\d)\s*-+\s*(?=\d)", delimiter, str(text))
        if self.get("variable") == "year-suffix" and text is not None:
            return str(text)
        return text


_counted_text = _counted(lambda self, item, **kwargs: self._process_text(item, **kwargs))


class Number(PageRange, CaseFix, model.Number):
    process = _counted(model.Number.process)


class Label(CaseFix, model.Label):
    """Fix: a label whose variable the item lacks still printed its term (a thesis without a number
    got "(Publication)" under APA, a newspaper article "Edition." under Chicago).
    Fix: only ranges and lists make a label plural ("nos. 2–3", but "no. 2/4"), as in citeproc-js."""

    _NUMBER = r"[A-Za-z]*\d+[A-Za-z]*"
    _MULTIPLE = re.compile(rf"{_NUMBER}(?:\s*(?:[-\u2013,&]|and)\s*{_NUMBER})+")

    def _is_plural(self, item):
        variable = self.get("variable")
        if variable == "locator" or variable.startswith("number-of"):
            return super()._is_plural(item)
        try:
            value = str(item.reference[variable.replace("-", "_")])
        except VariableError:
            return False
        return self._MULTIPLE.fullmatch(value.strip()) is not None  # "3:1-3:29" is one page label

    def calls_variable(self):
        return bool(self.get("variable"))

    def process(self, item, variable=None, plural=None, context=None, **kwargs):
        own = self.get("variable")
        if variable is None and own and own != "locator" and own.replace("-", "_") not in item.reference:
            raise VariableError
        return super().process(item, variable=variable, plural=plural, context=context, **kwargs)


class Name_Part(CaseFix, model.Name_Part):
    pass


class Date_Part(CaseFix, model.Date_Part):
    """Fix: a style that never prints year-suffix gets it after the entry's first year (CSL 1.0.2
    §year-suffix); citeproc-py dropped it."""

    pending_suffix: str | None = None  # set per entry by engine._render_entries

    def process(self, date, context=None):
        text = super().process(date, context)
        if self.get("name") == "year" and Date_Part.pending_suffix and text:
            text, Date_Part.pending_suffix = f"{text}{Date_Part.pending_suffix}", None
        return text


class Date(model.Date):
    process = _counted(model.Date.process)

    """Fix: a date range crashes (list.remove on a part the form does not show), which aborted the
    whole bibliography under IEEE; the parts list was also shared and mutated between calls."""

    def render_date_range(self, date_range, show_parts=None, context=None):
        show_parts = list(show_parts or ["year", "month", "day"])
        begin, end = date_range.begin, date_range.get("end")
        order = [p.get("name") for p in self.iterchildren() if p.get("name") in show_parts]
        if end is None or end.is_nil():
            return self.render_single_date(begin, show_parts, context)
        # A part differs when it or a larger one does (Dec 2016–Jan 2017 ranges months too).
        differ: set[str] = set()
        for part in ("year", "month", "day"):
            if differ or begin.get(part) != end.get(part):
                differ.add(part)
        differ &= set(order)
        if not differ:
            return self.render_single_date(begin, show_parts, context)
        delimiter = EN_DASH
        largest = next(p for p in ("year", "month", "day") if p in differ)
        for part in list(self.iterchildren()) + (list(context.iterchildren()) if context is not None else []):
            if part.get("name") == largest and part.get("range-delimiter"):
                delimiter = part.get("range-delimiter")
        # CSL 1.0.2: the differing parts, in the date's own order, form one range ("December 4–9, 2017").
        pieces, run = [], []

        def flush():
            if run:
                first = "".join(str(t) for t in self.parts(begin, run, context))
                last = "".join(str(t) for t in self.parts(end, run, context))
                suffix = len(first) - len(first.rstrip(" ,"))
                pieces.append(first[:len(first) - suffix] + delimiter + last)
                run.clear()

        for name in order:
            if name in differ:
                run.append(name)
            else:
                flush()
                pieces.extend(str(t) for t in self.parts(begin, [name], context))
        flush()
        return "".join(pieces).rstrip() or None


class Names(model.Names):
    """Fix: names that a cs:substitute already printed (editors standing in for a missing author) are
    printed again where the style names them later; Text checked the repressed list, Names did not."""

    def process(self, item, names_context=None, context=None, **kwargs):
        outer = self.xpath_search("./ancestor::cs:substitute[1]/parent::cs:names[1]")
        if outer and self.find("cs:name", self.nsmap) is None and names_context in (None, self):
            # Fix: a bare <names> nested in a <choose> inside <substitute> took default name options
            # ("T. Bäck" for Chicago's "Bäck, Thomas") and was not suppressed later; it inherits the
            # enclosing names' name and label, and once printed it is suppressed ("Edited by" gone).
            # (Always redirected, so citeproc-py never inserts a default <name> into it.)
            names_context = outer[0]
        text = _counted(Names._process)(self, item, names_context=names_context, context=context, **kwargs)
        if text and outer and kwargs.get("sort_options") is None:
            layout = (context if context is not None else self).get_layout()
            layout.repressed.setdefault(self.tag, []).extend(self.get("variable", "").split())
        return text

    def _process(self, item, names_context=None, context=None, **kwargs):
        layout = (context if context is not None else self).get_layout()
        repressed = {v for entry in (layout.repressed or {}).get(self.tag, []) if entry for v in entry.split()}
        roles = self.get("variable", "").split()
        if repressed & set(roles):
            remaining = [role for role in roles if role not in repressed]
            if not remaining:
                raise VariableError
            self.set("variable", " ".join(remaining))  # safe: rendering holds engine._LOCK
            try:
                return super().process(item, names_context=names_context, context=context, **kwargs)
            finally:
                self.set("variable", " ".join(roles))
        text = super().process(item, names_context=names_context, context=context, **kwargs)
        has_names = any(role.replace("-", "_") in item.reference for role in self.get("variable", "").split())
        if text and has_names and kwargs.get("sort_options") is None and getattr(layout, "first_names", None) is not None:
            # Fix: citeproc-py ignores subsequent-author-substitute (MLA's "———." for a repeated author
            # list); the first names of an entry that repeat the previous entry's become the substitute.
            # Names compare without the et-al term, as citeproc-js compares the names it rendered.
            et_al = re.escape(str(self.get_single_term(name="et-al")))
            compared = re.sub(f",?\\s*{et_al}$", "", str(text)) if et_al else str(text)
            if item.key not in layout.first_names:
                layout.first_names[item.key] = compared
                if layout.substitute is not None and compared == layout.previous_names:
                    return String(layout.substitute)
        return text


class Substitute(model.Substitute):
    """Fix: what a substitute printed is suppressed in the rest of the entry (CSL 1.0.2 §substitute).
    citeproc-py only noted a direct child's variable attribute (as one "editor translator" string), so
    a title standing in for a missing author through a macro was printed twice (APA, IRIDIA)."""

    def render(self, item, context=None, **kwargs):
        for child in self.getchildren():
            start = len(_Count.printed)
            try:
                if isinstance(child, model.Names) and child.name is None:
                    names = self.xpath_search("./parent::cs:names[1]")[0]
                    text = child.render(item, names_context=names, context=context, **kwargs)
                else:
                    text = child.render(item, context=context, **kwargs)
            except VariableError:
                continue
            if text:
                printed = set(_Count.printed[start:]) | set((child.get("variable") or "").split())
                _Count.suppressed.setdefault(item.key, set()).update(printed)
                layout = context.get_layout()
                layout.repressed.setdefault(child.tag, []).extend(printed)
                return text
        return None


def initialize(given: str, mark: str, hyphen: bool, everything: bool = True) -> str:
    """Given names as initials, as citeproc-js does it.

    Fix: citeproc-py turns "Kuo-tsung" into "K.-. tsung ." and cannot leave full names alone.
    With `everything` False (CSL initialize="false") only names that already are initials get `mark`.
    """
    # An abbreviated name ("Jr.", "Wm.", even "GuptaD." from a broken source) is kept as written,
    # as citeproc-js does: a word of two or more letters that ends in a period.
    given = re.sub(r"(?<!\S)([A-Z]\w+)\.(?=\s|$)", "\\1\u2024", given)
    given = re.sub(r"\.\s*-", "-", given).replace(".", " ")
    out = ""
    for token in given.split():
        if token.endswith("\u2024"):
            out += token[:-1] + ". "
            continue
        parts = token.split("-")
        if len(parts) > 1 and not hyphen:
            parts = [p for p in parts if p]
        if not parts or not any(p and p[0].isupper() for p in parts) and not token[0].isalpha():
            out += token + " "  # no letter to initialize ("-", "&"): kept as written
            continue
        if not token[0].isupper() and token[0].isalpha():  # a particle such as "de": never initialized
            out += token + " "
            continue
        if not everything:
            if len(parts[0]) > 1:
                out += token + " "
                continue
            hyphen = False  # existing initials are only spaced out: "T.-J." reads "T. J." (citeproc-js)
        capitals = [p[0] for p in parts if p and p[0].isupper()]
        if len(parts) > 1 and hyphen and all(p and p[0].isupper() for p in parts):
            out += (mark.rstrip() + "-").join(capitals) + mark
        else:
            out += capitals[0] + mark if len(parts) > 1 and hyphen else mark.join(capitals) + mark
    return " ".join(out.split()) if mark.endswith(" ") or " " in out.strip() else out.strip()


class Name(model.Name):
    """Fix: initialize="false" is ignored (Chicago and MLA print "Li, Z." for "Li, Zonglin"); hyphenated
    given names are initialized wrongly. Beyond citeproc: an author list cut short on the source
    (custom.authors_truncated) always ends in "et al.", whatever the style's et-al rules."""

    def initialize(self, given, mark, context):
        everything = self.get("initialize", "true").lower() != "false"
        return initialize(str(given), mark, self.get_option("initialize-with-hyphen", context), everything)

    def et_al(self):
        # Sort keys hold names only: no "et al." (citeproc-js), so "Caseau, Yves, et al." sorts as "Caseau, Yves".
        return "" if _Count.sorting else super().et_al()

    def process(self, item, variable, context=None, sort_options=None, **kwargs):
        sorting = sort_options is not None
        if sorting:
            sort_options = {**sort_options, "and": None}
        if sorting and self.get_option("demote-non-dropping-particle", context, sort_options) == "sort-only":
            # Fix: "sort-only" demotes particles in sort keys ("Neumann, John von" sorts under N); citeproc-py
            # treated it as "never" there.
            sort_options = {**sort_options, "demote-non-dropping-particle": "display-and-sort"}
        shown = item.bibliography.names_shown.get(item.key) if variable == "author" else None
        if shown and sort_options is None:  # names added for disambiguation (see engine._names_to_show)
            sort_options = {"et-al-use-first": shown}
        names = item.reference.get(variable, [])
        if self.get_option("et-al-use-first", context, sort_options) >= len(names):
            # Fix: citeproc-py adds "et al." when et-al-min is reached even if use-first shows every name.
            sort_options = {**(sort_options or {}), "et-al-min": 0}
        truncated = (variable == "author" and not sorting
                     and item.key in getattr(item.bibliography.source, "truncated", ()))
        if not truncated or self.get_option("form", context, sort_options) == "count":
            return super().process(item, variable, context=context, sort_options=sort_options, **kwargs)
        et_al_min = self.get_option("et-al-min", context, sort_options)
        use_first = self.get_option("et-al-use-first", context, sort_options)
        if et_al_min and len(names) >= et_al_min and len(names) > 1 and use_first < len(names):
            return super().process(item, variable, context=context, sort_options=sort_options, **kwargs)
        # Render the full list without "and", then add the et-al term as a cut-short list would have it.
        options = {**(sort_options or {}), "and": None, "et-al-min": 0}
        text = super().process(item, variable, context=context, sort_options=options, **kwargs)
        et_al = self.et_al() or self.get_single_term(name="et-al")
        precedes = self.get_option("delimiter-precedes-et-al", context, sort_options)
        delimiter = self.get_option("delimiter", context, sort_options)
        if precedes == "always" or (precedes == "contextual" and len(names) >= 2):
            return join([text, et_al], delimiter)
        return text + " " + et_al


class Key(model.Key):
    """Fix: sort keys carry rich-text markers and accents; they compare as text, accents folded, with
    TeX math as written (citeproc-js sorts `$O(n)$` by its source)."""

    def sort_keys(self, items, context):
        reset()  # each key is rendered on its own: what a substitute printed for one key counts not for the next
        _Count.sorting = True
        try:
            keys = super().sort_keys(items, context)
        finally:
            _Count.sorting = False
        variable = (self.get("variable") or "").replace("-", "_")
        if variable in DATES or variable in NUMBERS:  # date and number keys compare as written
            return keys
        out = []
        for item, key in zip(items, keys):
            if key is None or not isinstance(key, (str, MixedString)):
                out.append(key)
                continue
            maths = item.bibliography.source.maths
            text = re.sub(f"{marks.MATH_OPEN}(\\d+){marks.MATH_CLOSE}", lambda m: f"${maths[int(m.group(1))]}$", str(key))
            out.append(sort_text(marks.plain(text)))
        return out


def sort_text(text: str) -> str:
    """A sort key compared as readers expect (citeproc-js uses the locale's collation): "Bäck" with "Back"."""
    decomposed = unicodedata.normalize("NFKD", text)
    # Accents and punctuation do not count at the first level of collation ("O’Brien" before "Okafor").
    return " ".join(decomposed.translate(_SORT_TABLE).split())


class _SortTable(dict):
    """str.translate table dropping combining marks and punctuation, each character decided once
    (a generator over every character of every sort key cost more than rendering the key)."""

    def __missing__(self, code: int):
        char = chr(code)
        kept = None if unicodedata.combining(char) or unicodedata.category(char).startswith("P") else code
        self[code] = kept
        return kept


_SORT_TABLE = _SortTable()


ELEMENTS: dict[str, type] = {
    "key": Key, "group": Group,
    "name": Name, "text": Text, "number": Number, "label": Label, "name-part": Name_Part, "date-part": Date_Part,
    "date": Date, "names": Names, "substitute": Substitute,
}

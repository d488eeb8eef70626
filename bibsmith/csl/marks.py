"""Rich text between citeproc-py and our outputs: private-use markers, converted per output at the end.

citeproc-py's HTML formatter escapes style text but not item data, so a title holding `<script>` would
reach the page. We render with markers from the Unicode private-use area instead of tags (and strip
such characters from the data first), then escape every character once, per output, here.
"""

from __future__ import annotations

import html
import re
import unicodedata
from functools import lru_cache

TAGS = ("i", "b", "u", "sup", "sub", "sc", "left", "right")  # left/right: second-field-align
OPEN = {tag: chr(0xE000 + 2 * n) for n, tag in enumerate(TAGS)}
CLOSE = {tag: chr(0xE001 + 2 * n) for n, tag in enumerate(TAGS)}
MATH_OPEN, MATH_CLOSE = "\ue030", "\ue031"  # around the index of a TeX math span in the side table
TAG_MARKERS = "".join(OPEN.values()) + "".join(CLOSE.values())
MARKERS = TAG_MARKERS + MATH_OPEN + MATH_CLOSE
_PRIVATE = re.compile("[\ue000-\uf8ff]")
_TOKEN = re.compile(f"([{''.join(OPEN.values())}{''.join(CLOSE.values())}]|{MATH_OPEN}\\d+{MATH_CLOSE})")
_BY_CHAR = {**{c: ("open", t) for t, c in OPEN.items()}, **{c: ("close", t) for t, c in CLOSE.items()}}

_HTML = {"i": ("<i>", "</i>"), "b": ("<b>", "</b>"), "u": ('<span style="text-decoration:underline">', "</span>"),
         "sup": ("<sup>", "</sup>"), "sub": ("<sub>", "</sub>"), "sc": ('<span style="font-variant:small-caps">', "</span>"),
         "left": ('<div class="csl-left-margin">', "</div>"), "right": ('<div class="csl-right-inline">', "</div>")}
_MARKDOWN = {"i": ("*", "*"), "b": ("**", "**"), "u": ("", ""), "sup": ("<sup>", "</sup>"), "sub": ("<sub>", "</sub>"),
             "sc": ("", ""), "left": ("", ""), "right": ("", "")}
_LATEX = {"i": ("\\emph{", "}"), "b": ("\\textbf{", "}"), "u": ("\\underline{", "}"), "sup": ("\\textsuperscript{", "}"),
          "sub": ("\\textsubscript{", "}"), "sc": ("\\textsc{", "}"), "left": ("", ""), "right": ("", "")}


def wrap(tag: str, text: str) -> str:
    """Text wrapped in the markers of one rich-text tag (citeproc-py's formatter hook)."""
    return OPEN[tag] + text + CLOSE[tag]


def clean(text: str) -> str:
    """Data with any private-use character removed, so data can never forge a marker."""
    return _PRIVATE.sub("", text)


def plain(text: str) -> str:
    """Marker text without markers (math spans dropped)."""
    return re.sub(f"{MATH_OPEN}\\d+{MATH_CLOSE}", "", text).translate({ord(c): None for c in MARKERS})


def _escape_markdown(text: str) -> str:
    return re.sub(r"([\\`*_\[\]<>#|])", r"\\\1", text)


@lru_cache(maxsize=1)
def _latex_encoder():
    from pylatexenc.latexencode import RULE_REGEX, UnicodeToLatexConversionRule, UnicodeToLatexEncoder

    # Quotes and dashes stay as Unicode (pdfLaTeX with inputenc utf8 typesets them), so the text reads naturally.
    keep = UnicodeToLatexConversionRule(RULE_REGEX, [(re.compile("([\u2018\u2019\u201c\u201d\u2013\u2014])"), r"\1")])
    return UnicodeToLatexEncoder(conversion_rules=[keep, "defaults"], replacement_latex_protection="braces-after-macro",
                                 unknown_char_policy="replace", unknown_char_warning=False)


_MATH_ALPHANUMERIC = re.compile("[\U0001D400-\U0001D7FFℂℊℋℌℍℐℑℒℕℙℚℛℜℝℤℨℬℭℯℰℱℳℴ]")


def escape_latex(text: str) -> str:
    """Text as LaTeX that typesets it literally and cannot run a command."""
    # Mathematical letters (𝒩, ℝ) would need packages such as mathrsfs: plain letters compile everywhere.
    text = _MATH_ALPHANUMERIC.sub(lambda m: unicodedata.normalize("NFKC", m.group(0)), text)
    return _latex_encoder().unicode_to_latex(text)


def convert(text: str, output: str, maths: list[str] | tuple[str, ...] = ()) -> str:
    """Marker text as `output` (text, html, markdown, latex): every data character escaped, tags balanced."""
    from bibsmith.csl import texmath

    escape = {"text": lambda s: s, "html": lambda s: html.escape(s, quote=False),
              "markdown": _escape_markdown, "latex": escape_latex}[output]
    tags = {"text": None, "html": _HTML, "markdown": _MARKDOWN, "latex": _LATEX}[output]
    out: list[str] = []
    stack: list[str] = []
    for piece in _TOKEN.split(text):
        if not piece:
            continue
        if piece in _BY_CHAR:
            kind, tag = _BY_CHAR[piece]
            if kind == "open":
                stack.append(tag)
                out.append(tags[tag][0] if tags else "")
            elif tag in stack:  # close every tag opened inside it first: the output stays well nested
                while stack:
                    inner = stack.pop()
                    out.append(tags[inner][1] if tags else "")
                    if inner == tag:
                        break
        elif piece.startswith(MATH_OPEN):
            index = int(piece[1:-1])
            out.append(texmath.render(maths[index], output, italic="i" in stack) if index < len(maths) else "")
        else:
            out.append(escape(piece))
    while stack:
        tag = stack.pop()
        out.append(tags[tag][1] if tags else "")
    return "".join(out)

"""TeX math in titles (`$O(n)$`), rendered per output so that no raw TeX reaches text or HTML."""

from __future__ import annotations

import html
import re
from functools import lru_cache

from bibsmith.text.texsafety import find_unsafe_tex

# Math commands that need a package (amssymb, amsmath, mathrsfs, bm): a span using one is typeset as
# Unicode text instead, so the LaTeX output compiles in any document.
NEEDS_PACKAGE = frozenset("""mathbb mathscr mathfrak mathds bm boldsymbol text operatorname tfrac dfrac binom
    eqref lesssim gtrsim varnothing coloneqq iint iiint mathbbm""".split())
_COMMAND = re.compile(r"\\([A-Za-z]+)")

MATH = re.compile(r"(?<!\\)\$(?!\s)([^$]+?)(?<![\s\\])\$")


@lru_cache(maxsize=1)
def _converter():
    from pylatexenc.latex2text import LatexNodes2Text

    return LatexNodes2Text(math_mode="text", strict_latex_spaces=False)


def to_unicode(tex: str) -> str:
    """Math as Unicode text (pylatexenc: \\alpha -> α, \\ell -> ℓ); sub/superscript marks dropped."""
    # TeX eats the space after a control word (\\log k); keep it, since the reader meant one.
    text = _converter().latex_to_text(re.sub(r"(\\[A-Za-z]+)\s+", r"\1{} ", tex))
    return re.sub(r"[_^]", "", text).strip()


@lru_cache(maxsize=4096)
def _to_unicode_kept(tex: str) -> str:
    # Speed: pylatexenc takes about a millisecond a span, and the same math recurs (O(n), $k$).
    return to_unicode(tex)


def _unicode(tex: str) -> str:
    from bibsmith.csl import speed

    return to_unicode(tex) if speed.simple() else _to_unicode_kept(tex)


def _balanced(tex: str) -> bool:
    depth = 0
    for char in re.sub(r"\\.", "", tex):
        depth += {"{": 1, "}": -1}.get(char, 0)
        if depth < 0:
            return False
    return depth == 0


def render(tex: str, output: str, italic: bool = False) -> str:
    """One math span as `output`: Unicode text; HTML with italic variables; math in LaTeX when safe.

    Inside italic text (an APA title) the variables are italic already: no nested <i>.
    """
    if output == "latex":
        from bibsmith.csl.marks import escape_latex

        portable = not NEEDS_PACKAGE.intersection(_COMMAND.findall(tex))
        if portable and not find_unsafe_tex(tex) and _balanced(tex) and "\\begin" not in tex and "$" not in tex:
            # pdfLaTeX takes no raw Unicode in math (μ): such characters become commands (\mu).
            return "$" + re.sub(r"[^\x00-\x7f]", lambda m: escape_latex(m.group(0)), tex) + "$"
        if not portable:
            return escape_latex(_unicode(tex))
        return escape_latex(f"${tex}$")  # unsafe math is shown as its source text, never run
    text = _unicode(tex)
    if italic and output in ("html", "markdown"):
        return html.escape(text, quote=False) if output == "html" else re.sub(r"([\\`*_\[\]<>#|])", r"\\\1", text)
    if output == "html":
        # Single Latin letters are variables, set in italics as TeX would; words such as log stay upright.
        return re.sub(r"(?<![A-Za-z])([A-Za-z])(?![A-Za-z])", r"<i>\1</i>", html.escape(text, quote=False))
    if output == "markdown":
        return re.sub(r"(?<![A-Za-z])([A-Za-z])(?![A-Za-z])", r"*\1*", re.sub(r"([\\`*_\[\]<>#|])", r"\\\1", text))
    return text

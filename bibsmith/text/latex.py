"""LaTeX <-> Unicode for BibTeX fields: pylatexenc does the letters, TeX math is kept as written.

Reading: `to_unicode` turns a field value (braces, accents, escaped specials) into plain Unicode,
leaving `$...$` math untouched. Writing: `to_latex` escapes the TeX specials outside math and, for
pdfLaTeX, turns non-ASCII letters into LaTeX commands; a character with no LaTeX form raises
`NoLatexForm`, so the writer can name the record and the character.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from ..fastpaths import simple as _simple
# Deeper groups are refused by the BibTeX reader and the hub: pylatexenc recurses once per group.
from ..record import MAX_DEPTH as MAX_BRACE_DEPTH, braces_too_deep as too_deep

from pylatexenc import latexwalker, macrospec
from pylatexenc.latex2text import LatexNodes2Text, MacroTextSpec, get_default_latex_context_db
from pylatexenc.latexencode import UnicodeToLatexEncoder

try:  # the C build of to_unicode (bibsmith/_fastlatex.c), when a compiler was there at install
    from bibsmith import _fastlatex
except ImportError:
    _fastlatex = None
_c_to_unicode = _fastlatex.to_unicode if _fastlatex is not None else None

# Inline math as pandoc recognises it: `$` followed by a non-space, closed by `$` after a non-space
# and not followed by a digit, so that "costs $5 and $10" is not math.
MATH = re.compile(r"\$(?=[^\s$])(?:[^$\\]|\\.)*?(?<=[^\s\\])\$(?!\d)|\\\((?:.|\n)*?\\\)")

# The ten TeX specials (and the three characters OT1 fonts print wrongly) need escaping in text.
# pylatexenc's encoder would also rewrite `"` and `'` into quote ligatures, which do not round-trip,
# so the ASCII specials are this small table and pylatexenc handles every non-ASCII character.
SPECIALS = {
    "\\": r"\textbackslash{}",
    "{": r"\textbraceleft{}",  # not \{ : BibTeX counts every brace, escaped or not
    "}": r"\textbraceright{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
    "<": r"\textless{}",
    ">": r"\textgreater{}",
    "|": r"\textbar{}",
}

# Combining marks -> LaTeX text accents, for stacked diacritics (Vietnamese "ễ" = e + ^ + ~), which
# pylatexenc has no precomposed entries for. Marks without a pdfLaTeX text accent (hook above, horn)
# are deliberately absent: such letters have no LaTeX form under T1/OT1.
COMBINING = {
    "\u0300": "`", "\u0301": "'", "\u0302": "^", "\u0303": "~", "\u0304": "=", "\u0306": "u",
    "\u0307": ".", "\u0308": '"', "\u030a": "r", "\u030b": "H", "\u030c": "v", "\u0323": "d",
    "\u0327": "c", "\u0328": "k", "\u0331": "b",
}


# CSL-JSON rich text (the tags CSL allows in titles) <-> LaTeX text commands. Tags become private-use
# placeholders before escaping, so that `<` stays escapable and title protection cannot split a tag.
MARKUP = {
    "<i>": ("\ue000", "\\textit{"), "<b>": ("\ue001", "\\textbf{"), "<sup>": ("\ue002", "\\textsuperscript{"),
    "<sub>": ("\ue003", "\\textsubscript{"), '<span style="font-variant:small-caps;">': ("\ue004", "\\textsc{"),
    '<span class="nocase">': ("\ue005", "{"),
}
CLOSE = "\ue00f"
CLOSING = {"<i>": "</i>", "<b>": "</b>", "<sup>": "</sup>", "<sub>": "</sub>"}
PLACEHOLDERS = {mark: latex for mark, latex in MARKUP.values()} | {CLOSE: "}"}
_TAG = re.compile("|".join(re.escape(t) for t in [*MARKUP, "</i>", "</b>", "</sup>", "</sub>", "</span>"]))


def markup_to_placeholders(text: str) -> str:
    """CSL rich-text tags as placeholders, when every tag is closed in order; otherwise text as is."""
    stack: list[str] = []
    for tag in _TAG.findall(text):
        if tag in MARKUP:
            stack.append(CLOSING.get(tag, "</span>"))
        elif not stack or stack.pop() != tag:
            return text
    if stack:
        return text
    return _TAG.sub(lambda m: MARKUP[m.group(0)][0] if m.group(0) in MARKUP else CLOSE, text)


class NoLatexForm(ValueError):
    """A character that pdfLaTeX cannot typeset from an ASCII .bib file."""

    def __init__(self, char: str):
        self.char = char
        name = unicodedata.name(char, "unnamed")
        super().__init__(f"'{char}' (U+{ord(char):04X} {name}) has no LaTeX form")


@lru_cache(maxsize=1)
def _decoder() -> LatexNodes2Text:
    db = get_default_latex_context_db()
    # pylatexenc renders these as nothing or as look-alikes; we need the exact ASCII back.
    db.add_context_category(
        "bibsmith-ascii",
        prepend=True,
        macros=[
            MacroTextSpec("textless", "<"), MacroTextSpec("textgreater", ">"),
            MacroTextSpec("textbar", "|"), MacroTextSpec("textasciicircum", "^"),
            MacroTextSpec("textasciitilde", "~"), MacroTextSpec("textbackslash", "\\"),
            MacroTextSpec("textbraceleft", "{"), MacroTextSpec("textbraceright", "}"),
            MacroTextSpec("textit", "<i>%(1)s</i>"), MacroTextSpec("emph", "<i>%(1)s</i>"),
            MacroTextSpec("textbf", "<b>%(1)s</b>"), MacroTextSpec("textsuperscript", "<sup>%(1)s</sup>"),
            MacroTextSpec("textsubscript", "<sub>%(1)s</sub>"),
            MacroTextSpec("textsc", '<span style="font-variant:small-caps;">%(1)s</span>'),
            MacroTextSpec("url", "%(1)s"),
            # Box and font commands keep their text (pylatexenc would drop a known macro it has no text rule for).
            *[MacroTextSpec(name, "%(1)s") for name in ("mbox", "hbox", "text", "textrm", "textsf", "texttt", "textup",
                                                        "textmd", "textnormal", "textsl", "fbox", "ensuremath")],
            # TeX's logos, which pylatexenc renders as nothing.
            *[MacroTextSpec(name, text) for name, text in (("TeX", "TeX"), ("LaTeX", "LaTeX"), ("LaTeXe", "LaTeX2e"),
                                                          ("BibTeX", "BibTeX"), ("XeTeX", "XeTeX"), ("LuaTeX", "LuaTeX"),
                                                          ("XeLaTeX", "XeLaTeX"), ("LuaLaTeX", "LuaLaTeX"), ("AmS", "AMS"))],
        ],
    )
    return LatexNodes2Text(latex_context=db, math_mode="verbatim", strict_latex_spaces=True)


@lru_cache(maxsize=1)
def _encoder() -> UnicodeToLatexEncoder:
    return UnicodeToLatexEncoder(
        non_ascii_only=True,
        replacement_latex_protection="braces-all",
        unknown_char_policy="keep",
        unknown_char_warning=False,
    )


def split_math(text: str) -> list[tuple[bool, str]]:
    """Split text into (is_math, piece) runs, math being `$...$` or `\\(...\\)`."""
    if "$" not in text and "\\(" not in text:
        return [(False, text)] if text else []
    pieces: list[tuple[bool, str]] = []
    last = 0
    for match in MATH.finditer(text):
        if match.start() > last:
            pieces.append((False, text[last:match.start()]))
        pieces.append((True, match.group(0)))
        last = match.end()
    if last < len(text):
        pieces.append((False, text[last:]))
    return pieces


_SPACES = re.compile(r"\s+")


@lru_cache(maxsize=8192)
def to_unicode(value: str) -> str:
    """A BibTeX field value (LaTeX) as Unicode text; math is kept verbatim, spaces collapsed."""
    if too_deep(value):  # what the reader refuses, should it come another way: its text, not decoded
        return _SPACES.sub(" ", value.replace("{", "").replace("}", "")).strip()
    if _c_to_unicode is not None and not _simple():
        # The same text, computed in C; None for what needs pylatexenc (tests/test_fastlatex.py).
        text = _c_to_unicode(value)
        if text is not None:
            return text
    return _to_unicode_python(value)


def _to_unicode_python(value: str) -> str:
    """to_unicode without the C module and the cache: the reference the C module is held to."""
    if not _simple() and "$" not in value and _SPECIAL.search(value) is None:
        text = value  # nothing to decode: what the pieces below would give
    else:
        text = "".join(piece if is_math else _decode(piece) for is_math, piece in _split_raw_math(value))
    text = unicodedata.normalize("NFC", text).replace("\u00a0", " ")
    return _SPACES.sub(" ", text).strip()


@lru_cache(maxsize=1)
def _parser_db():
    # The parser must know these take an argument, or the text rules above cannot use it.
    db = latexwalker.get_default_latex_context_db()
    db.add_context_category("bibsmith-args", prepend=True, macros=[
        macrospec.MacroSpec(name, "{") for name in ("textit", "emph", "textbf", "textsuperscript", "textsubscript", "textsc",
                                                     "mbox", "hbox", "text", "textrm", "textsf", "texttt", "textup",
                                                     "textmd", "textnormal", "textsl", "fbox", "ensuremath")
    ])
    return db


# Characters and ligatures pylatexenc gives meaning to; a piece without any of them decodes to itself.
_SPECIAL = re.compile(r"[\\{}~%&#^_$]|--|''|``|[!?]`")

# By hand, because pylatexenc tokenizes character by character (60% of .bib -> CSL-JSON at 10k entries):
# the LaTeX that .bib files mostly hold (accents, escaped specials, braces, dashes). Anything else goes
# to pylatexenc; tests/test_fastpaths.py holds both to the same output.
ACCENTS = {"'": "\u0301", "`": "\u0300", "^": "\u0302", '"': "\u0308", "~": "\u0303", "=": "\u0304",
           ".": "\u0307", "c": "\u0327", "v": "\u030c", "u": "\u0306", "H": "\u030b", "k": "\u0328",
           "r": "\u030a", "d": "\u0323", "b": "\u0331"}
LETTERS = {"ss": "ß", "o": "ø", "O": "Ø", "l": "ł", "L": "Ł", "aa": "å", "AA": "Å", "ae": "æ", "AE": "Æ",
           "oe": "œ", "OE": "Œ"}
ESCAPED = {"&": "&", "%": "%", "$": "$", "#": "#", "_": "_", "{": "{", "}": "}"}

# One token of the supported subset; anything else (another macro, %, ^, _, `` '' etc.) -> fallback.
TOKEN = re.compile(r"""
    (?P<text>[^\\{}~%#^_$`'!?-]+|[-'!?`](?![-'`])|-(?!-))
  | (?P<dash>---|--)
  | (?P<tilde>~)
  | (?P<brace>[{}])
  | \\(?P<sym>['`^"~=.])(?:(?P<sa>[A-Za-z])|\{(?P<sb>[A-Za-z])\}|(?P<si>\\i(?![A-Za-z])[ \t\n]*|\{\\i\}))
  | \\(?P<ital>emph|textit|textbf)\{(?P<ib>[^\\{}~%#^_$`'!?-]*)\}
  | \\(?P<let>[cvuHkrdb])\{(?P<lb>[A-Za-z])\}
  | \\(?P<named>ss|aa|AA|ae|AE|oe|OE|[oOlL])(?![A-Za-z])(?:\{\})?
  | \\(?P<esc>[&%$\#_{}])
""", re.X)


def _fast_decode(piece: str) -> str | None:
    """The piece decoded by hand, or None when it holds anything outside the common subset."""
    out = []
    pos = 0
    n = len(piece)
    depth = 0
    while pos < n:
        m = TOKEN.match(piece, pos)
        if m is None:
            return None
        kind = m.lastgroup  # the innermost group that matched names the token (sa/sb/si for accents)
        if kind == "text":
            out.append(m.group())
        elif kind == "brace":
            depth += 1 if m.group() == "{" else -1
            if depth < 0:
                return None
        elif kind == "dash":
            out.append("\u2014" if m.group() == "---" else "\u2013")
        elif kind == "tilde":
            out.append("\u00a0")
        elif kind in ("sa", "sb", "si"):
            # An accent on a dotless i (\'\i) is an accented i, as pylatexenc reads it.
            out.append((m.group("sa") or m.group("sb") or "i") + ACCENTS[m.group("sym")])
        elif kind == "ib":
            tag = "b" if m.group("ital") == "textbf" else "i"
            out.append(f"<{tag}>{m.group('ib')}</{tag}>")
        elif kind == "lb":
            out.append(m.group("lb") + ACCENTS[m.group("let")])
        elif kind == "named":
            if piece.startswith(" ", m.end()):  # pylatexenc's rules for the space after a macro word
                return None
            out.append(LETTERS[m.group("named")])
        elif kind == "esc":
            out.append(ESCAPED[m.group("esc")])
        else:
            return None
        pos = m.end()
    if depth != 0:
        return None
    return "".join(out)


def _decode(piece: str) -> str:
    if not _simple() and _SPECIAL.search(piece) is None:
        return piece
    if not _simple():
        fast = _fast_decode(piece)
        if fast is not None:
            return fast
    return _slow_decode(piece)




def _slow_decode(piece: str) -> str:
    # A bare `&` (common in scraped .bib files) is text to BibTeX, but an alignment tab to pylatexenc.
    piece = re.sub(r"(?<!\\)&", r"\\&", piece)
    try:
        walker = latexwalker.LatexWalker(piece, latex_context=_parser_db(), tolerant_parsing=True)
        nodes, _, _ = walker.get_latex_nodes()
        return _decoder().nodelist_to_text(nodes)
    except (KeyError, IndexError, ValueError):
        # pylatexenc gives up on some malformed macro calls; the text without braces is the best reading.
        return piece.replace("{", "").replace("}", "")


def _split_raw_math(value: str) -> list[tuple[bool, str]]:
    # In LaTeX source an escaped \$ is not a math delimiter; hide it from the math pattern.
    hidden = value.replace(r"\$", "\x00")
    return [(m, p.replace("\x00", r"\$")) for m, p in split_math(hidden)]


@lru_cache(maxsize=4096)
def _letter(char: str, ascii_only: bool) -> str:
    if char in PLACEHOLDERS:
        return PLACEHOLDERS[char]
    if char in SPECIALS:
        return SPECIALS[char]
    if ord(char) < 128:
        return char
    return latex_character(char, ascii_only)


@lru_cache(maxsize=4096)
def latex_character(char: str, ascii_only: bool = True) -> str:
    """A non-ASCII character for LaTeX: its command when `ascii_only` (NoLatexForm when it has none);
    otherwise itself, unless pdfLaTeX cannot set it from UTF-8 whatever the font encoding: math
    symbols, Greek, arrows and other symbols become their command (`{\\ensuremath{\\approx}}`), which
    every engine accepts."""
    if not ascii_only:
        if unicodedata.category(char) in ("Sm", "So") or unicodedata.category(char)[0] == "L":
            encoded = _encoder().unicode_to_latex(char)
            if encoded != char and (unicodedata.category(char)[0] != "L" or "\\ensuremath" in encoded):
                return encoded
        return char
    encoded = _encoder().unicode_to_latex(char)
    if encoded != char:
        return encoded
    base, *marks = unicodedata.normalize("NFD", char)
    if not marks or ord(base) >= 128 or any(m not in COMBINING for m in marks):
        raise NoLatexForm(char)
    # Innermost accent first (NFD order), each wrapping the previous: {\~{\^{e}}}.
    inner = base
    for mark in marks:
        inner = f"\\{COMBINING[mark]}{{{inner}}}"
    return "{" + inner + "}"


def to_latex(text: str, ascii_only: bool = True) -> str:
    """Unicode text as LaTeX: specials escaped outside math, non-ASCII as commands when ascii_only."""
    if _simple():
        return _to_latex_by_character(text, ascii_only)
    out: list[str] = []
    for is_math, piece in split_math(text):
        if is_math:
            # Math stays as written; only non-ASCII symbols (μ, Δ) become commands for pdfLaTeX (in
            # UTF-8 output, what math holds is the writer's own: it is read back as written).
            out.append(_NON_ASCII.sub(lambda m: _letter(m.group(), True), piece) if ascii_only else piece)
        else:
            # "--" typed in the text means two hyphens; bare, TeX would join them into a dash.
            out.append(_TEXT_TO_ESCAPE.sub(lambda m: "-{}" if m.group() == "-" else _letter(m.group(), ascii_only), piece))
    return "".join(out)


# What _letter changes (specials, placeholders, non-ASCII) and the first of two hyphens: the rest of
# the text is copied as it is, instead of character by character as below.
_TEXT_TO_ESCAPE = re.compile("[" + re.escape("".join(SPECIALS)) + "]|[^\x00-\x7f]|-(?=-)")
_NON_ASCII = re.compile("[^\x00-\x7f]")


def _to_latex_by_character(text: str, ascii_only: bool) -> str:
    out: list[str] = []
    for is_math, piece in split_math(text):
        if is_math:
            out.append("".join(c if ord(c) < 128 or not ascii_only else _letter(c, True) for c in piece))
        else:
            out.append("".join("-{}" if c == "-" and piece[i + 1:i + 2] == "-" else _letter(c, ascii_only)
                               for i, c in enumerate(piece)))
    return "".join(out)


_VERBATIM_ESCAPE = re.compile(r"\\([_%#&$~])")


def verbatim(value: str) -> str:
    """A URL-like field (url, doi, eprint) as text: only the escapes people add are undone."""
    value = value.strip()
    if "\\" in value:
        value = _VERBATIM_ESCAPE.sub(r"\1", value)
        if value.startswith("\\url{") and value.endswith("}"):
            value = value[5:-1]
    return value.replace("{", "").replace("}", "").strip()

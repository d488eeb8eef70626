"""Brace protection for BibTeX titles: which words keep their capitals when a style lower-cases.

BibTeX styles such as `plain` and `IEEEtran` (and biblatex, for English) turn titles into sentence
case; only text inside braces keeps its case. Bracing every word (what some exporters do) breaks
kerning and hyphenation and is the most common complaint about exported .bib files, so `smart`
mode braces the fewest words that must keep their case:

1. A word with a capital letter after its first character: acronyms and inner capitals
   (`{BERT}`, `{ReLU}`, `{DistillSpec}`, `{ImageNet}`). An acronym followed by a plural `s`
   keeps the `s` outside: `{LLM}s`. Words are split at hyphens, so `{MLP}-mixers`.
2. A capitalized word with a digit (`{T5}`, `{B16}`), and a single capital letter other than `A`
   (`Top-{K}`, `Part {I}`).
3. A capitalized word from the proper-noun list in `mappings/bibtex.toml` (`{Gemini}`,
   `{Transformer}`, `{Bayesian}`, ...).
4. When the title is written in sentence case (most longer words start lower-case), every other
   capitalized word too, except the first word of the title or of a subtitle: the author has
   marked it as a name. In a title-case title, capitals are ordinary and rule 4 does not apply.

Math (`$...$`) is braced as a whole in `smart` and `all` mode, because BibTeX's case change reaches
into unbraced math. `all` braces the whole title once (`{{Title As Written}}`); `none` adds no braces.
"""

from __future__ import annotations

import re
import tomllib
from functools import lru_cache
from importlib import resources
from typing import Callable

from .latex import split_math

MODES = ("smart", "all", "none")

# A word: letters and digits, with inner apostrophes ("Bayes'", "don't").
WORD = re.compile(r"[^\W_]+(?:['\u2019][^\W_]+)*")
# Where a subtitle begins: styles keep the capital of its first word themselves.
SUBTITLE_SPLIT = re.compile(r"[:?!.\u2014]\s+")
ACRONYM_PLURAL = re.compile(r"^([A-Z][A-Z0-9]+)(s)$")


@lru_cache(maxsize=1)
def proper_nouns() -> frozenset[str]:
    """The capitalized words always protected (data in mappings/bibtex.toml)."""
    text = resources.files("bibsmith.mappings").joinpath("bibtex.toml").read_text(encoding="utf-8")
    return frozenset(tomllib.loads(text)["titlecase"]["proper_nouns"])


def _has_inner_capital(word: str) -> bool:
    rest = word[1:]
    if rest.isascii():
        return rest != rest.lower()  # the same answer for ASCII, without a loop per character
    return any(c.isupper() for c in rest)


def _capitalized(word: str) -> bool:
    return word[:1].isupper()


def is_sentence_case(title: str) -> bool:
    """True when most longer words after the first start lower-case (the author chose the capitals).

    Words after a hyphen are not counted: title case often leaves them lower-case ("In-context").
    """
    matches = list(WORD.finditer(title))[1:]
    words = [m.group(0) for m in matches if len(m.group(0)) >= 4 and m.group(0).isalpha()
             and not _has_inner_capital(m.group(0)) and title[m.start() - 1:m.start()] != "-"]
    if len(words) < 2:
        return False
    return sum(_capitalized(w) for w in words) * 3 < len(words) * 2


def needs_braces(word: str, starts_title: bool, sentence_case: bool) -> bool:
    """Whether a word must keep its capitals (rules 1-4 of the module docstring)."""
    if not _capitalized(word) and not _has_inner_capital(word):
        return False
    if _has_inner_capital(word) or any(c.isdigit() for c in word):
        return True
    if len(word) == 1:
        return word != "A"
    if word in proper_nouns():
        return True
    return sentence_case and not starts_title


def _masked(title: str) -> str:
    # Math replaced by letters of the same length: it counts as a word and cannot end a title.
    return "".join("x" * len(p) if is_math else p for is_math, p in split_math(title))


def _segments(masked: str) -> list[tuple[int, bool]]:
    """(start offset, is sentence case) of the title and each subtitle."""
    starts = [0] + [m.end() for m in SUBTITLE_SPLIT.finditer(masked)]
    ends = starts[1:] + [len(masked)]
    return [(a, is_sentence_case(masked[a:b])) for a, b in zip(starts, ends)]


def _protect_words(text: str, offset: int, encode: Callable[[str], str], masked: str) -> str:
    segments = _segments(masked)
    out: list[str] = []
    last = 0
    for match in WORD.finditer(text):
        out.append(encode(text[last:match.start()]))
        word = match.group(0)
        at = offset + match.start()
        start, sentence_case = [s for s in segments if s[0] <= at][-1]
        first = not WORD.search(masked, start, at)
        if needs_braces(word, first, sentence_case):
            plural = ACRONYM_PLURAL.match(word)
            if plural:
                out.append("{" + encode(plural.group(1)) + "}" + plural.group(2))
            else:
                out.append("{" + encode(word) + "}")
        else:
            out.append(encode(word))
        last = match.end()
    out.append(encode(text[last:]))
    return "".join(out)


def protect(title: str, mode: str, encode: Callable[[str], str]) -> str:
    """A Unicode title as BibTeX text: `encode` turns plain text into LaTeX, braces follow `mode`."""
    pieces = split_math(title)
    if mode == "none":
        return "".join(p if is_math else encode(p) for is_math, p in pieces)
    if mode == "all":
        return "{" + "".join(p if is_math else encode(p) for is_math, p in pieces) + "}"
    masked = _masked(title)
    out: list[str] = []
    offset = 0
    for is_math, piece in pieces:
        out.append("{" + piece + "}" if is_math else _protect_words(piece, offset, encode, masked))
        offset += len(piece)
    return "".join(out)

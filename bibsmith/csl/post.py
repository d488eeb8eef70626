"""Post-processing of rendered entries (marker text): punctuation fixes citeproc-py leaves undone."""

from __future__ import annotations

import re

from bibsmith.csl import marks

_M = f"[{re.escape(marks.TAG_MARKERS)}]*"  # tag markers may sit between two punctuation marks
_CLOSE_QUOTES = "\u201d\u2019"


def punctuation_in_quote(text: str) -> str:
    """Fix: US English puts a comma or period that follows a closing quote inside it (“…,”).

    citeproc-py reads the locale's punctuation-in-quote option but never applies it. As citeproc-js
    does, a period after a quote that already ends in ?, ! or . is dropped instead.
    """
    if not any(quote in text for quote in _CLOSE_QUOTES):  # (both patterns need one: no scan then)
        return text
    text = re.sub(f"([?!.])({_M}[{_CLOSE_QUOTES}]{_M})\\.", r"\1\2", text)
    return re.sub(f"({_M})([{_CLOSE_QUOTES}])({_M})([.,])", r"\4\1\2\3", text)


def doubled_punctuation(text: str) -> str:
    """Fix: a suffix's period after a title ending in ? or ! ("Suffice?."), or a period after an
    abbreviation's period, is printed twice; citeproc-py only dedupes at plain-string seams."""
    # Each pattern is run only on text holding the marks it needs (most entries have no ? ! or ;).
    if "?" in text or "!" in text:
        text = re.sub(f"([?!])({_M})\\.(?!\\.)", r"\1\2", text)
    text = re.sub(f"(?<!\\.)\\.({_M})\\.(?!\\.)", r".\1", text)
    text = re.sub(f",({_M}),", r",\1", text)
    if ";" in text:
        text = re.sub(f";({_M});", r";\1", text)
    return text


def spaces(text: str) -> str:
    """Runs of spaces (from empty affixes and seams) become one; no space before , or ."""
    text = re.sub(r"  +", " ", text)
    return text.strip()


def nested_quotes(text: str, outer: tuple[str, str], inner: tuple[str, str]) -> str:
    """Fix: quotes inside quotes alternate (“The ‘big data’ revolution”), as citeproc-js flips them;
    citeproc-py printed “The “big data” revolution”. A closing mark that is an apostrophe (it’s) stays."""
    opens = {outer[0]: "outer", inner[0]: "inner"}
    closes = {outer[1], inner[1]}
    # Only single characters can match; the text between them is copied as it is.
    chars = "".join(sorted({q for q in (*outer, *inner) if len(q) == 1}))
    if not chars or not any(q in text for q in chars):
        return text
    out, stack, last = [], [], 0
    for match in re.finditer(f"[{re.escape(chars)}]", text):
        n, char = match.start(), match.group()
        out.append(text[last:n])
        last = n + 1
        after = text[n + 1:n + 2]
        if char in opens and not (char in closes and stack):
            kind = "inner" if stack and stack[-1] == "outer" else "outer"
            stack.append(kind)
            out.append(outer[0] if kind == "outer" else inner[0])
        elif char in closes and stack and not (char == "\u2019" and after.isalpha()):
            kind = stack.pop()
            out.append(outer[1] if kind == "outer" else inner[1])
        else:
            out.append(char)
    out.append(text[last:])
    return "".join(out) if not stack else text  # unbalanced: leave as written


def tidy(text: str, punctuation_inside_quotes: bool, quotes: tuple[tuple[str, str], tuple[str, str]] | None = None) -> str:
    """Every post-fix, in order."""
    if quotes and quotes[0] != quotes[1]:
        text = nested_quotes(text, *quotes)
    if punctuation_inside_quotes:
        text = punctuation_in_quote(text)
    return spaces(doubled_punctuation(text))

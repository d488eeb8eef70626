"""Post-processing of rendered entries (marker text): punctuation fixes citeproc-py leaves undone."""

from __future__ import annotations

import re

from bibtool.csl import marks

_M = f"[{re.escape(marks.TAG_MARKERS)}]*"  # tag markers may sit between two punctuation marks
_CLOSE_QUOTES = "\u201d\u2019"


def punctuation_in_quote(text: str) -> str:
    """Fix: US English puts a comma or period that follows a closing quote inside it (“…,”).

    citeproc-py reads the locale's punctuation-in-quote option but never applies it. As citeproc-js
    does, a period after a quote that already ends in ?, ! or . is dropped instead.
    """
    text = re.sub(f"([?!.])({_M}[{_CLOSE_QUOTES}]{_M})\\.", r"\1\2", text)
    return re.sub(f"({_M})([{_CLOSE_QUOTES}])({_M})([.,])", r"\4\1\2\3", text)


def doubled_punctuation(text: str) -> str:
    """Fix: a suffix's period after a title ending in ? or ! ("Suffice?."), or a period after an
    abbreviation's period, is printed twice; citeproc-py only dedupes at plain-string seams."""
    text = re.sub(f"([?!])({_M})\\.(?!\\.)", r"\1\2", text)
    text = re.sub(f"(?<!\\.)\\.({_M})\\.(?!\\.)", r".\1", text)
    text = re.sub(f",({_M}),", r",\1", text)
    return re.sub(f";({_M});", r";\1", text)


def spaces(text: str) -> str:
    """Runs of spaces (from empty affixes and seams) become one; no space before , or ."""
    text = re.sub(r"  +", " ", text)
    return text.strip()


def tidy(text: str, punctuation_inside_quotes: bool) -> str:
    """Every post-fix, in order."""
    if punctuation_inside_quotes:
        text = punctuation_in_quote(text)
    return spaces(doubled_punctuation(text))

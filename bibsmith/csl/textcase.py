"""CSL text-case as citeproc-js applies it (a fix of citeproc-py's TextCased, used by our elements)."""

from __future__ import annotations

import re
import tomllib
from functools import lru_cache
from pathlib import Path

from citeproc.string import MixedString, NoCase, String


class CaseFix:
    """Fix: text-case damages mixed-case words ("arXiv" -> "ArXiv"), skips labels ("eds." stays
    lower-case under text-case="title"), and title case ignores the parts of hyphenated words."""

    def case(self, text, language=None):
        text_case = self.get("text-case")
        if text_case is None:
            return text
        if language is None:  # labels and terms: the style's language
            language = self.get_root().get("default-locale", "en")[:2]
        if text_case == "title" and language != "en":
            return text
        if text_case == "lowercase":
            return text.lower()
        if text_case == "uppercase":
            return text.upper()
        if text_case == "capitalize-first":
            return _map_words(text, lambda word, first: _capitalize(word) if first else word)
        if text_case == "capitalize-all":
            return _map_words(text, lambda word, first: _capitalize(word))
        if text_case == "title":
            return _title_case(text, stop_words())
        if text_case == "sentence":
            return _map_words(text, lambda word, first: _capitalize(word) if first else (
                word if _is_mixed(word) or word.isupper() else word.lower()))
        return text


def _is_mixed(word: str) -> bool:
    letters = [c for c in word if c.isalpha()]
    return any(c.isupper() for c in letters[1:])


def _capitalize(word: str) -> str:
    # Only all-lower-case words change (CSL 1.0.2 §text-case): "arXiv" and "iPhone" keep their case.
    if not word.islower():
        return word
    for i, char in enumerate(word):
        if char.isalpha():
            return word[:i] + char.upper() + word[i + 1:]
    return word


def _map_words(text, change):
    """Apply change(word, is_first) to each word of a String/MixedString, keeping NoCase parts."""
    segments = list(text) if isinstance(text, MixedString) else [text]
    out, first = [], True
    for segment in segments:
        if isinstance(segment, NoCase) or not isinstance(segment, str):
            out.append(segment)
            first = False if str(segment).strip() else first
            continue
        pieces = re.split(r"(\s+)", str(segment))
        for n, piece in enumerate(pieces):
            if piece and not piece.isspace():
                pieces[n] = change(piece, first)
                first = False
        out.append(type(segment)("".join(pieces)) if isinstance(segment, String) else "".join(pieces))
    return MixedString(out) if isinstance(text, MixedString) else out[0]


@lru_cache(maxsize=1)
def stop_words() -> frozenset[str]:
    """Words title case keeps lower-case: data in mappings/csl-title-case.toml (citeproc-js's list)."""
    path = Path(__file__).resolve().parent.parent / "mappings" / "csl-title-case.toml"
    return frozenset(tomllib.loads(path.read_text(encoding="utf-8"))["stop_words"])


def _title_case(text, stop):
    """CSL title case as citeproc-js applies it: lower-case words that are not stop words are
    capitalized, and stop words too when first, last or after a colon; hyphen, en dash, slash and
    in-word period parts count as words; a one-letter word before a hyphen is capitalized ("K-SAT")."""
    segments = list(text) if isinstance(text, MixedString) else [text]
    words = [w for segment in segments if not isinstance(segment, NoCase) for w in _WORD_SPLIT.split(str(segment)) if w]
    tail = [seg for seg in segments if str(seg).strip()]
    last_counts = bool(tail) and not isinstance(tail[-1], NoCase)  # "…of b2 and $x$": "and" is not last
    state = {"after": True, "seen": 0}

    def one(part: str, is_last: bool) -> str:
        bare = re.sub(r"^[^\w]+|[^\w.']+$", "", part).lower()
        capital = (len(bare) > 1 and bare not in stop) or state["after"] or (is_last and len(bare) > 1)
        state["after"] = bool(re.search(r"[:?!]$", part))
        return _capitalize(part) if capital else part

    def change(word: str, first: bool) -> str:
        pieces = _PIECE_SPLIT.split(word)
        out = []
        for n, piece in enumerate(pieces):
            if not piece or _PIECE_SPLIT.fullmatch(piece):
                out.append(piece)
                continue
            state["seen"] += 1
            if len(piece) == 1 and n + 1 < len(pieces) and pieces[n + 1] == "-":
                state["after"] = True
            out.append(one(piece, last_counts and state["seen"] == len(words)))
        return "".join(out)

    return _map_words(text, change)


_WORD_SPLIT = re.compile(r"[\s/\u2013-]+|(?<=[a-z])\.(?=[A-Za-z])")
_PIECE_SPLIT = re.compile(r"(-|\u2013|/|(?<=[a-z])\.(?=[A-Za-z]))")

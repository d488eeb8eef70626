"""Personal names -> CSL name parts.

bibtexparser's name splitter implements BibTeX's own rules (lower-case words before the last name are
the "von" particle; "Last, Jr, First" with commas), which get particles, initials, hyphens and inner
capitals right. What it does not know is a suffix written without commas ("Martin Luther King Jr."),
so a small table of suffixes is applied first.
"""

from __future__ import annotations

import re
from functools import lru_cache

from bibtexparser.middlewares.names import InvalidNameError, parse_single_name_into_parts

SUFFIXES = frozenset({"jr", "jr.", "sr", "sr.", "ii", "iii", "iv", "v", "vi", "2nd", "3rd", "4th"})

_SPACE = re.compile(r"\s+")


def is_suffix(word: str) -> bool:
    """True for a generational suffix such as Jr., Sr., III or IV."""
    return word.strip().lower().rstrip(",") in SUFFIXES


@lru_cache(maxsize=65536)
def _split(text: str) -> tuple[tuple[str, str], ...]:
    if text.startswith("{") and text.endswith("}") and text.count("{") == 1:
        return (("literal", text[1:-1].strip()),)
    words = text.split(" ")
    suffix = ""
    # "Given Family Jr." (no commas): take the suffix off before the BibTeX rules see it.
    if "," not in text and len(words) >= 3 and is_suffix(words[-1]):
        suffix = words.pop()
        text = " ".join(words)
    try:
        parts = parse_single_name_into_parts(text, strict=False)
    except InvalidNameError:
        return (("literal", text),)
    result: list[tuple[str, str]] = []
    if parts.first:
        result.append(("given", " ".join(parts.first)))
    if parts.von:
        result.append(("non-dropping-particle", " ".join(parts.von)))
    if parts.last:
        result.append(("family", " ".join(parts.last)))
    jr = " ".join(parts.jr) or suffix
    if jr:
        result.append(("suffix", jr))
    if not any(key == "family" for key, _ in result):
        return (("literal", text),)
    return tuple(result)


def split_name(text: str) -> dict[str, str]:
    """CSL name parts of one personal name written 'Given von Family Jr.' or 'von Family, Jr., Given'.

    A name in braces ('{Google DeepMind}') is a literal (corporate) name.
    """
    cleaned = _SPACE.sub(" ", text.replace("\u00a0", " ")).strip()
    if not cleaned:
        return {}
    return dict(_split(cleaned))


def display_name(name: dict[str, str]) -> str:
    """A name in reading order: 'Aäron van den Oord', 'Martin Luther King Jr.'."""
    if "literal" in name:
        return name["literal"]
    pieces = [name.get("given", ""), name.get("dropping-particle", ""), name.get("non-dropping-particle", ""),
              name.get("family", ""), name.get("suffix", "")]
    return " ".join(p for p in pieces if p)

"""Citation keys: deterministic `familyYEARfirstword`, lower-case ASCII, unique within a library."""

from __future__ import annotations

import re
import unicodedata

# Words skipped when choosing a title's first word, as Google Scholar's keys do ("li2022lazy").
STOPWORDS = frozenset("a an the on of in at to for and from with by".split())

# Letters that Unicode does not decompose into ASCII plus accents.
_SPECIAL_ASCII = str.maketrans({"ß": "ss", "æ": "ae", "Æ": "AE", "ø": "o", "Ø": "O", "œ": "oe", "Œ": "OE",
                                "ł": "l", "Ł": "L", "đ": "d", "Đ": "D", "ð": "d", "þ": "th", "ı": "i"})
_MATH = re.compile(r"\$[^$]*\$")
_NOT_KEY = re.compile(r"[^a-z0-9]+")


def ascii_fold(text: str) -> str:
    """Drop accents and map special letters to ASCII ('Aäron' -> 'Aaron', 'Łukasz' -> 'Lukasz')."""
    if text.isascii():
        return text
    decomposed = unicodedata.normalize("NFKD", text.translate(_SPECIAL_ASCII))
    return decomposed.encode("ascii", "ignore").decode("ascii")


class FoldTable(dict):
    """A str.translate table that maps each character through `fold`, computed on first use.

    Valid for folds that work character by character. ascii_fold does: NFKD decomposes each character
    on its own and its reordering only moves combining marks, which are dropped.
    """

    def __init__(self, fold) -> None:
        super().__init__()
        self.fold = fold

    def __missing__(self, code: int) -> str:
        folded = self[code] = self.fold(chr(code))
        return folded


_KEY_WORD = FoldTable(lambda c: _NOT_KEY.sub("", ascii_fold(c).lower()))


def key_word(text: str) -> str:
    """Lower-case ASCII letters and digits only."""
    if text.isascii():
        text = text.lower()
        return text if text.isalnum() else _NOT_KEY.sub("", text)
    return text.translate(_KEY_WORD)


def first_title_word(title: str) -> str:
    """The title's first word that is not a stop word or math, as a key fragment."""
    words = [key_word(w) for w in _MATH.sub(" ", title).replace("-", " ").split()]
    words = [w for w in words if w]
    for word in words:
        if word not in STOPWORDS:
            return word
    return words[0] if words else ""


def base_key(record: dict) -> str:
    """`familyYEARfirstword` for a record, from its first author (or editor), year and title.

    Malformed values (reported by the record checks) give an empty part, never an exception.
    """
    names = record.get("author") or record.get("editor") or []
    first = names[0] if isinstance(names, list) and names and isinstance(names[0], dict) else {}
    family = key_word(str(first.get("family") or str(first.get("literal", "")).split(" ")[0]))
    issued = record.get("issued")
    parts = issued.get("date-parts") if isinstance(issued, dict) else None
    year = str(parts[0][0]) if isinstance(parts, list) and parts and isinstance(parts[0], list) and parts[0] else ""
    title = record.get("title")
    return (family or "anon") + key_word(year) + first_title_word(title if isinstance(title, str) else "")


def suffixes():
    """a, b, ..., z, aa, ab, ... for keys that collide."""
    letters = "abcdefghijklmnopqrstuvwxyz"
    n = 0
    while True:
        text, k = "", n
        while True:
            text = letters[k % 26] + text
            k = k // 26 - 1
            if k < 0:
                break
        yield text
        n += 1


def assign_keys(records: list[dict]) -> None:
    """Give every record without an id a unique `familyYEARfirstword` key, in place.

    Keys already present are kept. When generated keys collide, every colliding record gets a
    suffix a, b, ... in order of date, then title, so the result does not depend on input order.
    """
    taken = {str(r["id"]) for r in records if r.get("id") not in (None, "")}
    groups: dict[str, list[dict]] = {}
    for record in records:
        if record.get("id") in (None, ""):
            groups.setdefault(base_key(record), []).append(record)
    for base, group in groups.items():
        if len(group) == 1 and base not in taken:
            group[0]["id"] = base
            taken.add(base)
            continue
        group.sort(key=lambda r: (str((r.get("issued") or {}).get("date-parts")), r.get("title", "")))
        letters = suffixes()
        for record in group:
            key = base + next(letters)
            while key in taken:
                key = base + next(letters)
            record["id"] = key
            taken.add(key)

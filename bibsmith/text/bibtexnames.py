"""BibTeX name lists ("Knuth, Donald E. and van der Berg, Jan and others") as CSL names, fast.

`names_from_bibtex(raw)` returns exactly what the BibTeX reader's `_names` returned when it called
bibtexparser directly: the list is split at ` and ` (`split_multiple_persons_names`), each person is
cut into first/von/last/jr by BibTeX's rules (`parse_single_name_into_parts(..., strict=False)`), and
each part is decoded with `to_unicode`. bibtexparser is the reference; `_reference_names` below is
that code path, unchanged, and it is what runs when `BIBSMITH_SIMPLE=1`.

Why by hand: bibtexparser's two functions walk the text one character at a time in Python, and they
were measured to dominate the reader (1.4-2 s of profiled CPU, 0.36 s unprofiled, for the 37,824
persons of a 10,000-entry file). Here (1) each person and each whole field is cached (real libraries
name the same people over and over; a cached name is read-only and callers get fresh dicts, as they
may change them), and (2) a cache miss is split with regular expressions and str.split that give the
same persons, words, sections and word cases as bibtexparser's state machines (bibtexparser is the
reference: tests/test_bibtexnames.py compares the two on real files and generated names). Whatever
these do not reproduce exactly is handed to bibtexparser itself:

- splitting the list: a backslash outside braces right after white space or after white space and
  `a`, `an` or `and` (bibtexparser skips an escaped pair while it looks for " and ", as in
  "Chapman \\& Hall"), or in front of white space; a backslash that escapes a brace or a backslash,
  or ends the text; unbalanced braces, or braces nested more than five deep;
- one person: a backslash outside braces in front of white space or `~` (`\\~n` is braced beforehand,
  as the reader always did, `\\~{n}` is not); a backslash that escapes a brace or a backslash, or
  ends the text; unbalanced braces, or braces nested more than five deep.

Faster still where it is built: bibsmith/_fastnames.c does what names_from_bibtex does below for the
common name lists (its own caches, the same to_unicode) and says None for the rest, which this code
reads as before (tests/test_fastnames.py holds the two to the same output).
"""

from __future__ import annotations

import re
from functools import lru_cache
from types import MappingProxyType

from ..fastpaths import simple
from .latex import to_unicode

try:  # names_from_bibtex in C (bibsmith/_fastnames.c), when a compiler was there at install
    from bibsmith import _fastnames
except ImportError:
    _fastnames = None
if _fastnames is not None:
    _fastnames.configure(to_unicode)  # the name parts are decoded by the same to_unicode


# bibtexparser's own functions, imported when first needed (the fast paths rarely need them, and the
# import is 10 ms of every run's start-up).
def split_multiple_persons_names(names: str) -> list[str]:
    from bibtexparser.middlewares.names import split_multiple_persons_names as split

    return split(names)


def parse_single_name_into_parts(name: str, strict: bool = True):
    from bibtexparser.middlewares.names import parse_single_name_into_parts as parse

    return parse(name, strict=strict)


# The reader's own patterns (bibsmith/readers/bibtex.py), copied so that this module stands alone.
EXTENDED_NAME = re.compile(r"^\s*(?:family|given|prefix|suffix|useprefix)\s*=", re.I)
UNBRACED_ACCENT = re.compile(r"\\([`'^\"~=.])([A-Za-z])")

_Name = MappingProxyType  # a CSL name (read-only: what callers get is a copy)
_OTHERS = None  # the person "others": the list is truncated

# A brace group, nested up to five deep (the reader braces `\^e` in `{\~{\^e}}` once more), with no
# backslash that escapes a brace or a backslash (bibtexparser does not count an escaped brace).
_IN_GROUP = r"(?:[^{}\\]++|\\[^{}\\])"
_GROUP = _IN_GROUP + r"*+"
for _ in range(4):
    _GROUP = r"(?:" + _IN_GROUP + r"|\{" + _GROUP + r"\})*+"
_GROUP = r"\{" + _GROUP + r"\}"

# ---------------------------------------------------------------- splitting the list at " and "
# bibtexparser's splitter only knows " \r\n\t" as white space (not `~`), strips the list of it, and
# splits at white space + `and` (any case) + white space when the next character starts a word (a `{`
# does). Nothing inside braces splits. So a person is a run of brace groups, other characters, and
# white space that is not such a separator; each match of _PERSONS is one person and the separator
# after it (then comes an empty match at the end), and the matches must leave no gap.
# bibtexparser skips an escaped pair without changing its state, which outside braces is the same as
# reading two ordinary characters only where it is not looking at (or right after) white space or a
# partial " and", and the pair is no escaped white space, brace or backslash. Anything else (and
# unbalanced or too deeply nested braces) leaves a gap between the matches: then bibtexparser splits.
_SAFE_ESCAPE = r"(?<![ \t\r\n])(?<![ \t\r\n][aA])(?<![ \t\r\n][aA][nN])(?<![ \t\r\n][aA][nN][dD])\\[^ \t\r\n{}\\]"
_SEPARATOR = r"[ \t\r\n]++[aA][nN][dD][ \t\r\n]++(?=[^ \t\r\n])"
_NOT_SEPARATOR = r"[ \t\r\n]++(?![aA][nN][dD][ \t\r\n]++[^ \t\r\n])"
_PERSON_RUN = r"((?:[^{}\\ \t\r\n]++|" + _GROUP + "|" + _NOT_SEPARATOR + "|" + _SAFE_ESCAPE + r")*+)"
_PERSONS = re.compile(_PERSON_RUN + r"(?:" + _SEPARATOR + r"|\Z)")
_PERSONS_AND_SEPARATORS = re.compile(_PERSON_RUN + r"(" + _SEPARATOR + r"|\Z)")


def _split_persons(raw: str) -> list[str]:
    """`split_multiple_persons_names(raw)`."""
    names = raw.strip(" \r\n\t")
    if not names:
        return []
    persons = _PERSONS.findall(names)
    persons.pop()  # the empty match at the end
    # Each separator has 5 characters or more, so this sum is the length only if the matches leave no
    # gap and every separator is " and " (the common case) ...
    if sum(map(len, persons)) + 5 * len(persons) - 5 == len(names):
        return persons
    # ... otherwise count the separators too.
    found = _PERSONS_AND_SEPARATORS.findall(names)
    found.pop()
    if sum([len(person) + len(separator) for person, separator in found]) != len(names):
        return split_multiple_persons_names(raw)
    return [person for person, _ in found]


# ---------------------------------------------------------------- one person: first, von, last, jr
# Words are separated by " ~\r\n\t" and commas outside braces; a word is plain characters, escaped
# pairs (`\c`, c not white space, `~`, a brace or a backslash) and brace groups.
_WORD = r"(?:[^ \t\r\n~,{}\\]++|\\[^ \t\r\n~{}\\]|" + _GROUP + r")++"
_PERSON = re.compile(r"(?:" + _WORD + r"|[ \t\r\n~,]++)*+")
_TOKEN = re.compile(_WORD + r"|,")
_WHITESPACE = " ~\r\n\t"


def _word_case(word: str) -> int:
    """1 upper case, 0 lower case, -1 caseless: bibtexparser's rules, for one word of a person."""
    first = word[0]
    if first.isalpha():
        return 1 if first.isupper() else 0
    # bibtexparser's state machine, restricted to finding the first character that decides the case.
    level, bracestart, controlseq, specialchar = 0, False, False, False
    chars = iter(word)
    for char in chars:
        if char == "\\":
            escaped = next(chars, None)
            if escaped is not None:
                if escaped in _WHITESPACE:
                    char = escaped  # not an escape for BibTeX: the character is read as it stands
                else:
                    if bracestart:
                        bracestart = False
                        controlseq = escaped.isalpha()
                        specialchar = True
                    elif escaped.isalpha():
                        return 1 if escaped.isupper() else 0
                    continue
        if char == "{":
            level += 1
            bracestart, controlseq, specialchar = True, False, False
            continue
        bracestart = False
        if char == "}":
            level = max(level - 1, 0)
            controlseq = specialchar = False
            continue
        if level:
            if controlseq:
                if not char.isalpha():
                    controlseq = False
            elif specialchar and char.isalpha():
                return 1 if char.isupper() else 0
            continue
        if char.isalpha():
            return 1 if char.isupper() else 0
    return -1


def _parts(person: str) -> tuple[list[str], list[str], list[str], list[str]]:
    """(first, von, last, jr) as `parse_single_name_into_parts(person, strict=False)` gives them."""
    if "{" in person or "}" in person or "\\" in person or not person.isprintable():
        if not _PERSON.fullmatch(person):
            parts = parse_single_name_into_parts(person, strict=False)
            return parts.first, parts.von, parts.last, parts.jr
        sections: list[list[str]] = [[]]
        for token in _TOKEN.findall(person):
            if token == ",":
                if len(sections) < 3:
                    sections.append([])  # a fourth section is not started: its words go on in the third
            else:
                sections[-1].append(token)
    else:
        # No braces, no backslash, and the only white space is " " (and `~`): str.split does it.
        sections = [[word for word in section.split(" ") if word] for section in person.replace("~", " ").split(",")]
        if len(sections) > 3:
            sections[2:] = [[word for section in sections[2:] for word in section]]
    if not sections[-1]:
        sections.pop()  # a trailing comma
    if not any(sections):
        return [], [], [], []
    first: list[str] = []
    von: list[str] = []
    last: list[str] = []
    jr: list[str] = []
    if len(sections) == 1:  # First von Last
        words = sections[0]
        if len(words) == 1:
            last = words
        elif len(words) == 2:
            first, last = words[:1], words[1:]
        else:
            cases = [_word_case(word) for word in words]
            if 0 in cases:
                firstl = cases.index(0) - len(cases)
                lastl = -cases[::-1].index(0) - 1
                if lastl == -1:
                    lastl -= 1  # the last name cannot be empty
                first, von, last = words[:firstl], words[firstl:lastl + 1], words[lastl + 1:]
            else:
                first, last = words[:-1], words[-1:]
    else:  # von Last, First  or  von Last, Jr, First
        first = sections[-1]
        if len(sections) == 3:
            jr = sections[-2]
        words = sections[0]
        if len(words) == 1:
            last = words
        else:
            cases = [_word_case(word) for word in words]
            if 0 in cases:
                split = 0
                for i in range(len(cases) - 2, -1, -1):
                    if cases[i] == 0:
                        split = i + 1
                        break
                von, last = words[:split], words[split:]
            else:
                last = words
    return first, von, last, jr


# ---------------------------------------------------------------- persons and lists
_BRACE = re.compile(r"[{}]")


def closing_brace(text: str, start: int) -> int:
    """Where the brace group opening at `start` closes (every brace counts); ValueError if never."""
    depth = 0
    for match in _BRACE.finditer(text, start):
        if match.group() == "{":
            depth += 1
        else:
            depth -= 1
            if depth == 0:
                return match.start()
    raise ValueError("unbalanced braces")


def _split_top_level(text: str, separator: str) -> list[str]:
    """Split at a separator that is not inside braces."""
    parts, depth, start = [], 0, 0
    for i, char in enumerate(text):
        depth += char == "{"
        depth -= char == "}"
        if char == separator and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    return parts + [text[start:]]


def _extended_name(text: str) -> dict[str, str]:
    """A biblatex extended-format name (`family=Last, given=First, prefix=von`)."""
    keys = {"family": "family", "given": "given", "prefix": "non-dropping-particle", "suffix": "suffix"}
    name: dict[str, str] = {}
    for part in _split_top_level(text, ","):
        key, _, value = part.partition("=")
        if key.strip().lower() in keys:
            name[keys[key.strip().lower()]] = to_unicode(value.strip())
    return name


def _literal(stripped: str) -> bool:
    return stripped.startswith("{") and stripped.endswith("}") and closing_brace(stripped, 0) == len(stripped) - 1


@lru_cache(maxsize=65536)
def _person(person: str) -> _Name | None:
    """One person as a read-only CSL name, or None for `others`."""
    stripped = person.strip()
    if stripped.lower() == "others":
        return _OTHERS
    if _literal(stripped):
        return MappingProxyType({"literal": to_unicode(stripped[1:-1])})
    if "=" in stripped and EXTENDED_NAME.match(stripped):
        return MappingProxyType(_extended_name(stripped))
    # `~` separates name words for BibTeX, so `\~n` must be braced before splitting.
    if "\\" in person:
        person = UNBRACED_ACCENT.sub(r"{\\\1\2}", person)
    first, von, last, jr = _parts(person)
    name = {}
    if last and (family := to_unicode(" ".join(last))):
        name["family"] = family
    if first and (given := to_unicode(" ".join(first))):
        name["given"] = given
    if von and (particle := to_unicode(" ".join(von))):
        name["non-dropping-particle"] = particle
    if jr and (suffix := to_unicode(" ".join(jr))):
        name["suffix"] = suffix
    return MappingProxyType(name)


@lru_cache(maxsize=4096)
def _field(raw: str) -> tuple[tuple[_Name, ...], bool]:
    """A whole name list (fields repeat too: a crossref's editors in each of its children)."""
    names = tuple(map(_person, _split_persons(raw)))
    if _OTHERS in names:
        return tuple(name for name in names if name is not _OTHERS), True
    return names, False


def names_from_bibtex(raw: str) -> tuple[list[dict[str, str]], bool]:
    """BibTeX names (split with `and`, in BibTeX's own first/von/last/jr rules) as CSL names, and
    whether the list ends in `others`. Fresh dicts on every call (callers may change them)."""
    if simple():
        return _reference_names(raw)
    if _fastnames is not None:
        # The same names, computed in C; None for what only the Python code below reads
        # (tests/test_fastnames.py holds both to the same output).
        found = _fastnames.names(raw)
        if found is not None:
            return found
    names, truncated = _field(raw)
    return [name.copy() for name in names], truncated


def _reference_names(raw: str) -> tuple[list[dict[str, str]], bool]:
    """The reference: bibtexparser's splitter and name parser, no caches (the reader's code until issue 8)."""
    names: list[dict[str, str]] = []
    truncated = False
    for person in split_multiple_persons_names(raw):
        if person.strip().lower() == "others":
            truncated = True
            continue
        stripped = person.strip()
        if _literal(stripped):
            names.append({"literal": to_unicode(stripped[1:-1])})
            continue
        if EXTENDED_NAME.match(stripped):
            names.append(_extended_name(stripped))
            continue
        person = UNBRACED_ACCENT.sub(r"{\\\1\2}", person)
        parts = parse_single_name_into_parts(person, strict=False)
        name = {
            "family": to_unicode(" ".join(parts.last)),
            "given": to_unicode(" ".join(parts.first)),
            "non-dropping-particle": to_unicode(" ".join(parts.von)),
            "suffix": to_unicode(" ".join(parts.jr)),
        }
        names.append({k: v for k, v in name.items() if v})
    return names, truncated

"""A fast splitter for well-formed .bib files, giving exactly the blocks bibtexparser v2's splitter gives.

Why by hand: bibtexparser's splitter walks the file one delimiter at a time in Python and was measured
at 0.7 s of 10,000 entries, more than the whole conversion may take (issue 8). Here each field is one
match of a regular expression (possessive, so it never backtracks). The grammar is bibtexparser's own:
a `{`, `}`, `"`, `,`, `=` or newline right after a backslash is not a delimiter, braces nest, quotes
count only outside braces and braces do not count inside quotes, a value ends at `,` or `}` outside
both. Whatever this splitter does not read exactly as bibtexparser would (a `(`-delimited block, a
duplicate key, a syntax error, a block start at the beginning of a line inside a block, a newline
after a backslash, `{"}` in quotes, braces nested more than eight deep) makes `split` return None,
and the caller reads the file with bibtexparser, which also words the error messages.
One difference on purpose: only `@comment` itself is a comment. bibtexparser takes any type that starts
with "comment" for one, but `@commentary` and `@commented` are biblatex entry types (the reader reads
bibtexparser's such comments again as entries).

`split` runs the C module bibsmith._fastsplit (bibsmith/_fastsplit.c) when it was built: the same
result, several times faster; `_split_python` below is the reference it is tested against and what
runs without it.
"""

from __future__ import annotations

import re
from itertools import islice
from typing import NamedTuple

try:
    from bibsmith import _fastsplit
except ImportError:  # not built (no C compiler): the Python code below does the same
    _fastsplit = None

# One character that is not a delimiter, or a backslash and the delimiter it escapes.
_PLAIN = r'(?:[^{}",\\]++|\\[{}",=\n]?)'
_IN_BRACES = r'(?:[^{}\\]++|\\[{}",=\n]?)'
_IN_QUOTES = r'(?:[^"\\]++|\\[{}",=\n]?)'


def _braced(depth: int) -> str:
    inner = _IN_BRACES
    for _ in range(depth):
        inner = r"(?:" + _IN_BRACES + r"|\{" + inner + r"*+\})"
    return r"\{" + inner + r"*+\}"


_BRACED = _braced(8)
_QUOTED = r'"' + _IN_QUOTES + r'*+"'
_VALUE = r"(?:" + _PLAIN + r"|" + _BRACED + r"|" + _QUOTED + r")*+"

BLOCK_START = re.compile(r"@(\w*)[ \t]*([{(])")
# After `@type{`: the key up to the first delimiter.
ENTRY_KEY = re.compile(r'([^{}",=\\]*+)([,}])')
_FIELD = r'[^{}",=\\]*+=' + _VALUE
# The fields after the key's comma, each ended by `,` or the entry's `}`; checked whole, then taken apart.
ENTRY_BODY = re.compile(r"(?:" + _FIELD + r",)*+(?:" + _FIELD + r"\}|\s*+\})")
FIELD = re.compile(r'([^{}",=\\]*+)=(' + _VALUE + r")[,}]")
STRING_BODY = re.compile(r'([^{}",=\\]*+)=((?:' + _IN_BRACES + r"|" + _BRACED + r")*+)\}")
FREE_BODY = re.compile(_BRACED)
# bibtexparser ends any block at a line that starts a new one.
LINE_START_BLOCK = re.compile(r"\n\s*@\w*[ \t]*[{(]")

# A field is (name as written, value as written with its delimiters), surrounding space stripped.
RawField = tuple[str, str]


class RawEntry(NamedTuple):
    entry_type: str  # lower case
    key: str
    fields: list[RawField] | None
    line: int  # 0-based line of the `@`
    offset: int  # of the `@`

    def field_line(self, text: str, index: int) -> int:
        """0-based line of the `=` of field `index` (found again: only messages need it)."""
        head = ENTRY_KEY.match(text, BLOCK_START.match(text, self.offset).end())
        field = next(islice(FIELD.finditer(text, head.end()), index, None))
        return self.line + text.count("\n", self.offset, field.start(2) - 1)


class RawString(NamedTuple):
    key: str
    value: str
    line: int
    offset: int  # of the `@`


def split(text: str, start: int = 0, end: int | None = None, line: int = 0,
          keep_fields: bool = True) -> list[RawEntry | RawString] | None:
    """The entries and @string blocks of `text[start:end]` in order, or None when bibtexparser must read it.

    `start` must be where a block starts or the file starts, and `end` where a block starts or the file
    ends; `line` is the 0-based line at `start`. Without `keep_fields` the fields are only checked for
    their syntax (entries have fields=None); duplicate field names are then not looked for.
    """
    if _fastsplit is not None:
        # NotImplemented: arguments the C code does not take (a str subclass, bounds out of range, ...).
        blocks = _fastsplit.split(text, start, end, line, keep_fields, RawEntry, RawString)
        if blocks is not NotImplemented:
            return blocks
    return _split_python(text, start, end, line, keep_fields)


def _split_python(text: str, start: int = 0, end: int | None = None, line: int = 0,
                  keep_fields: bool = True) -> list[RawEntry | RawString] | None:
    """`split` with the regular expressions above: the reference for bibsmith/_fastsplit.c."""
    end = len(text) if end is None else end
    if text.find("\\\n", start, end) >= 0 or text.find('{"}', start, end) >= 0:
        return None
    blocks: list[RawEntry | RawString] = []
    entry_keys: set[str] = set()
    string_keys: set[str] = set()
    pos = start
    line_pos = start
    count = text.count
    while True:
        found = BLOCK_START.search(text, pos, end)
        if found is None:
            return blocks
        if found.group(2) == "(":
            return None
        block_start = found.start()
        line += count("\n", line_pos, block_start)
        line_pos = block_start
        kind = found.group(1).lower()
        body = found.end()
        if kind == "comment" or kind.startswith("preamble"):
            match = FREE_BODY.match(text, body - 1, end)
            if match is None:
                return None
            block_end = match.end()
        elif kind.startswith("string"):
            match = STRING_BODY.match(text, body, end)
            if match is None:
                return None
            key = match.group(1).strip()
            if key in string_keys:
                return None
            string_keys.add(key)
            blocks.append(RawString(key, match.group(2).strip(), line, block_start))
            block_end = match.end()
        else:
            head = ENTRY_KEY.match(text, body, end)
            if head is None:
                return None
            key = head.group(1).strip()
            if key in entry_keys:
                return None
            entry_keys.add(key)
            block_end = head.end()
            fields: list[RawField] | None = []
            if head.group(2) == ",":
                match = ENTRY_BODY.match(text, block_end, end)
                if match is None:
                    return None
                if keep_fields:
                    fields = [(name.strip(), value.strip()) for name, value in FIELD.findall(text, block_end, match.end())]
                    names = {name for name, _ in fields}
                    if len(names) != len(fields) or "" in names:
                        return None
                else:
                    fields = None
                block_end = match.end()
            blocks.append(RawEntry(kind, key, fields, line, block_start))
        if LINE_START_BLOCK.search(text, block_start, block_end) is not None:
            return None
        pos = block_end

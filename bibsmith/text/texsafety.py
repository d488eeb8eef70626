"""TeX safety: raw TeX carried from input must never reach files or the shell when our output is compiled."""

from __future__ import annotations

import re

# Primitives and commands that read or write files, run programs or change how TeX reads input.
# \catcode and friends are here because they let later text redefine what a backslash means.
UNSAFE_COMMANDS = frozenset(
    """
    write write18 immediate openout openin read readline closeout closein input include includeonly
    InputIfFileExists IfFileExists input@path openin@ catcode uccode lccode sfcode mathcode delcode
    endlinechar escapechar newlinechar special pdfshellescape ShellEscape shellescape directlua
    luaexec luadirect pdfobj pdfliteral pdffiledump pdfmdfivesum pdffilesize pdffilemoddate
    scantokens everyeof usepackage RequirePackage documentclass loadclass LoadClass makeatletter
    csname def gdef edef xdef let futurelet newcommand renewcommand providecommand DeclareRobustCommand
    verbatiminput lstinputlisting includegraphics bibliography addbibresource
    """.split()
)

_COMMAND = re.compile(r"\\([A-Za-z@]+|.)")
# ^^5c is TeX's way of writing a backslash without typing one.
_HAT_ESCAPE = re.compile(r"\^\^[0-9a-fA-F]{2}|\^\^[\x00-\x7f]")


_MATH = re.compile(r"\$[^$]*\$")


def find_unsafe_tex(text: str, latex_source: bool = True) -> list[str]:
    """The unsafe commands (as written, with backslash) found in `text`, in order, without repeats.

    With latex_source=False, `text` is hub text (Unicode with `$...$` math): outside math our writers
    escape `^`, so a `^^` escape is dangerous only inside math there.
    """
    if "\\" not in text and "^^" not in text:
        return []
    found: list[str] = []
    for match in _COMMAND.finditer(text):
        name = match.group(1)
        if name in UNSAFE_COMMANDS and f"\\{name}" not in found:
            found.append(f"\\{name}")
    hat_text = text if latex_source else " ".join(_MATH.findall(text))
    for match in _HAT_ESCAPE.finditer(hat_text):
        if match.group(0) not in found:
            found.append(match.group(0))
    return found

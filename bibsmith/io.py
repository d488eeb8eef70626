"""File input and output: decoding with clear errors, and atomic writes (the only code that writes files)."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path
from typing import Callable, Iterable

from .diagnostics import Diagnostic, Level, Position

STDIN = "-"


class InputError(Exception):
    """An input that cannot be read at all; holds one diagnostic."""

    def __init__(self, diagnostic: Diagnostic):
        self.diagnostic = diagnostic
        super().__init__(str(diagnostic))


def _fail(source: str, message: str, line: int | None = None, column: int | None = None) -> InputError:
    return InputError(Diagnostic(Level.ERROR, "unreadable", message, Position(source, line, column)))


def decode(data: bytes, source: str, encoding: str = "utf-8") -> str:
    """Decode UTF-8 (with or without a byte-order mark), or the named encoding; a file that is not in it
    is an error with its position."""
    codec = "utf-8-sig" if encoding.lower().replace("_", "-") in ("utf-8", "utf8") else encoding
    try:
        text = data.decode(codec)
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise _fail(
            source,
            f"not UTF-8 text (byte 0x{data[exc.start]:02x}); save the file as UTF-8, or name its encoding "
            "with --encoding (latin-1, cp1252, ...)" if codec == "utf-8-sig" else f"not {encoding} text (byte 0x{data[exc.start]:02x})",
            line,
            column,
        ) from None
    return text


def read_text(path: str, encoding: str = "utf-8") -> str:
    """Read a path (or '-' for standard input) as text; any failure becomes one clear InputError."""
    if path == STDIN:
        return decode(sys.stdin.buffer.read(), "<stdin>", encoding)
    p = Path(path)
    if p.is_dir():
        raise _fail(path, "is a directory, not a file")
    try:
        data = p.read_bytes()
    except FileNotFoundError:
        raise _fail(path, "no such file") from None
    except PermissionError:
        raise _fail(path, "permission denied") from None
    except OSError as exc:
        raise _fail(path, f"cannot read: {exc.strerror or exc}") from None
    return decode(data, path, encoding)


def source_name(path: str) -> str:
    """The name diagnostics use for an input path."""
    return "<stdin>" if path == STDIN else path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


class StreamedText:
    """Output made piece by piece while it is written, so that a large file is never whole in memory.

    Only for writers that cannot fail or report half-way (their messages would come too late).
    """

    def __init__(self, make_pieces: Callable[[], Iterable[str]]):
        self._make_pieces = make_pieces

    def pieces(self) -> Iterable[str]:
        return self._make_pieces()

    def __str__(self) -> str:
        return "".join(self._make_pieces())


def pieces(text: str | StreamedText) -> Iterable[str]:
    """The text in the pieces it is written in."""
    return text.pieces() if isinstance(text, StreamedText) else (text,)


def atomic_write(path: str | os.PathLike, text: str | StreamedText) -> None:
    """Write text as UTF-8 to a temporary file beside `path`, then rename it into place."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            for piece in pieces(text):
                handle.write(piece)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600 files; give the usual permissions
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise

"""File input and output: decoding with clear errors, and atomic writes (write_outputs: the only code that writes files)."""

from __future__ import annotations

import os
import re
import signal
import stat
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

from .diagnostics import BibsmithError, Diagnostic, Level, Position, Report

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


class OutputError(BibsmithError):
    """An output that cannot be written: one line `bibsmith: error: cannot write PATH: reason`."""

    def __init__(self, path: str, reason: str):
        self.path = path
        self.reason = reason
        report = Report()
        report.error("unwritable", f"cannot write {path or repr(path)}: {reason}")
        super().__init__(report)


def _reason(exc: OSError) -> str:
    text = exc.strerror or str(exc)
    return text[:1].lower() + text[1:]


# Names the system opens as an already open stream: written into, never replaced.
_STREAM_NAME = re.compile(r"/dev/std(out|err)|/dev/fd/\d+|/proc/(self|\d+)/fd/\d+")


@dataclass
class _Output:
    path: str  # as given: the name in messages
    text: "str | StreamedText"
    real: str | None = None  # the regular file replaced (symlinks resolved); None: written into in place
    tmp: str | None = None


def _resolve(path: str, text: "str | StreamedText") -> _Output:
    """Where `path` leads, refused (OutputError) when it cannot be an output; creates nothing."""
    if path == "":
        raise OutputError(path, "empty path")
    if path == STDIN or _STREAM_NAME.fullmatch(path):
        return _Output(path, text)
    try:
        found = os.stat(path)  # through every symlink
    except FileNotFoundError:
        found = None
    except OSError as exc:  # a loop of symlinks, a file where a folder should be, a folder we may not enter
        raise OutputError(path, _reason(exc)) from None
    if found is not None:
        if stat.S_ISDIR(found.st_mode):
            raise OutputError(path, "is a directory")
        if not stat.S_ISREG(found.st_mode):  # a FIFO, a device, a socket: replacing it would break it
            return _Output(path, text)
    return _Output(path, text, real=os.path.realpath(path))


def check_outputs(paths: Iterable[str | os.PathLike | None]) -> None:
    """Refuse (OutputError) a path that can never be an output (empty, a directory, ...) before any work."""
    for path in paths:
        if path is not None:
            _resolve(os.fspath(path), "")


def _make_folders(output: _Output, created: list[str]) -> None:
    """Create the missing folders above the file (recorded in `created`, to be removed on failure)."""
    missing = []
    folder = os.path.dirname(output.real)
    while not os.path.exists(folder):
        missing.append(folder)
        folder = os.path.dirname(folder)
    if not os.path.isdir(folder):
        raise OutputError(output.path, f"{folder} is not a directory")
    for folder in reversed(missing):
        try:
            os.mkdir(folder)
        except OSError as exc:
            raise OutputError(output.path, _reason(exc)) from None
        created.append(folder)


def _prepare(output: _Output, created: list[str]) -> None:
    """The empty temporary file beside the file it will replace: proof that it can be written."""
    _make_folders(output, created)
    folder, name = os.path.split(output.real)
    try:
        fd, output.tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=folder)
    except OSError as exc:
        raise OutputError(output.path, _reason(exc)) from None
    try:
        os.fchmod(fd, 0o666 & ~_umask())  # mkstemp makes 0600 files; give the usual permissions
    finally:
        os.close(fd)


def _write_into(output: _Output) -> None:
    if output.path == STDIN:
        for piece in pieces(output.text):
            sys.stdout.write(piece)
        return
    name = output.tmp or output.path
    if output.tmp is None:
        sys.stdout.flush()  # /dev/stdout is the same stream as sys.stdout: keep the order
    try:
        # In place: append, so that /dev/fd/N of a file the shell opened with >> is not emptied first.
        with open(name, "a" if output.tmp is None else "w", encoding="utf-8", newline="") as handle:
            for piece in pieces(output.text):
                handle.write(piece)
    except OSError as exc:
        raise OutputError(output.path, _reason(exc)) from None


def write_outputs(files: Iterable[tuple[str | os.PathLike | None, "str | StreamedText"]]) -> None:
    """Write every (path, text) as UTF-8, all or none: the only function that writes output.

    None and '-' are standard output. Every path is checked before anything is written (an empty
    path, a directory, a folder that cannot be written are an OutputError, and nothing is written).
    A regular file (or one not there yet) is written to a temporary file beside it, and all of them
    are renamed into place at the end; a symlink is followed and its target replaced, the link kept.
    A FIFO, a device, /dev/stdout and /dev/fd/N are written into in place.
    """
    outputs = [_resolve(STDIN if path is None else os.fspath(path), text) for path, text in files]
    created: list[str] = []
    try:
        for output in outputs:
            if output.real is not None:
                _prepare(output, created)
        for output in outputs:
            _write_into(output)
        _rename_all(outputs)
    except BaseException:
        for output in outputs:
            if output.tmp is not None:
                try:
                    os.unlink(output.tmp)
                except FileNotFoundError:
                    pass
        for folder in reversed(created):
            try:
                os.rmdir(folder)
            except OSError:
                pass
        raise


def _rename_all(outputs: list[_Output]) -> None:
    # Signals wait until every file is in place: a SIGTERM here would leave a mixed set.
    before = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
    try:
        for output in outputs:
            if output.tmp is not None:
                try:
                    os.replace(output.tmp, output.real)
                except OSError as exc:
                    raise OutputError(output.path, _reason(exc)) from None
                output.tmp = None
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, before)


def atomic_write(path: str | os.PathLike, text: str | StreamedText) -> None:
    """Write one output (see write_outputs)."""
    write_outputs([(path, text)])

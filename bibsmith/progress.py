"""A progress bar on standard error while large inputs are read; nothing at all in pipes, CI logs or small runs.

rich is imported only when a bar is really shown, so that `bibsmith --help` and small runs do not pay
for it. The bar is transient: it is erased when reading ends, so the terminal keeps only the
diagnostics, and standard output (the data) is never touched.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from contextlib import contextmanager
from typing import Any, Iterable, Iterator, Mapping, TextIO

# About 2,000 BibTeX entries: below this, reading takes a second or two and a bar would only flicker.
LARGE_INPUT = 1_000_000


def in_ci(environ: Mapping[str, str]) -> bool:
    """True when a CI system runs us (GitHub, GitLab and most others set CI)."""
    return environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def wanted(size: int, stream: TextIO | None = None, environ: Mapping[str, str] | None = None) -> bool:
    """Whether `size` characters of input deserve a bar on `stream` (default: standard error)."""
    stream = sys.stderr if stream is None else stream
    environ = os.environ if environ is None else environ
    if size < LARGE_INPUT or in_ci(environ) or environ.get("TERM") == "dumb":
        return False
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty and isatty())
    except ValueError:  # a closed stream
        return False


def input_size(path: str) -> int:
    """The size of an input file in bytes; 0 for standard input or a file that cannot be read."""
    if path == "-":
        return 0
    try:
        return os.path.getsize(path)
    except OSError:
        return 0


class Reading:
    """Progress over the inputs of one read: a bar when wanted, otherwise calls that do nothing.

    With several inputs the bar counts bytes of finished files; with one it pulses (a reader does
    not report from inside a file), with the elapsed time, so a long read is visibly alive.
    """

    def __init__(self, paths: Iterable[str], stream: TextIO | None = None, environ: Mapping[str, str] | None = None):
        self.sizes = {path: input_size(path) for path in paths}
        self.total = sum(self.sizes.values())
        self.stream = sys.stderr if stream is None else stream
        self.shown = wanted(self.total, self.stream, environ)
        self._bar: Any = None
        self._task: Any = None

    def __enter__(self) -> "Reading":
        if self.shown:
            from rich.console import Console
            from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

            console = Console(file=self.stream, force_terminal=True, highlight=False)
            self._bar = Progress(
                TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(),
                console=console, transient=True, redirect_stdout=False, redirect_stderr=False,
            )
            self._bar.start()
            _SHOWN.append(self)
            self._task = self._bar.add_task("reading", total=self.total if len(self.sizes) > 1 else None)
        return self

    def step(self, description: str) -> None:
        """Say what is being worked on ('reading refs.bib', 'checking records')."""
        if self._bar is not None:
            # Drawn at once: a fast step would otherwise end before the next timed refresh shows it.
            self._bar.update(self._task, description=description, refresh=True)

    def finish(self, path: str) -> None:
        """Count an input as read."""
        if self._bar is not None and len(self.sizes) > 1:
            self._bar.advance(self._task, self.sizes.get(path, 0))

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None
            _SHOWN.remove(self)


_SHOWN: list[Reading] = []


@contextmanager
def no_other_threads() -> Iterator[bool]:
    """Stop the bars' drawing threads for a moment, e.g. while worker processes are forked (a child
    would inherit any lock such a thread holds); yields whether the calling thread is then alone."""
    bars = [reading._bar for reading in _SHOWN]
    for bar in bars:
        bar.stop()  # signals the thread, which ends within a tenth of a second
    deadline = time.monotonic() + 1.0
    while threading.active_count() > 1 and time.monotonic() < deadline:
        time.sleep(0.005)
    try:
        yield threading.active_count() == 1
    finally:
        for bar in bars:
            bar.start()

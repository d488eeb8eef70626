"""Work on every core for large bibliographies: a function over chunks, the first chunk in this
process, each other in a forked child that inherits the parsed style and the items as they stand.

The chunks are cut by position and the results joined in order, so the output is the same whatever
the number of cores. A child that fails has its chunk recomputed here (same result, or the same
error raised here). Off for small inputs (a fork costs more than it saves) and with BIBSMITH_SIMPLE=1.
"""

from __future__ import annotations

import os
import pickle
import signal
import sys
import threading
from typing import Callable, Sequence, TypeVar

from bibsmith.csl import speed

MIN_ITEMS = 200  # below this, one core renders faster than two once a fork is paid for
MAX_WORKERS = 4

T = TypeVar("T")
R = TypeVar("R")


def workers(items: int) -> int:
    """How many processes (this one included) share `items` items.

    One where forking is unsafe: off Linux (macOS frameworks may not survive a fork), or with other
    threads running (a lock one of them holds would stay locked in the child)."""
    if speed.simple() or items < MIN_ITEMS or not sys.platform.startswith("linux") or threading.active_count() > 1:
        return 1
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:
        cores = os.cpu_count() or 1
    return max(1, min(cores, MAX_WORKERS, items // (MIN_ITEMS // 2)))


def chunks(items: Sequence[T], count: int) -> list[Sequence[T]]:
    """`items` cut into `count` runs (fewer if there are fewer items) of nearly equal length, in order."""
    count = max(1, min(count, len(items)))
    size, extra = divmod(len(items), count)
    out, start = [], 0
    for n in range(count):
        end = start + size + (1 if n < extra else 0)
        out.append(items[start:end])
        start = end
    return out


def run(function: Callable[[Sequence[T]], R], parts: list[Sequence[T]]) -> list[R]:
    """[function(part) for part in parts], the first here and the others in forked children."""
    pending: list[tuple[Sequence[T], int, int]] = []
    try:
        for part in parts[1:]:
            pending.append((part, *_fork(function, part, [reader for _, _, reader in pending])))
        results = [function(parts[0])] if parts else []
        while pending:
            part, pid, reader = pending.pop(0)
            results.append(_collect(function, part, pid, reader))
        return results
    finally:
        for _, pid, reader in pending:  # this process failed: the children's work is not wanted
            os.kill(pid, signal.SIGKILL)
            os.close(reader)
            os.waitpid(pid, 0)


def _fork(function: Callable, part: Sequence, inherited: list[int]) -> tuple[int, int]:
    reader, writer = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns, never flushes the parent's buffered output (os._exit)
        try:
            for fd in [reader, *inherited]:
                os.close(fd)
            try:
                data = pickle.dumps(("ok", function(part)), protocol=pickle.HIGHEST_PROTOCOL)
            except BaseException:
                data = pickle.dumps(("failed", None))
            with os.fdopen(writer, "wb") as stream:
                stream.write(data)
        finally:
            os._exit(0)
    os.close(writer)
    return pid, reader


def _collect(function: Callable, part: Sequence, pid: int, reader: int):
    try:
        with os.fdopen(reader, "rb") as stream:
            data = stream.read()
    finally:
        os.waitpid(pid, 0)
    try:
        status, value = pickle.loads(data)
    except Exception:
        status, value = "failed", None
    return value if status == "ok" else function(part)

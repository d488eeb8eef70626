"""The progress bar: on standard error for large inputs on a terminal; never in pipes, in CI or for small inputs."""

from __future__ import annotations

import io
import json
import os
import pty
import select
import subprocess
import sys
from pathlib import Path

import pytest

from bibsmith import progress

REPO = Path(__file__).resolve().parent.parent


class Tty(io.StringIO):
    """A stream that says it is a terminal."""

    def isatty(self) -> bool:
        return True


LARGE = progress.LARGE_INPUT


@pytest.mark.parametrize(
    ("size", "stream", "environ", "shown"),
    [
        (LARGE, Tty(), {}, True),
        (LARGE - 1, Tty(), {}, False),  # small input: no bar
        (LARGE, io.StringIO(), {}, False),  # a pipe or file
        (LARGE, Tty(), {"CI": "true"}, False),  # GitHub Actions, GitLab
        (LARGE, Tty(), {"CI": "1"}, False),
        (LARGE, Tty(), {"CI": "false"}, True),
        (LARGE, Tty(), {"TERM": "dumb"}, False),
    ],
    ids=["large-tty", "small", "pipe", "ci-true", "ci-1", "ci-false", "dumb-terminal"],
)
def test_wanted(size, stream, environ, shown):
    assert progress.wanted(size, stream, environ) is shown


def test_closed_stream_gets_no_bar():
    closed = open(os.devnull, "w")
    closed.close()  # isatty() on a closed file raises ValueError
    assert progress.wanted(LARGE, closed, {}) is False


def test_input_size(tmp_path):
    path = tmp_path / "refs.bib"
    path.write_text("x" * 1234)
    assert progress.input_size(str(path)) == 1234
    assert progress.input_size("-") == 0
    assert progress.input_size(str(tmp_path / "missing.bib")) == 0


def test_reading_draws_a_transient_bar_on_a_terminal(tmp_path):
    big = tmp_path / "big.bib"
    big.write_text("%" * LARGE)
    stream = Tty()
    with progress.Reading([str(big)], stream, {}) as bar:
        assert bar.shown
        bar.step("reading big.bib")
        bar.finish(str(big))
    drawn = stream.getvalue()
    assert "reading" in drawn
    assert "\x1b[" in drawn  # terminal control codes: a live bar, erased at the end (transient)


def test_reading_writes_nothing_when_not_wanted(tmp_path):
    big = tmp_path / "big.bib"
    big.write_text("%" * LARGE)
    for stream, environ in ((io.StringIO(), {}), (Tty(), {"CI": "true"})):
        with progress.Reading([str(big)], stream, environ) as bar:
            bar.step("reading big.bib")
            bar.finish(str(big))
        assert not bar.shown
        assert stream.getvalue() == ""


def test_several_inputs_count_bytes(tmp_path):
    paths = []
    for n in range(2):
        path = tmp_path / f"part{n}.bib"
        path.write_text("%" * (LARGE // 2 + 1))
        paths.append(str(path))
    with progress.Reading(paths, Tty(), {}) as bar:
        assert bar.total == 2 * (LARGE // 2 + 1)
        for path in paths:
            bar.finish(path)
        assert bar._bar.tasks[0].completed == bar.total


# ---------------------------------------------------------------- through the command line
def _large_csl_json(path: Path) -> None:
    """A CSL-JSON file just over the threshold (the CSL-JSON reader is fast, so the test is)."""
    items = []
    n = 0
    while len(json.dumps(items)) < LARGE + 1000:
        items.append({"id": f"item{n}", "type": "article-journal", "title": f"Paper number {n}",
                      "author": [{"family": "Smith", "given": "Ann"}], "issued": {"date-parts": [[2020]]},
                      "abstract": "word " * 100})
        n += 1
    path.write_text(json.dumps(items), encoding="utf-8")


def _run_with_stderr_on_a_terminal(args: list[str], env: dict[str, str]) -> tuple[str, int]:
    """Run bibsmith with standard error on a pseudo-terminal; what it drew there and the exit code."""
    master, slave = pty.openpty()
    process = subprocess.Popen([sys.executable, "-m", "bibsmith", *args], cwd=REPO, env=env,
                               stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=slave)
    os.close(slave)
    chunks = []
    while True:
        ready, _, _ = select.select([master], [], [], 30)
        if not ready:
            break
        try:
            data = os.read(master, 65536)
        except OSError:  # the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    return b"".join(chunks).decode("utf-8", "replace"), process.wait(timeout=60)


@pytest.fixture(scope="module")
def large_input(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("progress") / "large.json"
    _large_csl_json(path)
    return path


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "TERM")}
    env.update(TERM="xterm", **extra)
    return env


def test_cli_shows_the_bar_on_a_terminal_and_the_data_is_unchanged(large_input, tmp_path):
    out = tmp_path / "out.json"
    drawn, code = _run_with_stderr_on_a_terminal(["convert", str(large_input), "--to", "csl-json", "-o", str(out)], _env())
    assert code == 0
    assert f"reading {large_input.name}" in drawn
    assert "\x1b[" in drawn
    piped = subprocess.run([sys.executable, "-m", "bibsmith", "convert", str(large_input), "--to", "csl-json"],
                           cwd=REPO, env=_env(), capture_output=True, text=True, check=True)
    assert out.read_text(encoding="utf-8") == piped.stdout


def test_cli_draws_nothing_in_ci_even_on_a_terminal(large_input, tmp_path):
    drawn, code = _run_with_stderr_on_a_terminal(
        ["convert", str(large_input), "--to", "csl-json", "-o", str(tmp_path / "out.json")], _env(CI="true"))
    assert code == 0
    assert drawn == ""


def test_cli_draws_nothing_into_a_pipe(large_input):
    piped = subprocess.run([sys.executable, "-m", "bibsmith", "convert", str(large_input), "--to", "csl-json"],
                           cwd=REPO, env=_env(), capture_output=True, text=True, check=True)
    assert piped.stderr == ""
    assert json.loads(piped.stdout)[0]["id"] == "item0"

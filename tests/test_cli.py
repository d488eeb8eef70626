"""The command line as a user runs it: output, diagnostics on stderr, exit codes, no half-written files."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO, bench_corpus

BAD = REPO / "tests" / "fixtures" / "profile" / "bad.txt"


def run(*args: str, stdin: str | None = None, cwd: Path = REPO) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "bibsmith", *args], input=stdin, capture_output=True,
                          text=True, cwd=cwd, timeout=120)


def test_convert_prints_48_records(sample_path: Path) -> None:
    result = run("convert", str(sample_path), "--to", "csl-json")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    records = json.loads(result.stdout)
    assert len(records) == 48
    assert result.stdout == (REPO / "tests/golden/profile/sample.csl.json").read_text(encoding="utf-8")


def test_convert_from_stdin_detects_the_format(sample_path: Path) -> None:
    result = run("convert", "-", "--to", "csl-json", stdin=sample_path.read_text(encoding="utf-8"))
    assert result.returncode == 0, result.stderr
    assert len(json.loads(result.stdout)) == 48


def test_output_file_is_written(sample_path: Path, tmp_path: Path) -> None:
    out = tmp_path / "sub" / "out.json"
    result = run("convert", str(sample_path), "--to", "csl-json", "-o", str(out))
    assert result.returncode == 0 and result.stdout == ""
    assert len(json.loads(out.read_text(encoding="utf-8"))) == 48
    assert [p.name for p in out.parent.iterdir()] == ["out.json"]


def test_bad_input_reports_every_paper_and_writes_nothing(tmp_path: Path) -> None:
    out = tmp_path / "out.json"
    result = run("convert", str(BAD), "--to", "csl-json", "-o", str(out))
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        f"{BAD}:12: error: unknown month 'Foo' in date 'Foo 45, 2020'",
        f"{BAD}:19: error: invalid date 'Feb 30, 2019': Feb 2019 has no day 30",
        f"{BAD}:24: error: paper has no title line: its first line is the author line 'Jane Q. Researcher, John Smith et al.'",
        f"{BAD}:30: error: paper 'A Paper Without Authors' has no author line (expected 'Name, Name et al. · org' after the title)",
        f"{BAD}:35: warning: unknown category code 'XQ'; no arXiv category is recorded",
    ]
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []


def test_keep_going_writes_the_good_records(tmp_path: Path) -> None:
    result = run("convert", str(BAD), "--to", "csl-json", "--keep-going")
    assert result.returncode == 0
    assert [r["title"] for r in json.loads(result.stdout)] == ["A Good Paper With an Unknown Category"]


def test_check_prints_the_same_problems_and_exits_1() -> None:
    result = run("check", str(BAD))
    assert result.returncode == 1
    lines = result.stderr.splitlines()
    assert lines[:2] == [f"{BAD}:12: error: unknown month 'Foo' in date 'Foo 45, 2020'",
                         f"{BAD}:19: error: invalid date 'Feb 30, 2019': Feb 2019 has no day 30"]
    assert lines[-1] == "1 records, 4 errors, 1 warnings"


def test_check_clean_sample(sample_path: Path) -> None:
    result = run("check", str(sample_path))
    assert result.returncode == 0
    assert result.stderr == "48 records, 0 errors, 0 warnings\n"


@pytest.mark.parametrize(
    "make,expected",
    [
        (lambda d: d / "missing.txt", "{p}: error: no such file"),
        (lambda d: d, "{p}: error: is a directory, not a file"),
        (lambda d: (d / "latin1.txt").write_bytes(b"Owner\n\nLGOct 1, 2020\nCaf\xe9\n") and d / "latin1.txt",
         "{p}:4:4: error: not UTF-8 text (byte 0xe9); save the file as UTF-8, or name its encoding with --encoding "
         "(latin-1, cp1252, ...)"),
    ],
    ids=["missing", "directory", "not-utf8"],
)
def test_unreadable_inputs_give_one_clear_line(tmp_path: Path, make, expected: str) -> None:
    path = make(tmp_path)
    result = run("convert", str(path), "--to", "csl-json")
    assert result.returncode == 1
    assert result.stderr == expected.format(p=path) + "\n"
    assert "Traceback" not in result.stderr


def test_file_that_fails_to_read() -> None:
    # /proc/self/mem exists but reading it from offset 0 fails with EIO, even for root.
    result = run("convert", "/proc/self/mem", "--to", "csl-json")
    assert (result.returncode, result.stderr) == (1, "/proc/self/mem: error: cannot read: Input/output error\n")


def test_usage_errors_exit_2(sample_path: Path) -> None:
    result = run("convert", str(sample_path), "--to", "nope")
    assert result.returncode == 2
    assert result.stderr.startswith("bibsmith: error: unknown output format 'nope'; choose one of: csl-json, bibtex")
    result = run("convert", str(sample_path), "--to", "csl-json", "--from", "word")
    assert result.returncode == 2
    assert "unknown input format 'word'" in result.stderr
    assert run("convert", str(sample_path)).returncode == 2


def test_unknown_format_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("just some notes\n", encoding="utf-8")
    result = run("convert", str(path), "--to", "csl-json")
    assert result.returncode == 1
    assert result.stderr == f"{path}: error: cannot tell the input format; name it with --from (profile, bibtex, ris, csl-json, orcid)\n"


@pytest.mark.parametrize("command", ["convert", "export", "cv", "styles", "check"])
def test_every_command_has_help(command: str) -> None:
    result = run(command, "--help")
    assert result.returncode == 0
    assert "Usage:" in result.stdout
    options = [line for line in result.stdout.splitlines() if line.strip().startswith("--")]
    for line in options:
        assert len(line.split("  ")) > 1 or line.strip() == "", line


def test_top_level_help_lists_commands() -> None:
    result = run("--help")
    assert result.returncode == 0
    for command in ["convert", "export", "cv", "styles", "check"]:
        assert command in result.stdout


def test_export_writes_csl_json(sample_path: Path, tmp_path: Path) -> None:
    result = run("export", str(sample_path), "--dir", str(tmp_path / "out"))
    assert result.returncode == 0, result.stderr
    written = (tmp_path / "out" / "references.json").read_text(encoding="utf-8")
    assert written == (REPO / "tests/golden/profile/sample.csl.json").read_text(encoding="utf-8")
    assert str(tmp_path / "out" / "references.json") in result.stdout.splitlines()


def test_api_is_what_the_cli_uses(sample_path: Path, tmp_path: Path) -> None:
    import bibsmith

    text = bibsmith.convert([sample_path], "csl-json", output=tmp_path / "api.json")
    assert (tmp_path / "api.json").read_text(encoding="utf-8") == text == run("convert", str(sample_path), "--to", "csl-json").stdout
    with pytest.raises(bibsmith.BibsmithError) as caught:
        bibsmith.convert([BAD], "csl-json", output=tmp_path / "bad.json")
    assert "unknown month 'Foo'" in str(caught.value)
    assert not (tmp_path / "bad.json").exists()


def test_written_files_get_the_usual_permissions(sample_path: Path, tmp_path: Path) -> None:
    import os

    out = tmp_path / "out.json"
    assert run("convert", str(sample_path), "--to", "csl-json", "-o", str(out)).returncode == 0
    mask = os.umask(0)
    os.umask(mask)
    assert out.stat().st_mode & 0o777 == 0o666 & ~mask


def test_a_large_run_ends_with_every_byte_written(tmp_path: Path) -> None:
    # The command exits without freeing its records (os._exit): standard output must be flushed first,
    # a file written whole, and the exit status kept.
    path = bench_corpus().write_corpus(tmp_path, 3000)  # over 1 MB: read on every core
    piped = run("convert", str(path), "--to", "csl-json")
    assert piped.returncode == 0, piped.stderr
    assert len(json.loads(piped.stdout)) == 3000
    out = tmp_path / "out.ris"
    written = run("convert", str(path), "--to", "ris", "-o", str(out))
    assert written.returncode == 0 and written.stdout == ""
    assert out.read_bytes().count(b"\r\nER  - ") == 3000
    missing = run("convert", str(tmp_path / "missing.bib"), "--to", "ris")
    assert missing.returncode == 1 and "no such file" in missing.stderr

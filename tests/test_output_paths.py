"""Where output goes: every path checked before anything is written, symlinks followed, FIFOs and devices
written in place, directories refused in one line (exit 2), export all or nothing, no temporary file left."""

from __future__ import annotations

import ctypes
import os
import signal
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

import bibsmith
from bibsmith import api, io
from conftest import REPO, bench_corpus

GOLDEN = (REPO / "tests/golden/profile/sample.csl.json").read_text(encoding="utf-8")
EXPORT_NAMES = [name for _, name, _ in api.export_plan(["apa"])]


def run(*args: str, cwd: Path = REPO, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "bibsmith", *args], capture_output=True, text=True,
                          cwd=cwd, timeout=120, **kwargs)


def start(*args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "bibsmith", *args], cwd=REPO, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def everything_under(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


def read_in_thread(path: str | int) -> tuple[threading.Thread, list[bytes]]:
    """Read a FIFO or pipe to its end in a thread (the writer blocks until someone reads)."""
    got: list[bytes] = []

    def read() -> None:
        with open(path, "rb") as handle:
            got.append(handle.read())

    thread = threading.Thread(target=read, daemon=True)
    thread.start()
    return thread, got


def wait_for(condition, proc: subprocess.Popen, what: str) -> None:
    deadline = time.monotonic() + 120
    while not condition():
        if proc.poll() is not None:
            pytest.fail(f"the command ended (status {proc.returncode}) before {what}: {proc.stderr.read()}")
        if time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"no {what} within 120 s")
        time.sleep(0.005)


# Refused paths: one line, exit 2, nothing written.

def test_output_naming_a_directory_is_refused(sample_path: Path, tmp_path: Path) -> None:
    result = run("convert", str(sample_path), "--to", "csl-json", "-o", str(tmp_path))
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == f"bibsmith: error: cannot write {tmp_path}: is a directory\n"
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("command", [["convert", "--to", "csl-json", "-o", ""], ["cv", "-o", ""],
                                     ["convert", "--to", "csl-json", "--report", ""], ["export", "--dir", ""]])
def test_an_empty_path_is_refused(sample_path: Path, tmp_path: Path, command: list[str]) -> None:
    result = run(command[0], str(sample_path), *command[1:], cwd=tmp_path)
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == "bibsmith: error: cannot write '': empty path\n"
    assert list(tmp_path.iterdir()) == []


def test_a_path_under_proc_is_one_line(sample_path: Path) -> None:
    result = run("convert", str(sample_path), "--to", "csl-json", "-o", "/proc/bibsmith-test.json")
    assert (result.returncode, result.stdout) == (2, "")
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("bibsmith: error: cannot write /proc/bibsmith-test.json: "), result.stderr
    assert not os.path.exists("/proc/bibsmith-test.json")


def _drop_root_file_overrides() -> None:
    # Root ignores file permissions (CAP_DAC_OVERRIDE ...): drop those capabilities from the bounding
    # set before exec, so that root meets a read-only folder as anyone else does.
    libc = ctypes.CDLL(None, use_errno=True)
    for capability in (1, 2, 3):  # CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER
        if libc.prctl(24, capability, 0, 0, 0) != 0:  # PR_CAPBSET_DROP
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")


def test_a_read_only_folder_is_one_line(sample_path: Path, tmp_path: Path) -> None:
    folder = tmp_path / "read-only"
    folder.mkdir()
    folder.chmod(0o555)
    extra = {"preexec_fn": _drop_root_file_overrides} if os.geteuid() == 0 else {}
    try:
        try:
            result = run("convert", str(sample_path), "--to", "csl-json", "-o", str(folder / "out.json"),
                         "--report", str(tmp_path / "report.txt"), **extra)
        except subprocess.SubprocessError as exc:
            pytest.skip(f"cannot run as root without file permission overrides here: {exc}")
        assert (result.returncode, result.stdout) == (2, "")
        assert result.stderr == f"bibsmith: error: cannot write {folder}/out.json: permission denied\n"
        assert everything_under(tmp_path) == ["read-only"]  # the report, checked and writable, is not written either
    finally:
        folder.chmod(0o755)


def test_report_naming_a_directory_is_refused_before_output_is_written(sample_path: Path, tmp_path: Path) -> None:
    (tmp_path / "reports").mkdir()
    out = tmp_path / "out.json"
    result = run("convert", str(sample_path), "--to", "csl-json", "-o", str(out), "--report", str(tmp_path / "reports"))
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == f"bibsmith: error: cannot write {tmp_path}/reports: is a directory\n"
    assert everything_under(tmp_path) == ["reports"]


def test_a_file_where_a_folder_should_be_is_one_line(sample_path: Path, tmp_path: Path) -> None:
    (tmp_path / "notes").write_text("mine\n")
    result = run("export", str(sample_path), "--dir", str(tmp_path / "notes"))
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == f"bibsmith: error: cannot write {tmp_path}/notes/references.json: not a directory\n"
    assert (tmp_path / "notes").read_text() == "mine\n"


# export: all or nothing.

def test_export_with_one_name_a_directory_writes_nothing(sample_path: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    (out / "references.ris").mkdir(parents=True)
    result = run("export", str(sample_path), "--dir", str(out), "--key-file", str(tmp_path / "keys"))
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == f"bibsmith: error: cannot write {out}/references.ris: is a directory\n"
    assert everything_under(tmp_path) == ["out", "out/references.ris"]  # the new key file is not written either


def test_key_file_is_written_with_the_outputs_and_through_a_symlink(sample_path: Path, tmp_path: Path) -> None:
    (tmp_path / "synced").mkdir()
    (tmp_path / "keys").symlink_to(tmp_path / "synced" / "bibsmith.keys")
    result = run("convert", str(sample_path), "--to", "csl-json", "-o", str(tmp_path / "out.json"),
                 "--key-file", str(tmp_path / "keys"))
    assert (result.returncode, result.stderr) == (0, "")
    assert (tmp_path / "keys").is_symlink()
    # The key file's lock stands beside the file the link points to (one lock for both names).
    assert everything_under(tmp_path) == ["keys", "out.json", "synced", "synced/bibsmith.keys",
                                          "synced/bibsmith.keys.lock"]
    plain = tmp_path / "plain.keys"  # the same run without the link
    assert run("convert", str(sample_path), "--to", "csl-json", "--key-file", str(plain)).returncode == 0
    assert (tmp_path / "synced" / "bibsmith.keys").read_text(encoding="utf-8") == plain.read_text(encoding="utf-8") != ""


def test_export_into_a_missing_folder_that_fails_leaves_no_folder(sample_path: Path, tmp_path: Path) -> None:
    (tmp_path / "reports").mkdir()
    result = run("export", str(sample_path), "--dir", str(tmp_path / "new" / "out"), "--report", str(tmp_path / "reports"))
    assert result.returncode == 2
    assert result.stderr == f"bibsmith: error: cannot write {tmp_path}/reports: is a directory\n"
    assert everything_under(tmp_path) == ["reports"]


def test_export_keeps_the_old_set_when_terminated_mid_way(sample_path: Path, tmp_path: Path) -> None:
    # references.ris is a FIFO nobody reads: export blocks there, after the files before it are
    # written into their temporary files and before any is renamed into place.
    out = tmp_path / "out"
    out.mkdir()
    for name in EXPORT_NAMES:
        (out / name).write_text(f"old {name}\n")
    (out / "references.ris").unlink()
    os.mkfifo(out / "references.ris")
    proc = start("export", str(sample_path), "--dir", str(out))
    # The file just before the FIFO is being written (or done): a set half made.
    wait_for(lambda: any(tmp.stat().st_size > 0 for tmp in out.glob(".references-biblatex.bib.*.tmp")), proc,
             "the temporary file of references-biblatex.bib written")
    proc.send_signal(signal.SIGTERM)
    stdout, _ = proc.communicate(timeout=60)
    assert (proc.returncode, stdout) == (128 + signal.SIGTERM, "")
    assert everything_under(out) == sorted(EXPORT_NAMES)
    for name in EXPORT_NAMES:
        if name != "references.ris":
            assert (out / name).read_text() == f"old {name}\n"
    assert stat.S_ISFIFO((out / "references.ris").stat().st_mode)


def test_sigterm_during_a_large_write_leaves_no_temporary_file(tmp_path: Path) -> None:
    corpus = bench_corpus().write_corpus(tmp_path, 3000)
    out = tmp_path / "out"
    out.mkdir()
    target = out / "refs.json"
    target.write_text("previous\n")
    os.mkfifo(out / "report.fifo")  # nobody reads it: the command waits there after writing refs.json's temporary file
    proc = start("convert", str(corpus), "--to", "csl-json", "-o", str(target), "--report", str(out / "report.fifo"))
    wait_for(lambda: any(out.glob(".refs.json.*.tmp")), proc, "the temporary file")
    proc.send_signal(signal.SIGTERM)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 128 + signal.SIGTERM
    assert "Traceback" not in stderr
    assert everything_under(out) == ["refs.json", "report.fifo"]
    assert target.read_text() == "previous\n"


# Symlinks are followed; FIFOs, devices and standard output are written in place.

def test_a_symlink_chain_is_followed_and_kept(sample_path: Path, tmp_path: Path) -> None:
    synced = tmp_path / "synced"
    synced.mkdir()
    (synced / "refs.json").write_text("old\n")
    work = tmp_path / "work"
    work.mkdir()
    (work / "middle.json").symlink_to(synced / "refs.json")
    (work / "refs.json").symlink_to("middle.json")
    result = run("convert", str(sample_path), "--to", "csl-json", "-o", str(work / "refs.json"))
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")
    assert os.readlink(work / "refs.json") == "middle.json"
    assert os.readlink(work / "middle.json") == str(synced / "refs.json")
    assert (synced / "refs.json").read_text(encoding="utf-8") == GOLDEN
    assert everything_under(tmp_path) == ["synced", "synced/refs.json", "work", "work/middle.json", "work/refs.json"]


def test_a_dangling_symlink_creates_its_target(tmp_path: Path) -> None:
    (tmp_path / "link.json").symlink_to(tmp_path / "target" / "refs.json")
    io.atomic_write(tmp_path / "link.json", "new\n")
    assert (tmp_path / "link.json").is_symlink()
    assert (tmp_path / "target" / "refs.json").read_text() == "new\n"


def test_a_fifo_is_written_into_and_stays_a_fifo(sample_path: Path, tmp_path: Path) -> None:
    fifo = tmp_path / "refs.fifo"
    os.mkfifo(fifo)
    thread, got = read_in_thread(str(fifo))
    result = run("convert", str(sample_path), "--to", "csl-json", "-o", str(fifo))
    thread.join(timeout=60)
    assert (result.returncode, result.stderr) == (0, "")
    assert got == [GOLDEN.encode("utf-8")]
    assert stat.S_ISFIFO(fifo.stat().st_mode)
    assert everything_under(tmp_path) == ["refs.fifo"]


def test_a_dev_fd_pipe_is_written_into(sample_path: Path) -> None:
    # What `-o >(cmd)` gives: /dev/fd/N, the write end of a pipe.
    reader, writer = os.pipe()
    proc = subprocess.Popen([sys.executable, "-m", "bibsmith", "convert", str(sample_path), "--to", "csl-json",
                             "-o", f"/dev/fd/{writer}"], cwd=REPO, pass_fds=[writer], text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    os.close(writer)
    thread, got = read_in_thread(reader)
    stdout, stderr = proc.communicate(timeout=120)
    thread.join(timeout=60)
    assert (proc.returncode, stdout, stderr) == (0, "", "")
    assert got == [GOLDEN.encode("utf-8")]


@pytest.mark.parametrize("path", ["-", "/proc/self/fd/1", "/dev/stdout"])
def test_standard_output_by_name(sample_path: Path, tmp_path: Path, path: str) -> None:
    if path == "/dev/stdout" and os.geteuid() == 0:
        # As root a regression would replace the machine's /dev/stdout: a link of our own to the same place.
        (tmp_path / "stdout").symlink_to("/proc/self/fd/1")
        path = str(tmp_path / "stdout")
    result = run("convert", str(sample_path), "--to", "csl-json", "-o", path)
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout == GOLDEN


def test_standard_output_appended_to_a_file_is_not_emptied(sample_path: Path, tmp_path: Path) -> None:
    log = tmp_path / "log.txt"
    log.write_text("before\n")
    inode = log.stat().st_ino
    with open(log, "a") as appended:  # `>> log.txt`
        result = subprocess.run([sys.executable, "-m", "bibsmith", "convert", str(sample_path), "--to", "csl-json",
                                 "-o", "/proc/self/fd/1"], cwd=REPO, stdout=appended, stderr=subprocess.PIPE,
                                text=True, timeout=120)
    assert (result.returncode, result.stderr) == (0, "")
    assert log.read_text(encoding="utf-8") == "before\n" + GOLDEN
    assert log.stat().st_ino == inode


def test_a_device_stays_a_device(sample_path: Path, tmp_path: Path) -> None:
    if os.geteuid() == 0:  # never the real /dev/null as root: a null device of our own
        device = tmp_path / "null"
        try:
            os.mknod(device, stat.S_IFCHR | 0o666, os.makedev(1, 3))
        except PermissionError:
            pytest.skip("cannot make a device node here")
    else:
        device = Path("/dev/null")
    result = run("convert", str(sample_path), "--to", "csl-json", "-o", str(device))
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")
    assert stat.S_ISCHR(device.stat().st_mode)
    assert os.major(device.stat().st_rdev) == 1 and os.minor(device.stat().st_rdev) == 3
    assert sorted(p.name for p in device.parent.iterdir() if p.name.startswith(f".{device.name}.")) == []


# The API: the same one function.

def test_api_refuses_a_directory_before_reading(sample_path: Path, tmp_path: Path) -> None:
    with pytest.raises(io.OutputError) as caught:
        bibsmith.convert([sample_path], "csl-json", output=tmp_path)
    assert str(caught.value) == f"bibsmith: error: cannot write {tmp_path}: is a directory"
    assert isinstance(caught.value, bibsmith.BibsmithError)
    assert (caught.value.path, caught.value.reason) == (str(tmp_path), "is a directory")


def test_api_follows_a_symlink(sample_path: Path, tmp_path: Path) -> None:
    (tmp_path / "real.json").write_text("old\n")
    (tmp_path / "link.json").symlink_to("real.json")
    text = bibsmith.convert([sample_path], "csl-json", output=tmp_path / "link.json")
    assert text == GOLDEN
    assert os.readlink(tmp_path / "link.json") == "real.json"
    assert (tmp_path / "real.json").read_text(encoding="utf-8") == GOLDEN


def test_write_outputs_checks_every_path_first(tmp_path: Path) -> None:
    (tmp_path / "b").mkdir()
    with pytest.raises(io.OutputError) as caught:
        io.write_outputs([(tmp_path / "new" / "a.txt", "a"), (tmp_path / "b", "b"), (tmp_path / "c.txt", "c")])
    assert str(caught.value) == f"bibsmith: error: cannot write {tmp_path}/b: is a directory"
    assert everything_under(tmp_path) == ["b"]


def test_write_outputs_failing_mid_way_keeps_the_old_files(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("old a\n")
    (tmp_path / "b.txt").write_text("old b\n")

    def pieces():
        yield "half of b"
        raise RuntimeError("the writer failed")

    with pytest.raises(RuntimeError):
        io.write_outputs([(tmp_path / "a.txt", "new a\n"), (tmp_path / "sub" / "b.txt", "new b\n"),
                          (tmp_path / "b.txt", io.StreamedText(pieces))])
    assert everything_under(tmp_path) == ["a.txt", "b.txt"]
    assert (tmp_path / "a.txt").read_text() == "old a\n"
    assert (tmp_path / "b.txt").read_text() == "old b\n"


def test_write_outputs_writes_all(tmp_path: Path) -> None:
    io.write_outputs([(tmp_path / "a.txt", "a\n"), (tmp_path / "sub" / "b.txt", io.StreamedText(lambda: iter(["b", "\n"])))])
    assert everything_under(tmp_path) == ["a.txt", "sub", "sub/b.txt"]
    assert (tmp_path / "a.txt").read_text() == "a\n" and (tmp_path / "sub" / "b.txt").read_text() == "b\n"
    mask = os.umask(0)
    os.umask(mask)
    assert (tmp_path / "a.txt").stat().st_mode & 0o777 == 0o666 & ~mask

"""Runs sharing one key file take turns (the lock file beside it): both runs' keys are kept, none given twice."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import bibsmith
from bibsmith import api, keyfile
from bibsmith.diagnostics import Report
from conftest import REPO


def works(family: str, words: list[str]) -> list[dict]:
    return [{"type": "article-journal", "title": f"Learning {word}", "author": [{"family": family, "given": "A."}],
             "issued": {"date-parts": [[2020]]}} for word in words]


# No DOIs: one identity, so one key line, per work. The works of both inputs get keys that start alike
# (smith2020learning...): a run that read the key file before the other run saved it would give one
# of those keys to two works.
FIRST = (works("Smith", ["Maps", "Trees", "Graphs", "Paths", "Rules", "Games"])
         + works("Jones", ["Tours", "Moves", "Plans", "Goals", "Steps", "Tasks"]))
SECOND = works("Smith", ["Sets", "Words", "Codes", "Sums", "Bits"])


def test_two_runs_at_once_keep_both_runs_keys(tmp_path: Path) -> None:
    inputs = []
    for name, records in (("first", FIRST), ("second", SECOND)):
        inputs.append(tmp_path / f"{name}.json")
        inputs[-1].write_text(json.dumps(records), encoding="utf-8")
    for trial in range(20):
        key_file = tmp_path / f"trial{trial}" / "bibsmith.keys"
        key_file.parent.mkdir()
        outputs = [key_file.parent / f"{path.stem}.out.json" for path in inputs]
        runs = [subprocess.Popen([sys.executable, "-m", "bibsmith", "convert", str(path), "--to", "csl-json",
                                  "--key-file", str(key_file), "-o", str(output)],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO)
                for path, output in zip(inputs, outputs)]
        for run in runs:
            _, stderr = run.communicate(timeout=120)
            assert run.returncode == 0, stderr
        given = [{record["title"]: record["id"] for record in json.loads(output.read_text(encoding="utf-8"))}
                 for output in outputs]
        assert [len(keys) for keys in given] == [12, 5]
        report = Report()
        recorded = keyfile.parse(key_file.read_text(encoding="utf-8"), str(key_file), report)
        assert list(report) == []
        lines = [line for line in key_file.read_text(encoding="utf-8").splitlines() if not line.startswith("#")]
        assert len(lines) == 17, f"trial {trial}: {lines}"
        # Every key of both runs is recorded for its own work, and no key was given to two works.
        for keys, records in zip(given, (FIRST, SECOND)):
            for record in records:
                assert recorded.keys[keyfile.identities(record)[0]] == keys[record["title"]]
        assert len(set(given[0].values()) | set(given[1].values())) == 17


def _lock_is_free(key_file: Path) -> bool:
    """Whether another process could take the key file's lock right now."""
    probe = ("import fcntl, sys\nwith open(sys.argv[1], 'a') as f:\n"
             "    try:\n        fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)\n"
             "    except BlockingIOError:\n        sys.exit(3)\n")
    result = subprocess.run([sys.executable, "-c", probe, f"{key_file}.lock"], timeout=60)
    assert result.returncode in (0, 3)
    return result.returncode == 0


def test_the_lock_is_held_from_reading_to_saving(tmp_path: Path) -> None:
    pytest.importorskip("fcntl")
    key_file = tmp_path / "bibsmith.keys"
    inputs = []
    for name, records in (("first", FIRST[:2]), ("second", works("Brown", ["Sets"]))):
        inputs.append(tmp_path / f"{name}.json")
        inputs[-1].write_text(json.dumps(records), encoding="utf-8")
    first = bibsmith.read(inputs[0], key_file=key_file)
    assert not _lock_is_free(key_file)
    # In one process the held lock is not waited for (that would wait forever), even under another name.
    second = bibsmith.read(inputs[1], key_file=tmp_path / "." / "bibsmith.keys")
    api.save_key_file(first)
    assert not _lock_is_free(key_file)  # the second read still holds it
    api.save_key_file(second)
    assert _lock_is_free(key_file)
    assert key_file.read_text(encoding="utf-8") == keyfile.HEADER + (
        "smith2020learninga work:learning-maps:smith:2020\nsmith2020learningb work:learning-trees:smith:2020\n"
        "brown2020learning work:learning-sets:brown:2020\n")


def test_a_key_file_read_and_not_saved_gives_the_lock_back_when_dropped(tmp_path: Path) -> None:
    pytest.importorskip("fcntl")
    key_file = tmp_path / "bibsmith.keys"
    source = tmp_path / "first.json"
    source.write_text(json.dumps(FIRST[:1]), encoding="utf-8")
    library = bibsmith.read(source, key_file=key_file)
    assert not _lock_is_free(key_file)
    del library
    assert _lock_is_free(key_file)
    assert not key_file.exists()

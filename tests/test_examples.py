"""examples/: each format's small input sits beside what the main job makes of it, and stays current."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO

EXAMPLES = sorted(p for p in (REPO / "examples").iterdir() if p.is_dir())


def test_every_input_format_has_an_example() -> None:
    assert [p.name for p in EXAMPLES] == ["bibtex", "csl-json", "orcid", "profile", "ris"]


@pytest.mark.parametrize("example", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_example_outputs_are_what_export_makes_now(example: Path, tmp_path: Path) -> None:
    (source,) = example.glob("input.*")
    result = subprocess.run([sys.executable, "-m", "bibsmith", "export", str(source), "--dir", str(tmp_path)],
                            capture_output=True, text=True, cwd=REPO, timeout=300)
    assert result.returncode == 0, result.stderr
    made = sorted(p.name for p in tmp_path.iterdir())
    kept = sorted(p.name for p in (example / "out").iterdir())
    assert made == kept
    for name in made:
        assert (tmp_path / name).read_bytes() == (example / "out" / name).read_bytes(), f"run `make examples`: {example.name}/out/{name}"

"""Every C speed-up (bibsmith/_fast*.c) is built and current, or the fast path tests would test the
Python twins twice. Where no C compiler is found bibsmith still works (setup.py builds them as optional
extensions), so outside CI a missing module is a skip with the reason; under CI=true it is a failure.
"""

from __future__ import annotations

import importlib
import os
from pathlib import Path

import pytest

from conftest import REPO

SOURCES = sorted((REPO / "bibsmith").glob("_fast*.c"))


def test_there_are_speedups_to_check():
    assert {source.stem for source in SOURCES} >= {"_fastsplit", "_fastfields", "_fastlatex", "_fastjson"}


@pytest.mark.parametrize("source", SOURCES, ids=lambda source: source.stem)
def test_built_and_current(source: Path):
    try:
        module = importlib.import_module(f"bibsmith.{source.stem}")
    except ImportError as exc:
        message = f"bibsmith.{source.stem} is not built ({exc}); `make install` builds it with a C compiler"
        if os.environ.get("CI") == "true":
            pytest.fail(message + ", and CI must have it")
        pytest.skip(message)
    built = Path(module.__file__)
    assert built.stat().st_mtime >= source.stat().st_mtime, f"{built.name} is older than {source.name}: run `make install`"

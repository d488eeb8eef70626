"""Shared test fixtures: where ../shared is, and the rule for when it is missing."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
IN_CI = os.environ.get("CI", "").lower() == "true"


def require_shared(*parts: str) -> Path:
    """Path under ../shared; skip (or, under CI=true, fail) when it is not there."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        message = f"{path} is missing: these tests read ../shared (schemas, conformance data) beside the clone"
        if IN_CI:
            pytest.fail(message + " and CI must have it")
        pytest.skip(message)
    return path


def require_tool(name: str) -> str:
    """Path of an external program; skip when it is missing, but fail under CI=true, which must have it."""
    found = shutil.which(name)
    if not found:
        message = f"{name} is not installed (.ci/run installs it)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    return found


def require_tex_file(name: str) -> Path:
    """A TeX file (a package, class, .bst or .bib) found with kpsewhich; skip when it is missing, but fail
    under CI=true, whose .ci/run installs every TeX Live package the tests use."""
    kpsewhich = shutil.which("kpsewhich")
    found = subprocess.run([kpsewhich, name], capture_output=True, text=True).stdout.strip() if kpsewhich else ""
    if not found:
        message = f"{name} is not installed (kpsewhich {name} finds nothing; .ci/run installs it)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    return Path(found)


@pytest.fixture
def shared() -> Path:
    """The read-only ../shared folder."""
    return require_shared()


@pytest.fixture(scope="session")
def sample_path() -> Path:
    """The sample profile in data/ (the main job's default input)."""
    (path,) = sorted((REPO / "data").glob("*.txt"))
    return path


def bench_corpus():
    """scripts/bench_corpus.py (the benchmark's generator), imported by path: scripts/ is not a package."""
    spec = importlib.util.spec_from_file_location("bench_corpus", REPO / "scripts" / "bench_corpus.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def require_speedup(module, name: str):
    """A C speed-up (bibsmith/<name>.c) to compare with its Python twin: skip when it is not built (no C
    compiler), but fail under CI=true, which must test both."""
    if module is None:
        message = f"bibsmith.{name} is not built (`make install` builds it with a C compiler): nothing to compare"
        if IN_CI:
            pytest.fail(message + ", and CI must build it")
        pytest.skip(message)
    return module

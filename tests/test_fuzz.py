"""A short run of `make fuzz` in every test run: hostile inputs through every reader and writer give no
traceback, no unsavable output, and the same results with and without the fast paths and C modules."""

from __future__ import annotations

import importlib.util
import os
import sys

from conftest import REPO


def test_a_short_fuzz_run_finds_nothing() -> None:
    spec = importlib.util.spec_from_file_location("bibsmith_fuzz", REPO / "tests" / "fuzz" / "fuzz.py")
    fuzz = sys.modules["bibsmith_fuzz"] = importlib.util.module_from_spec(spec)  # dataclasses look it up
    spec.loader.exec_module(fuzz)
    tally = fuzz.fuzz(float(os.environ.get("BIBSMITH_FUZZ_SECONDS", "40")))
    assert tally.runs > 0
    assert (tally.tracebacks, tally.bad_outputs, tally.mismatches) == (0, 0, 0), "\n".join(tally.examples)

"""Run every conformance scorer (scripts/conformance_*.py) and print their scores.

Each scorer reads the peers' cases from ../shared/conformance and prints a table and its misses.
"""

from __future__ import annotations

import runpy
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> int:
    scorers = sorted(HERE.glob("conformance_*.py"))
    if not scorers:
        print("no conformance scorers yet", file=sys.stderr)
        return 1
    status = 0
    for scorer in scorers:
        print(f"== {scorer.stem.removeprefix('conformance_')}")
        sys.stdout.flush()
        try:
            runpy.run_path(str(scorer), run_name="__main__")
        except SystemExit as exc:
            status = status or int(exc.code or 0)
    return status


if __name__ == "__main__":
    sys.exit(main())

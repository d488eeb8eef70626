"""The one switch for every fast path: BIBSMITH_SIMPLE=1 turns them all off (caches, hand-written
parsers and decoders, work on several cores), and the tests hold both ways to the same output."""

from __future__ import annotations

import os

# os.environ.get encodes the key on every call, which showed in profiles (the switch is read per
# field of every record); os.environ's own table on POSIX gives the same answer without that.
_ENVIRON = getattr(os.environ, "_data", None) if os.name == "posix" else None


def simple() -> bool:
    """True when BIBSMITH_SIMPLE=1: take the simple paths."""
    if _ENVIRON is not None:
        return _ENVIRON.get(b"BIBSMITH_SIMPLE") == b"1"
    return os.environ.get("BIBSMITH_SIMPLE") == "1"

"""Profile category codes -> arXiv categories, from the table in mappings/categories.toml."""

from __future__ import annotations

import tomllib
from functools import cache
from importlib import resources


@cache
def _table() -> dict[str, str]:
    with resources.files("bibsmith.mappings").joinpath("categories.toml").open("rb") as handle:
        return tomllib.load(handle)["profile_to_arxiv"]


def arxiv_category(code: str) -> str | None:
    """The arXiv category for a profile code (LG -> cs.LG), or None when the code is unknown."""
    return _table().get(code)

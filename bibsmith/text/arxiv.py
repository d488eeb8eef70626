"""arXiv facts of a hub record: its id and whether it is a preprint (DESIGN.md §2 conventions)."""

from __future__ import annotations

import re
from typing import Any

ARXIV_NUMBER = re.compile(r"^arXiv:(.+)$", re.I)
ARXIV_DOI = re.compile(r"^10\.48550/arXiv\.(.+)$", re.I)
ARXIV_URL = re.compile(r"^https?://(?:www\.)?arxiv\.org/(?:abs|pdf)/([^?#]+?)(?:\.pdf)?$", re.I)


def arxiv_id(record: dict[str, Any]) -> str | None:
    """The arXiv id of a record, from `number` ('arXiv:ID'), its 10.48550 DOI or its arxiv.org URL."""
    for value, pattern in ((record.get("number"), ARXIV_NUMBER), (record.get("DOI"), ARXIV_DOI), (record.get("URL"), ARXIV_URL)):
        match = pattern.match(str(value or "").strip())
        if match:
            return match.group(1)
    return None


def is_preprint(record: dict[str, Any]) -> bool:
    """A preprint in the hub's convention: genre Preprint, or type article with arXiv as publisher or an arXiv id/category."""
    if str(record.get("genre", "")).lower() == "preprint":
        return True
    custom = record.get("custom") or {}
    return record.get("type") == "article" and (
        str(record.get("publisher", "")).lower() == "arxiv" or arxiv_id(record) is not None or "arxiv_category" in custom
    )

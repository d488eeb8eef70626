"""Dates: month names and checked (year, month, day) triples."""

from __future__ import annotations

import calendar

MONTHS = {name.lower(): number for number, name in enumerate(calendar.month_abbr) if name}
MONTHS.update({name.lower(): number for number, name in enumerate(calendar.month_name) if name})
MONTHS["sept"] = 9


def month_number(name: str) -> int | None:
    """1-12 for an English month name or abbreviation ('Oct', 'October', 'Sept'), else None."""
    return MONTHS.get(name.strip().rstrip(".").lower())


def date_problem(year: int, month: int | None = None, day: int | None = None) -> str | None:
    """Why (year, month, day) is not a real date, or None when it is."""
    if month is None:
        return None
    if not 1 <= month <= 12:
        return f"month {month} is not between 1 and 12"
    if day is None:
        return None
    last = calendar.monthrange(year, month)[1]
    if not 1 <= day <= last:
        return f"{calendar.month_abbr[month]} {year} has no day {day}"
    return None


def date_parts(issued: dict | None) -> list[int | str]:
    """The first date-parts triple of a CSL date, or [] when there is none."""
    if not issued:
        return []
    parts = issued.get("date-parts") or [[]]
    return list(parts[0]) if parts and parts[0] else []

"""The `--report FILE` text: per record, what was merged, what was guessed on reading, and what the
target format dropped or changed; then the key changes as a diff. Also the one-line summary for stderr.

Readers and writers report guesses and losses as diagnostics positioned in the record's source; a
diagnostic belongs to the record that starts last at or before its line in that source (a merged
record owns the positions of all its parts).
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from typing import Any

from .diagnostics import Diagnostic, Position
from .keyfile import KeyFile
from .library import Library
from .merge import MergeLog


@dataclass
class Sections:
    """Diagnostics split by stage: reading (and keys), and each target format written."""

    read: list[Diagnostic] = field(default_factory=list)
    written: list[tuple[str, list[Diagnostic]]] = field(default_factory=list)


def _where(position: Position | None) -> str:
    return str(position) if position is not None else "(unknown position)"


class _Owners:
    """Finds the record a positioned diagnostic is about."""

    def __init__(self, owners: list[tuple[Position | None, int]]):
        self.starts: dict[str, list[tuple[int, int]]] = {}
        for position, number in owners:
            if position is not None and position.line is not None:
                self.starts.setdefault(position.source, []).append((position.line, number))
        for starts in self.starts.values():
            starts.sort()

    def owner(self, position: Position | None) -> int | None:
        if position is None or position.line is None or position.source not in self.starts:
            return None
        starts = self.starts[position.source]
        at = bisect.bisect_right(starts, (position.line, float("inf"))) - 1
        return starts[at][1] if at >= 0 else None


def _title(record: dict[str, Any]) -> str:
    title = str(record.get("title", ""))
    return title if len(title) <= 80 else title[:77] + "..."


def build(library: Library, sections: Sections, log: MergeLog | None = None, keys: KeyFile | None = None) -> str:
    """The whole report text."""
    log = log or library.metadata.get("merge_log") or MergeLog(records_in=len(library))
    listed = list(library.records)
    hidden = [record for record, _, _ in log.hidden]
    everyone = listed + hidden
    number = {id(record): n for n, record in enumerate(everyone)}
    positions = [library.position_of(i) for i in range(len(listed))] + [p for _, p, _ in log.hidden]
    owners = [(p, n) for n, p in enumerate(positions)]
    for entry in log.merges:
        if id(entry.record) in number:
            owners += [(p, number[id(entry.record)]) for p in entry.sources]
    find = _Owners(owners)
    notes: list[list[str]] = [[] for _ in everyone]
    general: list[str] = []

    def place(diagnostic: Diagnostic, label: str) -> None:
        owner = find.owner(diagnostic.position)
        line = f"{label}: {diagnostic}"
        (notes[owner] if owner is not None else general).append(line)

    for diagnostic in sections.read:
        place(diagnostic, "keys" if diagnostic.code.startswith("key-") else "read")
    for target, diagnostics in sections.written:
        for diagnostic in diagnostics:
            place(diagnostic, f"{target}")

    entries = {id(entry.record): entry for entry in log.merges}
    links: dict[int, list[str]] = {}
    for link in log.links:
        links.setdefault(id(link.preprint), []).append(f"published version: {link.published.get('id')} ({link.reason})")
        links.setdefault(id(link.published), []).append(f"preprint version: {link.preprint.get('id')} ({link.reason})")

    lines = [f"bibsmith report: {log.summary()}; {len(listed)} records listed", ""]
    for n, record in enumerate(everyone):
        head = f"{record.get('id', '(no key)')}: {_title(record)}"
        if n >= len(listed):
            head += "  [not listed: " + log.hidden[n - len(listed)][2] + "]"
        lines.append(head)
        entry = entries.get(id(record))
        if entry is not None:
            lines.append("  merged from: " + ", ".join(_where(p) for p in entry.sources))
            for position, how in zip(entry.sources[1:], entry.matched):
                lines.append(f"    {_where(position)} matched: {how}")
            for choice in entry.choices:
                source = f" from {_where(choice.source)}" if choice.source else ""
                lines.append(f"    {choice.field} = {choice.value!r}{source} ({choice.reason})")
                for position, value in choice.others:
                    lines.append(f"      not {value!r} from {_where(position)}")
        else:
            lines.append(f"  from: {_where(positions[n])}")
        lines += [f"  {text}" for text in links.get(id(record), [])]
        lines += [f"  {note}" for note in notes[n]]
        lines.append("")
    if general:
        lines += ["not about one record:"] + [f"  {note}" for note in general] + [""]
    diff = keys.diff() if keys is not None else ""
    if diff:
        lines += ["changed keys:", diff]
    return "\n".join(lines).rstrip("\n") + "\n"


def summary(library: Library, sections: Sections, log: MergeLog | None = None, report_path: str | None = None) -> str:
    """The one line for standard error."""
    log = log or library.metadata.get("merge_log") or MergeLog(records_in=len(library))
    changed = sum(len(d) for _, d in sections.written)
    text = f"bibsmith: {log.summary()}; {len(library)} listed; {changed} format warnings"
    return text + (f"; report in {report_path}" if report_path else "")

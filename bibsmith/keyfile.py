"""The key file (`bibsmith.keys`): every citation key ever given, so that keys never move between runs.

Plain text, one `key identity` per line; `#` starts a comment. bibsmith only appends to it. An identity
names a work independently of its key:

    doi:10.1038/nature14539                     a DOI (not arXiv's own), lower case
    arxiv:2210.06313, arxiv:hep-th/9711200      an arXiv id without version (preprints only)
    preprint:<title words>:<family>:<year>      a preprint without identifiers (title folded, '-' between words)
    work:<title words>:<family>:<year>          any other work (with ':ed<N>' for a numbered edition)

A record matches a line when any of its identities does (title identities also one year either side);
the last line for an identity wins. A record that matches keeps the recorded key whatever key the
input gives it. When a recorded key cannot be kept (two records claim it; two recorded works turned
out to be one), the change is a warning and a line of `diff()`. The other keys of a merged record
(custom.aliases) get a line each with its first identity, before the line of its key, so that they
stay reserved for that work.
"""

from __future__ import annotations

import os
import re
import threading
import weakref
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

from .diagnostics import Position, Report
from .library import Library
from .merge import edition_of, arxiv_ids, dois, first_family, is_preprint, settle_aliases, title_fingerprint, year_of
from .text.keys import assign_keys

HEADER = ("# bibsmith.keys: every citation key bibsmith has given, one 'key identity' per line.\n"
          "# bibsmith only appends; the last line for an identity wins. Edit with care.\n")
_TITLE_IDENTITY = re.compile(r"^(preprint|work):(.+):(\d{1,4})(:ed[^:]+)?$")


def identities(record: dict[str, Any]) -> list[str]:
    """The identities of a record, most specific first."""
    found: list[str] = []
    preprint = is_preprint(record)
    if preprint:
        found += [f"arxiv:{a}" for a in sorted(arxiv_ids(record))]
    else:
        found += [f"doi:{d}" for d in sorted(dois(record))]
    title, family, year = title_fingerprint(str(record.get("title", ""))), first_family(record), year_of(record)
    if title and family and year is not None:
        edition = edition_of(record)
        tail = f":ed{edition.replace(' ', '-')}" if edition else ""  # two editions are two works
        found.append(f"{'preprint' if preprint else 'work'}:{title.replace(' ', '-')}:{family}:{year}{tail}")
    return found


def _nearby(identity: str) -> list[str]:
    """The identity itself, then (for title identities) the same with the year one off."""
    match = _TITLE_IDENTITY.match(identity)
    if not match:
        return [identity]
    kind, middle, year, edition = match.groups()
    return [identity] + [f"{kind}:{middle}:{int(year) + d}{edition or ''}" for d in (-1, 1)]


@dataclass
class KeyChange:
    """A recorded key that this run could not keep."""

    old: str
    new: str
    identity: str
    reason: str


@dataclass
class KeyFile:
    """The parsed key file, the lines this run adds, and the keys it had to change."""

    path: str | None = None
    text: str = ""
    keys: dict[str, str] = field(default_factory=dict)  # identity -> key (the last line wins)
    line_of: dict[str, int] = field(default_factory=dict)  # key -> first line that gives it
    added: list[tuple[str, str]] = field(default_factory=list)
    changes: list[KeyChange] = field(default_factory=list)
    _pending: list[tuple] = field(default_factory=list, repr=False)

    @property
    def every_key(self) -> set[str]:
        """Every key the file has ever given."""
        return set(self.line_of)

    def restore(self, library: Library) -> None:
        """Give each record the key recorded for it. Run before keys are assigned.

        A key the input gave is kept as given ('/', ':' and all), unless the key file gives the work another.
        """
        if not self.keys and not self.line_of:  # no key file, or an empty one: every input key stays
            return
        claimed: dict[str, int] = {}
        shared = _shared(library.records) if self.keys else set()
        for index, record in enumerate(library.records):
            position = library.position_of(index)
            given = str(record["id"]) if record.get("id") not in (None, "") else None
            recorded = self._recorded(record, shared) if self.keys else []
            free = [(key, identity) for key, identity in recorded if key not in claimed]
            if not free:
                for key, identity in recorded:
                    self._change(key, record["id"] if given else "", identity,
                                 f"{key!r} is taken by another record in this run", library.report, position, record)
                continue
            key, identity = free[0]
            claimed[key] = index
            for other, other_identity in free[1:]:
                self._change(other, key, other_identity, f"two recorded works are one record now; the older key "
                             f"{key!r} is kept", library.report, position)
            if given and record["id"] != key:
                library.report.warning("key-kept", f"input key {record['id']!r} is not used: {self.path or 'the key file'} "
                                       f"gives this work ({identity}) the key {key!r}", position)
            record["id"] = key
        # An input key that the key file gave to another work would take that work's key away.
        restored = set(claimed.values())
        for index in [i for i, r in enumerate(library.records) if i not in restored and r.get("id") not in (None, "")]:
            record = library.records[index]
            if record["id"] in self.line_of and claimed.get(record["id"]) != index:
                self._change(record["id"], "", (identities(record) or ["(no identity)"])[0],
                             f"the key file gives {record['id']!r} to another work", library.report,
                             library.position_of(index), record)
                del record["id"]

    def _recorded(self, record: dict[str, Any], shared: set[str] = frozenset()) -> list[tuple[str, str]]:
        """(key, identity) for every recorded key of this record, the oldest key first (`shared`: identities
        that other records of this run hold too, which name none of them)."""
        found: dict[str, str] = {}
        for identity in identities(record):
            if identity in shared:
                continue
            for candidate in _nearby(identity):
                key = self.keys.get(candidate)
                if key is not None:
                    found.setdefault(key, candidate)
                    break
        return sorted(found.items(), key=lambda item: self.line_of.get(item[0], 0))

    def _change(self, old: str, new: str, identity: str, reason: str, report: Report, position: Position | None,
                record: dict[str, Any] | None = None) -> None:
        change = KeyChange(old, new, identity, reason)
        self.changes.append(change)
        if record is not None and not new:
            self._pending.append((change, record, report, position))  # the new key is known after assign()
        else:
            report.warning("key-changed", f"key {old!r} is now {new!r}: {reason}", position)

    def assign(self, library: Library) -> None:
        """Give every record still without a key a new one that no run has used, and record all keys."""
        # assign_keys avoids every key present in its list: the key file's keys join as stand-in records.
        assign_keys(library.records + [{"id": key} for key in self.every_key])
        for change, record, report, position in self._pending:
            change.new = str(record["id"])
            report.warning("key-changed", f"key {change.old!r} is now {change.new!r}: {change.reason}", position)
        self._pending.clear()
        settle_aliases(library)
        if self.path is None:
            return  # no key file to record the keys in
        shared = _shared(library.records)
        for record in library.records:
            found = [identity for identity in identities(record) if identity not in shared]
            # A merged record's other keys stay reserved for it: a line each, before its own key's line
            # (the last line for an identity wins, so its own key is what the next run restores).
            aliases = (record.get("custom") or {}).get("aliases") if isinstance(record.get("custom"), dict) else None
            for alias in aliases if found and isinstance(aliases, list) else ():
                if alias not in self.line_of:
                    self._add(str(alias), found[0])
            for identity in found:
                if self.keys.get(identity) != record["id"]:
                    self._add(str(record["id"]), identity)

    def _add(self, key: str, identity: str) -> None:
        self.added.append((key, identity))
        self.keys[identity] = key
        self.line_of.setdefault(key, 10**9 + len(self.added))

    def updated_text(self) -> str:
        """The key file with this run's lines appended (the header too when the file is new)."""
        text = self.text or HEADER
        if text and not text.endswith("\n"):
            text += "\n"
        return text + "".join(f"{key} {identity}\n" for key, identity in self.added)

    def diff(self) -> str:
        """The changed keys as a unified-style diff of key lines ('' when no key changed)."""
        if not self.changes:
            return ""
        lines = ["--- keys before", "+++ keys now"]
        for change in self.changes:
            lines += [f"-{change.old} {change.identity}", f"+{change.new} {change.identity}", f"# {change.reason}"]
        return "\n".join(lines) + "\n"


def _shared(records: list[dict[str, Any]]) -> set[str]:
    """Identities that several records hold (look-alikes kept apart, crossref children with their
    parent's DOI): recorded for one, they would give its key to the others on the next run."""
    seen: set[str] = set()
    shared: set[str] = set()
    for record in records:
        for identity in identities(record):
            (shared if identity in seen else seen).add(identity)
    return shared


def parse(text: str, source: str, report: Report) -> KeyFile:
    """Read a key file; a malformed line is an error naming its line, and is skipped."""
    keys = KeyFile(path=source, text=text)
    for number, raw in enumerate(text.removeprefix("\ufeff").splitlines(), 1):
        line = raw.split("#", 1)[0].strip() if raw.lstrip().startswith("#") else raw.strip()
        if not line:
            continue
        key, _, identity = line.partition(" ")
        identity = identity.strip()
        if not identity:
            report.error("key-file", f"line has a key but no identity: {line!r} (expected 'key identity')",
                         Position(source, number))
            continue
        keys.keys[identity] = key
        keys.line_of.setdefault(key, number)
    return keys


# ---------------------------------------------------------------- the lock
# Runs that share a key file take turns: each holds an exclusive flock on `<key file>.lock` from reading
# the key file until it has saved it (bibsmith.api). A run that read the keys before another run
# recorded its new ones could give a key to one work that the other run gave to another. In one
# process the lock is counted rather than taken again: flock on a second descriptor of the same file
# would wait for this very process.
try:
    import fcntl
except ImportError:  # Windows has no flock: there runs sharing a key file are not kept apart
    fcntl = None

_locks: dict[tuple[int, int], list[int]] = {}  # (device, inode) of a lock file -> [descriptor, holders]
_locks_guard = threading.Lock()
_kept: dict[int, weakref.finalize] = {}  # id of a KeyFile -> gives back the lock that KeyFile keeps


def _acquire(path: str) -> Callable[[], None]:
    """Take the lock of the key file at `path` (waiting for other processes); returns what gives it back."""
    if fcntl is None:
        return lambda: None
    try:
        # Beside the file a symlink points to: runs that name the link and the file share one lock.
        fd = os.open(os.path.realpath(path) + ".lock", os.O_RDWR | os.O_CREAT, 0o666)
    except OSError:
        return lambda: None  # no lock where none can be made (say a read-only directory); saving re-reads
    stat = os.fstat(fd)
    lock = (stat.st_dev, stat.st_ino)
    with _locks_guard:
        held = _locks.get(lock)
        if held is not None:
            held[1] += 1
    if held is not None:
        os.close(fd)
    else:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)  # outside the guard: other threads may give their locks back
        except BaseException:
            os.close(fd)
            raise
        with _locks_guard:
            _locks[lock] = [fd, 1]
    given_back = False

    def release() -> None:
        nonlocal given_back
        with _locks_guard:
            if given_back:
                return
            given_back = True
            held = _locks[lock]
            held[1] -= 1
            if held[1] == 0:
                del _locks[lock]
                os.close(held[0])  # closing the descriptor gives the flock back

    return release


@contextmanager
def locked(path: str) -> Iterator[None]:
    """Hold the exclusive lock of the key file at `path` (the file '<key file>.lock' beside it) inside the block."""
    release = _acquire(path)
    try:
        yield
    finally:
        release()


def keep_lock(keys: KeyFile) -> None:
    """Take the lock of `keys.path` and hold it until release_lock(keys), or until `keys` is dropped."""
    release = _acquire(str(keys.path))
    _kept[id(keys)] = weakref.finalize(keys, _let_go, id(keys), release)


def _let_go(ident: int, release: Callable[[], None]) -> None:
    _kept.pop(ident, None)
    release()


def release_lock(keys: KeyFile) -> None:
    """Give back the lock that keep_lock(keys) took (nothing if it took none)."""
    finalizer = _kept.get(id(keys))
    if finalizer is not None:
        finalizer()  # runs _let_go once, now instead of when `keys` is dropped

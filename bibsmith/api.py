"""The public API (read, loads, write, convert) that the CLI itself uses."""

from __future__ import annotations

import dataclasses
import gc
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterable

from . import io, keyfile, progress, registry
from . import merge as merging
from .diagnostics import BibsmithError, Diagnostic, Level, Position, Report, UsageError
from .keyfile import KeyFile
from .library import Library
from .record import normalize


def loads(text: str, format: str | None = None, source: str = "<string>", keep_source: bool = True) -> Library:
    """Read records from text (format by name, or detected from the content); not yet normalized.

    `keep_source`: a .bib entry keeps its text as written, for a faithful BibTeX or BibLaTeX output
    (other outputs do not need it).
    """
    name = format or registry.detect(source, text)
    if name is None:
        library = Library()
        library.report.error(
            "unknown-format",
            "cannot tell the input format; name it with --from (profile, bibtex, ris, csl-json, orcid)",
            Position(source),
        )
        return library
    reader = registry.reader_for(name)
    if name == "bibtex":
        return registry.load(reader.module).read(text, source, keep_source=keep_source)
    return registry.load(reader.module).read(text, source)


MERGE = ("auto", "dedupe", "none")


def read(inputs: str | Path | Iterable[str | Path], format: str | None = None, prefer: str = "both",
         key_file: str | Path | None = None, merge: str = "auto", keep_source: bool = True,
         encoding: str = "utf-8", keep_going: bool = False) -> Library:
    """Read and merge one or more inputs ('-' is standard input) into one normalized Library.

    `merge` says which duplicates become one record: "auto" (the default) merges nothing in one input
    and, among several inputs, records of different inputs that share an identifier (DOI, arXiv id,
    a book's ISBN); "dedupe" merges every record that shares an identifier or title, first author
    and year (within one), also within one input; "none" merges nothing.
    Records that look like duplicates but are not merged are warnings in `library.report`. A merged
    record keeps its first key; its other keys are `custom.aliases`. Preprint/published pairs are
    linked, never merged (`prefer`: both, published or preprint is listed). What was done is
    `library.metadata["merge_log"]` when anything was found. Keys recorded in
    `key_file` are kept; the updated key file is `library.metadata["key_file"]` (see `save_key_file`).
    Problems are collected in `library.report`, never raised; an unreadable file is an error there too.
    `keep_source`: see loads(). `encoding`: of the input files ('latin-1', ...); UTF-8 by default.
    `keep_going`: invalid values are warnings (each still left out or repaired), for writing what can be.
    """
    if merge not in MERGE:
        raise UsageError(f"merge must be one of {', '.join(MERGE)}, not {merge!r}")
    paths = [str(inputs)] if isinstance(inputs, (str, Path)) else [str(p) for p in inputs]
    merged = Library()
    read_from: list[int] = []  # the input of every record
    match_infos: list | None = []  # merging's keys, where every reader computed them for its records
    known_valid: list[dict[str, Any]] = []  # records a reader found valid (normalize need not check them)
    with progress.Reading(paths) as bar, _collector_paused():  # a bar only for large inputs on a terminal
        for number, path in enumerate(paths):
            source = io.source_name(path)
            bar.step(f"reading {Path(source).name}")
            try:
                library = _load_file(path, format, source, keep_source, encoding)
            except io.InputError as exc:
                merged.report.items.append(exc.diagnostic)
                continue
            known = library.precomputed.get("match_infos")
            match_infos = None if known is None or match_infos is None else match_infos + known
            flags = library.precomputed.get("valid")
            known_valid += [record for record, ok in zip(library.records, flags or ()) if ok]
            merged.extend(library)
            read_from += [number] * len(library.records)
            del library
            bar.finish(path)
        bar.step("merging and checking records")
        mode = "identifiers" if merge == "auto" and len(paths) > 1 else "none" if merge == "auto" else merge
        log = merging.combine(merged, match_infos if merged.records else None, mode, read_from)
        keys = _load_key_file(key_file, merged.report)
        normalize(merged, keys, known_valid, keep_going)
        merging.finish(merged, log, prefer)
    if keys.path is not None:
        merged.metadata["key_file"] = keys
    return merged


@contextmanager
def _collector_paused():
    """Python's cycle collector off while records are read and merged. Records hold no reference
    cycles, and the collector's passes over the growing library cost 0.5 s of 100,000 entries."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _load_file(path: str, format: str | None, source: str, keep_source: bool = True,
               encoding: str = "utf-8") -> Library:
    # A function of its own so that the file's text is freed as soon as it is read, not after merging.
    return loads(io.read_text(path, encoding), format, source, keep_source)


def _load_key_file(path: str | Path | None, report: Report) -> KeyFile:
    if path is None:
        return KeyFile()
    # The key file's lock is held from this read until save_key_file: a run that read the keys before
    # another run saved its new ones could give one key to two works.
    with keyfile.locked(str(path)):
        keys = _parse_key_file(path, report)
        keyfile.keep_lock(keys)
    return keys


def _parse_key_file(path: str | Path, report: Report) -> KeyFile:
    if not Path(path).exists():
        return KeyFile(path=str(path))
    try:
        return keyfile.parse(io.read_text(str(path)), str(path), report)
    except io.InputError as exc:
        report.items.append(exc.diagnostic)
        return KeyFile(path=str(path))


def key_file_outputs(library: Library) -> list[tuple[str, str]]:
    """The key file with this run's new keys appended, as (path, text), if a key file was given and keys are new.

    The key file's lock (taken when it was read) is held: the file is read again and only the lines that
    it does not already say are appended, so that keys another run recorded meanwhile are kept too.
    """
    keys = library.metadata.get("key_file")
    if keys is None or not keys.added:
        return []
    with keyfile.locked(str(keys.path)):
        text = _key_file_now(keys)
    return [] if text is None else [(keys.path, text)]


def save_key_file(library: Library) -> None:
    """Append this run's new keys to the key file (atomically), then give back the lock taken when it was read."""
    keys = library.metadata.get("key_file")
    if keys is None:
        return
    try:
        io.write_outputs(key_file_outputs(library))
    finally:
        keyfile.release_lock(keys)


def _key_file_now(keys: KeyFile) -> str | None:
    """The key file as it is now with this run's lines that it does not say yet appended (None: no such line)."""
    try:
        current = io.read_text(str(keys.path)) if Path(keys.path).exists() else ""
    except io.InputError:
        return keys.updated_text()  # unreadable now: written as before, from the text this run read
    says = dict(keyfile.parse(current, str(keys.path), Report()).keys)
    added = []
    for key, identity in keys.added:  # in order: a later line for an identity overrides an earlier one
        if says.get(identity) != key:
            added.append((key, identity))
            says[identity] = key
    return dataclasses.replace(keys, text=current, added=added).updated_text() if added else None


def write(library: Library, to: str, **options: Any) -> str:
    """Render a library in format `to`; raises BibsmithError when the writer reports an error."""
    to, _, variant = to.partition(":")  # "cv:markdown" is the cv writer with output=markdown
    if variant:
        options = {**options, "output": variant}
    writer = registry.writer_for(to)
    module = registry.load(writer.module)
    opts = registry.writer_options(to, **options)
    report = Report()
    text = module.write(library, opts, report)
    library.report.extend(report)
    if report.has_errors:
        raise BibsmithError(report)
    return text


def outputs(library: Library, to: str, path: str | None, **options: Any) -> list[tuple[str | None, str]]:
    """The files (path, text) that format `to` makes; most formats make one, ORCID batches several."""
    writer = registry.writer_for(to)
    module = registry.load(writer.module)
    if path is not None and hasattr(module, "write_files"):
        opts = registry.writer_options(to, **options)
        report = Report()
        files = module.write_files(library, opts, report, path)
        library.report.extend(report)
        if report.has_errors:
            raise BibsmithError(report)
        return files
    if path is not None and hasattr(module, "write_stream"):
        # A writer with nothing to report can stream into the file: the whole text never exists at once.
        opts = registry.writer_options(to, **options)
        return [(path, io.StreamedText(lambda: module.write_stream(library, opts)))]
    return [(path, write(library, to, **options))]


def export_plan(styles: list[str]) -> list[tuple[str, str, str]]:
    """(writer, file name, style) for every file `bibsmith export` makes, in order.

    Formats whose module is not part of this build yet are left out.
    """
    import importlib.util

    plan: list[tuple[str, str, str]] = []
    for to, pattern in registry.EXPORTS:
        name = to.split(":")[0]
        if importlib.util.find_spec(registry.writer_for(name).module) is None:
            continue
        for style in styles if "{style}" in pattern else styles[:1]:
            safe = Path(style).stem if style.endswith(".csl") else style
            plan.append((to, pattern.format(style=safe), style))
    return plan


def convert(
    inputs: str | Path | Iterable[str | Path],
    to: str,
    output: str | Path | None = None,
    format: str | None = None,
    keep_going: bool = False,
    prefer: str = "both",
    key_file: str | Path | None = None,
    merge: str = "auto",
    **options: Any,
) -> str:
    """Read inputs, write them as `to`; with `output`, write the file(s) atomically. Returns the text.

    Raises BibsmithError when an input or the writer has errors (input errors are tolerated with
    keep_going=True), or io.OutputError (a BibsmithError) when an output path cannot be written
    (every path is checked first); nothing is written then.
    """
    io.check_outputs([output])
    library = read(inputs, format, prefer=prefer, key_file=key_file, merge=merge, keep_going=keep_going)
    if library.report.has_errors and not keep_going:
        raise BibsmithError(library.report)
    files = outputs(library, to, None if output is None else str(output), **options)
    io.write_outputs([(path, text) for path, text in files if path is not None] + key_file_outputs(library))
    return "".join(str(text) for _, text in files)


__all__ = ["Library", "read", "loads", "write", "convert", "outputs", "BibsmithError", "UsageError",
           "Diagnostic", "Level", "Position", "Report"]

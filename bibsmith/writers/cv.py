"""The CV: a publication list (HTML page, Markdown, LaTeX, text) with the owner's name highlighted."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from typing import Any

from bibsmith.csl import marks, texmath
from bibsmith.diagnostics import Report, UsageError
from bibsmith.library import Library
from bibsmith.writers import formatted

OUTPUTS = ("html", "markdown", "latex", "text")
GROUPS = ("year", "type", "none")
TYPE_GROUPS = [  # (heading, CSL types); preprints are told apart by genre/publisher
    ("Journal articles", {"article-journal", "article-magazine", "article-newspaper", "review"}),
    ("Conference papers", {"paper-conference"}),
    ("Books and chapters", {"book", "chapter", "entry-encyclopedia", "entry-dictionary"}),
    ("Preprints", {"article"}),
    ("Theses and reports", {"thesis", "report"}),
]
_LEFT = re.compile(f"{marks.OPEN['left']}.*?{marks.CLOSE['left']}\\s*|[{marks.OPEN['right']}{marks.CLOSE['right']}]")
_GAP = f"[\\s\\-{re.escape(marks.TAG_MARKERS)}]*"  # between name parts: spaces, hyphens, style markup


@dataclass(frozen=True)
class Options:
    output: str = "html"
    style: str = "apa"
    locale: str = "en-US"
    highlight: tuple[str, ...] = ()
    group_by: str = "year"
    restart_numbering: bool = False
    abstracts: bool = False


@dataclass
class Entry:
    """One paper of the CV: its record, the formatted entry (marker text) and its number."""

    record: dict[str, Any]
    text: str
    number: int = 0


def name_pattern(given: str, family: str, particle: str = "") -> str:
    """A regex for one person as styles print them: full or initialized given names, either order,
    with the particle ("van den") wherever the style puts it, so the bold covers the whole name:
    "van den Oord, A.", "A. van den Oord", "Oord, A. van den" (and "Oord, A." if a source drops it)."""
    tokens = [t for t in re.split(r"[\s.\-]+", given) if t]
    fam = _GAP.join(re.escape(part) for part in family.split())
    words = particle.split()
    # A particle may be capitalized at the start of an entry ("Van den Oord") or glued to the family name (d'Alembert).
    part = "(?i:" + _GAP.join(re.escape(w) for w in words) + ")" if words else ""
    before = f"(?:{part}{_GAP})?" if part else ""
    after = f"(?:{_GAP}{part})?" if part else ""
    if not tokens:
        return before + fam
    parts = [f"(?:{re.escape(t)}|{re.escape(t[0])}\\.?)" for t in tokens]
    given_re = parts[0] + "".join(f"(?:{_GAP}{p})?" for p in parts[1:])
    return f"(?:{given_re}{_GAP}{before}{fam}|{before}{fam},?{_GAP}{given_re}\\.?{after})"


def owner_names(library: Library, options: Options) -> list[tuple[str, str, str]]:
    """(given, family, particle) of the owner (profile metadata) and of every --highlight alias."""
    from bibsmith.text.names import split_name

    names = []
    for text in ([library.metadata["owner"]] if library.metadata.get("owner") else []) + list(options.highlight):
        parts = split_name(text)
        if parts.get("family"):
            given = parts.get("given", "").split()
            particle = " ".join(w for w in (parts.get("dropping-particle"), parts.get("non-dropping-particle")) if w)
            if not particle:  # "Oord, Aäron van den": the particle trails the given names
                while len(given) > 1 and given[-1][:1].islower():
                    particle = f"{given.pop()} {particle}".strip()
            names.append((" ".join(given), parts["family"], particle))
    return names


def initials(given: str, family: str, particle: str = "") -> str:
    """"A. S. Rawat" for Ankit Singh Rawat, "A. van den Oord" for Aäron van den Oord: how the note on
    a hidden owner names them."""
    letters = [t[0] + "." for t in re.split(r"[\s.\-]+", given) if t]
    return " ".join(letters + particle.split() + [family])


def highlight(text: str, pattern: re.Pattern[str] | None, owner: tuple[str, ...] | None, hidden_ok: bool) -> tuple[str, bool]:
    """The entry with the owner's name in bold; when the owner is hidden in "et al." (and the input
    says the paper is theirs), a bold note follows "et al.". Returns (text, owner found)."""
    found = False
    if pattern is not None:
        text, count = pattern.subn(lambda m: marks.wrap("b", m.group(0)), text)
        found = count > 0
    if not found and owner and hidden_ok:
        note = f" (incl. {marks.wrap('b', initials(*owner))})"
        at = text.find("et al.")
        if at >= 0:
            at += 6
            while text[at:at + 1] and text[at] in marks.CLOSE.values():  # after an italic "et al.", not inside it
                at += 1
        text = text[:at] + note + text[at:] if at >= 0 else text + note
        found = True
    return text, found


def _year(record: dict[str, Any]) -> str:
    try:
        return str(record["issued"]["date-parts"][0][0])
    except (KeyError, IndexError, TypeError):
        return "Undated"


def _date_key(record: dict[str, Any]) -> tuple[int, ...]:
    try:
        parts = record["issued"]["date-parts"][0]
        return tuple(int(p) for p in parts) + (0,) * (3 - len(parts))
    except (KeyError, IndexError, TypeError, ValueError):
        return (0, 0, 0)


def _type_group(record: dict[str, Any]) -> str:
    for heading, types in TYPE_GROUPS:
        if record.get("type") in types:
            return heading
    return "Other works"


def groups(entries: list[Entry], group_by: str, restart: bool) -> list[tuple[str, list[Entry]]]:
    """Entries grouped (years newest first; types in a fixed order; or one group), numbered."""
    if group_by == "year":
        keyed: dict[str, list[Entry]] = {}
        for entry in sorted(entries, key=lambda e: _date_key(e.record), reverse=True):
            keyed.setdefault(_year(entry.record), []).append(entry)
        ordered = sorted(keyed.items(), key=lambda kv: (kv[0] == "Undated", -int(kv[0]) if kv[0].isdigit() else 0))
    elif group_by == "type":
        keyed = {}
        for entry in sorted(entries, key=lambda e: _date_key(e.record), reverse=True):
            keyed.setdefault(_type_group(entry.record), []).append(entry)
        order = [h for h, _ in TYPE_GROUPS] + ["Other works"]
        ordered = sorted(keyed.items(), key=lambda kv: order.index(kv[0]))
    else:
        ordered = [("", sorted(entries, key=lambda e: _date_key(e.record), reverse=True))]
    number = 0
    for _, members in ordered:
        if restart:
            number = 0
        for entry in members:
            number += 1
            entry.number = number
    return ordered


def abstract_text(record: dict[str, Any], output: str) -> str:
    """The abstract as `output`: data escaped, TeX math rendered as in titles."""
    text = marks.clean(str(record.get("abstract", "")))
    maths: list[str] = []

    def math(match: re.Match[str]) -> str:
        maths.append(match.group(1))
        return f"{marks.MATH_OPEN}{len(maths) - 1}{marks.MATH_CLOSE}"

    return marks.convert(texmath.MATH.sub(math, " ".join(text.split())), output, maths)


def build(library: Library, options: Options, report: Report) -> tuple[list[tuple[str, list[Entry]]], list[str]]:
    """Format every record in the style, highlight the owner, group and number: the CV's content."""
    if options.output not in OUTPUTS:
        raise UsageError(f"unknown CV output {options.output!r}; choose one of: {', '.join(OUTPUTS)}")
    if options.group_by not in GROUPS:
        raise UsageError(f"unknown grouping {options.group_by!r}; choose one of: {', '.join(GROUPS)}")
    names = owner_names(library, options)
    # Whole words only: "Rawat" must not bold "Rawatson".
    pattern = re.compile("(?<!\\w)(?:" + "|".join(name_pattern(*name) for name in names) + ")(?!\\w)") if names else None
    owner = names[0] if names else None
    if not names:
        report.warning("cv-no-owner", "no owner name in the input (a profile names one); use --highlight NAME to bold it")
    marked, maths = formatted.marked_entries(library.records, options.style, options.locale)
    entries = []
    for index, text in marked:
        record = library.records[index]
        # A profile lists its owner's papers, so each is theirs even when the list is cut short.
        hidden_ok = bool(library.metadata.get("owner")) or (record.get("custom") or {}).get("authors_truncated", False)
        text, found = highlight(_LEFT.sub("", text), pattern, owner, hidden_ok and owner is not None)
        if names and not found:
            report.warning("cv-owner-missing", f"the owner is not among the authors of {record.get('id', index + 1)!r}",
                           library.position_of(index))
        entries.append(Entry(record, text))
    return groups(entries, options.group_by, options.restart_numbering), maths


def write(library: Library, options: Options, report: Report) -> str:
    """The CV as one document in options.output."""
    grouped, maths = build(library, options, report)
    render = {"html": _html, "markdown": _markdown, "latex": _latex, "text": _text}[options.output]
    return render(library.metadata, grouped, maths, options)


def header_counts(metadata: dict[str, Any]) -> list[str]:
    """The profile's counts as short phrases ("48 papers", "6,949 citations", ...)."""
    phrases = []
    for key, label in (("papers", "papers"), ("citations", "citations")):
        if isinstance(metadata.get(key), int):
            phrases.append(f"{metadata[key]:,} {label}")
    if isinstance(metadata.get("h_index"), int):
        phrases.append(f"h-index {metadata['h_index']}")
    if isinstance(metadata.get("novelty"), int):
        phrases.append(f"novelty {metadata['novelty']}%")
    if isinstance(metadata.get("ai_score"), int):
        phrases.append(f"AI score {metadata['ai_score']}")
    if metadata.get("primary_category"):
        phrases.append(f"primary category {metadata['primary_category']}")
    return phrases


def escape(text: str, output: str) -> str:
    """Plain text (owner name, headings) escaped for one output."""
    return {"html": lambda s: html.escape(s), "latex": marks.escape_latex,
            "markdown": lambda s: re.sub(r"([\\`*_\[\]<>#|])", r"\\\1", s), "text": lambda s: s}[output](text)


_CSS = """
  :root { color-scheme: light; }
  body { font: 16px/1.5 Georgia, "Times New Roman", serif; color: #1a1a1a; max-width: 52rem;
         margin: 2.5rem auto; padding: 0 1.5rem; }
  header { border-bottom: 2px solid #1a1a1a; margin-bottom: 1.5rem; }
  h1 { font-size: 2rem; margin: 0 0 .25rem; letter-spacing: .01em; }
  .counts { margin: 0 0 1rem; color: #444; font-size: .95rem; }
  .counts span + span::before { content: " \\00b7  "; }
  h2 { font-size: 1.2rem; margin: 2rem 0 .5rem; padding-bottom: .2rem; border-bottom: 1px solid #ccc; }
  ol { padding-left: 2.6rem; margin: 0; }
  li { margin: 0 0 .7rem; padding-left: .3rem; }
  li b { font-weight: 700; }
  details { margin-top: .3rem; font-size: .92rem; color: #333; }
  summary { cursor: pointer; color: #2255aa; }
  footer { margin-top: 2.5rem; font-size: .8rem; color: #777; }
  @media print {
    body { margin: 0; max-width: none; font-size: 11pt; }
    h2 { break-after: avoid; }
    li { break-inside: avoid; }
    details { display: none; }
    details[open] { display: block; }
    summary { display: none; }
  }
"""


def _title(metadata: dict[str, Any]) -> str:
    return str(metadata.get("owner") or "Publications")


def _html(metadata, grouped, maths, options: Options) -> str:
    owner = html.escape(_title(metadata))
    counts = "".join(f"<span>{html.escape(c)}</span>" for c in header_counts(metadata))
    body = []
    for heading, members in grouped:
        if heading:
            body.append(f'<section class="group">\n<h2>{html.escape(heading)}</h2>')
        else:
            body.append('<section class="group">')
        body.append(f'<ol start="{members[0].number}">' if members else "<ol>")
        for entry in members:
            text = marks.convert(entry.text, "html", maths)
            extra = ""
            if options.abstracts and entry.record.get("abstract"):
                extra = f"\n  <details><summary>Abstract</summary><p>{abstract_text(entry.record, 'html')}</p></details>"
            body.append(f'<li class="entry" value="{entry.number}">{text}{extra}</li>')
        body.append("</ol>\n</section>")
    return (f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{owner} \u2014 publications</title>\n<style>{_CSS}</style>\n</head>\n<body>\n"
            f'<header>\n<h1>{owner}</h1>\n<p class="counts">{counts}</p>\n</header>\n<main>\n'
            + "\n".join(body) + "\n</main>\n<footer>Made with bibsmith.</footer>\n</body>\n</html>\n")


def _markdown(metadata, grouped, maths, options: Options) -> str:
    lines = [f"# {escape(_title(metadata), 'markdown')}", ""]
    counts = header_counts(metadata)
    if counts:
        lines += [" · ".join(counts), ""]
    for heading, members in grouped:
        if heading:
            lines += [f"## {escape(heading, 'markdown')}", ""]
        for entry in members:
            lines.append(f"{entry.number}. {marks.convert(entry.text, 'markdown', maths)}")
            if options.abstracts and entry.record.get("abstract"):
                lines += ["", f"    <details><summary>Abstract</summary>{abstract_text(entry.record, 'markdown')}</details>"]
            lines.append("")
    return "\n".join(lines)


def _latex(metadata, grouped, maths, options: Options) -> str:
    # A fragment for a CV class or any article: needs no package beyond inputenc utf8 (LaTeX's default).
    lines = ["% Publication list made by bibsmith: include this file inside a document.",
             f"\\section*{{{escape(_title(metadata), 'latex')}}}"]
    counts = header_counts(metadata)
    if counts:
        lines.append(escape(" · ".join(counts), "latex") + "\n")
    for heading, members in grouped:
        if heading:
            lines.append(f"\\subsection*{{{escape(heading, 'latex')}}}")
        lines.append("\\begin{enumerate}")
        if members:
            lines.append(f"\\setcounter{{enumi}}{{{members[0].number - 1}}}")
        for entry in members:
            lines.append(f"  \\item {marks.convert(entry.text, 'latex', maths)}")
            if options.abstracts and entry.record.get("abstract"):
                lines.append(f"\n  {{\\small {abstract_text(entry.record, 'latex')}\\par}}")
        lines.append("\\end{enumerate}\n")
    return "\n".join(lines)


def _text(metadata, grouped, maths, options: Options) -> str:
    owner = _title(metadata)
    lines = [owner, "=" * len(owner)]
    counts = header_counts(metadata)
    if counts:
        lines.append(" · ".join(counts))
    for heading, members in grouped:
        lines.append("")
        if heading:
            lines += [heading, "-" * len(heading)]
        width = len(str(max((e.number for e in members), default=1)))
        for entry in members:
            lines.append(f"{entry.number:>{width}}. {marks.convert(entry.text, 'text', maths)}")
            if options.abstracts and entry.record.get("abstract"):
                lines.append(" " * (width + 2) + "Abstract: " + abstract_text(entry.record, "text"))
    return "\n".join(lines) + "\n"

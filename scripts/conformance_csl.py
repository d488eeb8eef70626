"""Score bibsmith's formatted lists against citeproc-js (the processor Zotero and Mendeley use).

Both processors get the same CSL-JSON (without `custom`: the cut-short marker is where we mean to
differ). The npm package `citeproc` is installed into .conformance/ (git-ignored) on first run.
Prints, per fixture and style, the share of entries whose plain text is identical, and the misses.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import unicodedata
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SCRATCH = REPO / ".conformance"
STYLES = ["apa", "ieee", "chicago-author-date", "modern-language-association", "nature",
          "association-for-computing-machinery"]
FIXTURES = [REPO / "data" / "000_9af94693e94184de.txt", REPO / "tests" / "fixtures" / "formatted" / "hard.json"]
IRIDIA = REPO.parent / "shared" / "data" / "iridia-references" / "articles.bib"  # 1,000 real entries (read-only)

# Renders a bibliography with citeproc-js; reads {style, locales, items} on stdin, writes entries as JSON.
RENDER_JS = r"""
const CSL = require('citeproc');
let input = '';
process.stdin.on('data', d => input += d);
process.stdin.on('end', () => {
  const job = JSON.parse(input);
  const items = {};
  for (const item of job.items) items[item.id] = item;
  const sys = {
    retrieveLocale: lang => job.locales[lang] || job.locales['en-US'],
    retrieveItem: id => items[id],
  };
  const engine = new CSL.Engine(sys, job.style, job.locale, true);
  engine.setOutputFormat(job.format || 'text');
  engine.updateItems(job.items.map(i => i.id));
  const [, entries] = engine.makeBibliography();
  process.stdout.write(JSON.stringify(entries));
});
"""


def ensure_citeproc_js() -> Path:
    """Install the npm package `citeproc` into .conformance/ once; return the render script's path."""
    SCRATCH.mkdir(exist_ok=True)
    if not (SCRATCH / "node_modules" / "citeproc").is_dir():
        if not (SCRATCH / "package.json").exists():
            (SCRATCH / "package.json").write_text('{"name": "bibsmith-conformance", "private": true}\n')
        subprocess.run(["npm", "install", "--silent", "--no-audit", "--no-fund", "citeproc"], cwd=SCRATCH, check=True)
    script = SCRATCH / "render.js"
    script.write_text(RENDER_JS)
    return script


def _locale_xml(locale: str) -> str:
    import citeproc

    return (Path(citeproc.LOCALES_PATH) / f"locales-{locale}.xml").read_text(encoding="utf-8")


def render_js(items: list[dict], style: str, locale: str = "en-US", fmt: str = "text") -> list[str]:
    """Entries as citeproc-js renders them."""
    from bibsmith.writers.formatted import style_path

    script = ensure_citeproc_js()
    job = {"style": Path(style_path(style)).read_text(encoding="utf-8"), "locale": locale,
           "locales": {locale: _locale_xml(locale), "en-US": _locale_xml("en-US")},
           "items": items, "format": fmt}
    done = subprocess.run(["node", str(script)], input=json.dumps(job), capture_output=True, text=True,
                          cwd=SCRATCH, check=True)
    return json.loads(done.stdout)


def render_py(items: list[dict], style: str, locale: str = "en-US") -> list[str]:
    """Entries as bibsmith renders them (plain text)."""
    from bibsmith.writers.formatted import entries

    return entries(items, style=style, locale=locale, output="text")


def normalize(entry: str) -> str:
    """Compare as plain text: NFC, whitespace runs folded (citeproc-js pads numbers with a tab)."""
    return " ".join(unicodedata.normalize("NFC", entry).split())


def with_math(entry: str) -> str:
    """citeproc-js prints TeX math raw (`$O(n)$`); rendering it is where we mean to differ, so its
    text is compared after the same math rendering bibsmith applies."""
    from bibsmith.csl import texmath

    return texmath.MATH.sub(lambda m: texmath.render(m.group(1), "text"), entry)


def load_items(path: Path, limit: int | None = None) -> list[dict]:
    """The fixture's CSL-JSON without `custom` (both processors see the same data)."""
    if path.suffix == ".json":
        items = json.loads(path.read_text(encoding="utf-8"))
    else:
        import bibsmith

        items = bibsmith.read(str(path)).records
    return [{k: v for k, v in item.items() if k != "custom"} for item in items[:limit]]


def score(items: list[dict], style: str, show: int) -> tuple[int, int, int]:
    """(identical, compared, unstable) entries between the two processors; prints up to `show` misses.

    citeproc-js's disambiguation (disambiguate-add-names) depends on the order it meets the items, which
    follows their ids: entries that change when the same items get other ids are its own choice, not
    the data's. They are rendered twice to find them, and left out of the share (and counted apart).
    """
    theirs = [normalize(with_math(e)) for e in render_js(items, style)]
    relabelled = [normalize(with_math(e)) for e in render_js([{**item, "id": f"r{n}"} for n, item in enumerate(items)], style)]
    ours = [normalize(e) for e in render_py(items, style)]
    unstable = {n for n, (a, b) in enumerate(zip(theirs, relabelled)) if a != b}
    pairs = [(a, b) for n, (a, b) in enumerate(zip(theirs, ours)) if n not in unstable]
    same = sum(a == b for a, b in pairs)
    for a, b in [(a, b) for a, b in pairs if a != b][:show]:
        print(f"   js: {a}\n   py: {b}")
    if len(theirs) != len(ours):
        print(f"   entry counts differ: citeproc-js {len(theirs)}, bibsmith {len(ours)}")
    return same, max(len(theirs), len(ours)) - len(unstable), len(unstable)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--style", action="append", help="styles to score (default: the six of issue 5)")
    parser.add_argument("--fixture", action="append", type=Path, help="CSL-JSON or profile files")
    parser.add_argument("--show", type=int, default=3, help="misses to print per style")
    parser.add_argument("--target", type=float, default=0.98)
    parser.add_argument("--iridia", type=int, default=1000, help="also score the first N IRIDIA entries in ../shared (0: skip)")
    args = parser.parse_args()
    status = 0
    head = ["| fixture | style | identical | share | left out (citeproc-js unstable) |", "|---|---|---|---|---|"]
    print("\n".join(head))
    rows = []
    totals: dict[str, list[int]] = {}
    fixtures = [(f, None) for f in (args.fixture or FIXTURES)]
    if args.iridia and not args.fixture:
        if IRIDIA.exists():
            fixtures.append((IRIDIA, args.iridia))
        else:
            print(f"({IRIDIA} is missing: IRIDIA not scored)")
    for fixture, limit in fixtures:
        items = load_items(fixture, limit)
        for style in args.style or STYLES:
            same, total, unstable = score(items, style, args.show)
            rows.append(f"| {fixture.name} | {style} | {same} of {total} | {same / total if total else 1:.1%} | {unstable} |")
            print(rows[-1])
            sys.stdout.flush()
            totals.setdefault(style, [0, 0])
            totals[style][0] += same
            totals[style][1] += total
    rows += [f"| all | {style} | {same} of {total} | {same / total:.1%} | |" for style, (same, total) in totals.items()]
    status = int(any(same / total < args.target for same, total in totals.values() if total))
    print("\n".join(["", *head, *rows]))
    return status


if __name__ == "__main__":
    sys.exit(main())

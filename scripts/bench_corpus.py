"""A deterministic BibTeX corpus for the benchmark and the fast-path tests (fixed seed, no network).

Entries look like a real reference-manager export: varied names (particles, suffixes, hyphens,
initials, corporate names; accents both as LaTeX commands and as UTF-8), titles with math, accents
and brace-protected words, DOIs, arXiv eprints, month macros and page ranges. The corpus of n
entries is the first n entries of one stream, so 1k is a prefix of 10k and 10k of 100k.

    python scripts/bench_corpus.py 1000 10000 --dir .bench          # .bench/corpus-1000.bib ...
    python scripts/bench_corpus.py 10000 --duplicates 0.1           # .bench/dups-10000.bib

Tests import it by path (tests/test_fastpaths.py); it uses only the standard library.
"""

from __future__ import annotations

import argparse
import random
from pathlib import Path
from typing import Iterator

SEED = 20260811

# (LaTeX spelling, UTF-8 spelling): an entry uses one or the other, as real files mix both.
GIVEN = [
    ("John", "John"), ("Mary", "Mary"), ("Wei", "Wei"), ("Yoshua", "Yoshua"), ("Priya", "Priya"),
    ("Jos{\\'e}", "José"), ("Zo{\\\"e}", "Zoë"), ("S{\\o}ren", "Søren"), ("{\\L}ukasz", "Łukasz"),
    ("Fran{\\c{c}}ois", "François"), ("Ren{\\'e}e", "Renée"), ("J{\\\"o}rg", "Jörg"),
    ("Jean-Pierre", "Jean-Pierre"), ("Hans-Peter", "Hans-Peter"), ("Ji-Hoon", "Ji-Hoon"),
    ("A.", "A."), ("J. R. R.", "J. R. R."), ("Mar{\\'\\i}a Jos{\\'e}", "María José"), ("Chen", "Chen"),
    ("{\\AA}sa", "Åsa"), ("Bj{\\\"o}rn", "Björn"), ("Ay{\\c{s}}e", "Ayşe"), ("Olu", "Olu"),
]
FAMILY = [
    ("Smith", "Smith"), ("Zhang", "Zhang"), ("Okafor", "Okafor"), ("Rossi", "Rossi"),
    ("M{\\\"u}ller", "Müller"), ("S{\\'a}nchez", "Sánchez"), ("G{\\\"o}del", "Gödel"),
    ("Erd{\\H{o}}s", "Erdős"), ("Smith-Jones", "Smith-Jones"), ("{\\c{C}}elik", "Çelik"),
    ("O'Brien", "O'Brien"), ("Dvo{\\v{r}}{\\'a}k", "Dvořák"), ("Nguy{\\~{\\^e}}n", "Nguyễn"),
    ("Kowalczyk", "Kowalczyk"), ("Garc{\\'\\i}a-M{\\'a}rquez", "García-Márquez"), ("Tanaka", "Tanaka"),
    ("Sch{\\\"o}lkopf", "Schölkopf"), ("Br{\\aa}ten", "Bråten"), ("Lef{\\`e}vre", "Lefèvre"), ("Kim", "Kim"),
    ("{\\O}stergaard", "Østergaard"), ("Wei{\\ss}", "Weiß"), ("Petrov", "Petrov"), ("Silva", "Silva"),
]
PARTICLES = ["van", "van der", "de", "de la", "von", "di", "da", "van den", "du"]
SUFFIXES = ["Jr.", "Sr.", "III", "II"]
CORPORATE = ["{Google DeepMind}", "{The {LIGO} Scientific Collaboration}", "{OpenAI}",
             "{World Health Organization}", "{ATLAS Collaboration}"]

WORDS = """learning neural networks graph attention transformer robust efficient scalable
inference bayesian optimization sparse representation language models retrieval generation
adversarial training convex analysis stochastic gradient descent kernel methods causal discovery
reinforcement policy theory quantum estimation distributed systems privacy federated
benchmark evaluation dynamics control signal processing image segmentation detection embedding
diffusion contrastive pretraining alignment uncertainty calibration compression""".split()
TEX_WORDS = ["Schr{\\\"o}dinger", "na{\\\"\\i}ve", "Poincar{\\'e}", "caf{\\'e}", "\\emph{in vivo}",
             "{\\'E}cole", "\\textit{a priori}", "R{\\'e}nyi", "Erd{\\H{o}}s--R{\\'e}nyi", "M{\\\"o}bius"]
UTF8_WORDS = ["Schrödinger", "naïve", "Poincaré", "café", "École", "Rényi", "Möbius", "Gödel"]
PROTECTED = ["{BERT}", "{GPT}", "{ImageNet}", "{LSTM}", "{PAC}-Bayes", "{U}-{Net}", "{ResNet}", "{COVID}-19"]
MATH = ["$O(n \\log n)$", "$\\ell_1$", "$k$-means", "$\\mathcal{L}_2$", "$\\epsilon$-greedy",
        "$\\alpha$-divergence", "$n^{2}$", "$\\mathbb{R}^d$"]
SPECIAL = ["\\&", "--", ":", "?"]
VENUES = ["Journal of Machine Learning Research", "Neural Computation", "Physical Review Letters",
          "Nature", "IEEE Transactions on Pattern Analysis and Machine Intelligence",
          "Annals of Statistics", "Communications of the {ACM}", "Journal of the Royal Statistical Society"]
CONFERENCES = ["Advances in Neural Information Processing Systems", "International Conference on Machine Learning",
               "Proceedings of the {IEEE} Conference on Computer Vision and Pattern Recognition",
               "Proceedings of the Annual Meeting of the Association for Computational Linguistics",
               "International Conference on Learning Representations"]
PUBLISHERS = ["Springer", "MIT Press", "Cambridge University Press", "Elsevier", "{ACM}", "Wiley"]
SCHOOLS = ["University of Oxford", "University of Tokyo", "Universit{\\\"a}t Z{\\\"u}rich", "ETH Z\u00fcrich"]
PLACES = ["Cambridge, MA", "New York", "Berlin", "Z{\\\"u}rich", "S{\\~a}o Paulo", "Montr{\\'e}al"]
CATEGORIES = ["cs.LG", "cs.CL", "stat.ML", "cs.CV", "cs.IR", "cs.DC", "math.OC", "quant-ph"]
MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
# (entry type, weight)
TYPES = [("article", 40), ("inproceedings", 25), ("arxiv", 20), ("book", 4), ("phdthesis", 3),
         ("techreport", 4), ("incollection", 4)]


def _name(rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.02:
        return rng.choice(CORPORATE)
    latex = rng.random() < 0.5
    given = rng.choice(GIVEN)[0 if latex else 1]
    family = rng.choice(FAMILY)[0 if latex else 1]
    particle = rng.choice(PARTICLES) if rng.random() < 0.12 else ""
    suffix = rng.choice(SUFFIXES) if rng.random() < 0.05 else ""
    if rng.random() < 0.5:  # "von Last, Jr, First"
        last = f"{particle} {family}".strip()
        return f"{last}, {suffix}, {given}" if suffix else f"{last}, {given}"
    if suffix:
        return f"{particle} {family}, {suffix}, {given}".strip()
    return " ".join(p for p in (given, particle, family) if p)


def _title(rng: random.Random) -> str:
    words = [rng.choice(WORDS) for _ in range(rng.randint(4, 11))]
    for pool, chance in ((TEX_WORDS, 0.25), (UTF8_WORDS, 0.1), (PROTECTED, 0.35), (MATH, 0.3), (SPECIAL, 0.2)):
        if rng.random() < chance:
            words.insert(rng.randrange(len(words) + 1), rng.choice(pool))
    words[0] = words[0][:1].upper() + words[0][1:]
    return " ".join(words)


def _entry_fields(rng: random.Random, index: int) -> tuple[str, list[tuple[str, str]]]:
    kind = rng.choices([t for t, _ in TYPES], weights=[w for _, w in TYPES])[0]
    authors = " and ".join(_name(rng) for _ in range(rng.choice([1, 2, 2, 3, 3, 4, 5, 6, 8])))
    if rng.random() < 0.04:
        authors += " and others"
    year = str(rng.randint(1975, 2025))
    fields: list[tuple[str, str]] = [("author", authors), ("title", _title(rng)), ("year", year)]
    if rng.random() < 0.5:
        fields.append(("month", rng.choice(MONTHS)))  # a bare macro, as Zotero and Google Scholar write it
    entry_type = kind
    if kind == "article":
        fields += [("journal", rng.choice(VENUES)), ("volume", str(rng.randint(1, 120))),
                   ("number", str(rng.randint(1, 12)))]
    elif kind == "inproceedings":
        fields += [("booktitle", rng.choice(CONFERENCES)), ("publisher", rng.choice(PUBLISHERS))]
    elif kind == "incollection":
        fields += [("booktitle", _title(rng)), ("editor", " and ".join(_name(rng) for _ in range(2))),
                   ("publisher", rng.choice(PUBLISHERS)), ("address", rng.choice(PLACES))]
    elif kind == "book":
        fields += [("publisher", rng.choice(PUBLISHERS)), ("address", rng.choice(PLACES)),
                   ("edition", rng.choice(["2", "Second", "3rd"]))]
    elif kind == "phdthesis":
        fields += [("school", rng.choice(SCHOOLS))]
    elif kind == "techreport":
        fields += [("institution", rng.choice(["{MIT}", "Microsoft Research", "{INRIA}"])),
                   ("number", f"TR-{rng.randint(100, 999)}")]
    if kind in ("article", "inproceedings", "incollection") and rng.random() < 0.85:
        first = rng.randint(1, 900)
        last = first + rng.randint(3, 30)
        fields.append(("pages", f"{first}--{last}"))
    if kind == "arxiv":
        entry_type = "misc"
        arxiv_id = f"{rng.randint(15, 25):02d}{rng.randint(1, 12):02d}.{rng.randint(0, 99999):05d}"
        category = rng.choice(CATEGORIES)
        fields += [("eprint", arxiv_id), ("archivePrefix", "arXiv"), ("primaryClass", category),
                   ("url", f"https://arxiv.org/abs/{arxiv_id}")]
    elif rng.random() < 0.7:
        fields.append(("doi", f"10.{rng.randint(1000, 9999)}/{rng.choice(['j', 'nature', 'tpami', 'jmlr'])}"
                              f".{year}.{index:06d}"))
    if rng.random() < 0.15:
        fields.append(("abstract", " ".join(rng.choice(WORDS) for _ in range(rng.randint(30, 90))) + "."))
    if rng.random() < 0.2:
        fields.append(("keywords", ", ".join(rng.sample(WORDS, 3))))
    return entry_type, fields


def _format(entry_type: str, key: str, fields: list[tuple[str, str]]) -> str:
    lines = [f"@{entry_type}{{{key},"]
    for name, value in fields:
        # Month macros are written bare (`month = mar`), everything else in braces.
        lines.append(f"  {name} = {value if name == 'month' else '{' + value + '}'},")
    lines.append("}")
    return "\n".join(lines) + "\n\n"


def _variant(fields: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """A duplicate as a second export would write it: DOI in capitals, title braces dropped, no abstract."""
    out = []
    for name, value in fields:
        if name == "doi":
            value = value.upper()
        elif name == "title":
            value = value.replace("{BERT}", "BERT").replace("{GPT}", "GPT")
        elif name == "abstract":
            continue
        out.append((name, value))
    return out


def entries(n: int, seed: int = SEED, duplicates: float = 0.0) -> Iterator[str]:
    """The first n entries (as .bib text, one entry each) of the corpus stream for `seed`.

    With `duplicates` > 0, that share of the entries re-states an earlier entry under a new key.
    """
    rng = random.Random(seed)
    dup_rng = random.Random(seed + 1)
    made: list[tuple[str, list[tuple[str, str]]]] = []
    for index in range(n):
        if duplicates and made and dup_rng.random() < duplicates:
            entry_type, fields = dup_rng.choice(made)
            yield _format(entry_type, f"dup{index:06d}", _variant(fields))
            continue
        entry_type, fields = _entry_fields(rng, index)
        if duplicates:
            made.append((entry_type, fields))
        yield _format(entry_type, f"ref{index:06d}", fields)


def corpus(n: int, seed: int = SEED, duplicates: float = 0.0) -> str:
    """The whole corpus of n entries as one .bib text."""
    header = f"% bibsmith benchmark corpus: {n} entries, seed {seed}" + (
        f", {duplicates:.0%} duplicates" if duplicates else "") + "\n\n"
    return header + "".join(entries(n, seed, duplicates))


def write_corpus(folder: Path, n: int, seed: int = SEED, duplicates: float = 0.0) -> Path:
    """Write corpus-N.bib (or dups-N.bib) under folder unless it is already there; returns its path."""
    folder.mkdir(parents=True, exist_ok=True)
    name = f"{'dups' if duplicates else 'corpus'}-{n}" + ("" if seed == SEED else f"-s{seed}") + ".bib"
    path = folder / name
    if not path.exists():
        tmp = path.with_suffix(".tmp")
        with tmp.open("w", encoding="utf-8", newline="\n") as handle:
            handle.write(corpus(n, seed, duplicates))
        tmp.replace(path)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("sizes", nargs="+", type=int)
    parser.add_argument("--dir", type=Path, default=Path(".bench"))
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--duplicates", type=float, default=0.0)
    args = parser.parse_args()
    for n in args.sizes:
        print(write_corpus(args.dir, n, args.seed, args.duplicates))


if __name__ == "__main__":
    main()

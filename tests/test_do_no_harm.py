"""Do no harm (issue 15): a library that passes through bibsmith keeps every key, entry and field."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import bibtexparser
import pytest

import bibsmith
from conftest import REPO, require_shared, require_tex_file
from test_bibtex_compile import compile_biblatex, compile_bibtex

FIXTURES = REPO / "tests" / "fixtures" / "bibtex"
DBLP = FIXTURES / "dblp.bib"
DBLP_KEYS = ["DBLP:conf/nips/VaswaniSPUJGKP17", "DBLP:journals/corr/VaswaniSPUJGKP17", "DBLP:journals/corr/abs-1810-04805",
             "DBLP:conf/naacl/DevlinCLT19", "DBLP:books/daglib/0040158", "DBLP:phd/dnb/Schmidhuber91"]


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "bibsmith", *args], capture_output=True, text=True, cwd=REPO, timeout=300)


def bib_entries(text: str) -> list[tuple[str, str]]:
    """(key, type) of every entry, as bibtexparser reads them."""
    return [(entry.key, entry.entry_type.lower()) for entry in bibtexparser.parse_string(text).entries]


# ---------------------------------------------------------------- keys
@pytest.mark.parametrize("to", ["bibtex", "biblatex", "csl-json", "ris"])
def test_dblp_keys_are_kept_byte_for_byte_in_every_format(to: str, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = run("convert", str(DBLP), "--to", to, "-o", str(out))
    assert result.returncode == 0, result.stderr
    text = out.read_text(encoding="utf-8")
    if to in ("bibtex", "biblatex"):
        keys = [key for key, _ in bib_entries(text)]
    elif to == "csl-json":
        keys = [item["id"] for item in json.loads(text)]
    else:
        keys = re.findall(r"^ID  - (.*)$", text, re.M)
    assert keys == DBLP_KEYS


CITE_ALL = "\\cite{" + ",".join(DBLP_KEYS) + "}"


def _undefined(log: str) -> list[str]:
    return re.findall(r"Citation [`']([^']*)' (?:on page \d+ )?undefined", log)


def test_a_document_citing_every_dblp_key_compiles_with_bibtex(tmp_path: Path) -> None:
    doc = ("\\documentclass{article}\n\\usepackage[T1]{fontenc}\n\\usepackage{url}\n\\begin{document}\n"
           f"{CITE_ALL}\n\\bibliographystyle{{plain}}\n\\bibliography{{refs}}\n\\end{{document}}\n")
    bib = bibsmith.convert(DBLP, "bibtex")
    bbl, blg, log = compile_bibtex(tmp_path, bib, "plain", doc)
    assert sorted(re.findall(r"\\bibitem\{([^}]*)\}", bbl)) == sorted(DBLP_KEYS)
    assert "error message" not in blg
    assert _undefined(log) == [] and "undefined references" not in log
    assert (tmp_path / "doc.pdf").exists()


def test_a_document_citing_every_dblp_key_compiles_with_biber(tmp_path: Path) -> None:
    doc = ("\\documentclass{article}\n\\usepackage[T1]{fontenc}\n\\usepackage[backend=biber]{biblatex}\n"
           f"\\addbibresource{{refs.bib}}\n\\begin{{document}}\n{CITE_ALL}\n\\printbibliography\n\\end{{document}}\n")
    bbl, blg, log = compile_biblatex(tmp_path, bibsmith.convert(DBLP, "biblatex"), doc)
    # biber adds a clone (a hash for its key) of each entry that a `related` field points to.
    entries = [key for key in re.findall(r"\\entry\{([^}]*)\}", bbl) if not re.fullmatch(r"[0-9a-f]{32}", key)]
    assert sorted(entries) == sorted(DBLP_KEYS)
    assert re.findall(r"^.*\bERROR\b.*$", blg, re.M) == []
    assert _undefined(log) == [] and "undefined references" not in log
    assert (tmp_path / "doc.pdf").exists()


# ---------------------------------------------------------------- entries, types, fields
def test_xampl_keeps_its_36_entries_keys_and_types() -> None:
    xampl = require_tex_file("xampl.bib")
    source = xampl.read_text(encoding="latin-1")
    expected = bib_entries(source)
    assert len(expected) == 36
    for to in ("bibtex", "biblatex"):
        result = run("convert", str(xampl), "--to", to, "--encoding", "latin-1")
        assert result.returncode == 0, result.stderr
        assert bib_entries(result.stdout) == expected


@pytest.mark.parametrize("to", ["bibtex", "biblatex"])
def test_bib_to_bib_gives_the_file_back(to: str) -> None:
    # @string, @preamble, @comment, @set, @xdata and @commentary; \cite, {\MF}, \slash, \noopsort, \%,
    # Jo\~{a}o, $\leq$, 'and others', case protection, crossref, @inbook, @manual, @conference, langid ...
    path = FIXTURES / "tex-commands.bib"
    result = run("convert", str(path), "--to", to)
    assert result.returncode == 0, result.stderr
    assert result.stdout == path.read_text(encoding="utf-8")


def test_set_and_xdata_are_no_records_and_xdata_fields_reach_their_users() -> None:
    library = bibsmith.read(FIXTURES / "tex-commands.bib")
    keys = [record["id"] for record in library.records]
    assert "set2020" not in keys and "xdata:pub" not in keys
    assert keys[-1] == "averroes/bland"  # @commentary is an entry, not a comment
    text = "@book{b, title = {T}, xdata = {pub}}\n@xdata{pub, publisher = {Addison-Wesley}, location = {Reading}}\n"
    (record,) = bibsmith.loads(text, "bibtex").records
    assert (record["publisher"], record["publisher-place"]) == ("Addison-Wesley", "Reading")


def test_the_bibtex_type_survives_csl_json() -> None:
    library = bibsmith.read(FIXTURES / "tex-commands.bib", keep_source=False)
    types = {r["id"]: (r.get("custom") or {}).get("bibtex_type") for r in library.records}
    assert types["part2019"] == "inbook" and types["manual2021"] == "manual" and types["old1990"] == "conference"
    assert types["knuth:tex"] is None  # @book is what book is written as anyway
    back = bibsmith.loads(bibsmith.write(library, "csl-json"), "csl-json")
    written = bib_entries(bibsmith.write(back, "biblatex"))
    assert ("part2019", "inbook") in written and ("manual2021", "manual") in written and ("old1990", "conference") in written
    assert ("thesis2000", "thesis") in written  # biblatex's type, with type = {Master's thesis}
    assert ("thesis2000", "mastersthesis") in bib_entries(bibsmith.write(back, "bibtex"))


def test_expand_strings_gives_the_entries_rewritten_from_the_hub() -> None:
    result = run("convert", str(FIXTURES / "tex-commands.bib"), "--to", "bibtex", "--expand-strings")
    assert result.returncode == 0, result.stderr
    assert "@string" not in result.stdout and "@preamble" not in result.stdout
    assert re.search(r"\n  journal +\= \{TUGboat 41\},\n", result.stdout)


# ---------------------------------------------------------------- merging
def test_dedupe_writes_the_merged_key_as_biblatex_ids_and_bibtex_warns(tmp_path: Path) -> None:
    articles = require_shared("data", "iridia-references", "articles.bib")
    out = tmp_path / "out.bib"
    result = run("convert", str(articles), "--to", "biblatex", "--dedupe", "-o", str(out))
    assert result.returncode == 0, result.stderr
    entry = re.search(r"@\w+\{ProBisBou2018tuna,.*?\n\}", out.read_text(encoding="utf-8"), re.S).group()
    assert re.search(r"\n  ids +\= \{ProBisBou2019tuna\},\n\}$", entry)
    assert "@article{ProBisBou2019tuna," not in out.read_text(encoding="utf-8")
    result = run("convert", str(articles), "--to", "bibtex", "--dedupe", "-o", str(out))
    assert ("warning: record ProBisBou2018tuna: BibTeX has no key aliases: \\cite{ProBisBou2019tuna} no longer resolves "
            "(BibLaTeX keeps them in ids)") in result.stderr


# ---------------------------------------------------------------- what other tools give
def test_latin1_bib_is_read_with_encoding_and_the_error_suggests_it(tmp_path: Path) -> None:
    path = tmp_path / "latin1.bib"
    path.write_bytes("@book{m, author = {J. M\u00fcller}, title = {\u00c9tudes}, year = 2001}\n".encode("latin-1"))
    refused = run("convert", str(path), "--to", "csl-json")
    assert refused.returncode == 1
    assert refused.stderr == (f"{path}:1:24: error: not UTF-8 text (byte 0xfc); save the file as UTF-8, or name its "
                              "encoding with --encoding (latin-1, cp1252, ...)\n")
    read = run("convert", str(path), "--to", "csl-json", "--encoding", "latin-1")
    assert read.returncode == 0, read.stderr
    (item,) = json.loads(read.stdout)
    assert (item["author"], item["title"]) == ([{"family": "Müller", "given": "J."}], "Études")
    assert run("convert", str(path), "--to", "csl-json", "--encoding", "klingon").returncode == 2


def test_biblatex_with_math_symbols_outside_math_compiles_under_pdflatex(tmp_path: Path) -> None:
    library = bibsmith.loads(json.dumps([{"id": "sym2024", "type": "article-journal", "title": "Error ≈ 5% → 0 with α-tests and ∞ data",
                                          "author": [{"family": "Müller", "given": "Jürgen"}], "container-title": "J",
                                          "issued": {"date-parts": [[2024]]}}]), "csl-json")
    bib = bibsmith.write(library, "biblatex")
    assert ("  title        = {Error {\\ensuremath{\\approx}} 5\\% {\\textrightarrow} 0 with {\\ensuremath{\\alpha}}-tests "
            "and {\\ensuremath{\\infty}} data},") in bib
    assert "Müller, Jürgen" in bib  # letters stay UTF-8
    bbl, blg, log = compile_biblatex(tmp_path, bib, safechars=False)
    assert re.findall(r"\\entry\{([^}]*)\}", bbl) == ["sym2024"]
    assert "not set up for use with LaTeX" not in log and not re.search(r"^!", log, re.M)
    ascii_only = bibsmith.write(library, "biblatex", ascii=True)
    assert ascii_only.isascii() and "M{\\\"u}ller, J{\\\"u}rgen" in ascii_only

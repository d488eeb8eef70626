"""The key file: keys never move between runs, the file only grows, changed keys are reported as a diff."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import bibsmith
from bibsmith import keyfile
from bibsmith.diagnostics import Position, Report
from bibsmith.library import Library
from bibsmith.record import normalize
from conftest import REPO

FIXTURES = REPO / "tests" / "fixtures" / "merge"


def paper(title: str, family: str, year: int, **extra) -> dict:
    return {"type": "article-journal", "title": title, "author": [{"family": family, "given": "A."}],
            "issued": {"date-parts": [[year]]}, **extra}


def run(records: list[dict], keys: keyfile.KeyFile) -> Library:
    library = Library()
    for n, record in enumerate(records, 1):
        library.add(dict(record), Position("in.json", n))
    normalize(library, keys)
    return library


def reopen(keys: keyfile.KeyFile) -> keyfile.KeyFile:
    """The key file as the next run reads it from disk."""
    report = Report()
    again = keyfile.parse(keys.updated_text(), "bibsmith.keys", report)
    assert list(report) == []
    return again


# ---------------------------------------------------------------- the file
def test_parse_reports_bad_lines_with_their_numbers() -> None:
    report = Report()
    keys = keyfile.parse("# comment\n\nli2024x doi:10.1/x\nlonely\nDBLP:journals/corr/abs-2101-00001 arxiv:2101.00001\n"
                         "li2024y  work:a:b:2024 \n", "bibsmith.keys", report)
    assert [str(d) for d in report] == [
        "bibsmith.keys:4: error: line has a key but no identity: 'lonely' (expected 'key identity')",
    ]
    # A key the input gave is kept as given, '/' and ':' included (DBLP's keys hold both).
    assert keys.keys == {"doi:10.1/x": "li2024x", "arxiv:2101.00001": "DBLP:journals/corr/abs-2101-00001",
                         "work:a:b:2024": "li2024y"}


def test_identities_of_records() -> None:
    preprint = {"type": "article", "publisher": "arXiv", "title": "Über Graphs", "number": "arXiv:hep-th/9711200v2",
                "author": [{"family": "Schölkopf"}], "issued": {"date-parts": [[1997]]}}
    book = paper("Reinforcement Learning", "Sutton", 2018, type="book", edition="Second", DOI="https://doi.org/10.1/RL")
    assert keyfile.identities(preprint) == ["arxiv:hep-th/9711200", "preprint:uber-graphs:scholkopf:1997"]
    assert keyfile.identities(book) == ["doi:10.1/rl", "work:reinforcement-learning:sutton:2018:ed2"]


# ---------------------------------------------------------------- stable keys
def test_adding_papers_never_renames_existing_keys_and_the_file_grows() -> None:
    first = [paper("Mechanics of Attention", "Li", 2024), paper("Sparse Models", "Rawat", 2021)]
    keys = keyfile.KeyFile(path="bibsmith.keys")
    before = run(first, keys)
    assert [r["id"] for r in before.records] == ["li2024mechanics", "rawat2021sparse"]
    text = keys.updated_text()

    # Without a key file, a second "li2024mechanics" would rename the first paper (both get a/b).
    added = [paper("Mechanics of Prediction", "Li", 2024), *first, paper("Dense Models", "Rawat", 2022)]
    plain = run(added, keyfile.KeyFile())
    assert [r["id"] for r in plain.records][1] == "li2024mechanicsa"

    keys2 = reopen(keys)
    after = run(added, keys2)
    assert [r["id"] for r in after.records] == ["li2024mechanicsa", "li2024mechanics", "rawat2021sparse",
                                                "rawat2022dense"]
    grown = keys2.updated_text()
    assert grown.startswith(text)
    assert grown[len(text):] == ("li2024mechanicsa work:mechanics-of-prediction:li:2024\n"
                                 "rawat2022dense work:dense-models:rawat:2022\n")
    assert keys2.changes == [] and keys2.diff() == ""


def test_rerun_with_nothing_new_adds_nothing() -> None:
    records = [paper("Sparse Models", "Rawat", 2021)]
    keys = keyfile.KeyFile(path="bibsmith.keys")
    run(records, keys)
    again = reopen(keys)
    run(records, again)
    assert again.added == [] and again.updated_text() == keys.updated_text()


def test_key_survives_a_new_year_and_new_identifiers() -> None:
    keys = keyfile.KeyFile(path="bibsmith.keys")
    run([paper("Lazy Neurons", "Li", 2022)], keys)
    later = reopen(keys)
    # The same work, now with a DOI and dated a year later (as a merged record may be): same key.
    library = run([paper("Lazy Neurons", "Li", 2023, DOI="10.1/lazy")], later)
    assert library.records[0]["id"] == "li2022lazy"
    assert later.added == [("li2022lazy", "doi:10.1/lazy"), ("li2022lazy", "work:lazy-neurons:li:2023")]


def test_a_removed_paper_s_key_is_never_given_to_another() -> None:
    keys = keyfile.KeyFile(path="bibsmith.keys")
    run([paper("Mechanics of Attention", "Li", 2024)], keys)
    library = run([paper("Mechanics of Vision", "Li", 2024)], reopen(keys))
    assert library.records[0]["id"] == "li2024mechanicsa"


def test_recorded_key_wins_over_the_input_key_with_a_warning() -> None:
    keys = keyfile.KeyFile(path="bibsmith.keys")
    run([paper("Deep Learning", "LeCun", 2015, DOI="10.1038/nature14539")], keys)
    library = run([paper("Deep Learning", "LeCun", 2015, DOI="10.1038/nature14539", id="LeCun2015")], reopen(keys))
    assert library.records[0]["id"] == "lecun2015deep"
    assert [str(d) for d in library.report] == [
        "in.json:1: warning: input key 'LeCun2015' is not used: bibsmith.keys gives this work "
        "(doi:10.1038/nature14539) the key 'lecun2015deep'"]


def test_two_recorded_works_that_merge_keep_the_older_key_and_the_change_is_a_diff() -> None:
    keys = keyfile.KeyFile(path="bibsmith.keys")
    run([paper("Deep Learning", "LeCun", 2015, DOI="10.1038/nature14539"),
         paper("Deep Learning Review", "LeCun", 2016, DOI="10.1038/nature14539-review")], keys)
    later = reopen(keys)
    # One record now carries both identities (its sources turned out to be one work).
    merged = paper("Deep Learning", "LeCun", 2015, DOI="10.1038/nature14539-review")
    merged["custom"] = {"extra": {"doi": "10.1038/nature14539"}}
    library = run([merged], later)
    assert library.records[0]["id"] == "lecun2015deep"
    assert later.diff() == (
        "--- keys before\n+++ keys now\n"
        "-lecun2016deep doi:10.1038/nature14539-review\n"
        "+lecun2015deep doi:10.1038/nature14539-review\n"
        "# two recorded works are one record now; the older key 'lecun2015deep' is kept\n")
    assert [str(d) for d in library.report] == [
        "in.json:1: warning: key 'lecun2016deep' is now 'lecun2015deep': two recorded works are one record now; "
        "the older key 'lecun2015deep' is kept"]
    assert ("lecun2015deep", "doi:10.1038/nature14539-review") in later.added  # the last line for it wins


def test_input_keys_with_a_slash_are_kept_and_recorded_as_given() -> None:
    keys = keyfile.KeyFile(path="bibsmith.keys")
    preprint = {"id": "hep-th/9711200", "type": "article", "publisher": "arXiv", "title": "The Large N Limit",
                "number": "arXiv:hep-th/9711200v3", "author": [{"family": "Maldacena"}], "issued": {"date-parts": [[1997]]}}
    library = run([preprint], keys)
    assert library.records[0]["id"] == "hep-th/9711200"
    assert keys.diff() == ""
    assert "hep-th/9711200 arxiv:hep-th/9711200\n" in keys.updated_text()
    # Next run: the recorded key comes back for the same arXiv id, without a change.
    again = reopen(keys)
    assert run([dict(preprint, id=None)], again).records[0]["id"] == "hep-th/9711200"
    assert again.changes == []


# ---------------------------------------------------------------- through the command line
def test_cli_key_file_keeps_keys_when_papers_are_added(tmp_path: Path) -> None:
    key_file = tmp_path / "bibsmith.keys"

    def convert(*inputs: Path) -> dict[str, str]:
        result = subprocess.run([sys.executable, "-m", "bibsmith", "convert", *map(str, inputs), "--to", "csl-json",
                                 "--dedupe", "--key-file", str(key_file)], capture_output=True, text=True, cwd=REPO, timeout=120)
        assert result.returncode == 0, result.stderr
        import json
        return {r["title"].casefold() + "|" + r["type"]: r["id"] for r in json.loads(result.stdout)}

    first = convert(FIXTURES / "profile.txt")
    assert sorted(first.values()) == ["li2022lazy", "zaheer2022teacher", "zhou2023distillspec"]
    text = key_file.read_text(encoding="utf-8")
    assert text.startswith(keyfile.HEADER) and len(text.splitlines()) == 2 + 3

    second = convert(FIXTURES / "profile.txt", FIXTURES / "refs.bib", FIXTURES / "zotero.ris")
    assert {k: second[k] for k in first} == first
    grown = key_file.read_text(encoding="utf-8")
    assert grown.startswith(text) and len(grown.splitlines()) > len(text.splitlines())

    third = convert(FIXTURES / "zotero.ris", FIXTURES / "refs.bib", FIXTURES / "profile.txt")  # another order
    assert third == second
    assert key_file.read_text(encoding="utf-8") == grown


def test_bibsmith_read_with_key_file(tmp_path: Path) -> None:
    key_file = tmp_path / "bibsmith.keys"
    key_file.write_text("zhou-distill preprint:distillspec-improving-speculative-decoding-via-knowledge-distillation:zhou:2023\n",
                        encoding="utf-8")
    library = bibsmith.read(FIXTURES / "profile.txt", key_file=key_file)
    assert [r["id"] for r in library.records] == ["li2022lazy", "zaheer2022teacher", "zhou-distill"]
    assert library.metadata["key_file"].path == str(key_file)

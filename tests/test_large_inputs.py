"""Large libraries: reading on every core and streaming output give what the one-process, whole-text path gives."""

from __future__ import annotations

import json

import pytest

from bibsmith import api, io, merge
from bibsmith.readers import bibtex
from conftest import bench_corpus, require_shared



def _everything(library):
    return library.records, library.positions, [(str(d), d.code) for d in library.report]


def _one_process(text: str, source: str, monkeypatch):
    monkeypatch.setattr(bibtex, "PARALLEL_MIN_CHARS", 10**12)
    return bibtex.read(text, source)


def _in_chunks(text: str, source: str, monkeypatch, chunk: int = 1000):
    # Small chunks, so that even a small file is cut in many places; two workers even on one core.
    monkeypatch.setattr(bibtex, "PARALLEL_MIN_CHARS", 0)
    monkeypatch.setattr(bibtex, "CHUNK_CHARS", chunk)
    monkeypatch.setattr(bibtex, "_cores", lambda: 2)
    return bibtex._read_in_parallel(text, source)


def test_reading_in_chunks_on_two_cores_equals_one_process(tmp_path, monkeypatch):
    text = bench_corpus().write_corpus(tmp_path, 1000).read_text(encoding="utf-8")
    chunked = _in_chunks(text, "corpus.bib", monkeypatch)
    assert chunked is not None
    assert len(chunked.records) == 1000
    assert _everything(chunked) == _everything(_one_process(text, "corpus.bib", monkeypatch))
    # The workers also computed merging's keys of their records: the same as computing them here.
    pieces = chunked.precomputed["match_infos"]
    assert len(pieces) > 2
    assert merge._Infos.joined(pieces).parts() == merge._Infos(chunked.records).parts()


def test_merging_with_the_workers_keys_gives_the_same_library(tmp_path, monkeypatch):
    path = bench_corpus().write_corpus(tmp_path, 2000, duplicates=0.1)
    # Records without a key are invalid as read (no id) and valid once normalize gives them one.
    path.write_text(path.read_text(encoding="utf-8") + "\n@misc{,\n  title = {No key at all},\n}\n", encoding="utf-8")
    monkeypatch.setattr(bibtex, "CHUNK_CHARS", 20_000)
    monkeypatch.setattr(bibtex, "PARALLEL_MIN_CHARS", 0)
    monkeypatch.setattr(bibtex, "_cores", lambda: 2)
    chunked = api.read(path, merge="dedupe")  # one input: merged only when asked
    monkeypatch.setattr(bibtex, "PARALLEL_MIN_CHARS", 10**12)
    whole = api.read(path, merge="dedupe")
    assert chunked.metadata["merge_log"].merges  # the file has duplicates, and they were merged
    assert chunked.records[-1]["title"] == "No key at all" and chunked.records[-1]["id"]
    assert chunked.precomputed == {}  # what the reader computed is not carried past api.read
    assert _everything(chunked) == _everything(whole)
    assert api.write(chunked, "csl-json") == api.write(whole, "csl-json")


def test_strings_and_messages_cross_chunk_boundaries(monkeypatch):
    entries = []
    for i in range(12):
        if i == 3:
            entries.append("@string{jn = {Journal of Tests}}\n")
        if i == 7:
            entries.append("@string{jn2 = jn # { (Second Series)}}\n@string{bad = undefinedmacro}\n")
        entries.append(f"@article{{k{i},\n  title = {{Title {i}}},\n  journal = {'jn2' if i >= 7 else 'jn'},\n  year = {{20{i:02d}}},\n"
                       f"  month = {{{'smarch' if i % 5 == 0 else 'mar'}}},\n  note = nosuchmacro{i}\n}}\n")
    text = "% a comment line\n" + "\n".join(entries)
    chunked = _in_chunks(text, "s.bib", monkeypatch, chunk=100)
    serial = _one_process(text, "s.bib", monkeypatch)
    assert chunked is not None
    assert _everything(chunked) == _everything(serial)
    journals = [record.get("container-title") for record in chunked.records]
    assert journals[:3] == [None, None, None]  # jn is not defined yet
    assert journals[3:7] == ["Journal of Tests"] * 4
    assert journals[7:] == ["Journal of Tests (Second Series)"] * 5
    # All field problems first, then the problems found making records: the one-process order.
    codes = [d.code for d in chunked.report]
    assert codes.index("bad-date") > max(i for i, code in enumerate(codes) if code == "undefined-string")


def test_string_lookalikes_inside_values_and_repeated_strings_fall_back(monkeypatch):
    entries = "".join(f"@misc{{k{i}, title = {{T {i}}}, note = {{write @string{{x = {{y}}}} to define}}}}\n"
                      for i in range(40))
    assert _in_chunks(entries, "n.bib", monkeypatch, chunk=200) is None
    monkeypatch.setattr(bibtex, "PARALLEL_MIN_CHARS", 0)
    assert _everything(bibtex.read(entries, "n.bib")) == _everything(_one_process(entries, "n.bib", monkeypatch))
    repeated = "@string{a = {1}}\n" + "@misc{k, title = a}\n" + "@string{a = {2}}\n" + "".join(
        f"@misc{{m{i}, title = a}}\n" for i in range(40))
    assert _in_chunks(repeated, "r.bib", monkeypatch, chunk=100) is None


def test_files_that_need_the_whole_text_are_read_in_one_process(monkeypatch):
    crossref = "@inproceedings{a, title = {A}, crossref = {p}}\n@proceedings{p, title = {Proc}, year = 2001}\n" * 1
    assert _in_chunks(crossref * 1 + "@misc{b, title={x}}\n" * 60, "c.bib", monkeypatch) is None
    # Spelled in any case, and far from the start (the workers find it: the quick look is for "crossref").
    late = "@misc{b, title={x}}\n" * 60 + crossref.replace("crossref", "CrossRef")
    assert _in_chunks(late, "c.bib", monkeypatch) is None
    monkeypatch.setattr(bibtex, "PARALLEL_MIN_CHARS", 0)
    assert bibtex.read(late, "c.bib").records[60]["title"] == "A"
    assert bibtex.read(late, "c.bib").records[60]["container-title"] == "Proc"  # inherited from its parent
    monkeypatch.setattr(bibtex, "PARALLEL_MIN_CHARS", 10**12)
    duplicate = "".join(f"@misc{{k{i % 50}, title = {{{i}}}}}\n" for i in range(100))
    assert _in_chunks(duplicate, "d.bib", monkeypatch) is None
    # ... and read() then gives the one-process result, messages included.
    monkeypatch.setattr(bibtex, "PARALLEL_MIN_CHARS", 0)
    library = bibtex.read(duplicate, "d.bib")
    assert sum(d.code == "duplicate-key" for d in library.report) == 50


def test_iridia_reads_the_same_through_read(monkeypatch):
    for path in sorted(require_shared("data", "iridia-references").glob("*.bib")):
        text = path.read_text(encoding="utf-8")
        monkeypatch.setattr(bibtex, "PARALLEL_MIN_CHARS", 0)
        monkeypatch.setattr(bibtex, "CHUNK_CHARS", 5000)
        monkeypatch.setattr(bibtex, "_cores", lambda: 2)
        fast = bibtex.read(text, str(path))
        assert _everything(fast) == _everything(_one_process(text, str(path), monkeypatch))


def test_csl_json_is_streamed_into_the_file_and_equals_the_whole_text(tmp_path, sample_path):
    library = api.read(sample_path)
    target = tmp_path / "out.json"
    ((path, text),) = api.outputs(library, "csl-json", str(target))
    assert isinstance(text, io.StreamedText)
    io.atomic_write(path, text)
    written = target.read_text(encoding="utf-8")
    assert written == api.write(library, "csl-json") == str(text)
    assert [item["id"] for item in json.loads(written)] == [record["id"] for record in library.records]


def test_a_stream_that_fails_leaves_no_file(tmp_path):
    target = tmp_path / "out.json"

    def pieces():
        yield "[\n"
        raise RuntimeError("disk gone")

    with pytest.raises(RuntimeError):
        io.atomic_write(target, io.StreamedText(pieces))
    assert list(tmp_path.iterdir()) == []


def test_workers_are_forked_with_the_progress_bar_paused(tmp_path, monkeypatch):
    import io as stdio
    import threading

    from bibsmith import progress

    class Terminal(stdio.StringIO):
        def isatty(self):
            return True

    path = bench_corpus().write_corpus(tmp_path, 1000)
    text = path.read_text(encoding="utf-8")
    monkeypatch.setattr(progress, "LARGE_INPUT", 1)
    with progress.Reading([str(path)], stream=Terminal(), environ={}) as bar:
        assert bar.shown and threading.active_count() > 1  # rich's drawing thread
        chunked = _in_chunks(text, "corpus.bib", monkeypatch)
        assert threading.active_count() > 1  # drawing again
    assert chunked is not None
    assert _everything(chunked) == _everything(_one_process(text, "corpus.bib", monkeypatch))


def test_no_fork_beside_another_thread(tmp_path, monkeypatch):
    import threading

    text = bench_corpus().write_corpus(tmp_path, 300).read_text(encoding="utf-8")
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        assert _in_chunks(text, "corpus.bib", monkeypatch, chunk=1000) is None
    finally:
        stop.set()
        other.join()


def test_a_broken_entry_in_a_large_file_ends_the_workers_and_reads_it_in_one_process(tmp_path, monkeypatch):
    # The realistic fallback: one chunk cannot be read fast; the other chunks' work is dropped (no hang),
    # and the file is read by bibtexparser, which reports the broken entry with its line.
    text = bench_corpus().write_corpus(tmp_path, 1000).read_text(encoding="utf-8")
    cut = text.index("@", len(text) // 2)
    broken = text[:cut] + "@article{broken,\n  title = {no closing brace,\n" + text[cut:]
    assert _in_chunks(broken, "broken.bib", monkeypatch, chunk=1000) is None
    library = bibtex.read(broken, "broken.bib")
    errors = [d for d in library.report if d.code == "parse-error"]
    assert len(errors) == 1 and errors[0].position.line == broken[:cut].count("\n") + 1
    assert len(library.records) == 1000

"""ORCID reader: single works, bulk documents and works summaries into CSL-JSON; hostile XML is refused."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
from pathlib import Path

import jsonschema
import pytest
from lxml import etree

import bibsmith
from bibsmith.readers import orcid as reader
from conftest import REPO, require_shared

FIXTURES = REPO / "tests" / "fixtures" / "orcid"
HEAD = ('<work:work xmlns:work="http://www.orcid.org/ns/work" xmlns:common="http://www.orcid.org/ns/common">')


def work(body: str, head: str = HEAD) -> str:
    return f'<?xml version="1.0" encoding="UTF-8"?>\n{head}\n{body}\n</work:work>\n'


def diagnostics(text: str, source: str = "in.xml") -> list[str]:
    return [str(d) for d in reader.read(text, source).report]


# --- what it reads ------------------------------------------------------------------------------------

def test_single_work(shared: Path) -> None:
    path = require_shared("schemas", "orcid-3.0", "examples", "work-preprint-arxiv-3.0.xml")
    library = reader.read(path.read_text(encoding="utf-8"), "w.xml")
    assert library.records == [{
        "id": "doe2024sparse",  # the key of the work's BibTeX citation
        "type": "article", "genre": "Preprint", "publisher": "arXiv", "number": "arXiv:2401.00001",
        "title": "Sparse Attention for Bibliographic Record Deduplication",
        "abstract": "We study deduplication of bibliographic records with sparse attention models.",
        "URL": "https://arxiv.org/abs/2401.00001",
        "issued": {"date-parts": [[2024, 1, 2]]},
        "author": [{"given": "Jane", "family": "Doe"}, {"given": "Richard", "family": "Roe"}],
        "language": "en",
        "keyword": "cs.DL", "custom": {"arxiv_category": "cs.DL"},  # from the citation's primaryClass
    }]
    assert [str(p) for p in library.positions] == ["w.xml:9"]
    assert list(library.report) == []


def test_bulk_document(shared: Path) -> None:
    path = require_shared("schemas", "orcid-3.0", "examples", "bulk-2-works-3.0.xml")
    library = reader.read(path.read_text(encoding="utf-8"), "b.xml")
    assert [r["title"] for r in library.records] == ["Sparse Attention for Bibliographic Record Deduplication",
                                                     "A Survey of Citation Export Formats"]
    assert library.records[1] == {
        "type": "article-journal", "title": "A Survey of Citation Export Formats",
        "container-title": "Journal of Example Studies", "issued": {"date-parts": [[2023]]},
        "DOI": "10.5555/example.2023.001",
        "author": [{"given": "Richard", "family": "Roe"}],  # a CRediT role URI is an author
    }
    # The work's own contributor list wins over its citation's (which names two authors).
    assert library.records[0]["author"] == [{"given": "Jane", "family": "Doe"}]
    assert [str(p) for p in library.positions] == ["b.xml:9", "b.xml:41"]


def test_works_summary_takes_one_work_per_group() -> None:
    library = reader.read((FIXTURES / "works-summary.xml").read_text(encoding="utf-8"), "s.xml")
    assert library.records == [
        {"type": "article-journal", "title": "Learning to Rank Citations", "container-title": "Journal of Example Studies",
         "URL": "https://doi.org/10.1000/jes.2023.7", "issued": {"date-parts": [[2023, 9]]},
         "DOI": "10.1000/jes.2023.7", "ISSN": "1234-5679",
         "custom": {"extra": {"external-id:eid": "2-s2.0-85000000001"}}},
        {"type": "article", "genre": "Preprint", "publisher": "arXiv", "title": "Sparse Retrieval at Scale",
         "number": "arXiv:2402.01234",
         "custom": {"extra": {"external-id:doi:version-of": "10.1000/published.version"}}},
    ]
    assert [str(p) for p in library.positions] == ["s.xml:16", "s.xml:71"]
    assert list(library.report) == []


def test_record_export() -> None:
    library = reader.read((FIXTURES / "record-export.xml").read_text(encoding="utf-8"), "r.xml")
    assert library.records == [{"type": "report", "title": "Notes on Kernel Methods", "issued": {"date-parts": [[2019]]}}]
    assert [str(p) for p in library.positions] == ["r.xml:17"]


def test_full_work_with_subtitle_roles_orcid_ids_and_language() -> None:
    library = reader.read((FIXTURES / "full-work.xml").read_text(encoding="utf-8"), "f.xml")
    assert library.records == [{
        "id": "cohen2022attention", "type": "paper-conference",
        "title": "Attention Is Not Enough: Lessons From 1000 Ablations",
        "container-title": "Proceedings of Example Conference",
        "abstract": "We ablate <everything> & report $O(n^2)$ costs.",
        "URL": "https://example.org/papers/42", "issued": {"date-parts": [[2022, 7, 9]]}, "DOI": "10.1000/xyz.42",
        "author": [{"given": "Noa", "family": "Cohen"},
                   {"given": "Ludwig", "non-dropping-particle": "van", "family": "Beethoven"},
                   {"given": "OpenAI", "family": "Research"}],  # no role: an author
        "editor": [{"given": "Grace", "family": "Hopper"}],
        "language": "he",  # ORCID's old code iw
        "custom": {"contributor_orcids": {"Noa Cohen": "0000-0002-1825-0097"}, "extra": {"country": "IL"}},
    }]


def test_fixtures_are_valid_orcid(shared: Path) -> None:
    base = require_shared("schemas", "orcid-3.0", "record_3.0")
    activities = etree.XMLSchema(etree.parse(str(base / "activities-3.0.xsd")))
    one = etree.XMLSchema(etree.parse(str(base / "work-3.0.xsd")))
    activities.assertValid(etree.parse(str(FIXTURES / "works-summary.xml")))
    one.assertValid(etree.parse(str(FIXTURES / "full-work.xml")))


@pytest.mark.parametrize("name", ["works-summary.xml", "record-export.xml", "full-work.xml"])
def test_records_validate_against_the_csl_schema(name: str) -> None:
    schema = json.loads(require_shared("schemas", "csl", "csl-data.json").read_text(encoding="utf-8"))
    library = bibsmith.read(FIXTURES / name)  # detected by content, normalized (keys assigned)
    assert not library.report.has_errors
    jsonschema.validate(library.records, schema)


def test_refused_works_in_a_bulk_response_are_reported() -> None:
    text = """<?xml version="1.0" encoding="UTF-8"?>
<bulk:bulk xmlns:bulk="http://www.orcid.org/ns/bulk" xmlns:work="http://www.orcid.org/ns/work"
  xmlns:common="http://www.orcid.org/ns/common" xmlns:error="http://www.orcid.org/ns/error">
  <work:work><work:title><common:title>Kept</common:title></work:title><work:type>book</work:type></work:work>
  <error:error>
    <error:response-code>409</error:response-code>
    <error:developer-message>409 Conflict: duplicate external id</error:developer-message>
    <error:user-message>The item has an external id that is already in use.</error:user-message>
  </error:error>
</bulk:bulk>
"""
    library = reader.read(text, "resp.xml")
    assert library.records == [{"type": "book", "title": "Kept"}]
    assert [str(d) for d in library.report] == [
        "resp.xml:5: warning: ORCID refused a work here: The item has an external id that is already in use."]


def test_unreadable_citation_is_reported_and_the_work_still_read() -> None:
    text = work("<work:title><common:title>T</common:title></work:title>\n<work:citation>"
                "<work:citation-type>bibtex</work:citation-type><work:citation-value>not bibtex at all"
                "</work:citation-value></work:citation><work:type>book</work:type>")
    library = reader.read(text, "in.xml")
    assert library.records == [{"type": "book", "title": "T"}]
    assert [str(d) for d in library.report] == [
        "in.xml:2: warning: BibTeX citation not read (no single entry); the work's own fields are"]


def test_cli_reads_orcid_by_content(tmp_path: Path) -> None:
    path = tmp_path / "export.txt"  # no .xml suffix: found by content
    path.write_text((FIXTURES / "works-summary.xml").read_text(encoding="utf-8"), encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "bibsmith", "convert", str(path), "--to", "csl-json"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert [r["title"] for r in json.loads(result.stdout)] == ["Learning to Rank Citations", "Sparse Retrieval at Scale"]


# --- failures: the whole message and its line ---------------------------------------------------------

FAILURES = [
    ("not-xml", "title: Hello\n", ["in.xml:1:1: error: not well-formed XML: Start tag expected, '<' not found"]),
    ("mismatched-tag", work("<work:title>\n<common:title>T</work:title>"),
     ["in.xml:4:29: error: not well-formed XML: Opening and ending tag mismatch: title line 4 and title"]),
    ("undefined-entity", work("<work:title><common:title>&nbsp;</common:title></work:title>"),
     ["in.xml:3:33: error: not well-formed XML: Entity 'nbsp' not defined"]),
    ("wrong-root", '<?xml version="1.0"?>\n<works><work/></works>\n',
     ["in.xml:2: error: not an ORCID works document: the root element is 'works'; expected work:work, bulk:bulk, "
      "activities:works, activities:activities-summary or record:record (ORCID 3.0 namespaces)"]),
    ("no-title", work("<work:type>book</work:type>"),
     ["in.xml:2: error: work has no title (work:title/common:title)"]),
    ("blank-title", work("<work:title><common:title>  </common:title></work:title><work:type>book</work:type>"),
     ["in.xml:2: error: work has no title (work:title/common:title)"]),
    ("unknown-type", work("<work:title><common:title>T</common:title></work:title><work:type>poem</work:type>"),
     ["in.xml:2: warning: unknown work type 'poem'; read as 'document'"]),
    ("no-type", work("<work:title><common:title>T</common:title></work:title>"),
     ["in.xml:2: warning: work has no type; read as 'document'"]),
    ("month-13", work("<work:title><common:title>T</common:title></work:title><work:type>book</work:type>"
                      "<common:publication-date><common:year>2020</common:year><common:month>13</common:month>"
                      "</common:publication-date>"),
     ["in.xml:2: warning: publication month '13' is not a valid month; ignored"]),
]


@pytest.mark.parametrize("text,expected", [c[1:] for c in FAILURES], ids=[c[0] for c in FAILURES])
def test_failures_name_the_line(text: str, expected: list[str]) -> None:
    assert diagnostics(text) == expected


def test_shared_invalid_example(shared: Path) -> None:
    path = require_shared("schemas", "orcid-3.0", "examples", "invalid", "work-no-title-month13-3.0.xml")
    assert diagnostics(path.read_text(encoding="utf-8"), "bad.xml") == [
        "bad.xml:10: error: work has no title (work:title/common:title)"]


def test_month_13_keeps_the_year() -> None:
    text = work("<work:title><common:title>T</common:title></work:title><work:type>book</work:type>"
                "<common:publication-date><common:year>2020</common:year><common:month>13</common:month>"
                "</common:publication-date>")
    assert reader.read(text, "in.xml").records[0]["issued"] == {"date-parts": [[2020]]}


# --- safety -----------------------------------------------------------------------------------------------

DTD_REFUSED = ("error: the document declares a DTD (<!DOCTYPE ...>), which ORCID XML never has; refused, because "
               "DTD entities can read local files, fetch URLs or expand into gigabytes")


@pytest.fixture
def listener():
    """A local TCP port that counts connections: proof that nothing was fetched."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(5)
    server.settimeout(0.2)
    hits: list[int] = []
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                connection, _ = server.accept()
            except OSError:
                continue
            hits.append(1)
            connection.close()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield server.getsockname()[1], hits
    stop.set()
    thread.join()
    server.close()


@pytest.fixture
def secret(tmp_path: Path) -> Path:
    path = tmp_path / "secret.txt"
    path.write_text("TOP-SECRET-7f3a", encoding="utf-8")
    return path


def xxe(secret: Path) -> str:
    return (f'<?xml version="1.0"?>\n<!DOCTYPE work:work [<!ENTITY xxe SYSTEM "{secret.as_uri()}">]>\n'
            + HEAD + "<work:title><common:title>&xxe;</common:title></work:title><work:type>book</work:type></work:work>")


BOMB = ('<?xml version="1.0"?>\n<!-- billion laughs -->\n<!DOCTYPE lolz [\n <!ENTITY lol "lol">\n'
        + "".join(f' <!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">\n' for i in range(1, 10))
        + "]>\n" + HEAD + "<work:title><common:title>&lol9;</common:title></work:title><work:type>book</work:type></work:work>")


def test_external_entity_attack_is_refused_and_reads_nothing(secret: Path) -> None:
    library = reader.read(xxe(secret), "xxe.xml")
    assert [str(d) for d in library.report] == [f"xxe.xml:2: {DTD_REFUSED}"]
    assert library.records == []


def test_entity_expansion_bomb_is_refused_at_once() -> None:
    library = reader.read(BOMB, "bomb.xml")
    assert [str(d) for d in library.report] == [f"bomb.xml:3: {DTD_REFUSED}"]
    assert library.records == []


def test_external_dtd_and_parameter_entities_touch_no_network(listener) -> None:
    port, hits = listener
    for doctype in (f'<!DOCTYPE work:work SYSTEM "http://127.0.0.1:{port}/x.dtd">',
                    f'<!DOCTYPE work:work [<!ENTITY % p SYSTEM "http://127.0.0.1:{port}/p.dtd"> %p;]>'):
        text = f'<?xml version="1.0"?>\n{doctype}\n' + HEAD + "<work:title><common:title>T</common:title></work:title></work:work>"
        assert diagnostics(text, "net.xml") == [f"net.xml:2: {DTD_REFUSED}"]
    assert hits == []


def test_the_parser_itself_resolves_nothing(secret: Path, listener) -> None:
    """Second line of defence: even without the DOCTYPE check, the parser reads no file and no URL."""
    port, hits = listener
    root = etree.fromstring(xxe(secret).encode(), reader._parser())
    assert "TOP-SECRET" not in etree.tostring(root, encoding="unicode")
    text = (f'<?xml version="1.0"?>\n<!DOCTYPE w [<!ENTITY % p SYSTEM "http://127.0.0.1:{port}/p.dtd"> %p;\n'
            f'<!ENTITY e SYSTEM "http://127.0.0.1:{port}/e">]>\n<w>&e;</w>')
    etree.fromstring(text.encode(), reader._parser())
    try:  # libxml2 either refuses the amplification or leaves the reference unexpanded
        root = etree.fromstring(BOMB.encode(), reader._parser())
    except etree.XMLSyntaxError as exc:
        assert "amplification" in str(exc)
    else:
        assert len(etree.tostring(root)) < 10_000
    assert hits == []

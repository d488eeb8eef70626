"""CSL-JSON reader and writer: lossless round trip, repairs of common variants, positioned errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import bibsmith
from bibsmith.readers import csljson as reader
from bibsmith.record import problems
from conftest import require_shared


def test_sample_round_trip_is_lossless(sample_path: Path, tmp_path: Path) -> None:
    library = bibsmith.read(sample_path)
    first = bibsmith.write(library, "csl-json")
    out = tmp_path / "s.json"
    out.write_text(first, encoding="utf-8")
    again = bibsmith.read(out)
    assert again.records == library.records
    assert bibsmith.write(again, "csl-json") == first
    assert json.loads(first) == library.records


def test_positions_of_items() -> None:
    text = '[\n  {"id": "a", "type": "book"},\n\n  {"id": "b", "type": "article"}\n]'
    library = reader.read(text, "x.json")
    assert [str(p) for p in library.positions] == ["x.json:2:3", "x.json:4:3"]


def test_single_object_and_items_wrapper() -> None:
    assert reader.read('{"id": "a", "type": "book"}', "x.json").records == [{"id": "a", "type": "book"}]
    assert reader.read('{"items": [{"id": "a", "type": "book"}]}', "x.json").records == [{"id": "a", "type": "book"}]


def test_variants_are_repaired() -> None:
    text = json.dumps([{"id": 7, "type": "book", "issued": "2020-05", "author": ["Aäron van den Oord"],
                        "keyword": ["a", "b"], "citekey": "x"}])
    library = reader.read(text, "x.json")
    assert library.records == [{
        "id": "7", "type": "book", "issued": {"date-parts": [[2020, 5]]},
        "author": [{"given": "Aäron", "non-dropping-particle": "van den", "family": "Oord"}],
        "keyword": "a, b", "custom": {"extra": {"citekey": "x"}},
    }]
    assert [str(d) for d in library.report] == ["x.json:1:2: warning: 'citekey' is not a CSL variable; kept in custom.extra"]


@pytest.mark.parametrize(
    "text,message",
    [
        ('[{"id": "a", "type": "book"},\n {"id": "b" "type": "book"}]', "x.json:2:13: error: not valid JSON: Expecting ',' delimiter"),
        ('[{"id": "a"}\n  {"id": "b"}]', "x.json:2:3: error: not valid JSON: Expecting ',' delimiter"),
        ('[1]', "x.json:1:2: error: expected a CSL-JSON object, found int"),
        ('', "x.json:1:1: error: not valid JSON: Expecting value"),
    ],
    ids=["missing-comma-in-item", "missing-comma-between-items", "not-an-object", "empty"],
)
def test_errors_have_line_and_column(text: str, message: str) -> None:
    assert [str(d) for d in reader.read(text, "x.json").report] == [message]


def test_unknown_type_is_a_warning_with_position_and_reads_as_document(tmp_path: Path) -> None:
    # Zotero reads an unknown type as 'document'; so does bibsmith (issue 15), saying so.
    path = tmp_path / "t.json"
    path.write_text('[\n{"id": "a", "type": "journal"}\n]', encoding="utf-8")
    library = bibsmith.read(path)
    assert [str(d) for d in library.report] == [f"{path}:2:1: warning: record a: type 'journal' is not a CSL type; read as 'document'"]
    assert library.records == [{"id": "a", "type": "document"}]


def test_a_type_that_is_not_a_string_is_an_error_with_position(tmp_path: Path) -> None:
    path = tmp_path / "t.json"
    path.write_text('[\n{"id": "a", "type": ["book"]}\n]', encoding="utf-8")
    library = bibsmith.read(path)
    assert [str(d) for d in library.report] == [f"{path}:2:1: error: record a: type ['book'] is not a CSL type"]
    assert library.records == [{"id": "a", "type": "document"}]  # what --keep-going writes


names = st.fixed_dictionaries({"family": st.text(min_size=1, max_size=10)}, optional={"given": st.text(max_size=10)})
records = st.lists(
    st.fixed_dictionaries(
        {"type": st.sampled_from(["article", "book", "chapter", "paper-conference"]),
         "title": st.text(max_size=40)},
        optional={"author": st.lists(names, max_size=4), "abstract": st.text(max_size=60),
                  "issued": st.builds(lambda y, m: {"date-parts": [[y, m]]}, st.integers(1900, 2100), st.integers(1, 12)),
                  "custom": st.dictionaries(st.text(min_size=1, max_size=5), st.text(max_size=5), max_size=2)},
    ),
    max_size=5,
)


@settings(max_examples=100, deadline=None)
@given(records)
def test_hypothesis_round_trip(items: list[dict]) -> None:
    library = bibsmith.api.Library()
    for item in items:
        library.add(dict(item))
    bibsmith.api.normalize(library)
    assert all(problems(r) == [] for r in library.records)
    again = reader.read(bibsmith.write(library, "csl-json"), "x.json")
    assert again.records == library.records


# ---- Liberal reading of what other tools write (issue 15)

@pytest.mark.parametrize("item,message", [
    ({"id": "a", "type": ""}, "x.json:1:2: warning: record a: no type; read as 'document'"),
    ({"id": "a"}, "x.json:1:2: warning: record a: no type; read as 'document'"),
    ({"id": "a", "type": "journal"}, "x.json:1:2: warning: record a: type 'journal' is not a CSL type; read as 'document'"),
], ids=["empty-type", "no-type", "unknown-type"])
def test_missing_empty_or_unknown_type_reads_as_document(item: dict, message: str) -> None:
    library = reader.read(json.dumps([item]), "x.json")
    assert library.records == [{"id": "a", "type": "document"}]
    assert [str(d) for d in library.report] == [message]


def test_citation_js_records_convert_with_warnings_only(tmp_path: Path) -> None:
    # citation-js writes "type": "" for what it cannot type; such files used to end the run with exit 1.
    path = tmp_path / "cjs.json"
    path.write_text(json.dumps([{"id": "a", "type": "", "title": "T"}, {"id": "b", "title": "U"}]), encoding="utf-8")
    library = bibsmith.read(path)
    assert not library.report.has_errors
    assert [r["type"] for r in library.records] == ["document", "document"]
    assert json.loads(bibsmith.write(library, "csl-json"))[0] == {"id": "a", "type": "document", "title": "T"}


def test_institution_and_literal_names_are_read() -> None:
    text = json.dumps([{"id": "a", "type": "report", "author": [
        {"family": "ACME Corporation", "isInstitution": "true"}, {"literal": "World Health Organization"},
        {"family": "Doe", "given": "Jane", "isInstitution": "false"}]}])
    library = reader.read(text, "x.json")
    assert library.records[0]["author"] == [{"literal": "ACME Corporation"}, {"literal": "World Health Organization"},
                                            {"family": "Doe", "given": "Jane"}]
    assert [str(d) for d in library.report] == []
    bibsmith.api.normalize(library)
    assert [str(d) for d in library.report] == []


def _valid_value(definition: dict, schema: dict) -> object:
    if "$ref" in definition:
        name = definition["$ref"].rsplit("/", 1)[1]
        return [{"family": "Doe", "given": "J."}] if name == "name-variable" else {"date-parts": [[2020, 5, 1]]}
    kind = definition.get("type")
    if definition.get("enum"):
        return definition["enum"][0]
    if kind == "array":
        return [_valid_value(definition["items"], schema)] if "$ref" not in definition["items"] else [
            {"family": "Doe"}] if "name" in definition["items"]["$ref"] else ["x"]
    if kind == "object":
        return {"note": "x"}
    return 7 if isinstance(kind, list) and "number" in kind else "x"


def test_every_variable_of_the_csl_schema_is_accepted() -> None:
    schema = json.loads(require_shared("schemas", "csl", "csl-data.json").read_text(encoding="utf-8"))
    properties = schema["items"]["properties"]
    item = {name: _valid_value(definition, schema) for name, definition in properties.items()}
    item["id"] = "a"
    library = reader.read(json.dumps([item]), "x.json")
    bibsmith.api.normalize(library)
    assert [str(d) for d in library.report] == []
    assert sorted(library.records[0]) == sorted(properties)


def test_digit_strings_in_date_parts_and_numbers_in_text_variables_are_read() -> None:
    text = json.dumps([{"id": "a", "type": "book", "issued": {"date-parts": [["2020", "05"]]}, "version": 2,
                        "ISBN": 9780262035613}])
    library = reader.read(text, "x.json")
    assert library.records == [{"id": "a", "type": "book", "issued": {"date-parts": [[2020, 5]]}, "version": "2",
                                "ISBN": "9780262035613"}]
    assert [str(d) for d in library.report] == []

"""Citation keys: familyYEARfirstword, ASCII, unique and independent of input order."""

from __future__ import annotations

from bibsmith.text.keys import ascii_fold, assign_keys, base_key, first_title_word


def rec(family: str, year: int, title: str, **extra) -> dict:
    return {"type": "article", "title": title, "author": [{"family": family, "given": "A."}],
            "issued": {"date-parts": [[year, 1, 1]]}, **extra}


def test_base_key_shape() -> None:
    assert base_key(rec("Rawat", 2021, "Disentangling Sampling and Labeling Bias")) == "rawat2021disentangling"
    assert base_key(rec("Li", 2022, "The Lazy Neuron Phenomenon")) == "li2022lazy"


def test_key_is_ascii_folded() -> None:
    assert base_key(rec("Schölkopf", 2001, "Über Kernels")) == "scholkopf2001uber"
    assert base_key(rec("Łukasiewicz", 1920, "Straße")) == "lukasiewicz1920strasse"
    assert ascii_fold("Aäron Ø") == "Aaron O"


def test_math_and_stopwords_skipped() -> None:
    assert first_title_word("$O(n)$ Connections are Expressive Enough") == "connections"
    assert first_title_word("A Fourier Approach") == "fourier"
    assert first_title_word("On the Role of Attention") == "role"
    assert first_title_word("Self-Attention to Markov") == "self"


def test_particle_is_not_in_key() -> None:
    r = {"type": "article", "title": "Wavenet", "author": [{"given": "Aäron", "non-dropping-particle": "van den", "family": "Oord"}],
         "issued": {"date-parts": [[2016]]}}
    assert base_key(r) == "oord2016wavenet"


def test_no_author_no_year() -> None:
    assert base_key({"type": "article", "title": "Anonymous Report"}) == "anonanonymous"
    assert base_key({"type": "article", "title": "X", "author": [{"literal": "Google DeepMind"}]}) == "googlex"


def test_collisions_get_suffixes_in_stable_order() -> None:
    a = rec("Li", 2024, "Mechanics of Prediction", issued={"date-parts": [[2024, 3, 1]]})
    b = rec("Li", 2024, "Mechanics of Attention", issued={"date-parts": [[2024, 2, 1]]})
    c = rec("Li", 2024, "Mechanics of Attention", issued={"date-parts": [[2024, 5, 1]]})
    records = [a, b, c]
    assign_keys(records)
    assert [r["id"] for r in records] == ["li2024mechanicsb", "li2024mechanicsa", "li2024mechanicsc"]
    shuffled = [dict(c, id=None), dict(a, id=None), dict(b, id=None)]
    assign_keys(shuffled)
    assert sorted(r["id"] for r in shuffled) == ["li2024mechanicsa", "li2024mechanicsb", "li2024mechanicsc"]
    assert shuffled[1]["id"] == "li2024mechanicsb"


def test_existing_keys_are_kept_and_avoided() -> None:
    kept = rec("Li", 2024, "Mechanics", id="li2024mechanics")
    new = rec("Li", 2024, "Mechanics of Something Else")
    records = [kept, new]
    assign_keys(records)
    assert kept["id"] == "li2024mechanics"
    assert new["id"] == "li2024mechanicsa"


def test_malformed_records_get_a_key_not_a_crash() -> None:
    assert base_key({"type": "book", "author": "Ann Author", "issued": "2020", "title": 7}) == "anon"
    assert base_key({"type": "book", "author": [{"family": "Ng"}], "issued": {"date-parts": "2020"}, "title": "Deep"}) == "ngdeep"


def test_malformed_csl_json_is_reported_not_a_traceback(tmp_path) -> None:
    import bibsmith

    path = tmp_path / "bad.json"
    path.write_text('[{"id": "a", "type": "book", "author": {"family": "X"}, "issued": [2020]}]', encoding="utf-8")
    library = bibsmith.read(path)
    assert [str(d) for d in library.report] == [
        f"{path}:1:2: error: record a: author must be a list of name objects",
        f"{path}:1:2: error: record a: issued must be a CSL date object",
    ]

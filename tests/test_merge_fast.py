"""The fast matching keys of merging (issue 8) give exactly what the straightforward definitions give.

Each `_reference_*` below is the plain version the fast code replaced: regexes and Unicode
normalization on the whole text, every identifier field read separately.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any, Iterable

from hypothesis import example, given, settings
from hypothesis import strategies as st

from bibsmith import merge
from bibsmith.text import keys

_SPECIAL_ASCII = str.maketrans({"ß": "ss", "æ": "ae", "Æ": "AE", "ø": "o", "Ø": "O", "œ": "oe", "Œ": "OE",
                                "ł": "l", "Ł": "L", "đ": "d", "Đ": "D", "ð": "d", "þ": "th", "ı": "i"})


def _reference_ascii_fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.translate(_SPECIAL_ASCII))
    return decomposed.encode("ascii", "ignore").decode("ascii")


def _reference_key_word(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "", _reference_ascii_fold(text).lower())


def _reference_title_fingerprint(title: str) -> str:
    if "\\" in title or "{" in title:
        title = merge._fold_tex(title)
    text = re.sub(r"[^\w\s]", " ", unicodedata.normalize("NFC", title.replace("&", " and ")))
    return " ".join(re.findall(r"[a-z0-9]+", _reference_ascii_fold(text).casefold()))


def _reference_values(record: dict[str, Any], *names: str) -> Iterable[str]:
    extra = merge._custom(record).get("extra")
    extra = extra if isinstance(extra, dict) else {}
    for name in names:
        for value in (record.get(name), extra.get(name)):
            if isinstance(value, (str, int)):
                yield str(value)


def _reference_arxiv_id(text: str) -> str | None:
    text = text.strip()
    match = (merge.ARXIV_ID.match(text) or merge.ARXIV_DOI.match(merge.DOI_PREFIX.sub("", text))
             or merge.ARXIV_URL.search(text))
    if not match:
        return None
    archive, slash, number = match.group(1).partition("/")
    if slash:
        name, dot, subject = archive.partition(".")
        return f"{name.lower()}{dot}{subject.upper()}/{number}"
    return match.group(1)


def _reference_arxiv_ids(record: dict[str, Any]) -> set[str]:
    found = {_reference_arxiv_id(v) for v in _reference_values(
        record, "number", "DOI", "URL", "eprint", "archive_location", "doi", "url")}
    return {v for v in found if v}


def _reference_dois(record: dict[str, Any]) -> set[str]:
    found = {merge.normalize_doi(v) for v in _reference_values(record, "DOI", "doi")}
    return {v for v in found if v and not merge.ARXIV_DOI.match(v)}


def _reference_is_preprint(record: dict[str, Any]) -> bool:
    if str(record.get("publisher", "")).lower() == "arxiv" or "preprint" in str(record.get("genre", "")).lower():
        return True
    container = str(record.get("container-title", ""))
    if container.lower().startswith(("arxiv", "corr")):
        return True
    return (str(record.get("type")) in merge.GENERIC_TYPES and not container and not _reference_dois(record)
            and bool(_reference_arxiv_ids(record)))


# Text rich in what folding treats specially: accents (precomposed and combining), special letters,
# compatibility characters, punctuation, TeX, '&', case pairs outside ASCII.
_PIECES = st.sampled_from([
    "a", "Z", "0", "9", " ", "\t", "_", "-", "&", "'", "’", "{", "}", "\\", "\\'", "\\\"", "\\emph", "\\ss", "\\o",
    "é", "e\u0301", "\u0301", "\u0327", "Ü", "ß", "ẞ", "Æ", "ø", "Ł", "ı", "İ", "ﬁ", "①", "²", "Ⅻ", "K", "ſ",
    "µ", "Ω", "ǅ", "ŉ", "Σ", "ς", "中", "\u00a0", "\u2003", "\u200b", "\ufeff", "$", "\\ell_1$", "graph ", "Über",
])
FOLDABLE = st.one_of(st.lists(_PIECES, max_size=12).map("".join), st.text(max_size=20))


@settings(max_examples=400, deadline=None)
@given(FOLDABLE)
@example("Über {NP}-hard \\emph{Graphs} & Schölkopf’s")
@example("ǅemal Ⅻ ﬁre e\u0301\u0327")
def test_folding_matches_the_plain_definitions(text: str) -> None:
    assert keys.ascii_fold(text) == _reference_ascii_fold(text)
    assert keys.key_word(text) == _reference_key_word(text)
    assert merge.title_fingerprint(text) == _reference_title_fingerprint(text)


_ID_TEXT = st.one_of(
    st.sampled_from(["arXiv:2210.06313v2", " 2210.06313 ", "hep-th/9711200v3", "math.ag/0309136", "10.48550/arXiv.2101.00001",
                     "https://doi.org/10.48550/ARXIV.2101.00001v2", "https://arxiv.org/abs/1706.03762v5",
                     "http://ARXIV.ORG/pdf/hep-th/9901001", "arxıv.org/abs/1706.03762", "10.1038/NATURE14539",
                     "doi: 10.1000/xyz", "https://dx.doi.org/10.1/A", "12", "", "x.org/abs/1706.03762"]),
    st.text(alphabet="0123456789./:-abvxihtrgpsARXIV ı", max_size=30),
    st.integers(-5, 99999), st.booleans(), st.none(), st.just(["1706.03762"]),
)
_RECORDS = st.fixed_dictionaries({}, optional={
    "type": st.sampled_from(["article", "article-journal", "manuscript", "book", 3]),
    "publisher": st.sampled_from(["arXiv", "ARXIV", "Wiley", None, 1]),
    "genre": st.sampled_from(["Preprint", "thesis", None]),
    "container-title": st.sampled_from(["arXiv preprint", "CoRR", "Nature", "", None]),
    "number": _ID_TEXT, "DOI": _ID_TEXT, "URL": _ID_TEXT, "doi": _ID_TEXT, "eprint": _ID_TEXT,
    "custom": st.one_of(st.none(), st.just([]), st.fixed_dictionaries({}, optional={
        "extra": st.one_of(st.just("x"), st.fixed_dictionaries({}, optional={
            "eprint": _ID_TEXT, "doi": _ID_TEXT, "url": _ID_TEXT, "archive_location": _ID_TEXT, "DOI": _ID_TEXT}))})),
})


@settings(max_examples=400, deadline=None)
@given(_RECORDS)
def test_identifiers_match_the_plain_definitions(record: dict[str, Any]) -> None:
    assert merge.arxiv_ids(record) == _reference_arxiv_ids(record)
    assert merge.dois(record) == _reference_dois(record)
    assert merge.is_preprint(record) == _reference_is_preprint(record)
    assert merge.is_preprint(record, merge.identifiers(record)) == _reference_is_preprint(record)

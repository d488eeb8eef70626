"""Name splitting: a table of real names with the CSL parts a reference manager expects."""

from __future__ import annotations

import pytest

from bibsmith.text.names import display_name, split_name

G, F, P, S, L = "given", "family", "non-dropping-particle", "suffix", "literal"

CASES = [
    ("Aäron van den Oord", {G: "Aäron", P: "van den", F: "Oord"}),
    ("Nando de Freitas", {G: "Nando", P: "de", F: "Freitas"}),
    ("J. Zico Kolter", {G: "J. Zico", F: "Kolter"}),
    ("Quoc V. Le", {G: "Quoc V.", F: "Le"}),
    ("Yann LeCun", {G: "Yann", F: "LeCun"}),
    ("Ankit Singh Rawat", {G: "Ankit Singh", F: "Rawat"}),
    ("M. Emrullah Ildiz", {G: "M. Emrullah", F: "Ildiz"}),
    ("Sashank J. Reddi", {G: "Sashank J.", F: "Reddi"}),
    ("Felix X. Yu", {G: "Felix X.", F: "Yu"}),
    ("Yin-Wen Chang", {G: "Yin-Wen", F: "Chang"}),
    ("Fei-Fei Li", {G: "Fei-Fei", F: "Li"}),
    ("Jean-Pierre Serre", {G: "Jean-Pierre", F: "Serre"}),
    ("Kai-Wei Chang", {G: "Kai-Wei", F: "Chang"}),
    ("Christopher D. Manning", {G: "Christopher D.", F: "Manning"}),
    ("Geoffrey E. Hinton", {G: "Geoffrey E.", F: "Hinton"}),
    ("Yoshua Bengio", {G: "Yoshua", F: "Bengio"}),
    ("Ludwig van Beethoven", {G: "Ludwig", P: "van", F: "Beethoven"}),
    ("Guido van Rossum", {G: "Guido", P: "van", F: "Rossum"}),
    ("Charles Louis Xavier Joseph de la Vallée Poussin", {G: "Charles Louis Xavier Joseph", P: "de la", F: "Vallée Poussin"}),
    ("Ursula von der Leyen", {G: "Ursula", P: "von der", F: "Leyen"}),
    ("Leonardo da Vinci", {G: "Leonardo", P: "da", F: "Vinci"}),
    ("Pierre de Fermat", {G: "Pierre", P: "de", F: "Fermat"}),
    ("Martin Luther King Jr.", {G: "Martin Luther", F: "King", S: "Jr."}),
    ("King, Jr., Martin Luther", {G: "Martin Luther", F: "King", S: "Jr."}),
    ("John Smith III", {G: "John", F: "Smith", S: "III"}),
    ("Henry Ford II", {G: "Henry", F: "Ford", S: "II"}),
    ("Thurston Howell IV", {G: "Thurston", F: "Howell", S: "IV"}),
    ("Donald E. Knuth", {G: "Donald E.", F: "Knuth"}),
    ("Oord, Aäron van den", {G: "Aäron van den", F: "Oord"}),
    ("van den Oord, Aäron", {G: "Aäron", P: "van den", F: "Oord"}),
    ("Rawat, Ankit Singh", {G: "Ankit Singh", F: "Rawat"}),
    ("Łukasz Kaiser", {G: "Łukasz", F: "Kaiser"}),
    ("Jürgen Schmidhuber", {G: "Jürgen", F: "Schmidhuber"}),
    ("Søren Kierkegaard", {G: "Søren", F: "Kierkegaard"}),
    ("Ashish Vaswani", {G: "Ashish", F: "Vaswani"}),
    ("Noam Shazeer", {G: "Noam", F: "Shazeer"}),
    ("Ilya Sutskever", {G: "Ilya", F: "Sutskever"}),
    ("Gheorghe Comanici", {G: "Gheorghe", F: "Comanici"}),
    ("Nguyễn Thị Minh Khai", {G: "Nguyễn Thị Minh", F: "Khai"}),
    ("Hoang Nguyen", {G: "Hoang", F: "Nguyen"}),
    ("Seán Ó Riain", {G: "Seán Ó", F: "Riain"}),
    ("Conor O'Brien", {G: "Conor", F: "O'Brien"}),
    ("Mary-Jane McDonald", {G: "Mary-Jane", F: "McDonald"}),
    ("D. Sculley", {G: "D.", F: "Sculley"}),
    ("Plato", {F: "Plato"}),
    ("{Google DeepMind}", {L: "Google DeepMind"}),
    ("{The ATLAS Collaboration}", {L: "The ATLAS Collaboration"}),
    ("  Yann\u00a0 LeCun ", {G: "Yann", F: "LeCun"}),
]


@pytest.mark.parametrize("text,expected", CASES, ids=[c[0].strip() for c in CASES])
def test_split_name(text: str, expected: dict[str, str]) -> None:
    assert split_name(text) == expected


def test_case_table_is_large_enough() -> None:
    assert len(CASES) >= 40


@pytest.mark.parametrize("text", ["Aäron van den Oord", "Martin Luther King Jr.", "J. Zico Kolter", "Yann LeCun"])
def test_display_name_round_trips(text: str) -> None:
    assert display_name(split_name(text)) == text


def test_empty_name() -> None:
    assert split_name("   ") == {}

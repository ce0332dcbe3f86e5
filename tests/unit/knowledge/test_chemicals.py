"""The chemical table: CAS numbers (exact, any width, any dash) and names found inside questions."""

from __future__ import annotations

import pytest

from knowledge.chemicals import ChemicalTable, cas_checksum_ok, load_chemicals
from knowledge.loader import DATA_DIR
from knowledge.normalize import normalize


@pytest.fixture(scope="module")
def table() -> ChemicalTable:
    return ChemicalTable(load_chemicals(DATA_DIR))


def test_every_cas_in_the_table_is_valid(table: ChemicalTable) -> None:
    assert table.by_cas and all(cas_checksum_ok(cas) for cas in table.by_cas)
    assert not cas_checksum_ok("1763-23-2")


@pytest.mark.parametrize("text", ["1763-23-1是什么", "１７６３－２３－１", "CAS 1763 - 23 - 1", "cas号1763—23—1"])
def test_cas_any_form(table: ChemicalTable, text: str) -> None:
    hits = table.find_cas(normalize(text))
    assert [h.cas for h in hits] == ["1763-23-1"] and hits[0].chemical and hits[0].chemical.id == "pfos"


def test_unknown_and_mistyped_cas(table: ChemicalTable) -> None:
    (unknown,) = table.find_cas("7732-18-5")
    assert unknown.chemical is None and unknown.checksum_ok
    (typo,) = table.find_cas("1763-23-2")
    assert typo.chemical is None and not typo.checksum_ok


@pytest.mark.parametrize(
    ("text", "ids"),
    [
        ("pfos还能用吗", ["pfos"]),
        ("短氯能用吗", ["sccp"]),
        ("dechlorane plus", ["dechlorane"]),
        ("六氯苯和苯", ["hcb", "benzene"]),
        ("甲苯", ["toluene"]),
        ("二氯甲烷和三氯甲烷", ["dcm", "chloroform"]),
        ("pcbs", ["pcbs"]),
    ],
)
def test_names_longest_first(table: ChemicalTable, text: str, ids: list[str]) -> None:
    tokens = tuple(text.replace("和", " ").split())
    assert [c.id for c in table.find_names(text, tokens)] == ids


def test_single_character_names_need_a_word_of_their_own(table: ChemicalTable) -> None:
    assert table.find_names("铅笔有毒吗", ("铅笔", "有毒")) == []
    assert [c.id for c in table.find_names("苯是什么", ("苯", "是", "什么"))] == ["benzene"]


@pytest.mark.parametrize(
    ("text", "fixed"),
    [
        ("三氯杀螨醉还能卖吗", "三氯杀螨醇还能卖吗"),
        ("十溴联苯醚", "十溴二苯醚"),
        ("六氯丁二稀", "六氯丁二烯"),
        ("pf0s还能用吗", "pfos还能用吗"),
    ],
)
def test_one_mistyped_character_of_a_long_name_is_corrected(table: ChemicalTable, text: str, fixed: str) -> None:
    assert table.fix_name_typo(text) == fixed


@pytest.mark.parametrize(
    "text",
    ["全氟丁基磺酸能用吗", "全氟辛基磺酸", "新化学物质登记怎么办理", "短链氯化石蜡", "二氯甲醇", "pfas能用吗", "pm2.5"],
)
def test_other_substances_and_right_names_are_left_alone(table: ChemicalTable, text: str) -> None:
    assert table.fix_name_typo(text) == text

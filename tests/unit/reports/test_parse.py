"""What the wizard reads from typed answers."""

from __future__ import annotations

import pytest

from handlers import report_parse as parse


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("1", "discharge"),
        ("３", "antibiotic_sale"),  # full-width digit
        ("第4项", "toys"),
        ("7.", "other"),
        ("非法进出口受控化学品", "import_export"),
        ("玩具", "toys"),
        ("药店卖抗生素不要处方", "antibiotic_sale"),
        ("PFOS", "banned_chemical"),
        ("8", None),
        ("0", None),
        ("化学", None),  # in several labels: ambiguous
        ("你好", None),
    ],
)
def test_choose_category(text: str, code: str | None) -> None:
    assert parse.choose_category(text) == code


def test_description_needs_five_chinese_characters_and_a_limit() -> None:
    assert parse.check_description("偷排废水啊", min_hanzi=5, max_chars=500).ok
    assert parse.check_description("abc 偷排", min_hanzi=5, max_chars=500).problem == "short"
    assert parse.check_description("1234567890", min_hanzi=5, max_chars=500).problem == "short"
    assert parse.check_description("污" * 501, min_hanzi=5, max_chars=500).problem == "long"
    assert parse.check_description("   ", min_hanzi=5, max_chars=500).problem == "empty"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("盐湖区解放路88号", True),
        ("临猗", True),
        ("城东化工厂后门", True),
        ("开发区", True),
        ("不知道", False),
        ("好的", False),
        ("123", False),
    ],
)
def test_looks_like_address(text: str, expected: bool) -> None:
    assert parse.looks_like_address(text) is expected


@pytest.mark.parametrize(
    ("text", "name", "phone", "problem"),
    [
        ("张三 13812345678", "张三", "13812345678", ""),
        ("张三13812345678", "张三", "13812345678", ""),
        ("姓名：李四，电话：138-1234-5678", "李四", "13812345678", ""),
        ("+86 139 1234 5678 王五", "王五", "13912345678", ""),
        ("张三 12812345678", "", "", "phone"),  # no mainland mobile starts with 12
        ("张三 1381234567", "", "", "phone"),  # ten digits
        ("13812345678", "", "13812345678", "name"),
        ("张三", "", "", "none"),
    ],
)
def test_parse_contact(text: str, name: str, phone: str, problem: str) -> None:
    contact = parse.parse_contact(text)
    assert (contact.name, contact.phone, contact.problem) == (name, phone, problem)


def test_case_numbers_are_found_leniently() -> None:
    assert parse.find_case_no("查询 yc20261128-0001") == "YC20261128-0001"
    assert parse.find_case_no("查询ＹＣ２０２６１１２８－００４２") == "YC20261128-0042"
    assert parse.find_case_no("查询 YC2026-1") is None


def test_smell_smoke_and_noise_ask_for_the_source() -> None:
    assert parse.needs_source("晚上一股刺鼻的异味")
    assert parse.needs_source("烟囱冒黑烟")
    assert parse.needs_source("工厂噪音很大")
    assert not parse.needs_source("河边堆放农药包装袋")


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("查询 YC20261204-1", "YC20261204-0001"),
        ("查询 yc20261204-7", "YC20261204-0007"),
        ("YC202612040007", "YC20261204-0007"),
        ("查询 YC20261204-00012", "YC20261204-0012"),
        ("查询 YC20261204-12345", "YC20261204-12345"),
        ("查询 YC2026", None),
        ("查询 YC20261204-", None),
    ],
)
def test_case_numbers_as_people_type_them(typed: str, expected: str | None) -> None:
    assert parse.find_case_no(typed) == expected


def test_water_reports_need_no_source() -> None:
    assert not parse.needs_source("化工厂往河道排污水，臭得很")
    assert not parse.needs_source("村口臭水沟一直冒泡")
    assert not parse.needs_source("暗管排放的废水有刺鼻气味")
    assert parse.needs_source("河边那个厂子烟囱冒黑烟")  # smoke by a river is still smoke


def test_guess_category_only_when_one_fits() -> None:
    assert parse.guess_category("河边有人乱扔农药瓶子") == "pesticide"
    assert parse.guess_category("药店不要处方就卖抗生素") == "antibiotic_sale"
    assert parse.guess_category("化工厂偷排废水，还在用禁用的全氟化合物") is None
    assert parse.guess_category("这里很脏") is None

"""WeChat's limits as pure functions: text bytes, typed template values, menu name bytes."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from bot import menu
from bot.wechat.limits import TEXT_MAX_BYTES, key_type, menu_name_problem, split_text, utf8_len, value_problem
from bot.wechat.typed_values import ValueMismatch, fit_value, fit_values


def test_a_3000_byte_text_splits_at_sentence_ends_into_pieces_that_fit() -> None:
    sentence = "现场发现企业夜间偷排含氟废水，已拍照取证。"  # 21 characters, 63 bytes
    text = sentence * 48  # 3,024 bytes
    pieces = split_text(text)
    assert len(pieces) == 2
    assert all(utf8_len(p) <= TEXT_MAX_BYTES for p in pieces)
    assert "".join(pieces) == text  # nothing lost
    assert all(p.endswith("。") for p in pieces)  # cut after a sentence, never inside one


def test_a_sentence_longer_than_the_limit_is_cut_at_a_character_boundary() -> None:
    text = "字" * 1500  # 4,500 bytes, no sentence end
    pieces = split_text(text)
    assert [utf8_len(p) for p in pieces] == [2046, 2046, 408]
    assert "".join(pieces) == text


def test_short_text_is_one_piece() -> None:
    assert split_text("您好") == ["您好"]


@pytest.mark.parametrize(
    ("key", "value", "fits"),
    [
        ("thing1", "市生态环境局", True),
        ("thing1", "一" * 21, False),
        ("thing1", "两行\n文字", False),
        ("character_string2", "YC20261120-0001", True),
        ("character_string2", "案件1", False),
        ("time3", "15:01", True),
        ("time3", "2026年11月20日 15:01", True),
        ("time3", "2026-11-20 15:01", True),
        ("time3", "2026年11月20日", False),
        ("time3", "土壤污染", False),
        ("date4", "2026年11月20日", True),
        ("date4", "明天", False),
        ("phrase5", "已办结", True),
        ("phrase5", "已提交，等待受理", False),
        ("number6", "12.5", True),
        ("amount7", "12.50元", True),
        ("letter8", "abc", True),
        ("phone_number9", "0359-1234567", True),
        ("name10", "张三", True),
        ("car_number11", "晋M12345", True),
        ("symbol12", "%", True),
    ],
)
def test_value_types_by_key_prefix(key: str, value: str, fits: bool) -> None:
    assert (value_problem(key, value) is None) is fits


def test_unknown_prefixes_are_not_template_keys() -> None:
    assert key_type("keyword1") is None and key_type("first") is None
    assert value_problem("keyword1", "x") is not None


def test_values_are_written_in_their_keys_type() -> None:
    moment = datetime(2026, 11, 20, 9, 5, tzinfo=UTC)
    assert fit_value("time2", moment) == "2026年11月20日 09:05"
    assert fit_value("date2", moment) == "2026年11月20日"
    assert fit_value("time2", date(2026, 12, 31)) == "2026年12月31日 23:59"
    long_title = "开展新污染物调查监测评估工作（第一阶段）含重点行业"
    assert fit_value("thing1", long_title) == "开展新污染物调查监测评估工作（第一阶段…"
    with pytest.raises(ValueMismatch, match="time2"):
        fit_value("time2", "土壤污染")
    assert fit_values({"a": "thing1", "b": "time2"}, {"a": "x", "b": None, "c": "y"}) == {"thing1": "x"}


def test_menu_names_are_counted_in_bytes() -> None:
    assert menu_name_problem("举报与查询", top=True) is None  # 15 bytes
    assert menu_name_problem("环境举报与查询", top=True) is not None  # 21 bytes
    assert menu_name_problem("环境举报与查询", top=False) is None
    with pytest.raises(ValueError, match="bytes"):
        menu.validate_menu({"button": [{"type": "click", "name": "新污染物知识问答", "key": "K"}]})


def test_citizens_menu_has_no_officials_items() -> None:
    def keys(built: dict) -> set[str]:  # type: ignore[type-arg]
        return {s["key"] for b in built["button"] for s in b.get("sub_button", [])}

    citizen, official = keys(menu.build_menu()), keys(menu.build_menu(officials=True))
    assert menu.KEY_MY_TASKS not in citizen and menu.KEY_BIND_HELP not in citizen
    assert {menu.KEY_MY_TASKS, menu.KEY_BIND_HELP} <= official
    assert citizen < official

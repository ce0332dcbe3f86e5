"""Yearly volume → 常规登记 / 简易登记 / 备案 (令第12号 thresholds: 1 t and 10 t)."""

from __future__ import annotations

import pytest

from knowledge.normalize import normalize
from knowledge.registration import FILING, SIMPLE, STANDARD, classify, cn_to_number, detect, parse_volume


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("十五", 15),
        ("一千二百", 1200),
        ("三点五", 3.5),
        ("半", 0.5),
        ("两", 2),
        ("二十", 20),
        ("一万", 10000),
        ("1.5", 1.5),
        ("两三", 3),
        ("十", 10),
        ("一百零五", 105),
    ],
)
def test_chinese_numerals(text: str, value: float) -> None:
    assert cn_to_number(text) == value


@pytest.mark.parametrize(
    ("text", "tonnes"),
    [
        ("5吨", 5),
        ("十五吨", 15),
        ("0.5吨", 0.5),
        ("500公斤", 0.5),
        ("800千克", 0.8),
        ("1200kg", 1.2),
        ("5t", 5),
        ("１０ｔ", 10),
        ("半吨", 0.5),
        ("3到5吨", 5),
        ("一万吨", 10000),
        ("5 tons", 5),
        ("一千斤", 0.5),
        ("3000市斤", 1.5),
    ],
)
def test_volumes(text: str, tonnes: float) -> None:
    vol = parse_volume(normalize(text))
    assert vol is not None and vol.tonnes == pytest.approx(tonnes)


@pytest.mark.parametrize(
    ("tonnes", "kind"),
    [(0.5, FILING), (0.999, FILING), (1, SIMPLE), (5, SIMPLE), (9.99, SIMPLE), (10, STANDARD), (15, STANDARD)],
)
def test_thresholds(tonnes: float, kind: str) -> None:
    assert classify(tonnes) == kind


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("我们公司每年进口5吨新化学物质要办什么登记？", SIMPLE),
        ("每年生产十五吨", STANDARD),
        ("0.5吨", FILING),
        ("500公斤", FILING),
        ("1吨", SIMPLE),
        ("10吨", STANDARD),
        ("不到1吨的新化学物质", FILING),
        ("1吨以下的新物质要登记吗", FILING),
        ("不超过1吨的新化学物质", FILING),  # a limit in words is read as below it
        ("年产1000多公斤新化学物质", SIMPLE),
        ("每年大概两三吨算哪种", SIMPLE),
    ],
)
def test_detect(question: str, kind: str) -> None:
    q = detect(normalize(question))
    assert q is not None and q.kind == kind


@pytest.mark.parametrize("question", ["5吨的垃圾怎么处理", "PFOS 5吨", "新化学物质登记分几种", "每年用一点二氯甲烷"])
def test_not_a_registration_volume_question(question: str) -> None:
    assert detect(normalize(question)) is None


def test_activity_exemption_and_polymer_are_noticed() -> None:
    q = detect(normalize("每年进口3吨农药用的新化学物质"))
    assert q is not None and q.activity == "进口" and q.exempt_word == "农药"
    q = detect(normalize("年生产20吨新聚合物"))
    assert q is not None and q.polymer and q.activity == "生产"


@pytest.mark.parametrize(
    ("question", "tonnes", "per", "kind"),
    [
        ("每个月生产1吨左右的新化学物质，一年下来要办哪种", 12, "月", STANDARD),
        ("一个月进口两百公斤新化学物质", 2.4, "月", SIMPLE),
        ("每天进口20公斤新物质", 7.3, "天", SIMPLE),
        ("每周生产10公斤新化学物质", 0.52, "周", FILING),
        ("每年进口5吨新化学物质", 5, "", SIMPLE),
    ],
)
def test_a_figure_per_month_week_or_day_is_scaled_to_a_year(
    question: str, tonnes: float, per: str, kind: str
) -> None:
    q = detect(normalize(question))
    assert q is not None and q.volume.tonnes == pytest.approx(tonnes) and q.volume.per == per and q.kind == kind


def test_the_first_figure_is_the_volume_later_ones_are_comparisons() -> None:
    q = detect(normalize("年进口量9.9吨，差一点10吨，办简易还是常规"))
    assert q is not None and q.volume.tonnes == pytest.approx(9.9) and q.kind == SIMPLE

"""The plan parser on the real plan text and on tricky fragments."""

from __future__ import annotations

from knowledge.plan import cn_number, cn_numeral, load_plan, load_plan_document, parse_plan

EXPECTED_CITATIONS = [
    "一",
    "二（一）1",
    "二（一）2",
    "二（二）1",
    "二（二）2",
    "二（二）3",
    *(f"二（三）{n}" for n in range(1, 10)),
    "三（一）",
    "三（二）",
    "三（三）",
    "三（四）",
    "三（五）",
    "三（六）",
]


def by_citation():  # type: ignore[no-untyped-def]
    return {c.citation: c for c in load_plan()}


def test_every_clause_of_the_real_plan_in_order() -> None:
    assert [c.citation for c in load_plan()] == EXPECTED_CITATIONS


def test_document_metadata_and_closing() -> None:
    doc = load_plan_document()
    assert doc.doc_number == "运政办发〔2023〕16号"
    assert doc.issued == "2023年6月26日"
    assert "国办发〔2022〕15号" in doc.preamble and "晋政办发〔2022〕94号" in doc.preamble
    assert "本方案由市生态环境局负责解读。" in doc.closing


def test_lead_unit_is_the_one_marked_qiantou_or_the_sole_responsible_unit() -> None:
    clauses = by_citation()
    assert clauses["二（三）1"].lead_unit == "市生态环境局"  # 市生态环境局牵头，…
    assert clauses["二（三）2"].lead_unit == "市生态环境局"  # （市生态环境局负责）
    assert clauses["二（二）3"].lead_unit is None  # 市生态环境局、市卫健委等按职责分工负责
    assert clauses["二（三）6"].units == ["市卫健委", "市农业农村局", "市生态环境局"]
    assert clauses["一"].units == [] and clauses["一"].lead_unit is None


def test_units_are_unwrapped_in_order_and_the_page_footer_is_gone() -> None:
    c = by_citation()["三（三）"]
    assert c.units == [
        "市生态环境局",
        "市发展改革委",
        "市科技局",
        "市工信局",
        "市财政局",
        "市住建局",
        "市农业农村局",
        "市商务局",
        "市卫健委",
        "运城海关",
        "市市场监管局",
    ]
    assert "— 9 —" not in c.text and "9" not in c.units_text


def test_generic_units_are_not_listed_but_counties_implement_every_clause() -> None:
    clauses = by_citation()
    assert clauses["三（六）"].units == ["市生态环境局"]  # "有关部门" is not a unit one can remind
    assert "有关部门" in clauses["三（六）"].units_text
    assert clauses["二（一）1"].implementers == ["各县（市、区）人民政府", "运城开发区管委会"]
    assert all(c.implementers for c in load_plan())


def test_headings_titles_and_text() -> None:
    c = by_citation()["二（三）2"]
    assert c.heading_path == ["工作任务", "加强新污染物全过程管控，推动新污染物治理工作"]
    assert c.title == "加强新化学物质环境管理事项监督"
    assert c.numbers == (2, 3, 2) and c.level == 3 and c.passage_id == "plan-2-3-2"
    assert "生产前或者进口前取得新化学物质环境管理常规登记证" in c.body  # a line break was inside
    assert c.text.endswith("（市生态环境局负责）") and not c.body.endswith("）")
    # the second-level heading was wrapped over two lines in the PDF text
    assert by_citation()["二（一）1"].heading_path[-1] == "建立健全新污染物治理体系，统筹推进新污染物治理工作"


def test_both_number_forms_and_spaces_from_the_pdf() -> None:
    clauses = by_citation()
    assert clauses["二（二）2"].title == "建立新污染物环境调查监测体系"  # written "2. 建立…"
    assert clauses["二（一）1"].title == "建立健全新污染物治理管理机制"  # written "1．建立…"
    assert "2025年底" in clauses["二（二）2"].deadlines  # "2025\n年底" rejoined without the space


def test_deadlines_and_closing_text_is_not_part_of_the_last_clause() -> None:
    clauses = by_citation()
    assert clauses["三（一）"].deadlines == ["2025年底前"]
    assert clauses["二（二）1"].deadlines == ["2023年底"]
    assert clauses["二（三）6"].deadlines == []  # "（2021-2025 年）" is a period, not a deadline
    assert "负责解读" not in clauses["三（六）"].text


def pdf_text(paragraphs: list[str], width: int = 27, footer_after: int = 8) -> str:
    """Lay paragraphs out like the PDF extraction: hard-wrapped lines, blank lines, a page footer."""
    lines: list[str] = []
    for p in paragraphs:
        lines.extend(p[i : i + width] for i in range(0, len(p), width))
    lines.insert(footer_after, "— 3 —")
    return "# comment lines are ignored\n" + "\n\n".join(lines) + "\n"


FRAGMENT = pdf_text(
    [
        "一、总体目标",
        "到 2025 年，完成高关注、高产（用）量化学物质的筛查和评估，发布企业名单，实施管控措施。",
        "二、工作任务",
        "（一）建立健全新污染物治理体系，统筹推进新污染物治理工作",
        "1．第一项任务。按照各县（市、区）的安排开展工作，加强部门联合调查和联合执法，"
        "做好信息共享。（市生态环境局牵头，市工信局、市商务局等按职责分工负责）",
        "2.第二项任务。这一项没有列出责任单位，只有一句话的正文内容。",
        "（二）第二组任务",
        "1.唯一任务。内容很短。（市财政局负责）",
        "三、保障措施",
        "（一）加强组织领导",
        "各县（市、区）政府要加强组织领导，全面落实属地责任。（市生态环境局牵头，有关部门按职责分工负责）",
        "本方案由市生态环境局负责解读。",
    ]
)


def test_tricky_fragment() -> None:
    clauses = {c.citation: c for c in parse_plan(FRAGMENT)}
    assert list(clauses) == ["一", "二（一）1", "二（一）2", "二（二）1", "三（一）"]
    first = clauses["二（一）1"]
    assert first.heading_path == ["工作任务", "建立健全新污染物治理体系，统筹推进新污染物治理工作"]
    assert first.units == ["市生态环境局", "市工信局", "市商务局"] and first.lead_unit == "市生态环境局"
    assert "各县（市、区）的安排开展工作" in first.body  # parentheses inside the body are not units
    assert "3" not in first.units_text  # the page footer fell inside this clause
    assert clauses["二（一）2"].units == [] and clauses["二（一）2"].lead_unit is None
    assert clauses["二（二）1"].lead_unit == "市财政局"
    assert clauses["三（一）"].title == "加强组织领导" and "解读" not in clauses["三（一）"].text
    assert clauses["一"].deadlines == ["2025年"]


def test_empty_and_headless_text() -> None:
    assert parse_plan("") == []
    assert parse_plan("只有一段话，没有任何标题。\n") == []


def test_chinese_numerals() -> None:
    assert [cn_number(s) for s in ("一", "九", "十", "十二", "二十三")] == [1, 9, 10, 12, 23]
    assert [cn_numeral(n) for n in (1, 10, 12, 23)] == ["一", "十", "十二", "二十三"]

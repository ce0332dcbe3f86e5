"""The registration helper, sentence by sentence as people write them: each classed as 令第12号 says.

Columns: the message, what the reply must be —
  备案 / 简易登记 / 常规登记   the class the reply states (kind "registration")
  existing   a substance already in 《中国现有化学物质名录》: not new, nothing to register
  downstream only buying or using a registered substance: the knowledge base's downstream entry
  exempt     a product type the 办法 does not cover: the exclusion comes first
  hedged     research use: the hedged entry, never a confident class
  not        a waste or emission tonnage: not a registration question at all
"""

from __future__ import annotations

import pytest

from bot import texts
from knowledge.answerer import KnowledgeBase

TABLE = [
    # limits in words
    ("我们研发的新物质年产量不超过一吨，要办什么", "备案"),
    ("新化学物质一年1吨以下走什么手续", "备案"),
    ("进口的新物质一年不到1吨，用办登记证吗", "备案"),
    ("年产量不足一吨的新化学物质怎么管", "备案"),
    ("新化学物质年进口量低于1吨要登记吗", "备案"),
    ("每年生产不满十吨的新化学物质办哪种登记", "简易登记"),
    ("一年十吨以上的新物质进口要办什么证", "常规登记"),
    # figures in Chinese numerals, halves, rough figures, other units
    ("每年生产三吨半新化学物质", "简易登记"),
    ("新物质一年进口零点八吨", "备案"),
    ("年产两千公斤新化学物质办什么", "简易登记"),
    ("每年进口十二吨新化学物质需要办什么登记", "常规登记"),
    ("我们一年也就生产几百公斤新物质，要办啥", "备案"),
    ("新化学物质年产十几吨算哪一类", "常规登记"),
    ("一年进口1500千克的新化学物质要登记吗", "简易登记"),
    ("每个月生产300公斤新化学物质，全年要办什么", "简易登记"),
    ("每天进口五十公斤新物质，要走哪种登记", "常规登记"),
    ("年产八百斤新化学物质", "备案"),
    # several figures
    ("去年进口0.6吨，今年计划进口12吨新化学物质，要办哪种", "常规登记"),
    ("新物质现在一年生产800公斤，明年打算扩到5吨，该办什么登记", "简易登记"),
    ("年产9.5吨的新化学物质，差一点就10吨了，办简易还是常规", "简易登记"),
    # edges
    ("新化学物质年产刚好1吨办什么", "简易登记"),
    ("年进口量正好10吨的新化学物质办什么登记", "常规登记"),
    # existing chemicals
    ("我们每年进口20吨乙醇，要做新化学物质登记吗", "existing"),
    ("厂里拿乙醇当溶剂，这个要办新化学物质登记吗", "existing"),  # no tonnage: still not a new substance
    ("醋酸算新化學物質嗎，要登記不", "existing"),
    ("公司研发的新药原料药要不要办新化学物质环境管理登记", "exempt"),
    ("一年生产5吨异丙醇需要办新化学物质登记吗", "existing"),
    ("进口丙酮每年30吨，需不需要新化学物质备案", "existing"),
    ("每年生产两吨二氯甲烷要登记吗", "existing"),
    ("进口甲苯一年8吨，新化学物质登记要办吗", "existing"),
    ("我们年产硫酸100吨，要按新化学物质办理登记吗", "existing"),
    ("一年进口3吨三氯乙烯要做新化学物质登记吗", "existing"),
    # downstream users
    ("我们厂每年采购5吨别人登记过的新化学物质来加工，要办登记吗", "downstream"),
    ("下游企业一年使用20吨已登记的新物质，需要登记吗", "downstream"),
    ("我们只是买来用，一年用两吨新化学物质，也要登记？", "downstream"),
    # exclusions of 令第12号
    ("我们每年生产5吨新的农药原药，要办新化学物质登记吗", "exempt"),
    ("新开发的兽药成分一年进口2吨，需要新化学物质登记吗", "exempt"),
    ("化妆品用的新原料每年进口半吨，要做新化学物质备案吗", "exempt"),
    ("一年生产十五吨新的饲料添加剂，新化学物质登记要办吗", "exempt"),
    # claims
    ("听说新化学物质少于一吨就什么都不用办，是吧", "claim"),
    ("新物质一年才几百公斤，不用登记吧", "claim"),
    # research use: the hedged entry
    ("科研用的新化学物质每年50公斤要登记吗", "hedged"),
    ("实验室研发用的新物质一年200克，要备案吗", "hedged"),
    # not registration questions
    ("我们厂每年产生危险废物20吨，怎么处理", "not"),
    ("厂里一年排放废水5万吨，要登记什么", "not"),
    ("每年产生3吨废活性炭，要备案吗", "not"),
    ("污泥一年200吨怎么处置", "not"),
]

KIND_OF = {"备案": "filing", "简易登记": "simple", "常规登记": "standard"}


def test_the_table_is_big_enough() -> None:
    assert len(TABLE) >= 40
    assert {want for _, want in TABLE} >= {"备案", "简易登记", "常规登记", "existing", "downstream", "exempt",
                                           "claim", "hedged", "not"}


@pytest.mark.parametrize(("message", "want"), TABLE)
def test_each_message_is_classed_as_the_regulation_says(
    knowledge_base: KnowledgeBase, message: str, want: str
) -> None:
    a = knowledge_base.answer(message)
    first = a.text.split("\n")[0]
    if want in KIND_OF:
        assert a.kind == "registration" and a.matched, a.text
        stated = f"“{want}”"
        assert stated in a.text and all(f"“{k}”" not in first for k in KIND_OF if k != want), a.text
    elif want == "existing":
        assert a.kind == "registration" and "现有化学物质" in first and "不是新化学物质" in first, a.text
        assert all(f"属于新化学物质“{k}”" not in a.text for k in KIND_OF)
    elif want == "downstream":
        assert a.entry_id == "reg-downstream", a.text
    elif want == "exempt":
        assert a.text.startswith("先说明：") or a.entry_id == "reg-exempt", a.text
        assert "不适用" in a.text
    elif want == "claim":
        assert a.text.startswith(texts.KB_REG_CLAIM) and "“备案”" in a.text, a.text
    elif want == "hedged":
        assert (a.entry_id, a.kind, a.matched) == ("reg-research", "partial", False), a.text
        assert "为准" in a.text
    else:
        assert a.kind != "registration" and not any(f"“{k}”" in a.text for k in KIND_OF), a.text

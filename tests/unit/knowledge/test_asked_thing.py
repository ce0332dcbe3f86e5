"""Answers that answer the asked thing, on wording none of the knowledge data uses: near-misses, stock openers,
numerals, report intent, health emergencies, the question inside a story, department duties, and the common
questions that misfired for newcomers."""

from __future__ import annotations

import pytest

from knowledge.answerer import KnowledgeBase
from knowledge.numerals import normalize_numerals


def not_an_answer(a) -> bool:  # type: ignore[no-untyped-def]
    return not a.matched and a.kind in ("partial", "refusal")


# ---- 1. near-misses: the entry on the topic does not hold the asked detail ------------------------------------
NEAR_MISSES = [
    "方案里的专家咨询组都有哪些专家",
    "新污染物治理专项资金今年一共拨了多少钱",
    "新污染物监测数据在哪个网站公布",
    "抗菌药物规范化培训班哪天开班",
    "农药减量增效示范基地设在哪几个县",
    "环境信息披露企业名单具体有哪几家公司",
    "方案实施情况评估具体定在几月几号",
    "重点管控企业名单多久更新一次",
    "登记证办下来要多久",
    "新化学物质登记多久能批下来",
    "新化学物质登记证多久有效",
    # wording of the second blind round: a year, a revision, brands, a count of enterprises, a rate, an event
    "六溴环十二烷从哪一年开始全面禁止生产",
    "这个工作方案以后会不会再修订",
    "抽检不合格的塑料玩具都是什么牌子",
    "全市一共有几家企业做了清洁生产审核",
    "抗菌药物监测报告里的耐药率是多少",
    "新污染物科普讲座下次啥时候开",
    # a third round: tax points, sites, meetings, scores, one local factory on a list, enterprises counted
    "搞新污染物治理的企业税能少交几个点",
    "全市一共设了几个地下水新污染物监测点位",
    "协调机制的联席会议一般多久碰一次头",
    "方案实施情况评估最后打了多少分",
    "我们村口那家化工厂在不在重点管控企业名单里",
    "全市有多少家企业被纳入重点排污单位",
]


@pytest.mark.parametrize("question", NEAR_MISSES)
def test_a_near_miss_is_not_answered_confidently(knowledge_base: KnowledgeBase, question: str) -> None:
    a = knowledge_base.answer(question)
    assert not_an_answer(a), a.text
    assert "12369" in a.text or "运城市生态环境局" in a.text  # the human route


@pytest.mark.parametrize(
    ("question", "label", "nearest"),
    [
        ("环境信息披露企业名单具体有哪几家公司", "具体企业名单", "重点排污单位"),
        ("农药减量增效示范基地设在哪几个县", "具体地点", "减量增效"),
        ("新化学物质登记多久能批下来", "审批办理需要多长时间", "登记"),
    ],
)
def test_a_partial_reply_says_what_is_not_stated_then_the_nearest_facts(
    knowledge_base: KnowledgeBase, question: str, label: str, nearest: str
) -> None:
    a = knowledge_base.answer(question)
    assert a.kind == "partial" and not a.matched
    assert a.text.startswith(f"方案和相关规定没有写明{label}。能确认的是：") and nearest in a.text
    assert "12345" in a.text and "12369" in a.text


@pytest.mark.parametrize(
    ("question", "entry_id", "fact"),
    [
        ("常规登记证的年报每年哪天前交", "reg-annual-report", "4月30日"),
        ("抗菌药物临床应用监测报告多久出一次", "ab-report", "年度"),
        ("不按规定披露环境信息要罚多少钱", "dis-penalty", "万元"),
        ("运城新污染物方案是哪天印发的", "plan-issuer", "2023年6月26日"),
    ],
)
def test_the_asked_detail_that_is_there_is_answered(
    knowledge_base: KnowledgeBase, question: str, entry_id: str, fact: str
) -> None:
    a = knowledge_base.answer(question)
    assert (a.matched, a.kind, a.entry_id) == (True, "answer", entry_id) and fact in a.text


def test_hedged_entries_are_partial_answers(knowledge_base: KnowledgeBase) -> None:
    for question, entry_id in (("新化学物质的台账要保存多少年", "reg-records"),
                               ("简易登记证每年要不要报年度报告", "reg-simple-annual-report")):
        a = knowledge_base.answer(question)
        assert (a.entry_id, a.kind, a.matched) == (entry_id, "partial", False) and "为准" in a.text


# ---- 2. stock openers only for a yes/no question about exactly that ---------------------------------------------
def test_a_yes_opener_is_kept_for_yes_no_and_dropped_for_other_questions(knowledge_base: KnowledgeBase) -> None:
    yes_no = knowledge_base.answer("孩子的文具里有新污染物，有没有部门管")
    which = knowledge_base.answer("孩子的文具里的新污染物由哪些部门来管")
    assert yes_no.entry_id == which.entry_id == "kl-products"
    assert yes_no.text.startswith("有。")
    assert not which.text.startswith("有") and "市场监管局" in which.text


# ---- 3. the registration helper: see test_registration_table.py ---------------------------------------------------
# ---- 4. Chinese numerals ------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("spoken", "digits"),
    [
        ("二〇二五年底前运城新污染物治理要达到什么目标", "2025年底前运城新污染物治理要达到什么目标"),
        ("二零二三年底要完成的调查是哪些", "2023年底要完成的调查是哪些"),
        ("生态环境部令第十二号是哪一年开始施行的", "生态环境部令第12号是哪一年开始施行的"),
        ("新化学物质登记办法二零二一年起施行了吗", "新化学物质登记办法2021年起施行了吗"),
        ("重点管控清单里第十类是什么", "重点管控清单里第十类是什么"),
    ],
)
def test_numerals_give_the_same_answer_as_digits(knowledge_base: KnowledgeBase, spoken: str, digits: str) -> None:
    a, b = knowledge_base.answer(spoken), knowledge_base.answer(digits)
    assert a.matched and (a.entry_id, a.kind) == (b.entry_id, b.kind)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("二〇二三年底前", "2023年底前"),
        ("一九年的规定", "2019年的规定"),
        ("十二月三十一日", "12月31日"),
        ("每年十五吨", "每年15吨"),
        ("三吨半", "3.5吨"),
        ("零点五吨", "0.5吨"),
        ("运城有十三个县市区", "运城有13个县市区"),
        ("二氯甲烷和六溴环十二烷", "二氯甲烷和六溴环十二烷"),  # chemical names keep their numerals
        ("一清单和一名单", "一清单和一名单"),
        ("十四五规划", "十四五规划"),
        ("两三百公斤", "两三百公斤"),  # a rough range, read by the registration helper itself
        ("令第十二号", "令第12号"),
    ],
)
def test_numerals_are_normalised_only_where_they_state_a_figure(text: str, expected: str) -> None:
    assert normalize_numerals(text) == expected


# ---- 5. a wish to report wins over the topic ----------------------------------------------------------------------
@pytest.mark.parametrize(
    "question",
    [
        "楼下洗车店把废机油直接倒进雨水井，去哪里告他们",
        "诊所不开处方就给卖头孢，我想投诉",
        "河对岸的化工厂天天晚上排黄水，跟谁反映能管用",
        "有人在果园边上烧农药瓶子，一股怪味，我要举报",
        "村口那个橡胶厂味儿太大了 想反映反映",
    ],
)
def test_report_intent_gives_12369_and_offers_the_wizard(knowledge_base: KnowledgeBase, question: str) -> None:
    a = knowledge_base.answer(question)
    assert a.kind == "report" and a.matched
    assert "12369" in a.text and "发送“举报”" in a.text


def test_the_pharmacy_entry_agrees_with_the_report_wizard(knowledge_base: KnowledgeBase) -> None:
    a = knowledge_base.answer("药店不要处方就卖消炎药，去哪投诉")
    assert a.kind == "report" and "药店无处方销售抗菌药" in a.text and "12369" in a.text


def test_questions_about_reporting_itself_stay_with_their_entries(knowledge_base: KnowledgeBase) -> None:
    a = knowledge_base.answer("举报以后厂里会知道是谁举报的吗")
    assert a.kind == "answer" and a.entry_id == "rep-confidential" and "12369" in a.text


# ---- 6. health emergencies ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "question",
    [
        "手上溅到了除草剂，起了一片红疹子",
        "爷爷吸入了打药的雾，头晕想吐怎么办",
        "孩子把兑好的消毒液当水喝了一口",
        "工人闻了二氯甲烷以后晕倒了",
        "刚打完药胳膊发麻还有点恶心咋办",
    ],
)
def test_an_emergency_gets_120_first(knowledge_base: KnowledgeBase, question: str) -> None:
    a = knowledge_base.answer(question)
    assert a.kind == "emergency" and not a.matched
    assert a.text.index("120") < 60 and "12320" in a.text


def test_an_emergency_naming_a_chemical_adds_its_card_after_the_advice(knowledge_base: KnowledgeBase) -> None:
    a = knowledge_base.answer("三氯甲烷溅进眼睛里了，疼得厉害")
    assert a.kind == "emergency" and a.text.index("120") < a.text.index("【三氯甲烷】")


def test_health_questions_that_are_not_emergencies_are_still_referred(knowledge_base: KnowledgeBase) -> None:
    a = knowledge_base.answer("抗生素一天吃几次")
    assert not a.matched and a.kind == "refusal"


# ---- 7. the question inside a story or a voice run-on --------------------------------------------------------------
@pytest.mark.parametrize(
    ("question", "entry_id"),
    [
        ("我们厂是做电镀的，老板让我去查一下政策，我看了好多网上的文章说法都不一样，有的说要年报有的说不用，"
         "我就想问现在新化学物质登记分几种", "reg-types"),
        ("我是开小厂的平时用点化工原料最近听人家说国家出了个新的化学物质登记办法"
         "我想问一下新化学物质登记是在哪里申请的", "reg-how-apply"),
        ("我家养了几十只羊前阵子有羊拉稀想去兽药店买抗菌药店里说必须有兽医处方才卖这是不是规定", "ab-vet"),
        ("我爷爷年轻时候老用滴滴涕灭虱子，说效果可好了，现在还能买得到吗", "chem-ddt"),
    ],
)
def test_the_question_is_found_inside_a_long_message(
    knowledge_base: KnowledgeBase, question: str, entry_id: str
) -> None:
    a = knowledge_base.answer(question)
    assert a.matched and a.entry_id == entry_id, a.text


# ---- 8. department duties --------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("question", "fact", "not_fact"),
    [
        ("财政局在新污染物这事上管啥", "专项资金", "市科技局、市工信局"),
        ("银保监在方案里负责什么", "信贷", "市卫健委"),
        ("税务部门在新污染物治理里起什么作用", "税收优惠", "市卫健委"),
        ("卫健委在这里头负责啥", "抗菌药物", "运城银保监分局"),
        ("海关在新污染物上干嘛的", "进出口", "运城银保监分局"),
    ],
)
def test_a_unit_gets_its_own_duties(knowledge_base: KnowledgeBase, question: str, fact: str, not_fact: str) -> None:
    a = knowledge_base.answer(question)
    assert a.matched and fact in a.text and not_fact not in a.text, a.text


# ---- common questions that misfired for newcomers --------------------------------------------------------------
@pytest.mark.parametrize(
    "question",
    ["运城市重点管控新污染物有哪些", "運城市重點管控新污染物有哪些", "什么是新污染物？运城市重点管控新污染物有哪些"],
)
def test_the_key_list_is_the_14_categories(knowledge_base: KnowledgeBase, question: str) -> None:
    a = knowledge_base.answer(question)
    assert a.entry_id == "kl-categories" and "14类" in a.text and "二氯甲烷" in a.text


def test_the_research_entry_is_not_overridden_by_the_tonnage_helper(knowledge_base: KnowledgeBase) -> None:
    a = knowledge_base.answer("科研用的新化学物质每年50公斤要登记吗")
    assert (a.entry_id, a.kind, a.matched) == ("reg-research", "partial", False)
    assert "属于新化学物质“备案”" not in a.text


def test_pesticide_packaging_tells_the_farmer_first(knowledge_base: KnowledgeBase) -> None:
    a = knowledge_base.answer("农药包装废弃物怎么处理")
    assert a.entry_id == "plan-pesticide-packaging" and a.matched
    assert a.text.index("交回") < a.text.index("市农业农村局")


def test_priority_only_chemicals_say_they_are_not_on_the_key_list(knowledge_base: KnowledgeBase) -> None:
    for question in ("三氯乙烯在重点管控清单里吗", "甲醛是不是重点管控新污染物", "镉在重点管控名单上吗"):
        a = knowledge_base.answer(question)
        assert a.kind == "chemical" and "未列入《重点管控新污染物清单（2023年版）》" in a.text, a.text


def test_a_card_found_by_cas_shows_that_number(knowledge_base: KnowledgeBase) -> None:
    a = knowledge_base.answer("53-70-3")
    assert a.entry_id == "chem-pahs" and "CAS号：53-70-3" in a.text


def test_national_plan_names_its_categories(knowledge_base: KnowledgeBase) -> None:
    for question in ("国家行动方案里说的新污染物主要是哪些", "新污染物主要有哪几类"):
        a = knowledge_base.answer(question)
        assert a.matched and "内分泌干扰物" in a.text and "抗生素" in a.text and "微塑料" in a.text
        assert "四类" not in a.text

"""What users get back: the issue's example questions, the reply format, bad input, small talk."""

from __future__ import annotations

import re

import pytest

from knowledge.answerer import Answer, KnowledgeBase
from knowledge.reply import MAX_REPLY_CHARS

ISSUE_EXAMPLES = [
    ("我们公司每年进口5吨新化学物质要办什么登记？", "registration", "reg-simple"),
    ("PFOS还能用吗", "chemical", "chem-pfos"),
    ("1763-23-1是什么", "chemical", "chem-pfos"),
    ("药店卖抗生素要处方吗", "answer", "ab-pharmacy"),
    ("运城的新污染物方案谁负责解读", "answer", "plan-interpret"),
]


def check_format(a: Answer) -> None:
    assert isinstance(a.text, str) and a.text.strip()
    assert len(a.text) <= MAX_REPLY_CHARS
    for n, (_sid, question) in enumerate(a.suggestions, 1):
        assert f"{n}. {question}" in a.text
    if a.matched:
        assert a.sources and a.text.rstrip().splitlines()[-1].startswith("依据：")
        assert all(s in a.text.splitlines()[-1] for s in a.sources)


@pytest.mark.parametrize(("question", "kind", "entry_id"), ISSUE_EXAMPLES)
def test_issue_examples(knowledge_base: KnowledgeBase, question: str, kind: str, entry_id: str) -> None:
    a = knowledge_base.answer(question)
    assert (a.matched, a.kind, a.entry_id) == (True, kind, entry_id)
    check_format(a)


def test_registration_answer_content(knowledge_base: KnowledgeBase) -> None:
    a = knowledge_base.answer("我们公司每年进口5吨新化学物质要办什么登记？")
    assert "简易登记" in a.text and "1吨及以上、不足10吨" in a.text
    assert "进口之前" in a.text and "政务服务平台" in a.text and "固体废物与化学品管理技术中心" in a.text
    assert a.sources == ["《新化学物质环境管理登记办法》（生态环境部令第12号）"]


@pytest.mark.parametrize(
    ("question", "entry_id"),
    [
        ("每年生产十五吨", "reg-standard"),
        ("0.5吨", "reg-filing"),
        ("500公斤", "reg-filing"),
        ("每年进口1吨新化学物质", "reg-simple"),
        ("每年进口10吨新化学物质", "reg-standard"),
    ],
)
def test_registration_by_volume(knowledge_base: KnowledgeBase, question: str, entry_id: str) -> None:
    a = knowledge_base.answer(question)
    assert a.kind == "registration" and a.entry_id == entry_id and a.matched


def test_pfos_card_gives_the_measures(knowledge_base: KnowledgeBase) -> None:
    a = knowledge_base.answer("PFOS还能用吗")
    assert "禁止生产" in a.text and "2023年12月31日" in a.text and "2024年1月1日" in a.text
    assert "重点管控新污染物清单（2023年版）》第1类" in a.text and "PC015" in a.text


def test_plan_answers_cite_the_clause(knowledge_base: KnowledgeBase) -> None:
    a = knowledge_base.answer("药店卖抗生素要处方吗")
    assert a.sources == ["《运城市新污染物治理工作方案》二（三）6"]
    assert a.text.endswith("依据：《运城市新污染物治理工作方案》二（三）6")
    assert "市生态环境局" in knowledge_base.answer("运城的新污染物方案谁负责解读").text


@pytest.mark.parametrize(
    ("question", "entry_id"),
    [
        ("ＰＦＯＳ還能用嗎", "chem-pfos"),  # full width + Traditional
        ("１７６３－２３－１", "chem-pfos"),  # full-width CAS
        ("全氟辛基黄酸", "chem-pfos"),  # homophone typo
        ("PFSO是啥", "chem-pfos"),  # transposed letters
        ("得可隆", "chem-dechlorane"),
        ("短氯还能用吗", "chem-sccp"),  # abbreviation
        ("運城新污染物方案誰負責解讀", "plan-interpret"),
        ("你好，请问12369是干什么的", "rep-12369"),  # greeting in front of a question
    ],
)
def test_robust_to_how_people_type(knowledge_base: KnowledgeBase, question: str, entry_id: str) -> None:
    a = knowledge_base.answer(question)
    assert a.matched and a.entry_id == entry_id


@pytest.mark.parametrize("question", ["今天运城天气怎么样", "身份证丢了去哪补办", "给我讲个笑话", "asdfgh qwe"])
def test_out_of_domain_says_what_the_account_is_for(knowledge_base: KnowledgeBase, question: str) -> None:
    a = knowledge_base.answer(question)
    assert (a.matched, a.kind, a.entry_id) == (False, "refusal", None)
    assert "新污染物政策" in a.text and "举报" in a.text and "查询" in a.text  # what the account is for
    assert "12369" in a.text and "运城市生态环境局" in a.text
    assert a.suggestions == []  # no unrelated questions offered
    check_format(a)


@pytest.mark.parametrize("question", ["What is this account for?", "hello, can I report pollution here please"])
def test_english_gets_a_one_line_english_hint(knowledge_base: KnowledgeBase, question: str) -> None:
    a = knowledge_base.answer(question)
    assert (a.matched, a.kind) == (False, "refusal")
    assert "\n" not in a.text and "12369" in a.text and "举报" in a.text and "report" in a.text


@pytest.mark.parametrize(
    "question",
    [
        "我家住在工业园区旁边，这半个月天天晚上一股刺鼻的臭味，窗户都不敢开，孩子也睡不好",
        "村口那个砖厂烟囱天天冒黑烟，呛得人喘不过气来，晒的衣服都是黑的",
    ],
)
def test_long_smell_or_smoke_complaint_suggests_reporting(knowledge_base: KnowledgeBase, question: str) -> None:
    a = knowledge_base.answer(question)
    assert "举报" in a.text and "12369" in a.text


def test_other_cities_are_not_answered_with_yuncheng_facts(knowledge_base: KnowledgeBase) -> None:
    a = knowledge_base.answer("北京的新污染物治理方案谁负责解读")
    assert not a.matched and a.kind == "refusal" and "其他地区" in a.text


def test_unsure_suggestions_can_be_picked(knowledge_base: KnowledgeBase) -> None:
    a = knowledge_base.answer("备案交上去以后")
    assert a.suggestions
    picked = knowledge_base.answer_entry(a.suggestions[0][0])
    assert picked.matched and picked.entry_id == a.suggestions[0][0]


@pytest.mark.parametrize(
    ("question", "kind"),
    [("你好", "smalltalk"), ("谢谢！", "smalltalk"), ("再见", "smalltalk"), ("👍", "smalltalk")],
)
def test_small_talk(knowledge_base: KnowledgeBase, question: str, kind: str) -> None:
    a = knowledge_base.answer(question)
    assert (a.kind, a.matched) == (kind, False) and a.text and len(a.text) < 100


BAD_INPUT = [
    "",
    "   ",
    "？？？！！",
    "😀😀😀",
    "\x00\x01\x02\x1b[31m",
    "5",
    "１２",
    "x" * 5000,
    "PFOS还能用吗" * 500,
    "\ud800",  # a lone surrogate
    "污" * 5000,
    "1763-23-2",  # wrong check digit
    "7732-18-5",  # a valid CAS that is on no list
]


@pytest.mark.parametrize("question", BAD_INPUT)
def test_bad_input_gets_a_sensible_reply(knowledge_base: KnowledgeBase, question: str) -> None:
    a = knowledge_base.answer(question)
    check_format(a)
    assert a.kind in ("empty", "refusal", "smalltalk", "chemical", "answer")


def test_specific_bad_input_replies(knowledge_base: KnowledgeBase) -> None:
    assert knowledge_base.answer("").kind == "refusal" and "请直接输入" in knowledge_base.answer("").text
    assert knowledge_base.answer("😀😀").kind == "refusal"
    assert "数字" in knowledge_base.answer("5").text
    assert "校验位" in knowledge_base.answer("1763-23-2").text
    assert "不在本账号收录" in knowledge_base.answer("7732-18-5").text
    assert knowledge_base.answer("PFOS还能用吗" * 500).entry_id == "chem-pfos"
    assert knowledge_base.answer("12369").entry_id == "rep-12369"  # a number that means something


def test_every_entry_fits_one_message(knowledge_base: KnowledgeBase) -> None:
    for pid in list(knowledge_base.passage_by_id) + [f"plan-{c}" for c in ("2-3-7", "3-1", "1")]:
        a = knowledge_base.answer_entry(pid)
        entry = knowledge_base.entries.get(pid)
        if entry is not None and entry.hedged:  # its point is unconfirmed: shown, but not a confident answer
            assert (a.matched, a.kind) == (False, "partial"), pid
        else:
            assert a.matched, pid
        check_format(a)
        assert not re.search(r"\n{3,}", a.text)


def test_answer_entry_unknown_id(knowledge_base: KnowledgeBase) -> None:
    a = knowledge_base.answer_entry("no-such-entry")
    assert not a.matched and a.text


def test_counts(knowledge_base: KnowledgeBase) -> None:
    assert knowledge_base.entry_count >= 120
    assert knowledge_base.passage_count >= knowledge_base.entry_count + 40


def test_spoken_hotline_number_is_understood(knowledge_base: KnowledgeBase) -> None:
    a = knowledge_base.answer("幺二三六九是干嘛的")
    assert a.matched and a.entry_id == "rep-12369"


def test_monthly_volume_is_answered_for_the_year(knowledge_base: KnowledgeBase) -> None:
    a = knowledge_base.answer("每个月生产1吨左右的新化学物质，一年下来要办哪种")
    assert a.entry_id == "reg-standard" and "全年约12吨" in a.text
    check_format(a)


@pytest.mark.parametrize(
    ("question", "entry_id"),
    [
        ("樟脑丸里的萘有没有被管控", "chem-naphthalene"),
        ("TCEP阻燃剂受管控吗", "chem-tcep"),
        ("五氯酚钠还能用来做木材防腐不", "chem-pcp"),
        ("硫丹禁没禁", "chem-endosulfan"),
    ],
)
def test_asking_whether_a_named_chemical_is_still_allowed_gets_its_card(
    knowledge_base: KnowledgeBase, question: str, entry_id: str
) -> None:
    a = knowledge_base.answer(question)
    assert (a.matched, a.kind, a.entry_id) == (True, "chemical", entry_id)


@pytest.mark.parametrize("question", ["氯仿的沸点是多少度", "苯的结构式怎么画", "家里装修完怎么除甲醛"])
def test_other_questions_about_a_named_chemical_are_not_answered_with_its_card(
    knowledge_base: KnowledgeBase, question: str
) -> None:
    assert not knowledge_base.answer(question).matched


def test_a_long_story_is_judged_by_the_question_at_its_end(knowledge_base: KnowledgeBase) -> None:
    a = knowledge_base.answer(
        "我们是做电镀的小厂，生产时要用到六价铬和氰化物，听说这种得做强制性清洁生产审核，是真的吗"
    )
    assert a.matched and a.entry_id == "cp-mandatory"


@pytest.mark.parametrize(
    ("question", "lead"),
    [
        ("抗生素吃几天能好", "医生或药师"),
        ("吃了抗生素能喝酒吗", "医生或药师"),
        ("美国TSCA新化学物质申报要多久", "其他国家和地区"),
    ],
)
def test_medicine_and_foreign_rules_are_not_answered_from_the_knowledge_base(
    knowledge_base: KnowledgeBase, question: str, lead: str
) -> None:
    a = knowledge_base.answer(question)
    assert not a.matched and a.kind == "refusal" and lead in a.text and "12369" in a.text
    check_format(a)


def test_importing_from_abroad_is_still_answered(knowledge_base: KnowledgeBase) -> None:
    a = knowledge_base.answer("从美国进口新化学物质要登记吗")
    assert a.matched and a.entry_id is not None and a.entry_id.startswith("reg-")


@pytest.mark.parametrize(
    "question", ["50-00-0的分子量是多少", "二氯甲烷的职业接触限值是多少", "新化学物质常规登记要交多少费用"]
)
def test_data_the_knowledge_base_does_not_hold_is_not_made_up(knowledge_base: KnowledgeBase, question: str) -> None:
    a = knowledge_base.answer(question)
    assert not a.matched and "没有可靠资料" in a.text
    check_format(a)


def test_cas_question_about_properties_still_offers_the_card(knowledge_base: KnowledgeBase) -> None:
    a = knowledge_base.answer("50-00-0的分子量是多少")
    assert a.suggestions and a.suggestions[0][0] == "chem-formaldehyde"


@pytest.mark.parametrize(
    ("question", "entry_id"),
    [("电镀用的氰化物在优先控制名录里吗", "chem-cyanide"), ("卫生球里那个萘是优控化学品吗", "chem-naphthalene")],
)
def test_is_this_chemical_on_a_list_gets_its_card(knowledge_base: KnowledgeBase, question: str, entry_id: str) -> None:
    assert knowledge_base.answer(question).entry_id == entry_id


def test_reporting_a_banned_chemical_is_not_answered_with_the_chemical_card(knowledge_base: KnowledgeBase) -> None:
    a = knowledge_base.answer("看到有人偷偷卖滴滴涕这种禁用农药，这种能举报吗")
    assert a.entry_id != "chem-ddt"


def test_the_bureaus_other_work_is_pointed_elsewhere(knowledge_base: KnowledgeBase) -> None:
    a = knowledge_base.answer("运城市大气污染防治行动计划都有哪些内容")
    assert not a.matched and "大气、水、土壤污染防治" in a.text
    check_format(a)


def test_a_weight_in_jin_is_understood(knowledge_base: KnowledgeBase) -> None:
    a = knowledge_base.answer("一年进口一千斤新化学物质咋办手续")
    assert a.entry_id == "reg-filing" and "500公斤" in a.text


def test_a_question_about_something_the_entry_never_mentions_scores_lower(knowledge_base: KnowledgeBase) -> None:
    import dataclasses

    data = knowledge_base.data
    without = KnowledgeBase(dataclasses.replace(data, settings=dataclasses.replace(data.settings, uncovered_penalty=0)))
    question = "12369举报热线晚上几点下班"  # shares 12369 and 举报热线 with an entry, asks about opening hours
    assert knowledge_base.decide(question).score < without.decide(question).score
    assert knowledge_base.decide("12369举报热线").score == without.decide("12369举报热线").score

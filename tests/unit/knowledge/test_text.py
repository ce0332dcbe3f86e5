"""Normalization, segmentation features, synonyms, homophones and small talk."""

from __future__ import annotations

import pytest

from knowledge import smalltalk
from knowledge.normalize import MAX_QUESTION_CHARS, compact_name, meaningful_chars, normalize


def test_normalize_folds_width_script_case_dashes_and_controls() -> None:
    assert normalize("ＰＦＯＳ還能用嗎？") == "pfos还能用吗?"
    assert normalize("１７６３－２３－１") == "1763-23-1"
    assert normalize("1763—23‐1") == "1763-23-1"
    assert normalize("新化学\x00物质\u200b\x1b登记") == "新化学物质登记"
    assert normalize("  多个\n\t空白  ") == "多个 空白"


def test_normalize_caps_length() -> None:
    assert len(normalize("污" * 5000)) == MAX_QUESTION_CHARS


def test_meaningful_chars_and_names() -> None:
    assert meaningful_chars("😀👍！？") == ""
    assert meaningful_chars("PFOS😀") == "PFOS"
    assert compact_name("N,N'-二甲苯基-对苯二胺") == "nn二甲苯基对苯二胺"


@pytest.fixture(scope="module")
def analyzer(knowledge_base):  # type: ignore[no-untyped-def]
    return knowledge_base.analyzer


def test_features_have_words_subwords_bigrams_pinyin_and_intent(analyzer) -> None:  # type: ignore[no-untyped-def]
    a = analyzer.analyze(normalize("重点管控新污染物清单有哪些"))
    assert "w:重点管控新污染物清单" in a.features  # the domain dictionary keeps the compound…
    assert "w:新污染物" in a.features and "w:清单" in a.features  # …and its parts are indexed too
    assert "b:污染" in a.features and "p:wu-ran" in a.features
    assert "i:which" in a.features
    assert "哪些" not in a.tokens  # question words are not content


def test_question_focus(analyzer) -> None:  # type: ignore[no-untyped-def]
    assert "f:企业" in analyzer.analyze("哪些企业要披露").features


def test_synonyms_are_canonicalized_without_touching_the_canonical_form(analyzer) -> None:  # type: ignore[no-untyped-def]
    assert analyzer.canonical("优控名录是啥") == "优先控制化学品名录是什么"
    assert analyzer.canonical("抗菌药和抗菌药物") == "抗菌药物和抗菌药物"
    assert analyzer.canonical("新化学品") == "新化学物质"


@pytest.mark.parametrize(
    ("typed", "fixed"),
    [
        ("得可隆", "得克隆"),
        ("全氟辛基黄酸", "全氟辛基磺酸"),
        ("新化学物只", "新化学物质"),
        ("简易登计", "简易登记"),
        ("重点管空新污染物清单", "重点管控新污染物清单"),
    ],
)
def test_homophone_typos_are_fixed(analyzer, typed: str, fixed: str) -> None:  # type: ignore[no-untyped-def]
    assert analyzer.fix_homophones(typed) == fixed


def test_real_words_are_not_turned_into_homophones(analyzer) -> None:  # type: ignore[no-untyped-def]
    assert analyzer.fix_homophones("登机牌") == "登机牌"
    assert analyzer.fix_homophones("药店的处方") == "药店的处方"


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("你好", smalltalk.GREETING),
        ("您好！", smalltalk.GREETING),
        ("在吗？", smalltalk.GREETING),
        ("谢谢", smalltalk.THANKS),
        ("谢谢你，很有帮助", smalltalk.THANKS),
        ("好的", smalltalk.THANKS),
        ("👍", smalltalk.THANKS),
        ("再见", smalltalk.BYE),
        ("你是机器人吗？", smalltalk.IDENTITY),
        ("你是谁", smalltalk.IDENTITY),
        ("是真人吗", smalltalk.IDENTITY),
        ("你好，pfos还能用吗", None),
        ("history", None),
        ("你", None),
    ],
)
def test_small_talk(text: str, kind: str | None) -> None:
    assert smalltalk.classify(text) == kind


def test_greeting_prefix_is_stripped() -> None:
    assert smalltalk.strip_greeting("您好，请问pfos还能用吗") == "pfos还能用吗"
    assert smalltalk.strip_greeting("hi pfos") == "pfos"
    assert smalltalk.strip_greeting("history") == "history"


def test_spoken_digits_become_digits_only_in_long_runs() -> None:
    from knowledge.normalize import spoken_digits

    assert spoken_digits("幺二三六九是干嘛的") == "12369是干嘛的"
    assert spoken_digits("打一二三四五") == "打12345"
    assert spoken_digits("一二三类物质") == "一二三类物质"  # short runs are words, not numbers


def test_rare_forms_from_traditional_folding_become_the_common_character() -> None:
    assert normalize("二噁英在哪个名录里") == "二恶英在哪个名录里"

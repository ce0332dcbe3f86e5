"""Blind batches graded by facts: loading, the fact check on the reply itself, refusals, per-tag figures."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot import texts
from knowledge.answerer import Answer, KnowledgeBase
from knowledge.blind import (
    ANSWER,
    REFUSE,
    BlindCase,
    evaluate_batch,
    failure_lines,
    grade,
    load_batch,
    load_batches,
    parse_facts,
    summary_lines,
)
from knowledge.reply import compose

HEADER = "# a batch\nexpect\tfacts\ttag\tquestion\n"


def case(expect: str, facts: str = "", tag: str = "plain", question: str = "问") -> BlindCase:
    return BlindCase("blind_vX", expect, parse_facts(facts), tag, question, 1)


def reply(body: str, kind: str = "answer", matched: bool = True, suggestions: list[tuple[str, str]] | None = None,
          ) -> Answer:
    text, kept = compose(body, suggestions or [], ["《某办法》"])
    return Answer(text, matched, kind, [], 1.0, "x", kept)


def test_facts_are_groups_of_alternatives() -> None:
    assert parse_facts("备案&12369|举报 ") == (("备案",), ("12369", "举报"))
    assert parse_facts("") == ()


def test_every_group_must_be_in_the_reply_itself_not_in_the_suggestions() -> None:
    both = case(ANSWER, "备案&60日")
    assert grade(both, reply("不满1吨的办理备案，60日内报告。")).ok
    assert not grade(both, reply("不满1吨的办理备案。")).ok
    only_listed = reply("请看下面的问题。", suggestions=[("reg-filing", "什么情况只需要备案？60日")])
    graded = grade(both, only_listed)
    assert not graded.ok and graded.missing == (("备案",), ("60日",))


def test_text_is_compared_after_nfkc_simplified_and_lower_case() -> None:
    assert grade(case(ANSWER, "PFOS&禁止"), reply("ｐｆｏｓ類物質禁止生產")).ok
    assert grade(case(ANSWER, "12369"), reply("請撥打１２３６９")).ok


def test_a_refusal_never_counts_as_an_answer_even_with_the_fact_in_it() -> None:
    unsure = reply("抱歉，不能确定。" + texts.KB_HUMAN_ROUTE, kind="refusal", matched=False)
    assert "12369" in unsure.text and not grade(case(ANSWER, "12369"), unsure).ok
    partial = reply("方案没有写明具体日期。能确认的是：2025年底前评估。", kind="partial", matched=False)
    assert grade(case(ANSWER, "2025年底"), partial).ok  # the facts are shown, with the honest lead


def test_must_refuse_means_no_confident_answer() -> None:
    refuse = case(REFUSE, tag="nearmiss")
    assert grade(refuse, reply("不能确定", kind="refusal", matched=False)).ok
    assert grade(refuse, reply("没有写明具体金额。", kind="partial", matched=False)).ok
    assert not grade(refuse, reply("专项资金支持。")).ok


def test_loading_checks_every_line(tmp_path: Path) -> None:
    good = tmp_path / "blind_v3.tsv"
    good.write_text(HEADER + "answer\t备案\tplain\t一年半吨要办啥\nrefuse\t\tofftopic\t天气\n", encoding="utf-8")
    batch = load_batch(good)
    assert batch.sealed and [c.expect for c in batch.cases] == [ANSWER, REFUSE] and batch.cases[0].line == 3
    for bad, why in (("maybe\t\tplain\t问", "expect must be"), ("answer\t\tplain\t问", "at least one fact"),
                     ("answer\t备案", "expected expect, facts, tag, question")):
        path = tmp_path / "blind_v4.tsv"
        path.write_text(HEADER + bad + "\n", encoding="utf-8")
        with pytest.raises(ValueError, match=why) as exc:
            load_batch(path)
        assert "blind_v4.tsv:3" in str(exc.value)


def test_every_blind_batch_is_found_newest_last_and_sealed_unless_marked(tmp_path: Path) -> None:
    for n in (12, 11, 2):
        status = "# status: tuning\n" if n == 11 else ""
        (tmp_path / f"blind_v{n}.tsv").write_text(status + HEADER + "refuse\t\tofftopic\t天气\n", encoding="utf-8")
    (tmp_path / "holdout_v9.tsv").write_text("x", encoding="utf-8")
    batches = load_batches(tmp_path)
    assert [(b.name, b.sealed) for b in batches] == [("blind_v2", True), ("blind_v11", False), ("blind_v12", True)]


def test_figures_per_tag_and_failures(tmp_path: Path, knowledge_base: KnowledgeBase) -> None:
    path = tmp_path / "blind_v5.tsv"
    path.write_text(
        HEADER
        + "answer\t全氟辛基磺酸&禁止\tplain\tPFOS还能用吗\n"
        + "answer\t不存在的事实\ttypo\tPF0S还能用吗\n"
        + "refuse\t\tofftopic\t今天天气怎么样\n",
        encoding="utf-8",
    )
    report = evaluate_batch(knowledge_base, load_batch(path))
    assert report.rate(ANSWER)[1:] == (1, 2) and report.rate(REFUSE)[1:] == (1, 1)
    lines = summary_lines(report)
    assert "50.0% (1/2)" in lines[0] and "100.0% (1/1)" in lines[0]
    assert "plain answered 1/1" in lines[1] and "typo answered 0/1" in lines[1] and "offtopic refused 1/1" in lines[1]
    (fail,) = failure_lines(report)
    assert "blind_v5:4 typo" in fail and "missing 不存在的事实" in fail

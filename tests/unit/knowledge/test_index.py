"""Index scoring: an entry is scored by the evidence of several of its phrasings, not one lucky phrasing."""

from __future__ import annotations

import pytest

from knowledge.index import Index, Passage, Weights
from knowledge.normalize import normalize

PLAIN = Weights(qcov=0.55, dcov=0.25, fuzzy=0.2, intent=0.15, conflict=0.1)


@pytest.fixture(scope="module")
def analyzer(knowledge_base):  # type: ignore[no-untyped-def]
    return knowledge_base.analyzer


def _score(analyzer, passages: list[Passage], question: str, weights: Weights) -> dict[str, float]:  # type: ignore[no-untyped-def]
    index = Index(analyzer, passages, weights)
    return {h.passage.id: h.score for h in index.search(analyzer.analyze(normalize(question)), k=10)}


def test_spread_discounts_a_single_matching_phrasing(analyzer) -> None:  # type: ignore[no-untyped-def]
    passages = [
        Passage("lucky", "answer", ("宠物登记怎么办理", "排污许可证有效期", "危险废物转移联单")),
        Passage("broad", "answer", ("新化学物质登记怎么办理", "新化学物质登记如何申请", "新化学物质怎么登记")),
    ]
    q = "新化学物质登记怎么办理"
    plain = _score(analyzer, passages, q, PLAIN)
    spread = _score(analyzer, passages, q, Weights(**{**PLAIN.__dict__, "spread": 0.5}))
    assert spread["lucky"] < plain["lucky"]  # its other phrasings say nothing about the question
    assert plain["broad"] - spread["broad"] < plain["lucky"] - spread["lucky"]
    assert spread["broad"] > spread["lucky"]


def test_entry_coverage_counts_words_used_by_many_phrasings(analyzer) -> None:  # type: ignore[no-untyped-def]
    passages = [
        Passage("once", "answer", ("环境信息披露", "年度报告", "信用评价")),
        Passage("often", "answer", ("环境信息披露", "环境信息披露报告", "环境信息披露时间")),
    ]
    entry = Weights(**{**PLAIN.__dict__, "entry": 0.5})
    plain = _score(analyzer, passages, "环境信息披露", PLAIN)
    scored = _score(analyzer, passages, "环境信息披露", entry)
    assert plain["once"] == pytest.approx(plain["often"], abs=0.05)
    assert scored["often"] > scored["once"]


def test_default_weights_score_by_the_best_phrasing(analyzer) -> None:  # type: ignore[no-untyped-def]
    alone = [Passage("a", "answer", ("新化学物质登记怎么办理",))]
    padded = [Passage("a", "answer", ("新化学物质登记怎么办理", "排污许可证有效期"))]
    q = "新化学物质登记怎么办理"
    assert _score(analyzer, alone, q, PLAIN)["a"] == pytest.approx(_score(analyzer, padded, q, PLAIN)["a"])


def test_passage_has_tells_which_passages_use_a_feature() -> None:
    from knowledge.index import Index, Passage
    from knowledge.tokenize import Analyzer

    index = Index(Analyzer([], []), [Passage("a", "answer", ("举报电话",)), Passage("b", "answer", ("登记证",))])
    assert index.passage_has(0, "w:举报")
    assert not index.passage_has(1, "w:举报")
    assert not index.passage_has(0, "w:从没见过")

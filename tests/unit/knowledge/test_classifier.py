"""The naive-Bayes second opinion: it learns which words tell passages apart, and can forget for evaluation."""

from __future__ import annotations

import pytest

from knowledge.answerer import KnowledgeBase
from knowledge.classifier import OUT_OF_SCOPE, NaiveBayes

EXAMPLES = [
    ({"w:举报": 1.0, "w:进度": 1.0}, "progress"),
    ({"w:举报": 1.0, "w:查询": 1.0, "w:进度": 1.0}, "progress"),
    ({"w:举报": 1.0, "w:处理": 1.0, "w:流程": 1.0}, "process"),
    ({"w:举报": 1.0, "w:怎么": 1.0, "w:处理": 1.0}, "process"),
    ({"w:天气": 1.0, "w:下雨": 1.0}, OUT_OF_SCOPE),
]


def test_the_distinguishing_word_decides_and_probabilities_sum_to_one() -> None:
    nb = NaiveBayes(EXAMPLES)
    post = nb.posterior({"w:举报": 1.0, "w:进度": 1.0})
    assert post.of("progress") > post.of("process") > 0
    assert sum(post.probabilities.values()) == pytest.approx(1.0)
    weather = nb.posterior({"w:明天": 1.0, "w:下雨": 1.0})
    assert weather.out_of_scope > max(weather.of("progress"), weather.of("process"))


def test_temperature_flattens_the_posterior() -> None:
    sharp = NaiveBayes(EXAMPLES, temperature=1.0).posterior({"w:进度": 1.0})
    flat = NaiveBayes(EXAMPLES, temperature=10.0).posterior({"w:进度": 1.0})
    assert sharp.of("progress") > flat.of("progress") > flat.of("process")


def test_unknown_features_give_a_proper_distribution() -> None:
    post = NaiveBayes(EXAMPLES).posterior({"w:完全没见过": 1.0})
    assert sum(post.probabilities.values()) == pytest.approx(1.0)
    assert NaiveBayes([]).posterior({"w:x": 1.0}).probabilities == {}


def test_a_left_out_question_is_not_remembered(knowledge_base: KnowledgeBase) -> None:
    asked = next(a for a in knowledge_base.data.asked if a.ids)
    features = knowledge_base._features(asked.question)
    full = knowledge_base.classifier.posterior(features).of(asked.ids[0])
    without = knowledge_base.train_classifier([asked.question]).posterior(features).of(asked.ids[0])
    assert without < full

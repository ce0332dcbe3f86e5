"""The evaluation gate: ≥ 95% top-1 in domain and ≥ 95% refusal out of domain, on the old set (dev + held-out
together) and on all tuning batches together. Cross-validated: the classifier learns from data/asked.tsv, so
each question it learned from is answered by a classifier trained without that question's fold.

The later batches (holdout_v2's other half, holdout_v3 … holdout_v9) and the sealed holdout_v10 are
reported by `python -m bot kb eval`; the sealed batch is never used to tune or calibrate, and it is not gated
here so that nobody has a reason to read its failures.
"""

from __future__ import annotations

import pytest

from knowledge.answerer import KnowledgeBase
from knowledge.blind import ANSWER, REFUSE, TARGET_ANSWER, TARGET_REFUSE, evaluate_batch, failure_lines, load_batches
from knowledge.evaluation import (
    EVAL_DIR,
    OLD_SPLITS,
    TARGET,
    TUNING_SPLITS,
    V2_SEALED,
    V2_TUNING,
    V3,
    V4_TUNING,
    V5,
    V6_TUNING,
    V7,
    V8,
    V9,
    V10_SEALED,
    evaluate,
    load_cases,
    unknown_ids,
)


def test_eval_set_is_big_enough_and_consistent(knowledge_base: KnowledgeBase) -> None:
    cases = load_cases()
    assert sum(1 for c in cases if c.expected) >= 200
    assert sum(1 for c in cases if not c.expected) >= 40
    assert {c.split for c in cases} >= {"dev", "heldout", V2_TUNING, V2_SEALED}
    v2 = [c for c in cases if c.split in (V2_TUNING, V2_SEALED)]
    assert sum(1 for c in v2 if c.expected) >= 150 and sum(1 for c in v2 if not c.expected) >= 50
    for split, in_domain, out_of_domain in ((V3, 100, 30), (V4_TUNING, 160, 50), (V5, 160, 50),
                                           (V6_TUNING, 150, 40), (V7, 150, 40), (V8, 150, 40),
                                           (V9, 150, 40), (V10_SEALED, 150, 40)):
        batch = [c for c in cases if c.split == split]
        assert sum(1 for c in batch if c.expected) >= in_domain, split
        assert sum(1 for c in batch if not c.expected) >= out_of_domain, split
    assert unknown_ids(knowledge_base, cases) == []
    for split in {c.split for c in cases}:  # unique within a batch (independent batches may meet: "108-88-3")
        questions = [c.question for c in cases if c.split == split]
        assert len(questions) == len(set(questions)), split


@pytest.mark.parametrize("splits", [OLD_SPLITS, TUNING_SPLITS], ids=["old-set", "all-tuning-batches"])
def test_top1_and_refusal_at_least_95_percent(knowledge_base: KnowledgeBase, splits: tuple[str, ...]) -> None:
    report = evaluate(knowledge_base, [c for c in load_cases() if c.split in splits])
    in_rate, _, _ = report.rate(True)
    out_rate, _, _ = report.rate(False)
    failures = "\n".join(
        f"{o.case.question} → {o.got} (expected {'|'.join(o.case.expected) or 'refusal'})" for o in report.failures()
    )
    assert in_rate >= TARGET, f"in-domain top-1 {in_rate:.1%} < {TARGET:.0%}\n{failures}"
    assert out_rate >= TARGET, f"out-of-domain refusal {out_rate:.1%} < {TARGET:.0%}\n{failures}"


def test_blind_batches_are_well_formed_and_the_opened_ones_reach_the_targets(knowledge_base: KnowledgeBase) -> None:
    """Every tests/eval/blind_v*.tsv loads (a new one is picked up by its name alone); a batch opened for tuning
    reaches ≥ 95 % of in-domain questions with the right facts in the reply and ≥ 92 % of must-refuse refused.
    A sealed batch is only measured by `kb eval`, never gated, so nobody has a reason to read its failures."""
    batches = load_batches(EVAL_DIR)
    assert any(b.name == "blind_v11" for b in batches)
    for batch in batches:
        answers = [c for c in batch.cases if c.expect == ANSWER]
        refusals = [c for c in batch.cases if c.expect == REFUSE]
        assert len(answers) + len(refusals) >= 150 and len(refusals) >= 50, batch.name
        assert sum(1 for c in refusals if c.tag == "nearmiss") >= 15, batch.name
        if batch.sealed:
            continue
        report = evaluate_batch(knowledge_base, batch)
        failures = "\n".join(failure_lines(report))
        assert report.rate(ANSWER)[0] >= TARGET_ANSWER, failures
        assert report.rate(REFUSE)[0] >= TARGET_REFUSE, failures

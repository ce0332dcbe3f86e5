"""The evaluation gate: ≥ 95% top-1 in domain and ≥ 95% refusal out of domain (dev + held-out together).

The held-out split is reported by `python -m bot kb eval`; it is never used to tune or calibrate.
"""

from __future__ import annotations

from knowledge.answerer import KnowledgeBase
from knowledge.evaluation import TARGET, evaluate, load_cases, unknown_ids


def test_eval_set_is_big_enough_and_consistent(knowledge_base: KnowledgeBase) -> None:
    cases = load_cases()
    assert sum(1 for c in cases if c.expected) >= 200
    assert sum(1 for c in cases if not c.expected) >= 40
    assert {c.split for c in cases} >= {"dev", "heldout"}
    assert unknown_ids(knowledge_base, cases) == []
    questions = [c.question for c in cases]
    assert len(questions) == len(set(questions))


def test_top1_and_refusal_at_least_95_percent(knowledge_base: KnowledgeBase) -> None:
    report = evaluate(knowledge_base, load_cases())
    in_rate, _, _ = report.rate(True)
    out_rate, _, _ = report.rate(False)
    failures = "\n".join(
        f"{o.case.question} → {o.got} (expected {'|'.join(o.case.expected) or 'refusal'})" for o in report.failures()
    )
    assert in_rate >= TARGET, f"in-domain top-1 {in_rate:.1%} < {TARGET:.0%}\n{failures}"
    assert out_rate >= TARGET, f"out-of-domain refusal {out_rate:.1%} < {TARGET:.0%}\n{failures}"

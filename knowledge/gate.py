"""The publish gate: the sealed evaluation batches' figures on the live knowledge and on a candidate.

Sealed batches are the blind batches not opened for tuning (``knowledge/blind.py``) and the sealed split of
the holdout batches (``knowledge/evaluation.py``). Only their figures are computed, never their failures, so
gating a change spends nothing. A candidate is refused when any figure of any sealed batch is lower.
Evaluating swaps a knowledge base's classifier for the cross-validation folds: pass only a knowledge base
that nothing else is answering with.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from knowledge.answerer import KnowledgeBase
from knowledge.blind import ANSWER, REFUSE, evaluate_batch, load_batches
from knowledge.evaluation import EVAL_DIR, SEALED_SPLITS, evaluate, load_cases


@dataclass(frozen=True)
class Figure:
    """One sealed batch: in-domain questions answered right and must-refuse questions refused."""

    batch: str
    answered: int
    answer_total: int
    refused: int
    refuse_total: int

    @staticmethod
    def _pct(ok: int, n: int) -> str:
        return f"{ok / n * 100:.1f}%" if n else "—"

    def numbers(self) -> str:
        """In-domain answered right / must-refuse refused, e.g. ``93.1% (121/130) / 87.1% (61/70)``."""
        return (
            f"{self._pct(self.answered, self.answer_total)} ({self.answered}/{self.answer_total}) "
            f"/ {self._pct(self.refused, self.refuse_total)} ({self.refused}/{self.refuse_total})"
        )

    def line(self) -> str:
        return f"{self.batch}: {self.numbers()}"


def sealed_figures(kb: KnowledgeBase, eval_dir: Path | None = None) -> dict[str, Figure]:
    """Every sealed batch's figures on ``kb`` (empty when the folder holds none)."""
    folder = eval_dir or EVAL_DIR
    figures: dict[str, Figure] = {}
    for batch in load_batches(folder):
        if not batch.sealed:
            continue
        report = evaluate_batch(kb, batch)
        (_ra, oa, na), (_rr, orr, nr) = report.rate(ANSWER), report.rate(REFUSE)
        figures[batch.name] = Figure(batch.name, oa, na, orr, nr)
    if (folder / "indomain.tsv").is_file() and (folder / "out_of_domain.tsv").is_file():
        cases = [c for c in load_cases(folder) if c.split in SEALED_SPLITS]
        if cases:
            report = evaluate(kb, cases)
            for split in SEALED_SPLITS:
                (_ri, oi, ni), (_ro, oo, no) = report.rate(True, split), report.rate(False, split)
                if ni or no:
                    figures[split] = Figure(split, oi, ni, oo, no)
    return figures


def lowered(before: dict[str, Figure], after: dict[str, Figure]) -> list[str]:
    """The batches whose figures ``after`` are lower than ``before`` (a batch missing after counts as lower)."""
    worse = []
    for name, old in before.items():
        new = after.get(name)
        if new is None or new.answered < old.answered or new.refused < old.refused:
            worse.append(name)
    return worse

"""Blind batches graded by facts (tests/eval/blind_v*.tsv).

A blind batch is written by someone who never saw the knowledge base, from the plan and FACTS.md only, so it
cannot name entry ids. Each line says what a right reply must contain instead:

    expect <TAB> facts <TAB> tag <TAB> question

  expect  "answer" (in domain) or "refuse" (must not get a confident answer)
  facts   "&"-separated groups of "|"-separated literal strings: every group must have one of its strings in
          the reply itself (the related-question list does not count); empty for refuse lines
  tag     the voice or pattern of the question (plain, colloquial, typo, nearmiss, offtopic …)

Lines starting with "#" are comments. A batch is sealed unless a comment line says `status: tuning`: `kb eval`
prints a sealed batch's figures and never its failures. Text is compared after NFKC, Traditional → Simplified
and lower-casing, on both sides.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bot import texts
from knowledge.answerer import Answer, KnowledgeBase
from knowledge.evaluation import explain_all
from knowledge.normalize import normalize
from knowledge.reply import numbered

BLIND_GLOB = "blind_v*.tsv"
ANSWER, REFUSE = "answer", "refuse"
STATUS_TUNING = re.compile(r"^#.*\bstatus:\s*tuning\b", re.IGNORECASE)
# kinds that never count as answering the question, whatever text they contain
NOT_AN_ANSWER = frozenset({"refusal", "unsure", "empty", "smalltalk"})
TARGET_ANSWER, TARGET_REFUSE = 0.95, 0.92


@dataclass(frozen=True)
class BlindCase:
    batch: str
    expect: str
    facts: tuple[tuple[str, ...], ...]
    tag: str
    question: str
    line: int


@dataclass(frozen=True)
class BlindBatch:
    name: str  # the file's stem, e.g. "blind_v11"
    sealed: bool
    cases: tuple[BlindCase, ...]


@dataclass(frozen=True)
class Graded:
    case: BlindCase
    ok: bool
    kind: str
    missing: tuple[tuple[str, ...], ...]  # fact groups not found (answer lines)
    reply: str


@dataclass
class BlindReport:
    batch: BlindBatch
    graded: list[Graded] = field(default_factory=list)

    def rate(self, expect: str, tag: str | None = None) -> tuple[float, int, int]:
        sel = [g for g in self.graded if g.case.expect == expect and (tag is None or g.case.tag == tag)]
        ok = sum(g.ok for g in sel)
        return (ok / len(sel) if sel else 1.0), ok, len(sel)

    def tags(self) -> list[str]:
        counts = Counter(g.case.tag for g in self.graded)
        return sorted(counts, key=lambda t: (-counts[t], t))

    def failures(self) -> list[Graded]:
        return [g for g in self.graded if not g.ok]

    def passed(self) -> bool:
        return self.rate(ANSWER)[0] >= TARGET_ANSWER and self.rate(REFUSE)[0] >= TARGET_REFUSE


def _fold(text: str) -> str:
    return normalize(text, max_len=max(len(text) * 2, 16))


def parse_facts(spec: str) -> tuple[tuple[str, ...], ...]:
    groups = []
    for group in spec.split("&"):
        alternatives = tuple(a.strip() for a in group.split("|") if a.strip())
        if alternatives:
            groups.append(alternatives)
    return tuple(groups)


def load_batch(path: Path) -> BlindBatch:
    """One blind batch; a malformed line raises ValueError naming the file and line."""
    cases: list[BlindCase] = []
    sealed = True
    for n, raw in enumerate(path.read_text(encoding="utf-8-sig").splitlines(), 1):
        line = raw.rstrip("\r")
        if not line.strip():
            continue
        if line.startswith("#"):
            if STATUS_TUNING.match(line):
                sealed = False
            continue
        cols = line.split("\t")
        if cols[0].strip().lower() == "expect":
            continue  # a header row
        if len(cols) < 4:
            raise ValueError(f"{path.name}:{n}: expected expect, facts, tag, question (tab-separated)")
        expect = cols[0].strip().lower()
        if expect not in (ANSWER, REFUSE):
            raise ValueError(f"{path.name}:{n}: expect must be answer or refuse, not {cols[0]!r}")
        facts = parse_facts(cols[1])
        if expect == ANSWER and not facts:
            raise ValueError(f"{path.name}:{n}: an answer line needs at least one fact")
        question = "\t".join(cols[3:]).strip()
        if not question:
            raise ValueError(f"{path.name}:{n}: empty question")
        cases.append(BlindCase(path.stem, expect, facts, cols[2].strip(), question, n))
    return BlindBatch(path.stem, sealed, tuple(cases))


def _version(path: Path) -> tuple[int, str]:
    m = re.search(r"(\d+)", path.stem)
    return (int(m.group(1)) if m else 0, path.stem)


def load_batches(eval_dir: Path) -> list[BlindBatch]:
    """Every blind_v*.tsv in eval_dir, oldest first."""
    return [load_batch(p) for p in sorted(eval_dir.glob(BLIND_GLOB), key=_version)]


def reply_itself(answer: Answer) -> str:
    """The reply without its numbered related-question list (a fact found only there does not count)."""
    text = answer.text
    if answer.suggestions:
        for header in (texts.KB_SUGGEST_HEADER, texts.KB_UNSURE_SUGGEST_HEADER):
            text = text.replace(numbered(answer.suggestions, header), "")
    return text


def missing_facts(reply: str, facts: Iterable[tuple[str, ...]]) -> tuple[tuple[str, ...], ...]:
    folded = _fold(reply)
    return tuple(g for g in facts if not any(_fold(a) in folded for a in g))


def grade(case: BlindCase, answer: Answer) -> Graded:
    """answer: not a refusal, and every fact group in the reply itself. refuse: not a confident answer."""
    reply = reply_itself(answer)
    if case.expect == REFUSE:
        return Graded(case, not answer.matched, answer.kind, (), reply)
    missing = missing_facts(reply, case.facts)
    ok = answer.kind not in NOT_AN_ANSWER and not missing
    return Graded(case, ok, answer.kind, missing, reply)


def evaluate_batch(kb: KnowledgeBase, batch: BlindBatch) -> BlindReport:
    """Cross-validated like the other batches: a question the classifier learned from (data/asked.tsv) is
    answered by a classifier trained without it."""
    report = BlindReport(batch)
    for case, (_decision, answer) in zip(batch.cases, explain_all(kb, batch.cases), strict=True):
        report.graded.append(grade(case, answer))
    return report


def _pct(rate: float) -> str:
    return f"{rate * 100:.1f}%"


def summary_lines(report: BlindReport) -> list[str]:
    """The batch's figures: in domain with the right facts, refused, and both per tag."""
    b = report.batch
    (ra, oa, na), (rr, orr, nr) = report.rate(ANSWER), report.rate(REFUSE)
    state = "sealed" if b.sealed else "opened, tuning data"
    lines = [
        f"{b.name} ({state}, graded by facts): in-domain with the right facts {_pct(ra)} ({oa}/{na}), "
        f"must-refuse refused {_pct(rr)} ({orr}/{nr})"
    ]
    per_tag = []
    for tag in report.tags():
        parts = []
        for expect, label in ((ANSWER, "answered"), (REFUSE, "refused")):
            _r, o, n = report.rate(expect, tag)
            if n:
                parts.append(f"{label} {o}/{n}")
        per_tag.append(f"{tag or '-'} {', '.join(parts)}")
    lines.append("  per tag: " + "; ".join(per_tag))
    return lines


def failure_lines(report: BlindReport) -> list[str]:
    out = []
    for g in report.failures():
        c = g.case
        if c.expect == ANSWER:
            why = "missing " + " & ".join("|".join(grp) for grp in g.missing) if g.missing else f"kind {g.kind}"
        else:
            why = f"answered ({g.kind})"
        first = " ".join(g.reply.split())[:80]
        out.append(f"  FAIL [{report.batch.name}:{c.line} {c.tag}] {c.question!r}: {why} — {first}")
    return out


def all_reports(kb: KnowledgeBase, batches: Sequence[BlindBatch]) -> list[BlindReport]:
    return [evaluate_batch(kb, b) for b in batches]

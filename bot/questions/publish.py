"""Publishing a drafted knowledge change, gated by the sealed evaluation batches.

The live version's knowledge and the candidate (live + the draft) are both built afresh in a thread (never
the knowledge base that is answering: evaluation swaps its classifier). When any sealed batch's figure is
lower on the candidate the publish is refused and the figures are kept on the draft. Otherwise the change
is published as version live + 1; a second publish on the same live version collides on that number and is
refused (evaluate again). The console and ``python -m bot kb publish`` both come here.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy.exc import IntegrityError

from bot.questions.edits import DRAFT, PUBLISHED, as_edit, published_edits
from bot.questions.live import build_knowledge
from knowledge.answerer import KnowledgeBase
from knowledge.edits import Edit, apply_edits, edit_problems
from knowledge.gate import Figure, lowered, sealed_figures
from knowledge.loader import load_data
from storage.db import Database
from storage.models.knowledge import KnowledgeChange, KnowledgeVersion
from storage.staff import record_audit

PUBLISHED_NOW, REFUSED, NOT_DRAFT, INVALID, NO_GATE, CONFLICT = (
    "published", "refused", "not_draft", "invalid", "no_gate", "conflict"
)  # fmt: skip

# sealed figures per (knowledge version, evaluation folder), measured in this process
_BASELINES: dict[tuple[int, str], dict[str, Figure]] = {}


@dataclass
class PublishOutcome:
    status: str
    version: int | None = None
    before: dict[str, Figure] = field(default_factory=dict)
    after: dict[str, Figure] = field(default_factory=dict)
    lowered: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    knowledge: KnowledgeBase | None = None  # the candidate, built for ``version``: adopt it

    def figure_lines(self) -> list[str]:
        """One line per sealed batch: before → after."""
        out = []
        for name, old in self.before.items():
            new = self.after.get(name)
            mark = " ↓" if name in self.lowered else ""
            out.append(f"{old.line()} → {new.numbers() if new else '—'}{mark}")
        return out


def _gate(edits: list[Edit], edit: Edit, version: int, eval_dir: Path | None) -> PublishOutcome:
    """Build and evaluate (seconds: runs in a thread)."""
    problems = edit_problems(apply_edits(load_data(), edits), edit)
    if problems:
        return PublishOutcome(INVALID, problems=problems)
    key = (version, str(eval_dir or ""))
    before = _BASELINES.get(key)
    if before is None:
        before = sealed_figures(build_knowledge(edits, version), eval_dir)
        _BASELINES[key] = before
    if not before:
        return PublishOutcome(NO_GATE)
    candidate = build_knowledge([*edits, edit], version + 1)
    after = sealed_figures(candidate, eval_dir)
    worse = lowered(before, after)
    if worse:
        return PublishOutcome(REFUSED, before=before, after=after, lowered=worse)
    return PublishOutcome(PUBLISHED_NOW, version + 1, before, after, knowledge=candidate)


async def publish_change(
    database: Database, change_id: int, *, actor: str, now: datetime, ip: str = "", eval_dir: Path | None = None
) -> PublishOutcome:
    async with database.session() as session:
        change = await session.get(KnowledgeChange, change_id)
        if change is None or change.status != DRAFT:
            return PublishOutcome(NOT_DRAFT)
        edit = as_edit(change)
        version, edits = await published_edits(session)
    outcome = await asyncio.to_thread(_gate, edits, edit, version, eval_dir)
    if outcome.status in (INVALID, NOT_DRAFT):
        return outcome
    async with database.session() as session:
        change = await session.get(KnowledgeChange, change_id)
        if change is None or change.status != DRAFT:
            return PublishOutcome(NOT_DRAFT)
        change.gate = "\n".join(outcome.figure_lines())
        detail = {"change": change_id, "entry": change.entry_id, "kind": change.kind}
        if outcome.status != PUBLISHED_NOW:
            await record_audit(session, actor=actor, action="knowledge_publish_refused", ip=ip, now=now,
                               detail={**detail, "lowered": outcome.lowered, "reason": outcome.status})  # fmt: skip
            await session.commit()
            return outcome
        change.status, change.version = PUBLISHED, outcome.version
        change.decided_by, change.decided_at = actor[:64], now
        session.add(KnowledgeVersion(version=outcome.version, change_id=change_id, published_by=actor[:64],
                                     published_at=now))  # fmt: skip
        await record_audit(session, actor=actor, action="knowledge_published", ip=ip, now=now,
                           detail={**detail, "version": outcome.version})  # fmt: skip
        try:
            await session.commit()
        except IntegrityError:  # another publish took this version number first: its gate ran on another base
            await session.rollback()
            await record_audit(session, actor=actor, action="knowledge_publish_refused", ip=ip, now=now,
                               detail={**detail, "reason": CONFLICT})  # fmt: skip
            await session.commit()
            return PublishOutcome(CONFLICT, before=outcome.before, after=outcome.after)
    assert outcome.version is not None
    _BASELINES[(outcome.version, str(eval_dir or ""))] = outcome.after
    return outcome

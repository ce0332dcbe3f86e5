"""What the answerer returns: the reply a user sees (Answer) and the decision behind it (Decision)."""

from __future__ import annotations

from dataclasses import dataclass, field

from knowledge.index import Hit

ANSWER, CHEMICAL, REGISTRATION, SMALLTALK = "answer", "chemical", "registration", "smalltalk"
PARTIAL, REFUSAL, EMERGENCY, REPORT = "partial", "refusal", "emergency", "report"
UNSURE = REFUSAL  # the reply of a question the knowledge base cannot answer
EMPTY = "empty"  # a decision only: the reply to an empty message is a refusal that asks for a question
KINDS = (ANSWER, PARTIAL, REFUSAL, REGISTRATION, CHEMICAL, SMALLTALK, EMERGENCY, REPORT)
DEFAULT_SUGGESTIONS = ("reg-types", "kl-categories", "rep-how")


@dataclass(frozen=True)
class Answer:
    text: str
    matched: bool
    kind: str
    sources: list[str] = field(default_factory=list)
    score: float = 0.0
    entry_id: str | None = None
    suggestions: list[tuple[str, str]] = field(default_factory=list)


@dataclass(frozen=True)
class Decision:
    """What the answerer decided and why (used by `kb eval` and for calibration)."""

    kind: str
    passage_id: str | None
    score: float
    hits: list[Hit]
    note: str = ""

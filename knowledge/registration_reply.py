"""The reply to a question about registering a new chemical substance (the tonnage helper)."""

from __future__ import annotations

from collections.abc import Sequence

from bot import texts
from knowledge import registration
from knowledge.chemicals import Chemical
from knowledge.outcomes import (
    REGISTRATION,
    Answer,
    Decision,
)
from knowledge.reply import compose
from knowledge.tokenize import Analysis


class RegistrationReplies:
    """The registration decision and its replies (a part of KnowledgeBase)."""

    # ---- registration ---------------------------------------------------------------------------
    def _existing_chemical(self, text: str, named: Sequence[Chemical]) -> tuple[str, str, Chemical | None] | None:
        """(name, CAS, its card if any) of a substance already in 《中国现有化学物质名录》 named in the question."""
        if named:
            c = named[0]
            return c.name, (c.cas[0] if c.cas else "—"), c
        for chem, names in self._existing:
            for n in names:
                if n in text and (len(n) >= 2 or not n.isascii()):
                    return chem.name, chem.cas, None
        return None

    def _registration_decision(
        self, text: str, analysis: Analysis, named: Sequence[Chemical]
    ) -> tuple[Decision, Answer] | None:
        """The tonnage helper, when the question is about registering a new substance; None otherwise.

        It defers to the knowledge base where the knowledge base is more exact: an existing chemical is not new,
        a user who only uses a substance registers nothing (reg-downstream), and a hedged entry (research use)
        is never overridden by a confident class."""
        reg = registration.detect(text)
        if reg is None:
            share = registration.polymer_share(text)
            if share is not None and share <= 2 and "reg-polymer" in self.entries:
                answer = self._passage_answer("reg-polymer", 1.0, [], question=text)
                return Decision(answer.kind, "reg-polymer", 1.0, [], "polymer"), answer
            if registration.asks_exemption(text) and "reg-exempt" in self.entries:
                answer = self._passage_answer("reg-exempt", 1.0, [], question=text)
                return Decision(answer.kind, "reg-exempt", 1.0, [], "exempt"), answer
            return None
        existing = self._existing_chemical(text, named)
        if existing is not None:
            return self._existing_answer(*existing)
        if named:
            return None  # a named substance's tonnage is asked about its card, not its registration
        hits = self._search(analysis, named, text)
        top = hits[0] if hits else None
        if registration.is_use_only(text) and "reg-downstream" in self.entries:
            answer = self._passage_answer("reg-downstream", 1.0, hits, question=text)
            return Decision(answer.kind, "reg-downstream", 1.0, hits, "downstream"), answer
        if top is not None and top.passage.id in self.entries and self.entries[top.passage.id].hedged \
                and top.score >= self.settings.threshold:
            answer = self._passage_answer(top.passage.id, top.score, hits, question=text)
            return Decision(answer.kind, top.passage.id, top.score, hits, "hedged"), answer
        entry_id = registration.ENTRY_FOR_KIND[reg.kind]
        return Decision(REGISTRATION, entry_id, 1.0, []), self._registration(reg)

    def _existing_answer(self, name: str, cas: str, card: Chemical | None) -> tuple[Decision, Answer]:
        body = texts.KB_REG_EXISTING.format(name=name, cas=cas)
        cites = [self.data.sources.cite("mee12")]
        if card is not None:
            body += texts.KB_REG_EXISTING_LISTED + "\n" + self._chemical_body(card)
            cites += [self.data.sources.cite(s) for s in card.sources]
        suggestions = self._suggestions("", ["reg-what-is-new-chemical", "reg-check-inventory"], [])
        text, kept = compose(body, suggestions, cites)
        pid = card.passage_id if card is not None else "reg-what-is-new-chemical"
        return Decision(REGISTRATION, pid, 1.0, [], "existing"), Answer(
            text, True, REGISTRATION, cites, 1.0, pid, kept
        )

    def _registration(self, q: registration.RegistrationQuery) -> Answer:
        kind = q.kind
        parts = [
            texts.KB_REG_RESULT.format(
                activity=q.activity,
                amount=registration.format_tonnes(q.volume.tonnes) if not q.volume.below else q.volume.stated,
                kind_name=texts.KB_REG_KIND_NAMES[kind],
                rule=texts.KB_REG_RULES[kind],
            ),
            texts.KB_REG_NEXT[kind].format(activity=q.activity),
        ]
        if q.volume.per:
            parts.append(texts.KB_REG_PER_PERIOD.format(
                per=q.volume.per, stated=q.volume.stated, amount=registration.format_tonnes(q.volume.tonnes)
            ))
        if q.planned:
            parts.insert(0, texts.KB_REG_PLANNED.format(amount=registration.format_tonnes(q.volume.tonnes)))
        for other in q.others:
            other_kind = registration.classify(other.tonnes)
            amount = registration.format_tonnes(other.tonnes) if not other.below else other.stated
            parts.insert(1, texts.KB_REG_OTHER.format(amount=amount, kind_name=texts.KB_REG_KIND_NAMES[other_kind]))
        if abs(q.volume.tonnes - 1) < 1e-6 or abs(q.volume.tonnes - 10) < 1e-6 or (
            q.volume.below and abs(q.volume.tonnes - 1) < 1e-3
        ):
            parts.append(texts.KB_REG_EDGE)
        if q.claim and kind == registration.FILING:
            parts.insert(0, texts.KB_REG_CLAIM)
        if q.exempt_word:
            parts.insert(0, texts.KB_REG_EXEMPT_LEAD.format(word=q.exempt_word))
        if q.polymer:
            parts.append(texts.KB_REG_POLYMER)
        parts.append(texts.KB_REG_INVENTORY)
        entry_id = registration.ENTRY_FOR_KIND[kind]
        cites = [self.data.sources.cite("mee12")]
        related = ["reg-types", *(k for k in ("reg-standard", "reg-simple", "reg-filing") if k != entry_id)]
        suggestions = self._suggestions(entry_id, related, [])
        text, kept = compose("\n".join(parts), suggestions, cites)
        return Answer(text, True, REGISTRATION, cites, 1.0, entry_id, kept)

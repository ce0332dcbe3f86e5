"""The chemical cards and the plan clauses as replies, and the reply to a CAS number."""

from __future__ import annotations

from collections.abc import Sequence

from bot import texts
from knowledge.chemicals import Chemical
from knowledge.index import Hit
from knowledge.outcomes import (
    ANSWER,
    CHEMICAL,
    PARTIAL,
    UNSURE,
    Answer,
    Decision,
)
from knowledge.plan import PlanClause
from knowledge.reply import compose


class Cards:
    """A chemical's card, a plan clause and a CAS look-up (a part of KnowledgeBase)."""

    def _chemical_body(self, c: Chemical, looked_up: str = "") -> str:
        """The chemical's card; `looked_up` = the CAS number the user sent, shown first among the numbers."""
        lines = [texts.KB_CHEMICAL_TITLE.format(name=c.name)]
        if c.aliases:
            lines.append(texts.KB_CHEMICAL_ALIASES.format(aliases="、".join(c.aliases[:6])))
        if c.cas:
            numbers = [looked_up, *(n for n in c.cas if n != looked_up)] if looked_up in c.cas else list(c.cas)
            cas = "、".join(numbers[:6]) + (texts.KB_CHEMICAL_CAS_MORE.format(n=len(c.cas)) if len(c.cas) > 6 else "")
            lines.append(texts.KB_CHEMICAL_CAS.format(cas=cas))
        lists = []
        if c.key_list:
            item = texts.KB_CHEMICAL_KEY_LIST.format(item=c.key_list)
            lists.append(item + (texts.KB_KEY_LIST_ELIMINATED if c.key_list == 14 else ""))
        if c.priority:
            lists.append(texts.KB_CHEMICAL_PRIORITY.format(codes="、".join(c.priority)))
            if not c.key_list:  # asked "is it on the key list?", the card says it is not
                lists.append(texts.KB_CHEMICAL_NOT_KEY_LIST)
        if lists:
            lines.append(texts.KB_CHEMICAL_LISTS.format(lists="；".join(lists)))
        measures = c.measures or (
            texts.KB_CHEMICAL_MEASURES_KEY_GENERIC if c.key_list else texts.KB_CHEMICAL_MEASURES_PRIORITY
        )
        lines.append(texts.KB_CHEMICAL_MEASURES.format(measures=measures))
        return "\n".join(lines)

    def _chemical_answer(
        self, c: Chemical, score: float, hits: Sequence[Hit], lead: str = "", question: str = "", cas: str = ""
    ) -> Answer:
        cites = [self.data.sources.cite(s) for s in c.sources]
        related = ["kl-categories" if c.key_list else "pl-what", "kl-measures" if c.key_list else "pl-measures"]
        if c.id == "pfos":
            related.insert(0, "kl-pfos-foam")
        suggestions = self._suggestions(c.passage_id, related, hits)
        card = self._chemical_body(c, cas)
        partial = self._partial_lead(question, card)
        body = (lead + "\n" if lead else "") + partial + ("\n" if partial else "") + card
        if partial:
            text, kept = compose(body, suggestions, cites, footer=texts.KB_PARTIAL_ROUTE)
            return Answer(text, False, PARTIAL, cites, round(score, 3), c.passage_id, kept)
        text, kept = compose(body, suggestions, cites)
        return Answer(text, True, CHEMICAL, cites, round(score, 3), c.passage_id, kept)

    def _clause_answer(self, c: PlanClause, score: float, hits: Sequence[Hit], question: str = "") -> Answer:
        cite = self.data.sources.cite(f"plan:{c.citation}")
        title = c.title or (c.heading_path[-1] if c.heading_path else "")
        body = texts.KB_PLAN_CLAUSE.format(citation=c.citation, title=title, body=c.body)
        if c.units:  # as the plan words it: 牵头 only where it says so, else 按职责分工负责
            body += "\n" + texts.KB_PLAN_UNITS.format(units=c.units_text or "、".join(c.units))
        claimed_by = [e.id for e in self.data.entries if e.clause == c.citation]
        suggestions = self._suggestions(c.passage_id, claimed_by, hits)
        partial = self._partial_lead(question, body)
        if partial:
            text, kept = compose(partial + body, suggestions, [cite], footer=texts.KB_PARTIAL_ROUTE)
            return Answer(text, False, PARTIAL, [cite], round(score, 3), c.passage_id, kept)
        text, kept = compose(body, suggestions, [cite])
        return Answer(text, True, ANSWER, [cite], round(score, 3), c.passage_id, kept)

    def _cas_answer(self, cas_hits: list) -> tuple[Decision, Answer]:
        for h in cas_hits:
            if h.chemical is not None:
                lead = texts.KB_CHEMICAL_CAS_MATCH.format(cas=h.cas)
                answer = self._chemical_answer(h.chemical, 1.0, [], lead=lead, cas=h.cas)
                return Decision(CHEMICAL, h.chemical.passage_id, 1.0, [], "cas"), answer
        h = cas_hits[0]
        message = (texts.KB_CAS_UNKNOWN if h.checksum_ok else texts.KB_CAS_BAD_CHECKSUM).format(cas=h.cas)
        suggestions = self._suggestions("", ["kl-categories", "pl-what", "reg-check-inventory"], [])
        text, kept = compose(message, suggestions, (), header=texts.KB_UNSURE_SUGGEST_HEADER,
                             footer=texts.KB_HUMAN_ROUTE)
        return Decision(UNSURE, None, 0.0, [], "cas-unknown"), Answer(text, False, UNSURE, [], 0.0, None, kept)

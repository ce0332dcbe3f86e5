"""Replies that send the user elsewhere first: an emergency, a wish to report, a unit's duties."""

from __future__ import annotations

import re
from collections.abc import Sequence

from bot import texts
from knowledge import intent
from knowledge.index import Hit
from knowledge.loader import Unit
from knowledge.outcomes import (
    ANSWER,
    EMERGENCY,
    REPORT,
    Answer,
    Decision,
)
from knowledge.reply import compose


class Referrals:
    """Emergencies, reports and the plan's units (a part of KnowledgeBase)."""

    # ---- emergencies, reports, units ------------------------------------------------------------------
    def _emergency(self, text: str) -> tuple[Decision, Answer]:
        """120 / a doctor / 12320 first; then the substance's card when one is named."""
        named = self.chemical_table.find_names(text, self.analyzer.analyze(text).tokens)
        body, cites, pid = texts.KB_EMERGENCY, [], None
        if len(named) == 1:
            c = named[0]
            body += "\n" + texts.KB_EMERGENCY_CARD + "\n" + self._chemical_body(c)
            cites, pid = [self.data.sources.cite(s) for s in c.sources], c.passage_id
        reply, kept = compose(body, (), cites)
        # not an answer from the knowledge base (matched false): a referral to urgent medical help
        return Decision(EMERGENCY, pid, 1.0, [], "emergency"), Answer(reply, False, EMERGENCY, cites, 1.0, pid, kept)

    def _report(self, text: str) -> tuple[Decision, Answer]:
        """A wish to report wins over the topic: 12369 and the report wizard, then related questions."""
        analysis = self.analyzer.analyze(text)
        hits = [h for h in self._search(analysis, (), text) if h.score >= self.settings.threshold]
        body, cites, pid = texts.KB_REPORT_LEAD, [], "rep-how"
        top = hits[0].passage.id if hits else None
        if top in self.entries and _ACTION_ENTRY.search(self.entries[top].question):
            # an entry on what to do about exactly this ("药店不要处方就卖抗生素怎么办") follows the route
            e = self.entries[top]
            body += "\n" + e.answer
            cites, pid = [self.data.sources.cite(s) for s in e.sources], e.id
        related = ["rep-how", "rep-anonymous", "rep-progress"]
        suggestions = self._suggestions(pid, [*(h.passage.id for h in hits[:1]), *related], [])
        reply, kept = compose(body, suggestions, cites)
        return Decision(REPORT, pid, 1.0, hits, "report"), Answer(reply, True, REPORT, cites, 1.0, pid, kept)

    def _asked_unit(self, question: str) -> Unit | None:
        """The plan's unit a question names when it asks what that unit does ("税务局在这里头管啥")."""
        if not intent.asks_duties(question):
            return None
        found = [u for u, names in self._units if any(n in question for n in names)]
        return found[0] if len(found) == 1 else None

    def _passage_names_unit(self, pid: str, unit: Unit) -> bool:
        if pid in self.entries:
            text = self.entries[pid].answer
        elif pid in self.clauses:
            text = self.clauses[pid].text
        else:
            return False
        return any(n in text for n in (unit.name, *unit.aliases) if len(n) >= 3)

    def _unit_answer(self, unit: Unit, hits: Sequence[Hit], question: str) -> Answer:
        """The unit's own entry, else the plan clauses that name it (牵头 only where the plan says so)."""
        if unit.entry and unit.entry in self.entries:
            return self._passage_answer(unit.entry, 1.0, hits, question=question)
        lines = [texts.KB_UNIT_DUTIES.format(unit=unit.name)]
        cites = []
        n = 0
        for c in self.data.clauses:
            if unit.name not in c.units:
                continue
            n += 1
            body = "：" + c.body if len(c.body) <= 100 else ""
            role = "（牵头）" if c.lead_unit == unit.name and "牵头" in c.units_text else ""
            lines.append(texts.KB_UNIT_DUTY_ITEM.format(n=n, citation=c.citation, title=c.title, body=body) + role)
            cites.append(self.data.sources.cite(f"plan:{c.citation}"))
        if n == 0:
            return self._unsure(hits, 0.0, text=question)
        suggestions = self._suggestions("", ["plan-units", "plan-mechanism"], [])
        reply, kept = compose("\n".join(lines), suggestions, cites)
        return Answer(reply, True, ANSWER, cites, 1.0, "plan-units", kept)


_ACTION_ENTRY = re.compile(r"怎么办|找谁|举报|投诉|反映")


"""Turning a chosen passage into the reply: entries, suggestions, the partial lead and the "not sure" reply."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from bot import texts
from knowledge import intent, smalltalk
from knowledge.chemicals import Chemical
from knowledge.index import Hit
from knowledge.normalize import compact_name
from knowledge.outcomes import (
    ANSWER,
    DEFAULT_SUGGESTIONS,
    PARTIAL,
    REFUSAL,
    SMALLTALK,
    Answer,
)
from knowledge.reply import compose


class Replies:
    """The replies built from entries and suggestions (a part of KnowledgeBase)."""

    # ---- answers --------------------------------------------------------------------------------
    def _passage_answer(self, pid: str, score: float, hits: Sequence[Hit], question: str = "") -> Answer:
        """The passage's reply to `question` ("" = the user picked it from a list: shown as it is)."""
        if pid in self.entries:
            e = self.entries[pid]
            cites = [self.data.sources.cite(s) for s in e.sources]
            suggestions = self._suggestions(pid, e.related, hits)
            body = e.answer if not question or intent.is_yes_no(question) else intent.strip_opener(e.answer)
            if e.id.startswith("rep-") and "12369" not in body:
                body += "\n" + texts.KB_REPORT_ROUTE  # every reply about reporting shows the hotline
            partial = self._partial_lead(question, body)
            if e.hedged or partial:
                # the entry does not confirm the asked point: not an answer, though its facts are shown
                lead = partial or ""
                footer = texts.KB_PARTIAL_ROUTE if partial else texts.KB_HEDGED_ROUTE
                text, kept = compose(lead + body, suggestions, cites, footer=footer)
                return Answer(text, False, PARTIAL, cites, round(score, 3), pid, kept)
            text, kept = compose(body, suggestions, cites)
            return Answer(text, True, ANSWER, cites, round(score, 3), pid, kept)
        if pid.startswith("chem-") and pid[5:] in self.chemical_table.by_id:
            return self._chemical_answer(self.chemical_table.by_id[pid[5:]], score, hits, question=question)
        if pid in self.clauses:
            return self._clause_answer(self.clauses[pid], score, hits, question=question)
        return Answer(texts.KB_PICK_EXPIRED, False, REFUSAL, [], 0.0, None, [])

    def _partial_lead(self, question: str, body: str) -> str:
        """"方案和相关规定没有写明{asked detail}。能确认的是：" when the question asks for a detail the body lacks."""
        if not question:
            return ""
        # a yes/no question asks whether, not a detail ("玩具里的有害物质有没有限量"), unless the whether is
        # itself a detail the plan never gives ("那个厂在不在名单上")
        detail = intent.asked_detail(question, self._details, yes_no=intent.is_yes_no(question))
        if detail is None:
            return ""
        words = list(self.analyzer.analyze(question).tokens) if detail.near else []  # (a second pass only then)
        if detail.found_near(body, words):
            return ""
        return texts.KB_PARTIAL.format(what=texts.KB_PARTIAL_WHAT, label=detail.label)

    def _mentions(self, pid: str, chem: Chemical) -> bool:
        """Whether the passage is about the named chemical (its card, or an entry that names it)."""
        if pid == chem.passage_id:
            return True
        if pid not in self.entries:
            return True  # plan clauses and other cards: decided by retrieval
        e = self.entries[pid]
        text = compact_name(e.answer + e.question + "".join(e.keywords))
        if any(compact_name(n) in text for n in chem.names if len(compact_name(n)) >= 2):
            return True
        # an entry about substances in general (no other substance named) still answers
        return not any(
            compact_name(n) in text
            for c in self.chemical_table.by_id.values() if c.id != chem.id
            for n in c.names if len(compact_name(n)) >= 3
        )

    def _suggestion(self, pid: str) -> tuple[str, str] | None:
        if pid in self.entries:
            return pid, self.entries[pid].question
        if pid.startswith("chem-") and pid[5:] in self.chemical_table.by_id:
            return pid, texts.KB_CHEMICAL_SUGGEST.format(name=self.chemical_table.by_id[pid[5:]].name)
        if pid in self.clauses:
            c = self.clauses[pid]
            return pid, texts.KB_PLAN_SUGGEST.format(citation=c.citation, title=c.title or c.heading_path[-1])
        return None

    def _suggestions(self, pid: str, related: Iterable[str], hits: Sequence[Hit]) -> list[tuple[str, str]]:
        out: list[tuple[str, str]] = []
        candidates = [*related, *(h.passage.id for h in hits if h.score >= self.settings.suggest_floor)]
        for cid in candidates:
            if cid == pid or any(cid == o[0] for o in out):
                continue
            s = self._suggestion(cid)
            if s is not None:
                out.append(s)
            if len(out) >= self.settings.max_suggestions:
                break
        return out

    def _unsure(
        self, hits: Sequence[Hit], score: float, lead: str = "", first: Sequence[str] = (), text: str = ""
    ) -> Answer:
        """The "not sure" reply: lead text, up to max_suggestions related questions (`first` ones first, then the
        best hits) and the human route. With `text` (the question) and nothing related: a message in English gets
        a one-line English hint, a complaint about a smell or smoke is pointed to 举报, anything else is told
        what this account is for."""
        seen: list[str] = list(first)
        for h in hits:
            if h.score >= self.settings.suggest_floor and h.passage.id not in seen:
                seen.append(h.passage.id)
        suggestions = [s for pid in seen if (s := self._suggestion(pid))][: self.settings.max_suggestions]
        if text and not lead:
            if _is_english(text):
                return Answer(texts.KB_ENGLISH, False, REFUSAL, [], round(score, 3), None, [])
            if intent.is_complaint(text):
                reply, kept = compose(texts.KB_REPORT_SUGGEST, (), (), footer=texts.KB_HUMAN_ROUTE)
                return Answer(reply, False, REFUSAL, [], round(score, 3), None, [])
            if not suggestions:
                reply, _ = compose(texts.KB_OFF_TOPIC, (), (), footer=texts.KB_HUMAN_ROUTE)
                return Answer(reply, False, REFUSAL, [], round(score, 3), None, [])
        if not suggestions:
            suggestions = [s for pid in DEFAULT_SUGGESTIONS if (s := self._suggestion(pid))]
        reply, kept = compose(lead or texts.KB_UNSURE, suggestions, (), header=texts.KB_UNSURE_SUGGEST_HEADER,
                              footer=texts.KB_HUMAN_ROUTE)
        return Answer(reply, False, REFUSAL, [], round(score, 3), None, kept)

    def _smalltalk(self, kind: str) -> Answer:
        replies = {
            smalltalk.THANKS: texts.KB_THANKS,
            smalltalk.BYE: texts.KB_BYE,
            smalltalk.IDENTITY: texts.KB_IDENTITY,
        }
        reply = replies.get(kind, texts.KB_GREETING)
        return Answer(reply, False, SMALLTALK)

    def _empty(self, message: str) -> Answer:
        suggestions = [s for pid in DEFAULT_SUGGESTIONS if (s := self._suggestion(pid))]
        text, kept = compose(message, suggestions, ())
        return Answer(text, False, REFUSAL, [], 0.0, None, kept)


_LATIN = re.compile(r"[a-z]")
_ENGLISH_WORDS = frozenset({
    "a", "an", "the", "is", "are", "was", "do", "does", "can", "could", "i", "you", "we", "this", "that",
    "what", "how", "who", "where", "when", "why", "which", "for", "to", "of", "in", "on", "please", "hello",
    "hi", "help", "report", "pollution", "account", "english", "speak", "about",
})


def _is_english(text: str) -> bool:
    """A message written in English (letters, no Chinese): it gets a one-line English hint."""
    letters = len(_LATIN.findall(text))
    if letters < 8 or any("\u4e00" <= ch <= "\u9fff" for ch in text):
        return False
    return any(w in _ENGLISH_WORDS for w in re.findall(r"[a-z]+", text))

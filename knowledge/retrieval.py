"""Finding the candidate passages for a question, and telling when a question is beyond the knowledge base."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from rapidfuzz.distance import DamerauLevenshtein

from bot import texts
from knowledge import intent
from knowledge.chemicals import Chemical
from knowledge.index import Hit
from knowledge.normalize import compact_name
from knowledge.tokenize import Analysis, is_latin_token

NO_CORRECTION = frozenset({"pfas", "pfc", "pfcs"})  # real words that must not be "corrected" to PFOS/PFOA


class Retrieval:
    """The index search with its corrections and bonuses (a part of KnowledgeBase)."""

    def _needs_met(self, pid: str, text: str) -> bool:
        entry = self.entries.get(pid)
        return entry is None or not entry.needs or any(w in text for w in entry.needs)

    def _residual(self, analysis: Analysis, chem: Chemical) -> list[str]:
        """Content words of the question that say something besides "tell me about this chemical".

        Left out: the chemical's names, generic chemical-question words and single characters (禁, 没, 里 …
        carry no topic of their own).
        """
        names = [compact_name(n) for n in chem.names]
        out = []
        for tok in analysis.tokens:
            key = compact_name(tok)
            if tok in self._chemical_words or len(key) < 2 or any(key in n for n in names):
                continue
            out.append(tok)
        return out

    def _search(self, analysis: Analysis, named: Sequence[Chemical], text: str = "") -> list[Hit]:
        extra = list(self._latin_corrections(analysis.tokens))
        hits = self.index.search(analysis, k=8, extra=extra)
        if len(named) == 1 and self._asks_status(text):
            bonus = self.settings.chemical_name_bonus
            if any(w in text for w in self._list_words):
                bonus += self.settings.chemical_list_bonus
            wanted = {c.passage_id for c in named}
            boosted = []
            seen = set()
            for h in hits:
                seen.add(h.passage.id)
                boosted.append(_with_score(h, h.score + bonus) if h.passage.id in wanted else h)
            for pid in wanted - seen:
                doc = self.passage_by_id.get(pid)
                if doc is not None:
                    h = self.index.score_doc(analysis, doc, extra)
                    boosted.append(_with_score(h, h.score + bonus))
            hits = sorted(boosted, key=lambda h: h.score, reverse=True)
        return self._second_opinion(analysis, hits)

    def _second_opinion(self, analysis: Analysis, hits: list[Hit]) -> list[Hit]:
        """Mix the classifier's posterior into the retrieval scores (see knowledge/classifier.py)."""
        c = self.settings.classifier
        if not hits or not (c["weight"] or c["ood_weight"]):
            return hits
        post = self.classifier.posterior(analysis.features)
        penalty = c["ood_weight"] * post.out_of_scope
        mixed = [_with_score(h, max(h.score + c["weight"] * post.of(h.passage.id) - penalty, 0.0)) for h in hits]
        return sorted(mixed, key=lambda h: h.score, reverse=True)

    def _discount_uncovered(self, top: Hit, question_words: Sequence[str]) -> Hit:
        """Lower the best candidate's score by the share of the question's words (two characters or more) that
        its passage never uses, anywhere: 登记证能转让吗 shares 登记证 with an entry but asks about 转让."""
        # (Latin abbreviations are left out: a mistyped one — PFSO — is matched through its correction)
        words = [t for t in question_words if len(t) >= 2 and not is_latin_token(t)]
        if not words or not self.settings.uncovered_penalty:
            return top
        missing = sum(1 for t in words if not self.index.passage_has(top.doc, "w:" + t))
        return _with_score(top, top.score * (1 - self.settings.uncovered_penalty * missing / len(words)))

    def _asks_status(self, text: str) -> bool:
        """Whether the question asks if a chemical is controlled / may still be used (not, say, how to report it)."""
        return any(w in text for w in self._status_words) and not any(w in text for w in self._status_cancel)

    def _latin_corrections(self, tokens: Sequence[str]) -> Iterable[tuple[str, float]]:
        for tok in tokens:
            if len(tok) < 4 or not is_latin_token(tok) or tok in NO_CORRECTION:
                continue
            if self.index.has_feature("w:" + tok):
                continue
            best = min(self._latin_vocab, key=lambda v: DamerauLevenshtein.distance(tok, v), default=None)
            if best is not None and DamerauLevenshtein.distance(tok, best) <= 1:
                yield "w:" + best, 0.9

    def _beyond_scope(self, text: str) -> tuple[str, str] | None:
        """(note, reply lead) when the question is about something the knowledge base must not answer even
        though it shares words with it: taking medicine (抗生素吃几天能好), another country's rules, data it
        does not hold (a boiling point, an exposure limit, a fee), or the bureau's other work (大气污染防治).
        Only the question itself counts, not the story before it ("感冒了去买药，药店没要处方就卖了，找谁反映"
        is about the pharmacy, not about medicine)."""
        text = intent.question_tail(text) or text
        for note, words, lead in self._beyond_rules:
            if any(w in text for w in words):
                return note, lead
        if any(w in text for w in self._abroad) and not any(w in text for w in ("进口", "出口")):
            return "abroad", texts.KB_ABROAD
        return None

    def _elsewhere(self, text: str) -> bool:
        if any(p in text for p in self._home_places):
            return False
        return any(p in text for p in self._other_places)


def _focus(whole: Analysis, tail: Analysis, context_weight: float) -> Analysis:
    """The whole message's features, those only in its story part weighted by context_weight."""
    features = {f: w if f in tail.features else w * context_weight for f, w in whole.features.items()}
    return Analysis(whole.tokens, features, whole.content)


def _with_score(h: Hit, score: float) -> Hit:
    return Hit(h.doc, h.passage, min(score, 1.0), h.qcov, h.dcov, h.fuzzy, h.phrasing)

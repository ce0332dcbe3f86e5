"""The answerer: from a user's question to the reply they see.

Order of decisions (first that applies wins):
  1. nothing meaningful (empty, punctuation, emoji, a bare unknown number) → kind "refusal" (asks for a question)
  2. greetings / thanks / good-byes                                         → kind "smalltalk"
  3. someone exposed to a chemical and hurt                                 → kind "emergency" (120 / 12320 first)
  4. a wish to report something that is happening                           → kind "report" (12369, 举报)
  5. a CAS number                                                           → kind "chemical" (exact match)
  6. a stated yearly volume of a new chemical                               → kind "registration"
  7. a named unit of the plan asked what it does                            → that unit's duties
  8. retrieval over entries, chemicals and plan clauses; at or above the calibrated threshold → an answer,
     otherwise kind "refusal" with up to three related questions and the human route (12369 / 市生态环境局).
An answer must answer the asked thing: when the question asks for a detail (a date, a count, a fee, names …)
the chosen entry does not contain, or the entry itself is hedged, the reply says the plan / the regulations do
not state it, gives the nearest facts and the route: kind "partial", `matched` false.
"""

from __future__ import annotations

import gc
import logging
import re
from collections.abc import Iterable
from pathlib import Path

from bot import texts
from knowledge import intent, smalltalk
from knowledge.cards import Cards
from knowledge.chemicals import ChemicalTable
from knowledge.classifier import OUT_OF_SCOPE, NaiveBayes
from knowledge.entries import Entry
from knowledge.index import Index, Passage, Weights
from knowledge.loader import KnowledgeData, load_data
from knowledge.normalize import meaningful_chars, normalize, spoken_digits
from knowledge.numerals import normalize_numerals
from knowledge.outcomes import (  # noqa: F401  (the kinds are read from here by the callers)
    ANSWER,
    CHEMICAL,
    DEFAULT_SUGGESTIONS,
    EMERGENCY,
    EMPTY,
    KINDS,
    PARTIAL,
    REFUSAL,
    REGISTRATION,
    REPORT,
    SMALLTALK,
    UNSURE,
    Answer,
    Decision,
)
from knowledge.plan import PlanClause
from knowledge.referrals import Referrals
from knowledge.registration_reply import RegistrationReplies
from knowledge.replies import Replies
from knowledge.retrieval import Retrieval, _focus
from knowledge.tokenize import Analyzer

log = logging.getLogger(__name__)

CHEMICAL_KEYWORDS = ("是什么", "还能用吗", "能不能用", "禁用", "管控措施", "管控要求", "限制", "CAS号", "清单", "名录")
_DIGITS = re.compile(r"^[\d\s.\-]+$")
_PRIORITY_CODE = re.compile(r"pc\s*0\d{2}")


class KnowledgeBase(Retrieval, Replies, Cards, RegistrationReplies, Referrals):
    """The knowledge base: built once from the data, it answers questions (its parts live in the mixed-in modules)."""

    def __init__(self, data: KnowledgeData, extra_passages: Iterable[Passage] = ()) -> None:
        self.data = data
        self.settings = data.settings
        self.entries: dict[str, Entry] = {e.id: e for e in data.entries}
        self.chemical_table = ChemicalTable(data.chemicals)
        self.clauses: dict[str, PlanClause] = {c.passage_id: c for c in data.clauses}
        self.clause_by_citation = {c.citation: c for c in data.clauses}
        words = self._dictionary_words()
        self.analyzer = Analyzer(data.stopwords, words, data.synonyms, data.intents)
        self._curated = self._passages()
        passages = self._curated + list(extra_passages)
        self.index = Index(self.analyzer, passages, Weights(**self.settings.weights))
        self.passage_by_id = {p.id: i for i, p in enumerate(self.index.passages)}
        # misspellings are corrected towards domain words and longer words of the knowledge base; short
        # everyday words (理由, 本市 …) are left out, they would turn correct text into nonsense
        self.analyzer.set_homophone_vocabulary(
            [*(w for w in self.index.words() if len(w) >= 3), *(w for w, _ in words)]
        )
        self.classifier = self._train_classifier()
        self._latin_vocab = sorted(v for v in self.index.latin_vocab if len(v) >= 3)
        self._other_places = tuple(data.other_places)
        self._home_places = data.home_places
        # a question made only of a chemical's name and these words gets the chemical's card directly
        self._chemical_words = frozenset(data.chemical_question_words)
        # asking whether a named chemical may still be used / is controlled: its card gets a bonus
        words = data.chemical_status_words
        self._status_words = tuple(w.lstrip("+") for w in words if not w.startswith("!") and w.lstrip("+"))
        self._status_cancel = tuple(w[1:] for w in words if w.startswith("!") and w[1:])
        self._list_words = tuple(w[1:] for w in words if w.startswith("+") and w[1:])
        # questions sharing words with the knowledge base that it must not answer: (note, words, reply lead)
        self._beyond_rules = (
            ("health", tuple(data.health_words), texts.KB_HEALTH),
            ("no-data", tuple(data.no_data_words), texts.KB_NO_DATA),
            ("other-topic", tuple(data.other_topics), texts.KB_OTHER_TOPIC),
        )
        self._abroad = tuple(w.lower() for w in data.abroad)
        self._details = list(data.details)
        self._units = [(u, tuple(sorted({u.name, *u.aliases}, key=len, reverse=True))) for u in data.units]
        self._unit_entries = frozenset({"plan-units", "plan-mechanism", *(u.entry for u in data.units if u.entry)})
        self._existing = [
            (c, tuple(sorted({c.name.lower(), *(a.lower() for a in c.aliases)}, key=len, reverse=True)))
            for c in data.existing_chemicals
        ]
        self.answer("PFOS还能用吗")  # warm every code path once

    # ---- construction ---------------------------------------------------------------------------
    def _dictionary_words(self) -> list[tuple[str, int]]:
        words = list(self.data.dictionary)
        for c in self.data.chemicals:
            words.extend((n.lower(), 30000) for n in c.names if " " not in n)
        for e in self.data.entries:
            words.extend((k.lower(), 20000) for k in e.keywords if 2 <= len(k) <= 12 and " " not in k)
        return words

    def _passages(self) -> list[Passage]:
        claimed = {e.clause for e in self.data.entries if e.clause}
        out = []
        for e in self.data.entries:
            body = e.answer
            clause = self.clause_by_citation.get(e.clause or "")
            if clause is not None:
                body += "\n" + clause.body
            out.append(Passage(e.id, ANSWER, e.phrasings, e.keywords, body, e.scope))
        templates = self.data.chemical_templates
        for c in self.data.chemicals:
            body = "。".join(filter(None, [c.measures, " ".join(c.cas)]))
            phrasings = [t.format(name=c.name) for t in templates]
            phrasings += [templates[0].format(name=a) for a in c.aliases]
            out.append(Passage(c.passage_id, CHEMICAL, tuple(phrasings), (*c.names, *CHEMICAL_KEYWORDS), body))
        for c in self.data.clauses:
            if c.citation not in claimed:
                title = c.title or (c.heading_path[-1] if c.heading_path else c.citation)
                out.append(Passage(c.passage_id, "clause", (title,), tuple(c.units), c.body, "local"))
        return out

    def _train_classifier(self) -> NaiveBayes:
        """Naive Bayes over every passage's phrasings, the questions people asked (data/asked.tsv) and the
        out-of-scope examples (a class of their own)."""
        # the curated passages only: extra passages (a bulk corpus) are for the index
        self._fixed_examples = [(self._features(ph), p.id) for p in self._curated for ph in p.phrasings]
        self._fixed_examples += [(self._features(q), OUT_OF_SCOPE) for q in self.data.out_of_scope]
        self._asked_examples = [
            (a.question, self._features(a.question), a.ids[0] if a.ids else OUT_OF_SCOPE) for a in self.data.asked
        ]
        return self.train_classifier()

    def _features(self, text: str) -> dict[str, float]:
        t = normalize_numerals(normalize(text, max_len=len(text) + 16))
        return self.analyzer.analyze(self.chemical_table.fix_name_typo(self.analyzer.fix_homophones(t))).features

    def train_classifier(self, leave_out: Iterable[str] = ()) -> NaiveBayes:
        """A classifier trained on everything except the asked questions in leave_out (for cross-validation)."""
        skip = frozenset(normalize(q) for q in leave_out)
        examples = self._fixed_examples + [(f, y) for q, f, y in self._asked_examples if normalize(q) not in skip]
        c = self.settings.classifier
        return NaiveBayes(examples, alpha=c["alpha"], temperature=c["temperature"])

    @property
    def entry_count(self) -> int:
        return len(self.entries)

    @property
    def passage_count(self) -> int:
        return len(self.index)

    # ---- public API -----------------------------------------------------------------------------
    def answer(self, question: str) -> Answer:
        """The reply to a free-text question. Never raises."""
        try:
            return self._answer(question)
        except Exception:  # a bug must not cost the user a reply
            log.exception("knowledge answer failed for %r", str(question)[:100])
            return self._unsure([], 0.0)

    def answer_entry(self, entry_id: str) -> Answer:
        """The answer for a suggestion the user picked by number."""
        try:
            return self._passage_answer(str(entry_id), score=1.0, hits=[])
        except Exception:
            log.exception("knowledge answer_entry failed for %r", entry_id)
            return Answer(texts.KB_PICK_EXPIRED, False, REFUSAL)

    def decide(self, question: str) -> Decision:
        """The decision behind answer(question), for evaluation and calibration."""
        return self._decide(question)[0]

    def explain(self, question: str) -> tuple[Decision, Answer]:
        """The decision and the answer together (one computation)."""
        return self._decide(question)

    # ---- decisions ------------------------------------------------------------------------------
    def _answer(self, question: str) -> Answer:
        _decision, answer = self._decide(question)
        return answer

    def _decide(self, question: object) -> tuple[Decision, Answer]:
        text = spoken_digits(normalize(question if isinstance(question, str) else str(question)))
        if not meaningful_chars(text):
            kind = smalltalk.classify(text)
            if kind:
                return Decision(SMALLTALK, None, 0.0, [], kind), self._smalltalk(kind)
            return Decision(EMPTY, None, 0.0, []), self._empty(texts.KB_EMPTY)
        talk = smalltalk.classify(text)
        if talk:
            return Decision(SMALLTALK, None, 0.0, [], talk), self._smalltalk(talk)
        text = normalize_numerals(smalltalk.strip_greeting(text) or text)
        if _DIGITS.match(text) and not self.chemical_table.find_cas(text):
            digits = text.replace(" ", "")
            if len(digits) < 5 or not self.index.has_feature("w:" + digits):
                return Decision(EMPTY, None, 0.0, [], "number"), self._empty(texts.KB_NUMBER_ONLY)

        if intent.is_emergency(text):
            return self._emergency(text)
        if intent.wants_report(text):
            return self._report(text)

        cas_hits = self.chemical_table.find_cas(text)
        if cas_hits:
            beyond = self._beyond_scope(text)
            known = [h.chemical.passage_id for h in cas_hits if h.chemical is not None]
            if beyond and known:
                return Decision(UNSURE, known[0], 1.0, [], beyond[0]), self._unsure([], 1.0, beyond[1], known)
            return self._cas_answer(cas_hits)

        text = self.chemical_table.fix_name_typo(self.analyzer.fix_homophones(text))
        analysis = self.analyzer.analyze(text)
        named = self.chemical_table.find_names(text, analysis.tokens)
        tail = intent.question_tail(text)
        asked = intent.ask_span(text)
        card_analysis = analysis
        if len(named) > 1 and tail:  # "PFOA跟PFOS是一回事不？PFOA中文叫个啥": the question names one
            asked_analysis = self.analyzer.analyze(tail)
            in_question = self.chemical_table.find_names(tail, asked_analysis.tokens)
            if len(in_question) == 1:
                named, card_analysis = in_question, asked_analysis
        code = _PRIORITY_CODE.search(text)
        if code and not self.chemical_table.find_priority_code(code.group(0)):
            lead = texts.KB_CODE_UNKNOWN.format(code=code.group(0).upper())
            hits = self._search(analysis, named, text)
            return Decision(UNSURE, None, 0.0, hits, "code-unknown"), self._unsure(hits, 0.0, lead)
        if len(named) == 1 and "i:why" not in card_analysis.features and not self._residual(card_analysis, named[0]):
            # (a why-question about a chemical — 抗生素怎么也成新污染物了 — may belong to an entry, not the card)
            chem = named[0]
            hits = self._search(analysis, named, text)
            beyond = self._beyond_scope(text)
            if beyond:
                return Decision(UNSURE, chem.passage_id, 1.0, hits, beyond[0]), self._unsure(hits, 1.0, beyond[1])
            answer = self._chemical_answer(chem, 1.0, hits, question=asked)
            return Decision(answer.kind, chem.passage_id, 1.0, hits, "name"), answer
        reg_decision = self._registration_decision(text, analysis, named)
        if reg_decision is not None:
            return reg_decision
        unit = self._asked_unit(asked)
        if unit is not None:
            hits = self._search(analysis, named, text)
            top = hits[0] if hits else None
            specific = (  # "生态环境局在新化学物质管理上要做什么": a task of the unit, found by retrieval
                top is not None and top.score >= self.settings.threshold
                and top.passage.id not in self._unit_entries and self._passage_names_unit(top.passage.id, unit)
            )
            if not specific:
                answer = self._unit_answer(unit, hits, asked)
                return Decision(answer.kind, answer.entry_id, 1.0, hits, "unit"), answer

        question_words = analysis.tokens
        if tail:  # the story before the question counts less than the question itself
            question = self.analyzer.analyze(tail)
            weight = self.settings.context_weight
            if intent.has_ask_marker(text):  # "……我就想问……": the story counts even less
                weight *= self.settings.marked_context_share
            analysis = _focus(analysis, question, weight)
            question_words = question.tokens
        hits = [h for h in self._search(analysis, named, text) if self._needs_met(h.passage.id, text)]
        if not hits:
            return Decision(UNSURE, None, 0.0, []), self._unsure([], 0.0, text=text)
        hits[0] = top = self._discount_uncovered(hits[0], question_words)
        beyond = self._beyond_scope(text)
        if beyond:  # said whatever the score: the reply tells where such questions belong
            decision = Decision(UNSURE, top.passage.id, top.score, hits, beyond[0])
            return decision, self._unsure(hits, top.score, beyond[1])
        if top.score < self.settings.threshold:
            return Decision(UNSURE, top.passage.id, top.score, hits), self._unsure(hits, top.score, text=text)
        if top.passage.scope == "local" and self._elsewhere(text):
            return (
                Decision(UNSURE, top.passage.id, top.score, hits, "other-place"),
                self._unsure(hits, top.score, lead=texts.KB_OTHER_PLACE),
            )
        pid = top.passage.id
        if len(named) == 1 and not self._mentions(pid, named[0]):
            pid = named[0].passage_id  # the entry is about another substance: the asked one's card instead
        answer = self._passage_answer(pid, top.score, hits, question=asked)
        return Decision(answer.kind, pid, top.score, hits), answer



def build_knowledge_base(data: KnowledgeData, extra_passages: Iterable[Passage] = ()) -> KnowledgeBase:
    return KnowledgeBase(data, extra_passages)


def load_knowledge_base(data_dir: Path | None = None) -> KnowledgeBase:
    """Load all data, warm jieba and build the index. Call once at start-up; answering loads nothing."""
    kb = KnowledgeBase(load_data(data_dir))
    # The index is a few hundred thousand long-lived objects: move them out of the cyclic garbage
    # collector's way, so a full collection during a request does not have to walk them again.
    gc.collect()
    gc.freeze()
    return kb

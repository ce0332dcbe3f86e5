"""The answerer: from a user's question to the reply they see.

Order of decisions (first that applies wins):
  1. nothing meaningful (empty, punctuation, emoji, a bare unknown number) → kind "empty"
  2. greetings / thanks / good-byes                                         → kind "smalltalk"
  3. a CAS number                                                           → kind "chemical" (exact match)
  4. a stated yearly volume of a new chemical                               → kind "registration"
  5. retrieval over entries, chemicals and plan clauses; at or above the calibrated threshold → an answer,
     otherwise kind "unsure" with up to three related questions and the human route (12369 / 市生态环境局).
"""

from __future__ import annotations

import gc
import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from rapidfuzz.distance import DamerauLevenshtein

from bot import texts
from knowledge import registration, smalltalk
from knowledge.chemicals import Chemical, ChemicalTable
from knowledge.classifier import OUT_OF_SCOPE, NaiveBayes
from knowledge.entries import Entry
from knowledge.index import Hit, Index, Passage, Weights
from knowledge.loader import KnowledgeData, load_data
from knowledge.normalize import compact_name, meaningful_chars, normalize, spoken_digits
from knowledge.plan import PlanClause
from knowledge.reply import compose
from knowledge.tokenize import Analysis, Analyzer, is_latin_token

log = logging.getLogger(__name__)

ANSWER, CHEMICAL, REGISTRATION, UNSURE, SMALLTALK, EMPTY = (
    "answer", "chemical", "registration", "unsure", "smalltalk", "empty"
)
DEFAULT_SUGGESTIONS = ("reg-types", "kl-categories", "rep-how")
CHEMICAL_KEYWORDS = ("是什么", "还能用吗", "能不能用", "禁用", "管控措施", "管控要求", "限制", "CAS号", "清单", "名录")
NO_CORRECTION = frozenset({"pfas", "pfc", "pfcs"})  # real words that must not be "corrected" to PFOS/PFOA
_DIGITS = re.compile(r"^[\d\s.\-]+$")


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


class KnowledgeBase:
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
        t = normalize(text, max_len=len(text) + 16)
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
            return Answer(texts.KB_PICK_EXPIRED, False, UNSURE)

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
        text = smalltalk.strip_greeting(text) or text
        if _DIGITS.match(text) and not self.chemical_table.find_cas(text):
            digits = text.replace(" ", "")
            if len(digits) < 5 or not self.index.has_feature("w:" + digits):
                return Decision(EMPTY, None, 0.0, [], "number"), self._empty(texts.KB_NUMBER_ONLY)

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
        if len(named) == 1 and "i:why" not in analysis.features and not self._residual(analysis, named[0]):
            # (a why-question about a chemical — 抗生素怎么也成新污染物了 — may belong to an entry, not the card)
            chem = named[0]
            hits = self._search(analysis, named, text)
            beyond = self._beyond_scope(text)
            if beyond:
                return Decision(UNSURE, chem.passage_id, 1.0, hits, beyond[0]), self._unsure(hits, 1.0, beyond[1])
            return Decision(CHEMICAL, chem.passage_id, 1.0, hits, "name"), self._chemical_answer(chem, 1.0, hits)
        if not named:
            reg = registration.detect(text)
            if reg is not None:
                entry_id = registration.ENTRY_FOR_KIND[reg.kind]
                return Decision(REGISTRATION, entry_id, 1.0, []), self._registration(reg)

        question_words = analysis.tokens
        tail = _question_tail(text)
        if tail:  # the story before the question counts less than the question itself
            question = self.analyzer.analyze(tail)
            analysis = _focus(analysis, question, self.settings.context_weight)
            question_words = question.tokens
        hits = self._search(analysis, named, text)
        if not hits:
            return Decision(UNSURE, None, 0.0, []), self._unsure([], 0.0)
        hits[0] = top = self._discount_uncovered(hits[0], question_words)
        beyond = self._beyond_scope(text)
        if beyond:  # said whatever the score: the reply tells where such questions belong
            decision = Decision(UNSURE, top.passage.id, top.score, hits, beyond[0])
            return decision, self._unsure(hits, top.score, beyond[1])
        if top.score < self.settings.threshold:
            return Decision(UNSURE, top.passage.id, top.score, hits), self._unsure(hits, top.score)
        if top.passage.scope == "local" and self._elsewhere(text):
            return (
                Decision(UNSURE, top.passage.id, top.score, hits, "other-place"),
                self._unsure(hits, top.score, lead=texts.KB_OTHER_PLACE),
            )
        answer = self._passage_answer(top.passage.id, top.score, hits)
        return Decision(answer.kind, top.passage.id, top.score, hits), answer

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
        text = _question_tail(text) or text
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

    # ---- answers --------------------------------------------------------------------------------
    def _passage_answer(self, pid: str, score: float, hits: Sequence[Hit]) -> Answer:
        if pid in self.entries:
            e = self.entries[pid]
            cites = [self.data.sources.cite(s) for s in e.sources]
            suggestions = self._suggestions(pid, e.related, hits)
            text, kept = compose(e.answer, suggestions, cites)
            return Answer(text, True, ANSWER, cites, round(score, 3), pid, kept)
        if pid.startswith("chem-") and pid[5:] in self.chemical_table.by_id:
            return self._chemical_answer(self.chemical_table.by_id[pid[5:]], score, hits)
        if pid in self.clauses:
            return self._clause_answer(self.clauses[pid], score, hits)
        return Answer(texts.KB_PICK_EXPIRED, False, UNSURE, [], 0.0, None, [])

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

    def _chemical_body(self, c: Chemical) -> str:
        lines = [texts.KB_CHEMICAL_TITLE.format(name=c.name)]
        if c.aliases:
            lines.append(texts.KB_CHEMICAL_ALIASES.format(aliases="、".join(c.aliases[:6])))
        if c.cas:
            cas = "、".join(c.cas[:6]) + (texts.KB_CHEMICAL_CAS_MORE.format(n=len(c.cas)) if len(c.cas) > 6 else "")
            lines.append(texts.KB_CHEMICAL_CAS.format(cas=cas))
        lists = []
        if c.key_list:
            item = texts.KB_CHEMICAL_KEY_LIST.format(item=c.key_list)
            lists.append(item + (texts.KB_KEY_LIST_ELIMINATED if c.key_list == 14 else ""))
        if c.priority:
            lists.append(texts.KB_CHEMICAL_PRIORITY.format(codes="、".join(c.priority)))
        if lists:
            lines.append(texts.KB_CHEMICAL_LISTS.format(lists="；".join(lists)))
        measures = c.measures or (
            texts.KB_CHEMICAL_MEASURES_KEY_GENERIC if c.key_list else texts.KB_CHEMICAL_MEASURES_PRIORITY
        )
        lines.append(texts.KB_CHEMICAL_MEASURES.format(measures=measures))
        return "\n".join(lines)

    def _chemical_answer(self, c: Chemical, score: float, hits: Sequence[Hit], lead: str = "") -> Answer:
        cites = [self.data.sources.cite(s) for s in c.sources]
        related = ["kl-categories" if c.key_list else "pl-what", "kl-measures" if c.key_list else "pl-measures"]
        if c.id == "pfos":
            related.insert(0, "kl-pfos-foam")
        suggestions = self._suggestions(c.passage_id, related, hits)
        body = (lead + "\n" if lead else "") + self._chemical_body(c)
        text, kept = compose(body, suggestions, cites)
        return Answer(text, True, CHEMICAL, cites, round(score, 3), c.passage_id, kept)

    def _clause_answer(self, c: PlanClause, score: float, hits: Sequence[Hit]) -> Answer:
        cite = self.data.sources.cite(f"plan:{c.citation}")
        title = c.title or (c.heading_path[-1] if c.heading_path else "")
        body = texts.KB_PLAN_CLAUSE.format(citation=c.citation, title=title, body=c.body)
        if c.units:
            body += "\n" + texts.KB_PLAN_UNITS.format(units="、".join(c.units))
        claimed_by = [e.id for e in self.data.entries if e.clause == c.citation]
        suggestions = self._suggestions(c.passage_id, claimed_by, hits)
        text, kept = compose(body, suggestions, [cite])
        return Answer(text, True, ANSWER, [cite], round(score, 3), c.passage_id, kept)

    def _cas_answer(self, cas_hits: list) -> tuple[Decision, Answer]:
        for h in cas_hits:
            if h.chemical is not None:
                lead = texts.KB_CHEMICAL_CAS_MATCH.format(cas=h.cas)
                answer = self._chemical_answer(h.chemical, 1.0, [], lead=lead)
                return Decision(CHEMICAL, h.chemical.passage_id, 1.0, [], "cas"), answer
        h = cas_hits[0]
        message = (texts.KB_CAS_UNKNOWN if h.checksum_ok else texts.KB_CAS_BAD_CHECKSUM).format(cas=h.cas)
        suggestions = self._suggestions("", ["kl-categories", "pl-what", "reg-check-inventory"], [])
        text, kept = compose(message, suggestions, (), header=texts.KB_UNSURE_SUGGEST_HEADER,
                             footer=texts.KB_HUMAN_ROUTE)
        return Decision(UNSURE, None, 0.0, [], "cas-unknown"), Answer(text, False, UNSURE, [], 0.0, None, kept)

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
        if abs(q.volume.tonnes - 1) < 1e-6 or abs(q.volume.tonnes - 10) < 1e-6:
            parts.append(texts.KB_REG_EDGE)
        if q.exempt_word:
            parts.append(texts.KB_REG_EXEMPT.format(word=q.exempt_word))
        if q.polymer:
            parts.append(texts.KB_REG_POLYMER)
        parts.append(texts.KB_REG_INVENTORY)
        entry_id = registration.ENTRY_FOR_KIND[kind]
        cites = [self.data.sources.cite("mee12")]
        related = ["reg-types", *(k for k in ("reg-standard", "reg-simple", "reg-filing") if k != entry_id)]
        suggestions = self._suggestions(entry_id, related, [])
        text, kept = compose("\n".join(parts), suggestions, cites)
        return Answer(text, True, REGISTRATION, cites, 1.0, entry_id, kept)

    def _unsure(self, hits: Sequence[Hit], score: float, lead: str = "", first: Sequence[str] = ()) -> Answer:
        """The "not sure" reply: lead text, up to max_suggestions related questions (`first` ones first, then the
        best hits) and the human route."""
        seen: list[str] = list(first)
        for h in hits:
            if h.score >= self.settings.suggest_floor and h.passage.id not in seen:
                seen.append(h.passage.id)
        suggestions = [s for pid in seen if (s := self._suggestion(pid))][: self.settings.max_suggestions]
        if not suggestions:
            suggestions = [s for pid in DEFAULT_SUGGESTIONS if (s := self._suggestion(pid))]
        text, kept = compose(lead or texts.KB_UNSURE, suggestions, (), header=texts.KB_UNSURE_SUGGEST_HEADER,
                             footer=texts.KB_HUMAN_ROUTE)
        return Answer(text, False, UNSURE, [], round(score, 3), None, kept)

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
        return Answer(text, False, EMPTY, [], 0.0, None, kept)


_CLAUSE_END = re.compile(r"[，,。；;！!？?\s]+")
TAIL_MIN_QUESTION = 24  # characters: shorter questions are all question
TAIL_MIN_CHARS = 8


def _question_tail(text: str) -> str:
    """The question at the end of a long message that first tells its story ("我们是做电镀的小厂，……，
    听说要做强制性清洁生产审核，是真的吗"): the last clauses, at least TAIL_MIN_CHARS characters. Empty when
    the message is short or is one clause."""
    if len(text) < TAIL_MIN_QUESTION:
        return ""
    clauses = [c for c in _CLAUSE_END.split(text) if c]
    if len(clauses) < 2:
        return ""
    tail = ""
    for c in reversed(clauses):
        tail = c + "，" + tail if tail else c
        if len(tail) >= TAIL_MIN_CHARS:
            break
    return tail if len(tail) < len(text) - 4 else ""


def _focus(whole: Analysis, tail: Analysis, context_weight: float) -> Analysis:
    """The whole message's features, those only in its story part weighted by context_weight."""
    features = {f: w if f in tail.features else w * context_weight for f, w in whole.features.items()}
    return Analysis(whole.tokens, features, whole.content)


def _with_score(h: Hit, score: float) -> Hit:
    return Hit(h.doc, h.passage, min(score, 1.0), h.qcov, h.dcov, h.fuzzy, h.phrasing)


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

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
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from rapidfuzz.distance import DamerauLevenshtein

from bot import texts
from knowledge import intent, registration, smalltalk
from knowledge.chemicals import Chemical, ChemicalTable
from knowledge.classifier import OUT_OF_SCOPE, NaiveBayes
from knowledge.entries import Entry
from knowledge.index import Hit, Index, Passage, Weights
from knowledge.loader import KnowledgeData, Unit, load_data
from knowledge.normalize import compact_name, meaningful_chars, normalize, spoken_digits
from knowledge.numerals import normalize_numerals
from knowledge.plan import PlanClause
from knowledge.reply import compose
from knowledge.tokenize import Analysis, Analyzer, is_latin_token

log = logging.getLogger(__name__)

ANSWER, CHEMICAL, REGISTRATION, SMALLTALK = "answer", "chemical", "registration", "smalltalk"
PARTIAL, REFUSAL, EMERGENCY, REPORT = "partial", "refusal", "emergency", "report"
UNSURE = REFUSAL  # the reply of a question the knowledge base cannot answer
EMPTY = "empty"  # a decision only: the reply to an empty message is a refusal that asks for a question
KINDS = (ANSWER, PARTIAL, REFUSAL, REGISTRATION, CHEMICAL, SMALLTALK, EMERGENCY, REPORT)
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
        if not question or intent.is_yes_no(question):
            return ""  # a yes/no question asks whether, not a detail ("玩具里的有害物质有没有限量")
        detail = intent.asked_detail(question, self._details)
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
_ACTION_ENTRY = re.compile(r"怎么办|找谁|举报|投诉|反映")
_PRIORITY_CODE = re.compile(r"pc\s*0\d{2}")


def _is_english(text: str) -> bool:
    """A message written in English (letters, no Chinese): it gets a one-line English hint."""
    letters = len(_LATIN.findall(text))
    if letters < 8 or any("\u4e00" <= ch <= "\u9fff" for ch in text):
        return False
    return any(w in _ENGLISH_WORDS for w in re.findall(r"[a-z]+", text))


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

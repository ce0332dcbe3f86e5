"""Inverted index over passages, scored by IDF-weighted coverage and reranked with rapidfuzz.

A passage is one answerable unit (a curated entry, a chemical, a plan clause) with three fields:
question-like phrasings (q), keywords (k) and the answer/body text (a). Scores lie in [0, 1]:

  query coverage  qcov = Σ idf·w·field(f) over query features found in the passage / Σ idf·w over ALL query
                         features. Words the corpus never uses count in the denominator at full IDF, so a
                         question about the weather that shares only "运城" with the corpus scores low.
  phrasing cover  dcov = share of the best phrasing's weighted features that the query contains.
  fuzzy           fz   = rapidfuzz ratio between the content words of query and phrasing.
  intent          it   = agreement of question kinds (when / who / how much …): Jaccard; 1 when neither side
                         has one, 0.5 when only one side has.
  entry   bm   = BM25-style coverage of the question by the whole entry: a feature counts more the more of the
                         entry's phrasings use it (saturating, normalized by the entry's length), keywords and the
                         answer text count at a lower weight. It replaces a `entry` share of qcov.
  phrasing score = ((qcov·(1 − e) + bm·e)·w1 + dcov·w2 + fz·w3) · (1 − w4 + w4·it)
                   · (1 − w5 if both sides ask and the kinds are disjoint)
  score = (1 − spread)·best phrasing score + spread·mean of the best `spread_n` phrasing scores, so an entry is
  scored by the evidence of several of its phrasings, not by one lucky phrasing (which lifts junk questions
  as much as right ones and grows with every phrasing added).

Recall uses the postings of features that are not too common (≤ df_cap documents); the few very common
features are then added back exactly for the short list of candidates by binary search in their
postings, so a large index stays fast without changing the scores.
"""

from __future__ import annotations

import heapq
import math
import re
from array import array
from bisect import bisect_left
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from rapidfuzz import fuzz

from knowledge.normalize import normalize
from knowledge.tokenize import FEATURE_WEIGHTS, Analysis, Analyzer

FIELD_WEIGHTS = (1.0, 0.8, 0.5)  # q, k, a
Q, K, A = 0, 1, 2
_SENTENCE = re.compile(r"(?<=[。；！？;!?\n])")


@dataclass(frozen=True)
class Passage:
    id: str
    kind: str  # "answer" | "chemical" | "clause"
    phrasings: tuple[str, ...]
    keywords: tuple[str, ...] = ()
    body: str = ""
    scope: str = "general"


@dataclass(frozen=True)
class Weights:
    """How the three signals combine into one score (see data/settings.toml)."""

    qcov: float = 0.55
    dcov: float = 0.25
    fuzzy: float = 0.20
    intent: float = 0.15  # share of the score that depends on asking the same kind of question
    conflict: float = 0.0  # further share lost when both sides ask a kind of question and the kinds differ
    entry: float = 0.0  # share of the question coverage taken from the entry-level BM25 coverage
    spread: float = 0.0  # share of the score taken from the mean of the best spread_n phrasing scores
    spread_n: float = 5
    bm25_k1: float = 1.2
    bm25_b: float = 0.5


@dataclass(frozen=True)
class Hit:
    doc: int
    passage: Passage
    score: float
    qcov: float
    dcov: float
    fuzzy: float
    phrasing: str


@dataclass
class _Build:
    fid: dict[str, int] = field(default_factory=dict)
    postings: list[array] = field(default_factory=list)
    codes: list[array] = field(default_factory=list)
    tfs: list[array] = field(default_factory=list)


class Index:
    def __init__(
        self,
        analyzer: Analyzer,
        passages: Sequence[Passage],
        weights: Weights | None = None,
        df_cap: int = 2000,
        candidates: int = 15,
    ) -> None:
        self.analyzer = analyzer
        self.passages = list(passages)
        self.weights = weights or Weights()
        self.df_cap = df_cap
        self.n_candidates = candidates
        # How much a feature the corpus never uses counts against a question, per feature type. An unknown
        # word's character bigram and pinyin repeat the same evidence, so they can be discounted.
        self.unknown_weight: dict[str, float] = {}
        self._sentence_cache: dict[str, Analysis] = {}
        self._build()
        self._sentence_cache.clear()

    # ---- building -------------------------------------------------------------------------------
    def _analyze_text(self, text: str) -> dict[str, float]:
        """Features of a long text, sentence by sentence (sentences repeat across passages)."""
        feats: dict[str, float] = {}
        for sentence in _SENTENCE.split(text):
            if not sentence:
                continue
            a = self._sentence_cache.get(sentence)
            if a is None:
                a = self.analyzer.analyze(normalize(sentence, max_len=len(sentence) + 16, simplify=False))
                if len(self._sentence_cache) < 200_000:
                    self._sentence_cache[sentence] = a
            feats.update(a.features)
        return feats

    def _build(self) -> None:
        b = _Build()
        ph_feats: list[array] = []
        ph_content: list[str] = []
        ph_owner: list[int] = []
        ph_intents: list[frozenset[str]] = []
        self._doc_phrasings: list[range] = []
        doc_len: list[int] = []
        for doc, p in enumerate(self.passages):
            best: dict[str, tuple[int, float]] = {}
            tf: dict[str, int] = {}
            start = len(ph_feats)
            for text in p.phrasings:
                a = self.analyzer.analyze(normalize(text, max_len=len(text) + 16, simplify=False))
                ph_content.append(a.content)
                ph_owner.append(doc)
                ph_intents.append(intents_of(a))
                ph_feats.append(array("I", sorted(self._fid(b, f) for f in a.features)))
                for f, w in a.features.items():
                    best[f] = (Q, w)
                    tf[f] = tf.get(f, 0) + 1
            doc_len.append(sum(tf.values()))
            self._doc_phrasings.append(range(start, len(ph_feats)))
            for kw in p.keywords:
                for f, w in self.analyzer.analyze(normalize(kw, max_len=len(kw) + 16, simplify=False)).features.items():
                    if f not in best:
                        best[f] = (K, w)
            if p.body:
                for f, w in self._analyze_text(p.body).items():
                    if f not in best:
                        best[f] = (A, w)
            for f, (code, _w) in best.items():
                i = self._fid(b, f)
                b.postings[i].append(doc)
                b.codes[i].append(code)
                b.tfs[i].append(min(tf.get(f, 0), 65535))
        self._fids = b.fid
        self._postings = b.postings
        self._codes = b.codes
        self._post_w = self._posting_weights(b, doc_len)
        n = max(len(self.passages), 1)
        self._idf = [math.log(1 + (n - len(p) + 0.5) / (len(p) + 0.5)) for p in b.postings]
        self.max_idf = math.log(1 + (n + 0.5) / 0.5)
        types = {f: f[0] for f in b.fid}
        self._type_w = [FEATURE_WEIGHTS[types[f]] for f in b.fid]
        self._ph_feats = ph_feats
        self._ph_content = ph_content
        self._ph_owner = ph_owner
        self._ph_intents = ph_intents
        self._fw = [idf * tw for idf, tw in zip(self._idf, self._type_w, strict=True)]  # static feature weight
        self._ph_mass = [sum(self._fw[i] for i in fs) or 1.0 for fs in ph_feats]
        self.latin_vocab = frozenset(f[2:] for f in b.fid if f.startswith("w:") and f[2:3].isascii())

    def _posting_weights(self, b: _Build, doc_len: list[int]) -> list[array]:
        """Per posting, how much the feature covers in that passage: its field weight, mixed (share `entry`)
        with its entry-level weight (BM25 term saturation over the passage's phrasings; a feature only in the
        keywords or the answer text counts half its field weight there)."""
        k1, bb, e = self.weights.bm25_k1, self.weights.bm25_b, self.weights.entry
        avg = (sum(doc_len) / len(doc_len) if doc_len else 0.0) or 1.0
        norm = [k1 * (1 - bb + bb * n / avg) for n in doc_len]
        fw = FIELD_WEIGHTS
        out = []
        for docs, codes, tfs in zip(b.postings, b.codes, b.tfs, strict=True):
            out.append(array("d", (
                (1 - e) * fw[c] + e * (tf / (tf + norm[d]) if tf else 0.5 * fw[c])
                for d, c, tf in zip(docs, codes, tfs, strict=True)
            )))
        return out

    @staticmethod
    def _fid(b: _Build, feature: str) -> int:
        i = b.fid.get(feature)
        if i is None:
            i = b.fid[feature] = len(b.postings)
            b.postings.append(array("I"))
            b.codes.append(array("B"))
            b.tfs.append(array("H"))
        return i

    # ---- querying -------------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.passages)

    def words(self) -> list[str]:
        """The words (w: features) of the indexed passages."""
        return [f[2:] for f in self._fids if f.startswith("w:")]

    def has_feature(self, feature: str) -> bool:
        return feature in self._fids

    def passage_has(self, doc: int, feature: str) -> bool:
        """Whether passage `doc` (its phrasings, keywords or body) has the feature."""
        i = self._fids.get(feature)
        if i is None:
            return False
        ids = self._postings[i]
        j = bisect_left(ids, doc)
        return j < len(ids) and ids[j] == doc

    def _weigh(
        self, query: Analysis, extra: Iterable[tuple[str, float]]
    ) -> tuple[list[tuple[int, float]], float]:
        """Query features known to the index with their weights, and the total weight of all features."""
        weights: dict[str, float] = dict(query.features)
        for f, w in extra:
            weights[f] = max(weights.get(f, 0.0), w)
        known: list[tuple[int, float]] = []
        total = 0.0
        for f, w in weights.items():
            i = self._fids.get(f)
            if i is None:
                total += w * self.max_idf * self.unknown_weight.get(f[0], 1.0)
            else:
                u = w * self._idf[i]
                total += u
                known.append((i, u))
        return known, total

    def search(self, query: Analysis, k: int = 5, extra: Iterable[tuple[str, float]] = ()) -> list[Hit]:
        """Top-k passages for an analyzed query; extra = additional (feature, weight) pairs (corrections)."""
        known, total = self._weigh(query, extra)
        if not known or total <= 0:
            return []
        acc, skipped = self._accumulate(known)
        if not acc:
            return []
        top = heapq.nlargest(self.n_candidates, acc, key=acc.__getitem__)
        query_fids = {i for i, _ in known}
        qi = intents_of(query)
        hits = [self._rescore(doc, acc[doc], skipped, total, query_fids, query.content, qi) for doc in top]
        hits.sort(key=lambda h: h.score, reverse=True)
        return hits[:k]

    def score_doc(self, query: Analysis, doc: int, extra: Iterable[tuple[str, float]] = ()) -> Hit:
        """The score of one given passage (e.g. a chemical named in the question but not recalled)."""
        known, total = self._weigh(query, extra)
        qf = {i for i, _ in known}
        return self._rescore(doc, 0.0, known, total or 1.0, qf, query.content, intents_of(query))

    def _accumulate(self, known: list[tuple[int, float]]) -> tuple[dict[int, float], list[tuple[int, float]]]:
        """Partial coverage of the candidates from the not-too-common features, and the features left out."""
        acc: dict[int, float] = {}
        rare = [(i, u) for i, u in known if len(self._postings[i]) <= self.df_cap]
        if not rare:  # only very common features: take the rarest ones, truncated
            rare = sorted(known, key=lambda t: len(self._postings[t[0]]))[:2]
        used = {i for i, _ in rare}
        for i, u in rare:
            get = acc.get
            postings = self._postings[i]
            if len(postings) > self.df_cap:
                postings = postings[: self.df_cap]
            for doc, pw in zip(postings, self._post_w[i], strict=False):
                acc[doc] = get(doc, 0.0) + u * pw
        return acc, [(i, u) for i, u in known if i not in used]

    def _coverage(self, doc: int, features: list[tuple[int, float]]) -> float:
        s = 0.0
        for i, u in features:
            ids = self._postings[i]
            j = bisect_left(ids, doc)
            if j < len(ids) and ids[j] == doc:
                s += u * self._post_w[i][j]
        return s

    def _rescore(
        self,
        doc: int,
        partial: float,
        skipped: list[tuple[int, float]],
        total: float,
        qf: set[int],
        content: str,
        qi: frozenset[str],
    ) -> Hit:
        cov = (partial + (self._coverage(doc, skipped) if skipped else 0.0)) / total  # field- and entry-level mix
        w = self.weights
        fw = self._fw
        scores: list[float] = []
        best: tuple[float, float, float, int] = (-1.0, 0.0, 0.0, -1)
        for ph in self._doc_phrasings[doc]:
            dcov = sum(fw[i] for i in qf.intersection(self._ph_feats[ph])) / self._ph_mass[ph]
            fz = fuzz.ratio(content, self._ph_content[ph]) / 100.0 if content else 0.0
            pi = self._ph_intents[ph]
            it = len(qi & pi) / len(qi | pi) if qi and pi else (0.5 if qi or pi else 1.0)
            s = (w.qcov * cov + w.dcov * dcov + w.fuzzy * fz) * (1 - w.intent + w.intent * it)
            if it == 0.0 and qi and pi:  # who ≠ when, how ≠ may-I …: a different question about the same thing
                s *= 1 - w.conflict
            scores.append(s)
            if s > best[0]:
                best = (s, dcov, fz, ph)
        s, dcov, fz, ph = best
        if ph < 0:  # a passage without phrasings (should not happen): coverage only
            s = w.qcov * cov
        elif w.spread and len(scores) > 1:  # the evidence of several phrasings, not only the best one
            scores.sort(reverse=True)
            top = scores[: max(int(w.spread_n), 1)]
            s = (1 - w.spread) * s + w.spread * sum(top) / len(top)
        passage = self.passages[doc]
        phrasing = passage.phrasings[ph - self._doc_phrasings[doc].start] if ph >= 0 else ""
        return Hit(doc, passage, s, cov, dcov, fz, phrasing)


def intents_of(a: Analysis) -> frozenset[str]:
    return frozenset(f for f in a.features if f.startswith("i:"))

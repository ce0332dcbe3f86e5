"""Segmentation and retrieval features: jieba words + sub-words, character bigrams, pinyin bigrams.

Features are strings with a type prefix:
  w:<word>   jieba word (dictionary compounds AND their in-dictionary parts, like cut_for_search)
  b:<xy>     character bigram inside a word, or across a run of single characters (an unknown or
             misspelt word jieba could not join): typo tolerance and unknown compounds
  p:<xi-yi>  toneless pinyin of that bigram (homophone tolerance: 物只 ≈ 物质)
  c:<x>      single character of a content word (备个案 still shares 备/案 with 备案)
  i:<intent> what kind of question it is (when / who / how much / which …), from data/intents.txt
  f:<word>   the focus of a which/what question: 哪些企业 → f:企业, 哪些环境信息 → f:环境信息
Before segmentation, colloquial and alternative wordings are rewritten to one canonical form
(data/synonyms.txt), on both sides: the question and the knowledge base.
"""

from __future__ import annotations

import logging
import os
import re
import tempfile
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

with warnings.catch_warnings():
    # jieba 0.42 imports pkg_resources, which warns on recent setuptools.
    warnings.simplefilter("ignore")
    import jieba

import itertools

from pypinyin import Style, lazy_pinyin

from knowledge.normalize import has_han

_HAN_CHAR = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_FOCUS_HEAD = re.compile(r"^(哪些|哪个|哪种|哪类|哪几种|哪几类|哪几个|哪一类|哪家|什么|几个|几种|几类|多少)(.*)$")
_WORDLIKE = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaffa-z0-9]")
_LATIN = re.compile(r"^[a-z][a-z0-9+\-]*$")
# Question words and the compounds jieba builds from them (哪几种, 哪些地方, 多少钱 …): their meaning is
# carried by the intent features, so they are not content words.
_INTERROGATIVE = re.compile(
    r"^(哪|几|多少|多久|多长|多大|什么|怎|谁|啥|咋|为什么|为何|是否|是不是|有没有|能不能|可不可以|要不要|需不需要|"
    r"会不会|用不用|行不行|算不算|可以吗)"
)

FEATURE_WEIGHTS = {"w": 1.0, "b": 0.5, "p": 0.35, "c": 0.2, "i": 0.6, "f": 1.0}


def cache_dir() -> Path:
    """Writable place for jieba's dictionary cache (var/ in the project, else the temp dir)."""
    configured = os.environ.get("KB_CACHE_DIR")
    candidates = [Path(configured)] if configured else []
    candidates += [Path(__file__).resolve().parent.parent / "var" / "cache", Path(tempfile.gettempdir())]
    for path in candidates:
        try:
            path.mkdir(parents=True, exist_ok=True)
            if os.access(path, os.W_OK):
                return path
        except OSError:
            continue
    return Path(tempfile.gettempdir())


@lru_cache(maxsize=20000)
def char_pinyin(ch: str) -> str:
    """Toneless pinyin with the usual input-method confusions folded (zh/z, ch/c, sh/s, -ng/-n, ü/u)."""
    py = lazy_pinyin(ch, style=Style.NORMAL, errors="ignore")
    if not py:
        return ch
    s = py[0]
    for a, b in (("zh", "z"), ("ch", "c"), ("sh", "s")):
        if s.startswith(a):
            s = b + s[2:]
            break
    if s.endswith("ng") and len(s) > 2 and s[-3] in "ei":
        s = s[:-1]
    return s.replace("v", "u")  # ü is typed as v or u: 名绿 ≈ 名录


@dataclass(frozen=True)
class Analysis:
    tokens: tuple[str, ...]  # content words in order (no stopwords, no punctuation)
    features: dict[str, float]  # feature -> type weight
    content: str  # content words joined without spaces (for character-level fuzzy matching)


class Analyzer:
    """Owns one private jieba Tokenizer with the domain dictionary loaded."""

    def __init__(
        self,
        stopwords: Iterable[str],
        words: Iterable[tuple[str, int]],
        synonyms: dict[str, str] | None = None,
        intents: dict[str, list[str]] | None = None,
    ) -> None:
        jieba.setLogLevel(logging.WARNING)
        self._jieba = jieba.Tokenizer()
        self._jieba.tmp_dir = str(cache_dir())
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self._jieba.initialize()
        words = list(words)
        self._freq = self._jieba.FREQ
        general_before = {w for w, _ in words if self._freq.get(w, 0) > 0}
        for word, freq in words:
            if word and " " not in word:
                self._jieba.add_word(word, freq)
        added = {w for w, _ in words} - general_before
        # the general dictionary = jieba's own words, not the domain words added above
        self._general = _GeneralWords(self._freq, added)
        self._homophones = HomophoneFixer([w for w, _ in words], self._general)
        self.stopwords = frozenset(stopwords)
        self._synonyms = dict(synonyms or {})
        for canonical in set(self._synonyms.values()):
            self._synonyms.setdefault(canonical, canonical)  # an existing canonical form is never re-written
        alternatives = sorted(self._synonyms, key=len, reverse=True)
        self._synonym_re = re.compile("|".join(map(re.escape, alternatives))) if alternatives else None
        self._intents = [(name, tuple(patterns)) for name, patterns in (intents or {}).items()]
        self.cut("预热新化学物质")  # first cut builds the internal caches

    def set_homophone_vocabulary(self, words: Iterable[str]) -> None:
        """Words a misspelling may be corrected to (the knowledge base's own vocabulary)."""
        self._homophones = HomophoneFixer(words, self._general)

    def fix_homophones(self, text: str) -> str:
        bounds = {0}
        pos = 0
        for tok in self._jieba.cut(text, HMM=False):
            pos += len(tok)
            bounds.add(pos)
        return self._homophones.fix(text, bounds)

    def cut(self, text: str) -> list[str]:
        return [t for t in self._jieba.cut(text, HMM=False) if t.strip()]

    def _subwords(self, word: str) -> list[str]:
        """Every dictionary word inside a compound: 重点管控新污染物清单 → 重点, 管控, 新污染物, 污染物, 清单 …"""
        out = []
        for n in range(2, min(len(word), 13)):
            out.extend(word[i : i + n] for i in range(len(word) - n + 1) if self._freq.get(word[i : i + n]))
        return out

    def is_content(self, token: str) -> bool:
        return (
            token not in self.stopwords and bool(_WORDLIKE.search(token)) and not _INTERROGATIVE.match(token)
        )

    def canonical(self, text: str) -> str:
        if self._synonym_re is None:
            return text
        # two passes, so that rewritten parts compose: 国内没有的化工原料 → 国内没有的化学品 → 新化学物质
        for _ in range(2):
            new = self._synonym_re.sub(lambda m: self._synonyms[m.group(0)], text)
            if new == text:
                break
            text = new
        return text

    def analyze(self, text: str) -> Analysis:
        """Features of normalized text (see knowledge.normalize.normalize)."""
        text = self.canonical(text)
        words = self.cut(text)
        features: dict[str, float] = {}
        wi = FEATURE_WEIGHTS["i"]
        for name, patterns in self._intents:
            if any(p in text for p in patterns):
                features["i:" + name] = wi
        tokens: list[str] = []
        runs: list[str] = []
        run = ""
        ww, wb, wp, wc = (FEATURE_WEIGHTS[k] for k in "wbpc")
        focus_next = False
        for word in words:
            head = _FOCUS_HEAD.match(word)
            if head:
                if head.group(2) and self.is_content(head.group(2)):
                    features["f:" + head.group(2)] = FEATURE_WEIGHTS["f"]
                focus_next = not head.group(2)
            elif focus_next:
                if self.is_content(word):
                    features["f:" + word] = FEATURE_WEIGHTS["f"]
                focus_next = False
            if not self.is_content(word):
                if run:
                    runs.append(run)
                run = ""
                continue
            tokens.append(word)
            features["w:" + word] = ww
            if has_han(word):
                for ch in _HAN_CHAR.findall(word):
                    features.setdefault("c:" + ch, wc)
                for sub in self._subwords(word):
                    if sub not in self.stopwords:
                        features.setdefault("w:" + sub, ww)
                if len(word) > 1:
                    # a known word's bigrams stay inside it; only runs of single characters (unknown or
                    # misspelt words that jieba could not join) get bigrams across their pieces
                    if run:
                        runs.append(run)
                    runs.append(word)
                    run = ""
                else:
                    run += word
            else:
                if run:
                    runs.append(run)
                run = ""
        if run:
            runs.append(run)
        for r in runs:
            chars = _HAN_CHAR.findall(r)
            for a, b in itertools.pairwise(chars):
                features.setdefault("b:" + a + b, wb)
                features.setdefault("p:" + char_pinyin(a) + "-" + char_pinyin(b), wp)
        return Analysis(tuple(tokens), features, "".join(tokens))


class _GeneralWords:
    """Membership in jieba's own dictionary without copying it (domain words added later are excluded)."""

    def __init__(self, freq: dict[str, int], added: set[str]) -> None:
        self._freq = freq
        self._added = added

    def get(self, word: str, default: int = 0) -> int:
        return default if word in self._added else self._freq.get(word, default)


class HomophoneFixer:
    """Replace a misspelt span whose pinyin equals a domain word's: 新化学物只 → 新化学物质, 得可隆 → 得克隆.

    A span that is itself a word of the general dictionary is left alone (登机 is not "corrected" to 登记),
    and so is a span that cuts through a word (可以举报 must not become 可依据报).
    """

    def __init__(self, words: Iterable[str], general_words: _GeneralWords | dict[str, int]) -> None:
        self._general = general_words
        by_start: dict[tuple[str, str], list[tuple[tuple[str, ...], str]]] = {}
        for w in set(words):
            if not (2 <= len(w) <= 12) or not all(_HAN_CHAR.match(c) for c in w):
                continue
            key = tuple(char_pinyin(c) for c in w)
            by_start.setdefault(key[:2], []).append((key, w))
        for options in by_start.values():
            options.sort(key=lambda kw: -len(kw[1]))
        self._by_start = by_start

    def fix(self, text: str, boundaries: set[int] | None = None) -> str:
        """Text with homophone typos replaced; boundaries = word boundary offsets (None: any offset)."""
        chars = list(text)
        py = [char_pinyin(c) if _HAN_CHAR.match(c) else "" for c in chars]
        i = 0
        changed = False
        while i < len(chars) - 1:
            replaced = 0
            for key, word in self._by_start.get((py[i], py[i + 1]), ()):
                n = len(key)
                if tuple(py[i : i + n]) != key:
                    continue
                span = "".join(chars[i : i + n])
                if boundaries is not None and (i not in boundaries or i + n not in boundaries):
                    continue
                if span == word:
                    replaced = n  # already right: skip past it
                    break
                if self._general.get(span, 0) > 0:
                    continue
                chars[i : i + n] = list(word)
                changed = True
                replaced = n
                break
            i += replaced or 1
        return "".join(chars) if changed else text


def is_latin_token(token: str) -> bool:
    return bool(_LATIN.match(token))

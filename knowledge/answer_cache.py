"""A bounded cache in front of ``KnowledgeBase.answer``: the same question is analysed once.

People ask the same few questions over and over, and an answer depends only on the question and the
knowledge base (never on who asks or where their conversation is). The key is the question in the
answerer's own canonical form (``knowledge.normalize.normalize``: width, script, case and spacing folded)
so typing variants share one entry. The cache belongs to one knowledge version: the knowledge base
object together with its ``version`` when it has one. When either changes (a reload builds a new
knowledge base) every cached answer is dropped before the next question is answered.

Least recently used answers are evicted beyond ``max_entries``; questions longer than
``max_question_chars`` are answered but not kept (they are rarely asked twice).
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any, Protocol

from knowledge.normalize import normalize


class _Answers(Protocol):
    def answer(self, question: str) -> Any: ...


class AnswerCache:
    def __init__(self, max_entries: int = 4096, max_question_chars: int = 200) -> None:
        self.max_entries = max_entries
        self.max_question_chars = max_question_chars
        self._answers: OrderedDict[str, Any] = OrderedDict()
        self._keys: dict[str, str] = {}  # question exactly as typed → its key (normalising costs more than a hit)
        self._kb: object = None  # the knowledge base the cached answers came from
        self._version: object = None
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._answers)

    def _follow(self, kb: _Answers) -> None:
        """Drop everything when ``kb`` is not the knowledge version the cached answers came from."""
        version = getattr(kb, "version", None)
        if self._kb is not kb or self._version != version:
            self._answers.clear()
            self._keys.clear()
            self._kb = kb
            self._version = version

    def answer(self, kb: _Answers, question: str) -> Any:
        """``kb.answer(question)``, from the cache when the same question was answered by this version."""
        self._follow(kb)
        if len(question) > self.max_question_chars:
            self.misses += 1
            return kb.answer(question)
        key = self._keys.get(question)
        if key is None:
            key = normalize(question)
            if len(self._keys) >= 4 * self.max_entries:
                self._keys.clear()
            self._keys[question] = key
        cached = self._answers.get(key)
        if cached is not None:
            self._answers.move_to_end(key)
            self.hits += 1
            return cached
        self.misses += 1
        answer = kb.answer(question)
        self._answers[key] = answer
        if len(self._answers) > self.max_entries:
            self._answers.popitem(last=False)
        return answer

    def clear(self) -> None:
        self._answers.clear()
        self._keys.clear()

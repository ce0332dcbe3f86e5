"""The answer cache in front of the knowledge base: a question is analysed once per knowledge version."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from bot import texts
from bot.context import Context
from bot.conversation import ConversationState
from bot.routing import Dispatcher
from bot.wechat.messages import Incoming
from handlers import common
from handlers import knowledge as kb_handlers
from knowledge.answer_cache import AnswerCache
from knowledge.answerer import Answer

NOW = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)


@dataclass
class CountingKnowledge:
    """A knowledge base whose answers name their edition, counting the questions it had to analyse."""

    edition: str
    version: str | None = None
    asked: list[str] = field(default_factory=list)

    def answer(self, question: str) -> Answer:
        self.asked.append(question)
        return Answer(f"{self.edition}: {question}", True, "answer")


def test_the_same_question_is_analysed_once() -> None:
    kb, cache = CountingKnowledge("v1"), AnswerCache()
    first = cache.answer(kb, "PFOS还能用吗")
    assert cache.answer(kb, "PFOS还能用吗") is first
    assert cache.answer(kb, "  ｐｆｏｓ还能用吗 ") is first  # width, case and spacing fold to the same key
    assert kb.asked == ["PFOS还能用吗"]
    assert (cache.hits, cache.misses) == (2, 1)


def test_a_cached_answer_is_dropped_when_the_knowledge_base_is_replaced() -> None:
    old, new, cache = CountingKnowledge("old"), CountingKnowledge("new"), AnswerCache()
    assert cache.answer(old, "什么是新污染物").text == "old: 什么是新污染物"
    assert cache.answer(new, "什么是新污染物").text == "new: 什么是新污染物"
    assert new.asked == ["什么是新污染物"]
    assert len(cache) == 1  # the old edition's answers are gone, not kept beside the new ones


def test_a_cached_answer_is_dropped_when_the_knowledge_version_changes() -> None:
    kb, cache = CountingKnowledge("same object", version="a"), AnswerCache()
    cache.answer(kb, "什么是新污染物")
    kb.version = "b"  # the knowledge base says its data changed
    cache.answer(kb, "什么是新污染物")
    assert kb.asked == ["什么是新污染物", "什么是新污染物"]


def test_the_cache_is_bounded_and_keeps_the_recently_asked() -> None:
    kb, cache = CountingKnowledge("v1"), AnswerCache(max_entries=2)
    cache.answer(kb, "问题一")
    cache.answer(kb, "问题二")
    cache.answer(kb, "问题一")  # now the most recent
    cache.answer(kb, "问题三")  # evicts 问题二
    assert len(cache) == 2
    cache.answer(kb, "问题一")
    cache.answer(kb, "问题二")
    assert kb.asked == ["问题一", "问题二", "问题三", "问题二"]


def test_long_questions_are_answered_but_not_kept() -> None:
    kb, cache = CountingKnowledge("v1"), AnswerCache(max_question_chars=10)
    long = "请问" * 10
    cache.answer(kb, long)
    cache.answer(kb, long)
    assert kb.asked == [long, long] and len(cache) == 0


@dataclass
class FakeServices:
    knowledge: Any


async def ask(services: FakeServices, text: str) -> str:
    dispatcher = Dispatcher([kb_handlers.pick_router, common.router, kb_handlers.router, common.fallback_router],
                            fallback=common.fallback)
    ctx = Context(
        incoming=Incoming(to_user="gh", openid="u1", create_time=1, msg_type="text", content=text),
        session=None,  # type: ignore[arg-type]
        conversation=ConversationState("u1", NOW, timedelta(minutes=30)),
        services=services,  # type: ignore[arg-type]
        now=NOW,
    )
    reply = await dispatcher.dispatch(ctx)
    assert isinstance(reply, str)
    return reply.removesuffix("\n" + texts.KB_RATE_PROMPT)  # an answer asks to be rated (test_handler.py)


async def test_the_question_handler_answers_from_the_new_knowledge_base_after_a_change() -> None:
    services = FakeServices(CountingKnowledge("edition 1"))
    assert await ask(services, "禁止生产哪些化学物质") == "edition 1: 禁止生产哪些化学物质"
    assert await ask(services, "禁止生产哪些化学物质") == "edition 1: 禁止生产哪些化学物质"
    assert services.knowledge.asked == ["禁止生产哪些化学物质"]  # the second ask came from the cache
    services.knowledge = CountingKnowledge("edition 2")  # the knowledge base was reloaded with new data
    assert await ask(services, "禁止生产哪些化学物质") == "edition 2: 禁止生产哪些化学物质"

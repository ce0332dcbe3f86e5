"""handlers/knowledge.py: questions outside a dialog, picking an offered question by number, menu topics."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot import menu, texts
from bot.context import Context
from bot.conversation import ConversationState
from bot.routing import Dispatcher
from bot.wechat.messages import Incoming
from handlers import common
from handlers import knowledge as kb_handlers

NOW = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)


@dataclass
class FakeServices:
    knowledge: Any


class Chat:
    """One user talking to a dispatcher made of the common and knowledge routers (no database needed)."""

    def __init__(self, kb: Any) -> None:
        self.dispatcher = Dispatcher(
            [kb_handlers.pick_router, common.router, kb_handlers.router, common.fallback_router],
            fallback=common.fallback,
        )
        self.services = FakeServices(kb)
        self.conversation = ConversationState("u1", NOW, timedelta(minutes=30))

    async def send(self, text: str = "", msg_type: str = "text", **fields: Any) -> str:
        incoming = Incoming(to_user="gh", openid="u1", create_time=1, msg_type=msg_type, content=text, **fields)
        ctx = Context(
            incoming=incoming,
            session=None,
            conversation=self.conversation,  # type: ignore[arg-type]
            services=self.services,
            now=NOW,
        )  # type: ignore[arg-type]
        reply = await self.dispatcher.dispatch(ctx)
        return reply if isinstance(reply, str) else ""


@pytest.fixture
def chat(knowledge_base) -> Chat:  # type: ignore[no-untyped-def]
    return Chat(knowledge_base)


async def test_question_is_answered_and_suggestions_are_remembered(chat: Chat, knowledge_base) -> None:  # type: ignore[no-untyped-def]
    reply = await chat.send("药店卖抗生素要处方吗")
    assert reply == knowledge_base.answer("药店卖抗生素要处方吗").text + "\n" + texts.KB_RATE_PROMPT
    assert chat.conversation.state == kb_handlers.OFFERED_STATE
    offered = chat.conversation.data[kb_handlers.OFFERED_KEY]
    assert len(offered) == 3
    picked = await chat.send("2")
    assert picked == knowledge_base.answer_entry(offered[1]).text
    offered_next = chat.conversation.data[kb_handlers.OFFERED_KEY]  # the picked answer offers its own
    assert await chat.send("第１个") == knowledge_base.answer_entry(offered_next[0]).text


async def test_a_number_beyond_the_offer_is_a_new_question(chat: Chat) -> None:
    await chat.send("药店卖抗生素要处方吗")
    reply = await chat.send("9")
    assert "数字" in reply


async def test_anything_else_releases_the_offer_so_other_areas_still_work(chat: Chat) -> None:
    await chat.send("PFOS还能用吗")
    assert chat.conversation.state == kb_handlers.OFFERED_STATE
    assert await chat.send("帮助") == texts.HELP  # a NO_STATE command of another router
    assert chat.conversation.state is None
    await chat.send("PFOS还能用吗")
    assert await chat.send("取消") == texts.NOTHING_TO_CANCEL  # nothing to cancel: the offer is no dialog


async def test_not_sure_offers_numbered_questions_that_can_be_picked(chat: Chat, knowledge_base) -> None:  # type: ignore[no-untyped-def]
    reply = await chat.send("登记证能不能转让给别的公司")
    assert "12369" in reply
    offered = chat.conversation.data[kb_handlers.OFFERED_KEY]
    assert await chat.send("1") == knowledge_base.answer_entry(offered[0]).text


async def test_small_talk_offers_nothing(chat: Chat) -> None:
    assert await chat.send("谢谢") == texts.KB_THANKS
    assert chat.conversation.state is None


async def test_expired_offer(chat: Chat, knowledge_base) -> None:  # type: ignore[no-untyped-def]
    chat.conversation.expired_state = kb_handlers.OFFERED_STATE
    assert await chat.send("1") == texts.KB_PICK_EXPIRED


async def test_menu_topics(chat: Chat, knowledge_base) -> None:  # type: ignore[no-untyped-def]
    reply = await chat.send(msg_type="event", event="CLICK", event_key=menu.KEY_QA_REGISTRATION)
    assert reply == knowledge_base.answer_entry("reg-types").text
    assert chat.conversation.state == kb_handlers.OFFERED_STATE


async def test_dialog_states_are_left_alone(chat: Chat) -> None:
    chat.conversation.state = "report:description"
    assert await chat.send("PFOS还能用吗") == texts.FALLBACK  # only the report router answers in its dialog


async def test_knowledge_base_not_loaded(knowledge_base) -> None:  # type: ignore[no-untyped-def]
    assert await Chat(None).send("PFOS还能用吗") == texts.KB_UNAVAILABLE


@pytest.mark.parametrize(("text", "n"), [("1", 1), (" 2 ", 2), ("３", 3), ("第2个", 2), ("选3", 3), ("2.", 2)])
def test_pick_numbers(text: str, n: int) -> None:
    assert kb_handlers.picked_number(text) == n


@pytest.mark.parametrize("text", ["10", "0", "1吨", "12369", "", "第一个"])
def test_not_picks(text: str) -> None:
    assert kb_handlers.picked_number(text) is None


async def test_an_answer_asks_to_be_rated_when_the_prompt_fits(chat: Chat, knowledge_base) -> None:  # type: ignore[no-untyped-def]
    assert (await chat.send("什么是新污染物")).endswith(texts.KB_RATE_PROMPT)
    assert texts.KB_RATE_PROMPT not in await chat.send("明天运城会下雨吗")  # a refusal: nothing to rate
    assert texts.KB_RATE_PROMPT not in await chat.send("谢谢")
    long = knowledge_base.answer("什么是新污染物")
    too_long = type(long)("字" * 590, True, "answer")
    assert kb_handlers.with_rating_prompt(too_long) == "字" * 590  # one message: the answer comes first

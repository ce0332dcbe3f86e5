"""The question log through the real callback: what is stored (never the openid), follow-ups and ratings."""

from __future__ import annotations

from sqlalchemy import select, text

from bot import menu
from bot.questions.log import user_hash
from storage.models.questions import QuestionLog
from tests.conftest import RunningService

REFUSED = "明天运城会下雨吗"
ANSWERED = "药店卖抗生素要处方吗"


async def _log(service: RunningService) -> list[QuestionLog]:
    async with service.services.database.session() as db:
        return list((await db.scalars(select(QuestionLog).order_by(QuestionLog.id))).all())


async def test_questions_are_logged_without_the_openid(service: RunningService) -> None:
    await service.wx.send_text("o-asker-1", ANSWERED)
    await service.wx.send_text("o-asker-1", REFUSED)
    rows = await _log(service)
    assert [r.text for r in rows] == [ANSWERED, REFUSED]
    answered, refused = rows
    assert answered.kind == "answer" and answered.matched and answered.entry_id
    assert refused.kind == "refusal" and not refused.matched and refused.entry_id is None
    assert answered.user_hash == refused.user_hash and len(answered.user_hash) == 64
    async with service.services.database.session() as db:
        assert answered.user_hash == await user_hash(db, "o-asker-1")
        dump = " ".join(str(v) for row in (await db.execute(text("SELECT * FROM question_log"))).all() for v in row)
    assert "o-asker-1" not in dump
    assert answered.follow_up == "asked_again"  # another question came within ten minutes


async def test_rating_the_last_answer(service: RunningService) -> None:
    reply = await service.wx.send_text("o-asker-2", "没用")
    assert "没有找到您最近30分钟内的提问" in reply.content
    await service.wx.send_text("o-asker-2", REFUSED)
    reply = await service.wx.send_text("o-asker-2", "没用！")
    assert "感谢反馈" in reply.content
    await service.wx.send_text("o-asker-3", ANSWERED)
    await service.wx.send_text("o-asker-3", "有用")
    rows = {r.text: r for r in await _log(service)}
    assert rows[REFUSED].rating == "useless" and rows[REFUSED].rated_at is not None
    assert rows[ANSWERED].rating == "useful"
    assert len(rows) == 2  # the ratings themselves are not questions


async def test_picking_a_suggestion_is_recorded(service: RunningService) -> None:
    reply = await service.wx.send_text("o-asker-4", ANSWERED)
    assert "1" in reply.content
    await service.wx.send_text("o-asker-4", "1")
    (row,) = await _log(service)
    assert row.follow_up == "picked"


async def test_rating_by_a_menu_tap(service: RunningService) -> None:
    reply = await service.wx.send_text("o-asker-5", ANSWERED)
    assert "回复“有用”或“没用”" in reply.content  # the answer asks for a rating
    reply = await service.wx.click("o-asker-5", menu.KEY_RATE_USELESS)
    assert "感谢反馈" in reply.content
    (row,) = await _log(service)
    assert row.rating == "useless" and row.rated_at is not None
    await service.wx.click("o-asker-5", menu.KEY_RATE_USEFUL)
    (row,) = await _log(service)
    assert row.rating == "useful"
    reply = await service.wx.click("o-nobody", menu.KEY_RATE_USEFUL)
    assert "没有找到您最近30分钟内的提问" in reply.content
